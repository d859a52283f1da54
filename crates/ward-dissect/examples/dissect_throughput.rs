//! Throughput of the dissection engine alone (no capture decoding): synthetic HTTP flows
//! with large bodies, TLS flows with application data, SMB2 flows with large reads and
//! unclassified binary flows, fed in 1460-byte chunks through the `FlowSink` interface.
//!
//! `cargo run --release -p ward-dissect --example dissect_throughput -- [MiB]`

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;
use ward_capture::{Direction, FlowEnd, FlowMeta, FlowRecord, FlowSink, PacketCtx};
use ward_dissect::Engine;
use ward_model::{EndpointAddr, MacAddr, Timestamp, Transport};

fn meta(id: u64, port: u16) -> FlowMeta {
    let host = |n: u8| EndpointAddr {
        mac: Some(MacAddr([0x02, 0, 0, 0, 0, n])),
        ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))),
    };
    FlowMeta {
        id,
        transport: Transport::Tcp,
        vlan: None,
        client: host(1),
        server: host(2),
        client_port: 40000 + (id % 20000) as u16,
        server_port: port,
        first_ts: Timestamp(1_700_000_000_000_000),
        midstream: false,
    }
}

/// (server port, client bytes, server bytes) of one synthetic flow of about `size` bytes.
fn flows(size: usize) -> Vec<(u16, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    // HTTP: one request, one response with a Content-Length body.
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nServer: bench/1.0\r\nContent-Length: {size}\r\n\r\n")
            .into_bytes();
    resp.resize(resp.len() + size, b'x');
    out.push((
        80,
        b"GET /big HTTP/1.1\r\nHost: h\r\nUser-Agent: bench\r\n\r\n".to_vec(),
        resp,
    ));
    // TLS: handshake records then application data records of 16 KiB.
    let mut tls = Vec::new();
    let mut left = size;
    tls.extend_from_slice(&[22, 3, 3, 0, 4, 14, 0, 0, 0]);
    while left > 0 {
        let n = left.min(16384);
        tls.extend_from_slice(&[23, 3, 3]);
        tls.extend_from_slice(&(n as u16).to_be_bytes());
        tls.resize(tls.len() + n, 0xab);
        left -= n;
    }
    out.push((443, vec![22, 3, 1, 0, 4, 1, 0, 0, 0], tls));
    // SMB2: a negotiate then large READ responses (NetBIOS messages of 64 KiB).
    let mut smb = Vec::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(65536);
        smb.extend_from_slice(&[0, 0, (n >> 8) as u8, n as u8]);
        let start = smb.len();
        smb.resize(start + n, 0);
        smb[start..start + 4].copy_from_slice(b"\xfeSMB");
        smb[start + 12] = 8;
        smb[start + 16] = 1;
        left -= n;
    }
    out.push((445, vec![0, 0, 0, 4, 0xfe, b'S', b'M', b'B'], smb));
    // Unclassified binary.
    out.push((5555, vec![0x99; 64], vec![0x77; size]));
    out
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let per_flow = 4 << 20;
    let templates = flows(per_flow);
    let mut engine = Engine::default();
    let total_target = mib << 20;
    let mut bytes = 0usize;
    let mut id = 0u64;
    let start = Instant::now();
    while bytes < total_target {
        for (port, c, s) in &templates {
            id += 1;
            let m = meta(id, *port);
            let pkt = PacketCtx {
                file: 0,
                packet: id,
                ts: m.first_ts,
            };
            engine.flow_start(&m, &pkt);
            for chunk in c.chunks(1460) {
                engine.stream_data(&m, Direction::ToServer, chunk, &pkt);
            }
            for chunk in s.chunks(1460) {
                engine.stream_data(&m, Direction::ToClient, chunk, &pkt);
            }
            bytes += c.len() + s.len();
            engine.flow_end(&FlowRecord {
                meta: m.clone(),
                last_ts: m.first_ts,
                packets_to_server: 1,
                packets_to_client: 1,
                bytes_to_server: c.len() as u64,
                bytes_to_client: s.len() as u64,
                gap_bytes: 0,
                end: FlowEnd::Closed,
            });
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let out = engine.finish();
    println!(
        "{:.0} MiB in {:.3} s: {:.2} Gbit/s of payload ({} flows, {} observations)",
        bytes as f64 / 1048576.0,
        secs,
        bytes as f64 * 8.0 / secs / 1e9,
        out.flows,
        out.observations.len()
    );
}
