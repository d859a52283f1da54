//! The CLI-facing API: import_paths over folders, the report and its Display,
//! validate_paths, show, and CSAF VEX statements.

mod common;
use common::*;
use std::cell::Cell;
use std::path::PathBuf;
use ward_intel::{import_paths, validate_paths, IntelDb, VexStatus};

#[test]
fn import_folders_reports_imported_skipped_rejected() {
    let icsma = dir("cisa-csaf-icsma/dev");
    let kev = dir("cisa-kev/dev");
    let osv = dir("osv-schema/dev/osv");
    let mut db = IntelDb::new();
    let seen = Cell::new(0);
    let report = import_paths(&mut db, &[icsma.clone(), kev.clone(), osv.clone()], &|_| {
        seen.set(seen.get() + 1)
    });
    // 25 advisories (their .asc/.sha512 are sidecars), KEV JSON + CSV + schema, 8 OSV
    // (6 valid, nointroduced-*, nopackage-*).
    assert_eq!(seen.get(), 25 + 3 + 8, "files visited");
    assert_eq!(
        report.rejected.len(),
        1,
        "only nointroduced-* is rejected: {:?}",
        report.rejected
    );
    assert!(report.rejected[0]
        .0
        .to_string_lossy()
        .contains("nointroduced-"));
    assert!(
        report.rejected[0].1.contains("osv:introduced"),
        "{}",
        report.rejected[0].1
    );
    // The KEV JSON schema is JSON of no known format: skipped, not rejected.
    assert!(report.skipped.iter().any(|(p, why)| name(p).ends_with("schema.json") && why.contains("not an intel format")), "{:?}", report.skipped);
    // nopackage-GHSA-9v2f-6vcg-3hgv has the id and modified date of GHSA-9v2f-6vcg-3hgv:
    // not newer, so skipped.
    assert!(
        report
            .skipped
            .iter()
            .any(|(p, why)| name(p).starts_with("nopackage-") && why.contains("not newer")),
        "{:?}",
        report.skipped
    );
    assert_eq!(report.imported.len(), 25 + 2 + 6, "{:?}", report.imported);
    assert_eq!(db.advisories().len(), 25);
    assert_eq!(db.kev_entries().count(), 1252);
    let text = report.to_string();
    assert!(
        text.ends_with("33 imported, 2 skipped, 1 rejected"),
        "{text}"
    );

    // Importing again changes nothing: every file is a duplicate.
    let again = import_paths(&mut db, &[icsma], &|_| {});
    assert_eq!((again.imported.len(), again.skipped.len()), (0, 25));
    assert!(again
        .skipped
        .iter()
        .all(|(_, why)| why.contains("same SHA-256")));
    assert_eq!(db.advisories().len(), 25);
}

#[test]
fn an_explicit_unknown_file_is_rejected() {
    let f = dir("cisa-kev/dev").join("known_exploited_vulnerabilities_schema.json");
    let mut db = IntelDb::new();
    let report = import_paths(&mut db, &[f], &|_| {});
    assert_eq!(
        report.rejected.len(),
        1,
        "a file named on the command line must be a known format"
    );
    assert!(!report.is_ok());
}

#[test]
fn validate_paths_reports_invalid_files() {
    let ok = validate_paths(&[dir("oasis-csaf/dev/examples")]);
    assert!(ok.is_ok(), "{ok}");
    assert_eq!(ok.files.len(), 12, "12 OASIS examples");
    let root = dir("oasis-csaf/dev/testcases/mandatory");
    let bad: Vec<PathBuf> = [
        "oasis_csaf_tc-csaf_2_0-2021-6-1-01-01.json",
        "oasis_csaf_tc-csaf_2_0-2021-6-1-01-11.json",
    ]
    .iter()
    .map(|n| root.join(n))
    .collect();
    let report = validate_paths(&bad);
    assert!(!report.is_ok());
    assert_eq!(report.invalid_count(), 1);
    assert_eq!(report.files[0].test.as_deref(), Some("6.1.1"));
    assert!(
        report.files[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains(" at /product_tree/")),
        "{:?}",
        report.files[0].error
    );
    assert!(report.files[1].error.is_none());
    assert!(report.to_string().ends_with("2 files, 1 invalid"));
    // In a folder, a JSON file of no intel format is skipped, not invalid.
    let kev = validate_paths(&[dir("cisa-kev/dev")]);
    assert!(kev.is_ok(), "{kev}");
    assert_eq!(
        kev.files.iter().filter(|f| f.skipped.is_some()).count(),
        1,
        "the KEV JSON schema is skipped"
    );
}

#[test]
fn show_advisory_cve_and_product() {
    let mut db = IntelDb::new();
    for f in files(&dir("cisa-csaf-icsma/dev"), ".json") {
        db.import_file(&f).expect("imports");
    }
    db.import_file(&dir("cisa-kev/dev").join("known_exploited_vulnerabilities_2025-01-24.json"))
        .expect("KEV");
    let adv = db
        .show("icsma-18-058-02")
        .expect("advisory by id, any case");
    assert!(
        adv.contains("\"kind\": \"advisory\""),
        "{}",
        &adv[..200.min(adv.len())]
    );
    let cve = db.show("CVE-2017-0144").expect("CVE view");
    assert!(
        cve.contains("\"kind\": \"cve\"")
            && cve.contains("ICSMA-18-058-02")
            && cve.contains("\"known_ransomware_campaign_use\""),
        "CVE view names the advisory and KEV entry"
    );
    let product = db.show("Alaris").expect("product view");
    assert!(
        product.contains("\"kind\": \"products\"") && product.contains("known_affected"),
        "product view lists statuses"
    );
    assert!(db.show("no such thing anywhere").is_none());
}

#[test]
fn csaf_vex_examples_become_vex_statements() {
    let root = dir("oasis-csaf/dev/examples");
    let mut total = 0;
    for f in files(&root, ".json")
        .into_iter()
        .filter(|f| name(f).starts_with("2022-evd-uc-"))
    {
        let v = json(&f);
        let adv = ward_intel::csaf::read_strict(&read(&f), &name(&f)).expect("valid example");
        let expected: usize = v["vulnerabilities"]
            .as_array()
            .map(|vs| {
                vs.iter()
                    .map(|x| {
                        [
                            "known_affected",
                            "known_not_affected",
                            "fixed",
                            "first_fixed",
                            "under_investigation",
                        ]
                        .iter()
                        .map(|k| x["product_status"][*k].as_array().map_or(0, Vec::len))
                        .sum::<usize>()
                    })
                    .sum()
            })
            .unwrap_or(0);
        let st = adv.vex_statements();
        assert_eq!(st.len(), expected, "{}: VEX statements", name(&f));
        for s in st.iter().filter(|s| s.status == VexStatus::NotAffected) {
            assert!(
                s.justification.is_some() || s.impact_statement.is_some(),
                "{}: not_affected {} has a reason",
                name(&f),
                s.product
            );
        }
        total += st.len();
    }
    assert!(total >= 5, "total {total}");
}
