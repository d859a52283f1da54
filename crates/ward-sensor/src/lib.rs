//! Ward's sensor client: what `ward sensor --server URL` runs.
//!
//! The capture pipeline (`ward-dissect`) turns packets into observations, security
//! observations and connection edges; [`batches`] cuts them into [`SensorBatch`]es with
//! content ids; the [`spool::Spool`] keeps them on disk until the server acknowledged
//! them; the [`ship::Shipper`] delivers them in order with retries. A batch id is a hash
//! of its content and place, so running the sensor again over the same capture files
//! ships the same ids and the server answers `duplicate`: nothing is counted twice.

pub mod ship;
pub mod spool;

pub use ship::{Attempt, Backoff, ShipError, ShipStats, Shipper};
pub use spool::{Spool, SpoolError, Spooled};

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use ward_dissect::DissectOutput;
use ward_store::{Batch, SensorBatch};

/// Default spool size cap: 1 GiB.
pub const DEFAULT_SPOOL_MAX: u64 = 1 << 30;
/// Default rows (observations + security observations + edges) per batch.
pub const DEFAULT_BATCH_ROWS: usize = 5000;

/// Cuts one pipeline output into batches of at most `rows` rows each (observations first,
/// then security observations, then edges), after sorting it so that the same input
/// always gives the same batches and ids.
pub fn batches(
    sensor: &str,
    site: &str,
    files: &[String],
    mut out: DissectOutput,
    rows: usize,
) -> Vec<SensorBatch> {
    let rows = rows.max(1);
    out.sort();
    let mut result = Vec::new();
    let mut current = Batch {
        files: files.to_vec(),
        ..Default::default()
    };
    let mut n = 0usize;
    let flush = |current: &mut Batch, result: &mut Vec<SensorBatch>| {
        let batch = std::mem::replace(
            current,
            Batch {
                files: files.to_vec(),
                ..Default::default()
            },
        );
        let part = result.len() as u64;
        result.push(SensorBatch {
            batch_id: SensorBatch::content_id(sensor, site, part, &batch),
            sensor: sensor.to_string(),
            site: site.to_string(),
            seq: 0,
            flows: 0,
            batch,
        });
    };
    for o in out.observations {
        current.observations.push(o);
        n += 1;
        if n == rows {
            flush(&mut current, &mut result);
            n = 0;
        }
    }
    for s in out.security {
        current.security.push(s);
        n += 1;
        if n == rows {
            flush(&mut current, &mut result);
            n = 0;
        }
    }
    for e in out.edges {
        current.edges.push(e);
        n += 1;
        if n == rows {
            flush(&mut current, &mut result);
            n = 0;
        }
    }
    if n > 0 || result.is_empty() {
        flush(&mut current, &mut result);
    }
    if let Some(first) = result.first_mut() {
        first.flows = out.flows;
    }
    result
}

/// What a sensor run needs.
#[derive(Debug, Clone)]
pub struct SensorConfig {
    pub server: String,
    pub token: String,
    pub sensor: String,
    pub site: String,
    pub spool_dir: PathBuf,
    pub spool_max: u64,
    pub batch_rows: usize,
    pub backoff: Backoff,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Batches this run spooled.
    pub spooled: u64,
    pub shipped: ShipStats,
    /// Batches still in the spool at the end (0 unless stopped).
    pub waiting: usize,
}

/// Errors of a sensor run.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error(transparent)]
    Ship(#[from] ShipError),
    #[error("capture: {0}")]
    Capture(String),
}

/// Spools `batches` (waiting for room while a shipper thread delivers) and ships until
/// the spool is empty or `stop` is set. Batches left from an earlier run are delivered
/// first, in order.
pub fn ship_batches(
    config: &SensorConfig,
    batches: Vec<SensorBatch>,
    stop: &Arc<AtomicBool>,
) -> Result<RunReport, SensorError> {
    let spool = Arc::new(Spool::open(&config.spool_dir, config.spool_max)?);
    let finish = Arc::new(AtomicBool::new(false));
    let shipper_thread = {
        let spool = Arc::clone(&spool);
        let stop = Arc::clone(stop);
        let finish = Arc::clone(&finish);
        let mut shipper = Shipper::new(&config.server, &config.token);
        shipper.backoff = config.backoff.clone();
        std::thread::spawn(move || {
            let r = shipper.run(&spool, &stop, &finish);
            if r.is_err() {
                // Unblock a producer waiting for room.
                stop.store(true, Ordering::SeqCst);
            }
            r
        })
    };
    let mut report = RunReport::default();
    let mut produced: Result<(), SensorError> = Ok(());
    for mut b in batches {
        let keep = || !stop.load(Ordering::SeqCst);
        match spool.push_wait(&mut b, None, &keep) {
            Ok(_) => report.spooled += 1,
            Err(e) => {
                produced = Err(e.into());
                break;
            }
        }
    }
    if produced.is_err() {
        stop.store(true, Ordering::SeqCst);
    }
    finish.store(true, Ordering::SeqCst);
    let shipped = shipper_thread
        .join()
        .map_err(|_| SensorError::Capture("shipper thread panicked".into()))?;
    produced?;
    report.shipped = shipped?;
    report.waiting = spool.len();
    Ok(report)
}

/// `ward sensor -r FILES --server URL`: dissects the capture files and ships the result.
pub fn run_files(
    config: &SensorConfig,
    files: &[PathBuf],
    workers: usize,
    stop: &Arc<AtomicBool>,
) -> Result<RunReport, SensorError> {
    let expanded =
        ward_capture::expand_inputs(files).map_err(|e| SensorError::Capture(e.to_string()))?;
    let (out, _stats) = ward_dissect::analyze_files(
        &expanded,
        &ward_capture::CaptureConfig::default(),
        &ward_dissect::EngineConfig::default(),
        workers,
        &|_| {},
    )
    .map_err(|e| SensorError::Capture(e.to_string()))?;
    let names: Vec<String> = expanded
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let batches = batches(
        &config.sensor,
        &config.site,
        &names,
        out,
        config.batch_rows,
    );
    ship_batches(config, batches, stop)
}
