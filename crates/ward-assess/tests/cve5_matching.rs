//! CVE JSON 5 `affected` entries as match rules: the corpus records (cvelistV5-records:
//! Baxter Connex Spot Monitor with `lessThanOrEqual` and `defaultStatus: unaffected` plus
//! an ADP CPE; OFFIS DCMTK with `lessThan`; URGENT/11 with vendor and product "n/a"),
//! and a crafted record for `changes`, `unknown` and `git` entries.

mod common;

use common::{asset, intel};
use std::collections::BTreeSet;
use ward_assess::report::{assess, AssessInput};
use ward_assess::{Confidence, MatchIndex};
use ward_identify::Category;
use ward_intel::IntelDb;

const RECORDS: &[&str] = &[
    "cvelistV5-records/dev/CVE-2019-12255.json",
    "cvelistV5-records/dev/CVE-2022-2119.json",
    "cvelistV5-records/dev/CVE-2024-1275.json",
];

fn cve_index(db: &IntelDb) -> MatchIndex {
    let mut index = MatchIndex::new();
    for r in db.cve_records() {
        index.add_cve(r);
    }
    index
}

type Row = (String, String, Confidence);

#[test]
fn corpus_cve5_records_exact_findings_at_boundaries() {
    let db = intel(RECORDS);
    assert_eq!(db.cve_records().count(), 3, "three CVE 5 records imported");
    let index = cve_index(&db);
    // URGENT/11's "n/a"/"n/a" entry identifies nothing: no rule at all.
    assert!(
        index.rules.iter().all(|r| !r.product_name.is_empty()),
        "placeholder entries are not compiled"
    );
    let mut cpe_dev = asset(
        "spot-cpe",
        "Baxter",
        "Connex Spot Monitor",
        Some("1.40"),
        Some(Category::PatientMonitor),
    );
    cpe_dev.cpes =
        vec!["cpe:2.3:o:baxter:welch_allyn_connex_spot_monitor:1.40:*:*:*:*:*:*:*".into()];
    let assets = vec![
        // lessThanOrEqual 1.52: the bound itself is affected...
        asset(
            "spot-152",
            "Baxter Healthcare",
            "Welch Allyn Connex Spot Monitor",
            Some("1.52"),
            Some(Category::PatientMonitor),
        ),
        // ... the next version is not (defaultStatus unaffected).
        asset(
            "spot-153",
            "Baxter",
            "Welch Allyn Connex Spot Monitor",
            Some("1.53"),
            Some(Category::PatientMonitor),
        ),
        // Version unknown: neither affected nor unaffected, a candidate.
        asset(
            "spot-unk",
            "Baxter",
            "Welch Allyn Connex Spot Monitor",
            None,
            Some(Category::PatientMonitor),
        ),
        // Same vendor and model without the CPE: only part of the product name, possible.
        // (Listed first so that matching many devices reuses its name keys for the next
        // one, which must still be matched by its own CPE.)
        asset(
            "spot-nocpe",
            "Baxter",
            "Connex Spot Monitor",
            Some("1.40"),
            Some(Category::PatientMonitor),
        ),
        // The ADP container's CPE identifies the product exactly.
        cpe_dev,
        // Another Baxter product: nothing.
        asset(
            "sigma",
            "Baxter",
            "Sigma Spectrum",
            Some("1.0"),
            Some(Category::InfusionPump),
        ),
        // lessThan 3.6.7: 3.6.6 inside, 3.6.7 (the fix) outside.
        asset(
            "dcmtk-366",
            "OFFIS e.V.",
            "DCMTK",
            Some("3.6.6"),
            Some(Category::Pacs),
        ),
        asset(
            "dcmtk-367",
            "OFFIS",
            "DCMTK",
            Some("3.6.7"),
            Some(Category::Pacs),
        ),
        // URGENT/11 names no vendor or product: a VxWorks device gets no CVE-5 finding.
        asset("vxworks", "Wind River", "VxWorks", Some("6.9"), None),
    ];
    let findings = index.match_all(&assets);
    let got: BTreeSet<Row> = findings
        .iter()
        .map(|f| (f.asset_id.clone(), f.vulnerability.clone(), f.confidence))
        .collect();
    let want: BTreeSet<Row> = [
        ("spot-152", "CVE-2024-1275", Confidence::Probable),
        ("spot-unk", "CVE-2024-1275", Confidence::Possible),
        ("spot-cpe", "CVE-2024-1275", Confidence::Confirmed),
        ("spot-nocpe", "CVE-2024-1275", Confidence::Possible),
        ("dcmtk-366", "CVE-2022-2119", Confidence::Probable),
    ]
    .iter()
    .map(|(a, v, c)| (a.to_string(), v.to_string(), *c))
    .collect();
    assert_eq!(got, want, "CVE 5 findings differ");
    // Matching in bulk (with its per-fleet key cache) equals matching one by one.
    let bulk: BTreeSet<String> = findings.iter().map(|f| f.id.clone()).collect();
    let single: BTreeSet<String> = assets
        .iter()
        .flat_map(|a| index.match_asset(a))
        .map(|f| f.id)
        .collect();
    assert_eq!(bulk, single);
    // A new record matched alone through the reverse asset index finds the same.
    let aidx = ward_assess::matcher::AssetIndex::build(&assets, &index.aliases());
    let mut incremental: BTreeSet<String> = BTreeSet::new();
    for r in db.cve_records() {
        incremental.extend(
            ward_assess::matcher::match_new_cve(r, &assets, &aidx)
                .into_iter()
                .map(|f| f.id),
        );
    }
    assert_eq!(incremental, bulk, "match_new_cve through the asset index");
    let f152 = findings
        .iter()
        .find(|f| f.asset_id == "spot-152")
        .expect("spot-152 finding");
    assert_eq!(f152.source_kind, "cve5");
    assert_eq!(f152.version.result, Some(true));
    assert!(
        f152.version
            .explanation
            .contains("1.52 is inside 0 to <= 1.52"),
        "{}",
        f152.version.explanation
    );
    let unk = findings
        .iter()
        .find(|f| f.asset_id == "spot-unk")
        .expect("spot-unk finding");
    assert_eq!(unk.version.result, None, "unknown version stays unknown");
    let cpe = findings
        .iter()
        .find(|f| f.asset_id == "spot-cpe")
        .expect("spot-cpe finding");
    assert!(
        cpe.reasons.iter().any(|r| r.rule == "cpe"
            && r.advisory_value
                == "cpe:2.3:o:baxter:welch_allyn_connex_spot_monitor:*:*:*:*:*:*:*:*"),
        "{:?}",
        cpe.reasons
    );
    // The record's CVSS 4.0 metric travels with the finding.
    assert!(
        f152.scores
            .iter()
            .any(|s| s.version == ward_intel::CvssVersion::V40),
        "CVSS 4.0 score of CVE-2024-1275 kept"
    );
}

/// `assess()` uses CVE 5 records too, next to the CSAF advisory naming the same CVE.
#[test]
fn assess_uses_cve5_records() {
    let db = intel(&[
        "cvelistV5-records/dev/CVE-2024-1275.json",
        "cisa-kev/dev/known_exploited_vulnerabilities_2025-01-24.json",
    ]);
    let result = assess(AssessInput {
        assets: vec![asset(
            "spot",
            "Baxter",
            "Welch Allyn Connex Spot Monitor",
            Some("1.50"),
            Some(Category::PatientMonitor),
        )],
        flows: &[],
        intel: &db,
        sboms: vec![],
        local: &[],
        local_vex: &[],
        baseline: None,
        today: "2026-11-29",
    });
    let cves: Vec<&str> = result
        .findings
        .iter()
        .map(|s| s.finding.vulnerability.as_str())
        .collect();
    assert_eq!(cves, ["CVE-2024-1275"]);
    let text = result
        .explain(&result.findings[0].finding.id)
        .expect("explain")
        .join("\n");
    assert!(text.contains("CVE-2024-1275"), "{text}");
    assert!(text.contains("1.50 is inside"), "{text}");
}

/// A crafted record: `changes` inside a range, an `unknown` entry, a `git` entry and
/// no `defaultStatus`.
#[test]
fn crafted_cve5_changes_unknown_and_git() {
    let rec = serde_json::json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2099-0001", "state": "PUBLISHED", "assignerOrgId": "00000000-0000-4000-8000-000000000000"},
        "containers": {"cna": {
            "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
            "descriptions": [{"lang": "en", "value": "crafted"}],
            "affected": [
                {"vendor": "Acme Medical", "product": "InfuCare 300",
                 "versions": [
                    {"version": "2.0", "lessThan": "3.0", "status": "affected", "versionType": "semver",
                     "changes": [{"at": "2.5.1", "status": "unaffected"}]},
                    {"version": "4.0", "lessThanOrEqual": "4.2", "status": "unknown", "versionType": "semver"}
                 ]},
                {"vendor": "Acme Medical", "product": "InfuCare 400",
                 "versions": [{"version": "a1b2c3d", "status": "affected", "versionType": "git"}]}
            ]
        }}
    });
    let mut db = IntelDb::new();
    db.import_bytes(&serde_json::to_vec(&rec).expect("json"), "crafted-cve.json")
        .expect("crafted CVE 5 record imports");
    let index = cve_index(&db);
    let dev = |id: &str, model: &str, v: &str| {
        asset(
            id,
            "Acme Medical",
            model,
            Some(v),
            Some(Category::InfusionPump),
        )
    };
    let assets = vec![
        dev("v199", "InfuCare 300", "1.9.9"),
        dev("v200", "InfuCare 300", "2.0.0"),
        dev("v250", "InfuCare 300", "2.5.0"),
        dev("v251", "InfuCare 300", "2.5.1"),
        dev("v300", "InfuCare 300", "3.0.0"),
        dev("v410", "InfuCare 300", "4.1.0"),
        dev("v500", "InfuCare 300", "5.0.0"),
        dev("git", "InfuCare 400", "1.0.0"),
    ];
    let findings = index.match_all(&assets);
    let got: BTreeSet<(String, Option<bool>)> = findings
        .iter()
        .map(|f| (f.asset_id.clone(), f.version.result))
        .collect();
    let want: BTreeSet<(String, Option<bool>)> = [
        ("v200", Some(true)),
        ("v250", Some(true)),
        // inside 4.0..=4.2 with status unknown: a candidate, not a verdict
        ("v410", None),
        // git commit ids cannot be ordered: a candidate
        ("git", None),
    ]
    .iter()
    .map(|(a, r)| (a.to_string(), *r))
    .collect();
    assert_eq!(
        got, want,
        "2.5.1 is unaffected by `changes`, 3.0.0 is the exclusive bound, 1.9.9 and 5.0.0 are outside"
    );
    for f in &findings {
        let want = if f.version.result.is_none() {
            Confidence::Possible
        } else {
            Confidence::Confirmed
        };
        assert_eq!(f.confidence, want, "{} {:?}", f.asset_id, f.version);
    }
}
