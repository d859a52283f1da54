//! Intel documents: all-or-nothing imports and product/CVE lookups.

use crate::audit::{audit_append, canonical_json};
use crate::{
    now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, IntelDocument,
    IntelDocumentSummary, IntelImport, Result, Store, StoreError,
};
use sqlx::Row;

const CHUNK: usize = 1000;

const SUMMARY_COLUMNS: &str =
    "d.id, d.kind, d.doc_id, d.version, d.publisher, d.sha256, d.imported_at, d.imported_by";

fn summary_of<R: Row>(r: &R) -> Result<IntelDocumentSummary, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(IntelDocumentSummary {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        doc_id: r.try_get("doc_id")?,
        version: r.try_get("version")?,
        publisher: r.try_get("publisher")?,
        sha256: r.try_get("sha256")?,
        imported_at: r.try_get("imported_at")?,
        imported_by: r.try_get("imported_by")?,
    })
}

impl Store {
    /// Imports intel documents in one transaction: either every new document with its
    /// products and vulnerabilities becomes visible, or (on any error) none does.
    /// Documents whose SHA-256 is already stored are skipped.
    pub async fn import_intel(&self, docs: &[IntelDocument], actor: &Actor) -> Result<IntelImport> {
        for d in docs {
            if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(StoreError::invalid(
                    "intel document",
                    format!("{} {}: sha256 must be 64 hex digits", d.kind, d.doc_id),
                ));
            }
        }
        let now = now_micros();
        let out = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut out = IntelImport {
                imported: Vec::new(),
                already_present: 0,
            };
            for d in docs {
                let sha = d.sha256.to_ascii_lowercase();
                let exists = sqlx::query("SELECT id FROM intel_documents WHERE sha256 = $1")
                    .bind(&sha)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_some() {
                    out.already_present += 1;
                    continue;
                }
                let provenance = canonical_json(&d.provenance).unwrap_or_else(|| "null".into());
                let document = canonical_json(&d.document).unwrap_or_else(|| "null".into());
                let id: i64 = sqlx::query(
                    "INSERT INTO intel_documents (kind, doc_id, version, publisher, sha256, \
                     provenance, document, imported_at, imported_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(&d.kind)
                .bind(&d.doc_id)
                .bind(&d.version)
                .bind(&d.publisher)
                .bind(&sha)
                .bind(&provenance)
                .bind(&document)
                .bind(now)
                .bind(&actor.name)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                for chunk in d.products.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO intel_products (document, product_id, vendor, name, \
                         version, cpe, purl) ",
                    );
                    qb.push_values(chunk, |mut b, p| {
                        b.push_bind(id)
                            .push_bind(p.product_id.clone())
                            .push_bind(p.vendor.to_lowercase())
                            .push_bind(p.name.to_lowercase())
                            .push_bind(p.version.clone())
                            .push_bind(p.cpe.clone())
                            .push_bind(p.purl.clone());
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in d.vulnerabilities.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO intel_vulnerabilities (document, cve, product_id, status) ",
                    );
                    qb.push_values(chunk, |mut b, v| {
                        b.push_bind(id)
                            .push_bind(v.cve.clone())
                            .push_bind(v.product_id.clone())
                            .push_bind(v.status.clone());
                    });
                    qb.push(" ON CONFLICT DO NOTHING");
                    qb.build().execute(&mut *tx).await?;
                }
                let after = canonical_json(&serde_json::json!({
                    "kind": d.kind, "doc_id": d.doc_id, "version": d.version,
                    "publisher": d.publisher, "sha256": sha,
                    "products": d.products.len(), "vulnerabilities": d.vulnerabilities.len(),
                }));
                audit_append!(
                    tx,
                    actor,
                    "intel.import",
                    &format!("intel:{id}"),
                    None,
                    after
                )?;
                out.imported.push(id);
            }
            tx.commit().await?;
            out
        });
        Ok(out)
    }

    /// Number of stored intel documents.
    pub async fn intel_document_count(&self) -> Result<u64> {
        let n: i64 = with_read_pool!(self, |pool| {
            sqlx::query("SELECT count(*) FROM intel_documents")
                .fetch_one(pool)
                .await?
                .try_get(0)?
        });
        Ok(crate::u(n))
    }

    /// Stored documents that mention a CVE, newest import first.
    pub async fn intel_by_cve(&self, cve: &str) -> Result<Vec<IntelDocumentSummary>> {
        let sql = format!(
            "SELECT DISTINCT {SUMMARY_COLUMNS} FROM intel_documents d \
             JOIN intel_vulnerabilities v ON v.document = d.id WHERE v.cve = $1 \
             ORDER BY d.id DESC"
        );
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(cve)
                .fetch_all(pool)
                .await?
                .iter()
                .map(summary_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// Stored documents naming a product by vendor and name (case-insensitive, exact).
    pub async fn intel_by_product(
        &self,
        vendor: &str,
        name: &str,
    ) -> Result<Vec<IntelDocumentSummary>> {
        let sql = format!(
            "SELECT DISTINCT {SUMMARY_COLUMNS} FROM intel_documents d \
             JOIN intel_products p ON p.document = d.id WHERE p.vendor = $1 AND p.name = $2 \
             ORDER BY d.id DESC"
        );
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(vendor.to_lowercase())
                .bind(name.to_lowercase())
                .fetch_all(pool)
                .await?
                .iter()
                .map(summary_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// The normalised JSON of a stored document.
    pub async fn intel_document_json(&self, id: i64) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = with_read_pool!(self, |pool| {
            match sqlx::query("SELECT document FROM intel_documents WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Some(r.try_get::<String, _>(0)?),
                None => None,
            }
        });
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| StoreError::json(format!("intel_documents.document of {id}"), e))
        })
        .transpose()
    }
}
