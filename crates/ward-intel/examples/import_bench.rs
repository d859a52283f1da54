//! Import benchmark: times the KEV catalog, every corpus advisory and SBOM, and 1,000
//! CSAF advisories (the 25 CISA ICSMA files, 40 times under different tracking ids),
//! and prints a table. Run in release:
//!
//! `cargo run --release -p ward-intel --example import_bench [path/to/shared/data]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use ward_intel::{import_paths, IntelDb};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

struct Row {
    what: String,
    docs: usize,
    bytes: u64,
    time: Duration,
    goal: Option<Duration>,
}

fn main() {
    let data = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if !data.is_dir() {
        eprintln!(
            "corpus not found at {} (pass its path as the first argument)",
            data.display()
        );
        std::process::exit(2);
    }
    let mut rows = Vec::new();

    // 1. KEV catalog (JSON), and the CSV edition.
    for name in [
        "known_exploited_vulnerabilities_2025-01-24.json",
        "known_exploited_vulnerabilities_2025-01-24.csv",
    ] {
        let p = data.join("cisa-kev/dev").join(name);
        let bytes = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        let mut db = IntelDb::new();
        let t = Instant::now();
        let r = db.import_file(&p);
        let time = t.elapsed();
        if let Err(e) = r {
            eprintln!("{e}");
        }
        rows.push(Row {
            what: format!(
                "KEV {}",
                if name.ends_with("json") {
                    "JSON"
                } else {
                    "CSV"
                }
            ),
            docs: db.kev_entries().count(),
            bytes,
            time,
            goal: Some(Duration::from_secs(1)),
        });
    }

    // 2. All corpus advisories and SBOMs/VEX (folder import with detection, checksums,
    //    signature parsing).
    for (what, dirs) in [
        (
            "CSAF advisories (ICSMA + OASIS examples)",
            vec!["cisa-csaf-icsma/dev", "oasis-csaf/dev/examples"],
        ),
        (
            "SBOMs and VEX (CycloneDX, SPDX, OpenVEX)",
            vec![
                "cyclonedx-bom-examples/dev",
                "medical-device-sbom-spacelab/dev",
                "spdx-examples/dev",
                "spdx-spec-examples/dev",
                "openvex-go-vex/dev",
            ],
        ),
        (
            "OSV + CVE 5 records",
            vec!["osv-schema/dev/osv", "cvelistV5-records/dev"],
        ),
    ] {
        let paths: Vec<PathBuf> = dirs.iter().map(|d| data.join(d)).collect();
        let mut all = Vec::new();
        for p in &paths {
            files(p, &mut all);
        }
        let bytes: u64 = all
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let mut db = IntelDb::new();
        let t = Instant::now();
        let report = import_paths(&mut db, &paths, &|_| {});
        let time = t.elapsed();
        for (p, why) in &report.rejected {
            eprintln!("rejected {}: {why}", p.display());
        }
        rows.push(Row {
            what: format!("{what} [{} rejected]", report.rejected.len()),
            docs: report.imported.len(),
            bytes,
            time,
            goal: None,
        });
    }

    // 3. 1,000 CSAF advisories: the ICSMA files under 40 tracking-id prefixes, in memory.
    let mut icsma = Vec::new();
    files(&data.join("cisa-csaf-icsma/dev"), &mut icsma);
    let docs: Vec<serde_json::Value> = icsma
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    let mut inputs = Vec::new();
    for copy in 0..40 {
        for d in &docs {
            let mut d = d.clone();
            let id = d["document"]["tracking"]["id"]
                .as_str()
                .unwrap_or("")
                .to_string();
            d["document"]["tracking"]["id"] = format!("BENCH-{copy:02}-{id}").into();
            inputs.push(serde_json::to_vec(&d).unwrap_or_default());
        }
    }
    let bytes: u64 = inputs.iter().map(|b| b.len() as u64).sum();
    // Without, then with the official CSAF 2.0 JSON schema (read from the corpus).
    let schemas = match ward_intel::SchemaSet::load_dir(&data.join("oasis-csaf/schema")) {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => {
            eprintln!("CSAF schema: {e}");
            std::process::exit(2);
        }
    };
    for with_schema in [false, true] {
        let mut db = IntelDb::new();
        if with_schema {
            db = db.with_schemas(schemas.clone());
        }
        let t = Instant::now();
        let mut ok = 0;
        for (i, b) in inputs.iter().enumerate() {
            match db.import_bytes(b, &format!("bench-{i}.json")) {
                Ok(_) => ok += 1,
                Err(e) => eprintln!("{e}"),
            }
        }
        rows.push(Row {
            what: format!(
                "{} CSAF advisories in memory{}",
                inputs.len(),
                if with_schema {
                    ", with JSON-schema validation"
                } else {
                    ""
                }
            ),
            docs: ok,
            bytes,
            time: t.elapsed(),
            goal: Some(Duration::from_secs(5)),
        });
    }

    println!("| import | documents | MB | time (ms) | goal | met |");
    println!("|---|---:|---:|---:|---|---|");
    for r in rows {
        let (goal, met) = match r.goal {
            Some(g) => (
                format!("< {} s", g.as_secs()),
                if r.time < g { "yes" } else { "NO" },
            ),
            None => ("-".to_string(), "-"),
        };
        println!(
            "| {} | {} | {:.2} | {:.1} | {} | {} |",
            r.what,
            r.docs,
            r.bytes as f64 / 1e6,
            r.time.as_secs_f64() * 1e3,
            goal,
            met
        );
    }
}
