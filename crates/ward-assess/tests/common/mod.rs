//! Shared helpers of the corpus tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use ward_assess::{Asset, AssetAttr};
use ward_identify::Category;
use ward_intel::IntelDb;

/// The shared corpus; panics with a clear message when it is missing.
pub fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("cisa-csaf-icsma").is_dir(),
        "the test corpus is required at {} (cisa-csaf-icsma/ missing)",
        p.display()
    );
    p
}

/// Imports files (relative to the corpus) into a fresh IntelDb.
pub fn intel(files: &[&str]) -> IntelDb {
    let mut db = IntelDb::new();
    db.clock = Some(1_700_000_000);
    let root = corpus();
    for f in files {
        let path = root.join(f);
        db.import_file(&path)
            .unwrap_or_else(|e| panic!("importing {}: {e}", path.display()));
    }
    db
}

/// All ICSMA advisories of the corpus.
pub fn icsma_db() -> IntelDb {
    let dir = corpus().join("cisa-csaf-icsma/dev");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut db = IntelDb::new();
    db.clock = Some(1_700_000_000);
    for f in files {
        db.import_file(&f)
            .unwrap_or_else(|e| panic!("importing {}: {e}", f.display()));
    }
    db
}

/// A hand-made asset, as a CMMS row would give it.
pub fn asset(
    id: &str,
    vendor: &str,
    model: &str,
    version: Option<&str>,
    cat: Option<Category>,
) -> Asset {
    let ev = format!("test inventory row {id}");
    Asset {
        id: id.to_string(),
        name: format!("{vendor} {model}"),
        vendor: Some(AssetAttr::new(vendor, &ev)),
        model: Some(AssetAttr::new(model, &ev)),
        versions: version
            .map(|v| vec![("version".to_string(), AssetAttr::new(v, &ev))])
            .unwrap_or_default(),
        category: cat,
        ..Asset::default()
    }
}
