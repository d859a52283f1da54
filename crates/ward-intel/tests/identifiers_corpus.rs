//! The identifiers real documents carry: every CVSS vector, CPE and purl found in the
//! advisories, CVE records, OSV records and SBOM examples of the corpus must parse, print
//! back to a string that parses to the same value, and (for CVSS objects that state their
//! scores) score exactly what the document says.
//!
//! Files named `invalid-*` (CycloneDX negative tests) and `schema/` folders are skipped:
//! they are meant to be wrong or hold regular expressions, not identifiers.

use std::path::{Path, PathBuf};

use serde_json::Value;
use ward_intel::cpe::Cpe;
use ward_intel::cvss::{self, CvssVersion};
use ward_intel::purl::Purl;

fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        dir.is_dir(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        dir.display()
    );
    dir
}

/// Text files under `sub` (recursively), excluding schema folders and negative tests.
fn files_under(sub: &str) -> Vec<PathBuf> {
    let root = data_dir().join(sub);
    assert!(root.is_dir(), "corpus folder {} is missing", root.display());
    let mut out = Vec::new();
    let mut stack = vec![root];
    let mut guard = 0;
    while let Some(d) = stack.pop() {
        guard += 1;
        assert!(guard < 10_000, "runaway directory walk");
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "schema" {
                    stack.push(p);
                }
            } else if !name.starts_with("invalid")
                && [".json", ".xml", ".spdx", ".yaml", ".yml", ".jsonld", ".txt"]
                    .iter()
                    .any(|x| name.ends_with(x))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(data_dir())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// Every JSON string value in `v`, with its JSON path.
fn strings<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => out.push((path, s)),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                strings(x, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                strings(x, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Identifier-looking tokens in a non-JSON text file.
fn text_tokens(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut guard = 0;
    while let Some(i) = rest.find(prefix) {
        guard += 1;
        if guard > 100_000 {
            break;
        }
        let boundary = i == 0
            || rest[..i]
                .chars()
                .next_back()
                .is_some_and(|c| !c.is_alphanumeric());
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '"' | '\''))
            .unwrap_or(tail.len());
        if boundary {
            out.push(tail[..end].replace("&amp;", "&"));
        }
        rest = &tail[end.max(prefix.len())..];
    }
    out
}

/// (file, location, identifier) for every string starting with `prefix` in the folders.
fn identifiers(folders: &[&str], prefix: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for f in folders.iter().flat_map(|s| files_under(s)) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if f.extension().is_some_and(|x| x == "json" || x == "jsonld") {
            let Ok(json) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let mut all = Vec::new();
            strings(&json, "$".into(), &mut all);
            for (path, s) in all {
                if s.starts_with(prefix) {
                    out.push((rel(&f), path, s.to_string()));
                }
            }
        } else {
            for t in text_tokens(&text, prefix) {
                out.push((rel(&f), "text".into(), t));
            }
        }
    }
    out
}

const SBOM_AND_ADVISORY_FOLDERS: &[&str] = &[
    "cisa-csaf-icsma",
    "cvelistV5-records",
    "oasis-csaf/dev/examples",
    "osv-schema/dev",
    "medical-device-sbom-spacelab",
    "cyclonedx-bom-examples",
    "cyclonedx-spec-tests",
    "spdx-examples",
    "spdx-spec-examples",
    "openvex-go-vex",
];

#[test]
fn every_cpe_in_the_corpus_parses_and_round_trips() {
    let mut ids = identifiers(SBOM_AND_ADVISORY_FOLDERS, "cpe:2.3:");
    ids.extend(identifiers(SBOM_AND_ADVISORY_FOLDERS, "cpe:/"));
    assert!(
        ids.len() >= 40,
        "only {} CPEs found in the corpus",
        ids.len()
    );
    let mut failures = Vec::new();
    for (file, path, s) in &ids {
        match Cpe::parse(s) {
            Ok(c) => {
                for (binding, text) in [("formatted", c.to_string()), ("uri", c.to_uri())] {
                    match Cpe::parse(&text) {
                        // The URI binding lower-cases, so compare case-insensitively there.
                        Ok(back)
                            if back == c
                                || (binding == "uri"
                                    && back.to_string().eq_ignore_ascii_case(&c.to_string())) => {}
                        other => failures.push(format!(
                            "{file} {path}: {s:?} -> {binding} {text:?} -> {other:?}"
                        )),
                    }
                }
                if !c.matches(&c) {
                    failures.push(format!("{file} {path}: {s:?} does not match itself"));
                }
            }
            Err(e) => failures.push(format!("{file} {path}: {s:?}: {e}")),
        }
    }
    eprintln!("{} CPEs checked", ids.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_purl_in_the_corpus_parses_and_round_trips() {
    let ids = identifiers(SBOM_AND_ADVISORY_FOLDERS, "pkg:");
    assert!(
        ids.len() >= 100,
        "only {} purls found in the corpus",
        ids.len()
    );
    let mut failures = Vec::new();
    for (file, path, s) in &ids {
        match Purl::parse(s) {
            Ok(p) => match Purl::parse(&p.to_string()) {
                Ok(back) if back == p => {}
                other => failures.push(format!(
                    "{file} {path}: {s:?} -> {:?} -> {other:?}",
                    p.to_string()
                )),
            },
            Err(e) => failures.push(format!("{file} {path}: {s:?}: {e}")),
        }
    }
    eprintln!("{} purls checked", ids.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// CVSS objects ({"vectorString": ..., "baseScore": ...}) in CSAF advisories, CVE records
/// and OSV: the vector parses and the stated scores are what Ward computes.
#[test]
fn every_cvss_object_in_the_corpus_scores_as_stated() {
    fn walk(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(o) => {
                if o.get("vectorString").is_some_and(Value::is_string) {
                    out.push((path.clone(), v.clone()));
                }
                for (k, x) in o {
                    walk(x, format!("{path}.{k}"), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let folders = [
        "cisa-csaf-icsma",
        "cvelistV5-records",
        "oasis-csaf/dev/examples",
    ];
    let mut checked = 0;
    let mut scores_checked = 0;
    let mut failures = Vec::new();
    for f in folders.iter().flat_map(|s| files_under(s)) {
        if f.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let Ok(json) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let mut objs = Vec::new();
        walk(&json, "$".into(), &mut objs);
        for (path, obj) in objs {
            let vector = obj["vectorString"].as_str().unwrap_or_default();
            let parsed = match cvss::parse(vector) {
                Ok(p) => p,
                Err(e) => {
                    failures.push(format!("{} {path}: {vector:?}: {e}", rel(&f)));
                    continue;
                }
            };
            checked += 1;
            let s = parsed.scores();
            let base = if s.version == CvssVersion::V40 {
                s.overall
            } else {
                s.base
            };
            for (key, got) in [
                ("baseScore", Some(base)),
                ("temporalScore", Some(parsed.temporal_score())),
                ("environmentalScore", Some(parsed.environmental_score())),
            ] {
                if let (Some(want), Some(got)) = (obj.get(key).and_then(Value::as_f64), got) {
                    scores_checked += 1;
                    if (want - got).abs() > 1e-9 {
                        failures.push(format!(
                            "{} {path}: {vector}: {key} stated {want}, Ward computes {got}",
                            rel(&f)
                        ));
                    }
                }
            }
            if let Some(sev) = obj.get("baseSeverity").and_then(Value::as_str) {
                let mine = if s.version == CvssVersion::V40 {
                    s.overall_severity
                } else {
                    s.base_severity
                };
                if !sev.eq_ignore_ascii_case(&mine.to_string()) {
                    failures.push(format!(
                        "{} {path}: {vector}: baseSeverity stated {sev}, Ward computes {mine}",
                        rel(&f)
                    ));
                }
            }
        }
    }
    eprintln!("{checked} CVSS objects, {scores_checked} stated scores checked");
    assert!(checked >= 50, "only {checked} CVSS objects found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
