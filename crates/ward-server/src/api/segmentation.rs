//! Segmentation policy and violations of a site (IEC 62443 zones and conduits), derived
//! with `ward_assess::segment` from the stored devices and connections: conduits are learned
//! from the connections first seen within a baseline window (by default the first 7 days of
//! the site's observations), and a violation is a connection outside them.

use crate::api::devices::check_site;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_assess::segment::{derive_policy, Flow, Policy};
use ward_model::{Evidence, Timestamp};
use ward_store::{DeviceQuery, StoredConnection};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(policy))
        .routes(routes!(violations))
}

const DAY_MICROS: u64 = 86_400_000_000;

/// The baseline window and the output format.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PolicyParams {
    /// Connections first seen up to this time (microseconds since 1970) form the baseline.
    pub baseline_until: Option<u64>,
    /// Or: the first N days of the site's connections (default 7).
    pub baseline_days: Option<u32>,
    /// `json` (default), `nft` (nftables) or `acl` (Cisco-style ACL). Policy only.
    pub format: Option<String>,
}

/// A connection reduced to a flow (multicast peers are not policed). The stored detail is
/// the identified connection's JSON; only its addresses, scopes, VLAN and evidence are read.
fn flow_of(c: &StoredConnection) -> Option<Flow> {
    let d = &c.detail;
    let scope = |side: &str| d[side]["scope"].as_str().unwrap_or("unknown");
    if scope("client") == "multicast" || scope("server") == "multicast" {
        return None;
    }
    let address = |side: &str, fallback: &str| {
        d[side]["address"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| fallback.to_string())
    };
    let (src_addr, dst_addr) = (address("client", &c.client), address("server", &c.server));
    Some(Flow {
        src: c.client_device.clone().unwrap_or_else(|| src_addr.clone()),
        src_ip: src_addr.parse().ok(),
        dst: c.server_device.clone().unwrap_or_else(|| dst_addr.clone()),
        dst_ip: dst_addr.parse().ok(),
        transport: c.transport.clone(),
        port: u16::try_from(c.server_port).ok()?,
        protocol: (!c.protocol.is_empty()).then(|| c.protocol.clone()),
        vlan: d["vlans"][0].as_u64().and_then(|v| u16::try_from(v).ok()),
        dst_external: scope("server") == "external",
        first_seen: Timestamp(u64::try_from(c.first_seen).unwrap_or(0)),
        last_seen: Timestamp(u64::try_from(c.last_seen).unwrap_or(0)),
        evidence: serde_json::from_value::<Evidence>(d["evidence"].clone()).unwrap_or(Evidence {
            file: 0,
            packet: 0,
            ts: Timestamp(0),
            flow: None,
        }),
    })
}

/// The site's policy, every flow and the baseline cut-off.
async fn site_policy(
    state: &AppState,
    site: &str,
    p: &PolicyParams,
) -> ApiResult<(Policy, Vec<Flow>, u64)> {
    let flows: Vec<Flow> = state
        .store
        .site_connections(site)
        .await?
        .iter()
        .filter_map(flow_of)
        .collect();
    let start = flows.iter().map(|f| f.first_seen.0).min().unwrap_or(0);
    let until = match (p.baseline_until, p.baseline_days) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give baseline_until or baseline_days, not both",
            ))
        }
        (Some(t), None) => t,
        (None, d) => start.saturating_add(u64::from(d.unwrap_or(7)).saturating_mul(DAY_MICROS)),
    };
    let baseline: Vec<Flow> = flows
        .iter()
        .filter(|f| f.first_seen.0 <= until)
        .cloned()
        .collect();
    let mut assets = Vec::new();
    let mut q = DeviceQuery {
        site: Some(site.to_string()),
        limit: 1000,
        ..Default::default()
    };
    loop {
        let page = state.store.list_devices(&q).await?;
        assets.extend(page.devices.iter().map(crate::jobs::asset_of));
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    Ok((derive_policy(&assets, &baseline), flows, until))
}

#[derive(Debug, Serialize)]
struct PolicyAnswer {
    site: String,
    baseline_until: u64,
    baseline_flows: usize,
    policy: serde_json::Value,
}

/// The proposed segmentation policy of a site: zones, conduits learned from the baseline
/// connections, and each member's zone; as JSON or as nftables rules / a Cisco-style ACL.
#[utoipa::path(get, path = "/sites/{site}/policy", tag = "segmentation",
    params(("site" = String, Path), PolicyParams),
    responses((status = 200, description = "The policy (JSON, or text for format=nft|acl)"),
        (status = 400, description = "Unknown format"), (status = 404, description = "No such site")))]
async fn policy(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(site): Path<String>,
    Query(p): Query<PolicyParams>,
) -> ApiResult<Response> {
    check_site(&user, &site)?;
    let format = p.format.clone().unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "nft" | "acl") {
        return Err(ApiError::bad_request(format!(
            "unknown format {format:?}: json, nft or acl"
        )));
    }
    let (policy, flows, until) = site_policy(&state, &site, &p).await?;
    let text =
        |t: String| ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], t).into_response();
    Ok(match format.as_str() {
        "nft" => text(policy.to_nftables()),
        "acl" => {
            let name: String = format!("WARD-{site}")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            text(policy.to_cisco_acl(&name))
        }
        _ => Json(PolicyAnswer {
            site,
            baseline_until: until,
            baseline_flows: flows.iter().filter(|f| f.first_seen.0 <= until).count(),
            policy: policy.to_json(),
        })
        .into_response(),
    })
}

#[derive(Debug, Serialize)]
struct ViolationsAnswer {
    site: String,
    baseline_until: u64,
    flows: usize,
    violations: Vec<Flow>,
}

/// Connections of a site outside its policy (learned from the baseline window).
#[utoipa::path(get, path = "/sites/{site}/violations", tag = "segmentation",
    params(("site" = String, Path), PolicyParams),
    responses((status = 200, description = "Violations"), (status = 404, description = "No such site")))]
async fn violations(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(site): Path<String>,
    Query(p): Query<PolicyParams>,
) -> ApiResult<Response> {
    check_site(&user, &site)?;
    let (policy, flows, until) = site_policy(&state, &site, &p).await?;
    let violations = policy.violations(&flows).into_iter().cloned().collect();
    Ok(Json(ViolationsAnswer {
        site,
        baseline_until: until,
        flows: flows.len(),
        violations,
    })
    .into_response())
}
