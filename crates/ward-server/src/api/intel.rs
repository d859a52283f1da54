//! Advisories and vulnerability intelligence: list, show, import (multipart upload or raw
//! body), read with `ward-intel` and stored with `ward-store` (all files of one request in
//! one transaction: all or nothing).

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_intel))
        .routes(routes!(intel_document))
        .routes(routes!(import_intel))
        // Uploads are bounded by `max_upload_bytes` in `uploaded_files`.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct IntelParams {
    /// Documents that mention this CVE.
    pub cve: Option<String>,
    /// Documents naming this product (with `vendor`).
    pub product: Option<String>,
    pub vendor: Option<String>,
}

/// Intel documents by CVE or by product.
#[utoipa::path(get, path = "/intel", tag = "intel", params(IntelParams),
    responses((status = 200, description = "Document summaries")))]
async fn list_intel(
    State(state): State<AppState>,
    Query(p): Query<IntelParams>,
) -> ApiResult<Response> {
    let docs = match (&p.cve, &p.product) {
        (Some(cve), _) => state.store.intel_by_cve(cve).await?,
        (None, Some(product)) => {
            state
                .store
                .intel_by_product(p.vendor.as_deref().unwrap_or(""), product)
                .await?
        }
        (None, None) => {
            return Ok(Json(serde_json::json!({
                "documents": state.store.intel_document_count().await?,
                "hint": "query with ?cve= or ?product=&vendor=",
            }))
            .into_response())
        }
    };
    Ok(Json(docs).into_response())
}

/// One stored intel document (the normalised JSON).
#[utoipa::path(get, path = "/intel/{id}", tag = "intel", params(("id" = i64, Path)),
    responses((status = 200, description = "The document"), (status = 404, description = "No such document")))]
async fn intel_document(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Response> {
    match state.store.intel_document_json(id).await? {
        // The parsed document; the stored file bytes stay inside the server.
        Some(mut d) => Ok(Json(match d.get_mut("parsed") {
            Some(p) => p.take(),
            None => d,
        })
        .into_response()),
        None => Err(ApiError::not_found("intel document")),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// The file name of a raw-body upload (for format detection and provenance).
    pub name: Option<String>,
}

/// Converts a document read by `ward-intel` into the store's normalised record.
pub fn to_store_document(
    doc: &ward_intel::IntelDocument,
    sha256: &str,
) -> Result<ward_store::IntelDocument, serde_json::Error> {
    use ward_intel::IntelDocument as D;
    let mut products = Vec::new();
    let mut vulnerabilities = Vec::new();
    let mut publisher = doc.provenance().publisher.clone().unwrap_or_default();
    let mut version = doc.provenance().version.clone().unwrap_or_default();
    match doc {
        D::Advisory(a) => {
            publisher = a.publisher.clone();
            version = a.version.clone();
            for p in &a.products {
                products.push(ward_store::IntelProduct {
                    product_id: p.id.clone(),
                    vendor: p.vendor.clone().unwrap_or_default(),
                    name: p.product_name.clone().unwrap_or_else(|| p.name.clone()),
                    version: p
                        .version
                        .clone()
                        .or_else(|| p.version_range.clone())
                        .unwrap_or_default(),
                    cpe: p.identifiers.cpe.clone().unwrap_or_default(),
                    purl: p.identifiers.purl.clone().unwrap_or_default(),
                });
            }
            for v in &a.vulnerabilities {
                let Some(cve) = v
                    .cve
                    .clone()
                    .or_else(|| v.ids.first().map(|i| i.text.clone()))
                else {
                    continue;
                };
                let mut any = false;
                for (status, product) in v.product_status.entries() {
                    any = true;
                    vulnerabilities.push(ward_store::IntelVulnerability {
                        cve: cve.clone(),
                        product_id: product.clone(),
                        status: status.to_string(),
                    });
                }
                if !any {
                    vulnerabilities.push(ward_store::IntelVulnerability {
                        cve,
                        product_id: String::new(),
                        status: "mentioned".into(),
                    });
                }
            }
        }
        D::Vex(v) => {
            publisher = v.author.clone().unwrap_or_default();
            version = v.version.clone().unwrap_or_default();
            for s in &v.statements {
                let status = serde_json::to_value(&s.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                vulnerabilities.push(ward_store::IntelVulnerability {
                    cve: s.vulnerability.clone(),
                    product_id: s.product.clone(),
                    status,
                });
            }
        }
        D::Kev(k) => {
            publisher = "CISA".into();
            version = k.catalog_version.clone().unwrap_or_default();
            for e in &k.entries {
                vulnerabilities.push(ward_store::IntelVulnerability {
                    cve: e.cve.clone(),
                    product_id: String::new(),
                    status: "known_exploited".into(),
                });
            }
        }
        D::Osv(o) => vulnerabilities.push(ward_store::IntelVulnerability {
            cve: o.id.clone(),
            product_id: String::new(),
            status: "mentioned".into(),
        }),
        D::Cve(c) => vulnerabilities.push(ward_store::IntelVulnerability {
            cve: c.id.clone(),
            product_id: String::new(),
            status: "mentioned".into(),
        }),
        D::Sbom(_) | D::Epss(_) => {}
    }
    vulnerabilities.sort_by(|a, b| {
        (&a.cve, &a.product_id, &a.status).cmp(&(&b.cve, &b.product_id, &b.status))
    });
    vulnerabilities.dedup();
    products.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    products.dedup_by(|a, b| a.product_id == b.product_id);
    Ok(ward_store::IntelDocument {
        kind: doc.kind().to_string(),
        doc_id: doc.id(),
        version,
        publisher,
        sha256: sha256.to_string(),
        provenance: serde_json::to_value(doc.provenance())?,
        document: serde_json::to_value(doc)?,
        products,
        vulnerabilities,
    })
}

/// Reads uploaded files (`(name, bytes)`) into store documents (the same records as a UI
/// import); the first bad file fails the request with its name and the reader's position.
fn read_files(files: &[(String, Vec<u8>)]) -> ApiResult<Vec<ward_store::IntelDocument>> {
    files
        .iter()
        .map(|(name, bytes)| {
            crate::ui::pipeline::intel_document(bytes, name)
                .map_err(|e| ApiError::bad_request(format!("{e:#}")))
        })
        .collect()
}

/// Collects the uploaded files of a request: every part of a multipart form (named by
/// its file name) or the raw body (named by `?name=`).
pub(crate) async fn uploaded_files(
    state: &AppState,
    req: Request,
    default_name: &str,
) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let name = req
        .uri()
        .query()
        .and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "name")
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_else(|| default_name.to_string());
    let mut files = Vec::new();
    let mut total = 0usize;
    if is_multipart {
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        while let Some(mut field) = mp
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?
        {
            if field.name() == Some("csrf") {
                continue;
            }
            let fname = field
                .file_name()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{default_name}-{}", files.len() + 1));
            // The whole request stays within the upload limit (axum's 2 MB default for
            // multipart bodies is lifted on the upload routes; this is the limit).
            let mut bytes = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| ApiError::bad_request(e.to_string()))?
            {
                total = total.saturating_add(chunk.len());
                if total > state.config.max_upload_bytes {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "the upload exceeds {} bytes (max_upload_bytes)",
                            state.config.max_upload_bytes
                        ),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            files.push((fname, bytes));
        }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), state.config.max_upload_bytes)
            .await
            .map_err(|e| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()))?;
        files.push((name, bytes.to_vec()));
    }
    if files.is_empty() || files.iter().all(|(_, b)| b.is_empty()) {
        return Err(ApiError::bad_request("no file uploaded"));
    }
    Ok(files)
}

/// Imports advisories, VEX, SBOMs, KEV ... (format detected). Multipart (any number of
/// files) or a raw body with `?name=FILE`. All files or none are stored.
#[utoipa::path(post, path = "/intel/import", tag = "intel", params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "What was imported"),
              (status = 400, description = "A file could not be read (named, with the position)")))]
async fn import_intel(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    req: Request,
) -> ApiResult<Response> {
    let files = uploaded_files(&state, req, "upload.json").await?;
    let docs = tokio::task::spawn_blocking(move || read_files(&files))
        .await
        .map_err(ApiError::internal)??;
    let report = state.store.import_intel(&docs, &user.actor()).await?;
    Ok(Json(report).into_response())
}
