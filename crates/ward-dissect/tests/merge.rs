//! Merging the outputs of several engines: sorted engine outputs are merged in one linear
//! pass; the result must equal the hash-map merge (used for lists in any order) entry for
//! entry, including which evidence and protocol win when keys meet.

mod common;

use std::path::PathBuf;
use ward_capture::CaptureConfig;
use ward_dissect::{analyze_files, DissectOutput, EngineConfig};

fn analyse(files: &[PathBuf]) -> DissectOutput {
    analyze_files(
        files,
        &CaptureConfig::default(),
        &EngineConfig::default(),
        1,
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("{files:?}: {e}"))
    .0
}

fn json(o: &DissectOutput) -> String {
    serde_json::to_string_pretty(o).unwrap_or_else(|e| format!("<{e}>"))
}

/// The same output with its lists reversed, so that `merge` takes the hash-map path.
fn unsorted(o: &DissectOutput) -> DissectOutput {
    let mut u = o.clone();
    u.observations.reverse();
    u.security.reverse();
    u.edges.reverse();
    u
}

#[test]
fn linear_merge_of_engine_outputs_equals_the_hash_map_merge() {
    let mut files = common::clinical_captures();
    let dev = common::corpus("pcaps/dev");
    let mut more: Vec<PathBuf> = std::fs::read_dir(&dev)
        .unwrap_or_else(|e| panic!("{}: {e}", dev.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    more.sort();
    files.extend(more.into_iter().take(12));
    let outs: Vec<DissectOutput> = files
        .iter()
        .map(|f| analyse(std::slice::from_ref(f)))
        .collect();
    let mut met = 0usize;
    for (i, a) in outs.iter().enumerate() {
        // Each output with itself (every key meets) and with the next two (some meet).
        for b in [Some(a), outs.get(i + 1), outs.get(i + 2)]
            .into_iter()
            .flatten()
        {
            let mut linear = a.clone();
            linear.merge(b.clone());
            let mut hashed = unsorted(a);
            hashed.merge(unsorted(b));
            assert_eq!(
                json(&linear),
                json(&hashed),
                "{}: merge differs",
                files[i].display()
            );
            met += a.observations.len() + b.observations.len() - linear.observations.len();
        }
    }
    assert!(met > 100, "keys that met in merges: {met}");
    // Merging into an empty output changes nothing.
    let mut empty = DissectOutput::default();
    empty.merge(outs[0].clone());
    assert_eq!(json(&empty), json(&outs[0]));
}
