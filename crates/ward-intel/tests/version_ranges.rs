//! The version ranges CISA really wrote: every `product_version_range` branch name and
//! every `product_version` name in the ICSMA CSAF advisories of the corpus must parse, and
//! a range must not be mistaken for a single version. Boundary tests use real range strings.

use std::path::{Path, PathBuf};

use serde_json::Value;
use ward_intel::version::{parse_predicate, VersionPredicate, VersionScheme};

fn corpus_dir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cisa-csaf-icsma/dev");
    assert!(
        dir.is_dir(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        dir.display()
    );
    dir
}

/// (file, category, name) for every version-like branch of every advisory.
fn collect() -> Vec<(String, String, String)> {
    fn walk(v: &Value, file: &str, out: &mut Vec<(String, String, String)>) {
        let Some(branches) = v.get("branches").and_then(Value::as_array) else {
            return;
        };
        for b in branches {
            let cat = b.get("category").and_then(Value::as_str).unwrap_or("");
            if cat == "product_version_range" || cat == "product_version" {
                if let Some(name) = b.get("name").and_then(Value::as_str) {
                    out.push((file.to_string(), cat.to_string(), name.to_string()));
                }
            }
            walk(b, file, out);
        }
    }
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        25,
        "expected the 25 ICSMA advisories in {}",
        dir.display()
    );
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", f.display()));
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(tree) = json.get("product_tree") {
            walk(tree, &name, &mut out);
        }
    }
    out
}

fn unannotated(p: &VersionPredicate) -> &VersionPredicate {
    match p {
        VersionPredicate::Annotated { predicate, .. } => unannotated(predicate),
        other => other,
    }
}

#[test]
fn every_cisa_version_string_parses() {
    let all = collect();
    let ranges = all
        .iter()
        .filter(|(_, c, _)| c == "product_version_range")
        .count();
    // Distinct range strings across the 25 advisories are 34; branches repeat some.
    assert!(
        ranges >= 34,
        "only {ranges} product_version_range branches found"
    );
    let mut failures = Vec::new();
    let mut listing = String::new();
    let mut seen = std::collections::HashSet::new();
    for (file, cat, name) in &all {
        if !seen.insert((cat, name)) {
            continue;
        }
        match parse_predicate(name) {
            Ok(p) => {
                listing.push_str(&format!("{file} {cat} {name:?} => {p}\n"));
                if cat == "product_version_range"
                    && matches!(unannotated(&p), VersionPredicate::Exact { .. })
                {
                    failures.push(format!("{file}: range {name:?} read as one version: {p:?}"));
                }
                // Display gives a string that reads back to the same predicate.
                match parse_predicate(&p.to_string()) {
                    Ok(back) if back == p => {}
                    other => failures.push(format!(
                        "{file}: {name:?} displays as {:?} which reads back as {other:?}",
                        p.to_string()
                    )),
                }
            }
            Err(e) => failures.push(format!("{file}: {cat} {name:?} does not parse: {e}")),
        }
    }
    eprintln!("{listing}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn contains(pred: &str, version: &str) -> Option<bool> {
    parse_predicate(pred)
        .unwrap_or_else(|e| panic!("{pred:?}: {e}"))
        .contains(version, VersionScheme::Generic)
}

#[test]
fn boundaries_of_real_cisa_ranges() {
    // Each range string below occurs verbatim in an ICSMA advisory of the corpus; the test
    // above proves they are all read from the files; here the semantics at the edges.
    let all = collect();
    let present = |s: &str| all.iter().any(|(_, _, n)| n == s);
    let cases: &[(&str, &str, Option<bool>)] = &[
        ("< 1.7.15", "1.7.15", Some(false)), // the first fixed version
        ("< 1.7.15", "1.7.14", Some(true)),
        ("< 1.7.15", "1.7.15.1", Some(false)),
        ("<12.2.8.410", "12.2.8.409", Some(true)),
        ("<12.2.8.410", "12.2.8.410", Some(false)),
        ("<= 12.2.1.5", "12.2.1.5", Some(true)),
        ("<= 12.2.1.5", "12.2.1.6", Some(false)),
        ("<= 12.2.x.x", "12.2.7.1", Some(true)),
        ("<= 12.2.x.x", "12.3.0.0", Some(false)),
        (">= 4.0 | <= 4.6", "4.0", Some(true)),
        (">= 4.0 | <= 4.6", "4.6", Some(true)),
        (">= 4.0 | <= 4.6", "3.9", Some(false)),
        (">= 4.0 | <= 4.6", "4.7", Some(false)),
        (">= 2003 | <= 2006", "2005", Some(true)),
        (">= 2003 | <= 2006", "2007", Some(false)),
        (">=BT02 | <= BT06", "BT04", Some(true)),
        (">=BT02 | <= BT06", "BT07", Some(false)),
        ("<=2023.3_Build_9342", "2023.3_Build_9342", Some(true)),
        ("<=2023.3_Build_9342", "2023.3_Build_9343", Some(false)),
        ("<= 3.0 D15", "3.0 D14", Some(true)),
        ("<= 3.0 D15", "3.0 D16", Some(false)),
        (
            "<= 1.54 (integrated into GE MobileLink)",
            "1.54",
            Some(true),
        ),
        (
            "<= 1.54 (integrated into GE MobileLink)",
            "1.55",
            Some(false),
        ),
        ("vers:all/*", "anything", Some(true)),
        ("<= 4.2", "firmware unknown", None),
        ("<= 4.2", "", None),
    ];
    for (pred, version, expected) in cases {
        assert!(
            present(pred),
            "{pred:?} no longer occurs in the corpus advisories"
        );
        assert_eq!(
            contains(pred, version),
            *expected,
            "range {pred:?} (from the ICSMA corpus) with version {version:?}"
        );
    }
    // "v6.x (with Wireless Battery Modules ...)": the series decides, the remark is kept.
    let battery = all
        .iter()
        .map(|(_, _, n)| n.as_str())
        .find(|n| n.starts_with("v6.x (with Wireless Battery Modules"))
        .expect("the v6.x battery-module range is in the corpus");
    let p = parse_predicate(battery).expect("parses");
    assert!(p.note().is_some_and(|n| n.contains("v20D29")), "{p:?}");
    assert_eq!(p.contains("6.3", VersionScheme::Generic), Some(true));
    assert_eq!(p.contains("v8.1", VersionScheme::Generic), Some(false));
}
