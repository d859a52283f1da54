//! `ward serve`: the Ward server (API, web UI, jobs). The work is in `ward_server::serve`.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use ward_server::serve::{FileConfig, Overrides, ServeOptions};

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (HOST:PORT; port 0 picks a free port).
    #[arg(long, env = "WARD_LISTEN")]
    pub listen: Option<String>,
    /// Data directory (the SQLite store `ward.db`, uploads).
    #[arg(long, env = "WARD_DATA")]
    pub data: Option<PathBuf>,
    /// Database URL (`postgres://...` for several replicas; default: SQLite in --data).
    #[arg(long, env = "WARD_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Config file (TOML); flags and WARD_* variables override it.
    #[arg(long, env = "WARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// TLS certificate chain (PEM); with --tls-key the server speaks HTTPS only.
    #[arg(long, env = "WARD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "WARD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// The hospital's time zone for times shown in the UI (e.g. Europe/London).
    #[arg(long, env = "WARD_TIME_ZONE")]
    pub time_zone: Option<String>,
    /// Devices not seen for this many days are marked stale.
    #[arg(long, env = "WARD_STALE_AFTER_DAYS")]
    pub stale_after_days: Option<u64>,
    /// Delete sensor facts (observations, flows, security observations) not seen for this
    /// many days, daily (default: keep everything). Devices, findings and the audit log
    /// are kept.
    #[arg(long, env = "WARD_RETENTION_DAYS")]
    pub retention_days: Option<u64>,
    /// Do not run the job scheduler in this replica.
    #[arg(long, env = "WARD_NO_JOBS")]
    pub no_jobs: bool,
    /// Log format.
    #[arg(long, env = "WARD_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Also capture from this interface and ingest what it sees (single-box install;
    /// needs a build with `--features live`).
    #[arg(long, env = "WARD_CAPTURE")]
    pub capture: Option<String>,
    /// Seconds per capture window of --capture (each window is ingested as one batch set).
    #[arg(long, default_value_t = 60)]
    pub capture_window: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The settings given by flags or `WARD_*` variables (clap has resolved flag over
/// variable); they override the config file.
fn overrides(args: &ServeArgs) -> Overrides {
    Overrides {
        listen: args.listen.clone(),
        data: args.data.clone(),
        database_url: args.database.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        time_zone: args.time_zone.clone(),
        stale_after_days: args.stale_after_days,
        retention_days: args.retention_days,
        no_jobs: args.no_jobs,
    }
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let file = match &args.config {
        Some(p) => FileConfig::read(p)?,
        None => FileConfig::default(),
    };
    let opts = ServeOptions::from_sources(file, overrides(&args), |k| std::env::var(k).ok())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut bound = ward_server::serve::start(opts).await?;
        if let Some(password) = bound.take_bootstrap_password() {
            // Printed once, on stdout only (never logged): the operator must change it at
            // first login.
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "ward serve: first run: created user `admin` with the one-time password\n\n    {password}\n\nIt is shown only now and must be changed at first login."
            )?;
            out.flush()?;
        }
        let url = bound.url();
        println!("ward serve: listening on {url}");
        let capture = match args.capture.clone() {
            Some(iface) => Some(capture::spawn(
                bound.state().store.clone(),
                iface,
                args.capture_window,
            )?),
            None => None,
        };
        let result = bound.serve(ward_server::serve::shutdown_signal()).await;
        if let Some(c) = capture {
            c.stop();
        }
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "live")]
mod capture {
    use anyhow::Result;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    use ward_store::{Actor, Store};

    pub struct Capture {
        stop: Arc<AtomicBool>,
    }

    impl Capture {
        pub fn stop(self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    /// Captures `iface` in windows of `window` seconds; each window's output is cut into
    /// batches (content ids) and ingested into the store directly.
    pub fn spawn(store: Store, iface: String, window: u64) -> Result<Capture> {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = tokio::runtime::Handle::current();
        let outer = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("ward-capture".into())
            .spawn(move || {
                let mut window_no = 0u64;
                while !outer.load(Ordering::SeqCst) {
                    let this = Arc::new(AtomicBool::new(false));
                    let (t, o) = (Arc::clone(&this), Arc::clone(&outer));
                    std::thread::spawn(move || {
                        let end = std::time::Instant::now() + Duration::from_secs(window.max(1));
                        while std::time::Instant::now() < end && !o.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        t.store(true, Ordering::SeqCst);
                    });
                    let mut engine = ward_dissect::Engine::default();
                    if let Err(e) = ward_capture::capture_live(
                        &iface,
                        None,
                        &ward_capture::CaptureConfig::default(),
                        &mut engine,
                        &this,
                    ) {
                        tracing::error!(interface = %iface, error = %e, "live capture stopped");
                        return;
                    }
                    let out = engine.finish();
                    let sensor = format!("serve:{iface}:{}:{window_no}", ward_store::now_micros());
                    window_no += 1;
                    for b in ward_sensor::batches(
                        &sensor,
                        "default",
                        &[],
                        out,
                        ward_sensor::DEFAULT_BATCH_ROWS,
                    ) {
                        let r = handle.block_on(store.ingest_batch(
                            &b.batch_id,
                            &b.site,
                            &b.batch,
                            &Actor::new(format!("capture:{iface}"), None),
                        ));
                        if let Err(e) = r {
                            tracing::warn!(error = %e, "ingesting captured batch");
                        }
                    }
                }
            })?;
        Ok(Capture { stop })
    }
}

#[cfg(not(feature = "live"))]
mod capture {
    use anyhow::{bail, Result};
    use ward_store::Store;

    pub struct Capture;

    impl Capture {
        pub fn stop(self) {}
    }

    pub fn spawn(_store: Store, iface: String, _window: u64) -> Result<Capture> {
        bail!("--capture {iface} needs a build with `--features live` (and libpcap-dev installed)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use ward_server::serve::FileJobs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn options(argv: &[&str], file_days: Option<u64>) -> Result<ServeOptions> {
        let args = Cli::try_parse_from(argv)?.serve;
        let file = FileConfig {
            jobs: FileJobs {
                retention_days: file_days,
                ..FileJobs::default()
            },
            ..FileConfig::default()
        };
        ServeOptions::from_sources(file, overrides(&args), |_| None)
    }

    fn days(o: Result<ServeOptions>) -> Option<u64> {
        o.expect("options").jobs.expect("jobs on").retention_days
    }

    /// `retention_days`: config file < `WARD_RETENTION_DAYS` < `--retention-days`; unset
    /// everywhere keeps everything; zero is refused. (The only test that sets the variable.)
    #[test]
    fn retention_days_file_then_environment_then_flag() {
        std::env::remove_var("WARD_RETENTION_DAYS");
        let base = ["ward", "--data", "/d"];
        let flag = ["ward", "--data", "/d", "--retention-days", "7"];
        assert_eq!(days(options(&base, None)), None, "default: keep everything");
        assert_eq!(days(options(&base, Some(400))), Some(400));
        assert_eq!(days(options(&flag, Some(400))), Some(7));
        std::env::set_var("WARD_RETENTION_DAYS", "90");
        let from_env = options(&base, Some(400));
        let env_only = options(&base, None);
        let from_flag = options(&flag, Some(400));
        let zero = options(&["ward", "--data", "/d", "--retention-days", "0"], None);
        std::env::remove_var("WARD_RETENTION_DAYS");
        assert_eq!(days(from_env), Some(90), "the variable overrides the file");
        assert_eq!(days(env_only), Some(90));
        assert_eq!(days(from_flag), Some(7), "the flag overrides the variable");
        let err = zero.expect_err("zero days refused");
        assert!(err.to_string().contains("retention_days"), "{err}");
    }
}
