//! `ward demo`: a synthetic hospital capture, generated into a temporary folder and
//! analysed (the analysis is printed as before); then, unless `--no-serve`, a Ward server
//! on 127.0.0.1 with a SQLite store in a temporary data directory, populated with that
//! capture and the intel found (the corpus' ICSMA advisories and KEV catalogue, or
//! `--intel` files), and a one-time admin password printed once.

use crate::cmd::analyze::{self, AnalyzeArgs};
use crate::output::Format;
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Random seed of the generated hospital.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output format of the analysis.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Keep the generated capture (and the demo's store) in this folder instead of a
    /// temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Only analyse and print; do not start the web UI.
    #[arg(long)]
    pub no_serve: bool,
    /// Port of the web UI on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Intel files or folders to import (default: the corpus' ICSMA advisories and KEV
    /// catalogue when `../shared/data` or `$WARD_CORPUS` is found).
    #[arg(long, value_name = "PATH")]
    pub intel: Vec<PathBuf>,
    /// Stop after loading and printing the URL (for tests; the store is left in --keep).
    #[arg(long, hide = true)]
    pub exit_after_load: bool,
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
    let code = analyze::run(AnalyzeArgs {
        read: vec![pcap.clone()],
        inputs: vec![],
        format: args.format,
        out: None,
        workers: None,
        no_progress: true,
        walk_only: false,
        rules: None,
    })?;
    if args.no_serve {
        return Ok(code);
    }
    let intel = if args.intel.is_empty() {
        corpus_intel()
    } else {
        expand(&args.intel)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(
        &dir.join("store"),
        &pcap,
        &intel,
        args.port,
        args.exit_after_load,
    ))?;
    Ok(code)
}

/// The corpus' intel, if the corpus is beside the repository (or at `$WARD_CORPUS`).
fn corpus_intel() -> Vec<PathBuf> {
    let candidates = [
        std::env::var_os("WARD_CORPUS").map(PathBuf::from),
        Some(PathBuf::from("../shared/data")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")),
    ];
    let Some(root) = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("INDEX.md").exists())
    else {
        return Vec::new();
    };
    let mut out = expand(&[root.join("cisa-csaf-icsma")]);
    out.extend(expand(&[root.join("cisa-kev")]).into_iter().filter(|p| {
        p.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.contains("known_exploited") && !n.contains("schema")
        })
    }));
    out
}

/// Files under the given paths (recursively), JSON only, sorted.
fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), out);
                }
            }
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p.to_path_buf());
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out);
    }
    out.sort();
    out
}

async fn serve(data: &Path, pcap: &Path, intel: &[PathBuf], port: u16, exit: bool) -> Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let store = ward_store::Store::open_data_dir(data)
        .await
        .with_context(|| format!("opening the demo store in {}", data.display()))?;
    let actor = ward_store::Actor::new("ward-demo", None);
    let pipeline = ward_server::ui::pipeline::import_captures;
    let s = pipeline(&store, "demo-hospital", &[pcap.to_path_buf()], &actor).await?;
    eprintln!(
        "ward demo: loaded {} devices, {} connections into the store at {}",
        s.devices,
        s.connections,
        data.display()
    );
    if intel.is_empty() {
        eprintln!("ward demo: no intel found (give --intel FILES, or put the corpus at ../shared/data): no findings");
    } else {
        let n = ward_server::ui::pipeline::import_intel_files(&store, intel, &actor).await?;
        let s = ward_server::ui::pipeline::reassess_all(&store, &actor).await?;
        eprintln!(
            "ward demo: imported {n} intel documents; {} findings, {} plan actions",
            s.findings, s.actions
        );
    }
    let state = ward_server::AppState::new(
        store.clone(),
        ward_server::ServerConfig {
            data_dir: data.to_path_buf(),
            ..ward_server::ServerConfig::default()
        },
    );
    let password = ward_server::auth::bootstrap_admin(&state)
        .await
        .map_err(|e| anyhow::anyhow!("creating the admin account: {}", e.message))?;
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) if port != 0 => {
            eprintln!("ward demo: port {port} is busy ({e}); using a free port");
            tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .context("binding 127.0.0.1")?
        }
        Err(e) => return Err(e).context("binding 127.0.0.1"),
    };
    let addr = listener.local_addr().context("local address")?;
    println!();
    println!("Ward demo UI: http://{addr}/");
    match password {
        Some(p) => println!(
            "Sign in as admin with the one-time password: {p}  (you will be asked to change it)"
        ),
        None => println!(
            "Sign in with the existing admin account of {}",
            data.display()
        ),
    }
    println!("Press Ctrl-C to stop.");
    if exit {
        store.close().await;
        return Ok(());
    }
    let app = ward_server::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving the demo UI")?;
    store.close().await;
    Ok(())
}
