//! Dissector throughput on synthetic DICOM- and HL7-heavy streams, through the engine
//! (probing, per-flow state, fact aggregation), in 1448-byte TCP segments. Ignored by
//! default; run with
//! `cargo test --release -p ward-dissect --test throughput -- --ignored --nocapture`.

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;
use ward_capture::{Direction, FlowEnd, FlowMeta, FlowRecord, FlowSink, PacketCtx};
use ward_dissect::Engine;
use ward_model::{EndpointAddr, Timestamp, Transport};

fn meta(id: u64, port: u16) -> FlowMeta {
    FlowMeta {
        id,
        transport: Transport::Tcp,
        vlan: None,
        client: EndpointAddr {
            mac: None,
            ip: Some("10.0.0.1".parse().unwrap()),
        },
        server: EndpointAddr {
            mac: None,
            ip: Some("10.0.0.2".parse().unwrap()),
        },
        client_port: 40000,
        server_port: port,
        first_ts: Timestamp(0),
        midstream: false,
    }
}

/// C-STORE-RQ command set (implicit VR LE) for CT Image Storage.
fn store_command() -> Vec<u8> {
    let mut c = Vec::new();
    let mut el = |e: u16, v: &[u8]| {
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&e.to_le_bytes());
        c.extend_from_slice(&(v.len() as u32).to_le_bytes());
        c.extend_from_slice(v);
    };
    el(0x0002, b"1.2.840.10008.5.1.4.1.1.2\0");
    el(0x0100, &1u16.to_le_bytes());
    el(0x0110, &1u16.to_le_bytes());
    el(0x0800, &0u16.to_le_bytes());
    el(0x1000, b"1.2.3.4.5.6.7.8.9\0");
    c
}

fn pdata(ctx: u8, mch: u8, data: &[u8]) -> Vec<u8> {
    let mut p = vec![4, 0];
    p.extend_from_slice(&((data.len() + 6) as u32).to_be_bytes());
    p.extend_from_slice(&((data.len() + 2) as u32).to_be_bytes());
    p.push(ctx);
    p.push(mch);
    p.extend_from_slice(data);
    p
}

/// CPU time of this thread in seconds (Linux schedstat), so that a loaded machine does
/// not distort the numbers; falls back to wall time elsewhere.
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

fn measure(name: &str, port: u16, to_server: &[u8], to_client: &[u8], rounds: usize) {
    let pkt = PacketCtx {
        file: 0,
        packet: 1,
        ts: Timestamp(1),
    };
    let start = Instant::now();
    let cpu0 = cpu_secs();
    let mut bytes = 0u64;
    let mut e = Engine::default();
    for r in 0..rounds {
        let m = meta(r as u64, port);
        e.flow_start(&m, &pkt);
        for c in to_server.chunks(1448) {
            e.stream_data(&m, Direction::ToServer, c, &pkt);
        }
        for c in to_client.chunks(1448) {
            e.stream_data(&m, Direction::ToClient, c, &pkt);
        }
        bytes += (to_server.len() + to_client.len()) as u64;
        e.flow_end(&FlowRecord {
            meta: m,
            last_ts: Timestamp(2),
            packets_to_server: 1,
            packets_to_client: 1,
            bytes_to_server: 0,
            bytes_to_client: 0,
            gap_bytes: 0,
            end: FlowEnd::Closed,
        });
    }
    let out = e.finish();
    let wall = start.elapsed().as_secs_f64();
    let secs = match (cpu0, cpu_secs()) {
        (Some(a), Some(b)) => b - a,
        _ => wall,
    };
    assert!(!out.observations.is_empty());
    println!(
        "{name}: {:.1} MB in {secs:.3} s CPU ({wall:.3} s wall) = {:.2} Gbit/s per core",
        bytes as f64 / 1e6,
        bytes as f64 * 8.0 / secs / 1e9
    );
}

#[test]
#[ignore]
fn dicom_and_hl7_throughput() {
    let dir = common::corpus("pynetdicom-pdus/dev");
    let rq = std::fs::read(dir.join("pdu__a_associate_rq_role.bin")).unwrap();
    // DICOM: an association storing 20 objects of 2 MiB in 16 KiB P-DATA PDUs.
    let mut c2s = rq;
    let cmd = store_command();
    let frag = vec![0x5au8; 16 * 1024 - 12];
    for _ in 0..20 {
        c2s.extend(pdata(1, 0x03, &cmd));
        for i in 0..128 {
            c2s.extend(pdata(1, if i == 127 { 0x02 } else { 0x00 }, &frag));
        }
    }
    measure("DICOM C-STORE", 104, &c2s, &[], 20);
    // HL7: 2000 ORU^R01 messages of about 700 bytes over MLLP, ACKed.
    let mut msg = b"\x0bMSH|^~\\&|MONITOR|ICU|ENGINE|HOSP|20240101120000||ORU^R01^ORU_R01|123456|P|2.6\rPID|1||12345^^^HOSP^MR||DOE^JOHN||19700101|M\rPV1|1|I|ICU^1^1\rOBR|1||1|0002-4182^HR^MDC\r".to_vec();
    for i in 0..8 {
        msg.extend(format!("OBX|{i}|NM|0002-4182^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|/min^^MDC|||||R|||20240101120000\r").as_bytes());
    }
    msg.extend_from_slice(&[0x1c, 0x0d]);
    let ack = b"\x0bMSH|^~\\&|ENGINE|HOSP|MONITOR|ICU|20240101120000||ACK^R01^ACK|9|P|2.6\rMSA|AA|123456\r\x1c\r";
    let c2s: Vec<u8> = msg.iter().copied().cycle().take(msg.len() * 2000).collect();
    let s2c: Vec<u8> = ack.iter().copied().cycle().take(ack.len() * 2000).collect();
    measure("HL7 MLLP", 2575, &c2s, &s2c, 20);
}
