//! The number of worker threads must not change the result: 1, 2 and 3 workers give the
//! same observations, security observations, connection edges (with their evidence),
//! flow counts and capture totals, byte for byte, on every corpus capture, on the corpus
//! folder analysed as one timestamp-merged input, and on generated hospital captures with
//! retransmissions, reordering and overlaps.

use std::path::{Path, PathBuf};
use ward_capture::{CaptureConfig, CaptureStats};
use ward_dissect::{analyze_files, DissectOutput, EngineConfig};

mod common;

fn run(files: &[PathBuf], workers: usize) -> (DissectOutput, CaptureStats) {
    analyze_files(
        files,
        &CaptureConfig::default(),
        &EngineConfig::default(),
        workers,
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("{files:?} with {workers} workers: {e}"))
}

/// Everything that must not depend on the worker count, as text for a readable diff.
fn fingerprint(out: &DissectOutput, stats: &CaptureStats) -> Vec<String> {
    let mut lines = vec![format!(
        "flows={} unclassified={} packets={} bytes={} decode_errors={} capture_flows={} \
         gap_bytes={} fragments_dropped={}",
        out.flows,
        out.unclassified_flows,
        stats.packets,
        stats.bytes,
        stats.decode_errors,
        stats.flows,
        stats.gap_bytes,
        stats.fragments_dropped
    )];
    let json = |v: &dyn erased::Ser| v.to_line();
    lines.extend(out.observations.iter().map(|o| json(o)));
    lines.extend(out.security.iter().map(|s| json(s)));
    lines.extend(out.edges.iter().map(|e| json(e)));
    lines
}

mod erased {
    pub trait Ser {
        fn to_line(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_line(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|e| format!("<unserializable: {e}>"))
        }
    }
}

fn assert_same_for_any_workers(files: &[PathBuf], what: &str) -> usize {
    let (out1, stats1) = run(files, 1);
    assert_eq!(
        stats1.evicted_flows + stats1.memory_pressure_events,
        0,
        "{what}: limits were hit (evictions, memory pressure); the comparison needs them not to be"
    );
    let one = fingerprint(&out1, &stats1);
    for workers in [2, 3] {
        let (out, stats) = run(files, workers);
        let other = fingerprint(&out, &stats);
        if other != one {
            let first = one
                .iter()
                .zip(&other)
                .position(|(a, b)| a != b)
                .unwrap_or(one.len().min(other.len()));
            panic!(
                "{what}: 1 and {workers} workers differ ({} vs {} lines); first difference at \
                 line {first}:\n  1 worker:  {:?}\n  {workers} workers: {:?}",
                one.len(),
                other.len(),
                one.get(first),
                other.get(first)
            );
        }
    }
    one.len()
}

fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pcap") || n.ends_with(".pcapng") || n.ends_with(".cap")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_captures_give_the_same_output_for_any_worker_count() {
    let dev = captures_in(&common::corpus("pcaps/dev"));
    assert!(dev.len() >= 30, "expected the corpus captures in pcaps/dev");
    let mut lines = 0;
    for f in dev.iter().chain(common::clinical_captures().iter()) {
        // Captures the reader rejects outright (the malformed ones) have no output to
        // compare; the robustness tests cover them.
        if ward_capture::analyze_files(
            std::slice::from_ref(f),
            &CaptureConfig::default(),
            1,
            |_| ward_dissect::Engine::default(),
            &|_| {},
        )
        .is_err()
        {
            continue;
        }
        lines += assert_same_for_any_workers(std::slice::from_ref(f), &f.display().to_string());
    }
    assert!(
        lines > 500,
        "the corpus produced output to compare ({lines} lines)"
    );
}

#[test]
fn the_corpus_as_one_input_gives_the_same_output_for_any_worker_count() {
    let mut files = captures_in(&common::corpus("pcaps/dev"));
    files.extend(common::clinical_captures());
    // Only captures that open: a folder analysis stops at the first unreadable file.
    files.retain(|f| {
        ward_capture::analyze_files(
            std::slice::from_ref(f),
            &CaptureConfig::default(),
            1,
            |_| ward_dissect::Engine::default(),
            &|_| {},
        )
        .is_ok()
    });
    let n = assert_same_for_any_workers(&files, "corpus as one input");
    assert!(n > 500);
}

#[test]
fn generated_hospital_gives_the_same_output_for_any_worker_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (seed, mb, impair) in [(7u64, 12u64, 0.02f64), (42, 6, 0.0)] {
        let path = dir.path().join(format!("h{seed}.pcap"));
        let cfg = ward_bench::GenConfig {
            seed,
            target_bytes: mb << 20,
            impairment_rate: impair,
            ..ward_bench::GenConfig::default()
        };
        let summary = ward_bench::generate_file(&cfg, &path).expect("generate");
        let n = assert_same_for_any_workers(
            std::slice::from_ref(&path),
            &format!("generated seed {seed}"),
        );
        assert!(
            n as u64 > summary.flows / 4,
            "seed {seed}: output compared ({n} lines)"
        );
    }
}
