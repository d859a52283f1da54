//! The posture report from the corpus's clinical captures and intel: HTML (self-contained,
//! printable) and PDF (rendered with poppler's `pdftoppm` and checked not blank; its text
//! extracted with `pdftotext`); no canary patient data in either.

mod common;

use common::*;
use std::process::Command;
use ward_server::report::{self, Block, Posture, Rating};

async fn populated() -> (ward_store::Store, tempfile::TempDir) {
    let (store, dir) = temp_store().await;
    ward_server::ui::pipeline::import_captures(&store, "main", &clinical_captures(), &system())
        .await
        .expect("captures");
    ward_server::ui::pipeline::import_intel_files(&store, &intel_files(), &system())
        .await
        .expect("intel");
    ward_server::ui::pipeline::reassess_all(&store, &system())
        .await
        .expect("reassess");
    (store, dir)
}

fn tool(name: &str) -> std::path::PathBuf {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .expect("sh");
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !p.is_empty(),
        "{name} is required for this test (Debian package poppler-utils; scripts/setup.sh installs it)"
    );
    p.into()
}

#[tokio::test]
async fn posture_report_html_and_pdf() {
    let (store, dir) = populated().await;
    let p = Posture::gather(&store, None, "Europe/London")
        .await
        .expect("gather");
    let sections: Vec<&str> = p
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Section(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    for step in [
        "Step 1: Identify",
        "Step 2: Develop a mitigation plan",
        "Step 3: Reduce the likelihood of an attack",
        "Step 4: Apply user management",
        "Step 5: Understand and manage connections",
        "Step 6: Periodically review",
    ] {
        assert!(sections.contains(&step), "missing {step}: {sections:?}");
    }
    assert!(
        sections.iter().any(|s| s.starts_with("Model: ")),
        "per-model pages: {sections:?}"
    );

    let html = report::html(&p);
    assert!(
        html.contains("@media print") && html.contains("<svg"),
        "printable, with figures"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"),
        "self-contained"
    );
    assert!(html.contains("IMDRF"));
    assert_no_canary("HTML report", &html);

    let pdf = report::pdf(&p);
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    assert_no_canary("PDF report", &String::from_utf8_lossy(&pdf));
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, &pdf).expect("write pdf");

    // Page 1 as a greyscale image: not blank.
    let prefix = dir.path().join("page");
    let st = Command::new(tool("pdftoppm"))
        .args(["-f", "1", "-l", "1", "-r", "40", "-gray"])
        .arg(&path)
        .arg(&prefix)
        .status()
        .expect("run pdftoppm");
    assert!(st.success(), "pdftoppm failed");
    let img = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("page"))
        })
        .expect("pdftoppm wrote page 1");
    let bytes = std::fs::read(&img).expect("read pgm");
    // PGM: "P5\n<w> <h>\n255\n" then one byte per pixel.
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 && i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    let pixels = &bytes[i + 1..];
    let dark = pixels.iter().filter(|&&v| v < 128).count();
    assert!(pixels.len() > 10_000, "a page image");
    assert!(
        dark * 1000 > pixels.len(),
        "page 1 is not blank: {dark} dark of {} pixels",
        pixels.len()
    );

    // Text of the whole PDF.
    let out = Command::new(tool("pdftotext"))
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Step 6: Periodically review") && text.contains("IMDRF"),
        "PDF text: {}",
        &text[..text.len().min(400)]
    );
    assert_no_canary("PDF text", &text);
}

#[tokio::test]
async fn site_report_and_imdrf_rules() {
    let (store, _dir) = populated().await;
    let p = Posture::gather(&store, Some("main"), "UTC")
        .await
        .expect("gather");
    assert!(p.title.contains("site main"));
    let none = Posture::gather(&store, Some("elsewhere"), "UTC")
        .await
        .expect("gather");
    assert!(
        none.blocks
            .iter()
            .any(|b| matches!(b, Block::Kpis(k) if k[0].0 == "0")),
        "an empty site has no devices"
    );
    // Observations to principles.
    let kinds = [
        "telnet_in_use".to_string(),
        "cleartext_patient_data".to_string(),
    ]
    .into_iter()
    .collect();
    let s = report::imdrf_scores(&kinds, 2, true);
    let get = |n: &str| s.iter().find(|x| x.0 == n).map(|x| x.1).expect(n);
    assert_eq!(get("Secure communications"), Rating::Concern);
    assert_eq!(get("Data protection"), Rating::Concern);
    assert_eq!(get("User authentication"), Rating::Concern);
    assert_eq!(get("Software maintenance"), Rating::Concern);
    assert_eq!(get("Device integrity"), Rating::NotObservable);
    assert_eq!(
        report::imdrf_percent(&s),
        20,
        "1 of 5 observable principles clear"
    );
    let clean = report::imdrf_scores(&Default::default(), 0, false);
    assert_eq!(report::imdrf_percent(&clean), 100);
}
