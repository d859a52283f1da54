//! The server-rendered web UI. Owner: the web-UI helper.

use crate::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
