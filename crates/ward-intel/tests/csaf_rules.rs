//! Each implemented CSAF mandatory test, exercised on a crafted document: the base
//! document is valid, and one change per case must make exactly that test fail.

use serde_json::{json, Value};
use ward_intel::csaf;

fn base() -> Value {
    json!({
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "lang": "en-US",
            "publisher": {"category": "vendor", "name": "Example Medical", "namespace": "https://psirt.example.com"},
            "title": "Infusion pump advisory",
            "tracking": {
                "id": "EX-2024-001",
                "version": "2",
                "status": "final",
                "initial_release_date": "2024-01-01T00:00:00Z",
                "current_release_date": "2024-02-01T00:00:00+01:00",
                "revision_history": [
                    {"date": "2024-01-01T00:00:00Z", "number": "1", "summary": "Initial"},
                    {"date": "2024-02-01T00:00:00+01:00", "number": "2", "summary": "Fix"}
                ]
            }
        },
        "product_tree": {
            "branches": [{"category": "vendor", "name": "Example Medical", "branches": [
                {"category": "product_name", "name": "Pump X", "branches": [
                    {"category": "product_version", "name": "4.1", "product": {"name": "Pump X 4.1", "product_id": "P-41",
                        "product_identification_helper": {"purl": "pkg:generic/example/pump-x@4.1", "model_numbers": ["PX-100"],
                            "hashes": [{"filename": "fw.bin", "file_hashes": [{"algorithm": "sha256", "value": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}]}}},
                    {"category": "product_version_range", "name": "vers:generic/>=4.2", "product": {"name": "Pump X >= 4.2", "product_id": "P-42"}}
                ]}
            ]}],
            "full_product_names": [{"name": "Gateway", "product_id": "GW"}],
            "relationships": [{"category": "installed_on", "product_reference": "P-41", "relates_to_product_reference": "GW",
                "full_product_name": {"name": "Pump X 4.1 on Gateway", "product_id": "P-41-GW"}}],
            "product_groups": [{"group_id": "G-ALL", "product_ids": ["P-41", "P-42"]}]
        },
        "vulnerabilities": [{
            "cve": "CVE-2024-0001",
            "cwe": {"id": "CWE-798", "name": "Use of Hard-coded Credentials"},
            "notes": [{"category": "summary", "text": "Hard-coded password."}],
            "product_status": {"known_affected": ["P-41", "P-41-GW"], "fixed": ["P-42"]},
            "remediations": [{"category": "vendor_fix", "details": "Update to 4.2", "group_ids": ["G-ALL"]},
                             {"category": "mitigation", "details": "Segment", "product_ids": ["P-41-GW"]}],
            "scores": [{"products": ["P-41"], "cvss_v3": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL", "attackVector": "NETWORK"}}],
            "threats": [{"category": "impact", "details": "Therapy interruption", "product_ids": ["P-41"]}],
            "involvements": [{"party": "vendor", "status": "completed", "date": "2024-01-01T00:00:00Z"}]
        }]
    })
}

fn findings(doc: &Value) -> Vec<String> {
    let bytes = serde_json::to_vec(doc).expect("serialize");
    csaf::findings(&bytes, "crafted.json")
        .expect("parses")
        .into_iter()
        .map(|f| f.test)
        .collect()
}

fn set(doc: &mut Value, pointer: &str, v: Value) {
    *doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = v;
}

#[test]
fn base_document_is_valid_and_flattens() {
    let doc = base();
    assert_eq!(findings(&doc), Vec::<String>::new());
    let adv =
        csaf::read_strict(&serde_json::to_vec(&doc).expect("json"), "crafted.json").expect("valid");
    assert_eq!(adv.products.len(), 4);
    let p41 = adv.product("P-41").expect("P-41");
    assert_eq!(
        (
            p41.vendor.as_deref(),
            p41.product_name.as_deref(),
            p41.version.as_deref()
        ),
        (Some("Example Medical"), Some("Pump X"), Some("4.1"))
    );
    assert_eq!(p41.identifiers.model_numbers, vec!["PX-100".to_string()]);
    assert_eq!(p41.identifiers.hashes[0].hashes[0].algorithm, "sha256");
    assert_eq!(
        adv.product("P-42").and_then(|p| p.version_range.as_deref()),
        Some("vers:generic/>=4.2")
    );
    let rel = adv.product("P-41-GW").expect("relationship product");
    assert_eq!(
        rel.relationship.as_ref().map(|r| r.category.as_str()),
        Some("installed_on")
    );
    assert_eq!(rel.aliases, vec!["Pump X 4.1".to_string()]);
    let v = &adv.vulnerabilities[0];
    assert_eq!(
        v.remediations[0].product_ids,
        vec!["P-41".to_string(), "P-42".to_string()],
        "group ids resolved"
    );
    assert_eq!(
        v.scores[0].vector,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    );
    assert_eq!(v.product_status.len(), 3);
}

#[test]
fn each_rule_fails_on_its_change() {
    type Change = fn(&mut Value);
    let cases: Vec<(&str, Change)> = vec![
        ("6.1.1", |d| {
            set(
                d,
                "/vulnerabilities/0/product_status/fixed/0",
                json!("NOPE"),
            )
        }),
        ("6.1.2", |d| {
            set(
                d,
                "/product_tree/full_product_names/0/product_id",
                json!("P-41"),
            )
        }),
        ("6.1.3", |d| {
            set(
                d,
                "/product_tree/relationships/0/relates_to_product_reference",
                json!("P-41-GW"),
            )
        }),
        ("6.1.4", |d| {
            set(
                d,
                "/vulnerabilities/0/remediations/0/group_ids/0",
                json!("G-NONE"),
            )
        }),
        ("6.1.5", |d| {
            let g = d["product_tree"]["product_groups"][0].clone();
            d["product_tree"]["product_groups"]
                .as_array_mut()
                .expect("groups")
                .push(g);
        }),
        ("6.1.6", |d| {
            set(
                d,
                "/vulnerabilities/0/product_status/fixed/0",
                json!("P-41"),
            )
        }),
        ("6.1.7", |d| {
            let s = d["vulnerabilities"][0]["scores"][0].clone();
            d["vulnerabilities"][0]["scores"]
                .as_array_mut()
                .expect("scores")
                .push(s);
        }),
        ("6.1.8", |d| {
            set(
                d,
                "/vulnerabilities/0/scores/0/cvss_v3/vectorString",
                json!("CVSS:3.1/AV:Q"),
            )
        }),
        ("6.1.10", |d| {
            set(
                d,
                "/vulnerabilities/0/scores/0/cvss_v3/attackVector",
                json!("LOCAL"),
            )
        }),
        ("6.1.11", |d| {
            set(d, "/vulnerabilities/0/cwe/id", json!("CWE-0798"))
        }),
        ("6.1.12", |d| set(d, "/document/lang", json!("english--"))),
        ("6.1.13", |d| {
            set(d, "/product_tree/branches/0/branches/0/branches/0/product/product_identification_helper/purl", json!("pkg:/x"))
        }),
        ("6.1.14", |d| {
            set(
                d,
                "/document/tracking/revision_history/0/date",
                json!("2024-03-01T00:00:00Z"),
            )
        }),
        ("6.1.15", |d| {
            set(d, "/document/publisher/category", json!("translator"))
        }),
        ("6.1.16", |d| {
            set(d, "/document/tracking/version", json!("1"))
        }),
        ("6.1.17", |d| {
            set(d, "/document/tracking/version", json!("0.9.0"));
            set(
                d,
                "/document/tracking/revision_history",
                json!([{"date": "2024-01-01T00:00:00Z", "number": "0.9.0", "summary": "x"}]),
            );
        }),
        ("6.1.18", |d| {
            set(
                d,
                "/document/tracking/revision_history/0/number",
                json!("0"),
            )
        }),
        ("6.1.19", |d| {
            set(d, "/document/tracking/version", json!("1.0.0"));
            set(
                d,
                "/document/tracking/revision_history",
                json!([{"date": "2024-01-01T00:00:00Z", "number": "1.0.0-rc.1", "summary": "x"}, {"date": "2024-02-01T00:00:00Z", "number": "1.0.0", "summary": "y"}]),
            );
        }),
        ("6.1.20", |d| {
            set(d, "/document/tracking/version", json!("1.0.0-rc.1"));
            set(d, "/document/tracking/status", json!("interim"));
            set(
                d,
                "/document/tracking/revision_history",
                json!([{"date": "2024-01-01T00:00:00Z", "number": "1.0.0-rc.1", "summary": "x"}]),
            );
        }),
        ("6.1.21", |d| {
            set(d, "/document/tracking/version", json!("3"));
            set(
                d,
                "/document/tracking/revision_history/1/number",
                json!("3"),
            );
        }),
        ("6.1.22", |d| {
            set(
                d,
                "/document/tracking/revision_history/0/number",
                json!("2"),
            )
        }),
        ("6.1.23", |d| {
            let v = d["vulnerabilities"][0].clone();
            d["vulnerabilities"].as_array_mut().expect("vulns").push(v);
        }),
        ("6.1.24", |d| {
            let i = d["vulnerabilities"][0]["involvements"][0].clone();
            d["vulnerabilities"][0]["involvements"]
                .as_array_mut()
                .expect("involvements")
                .push(i);
        }),
        ("6.1.25", |d| {
            let h = d["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
                ["product_identification_helper"]["hashes"][0]["file_hashes"][0]
                .clone();
            d["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
                ["product_identification_helper"]["hashes"][0]["file_hashes"]
                .as_array_mut()
                .expect("hashes")
                .push(h);
        }),
        ("6.1.26", |d| {
            set(d, "/document/category", json!("Security Advisory"))
        }),
        ("6.1.27.1", |d| {
            set(
                d,
                "/document/category",
                json!("csaf_informational_advisory"),
            )
        }),
        ("6.1.27.3", |d| {
            set(
                d,
                "/document/category",
                json!("csaf_informational_advisory"),
            )
        }),
        ("6.1.27.4", |d| {
            set(d, "/document/category", json!("csaf_security_advisory"));
            d.as_object_mut().expect("doc").remove("product_tree");
        }),
        ("6.1.27.5", |d| {
            set(d, "/document/category", json!("csaf_security_advisory"));
            d["vulnerabilities"][0]
                .as_object_mut()
                .expect("vuln")
                .remove("notes");
        }),
        ("6.1.27.6", |d| {
            set(d, "/document/category", json!("csaf_security_advisory"));
            d["vulnerabilities"][0]
                .as_object_mut()
                .expect("vuln")
                .remove("product_status");
        }),
        ("6.1.27.7", |d| {
            set(d, "/document/category", json!("csaf_vex"));
            set(
                d,
                "/vulnerabilities/0/product_status",
                json!({"recommended": ["P-42"]}),
            );
        }),
        ("6.1.27.8", |d| {
            set(d, "/document/category", json!("csaf_vex"));
            d["vulnerabilities"][0]
                .as_object_mut()
                .expect("vuln")
                .remove("cve");
        }),
        ("6.1.27.9", |d| {
            set(d, "/document/category", json!("csaf_vex"));
            set(
                d,
                "/vulnerabilities/0/product_status",
                json!({"known_affected": ["P-41", "P-41-GW"], "known_not_affected": ["P-42"]}),
            );
        }),
        ("6.1.27.10", |d| {
            set(d, "/document/category", json!("csaf_vex"));
            set(
                d,
                "/vulnerabilities/0/remediations",
                json!([{"category": "mitigation", "details": "x", "product_ids": ["P-41"]}]),
            );
        }),
        ("6.1.27.11", |d| {
            set(d, "/document/category", json!("csaf_security_advisory"));
            d.as_object_mut().expect("doc").remove("vulnerabilities");
        }),
        ("6.1.28", |d| {
            d["document"]["source_lang"] = json!("en-US");
        }),
        ("6.1.29", |d| {
            set(
                d,
                "/vulnerabilities/0/remediations/1",
                json!({"category": "mitigation", "details": "x"}),
            )
        }),
        ("6.1.30", |d| {
            set(
                d,
                "/document/tracking/revision_history/0/number",
                json!("1.0.0"),
            )
        }),
        ("6.1.31", |d| {
            set(
                d,
                "/product_tree/branches/0/branches/0/branches/0/name",
                json!("4.1 and earlier"),
            )
        }),
        ("6.1.32", |d| {
            d["vulnerabilities"][0]["flags"] = json!([{"label": "component_not_present"}]);
        }),
        ("6.1.33", |d| {
            d["vulnerabilities"][0]["flags"] = json!([{"label": "component_not_present", "product_ids": ["P-42"]}, {"label": "vulnerable_code_not_present", "group_ids": ["G-ALL"]}]);
        }),
    ];
    let mut problems = Vec::new();
    for (test, change) in cases {
        let mut d = base();
        change(&mut d);
        let f = findings(&d);
        if !f.iter().any(|t| t == test) {
            problems.push(format!("{test}: findings {f:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn cvss_computation_hook_runs_for_6_1_9() {
    fn check(_version: &str, _vector: &str, obj: &Value) -> Result<(), String> {
        match obj.get("baseScore").and_then(Value::as_f64) {
            Some(s) if (s - 9.8).abs() < 1e-9 => Ok(()),
            other => Err(format!("computed 9.8, document says {other:?}")),
        }
    }
    let opts = csaf::ValidationOptions {
        cvss_check: Some(check),
        ..Default::default()
    };
    let mut d = base();
    let bytes = serde_json::to_vec(&d).expect("json");
    assert!(csaf::read_with(&bytes, "ok.json", &opts, &[]).is_ok());
    set(
        &mut d,
        "/vulnerabilities/0/scores/0/cvss_v3/baseScore",
        json!(5.0),
    );
    let bytes = serde_json::to_vec(&d).expect("json");
    let e = csaf::read_with(&bytes, "bad.json", &opts, &[]).expect_err("6.1.9 fails");
    assert_eq!(e.test_id(), Some("6.1.9"));
    assert!(
        e.to_string()
            .contains("/vulnerabilities/0/scores/0/cvss_v3"),
        "{e}"
    );
}

#[test]
fn csaf_2_1_metrics_and_cwes_are_read() {
    let mut d = base();
    set(&mut d, "/document/csaf_version", json!("2.1"));
    let v = d["vulnerabilities"][0].as_object_mut().expect("vuln");
    v.remove("scores");
    v.remove("cwe");
    v.insert(
        "cwes".into(),
        json!([{"id": "CWE-798", "name": "Use of Hard-coded Credentials", "version": "4.13"}]),
    );
    v.insert(
        "metrics".into(),
        json!([{"products": ["P-41"], "content": {"cvss_v4": {"version": "4.0", "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "baseScore": 9.3, "baseSeverity": "CRITICAL"}}}]),
    );
    let adv = csaf::read_strict(&serde_json::to_vec(&d).expect("json"), "v21.json")
        .expect("CSAF 2.1 document reads");
    let vul = &adv.vulnerabilities[0];
    assert_eq!(vul.cwe.as_ref().map(|c| c.id.as_str()), Some("CWE-798"));
    assert_eq!(vul.scores.len(), 1);
    assert_eq!(vul.scores[0].version, ward_intel::CvssVersion::V40);
    assert_eq!(vul.scores[0].products, vec!["P-41".to_string()]);
}
