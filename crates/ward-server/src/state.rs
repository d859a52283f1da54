//! State shared by every handler.

use std::path::PathBuf;
use std::sync::Arc;
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
    /// OpenID Connect single sign-on (`None`: off). See [`crate::oidc::OidcConfig`].
    pub oidc: Option<crate::oidc::OidcConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from("ward-data"),
            tls: false,
            time_zone: "UTC".into(),
            oidc: None,
        }
    }
}

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
        }
    }
}
