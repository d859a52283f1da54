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
    out: DissectOutput,
    rows: usize,
) -> Vec<SensorBatch> {
    batches_at(sensor, site, files, out, rows, 0)
}

/// Like [`batches`], numbering the parts from `first_part` (a live sensor gives each
/// capture window its own range, e.g. the window's start time, so ids never repeat).
pub fn batches_at(
    sensor: &str,
    site: &str,
    files: &[String],
    mut out: DissectOutput,
    rows: usize,
    first_part: u64,
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
        let part = first_part.saturating_add(result.len() as u64);
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

/// A running shipper beside a producer: batches [`Pipeline::push`]ed are spooled durably
/// (waiting for room while the spool is full) and delivered in order by a shipper thread.
/// Batches left in the spool by an earlier run are delivered first.
pub struct Pipeline {
    spool: Arc<Spool>,
    stop: Arc<AtomicBool>,
    finish: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<ShipStats, ShipError>>>,
    spooled: u64,
}

impl Pipeline {
    /// Opens the spool and starts the shipper thread. Setting `stop` ends shipping early
    /// (what is not delivered stays spooled for the next run).
    pub fn start(config: &SensorConfig, stop: &Arc<AtomicBool>) -> Result<Pipeline, SensorError> {
        let spool = Arc::new(Spool::open(&config.spool_dir, config.spool_max)?);
        let finish = Arc::new(AtomicBool::new(false));
        let thread = {
            let spool = Arc::clone(&spool);
            let stop = Arc::clone(stop);
            let finish = Arc::clone(&finish);
            let mut shipper = Shipper::new(&config.server, &config.token);
            shipper.backoff = config.backoff.clone();
            std::thread::Builder::new()
                .name("ward-shipper".into())
                .spawn(move || {
                    let r = shipper.run(&spool, &stop, &finish);
                    if r.is_err() {
                        // Unblock a producer waiting for room.
                        stop.store(true, Ordering::SeqCst);
                    }
                    r
                })
                .map_err(|e| SensorError::Capture(format!("starting the shipper thread: {e}")))?
        };
        Ok(Pipeline {
            spool,
            stop: Arc::clone(stop),
            finish,
            thread: Some(thread),
            spooled: 0,
        })
    }

    /// Spools one batch (durably, before returning), waiting for room while the spool is
    /// full; fails when `stop` was set while waiting.
    pub fn push(&mut self, mut batch: SensorBatch) -> Result<(), SensorError> {
        let stop = Arc::clone(&self.stop);
        let keep = move || !stop.load(Ordering::SeqCst);
        self.spool.push_wait(&mut batch, None, &keep)?;
        self.spooled += 1;
        Ok(())
    }

    /// The spool.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// No more batches: waits until the shipper delivered everything (or `stop` is set).
    pub fn finish(mut self) -> Result<RunReport, SensorError> {
        self.finish.store(true, Ordering::SeqCst);
        let shipped = match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| SensorError::Capture("shipper thread panicked".into()))?,
            None => Ok(ShipStats::default()),
        };
        Ok(RunReport {
            spooled: self.spooled,
            shipped: shipped?,
            waiting: self.spool.len(),
        })
    }
}

/// Spools `batches` and ships until the spool is empty or `stop` is set. Batches left from
/// an earlier run are delivered first, in order.
pub fn ship_batches(
    config: &SensorConfig,
    batches: Vec<SensorBatch>,
    stop: &Arc<AtomicBool>,
) -> Result<RunReport, SensorError> {
    let mut pipeline = Pipeline::start(config, stop)?;
    let mut produced = Ok(());
    for b in batches {
        if let Err(e) = pipeline.push(b) {
            produced = Err(e);
            stop.store(true, Ordering::SeqCst);
            break;
        }
    }
    let report = pipeline.finish();
    produced?;
    report
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
    let batches = batches(&config.sensor, &config.site, &names, out, config.batch_rows);
    ship_batches(config, batches, stop)
}
