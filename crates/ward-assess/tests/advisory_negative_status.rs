//! Advisory-side `fixed` and `known_not_affected` product statuses (none of the corpus
//! ICSMA advisories uses them, so the advisory is crafted): a device matching a product the
//! advisory lists as fixed or not affected has the same CVE's finding closed with that
//! statement (fixed pointing to the version), a device outside them stays open, and an
//! unknown version closes nothing.

mod common;

use common::asset;
use ward_assess::report::{assess, AssessInput, Assessment, Scored};
use ward_identify::Category;
use ward_intel::IntelDb;

const ADVISORY: &str = r#"{
  "document": {
    "category": "csaf_security_advisory",
    "csaf_version": "2.0",
    "title": "Acme Medical InfuCare infusion pumps",
    "publisher": {"category": "vendor", "name": "Acme Medical", "namespace": "https://acme.example"},
    "notes": [{"category": "summary", "text": "Crafted for Ward's tests."}],
    "references": [{"category": "self", "summary": "this", "url": "https://acme.example/psirt/acme-2099-01.json"}],
    "tracking": {
      "id": "ACME-2099-01", "status": "final", "version": "1",
      "initial_release_date": "2099-01-01T00:00:00Z", "current_release_date": "2099-01-01T00:00:00Z",
      "revision_history": [{"date": "2099-01-01T00:00:00Z", "number": "1", "summary": "Initial"}]
    }
  },
  "product_tree": {"branches": [{"category": "vendor", "name": "Acme Medical", "branches": [
    {"category": "product_name", "name": "InfuCare 300", "branches": [
      {"category": "product_version_range", "name": "<3.1",
       "product": {"name": "Acme Medical InfuCare 300 <3.1", "product_id": "P300-OLD"}}]},
    {"category": "product_name", "name": "InfuCare 300 Lite",
     "product": {"name": "Acme Medical InfuCare 300 Lite", "product_id": "P300-LITE"}},
    {"category": "product_name", "name": "InfuCare 500", "branches": [
      {"category": "product_version", "name": "all",
       "product": {"name": "Acme Medical InfuCare 500 all versions", "product_id": "P500"}},
      {"category": "product_version", "name": "4.2",
       "product": {"name": "Acme Medical InfuCare 500 4.2", "product_id": "P500-FIX"}}]}
  ]}]},
  "vulnerabilities": [{
    "cve": "CVE-2099-1000",
    "title": "Hard-coded credentials",
    "notes": [{"category": "description", "text": "Hard-coded credentials."}],
    "product_status": {
      "known_affected": ["P300-OLD", "P500"],
      "known_not_affected": ["P300-LITE"],
      "fixed": ["P500-FIX"]
    },
    "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["P300-LITE"]}],
    "threats": [{"category": "impact", "details": "The Lite model has no network service.", "product_ids": ["P300-LITE"]}],
    "remediations": [{"category": "vendor_fix", "details": "Update to 3.1 (InfuCare 300) or 4.2 (InfuCare 500).", "product_ids": ["P300-OLD", "P500"]}]
  }]
}"#;

fn run(db: &IntelDb) -> Assessment {
    let pump = |id: &str, model: &str, v: Option<&str>| {
        asset(id, "Acme Medical", model, v, Some(Category::InfusionPump))
    };
    assess(AssessInput {
        assets: vec![
            pump("p300-20", "InfuCare 300", Some("2.0")),
            pump("p300-31", "InfuCare 300", Some("3.1")),
            pump("lite-20", "InfuCare 300 Lite", Some("2.0")),
            pump("p500-41", "InfuCare 500", Some("4.1")),
            pump("p500-42", "InfuCare 500", Some("4.2")),
            pump("p500-unk", "InfuCare 500", None),
        ],
        flows: &[],
        intel: db,
        sboms: vec![],
        local: &[],
        local_vex: &[],
        baseline: None,
        today: "2026-11-29",
    })
}

#[test]
fn fixed_and_known_not_affected_close_exactly_their_devices() {
    let mut db = IntelDb::new();
    db.import_bytes(ADVISORY.as_bytes(), "acme-2099-01.json")
        .expect("crafted advisory imports");
    let r = run(&db);
    let get = |a: &str| -> Option<&Scored> { r.findings.iter().find(|s| s.finding.asset_id == a) };

    // Inside "<3.1": open, with the vendor fix as remediation.
    let f = get("p300-20").expect("InfuCare 300 2.0 is affected");
    assert!(f.finding.vex.is_none(), "{:?}", f.finding.vex);
    assert_ne!(f.risk.tier.as_str(), "closed");
    // 3.1 is outside "<3.1": no finding at all.
    assert!(get("p300-31").is_none());

    // The Lite model's name contains "InfuCare 300", so the affected product matches it
    // by name; the advisory says the Lite model is not affected: closed, with the flag
    // label as justification and the impact threat as the reason.
    let f = get("lite-20").expect("Lite matched by name, then closed");
    let v = f
        .finding
        .vex
        .as_ref()
        .expect("closed by known_not_affected");
    assert_eq!(v.status, "not_affected");
    assert_eq!(
        v.justification.as_deref(),
        Some("vulnerable_code_not_present")
    );
    assert!(v.suppresses);
    assert_eq!(v.source, "ACME-2099-01");
    assert_eq!(f.risk.tier.as_str(), "closed");

    // InfuCare 500: all versions affected, 4.2 listed as fixed.
    let f = get("p500-41").expect("4.1 affected");
    assert!(f.finding.vex.is_none());
    let f = get("p500-42").expect("4.2 matched, then closed as fixed");
    let v = f.finding.vex.as_ref().expect("closed by fixed");
    assert_eq!(v.status, "fixed");
    assert_eq!(v.fixed_version.as_deref(), Some("4.2"));
    assert!(v.suppresses);
    let text = r.explain(&f.finding.id).expect("explain").join("\n");
    assert!(text.contains("fixed"), "{text}");

    // Unknown version: affected (all versions) but the fixed 4.2 cannot be ruled in or
    // out: stays open.
    let f = get("p500-unk").expect("unknown version");
    assert!(f.finding.vex.is_none(), "{:?}", f.finding.vex);
    assert_ne!(f.risk.tier.as_str(), "closed");
    assert_eq!(r.findings.len(), 5, "one finding per device except p300-31");
}
