//! `ward analyze`: capture files in, devices, connections and security observations out.

use crate::output::{self, Format};
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use ward_capture::CaptureConfig;
use ward_dissect::EngineConfig;

#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed) or folders of them.
    #[arg(short = 'r', long = "read", value_name = "FILE|DIR")]
    pub read: Vec<PathBuf>,
    /// More capture files or folders.
    #[arg(value_name = "FILE|DIR")]
    pub inputs: Vec<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write every output format into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (flows are hashed to workers). Defaults to the number of cores.
    #[arg(long, short = 'j')]
    pub workers: Option<usize>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Only walk the capture records (no decoding): the floor for benchmarks.
    #[arg(long, hide = true)]
    pub walk_only: bool,
    /// Folder of extra fingerprint rules (TOML) that add to the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let begun = Instant::now();
    let mut paths = args.read.clone();
    paths.extend(args.inputs.iter().cloned());
    if paths.is_empty() {
        anyhow::bail!("no capture given: ward analyze FILE|DIR...");
    }
    let files = ward_capture::expand_inputs(&paths)?;
    keep_freed_memory();
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    if args.walk_only {
        let (packets, bytes) = ward_capture::walk_files(&files)?;
        println!("{packets} packets, {bytes} bytes");
        return Ok(ExitCode::SUCCESS);
    }
    // The fingerprint rules and the IEEE registry (about 9 MB of text) load on a thread of
    // their own while the capture is analysed, instead of after it on the critical path.
    let user_rules = args.rules.clone();
    let ieee_dir = std::path::Path::new(ward_identify::DEFAULT_IEEE_DATA_DIR);
    // With the IEEE registry, the loader (~130 M instructions) competes with the workers
    // for the cores, and the calling thread, which builds the report after the analysis,
    // gets a smaller part of the flows (3 : 4, measured in session 4). Without it the
    // loader is the rules alone (~3 M instructions) and an equal split finishes first.
    let capture = CaptureConfig {
        worker_shares: if ieee_dir.join("oui.txt").is_file() {
            (3, 4)
        } else {
            (1, 1)
        },
        ..CaptureConfig::default()
    };
    let rules_loader = std::thread::spawn(move || {
        ward_identify::Rules::standard_lenient(ieee_dir, user_rules.as_deref())
    });
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let bar = progress_bar(total, args.no_progress);
    let started = Instant::now();
    let (dissected, stats) = ward_dissect::analyze_files(
        &files,
        &capture,
        &EngineConfig::default(),
        workers,
        &|done| bar.set_position(done),
    )?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    tracing::debug!(
        "analysis done at {:?} (capture and dissection {elapsed:?})",
        begun.elapsed()
    );
    for f in &stats.files {
        for w in &f.warnings {
            eprintln!("ward: warning: {}: {w}", f.path.display());
        }
    }
    // Identification needs the rules; the JSON of the lists it does not change
    // (security observations, observations, connections) is written meanwhile on another
    // thread and spliced in after the inventory.
    let json_stdout = args.format == Format::Json;
    let (inventory, tail) = std::thread::scope(|scope| -> Result<_> {
        let tail = json_stdout.then(|| scope.spawn(|| output::json_tail(&dissected)));
        let (rules, oui_warning) = rules_loader
            .join()
            .map_err(|_| anyhow::anyhow!("loading fingerprint rules: the loader thread panicked"))?
            .context("loading fingerprint rules")?;
        tracing::debug!("fingerprint rules ready at {:?}", begun.elapsed());
        if let Some(w) = oui_warning {
            tracing::warn!("MAC vendors unavailable: {w}");
        }
        let inventory = ward_identify::identify(
            &dissected.observations,
            &dissected.security,
            &dissected.edges,
            &rules,
        );
        tracing::debug!("identification done at {:?}", begun.elapsed());
        // The rules (the IEEE registry: tens of thousands of small allocations) are not
        // needed again in this process; freeing them one by one only delays the exit.
        std::mem::forget(rules);
        let tail = match tail {
            Some(h) => Some(
                h.join()
                    .map_err(|_| anyhow::anyhow!("writing JSON: the writer thread panicked"))??,
            ),
            None => None,
        };
        Ok((inventory, tail))
    })?;
    let report = output::Report::with_inventory(dissected, stats, elapsed, inventory);
    // Standard output is line-buffered: without a buffer of our own, pretty JSON would
    // cost one write system call per line (and a newline search per serde token).
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 << 10, stdout.lock());
    match &tail {
        Some(tail) => output::write_json_parts(&report, tail, workers, &mut out),
        None => output::write(&report, args.format, &mut out),
    }
    .context("writing to standard output")?;
    out.flush().context("writing to standard output")?;
    tracing::debug!("report written at {:?}", begun.elapsed());
    drop(out);
    if let Some(dir) = &args.out {
        output::write_dir(&report, dir)?;
    }
    // Same for the report: the process ends here, the operating system reclaims it at once.
    std::mem::forget(report);
    Ok(ExitCode::SUCCESS)
}

/// Tells glibc's allocator to keep freed memory for reuse instead of handing it back to the
/// kernel whenever the top of a heap is free (128 KiB by default). The analysis allocates
/// and frees flow state, reassembly buffers and facts at a high rate on every worker; with
/// the defaults each worker thread's heap shrinks and grows again (an `madvise` or
/// `mprotect` and fresh zeroed pages each time). A short-lived batch command gains nothing
/// from returning memory early. Nothing more is allocated; freed memory is kept for reuse
/// (peak RSS measured 86-106 MiB on the 400 MB benchmark inputs, 83-105 MiB before).
/// Measured in docs/BENCHMARKS.md (session 6, "The allocator").
#[allow(unsafe_code)]
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any worker thread
    // exists, with parameters glibc documents. A refused setting leaves the default.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

/// A progress bar on stderr showing bytes/s, drawn only on a terminal and only once the
/// analysis has run for a moment (so short inputs print nothing extra).
fn progress_bar(total: u64, disabled: bool) -> ProgressBar {
    if disabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
