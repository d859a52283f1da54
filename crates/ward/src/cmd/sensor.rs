//! `ward sensor`: live capture from an interface, receive only.

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
pub struct SensorArgs {
    /// Interface to capture from (opened receive-only; Ward never transmits).
    #[arg(short = 'i', long)]
    pub interface: String,
    /// BPF capture filter.
    #[arg(short = 'f', long)]
    pub filter: Option<String>,
    /// Stop after this many seconds (default: until interrupted).
    #[arg(long)]
    pub seconds: Option<u64>,
}

#[cfg(feature = "live")]
pub fn run(args: SensorArgs) -> Result<ExitCode> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(secs) = args.seconds {
        let s = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(secs));
            s.store(true, Ordering::SeqCst);
        });
    }
    let mut engine = ward_dissect::Engine::default();
    let stats = ward_capture::capture_live(
        &args.interface,
        args.filter.as_deref(),
        &ward_capture::CaptureConfig::default(),
        &mut engine,
        &stop,
    )?;
    let out = engine.finish();
    eprintln!(
        "ward sensor: {} packets, {} flows",
        stats.packets, out.flows
    );
    serde_json::to_writer_pretty(std::io::stdout().lock(), &out)?;
    println!();
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "live"))]
pub fn run(args: SensorArgs) -> Result<ExitCode> {
    anyhow::bail!(
        "live capture on {} needs a build with `--features live` (and libpcap-dev installed)",
        args.interface
    )
}
