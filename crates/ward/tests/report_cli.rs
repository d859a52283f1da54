//! `ward report` over a store filled from the corpus's clinical captures: HTML and PDF,
//! clear errors for a missing store and an unknown site, no canary patient data.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(p.join("INDEX.md").exists(), "the test corpus is required at {}", p.display());
    p
}

fn ward(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).output().expect("run ward")
}

#[test]
fn report_html_and_pdf_from_a_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let caps: Vec<PathBuf> = ["hl7_mllp_adt_oru_orm.pcap", "dicom_cstore_pynetdicom.pcap"]
        .iter()
        .map(|f| corpus().join("clinical-captures").join(f))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    rt.block_on(async {
        let store = ward_store::Store::open_data_dir(&data).await.expect("store");
        let s = ward_server::ui::pipeline::import_captures(&store, "east", &caps, &ward_store::Actor::system())
            .await
            .expect("import");
        assert!(s.devices > 2, "{s:?}");
        store.close().await;
    });
    let html = dir.path().join("r.html");
    let d = data.to_str().expect("utf-8 path");
    let out = ward(&["report", "--data", d, "--format", "html", "--out", html.to_str().expect("p"), "--time-zone", "Europe/London"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&html).expect("html");
    assert!(text.contains("Step 1: Identify") && text.contains("Step 6: Periodically review"));
    assert!(!text.contains("CANARY"), "no canary patient data");
    let pdf = dir.path().join("r.pdf");
    let out = ward(&["report", "--data", d, "--site", "east", "--format", "pdf", "--out", pdf.to_str().expect("p")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&pdf).expect("pdf");
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 2000);
    assert!(!String::from_utf8_lossy(&bytes).contains("CANARY"));

    let out = ward(&["report", "--data", d, "--site", "nowhere", "--format", "pdf", "--out", pdf.to_str().expect("p")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no site \"nowhere\""));
    let empty = dir.path().join("empty");
    let out = ward(&["report", "--data", empty.to_str().expect("p"), "--out", pdf.to_str().expect("p")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Ward store"));
    let out = ward(&["report", "--data", d, "--time-zone", "Mars/Olympus", "--out", pdf.to_str().expect("p")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown time zone"));
}
