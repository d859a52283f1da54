//! Content-based detection through the engine: DICOM and HL7 on non-standard ports, a
//! DICOM stream picked up in the middle of an association, and arbitrary bytes fed to
//! every clinical dissector (never a panic, never a hang).

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use ward_capture::{Direction, FlowEnd, FlowMeta, FlowRecord, FlowSink, PacketCtx};
use ward_dissect::{DissectOutput, Engine};
use ward_model::{EndpointAddr, Timestamp, Transport};

fn meta(id: u64, server_port: u16, midstream: bool) -> FlowMeta {
    FlowMeta {
        id,
        transport: Transport::Tcp,
        vlan: None,
        client: EndpointAddr {
            mac: None,
            ip: Some("10.1.1.10".parse().unwrap()),
        },
        server: EndpointAddr {
            mac: None,
            ip: Some("10.1.1.20".parse().unwrap()),
        },
        client_port: 50123,
        server_port,
        first_ts: Timestamp(1),
        midstream,
    }
}

/// Runs chunks (direction, bytes) of one flow through a fresh engine.
fn run(m: &FlowMeta, chunks: &[(Direction, Vec<u8>)]) -> DissectOutput {
    let mut e = Engine::default();
    let pkt = |n: u64| PacketCtx {
        file: 0,
        packet: n,
        ts: Timestamp(n),
    };
    e.flow_start(m, &pkt(1));
    for (n, (dir, data)) in chunks.iter().enumerate() {
        e.stream_data(m, *dir, data, &pkt(n as u64 + 2));
    }
    e.flow_end(&FlowRecord {
        meta: m.clone(),
        last_ts: Timestamp(99),
        packets_to_server: 1,
        packets_to_client: 1,
        bytes_to_server: 1,
        bytes_to_client: 1,
        gap_bytes: 0,
        end: FlowEnd::Closed,
    });
    e.finish()
}

fn pdu(name: &str) -> Vec<u8> {
    std::fs::read(common::corpus("pynetdicom-pdus/dev").join(name)).unwrap()
}

#[test]
fn dicom_on_a_non_standard_port() {
    let rq = pdu("pdu__a_associate_rq_role.bin");
    let out = run(&meta(1, 40404, false), &[(Direction::ToServer, rq)]);
    assert_eq!(
        out.values("dicom.calling_ae"),
        vec!["GETSCU"],
        "pdu__a_associate_rq_role.bin on port 40404"
    );
    assert_eq!(out.values("dicom.called_ae"), vec!["ANY-SCP"]);
    assert_eq!(out.edges[0].protocol.as_deref(), Some("dicom"));
}

#[test]
fn dicom_picked_up_mid_association() {
    // The capture starts inside a P-DATA-TF: the tail of one C-ECHO-RQ PDU, then a whole
    // C-ECHO-RSP PDU in the other direction and a whole C-ECHO-RQ again.
    let rq = pdu("pdu__p_data_tf_rq.bin");
    let rsp = pdu("pdu__p_data_tf.bin");
    let mut first = rq[rq.len() / 2..].to_vec();
    first.extend_from_slice(&rq);
    for port in [104u16, 33333] {
        let out = run(
            &meta(2, port, true),
            &[
                (Direction::ToServer, first.clone()),
                (Direction::ToClient, rsp[..5].to_vec()),
                (Direction::ToClient, rsp[5..].to_vec()),
            ],
        );
        assert_eq!(
            out.values("dicom.command"),
            vec!["C-ECHO-RQ", "C-ECHO-RSP"],
            "port {port}"
        );
        let rq_count: u64 = out
            .observations
            .iter()
            .filter(|o| o.key == "dicom.command" && o.value == "C-ECHO-RQ")
            .map(|o| o.count)
            .sum();
        assert_eq!(rq_count, 1, "port {port}: only the whole PDU counts");
    }
    // The same bytes on a flow seen from its start are not DICOM (no A-ASSOCIATE-RQ).
    let out = run(&meta(3, 33333, false), &[(Direction::ToServer, first)]);
    assert!(out.values("dicom.command").is_empty());
}

#[test]
fn hl7_on_any_port_with_and_without_mllp() {
    let msg = b"MSH|^~\\&|LAB|HOSP|LIS|HOSP|20240101||ORU^R01|1|P|2.5\rPID|1||X\rOBX|1|NM|X\r";
    let mut framed = vec![0x0b];
    framed.extend_from_slice(msg);
    framed.extend_from_slice(&[0x1c, 0x0d]);
    for (port, bytes) in [(7777u16, framed), (31000, msg.to_vec())] {
        let out = run(&meta(4, port, false), &[(Direction::ToServer, bytes)]);
        assert_eq!(
            out.values("hl7.sending_application"),
            vec!["LAB"],
            "port {port}"
        );
        assert_eq!(out.values("hl7.message"), vec!["ORU^R01"], "port {port}");
        assert_eq!(
            out.values("hl7.patient_segments"),
            vec!["PID,OBX"],
            "port {port}"
        );
    }
}

/// xorshift64*: deterministic pseudo-random bytes without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn arbitrary_and_mutated_bytes_never_panic() {
    // Seeds: real protocol starts, so mutations reach deep into each parser.
    let mut seeds: Vec<Vec<u8>> = vec![
        pdu("pdu__a_associate_rq_user_id_ext_neg.bin"),
        pdu("pdu__a_associate_ac_zero_ts.bin"),
        pdu("pdu__p_data_tf.bin"),
        b"\x0bMSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1\rMSA|AA|1\r\x1c\r".to_vec(),
        b"\x05\x021H|\\^&|||cobas^1|||||LIS||P|1\r\x03C1\r\n\x04".to_vec(),
        b"<?xml version=\"1.0\"?><HEL.R01><DEV><DEV.vendor_id V=\"X\"/></DEV></HEL.R01>".to_vec(),
        b"GET /fhir/Patient?x=1 HTTP/1.1\r\nContent-Type: application/fhir+json\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        b"POST /sdc HTTP/1.1\r\n\r\n<s:Envelope xmlns=\"11073\"><pm:MetaData><pm:Manufacturer>M</pm:Manufacturer></pm:MetaData></s:Envelope>".to_vec(),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..64 {
        let n = (rng.next() % 600) as usize;
        seeds.push((0..n).map(|_| rng.next() as u8).collect());
        let _ = i;
    }
    for (k, seed) in seeds.iter().enumerate() {
        for round in 0..40u64 {
            let mut b = seed.clone();
            let flips = 1 + rng.next() % 8;
            for _ in 0..flips {
                if b.is_empty() {
                    break;
                }
                let at = (rng.next() as usize) % b.len();
                b[at] = rng.next() as u8;
            }
            if round % 5 == 0 {
                let cut = (rng.next() as usize) % (b.len() + 1);
                b.truncate(cut);
            }
            let split = (rng.next() as usize) % (b.len() + 1);
            let port = [104u16, 2575, 3702, 80, 40000][(round % 5) as usize];
            let midstream = round % 2 == 1;
            let _ = run(
                &meta(k as u64 * 100 + round, port, midstream),
                &[
                    (Direction::ToServer, b[..split].to_vec()),
                    (Direction::ToClient, b.clone()),
                    (Direction::ToServer, b[split..].to_vec()),
                ],
            );
        }
    }
}

#[test]
fn dicom_security_observations() {
    use ward_model::{SecurityKind, Severity};
    // STORESCU -> ANY-SCP with user identity (username+passcode), answered by an AC, with
    // the SCP on an internet address.
    let rq = pdu("pdu__a_associate_rq_user_id_user_pass.bin");
    let ac = pdu("pdu__a_associate_ac_zero_ts.bin");
    let mut m = meta(10, 104, false);
    m.server.ip = Some("8.8.4.4".parse().unwrap());
    let out = run(
        &m,
        &[
            (Direction::ToServer, rq.clone()),
            (Direction::ToClient, ac.clone()),
        ],
    );
    let kinds: Vec<_> = out.security.iter().map(|s| (s.kind, s.severity)).collect();
    assert!(
        kinds.contains(&(SecurityKind::DicomWithoutTls, Severity::High)),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|k| k.0 == SecurityKind::DicomAcceptsAnyCaller),
        "generic AE titles STORESCU/ANY-SCP accepted: {kinds:?}"
    );
    assert!(
        !kinds
            .iter()
            .any(|k| k.0 == SecurityKind::DicomNoUserIdentity),
        "user identity was negotiated: {kinds:?}"
    );
    assert_eq!(out.values("dicom.user_identity"), vec!["username+passcode"]);
    let json = serde_json::to_string(&out).unwrap();
    assert!(
        !json.contains("p4ssw0rd"),
        "the passcode never leaves the parser"
    );

    // The same association between private addresses: no TLS finding, and a role
    // selection / association without user identity gives DicomNoUserIdentity.
    let rq2 = pdu("pdu__a_associate_rq_role.bin");
    let out = run(
        &meta(11, 104, false),
        &[(Direction::ToServer, rq2), (Direction::ToClient, ac)],
    );
    let kinds: Vec<_> = out.security.iter().map(|s| s.kind).collect();
    assert!(!kinds.contains(&SecurityKind::DicomWithoutTls), "{kinds:?}");
    assert!(
        kinds.contains(&SecurityKind::DicomNoUserIdentity),
        "{kinds:?}"
    );
    assert_eq!(
        out.values("dicom.role_selection"),
        vec!["1.2.840.10008.5.1.4.1.1.2 scu=0 scp=1"]
    );
}

#[test]
fn hl7_picked_up_mid_message() {
    let msg = b"\x0bMSH|^~\\&|PUMP|ICU|EMR|HOSP|1||ORU^R01|7|P|2.6\rPID|1||X\r\x1c\r";
    let mut stream = msg[20..].to_vec(); // starts inside the MSH of a message
    stream.extend_from_slice(msg);
    let out = run(&meta(20, 45000, true), &[(Direction::ToServer, stream)]);
    let n: u64 = out
        .observations
        .iter()
        .filter(|o| o.key == "hl7.message")
        .map(|o| o.count)
        .sum();
    assert_eq!(n, 1, "only the whole message counts");
    assert_eq!(out.values("hl7.sending_application"), vec!["PUMP"]);
}
