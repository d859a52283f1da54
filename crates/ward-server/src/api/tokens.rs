//! API tokens: list, create (plaintext shown once), revoke.

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Every token (no secrets).
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses((status = 200, description = "Tokens")))]
async fn list_tokens(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(Json(state.store.list_tokens(None).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateToken {
    /// The user the token acts for (its roles bound what the scopes grant).
    pub user_id: String,
    pub name: String,
    /// Permission names (`ingest`, `read_inventory`, ...), `read` or `*`.
    pub scopes: Vec<String>,
    pub site: Option<String>,
    /// Lifetime in days (default 90; 0 = never expires).
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize)]
struct CreatedToken {
    token: ward_store::ApiToken,
    /// Shown once; only its SHA-256 is stored.
    secret: String,
}

/// Creates a token; the answer carries the secret, shown this once.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, description = "Created")))]
async fn create_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Json(body): Json<CreateToken>,
) -> ApiResult<Response> {
    if body.name.trim().is_empty() || body.name.len() > 128 {
        return Err(ApiError::bad_request("a token name has 1 to 128 bytes"));
    }
    let days = i64::from(body.expires_in_days.unwrap_or(90));
    let expires = (days > 0).then(|| ward_store::now_micros() + days * 86_400_000_000);
    let (token, secret) = auth::issue_token_record(
        &state,
        &body.user_id,
        &body.name,
        &body.scopes,
        body.site,
        expires,
        &user.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })).into_response())
}

/// Revokes a token.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such token")))]
async fn revoke_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state.store.revoke_token(&id, &user.actor()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
