//! Read-only listings the API needs beyond the per-object getters: findings across
//! devices (filtered by status and site) and a site's identified connections.

use crate::{with_read_pool, Finding, FindingStatus, Result, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A findings listing request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingQuery {
    pub status: Option<FindingStatus>,
    /// Only findings of devices of this site.
    pub site: Option<String>,
    pub device_id: Option<String>,
    pub vulnerability: Option<String>,
    /// Page size (clamped to 1..=1000; 0 means 100).
    pub limit: u32,
    pub offset: u64,
}

/// An identified connection of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConnection {
    pub site: String,
    pub client: String,
    pub server: String,
    pub transport: String,
    pub server_port: i64,
    pub client_device: Option<String>,
    pub server_device: Option<String>,
    pub protocol: String,
    pub detail: serde_json::Value,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl Store {
    /// Findings, most recently changed first.
    pub async fn list_findings(&self, q: &FindingQuery) -> Result<Vec<Finding>> {
        let limit = match q.limit {
            0 => 100,
            n => n.min(1000),
        };
        let ids: Vec<String> = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT f.id FROM findings f JOIN devices d ON d.id = f.device_id \
                 WHERE ($1 = '' OR f.status = $1) AND ($2 = '' OR d.site = $2) \
                 AND ($3 = '' OR f.device_id = $3) AND ($4 = '' OR f.vulnerability = $4) \
                 ORDER BY f.updated_at DESC, f.id LIMIT $5 OFFSET $6",
            )
            .bind(q.status.map(|s| s.as_str()).unwrap_or(""))
            .bind(q.site.as_deref().unwrap_or(""))
            .bind(q.device_id.as_deref().unwrap_or(""))
            .bind(q.vulnerability.as_deref().unwrap_or(""))
            .bind(i64::from(limit))
            .bind(crate::i(q.offset))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<Result<Vec<_>, _>>()?
        });
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(f) = self.finding(&id).await? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// The identified connections of a site, by client and server.
    pub async fn site_connections(&self, site: &str) -> Result<Vec<StoredConnection>> {
        let out = with_read_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT site, client, server, transport, server_port, client_device, \
                 server_device, protocol, detail, first_seen, last_seen FROM connections \
                 WHERE site = $1 ORDER BY client, server, transport, server_port",
            )
            .bind(site)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let detail: String = r.try_get("detail")?;
                out.push(StoredConnection {
                    site: r.try_get("site")?,
                    client: r.try_get("client")?,
                    server: r.try_get("server")?,
                    transport: r.try_get("transport")?,
                    server_port: r.try_get("server_port")?,
                    client_device: r.try_get("client_device")?,
                    server_device: r.try_get("server_device")?,
                    protocol: r.try_get("protocol")?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                    first_seen: r.try_get("first_seen")?,
                    last_seen: r.try_get("last_seen")?,
                });
            }
            out
        });
        Ok(out)
    }
}
