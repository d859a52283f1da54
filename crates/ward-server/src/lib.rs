//! Ward's server room: the HTTP service behind `ward serve`.
//!
//! Layout (each module has one owner; keep them apart):
//! * [`state`]: [`AppState`] (store handle, configuration) shared by every handler.
//! * [`auth`]: who is calling ([`auth::CurrentUser`]): session cookies with CSRF, API tokens,
//!   local passwords (argon2id), login throttling, first-run bootstrap; OIDC in `oidc`.
//! * [`rbac`]: roles, permissions and the one table that maps every route to the permission
//!   it needs; the layer in [`app`] enforces it for every request.
//! * [`api`]: the JSON API under `/api/v1/` (one file per resource).
//! * [`ui`]: the server-rendered web UI (HTML pages, SVG plots, reports).
//!
//! The server never holds patient data: it only stores what `ward-store` accepts.

pub mod api;
pub mod auth;
pub mod rbac;
pub mod report;
pub mod state;
pub mod ui;

pub use state::{AppState, ServerConfig};

use axum::routing::get;
use axum::Router;

/// The whole application: health, the JSON API and the web UI, with the authorization
/// layer in front of every route.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", api::router())
        .merge(ui::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rbac::authorize,
        ))
        .with_state(state)
}

/// Liveness: answers without authentication and without touching the store.
async fn health() -> &'static str {
    "ok"
}
