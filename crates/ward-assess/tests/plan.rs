//! Mitigation plans from the whole chain: advisory remediations grouped into actions
//! linked to their findings, KEV-listed due within 14 days, exposure actions from
//! observed flows and security observations.

mod common;

use common::{asset, corpus, icsma_db};
use ward_assess::plan::ActionKind;
use ward_assess::report::{assess, AssessInput};
use ward_assess::segment::Flow;
use ward_identify::Category;
use ward_model::{Evidence, Timestamp};

fn flow(src: &str, dst: &str, port: u16, external: bool) -> Flow {
    Flow {
        src: src.into(),
        src_ip: None,
        dst: dst.into(),
        dst_ip: None,
        transport: "tcp".into(),
        port,
        protocol: None,
        vlan: None,
        dst_external: external,
        first_seen: Timestamp(0),
        last_seen: Timestamp(0),
        evidence: Evidence {
            file: 0,
            packet: 1,
            ts: Timestamp(0),
            flow: None,
        },
    }
}

#[test]
fn plan_actions_due_dates_and_links() {
    let mut db = icsma_db();
    let kev = corpus().join("cisa-kev/dev/known_exploited_vulnerabilities_2025-01-24.json");
    db.import_file(&kev)
        .unwrap_or_else(|e| panic!("importing {}: {e}", kev.display()));
    let mut isp = asset(
        "isp",
        "Philips",
        "IntelliSpace Portal",
        Some("8.0.3"),
        Some(Category::ClinicalWorkstation),
    );
    isp.security = vec!["smb1_in_use".into()];
    let pump = asset(
        "pump",
        "GE Healthcare",
        "B450",
        Some("2.0"),
        Some(Category::InfusionPump),
    );
    let flows = vec![
        flow("isp", "52.202.41.17", 443, true),
        flow("pump", "isp", 445, false),
    ];
    let r = assess(AssessInput {
        assets: vec![isp, pump],
        flows: &flows,
        intel: &db,
        sboms: vec![],
        local: &[],
        local_vex: &[],
        baseline: None,
        today: "2026-11-29",
    });
    // Findings are ordered most urgent first: the KEV ones of the portal lead.
    assert!(
        r.findings[0].exploitation.kev,
        "icsma-18-058-02 EternalBlue first"
    );
    let plan = r
        .plans
        .iter()
        .find(|p| p.asset_id == "isp")
        .expect("plan for isp");
    let egress = plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::BlockInternetEgress)
        .expect("internet egress observed");
    assert_eq!(egress.owner, "network team");
    assert!(plan
        .actions
        .iter()
        .any(|a| a.kind == ActionKind::DisableService && a.title == "Disable SMBv1"));
    let mitigation = plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::Mitigation)
        .expect("advisory mitigation");
    assert_eq!(
        mitigation.findings.len(),
        35,
        "icsma-18-058-02 remediation covers its 35 CVEs"
    );
    assert_eq!(mitigation.due, "2026-12-13", "KEV-listed: 14 days");
    let pump_plan = r
        .plans
        .iter()
        .find(|p| p.asset_id == "pump")
        .expect("plan for pump");
    let fix = pump_plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::VendorFix)
        .expect("icsma-20-023-01 vendor fix");
    assert_eq!(fix.findings.len(), 6);
    assert_eq!(fix.due, "2026-12-29", "P2 (65.0): 30 days");
    // Device risk: highest finding, count of open findings.
    let d = r
        .devices
        .iter()
        .find(|d| d.asset_id == "isp")
        .expect("device risk");
    assert_eq!(d.open_findings, 35);
    assert_eq!(d.tier.as_str(), "P1");
}
