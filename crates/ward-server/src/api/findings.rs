//! Findings: list, detail with explanation and history, status changes with a reason.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_store::{FindingQuery, FindingStatus};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_findings))
        .routes(routes!(finding))
        .routes(routes!(set_status))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct FindingParams {
    pub status: Option<String>,
    pub site: Option<String>,
    pub device: Option<String>,
    pub vulnerability: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

fn status(s: &str) -> ApiResult<FindingStatus> {
    FindingStatus::parse(s).ok_or_else(|| ApiError::bad_request(format!("unknown status {s:?}")))
}

/// The store queries for the caller's sites (one per visible site when scoped).
pub(crate) async fn visible_findings(
    state: &AppState,
    user: &CurrentUser,
    p: &FindingParams,
) -> ApiResult<Vec<ward_store::Finding>> {
    let base = FindingQuery {
        status: p.status.as_deref().map(status).transpose()?,
        site: p.site.clone(),
        device_id: p.device.clone(),
        vulnerability: p.vulnerability.clone(),
        limit: p.limit.unwrap_or(100).clamp(1, 1000),
        offset: p.offset.unwrap_or(0),
    };
    if let Some(s) = &p.site {
        if !user.may_see_site(s) {
            return Err(ApiError::forbidden());
        }
    }
    if user.sites.is_empty() || base.site.is_some() {
        return Ok(state.store.list_findings(&base).await?);
    }
    let mut out = Vec::new();
    for s in &user.sites {
        let q = FindingQuery {
            site: Some(s.clone()),
            ..base.clone()
        };
        out.extend(state.store.list_findings(&q).await?);
    }
    Ok(out)
}

/// Findings, most recently changed first.
#[utoipa::path(get, path = "/findings", tag = "findings", params(FindingParams),
    responses((status = 200, description = "Findings")))]
async fn list_findings(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(p): Query<FindingParams>,
) -> ApiResult<Response> {
    Ok(Json(visible_findings(&state, &user, &p).await?).into_response())
}

#[derive(Debug, Serialize)]
struct FindingDetail {
    #[serde(flatten)]
    finding: ward_store::Finding,
    history: Vec<ward_store::FindingChange>,
}

async fn visible_finding(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<ward_store::Finding> {
    let Some(f) = state.store.finding(id).await? else {
        return Err(ApiError::not_found("finding"));
    };
    if !user.sites.is_empty() {
        match state.store.device(&f.device_id).await? {
            Some(d) if user.may_see_site(&d.summary.site) => {}
            _ => return Err(ApiError::not_found("finding")),
        }
    }
    Ok(f)
}

/// A finding with its explanation and status history.
#[utoipa::path(get, path = "/findings/{id}", tag = "findings", params(("id" = String, Path)),
    responses((status = 200, description = "The finding"), (status = 404, description = "No such finding")))]
async fn finding(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let finding = visible_finding(&state, &user, &id).await?;
    let history = state.store.finding_history(&id).await?;
    Ok(Json(FindingDetail { finding, history }).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StatusChange {
    /// open, in_triage, affected, mitigated, risk_accepted, false_positive, fixed.
    pub status: String,
    pub reason: String,
    /// Required for risk_accepted: microseconds since the epoch, in the future.
    pub accepted_until: Option<i64>,
}

/// Changes a finding's status; a reason is required (audited, kept in the history).
#[utoipa::path(post, path = "/findings/{id}/status", tag = "findings", params(("id" = String, Path)),
    request_body = StatusChange, responses((status = 200, description = "The changed finding")))]
async fn set_status(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<StatusChange>,
) -> ApiResult<Response> {
    visible_finding(&state, &user, &id).await?;
    let to = status(&body.status)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request("a reason is required"));
    }
    state
        .store
        .set_finding_status(&id, to, &body.reason, body.accepted_until, &user.actor())
        .await?;
    let f = state
        .store
        .finding(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("finding"))?;
    Ok(Json(f).into_response())
}
