//! Hospital-side VEX as input: the hospital's statements (e.g. "protected by mitigating
//! control"), written as CycloneDX VEX, OpenVEX or CSAF VEX, are read back by ward-intel
//! and applied to the findings they name, taking precedence over manufacturer VEX. The
//! round trip export -> file -> import -> assess gives the same closures for all three
//! formats, on findings from the corpus ICSMA advisories.

mod common;

use common::{asset, icsma_db};
use std::collections::BTreeSet;
use ward_assess::report::{assess, AssessInput, Assessment};
use ward_assess::vex::{
    export_csaf_vex, export_cyclonedx, export_openvex, statements_of, Justification,
    LocalStatement, LocalStatus, Publisher,
};
use ward_assess::Asset;
use ward_identify::Category;
use ward_intel::{IntelDb, VexStatement};

fn assets() -> Vec<Asset> {
    vec![
        asset(
            "isp",
            "Philips",
            "IntelliSpace Portal",
            Some("8.0.3"),
            Some(Category::ClinicalWorkstation),
        ),
        asset(
            "dcmtk",
            "OFFIS",
            "DCMTK",
            Some("3.6.6"),
            Some(Category::Pacs),
        ),
    ]
}

fn run(db: &IntelDb, local: &[LocalStatement], local_vex: &[VexStatement]) -> Assessment {
    assess(AssessInput {
        assets: assets(),
        flows: &[],
        intel: db,
        sboms: vec![],
        local,
        local_vex,
        baseline: None,
        today: "2026-11-29",
    })
}

/// (asset, CVE, status, justification) of every finding carrying a local statement.
fn local_rows(a: &Assessment) -> BTreeSet<(String, String, String, Option<String>)> {
    a.findings
        .iter()
        .filter_map(|s| {
            let v = s.finding.vex.as_ref()?;
            (v.source == ward_assess::vex::LOCAL_SOURCE).then(|| {
                (
                    s.finding.asset_id.clone(),
                    s.finding.vulnerability.clone(),
                    v.status.clone(),
                    v.justification.clone(),
                )
            })
        })
        .collect()
}

#[test]
fn hospital_vex_in_three_formats_round_trips() {
    let db = icsma_db();
    let base = run(&db, &[], &[]);
    assert!(local_rows(&base).is_empty());
    let pick = |a: &str, v: &str| -> String {
        base.findings
            .iter()
            .find(|s| s.finding.asset_id == a && s.finding.vulnerability == v)
            .unwrap_or_else(|| panic!("no finding {v} on {a}"))
            .finding
            .id
            .clone()
    };
    let st = |id: String, status, j| LocalStatement {
        finding_id: id,
        status,
        justification: j,
        impact_statement: Some("SMBv1 off; port 445 blocked at the zone boundary".into()),
        action_statement: Some("Vendor patch scheduled".into()),
        author: "biomed@hospital.example".into(),
        timestamp: "2026-11-29T09:00:00Z".into(),
    };
    let local = vec![
        st(
            pick("isp", "CVE-2017-0144"),
            LocalStatus::NotAffected,
            Some(Justification::ProtectedByMitigatingControl),
        ),
        st(pick("isp", "CVE-2018-5474"), LocalStatus::Affected, None),
        st(pick("dcmtk", "CVE-2022-2121"), LocalStatus::Fixed, None),
    ];
    let direct = run(&db, &local, &[]);
    assert!(direct.local_vex_unmatched.is_empty());
    let want: BTreeSet<(String, String, String, Option<String>)> = [
        (
            "isp",
            "CVE-2017-0144",
            "not_affected",
            Some("protected_by_mitigating_control"),
        ),
        ("isp", "CVE-2018-5474", "affected", None),
        ("dcmtk", "CVE-2022-2121", "fixed", None),
    ]
    .iter()
    .map(|(a, v, s, j)| {
        (
            a.to_string(),
            v.to_string(),
            s.to_string(),
            j.map(str::to_string),
        )
    })
    .collect();
    assert_eq!(local_rows(&direct), want);
    let suppressed = |a: &Assessment| -> BTreeSet<String> {
        a.findings
            .iter()
            .filter(|s| s.finding.is_suppressed())
            .map(|s| s.finding.vulnerability.clone())
            .collect()
    };
    assert_eq!(
        suppressed(&direct),
        ["CVE-2017-0144", "CVE-2022-2121"]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );

    let publisher = Publisher {
        name: "Example Hospital".into(),
        namespace: "https://hospital.example".into(),
    };
    let ts = "2026-11-29T10:00:00Z";
    let list: Vec<ward_assess::Finding> = base.findings.iter().map(|s| s.finding.clone()).collect();
    let docs = [
        (
            "hospital.cdx.json",
            export_cyclonedx(&list, &local, &publisher, ts),
        ),
        (
            "hospital.openvex.json",
            export_openvex(&list, &local, &publisher, ts),
        ),
        (
            "hospital-csaf-vex.json",
            export_csaf_vex(&list, &local, &publisher, ts, "HOSP-VEX-2026-0001"),
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, doc) in docs {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
        let mut vdb = IntelDb::new();
        vdb.import_file(&path)
            .unwrap_or_else(|e| panic!("ward-intel reads back {name}: {e}"));
        let mut statements = statements_of(&vdb);
        assert!(!statements.is_empty(), "{name}: no statements read");
        // A statement about a device not in the assessment is reported, not applied.
        let mut stray = statements[0].clone();
        stray.product = "urn:ward:device:not-here".into();
        statements.push(stray);
        let got = run(&db, &[], &statements);
        assert_eq!(
            got.local_vex_unmatched,
            [format!(
                "{} on urn:ward:device:not-here",
                statements[0].vulnerability
            )],
            "{name}"
        );
        let rows = local_rows(&got);
        // The statuses survive every format; justifications map to the nearest label
        // (OpenVEX / CSAF inline_mitigations_already_exist -> protected_by_mitigating_control).
        assert_eq!(
            rows, want,
            "{name}: hospital statements applied differently"
        );
        assert_eq!(suppressed(&got), suppressed(&direct), "{name}");
        // The statement's text is shown with the finding.
        let f = got
            .findings
            .iter()
            .find(|s| s.finding.vulnerability == "CVE-2017-0144")
            .expect("CVE-2017-0144");
        let text = got.explain(&f.finding.id).expect("explain").join("\n");
        assert!(
            text.contains("protected_by_mitigating_control"),
            "{name}: {text}"
        );
        assert_eq!(f.risk.tier.as_str(), "closed", "{name}");
    }
}
