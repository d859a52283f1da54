//! Exported VEX documents: CycloneDX 1.6 validated against the corpus JSON schema
//! (cyclonedx-spec-tests/schema, with Python's `jsonschema`, the reference validator),
//! OpenVEX re-read by ward-intel's OpenVEX reader and checked for the 0.2.0 structure,
//! CSAF VEX re-imported through ward-intel's CSAF reader with strict validation.

mod common;

use common::{asset, corpus, icsma_db};
use std::process::Command;
use ward_assess::vex::{
    export_csaf_vex, export_cyclonedx, export_openvex, Justification, LocalStatement, LocalStatus,
    Publisher,
};
use ward_assess::{Finding, MatchIndex};
use ward_identify::Category;
use ward_intel::VexStatus;

fn findings_and_statements() -> (Vec<Finding>, Vec<LocalStatement>) {
    let db = icsma_db();
    let index = MatchIndex::build(db.advisories(), &[]);
    let assets = vec![
        asset(
            "isp",
            "Philips",
            "IntelliSpace Portal",
            Some("8.0.3"),
            Some(Category::ClinicalWorkstation),
        ),
        asset(
            "dcmtk",
            "OFFIS",
            "DCMTK",
            Some("3.6.6"),
            Some(Category::Pacs),
        ),
    ];
    let fs = index.match_all(&assets);
    let pick = |a: &str, v: &str| -> String {
        fs.iter()
            .find(|f| f.asset_id == a && f.vulnerability == v)
            .unwrap_or_else(|| panic!("no finding {v} on {a}"))
            .id
            .clone()
    };
    let st = |id: String, status, j, impact: Option<&str>, action: Option<&str>| LocalStatement {
        finding_id: id,
        status,
        justification: j,
        impact_statement: impact.map(str::to_string),
        action_statement: action.map(str::to_string),
        author: "biomed@hospital.example".into(),
        timestamp: "2026-11-29T09:00:00Z".into(),
    };
    let local = vec![
        st(
            pick("isp", "CVE-2017-0144"),
            LocalStatus::NotAffected,
            Some(Justification::ProtectedByMitigatingControl),
            Some("SMBv1 disabled and port 445 blocked at the clinical zone boundary."),
            None,
        ),
        st(
            pick("isp", "CVE-2018-5474"),
            LocalStatus::Affected,
            None,
            None,
            Some("Vendor patch scheduled; access restricted to the radiology VLAN."),
        ),
        st(
            pick("dcmtk", "CVE-2022-2119"),
            LocalStatus::NotAffected,
            Some(Justification::ProtectedAtPerimeter),
            None,
            None,
        ),
        st(
            pick("dcmtk", "CVE-2022-2121"),
            LocalStatus::Fixed,
            None,
            None,
            None,
        ),
    ];
    (fs, local)
}

fn publisher() -> Publisher {
    Publisher {
        name: "Example Hospital".into(),
        namespace: "https://hospital.example".into(),
    }
}

const VALIDATE_PY: &str = r#"
import json, sys, pathlib
from jsonschema import Draft7Validator
from referencing import Registry, Resource
schema_dir = pathlib.Path(sys.argv[1])
reg = Registry()
for name in ["spdx.schema.json", "jsf-0.82.schema.json"]:
    res = Resource.from_contents(json.loads((schema_dir / name).read_text()))
    reg = reg.with_resource(name, res).with_resource("http://cyclonedx.org/schema/" + name, res)
schema = json.loads((schema_dir / "bom-1.6.schema.json").read_text())
doc = json.loads(pathlib.Path(sys.argv[2]).read_text())
errors = sorted(Draft7Validator(schema, registry=reg, format_checker=Draft7Validator.FORMAT_CHECKER).iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print("/".join(str(p) for p in e.path), e.message)
sys.exit(1 if errors else 0)
"#;

#[test]
fn cyclonedx_vex_validates_against_schema_1_6() {
    let (fs, local) = findings_and_statements();
    let doc = export_cyclonedx(&fs, &local, &publisher(), "2026-11-29T09:00:00Z");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vex.cdx.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
    let schema_dir = corpus().join("cyclonedx-spec-tests/schema");
    let out = Command::new("python3")
        .arg("-c")
        .arg(VALIDATE_PY)
        .arg(&schema_dir)
        .arg(&path)
        .output()
        .expect("python3 with the jsonschema package is required for this test");
    assert!(
        out.status.success(),
        "exported CycloneDX VEX does not validate against {}/bom-1.6.schema.json:\n{}{}",
        schema_dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
    assert_eq!(vulns.len(), 4);
    assert_eq!(
        vulns[0]["analysis"]["justification"],
        "protected_by_mitigating_control"
    );
    // Ward's own CycloneDX reader reads it back with the same statuses.
    let mut db = ward_intel::IntelDb::new();
    db.import_file(&path)
        .expect("ward-intel reads the exported CycloneDX VEX");
    let stmts = &db.sboms()[0].vex;
    assert_eq!(stmts.len(), 4);
    assert_eq!(stmts[0].status, VexStatus::NotAffected);
    assert_eq!(stmts[1].status, VexStatus::Affected);
    assert_eq!(stmts[3].status, VexStatus::Fixed);
}

#[test]
fn openvex_export_has_the_0_2_0_structure() {
    let (fs, local) = findings_and_statements();
    let doc = export_openvex(&fs, &local, &publisher(), "2026-11-29T09:00:00Z");
    assert_eq!(doc["@context"], "https://openvex.dev/ns/v0.2.0");
    assert!(doc["@id"]
        .as_str()
        .is_some_and(|s| s.starts_with("https://hospital.example/vex/")));
    for key in ["author", "timestamp", "version", "statements"] {
        assert!(doc.get(key).is_some(), "OpenVEX document needs {key}");
    }
    const JUSTIFICATIONS: &[&str] = &[
        "component_not_present",
        "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist",
    ];
    // The rules of the OpenVEX 0.2.0 JSON schema (openvex/spec openvex_json_schema.json;
    // not in the corpus, so they are checked here one by one): no properties beyond the
    // listed ones at any level, a not_affected statement has exactly one of justification
    // and impact_statement, an affected one has an action_statement.
    let keys = |v: &serde_json::Value, allowed: &[&str], what: &str| {
        for k in v.as_object().expect(what).keys() {
            assert!(
                allowed.contains(&k.as_str()),
                "{what}: property {k} not allowed"
            );
        }
    };
    keys(
        &doc,
        &[
            "@context",
            "@id",
            "author",
            "role",
            "timestamp",
            "last_updated",
            "version",
            "tooling",
            "statements",
        ],
        "document",
    );
    assert!(doc["version"].as_u64().is_some_and(|v| v >= 1));
    for s in doc["statements"].as_array().expect("statements") {
        keys(
            s,
            &[
                "@id",
                "version",
                "vulnerability",
                "timestamp",
                "last_updated",
                "products",
                "status",
                "supplier",
                "status_notes",
                "justification",
                "impact_statement",
                "action_statement",
                "action_statement_timestamp",
            ],
            "statement",
        );
        keys(
            &s["vulnerability"],
            &["@id", "name", "description", "aliases"],
            "vulnerability",
        );
        for p in s["products"].as_array().expect("products") {
            keys(
                p,
                &["@id", "identifiers", "hashes", "subcomponents"],
                "product",
            );
            for c in p["subcomponents"].as_array().into_iter().flatten() {
                keys(c, &["@id", "identifiers", "hashes"], "subcomponent");
            }
        }
        if s["status"] == "not_affected" {
            assert!(
                s["justification"].is_string() != s["impact_statement"].is_string(),
                "not_affected needs exactly one of justification and impact_statement: {s}"
            );
        }
        assert!(s["vulnerability"]["name"].is_string());
        assert!(s["products"]
            .as_array()
            .is_some_and(|p| !p.is_empty() && p[0]["@id"].is_string()));
        match s["status"].as_str().expect("status") {
            "not_affected" => assert!(
                s["justification"]
                    .as_str()
                    .is_some_and(|j| JUSTIFICATIONS.contains(&j))
                    || s["impact_statement"].is_string(),
                "not_affected needs a justification or impact statement: {s}"
            ),
            "affected" => assert!(
                s["action_statement"].is_string(),
                "affected needs an action statement"
            ),
            "fixed" | "under_investigation" => {}
            other => panic!("status {other} is not an OpenVEX status"),
        }
    }
    // Re-read by ward-intel's OpenVEX reader.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hospital.openvex.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
    let mut db = ward_intel::IntelDb::new();
    db.import_file(&path)
        .expect("ward-intel reads the exported OpenVEX");
    let st = &db.vex_documents()[0].statements;
    assert_eq!(st.len(), 4);
    assert_eq!(
        st[0].justification.as_deref(),
        Some("inline_mitigations_already_exist")
    );
    assert_eq!(
        st[2].justification.as_deref(),
        Some("vulnerable_code_cannot_be_controlled_by_adversary")
    );
}

#[test]
fn csaf_vex_reimports_through_the_csaf_validator() {
    let (fs, local) = findings_and_statements();
    let doc = export_csaf_vex(
        &fs,
        &local,
        &publisher(),
        "2026-11-29T09:00:00Z",
        "WARD-VEX-2026-0001",
    );
    let bytes = serde_json::to_vec_pretty(&doc).expect("json");
    let adv = ward_intel::csaf::read_strict(&bytes, "export.csaf.json").unwrap_or_else(|e| {
        panic!("exported CSAF VEX rejected by ward-intel's strict CSAF validator: {e}")
    });
    assert_eq!(adv.category, "csaf_vex");
    assert_eq!(adv.vulnerabilities.len(), 4);
    let v = adv
        .vulnerabilities
        .iter()
        .find(|v| v.cve.as_deref() == Some("CVE-2017-0144"))
        .expect("CVE-2017-0144");
    assert_eq!(v.product_status.known_not_affected.len(), 1);
    assert_eq!(v.flags[0].label, "inline_mitigations_already_exist");
    let v = adv
        .vulnerabilities
        .iter()
        .find(|v| v.cve.as_deref() == Some("CVE-2018-5474"))
        .expect("CVE-2018-5474");
    assert_eq!(v.product_status.known_affected.len(), 1);
    assert_eq!(v.remediations[0].category, "mitigation");
    // And the import path (with its tolerated findings) accepts it too.
    let mut db = ward_intel::IntelDb::new();
    db.import_bytes(&bytes, "export.csaf.json")
        .expect("IntelDb imports the CSAF VEX");
}
