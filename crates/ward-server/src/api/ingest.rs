//! Sensor ingest: `POST /api/v1/ingest/batches`.
//!
//! The body is one [`SensorBatch`] as JSON, optionally gzip-compressed
//! (`Content-Encoding: gzip`). The answer `200 {batch_id, outcome}` comes only after the
//! batch's transaction committed: a sensor deletes a batch from its spool on that answer
//! and not before, so an acknowledged batch is never lost, and a retry of a batch whose
//! answer got lost is answered `duplicate` without changing anything (the store records
//! batch ids in the same transaction as the rows).

use crate::auth::CurrentUser;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::io::Read;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_store::{Actor, IngestOutcome, SensorBatch, StoreError};

/// Largest request body accepted (compressed or not).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Largest decompressed batch: a gzip body is inflated at most to this size.
pub const MAX_BATCH_BYTES: u64 = 256 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_batch))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The answer to an ingested batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IngestAnswer {
    pub batch_id: String,
    /// `inserted` (committed now) or `duplicate` (committed before; nothing changed).
    pub outcome: String,
    /// Distinct rows written (0 for a duplicate).
    pub observations: u64,
    pub security: u64,
    pub edges: u64,
}

/// An error answer: `{"error": "..."}` with a status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// Decodes the body: gzip when the request says so, then JSON.
pub fn decode_batch(headers: &HeaderMap, body: &[u8]) -> Result<SensorBatch, String> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let inflated;
    let json: &[u8] = match encoding.as_str() {
        "identity" | "" => body,
        "gzip" | "x-gzip" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .take(MAX_BATCH_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("gzip body: {e}"))?;
            if out.len() as u64 > MAX_BATCH_BYTES {
                return Err(format!(
                    "batch larger than {MAX_BATCH_BYTES} bytes after decompression"
                ));
            }
            inflated = out;
            &inflated
        }
        other => return Err(format!("unsupported Content-Encoding {other:?}")),
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    let batch: SensorBatch = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        format!(
            "batch JSON at {} (line {}, column {}): {}",
            e.path(),
            e.inner().line(),
            e.inner().column(),
            e.inner()
        )
    })?;
    if batch.sensor.is_empty() || batch.sensor.len() > 200 {
        return Err("sensor must be 1 to 200 characters".into());
    }
    Ok(batch)
}

/// Ingests one sensor batch (a `SensorBatch` as JSON, optionally gzip-compressed). Answers
/// only after the batch committed; a batch id seen before is answered `duplicate`.
#[utoipa::path(post, path = "/ingest/batches", tag = "ingest",
    request_body(content = Vec<u8>, content_type = "application/json",
        description = "One SensorBatch as JSON (Content-Encoding: gzip allowed)"),
    responses((status = 200, description = "Committed now or before", body = IngestAnswer),
              (status = 400, description = "Not a batch"),
              (status = 403, description = "Not allowed to ingest for this site"),
              (status = 503, description = "Store unavailable; retry the same batch")))]
async fn post_batch(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let batch = match decode_batch(&headers, &body) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let actor = match &user {
        Some(Extension(u)) => {
            if !u.sites.is_empty() && !u.sites.iter().any(|s| s == &batch.site) {
                return error(
                    StatusCode::FORBIDDEN,
                    format!("not allowed to ingest for site {:?}", batch.site),
                );
            }
            Actor::new(
                format!("{} (sensor:{})", u.username, batch.sensor),
                u.source.clone(),
            )
        }
        None => Actor::new(format!("sensor:{}", batch.sensor), None),
    };
    match state
        .store
        .ingest_batch(&batch.batch_id, &batch.site, &batch.batch, &actor)
        .await
    {
        Ok(outcome) => {
            let answer = match outcome {
                IngestOutcome::Applied {
                    observations,
                    security,
                    edges,
                } => IngestAnswer {
                    batch_id: batch.batch_id,
                    outcome: "inserted".into(),
                    observations,
                    security,
                    edges,
                },
                IngestOutcome::AlreadyApplied => IngestAnswer {
                    batch_id: batch.batch_id,
                    outcome: "duplicate".into(),
                    observations: 0,
                    security: 0,
                    edges: 0,
                },
            };
            tracing::debug!(batch = %answer.batch_id, outcome = %answer.outcome, "ingest");
            (StatusCode::OK, Json(answer)).into_response()
        }
        Err(e @ StoreError::Invalid { .. }) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "ingest failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable; retry")
        }
    }
}
