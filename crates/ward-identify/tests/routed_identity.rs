//! Identity of hosts seen both on their own segment (by MAC) and through a router (by
//! IP), over the real pipeline (capture, dissectors, identification):
//!
//! * on generated hospital captures, split in two observation windows (the generator's
//!   sites are routed subnets, and the SPAN port sees some conversations only on the
//!   router's leg), with the generator's device list as ground truth;
//! * on a real corpus capture (nDPI's `android.pcap`: a phone that leases its address
//!   through DHCP behind a home gateway), plus a second window made from the same
//!   packets as a capture point on the far side of the gateway would record them (the
//!   phone's MAC replaced by the gateway's, DHCP gone).
//!
//! What must hold: one device per host within an analysis (no address held by two
//! devices, a host never both MAC-keyed and IP-keyed), routers do not absorb the hosts
//! behind them, and with the bindings of the earlier window a host seen only through the
//! router keeps its MAC-keyed device and id.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use ward_bench::{generate_split, GenConfig, GeneratedDevice, SITE_MAIN, SITE_OUTPATIENT};
use ward_capture::CaptureConfig;
use ward_dissect::EngineConfig;
use ward_identify::{IdBasis, IdentifyOptions, Inventory, KnownBinding, Rules};
use ward_model::MacAddr;

fn rules() -> Rules {
    Rules::standard().unwrap_or_else(|e| {
        panic!("these tests need the IEEE registry: run `apt-get install -y ieee-data` ({e})")
    })
}

fn analyze(paths: &[PathBuf], rules: &Rules, known: &[KnownBinding]) -> Inventory {
    let (out, _stats) = ward_dissect::analyze_files(
        paths,
        &CaptureConfig::default(),
        &EngineConfig::default(),
        1,
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("analyzing {paths:?}: {e}"));
    let options = IdentifyOptions {
        known_bindings: known.to_vec(),
        ..IdentifyOptions::default()
    };
    ward_identify::identify_with(
        &out.observations,
        &out.security,
        &out.edges,
        rules,
        &options,
    )
}

/// Invariants of any analysis: every address belongs to one device, and an address that a
/// MAC-keyed host device holds is never also an IP-keyed device; routers hold only the
/// addresses they claimed themselves (ARP/DHCP), in this analysis or an earlier one.
fn check_one_device_per_address(inv: &Inventory, known: &[KnownBinding], what: &str) {
    let mut owner: BTreeMap<IpAddr, &str> = BTreeMap::new();
    for d in &inv.devices {
        for b in &d.ips {
            if let Some(prev) = owner.insert(b.ip, d.id.as_str()) {
                assert_eq!(
                    prev, d.id,
                    "{what}: {} held by devices {prev} and {}",
                    b.ip, d.id
                );
            }
        }
    }
    for d in inv.devices.iter().filter(|d| d.is_router) {
        for b in &d.ips {
            let claimed_before = known.iter().any(|k| {
                k.ip == b.ip && d.macs.contains(&k.mac) && k.sources.iter().any(|s| s.is_claim())
            });
            assert!(
                claimed_before || b.sources.iter().any(|s| s.is_claim()),
                "{what}: router device {} holds {} that it never claimed ({:?}): a routed host \
                 was absorbed",
                d.id,
                b.ip,
                b.sources
            );
        }
    }
}

fn device_of_ip(inv: &Inventory, ip: IpAddr) -> Option<&ward_identify::Device> {
    inv.devices
        .iter()
        .find(|d| d.ips.iter().any(|b| b.ip == ip))
}

/// Against the generator's ground truth: main-campus hosts are the device of their own MAC,
/// outpatient hosts (only ever behind the router) are IP-keyed devices.
fn check_truth(inv: &Inventory, truth: &[GeneratedDevice], router: MacAddr, what: &str) -> usize {
    let mut seen = 0;
    for g in truth.iter().filter(|g| g.mac != router) {
        let Some(d) = device_of_ip(inv, g.ip) else {
            continue;
        };
        seen += 1;
        if g.site == SITE_MAIN {
            assert_eq!(
                d.macs,
                vec![g.mac],
                "{what}: {} ({}, {}) should be the device of its MAC, is {} {:?}",
                g.name,
                g.ip,
                g.mac,
                d.id,
                d.endpoints
            );
        } else {
            assert_eq!(g.site, SITE_OUTPATIENT);
            assert!(
                d.macs.is_empty() && d.id_basis == IdBasis::Ip,
                "{what}: outpatient {} ({}) is only seen behind the router: {} {:?}",
                g.name,
                g.ip,
                d.id,
                d.endpoints
            );
        }
    }
    seen
}

#[test]
fn generated_windows_keep_one_device_per_host_and_the_same_ids() {
    let rules = rules();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut healed = 0;
    for seed in [13u64, 42] {
        let (a, b) = (
            dir.path().join(format!("first-{seed}.pcap")),
            dir.path().join(format!("second-{seed}.pcap")),
        );
        let cfg = GenConfig {
            seed,
            target_bytes: 3 << 20,
            devices: 40,
            impairment_rate: 0.0,
            ..GenConfig::default()
        };
        let (s1, _, _) = generate_split(&cfg, &a, &b).expect("generate split capture");
        let router = ward_bench::Hospital::build(seed, cfg.devices).router_mac();
        let truth = &s1.devices;

        let w1 = analyze(std::slice::from_ref(&a), &rules, &[]);
        let what1 = format!("seed {seed}, window 1");
        check_one_device_per_address(&w1, &[], &what1);
        assert!(
            check_truth(&w1, truth, router, &what1) >= 30,
            "{what1}: hosts found"
        );
        assert!(w1
            .devices
            .iter()
            .any(|d| d.is_router && d.macs == vec![router]));

        // Window 2 alone: each analysis is consistent in itself ...
        let alone = analyze(std::slice::from_ref(&b), &rules, &[]);
        check_one_device_per_address(&alone, &[], &format!("seed {seed}, window 2 alone"));
        // ... and with window 1's bindings, hosts keep their MAC device and its id.
        let known = w1.known_bindings();
        assert!(
            known.iter().any(|k| k.mac == router),
            "router's own claims carried"
        );
        let w2 = analyze(std::slice::from_ref(&b), &rules, &known);
        let what2 = format!("seed {seed}, window 2 with window 1's bindings");
        check_one_device_per_address(&w2, &known, &what2);
        assert!(
            check_truth(&w2, truth, router, &what2) >= 30,
            "{what2}: hosts found"
        );
        for g in truth {
            let (Some(d1), Some(d2)) = (device_of_ip(&w1, g.ip), device_of_ip(&w2, g.ip)) else {
                continue;
            };
            assert_eq!(
                d1.id, d2.id,
                "{what2}: {} ({}) changed device id",
                g.name, g.ip
            );
            if let Some(d) = device_of_ip(&alone, g.ip) {
                if d.id != d2.id {
                    healed += 1;
                }
            }
        }
    }
    assert!(
        healed > 0,
        "the windows must exercise the routed-only case (hosts that window 2 alone sees only \
         behind the router)"
    );
}

/// A pcap record: its 16-byte header and its frame.
type Record = (Vec<u8>, Vec<u8>);

/// A classic little-endian microsecond pcap: (header, records).
fn read_pcap(path: &Path) -> (Vec<u8>, Vec<Record>) {
    let data = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: the corpus is needed (../shared/data): {e}",
            path.display()
        )
    });
    assert_eq!(
        data.get(..4),
        Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]),
        "{}",
        path.display()
    );
    let mut recs = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let hdr = data[at..at + 16].to_vec();
        let incl = u32::from_le_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]) as usize;
        let body = data
            .get(at + 16..at + 16 + incl)
            .unwrap_or_else(|| panic!("{}: truncated record at {at}", path.display()))
            .to_vec();
        recs.push((hdr, body));
        at += 16 + incl;
    }
    (data[..24].to_vec(), recs)
}

fn write_pcap(path: &Path, header: &[u8], recs: &[Record]) {
    let mut out = header.to_vec();
    for (h, b) in recs {
        out.extend_from_slice(h);
        out.extend_from_slice(b);
    }
    std::fs::write(path, out).expect("write pcap");
}

fn is_dhcp_or_arp(frame: &[u8]) -> bool {
    let et = frame.get(12..14);
    if et == Some(&[0x08, 0x06][..]) {
        return true;
    }
    // IPv4 UDP to or from port 67/68.
    et == Some(&[0x08, 0x00][..])
        && frame.get(23) == Some(&17)
        && frame.get(14).is_some_and(|v| v & 0x0f == 5)
        && [34usize, 36].iter().any(|&o| {
            frame
                .get(o..o + 2)
                .is_some_and(|p| p == [0, 67] || p == [0, 68])
        })
}

#[test]
fn real_capture_host_seen_behind_its_gateway_stays_one_device() {
    let rules = rules();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/pcaps/dev/ndpi__android.pcap");
    let phone: MacAddr = "4c:6a:f6:9f:f6:27".parse().expect("mac");
    let gateway: MacAddr = "c6:2c:03:60:6a:64".parse().expect("mac");
    let phone_ip: IpAddr = "192.168.2.16".parse().expect("ip");

    let w1 = analyze(std::slice::from_ref(&src), &rules, &[]);
    let what = "ndpi__android.pcap";
    check_one_device_per_address(&w1, &[], what);
    let d1 = device_of_ip(&w1, phone_ip).expect("the phone's DHCP address");
    assert_eq!(
        d1.macs,
        vec![phone],
        "{what}: the phone is the device of its MAC"
    );
    assert!(w1
        .devices
        .iter()
        .any(|d| d.is_router && d.macs == vec![gateway]));

    // The far side of the gateway: same packets, one second later, the phone's MAC
    // replaced by the gateway's, no DHCP or ARP.
    let (header, recs) = read_pcap(&src);
    let far: Vec<Record> = recs
        .iter()
        .filter(|(_, b)| !is_dhcp_or_arp(b))
        .map(|(h, b)| {
            let mut h = h.clone();
            let secs = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) + 3600;
            h[..4].copy_from_slice(&secs.to_le_bytes());
            let mut b = b.clone();
            for o in [0usize, 6] {
                if b.get(o..o + 6) == Some(&phone.0[..]) {
                    b[o..o + 6].copy_from_slice(&gateway.0);
                }
            }
            (h, b)
        })
        .collect();
    assert!(
        far.len() > 100 && far.len() < recs.len(),
        "DHCP/ARP removed, traffic kept"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let far_path = dir.path().join("android-far-side.pcap");
    write_pcap(&far_path, &header, &far);

    // The far side alone cannot know the phone's MAC: an IP-keyed device ...
    let alone = analyze(std::slice::from_ref(&far_path), &rules, &[]);
    check_one_device_per_address(&alone, &[], "far side alone");
    let d = device_of_ip(&alone, phone_ip).expect("phone seen on the far side");
    assert!(d.macs.is_empty(), "far side alone: {:?}", d.endpoints);
    assert!(alone.devices.iter().all(|d| !d.macs.contains(&phone)));

    // ... with the first window's bindings it is the phone's device, same id.
    let known = w1.known_bindings();
    let w2 = analyze(std::slice::from_ref(&far_path), &rules, &known);
    check_one_device_per_address(&w2, &known, "far side with bindings");
    let d2 = device_of_ip(&w2, phone_ip).expect("phone");
    assert_eq!(d2.macs, vec![phone]);
    assert_eq!(d2.id, d1.id);
    assert!(w2
        .devices
        .iter()
        .all(|d| !d.macs.is_empty() || !d.ips.iter().any(|b| b.ip == phone_ip)));

    // Both windows in one analysis (two files, merged by time): one phone device, and
    // the gateway holds only its own address.
    let both = analyze(&[src.clone(), far_path.clone()], &rules, &[]);
    check_one_device_per_address(&both, &[], "both windows in one analysis");
    let d = device_of_ip(&both, phone_ip).expect("phone");
    assert_eq!(d.macs, vec![phone]);
    assert_eq!(d.id, d1.id);
    let sessions_1: u64 = w1
        .connections
        .iter()
        .filter(|c| c.client.device.as_deref() == Some(d1.id.as_str()))
        .map(|c| c.sessions)
        .sum();
    let sessions_both: u64 = both
        .connections
        .iter()
        .filter(|c| c.client.device.as_deref() == Some(d1.id.as_str()))
        .map(|c| c.sessions)
        .sum();
    assert!(
        sessions_both > sessions_1,
        "the far side's connections belong to the phone: {sessions_both} vs {sessions_1}"
    );
}
