//! Login, logout, who am I, own password change.

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_store::Actor;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: String,
    pub username: String,
    pub roles: Vec<String>,
    /// Empty: every site.
    pub sites: Vec<String>,
    pub method: String,
    pub must_change_password: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginAnswer {
    #[serde(flatten)]
    pub me: Me,
    /// Repeat in `X-CSRF-Token` (or a `csrf` form field) on every state-changing request.
    pub csrf_token: String,
}

fn me_of(u: &CurrentUser) -> Me {
    Me {
        user_id: u.user_id.clone(),
        username: u.username.clone(),
        roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
        sites: u.sites.clone(),
        method: match u.method {
            auth::AuthMethod::Session => "session".into(),
            auth::AuthMethod::Token => "token".into(),
        },
        must_change_password: u.must_change_password,
    }
}

/// Signs in with a user name and password; sets a new session cookie (any session the
/// request carried ends: the id is never reused) and returns the CSRF token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginAnswer),
              (status = 401, description = "Wrong credentials or locked account"),
              (status = 429, description = "Too many failures from this address")))]
async fn login(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let source = connect.map(|c| c.0 .0.ip().to_string());
    let user = auth::login(&state, &req.username, &req.password, source.clone()).await?;
    // Rotation: whatever session the browser had is ended, and a fresh id issued.
    if let Some(old) = auth::session_cookie_value(&headers) {
        state.store.delete_session(&auth::sha256_hex(&old)).await?;
    }
    let (cookie, csrf) = auth::create_session(&state, &user.id, source.clone()).await?;
    let (roles, sites) = auth::roles_and_sites(&user.roles);
    let me = Me {
        user_id: user.id,
        username: user.username,
        roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
        sites,
        method: "session".into(),
        must_change_password: user.must_change_password,
    };
    let mut r = Json(LoginAnswer {
        me,
        csrf_token: csrf,
    })
    .into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, auth::session_cookie(&state, &cookie));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

/// Ends the current session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out")))]
async fn logout(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> ApiResult<Response> {
    if let Some(h) = &user.session_hash {
        state.store.delete_session(h).await?;
        state
            .store
            .append_audit(
                &user.actor(),
                "auth.logout",
                &format!("user:{}", user.username),
                None,
                None,
            )
            .await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_session_cookie(&state));
    Ok(r)
}

/// The caller.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, description = "The caller", body = Me)))]
async fn me(Extension(user): Extension<CurrentUser>) -> Json<Me> {
    Json(me_of(&user))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's own password (required after a first-run or reset password). All
/// the user's sessions end; sign in again.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed"),
              (status = 400, description = "The new password breaks the policy"),
              (status = 401, description = "Wrong current password")))]
async fn change_password(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Json(req): Json<PasswordChange>,
) -> ApiResult<Response> {
    if user.method != auth::AuthMethod::Session {
        return Err(ApiError::forbidden());
    }
    let stored = state
        .store
        .user(&user.user_id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let Some(hash) = stored.password_hash.clone() else {
        return Err(ApiError::bad_request(
            "this account signs in through single sign-on",
        ));
    };
    let current = req.current_password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &current))
        .await
        .map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the current password is wrong",
        ));
    }
    auth::check_password_policy(&stored.username, &req.new_password)
        .map_err(ApiError::bad_request)?;
    if req.new_password == req.current_password {
        return Err(ApiError::bad_request(
            "the new password must differ from the current one",
        ));
    }
    let new = req.new_password.clone();
    let new_hash = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(ApiError::internal)??;
    let actor: Actor = user.actor();
    state
        .store
        .set_password_hash(&user.user_id, &new_hash, false, &actor)
        .await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_session_cookie(&state));
    Ok(r)
}
