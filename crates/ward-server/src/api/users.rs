//! Users and roles (admin only to change; auditors may read).

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::rbac::{Permission, Role};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_store::{NewUser, RoleGrant};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(user))
        .routes(routes!(set_roles))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(reset_password))
        .routes(routes!(roles))
}

/// Checks role names (and that a site exists when given).
pub(crate) async fn checked_grants(
    state: &AppState,
    grants: &[RoleGrant],
) -> ApiResult<Vec<RoleGrant>> {
    let sites = state.store.sites().await?;
    for g in grants {
        if Role::parse(&g.role).is_none() {
            return Err(ApiError::bad_request(format!("unknown role {:?}", g.role)));
        }
        if let Some(s) = &g.site {
            if !sites.iter().any(|x| &x.id == s) {
                return Err(ApiError::bad_request(format!("unknown site {s:?}")));
            }
        }
    }
    Ok(grants.to_vec())
}

/// Every user with roles (no secrets).
#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, description = "Users")))]
async fn list_users(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(Json(state.store.list_users().await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    /// Omitted: a one-time password is generated and returned once.
    pub password: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<RoleGrant>,
}

#[derive(Debug, Serialize)]
struct Created {
    user: ward_store::User,
    /// Only when generated: shown once, must be changed at first login.
    one_time_password: Option<String>,
}

fn valid_username(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// Creates a local user.
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser,
    responses((status = 201, description = "Created"), (status = 409, description = "The name is taken")))]
async fn create_user(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Json(body): Json<CreateUser>,
) -> ApiResult<Response> {
    if !valid_username(&body.username) {
        return Err(ApiError::bad_request(
            "a user name has 1 to 64 letters, digits, '.', '_', '-' or '@'",
        ));
    }
    let roles = checked_grants(&state, &body.roles).await?;
    let (password, generated) = match body.password {
        Some(p) => {
            auth::check_password_policy(&body.username, &p).map_err(ApiError::bad_request)?;
            (p, false)
        }
        None => (auth::generate_password(), true),
    };
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&pw))
        .await
        .map_err(ApiError::internal)??;
    let created = state
        .store
        .create_user(
            &NewUser {
                id: auth::random_id(),
                username: body.username,
                display_name: body.display_name,
                password_hash: Some(hash),
                oidc_issuer: None,
                oidc_subject: None,
                must_change_password: generated,
                roles,
            },
            &user.actor(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            user: created,
            one_time_password: generated.then_some(password),
        }),
    )
        .into_response())
}

/// One user.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, description = "The user"), (status = 404, description = "No such user")))]
async fn user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    match state.store.user(&id).await? {
        Some(u) => Ok(Json(u).into_response()),
        None => Err(ApiError::not_found("user")),
    }
}

/// Replaces a user's role grants.
#[utoipa::path(put, path = "/users/{id}/roles", tag = "users", params(("id" = String, Path)),
    request_body = Vec<Object>, responses((status = 200, description = "The user")))]
async fn set_roles(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(grants): Json<Vec<RoleGrant>>,
) -> ApiResult<Response> {
    let grants = checked_grants(&state, &grants).await?;
    if id == user.user_id && !grants.iter().any(|g| g.role == "admin" && g.site.is_none()) {
        return Err(ApiError::bad_request(
            "you cannot remove your own admin role",
        ));
    }
    Ok(Json(
        state
            .store
            .set_user_roles(&id, &grants, &user.actor())
            .await?,
    )
    .into_response())
}

/// Disables a user (their sessions end; their tokens stop working).
#[utoipa::path(post, path = "/users/{id}/disable", tag = "users", params(("id" = String, Path)),
    responses((status = 200, description = "The user")))]
async fn disable(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if id == user.user_id {
        return Err(ApiError::bad_request("you cannot disable yourself"));
    }
    Ok(Json(
        state
            .store
            .set_user_disabled(&id, true, &user.actor())
            .await?,
    )
    .into_response())
}

/// Enables a disabled user.
#[utoipa::path(post, path = "/users/{id}/enable", tag = "users", params(("id" = String, Path)),
    responses((status = 200, description = "The user")))]
async fn enable(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(
        state
            .store
            .set_user_disabled(&id, false, &user.actor())
            .await?,
    )
    .into_response())
}

#[derive(Debug, Serialize)]
struct Reset {
    one_time_password: String,
}

/// Resets a user's password to a one-time password (returned once; must be changed at
/// the next login), clearing any lockout and ending the user's sessions.
#[utoipa::path(post, path = "/users/{id}/password", tag = "users", params(("id" = String, Path)),
    responses((status = 200, description = "The one-time password")))]
async fn reset_password(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let target = state
        .store
        .user(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if target.oidc_issuer.is_some() {
        return Err(ApiError::bad_request(
            "this account signs in through single sign-on",
        ));
    }
    let password = auth::generate_password();
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&pw))
        .await
        .map_err(ApiError::internal)??;
    state
        .store
        .set_password_hash(&id, &hash, true, &user.actor())
        .await?;
    Ok(Json(Reset {
        one_time_password: password,
    })
    .into_response())
}

#[derive(Debug, Serialize)]
struct RoleInfo {
    role: &'static str,
    permissions: Vec<&'static str>,
}

/// The roles and the permissions each grants.
#[utoipa::path(get, path = "/roles", tag = "users",
    responses((status = 200, description = "Roles")))]
async fn roles() -> Json<Vec<RoleInfo>> {
    Json(
        Role::ALL
            .iter()
            .map(|r| RoleInfo {
                role: r.as_str(),
                permissions: Permission::ALL
                    .iter()
                    .filter(|p| **p != Permission::Public && r.allows(**p))
                    .map(|p| p.as_str())
                    .collect(),
            })
            .collect(),
    )
}
