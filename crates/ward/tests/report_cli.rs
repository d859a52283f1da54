//! `ward report` over a store filled from the corpus's clinical captures: HTML and PDF,
//! clear errors for a missing store and an unknown site, no canary patient data.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("INDEX.md").exists(),
        "the test corpus is required at {}",
        p.display()
    );
    p
}

fn ward(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward")
}

#[test]
fn report_html_and_pdf_from_a_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let caps: Vec<PathBuf> = ["hl7_mllp_adt_oru_orm.pcap", "dicom_cstore_pynetdicom.pcap"]
        .iter()
        .map(|f| corpus().join("clinical-captures").join(f))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let store = ward_store::Store::open_data_dir(&data)
            .await
            .expect("store");
        let s = ward_server::ui::pipeline::import_captures(
            &store,
            "east",
            &caps,
            &ward_store::Actor::system(),
        )
        .await
        .expect("import");
        assert!(s.devices > 2, "{s:?}");
        store.close().await;
    });
    let html = dir.path().join("r.html");
    let d = data.to_str().expect("utf-8 path");
    let out = ward(&[
        "report",
        "--data",
        d,
        "--format",
        "html",
        "--out",
        html.to_str().expect("p"),
        "--time-zone",
        "Europe/London",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&html).expect("html");
    assert!(text.contains("Step 1: Identify") && text.contains("Step 6: Periodically review"));
    assert!(!text.contains("CANARY"), "no canary patient data");
    let pdf = dir.path().join("r.pdf");
    let out = ward(&[
        "report",
        "--data",
        d,
        "--site",
        "east",
        "--format",
        "pdf",
        "--out",
        pdf.to_str().expect("p"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).expect("pdf");
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 2000);
    assert!(!String::from_utf8_lossy(&bytes).contains("CANARY"));

    let out = ward(&[
        "report",
        "--data",
        d,
        "--site",
        "nowhere",
        "--format",
        "pdf",
        "--out",
        pdf.to_str().expect("p"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no site \"nowhere\""));
    let empty = dir.path().join("empty");
    let out = ward(&[
        "report",
        "--data",
        empty.to_str().expect("p"),
        "--out",
        pdf.to_str().expect("p"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Ward store"));
    let out = ward(&[
        "report",
        "--data",
        d,
        "--time-zone",
        "Mars/Olympus",
        "--out",
        pdf.to_str().expect("p"),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown time zone"));
}

/// `ward demo` loads the generated hospital and the corpus intel into a store, prints the
/// URL and a one-time admin password; `ward report` then reads that store.
#[test]
fn demo_populates_a_store_and_prints_the_login() {
    let intel = corpus().join("cisa-csaf-icsma");
    assert!(intel.is_dir(), "{} is required", intel.display());
    let dir = tempfile::tempdir().expect("tmp");
    let keep = dir.path().join("demo");
    let out = ward(&[
        "demo",
        "--format",
        "json",
        "--keep",
        keep.to_str().expect("p"),
        "--port",
        "0",
        "--intel",
        intel.to_str().expect("p"),
        "--exit-after-load",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Ward demo UI: http://127.0.0.1:"),
        "{stdout}"
    );
    let pw = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sign in as admin with the one-time password: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the one-time password is printed");
    assert!(pw.len() >= 12, "{pw}");
    assert!(
        stderr.contains("devices") && stderr.contains("intel documents"),
        "{stderr}"
    );
    // The analysis output of earlier versions is still printed (JSON here).
    assert!(
        stdout.trim_start().starts_with('{') || stdout.contains("\"devices\""),
        "{stdout}"
    );
    let data = keep.join("store");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let store = ward_store::Store::open_data_dir(&data)
            .await
            .expect("store");
        let counts = store.device_counts(None).await.expect("counts");
        let categories: std::collections::BTreeSet<String> =
            counts.iter().map(|c| c.category.clone()).collect();
        assert!(
            categories.len() >= 6,
            "devices in many categories: {categories:?}"
        );
        let findings = store
            .finding_rows(&ward_store::FindingRowQuery {
                limit: 10_000,
                ..Default::default()
            })
            .await
            .expect("findings");
        assert!(!findings.is_empty(), "the demo has findings");
        let plans = store.plan_board(None, None, 10_000).await.expect("plans");
        assert!(!plans.is_empty(), "the demo has plan actions");
        let conns = store
            .connection_rows(None, None, 10)
            .await
            .expect("connections");
        assert!(!conns.is_empty(), "the demo has connections");
        store.close().await;
    });
    let html = dir.path().join("demo.html");
    let out = ward(&[
        "report",
        "--data",
        data.to_str().expect("p"),
        "--out",
        html.to_str().expect("p"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
