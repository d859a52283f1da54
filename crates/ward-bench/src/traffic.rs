//! The traffic engine: plans "rounds" of hospital activity (every conversation of every
//! device, each at a random moment within the round), builds each session's packets, and
//! streams them to the pcap writer in timestamp order through a small heap, so memory stays
//! bounded by the sessions in flight whatever the output size.
//!
//! Round 0 contains every conversation the hospital ever has; later rounds repeat them
//! (some, like DHCP, only sometimes) with fresh ports, sequence numbers and payload values.
//! That is what makes [`crate::generate_split`] meaningful: every flow of the second half
//! was already seen in the first, except the one injected.

use crate::hospital::{Device, Hospital, Role, CLOUD_IP, CLOUD_NAME, DOMAIN};
use crate::proto::app::{self, ClientHello};
use crate::proto::civil_timestamp;
use crate::proto::clinical::{self as clin, Hl7Route, ProposedContext};
use crate::proto::net::{self, Bootp, SnmpValue, SwitchPort};
use crate::tcp::{Packet, Side, TcpConv};
use crate::wire::{mcast_mac, udp_frame, Ip, PcapWriter, L2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::net::Ipv4Addr;

/// Simulated duration of one round of hospital activity.
pub(crate) const ROUND_US: u64 = 60_000_000;
/// Port of the interface engine's second (non-standard) MLLP listener, used by the lab.
pub const HL7_LAB_PORT: u16 = 6661;
/// Port on which the LIS accepts ASTM connections from analyzers.
pub const ASTM_PORT: u16 = 5100;
/// Port on which the LIS (as POCT1-A data manager) accepts point-of-care devices.
pub const POCT1_PORT: u16 = 7001;
/// DICOM's registered alternative port 11112: the PACS's second listener, used by the
/// ultrasound devices, which also listen on it; so DICOM appears on a port other than 104.
pub const DICOM_ALT_PORT: u16 = 11112;

#[derive(Debug, Clone, Copy)]
enum Session {
    Arp(usize),
    Dhcp(usize),
    Nbns(usize),
    Smb1(usize),
    Mdns(usize),
    Ssdp(usize),
    Lldp(usize),
    Snmp(usize),
    DicomStore(usize),
    DicomEcho(usize),
    DicomRejected(usize),
    Hl7Oru(usize),
    SdcHello(usize),
    SdcMetadata(usize),
    Hl7Adt(usize),
    LabHl7(usize),
    LabAstm(usize),
    Poct(usize),
    PumpTls(usize),
    PumpCloud(usize),
    PumpWeb(usize),
    WsBrowse(usize),
    WsSmb(usize),
    Telnet(usize),
    Ftp(usize),
}

struct Queued {
    ts: u64,
    order: u64,
    frame: Vec<u8>,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.order) == (o.ts, o.order)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.ts, self.order).cmp(&(o.ts, o.order))
    }
}

/// Indices of the hospital's infrastructure devices.
struct Infra {
    dc: usize,
    pacs: usize,
    engine: usize,
    lis: usize,
    fs: usize,
    ehr: usize,
    pumpsrv: usize,
    nms: usize,
    biomed: usize,
}

/// A flow that appears only in the second half of a split capture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injected {
    pub client: usize,
    pub server: usize,
    pub port: u16,
}

pub(crate) struct Engine<'h> {
    h: &'h Hospital,
    infra: Infra,
    rng: ChaCha8Rng,
    impairment: f64,
    out: Vec<Packet>,
    heap: BinaryHeap<Reverse<Queued>>,
    order: u64,
    pending_bytes: u64,
    msg_seq: u64,
    pump_cert: Vec<u8>,
    cloud_cert: Vec<u8>,
    /// Conversations (TCP connections and UDP exchanges) generated so far.
    pub flows: u64,
}

fn req(h: &Hospital, pred: impl Fn(&Role) -> bool) -> io::Result<usize> {
    h.find(pred)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "hospital lacks a device"))
}

impl<'h> Engine<'h> {
    pub(crate) fn new(h: &'h Hospital, seed: u64, impairment: f64) -> io::Result<Self> {
        let infra = Infra {
            dc: req(h, |r| matches!(r, Role::DnsDhcp))?,
            pacs: req(h, |r| matches!(r, Role::Pacs))?,
            engine: req(h, |r| matches!(r, Role::InterfaceEngine))?,
            lis: req(h, |r| matches!(r, Role::Lis))?,
            fs: req(h, |r| matches!(r, Role::FileServer))?,
            ehr: req(h, |r| matches!(r, Role::Ehr))?,
            pumpsrv: req(h, |r| matches!(r, Role::InfusionServer))?,
            nms: req(h, |r| matches!(r, Role::Nms))?,
            biomed: req(h, |r| matches!(r, Role::Workstation { biomed: true, .. }))?,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let pumpsrv_name = format!("{}.{DOMAIN}", h.devices[infra.pumpsrv].name);
        // The on-site infusion server still presents the self-signed certificate it was
        // installed with, expired since mid-2025.
        let pump_cert = app::certificate(
            (&pumpsrv_name, "BD Alaris Systems Manager"),
            (&pumpsrv_name, "BD Alaris Systems Manager"),
            "150601000000Z",
            "250601000000Z",
            &mut rng,
        );
        let cloud_cert = app::certificate(
            (CLOUD_NAME, "Alaris Cloud Services"),
            ("Example Public CA G2", "Example Trust Services"),
            "260101000000Z",
            "270131235959Z",
            &mut rng,
        );
        Ok(Engine {
            h,
            infra,
            rng,
            impairment: impairment.clamp(0.0, 0.5),
            out: Vec::with_capacity(1024),
            heap: BinaryHeap::new(),
            order: 0,
            pending_bytes: 0,
            msg_seq: 0,
            pump_cert,
            cloud_cert,
            flows: 0,
        })
    }

    fn dev(&self, i: usize) -> &'h Device {
        &self.h.devices[i]
    }

    /// Moves the packets of the session just built into the time-ordered queue.
    fn commit(&mut self) {
        for p in self.out.drain(..) {
            self.pending_bytes += 16 + p.frame.len() as u64;
            self.order += 1;
            self.heap.push(Reverse(Queued {
                ts: p.ts,
                order: self.order,
                frame: p.frame,
            }));
        }
    }

    fn commit_tcp(&mut self, conv: TcpConv) {
        self.out.extend(conv.finish());
        self.flows += 1;
    }

    /// Writes every queued packet older than `upto` (all of them for `u64::MAX`).
    pub(crate) fn flush<W: Write>(&mut self, upto: u64, w: &mut PcapWriter<W>) -> io::Result<()> {
        while let Some(Reverse(top)) = self.heap.peek() {
            if top.ts >= upto && upto != u64::MAX {
                break;
            }
            if let Some(Reverse(q)) = self.heap.pop() {
                self.pending_bytes -= 16 + q.frame.len() as u64;
                w.write(q.ts, &q.frame)?;
            }
        }
        Ok(())
    }

    pub(crate) fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    // ----------------------------------------------------------------------------------
    // planning
    // ----------------------------------------------------------------------------------

    /// The sessions of one round starting at `t0`, sorted by start time.
    pub(crate) fn plan_round(&mut self, round: u64, t0: u64) -> Vec<(u64, SessionRef)> {
        let mut plan = Vec::new();
        for (i, d) in self.h.devices.iter().enumerate() {
            let mut s: Vec<Session> = Vec::new();
            let dhcp = round == 0 || self.rng.gen_bool(0.15);
            match &d.role {
                Role::Router => s.push(Session::Snmp(i)),
                Role::Switch { .. } => s.extend([Session::Lldp(i), Session::Snmp(i)]),
                Role::Ehr => s.push(Session::Hl7Adt(i)),
                Role::Modality(_) => s.extend([Session::DicomStore(i), Session::DicomEcho(i)]),
                Role::Monitor => s.push(Session::Hl7Oru(i)),
                Role::Ventilator => s.extend([Session::SdcHello(i), Session::SdcMetadata(i)]),
                Role::Pump { web_server, cloud } => {
                    s.push(Session::PumpTls(i));
                    if *web_server {
                        s.push(Session::PumpWeb(i));
                    }
                    if *cloud {
                        s.push(Session::PumpCloud(i));
                    }
                }
                Role::LabAnalyzer { astm: true } => s.push(Session::LabAstm(i)),
                Role::PointOfCare => s.push(Session::Poct(i)),
                Role::LabAnalyzer { astm: false } => s.push(Session::LabHl7(i)),
                Role::LegacyAnalyzer => {
                    s.extend([Session::Telnet(i), Session::Ftp(i), Session::Smb1(i)]);
                    if dhcp {
                        s.push(Session::Nbns(i));
                    }
                }
                Role::Workstation { biomed, .. } => {
                    s.extend([Session::WsBrowse(i), Session::WsSmb(i)]);
                    if *biomed {
                        s.push(Session::DicomRejected(i));
                    }
                    if dhcp && !d.remote {
                        s.push(Session::Nbns(i));
                    }
                }
                Role::FileServer if dhcp => s.push(Session::Nbns(i)),
                Role::Printer { .. } => {
                    s.extend([Session::Mdns(i), Session::Ssdp(i), Session::Snmp(i)])
                }
                Role::Camera { .. } => s.extend([Session::Mdns(i), Session::Ssdp(i)]),
                Role::Building => s.push(Session::Ssdp(i)),
                _ => {}
            }
            if d.dhcp.is_some() && dhcp {
                s.push(Session::Dhcp(i));
            }
            let arp = round == 0 || self.rng.gen_bool(0.05);
            if arp && !d.remote && !matches!(d.role, Role::Router) {
                s.push(Session::Arp(i));
            }
            for sess in s {
                // In the first round devices ask for their lease first, the small sessions
                // follow within seconds and bulk DICOM fills the rest of the round, so that
                // even a capture of a megabyte or two contains every protocol.
                let small_end = ROUND_US / 50 + ROUND_US / 10;
                let offset = match (round, sess) {
                    (0, Session::Dhcp(_)) => self.rng.gen_range(0..ROUND_US / 50),
                    (0, Session::Arp(_)) => ROUND_US / 50 + self.rng.gen_range(0..2_000_000),
                    (0, Session::DicomStore(_)) => self.rng.gen_range(small_end..ROUND_US),
                    (0, _) => self.rng.gen_range(ROUND_US / 50..small_end),
                    _ => self.rng.gen_range(0..ROUND_US),
                };
                plan.push((t0 + offset, SessionRef(sess)));
            }
        }
        plan.sort_by_key(|(t, _)| *t);
        plan
    }

    /// Builds one planned session at time `t` and queues its packets.
    pub(crate) fn run_session(&mut self, s: SessionRef, t: u64) {
        match s.0 {
            Session::Arp(i) => self.arp(i, t),
            Session::Dhcp(i) => self.dhcp(i, t),
            Session::Nbns(i) => self.nbns(i, t),
            Session::Smb1(i) => self.smb1(i, t),
            Session::Mdns(i) => self.mdns(i, t),
            Session::Ssdp(i) => self.ssdp(i, t),
            Session::Lldp(i) => self.lldp(i, t),
            Session::Snmp(i) => self.snmp(i, t),
            Session::DicomStore(i) => self.dicom_store(i, t),
            Session::DicomEcho(i) => self.dicom_echo(i, t),
            Session::DicomRejected(i) => self.dicom_rejected(i, t),
            Session::Hl7Oru(i) => self.hl7_oru(i, t),
            Session::SdcHello(i) => self.sdc_hello(i, t),
            Session::SdcMetadata(i) => self.sdc_metadata(i, t),
            Session::Hl7Adt(i) => self.hl7_adt(i, t),
            Session::LabHl7(i) => self.lab_hl7(i, t),
            Session::LabAstm(i) => self.lab_astm(i, t),
            Session::Poct(i) => self.poct(i, t),
            Session::PumpTls(i) => self.pump_tls(i, t),
            Session::PumpCloud(i) => self.pump_cloud(i, t),
            Session::PumpWeb(i) => self.pump_web(i, t),
            Session::WsBrowse(i) => self.ws_browse(i, t),
            Session::WsSmb(i) => self.ws_smb(i, t),
            Session::Telnet(i) => self.telnet(i, t),
            Session::Ftp(i) => self.ftp(i, t),
        }
        self.commit();
    }

    /// The injected flow of a split capture: a workstation opening SSH to a patient monitor.
    pub(crate) fn injected_choice(&self) -> Injected {
        let client = self
            .h
            .devices
            .iter()
            .rposition(|d| !d.remote && matches!(d.role, Role::Workstation { biomed: false, .. }))
            .unwrap_or(self.infra.biomed);
        let server = self
            .h
            .devices
            .iter()
            .position(|d| !d.remote && matches!(d.role, Role::Monitor))
            .unwrap_or(self.infra.engine);
        Injected {
            client,
            server,
            port: 22,
        }
    }

    pub(crate) fn run_injected(&mut self, inj: Injected, t: u64) {
        let mut c = self.tcp(inj.client, inj.server, inj.port, t);
        c.open();
        c.send(true, b"SSH-2.0-OpenSSH_for_Windows_8.1\r\n");
        c.send(false, b"SSH-2.0-dropbear_2019.78\r\n");
        c.close();
        self.commit_tcp(c);
        self.commit();
    }

    // ----------------------------------------------------------------------------------
    // helpers
    // ----------------------------------------------------------------------------------

    /// L2 header of frames from `c` to `s` as the capture point sees them. The sensor
    /// watches the main campus VLAN of the conversation's local end (the client's, or the
    /// server's when the client is at the outpatient site); a host on another VLAN or site
    /// appears behind the router's MAC.
    fn l2(&self, c: &Device, s: &Device) -> L2 {
        let cap = capture_vlan(c, s);
        let mac_of = |d: &Device| {
            if d.vlan == cap {
                d.mac
            } else {
                self.h.router_mac
            }
        };
        L2 {
            src: mac_of(c),
            dst: mac_of(s),
            vlan: Some(cap),
        }
    }

    fn ephemeral(&mut self, d: &Device) -> u16 {
        if d.ttl == 128 {
            self.rng.gen_range(49152..65535)
        } else {
            self.rng.gen_range(32768..60999)
        }
    }

    /// A TCP connection from device `ci` to device `si` port `port`.
    fn tcp(&mut self, ci: usize, si: usize, port: u16, t: u64) -> TcpConv {
        let (c, s) = (self.dev(ci), self.dev(si));
        let l2 = self.l2(c, s);
        let cap = capture_vlan(c, s);
        let sport = self.ephemeral(c);
        let seed = self.rng.gen();
        TcpConv::new(
            seed,
            l2,
            Side::new(c.ip, sport, seen_ttl(c, cap)),
            Side::new(s.ip, port, seen_ttl(s, cap)),
            t,
            self.impairment,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn udp(
        &mut self,
        t: u64,
        l2: L2,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ttl: u8,
        sp: u16,
        dp: u16,
        p: &[u8],
    ) {
        let ip = Ip {
            src,
            dst,
            id: self.rng.gen(),
            ttl,
        };
        self.out.push(Packet {
            ts: t,
            frame: udp_frame(&l2, &ip, sp, dp, p),
        });
    }

    /// A DNS A lookup by device `ci` at the domain controller; returns the time after it.
    fn dns(&mut self, ci: usize, qname: &str, answer: Ipv4Addr, t: u64) -> u64 {
        let c = self.dev(ci);
        let dc = self.dev(self.infra.dc);
        let l2 = self.l2(c, dc);
        let cap = capture_vlan(c, dc);
        let id: u16 = self.rng.gen();
        let sport = self.ephemeral(c);
        let q = net::dns_query(id, qname, net::QTYPE_A);
        self.udp(t, l2, c.ip, dc.ip, seen_ttl(c, cap), sport, 53, &q);
        let t2 = t + self.rng.gen_range(300..3000);
        let r = net::dns_response(id, qname, &[answer], 3600);
        self.udp(
            t2,
            l2.reversed(),
            dc.ip,
            c.ip,
            seen_ttl(dc, cap),
            53,
            sport,
            &r,
        );
        self.flows += 1;
        t2 + self.rng.gen_range(100..1500)
    }

    fn next_msg(&mut self) -> u64 {
        self.msg_seq += 1;
        self.msg_seq
    }

    // ----------------------------------------------------------------------------------
    // sessions: network services
    // ----------------------------------------------------------------------------------

    /// A device resolving its default gateway: the router answers for `10.<vlan>.0.1`.
    fn arp(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let gw = Ipv4Addr::new(10, d.vlan as u8, 0, 1);
        let router = self.h.router_mac;
        let req = L2 {
            src: d.mac,
            dst: [0xff; 6],
            vlan: Some(d.vlan),
        };
        let rep = L2 {
            src: router,
            dst: d.mac,
            vlan: Some(d.vlan),
        };
        self.out.push(Packet {
            ts: t,
            frame: net::arp_frame(&req, false, d.mac, d.ip, [0; 6], gw),
        });
        self.out.push(Packet {
            ts: t + self.rng.gen_range(100..1_500),
            frame: net::arp_frame(&rep, true, router, gw, d.mac, d.ip),
        });
    }

    fn dhcp(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let Some((vendor_class, prl)) = &d.dhcp else {
            return;
        };
        let dc = self.dev(self.infra.dc);
        let gw = Ipv4Addr::new(10, d.vlan as u8, 0, 1);
        let xid: u32 = self.rng.gen();
        let fqdn = format!("{}.{DOMAIN}", d.name);
        let client_opts = |kind: u8, server_id: bool| {
            let mut o = vec![
                (53, vec![kind]),
                (61, net::opt_client_id(&d.mac)),
                (50, d.ip.octets().to_vec()),
            ];
            if server_id {
                o.push((54, dc.ip.octets().to_vec()));
            }
            o.extend([
                (57, 1500u16.to_be_bytes().to_vec()),
                (12, d.name.as_bytes().to_vec()),
                (81, net::opt_fqdn(&fqdn)),
                (60, vendor_class.as_bytes().to_vec()),
                (55, prl.clone()),
            ]);
            o
        };
        let server_opts = |kind: u8| {
            vec![
                (53, vec![kind]),
                (54, dc.ip.octets().to_vec()),
                (51, 86_400u32.to_be_bytes().to_vec()),
                (58, 43_200u32.to_be_bytes().to_vec()),
                (59, 75_600u32.to_be_bytes().to_vec()),
                (1, vec![255, 255, 0, 0]),
                (3, gw.octets().to_vec()),
                (6, dc.ip.octets().to_vec()),
                (15, DOMAIN.as_bytes().to_vec()),
            ]
        };
        let bootp = |reply: bool, yi: Ipv4Addr, gi: Ipv4Addr| Bootp {
            reply,
            xid,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: yi,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: gi,
            chaddr: d.mac,
            broadcast: true,
        };
        let bcast = L2 {
            src: d.mac,
            dst: [0xff; 6],
            vlan: Some(d.vlan),
        };
        let relay = L2 {
            src: self.h.router_mac,
            dst: [0xff; 6],
            vlan: Some(d.vlan),
        };
        let any = Ipv4Addr::UNSPECIFIED;
        let all = Ipv4Addr::BROADCAST;
        let discover = net::dhcp(
            &bootp(false, any, any),
            &client_opts(net::DHCPDISCOVER, false),
        );
        let offer = net::dhcp(&bootp(true, d.ip, gw), &server_opts(net::DHCPOFFER));
        let request = net::dhcp(
            &bootp(false, any, any),
            &client_opts(net::DHCPREQUEST, true),
        );
        let ack = net::dhcp(&bootp(true, d.ip, gw), &server_opts(net::DHCPACK));
        let mut t = t;
        self.udp(t, bcast, any, all, d.ttl, 68, 67, &discover);
        t += self.rng.gen_range(2_000..20_000);
        self.udp(t, relay, gw, all, 255, 67, 68, &offer);
        t += self.rng.gen_range(500..5_000);
        self.udp(t, bcast, any, all, d.ttl, 68, 67, &request);
        t += self.rng.gen_range(2_000..20_000);
        self.udp(t, relay, gw, all, 255, 67, 68, &ack);
        self.flows += 1;
    }

    /// NetBIOS name registration broadcast on the device's subnet.
    fn nbns(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let suffix = if matches!(d.role, Role::FileServer) {
            0x20
        } else {
            0x00
        };
        let p = net::nbns_registration(self.rng.gen(), &d.name, suffix, d.ip);
        let bcast = Ipv4Addr::new(10, d.vlan as u8, 255, 255);
        let l2 = L2 {
            src: d.mac,
            dst: [0xff; 6],
            vlan: Some(d.vlan),
        };
        self.udp(t, l2, d.ip, bcast, d.ttl, 137, 137, &p);
        self.flows += 1;
    }

    /// The LIS collecting result files from the legacy analyzer's SMB1 share.
    fn smb1(&mut self, i: usize, t: u64) {
        let mut c = self.tcp(self.infra.lis, i, 445, t);
        c.open();
        c.send(true, &app::smb1_negotiate_request());
        c.send(
            false,
            &app::smb1_negotiate_response("RGH-LAB", app::filetime(c.t), &mut self.rng),
        );
        let req = app::smb1_session_setup_request(
            "lisagent",
            "RGH",
            "Windows Server 2019 Standard 17763",
            "Windows Server 2019 Standard 6.3",
            &mut self.rng,
        );
        c.send(true, &req);
        let uid = self.rng.gen_range(2048..4096);
        c.send(
            false,
            &app::smb1_session_setup_response(
                "Windows 5.1",
                "Windows 2000 LAN Manager",
                "RGH-LAB",
                uid,
            ),
        );
        c.close();
        self.commit_tcp(c);
    }

    fn mdns(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let (service, port) = match &d.role {
            Role::Printer { mdns_service, .. } => (
                *mdns_service,
                if mdns_service.starts_with("_ipp") {
                    631
                } else {
                    9100
                },
            ),
            _ => ("_axis-video._tcp", 80),
        };
        let tail = format!("{:02X}{:02X}{:02X}", d.mac[3], d.mac[4], d.mac[5]);
        let instance = format!("{} {} [{tail}]", d.vendor, d.model);
        let mut txt = vec![
            "txtvers=1".to_string(),
            format!("ty={} {}", d.vendor, d.model),
            format!("product=({})", d.model),
        ];
        if matches!(d.role, Role::Printer { .. }) {
            txt.push(format!("usb_MFG={}", d.vendor));
            txt.push(format!("usb_MDL={}", d.model));
            txt.push("pdl=application/pdf,image/urf".into());
        } else {
            txt.push(format!("macaddress={tail}"));
        }
        let p = net::mdns_announce(&instance, service, &d.name, d.ip, port, &txt);
        let group = Ipv4Addr::new(224, 0, 0, 251);
        let l2 = L2 {
            src: d.mac,
            dst: mcast_mac(group),
            vlan: Some(d.vlan),
        };
        self.udp(t, l2, d.ip, group, 255, 5353, 5353, &p);
        self.flows += 1;
    }

    fn ssdp(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let server = match &d.role {
            Role::Printer { ssdp_server, .. } | Role::Camera { ssdp_server } => ssdp_server.clone(),
            _ => format!(
                "Linux/3.10 UPnP/1.0 {} {}/{}",
                d.vendor, d.model, d.software_version
            ),
        };
        let m = d.mac;
        let uuid = format!(
            "{:02x}{:02x}{:02x}{:02x}-5eed-4a11-9b0c-0000{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            m[2], m[3], m[4], m[5], m[0], m[1], m[2], m[3], m[4], m[5]
        );
        let p = net::ssdp_notify(d.ip, &server, &uuid);
        let group = Ipv4Addr::new(239, 255, 255, 250);
        let l2 = L2 {
            src: d.mac,
            dst: mcast_mac(group),
            vlan: Some(d.vlan),
        };
        self.udp(t, l2, d.ip, group, 2, 1900, 1900, &p);
        self.flows += 1;
    }

    fn lldp(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let Role::Switch { cdp, platform } = &d.role else {
            return;
        };
        let (port, desc) = if *cdp {
            (
                "GigabitEthernet1/0/48",
                format!(
                    "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version {}, RELEASE SOFTWARE (fc5)",
                    d.software_version
                ),
            )
        } else {
            (
                "48",
                format!(
                    "Aruba JL256A {} Switch, revision {}, ROM WC.16.01.0009",
                    d.model, d.software_version
                ),
            )
        };
        let p = SwitchPort {
            chassis_mac: d.mac,
            port,
            port_desc: "uplink to rgh-core-rtr01",
            sys_name: &d.name,
            sys_desc: &desc,
            platform,
            mgmt_ip: d.ip,
            native_vlan: 1,
        };
        let mut port_mac = d.mac;
        port_mac[5] = port_mac[5].wrapping_add(48);
        self.out.push(Packet {
            ts: t,
            frame: net::lldp_frame(&p, port_mac),
        });
        if *cdp {
            self.out.push(Packet {
                ts: t + 1_500,
                frame: net::cdp_frame(&p, port_mac),
            });
        }
        self.flows += 1;
    }

    fn snmp(&mut self, i: usize, t: u64) {
        let target = self.dev(i);
        let nms = self.dev(self.infra.nms);
        let l2 = self.l2(nms, target);
        let cap = capture_vlan(nms, target);
        let sport = self.ephemeral(nms);
        let rid: i32 = self.rng.gen_range(1..i32::MAX);
        let oids = [
            net::OID_SYS_DESCR,
            net::OID_SYS_OBJECT_ID,
            net::OID_SYS_UPTIME,
            net::OID_SYS_NAME,
        ];
        let get: Vec<(&[u32], SnmpValue<'_>)> =
            oids.iter().map(|o| (*o, SnmpValue::Null)).collect();
        let q = net::snmp_v2c("public", rid, false, &get);
        self.udp(t, l2, nms.ip, target.ip, seen_ttl(nms, cap), sport, 161, &q);
        let descr = match &target.role {
            Role::Switch { cdp: true, .. } | Role::Router => format!(
                "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version {}, RELEASE SOFTWARE (fc5)",
                target.software_version
            ),
            Role::Switch { .. } => format!("Aruba JL256A {} Switch, revision {}", target.model, target.software_version),
            Role::Printer { .. } if target.vendor == "HP" => format!(
                "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM {}",
                target.software_version
            ),
            _ => format!("{} {} version {}", target.vendor, target.model, target.software_version),
        };
        // sysObjectID under each vendor's IANA private enterprise number.
        let object_id: &[u32] = match target.vendor.as_str() {
            "Cisco" => &[1, 3, 6, 1, 4, 1, 9, 1, 2494],
            "Aruba" | "HP" => &[1, 3, 6, 1, 4, 1, 11, 2, 3, 7, 11, 181],
            "Lexmark" => &[1, 3, 6, 1, 4, 1, 641, 1],
            "Zebra" => &[1, 3, 6, 1, 4, 1, 10642, 1],
            _ => &[1, 3, 6, 1, 4, 1, 8072, 3, 2, 10],
        };
        let uptime = ((t / 10_000) % u64::from(u32::MAX)) as u32;
        let resp = net::snmp_v2c(
            "public",
            rid,
            true,
            &[
                (net::OID_SYS_DESCR, SnmpValue::Text(&descr)),
                (net::OID_SYS_OBJECT_ID, SnmpValue::Oid(object_id)),
                (net::OID_SYS_UPTIME, SnmpValue::Ticks(uptime)),
                (net::OID_SYS_NAME, SnmpValue::Text(&target.name)),
            ],
        );
        let ttl = seen_ttl(target, cap);
        let t2 = t + self.rng.gen_range(500..8_000);
        self.udp(t2, l2.reversed(), target.ip, nms.ip, ttl, 161, sport, &resp);
        self.flows += 1;
    }

    // ----------------------------------------------------------------------------------
    // sessions: DICOM
    // ----------------------------------------------------------------------------------

    fn dicom_store(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let pacs = self.dev(self.infra.pacs);
        let Role::Modality(spec) = &d.role else {
            return;
        };
        let (Some(ae), Some(pacs_ae)) = (&d.ae_title, &pacs.ae_title) else {
            return;
        };
        let pacs_stack = pacs_stack();
        let ts_both = [clin::TS_EXPLICIT_LE, clin::TS_IMPLICIT_LE];
        let ts_implicit = [clin::TS_IMPLICIT_LE];
        let rq = clin::associate_rq(
            pacs_ae,
            ae,
            &[
                ProposedContext {
                    id: 1,
                    abstract_syntax: spec.sop_class,
                    transfer_syntaxes: &ts_both,
                },
                ProposedContext {
                    id: 3,
                    abstract_syntax: clin::SOP_VERIFICATION,
                    transfer_syntaxes: &ts_implicit,
                },
                ProposedContext {
                    id: 5,
                    abstract_syntax: "1.2.840.10008.5.1.4.1.1.7",
                    transfer_syntaxes: &ts_both,
                },
            ],
            &spec.stack,
        );
        let ac = clin::associate_ac(
            pacs_ae,
            ae,
            &[
                (1, clin::TS_EXPLICIT_LE),
                (3, clin::TS_IMPLICIT_LE),
                (5, clin::TS_EXPLICIT_LE),
            ],
            &pacs_stack,
        );
        let port = if spec.modality == "US" {
            DICOM_ALT_PORT
        } else {
            104
        };
        let mut c = self.tcp(i, self.infra.pacs, port, t);
        c.open();
        c.send(true, &rq);
        c.send(false, &ac);
        let when = civil_timestamp(t);
        let n: u64 = self.rng.gen_range(1..1_000_000_000);
        let study = format!("{}.2.{}.{}", spec.uid_root, i + 1, n);
        let series = format!("{study}.1");
        for img in 0..spec.images_per_association {
            let msg_id = (self.next_msg() % 65_000) as u16 + 1;
            let inst = format!("{series}.{}", img + 1);
            let h = clin::ImageHeader {
                sop_class: spec.sop_class,
                sop_instance: &inst,
                study_uid: &study,
                series_uid: &series,
                date_time: &when,
                modality: spec.modality,
                manufacturer: &d.vendor,
                station_name: ae,
                model: &d.model,
                serial: &d.serial,
                software_versions: &d.software_version,
                rows: spec.rows,
                columns: spec.columns,
                samples_per_pixel: spec.samples_per_pixel,
                bits_allocated: spec.bits_allocated,
            };
            let ds = clin::image_dataset(&h, &mut self.rng);
            let mut burst = Vec::with_capacity(ds.len() + ds.len() / 1000 + 256);
            clin::p_data(
                &mut burst,
                1,
                true,
                &clin::c_store_rq(msg_id, spec.sop_class, &inst),
                pacs_stack.max_pdu,
            );
            clin::p_data(&mut burst, 1, false, &ds, pacs_stack.max_pdu);
            c.pause(self.rng.gen_range(1_000..40_000));
            c.send(true, &burst);
            let mut rsp = Vec::new();
            clin::p_data(
                &mut rsp,
                1,
                true,
                &clin::c_store_rsp(msg_id, spec.sop_class, &inst),
                spec.stack.max_pdu,
            );
            c.pause(self.rng.gen_range(500..5_000));
            c.send(false, &rsp);
        }
        c.send(true, &clin::release(false));
        c.send(false, &clin::release(true));
        c.close();
        self.commit_tcp(c);
    }

    /// The PACS verifies each modality's SCP with C-ECHO.
    fn dicom_echo(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let pacs = self.dev(self.infra.pacs);
        let Role::Modality(spec) = &d.role else {
            return;
        };
        let (Some(ae), Some(pacs_ae)) = (&d.ae_title, &pacs.ae_title) else {
            return;
        };
        let ts_implicit = [clin::TS_IMPLICIT_LE];
        let pstack = pacs_stack();
        let rq = clin::associate_rq(
            ae,
            pacs_ae,
            &[ProposedContext {
                id: 1,
                abstract_syntax: clin::SOP_VERIFICATION,
                transfer_syntaxes: &ts_implicit,
            }],
            &pstack,
        );
        let ac = clin::associate_ac(ae, pacs_ae, &[(1, clin::TS_IMPLICIT_LE)], &spec.stack);
        let msg_id = (self.next_msg() % 65_000) as u16 + 1;
        let mut echo = Vec::new();
        clin::p_data(
            &mut echo,
            1,
            true,
            &clin::c_echo(msg_id, false),
            spec.stack.max_pdu,
        );
        let mut echo_rsp = Vec::new();
        clin::p_data(
            &mut echo_rsp,
            1,
            true,
            &clin::c_echo(msg_id, true),
            pstack.max_pdu,
        );
        // Ultrasound devices listen on 11112 as well as storing there.
        let port = if spec.modality == "US" {
            DICOM_ALT_PORT
        } else {
            104
        };
        let mut c = self.tcp(self.infra.pacs, i, port, t);
        c.open();
        c.send(true, &rq);
        c.send(false, &ac);
        c.send(true, &echo);
        c.send(false, &echo_rsp);
        c.send(true, &clin::release(false));
        c.send(false, &clin::release(true));
        c.close();
        self.commit_tcp(c);
    }

    /// The biomed workstation's echoscu is rejected by the PACS (unknown calling AE).
    fn dicom_rejected(&mut self, i: usize, t: u64) {
        let (d, pacs) = (self.dev(i), self.dev(self.infra.pacs));
        let (Some(ae), Some(pacs_ae)) = (&d.ae_title, &pacs.ae_title) else {
            return;
        };
        let dcmtk = clin::DicomStack {
            class_uid: "1.2.276.0.7230010.3.0.3.6.4".into(),
            version_name: "OFFIS_DCMTK_364".into(),
            max_pdu: 16_384,
        };
        let ts = [clin::TS_IMPLICIT_LE];
        let rq = clin::associate_rq(
            pacs_ae,
            ae,
            &[ProposedContext {
                id: 1,
                abstract_syntax: clin::SOP_VERIFICATION,
                transfer_syntaxes: &ts,
            }],
            &dcmtk,
        );
        let mut c = self.tcp(i, self.infra.pacs, 104, t);
        c.open();
        c.send(true, &rq);
        c.send(false, &clin::associate_rj_unknown_calling_ae());
        c.close();
        self.commit_tcp(c);
    }

    // ----------------------------------------------------------------------------------
    // sessions: HL7 and ASTM
    // ----------------------------------------------------------------------------------

    /// Sends `msgs` over one MLLP connection from `ci` to `si:port`, each ACKed.
    fn mllp_session(
        &mut self,
        ci: usize,
        si: usize,
        port: u16,
        t: u64,
        msgs: &[(String, String, &str)],
    ) {
        let mut c = self.tcp(ci, si, port, t);
        c.open();
        for (msg, ack, _) in msgs {
            c.send(true, &clin::mllp(msg));
            c.pause(self.rng.gen_range(1_000..20_000));
            c.send(false, &clin::mllp(ack));
            c.pause(self.rng.gen_range(5_000..200_000));
        }
        c.close();
        self.commit_tcp(c);
    }

    fn hl7_oru(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let eng = self.dev(self.infra.engine);
        let app = d.hl7_app.as_deref().unwrap_or("MONITOR");
        let bed = format!("ICU^{:02}^1", i % 40 + 1);
        let facility = format!("ICU_BED{:02}", i % 40 + 1);
        let route = Hl7Route {
            sending_app: app,
            sending_facility: &facility,
            receiving_app: eng.hl7_app.as_deref().unwrap_or("MIRTH"),
            receiving_facility: "RGH",
        };
        let mut msgs = Vec::new();
        for k in 0..2u64 {
            let when = civil_timestamp(t + k * 1_000_000);
            let id = format!("MON{:010}", self.next_msg());
            let obs = [
                (
                    "8867-4",
                    "Heart rate",
                    self.rng.gen_range(55..110).to_string(),
                    "/min",
                ),
                (
                    "59408-5",
                    "SpO2",
                    self.rng.gen_range(90..100).to_string(),
                    "%",
                ),
                (
                    "8480-6",
                    "Systolic BP",
                    self.rng.gen_range(95..150).to_string(),
                    "mm[Hg]",
                ),
                (
                    "8462-4",
                    "Diastolic BP",
                    self.rng.gen_range(55..95).to_string(),
                    "mm[Hg]",
                ),
                (
                    "9279-1",
                    "Respiratory rate",
                    self.rng.gen_range(10..24).to_string(),
                    "/min",
                ),
                (
                    "8310-5",
                    "Body temperature",
                    format!("{:.1}", self.rng.gen_range(36.0..38.5f64)),
                    "Cel",
                ),
            ];
            let msg = clin::oru_r01(
                &route,
                &when,
                &id,
                &bed,
                ("69837-1", "Vital signs panel"),
                &obs,
            );
            let ack = clin::ack(&route, &when, &id, "R01");
            msgs.push((msg, ack, "R01"));
        }
        self.mllp_session(i, self.infra.engine, 2575, t, &msgs);
    }

    fn uuid(&mut self) -> String {
        let b: [u8; 16] = self.rng.gen();
        format!(
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:x}{:02x}-a{:x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6] & 0x0f, b[7], b[8] & 0x0f, b[9], b[10], b[11], b[12], b[13], b[14], b[15]
        )
    }

    /// Stable endpoint reference and location scope of an SDC provider.
    fn sdc_ids(d: &Device) -> (String, String) {
        let m = d.mac;
        let epr = format!(
            "0e5d2c1a-{:02x}{:02x}-4d0c-9a11-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            m[4], m[5], m[0], m[1], m[2], m[3], m[4], m[5]
        );
        let loc = format!("RGH%2FICU%2F{}?fac=RGH&poc=ICU&bed={}", d.name, d.name);
        (epr, loc)
    }

    fn sdc_hello(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let (epr, loc) = Self::sdc_ids(d);
        let xaddr = format!("http://{}:6464/{epr}", d.ip);
        let dev = clin::SdcDevice {
            epr_uuid: &epr,
            xaddr: &xaddr,
            manufacturer: "Draegerwerk AG & Co. KGaA",
            model: &d.model,
            firmware: &d.software_version,
            serial: &d.serial,
            friendly_name: &d.name,
            location: &loc,
        };
        let mid = self.uuid();
        let p = clin::wsd_hello(&dev, &mid, t / 1_000_000);
        let group = Ipv4Addr::new(239, 255, 255, 250);
        let l2 = L2 {
            src: d.mac,
            dst: mcast_mac(group),
            vlan: Some(d.vlan),
        };
        self.udp(t, l2, d.ip, group, 1, 3702, 3702, p.as_bytes());
        self.flows += 1;
    }

    /// The interface engine, acting as SDC gateway, reads the ventilator's DPWS metadata.
    fn sdc_metadata(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let (epr, loc) = Self::sdc_ids(d);
        let xaddr = format!("http://{}:6464/{epr}", d.ip);
        let dev = clin::SdcDevice {
            epr_uuid: &epr,
            xaddr: &xaddr,
            manufacturer: "Draegerwerk AG & Co. KGaA",
            model: &d.model,
            firmware: &d.software_version,
            serial: &d.serial,
            friendly_name: &d.name,
            location: &loc,
        };
        let (q_id, r_id) = (self.uuid(), self.uuid());
        let get = clin::sdc_get_metadata(&dev, &q_id);
        let resp = clin::sdc_metadata_response(&dev, &r_id, &q_id);
        let host = format!("{}:6464", d.ip);
        let mut req = format!(
            "POST /{epr} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/soap+xml; charset=utf-8\r\n\
             User-Agent: RGH-SDC-Gateway/1.2\r\nContent-Length: {}\r\n\r\n",
            get.len()
        )
        .into_bytes();
        req.extend_from_slice(get.as_bytes());
        let answer = app::http_response(
            "Draeger-SDC/3.1",
            "application/soap+xml; charset=utf-8",
            &app::http_date(t),
            resp.as_bytes(),
        );
        let mut c = self.tcp(self.infra.engine, i, 6464, t);
        c.open();
        c.send(true, &req);
        c.send(false, &answer);
        c.close();
        self.commit_tcp(c);
    }

    fn hl7_adt(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let eng = self.dev(self.infra.engine);
        let route = Hl7Route {
            sending_app: d.hl7_app.as_deref().unwrap_or("EHR"),
            sending_facility: "RGH",
            receiving_app: eng.hl7_app.as_deref().unwrap_or("MIRTH"),
            receiving_facility: "RGH",
        };
        let when = civil_timestamp(t);
        let id = format!("ADT{:010}", self.next_msg());
        let msg = clin::adt_a01(&route, &when, &id, "MED^0412^1");
        let ack = clin::ack(&route, &when, &id, "A01");
        self.mllp_session(i, self.infra.engine, 2575, t, &[(msg, ack, "A01")]);
    }

    fn lab_results(&mut self) -> Vec<(&'static str, String, &'static str)> {
        vec![
            (
                "WBC",
                format!("{:.1}", self.rng.gen_range(4.0..11.0f64)),
                "10*3/uL",
            ),
            (
                "RBC",
                format!("{:.2}", self.rng.gen_range(4.0..6.0f64)),
                "10*6/uL",
            ),
            (
                "HGB",
                format!("{:.1}", self.rng.gen_range(11.0..17.0f64)),
                "g/dL",
            ),
            ("PLT", self.rng.gen_range(150..400).to_string(), "10*3/uL"),
        ]
    }

    fn lab_hl7(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let eng = self.dev(self.infra.engine);
        let route = Hl7Route {
            sending_app: d.hl7_app.as_deref().unwrap_or("ANALYZER"),
            sending_facility: "RGH_LAB",
            receiving_app: eng.hl7_app.as_deref().unwrap_or("MIRTH"),
            receiving_facility: "RGH",
        };
        let when = civil_timestamp(t);
        let id = format!("LAB{:010}", self.next_msg());
        let results = self.lab_results();
        let obs: Vec<(&str, &str, String, &str)> = results
            .iter()
            .map(|(code, v, unit)| (*code, *code, v.clone(), *unit))
            .collect();
        let msg = clin::oru_r01(
            &route,
            &when,
            &id,
            "LAB^CORE^1",
            ("58410-2", "CBC panel"),
            &obs,
        );
        let ack = clin::ack(&route, &when, &id, "R01");
        self.mllp_session(i, self.infra.engine, HL7_LAB_PORT, t, &[(msg, ack, "R01")]);
    }

    fn lab_astm(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let when = civil_timestamp(t);
        let results = self.lab_results();
        let records = clin::astm_records(
            d.hl7_app.as_deref().unwrap_or("ANALYZER"),
            &d.model,
            &d.software_version,
            &when,
            &results,
        );
        let mut c = self.tcp(i, self.infra.lis, ASTM_PORT, t);
        c.open();
        c.send(true, &[clin::ENQ]);
        c.send(false, &[clin::ACK_CHAR]);
        for (k, r) in records.iter().enumerate() {
            c.send(true, &clin::astm_frame((k + 1) as u8, r));
            c.send(false, &[clin::ACK_CHAR]);
        }
        c.send(true, &[clin::EOT]);
        c.close();
        self.commit_tcp(c);
    }

    /// A glucose meter in its dock: hello, one observation, end of topic; each ACKed.
    fn poct(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let c14 = civil_timestamp(t);
        let when = format!(
            "{}-{}-{}T{}:{}:{}+00:00",
            &c14[0..4],
            &c14[4..6],
            &c14[6..8],
            &c14[8..10],
            &c14[10..12],
            &c14[12..14]
        );
        let dev = clin::PocDevice {
            device_id: &d.serial,
            vendor: &d.vendor,
            model: &d.model,
            serial: &d.serial,
            sw_version: &d.software_version,
            name: &d.name,
        };
        let glucose = self.rng.gen_range(70..180).to_string();
        let msgs = [
            clin::poct_hello(&dev, 1, &when),
            clin::poct_observation(2, &when, &glucose),
            clin::poct_eot(3, &when),
        ];
        let mut c = self.tcp(i, self.infra.lis, POCT1_PORT, t);
        c.open();
        for (k, m) in msgs.iter().enumerate() {
            c.send(true, m.as_bytes());
            c.send(
                false,
                clin::poct_ack(100 + k as u32, k as u32 + 1, &when).as_bytes(),
            );
        }
        c.close();
        self.commit_tcp(c);
    }

    // ----------------------------------------------------------------------------------
    // sessions: infusion pumps
    // ----------------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn tls12_exchange(
        &mut self,
        c: &mut TcpConv,
        sni: &str,
        cert_is_cloud: bool,
        up: usize,
        down: usize,
    ) {
        let ch = app::client_hello(
            &ClientHello {
                sni,
                alpn: &[],
                tls13: false,
            },
            &mut self.rng,
        );
        c.send(true, &ch);
        let cert = if cert_is_cloud {
            &self.cloud_cert
        } else {
            &self.pump_cert
        };
        let flight = app::server_flight(false, cert, &mut self.rng);
        c.send(false, &flight);
        c.send(true, &app::client_finish(false, &mut self.rng));
        c.send(false, &app::server_finish(&mut self.rng));
        c.send(true, &app::app_data(up, &mut self.rng));
        c.send(false, &app::app_data(down, &mut self.rng));
    }

    fn pump_tls(&mut self, i: usize, t: u64) {
        let srv = self.dev(self.infra.pumpsrv);
        let sni = format!("{}.{DOMAIN}", srv.name);
        let mut c = self.tcp(i, self.infra.pumpsrv, 443, t);
        c.open();
        let up = self.rng.gen_range(900..3_000);
        let down = self.rng.gen_range(200..800);
        self.tls12_exchange(&mut c, &sni, false, up, down);
        c.close();
        self.commit_tcp(c);
    }

    fn pump_cloud(&mut self, i: usize, t: u64) {
        let t = self.dns(i, CLOUD_NAME, CLOUD_IP, t);
        let d = self.dev(i);
        let l2 = L2 {
            src: d.mac,
            dst: self.h.router_mac,
            vlan: Some(d.vlan),
        };
        let sport = self.ephemeral(d);
        let seed = self.rng.gen();
        let mut c = TcpConv::new(
            seed,
            l2,
            Side::new(d.ip, sport, d.ttl),
            Side::new(CLOUD_IP, 443, 64 - 14),
            t,
            self.impairment,
        );
        c.open();
        let up = self.rng.gen_range(4_000..12_000);
        self.tls12_exchange(&mut c, CLOUD_NAME, true, up, 600);
        c.close();
        self.commit_tcp(c);
    }

    fn pump_web(&mut self, i: usize, t: u64) {
        let d = self.dev(i);
        let ws = self.dev(self.infra.biomed);
        let ua = browser_ua(ws);
        let req = app::http_request("GET", "/status.html", &d.ip.to_string(), &ua, b"");
        let body = format!(
            "<html><head><title>{} {} - Device Status</title></head><body><h1>{}</h1>\
             <table><tr><td>Model</td><td>{}</td></tr><tr><td>Firmware</td><td>{}</td></tr>\
             <tr><td>Serial</td><td>{}</td></tr><tr><td>Network</td><td>Connected</td></tr>\
             </table></body></html>",
            d.vendor, d.model, d.name, d.model, d.software_version, d.serial
        );
        let resp = app::http_response(
            "GoAhead-Webs",
            "text/html",
            &app::http_date(t),
            body.as_bytes(),
        );
        let mut c = self.tcp(self.infra.biomed, i, 80, t);
        c.open();
        c.send(true, &req);
        c.send(false, &resp);
        c.close();
        self.commit_tcp(c);
    }

    // ----------------------------------------------------------------------------------
    // sessions: workstations and the legacy device
    // ----------------------------------------------------------------------------------

    fn ws_browse(&mut self, i: usize, t: u64) {
        let ws = self.dev(i);
        let ehr = self.dev(self.infra.ehr);
        let host = format!("emr.{DOMAIN}");
        let t = self.dns(i, &host, ehr.ip, t);
        let ua = browser_ua(ws);
        // HTTPS session with TLS 1.3.
        let mut c = self.tcp(i, self.infra.ehr, 443, t);
        c.open();
        let ch = app::client_hello(
            &ClientHello {
                sni: &host,
                alpn: &["h2", "http/1.1"],
                tls13: true,
            },
            &mut self.rng,
        );
        c.send(true, &ch);
        c.send(false, &app::server_flight(true, &[], &mut self.rng));
        c.send(true, &app::client_finish(true, &mut self.rng));
        for _ in 0..self.rng.gen_range(2..5) {
            let up = self.rng.gen_range(400..1_500);
            let down = self.rng.gen_range(5_000..60_000);
            c.pause(self.rng.gen_range(50_000..2_000_000));
            c.send(true, &app::app_data(up, &mut self.rng));
            c.send(false, &app::app_data(down, &mut self.rng));
        }
        c.close();
        let t = c.t + self.rng.gen_range(10_000..500_000);
        self.commit_tcp(c);
        // Cleartext HTTP: the login page and the FHIR capability statement.
        let mut c = self.tcp(i, self.infra.ehr, 80, t);
        c.open();
        let login = app::http_request("GET", "/carechart/login.aspx", &host, &ua, b"");
        c.send(true, &login);
        let html = format!(
            "<!DOCTYPE html><html><head><title>CareChart EHR {} - Sign in</title></head>\
             <body><form method=\"post\" action=\"/carechart/login.aspx\">\
             <input name=\"user\"/><input name=\"password\" type=\"password\"/></form></body></html>",
            ehr.software_version
        );
        c.send(
            false,
            &app::http_response(
                "Microsoft-IIS/10.0",
                "text/html; charset=utf-8",
                &app::http_date(c.t),
                html.as_bytes(),
            ),
        );
        c.pause(self.rng.gen_range(100_000..900_000));
        let meta = app::http_request("GET", "/fhir/r4/metadata", &host, &ua, b"");
        c.send(true, &meta);
        let cap = format!(
            "{{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":\"2024-06-01\",\
             \"kind\":\"instance\",\"software\":{{\"name\":\"CareChart FHIR Server\",\"version\":\"{}\"}},\
             \"fhirVersion\":\"4.0.1\",\"format\":[\"json\"]}}",
            ehr.software_version
        );
        c.send(
            false,
            &app::http_response(
                "Microsoft-IIS/10.0",
                "application/fhir+json",
                &app::http_date(c.t),
                cap.as_bytes(),
            ),
        );
        c.close();
        self.commit_tcp(c);
    }

    fn ws_smb(&mut self, i: usize, t: u64) {
        let fs = self.dev(self.infra.fs);
        let t = self.dns(i, &format!("{}.{DOMAIN}", fs.name), fs.ip, t);
        let ws = self.dev(i);
        let mut guid = [0u8; 16];
        guid[..6].copy_from_slice(&ws.mac);
        guid[6..12].copy_from_slice(&ws.mac);
        let mut sguid = [0u8; 16];
        sguid[..6].copy_from_slice(&fs.mac);
        let mut c = self.tcp(i, self.infra.fs, 445, t);
        c.open();
        c.send(true, &app::smb2_negotiate_request(guid, &mut self.rng));
        c.send(
            false,
            &app::smb2_negotiate_response(sguid, app::filetime(c.t), &mut self.rng),
        );
        c.close();
        self.commit_tcp(c);
    }

    fn telnet(&mut self, i: usize, t: u64) {
        let mut c = self.tcp(self.infra.biomed, i, 23, t);
        c.open();
        c.send(
            false,
            &[
                0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20, 0xff, 0xfd, 0x23, 0xff, 0xfd, 0x27,
            ],
        );
        c.send(
            true,
            &[
                0xff, 0xfc, 0x18, 0xff, 0xfc, 0x20, 0xff, 0xfc, 0x23, 0xff, 0xfc, 0x27,
            ],
        );
        c.send(
            false,
            b"Welcome to Microsoft Telnet Service \r\n\n\rlogin: ",
        );
        c.pause(self.rng.gen_range(500_000..3_000_000));
        c.send(true, b"service\r\n");
        c.send(false, b"\r\npassword: ");
        c.pause(self.rng.gen_range(500_000..3_000_000));
        // Fake credentials: the point is that they cross the wire in cleartext.
        c.send(true, b"Abl800-service\r\n");
        c.send(false, b"\r\n*===============================================================\r\nWelcome to Microsoft Telnet Server.\r\n*===============================================================\r\nC:\\Documents and Settings\\service>");
        c.pause(self.rng.gen_range(1_000_000..5_000_000));
        c.send(true, b"exit\r\n");
        c.close();
        self.commit_tcp(c);
    }

    fn ftp(&mut self, i: usize, t: u64) {
        let mut c = self.tcp(self.infra.biomed, i, 21, t);
        c.open();
        let lines: [(bool, &[u8]); 9] = [
            (false, b"220 Microsoft FTP Service\r\n"),
            (true, b"USER service\r\n"),
            (false, b"331 Password required for service.\r\n"),
            (true, b"PASS Abl800-service\r\n"),
            (false, b"230 User service logged in.\r\n"),
            (true, b"SYST\r\n"),
            (false, b"215 Windows_NT\r\n"),
            (true, b"QUIT\r\n"),
            (false, b"221 \r\n"),
        ];
        for (from_client, l) in lines {
            if from_client {
                c.pause(self.rng.gen_range(200_000..1_500_000));
            }
            c.send(from_client, l);
        }
        c.close();
        self.commit_tcp(c);
    }
}

/// Opaque planned session handed between the engine and the driver loop in `lib.rs`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionRef(Session);

/// The VLAN on which the sensor sees a conversation between `c` and `s`.
fn capture_vlan(c: &Device, s: &Device) -> u16 {
    if c.remote {
        s.vlan
    } else {
        c.vlan
    }
}

/// TTL of a frame from `d` as seen on VLAN `cap`: one router hop from another main-campus
/// VLAN, three across the WAN from the outpatient site.
fn seen_ttl(d: &Device, cap: u16) -> u8 {
    if d.vlan == cap {
        d.ttl
    } else if d.remote {
        d.ttl - 3
    } else {
        d.ttl - 1
    }
}

fn pacs_stack() -> clin::DicomStack {
    clin::DicomStack {
        class_uid: "1.2.40.0.13.1.3".into(),
        version_name: "dcm4che-5.31.0".into(),
        max_pdu: 16_384,
    }
}

fn browser_ua(ws: &Device) -> String {
    let edge = matches!(ws.role, Role::Workstation { edge: true, .. });
    if edge {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91".into()
    } else {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36".into()
    }
}
