//! Crafted inputs: link types, VLANs, fragments, gzip, multi-file ordering, errors and
//! warnings, flow-table limits.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use ward_capture::decode::{decode, Decoded};
use ward_capture::source::linktype;
use ward_capture::{
    analyze_files, expand_inputs, CaptureConfig, CaptureError, CaptureStats, Direction, Engine,
    FlowEnd, L2Kind, PacketCtx,
};
use ward_model::{Timestamp, Transport};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("pcaps/dev").is_dir(),
        "the shared test corpus is required at {}",
        p.display()
    );
    p
}

fn run(files: &[PathBuf], workers: usize) -> (Vec<Recorder>, CaptureStats) {
    analyze_files(
        files,
        &CaptureConfig::default(),
        workers,
        |_| Recorder::default(),
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("analysis failed: {e}"))
}

fn ctx(n: u64, ts_us: u64) -> PacketCtx {
    PacketCtx {
        file: 0,
        packet: n,
        ts: Timestamp(ts_us),
    }
}

fn with_eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

#[test]
fn vlan_and_qinq_report_outer_id() {
    use etherparse::{PacketBuilder, VlanId};
    let vid = |v| VlanId::try_new(v).expect("vlan id");
    let mut single = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .single_vlan(vid(100))
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(40000, 53)
        .write(&mut single, b"single")
        .expect("build");
    let mut double = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .double_vlan(vid(200), vid(300))
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(40000, 53)
        .write(&mut double, b"double")
        .expect("build");
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Recorder::default());
    e.process(linktype::ETHERNET, &single, ctx(1, 1));
    e.process(linktype::ETHERNET, &double, ctx(2, 2));
    e.finish();
    let dg = e.sink.datagrams();
    assert_eq!(dg.len(), 2);
    assert_eq!((dg[0].0.vlan, dg[0].1), (Some(100), &b"single"[..]));
    assert_eq!(
        (dg[1].0.vlan, dg[1].1),
        (Some(200), &b"double"[..]),
        "QinQ reports the outer VLAN"
    );
    assert_ne!(
        dg[0].0.id, dg[1].0.id,
        "different VLANs are different flows"
    );
    assert_eq!(dg[0].0.server_port, 53);
    assert_eq!(dg[0].0.client.mac.map(|m| m.0), Some(MAC_A));
}

#[test]
fn l2_frames_lldp_cdp_and_arp() {
    let lldp = with_eth(0x88cc, &[0x02, 0x07, 0x04, 1, 2, 3, 4, 5, 6]);
    // 802.3 length + LLC/SNAP with the Cisco OUI and CDP's PID.
    let mut body = vec![0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];
    body.extend_from_slice(b"cdp-body");
    let cdp = with_eth(body.len() as u16, &body);
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 2];
    arp.extend_from_slice(&MAC_A);
    arp.extend_from_slice(&[192, 168, 1, 10]);
    arp.extend_from_slice(&MAC_B);
    arp.extend_from_slice(&[192, 168, 1, 1]);
    let arp = with_eth(0x0806, &arp);
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Recorder::default());
    for (i, f) in [lldp, cdp, arp].iter().enumerate() {
        e.process(linktype::ETHERNET, f, ctx(i as u64 + 1, 1));
    }
    let ev = &e.sink.events;
    assert!(matches!(&ev[0], Ev::L2(None, L2Kind::EtherType(0x88cc), p) if p[0] == 2));
    assert!(
        matches!(&ev[1], Ev::L2(None, L2Kind::Snap { oui: [0, 0, 0x0c], pid: 0x2000 }, p) if p == b"cdp-body")
    );
    match &ev[2] {
        Ev::Arp(a) => {
            assert_eq!(a.operation, 2);
            assert_eq!(a.sender_mac.0, MAC_A);
            assert_eq!(a.sender_ip, std::net::Ipv4Addr::new(192, 168, 1, 10));
            assert_eq!(a.target_ip, std::net::Ipv4Addr::new(192, 168, 1, 1));
        }
        other => panic!("expected ARP, got {other:?}"),
    }
}

#[test]
fn cooked_raw_and_loopback_link_types() {
    let ip = ip_udp([10, 1, 1, 1], [10, 1, 1, 2], 5353, 5353, b"payload");
    let mut sll = vec![0, 0, 0, 1, 0, 6];
    sll.extend_from_slice(&MAC_A);
    sll.extend_from_slice(&[0, 0, 0x08, 0x00]);
    sll.extend_from_slice(&ip);
    let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6];
    sll2.extend_from_slice(&MAC_A);
    sll2.extend_from_slice(&[0, 0]);
    sll2.extend_from_slice(&ip);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (linktype::LINUX_SLL, sll, true),
        (linktype::LINUX_SLL2, sll2, true),
        (linktype::RAW, ip.clone(), false),
        (linktype::IPV4, ip.clone(), false),
        (linktype::RAW_12, ip.clone(), false),
        (linktype::NULL, null, false),
    ];
    for (lt, frame, has_mac) in cases {
        let p = write(
            dir.path(),
            &format!("lt{lt}.pcap"),
            &pcap_file(lt, &[(1_000_000, frame)]),
        );
        let (sinks, stats) = run(&[p], 1);
        assert_eq!(stats.decode_errors, 0, "linktype {lt}: no decode error");
        let dg = sinks[0].datagrams();
        assert_eq!(dg.len(), 1, "linktype {lt}: one datagram");
        assert_eq!(dg[0].1, b"payload", "linktype {lt}: payload");
        assert_eq!(
            dg[0].0.client.ip,
            Some("10.1.1.1".parse().expect("ip")),
            "linktype {lt}"
        );
        assert_eq!(
            dg[0].0.client.mac.is_some(),
            has_mac,
            "linktype {lt}: source MAC"
        );
    }
}

fn ipv4_fragment(id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
    let total = 20 + data.len();
    let ff = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
    let mut h = vec![0x45, 0, (total >> 8) as u8, total as u8];
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&ff.to_be_bytes());
    h.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    h.extend_from_slice(data);
    with_eth(0x0800, &h)
}

#[test]
fn ipv4_fragments_reassemble_out_of_order_with_duplicates() {
    let payload: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    let udp = ip_udp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 514, &payload)[20..].to_vec();
    let chunks: Vec<(usize, &[u8])> = udp
        .chunks(1480)
        .enumerate()
        .map(|(i, c)| (i * 1480, c))
        .collect();
    let n = chunks.len();
    assert_eq!(n, 3);
    let frag = |i: usize| ipv4_fragment(0x4242, chunks[i].0, i + 1 < n, chunks[i].1);
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Recorder::default());
    for (k, i) in [2usize, 0, 0, 1].iter().enumerate() {
        e.process(linktype::ETHERNET, &frag(*i), ctx(k as u64 + 1, 10));
    }
    let dg = e.sink.datagrams();
    assert_eq!(dg.len(), 1, "one reassembled datagram");
    assert_eq!(
        dg[0].1,
        payload.as_slice(),
        "reassembled payload equals the original"
    );
    assert_eq!(dg[0].0.server_port, 514);
    assert_eq!(dg[0].2.packet, 4, "evidence is the completing fragment");
}

#[test]
fn ipv4_fragment_memory_is_bounded() {
    let cfg = CaptureConfig {
        max_fragment_memory: 10_000,
        ..CaptureConfig::default()
    };
    let mut e = Engine::new(&cfg, 0, 1, Recorder::default());
    // 100 datagrams whose last fragment never comes.
    for id in 0..100u16 {
        e.process(
            linktype::ETHERNET,
            &ipv4_fragment(id, 0, true, &[0u8; 1000]),
            ctx(id as u64, 1),
        );
    }
    e.finish();
    assert!(
        e.stats.fragments_dropped >= 90,
        "dropped {}",
        e.stats.fragments_dropped
    );
    assert!(e.sink.datagrams().is_empty());
}

#[test]
fn ipv6_fragments_reassemble() {
    let payload: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
    let src: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let dst: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let mut full = Vec::new();
    etherparse::PacketBuilder::ipv6(src, dst, 64)
        .udp(5000, 5353)
        .write(&mut full, &payload)
        .expect("build");
    let udp = &full[40..];
    let parts: Vec<&[u8]> = udp.chunks(1232).collect();
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Recorder::default());
    for (i, part) in parts.iter().enumerate().rev() {
        let off = (i * 1232) as u16;
        let more = u16::from(i + 1 < parts.len());
        let mut pkt = vec![0x60, 0, 0, 0];
        pkt.extend_from_slice(&((8 + part.len()) as u16).to_be_bytes());
        pkt.extend_from_slice(&[44, 64]);
        pkt.extend_from_slice(&src);
        pkt.extend_from_slice(&dst);
        pkt.extend_from_slice(&[17, 0]);
        pkt.extend_from_slice(&(off | more).to_be_bytes());
        pkt.extend_from_slice(&0xdeadbeefu32.to_be_bytes());
        pkt.extend_from_slice(part);
        e.process(
            linktype::ETHERNET,
            &with_eth(0x86dd, &pkt),
            ctx(i as u64 + 1, 5),
        );
    }
    let dg = e.sink.datagrams();
    assert_eq!(dg.len(), 1, "one reassembled IPv6 datagram");
    assert_eq!(dg[0].1, payload.as_slice());
    assert_eq!(dg[0].0.transport, Transport::Udp);
}

#[test]
fn gzip_capture_equals_plain() {
    let src = corpus().join("pcaps/dev/ndpi__android.pcap");
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("android.pcap.gz");
    let data = std::fs::read(&src).expect("read corpus file");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &data).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write gz");
    let (plain_sinks, plain) = run(std::slice::from_ref(&src), 1);
    let (gz_sinks, zipped) = run(std::slice::from_ref(&gz), 1);
    assert_eq!(
        zipped.packets,
        500,
        "{}: packets (manifest says 500)",
        gz.display()
    );
    assert_eq!(plain.packets, zipped.packets);
    assert_eq!(plain.flows, zipped.flows);
    assert_eq!(
        plain_sinks[0].events, gz_sinks[0].events,
        "same events from gzip and plain"
    );
    assert_eq!(
        zipped.files[0].bytes,
        data.len() as u64,
        "decompressed bytes counted"
    );
    // A directory holding the gz is expanded to it.
    assert_eq!(
        expand_inputs(&[dir.path().to_path_buf()]).expect("expand"),
        vec![gz]
    );
}

#[test]
fn files_are_merged_in_timestamp_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mk = |port: u16, times: &[u64]| -> Vec<u8> {
        let pkts: Vec<(u64, Vec<u8>)> = times
            .iter()
            .map(|t| (*t, eth_udp([10, 0, 0, 1], [10, 0, 0, 2], port, 53, b"q")))
            .collect();
        pcap_file(linktype::ETHERNET, &pkts)
    };
    let a = write(
        dir.path(),
        "a.pcap",
        &mk(1111, &[1_000_000, 3_000_000, 5_000_000]),
    );
    let b = write(
        dir.path(),
        "b.pcap",
        &mk(2222, &[2_000_000, 4_000_000, 6_000_000]),
    );
    for workers in [1, 2] {
        // Given in the "wrong" order on purpose.
        let (sinks, stats) = run(&[b.clone(), a.clone()], workers);
        assert_eq!(stats.packets, 6);
        let mut seen: Vec<(Timestamp, u32, u64)> = sinks
            .iter()
            .flat_map(|s| {
                s.datagrams()
                    .into_iter()
                    .map(|(_, _, c)| (c.ts, c.file, c.packet))
            })
            .collect();
        if workers == 1 {
            let ts: Vec<u64> = seen.iter().map(|s| s.0 .0 / 1_000_000).collect();
            assert_eq!(
                ts,
                vec![1, 2, 3, 4, 5, 6],
                "one worker sees packets in time order"
            );
        }
        seen.sort();
        let files: Vec<u32> = seen.iter().map(|s| s.1).collect();
        assert_eq!(
            files,
            vec![1, 0, 1, 0, 1, 0],
            "file index refers to the input list"
        );
        assert_eq!(seen[0].2, 1, "packet numbers are per file");
        assert_eq!(stats.files[0].path, b);
    }
}

#[test]
fn pcapng_interfaces_with_own_link_type_and_resolution() {
    let eth = eth_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"eth");
    let raw = ip_udp([10, 0, 0, 3], [10, 0, 0, 4], 1000, 53, b"raw");
    let ng = pcapng_file(
        &[(1, 6), (101, 9)],
        &[(0, 1_500_000, eth), (1, 2_250_000_000, raw)],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "multi.pcapng", &ng);
    let (sinks, stats) = run(&[p], 1);
    assert_eq!(stats.packets, 2);
    let dg = sinks[0].datagrams();
    assert_eq!(dg.len(), 2);
    assert_eq!(
        (dg[0].1, dg[0].2.ts),
        (&b"eth"[..], Timestamp(1_500_000)),
        "microsecond interface"
    );
    assert_eq!(
        (dg[1].1, dg[1].2.ts),
        (&b"raw"[..], Timestamp(2_250_000)),
        "nanosecond interface"
    );
}

#[test]
fn non_capture_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "notes.txt",
        b"this is not a capture file at all",
    );
    let err = analyze_files(
        std::slice::from_ref(&p),
        &CaptureConfig::default(),
        1,
        |_| Recorder::default(),
        &|_| {},
    )
    .err()
    .expect("a text file must be rejected");
    assert!(matches!(err, CaptureError::NotCapture { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("notes.txt") && msg.contains("not a pcap"),
        "message: {msg}"
    );
    let missing = dir.path().join("missing.pcap");
    let err = expand_inputs(&[missing]).expect_err("missing path");
    assert!(err.to_string().contains("missing.pcap"), "message: {err}");
    let empty = analyze_files(
        &[write(dir.path(), "empty.pcap", b"")],
        &CaptureConfig::default(),
        1,
        |_| Recorder::default(),
        &|_| {},
    );
    assert!(empty
        .err()
        .is_some_and(|e| e.to_string().contains("empty.pcap")));
}

#[test]
fn truncated_capture_warns_with_offset() {
    let src = corpus().join("pcaps/dev/ndpi__modbus.pcap");
    let data = std::fs::read(&src).expect("read corpus file");
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "cut.pcap", &data[..data.len() - 10]);
    let (_, stats) = run(&[p], 1);
    assert_eq!(
        stats.packets, 101,
        "all 102 packets but the cut one are processed"
    );
    let w = &stats.files[0].warnings;
    assert_eq!(w.len(), 1, "one warning: {w:?}");
    assert!(
        w[0].contains("cut.pcap") && w[0].contains("byte offset"),
        "warning: {}",
        w[0]
    );
    // A corrupt length does not loop or allocate: the file ends there with a warning.
    let mut bad = data.clone();
    bad[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = write(dir.path(), "badlen.pcap", &bad);
    let (_, stats) = run(&[p], 1);
    assert_eq!(stats.packets, 0);
    assert!(
        stats.files[0].warnings[0].contains("byte offset 24"),
        "{:?}",
        stats.files[0].warnings
    );
}

#[test]
fn tcp_handshake_roles_and_ordered_stream() {
    let c = [10, 0, 0, 1];
    let s = [10, 0, 0, 2];
    let frames = vec![
        eth_tcp(c, s, 50000, 11112, 100, SYN, b""),
        eth_tcp(s, c, 11112, 50000, 900, SYN | ACK, b""),
        eth_tcp(c, s, 50000, 11112, 101, ACK, b""),
        eth_tcp(c, s, 50000, 11112, 106, ACK, b"world"), // out of order
        eth_tcp(c, s, 50000, 11112, 101, ACK, b"hello"),
        eth_tcp(c, s, 50000, 11112, 101, ACK, b"HELLO"), // retransmission, other bytes
        eth_tcp(s, c, 11112, 50000, 901, ACK, b"ok"),
        eth_tcp(c, s, 50000, 11112, 111, FIN | ACK, b""),
        eth_tcp(s, c, 11112, 50000, 903, FIN | ACK, b""),
        eth_tcp(c, s, 50000, 11112, 112, ACK, b""),
    ];
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Recorder::default());
    for (i, f) in frames.iter().enumerate() {
        e.process(linktype::ETHERNET, f, ctx(i as u64 + 1, 1_000 + i as u64));
    }
    e.finish();
    let recs = e.sink.records();
    assert_eq!(recs.len(), 1);
    let r = recs[0];
    assert!(!r.meta.midstream);
    assert_eq!((r.meta.client_port, r.meta.server_port), (50000, 11112));
    assert_eq!(r.end, FlowEnd::Closed);
    assert_eq!((r.packets_to_server, r.packets_to_client), (7, 3));
    assert_eq!(
        e.sink.stream(r.meta.id, Direction::ToServer),
        (b"helloworld".to_vec(), 0)
    );
    assert_eq!(
        e.sink.stream(r.meta.id, Direction::ToClient),
        (b"ok".to_vec(), 0)
    );
}

#[test]
fn midstream_pickup_uses_port_heuristic() {
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Recorder::default());
    // The server speaks first in the capture: data from port 104 to an ephemeral port.
    e.process(
        linktype::ETHERNET,
        &eth_tcp([10, 0, 0, 5], [10, 0, 0, 6], 104, 40001, 5, ACK, b"pdu"),
        ctx(1, 1),
    );
    e.finish();
    let r = e.sink.records()[0].clone();
    assert!(r.meta.midstream);
    assert_eq!(r.meta.server_port, 104);
    assert_eq!(r.end, FlowEnd::EndOfInput);
    assert_eq!(e.sink.stream(r.meta.id, Direction::ToClient).0, b"pdu");
}

#[test]
fn flow_table_evicts_and_times_out() {
    let cfg = CaptureConfig {
        max_flows: 16,
        ..CaptureConfig::default()
    };
    let mut e = Engine::new(&cfg, 0, 1, Recorder::default());
    for i in 0..100u16 {
        let f = eth_udp(
            [10, 0, 0, 1],
            [10, 0, 1, (i % 250) as u8],
            30000 + i,
            53,
            b"x",
        );
        e.process(linktype::ETHERNET, &f, ctx(i as u64, 1_000_000 + i as u64));
        assert!(e.flow_count() <= 16, "table holds {} flows", e.flow_count());
    }
    assert!(
        e.stats.evicted_flows >= 84,
        "evicted {}",
        e.stats.evicted_flows
    );
    // 61 s later (packet time) every remaining UDP flow has timed out.
    let late = eth_udp([10, 9, 9, 9], [10, 9, 9, 8], 999, 53, b"y");
    e.process(linktype::ETHERNET, &late, ctx(200, 63_000_000));
    e.process(linktype::ETHERNET, &late, ctx(201, 64_500_000));
    assert!(
        e.stats.timed_out_flows >= 1,
        "timed out {}",
        e.stats.timed_out_flows
    );
    e.finish();
    let recs = e.sink.records();
    assert_eq!(recs.len(), 101, "every flow ends exactly once");
    let mut ids: Vec<u64> = recs.iter().map(|r| r.meta.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 101, "flow ids are unique");
    assert!(recs.iter().any(|r| r.end == FlowEnd::Evicted));
    assert!(recs.iter().any(|r| r.end == FlowEnd::IdleTimeout));
    assert_eq!(recs.last().map(|r| r.end), Some(FlowEnd::EndOfInput));
}

#[test]
fn global_reassembly_memory_cap_holds() {
    let cfg = CaptureConfig {
        max_reassembly_memory: 20_000,
        max_stream_buffer: 8_000,
        ..CaptureConfig::default()
    };
    let mut e = Engine::new(&cfg, 0, 1, Recorder::default());
    let chunk = vec![b'z'; 1000];
    let mut n = 0;
    for flow in 0..50u16 {
        let c = [10, 0, 0, 1];
        let s = [10, 0, 2, (flow % 250) as u8];
        e.process(
            linktype::ETHERNET,
            &eth_tcp(c, s, 40000 + flow, 80, 0, SYN, b""),
            ctx(n, 1),
        );
        n += 1;
        // Out-of-order segments only: the first 1000 bytes never arrive.
        for k in 1..6u32 {
            let f = eth_tcp(c, s, 40000 + flow, 80, 1 + k * 1000, ACK, &chunk);
            e.process(linktype::ETHERNET, &f, ctx(n, 1));
            n += 1;
            assert!(
                e.reassembly_memory() <= 20_000 + 1000,
                "memory {}",
                e.reassembly_memory()
            );
        }
    }
    assert!(e.stats.memory_pressure_events > 0);
    e.finish();
    let gaps: u64 = e.sink.records().iter().map(|r| r.gap_bytes).sum();
    assert_eq!(
        gaps,
        50 * 1000,
        "each flow lost exactly its first 1000 bytes"
    );
    assert_eq!(e.stats.gap_bytes, gaps);
}

#[test]
fn decoder_never_panics_on_prefixes() {
    let frames = [
        eth_tcp([1, 2, 3, 4], [5, 6, 7, 8], 1, 2, 3, SYN, b"abc"),
        eth_udp([1, 2, 3, 4], [5, 6, 7, 8], 1, 2, b"abc"),
    ];
    for f in &frames {
        for cut in 0..f.len() {
            for lt in [0, 1, 12, 101, 113, 228, 229, 276, 999] {
                let _ = decode(lt, &f[..cut]);
            }
        }
        assert!(matches!(decode(1, f), Ok(Decoded::Ip(..))));
    }
}

/// Files larger than the 32 MiB mapping window are walked across window boundaries
/// with every record intact.
#[test]
fn large_file_crosses_mapping_windows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pkts = Vec::new();
    let mut total = 24usize;
    let mut i = 0u64;
    while total < 70 << 20 {
        let len = 60 + (i as usize * 7919) % 1400;
        let frame: Vec<u8> = (0..len).map(|k| (k as u64 ^ i) as u8).collect();
        total += 16 + len;
        pkts.push((i, frame));
        i += 1;
    }
    let p = write(
        dir.path(),
        "big.pcap",
        &pcap_file(linktype::ETHERNET, &pkts),
    );
    let mut r = ward_capture::CaptureReader::open(&p).expect("open");
    let mut n = 0usize;
    while r.advance() {
        let cur = r.current().expect("current packet");
        assert_eq!(cur.data, pkts[n].1.as_slice(), "packet {} content", n + 1);
        n += 1;
    }
    assert_eq!(n, pkts.len(), "every packet read");
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    assert_eq!(r.offset(), total as u64);
}

#[test]
fn unsupported_link_type_is_counted_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 127 is IEEE 802.11 radiotap, which Ward does not decode.
    let p = write(
        dir.path(),
        "wifi.pcap",
        &pcap_file(127, &[(1, vec![0u8; 40])]),
    );
    let (_, stats) = run(&[p], 1);
    assert_eq!(stats.packets, 1);
    assert_eq!(stats.decode_errors, 1);
    let w = &stats.files[0].warnings;
    assert!(w.len() == 1 && w[0].contains("link type 127"), "{w:?}");
}
