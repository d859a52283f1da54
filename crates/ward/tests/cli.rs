//! End-to-end tests of the `ward` binary over the shared corpus (../shared/data).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.is_dir(),
        "the shared test corpus is required at {} (CI provides ../shared beside the repository)",
        p.display()
    );
    p
}

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env("WARD_LOG", "warn")
        .output()
        .expect("run ward")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn analyze_rejects_a_file_that_is_not_a_capture_and_names_it() {
    let f = corpus().join("INDEX.md");
    let out = ward(&["analyze", f.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "a Markdown file must not analyse as a capture"
    );
    let err = text(&out.stderr);
    assert!(err.contains("INDEX.md"), "error must name the file: {err}");
}

#[test]
fn analyze_rejects_a_missing_file() {
    let out = ward(&["analyze", "/nonexistent/ward-test.pcap"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/nonexistent/ward-test.pcap"));
}

#[test]
fn truncated_capture_is_analysed_up_to_the_damage_with_a_warning() {
    let src = corpus().join("clinical-captures/hl7_mllp_adt_oru_orm.pcap");
    let bytes = std::fs::read(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let out = ward(&["analyze", "--format", "json", cut.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "truncated capture must not fail: {}",
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = &v["input"]["files"][0]["warnings"];
    assert!(
        warnings.as_array().is_some_and(|w| !w.is_empty()),
        "a warning must be reported for {}: {v}",
        cut.display()
    );
    assert!(
        v["input"]["packets"].as_u64().unwrap() > 0,
        "packets before the damage are kept"
    );
}

#[test]
fn json_and_jsonl_outputs_parse_and_agree() {
    let dir = corpus().join("pcaps/dev");
    let out = ward(&[
        "analyze",
        "--format",
        "json",
        "-j",
        "2",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let devices = v["inventory"]["devices"].as_array().unwrap().len();
    assert!(
        devices > 10,
        "the pcaps/dev corpus holds many hosts, got {devices}"
    );

    let out = ward(&[
        "analyze",
        "--format",
        "jsonl",
        "-j",
        "2",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let mut jsonl_devices = 0;
    for line in text(&out.stdout).lines() {
        let item: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(item["type"].is_string(), "each line has a type: {line}");
        if item["type"] == "device" {
            jsonl_devices += 1;
        }
    }
    assert_eq!(
        jsonl_devices, devices,
        "JSONL and JSON list the same devices"
    );
}

#[test]
fn out_dir_receives_every_format() {
    let f = corpus().join("clinical-captures/dicom_cecho_pynetdicom.pcap");
    let dir = tempfile::tempdir().unwrap();
    let out = ward(&[
        "analyze",
        f.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in ["summary.txt", "analysis.json", "analysis.jsonl"] {
        let p = dir.path().join(name);
        assert!(
            p.metadata().map(|m| m.len() > 0).unwrap_or(false),
            "{} written",
            p.display()
        );
    }
}

/// Standard-output JSON is assembled from parts written on two threads (the lists while
/// identification runs); it must be byte for byte the JSON of the whole report, which
/// `--out` writes in one piece, and the same for 1, 2 and 3 workers (timing line aside).
#[test]
fn stdout_json_equals_the_one_piece_json_for_any_worker_count() {
    let mut inputs = vec![
        corpus().join("clinical-captures/dicom_cecho_pynetdicom.pcap"),
        corpus().join("pcaps/dev"),
    ];
    inputs.extend(
        [
            "ndpi__443-chrome.pcap",
            "ndpi__hl7.pcap",
            "ndpi__smbv1.pcap",
        ]
        .iter()
        .map(|n| corpus().join("pcaps/dev").join(n)),
    );
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("\"elapsed_ms\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for f in &inputs {
        let mut first: Option<String> = None;
        for j in ["1", "2", "3"] {
            let dir = tempfile::tempdir().unwrap();
            let out = ward(&[
                "analyze",
                "-j",
                j,
                "--no-progress",
                "--format",
                "json",
                f.to_str().unwrap(),
                "--out",
                dir.path().to_str().unwrap(),
            ]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let whole = std::fs::read_to_string(dir.path().join("analysis.json")).unwrap();
            assert_eq!(
                text(&out.stdout),
                whole,
                "{} -j {j}: stdout JSON differs from analysis.json",
                f.display()
            );
            let s = strip(&whole);
            match &first {
                None => first = Some(s),
                Some(f1) => assert!(*f1 == s, "{} -j {j}: JSON differs from -j 1", f.display()),
            }
        }
    }
}

/// The privacy guarantee: every output path (table, JSON, JSONL, --out files and logs at
/// trace level) over the clinical captures with planted canary patient data.
#[test]
fn canary_patient_data_never_comes_out() {
    let dir = corpus().join("clinical-captures");
    let hl7 = corpus().join("pcaps/dev/ndpi__hl7.pcap");
    let outdir = tempfile::tempdir().unwrap();
    let canaries: [&[u8]; 3] = [b"CANARY^PHI^TEST", b"CANARY-123456", b"CANARY"];
    // The canaries really are in the input, so the test means something.
    let mut planted = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let b = std::fs::read(e.unwrap().path()).unwrap();
        if b.windows(6).any(|w| w == b"CANARY") {
            planted += 1;
        }
    }
    assert!(
        planted > 0,
        "the clinical captures must contain the planted canaries"
    );
    for format in ["table", "json", "jsonl"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args([
                "analyze",
                "--log",
                "trace",
                "--format",
                format,
                "--out",
                outdir.path().to_str().unwrap(),
                dir.to_str().unwrap(),
                hl7.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        for c in canaries {
            let s = String::from_utf8_lossy(c);
            assert!(
                !out.stdout.windows(c.len()).any(|w| w == c),
                "{s} in {format} stdout"
            );
            assert!(
                !out.stderr.windows(c.len()).any(|w| w == c),
                "{s} in trace logs"
            );
        }
    }
    for e in std::fs::read_dir(outdir.path()).unwrap() {
        let p = e.unwrap().path();
        let b = std::fs::read(&p).unwrap();
        for c in canaries {
            assert!(
                !b.windows(c.len()).any(|w| w == c),
                "canary in {}",
                p.display()
            );
        }
    }
}

#[test]
fn demo_generates_and_analyses_a_hospital() {
    let out = ward(&["demo", "--no-serve", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let devices = v["inventory"]["devices"].as_array().unwrap();
    assert!(
        devices.len() >= 40,
        "the demo hospital has dozens of devices, got {}",
        devices.len()
    );
    let out_canary = out.stdout.windows(6).any(|w| w == b"CANARY");
    assert!(
        !out_canary,
        "the demo capture's planted patient data must not come out"
    );
}

#[test]
fn intel_import_show_and_cvss() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let icsma = corpus().join("cisa-csaf-icsma/dev/icsma-18-058-02.json");
    let kev = corpus().join("cisa-kev");
    let out = ward(&[
        "intel",
        "--data",
        d,
        "import",
        icsma.to_str().unwrap(),
        kev.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 rejected"),
        "{}",
        text(&out.stdout)
    );
    // A second invocation sees what the first imported.
    let out = ward(&["intel", "--data", d, "show", "CVE-2017-0144", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["kev"]["cve"], "CVE-2017-0144",
        "EternalBlue is in KEV: {v}"
    );
    let adv = v["advisories"].to_string();
    assert!(
        adv.contains("ICSMA-18-058-02"),
        "CVE-2017-0144 is in icsma-18-058-02: {adv}"
    );
    let out = ward(&["intel", "--data", d, "show", "CVE-1999-99999"]);
    assert!(!out.status.success(), "unknown ids exit non-zero");

    let out = ward(&[
        "intel",
        "cvss",
        "--format",
        "json",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["base"], 9.8);
    assert_eq!(v[1]["base"], 7.5);
    let out = ward(&["intel", "cvss", "CVSS:3.1/AV:X"]);
    assert!(!out.status.success(), "an invalid vector exits non-zero");
}

#[test]
fn intel_validate_reports_invalid_csaf_with_nonzero_exit() {
    // OASIS test 6.1.1 (missing definition of product id): its -01 document must fail.
    let bad = corpus()
        .join("oasis-csaf/dev/testcases/mandatory/oasis_csaf_tc-csaf_2_0-2021-6-1-01-01.json");
    let out = ward(&["intel", "validate", bad.to_str().unwrap()]);
    assert!(!out.status.success(), "{} must be invalid", bad.display());
    assert!(
        text(&out.stdout).contains("INVALID"),
        "{}",
        text(&out.stdout)
    );
    let good = corpus().join("cisa-csaf-icsma/dev/icsma-18-058-02.json");
    let out = ward(&["intel", "validate", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn intel_validate_names_test_id_and_json_path() {
    // OASIS test 6.1.1: the -01 document refers to a product id that is not defined.
    let bad = corpus()
        .join("oasis-csaf/dev/testcases/mandatory/oasis_csaf_tc-csaf_2_0-2021-6-1-01-01.json");
    let out = ward(&["intel", "validate", "--json", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["files"][0];
    assert_eq!(f["test"], "6.1.1", "{f}");
    // The product group names CSAFPID-9080700, which the product tree does not define.
    assert_eq!(
        f["position"], "/product_tree/product_groups/0/product_ids/0",
        "JSON path of the undefined product id: {f}"
    );
    assert!(
        f["error"]
            .as_str()
            .unwrap_or("")
            .contains("CSAFPID-9080700"),
        "{f}"
    );
}

#[test]
fn intel_schemas_are_read_offline_and_reject_with_pointer() {
    let schemas = [
        corpus().join("oasis-csaf/schema"),
        corpus().join("cyclonedx-spec-tests/schema"),
    ];
    let schema_arg = schemas
        .iter()
        .map(|p| p.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(":");
    // A real CISA advisory with an empty revision summary: Ward's reader tolerates it,
    // the CSAF schema (minLength 1) does not.
    let src = corpus().join("cisa-csaf-icsma/dev/icsma-18-058-02.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&src).unwrap()).unwrap();
    doc["document"]["tracking"]["revision_history"][0]["summary"] = serde_json::json!("");
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("empty-summary.json");
    std::fs::write(&f, serde_json::to_vec(&doc).unwrap()).unwrap();

    // Without schemas it is valid, and the output says schemas were not checked.
    let out = ward(&["intel", "validate", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("not checked"),
        "{}",
        text(&out.stdout)
    );

    let out = ward(&[
        "intel",
        "--schemas",
        &schema_arg,
        "validate",
        "--json",
        f.to_str().unwrap(),
        src.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bad = &v["files"][0];
    assert_eq!(bad["test"], "json-schema", "{bad}");
    assert_eq!(
        bad["position"], "/document/tracking/revision_history/0/summary",
        "{bad}"
    );
    // The unmodified advisory passes the schema (checksum and signature beside it too).
    assert!(v["files"][1]["error"].is_null(), "{}", v["files"][1]);

    // Import applies the same check.
    let data = tempfile::tempdir().unwrap();
    let out = ward(&[
        "intel",
        "--data",
        data.path().to_str().unwrap(),
        "--schemas",
        &schema_arg,
        "import",
        f.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("json-schema") && stdout.contains("1 rejected"),
        "{stdout}"
    );
}
