//! Manufacturer VEX from the corpus (openvex-go-vex: an OpenVEX 0.2.0 document with
//! subcomponents, and a CSAF VEX document) applied to the findings of a device whose SBOM
//! lists those components: not_affected suppresses with its justification and impact
//! statement shown, fixed suppresses and points to the fixed version, everything else
//! stays open.

mod common;

use common::intel;
use ward_assess::report::{assess, AssessInput, Scored};
use ward_assess::Asset;

/// A device SBOM (crafted: the corpus has no device SBOM with these packages) declaring
/// the vulnerabilities the two corpus VEX documents speak about, plus one they do not.
const SBOM: &str = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {"component": {"type": "device", "name": "Gateway 7", "bom-ref": "device",
                              "supplier": {"name": "Example Medical"}}},
  "components": [
    {"type": "library", "name": "libssl3", "version": "3.0.8-r3", "bom-ref": "libssl3",
     "purl": "pkg:apk/alpine/libssl3@3.0.8-r3"},
    {"type": "library", "name": "libcrypto3", "version": "3.0.8-r3", "bom-ref": "libcrypto3",
     "purl": "pkg:apk/alpine/libcrypto3@3.0.8-r3"},
    {"type": "library", "name": "go-homedir", "version": "v1.2.0", "bom-ref": "homedir",
     "purl": "pkg:golang/github.com/go-homedir@v1.2.0"}
  ],
  "vulnerabilities": [
    {"id": "CVE-2023-1255", "affects": [{"ref": "libssl3"}]},
    {"id": "CVE-2023-3446", "affects": [{"ref": "libssl3"}, {"ref": "libcrypto3"}]},
    {"id": "CVE-2023-4807", "affects": [{"ref": "libssl3"}]},
    {"id": "CVE-2009-4487", "affects": [{"ref": "homedir"}]}
  ]
}"#;

#[test]
fn corpus_openvex_and_csaf_vex_close_exactly_the_stated_findings() {
    let db = intel(&[
        "openvex-go-vex/dev/vex__v0.2.0.json",
        "openvex-go-vex/dev/vex__csaf.json",
    ]);
    let mut sdb = ward_intel::IntelDb::new();
    sdb.import_bytes(SBOM.as_bytes(), "gateway7.cdx.json")
        .expect("device SBOM imports");
    let sbom = &sdb.sboms()[0];
    let device = Asset {
        id: "gw7".into(),
        name: "Gateway 7".into(),
        ..Asset::default()
    };
    let result = assess(AssessInput {
        assets: vec![device],
        flows: &[],
        intel: &db,
        sboms: vec![("gw7".into(), sbom)],
        local: &[],
        local_vex: &[],
        baseline: None,
        today: "2026-11-29",
    });
    let get = |cve: &str, comp: &str| -> &Scored {
        result
            .findings
            .iter()
            .find(|s| {
                s.finding.vulnerability == cve && s.finding.component_ref.as_deref() == Some(comp)
            })
            .unwrap_or_else(|| panic!("no finding {cve} on {comp}"))
    };
    assert_eq!(
        result.findings.len(),
        5,
        "5 declared (CVE, component) pairs"
    );

    // OpenVEX fixed, named through subcomponents: suppressed, fixed version of libssl3.
    let f = get("CVE-2023-1255", "libssl3");
    let v = f.finding.vex.as_ref().expect("vex applied");
    assert_eq!(v.status, "fixed");
    assert!(v.suppresses);
    assert_eq!(v.fixed_version.as_deref(), Some("3.0.8-r3"));
    assert!(v.source.contains("openvex.dev"), "source {}", v.source);
    assert_eq!(f.risk.tier.as_str(), "closed");

    // OpenVEX not_affected with justification and impact statement, on both components.
    for comp in ["libssl3", "libcrypto3"] {
        let f = get("CVE-2023-3446", comp);
        let v = f.finding.vex.as_ref().expect("vex applied");
        assert_eq!(v.status, "not_affected");
        assert_eq!(
            v.justification.as_deref(),
            Some("vulnerable_code_not_present")
        );
        assert_eq!(
            v.impact_statement.as_deref(),
            Some("affected functions were removed before packaging")
        );
        let text = result.explain(&f.finding.id).expect("explain").join("\n");
        assert!(
            text.contains("justification vulnerable_code_not_present"),
            "{text}"
        );
    }

    // No statement about CVE-2023-4807: open.
    let f = get("CVE-2023-4807", "libssl3");
    assert!(f.finding.vex.is_none());
    assert_ne!(f.risk.tier.as_str(), "closed");

    // CSAF VEX known_not_affected (product by PURL), impact from the `impact` threat.
    let f = get("CVE-2009-4487", "homedir");
    let v = f.finding.vex.as_ref().expect("CSAF VEX applied");
    assert_eq!(v.status, "not_affected");
    assert_eq!(v.source, "2022-EVD-UC-01-NA-001");
    assert_eq!(
        v.impact_statement.as_deref(),
        Some("Class with vulnerable code was removed before shipping.")
    );
    assert!(v.suppresses);
}
