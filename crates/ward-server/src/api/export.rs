//! CSV exports of the inventory and the findings (the caller's sites only). Cells that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) get a leading `'`.

use crate::api::devices::{device_query, DeviceParams};
use crate::api::findings::{visible_findings, FindingParams};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(devices_csv))
        .routes(routes!(findings_csv))
}

fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn csv_response(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The inventory as CSV (same filters as the device list; every page).
#[utoipa::path(get, path = "/export/devices.csv", tag = "export", params(DeviceParams),
    responses((status = 200, description = "CSV", content_type = "text/csv")))]
async fn devices_csv(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(p): Query<DeviceParams>,
) -> ApiResult<Response> {
    let mut q = device_query(&p, &user)?;
    q.limit = 1000;
    q.with_total = false;
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = ApiError::internal;
    w.write_record([
        "id",
        "site",
        "name",
        "category",
        "criticality",
        "vendor",
        "model",
        "os",
        "firmware_version",
        "software_version",
        "hostname",
        "macs",
        "ips",
        "first_seen",
        "last_seen",
        "stale",
    ])
    .map_err(err)?;
    loop {
        let page = state.store.list_devices(&q).await?;
        for d in &page.devices {
            let opt = |o: &Option<String>| cell(o.as_deref().unwrap_or(""));
            w.write_record([
                cell(&d.id),
                cell(&d.site),
                cell(&d.name),
                opt(&d.category),
                opt(&d.criticality),
                opt(&d.vendor),
                opt(&d.model),
                opt(&d.os),
                opt(&d.firmware_version),
                opt(&d.software_version),
                opt(&d.hostname),
                cell(&d.macs.join(" ")),
                cell(&d.ips.join(" ")),
                d.first_seen.to_string(),
                d.last_seen.to_string(),
                d.stale.to_string(),
            ])
            .map_err(err)?;
        }
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    let bytes = w.into_inner().map_err(ApiError::internal)?;
    Ok(csv_response("devices.csv", bytes))
}

/// The findings as CSV.
#[utoipa::path(get, path = "/export/findings.csv", tag = "export", params(FindingParams),
    responses((status = 200, description = "CSV", content_type = "text/csv")))]
async fn findings_csv(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(mut p): Query<FindingParams>,
) -> ApiResult<Response> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = ApiError::internal;
    w.write_record([
        "id",
        "device_id",
        "vulnerability",
        "status",
        "reason",
        "accepted_until",
        "confidence",
        "created_at",
        "updated_at",
    ])
    .map_err(err)?;
    p.limit = Some(1000);
    let mut offset = 0u64;
    loop {
        p.offset = Some(offset);
        let page = visible_findings(&state, &user, &p).await?;
        for f in &page {
            w.write_record([
                cell(&f.id),
                cell(&f.device_id),
                cell(&f.vulnerability),
                f.status.as_str().to_string(),
                cell(&f.reason),
                f.accepted_until.map(|t| t.to_string()).unwrap_or_default(),
                f.confidence.to_string(),
                f.created_at.to_string(),
                f.updated_at.to_string(),
            ])
            .map_err(err)?;
        }
        if page.len() < 1000 {
            break;
        }
        offset += 1000;
    }
    let bytes = w.into_inner().map_err(ApiError::internal)?;
    Ok(csv_response("findings.csv", bytes))
}
