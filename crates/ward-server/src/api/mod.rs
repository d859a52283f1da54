//! The JSON API under `/api/v1/`. One file per resource; each exposes `router()`.

use crate::state::AppState;
use axum::Router;

pub mod ingest;
pub mod jobs;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(ingest::router())
        .merge(jobs::router())
}
