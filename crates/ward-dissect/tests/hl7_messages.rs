//! The HL7 v2 corpus (`shared/data/hl7v2-messages`): every message's MSH parses to what
//! the `.expected-parse.js` beside it says (HAPI's parse, via node-hl7-complete), and
//! broken messages give clear errors.

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use ward_capture::Direction;
use ward_dissect::proto::hl7::{parse_message, Hl7Error, Hl7Parser, MLLP_END, MLLP_START};
use ward_dissect::Facts;

mod common;

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hl7v2-messages/dev");
    assert!(
        p.is_dir(),
        "the test corpus at {} is required (hl7v2-messages)",
        p.display()
    );
    p
}

fn hl7_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            hl7_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "hl7") {
            out.push(p);
        }
    }
    out.sort();
}

/// Flattens HAPI's field tree back to HL7 text: components joined by `^` in index order,
/// subcomponents by `&`, repetitions by `~`.
fn flatten(v: &Value, depth: usize) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| flatten(x, depth))
            .collect::<Vec<_>>()
            .join("~"),
        Value::Object(o) => {
            let mut parts: Vec<(usize, String)> = o
                .iter()
                .filter_map(|(k, x)| {
                    let n: usize = k.rsplit('.').next()?.parse().ok()?;
                    Some((n, flatten(x, depth + 1)))
                })
                .collect();
            parts.sort();
            let max = parts.last().map_or(0, |p| p.0);
            let mut out = vec![String::new(); max];
            for (n, s) in parts {
                out[n - 1] = s;
            }
            out.join(if depth == 0 { "^" } else { "&" })
        }
        _ => String::new(),
    }
}

fn trim_seps(s: &str) -> &str {
    s.trim_end_matches(['^', '&'])
}

#[test]
fn msh_fields_match_expected_parses() {
    let mut files = Vec::new();
    hl7_files(&corpus(), &mut files);
    let mut compared = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let name = f.display().to_string();
        let m = parse_message(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let exp_path = f.with_extension("expected-parse.js");
        if !exp_path.exists() {
            continue;
        }
        let exp: Value = serde_json::from_slice(&std::fs::read(&exp_path).unwrap()).unwrap();
        let root = exp.as_object().unwrap().values().next().unwrap();
        let msh = &root["MSH"][0];
        for n in [3usize, 4, 5, 6, 9, 10, 11, 12] {
            if n > 10 && name.ends_with("mdm-example.hl7") {
                continue; // after the line break inside MSH-10, see below
            }
            let key = format!("MSH.{n}");
            let want = msh.get(&key).map(|v| flatten(v, 0)).unwrap_or_default();
            let got = String::from_utf8_lossy(m.msh.field(n).unwrap_or_default()).into_owned();
            // mdm-example.hl7 is stored line-wrapped: a line feed falls inside MSH-10. In
            // an LF-terminated file that ends the segment, so only the part before it is
            // comparable.
            let want = match want.split_once('\n') {
                Some((head, _)) if name.ends_with("mdm-example.hl7") => head.to_string(),
                _ => want,
            };
            assert_eq!(
                trim_seps(&got),
                trim_seps(&want),
                "{name}: MSH-{n} expected {want:?}"
            );
        }
        assert_eq!(
            char::from(m.msh.field_separator).to_string(),
            flatten(&msh["MSH.1"], 0),
            "{name}: MSH-1"
        );
        assert_eq!(
            String::from_utf8_lossy(m.msh.encoding_characters),
            flatten(&msh["MSH.2"], 0),
            "{name}: MSH-2"
        );
        compared += 1;
    }
    assert!(
        compared >= 17,
        "compared {compared} messages with expected parses"
    );
}

#[test]
fn invalid_message_is_flagged_only_in_patient_data() {
    // node-hl7-complete's invalid example is invalid in PID-13 (a malformed phone number),
    // a patient field Ward deliberately never parses. Its MSH is sound and its PID is
    // reported as a patient segment, by presence only.
    let p = corpus().join("node-hl7-complete/invalid/misc/bad-phone-example.hl7");
    let bytes = std::fs::read(&p).unwrap();
    let m = parse_message(&bytes).unwrap();
    assert_eq!(
        m.msh.message_type(),
        Some(&b"SIU^S12"[..]),
        "{}",
        p.display()
    );
    assert_eq!(m.patient_segments.names(), "PID", "{}", p.display());
}

#[test]
fn broken_messages_give_clear_errors() {
    let mut files = Vec::new();
    hl7_files(&corpus(), &mut files);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let name = f.display().to_string();
        // Cut the MSH short, drop the MSH, damage the separator.
        let e = parse_message(&bytes[..3]).unwrap_err();
        assert_eq!(e, Hl7Error::ShortMsh { offset: 0 }, "{name}");
        let second = bytes
            .iter()
            .position(|c| *c == b'\r' || *c == b'\n')
            .map(|i| i + 1)
            .unwrap_or(bytes.len());
        if second < bytes.len() && bytes[second..].len() > 3 {
            let e = parse_message(&bytes[second..]).unwrap_err();
            assert!(
                e.to_string().contains("no MSH segment at byte 0"),
                "{name}: {e}"
            );
        }
        let mut b = bytes.clone();
        b[3] = b'A';
        let e = parse_message(&b).unwrap_err();
        assert_eq!(
            e.to_string(),
            "MSH segment at byte 3: invalid field separator 0x41",
            "{name}"
        );
        // Every prefix and every single-byte corruption: no panic.
        for n in 0..bytes.len().min(600) {
            let _ = parse_message(&bytes[..n]);
            let mut c = bytes.clone();
            c[n] ^= 0x5a;
            let _ = parse_message(&c);
            let mut f = Facts::default();
            Hl7Parser::new().feed(None, Direction::ToServer, &c, &mut f);
        }
    }
}

#[test]
fn streamed_files_report_msh_facts() {
    let mut files = Vec::new();
    hl7_files(&corpus(), &mut files);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let name = f.display().to_string();
        let m = parse_message(&bytes).unwrap();
        let mut framed = vec![MLLP_START];
        framed.extend_from_slice(&bytes);
        framed.extend_from_slice(&[MLLP_END, b'\r']);
        let mut facts = Facts::default();
        let mut p = Hl7Parser::new();
        for chunk in framed.chunks(97) {
            p.feed(None, Direction::ToServer, chunk, &mut facts);
        }
        let got: Vec<&str> = facts
            .facts
            .iter()
            .filter(|x| x.key == "hl7.message")
            .map(|x| x.value.as_str())
            .collect();
        let want = String::from_utf8_lossy(m.msh.message_type().unwrap()).into_owned();
        assert_eq!(
            got.first().copied(),
            Some(want.as_str()),
            "{name}: hl7.message"
        );
    }
}

#[test]
fn ndpi_hl7_capture_on_port_6661() {
    // nDPI's HL7 capture: ADT^A01 and its ACK over MLLP on TCP 6661 (not 2575).
    let out = common::dissect(&common::corpus("pcaps/dev/ndpi__hl7.pcap"));
    assert_eq!(
        out.values("hl7.sending_application"),
        vec!["RECEIVING_APPLICATION", "SENDING_APPLICATION"],
        "ndpi__hl7.pcap: MSH-3 of the message and of the ACK"
    );
    assert_eq!(out.values("hl7.ack"), vec!["AA"], "ndpi__hl7.pcap: MSA-1");
    assert_eq!(out.values("hl7.role"), vec!["HL7 receiver", "HL7 sender"]);
    assert!(
        out.edges
            .iter()
            .any(|e| e.server_port == 6661 && e.protocol.as_deref() == Some("hl7")),
        "ndpi__hl7.pcap: HL7 edge on port 6661"
    );
}
