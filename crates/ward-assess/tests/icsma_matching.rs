//! Acceptance: an inventory built from the products the corpus ICSMA advisories name,
//! matched against all 25 advisories: the exact findings and confidences, with versions
//! at range boundaries, unknown versions and look-alike vendors.

mod common;

use common::{asset, icsma_db};
use std::collections::BTreeSet;
use ward_assess::{Confidence, MatchIndex};
use ward_identify::Category;

const PHILIPS_ISP: &[&str] = &[
    "CVE-2004-2761",
    "CVE-2005-1794",
    "CVE-2011-3389",
    "CVE-2014-3566",
    "CVE-2016-2183",
    "CVE-2017-0143",
    "CVE-2017-0144",
    "CVE-2017-0145",
    "CVE-2017-0146",
    "CVE-2017-0147",
    "CVE-2017-0148",
    "CVE-2017-0199",
    "CVE-2017-0267",
    "CVE-2017-0268",
    "CVE-2017-0269",
    "CVE-2017-0270",
    "CVE-2017-0271",
    "CVE-2017-0272",
    "CVE-2017-0273",
    "CVE-2017-0274",
    "CVE-2017-0275",
    "CVE-2017-0276",
    "CVE-2017-0277",
    "CVE-2017-0278",
    "CVE-2017-0279",
    "CVE-2017-0280",
    "CVE-2018-5454",
    "CVE-2018-5458",
    "CVE-2018-5462",
    "CVE-2018-5464",
    "CVE-2018-5466",
    "CVE-2018-5468",
    "CVE-2018-5470",
    "CVE-2018-5472",
    "CVE-2018-5474",
];
const GE_CARESCAPE: &[&str] = &[
    "CVE-2020-6961",
    "CVE-2020-6962",
    "CVE-2020-6963",
    "CVE-2020-6964",
    "CVE-2020-6965",
    "CVE-2020-6966",
];
const SMITHS: &[&str] = &[
    "CVE-2017-12718",
    "CVE-2017-12720",
    "CVE-2017-12721",
    "CVE-2017-12722",
    "CVE-2017-12723",
    "CVE-2017-12724",
    "CVE-2017-12725",
    "CVE-2017-12726",
];
const BD_PCU_2023: &[&str] = &[
    "CVE-2018-1285",
    "CVE-2023-30559",
    "CVE-2023-30560",
    "CVE-2023-30561",
    "CVE-2023-30562",
    "CVE-2023-30563",
    "CVE-2023-30564",
    "CVE-2023-30565",
];
const VUE_2024: &[&str] = &[
    "CVE-2017-17485",
    "CVE-2019-12814",
    "CVE-2020-10673",
    "CVE-2020-11113",
    "CVE-2020-14061",
    "CVE-2020-35728",
    "CVE-2020-36518",
    "CVE-2021-20190",
    "CVE-2021-28165",
    "CVE-2023-40159",
    "CVE-2023-40223",
    "CVE-2023-40539",
    "CVE-2023-40704",
];

const VUE_2021: &[&str] = &[
    "CVE-2012-1708",
    "CVE-2015-9251",
    "CVE-2018-10115",
    "CVE-2018-11218",
    "CVE-2018-12326",
    "CVE-2018-8014",
    "CVE-2019-9636",
    "CVE-2020-1938",
    "CVE-2020-4670",
    "CVE-2021-27493",
    "CVE-2021-27497",
    "CVE-2021-27501",
    "CVE-2021-33018",
    "CVE-2021-33020",
    "CVE-2021-33022",
    "CVE-2021-33024",
];

type Row = (String, String, String, Confidence);

fn rows(asset: &str, source: &str, cves: &[&str], c: Confidence) -> Vec<Row> {
    cves.iter()
        .map(|v| (asset.to_string(), source.to_string(), v.to_string(), c))
        .collect()
}

#[test]
fn icsma_inventory_exact_findings() {
    let db = icsma_db();
    let index = MatchIndex::build(db.advisories(), &[]);
    let assets = vec![
        // icsma-17-009-01a: "< 8.2.2"; 8.2.1 inside, 8.2.2 (first fixed) outside.
        asset(
            "sj-821",
            "St. Jude Medical",
            "EX1100",
            Some("8.2.1"),
            Some(Category::PatientMonitor),
        ),
        asset(
            "sj-822",
            "St. Jude Medical",
            "EX1100",
            Some("8.2.2"),
            Some(Category::PatientMonitor),
        ),
        // icsma-17-250-02a: exact versions 1.1, 1.5, 1.6.
        asset(
            "smiths-15",
            "Smiths Medical",
            "Medfusion 4000",
            Some("1.5"),
            Some(Category::InfusionPump),
        ),
        asset(
            "smiths-17",
            "Smiths Medical",
            "Medfusion 4000",
            Some("1.7"),
            Some(Category::InfusionPump),
        ),
        // icsma-20-023-01: "B450" 2.X, "B650" 1.X; vendor spelled three ways.
        asset(
            "ge-b450-21",
            "GE Healthcare",
            "CARESCAPE B450",
            Some("2.1"),
            Some(Category::PatientMonitor),
        ),
        asset(
            "ge-b650-unk",
            "General Electric",
            "B650",
            None,
            Some(Category::PatientMonitor),
        ),
        asset(
            "ge-b450-30",
            "GE HealthCare",
            "B450",
            Some("3.0"),
            Some(Category::PatientMonitor),
        ),
        // Look-alike vendors: no findings.
        asset("geapp", "GE Appliances", "B450", Some("2.1"), None),
        asset(
            "phl",
            "Philips Lighting",
            "IntelliSpace Portal",
            Some("8.0.3"),
            None,
        ),
        // icsma-18-058-02 ("Phillips", all versions).
        asset(
            "isp",
            "Koninklijke Philips N.V.",
            "IntelliSpace Portal",
            Some("8.0.3"),
            Some(Category::ClinicalWorkstation),
        ),
        // icsma-22-174-01 DCMTK "< 3.6.7".
        asset(
            "dcmtk-366",
            "OFFIS",
            "DCMTK",
            Some("3.6.6"),
            Some(Category::Pacs),
        ),
        asset(
            "dcmtk-367",
            "OFFIS e.V.",
            "DCMTK",
            Some("3.6.7"),
            Some(Category::Pacs),
        ),
        // icsma-24-060-01 "<=2023.3_Build_9342": the bound itself is affected.
        asset(
            "microdicom",
            "MicroDicom",
            "DICOM Viewer",
            Some("2023.3_Build_9342"),
            Some(Category::ClinicalWorkstation),
        ),
        asset(
            "microdicom-new",
            "MicroDicom",
            "DICOM Viewer",
            Some("2024.1"),
            Some(Category::ClinicalWorkstation),
        ),
        // BD Alaris 8015 with unknown version: possible, from two advisories.
        asset(
            "alaris",
            "Becton, Dickinson",
            "Alaris 8015",
            None,
            Some(Category::InfusionPump),
        ),
        // icsma-24-200-01 Vue PACS "<12.2.8.410".
        asset(
            "vue",
            "Philips",
            "Vue PACS",
            Some("12.2.8.400"),
            Some(Category::Pacs),
        ),
    ];
    let findings = index.match_all(&assets);
    let got: BTreeSet<Row> = findings
        .iter()
        .map(|f| {
            (
                f.asset_id.clone(),
                f.source.clone(),
                f.vulnerability.clone(),
                f.confidence,
            )
        })
        .collect();
    let mut want: BTreeSet<Row> = BTreeSet::new();
    want.extend(rows(
        "sj-821",
        "ICSMA-17-009-01A",
        &["CVE-2017-5149"],
        Confidence::Confirmed,
    ));
    want.extend(rows(
        "smiths-15",
        "ICSMA-17-250-02A",
        SMITHS,
        Confidence::Confirmed,
    ));
    want.extend(rows(
        "ge-b450-21",
        "ICSMA-20-023-01",
        GE_CARESCAPE,
        Confidence::Confirmed,
    ));
    want.extend(rows(
        "ge-b650-unk",
        "ICSMA-20-023-01",
        GE_CARESCAPE,
        Confidence::Possible,
    ));
    want.extend(rows(
        "isp",
        "ICSMA-18-058-02",
        PHILIPS_ISP,
        Confidence::Probable,
    ));
    want.extend(rows(
        "dcmtk-366",
        "ICSMA-22-174-01",
        &["CVE-2022-2119", "CVE-2022-2120", "CVE-2022-2121"],
        Confidence::Probable,
    ));
    want.extend(rows(
        "microdicom",
        "ICSMA-24-060-01",
        &["CVE-2024-22100", "CVE-2024-25578"],
        Confidence::Probable,
    ));
    want.extend(rows(
        "alaris",
        "ICSMA-17-017-02",
        &["CVE-2016-8375", "CVE-2016-9355"],
        Confidence::Possible,
    ));
    want.extend(rows(
        "alaris",
        "ICSMA-23-194-01",
        BD_PCU_2023,
        Confidence::Possible,
    ));
    want.extend(rows(
        "vue",
        "ICSMA-24-200-01",
        VUE_2024,
        Confidence::Probable,
    ));
    // icsma-21-187-01 "<= 12.2.x.x": every 12.2 release.
    want.extend(rows(
        "vue",
        "ICSMA-21-187-01",
        VUE_2021,
        Confidence::Probable,
    ));
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "cisa-csaf-icsma findings differ\nmissing: {missing:#?}\nunexpected: {extra:#?}"
    );
}
