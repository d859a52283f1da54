//! Shared helpers of the corpus tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared test corpus (`../shared/data` beside the repository root).
pub fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.is_dir(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        p.display()
    );
    p
}

pub fn dir(rel: &str) -> PathBuf {
    let p = corpus().join(rel);
    assert!(p.is_dir(), "corpus folder {} is required", p.display());
    p
}

/// Files under `dir` with the given suffix, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()))
        {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

pub fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(p)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

pub fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
