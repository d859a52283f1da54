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
//! * [`serve`]: listening (plain or TLS), first-run bootstrap, graceful shutdown.
//!
//! The server never holds patient data: it only stores what `ward-store` accepts.

pub mod api;
pub mod auth;
pub mod error;
pub mod jobs;
pub mod oidc;
pub mod rbac;
pub mod report;
pub mod serve;
pub mod state;
pub mod ui;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, ServerConfig};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::atomic::Ordering;

/// The whole application: health, readiness, metrics, the JSON API and the web UI, with
/// the authorization layer in front of every route.
pub fn app(state: AppState) -> Router {
    routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rbac::authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

/// Every route of the application, without any layer (the route x role test enumerates
/// them; [`app`] adds the authorization layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api::router())
        .merge(ui::router())
        .merge(oidc::router())
}

/// Liveness: answers without authentication and without touching the store.
async fn health() -> &'static str {
    "ok"
}

/// Readiness: the store answers and the server is not shutting down.
async fn ready(State(state): State<AppState>) -> Response {
    if !state.ready.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match state.store.audit_head().await {
        Ok(_) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: store unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let r = next.run(req).await;
    if r.status().is_client_error() {
        state.metrics.responses_4xx.fetch_add(1, Ordering::Relaxed);
    } else if r.status().is_server_error() {
        state.metrics.responses_5xx.fetch_add(1, Ordering::Relaxed);
    }
    r
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let m = &state.metrics;
    let devices = state
        .store
        .list_devices(&ward_store::DeviceQuery {
            limit: 1,
            ..Default::default()
        })
        .await?
        .total
        .unwrap_or(0);
    let (audit_seq, _) = state.store.audit_head().await?;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, kind: &str, v: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        ));
    };
    counter(
        "ward_http_requests_total",
        "HTTP requests received.",
        "counter",
        m.requests.load(Ordering::Relaxed),
    );
    counter(
        "ward_http_responses_4xx_total",
        "Responses with a 4xx status.",
        "counter",
        m.responses_4xx.load(Ordering::Relaxed),
    );
    counter(
        "ward_http_responses_5xx_total",
        "Responses with a 5xx status.",
        "counter",
        m.responses_5xx.load(Ordering::Relaxed),
    );
    counter(
        "ward_logins_total",
        "Successful logins.",
        "counter",
        m.logins_ok.load(Ordering::Relaxed),
    );
    counter(
        "ward_login_failures_total",
        "Failed logins.",
        "counter",
        m.logins_failed.load(Ordering::Relaxed),
    );
    counter(
        "ward_devices",
        "Devices in the inventory.",
        "gauge",
        devices,
    );
    counter(
        "ward_audit_entries",
        "Entries in the audit log.",
        "gauge",
        u64::try_from(audit_seq).unwrap_or(0),
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}
