//! The engine's protocol detection with the generic dissectors: by port, and by content
//! on non-standard ports (HTTP, TLS, SSDP-like text), driven through the `FlowSink`
//! interface the capture engine uses.

use std::net::{IpAddr, Ipv4Addr};
use ward_capture::{Direction, FlowEnd, FlowMeta, FlowRecord, FlowSink, PacketCtx};
use ward_dissect::{DissectOutput, Engine};
use ward_model::{EndpointAddr, MacAddr, SecurityKind, Timestamp, Transport};

fn meta(id: u64, transport: Transport, client_port: u16, server_port: u16) -> FlowMeta {
    FlowMeta {
        id,
        transport,
        vlan: None,
        client: EndpointAddr {
            mac: Some(MacAddr([0x02, 0, 0, 0, 0, 1])),
            ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1))),
        },
        server: EndpointAddr {
            mac: Some(MacAddr([0x02, 0, 0, 0, 0, 2])),
            ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 2))),
        },
        client_port,
        server_port,
        first_ts: Timestamp(1_700_000_000_000_000),
        midstream: false,
    }
}

/// Runs one flow with the given chunks through a fresh engine.
fn run(m: FlowMeta, chunks: &[(Direction, &[u8])]) -> DissectOutput {
    let mut e = Engine::default();
    let pkt = |n: u64| PacketCtx {
        file: 0,
        packet: n,
        ts: Timestamp(m.first_ts.0 + n),
    };
    e.flow_start(&m, &pkt(1));
    for (i, (dir, data)) in chunks.iter().enumerate() {
        if m.transport == Transport::Tcp {
            e.stream_data(&m, *dir, data, &pkt(i as u64 + 2));
        } else {
            e.datagram(&m, *dir, data, &pkt(i as u64 + 2));
        }
    }
    e.flow_end(&FlowRecord {
        meta: m.clone(),
        last_ts: Timestamp(m.first_ts.0 + 100),
        packets_to_server: 1,
        packets_to_client: 1,
        bytes_to_server: 10,
        bytes_to_client: 10,
        gap_bytes: 0,
        end: FlowEnd::Closed,
    });
    e.finish()
}

fn protocol(out: &DissectOutput) -> Option<&str> {
    out.edges.first().and_then(|e| e.protocol.as_deref())
}

#[test]
fn http_on_a_non_standard_port() {
    let out = run(
        meta(1, Transport::Tcp, 40000, 11112),
        &[
            (
                Direction::ToServer,
                b"GET /status HTTP/1.1\r\nUser-Agent: Acme-Pump/3.1\r\n\r\n",
            ),
            (
                Direction::ToClient,
                b"HTTP/1.1 200 OK\r\nServer: AcmeHTTPd/1.0\r\nContent-Length: 0\r\n\r\n",
            ),
        ],
    );
    assert_eq!(protocol(&out), Some("http"));
    assert_eq!(out.values("http.user_agent"), vec!["Acme-Pump/3.1"]);
    assert_eq!(out.values("http.server"), vec!["AcmeHTTPd/1.0"]);
}

#[test]
fn http_request_split_before_the_version() {
    let out = run(
        meta(2, Transport::Tcp, 40000, 9999),
        &[
            (Direction::ToServer, b"GET /a"),
            (Direction::ToServer, b"bc HTTP/1.0\r\n\r\n"),
        ],
    );
    assert_eq!(protocol(&out), Some("http"));
    assert_eq!(out.values("http.request"), vec!["GET /abc"]);
}

#[test]
fn tls_on_a_non_standard_port() {
    // A minimal ClientHello: TLS 1.2, one cipher, no extensions.
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0u8; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x00, 0x2f, 1, 0]);
    let mut hs = vec![1, 0, 0, body.len() as u8];
    hs.extend(body);
    let mut rec = vec![22, 3, 1, 0, hs.len() as u8];
    rec.extend(hs);
    let out = run(
        meta(3, Transport::Tcp, 40000, 2762),
        &[
            (Direction::ToServer, &rec[..3]),
            (Direction::ToServer, &rec[3..]),
        ],
    );
    assert_eq!(protocol(&out), Some("tls"));
    let ja4 = out.values("tls.ja4");
    assert_eq!(ja4.len(), 1);
    assert!(ja4[0].starts_with("t12i010000_"), "{ja4:?}");
}

#[test]
fn ssdp_like_text_on_another_udp_port() {
    let out = run(
        meta(4, Transport::Udp, 50000, 32412),
        &[(
            Direction::ToServer,
            b"M-SEARCH * HTTP/1.1\r\nST: plex\r\n\r\n",
        )],
    );
    assert_eq!(protocol(&out), Some("ssdp"));
    assert_eq!(out.values("ssdp.st"), vec!["plex"]);
}

#[test]
fn unknown_bytes_stay_unclassified() {
    let out = run(
        meta(5, Transport::Tcp, 40000, 5555),
        &[
            (Direction::ToServer, b"\x00\x01binary\xff\xfe"),
            (Direction::ToClient, b"zzz"),
        ],
    );
    assert_eq!(protocol(&out), None);
    assert_eq!(out.unclassified_flows, 1);
}

#[test]
fn dhcp_reply_to_broadcast_is_about_chaddr_and_not_internet_bound() {
    let mut m = meta(6, Transport::Udp, 68, 67);
    m.client = EndpointAddr {
        mac: Some(MacAddr::BROADCAST),
        ip: Some(IpAddr::V4(Ipv4Addr::BROADCAST)),
    };
    m.server.ip = Some(IpAddr::V4(Ipv4Addr::new(128, 2, 6, 152)));
    let mut msg = vec![0u8; 236];
    msg[0] = 2;
    msg[1] = 1;
    msg[2] = 6;
    msg[16..20].copy_from_slice(&[128, 2, 6, 97]);
    msg[28..34].copy_from_slice(&[0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29]);
    msg.extend_from_slice(&[99, 130, 83, 99, 53, 1, 5, 255]);
    let out = run(m, &[(Direction::ToServer, &msg)]);
    let lease = out
        .observations
        .iter()
        .find(|o| o.key == "dhcp.lease_ip")
        .expect("lease observation");
    assert_eq!(lease.value, "128.2.6.97");
    assert_eq!(
        lease.subject,
        EndpointAddr {
            mac: Some(MacAddr([0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29])),
            ip: None
        }
    );
    assert!(out
        .security
        .iter()
        .all(|s| s.kind != SecurityKind::InternetBound));
}

#[test]
fn held_probe_prefix_is_dropped_at_a_gap() {
    let m = meta(7, Transport::Tcp, 40000, 9999);
    let mut e = Engine::default();
    let pkt = PacketCtx {
        file: 0,
        packet: 1,
        ts: m.first_ts,
    };
    e.flow_start(&m, &pkt);
    e.stream_data(&m, Direction::ToServer, b"GET /a", &pkt);
    e.stream_gap(&m, Direction::ToServer, 100, &pkt);
    e.stream_data(&m, Direction::ToServer, b"bc HTTP/1.0\r\n\r\n", &pkt);
    let out = e.finish();
    assert!(
        out.values("http.request").is_empty(),
        "bytes after a gap must not be joined to the held prefix"
    );
}

/// HL7 reports one fact per message; repeats of a message type are counted by the
/// dissector and aggregated once per run, with the same count, first and last seen and
/// evidence as one aggregation per message would give.
#[test]
fn repeated_hl7_messages_keep_count_times_and_evidence() {
    let oru = b"\x0bMSH|^~\\&|LAB|H|EHR|H|1||ORU^R01|1|P|2.5\rPID|1\rOBX|1\r\x1c\r";
    let adt = b"\x0bMSH|^~\\&|LAB|H|EHR|H|1||ADT^A08|9|P|2.5\rPID|1\r\x1c\r";
    let ack = b"\x0bMSH|^~\\&|EHR|H|LAB|H|1||ACK^R01|2|P|2.5\rMSA|AA|1\r\x1c\r";
    // Packets 2..: ORU x3, ACK x3, ADT, ORU x2, then two more ACKs.
    let chunks: Vec<(Direction, &[u8])> = vec![
        (Direction::ToServer, oru),
        (Direction::ToServer, oru),
        (Direction::ToServer, oru),
        (Direction::ToClient, ack),
        (Direction::ToClient, ack),
        (Direction::ToClient, ack),
        (Direction::ToServer, adt),
        (Direction::ToServer, oru),
        (Direction::ToServer, oru),
        (Direction::ToClient, ack),
        (Direction::ToClient, ack),
    ];
    let m = meta(7, Transport::Tcp, 40000, 2575);
    let t0 = m.first_ts.0;
    let out = run(m, &chunks);
    let obs = |key: &str, value: &str| {
        out.observations
            .iter()
            .find(|o| o.key == key && o.value == value)
            .unwrap_or_else(|| panic!("{key}={value} missing: {:#?}", out.observations))
    };
    let o = obs("hl7.message", "ORU^R01");
    assert_eq!(o.count, 5);
    assert_eq!(o.first_seen, Timestamp(t0 + 2), "first ORU is packet 2");
    assert_eq!(o.last_seen, Timestamp(t0 + 10), "last ORU is packet 10");
    assert_eq!(o.evidence.packet, 2);
    let a = obs("hl7.message", "ACK^R01");
    assert_eq!(
        (a.count, a.first_seen, a.last_seen),
        (5, Timestamp(t0 + 5), Timestamp(t0 + 12))
    );
    let c = obs("hl7.ack", "AA");
    assert_eq!((c.count, c.last_seen), (5, Timestamp(t0 + 12)));
    assert_eq!(obs("hl7.message", "ADT^A08").count, 1);
}
