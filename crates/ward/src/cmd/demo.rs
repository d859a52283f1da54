//! `ward demo`: a synthetic hospital capture, generated into a temporary folder and analysed.

use crate::cmd::analyze::{self, AnalyzeArgs};
use crate::output::Format;
use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Random seed of the generated hospital.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output format of the analysis.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Keep the generated capture in this folder instead of a temporary one.
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let tmp = tempfile::tempdir().context("creating a temporary folder")?;
    let dir = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let pcap = dir.join("demo-hospital.pcap");
    let cfg = ward_bench::GenConfig {
        seed: args.seed,
        ..Default::default()
    };
    let summary = ward_bench::generate_file(&cfg, &pcap)
        .with_context(|| format!("writing {}", pcap.display()))?;
    eprintln!(
        "ward demo: generated a synthetic hospital ({} devices, {} packets, {} bytes) at {}",
        summary.devices.len(),
        summary.packets,
        summary.bytes,
        pcap.display()
    );
    analyze::run(AnalyzeArgs {
        read: vec![pcap],
        inputs: vec![],
        format: args.format,
        out: None,
        workers: None,
        no_progress: true,
        walk_only: false,
        rules: None,
    })
}
