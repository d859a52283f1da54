//! State shared by every handler.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use ward_store::Store;

/// Server configuration (from the config file, environment overrides and flags).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Data directory (SQLite file, uploads, spool).
    pub data_dir: PathBuf,
    /// Whether the server is reached over TLS (cookies get `Secure`).
    pub tls: bool,
    /// The hospital's time zone, e.g. `Europe/London`, for times shown in the UI.
    pub time_zone: String,
    /// Session lifetime in seconds.
    pub session_ttl_secs: i64,
    /// Failed logins in a row that lock an account.
    pub lockout_threshold: i64,
    /// How long a locked account stays locked, in seconds.
    pub lockout_secs: i64,
    /// Failed logins one client address may make per throttle window.
    pub source_throttle_max: u32,
    /// The throttle window in seconds.
    pub source_throttle_window_secs: u64,
    /// Largest accepted upload (captures, intel), in bytes.
    pub max_upload_bytes: usize,
    /// OpenID Connect single sign-on (`None`: off). See [`crate::oidc::OidcConfig`].
    pub oidc: Option<crate::oidc::OidcConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from("ward-data"),
            tls: false,
            time_zone: "UTC".into(),
            session_ttl_secs: 8 * 3600,
            lockout_threshold: 5,
            lockout_secs: 15 * 60,
            source_throttle_max: 20,
            source_throttle_window_secs: 300,
            max_upload_bytes: 512 * 1024 * 1024,
            oidc: None,
        }
    }
}

/// Failed logins per client address in the current window (in memory: each replica
/// throttles what it sees; the per-account lockout is in the store and shared).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    pub(crate) by_source: Mutex<HashMap<String, (u32, std::time::Instant)>>,
}

/// Request counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub responses_4xx: AtomicU64,
    pub responses_5xx: AtomicU64,
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
}

/// Authenticated API tokens by SHA-256 (as stored), valid for one auth revision
/// (migration 0006): a request with a known token reads the revision instead of the
/// token, its user and the user's roles. Entries hold no secret; unknown tokens are never
/// cached, so guessing cannot fill it.
pub type TokenCache = ward_store::RevisionCache<String, (ward_store::ApiToken, ward_store::User)>;

/// Entries of the token cache before it is emptied.
pub const TOKEN_CACHE_MAX: usize = 10_000;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub throttle: Arc<LoginThrottle>,
    pub metrics: Arc<Metrics>,
    /// False while shutting down (`/ready` answers 503).
    pub ready: Arc<AtomicBool>,
    pub tokens: Arc<TokenCache>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            throttle: Arc::default(),
            metrics: Arc::default(),
            ready: Arc::new(AtomicBool::new(true)),
            tokens: Arc::new(TokenCache::new(TOKEN_CACHE_MAX)),
        }
    }
}
