//! Properties of generated captures, checked with an independent pcap/Ethernet/IPv4/TCP
//! walker written here (not the generator's code): file structure, determinism, size,
//! ground truth, TCP sequence continuity and payload integrity, the L2 view of routed
//! traffic, the canary patient, and the split used by segmentation tests.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use ward_bench::{
    generate, generate_split, GenConfig, GenSummary, CANARY_PATIENT_ID, CANARY_PATIENT_NAME,
};

fn small(seed: u64, target: u64, impairment: f64) -> GenConfig {
    GenConfig {
        seed,
        target_bytes: target,
        devices: 40,
        impairment_rate: impairment,
        ..GenConfig::default()
    }
}

fn gen(cfg: &GenConfig) -> (Vec<u8>, GenSummary) {
    let mut buf = Vec::new();
    let s = generate(cfg, &mut buf).expect("generation into memory cannot fail");
    (buf, s)
}

struct Record<'a> {
    ts_us: u64,
    frame: &'a [u8],
}

/// Walks a classic pcap; panics with the byte offset on any inconsistency.
fn records(file: &[u8]) -> Vec<Record<'_>> {
    assert!(file.len() >= 24, "pcap shorter than its global header");
    assert_eq!(
        &file[0..4],
        &0xa1b2_c3d4u32.to_le_bytes(),
        "magic (LE, microseconds)"
    );
    assert_eq!(u16::from_le_bytes([file[4], file[5]]), 2, "major version");
    assert_eq!(u16::from_le_bytes([file[6], file[7]]), 4, "minor version");
    let snaplen = u32::from_le_bytes([file[16], file[17], file[18], file[19]]);
    assert_eq!(
        u32::from_le_bytes([file[20], file[21], file[22], file[23]]),
        1,
        "LINKTYPE_ETHERNET"
    );
    let mut out = Vec::new();
    let mut pos = 24;
    while pos < file.len() {
        assert!(
            pos + 16 <= file.len(),
            "truncated record header at offset {pos}"
        );
        let f = |o: usize| {
            u32::from_le_bytes([
                file[pos + o],
                file[pos + o + 1],
                file[pos + o + 2],
                file[pos + o + 3],
            ])
        };
        let (sec, usec, incl, orig) = (f(0), f(4), f(8), f(12));
        assert!(
            usec < 1_000_000,
            "microseconds out of range at offset {pos}"
        );
        assert_eq!(incl, orig, "record at offset {pos} is truncated");
        assert!(
            incl <= snaplen && incl >= 14,
            "bad record length {incl} at offset {pos}"
        );
        let start = pos + 16;
        let end = start + incl as usize;
        assert!(
            end <= file.len(),
            "record at offset {pos} runs past the end of the file"
        );
        out.push(Record {
            ts_us: u64::from(sec) * 1_000_000 + u64::from(usec),
            frame: &file[start..end],
        });
        pos = end;
    }
    out
}

fn csum(data: &[u8], mut acc: u32) -> u16 {
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

#[derive(Debug, Clone)]
struct Ipv4Packet<'a> {
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    vlan: Option<u16>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    l4: &'a [u8],
}

/// Decodes Ethernet (+802.1Q) / IPv4, verifying the IPv4 header checksum and the TCP/UDP
/// checksums. Non-IPv4 frames give `None`.
fn ipv4(frame: &[u8]) -> Option<Ipv4Packet<'_>> {
    let mut off = 12;
    let mut ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let mut vlan = None;
    if ethertype == 0x8100 {
        vlan = Some(u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff);
        off = 16;
        ethertype = u16::from_be_bytes([frame[16], frame[17]]);
    }
    if ethertype != 0x0800 {
        return None;
    }
    let ip = &frame[off + 2..];
    assert_eq!(ip[0], 0x45, "IPv4 without options expected");
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    assert!(total <= ip.len(), "IPv4 total length beyond the frame");
    assert_eq!(csum(&ip[..20], 0), 0, "IPv4 header checksum");
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let l4 = &ip[20..total];
    let pseudo = {
        let mut p = Vec::with_capacity(12);
        p.extend_from_slice(&ip[12..20]);
        p.extend_from_slice(&[0, ip[9]]);
        p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        let mut acc = 0u32;
        for c in p.chunks(2) {
            acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        acc
    };
    if ip[9] == 6 || ip[9] == 17 {
        assert_eq!(
            csum(l4, pseudo),
            0,
            "L4 checksum of {src} -> {dst} proto {}",
            ip[9]
        );
    }
    let mut src_mac = [0; 6];
    let mut dst_mac = [0; 6];
    dst_mac.copy_from_slice(&frame[0..6]);
    src_mac.copy_from_slice(&frame[6..12]);
    Some(Ipv4Packet {
        src_mac,
        dst_mac,
        vlan,
        src,
        dst,
        proto: ip[9],
        l4,
    })
}

struct Tcp<'a> {
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &'a [u8],
}

fn tcp<'a>(l4: &'a [u8]) -> Tcp<'a> {
    let hl = usize::from(l4[12] >> 4) * 4;
    Tcp {
        sport: u16::from_be_bytes([l4[0], l4[1]]),
        dport: u16::from_be_bytes([l4[2], l4[3]]),
        seq: u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]),
        flags: l4[13],
        payload: &l4[hl..],
    }
}

type Dir = (Ipv4Addr, u16, Ipv4Addr, u16);

/// Reassembles every TCP direction by sequence number, tolerating duplicates and
/// overlaps (which must carry identical bytes) and panicking on any gap. `strict` also
/// requires segments to arrive exactly in order with no repeats.
fn reassemble(recs: &[Record<'_>], strict: bool) -> BTreeMap<Dir, Vec<u8>> {
    let mut isn: BTreeMap<Dir, u32> = BTreeMap::new();
    let mut segs: BTreeMap<Dir, Vec<(u32, Vec<u8>)>> = BTreeMap::new();
    for r in recs {
        let Some(p) = ipv4(r.frame) else { continue };
        if p.proto != 6 {
            continue;
        }
        let t = tcp(p.l4);
        let d = (p.src, t.sport, p.dst, t.dport);
        if t.flags & 0x02 != 0 {
            isn.insert(d, t.seq.wrapping_add(1));
            continue;
        }
        if !t.payload.is_empty() {
            segs.entry(d).or_default().push((t.seq, t.payload.to_vec()));
        }
    }
    let mut out = BTreeMap::new();
    for (d, mut list) in segs {
        let base = *isn
            .get(&d)
            .unwrap_or_else(|| panic!("data without SYN on {d:?}"));
        let mut stream: Vec<u8> = Vec::new();
        if strict {
            for (seq, data) in &list {
                let off = seq.wrapping_sub(base) as usize;
                assert_eq!(off, stream.len(), "sequence discontinuity on {d:?}");
                stream.extend_from_slice(data);
            }
        } else {
            list.sort_by_key(|(seq, _)| seq.wrapping_sub(base));
            for (seq, data) in &list {
                let off = seq.wrapping_sub(base) as usize;
                assert!(
                    off <= stream.len(),
                    "gap in {d:?} at relative seq {}",
                    stream.len()
                );
                let overlap = (stream.len() - off).min(data.len());
                assert_eq!(
                    &stream[off..off + overlap],
                    &data[..overlap],
                    "overlap with different bytes on {d:?}"
                );
                stream.extend_from_slice(&data[overlap..]);
            }
        }
        out.insert(d, stream);
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Splits an MLLP stream into messages; panics if a block is incomplete.
fn mllp_messages(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < stream.len() {
        assert_eq!(stream[pos], 0x0b, "MLLP start block expected at {pos}");
        let end = stream[pos..]
            .windows(2)
            .position(|w| w == [0x1c, 0x0d])
            .unwrap_or_else(|| panic!("MLLP block at {pos} never ends"));
        out.push(&stream[pos + 1..pos + end]);
        pos += end + 2;
    }
    out
}

/// Walks DICOM PDUs; returns (PDU types, total P-DATA bytes). Panics on a broken stream.
fn dicom_pdus(stream: &[u8]) -> (Vec<u8>, usize) {
    let mut types = Vec::new();
    let mut pdata = 0;
    let mut pos = 0;
    while pos < stream.len() {
        assert!(pos + 6 <= stream.len(), "truncated PDU header at {pos}");
        let t = stream[pos];
        assert!((1..=7).contains(&t), "PDU type {t} at {pos}");
        let len = u32::from_be_bytes([
            stream[pos + 2],
            stream[pos + 3],
            stream[pos + 4],
            stream[pos + 5],
        ]) as usize;
        assert!(
            pos + 6 + len <= stream.len(),
            "PDU at {pos} runs past the stream"
        );
        if t == 4 {
            pdata += len;
        }
        types.push(t);
        pos += 6 + len;
    }
    (types, pdata)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, sa) = gen(&small(7, 2 << 20, 0.01));
    let (b, sb) = gen(&small(7, 2 << 20, 0.01));
    assert_eq!(a.len(), b.len());
    assert!(a == b, "same seed must give identical bytes");
    assert_eq!(sa, sb);
    let (c, _) = gen(&small(8, 2 << 20, 0.01));
    assert!(a != c, "another seed must give other bytes");
}

#[test]
fn pcap_structure_size_and_summary_are_consistent() {
    let target = 3 << 20;
    let (file, s) = gen(&small(3, target, 0.01));
    let recs = records(&file);
    assert_eq!(recs.len() as u64, s.packets, "summary packet count");
    assert_eq!(file.len() as u64, s.bytes, "summary byte count");
    assert!(
        s.bytes >= target,
        "file {} smaller than target {target}",
        s.bytes
    );
    assert!(
        s.bytes < target + (3 << 20),
        "file {} far above target {target}",
        s.bytes
    );
    let mut last = 0;
    for (i, r) in recs.iter().enumerate() {
        assert!(r.ts_us >= last, "timestamp goes back at record {}", i + 1);
        last = r.ts_us;
    }
    let span = recs.last().map(|r| r.ts_us).unwrap_or(0) - recs[0].ts_us;
    assert!(
        span > 10_000_000,
        "traffic should span simulated time, got {span} us"
    );
    assert!(s.flows > 50, "flows {}", s.flows);
}

#[test]
fn size_scales_with_target() {
    let (_, s) = gen(&small(5, 6 << 20, 0.0));
    assert!(s.bytes >= 6 << 20 && s.bytes < 9 << 20, "bytes {}", s.bytes);
}

#[test]
fn every_category_is_present_with_identities() {
    let (_, s) = gen(&small(1, 1 << 20, 0.0));
    let cats: BTreeSet<&str> = s.devices.iter().map(|d| d.category.as_str()).collect();
    for c in [
        "imaging_ct",
        "imaging_mr",
        "imaging_us",
        "imaging_xray",
        "patient_monitor",
        "infusion_pump",
        "ventilator",
        "laboratory_analyzer",
        "point_of_care_analyzer",
        "pacs",
        "interface_engine",
        "laboratory_information_system",
        "ehr_server",
        "infusion_server",
        "it_server",
        "workstation",
        "printer",
        "ip_camera",
        "building_automation",
        "network_switch",
        "network_router",
    ] {
        assert!(cats.contains(c), "category {c} missing from {cats:?}");
    }
    let macs: BTreeSet<_> = s.devices.iter().map(|d| d.mac).collect();
    assert_eq!(macs.len(), s.devices.len(), "MACs must be unique");
    let ips: BTreeSet<_> = s.devices.iter().map(|d| d.ip).collect();
    assert_eq!(ips.len(), s.devices.len(), "IPs must be unique");
    for d in &s.devices {
        if d.category.starts_with("imaging_") || d.category == "pacs" {
            assert!(
                d.ae_title
                    .as_ref()
                    .is_some_and(|a| !a.is_empty() && a.len() <= 16),
                "{} AE title",
                d.name
            );
        }
        assert!(
            !d.vendor.is_empty() && !d.model.is_empty() && !d.software_version.is_empty(),
            "{}",
            d.name
        );
    }
    let big = GenConfig {
        devices: 600,
        target_bytes: 0,
        ..GenConfig::default()
    };
    let (_, sb) = gen(&big);
    assert!(
        sb.devices.len() >= 550 && sb.devices.len() <= 650,
        "scale: {} devices",
        sb.devices.len()
    );
}

#[test]
fn clean_tcp_is_continuous_and_clinical_payloads_are_intact() {
    let (file, s) = gen(&small(11, 4 << 20, 0.0));
    let recs = records(&file);
    let streams = reassemble(&recs, true);
    let mut hl7_msgs = 0;
    let mut acks = 0;
    let mut cstores = 0;
    let mut pdata_total = 0;
    let mut astm_ok = 0;
    let mut poct_ok = 0;
    let (mut rejected_rq, mut rejections) = (0, 0);
    for ((_, sport, _, dport), data) in &streams {
        match (*sport, *dport) {
            (_, 2575) | (_, 6661) => {
                for m in mllp_messages(data) {
                    assert!(
                        m.starts_with(b"MSH|^~\\&|"),
                        "HL7 message must start with MSH"
                    );
                    assert!(find(m, b"|2.5|"), "HL7 version 2.5 in MSH-12");
                    hl7_msgs += 1;
                }
            }
            (2575, _) | (6661, _) => {
                for m in mllp_messages(data) {
                    assert!(find(m, b"\rMSA|AA|"), "ACK with MSA|AA");
                    acks += 1;
                }
            }
            (_, 104) | (_, ward_bench::DICOM_ALT_PORT) => {
                let (types, pdata) = dicom_pdus(data);
                assert_eq!(
                    types.first(),
                    Some(&1),
                    "association starts with A-ASSOCIATE-RQ"
                );
                if types.len() == 1 {
                    rejected_rq += 1;
                    continue;
                }
                assert_eq!(types.last(), Some(&5), "association ends with A-RELEASE-RQ");
                pdata_total += pdata;
                if find(data, b"\x00\x00\x00\x01\x02\x00\x00\x00\x01\x00") {
                    cstores += 1;
                }
            }
            (104, _) | (ward_bench::DICOM_ALT_PORT, _) => {
                let (types, _) = dicom_pdus(data);
                if types == [3] {
                    rejections += 1;
                    continue;
                }
                assert_eq!(types.first(), Some(&2), "SCP answers with A-ASSOCIATE-AC");
                assert_eq!(types.last(), Some(&6), "SCP ends with A-RELEASE-RP");
            }
            (_, p) if p == ward_bench::ASTM_PORT => {
                assert_eq!(data.first(), Some(&0x05), "ASTM session starts with ENQ");
                assert_eq!(data.last(), Some(&0x04), "ASTM session ends with EOT");
                assert!(
                    find(data, b"\x021H|\\^&|"),
                    "first frame carries the H record"
                );
                astm_ok += 1;
            }
            (_, p) if p == ward_bench::POCT1_PORT => {
                assert!(data.starts_with(b"<?xml"), "POCT1-A messages are XML");
                assert!(
                    find(data, b"<HEL.R01>") && find(data, b"</EOT.R01>"),
                    "hello through end of topic"
                );
                poct_ok += 1;
            }
            _ => {}
        }
    }
    assert!(poct_ok >= 1, "POCT1-A sessions: {poct_ok}");
    assert!(rejections >= 1, "A-ASSOCIATE-RJ seen {rejections} times");
    assert_eq!(rejected_rq, rejections, "each rejected RQ has its RJ");
    assert!(hl7_msgs >= 10, "HL7 messages: {hl7_msgs}");
    assert_eq!(hl7_msgs, acks, "every HL7 message is ACKed");
    assert!(cstores >= 3, "C-STORE associations: {cstores}");
    assert!(astm_ok >= 1, "ASTM sessions: {astm_ok}");
    assert!(
        pdata_total as u64 > s.bytes / 2,
        "DICOM P-DATA ({pdata_total}) should dominate the {} bytes",
        s.bytes
    );
}

#[test]
fn impairments_change_the_wire_but_not_the_reassembled_clinical_payload() {
    let (clean, _) = gen(&small(21, 3 << 20, 0.0));
    let (dirty, _) = gen(&small(21, 3 << 20, 0.05));
    let clean_recs = records(&clean);
    let dirty_recs = records(&dirty);
    // The impaired capture really has segments going backwards or repeated.
    let mut last_seq: BTreeMap<Dir, u32> = BTreeMap::new();
    let mut backwards = 0;
    for r in &dirty_recs {
        let Some(p) = ipv4(r.frame) else { continue };
        if p.proto != 6 {
            continue;
        }
        let t = tcp(p.l4);
        if t.payload.is_empty() {
            continue;
        }
        let d = (p.src, t.sport, p.dst, t.dport);
        if let Some(prev) = last_seq.get(&d) {
            if (t.seq.wrapping_sub(*prev) as i32) <= 0 {
                backwards += 1;
            }
        }
        last_seq.insert(d, t.seq);
    }
    assert!(
        backwards > 10,
        "impaired capture shows only {backwards} backward segments"
    );
    let a = reassemble(&clean_recs, true);
    let b = reassemble(&dirty_recs, false);
    let mut compared = 0;
    for (d, data) in &a {
        let clinical = [
            104u16,
            ward_bench::DICOM_ALT_PORT,
            2575,
            6661,
            ward_bench::ASTM_PORT,
        ]
        .iter()
        .any(|p| d.1 == *p || d.3 == *p);
        if !clinical {
            continue;
        }
        if let Some(other) = b.get(d) {
            assert!(
                data == other,
                "stream {d:?} differs after reassembly of the impaired capture"
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "only {compared} clinical streams in common");
}

#[test]
fn routed_traffic_uses_the_router_mac_and_hosts_their_own() {
    let cfg = small(4, 2 << 20, 0.0);
    let (file, s) = gen(&cfg);
    let hospital = ward_bench::Hospital::build(cfg.seed, cfg.devices);
    let router = hospital.router_mac().0;
    let by_ip: BTreeMap<IpAddr, &ward_bench::GeneratedDevice> =
        s.devices.iter().map(|d| (d.ip, d)).collect();
    let mut routed = 0;
    let mut own = 0;
    for r in records(&file) {
        let Some(p) = ipv4(r.frame) else { continue };
        if let Some(d) = by_ip.get(&IpAddr::V4(p.src)) {
            if p.vlan == Some(d.vlan) {
                assert_eq!(
                    p.src_mac, d.mac.0,
                    "frame from {} on its own VLAN has its MAC",
                    d.name
                );
                own += 1;
            }
        }
        let (a, b) = (p.src.octets(), p.dst.octets());
        if a[0] == 10 && b[0] == 10 && a[1] != b[1] {
            assert!(
                p.src_mac == router || p.dst_mac == router,
                "inter-VLAN {} -> {} not via router",
                p.src,
                p.dst
            );
            routed += 1;
        }
        if !p.dst.is_private() && !p.dst.is_broadcast() && !p.dst.is_multicast() {
            assert_eq!(
                p.dst_mac, router,
                "internet-bound traffic goes to the gateway"
            );
        }
    }
    assert!(routed > 1000 && own > 1000, "routed {routed}, own {own}");
}

#[test]
fn outpatient_devices_are_seen_only_by_ip_and_the_router_answers_arp_for_every_gateway() {
    let cfg = small(6, 3 << 20, 0.0);
    let (file, s) = gen(&cfg);
    let router = ward_bench::Hospital::build(cfg.seed, cfg.devices)
        .router_mac()
        .0;
    let remote: Vec<_> = s
        .devices
        .iter()
        .filter(|d| d.site == ward_bench::SITE_OUTPATIENT)
        .collect();
    assert!(remote.len() >= 3, "outpatient devices: {}", remote.len());
    let mut seen_ip = BTreeSet::new();
    let mut gateways = BTreeSet::new();
    for r in records(&file) {
        let f = r.frame;
        for d in &remote {
            assert!(
                f[0..6] != d.mac.0 && f[6..12] != d.mac.0,
                "outpatient MAC of {} must never appear on the main campus",
                d.name
            );
        }
        if let Some(p) = ipv4(f) {
            if remote.iter().any(|d| d.ip == IpAddr::V4(p.src)) {
                assert_eq!(
                    p.src_mac, router,
                    "outpatient traffic arrives from the router"
                );
                seen_ip.insert(p.src);
            }
        } else if f[12..14] == [0x81, 0x00] && f[16..18] == [0x08, 0x06] && f[25] == 2 {
            // ARP reply: sender hardware address and sender protocol address.
            if f[26..32] == router {
                gateways.insert(Ipv4Addr::new(f[32], f[33], f[34], f[35]));
            }
        }
    }
    assert_eq!(
        seen_ip.len(),
        remote.len(),
        "every outpatient device talks to the main campus"
    );
    assert!(
        gateways.len() >= 7,
        "router answers ARP for {} gateways",
        gateways.len()
    );
}

#[test]
fn canary_patient_is_in_the_raw_capture() {
    let (file, _) = gen(&small(2, 2 << 20, 0.0));
    let name = CANARY_PATIENT_NAME.as_bytes();
    let id = CANARY_PATIENT_ID.as_bytes();
    let count = |n: &[u8]| file.windows(n.len()).filter(|w| *w == n).count();
    // DICOM (0010,0010)/(0010,0020), HL7 PID and ASTM P records all carry it.
    assert!(count(name) >= 10, "canary name found {} times", count(name));
    assert!(count(id) >= 10, "canary id found {} times", count(id));
    assert!(
        find(&file, b"PID|1||CANARY-123456^^^RGH^MR||CANARY^PHI^TEST"),
        "HL7 PID"
    );
    assert!(
        find(&file, b"\x10\x00\x10\x00PN\x10\x00CANARY^PHI^TEST "),
        "DICOM (0010,0010) PN element"
    );
}

#[test]
fn every_protocol_appears_even_in_small_captures() {
    for seed in [9, 10, 11] {
        every_protocol_appears(seed);
    }
}

fn every_protocol_appears(seed: u64) {
    let (file, _) = gen(&small(seed, 3 << 19, 0.0));
    let recs = records(&file);
    let mut tcp_ports = BTreeSet::new();
    let mut udp_ports = BTreeSet::new();
    let mut ethertypes = BTreeSet::new();
    for r in &recs {
        let f = r.frame;
        ethertypes.insert(u16::from_be_bytes([f[12], f[13]]));
        if let Some(p) = ipv4(f) {
            let (s, d) = (
                u16::from_be_bytes([p.l4[0], p.l4[1]]),
                u16::from_be_bytes([p.l4[2], p.l4[3]]),
            );
            if p.proto == 6 {
                tcp_ports.insert(d);
            } else if p.proto == 17 {
                udp_ports.insert(s.min(d));
            }
        }
    }
    for p in [
        104,
        ward_bench::DICOM_ALT_PORT,
        ward_bench::POCT1_PORT,
        2575,
        6661,
        ward_bench::ASTM_PORT,
        443,
        80,
        445,
        23,
        21,
        6464,
    ] {
        assert!(tcp_ports.contains(&p), "seed {seed}: no TCP to port {p}");
    }
    for p in [53, 67, 137, 161, 1900, 3702, 5353] {
        assert!(udp_ports.contains(&p), "seed {seed}: no UDP on port {p}");
    }
    assert!(ethertypes.contains(&0x88cc), "LLDP");
    assert!(
        find(&file, &[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00]),
        "CDP SNAP header"
    );
    assert!(find(&file, b"NOTIFY * HTTP/1.1\r\n"), "SSDP NOTIFY");
    assert!(find(&file, b"Server: GoAhead-Webs\r\n"), "pump web server");
    assert!(find(&file, &[0xfe, b'S', b'M', b'B']), "SMB2");
    assert!(
        find(&file, b"<DEV.model_id V=\"Accu-Chek Inform II\"/>"),
        "POCT1-A hello"
    );
    assert!(
        find(&file, b"Windows 2000 LAN Manager\0"),
        "SMB1 session setup from the legacy device"
    );
    assert!(
        find(
            &file,
            b"<dpws:Manufacturer>Draegerwerk AG &amp; Co. KGaA</dpws:Manufacturer>"
        ),
        "SDC metadata"
    );
    assert!(
        find(
            &file,
            b"<wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types>"
        ),
        "SDC Hello"
    );
    assert!(find(&file, b"USER service\r\n"), "FTP login");
    assert!(find(&file, b"\x04\x06public"), "SNMP community public");
    assert!(find(&file, b"MSFT 5.0"), "DHCP vendor class of Windows");
    assert!(
        find(&file, b"telemetry.alaris-cloud.example"),
        "pump cloud SNI / DNS"
    );
    assert!(find(&file, &[52, 202, 41, 17]), "internet-bound flow");
}

#[test]
fn split_halves_share_every_flow_except_the_injected_one() {
    let dir = std::env::temp_dir().join(format!("ward-bench-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (a, b) = (dir.join("first.pcap"), dir.join("second.pcap"));
    let cfg = small(13, 4 << 20, 0.0);
    let (s1, s2, inj) = generate_split(&cfg, &a, &b).expect("split generation");
    let fa = std::fs::read(&a).expect("first half");
    let fb = std::fs::read(&b).expect("second half");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(fa.len() as u64, s1.bytes);
    assert_eq!(fb.len() as u64, s2.bytes);
    let (ra, rb) = (records(&fa), records(&fb));
    assert_eq!(ra.len() as u64, s1.packets);
    assert_eq!(rb.len() as u64, s2.packets);
    let last_first = ra.last().map(|r| r.ts_us).unwrap_or(0);
    assert!(
        rb.iter().all(|r| r.ts_us >= last_first),
        "second half starts after the first ends"
    );
    assert!(
        s2.bytes * 2 > s1.bytes,
        "halves of comparable size: {} vs {}",
        s1.bytes,
        s2.bytes
    );
    // (client, server, server port, proto): TCP from SYNs, UDP from the lower port.
    let tuples = |recs: &[Record<'_>]| {
        let mut set = BTreeSet::new();
        for r in recs {
            let Some(p) = ipv4(r.frame) else { continue };
            let (s, d) = (
                u16::from_be_bytes([p.l4[0], p.l4[1]]),
                u16::from_be_bytes([p.l4[2], p.l4[3]]),
            );
            if p.proto == 6 && p.l4[13] & 0x12 == 0x02 {
                set.insert((p.src, p.dst, d, 6));
            } else if p.proto == 17 {
                set.insert((p.src, p.dst, s.min(d), 17));
            }
        }
        set
    };
    let (ta, tb) = (tuples(&ra), tuples(&rb));
    let (IpAddr::V4(c), IpAddr::V4(sv)) = (inj.client_ip, inj.server_ip) else {
        panic!("IPv4 hospital expected");
    };
    let injected = (c, sv, inj.port, 6);
    assert!(
        !ta.contains(&injected),
        "injected flow must not be in the first half"
    );
    assert!(
        tb.contains(&injected),
        "injected flow must be in the second half"
    );
    let new: Vec<_> = tb.difference(&ta).collect();
    assert_eq!(
        new,
        vec![&injected],
        "the only new flow of the second half is the injected one"
    );
    assert_eq!(s1.devices, s2.devices);
}
