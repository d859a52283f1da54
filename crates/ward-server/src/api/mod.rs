//! The JSON API under `/api/v1/`. One file per resource; each exposes `router()`.

use crate::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
