//! Shared helpers for corpus tests: locate the corpus, run captures through the capture
//! engine and the dissection engine.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use ward_capture::{analyze_files, CaptureConfig};
use ward_dissect::{DissectOutput, Engine};

/// `shared/data/<sub>`, which must exist.
pub fn corpus(sub: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(sub);
    assert!(p.exists(), "the test corpus at {} is required", p.display());
    p
}

/// Every capture in `clinical-captures`, sorted.
pub fn clinical_captures() -> Vec<PathBuf> {
    let dir = corpus("clinical-captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 9,
        "expected the nine clinical captures in {}",
        dir.display()
    );
    v
}

/// Runs one capture file through capture and dissection.
pub fn dissect(path: &Path) -> DissectOutput {
    let (engines, _stats) = analyze_files(
        &[path.to_path_buf()],
        &CaptureConfig::default(),
        1,
        |_| Engine::default(),
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = DissectOutput::default();
    for e in engines {
        out.merge(e.finish());
    }
    out
}
