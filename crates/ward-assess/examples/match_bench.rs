//! Matching benchmark: N synthetic devices (default 1,000,000) against every advisory in
//! the given folders (default: the corpus ICSMA advisories), then one new advisory against
//! the same devices through the reverse index.
//!
//! ```text
//! cargo run --release -p ward-assess --example match_bench -- [N] [--copies K] [INTEL_DIR...]
//! ```
//!
//! INTEL_DIR holds CSAF advisories and CVE JSON 5 records (both are indexed).
//!
//! One device in ten is built from an advisory's own vendor and product name, with versions
//! inside and outside the ranges; the others are of vendors no advisory names, so both the
//! hit and the miss paths are exercised.

use std::path::{Path, PathBuf};
use std::time::Instant;
use ward_assess::alias::VendorAliases;
use ward_assess::matcher::{match_new_advisory, AssetIndex, MatchIndex};
use ward_assess::{Asset, AssetAttr};
use ward_intel::IntelDb;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let mut copies = 1usize;
    let mut dirs: Vec<PathBuf> = Vec::new();
    while let Some(a) = args.next() {
        if a == "--copies" {
            copies = args.next().and_then(|c| c.parse().ok()).unwrap_or(1).max(1);
        } else {
            dirs.push(PathBuf::from(a));
        }
    }
    if dirs.is_empty() {
        dirs.push(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cisa-csaf-icsma/dev"),
        );
    }
    let mut db = IntelDb::new();
    let report = ward_intel::import_paths(&mut db, &dirs, &|_| {});
    if !report.is_ok() {
        eprint!("{report}");
    }
    // --copies K: K copies of every advisory, copy k under a tracking id and vendor of its
    // own (a vendor no alias names), so the database grows K times with distinct products
    // rather than K identical ones.
    let mut owned: Vec<ward_intel::Advisory> = db.advisories().to_vec();
    if copies > 1 {
        let base = owned.clone();
        for k in 1..copies {
            for a in &base {
                let mut c = a.clone();
                c.tracking_id = format!("{}-COPY{k}", a.tracking_id);
                for p in &mut c.products {
                    if p.vendor.is_some() {
                        p.vendor = Some(format!("Benchvendor{k}"));
                    }
                }
                owned.push(c);
            }
        }
    }
    let advisories = &owned[..];
    assert!(
        !advisories.is_empty(),
        "no advisories imported from {dirs:?}"
    );
    let products: Vec<(String, String, Option<String>)> = advisories
        .iter()
        .flat_map(|a| a.products.iter())
        .filter_map(|p| {
            Some((
                p.vendor.clone()?,
                p.product_name.clone().unwrap_or_else(|| p.name.clone()),
                p.version.clone(),
            ))
        })
        .collect();
    let versions = ["1.0", "2.1", "3.6.6", "8.2.1", "9.7", "12.2.1", "2023.3"];
    let other_vendors = [
        "Acme Medical",
        "Northwind Devices",
        "Contoso Imaging",
        "Fabrikam Labs",
    ];
    let ev = "bench";
    let t = Instant::now();
    let assets: Vec<Asset> = (0..n)
        .map(|i| {
            let (vendor, model, exact) = if i % 10 == 0 && !products.is_empty() {
                let p = &products[(i / 10) % products.len()];
                (p.0.clone(), p.1.clone(), p.2.clone())
            } else {
                (
                    other_vendors[i % other_vendors.len()].to_string(),
                    format!("Model {}", i % 5000),
                    None,
                )
            };
            let version = if i % 7 == 0 {
                None
            } else {
                Some(exact.unwrap_or_else(|| versions[i % versions.len()].to_string()))
            };
            Asset {
                id: format!("dev-{i:07}"),
                name: format!("{vendor} {model}"),
                vendor: Some(AssetAttr::new(vendor, ev)),
                model: Some(AssetAttr::new(model, ev)),
                versions: version
                    .map(|v| vec![("version".to_string(), AssetAttr::new(v, ev))])
                    .unwrap_or_default(),
                ..Asset::default()
            }
        })
        .collect();
    println!("built {n} devices in {:.2?}", t.elapsed());

    let t = Instant::now();
    let mut index = MatchIndex::build(advisories, &[]);
    let mut cves = 0;
    for c in db.cve_records() {
        index.add_cve(c);
        cves += 1;
    }
    println!(
        "indexed {} advisories and {cves} CVE 5 records ({} product rules) in {:.2?}",
        advisories.len(),
        index.rules_len(),
        t.elapsed()
    );
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let t = Instant::now();
    let findings = index.match_all(&assets);
    let full = t.elapsed();
    println!(
        "full re-match: {n} devices x {} advisories -> {} findings in {:.2?} ({threads} threads)",
        advisories.len(),
        findings.len(),
        full
    );

    let t = Instant::now();
    let aliases = VendorAliases::standard();
    let asset_index = AssetIndex::build(&assets, &aliases);
    println!("reverse (asset) index built in {:.2?}", t.elapsed());
    // "New" advisory: the last one imported, matched alone against all devices.
    let newest = advisories
        .iter()
        .max_by_key(|a| a.initial_release_date.clone())
        .expect("an advisory");
    let t = Instant::now();
    let new_findings = match_new_advisory(newest, &assets, &asset_index);
    let one = t.elapsed();
    println!(
        "one new advisory ({}) against {n} devices -> {} findings in {:.2?}",
        newest.tracking_id,
        new_findings.len(),
        one
    );
    println!(
        "targets: full re-match < 10 s: {}; one advisory < 100 ms: {}",
        if full.as_secs_f64() < 10.0 {
            "met"
        } else {
            "NOT met"
        },
        if one.as_secs_f64() < 0.1 {
            "met"
        } else {
            "NOT met"
        }
    );
}
