//! Documents people attach to a device: the MDS2 form, the manufacturer's security white
//! paper, an SBOM file, a manual. They are non-patient files kept in the database itself
//! (BLOB / BYTEA), so both backends and every server replica serve the same bytes; each
//! is at most [`MAX_DOCUMENT_BYTES`]. Attaching and deleting are audited in the same
//! transaction (the audit entry has the metadata and the SHA-256, never the content).
//!
//! Also here: the SBOMs among the stored intel documents, which the device page matches
//! to a device by the SBOM's subject (vendor and model).

use crate::audit::{audit_append, canonical_json};
use crate::{
    now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, IntelDocumentSummary, Result,
    Store, StoreError,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// The largest document the store accepts (10 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// The kinds of device documents, with a label for people.
pub const DOCUMENT_KINDS: &[(&str, &str)] = &[
    ("mds2", "MDS2 form"),
    ("security_white_paper", "Manufacturer security white paper"),
    ("sbom", "SBOM file"),
    ("manual", "Manual"),
    ("other", "Other"),
];

/// A document to attach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDeviceDocument {
    pub device_id: String,
    /// One of [`DOCUMENT_KINDS`].
    pub kind: String,
    pub file_name: String,
    /// The media type the uploader gave (`application/pdf` ...); served back as such only
    /// with `nosniff` and as an attachment.
    pub media_type: String,
    pub note: String,
    pub content: Vec<u8>,
}

/// A stored document's metadata (the content is fetched separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDocument {
    pub id: i64,
    pub device_id: String,
    pub kind: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub note: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

const COLUMNS: &str =
    "id, device_id, kind, file_name, media_type, size, sha256, note, uploaded_by, uploaded_at";

fn document_of<R: Row>(r: &R) -> Result<DeviceDocument, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(DeviceDocument {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        kind: r.try_get("kind")?,
        file_name: r.try_get("file_name")?,
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        note: r.try_get("note")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

fn audit_view(d: &DeviceDocument) -> serde_json::Value {
    serde_json::json!({
        "device_id": d.device_id, "kind": d.kind, "file_name": d.file_name,
        "media_type": d.media_type, "size": d.size, "sha256": d.sha256, "note": d.note,
    })
}

/// A file name as given, checked: 1 to 255 characters, no path, no control characters.
fn checked_file_name(name: &str) -> Result<String> {
    let name = name.trim();
    let bad = |why: &str| Err(StoreError::invalid("document file name", why.to_string()));
    if name.is_empty() {
        return bad("the file has no name");
    }
    if name.chars().count() > 255 {
        return bad("the file name is longer than 255 characters");
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return bad("the file name contains a path or control characters");
    }
    if name == "." || name == ".." {
        return bad("the file name is not a name");
    }
    Ok(name.to_string())
}

/// A media type `type/subtype` (parameters dropped), lower case; anything else is
/// `application/octet-stream`.
pub fn normalise_media_type(given: &str) -> String {
    let essence = given
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((t, s)) if token(t) && token(s) => essence,
        _ => "application/octet-stream".into(),
    }
}

impl Store {
    /// Attaches a document to a device (audited as `document.attach`). Errors: an unknown
    /// device is `NotFound`; an unknown kind, a bad file name, an empty file or one over
    /// [`MAX_DOCUMENT_BYTES`] or a note over 1000 characters are `Invalid`.
    pub async fn attach_device_document(
        &self,
        doc: &NewDeviceDocument,
        actor: &Actor,
    ) -> Result<DeviceDocument> {
        if !DOCUMENT_KINDS.iter().any(|(k, _)| *k == doc.kind) {
            return Err(StoreError::invalid(
                "document kind",
                format!(
                    "{:?} is not one of {}",
                    doc.kind,
                    DOCUMENT_KINDS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let file_name = checked_file_name(&doc.file_name)?;
        if doc.content.is_empty() {
            return Err(StoreError::invalid("document", "the file is empty"));
        }
        if doc.content.len() > MAX_DOCUMENT_BYTES {
            return Err(StoreError::invalid(
                "document",
                format!(
                    "the file has {} bytes; the limit is {} MiB",
                    doc.content.len(),
                    MAX_DOCUMENT_BYTES >> 20
                ),
            ));
        }
        let note = doc.note.trim().to_string();
        if note.chars().count() > 1000 || note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(StoreError::invalid(
                "document note",
                "at most 1000 characters, no control characters",
            ));
        }
        let media_type = normalise_media_type(&doc.media_type);
        let sha256 = hex::encode(Sha256::digest(&doc.content));
        let size = i64::try_from(doc.content.len()).unwrap_or(i64::MAX);
        let now = now_micros();
        let stored = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let exists = sqlx::query("SELECT 1 FROM devices WHERE id = $1")
                .bind(&doc.device_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound {
                    what: "device",
                    id: doc.device_id.clone(),
                });
            }
            let id: i64 = sqlx::query(
                "INSERT INTO device_documents (device_id, kind, file_name, media_type, size, \
                 sha256, note, uploaded_by, uploaded_at, content) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(&doc.device_id)
            .bind(&doc.kind)
            .bind(&file_name)
            .bind(&media_type)
            .bind(size)
            .bind(&sha256)
            .bind(&note)
            .bind(&actor.name)
            .bind(now)
            .bind(&doc.content)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let stored = DeviceDocument {
                id,
                device_id: doc.device_id.clone(),
                kind: doc.kind.clone(),
                file_name,
                media_type,
                size,
                sha256,
                note,
                uploaded_by: actor.name.clone(),
                uploaded_at: now,
            };
            let after = canonical_json(&audit_view(&stored));
            audit_append!(
                tx,
                actor,
                "document.attach",
                &format!("device_document:{id}"),
                None,
                after
            )?;
            tx.commit().await?;
            stored
        });
        Ok(stored)
    }

    /// The documents of a device, newest first, including those attached to devices that
    /// were merged into it.
    pub async fn device_documents(&self, device_id: &str) -> Result<Vec<DeviceDocument>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM device_documents WHERE device_id = $1 \
             OR device_id IN (SELECT alias FROM device_merges WHERE target = $1) \
             ORDER BY uploaded_at DESC, id DESC"
        );
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(device_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(document_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// One document's metadata.
    pub async fn device_document(&self, id: i64) -> Result<Option<DeviceDocument>> {
        let sql = format!("SELECT {COLUMNS} FROM device_documents WHERE id = $1");
        let out = with_read_pool!(self, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Some(document_of(&r)?),
                None => None,
            }
        });
        Ok(out)
    }

    /// One document with its content.
    pub async fn device_document_content(
        &self,
        id: i64,
    ) -> Result<Option<(DeviceDocument, Vec<u8>)>> {
        let sql = format!("SELECT {COLUMNS}, content FROM device_documents WHERE id = $1");
        let out = with_read_pool!(self, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Some((document_of(&r)?, r.try_get::<Vec<u8>, _>("content")?)),
                None => None,
            }
        });
        Ok(out)
    }

    /// Deletes a document (audited as `document.delete`, with its metadata as the
    /// before-image). An unknown id is `NotFound`.
    pub async fn delete_device_document(&self, id: i64, actor: &Actor) -> Result<DeviceDocument> {
        let select = format!("SELECT {COLUMNS} FROM device_documents WHERE id = $1");
        let gone = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query(sqlx::AssertSqlSafe(select))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Err(StoreError::NotFound {
                    what: "document",
                    id: id.to_string(),
                });
            };
            let before = document_of(&row)?;
            sqlx::query("DELETE FROM device_documents WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let before_json = canonical_json(&audit_view(&before));
            audit_append!(
                tx,
                actor,
                "document.delete",
                &format!("device_document:{id}"),
                before_json,
                None
            )?;
            tx.commit().await?;
            before
        });
        Ok(gone)
    }

    /// The stored intel documents of kind `sbom` with their stored JSON (the device page
    /// matches them to devices), newest import first, at most `limit`. A non-empty
    /// `contains` keeps only documents whose stored text contains it (case-insensitive):
    /// a cheap pre-filter by a device's model name before the caller parses the SBOMs.
    pub async fn sbom_intel_documents(
        &self,
        contains: &str,
        limit: u32,
    ) -> Result<Vec<(IntelDocumentSummary, serde_json::Value)>> {
        let mut pattern = String::from("%");
        for c in contains.to_lowercase().chars() {
            if matches!(c, '\\' | '%' | '_') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let rows = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT id, kind, doc_id, version, publisher, sha256, imported_at, imported_by, \
                 document FROM intel_documents WHERE kind = 'sbom' \
                 AND lower(document) LIKE $2 ESCAPE '\\' ORDER BY id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .bind(&pattern)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    IntelDocumentSummary {
                        id: r.try_get("id")?,
                        kind: r.try_get("kind")?,
                        doc_id: r.try_get("doc_id")?,
                        version: r.try_get("version")?,
                        publisher: r.try_get("publisher")?,
                        sha256: r.try_get("sha256")?,
                        imported_at: r.try_get("imported_at")?,
                        imported_by: r.try_get("imported_by")?,
                    },
                    r.try_get::<String, _>("document")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        rows.into_iter()
            .map(|(s, text)| {
                let json = serde_json::from_str(&text).map_err(|e| {
                    StoreError::json(format!("intel_documents.document of {}", s.id), e)
                })?;
                Ok((s, json))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_normalised() {
        assert_eq!(normalise_media_type("Application/PDF"), "application/pdf");
        assert_eq!(
            normalise_media_type("text/plain; charset=utf-8"),
            "text/plain"
        );
        assert_eq!(normalise_media_type(""), "application/octet-stream");
        assert_eq!(
            normalise_media_type("text/html\r\nX-Evil: 1"),
            "application/octet-stream"
        );
        assert_eq!(normalise_media_type("no-slash"), "application/octet-stream");
    }

    #[test]
    fn file_names_are_checked() {
        assert!(checked_file_name("MDS2 form.pdf").is_ok());
        for bad in ["", "  ", "../etc/passwd", "a\\b", "a\nb", ".."] {
            assert!(checked_file_name(bad).is_err(), "{bad:?}");
        }
        assert!(checked_file_name(&"x".repeat(256)).is_err());
    }
}
