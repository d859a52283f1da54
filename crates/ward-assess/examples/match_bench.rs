//! Matching benchmark: N synthetic devices (default 1,000,000) against every advisory in
//! the given folders (default: the corpus ICSMA advisories), then one new advisory against
//! the same devices through the reverse index.
//!
//! ```text
//! cargo run --release -p ward-assess --example match_bench -- [N] [ADVISORY_DIR...]
//! ```
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
    let mut dirs: Vec<PathBuf> = args.map(PathBuf::from).collect();
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
    let advisories = db.advisories();
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
    let index = MatchIndex::build(advisories, &[]);
    println!(
        "indexed {} advisories ({} product rules) in {:.2?}",
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
