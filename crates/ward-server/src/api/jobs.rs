//! Job status: `GET /api/v1/jobs`.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_jobs))
}

#[utoipa::path(get, path = "/jobs", tag = "jobs",
    responses((status = 200, description = "`{\"jobs\": [...]}`: every job with its state"),
              (status = 503, description = "Store unavailable")))]
/// Every scheduled job with its state, lease holder, attempts and last error.
async fn list_jobs(State(state): State<AppState>) -> Response {
    match state.store.jobs().await {
        Ok(jobs) => Json(serde_json::json!({ "jobs": jobs })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "listing jobs");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "error": "store unavailable" })),
            )
                .into_response()
        }
    }
}
