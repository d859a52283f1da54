//! CSAF corpus tests: the 25 CISA ICSMA advisories, the OASIS CSAF 2.0 test suite and
//! the csaf-rs test suite.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use ward_intel::{csaf, ChecksumStatus, ImportOutcome, IntelDb, SignatureStatus};

/// Mandatory tests Ward implements (see `csaf::validate`). 6.1.11 checks names against a
/// built-in table of CWE names (no CWE catalogue in the corpus), see `csaf::cwe`.
const IMPLEMENTED: &[&str] = &[
    "6.1.1",
    "6.1.2",
    "6.1.3",
    "6.1.4",
    "6.1.5",
    "6.1.6",
    "6.1.7",
    "6.1.8",
    "6.1.9",
    "6.1.10",
    "6.1.11",
    "6.1.12",
    "6.1.13",
    "6.1.14",
    "6.1.15",
    "6.1.16",
    "6.1.17",
    "6.1.18",
    "6.1.19",
    "6.1.20",
    "6.1.21",
    "6.1.22",
    "6.1.23",
    "6.1.24",
    "6.1.25",
    "6.1.26",
    "6.1.27.1",
    "6.1.27.2",
    "6.1.27.3",
    "6.1.27.4",
    "6.1.27.5",
    "6.1.27.6",
    "6.1.27.7",
    "6.1.27.8",
    "6.1.27.9",
    "6.1.27.10",
    "6.1.27.11",
    "6.1.28",
    "6.1.29",
    "6.1.30",
    "6.1.31",
    "6.1.32",
    "6.1.33",
];

fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Product ids defined in the JSON, counted without Ward's code.
fn count_product_ids(doc: &Value) -> usize {
    fn walk(b: &Value) -> usize {
        usize::from(b.get("product").is_some()) + arr(b, "branches").iter().map(walk).sum::<usize>()
    }
    let Some(tree) = doc.get("product_tree") else {
        return 0;
    };
    arr(tree, "branches").iter().map(walk).sum::<usize>()
        + arr(tree, "full_product_names").len()
        + arr(tree, "relationships").len()
}

#[test]
fn cisa_icsma_advisories_import_with_exact_counts() {
    let dir = dir("cisa-csaf-icsma/dev");
    let files = files(&dir, ".json");
    assert_eq!(
        files.len(),
        25,
        "expected 25 ICSMA advisories in {}",
        dir.display()
    );
    let mut db = IntelDb::new();
    for f in &files {
        let v = json(f);
        let outcome = db
            .import_file(f)
            .unwrap_or_else(|e| panic!("{} must import: {e}", name(f)));
        assert!(
            matches!(outcome, ImportOutcome::Imported { .. }),
            "{}: {outcome:?}",
            name(f)
        );
        let id = v["document"]["tracking"]["id"]
            .as_str()
            .expect("tracking id");
        let adv = db
            .advisory(id)
            .unwrap_or_else(|| panic!("{} not found by id {id}", name(f)));
        let vulns = arr(&v, "vulnerabilities");
        assert_eq!(
            adv.vulnerabilities.len(),
            vulns.len(),
            "{}: vulnerabilities",
            name(f)
        );
        assert_eq!(
            adv.products.len(),
            count_product_ids(&v),
            "{}: product ids",
            name(f)
        );
        let status: usize = vulns
            .iter()
            .map(|x| {
                x.get("product_status")
                    .and_then(Value::as_object)
                    .map(|o| o.values().map(|l| l.as_array().map_or(0, Vec::len)).sum())
                    .unwrap_or(0)
            })
            .sum();
        let ours: usize = adv
            .vulnerabilities
            .iter()
            .map(|x| x.product_status.len())
            .sum();
        assert_eq!(ours, status, "{}: product_status entries", name(f));
        let rem: usize = vulns.iter().map(|x| arr(x, "remediations").len()).sum();
        let ours: usize = adv
            .vulnerabilities
            .iter()
            .map(|x| x.remediations.len())
            .sum();
        assert_eq!(ours, rem, "{}: remediations", name(f));
        let scores: usize = vulns
            .iter()
            .flat_map(|x| arr(x, "scores"))
            .map(|s| {
                usize::from(s.get("cvss_v2").is_some()) + usize::from(s.get("cvss_v3").is_some())
            })
            .sum();
        let ours: usize = adv.vulnerabilities.iter().map(|x| x.scores.len()).sum();
        assert_eq!(ours, scores, "{}: CVSS scores", name(f));
        // Integrity: every CISA file has a .sha512 and an .asc beside it.
        assert_eq!(
            adv.provenance.checksum,
            ChecksumStatus::Verified {
                algorithm: "SHA-512".into()
            },
            "{}: checksum",
            name(f)
        );
        match &adv.provenance.signature {
            SignatureStatus::SignaturePresentKeyUnknown { issuer } => {
                assert!(issuer.len() >= 16, "{}: issuer {issuer:?}", name(f))
            }
            other => panic!("{}: signature status {other:?}", name(f)),
        }
        assert_eq!(adv.provenance.tracking_id.as_deref(), Some(id));
        assert_eq!(adv.provenance.sha256.len(), 64);
    }
    // Lookups by CVE and product name (facts from INDEX.md).
    let eternal = db.advisories_for_cve("CVE-2017-0144");
    assert!(
        eternal
            .iter()
            .any(|a| a.tracking_id.eq_ignore_ascii_case("ICSMA-18-058-02")),
        "CVE-2017-0144 must be found in icsma-18-058-02"
    );
    assert!(
        !db.find_products("IntelliVue").is_empty(),
        "IntelliVue products must be found"
    );
    assert!(
        db.show("CVE-2020-1938")
            .is_some_and(|s| s.contains("ICSMA-21-187-01")),
        "show CVE-2020-1938 must name ICSMA-21-187-01"
    );
}

#[test]
fn reimport_same_file_changes_nothing_and_newer_revision_supersedes() {
    let dir = dir("cisa-csaf-icsma/dev");
    let f = dir.join("icsma-19-274-01.json");
    let mut db = IntelDb::new();
    assert!(matches!(
        db.import_file(&f),
        Ok(ImportOutcome::Imported { .. })
    ));
    assert!(
        matches!(db.import_file(&f), Ok(ImportOutcome::Duplicate { .. })),
        "second import of the same bytes is a duplicate"
    );
    assert_eq!(db.advisories().len(), 1);
    // A newer revision: bump version and add a revision-history item.
    let mut v = json(&f);
    let rh = v["document"]["tracking"]["revision_history"]
        .as_array_mut()
        .expect("history");
    rh.push(serde_json::json!({"date": "2021-01-01T00:00:00Z", "number": "6", "summary": "later"}));
    v["document"]["tracking"]["version"] = "6".into();
    v["document"]["tracking"]["current_release_date"] = "2021-01-01T00:00:00Z".into();
    let bytes = serde_json::to_vec(&v).expect("serialize");
    let out = db
        .import_bytes(&bytes, "newer.json")
        .expect("newer revision imports");
    assert!(
        matches!(&out, ImportOutcome::Superseded { previous_version, version, .. } if previous_version == "5" && version == "6"),
        "{out:?}"
    );
    assert_eq!(db.advisories().len(), 1);
    assert_eq!(
        db.advisory("ICSMA-19-274-01").map(|a| a.version.as_str()),
        Some("6")
    );
    // Importing the old file again (different bytes from the current revision) is outdated.
    let mut db2 = IntelDb::new();
    db2.import_bytes(&bytes, "newer.json")
        .expect("import newer");
    assert!(matches!(
        db2.import_file(&f),
        Ok(ImportOutcome::Outdated { .. })
    ));
    assert_eq!(
        db2.advisory("ICSMA-19-274-01").map(|a| a.version.as_str()),
        Some("6")
    );
}

struct Case {
    test: String,
    group: String,
    file: std::path::PathBuf,
    valid: bool,
}

fn cases(root: &Path) -> Vec<Case> {
    let tc = json(&root.join("testcases.json"));
    let mut out = Vec::new();
    for t in arr(&tc, "tests") {
        let id = t["id"].as_str().unwrap_or("").to_string();
        let group = t["group"].as_str().unwrap_or("").to_string();
        for (key, valid) in [("failures", false), ("valid", true)] {
            for c in arr(t, key) {
                out.push(Case {
                    test: id.clone(),
                    group: group.clone(),
                    file: root.join(c["name"].as_str().unwrap_or("")),
                    valid,
                });
            }
        }
    }
    out
}

/// csaf-rs test files that are valid for their own test but break the CSAF schema, so
/// no conforming reader can accept them: asserted to be rejected as JSON-shape errors.
const SCHEMA_INVALID: &[(&str, &str)] = &[
    // `ids` is a string, the schema wants an array of {system_name, text}.
    (
        "csaf-rs_csaf-csaf_2_0-6-1-27-08-s11.json",
        "/vulnerabilities/1/ids",
    ),
];

/// `whole_valid`: the suite's valid files must pass every test (OASIS); otherwise only
/// the test they were written for (csaf-rs tests one rule per file).
fn check_suite(root: &Path, whole_valid: bool) -> (usize, usize) {
    let mut rejected = 0;
    let mut accepted = 0;
    let mut problems = Vec::new();
    for c in cases(root) {
        let file = name(&c.file);
        let bytes = read(&c.file);
        let found = csaf::findings(&bytes, &file);
        if let Some((_, ptr)) = SCHEMA_INVALID.iter().find(|(n, _)| *n == file) {
            match &found {
                Err(ward_intel::IntelError::Json { pointer, .. }) if pointer == ptr => {}
                other => problems.push(format!(
                    "{file}: expected a JSON error at {ptr}, got {other:?}"
                )),
            }
            continue;
        }
        let found = match found {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{file} does not parse: {e}"));
                continue;
            }
        };
        let has_test = found.iter().any(|f| f.test == c.test);
        let implemented = c.group == "mandatory" && IMPLEMENTED.contains(&c.test.as_str());
        if !c.valid && implemented {
            if has_test {
                rejected += 1;
                // The strict reader rejects it, naming a test id and a JSON pointer.
                // The rejection names the expected test id with its JSON pointer: as the
                // error's test, or among the other failed tests its message lists.
                let own = found.iter().find(|f| f.test == c.test).map(|f| &f.pointer);
                match csaf::read_strict(&bytes, &file) {
                    Err(ward_intel::IntelError::Invalid {
                        test,
                        pointer,
                        message,
                        ..
                    }) if pointer.starts_with('/')
                        && own.is_some_and(|p| p.starts_with('/'))
                        && (test == c.test
                            || message.contains(&format!(
                                "{} at {}",
                                c.test,
                                own.map_or("", String::as_str)
                            ))) => {}
                    other => problems.push(format!(
                        "{file}: read_strict must reject with test {} and a pointer, got {other:?}",
                        c.test
                    )),
                }
            } else {
                problems.push(format!(
                    "{file} must fail test {}; findings: {found:?}",
                    c.test
                ));
            }
        } else if c.valid && c.group == "mandatory" {
            let ok = if whole_valid {
                found.is_empty()
            } else {
                !has_test
            };
            if ok {
                accepted += 1;
            } else {
                problems.push(format!(
                    "{file} (valid for {}) must be accepted; findings: {found:?}",
                    c.test
                ));
            }
            if whole_valid && csaf::read_strict(&bytes, &file).is_err() {
                problems.push(format!("{file}: read_strict rejects a valid document"));
            }
        } else if c.valid && whole_valid && !found.is_empty() {
            // Valid examples of optional/informative tests are valid documents too.
            problems.push(format!(
                "{file} ({} {}, valid) must pass the mandatory tests; findings: {found:?}",
                c.group, c.test
            ));
        } else if c.valid {
            accepted += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    (rejected, accepted)
}

#[test]
fn oasis_csaf_test_suite() {
    let (rejected, accepted) = check_suite(&dir("oasis-csaf/dev/testcases"), true);
    // testcases.json: 60 failure documents of mandatory tests (all implemented, see
    // IMPLEMENTED); 37 valid mandatory + 24 valid optional/informative documents.
    assert_eq!((rejected, accepted), (60, 61));
}

#[test]
fn csaf_rs_test_suite() {
    let (rejected, accepted) = check_suite(&dir("csaf-rs-testcases/dev"), false);
    // testcases.json: 34 failure documents of mandatory tests; 26 valid mandatory (one of
    // them breaks the schema, see SCHEMA_INVALID) + 2 valid optional documents.
    assert_eq!((rejected, accepted), (34, 27));
}

#[test]
fn oasis_examples_are_valid() {
    for f in files(&dir("oasis-csaf/dev/examples"), ".json") {
        let adv = csaf::read_strict(&read(&f), &name(&f))
            .unwrap_or_else(|e| panic!("{} must be valid: {e}", name(&f)));
        let v = json(&f);
        assert_eq!(
            adv.vulnerabilities.len(),
            arr(&v, "vulnerabilities").len(),
            "{}",
            name(&f)
        );
        assert_eq!(adv.products.len(), count_product_ids(&v), "{}", name(&f));
    }
}

#[test]
fn cisa_vers_all_product_version_is_kept_as_a_range() {
    // CISA writes "vers:all/*" as a product_version name. 6.1.31 matches range words
    // as whitespace-separated words, so this passes, and Ward stores it as a range.
    let f = dir("cisa-csaf-icsma/dev").join("icsma-19-274-01.json");
    let adv =
        csaf::read_strict(&read(&f), "icsma-19-274-01.json").expect("icsma-19-274-01 is valid");
    let ranged = adv
        .products
        .iter()
        .filter(|p| p.version_range.as_deref() == Some("vers:all/*"))
        .count();
    assert_eq!(ranged, 4, "icsma-19-274-01 has 4 products with vers:all/*");
    assert!(
        adv.products.iter().all(|p| p.vendor.is_some()),
        "every product has a vendor"
    );
}
