//! Every vector of the RedHatProductSecurity/cvss reference files in
//! `shared/data/cvss-vectors-redhat/dev` must score exactly as the file says.
//!
//! Line format: `VECTOR - (base, temporal, environmental)` for v2/v3 (`None` where RedHat's
//! library reports no score), `VECTOR - (score,)` or `VECTOR - score` for v4, where the one
//! number is the score of the vector as written (CVSS-B/BT/BE/BTE).
//! See the module doc of `ward_intel::cvss` for the conventions (RedHat always reports v3
//! temporal/environmental scores; Ward reports them only when the vector has such metrics).

use std::path::{Path, PathBuf};

use ward_intel::cvss::{self, CvssVersion};

fn corpus_dir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cvss-vectors-redhat/dev");
    assert!(
        dir.is_dir(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        dir.display()
    );
    dir
}

/// Parses "(9.0, 7.7, None)", "(9.2,)" or "0.0" into a list of optional numbers.
fn parse_expected(s: &str) -> Result<Vec<Option<f64>>, String> {
    let inner = s.trim().trim_start_matches('(').trim_end_matches(')');
    inner
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p == "None" {
                Ok(None)
            } else {
                p.parse::<f64>()
                    .map(Some)
                    .map_err(|e| format!("bad expected value {p:?}: {e}"))
            }
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Checks one file; returns the number of vectors checked. Panics listing every mismatch.
fn check_file(name: &str) -> usize {
    let path = corpus_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read corpus file {}: {e}", path.display()));
    let (checked, mismatches) = check_text(name, &text);
    assert!(
        mismatches.is_empty(),
        "{} mismatches in {name} ({checked} vectors checked):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(checked > 0, "no vector checked in {}", path.display());
    checked
}

/// Checks the lines of a vector file: (vectors checked, mismatch descriptions).
fn check_text(name: &str, text: &str) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let lineno = idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((vector, expected)) = line.split_once(" - ") else {
            mismatches.push(format!("{name}:{lineno}: no \" - \" separator in {line:?}"));
            continue;
        };
        let expected = match parse_expected(expected) {
            Ok(e) if !e.is_empty() => e,
            Ok(_) => {
                mismatches.push(format!("{name}:{lineno}: no expected score"));
                continue;
            }
            Err(e) => {
                mismatches.push(format!("{name}:{lineno}: {e}"));
                continue;
            }
        };
        let parsed = match cvss::parse(vector) {
            Ok(v) => v,
            Err(e) => {
                mismatches.push(format!("{name}:{lineno}: {vector} does not parse: {e}"));
                continue;
            }
        };
        checked += 1;
        let scores = parsed.scores();
        // Display must give a vector that parses back to the same thing.
        match cvss::parse(&parsed.to_string()) {
            Ok(back) if back == parsed => {}
            other => mismatches.push(format!(
                "{name}:{lineno}: canonical form {} does not round-trip: {other:?}",
                parsed
            )),
        }
        if parsed.version() == CvssVersion::V40 {
            let got = parsed.environmental_score();
            if expected.len() != 1 || expected[0].is_none_or(|e| !close(e, got)) {
                mismatches.push(format!(
                    "{name}:{lineno}: {vector}: expected {expected:?}, got {got}"
                ));
            }
            if !close(scores.overall, got) {
                mismatches.push(format!(
                    "{name}:{lineno}: overall {} differs from full score {got}",
                    scores.overall
                ));
            }
            continue;
        }
        let got = [
            (scores.base, Some(scores.base), "base"),
            (
                parsed.temporal_score(),
                scores.temporal_or_threat,
                "temporal",
            ),
            (
                parsed.environmental_score(),
                scores.environmental,
                "environmental",
            ),
        ];
        if expected.len() != 3 {
            mismatches.push(format!(
                "{name}:{lineno}: expected three scores, file gives {expected:?}"
            ));
            continue;
        }
        for ((always, reported, what), exp) in got.iter().zip(&expected) {
            match exp {
                Some(e) if !close(*e, *always) => mismatches.push(format!(
                    "{name}:{lineno}: {vector}: {what} expected {e}, got {always}"
                )),
                None if reported.is_some() => mismatches.push(format!(
                    "{name}:{lineno}: {vector}: {what} expected None, got {reported:?}"
                )),
                _ => {}
            }
            if let Some(r) = reported {
                if !close(*r, *always) {
                    mismatches.push(format!("{name}:{lineno}: {what} reported {r} != {always}"));
                }
            }
        }
    }
    (checked, mismatches)
}

/// The checker itself reports wrong expectations, with file and line.
#[test]
fn checker_reports_mismatches() {
    let text = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H - (9.8, 9.8, 9.8)\n\
                CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H - (9.7, 9.8, 9.8)\n\
                AV:N/AC:L/Au:N/C:P/I:P/A:P/E:U - (7.5, None, None)\n\
                CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N - 9.2\n\
                CVSS:3.1/AV:N/AC:Q - (1.0, 1.0, 1.0)\n";
    let (checked, mismatches) = check_text("crafted", text);
    assert_eq!(checked, 4, "{mismatches:?}");
    assert_eq!(mismatches.len(), 4, "{mismatches:#?}");
    assert!(mismatches[0].starts_with("crafted:2:"), "{}", mismatches[0]);
    assert!(mismatches[1].starts_with("crafted:3:"), "{}", mismatches[1]);
    assert!(mismatches[2].starts_with("crafted:4:"), "{}", mismatches[2]);
    assert!(mismatches[3].starts_with("crafted:5:"), "{}", mismatches[3]);
}

macro_rules! file_test {
    ($fn_name:ident, $file:literal, $min:expr) => {
        #[test]
        fn $fn_name() {
            let n = check_file($file);
            assert!(
                n >= $min,
                "{}: only {n} vectors checked, expected at least {}",
                $file,
                $min
            );
            eprintln!("{}: {n} vectors exact", $file);
        }
    };
}

// Minimum counts are the line counts of the files as stored, so a truncated file fails.
file_test!(calculator2, "vectors_calculator2", 4);
file_test!(calculator3, "vectors_calculator3", 2);
file_test!(cvsslib2, "vectors_cvsslib2", 16);
file_test!(cvsslib3, "vectors_cvsslib3", 20);
file_test!(simple2, "vectors_simple2", 486);
file_test!(simple3, "vectors_simple3", 1728);
file_test!(simple31, "vectors_simple31", 1728);
file_test!(simple4, "vectors_simple4", 706);
file_test!(security4, "vectors_security4", 36);
file_test!(supplemental4, "vectors_supplemental4", 384);
file_test!(threat4, "vectors_threat4", 4);

/// Every file in the folder is covered by a test above.
#[test]
fn every_vector_file_has_a_test() {
    let known = [
        "vectors_calculator2",
        "vectors_calculator3",
        "vectors_cvsslib2",
        "vectors_cvsslib3",
        "vectors_simple2",
        "vectors_simple3",
        "vectors_simple31",
        "vectors_simple4",
        "vectors_security4",
        "vectors_supplemental4",
        "vectors_threat4",
    ];
    let dir = corpus_dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("vectors_") {
            assert!(
                known.contains(&name.as_str()),
                "{name} in {} has no test",
                dir.display()
            );
        }
    }
}

/// Known values from the FIRST specification documents' examples.
#[test]
fn first_spec_examples() {
    // FIRST "CVSS v3.1 Examples", CVE-2013-1937 (phpMyAdmin reflected XSS): 6.1.
    let v = cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N").unwrap();
    assert_eq!(v.scores().base, 6.1);
    // All base impacts High on a network vector: macrovector 000000 scores 10.0.
    let v = cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H").unwrap();
    assert_eq!(v.scores().base, 10.0);
    assert_eq!(v.scores().nomenclature.as_deref(), Some("CVSS-B"));
}
