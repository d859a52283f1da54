//! The worked examples of docs/RISK.md, and the ranking orderings of the acceptance
//! criteria, against the corpus advisories and KEV catalog.

mod common;

use common::{asset, corpus, icsma_db};
use ward_assess::risk::{score_finding, Exploitation, Exposure, Tier};
use ward_assess::{Confidence, Finding, MatchIndex};
use ward_identify::{Category, Criticality};
use ward_intel::IntelDb;

fn kev_db() -> IntelDb {
    let mut db = IntelDb::new();
    let p = corpus().join("cisa-kev/dev/known_exploited_vulnerabilities_2025-01-24.json");
    db.import_file(&p)
        .unwrap_or_else(|e| panic!("importing {}: {e}", p.display()));
    db
}

fn find<'a>(fs: &'a [Finding], asset: &str, cve: &str) -> &'a Finding {
    fs.iter()
        .find(|f| f.asset_id == asset && f.vulnerability == cve)
        .unwrap_or_else(|| panic!("no finding {cve} on {asset}"))
}

fn part(r: &ward_assess::risk::RiskScore, name: &str) -> f64 {
    r.parts
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.points)
        .unwrap_or_else(|| panic!("no part {name}"))
}

#[test]
fn examples_1_and_2_kev_outranks_higher_cvss() {
    let db = icsma_db();
    let kev = kev_db();
    let index = MatchIndex::build(db.advisories(), &[]);
    let isp = asset(
        "isp",
        "Philips",
        "IntelliSpace Portal",
        Some("8.0.3"),
        Some(Category::ClinicalWorkstation),
    );
    let fs = index.match_asset(&isp);
    let crit = isp.effective_criticality();
    assert_eq!(crit, Some(Criticality::High));

    // Example 1: CVE-2017-0144 (EternalBlue), KEV with known ransomware use.
    let f1 = find(&fs, "isp", "CVE-2017-0144");
    assert_eq!(
        f1.confidence,
        Confidence::Probable,
        "icsma-18-058-02 all versions, name match"
    );
    let e1 = Exploitation::from_kev(kev.kev("CVE-2017-0144"), None);
    assert!(
        e1.kev && e1.ransomware,
        "KEV 2025-01-24 lists CVE-2017-0144 with known ransomware use"
    );
    let r1 = score_finding(f1, crit, &e1, &Exposure::default());
    assert_eq!(part(&r1, "cvss"), 32.4);
    assert_eq!(part(&r1, "exploitation"), 45.0);
    assert_eq!(part(&r1, "clinical"), 19.0);
    assert_eq!(r1.score, 86.8, "RISK.md example 1");
    assert_eq!(r1.tier, Tier::P1);
    assert_eq!(r1.due_days, 14);

    // Example 2: CVE-2018-5474, CVSS 9.8, not in KEV.
    let f2 = find(&fs, "isp", "CVE-2018-5474");
    let e2 = Exploitation::from_kev(kev.kev("CVE-2018-5474"), None);
    assert!(!e2.kev, "CVE-2018-5474 is not in KEV 2025-01-24");
    let r2 = score_finding(f2, crit, &e2, &Exposure::default());
    assert_eq!(part(&r2, "cvss"), 39.2);
    assert_eq!(r2.score, 52.4, "RISK.md example 2");
    assert_eq!(r2.tier, Tier::P2);
    assert!(
        r1.score > r2.score,
        "KEV-listed CVE-2017-0144 (8.1) must rank above unexploited CVE-2018-5474 (9.8) on the same device"
    );

    // Every KEV-listed finding of the advisory outranks every unexploited one.
    let scored: Vec<(bool, f64, String)> = fs
        .iter()
        .map(|f| {
            let e = Exploitation::from_kev(kev.kev(&f.vulnerability), None);
            (
                e.kev,
                score_finding(f, crit, &e, &Exposure::default()).score,
                f.vulnerability.clone(),
            )
        })
        .collect();
    let min_kev = scored
        .iter()
        .filter(|s| s.0)
        .map(|s| s.1)
        .fold(f64::MAX, f64::min);
    let max_other = scored
        .iter()
        .filter(|s| !s.0)
        .map(|s| s.1)
        .fold(0.0, f64::max);
    assert_eq!(
        scored.iter().filter(|s| s.0).count(),
        7,
        "7 KEV CVEs in icsma-18-058-02"
    );
    assert!(
        min_kev > max_other,
        "KEV {min_kev} vs unexploited {max_other}"
    );
}

#[test]
fn example_3_life_sustaining_outranks_non_clinical() {
    let db = icsma_db();
    let index = MatchIndex::build(db.advisories(), &[]);
    let pump = asset(
        "pump",
        "GE Healthcare",
        "B450",
        Some("2.0"),
        Some(Category::InfusionPump),
    );
    let printer = asset(
        "printer",
        "GE Healthcare",
        "B450",
        Some("2.0"),
        Some(Category::Printer),
    );
    let fp = index.match_asset(&pump);
    let fq = index.match_asset(&printer);
    let a = find(&fp, "pump", "CVE-2020-6961");
    let b = find(&fq, "printer", "CVE-2020-6961");
    assert_eq!(a.confidence, Confidence::Confirmed);
    let none = Exploitation::default();
    let ra = score_finding(a, pump.effective_criticality(), &none, &Exposure::default());
    let exposed = Exposure {
        internet_bound: true,
        ..Exposure::default()
    };
    let rb = score_finding(b, printer.effective_criticality(), &none, &exposed);
    assert_eq!(part(&ra, "clinical"), 25.0);
    assert_eq!(ra.score, 65.0, "RISK.md example 3, infusion pump");
    assert_eq!(part(&rb, "clinical"), 0.0);
    assert_eq!(rb.score, 50.0, "RISK.md example 3, printer");
    assert!(
        ra.score > rb.score,
        "same CVE: life-sustaining (critical) must outrank non-clinical even when the latter is internet-bound"
    );
}

#[test]
fn example_4_controls_and_possible_match() {
    let db = icsma_db();
    let index = MatchIndex::build(db.advisories(), &[]);
    let pump = asset(
        "pump",
        "GE Healthcare",
        "B450",
        None,
        Some(Category::InfusionPump),
    );
    let fs = index.match_asset(&pump);
    let f = find(&fs, "pump", "CVE-2020-6961");
    assert_eq!(f.confidence, Confidence::Possible, "unknown version");
    let seg = Exposure {
        segmented: true,
        ..Exposure::default()
    };
    let r = score_finding(
        f,
        pump.effective_criticality(),
        &Exploitation::default(),
        &seg,
    );
    assert_eq!(part(&r, "controls"), -10.0);
    assert_eq!(r.confidence_factor, 0.7);
    assert_eq!(r.score, 38.5, "RISK.md example 4");
    assert_eq!(r.tier, Tier::P3);
}
