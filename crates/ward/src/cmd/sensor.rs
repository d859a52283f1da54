//! `ward sensor`: capture (live, receive only, or from files) and either print the result
//! or, with `--server`, ship it in batches to a Ward server through an on-disk spool.

use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub struct SensorArgs {
    /// Interface to capture from (opened receive-only; Ward never transmits).
    #[arg(short = 'i', long, conflicts_with = "read")]
    pub interface: Option<String>,
    /// Capture files or folders to read instead of an interface.
    #[arg(short = 'r', long = "read", num_args = 1..)]
    pub read: Vec<PathBuf>,
    /// BPF capture filter (live capture).
    #[arg(short = 'f', long)]
    pub filter: Option<String>,
    /// Stop after this many seconds (default: until interrupted).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Ward server base URL (e.g. https://ward.example:8443); without it the result is
    /// printed as JSON.
    #[arg(long, env = "WARD_SERVER")]
    pub server: Option<String>,
    /// API token with the `ingest` scope.
    #[arg(long, env = "WARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// This sensor's name (default: the host name).
    #[arg(long, env = "WARD_SENSOR_NAME")]
    pub name: Option<String>,
    /// The site this sensor watches.
    #[arg(long, env = "WARD_SITE", default_value = "default")]
    pub site: String,
    /// Spool directory (batches waiting for the server; survives restarts).
    #[arg(long, env = "WARD_SPOOL", default_value = "ward-spool")]
    pub spool: PathBuf,
    /// Largest spool size in bytes.
    #[arg(long, default_value_t = ward_sensor::DEFAULT_SPOOL_MAX)]
    pub spool_max: u64,
    /// Rows per batch.
    #[arg(long, default_value_t = ward_sensor::DEFAULT_BATCH_ROWS)]
    pub batch_rows: usize,
    /// Seconds per live capture window (each window is cut into batches and shipped).
    #[arg(long, default_value_t = 60)]
    pub window: u64,
    /// Worker threads for file analysis (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
}

fn stop_flag(seconds: Option<u64>) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(secs) = seconds {
        let s = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(secs));
            s.store(true, Ordering::SeqCst);
        });
    }
    stop
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "sensor".into())
}

pub fn run(args: SensorArgs) -> Result<ExitCode> {
    if args.interface.is_none() && args.read.is_empty() {
        bail!("give an interface (-i IFACE) or capture files (-r FILES)");
    }
    let Some(server) = args.server.clone() else {
        return run_print(&args);
    };
    let Some(token) = args.token.clone().filter(|t| !t.is_empty()) else {
        bail!("--server needs --token (or WARD_TOKEN): an API token with the ingest scope");
    };
    let config = ward_sensor::SensorConfig {
        server,
        token,
        sensor: args.name.clone().unwrap_or_else(host_name),
        site: args.site.clone(),
        spool_dir: args.spool.clone(),
        spool_max: args.spool_max,
        batch_rows: args.batch_rows,
        backoff: ward_sensor::Backoff::default(),
    };
    let stop = stop_flag(args.seconds);
    let report = if args.read.is_empty() {
        run_live_ship(&args, &config, &stop)?
    } else {
        let workers = if args.workers == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            args.workers
        };
        ward_sensor::run_files(&config, &args.read, workers, &stop)?
    };
    eprintln!(
        "ward sensor: {} batches spooled; delivered {} new, {} already present, {} rejected; {} retries; {} waiting",
        report.spooled,
        report.shipped.inserted,
        report.shipped.duplicate,
        report.shipped.rejected,
        report.shipped.retries,
        report.waiting
    );
    Ok(if report.shipped.rejected > 0 || report.waiting > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Without a server: analyse and print JSON.
fn run_print(args: &SensorArgs) -> Result<ExitCode> {
    let out = if let Some(iface) = &args.interface {
        live_window(iface, args.filter.as_deref(), &stop_flag(args.seconds))?
    } else {
        let files = ward_capture::expand_inputs(&args.read)?;
        ward_dissect::analyze_files(
            &files,
            &ward_capture::CaptureConfig::default(),
            &ward_dissect::EngineConfig::default(),
            args.workers.max(1),
            &|_| {},
        )?
        .0
    };
    eprintln!("ward sensor: {} flows", out.flows);
    serde_json::to_writer_pretty(std::io::stdout().lock(), &out)?;
    println!();
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "live")]
fn live_window(
    iface: &str,
    filter: Option<&str>,
    stop: &AtomicBool,
) -> Result<ward_dissect::DissectOutput> {
    let mut engine = ward_dissect::Engine::default();
    let stats = ward_capture::capture_live(
        iface,
        filter,
        &ward_capture::CaptureConfig::default(),
        &mut engine,
        stop,
    )?;
    tracing::info!(packets = stats.packets, "capture window done");
    Ok(engine.finish())
}

#[cfg(not(feature = "live"))]
fn live_window(
    iface: &str,
    _filter: Option<&str>,
    _stop: &AtomicBool,
) -> Result<ward_dissect::DissectOutput> {
    bail!(
        "live capture on {iface} needs a build with `--features live` (and libpcap-dev installed)"
    )
}

/// Live capture shipped to the server: one capture window at a time, each cut into
/// batches numbered from the window's start time.
fn run_live_ship(
    args: &SensorArgs,
    config: &ward_sensor::SensorConfig,
    stop: &Arc<AtomicBool>,
) -> Result<ward_sensor::RunReport> {
    let Some(iface) = &args.interface else {
        bail!("no interface");
    };
    let mut pipeline = ward_sensor::Pipeline::start(config, stop)?;
    while !stop.load(Ordering::SeqCst) {
        let window = Arc::new(AtomicBool::new(false));
        {
            let (w, s, secs) = (Arc::clone(&window), Arc::clone(stop), args.window.max(1));
            std::thread::spawn(move || {
                let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
                while std::time::Instant::now() < end && !s.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                w.store(true, Ordering::SeqCst);
            });
        }
        let started = u64::try_from(ward_store::now_micros()).unwrap_or(0);
        let out = live_window(iface, args.filter.as_deref(), &window)?;
        for b in ward_sensor::batches_at(
            &config.sensor,
            &config.site,
            &[],
            out,
            config.batch_rows,
            started,
        ) {
            pipeline.push(b)?;
        }
    }
    Ok(pipeline.finish()?)
}
