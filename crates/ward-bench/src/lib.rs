//! Synthetic hospital traffic: a seeded generator writing realistic pcap files.
//!
//! `ward-bench` simulates a hospital network (VLANs for imaging, monitoring, infusion, lab,
//! IT, servers, building IoT and network management; one router; devices of every clinical
//! category) and writes what a SPAN port on its distribution layer would capture: DICOM
//! associations with bulk C-STORE (on 104 and 11112, plus C-ECHO and one rejected
//! association), HL7 v2.5 over MLLP with ACKs (2575 and 6661), ASTM and POCT1-A from lab
//! and point-of-care analyzers, IEEE 11073 SDC discovery and metadata, ARP, DHCP, DNS,
//! mDNS, NetBIOS-NS, SSDP, LLDP, CDP, SNMPv2c, HTTP (FHIR too), TLS 1.2/1.3, SMB1 and
//! SMB2/3, Telnet and FTP, over real TCP with optional retransmissions, reordering and
//! overlaps. An outpatient site reached over the WAN shows devices only by IP, behind the
//! router's MAC; one infusion pump talks to its vendor's cloud on the internet.
//!
//! The first simulated minute ("round") holds every conversation of the hospital: leases
//! and small sessions in its first seconds, bulk DICOM over the rest; later rounds repeat
//! the conversations with fresh ports, sequence numbers and values until the target size
//! is reached. Captures of a couple of MB already contain every protocol.
//!
//! It is used by Ward's benchmarks (hundreds of MB, streamed), by `ward demo` (a small
//! hospital) and by tests: [`GenSummary::devices`] is the ground truth of what
//! identification should find, [`generate_split`] gives segmentation tests a baseline half
//! and a half with one new flow, and every DICOM data set, HL7 PID segment and ASTM patient
//! record carries the canary patient ([`CANARY_PATIENT_NAME`], [`CANARY_PATIENT_ID`]) that
//! Ward must never output.
//!
//! Same configuration, same bytes: all randomness comes from ChaCha8 seeded by
//! [`GenConfig::seed`].
//!
//! ```no_run
//! let cfg = ward_bench::GenConfig { target_bytes: 50 << 20, ..Default::default() };
//! let summary = ward_bench::generate_file(&cfg, std::path::Path::new("hospital.pcap"))?;
//! println!("{} packets, {} devices", summary.packets, summary.devices.len());
//! # Ok::<(), std::io::Error>(())
//! ```

mod hospital;
mod proto;
mod tcp;
mod traffic;
mod wire;

pub use hospital::{Hospital, Vlan, SITE_MAIN, SITE_OUTPATIENT};
pub use proto::clinical::{CANARY_PATIENT_ID, CANARY_PATIENT_NAME};
pub use traffic::{ASTM_PORT, DICOM_ALT_PORT, HL7_LAB_PORT, POCT1_PORT};

use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;
use traffic::{Engine, ROUND_US};
use ward_model::{MacAddr, Transport};
use wire::PcapWriter;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Seed of every random choice; the same config always yields the same bytes.
    pub seed: u64,
    /// Approximate size of the capture file. Generation stops starting new sessions once
    /// the bytes written plus those queued reach it, so the file ends slightly above.
    pub target_bytes: u64,
    /// Approximate number of devices in the hospital (at least 30 are built).
    pub devices: usize,
    /// Probability per TCP data segment of an impairment (duplicate, swap with the next
    /// segment, or overlapping resend); 0 gives a clean capture. Clamped to 0..=0.5.
    pub impairment_rate: f64,
    /// Unix time of the first round of traffic.
    pub start_ts_secs: u64,
}

impl Default for GenConfig {
    /// A small hospital: about 60 devices and 12 MB of traffic.
    fn default() -> Self {
        GenConfig {
            seed: 1,
            target_bytes: 12 << 20,
            devices: 60,
            impairment_rate: 0.002,
            // 2026-11-29 08:00:00 UTC
            start_ts_secs: 1_795_939_200,
        }
    }
}

/// One simulated device: the ground truth identification should recover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedDevice {
    /// Hostname (also the DHCP hostname where the device uses DHCP).
    pub name: String,
    /// Clinical category: `imaging_ct`, `imaging_mr`, `imaging_us`, `imaging_xray`,
    /// `patient_monitor`, `ventilator`, `infusion_pump`, `laboratory_analyzer`,
    /// `point_of_care_analyzer`, `pacs`,
    /// `interface_engine`, `laboratory_information_system`, `ehr_server`,
    /// `infusion_server`, `it_server`, `workstation`, `printer`, `ip_camera`,
    /// `building_automation`, `network_switch` or `network_router`.
    pub category: String,
    pub mac: MacAddr,
    pub ip: IpAddr,
    pub vlan: u16,
    /// [`SITE_MAIN`] or [`SITE_OUTPATIENT`]. Outpatient devices are seen only by IP, behind
    /// the router's MAC, when they talk to main-campus servers.
    pub site: String,
    pub vendor: String,
    pub model: String,
    pub software_version: String,
    pub serial: String,
    pub ae_title: Option<String>,
    /// HL7 application name (MSH-3 as sender) or ASTM sender name.
    pub hl7_app: Option<String>,
    /// DHCP option 60, where the device uses DHCP.
    pub dhcp_vendor_class: Option<String>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenSummary {
    pub packets: u64,
    /// Size of the pcap file in bytes, headers included.
    pub bytes: u64,
    pub devices: Vec<GeneratedDevice>,
    /// TCP connections and UDP exchanges generated (LLDP/CDP announcements count as one).
    pub flows: u64,
}

/// The flow present only in the second half of [`generate_split`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InjectedFlow {
    pub client_ip: IpAddr,
    pub server_ip: IpAddr,
    /// Server port.
    pub port: u16,
    pub transport: Transport,
}

impl Hospital {
    /// The hospital's devices as ground truth records.
    pub fn devices(&self) -> Vec<GeneratedDevice> {
        self.devices
            .iter()
            .map(|d| GeneratedDevice {
                name: d.name.clone(),
                category: d.category.to_string(),
                mac: MacAddr(d.mac),
                ip: IpAddr::V4(d.ip),
                vlan: d.vlan,
                site: if d.remote { SITE_OUTPATIENT } else { SITE_MAIN }.to_string(),
                vendor: d.vendor.clone(),
                model: d.model.clone(),
                software_version: d.software_version.clone(),
                serial: d.serial.clone(),
                ae_title: d.ae_title.clone(),
                hl7_app: d.hl7_app.clone(),
                dhcp_vendor_class: d.dhcp.as_ref().map(|(vc, _)| vc.clone()),
            })
            .collect()
    }

    /// The router's MAC: the L2 peer of every off-subnet conversation.
    pub fn router_mac(&self) -> MacAddr {
        MacAddr(self.router_mac)
    }
}

/// Streams a hospital capture of about `cfg.target_bytes` to `out` (wrap files in a
/// `BufWriter`; [`generate_file`] does).
pub fn generate<W: Write>(cfg: &GenConfig, out: W) -> io::Result<GenSummary> {
    let h = Hospital::build(cfg.seed, cfg.devices);
    let mut eng = Engine::new(&h, cfg.seed, cfg.impairment_rate)?;
    let mut w = PcapWriter::new(out)?;
    let mut t0 = cfg.start_ts_secs.saturating_mul(1_000_000);
    let mut round = 0u64;
    'rounds: loop {
        for (start, s) in eng.plan_round(round, t0) {
            eng.flush(start, &mut w)?;
            if w.bytes + eng.pending_bytes() >= cfg.target_bytes {
                break 'rounds;
            }
            eng.run_session(s, start);
        }
        round += 1;
        t0 += ROUND_US;
    }
    eng.flush(u64::MAX, &mut w)?;
    let flows = eng.flows;
    let (packets, bytes) = (w.packets, w.bytes);
    w.finish()?;
    Ok(GenSummary {
        packets,
        bytes,
        devices: h.devices(),
        flows,
    })
}

/// [`generate`] into a new file at `path`.
pub fn generate_file(cfg: &GenConfig, path: &Path) -> io::Result<GenSummary> {
    let f = File::create(path)?;
    generate(cfg, BufWriter::with_capacity(1 << 20, f))
}

/// For segmentation tests: the traffic of the generated hospital split in two halves by
/// time, where the second half additionally contains one new flow that was never seen in
/// the first (returned as `injected`: a workstation opening SSH to a patient monitor).
///
/// The first half always holds at least one complete round of hospital activity, so every
/// other conversation of the second half (client, server, server port) also occurs in the
/// first. The halves are about equal in size; together at least `cfg.target_bytes`.
pub fn generate_split(
    cfg: &GenConfig,
    first: &Path,
    second: &Path,
) -> io::Result<(GenSummary, GenSummary, InjectedFlow)> {
    let h = Hospital::build(cfg.seed, cfg.devices);
    let mut eng = Engine::new(&h, cfg.seed, cfg.impairment_rate)?;
    let mut w1 = PcapWriter::new(BufWriter::with_capacity(1 << 20, File::create(first)?))?;
    let mut w2 = PcapWriter::new(BufWriter::with_capacity(1 << 20, File::create(second)?))?;
    let mut t0 = cfg.start_ts_secs.saturating_mul(1_000_000);
    let mut round = 0u64;
    let mut flows_first = None;
    let inj = eng.injected_choice();
    'rounds: loop {
        for (start, s) in eng.plan_round(round, t0) {
            if flows_first.is_none() {
                eng.flush(start, &mut w1)?;
                if round >= 1 && w1.bytes >= cfg.target_bytes / 2 {
                    flows_first = Some(eng.flows);
                    eng.run_injected(inj, start + 2_000_000);
                }
            } else {
                eng.flush(start, &mut w2)?;
                let want = w1.bytes.max(cfg.target_bytes.saturating_sub(w1.bytes));
                if w2.bytes + eng.pending_bytes() >= want {
                    break 'rounds;
                }
            }
            eng.run_session(s, start);
        }
        round += 1;
        t0 += ROUND_US;
    }
    eng.flush(u64::MAX, &mut w2)?;
    let total_flows = eng.flows;
    let f1 = flows_first.unwrap_or(total_flows);
    let devices = h.devices();
    let s1 = GenSummary {
        packets: w1.packets,
        bytes: w1.bytes,
        devices: devices.clone(),
        flows: f1,
    };
    let s2 = GenSummary {
        packets: w2.packets,
        bytes: w2.bytes,
        devices,
        flows: total_flows - f1,
    };
    w1.finish()?;
    w2.finish()?;
    let (c, s) = (&h.devices[inj.client], &h.devices[inj.server]);
    Ok((
        s1,
        s2,
        InjectedFlow {
            client_ip: IpAddr::V4(c.ip),
            server_ip: IpAddr::V4(s.ip),
            port: inj.port,
            transport: Transport::Tcp,
        },
    ))
}
