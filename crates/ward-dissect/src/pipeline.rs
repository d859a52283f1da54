//! Capture files in, dissected facts out: the capture engine driven with one dissection
//! [`Engine`] per worker thread, and the workers' outputs merged.

use crate::engine::{DissectOutput, Engine, EngineConfig};
use crate::registry;
use std::path::PathBuf;
use std::sync::Arc;
use ward_capture::{CaptureConfig, CaptureError, CaptureStats};

/// Runs every registered dissector over `files` (already expanded, in any order; the
/// capture engine merges them by timestamp) on `workers` threads.
pub fn analyze_files(
    files: &[PathBuf],
    capture: &CaptureConfig,
    engine: &EngineConfig,
    workers: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(DissectOutput, CaptureStats), CaptureError> {
    let dissectors = Arc::new(registry::dissectors());
    let frames = Arc::new(registry::frame_dissectors());
    let (engines, stats) = ward_capture::analyze_files(
        files,
        capture,
        workers.max(1),
        |_| Engine::with_dissectors(engine.clone(), Arc::clone(&dissectors), Arc::clone(&frames)),
        progress,
    )?;
    // Each engine's output is aggregated and sorted on a thread of its own (the outputs
    // are independent), then merged linearly in worker order.
    let mut outs: Vec<DissectOutput> = if engines.len() > 1 {
        std::thread::scope(|scope| {
            let handles: Vec<_> = engines
                .into_iter()
                .map(|e| scope.spawn(move || e.finish()))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().map_err(|_| {
                        CaptureError::Worker("finishing a dissection engine panicked".into())
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?
    } else {
        engines.into_iter().map(Engine::finish).collect()
    };
    let mut out = if outs.is_empty() {
        DissectOutput::default()
    } else {
        outs.remove(0)
    };
    for o in outs {
        out.merge(o);
    }
    Ok((out, stats))
}
