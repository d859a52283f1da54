//! Documents attached to a device (MDS2 form, security white paper, SBOM file, manual):
//! list, upload (multipart), download (always as an attachment, with `nosniff`) and
//! delete. The device must be one the caller may see (its site); every change is audited
//! by the store.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_store::{DeviceDocument, NewDeviceDocument, MAX_DOCUMENT_BYTES};

/// Room for the multipart framing and the small fields around the file.
const FORM_OVERHEAD: usize = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_documents, upload_document))
        .routes(routes!(download_document, delete_document))
        .layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + FORM_OVERHEAD))
}

/// The device if it exists and the caller may see its site (else 404).
pub(crate) async fn visible_device(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: &str,
) -> ApiResult<ward_store::DeviceDetail> {
    match state.store.device(id).await? {
        Some(d) if user.is_none_or(|u| u.may_see_site(&d.summary.site)) => Ok(d),
        _ => Err(ApiError::not_found("device")),
    }
}

/// The document `doc` of device `id` (also one attached to a device merged into it).
pub(crate) async fn document_of_device(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: &str,
    doc: i64,
) -> ApiResult<DeviceDocument> {
    visible_device(state, user, id).await?;
    state
        .store
        .device_documents(id)
        .await?
        .into_iter()
        .find(|d| d.id == doc)
        .ok_or_else(|| ApiError::not_found("document"))
}

/// Reads the upload form: `kind`, optional `note`, and one `file` part (its file name and
/// content type are kept). Any other field (the page's `csrf`) is ignored. The file is
/// read chunk by chunk and refused once it passes the limit.
pub(crate) async fn read_document_form(
    mut mp: Multipart,
    device_id: &str,
) -> ApiResult<NewDeviceDocument> {
    let mut doc = NewDeviceDocument {
        device_id: device_id.to_string(),
        ..NewDeviceDocument::default()
    };
    let mut have_file = false;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("the form could not be read: {e}"))
    };
    while let Some(mut field) = mp.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "kind" => doc.kind = field.text().await.map_err(unreadable)?.trim().to_string(),
            "note" => doc.note = field.text().await.map_err(unreadable)?,
            "file" => {
                if have_file {
                    return Err(ApiError::bad_request("upload one file at a time"));
                }
                have_file = true;
                doc.file_name = field.file_name().unwrap_or("").to_string();
                doc.media_type = field.content_type().unwrap_or("").to_string();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    if doc.content.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                        return Err(ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!(
                                "the file is larger than the limit of {} MiB",
                                MAX_DOCUMENT_BYTES >> 20
                            ),
                        ));
                    }
                    doc.content.extend_from_slice(&chunk);
                }
            }
            _ => {}
        }
    }
    if !have_file || doc.content.is_empty() {
        return Err(ApiError::bad_request("choose a non-empty file"));
    }
    if doc.kind.is_empty() {
        return Err(ApiError::bad_request("choose the kind of document"));
    }
    Ok(doc)
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the exact name in
/// RFC 8187 encoding.
pub(crate) fn attachment_disposition(file_name: &str) -> HeaderValue {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The download answer: the stored bytes as an attachment, never rendered by the browser.
pub(crate) fn download_response(doc: &DeviceDocument, content: Vec<u8>) -> Response {
    let media = HeaderValue::from_str(&doc.media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let mut r = (StatusCode::OK, content).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, media);
    h.insert(
        header::CONTENT_DISPOSITION,
        attachment_disposition(&doc.file_name),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The documents attached to a device, newest first (metadata only).
#[utoipa::path(get, path = "/devices/{id}/documents", tag = "documents",
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, description = "The documents' metadata"),
              (status = 404, description = "No such device")))]
async fn list_documents(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    visible_device(&state, Some(&user), &id).await?;
    Ok(Json(state.store.device_documents(&id).await?).into_response())
}

/// Attaches a document to a device: multipart with `kind` (mds2, security_white_paper,
/// sbom, manual, other), an optional `note` and one `file` (at most 10 MiB; no patient
/// data).
#[utoipa::path(post, path = "/devices/{id}/documents", tag = "documents",
    params(("id" = String, Path, description = "Device id")),
    request_body(content = Vec<u8>, content_type = "multipart/form-data"),
    responses((status = 201, description = "The stored document's metadata"),
              (status = 400, description = "A field is missing or invalid"),
              (status = 404, description = "No such device"),
              (status = 413, description = "The file is larger than 10 MiB")))]
async fn upload_document(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    visible_device(&state, Some(&user), &id).await?;
    let mp = mp.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let doc = read_document_form(mp, &id).await?;
    let stored = state
        .store
        .attach_device_document(&doc, &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

/// Downloads a document: its bytes as an attachment with the stored media type and
/// `X-Content-Type-Options: nosniff`.
#[utoipa::path(get, path = "/devices/{id}/documents/{doc}", tag = "documents",
    params(("id" = String, Path, description = "Device id"),
           ("doc" = i64, Path, description = "Document id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
              (status = 404, description = "No such device or document")))]
async fn download_document(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, doc)): Path<(String, i64)>,
) -> ApiResult<Response> {
    document_of_device(&state, Some(&user), &id, doc).await?;
    let (meta, content) = state
        .store
        .device_document_content(doc)
        .await?
        .ok_or_else(|| ApiError::not_found("document"))?;
    Ok(download_response(&meta, content))
}

/// Deletes a document (audited with its metadata).
#[utoipa::path(delete, path = "/devices/{id}/documents/{doc}", tag = "documents",
    params(("id" = String, Path, description = "Device id"),
           ("doc" = i64, Path, description = "Document id")),
    responses((status = 200, description = "The deleted document's metadata"),
              (status = 404, description = "No such device or document")))]
async fn delete_document(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, doc)): Path<(String, i64)>,
) -> ApiResult<Response> {
    document_of_device(&state, Some(&user), &id, doc).await?;
    let gone = state
        .store
        .delete_device_document(doc, &user.actor())
        .await?;
    Ok(Json(gone).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_quote_nothing_dangerous() {
        let v = attachment_disposition("a\"b\\c\r\nd é.pdf");
        assert_eq!(
            v.to_str().expect("ascii header"),
            "attachment; filename=\"a_b_c__d _.pdf\"; filename*=UTF-8''a%22b%5Cc%0D%0Ad%20%C3%A9.pdf"
        );
    }
}
