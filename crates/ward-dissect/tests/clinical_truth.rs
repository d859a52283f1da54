//! Acceptance: every `.truth.json` fact of `shared/data/clinical-captures` is reproduced by
//! capture + dissection, field by field: endpoints and roles, AE titles (calling, called,
//! answered), implementation class UIDs and version names, maximum PDU lengths,
//! presentation contexts with their results and transfer syntaxes, association outcomes
//! (accepted / rejected with reason / aborted with source and reason), every DIMSE
//! command with its SOP class and status (as counts per endpoint), HL7 MSH-3..6, MSH-9,
//! MSH-11, MSH-12, message counts per type and ACK codes, and patient-data segments.

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use ward_dissect::DissectOutput;
use ward_model::SecurityKind;

/// Observations of one capture, indexed as ip -> key -> value -> count.
struct Facts(BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>);

impl Facts {
    fn new(out: &DissectOutput) -> Facts {
        let mut m: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>> = BTreeMap::new();
        for o in &out.observations {
            let ip = o.subject.ip.map(|i| i.to_string()).unwrap_or_default();
            *m.entry(ip)
                .or_default()
                .entry(o.key.clone())
                .or_default()
                .entry(o.value.clone())
                .or_default() += o.count;
        }
        Facts(m)
    }
    fn values(&self, ip: &str, key: &str) -> BTreeSet<String> {
        self.counts(ip, key).into_keys().collect()
    }
    fn counts(&self, ip: &str, key: &str) -> BTreeMap<String, u64> {
        self.0
            .get(ip)
            .and_then(|k| k.get(key))
            .cloned()
            .unwrap_or_default()
    }
    fn has(&self, ip: &str, key: &str, value: &str) -> bool {
        self.counts(ip, key).contains_key(value)
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn strs(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default()
}

fn truth_of(path: &Path) -> Value {
    let t = path.with_file_name(format!(
        "{}.truth.json",
        path.file_name().unwrap().to_string_lossy()
    ));
    serde_json::from_slice(&std::fs::read(&t).unwrap_or_else(|e| panic!("{}: {e}", t.display())))
        .unwrap()
}

#[test]
fn clinical_captures_reproduce_their_truth() {
    let mut checks = 0usize;
    for path in common::clinical_captures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let truth = truth_of(&path);
        let out = common::dissect(&path);
        let f = Facts::new(&out);
        let mut check = |ok: bool, what: String| {
            assert!(ok, "{name}: {what}");
            checks += 1;
        };

        // Abstract syntax names used in this capture, for the endpoints' service lists.
        let mut uid_of_name: BTreeMap<String, String> = BTreeMap::new();
        for a in truth["dicom_associations"].as_array().into_iter().flatten() {
            for pc in a["presentation_contexts"].as_array().into_iter().flatten() {
                uid_of_name.insert(s(&pc["abstract_syntax_name"]), s(&pc["abstract_syntax"]));
            }
        }

        // Endpoints: roles, AE titles, implementations, services, HL7 applications.
        for e in truth["endpoints"].as_array().unwrap() {
            let ip = s(&e["ip"]);
            for role in strs(&e["roles"]) {
                let (key, want) = if role.starts_with("DICOM SCU") {
                    ("dicom.role", "SCU")
                } else if role.starts_with("DICOM SCP") {
                    ("dicom.role", "SCP")
                } else if role.starts_with("HL7 sender") {
                    ("hl7.role", "HL7 sender")
                } else if role.starts_with("HL7 receiver") {
                    ("hl7.role", "HL7 receiver")
                } else {
                    panic!("{name}: unknown role {role}");
                };
                check(
                    f.has(&ip, key, want),
                    format!("{ip} has {key} = {want} ({role})"),
                );
            }
            if let Some(t) = e.get("dicom_ae_titles") {
                let got = f.values(&ip, "dicom.ae_title");
                check(
                    got == strs(t),
                    format!("{ip} dicom.ae_title {got:?} == truth {t}"),
                );
            }
            if let Some(t) = e.get("dicom_ae_titles_called") {
                let got = f.values(&ip, "dicom.called_ae");
                check(
                    got == strs(t),
                    format!("{ip} dicom.called_ae {got:?} == truth {t}"),
                );
            }
            if let Some(impls) = e.get("dicom_implementation").and_then(Value::as_array) {
                let uids: BTreeSet<String> = impls
                    .iter()
                    .map(|i| s(&i["implementation_class_uid"]))
                    .collect();
                let vers: BTreeSet<String> = impls
                    .iter()
                    .map(|i| s(&i["implementation_version_name"]))
                    .collect();
                let got = f.values(&ip, "dicom.implementation_class_uid");
                check(
                    got == uids,
                    format!("{ip} implementation class UIDs {got:?} == {uids:?}"),
                );
                let got = f.values(&ip, "dicom.implementation_version");
                check(
                    got == vers,
                    format!("{ip} implementation versions {got:?} == {vers:?}"),
                );
            }
            for (tkey, key) in [
                ("dicom_services_used_as_scu", "dicom.service_scu"),
                ("dicom_services_provided_as_scp", "dicom.service_scp"),
            ] {
                let want: BTreeSet<String> = strs(&e[tkey])
                    .iter()
                    .map(|n| {
                        uid_of_name
                            .get(n)
                            .cloned()
                            .unwrap_or_else(|| panic!("{name}: no UID for {n}"))
                    })
                    .collect();
                let got = f.values(&ip, key);
                check(
                    got == want,
                    format!("{ip} {key} {got:?} == truth {tkey} {want:?}"),
                );
            }
            for (tkey, app_key, fac_key) in [
                (
                    "hl7_sending_application_facility",
                    "hl7.sending_application",
                    "hl7.sending_facility",
                ),
                (
                    "hl7_addressed_as_application_facility",
                    "hl7.receiving_application",
                    "hl7.receiving_facility",
                ),
            ] {
                for af in e[tkey].as_array().into_iter().flatten() {
                    let (app, fac) = (s(&af["application"]), s(&af["facility"]));
                    check(f.has(&ip, app_key, &app), format!("{ip} {app_key} = {app}"));
                    check(f.has(&ip, fac_key, &fac), format!("{ip} {fac_key} = {fac}"));
                }
            }
            for port in e["listening_ports"].as_array().into_iter().flatten() {
                let port = port.as_u64().unwrap() as u16;
                check(
                    out.edges.iter().any(|x| {
                        x.server.ip.map(|i| i.to_string()) == Some(ip.clone())
                            && x.server_port == port
                    }),
                    format!("{ip} listens on {port} (an edge to it)"),
                );
            }
        }

        // DICOM associations.
        let mut dimse_want: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut outcome_want: BTreeMap<(String, String), u64> = BTreeMap::new();
        for a in truth["dicom_associations"].as_array().into_iter().flatten() {
            let cip = s(&a["client"]["ip"]);
            let sip = s(&a["server"]["ip"]);
            let port = a["server"]["port"].as_u64().unwrap() as u16;
            check(
                out.edges.iter().any(|x| {
                    x.client.ip.map(|i| i.to_string()) == Some(cip.clone())
                        && x.server.ip.map(|i| i.to_string()) == Some(sip.clone())
                        && x.server_port == port
                        && x.protocol.as_deref() == Some("dicom")
                }),
                format!("DICOM edge {cip} -> {sip}:{port}"),
            );
            let calling = s(&a["calling_ae_title"]);
            let called = s(&a["called_ae_title"]);
            check(
                f.has(&cip, "dicom.calling_ae", &calling),
                format!("{cip} calling AE {calling}"),
            );
            check(
                f.has(&sip, "dicom.called_ae", &called),
                format!("{sip} called AE {called}"),
            );
            let ac = s(&a["application_context"]);
            check(
                f.has(&cip, "dicom.application_context", &ac),
                format!("{cip} application context {ac}"),
            );
            for (who, ip) in [("requestor", &cip), ("acceptor", &sip)] {
                let u = &a[who];
                if u.is_null() {
                    continue;
                }
                for (tk, key) in [
                    ("implementation_class_uid", "dicom.implementation_class_uid"),
                    (
                        "implementation_version_name",
                        "dicom.implementation_version",
                    ),
                    ("max_pdu_length", "dicom.max_pdu_length"),
                ] {
                    let want = s(&u[tk]);
                    check(f.has(ip, key, &want), format!("{who} {ip} {key} = {want}"));
                }
                if let Some(t) = u.get("called_ae_title_in_ac") {
                    let want = s(t);
                    check(
                        f.has(ip, "dicom.ae_title", &want),
                        format!("{ip} answers as {want}"),
                    );
                }
                check(
                    u["other_user_information_items"]
                        .as_array()
                        .is_some_and(|x| x.is_empty())
                        == f.values(ip, "dicom.user_identity").is_empty(),
                    format!("{who} {ip}: user identity negotiation as in truth"),
                );
            }
            for pc in a["presentation_contexts"].as_array().unwrap() {
                let abs = s(&pc["abstract_syntax"]);
                check(
                    f.has(&cip, "dicom.abstract_syntax", &abs),
                    format!("{cip} proposes {abs}"),
                );
                if pc["result"].is_null() {
                    continue;
                }
                let mut v = format!(
                    "id={} abstract={abs} proposed={} result={}",
                    s(&pc["id"]),
                    pc["proposed_transfer_syntaxes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(s)
                        .collect::<Vec<_>>()
                        .join(","),
                    s(&pc["result_text"])
                );
                if let Some(ts) = pc.get("accepted_transfer_syntax") {
                    v.push_str(&format!(" accepted={}", s(ts)));
                }
                check(
                    f.has(&sip, "dicom.presentation_context", &v),
                    format!("{sip} presentation context {v}"),
                );
            }
            *outcome_want
                .entry((sip.clone(), s(&a["association_result"])))
                .or_default() += 1;
            if let Some(r) = a.get("reject").filter(|r| !r.is_null()) {
                let v = format!(
                    "result={} ({}) source={} ({}) reason={} ({})",
                    s(&r["result"]),
                    s(&r["result_text"]),
                    s(&r["source"]),
                    s(&r["source_text"]),
                    s(&r["reason"]),
                    s(&r["reason_text"])
                );
                check(f.has(&sip, "dicom.reject", &v), format!("{sip} reject {v}"));
                check(
                    out.security.iter().any(|x| {
                        x.kind == SecurityKind::DicomAssociationRejected
                            && x.subject.ip.map(|i| i.to_string()) == Some(cip.clone())
                            && x.detail.contains(&s(&r["reason_text"]))
                    }),
                    format!("{cip}: DicomAssociationRejected security observation"),
                );
            }
            if let Some(ab) = a.get("abort").filter(|r| !r.is_null()) {
                let by = if s(&ab["sent_by"]).starts_with("client") {
                    &cip
                } else {
                    &sip
                };
                let v = format!(
                    "source={} ({}) reason={} ({})",
                    s(&ab["source"]),
                    s(&ab["source_text"]),
                    s(&ab["reason"]),
                    s(&ab["reason_text"])
                );
                check(f.has(by, "dicom.abort", &v), format!("{by} abort {v}"));
            }
            for d in a["dimse"].as_array().unwrap() {
                let from = if s(&d["direction"]) == "client->server" {
                    &cip
                } else {
                    &sip
                };
                let mut v = format!("{} {}", s(&d["command"]), s(&d["affected_sop_class_uid"]));
                if let Some(st) = d.get("status") {
                    v.push_str(&format!(" status={}", s(st)));
                }
                *dimse_want.entry((from.clone(), v)).or_default() += 1;
            }
        }
        // DIMSE commands and association outcomes, as exact counts per endpoint.
        let mut dimse_got: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut outcome_got: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (ip, keys) in &f.0 {
            for (v, n) in keys.get("dicom.dimse").into_iter().flatten() {
                dimse_got.insert((ip.clone(), v.clone()), *n);
            }
            for (v, n) in keys.get("dicom.association").into_iter().flatten() {
                outcome_got.insert((ip.clone(), v.clone()), *n);
            }
        }
        check(
            dimse_got == dimse_want,
            format!("DIMSE counts {dimse_got:#?} == {dimse_want:#?}"),
        );
        check(
            outcome_got == outcome_want,
            format!("association outcomes {outcome_got:?} == {outcome_want:?}"),
        );

        // HL7 connections.
        let mut msg_want: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut ack_want: BTreeMap<(String, String), u64> = BTreeMap::new();
        for c in truth["hl7_connections"].as_array().into_iter().flatten() {
            let cip = s(&c["client"]["ip"]);
            let sip = s(&c["server"]["ip"]);
            let port = c["server"]["port"].as_u64().unwrap() as u16;
            check(
                out.edges.iter().any(|x| {
                    x.client.ip.map(|i| i.to_string()) == Some(cip.clone())
                        && x.server.ip.map(|i| i.to_string()) == Some(sip.clone())
                        && x.server_port == port
                        && x.protocol.as_deref() == Some("hl7")
                }),
                format!("HL7 edge {cip} -> {sip}:{port}"),
            );
            let msgs = c["messages"].as_array().unwrap();
            let acks = c["acks"].as_array().unwrap();
            check(
                msgs.len() as u64 == c["message_count"].as_u64().unwrap()
                    && acks.len() as u64 == c["ack_count"].as_u64().unwrap(),
                "truth's own counts agree".into(),
            );
            for m in msgs.iter().chain(acks) {
                let (from, to) = if s(&m["direction"]) == "client->server" {
                    (&cip, &sip)
                } else {
                    (&sip, &cip)
                };
                for (tk, ip, key) in [
                    ("msh3_sending_application", from, "hl7.sending_application"),
                    ("msh4_sending_facility", from, "hl7.sending_facility"),
                    (
                        "msh5_receiving_application",
                        to,
                        "hl7.receiving_application",
                    ),
                    ("msh6_receiving_facility", to, "hl7.receiving_facility"),
                    ("msh11_processing_id", from, "hl7.processing_id"),
                    ("msh12_version", from, "hl7.version"),
                ] {
                    let want = s(&m[tk]);
                    check(f.has(ip, key, &want), format!("{ip} {key} = {want} ({tk})"));
                }
                *msg_want
                    .entry((from.clone(), s(&m["msh9_message_type"])))
                    .or_default() += 1;
                if let Some(code) = m.get("msa1_ack_code") {
                    *ack_want.entry((from.clone(), s(code))).or_default() += 1;
                }
                let ids = strs(&m["segment_ids"]);
                let patient: Vec<&str> = ["PID", "PV1", "NK1", "GT1", "IN1", "OBX"]
                    .into_iter()
                    .filter(|p| ids.contains(*p))
                    .collect();
                if !patient.is_empty() {
                    let v = patient.join(",");
                    check(
                        f.has(from, "hl7.patient_segments", &v),
                        format!("{from} hl7.patient_segments = {v}"),
                    );
                    check(
                        out.security.iter().any(|x| {
                            x.kind == SecurityKind::CleartextPatientData
                                && x.subject.ip.map(|i| i.to_string()) == Some(from.clone())
                        }),
                        format!("{from}: CleartextPatientData"),
                    );
                }
            }
            // The truth's per-connection summaries agree with its message lists.
            let types: u64 = c["message_types"]
                .as_object()
                .unwrap()
                .values()
                .filter_map(Value::as_u64)
                .sum();
            let codes: u64 = c["ack_codes"]
                .as_object()
                .unwrap()
                .values()
                .filter_map(Value::as_u64)
                .sum();
            check(
                types == msgs.len() as u64 && codes == acks.len() as u64,
                "truth summaries".into(),
            );
        }
        let mut msg_got: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut ack_got: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (ip, keys) in &f.0 {
            for (v, n) in keys.get("hl7.message").into_iter().flatten() {
                msg_got.insert((ip.clone(), v.clone()), *n);
            }
            for (v, n) in keys.get("hl7.ack").into_iter().flatten() {
                ack_got.insert((ip.clone(), v.clone()), *n);
            }
        }
        check(
            msg_got == msg_want,
            format!("HL7 message counts {msg_got:?} == {msg_want:?}"),
        );
        check(
            ack_got == ack_want,
            format!("HL7 ACK codes {ack_got:?} == {ack_want:?}"),
        );
    }
    eprintln!("clinical truth: {checks} checks passed");
    assert!(checks > 300, "only {checks} checks ran");
}
