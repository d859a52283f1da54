//! `ward serve`: opening the store (migrations on start), first-run bootstrap, listening
//! (plain HTTP or TLS through rustls), the job scheduler, and graceful shutdown.
//!
//! Two steps so that callers (the CLI, `ward demo`, tests) can learn the address before
//! serving: [`start`] opens the store, bootstraps the first admin and binds the socket
//! (port 0 picks a free port; [`Bound::addr`] says which), then [`Bound::serve`] answers
//! requests until the `shutdown` future completes. On shutdown `/ready` turns 503, the
//! listener stops accepting, requests in flight finish (up to [`ServeOptions::drain`]), the
//! scheduler stops between jobs, and the store is closed.
//!
//! Settings come from, lowest precedence first: defaults, the config file (TOML, see
//! [`FileConfig`]), the environment (`WARD_*`), command-line flags. The CLI resolves flags
//! and environment with clap; [`ServeOptions::from_sources`] merges them over the file.

use crate::jobs::{JobConfig, Scheduler};
use crate::oidc::OidcConfig;
use crate::state::{AppState, ServerConfig};
use anyhow::{anyhow, Context, Result};
use serde::Deserialize;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use ward_store::Store;

/// The config file (`--config FILE`, TOML). Every key is optional.
///
/// ```toml
/// listen = "0.0.0.0:8443"
/// data = "/var/lib/ward"
/// database_url = "postgres://ward@db/ward"   # default: SQLite in the data directory
/// tls_cert = "/etc/ward/cert.pem"
/// tls_key = "/etc/ward/key.pem"
/// time_zone = "Europe/London"
/// session_ttl_secs = 28800
/// max_upload_bytes = 536870912
/// [jobs]
/// stale_after_days = 30
/// retention_days = 400                      # delete sensor facts unseen this long (default: keep)
/// [oidc]
/// issuer_url = "https://login.example/realms/hospital"
/// # ...
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub time_zone: Option<String>,
    pub session_ttl_secs: Option<i64>,
    pub max_upload_bytes: Option<usize>,
    pub lockout_threshold: Option<i64>,
    pub lockout_secs: Option<i64>,
    #[serde(default)]
    pub jobs: FileJobs,
    pub oidc: Option<OidcConfig>,
}

/// `[jobs]` in the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileJobs {
    /// `false` turns the scheduler off in this replica.
    pub enabled: Option<bool>,
    pub stale_after_days: Option<u64>,
    /// Sensor facts not seen for this many days are deleted (unset: keep everything).
    pub retention_days: Option<u64>,
    pub rematch_every_secs: Option<i64>,
    pub stale_every_secs: Option<i64>,
    pub reviews_every_secs: Option<i64>,
    pub expiry_every_secs: Option<i64>,
    pub retention_every_secs: Option<i64>,
    pub poll_secs: Option<u64>,
}

impl FileConfig {
    /// Reads and parses a config file; errors name the file and the position.
    pub fn read(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow!("config file {}: {e}", path.display()))
    }
}

/// Settings given on the command line or in the environment (`None`: not given).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub time_zone: Option<String>,
    pub stale_after_days: Option<u64>,
    pub retention_days: Option<u64>,
    pub no_jobs: bool,
}

/// TLS certificate chain and private key (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything [`start`] needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `HOST:PORT`; port 0 picks a free port.
    pub listen: String,
    /// `None`: SQLite `ward.db` in `config.data_dir`.
    pub database_url: Option<String>,
    pub tls: Option<TlsFiles>,
    pub config: ServerConfig,
    /// `None`: no scheduler in this process.
    pub jobs: Option<JobConfig>,
    /// How long requests in flight may take to finish on shutdown.
    pub drain: Duration,
}

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl ServeOptions {
    /// Options with defaults for a data directory (plain HTTP, scheduler on).
    pub fn new(listen: impl Into<String>, data_dir: impl Into<PathBuf>) -> ServeOptions {
        ServeOptions {
            listen: listen.into(),
            database_url: None,
            tls: None,
            config: ServerConfig {
                data_dir: data_dir.into(),
                ..ServerConfig::default()
            },
            jobs: Some(JobConfig::default()),
            drain: Duration::from_secs(10),
        }
    }

    /// Merges command line / environment `over` the config `file`, over the defaults.
    /// `env` reads the `WARD_OIDC_*` variables.
    pub fn from_sources(
        file: FileConfig,
        over: Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServeOptions> {
        let listen = over
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let data = over.data.or(file.data).ok_or_else(|| {
            anyhow!(
                "no data directory: give --data DIR (or WARD_DATA, or `data` in the config file)"
            )
        })?;
        let mut o = ServeOptions::new(listen, data);
        o.database_url = over
            .database_url
            .or(file.database_url)
            .filter(|u| !u.trim().is_empty());
        o.tls = match (
            over.tls_cert.or(file.tls_cert),
            over.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => return Err(anyhow!("a TLS certificate needs its key (--tls-key)")),
            (None, Some(_)) => return Err(anyhow!("a TLS key needs its certificate (--tls-cert)")),
        };
        o.config.tls = o.tls.is_some();
        if let Some(tz) = over.time_zone.or(file.time_zone) {
            tz.parse::<chrono_tz::Tz>()
                .map_err(|_| anyhow!("unknown time zone {tz:?} (expected e.g. Europe/London)"))?;
            o.config.time_zone = tz;
        }
        if let Some(v) = file.session_ttl_secs {
            o.config.session_ttl_secs = v.max(60);
        }
        if let Some(v) = file.max_upload_bytes {
            o.config.max_upload_bytes = v;
        }
        if let Some(v) = file.lockout_threshold {
            o.config.lockout_threshold = v.max(1);
        }
        if let Some(v) = file.lockout_secs {
            o.config.lockout_secs = v.max(1);
        }
        o.config.oidc = OidcConfig::from_file_and_env(file.oidc, env)?;
        let retention_days = over.retention_days.or(file.jobs.retention_days);
        if retention_days == Some(0) {
            // Zero days would delete every fact at once: almost surely a mistake.
            return Err(anyhow!(
                "retention_days must be at least 1 (leave it unset to keep everything)"
            ));
        }
        let enabled = !over.no_jobs && file.jobs.enabled.unwrap_or(true);
        o.jobs = enabled.then(|| {
            let d = JobConfig::default();
            let j = &file.jobs;
            JobConfig {
                stale_after_days: over
                    .stale_after_days
                    .or(j.stale_after_days)
                    .unwrap_or(d.stale_after_days),
                retention_days,
                rematch_every_secs: j.rematch_every_secs.unwrap_or(d.rematch_every_secs),
                stale_every_secs: j.stale_every_secs.unwrap_or(d.stale_every_secs),
                reviews_every_secs: j.reviews_every_secs.unwrap_or(d.reviews_every_secs),
                expiry_every_secs: j.expiry_every_secs.unwrap_or(d.expiry_every_secs),
                retention_every_secs: j.retention_every_secs.unwrap_or(d.retention_every_secs),
                poll: j.poll_secs.map(Duration::from_secs).unwrap_or(d.poll),
                ..d
            }
        });
        Ok(o)
    }
}

/// A server that has opened its store and bound its socket, not yet serving.
pub struct Bound {
    addr: SocketAddr,
    listener: std::net::TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    state: AppState,
    jobs: Option<JobConfig>,
    drain: Duration,
    bootstrap_password: Option<String>,
    started: Instant,
}

impl Bound {
    /// The address actually bound (the real port when the options said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL (`http://` or `https://`, with the bound address).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The one-time password of the `admin` account this start created (first run only;
    /// print it once, never log it).
    pub fn take_bootstrap_password(&mut self) -> Option<String> {
        self.bootstrap_password.take()
    }

    /// The shared state (store, configuration).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then shuts down gracefully.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let Bound {
            addr,
            listener,
            tls,
            state,
            jobs,
            drain,
            started,
            ..
        } = self;
        let scheduler = jobs.map(|cfg| {
            Scheduler::new(state.store.clone(), Scheduler::default_owner(), cfg).spawn()
        });
        let app = crate::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let handle = axum_server::Handle::new();
        let watcher = {
            let handle = handle.clone();
            let state = state.clone();
            tokio::spawn(async move {
                shutdown.await;
                tracing::info!("shutting down: finishing requests in flight");
                state.ready.store(false, Ordering::SeqCst);
                handle.graceful_shutdown(Some(drain));
            })
        };
        listener
            .set_nonblocking(true)
            .context("setting the listener non-blocking")?;
        tracing::info!(
            %addr,
            tls = tls.is_some(),
            ready_ms = started.elapsed().as_millis() as u64,
            "ward serve listening"
        );
        let served = match tls {
            Some(cfg) => {
                axum_server::from_tcp_rustls(listener, cfg)
                    .handle(handle)
                    .serve(app)
                    .await
            }
            None => {
                axum_server::from_tcp(listener)
                    .handle(handle)
                    .serve(app)
                    .await
            }
        };
        watcher.abort();
        if let Some((stop, task)) = scheduler {
            let _ = stop.send(true);
            if tokio::time::timeout(drain, task).await.is_err() {
                tracing::warn!("job scheduler did not stop in time");
            }
        }
        state.store.close().await;
        tracing::info!("ward serve stopped");
        served.with_context(|| format!("serving on {addr}"))
    }
}

/// Opens the store (applying migrations), bootstraps the first admin on an empty store,
/// loads TLS material and binds the listener.
pub async fn start(opts: ServeOptions) -> Result<Bound> {
    let started = Instant::now();
    let ServeOptions {
        listen,
        database_url,
        tls,
        config,
        jobs,
        drain,
    } = opts;
    let store = match &database_url {
        Some(url) => Store::open(url)
            .await
            .context("opening the store (database URL)")?,
        None => Store::open_data_dir(&config.data_dir)
            .await
            .with_context(|| format!("opening the store in {}", config.data_dir.display()))?,
    };
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let tls = match tls {
        Some(files) => Some(load_tls(&files).await?),
        None => None,
    };
    let state = AppState::new(store, config);
    let bootstrap_password = crate::auth::bootstrap_admin(&state)
        .await
        .map_err(|e| anyhow!("first-run bootstrap: {}", e.message))?;
    let listener =
        std::net::TcpListener::bind(&listen).with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr().context("bound address")?;
    Ok(Bound {
        addr,
        listener,
        tls,
        state,
        jobs,
        drain,
        bootstrap_password,
        started,
    })
}

/// [`start`] then [`Bound::serve`].
pub async fn run(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    start(opts).await?.serve(shutdown).await
}

async fn load_tls(files: &TlsFiles) -> Result<axum_server::tls_rustls::RustlsConfig> {
    // One process-wide crypto provider: ring, the workspace's rustls provider (aws-lc-rs
    // would need cmake and a C toolchain at build time). A second install is harmless.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .with_context(|| {
            format!(
                "loading TLS certificate {} and key {}",
                files.cert.display(),
                files.key.display()
            )
        })
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
