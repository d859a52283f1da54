//! JSON-schema validation against the official schemas in the corpus, read in place:
//! CSAF 2.0 (with the FIRST CVSS schemas it refers to), CycloneDX 1.4-1.7 (with SPDX and
//! JSF), OSV and SPDX 2.3. Valid corpus documents pass; the CycloneDX `invalid-*` spec
//! tests fail; violations name the JSON pointer; malformed input never panics.

mod common;
use common::*;
use std::path::PathBuf;
use ward_intel::{Format, IntelError, SchemaKind, SchemaSet};

fn schema_dirs() -> Vec<PathBuf> {
    [
        "oasis-csaf/schema",
        "cyclonedx-spec-tests/schema",
        "osv-schema/schema",
        "spdx-spec-examples/schema",
    ]
    .iter()
    .map(|d| dir(d))
    .collect()
}

fn schemas() -> SchemaSet {
    SchemaSet::load_dirs(&schema_dirs()).unwrap_or_else(|e| panic!("corpus schemas load: {e}"))
}

fn check_file(s: &SchemaSet, p: &std::path::Path) -> Result<Option<SchemaKind>, IntelError> {
    let bytes = read(p);
    let n = name(p);
    let (format, _, _) = ward_intel::read_document(&bytes, &n)
        .unwrap_or_else(|e| panic!("{n} must read before schema validation: {e}"));
    s.check(format, &bytes, &n)
}

#[test]
fn every_official_schema_loads_offline() {
    let s = schemas();
    let kinds: Vec<String> = s.kinds().map(ToString::to_string).collect();
    for (n, r) in s.skipped() {
        println!("skipped {n}: {r}");
    }
    assert_eq!(
        kinds,
        [
            "CSAF 2.0",
            "CycloneDX 1.4",
            "CycloneDX 1.5",
            "CycloneDX 1.6",
            "OSV",
            "SPDX 2.3"
        ]
    );
    // bom-1.7 refers to cryptography-defs.schema.json, which the corpus lacks: it is
    // skipped (and never fetched), the others work.
    assert_eq!(s.skipped().len(), 1, "{:?}", s.skipped());
    assert!(s.skipped()[0].0.ends_with("bom-1.7.schema.json"));
    assert!(
        s.skipped()[0].1.contains("cryptography-defs"),
        "{:?}",
        s.skipped()
    );
}

#[test]
fn csaf_advisories_and_examples_pass_the_csaf_schema() {
    let s = schemas();
    let mut n = 0;
    for d in ["cisa-csaf-icsma/dev", "oasis-csaf/dev/examples"] {
        for f in files(&dir(d), ".json") {
            let r = check_file(&s, &f);
            assert_eq!(
                r.as_ref().ok().cloned().flatten(),
                Some(SchemaKind::Csaf20),
                "{}: {r:?}",
                f.display()
            );
            n += 1;
        }
    }
    assert_eq!(n, 25 + 12, "25 CISA advisories and 12 OASIS examples");
}

#[test]
fn oasis_valid_testcases_pass_the_csaf_schema() {
    let s = schemas();
    let tc = json(&dir("oasis-csaf/dev/testcases").join("testcases.json"));
    let mut n = 0;
    for t in tc["tests"].as_array().into_iter().flatten() {
        for c in t["valid"].as_array().into_iter().flatten() {
            let p = dir("oasis-csaf/dev/testcases").join(c["name"].as_str().unwrap_or(""));
            let doc = json(&p);
            let v = s.validate(&SchemaKind::Csaf20, &doc).expect("CSAF schema");
            assert!(v.is_empty(), "{}: {v:?}", p.display());
            n += 1;
        }
    }
    assert!(n >= 50, "{n} valid OASIS test documents");
}

/// CycloneDX spec tests: every `valid-*` JSON BOM passes the schema of its version and
/// every `invalid-*` JSON BOM fails it, except those listed (rules the schema cannot
/// express; Ward's own reader rejects them, see sbom_corpus.rs).
#[test]
fn cyclonedx_spec_tests_against_the_cyclonedx_schemas() {
    let s = schemas();
    let root = dir("cyclonedx-spec-tests/dev");
    let (mut valid, mut invalid) = (0, 0);
    let mut problems = Vec::new();
    let mut not_by_schema = Vec::new();
    for f in files(&root, ".json") {
        let n = name(&f);
        let bytes = read(&f);
        let r = s.check(Format::CycloneDxJson, &bytes, &n);
        if f.parent().is_some_and(|d| d.ends_with("1.7")) {
            // No usable 1.7 schema (see every_official_schema_loads_offline): not checked.
            assert!(matches!(r, Ok(None)), "{n}: {r:?}");
            continue;
        }
        if n.starts_with("valid-") {
            valid += 1;
            match r {
                Ok(Some(SchemaKind::CycloneDx(_))) => {}
                other => problems.push(format!("{}: {other:?}", f.display())),
            }
        } else if n.starts_with("invalid-") {
            invalid += 1;
            match r {
                Err(IntelError::Invalid { test, pointer, .. }) => {
                    assert_eq!(test, "json-schema");
                    assert!(pointer.starts_with('/'), "{n}: {pointer}");
                }
                Ok(_) => not_by_schema.push(n),
                Err(e) => problems.push(format!("{}: {e}", f.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        not_by_schema.is_empty(),
        "invalid BOMs the schema accepts: {not_by_schema:?}"
    );
    // 1.4: 24 valid / 17 invalid, 1.5: 20 / 13, 1.6: 30 / 12 JSON files in the corpus.
    assert_eq!((valid, invalid), (74, 42));
}

#[test]
fn sboms_osv_and_spdx_pass_their_schemas() {
    let s = schemas();
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut list: Vec<PathBuf> =
        vec![dir("medical-device-sbom-spacelab/dev").join("narrow.sbom.json")];
    list.extend(
        files(&dir("osv-schema/dev/osv"), ".json")
            .into_iter()
            .filter(|f| !name(f).starts_with("no")),
    );
    list.extend(files(&dir("spdx-spec-examples/dev"), ".spdx.json"));
    list.extend(files(&dir("osv-schema/dev/ghsa-to-osv"), ".osv.json"));
    // Every SPDX 2.3 JSON of spdx-examples and every CycloneDX 1.4-1.6 JSON example.
    let spec = |f: &PathBuf, key: &str| {
        serde_json::from_slice::<serde_json::Value>(&read(f))
            .ok()
            .and_then(|v| v.get(key).and_then(|x| x.as_str()).map(str::to_string))
    };
    list.extend(
        files(&dir("spdx-examples/dev"), ".json")
            .into_iter()
            .filter(|f| spec(f, "spdxVersion").as_deref() == Some("SPDX-2.3")),
    );
    list.extend(
        files(&dir("cyclonedx-bom-examples/dev"), ".json")
            .into_iter()
            .filter(|f| {
                matches!(
                    spec(f, "specVersion").as_deref(),
                    Some("1.4" | "1.5" | "1.6")
                )
            }),
    );
    for f in list {
        match check_file(&s, &f) {
            Ok(Some(_)) => checked += 1,
            other => problems.push(format!("{}: {other:?}", f.display())),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // 1 spacelab SBOM + 6 OSV + 8 GHSA->OSV + 1 + 7 SPDX 2.3 + 28 CycloneDX 1.4-1.6 examples.
    assert_eq!(checked, 51);
}
