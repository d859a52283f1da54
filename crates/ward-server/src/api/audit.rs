//! The audit log: read and verify. No route writes, edits or deletes entries.

use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(entries))
        .routes(routes!(verify))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// Entries after this sequence number (default 0).
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Audit entries in order.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditParams),
    responses((status = 200, description = "Entries")))]
async fn entries(
    State(state): State<AppState>,
    Query(p): Query<AuditParams>,
) -> ApiResult<Response> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .store
            .audit_entries(p.after.unwrap_or(0), limit)
            .await?,
    )
    .into_response())
}

/// Verifies the hash chain; the answer names the first problem found.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = 200, description = "Verification report")))]
async fn verify(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(Json(state.store.verify_audit_chain().await?).into_response())
}
