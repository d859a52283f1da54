//! Capture upload: the files are analysed on the server (`ward-dissect` in a blocking
//! task), shipped into the store as one idempotent batch, and the site is re-identified
//! and re-assessed by the same pipeline as a UI upload (`ui::pipeline::reassess_site`).
//! The capture bytes live only in a temporary directory outside the data directory for
//! the time of the analysis; the answer carries counts only.
//! Patient data never reaches the store: the pipeline keeps device metadata only.

use crate::api::intel::uploaded_files;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_store::{Batch, IngestOutcome};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_capture))
        // Uploads are bounded by `max_upload_bytes` in `uploaded_files`.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CaptureParams {
    /// The site the capture was taken at (default `default`; created if new).
    pub site: Option<String>,
    /// The file name of a raw-body upload.
    pub name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptureReport {
    pub batch_id: String,
    pub site: String,
    pub files: usize,
    pub packets: u64,
    /// false when the same bytes were uploaded before (nothing changed).
    pub applied: bool,
    pub observations: u64,
    pub security_observations: u64,
    pub edges: u64,
    /// Devices of the site after re-identification.
    pub devices: usize,
    /// Findings of the site after re-assessment against all stored intel.
    pub findings: usize,
    /// Mitigation-plan actions of the site after re-assessment.
    pub plan_actions: usize,
    pub warnings: Vec<String>,
}

fn valid_site(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Analyses uploaded pcap/pcapng files (multipart, or a raw body with `?name=`) and updates
/// the site's inventory.
#[utoipa::path(post, path = "/captures", tag = "captures", params(CaptureParams),
    request_body(content = Vec<u8>, content_type = "application/vnd.tcpdump.pcap"),
    responses((status = 200, description = "What the capture added", body = CaptureReport),
              (status = 400, description = "Not a capture file")))]
async fn upload_capture(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    req: Request,
) -> ApiResult<Response> {
    let site = req
        .uri()
        .query()
        .and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "site")
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_else(|| "default".to_string());
    if !valid_site(&site) {
        return Err(ApiError::bad_request(
            "a site id has 1 to 64 letters, digits, '.', '_' or '-'",
        ));
    }
    if !user.may_see_site(&site) {
        return Err(ApiError::forbidden());
    }
    let files = uploaded_files(&state, req, "upload.pcap").await?;
    let batch_id = upload_batch_id(
        &site,
        files.iter().map(|(_, b)| crate::auth::sha256_bytes_hex(b)),
    );
    let names: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            // Only a plain file name: no directories from the client.
            let base = std::path::Path::new(n)
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if base.is_empty() {
                format!("upload-{i}.pcap")
            } else {
                format!("{i}-{base}")
            }
        })
        .collect();
    let analysed = tokio::task::spawn_blocking(move || analyse(files, &names))
        .await
        .map_err(ApiError::internal)??;
    let (batch, packets, warnings) = analysed;
    let n_files = batch.files.len();
    if !state.store.sites().await?.iter().any(|s| s.id == site) {
        state.store.upsert_site(&site, &site).await?;
    }
    let actor = user.actor();
    let outcome = state
        .store
        .ingest_batch(&batch_id, &site, &batch, &actor)
        .await?;
    // The same re-identification and re-assessment as a UI upload (one pipeline): the
    // inventory, findings against all stored intel, and plan actions.
    let summary = crate::ui::pipeline::reassess_site(&state.store, &site, &actor)
        .await
        .map_err(ApiError::internal)?;
    let (applied, observations, security, edges) = match outcome {
        IngestOutcome::Applied {
            observations,
            security,
            edges,
        } => (true, observations, security, edges),
        IngestOutcome::AlreadyApplied => (false, 0, 0, 0),
    };
    Ok(Json(CaptureReport {
        batch_id,
        site,
        files: n_files,
        packets,
        applied,
        observations,
        security_observations: security,
        edges,
        devices: summary.devices,
        findings: summary.findings,
        plan_actions: summary.actions,
        warnings,
    })
    .into_response())
}

/// The ingest batch id of uploaded capture files: their contents (SHA-256 of each, in
/// order) and the site, so the same upload, through the API or the UI, is ingested once.
pub fn upload_batch_id(site: &str, file_sha256s: impl IntoIterator<Item = String>) -> String {
    let joined: String = file_sha256s.into_iter().collect();
    format!(
        "upload-{site}-{}",
        &crate::auth::sha256_bytes_hex(joined.as_bytes())[..32]
    )
}

/// Writes the uploads to a private temporary directory and runs the capture pipeline.
fn analyse(
    files: Vec<(String, Vec<u8>)>,
    names: &[String],
) -> ApiResult<(Batch, u64, Vec<String>)> {
    let dir = tempfile::tempdir().map_err(ApiError::internal)?;
    let mut paths = Vec::with_capacity(files.len());
    for ((_, bytes), name) in files.iter().zip(names) {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).map_err(ApiError::internal)?;
        paths.push(p);
    }
    drop(files);
    let (out, stats) = ward_dissect::analyze_files(
        &paths,
        &ward_capture::CaptureConfig::default(),
        &ward_dissect::EngineConfig::default(),
        1,
        &|_| {},
    )
    .map_err(|e| {
        // The error names the uploaded file by its upload name, not the temporary path.
        let msg = e.to_string().replace(&dir.path().display().to_string(), "");
        ApiError::bad_request(msg.trim_start_matches('/').to_string())
    })?;
    let packets = stats.files.iter().map(|f| f.packets).sum();
    let warnings = stats
        .files
        .iter()
        .zip(names)
        .flat_map(|(f, n)| f.warnings.iter().map(move |w| format!("{n}: {w}")))
        .collect();
    Ok((
        Batch {
            files: names.to_vec(),
            observations: out.observations,
            security: out.security,
            edges: out.edges,
        },
        packets,
        warnings,
    ))
}
