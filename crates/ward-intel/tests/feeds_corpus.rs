//! Feed corpus tests: CISA KEV (JSON and CSV), EPSS (crafted), OSV (valid and invalid
//! records, GHSA conversions, Red Hat), CVE JSON 5 records.

mod common;
use common::*;
use serde_json::Value;
use ward_intel::{cve5, epss, kev, osv, CvssVersion, Format, IntelDb, IntelDocument, OsvEvent};

fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[test]
fn kev_json_and_csv_hold_the_same_1252_entries() {
    let d = dir("cisa-kev/dev");
    let jf = d.join("known_exploited_vulnerabilities_2025-01-24.json");
    let cf = d.join("known_exploited_vulnerabilities_2025-01-24.csv");
    let j = kev::read_json(&read(&jf), "kev.json").expect("KEV JSON imports");
    let c = kev::read_csv(&read(&cf), "kev.csv").expect("KEV CSV imports");
    assert_eq!(
        j.entries.len(),
        1252,
        "KEV JSON 2025-01-24 has 1,252 entries"
    );
    assert_eq!(
        c.entries.len(),
        1252,
        "KEV CSV 2025-01-24 has 1,252 entries"
    );
    assert_eq!(j.catalog_version.as_deref(), Some("2025.01.24"));
    for (a, b) in j.entries.iter().zip(&c.entries) {
        assert_eq!(a.cve, b.cve);
        assert_eq!(a.due_date, b.due_date, "{}", a.cve);
        assert_eq!(
            a.known_ransomware_campaign_use, b.known_ransomware_campaign_use,
            "{}",
            a.cve
        );
        assert_eq!(a.short_description, b.short_description, "{}", a.cve);
        assert_eq!(a.cwes, b.cwes, "{}", a.cve);
    }
    let v = json(&jf);
    let known = arr(&v, "vulnerabilities")
        .iter()
        .filter(|e| e["knownRansomwareCampaignUse"] == "Known")
        .count();
    assert_eq!(
        j.entries
            .iter()
            .filter(|e| e.known_ransomware_campaign_use == "Known")
            .count(),
        known
    );
    // Facts from INDEX.md: the EternalBlue family and Ghostcat are in KEV.
    let mut db = IntelDb::new();
    db.import_file(&jf).expect("KEV imports into the db");
    for cve in [
        "CVE-2017-0143",
        "CVE-2017-0144",
        "CVE-2017-0145",
        "CVE-2017-0146",
        "CVE-2017-0147",
        "CVE-2017-0148",
        "CVE-2017-0199",
        "CVE-2020-1938",
    ] {
        assert!(db.kev(cve).is_some(), "{cve} is in KEV");
    }
    assert_eq!(
        ward_intel::detect(&read(&cf), "kev.csv").expect("detected"),
        Format::KevCsv
    );
}

#[test]
fn epss_series_accumulates_by_date() {
    let day1 = "#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000\ncve,epss,percentile\nCVE-2017-0144,0.97565,0.99996\nCVE-2020-1938,0.97467,0.99963\n";
    let day2 = "#model_version:v2023.03.01,score_date:2024-05-02T00:00:00+0000\ncve,epss,percentile\nCVE-2017-0144,0.97000,0.99990\n";
    let mut db = IntelDb::new();
    assert_eq!(
        ward_intel::detect(day1.as_bytes(), "d1.csv").expect("detected"),
        Format::EpssCsv
    );
    db.import_bytes(day1.as_bytes(), "epss-2024-05-01.csv")
        .expect("day 1");
    db.import_bytes(day2.as_bytes(), "epss-2024-05-02.csv")
        .expect("day 2");
    let series = db.epss_series("CVE-2017-0144").expect("series");
    assert_eq!(
        series.keys().collect::<Vec<_>>(),
        vec!["2024-05-01", "2024-05-02"]
    );
    assert_eq!(db.epss_latest("CVE-2017-0144").map(|s| s.score), Some(0.97));
    assert_eq!(db.epss_series("CVE-2020-1938").map(|s| s.len()), Some(1));
    let bad =
        "#model_version:x,score_date:2024-05-01\ncve,epss,percentile\nCVE-2017-0144,abc,0.5\n";
    let err = epss::read(bad.as_bytes(), "bad.csv").expect_err("non-numeric score is rejected");
    assert!(err.to_string().contains("line 3"), "{err}");
}

#[test]
fn osv_records_valid_and_invalid() {
    let d = dir("osv-schema/dev/osv");
    let mut valid = 0;
    for f in files(&d, ".json") {
        let n = name(&f);
        let v = json(&f);
        if n.starts_with("nointroduced-") {
            let e =
                osv::read(&read(&f), &n).expect_err("a range without introduced must be rejected");
            assert_eq!(e.test_id(), Some("osv:introduced"), "{n}: {e}");
            continue;
        }
        if n.starts_with("nopackage-") {
            continue; // checked below, needs a package list
        }
        let rec = osv::read(&read(&f), &n).unwrap_or_else(|e| panic!("{n} must import: {e}"));
        assert_eq!(
            rec.affected.len(),
            arr(&v, "affected").len(),
            "{n}: affected"
        );
        let ranges: usize = arr(&v, "affected")
            .iter()
            .map(|a| arr(a, "ranges").len())
            .sum();
        assert_eq!(
            rec.affected.iter().map(|a| a.ranges.len()).sum::<usize>(),
            ranges,
            "{n}: ranges"
        );
        let events: usize = arr(&v, "affected")
            .iter()
            .flat_map(|a| arr(a, "ranges"))
            .map(|r| arr(r, "events").len())
            .sum();
        assert_eq!(
            rec.affected
                .iter()
                .flat_map(|a| &a.ranges)
                .map(|r| r.events.len())
                .sum::<usize>(),
            events,
            "{n}: events"
        );
        let versions: usize = arr(&v, "affected")
            .iter()
            .map(|a| arr(a, "versions").len())
            .sum();
        assert_eq!(
            rec.affected.iter().map(|a| a.versions.len()).sum::<usize>(),
            versions,
            "{n}: versions"
        );
        valid += 1;
    }
    assert_eq!(valid, 6, "6 valid OSV records");
    // nopackage-*: the package name does not exist in its registry. That needs the
    // registry's package list; here the list is the packages of the valid records.
    let known: Vec<(String, String)> = files(&d, ".json")
        .iter()
        .filter(|f| !name(f).starts_with("no"))
        .flat_map(|f| arr(&json(f), "affected").to_vec())
        .filter_map(|a| {
            Some((
                a["package"]["ecosystem"].as_str()?.to_string(),
                a["package"]["name"].as_str()?.to_string(),
            ))
        })
        .collect();
    let exists = |eco: &str, name: &str| known.iter().any(|(e, n)| e == eco && n == name);
    let opts = osv::OsvOptions {
        package_exists: Some(&exists),
    };
    for f in files(&d, ".json")
        .into_iter()
        .filter(|f| name(f).starts_with("nopackage-"))
    {
        let e = osv::read_with(&read(&f), &name(&f), opts)
            .expect_err("unknown package must be rejected");
        assert_eq!(e.test_id(), Some("osv:package-exists"), "{}", name(&f));
    }
    let valid_ghsa = d.join("GHSA-9v2f-6vcg-3hgv.json");
    osv::read_with(&read(&valid_ghsa), "GHSA-9v2f-6vcg-3hgv.json", opts)
        .expect("a known package passes the registry check");
}

#[test]
fn osv_ghsa_conversions_and_range_events() {
    let d = dir("osv-schema/dev/ghsa-to-osv");
    let mut checked = 0;
    for f in files(&d, ".osv.json") {
        let n = name(&f);
        let rec = osv::read(&read(&f), &n).unwrap_or_else(|e| panic!("{n} must import: {e}"));
        let v = json(&f);
        let intro = arr(&v, "affected")
            .iter()
            .flat_map(|a| arr(a, "ranges"))
            .flat_map(|r| arr(r, "events"))
            .filter(|e| e.get("introduced").is_some())
            .count();
        assert_eq!(
            rec.affected
                .iter()
                .flat_map(|a| &a.ranges)
                .flat_map(|r| &r.events)
                .filter(|e| matches!(e, OsvEvent::Introduced(_)))
                .count(),
            intro,
            "{n}: introduced events"
        );
        let last = arr(&v, "affected")
            .iter()
            .flat_map(|a| arr(a, "ranges"))
            .flat_map(|r| arr(r, "events"))
            .filter(|e| e.get("last_affected").is_some())
            .count();
        assert_eq!(
            rec.affected
                .iter()
                .flat_map(|a| &a.ranges)
                .flat_map(|r| &r.events)
                .filter(|e| matches!(e, OsvEvent::LastAffected(_)))
                .count(),
            last,
            "{n}: last_affected events"
        );
        assert_eq!(
            rec.withdrawn.is_some(),
            v.get("withdrawn").is_some(),
            "{n}: withdrawn"
        );
        checked += 1;
    }
    assert_eq!(checked, 8, "8 GHSA->OSV outputs");
    // The GHSA inputs are not OSV and not any format Ward reads.
    let ghsa = d.join("withdrawn.ghsa.json");
    assert!(
        ward_intel::detect(&read(&ghsa), "withdrawn.ghsa.json").is_err(),
        "GHSA input is not detected as a known format"
    );
}

#[test]
fn osv_crafted_invalid_ranges() {
    let base = |events: &str, ty: &str| {
        format!(
            r#"{{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"npm","name":"a"}},"ranges":[{{"type":"{ty}","events":{events}}}]}}]}}"#
        )
    };
    let ok = base(r#"[{"introduced":"0"},{"fixed":"1.2.3"}]"#, "SEMVER");
    osv::read(ok.as_bytes(), "ok").expect("valid SEMVER range");
    let mixed = base(
        r#"[{"introduced":"0"},{"fixed":"1"},{"last_affected":"2"}]"#,
        "SEMVER",
    );
    assert_eq!(
        osv::read(mixed.as_bytes(), "m")
            .expect_err("mixed")
            .test_id(),
        Some("osv:fixed-last-affected")
    );
    let git = base(r#"[{"introduced":"0"},{"fixed":"abc"}]"#, "GIT");
    assert_eq!(
        osv::read(git.as_bytes(), "g")
            .expect_err("git without repo")
            .test_id(),
        Some("osv:git-repo")
    );
    let limit = base(r#"[{"introduced":"1.0"},{"limit":"2.0"}]"#, "ECOSYSTEM");
    let rec = osv::read(limit.as_bytes(), "l").expect("limit event");
    assert_eq!(
        rec.affected[0].ranges[0].events[1],
        OsvEvent::Limit("2.0".into())
    );
}

#[test]
fn cve5_records() {
    let d = dir("cvelistV5-records/dev");
    let mut db = IntelDb::new();
    for f in files(&d, ".json") {
        let n = name(&f);
        let v = json(&f);
        let rec = cve5::read(&read(&f), &n).unwrap_or_else(|e| panic!("{n} must import: {e}"));
        assert_eq!(
            rec.id,
            v["cveMetadata"]["cveId"].as_str().unwrap_or(""),
            "{n}"
        );
        let cna = &v["containers"]["cna"];
        assert_eq!(
            rec.cna.affected.len(),
            arr(cna, "affected").len(),
            "{n}: CNA affected"
        );
        let versions: usize = arr(cna, "affected")
            .iter()
            .map(|a| arr(a, "versions").len())
            .sum();
        assert_eq!(
            rec.cna
                .affected
                .iter()
                .map(|a| a.versions.len())
                .sum::<usize>(),
            versions,
            "{n}: CNA versions"
        );
        let metrics: usize = arr(cna, "metrics")
            .iter()
            .map(|m| {
                ["cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0"]
                    .iter()
                    .filter(|k| m.get(**k).is_some())
                    .count()
            })
            .sum();
        assert_eq!(rec.cna.metrics.len(), metrics, "{n}: CNA CVSS metrics");
        assert_eq!(
            rec.adp.len(),
            arr(&v["containers"], "adp").len(),
            "{n}: ADP containers"
        );
        let (_, doc, _) = ward_intel::read_document(&read(&f), &n).expect("auto-detected");
        assert!(
            matches!(doc, IntelDocument::Cve(_)),
            "{n} detected as CVE 5"
        );
        db.import_file(&f).expect("imports");
    }
    let baxter = db.cve_record("CVE-2024-1275").expect("CVE-2024-1275");
    assert_eq!(
        baxter.cna.metrics[0].version,
        CvssVersion::V40,
        "CVE-2024-1275 has a CVSS 4.0 metric"
    );
    assert_eq!(
        baxter.cna.metrics[0].vector,
        "CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N"
    );
    let v = &baxter.cna.affected[0].versions[0];
    assert_eq!(
        (
            v.version.as_str(),
            v.less_than_or_equal.as_deref(),
            v.version_type.as_deref(),
            v.status.as_str()
        ),
        ("0", Some("1.52"), Some("custom"), "affected")
    );
    assert!(
        baxter
            .adp
            .iter()
            .any(|a| a.affected.iter().any(|x| !x.cpes.is_empty())),
        "CISA ADP adds CPEs"
    );
    assert_eq!(baxter.cna.cwes, vec!["CWE-1394".to_string()]);
    let urgent = db.cve_record("CVE-2019-12255").expect("CVE-2019-12255");
    assert_eq!(
        urgent.cna.affected[0].vendor.as_deref(),
        Some("n/a"),
        "URGENT/11 record uses n/a"
    );
    assert!(
        db.show("CVE-2022-2119")
            .is_some_and(|s| s.contains("DCMTK") || s.contains("dcmtk")),
        "show finds the DCMTK record"
    );
}
