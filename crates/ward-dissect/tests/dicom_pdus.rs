//! The pynetdicom PDU corpus (`shared/data/pynetdicom-pdus`) parses as its upstream
//! comments say, and damaged copies give errors, never panics.

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use ward_capture::Direction;
use ward_dissect::proto::dicom::{
    parse_command_set, parse_pdu, read_device_elements, text, DatasetEncoding, DicomParser, Pdu,
};
use ward_dissect::Facts;

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pynetdicom-pdus");
    assert!(
        p.join("index.json").exists(),
        "the test corpus at {} is required (pynetdicom-pdus/index.json)",
        p.display()
    );
    p
}

struct Entry {
    file: String,
    name: String,
    kind: String,
    comment: String,
    bytes: Vec<u8>,
}

fn entries() -> Vec<Entry> {
    let dir = corpus();
    let idx: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    idx.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let file = e["file"].as_str().unwrap().to_string();
            let bytes = std::fs::read(dir.join(&file)).unwrap();
            assert_eq!(
                bytes.len() as u64,
                e["len"].as_u64().unwrap(),
                "{file}: length as in index.json"
            );
            Entry {
                name: e["name"].as_str().unwrap().to_string(),
                kind: e["kind"].as_str().unwrap().to_string(),
                comment: e["comment"].as_str().unwrap_or("").to_string(),
                file,
                bytes,
            }
        })
        .collect()
}

/// Values of `# Label: value` comment lines, in order.
fn comment_values(comment: &str, label: &str) -> Vec<String> {
    comment
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches('#').trim();
            l.strip_prefix(label)
                .and_then(|r| r.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        })
        .collect()
}

/// The first token of a value that is a UID ("1.2.840.10008.1.1 Verification SOP Class").
fn uid_of(v: &str) -> Option<String> {
    let t = v.split_whitespace().next()?;
    t.starts_with(|c: char| c.is_ascii_digit())
        .then(|| t.to_string())
}

#[test]
fn associate_pdus_match_upstream_comments() {
    let mut checked = 0;
    for e in entries().iter().filter(|e| e.kind == "pdu") {
        let parsed = parse_pdu(&e.bytes)
            .unwrap_or_else(|err| panic!("{}: {err}", e.file))
            .unwrap_or_else(|| panic!("{}: incomplete", e.file));
        assert_eq!(parsed.1, e.bytes.len(), "{}: whole PDU used", e.file);
        let a = match &parsed.0 {
            Pdu::AssociateRq(a) | Pdu::AssociateAc(a) => a,
            Pdu::AssociateRj(r) => {
                // "Result: Rejected (Permanent)", "Source: DUL service-user"
                assert_eq!(r.result, 1, "{}: rejected permanent", e.file);
                assert_eq!(r.source, 1, "{}: source service-user", e.file);
                checked += 1;
                continue;
            }
            Pdu::Abort(ab) => {
                let src = comment_values(&e.comment, "Source");
                let expect = if src.first().is_some_and(|s| s.contains("provider")) {
                    2
                } else {
                    0
                };
                assert_eq!(ab.source, expect, "{}: abort source {src:?}", e.file);
                checked += 1;
                continue;
            }
            Pdu::PData(pdvs) => {
                assert!(!pdvs.is_empty(), "{}: has PDVs", e.file);
                let cmd = parse_command_set(pdvs[0].data)
                    .unwrap_or_else(|err| panic!("{}: command set: {err}", e.file));
                if e.name == "p_data_tf" {
                    assert_eq!(cmd.name(), "C-ECHO-RSP", "{}", e.file);
                    assert_eq!(cmd.status, Some(0), "{}: status 0", e.file);
                    assert_eq!(pdvs[0].context_id, 1, "{}: context 1", e.file);
                } else {
                    assert_eq!(cmd.name(), "C-ECHO-RQ", "{}", e.file);
                }
                assert_eq!(
                    cmd.affected_sop_class,
                    Some(&b"1.2.840.10008.1.1"[..]),
                    "{}: Verification SOP class",
                    e.file
                );
                checked += 1;
                continue;
            }
            Pdu::ReleaseRq | Pdu::ReleaseRp => {
                assert!(e.name.contains("release"), "{}", e.file);
                checked += 1;
                continue;
            }
        };
        for (label, got) in [
            ("Called AET", a.called_ae_str()),
            ("Calling AET", a.calling_ae_str()),
        ] {
            if let Some(want) = comment_values(&e.comment, label).first() {
                assert_eq!(&got, want, "{}: {label}", e.file);
            }
        }
        if let Some(want) = comment_values(&e.comment, "Application Context Name").first() {
            assert_eq!(
                a.application_context.map(text).as_deref(),
                Some(want.as_str()),
                "{}: application context",
                e.file
            );
        }
        let want_abs: Vec<String> = comment_values(&e.comment, "Abstract Syntax")
            .iter()
            .filter_map(|v| uid_of(v))
            .collect();
        let got_abs: Vec<String> = a
            .presentation_contexts
            .iter()
            .filter_map(|p| p.abstract_syntax.map(text))
            .collect();
        if !want_abs.is_empty() {
            assert_eq!(got_abs, want_abs, "{}: abstract syntaxes", e.file);
        }
        // Compared as sorted lists: one upstream comment lists them in another order.
        let mut want_ts: Vec<String> = comment_values(&e.comment, "Transfer Syntax")
            .iter()
            .filter_map(|v| uid_of(v))
            .collect();
        want_ts.sort();
        let mut got_ts: Vec<String> = a
            .presentation_contexts
            .iter()
            .flat_map(|p| p.transfer_syntaxes.iter().map(|t| text(t)))
            .filter(|t| !t.is_empty())
            .collect();
        got_ts.sort();
        if !want_ts.is_empty() {
            assert_eq!(got_ts, want_ts, "{}: transfer syntaxes", e.file);
        }
        for (label, got) in [
            (
                "Implementation Class UID",
                a.user.implementation_class_uid.map(text),
            ),
            (
                "Implementation Version Name",
                a.user.implementation_version_name.map(text),
            ),
            (
                "Max Length Received",
                a.user.max_pdu_length.map(|m| m.to_string()),
            ),
        ] {
            if let Some(want) = comment_values(&e.comment, label).first() {
                // Upstream comment erratum: this PDU's bytes say 00 00 3f fe (16382) at
                // offset 0x10f, its comment says 16384.
                let want = if e.name == "a_associate_rq_user_id_ext_neg"
                    && label == "Max Length Received"
                {
                    "16382"
                } else {
                    want.as_str()
                };
                assert_eq!(got.as_deref(), Some(want), "{}: {label}", e.file);
            }
        }
        if e.comment.contains("User Identity") {
            let t = comment_values(&e.comment, "Type");
            assert!(
                a.user.user_identity_type.is_some(),
                "{}: user identity type present ({t:?})",
                e.file
            );
        }
        if e.comment.contains("SCP/SCU Role Selection") {
            assert_eq!(
                a.user.role_selections.len(),
                1,
                "{}: role selection",
                e.file
            );
            assert_eq!(
                (
                    a.user.role_selections[0].scu_role,
                    a.user.role_selections[0].scp_role
                ),
                (0, 1),
                "{}: SCU 0 SCP 1",
                e.file
            );
        }
        if e.name == "a_associate_rq_com_ext_neg" {
            assert_eq!(
                a.user
                    .common_extended_negotiation
                    .iter()
                    .map(|u| text(u))
                    .collect::<Vec<_>>(),
                vec!["1.2.840.10008.5.1.4.1.1.4"],
                "{}: common extended negotiation SOP class",
                e.file
            );
        }
        if e.name == "a_associate_ac_zero_ts" {
            let results: Vec<_> = a.presentation_contexts.iter().map(|p| p.result).collect();
            assert_eq!(
                results,
                vec![Some(0), Some(3)],
                "{}: accepted, abstract syntax not supported",
                e.file
            );
        }
        checked += 1;
    }
    assert!(checked >= 12, "checked {checked} PDUs");
}

#[test]
fn user_identity_secrets_never_become_facts() {
    for e in entries()
        .iter()
        .filter(|e| e.kind == "pdu" && e.name.contains("user_id"))
    {
        let mut f = Facts::default();
        DicomParser::new(false).feed(None, Direction::ToServer, &e.bytes, &mut f);
        assert!(
            f.facts.iter().any(|x| x.key == "dicom.user_identity"),
            "{}: user identity type reported",
            e.file
        );
        let dump = format!("{:?}", f);
        for secret in ["p4ssw0rd", "pynetdicom\"", "pynetdicom "] {
            assert!(
                !dump.contains(secret),
                "{}: secret {secret:?} leaked into facts",
                e.file
            );
        }
    }
}

#[test]
fn dimse_command_sets_parse() {
    let mut checked = 0;
    for e in entries().iter().filter(|e| e.kind == "dimse") {
        // These files hold the PDV's message control header byte followed by its data.
        let mch = e.bytes[0];
        if mch & 1 == 0 {
            // A dataset: the only thing Ward may read from one are device elements, and
            // these query/patient datasets have none.
            let h = read_device_elements(&e.bytes[1..], DatasetEncoding::ImplicitLittle);
            assert_eq!(h.manufacturer, None, "{}: no manufacturer", e.file);
            continue;
        }
        let c = parse_command_set(&e.bytes[1..]).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let want = match e.name.as_str() {
            n if n.starts_with("c_find_rq") => "C-FIND-RQ",
            n if n.starts_with("c_get_rq") => "C-GET-RQ",
            n if n.starts_with("c_get_rsp") => "C-GET-RSP",
            n if n.starts_with("c_move_rq") => "C-MOVE-RQ",
            n if n.starts_with("c_move_rsp") => "C-MOVE-RSP",
            n if n.starts_with("c_store_rq") => "C-STORE-RQ",
            n if n.starts_with("c_store_rsp") => "C-STORE-RSP",
            n => panic!("{}: unexpected command file {n}", e.file),
        };
        assert_eq!(c.name(), want, "{}: command field", e.file);
        if e.comment
            .contains("AffectedSOPClassUID 1.2.840.10008.5.1.4.1.1.2")
            || e.comment.contains("CT Image Storage")
        {
            assert_eq!(
                c.affected_sop_class,
                Some(&b"1.2.840.10008.5.1.4.1.1.2"[..]),
                "{}: CT Image Storage",
                e.file
            );
        }
        if e.comment.contains("Message ID") || e.comment.contains("MessageID") {
            assert_eq!(c.message_id, Some(7), "{}: message id 7", e.file);
        }
        checked += 1;
    }
    assert!(checked >= 7, "checked {checked} command sets");
}

#[test]
fn truncated_and_damaged_pdus_give_errors_not_panics() {
    let mut errors = 0;
    for e in entries().iter().filter(|e| e.kind == "pdu") {
        for n in 0..e.bytes.len() {
            // A prefix is "incomplete", never a wrong parse.
            assert!(
                matches!(parse_pdu(&e.bytes[..n]), Ok(None)),
                "{}: prefix of {n} bytes",
                e.file
            );
        }
        // Lie about the length: the body ends early, the items inside are cut.
        let mut b = e.bytes.clone();
        if b.len() > 12 {
            let short = (b.len() - 6 - 5) as u32;
            b[2..6].copy_from_slice(&short.to_be_bytes());
            b.truncate(6 + short as usize);
            if let Err(err) = parse_pdu(&b) {
                let msg = err.to_string();
                assert!(
                    msg.contains("byte"),
                    "{}: error names a position: {msg}",
                    e.file
                );
                errors += 1;
            }
        }
        // Flip every byte in turn; the parser must never panic and the state machine
        // must survive.
        for i in 0..e.bytes.len() {
            let mut b = e.bytes.clone();
            b[i] ^= 0xa5;
            let _ = parse_pdu(&b);
            let mut f = Facts::default();
            DicomParser::new(false).feed(None, Direction::ToServer, &b, &mut f);
        }
    }
    assert!(errors >= 4, "cut PDUs produced {errors} errors");
    let err = parse_pdu(&[0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0]).unwrap_err();
    assert_eq!(err.to_string(), "unknown PDU type 0x09 at byte 0");
}
