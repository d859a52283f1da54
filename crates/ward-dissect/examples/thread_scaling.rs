//! Where the second core's time goes: the capture and dissection engines alone (no
//! identification, no output), timed in one process.
//!
//! `cargo build --release -p ward-dissect --example thread_scaling`, then
//! `thread_scaling MODE FILE`, MODE one of:
//! - `one`: one analysis with one worker (the sequential reader, as `ward analyze -j 1`);
//! - `j2`: one analysis with two workers (the chunked parallel driver, as `-j 2`);
//! - `two`: two independent one-worker analyses on two threads of this process, of FILE
//!   and of a second file if given (`two FILE FILE2`), else of FILE twice. With two
//!   files, what two cores give when nothing is shared but the address space; with one,
//!   the kernel also maps the same page-cache pages twice, which costs system time.
//!
//! Prints the flows found and the wall time; run it under `scripts/bench/paired.py`
//! (docs/BENCHMARKS.md, session 7) for CPU times and paired ratios.

use std::path::{Path, PathBuf};
use std::time::Instant;
use ward_capture::CaptureConfig;
use ward_dissect::{analyze_files, EngineConfig};

fn run(file: &Path, workers: usize) -> Result<u64, String> {
    let (out, _) = analyze_files(
        &[file.to_path_buf()],
        &CaptureConfig::default(),
        &EngineConfig::default(),
        workers,
        &|_| {},
    )
    .map_err(|e| e.to_string())?;
    Ok(out.flows)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(file)) = (args.get(1), args.get(2)) else {
        return Err("usage: thread_scaling one|j2|two FILE [FILE2]".into());
    };
    let file = PathBuf::from(file);
    // `two` reads a second file if one is given (the same file shares page-cache pages,
    // whose mapping the two threads then contend for in the kernel).
    let second = args.get(3).map_or_else(|| file.clone(), PathBuf::from);
    let t = Instant::now();
    let flows = match mode.as_str() {
        "one" => run(&file, 1)?,
        "j2" => run(&file, 2)?,
        "two" => std::thread::scope(|s| {
            let a = s.spawn(|| run(&file, 1));
            let b = s.spawn(|| run(&second, 1));
            let join = |h: std::thread::ScopedJoinHandle<'_, Result<u64, String>>| {
                h.join()
                    .map_err(|_| "analysis thread panicked".to_string())?
            };
            Ok::<u64, String>(join(a)? + join(b)?)
        })?,
        m => return Err(format!("unknown mode {m}: one, j2 or two")),
    };
    println!(
        "{mode}: {flows} flows, {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
