//! Devices (list, detail with evidence, manual overrides), sites, connections, security
//! observations. Every answer is limited to the sites the caller may see.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_store::{DeviceQuery, DeviceSort};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_devices))
        .routes(routes!(device))
        .routes(routes!(set_override, clear_override))
        .routes(routes!(device_findings))
        .routes(routes!(merge_device))
        .routes(routes!(device_merges))
        .routes(routes!(sites))
        .routes(routes!(connections))
        .routes(routes!(security_observations))
}

/// Device listing parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct DeviceParams {
    pub site: Option<String>,
    pub category: Option<String>,
    pub vendor: Option<String>,
    pub stale: Option<bool>,
    /// Case-insensitive substring of the name, host name, an IP or a MAC.
    pub q: Option<String>,
    /// name, site, category, criticality, vendor, model, software_version, hostname,
    /// first_seen, last_seen.
    pub sort: Option<String>,
    #[serde(default)]
    pub desc: bool,
    pub limit: Option<u32>,
    pub offset: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Count all matching devices (`total`; default true). Counts are cached per filter
    /// until the inventory changes; `false` skips them. A free-text search matching more
    /// devices than the search index lists exactly answers `more_than` instead.
    pub total: Option<bool>,
}

/// The store query for the caller: a site-scoped caller sees only its site(s).
pub(crate) fn device_query(p: &DeviceParams, user: &CurrentUser) -> ApiResult<DeviceQuery> {
    let sort = match &p.sort {
        None => DeviceSort::Name,
        Some(s) => serde_json::from_value(serde_json::Value::String(s.clone()))
            .map_err(|_| ApiError::bad_request(format!("unknown sort column {s:?}")))?,
    };
    let site = match (&p.site, user.sites.as_slice()) {
        (Some(s), _) if !user.may_see_site(s) => return Err(ApiError::forbidden()),
        (Some(s), _) => Some(s.clone()),
        (None, []) => None,
        (None, [one]) => Some(one.clone()),
        (None, _) => {
            return Err(ApiError::bad_request(
                "you may see several sites: choose one with ?site=",
            ))
        }
    };
    Ok(DeviceQuery {
        site,
        category: p.category.clone(),
        vendor: p.vendor.clone(),
        stale: p.stale,
        text: p.q.clone().filter(|q| !q.is_empty()),
        sort,
        descending: p.desc,
        limit: p.limit.unwrap_or(50).clamp(1, 1000),
        offset: p.offset.unwrap_or(0),
        after: p.after.clone(),
        with_total: p.total.unwrap_or(true),
    })
}

/// One page of the listing, serialised straight from the store's page (no intermediate
/// JSON value on this hot path); `more_than` only when the search did not count.
#[derive(serde::Serialize)]
struct DeviceListAnswer<'a> {
    #[serde(flatten)]
    page: &'a ward_store::DevicePage,
    #[serde(skip_serializing_if = "Option::is_none")]
    more_than: Option<u64>,
}

/// Devices: filter, sort, search, paginate (offset or keyset).
#[utoipa::path(get, path = "/devices", tag = "devices", params(DeviceParams),
    responses((status = 200, description = "One page of devices")))]
async fn list_devices(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(p): Query<DeviceParams>,
) -> ApiResult<Response> {
    let q = device_query(&p, &user)?;
    // `q=` of three or more characters is looked up in the search index (as the UI's
    // inventory does); a term matching very many devices gives `more_than` instead of a
    // count.
    let found = state.store.search_devices(&q).await?;
    Ok(Json(DeviceListAnswer {
        page: &found.page,
        more_than: found.more_than,
    })
    .into_response())
}

/// The device if it exists and the caller may see its site (else 404: the caller learns
/// nothing about other sites).
async fn visible_device(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<ward_store::DeviceDetail> {
    match state.store.device(id).await? {
        Some(d) if user.may_see_site(&d.summary.site) => Ok(d),
        _ => Err(ApiError::not_found("device")),
    }
}

/// One device with every attribute's candidates and evidence, and its manual overrides.
#[utoipa::path(get, path = "/devices/{id}", tag = "devices",
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, description = "The device"), (status = 404, description = "No such device")))]
async fn device(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    match visible_device(&state, &user, &id).await {
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            // A device merged into another answers with a permanent redirect to it (when
            // the caller may see it; else the same 404).
            if let Some(target) = state.store.device_alias(&id).await? {
                if visible_device(&state, &user, &target).await.is_ok() {
                    let location = format!("/api/v1/devices/{}", urlencoding(&target));
                    return Ok((
                        StatusCode::PERMANENT_REDIRECT,
                        [(axum::http::header::LOCATION, location)],
                        Json(serde_json::json!({ "merged_into": target })),
                    )
                        .into_response());
                }
            }
            Err(e)
        }
        other => Ok(Json(other?).into_response()),
    }
}

/// Percent-encodes a path segment (device ids are ASCII; anything else is encoded).
fn urlencoding(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MergeBody {
    /// The device to merge into this one; it then answers as an alias of this one.
    pub from: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Merges device `from` into this device: its endpoints, connections, findings, overrides
/// and reviews follow; `from` answers as a redirect to this device; the merge wins over
/// inference (re-inference that yields `from` again is folded in) and is audited with
/// before and after.
#[utoipa::path(post, path = "/devices/{id}/merge", tag = "devices",
    params(("id" = String, Path, description = "The device that stays")), request_body = MergeBody,
    responses((status = 200, description = "Merged"), (status = 400, description = "Same device or other site"),
        (status = 404, description = "No such device")))]
async fn merge_device(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<MergeBody>,
) -> ApiResult<Response> {
    visible_device(&state, &user, &id).await?;
    visible_device(&state, &user, &body.from).await?;
    let note = body.note.unwrap_or_default();
    if note.len() > 1024 {
        return Err(ApiError::bad_request(
            "the note may have at most 1024 bytes",
        ));
    }
    let m = state
        .store
        .merge_devices(&id, &body.from, &note, &user.actor())
        .await?;
    Ok(Json(m).into_response())
}

/// The devices merged into this one.
#[utoipa::path(get, path = "/devices/{id}/merges", tag = "devices",
    params(("id" = String, Path)), responses((status = 200, description = "Merges")))]
async fn device_merges(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    visible_device(&state, &user, &id).await?;
    Ok(Json(state.store.device_merges(Some(&id)).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OverrideBody {
    pub value: String,
    #[serde(default)]
    pub note: Option<String>,
}

fn attribute(s: &str) -> ApiResult<ward_identify::AttrKind> {
    ward_identify::AttrKind::from_str(s)
        .map_err(|_| ApiError::bad_request(format!("unknown attribute {s:?}")))
}

/// Sets a manual value for an attribute; it wins over inference and is kept across
/// inventory updates (audited).
#[utoipa::path(put, path = "/devices/{id}/overrides/{attribute}", tag = "devices",
    params(("id" = String, Path), ("attribute" = String, Path)), request_body = OverrideBody,
    responses((status = 204, description = "Set")))]
async fn set_override(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, attr)): Path<(String, String)>,
    Json(body): Json<OverrideBody>,
) -> ApiResult<Response> {
    visible_device(&state, &user, &id).await?;
    let attribute = attribute(&attr)?;
    if body.value.trim().is_empty() || body.value.len() > 256 {
        return Err(ApiError::bad_request("the value must have 1 to 256 bytes"));
    }
    let ov = ward_identify::ManualOverride {
        device_id: id,
        attribute,
        value: body.value,
        author: Some(user.username.clone()),
        note: body.note,
        set_at: None,
    };
    state.store.set_override(&ov, &user.actor()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Removes a manual value; the inferred one applies again (audited).
#[utoipa::path(delete, path = "/devices/{id}/overrides/{attribute}", tag = "devices",
    params(("id" = String, Path), ("attribute" = String, Path)),
    responses((status = 204, description = "Removed")))]
async fn clear_override(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, attr)): Path<(String, String)>,
) -> ApiResult<Response> {
    visible_device(&state, &user, &id).await?;
    let attribute = attribute(&attr)?;
    state
        .store
        .clear_override(&id, attribute, &user.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The findings of a device.
#[utoipa::path(get, path = "/devices/{id}/findings", tag = "findings",
    params(("id" = String, Path)), responses((status = 200, description = "Findings")))]
async fn device_findings(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    visible_device(&state, &user, &id).await?;
    Ok(Json(state.store.findings_of_device(&id).await?).into_response())
}

#[derive(Debug, Serialize)]
struct Sites {
    sites: Vec<ward_store::Site>,
}

/// The sites the caller may see.
#[utoipa::path(get, path = "/sites", tag = "devices",
    responses((status = 200, description = "Sites")))]
async fn sites(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> ApiResult<Response> {
    let sites = state
        .store
        .sites()
        .await?
        .into_iter()
        .filter(|s| user.may_see_site(&s.id))
        .collect();
    Ok(Json(Sites { sites }).into_response())
}

pub(crate) fn check_site(user: &CurrentUser, site: &str) -> ApiResult<()> {
    if user.may_see_site(site) {
        Ok(())
    } else {
        Err(ApiError::not_found("site"))
    }
}

/// The identified connections of a site.
#[utoipa::path(get, path = "/sites/{site}/connections", tag = "devices",
    params(("site" = String, Path)), responses((status = 200, description = "Connections")))]
async fn connections(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(site): Path<String>,
) -> ApiResult<Response> {
    check_site(&user, &site)?;
    Ok(Json(state.store.site_connections(&site).await?).into_response())
}

/// The security observations of a site (cleartext credentials, weak protocols ...).
#[utoipa::path(get, path = "/sites/{site}/security-observations", tag = "devices",
    params(("site" = String, Path)), responses((status = 200, description = "Observations")))]
async fn security_observations(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(site): Path<String>,
) -> ApiResult<Response> {
    check_site(&user, &site)?;
    Ok(Json(state.store.site_facts(&site).await?.security).into_response())
}
