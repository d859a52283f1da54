//! Acceptance: the corpus medical-device SBOM (spacelab narrow.sbom.json) matched by
//! PURL against OSV records (test fixtures), and a CycloneDX VEX for it (test fixture)
//! whose `not_affected` statements suppress exactly the stated findings, with the
//! justification shown.

mod common;

use common::corpus;
use std::collections::BTreeSet;
use std::path::Path;
use ward_assess::report::{assess, AssessInput};
use ward_assess::{Asset, Confidence};
use ward_identify::Category;
use ward_intel::IntelDb;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn sbom_components_and_cyclonedx_vex() {
    let sbom_path = corpus().join("medical-device-sbom-spacelab/dev/narrow.sbom.json");
    let mut sboms = IntelDb::new();
    sboms
        .import_file(&sbom_path)
        .unwrap_or_else(|e| panic!("importing {}: {e}", sbom_path.display()));
    let sbom = sboms.sboms().first().expect("one SBOM");
    assert_eq!(
        sbom.components.len(),
        55,
        "narrow.sbom.json has 55 components"
    );

    let mut intel = IntelDb::new();
    for f in [
        "log4net",
        "newtonsoft",
        "jquery",
        "wolfssl",
        "autofac-boundary",
    ] {
        let p = fixture(&format!("spacelab-osv/{f}.json"));
        intel
            .import_file(&p)
            .unwrap_or_else(|e| panic!("importing {}: {e}", p.display()));
    }
    let vex_path = fixture("spacelab-vex.cdx.json");
    intel
        .import_file(&vex_path)
        .unwrap_or_else(|e| panic!("importing {}: {e}", vex_path.display()));

    let device = Asset {
        id: "spacelab-device".into(),
        name: "REDACTED medical device".into(),
        category: Some(Category::PatientMonitor),
        ..Asset::default()
    };
    let result = assess(AssessInput {
        assets: vec![device],
        flows: &[],
        intel: &intel,
        sboms: vec![("spacelab-device".into(), sbom)],
        local: &[],
        local_vex: &[],
        baseline: None,
        today: "2026-11-29",
    });
    let got: BTreeSet<(String, String, Confidence)> = result
        .findings
        .iter()
        .map(|s| {
            (
                s.finding.component.clone().unwrap_or_default(),
                s.finding.vulnerability.clone(),
                s.finding.confidence,
            )
        })
        .collect();
    let want: BTreeSet<(String, String, Confidence)> = [
        ("log4net@2.0.8", "CVE-2018-1285"),
        ("Newtonsoft.Json@9.0.1", "CVE-2024-21907"),
        ("jQuery@3.1.1", "CVE-2020-11022"),
        ("WolfSSL@4.8.1", "CVE-2022-25638"),
    ]
    .iter()
    .map(|(c, v)| (c.to_string(), v.to_string(), Confidence::Confirmed))
    .collect();
    assert_eq!(
        got, want,
        "narrow.sbom.json findings (Autofac 4.8.1 is the fixed version: none)"
    );

    let suppressed: BTreeSet<(String, Option<String>)> = result
        .findings
        .iter()
        .filter(|s| s.finding.is_suppressed())
        .map(|s| {
            let v = s.finding.vex.as_ref().expect("suppressed has vex");
            (s.finding.vulnerability.clone(), v.justification.clone())
        })
        .collect();
    assert_eq!(
        suppressed,
        [
            (
                "CVE-2018-1285".to_string(),
                Some("code_not_reachable".to_string())
            ),
            (
                "CVE-2020-11022".to_string(),
                Some("requires_environment".to_string())
            ),
        ]
        .into_iter()
        .collect(),
        "spacelab-vex.cdx.json: exactly the two not_affected statements suppress"
    );
    let newtonsoft = result
        .findings
        .iter()
        .find(|s| s.finding.vulnerability == "CVE-2024-21907")
        .expect("newtonsoft finding");
    let v = newtonsoft
        .finding
        .vex
        .as_ref()
        .expect("exploitable statement recorded");
    assert_eq!(v.status, "affected", "CycloneDX exploitable = affected");
    assert!(!v.suppresses);
    assert_ne!(newtonsoft.risk.tier.as_str(), "closed");
    // The explanation shows the justification.
    let log4net = result
        .findings
        .iter()
        .find(|s| s.finding.vulnerability == "CVE-2018-1285")
        .expect("log4net finding");
    let text = result
        .explain(&log4net.finding.id)
        .expect("explain")
        .join("\n");
    assert!(text.contains("justification code_not_reachable"), "{text}");
    assert!(text.contains("purl"), "{text}");
    assert_eq!(log4net.risk.tier.as_str(), "closed");
}
