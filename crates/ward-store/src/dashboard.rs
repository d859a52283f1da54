//! Read-side aggregates and listings for the web UI and the posture report: counts by
//! category and criticality, findings with their devices, connections, intel documents,
//! users, jobs and saved inventory filters.

use crate::{
    u, with_read_pool, with_write_pool, Finding, FindingStatus, IntelDocumentSummary, JobState,
    Result, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Devices of one (category, criticality) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCount {
    pub category: String,
    pub criticality: String,
    pub devices: u64,
}

/// A finding with the device it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    pub finding: Finding,
    pub device_name: String,
    pub site: String,
    pub category: String,
    pub criticality: String,
    pub model: String,
    pub vendor: String,
}

/// Which findings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRowQuery {
    pub status: Option<String>,
    pub site: Option<String>,
    pub device_id: Option<String>,
    pub vulnerability: Option<String>,
    pub limit: u32,
}

/// An identified connection as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRow {
    pub site: String,
    pub client: String,
    pub server: String,
    pub transport: String,
    pub server_port: i64,
    pub client_device: Option<String>,
    pub server_device: Option<String>,
    pub protocol: String,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// A user with roles, for the administration page (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserOverview {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    /// `role` or `role@site`.
    pub roles: Vec<String>,
}

/// A saved inventory filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFilter {
    pub owner: String,
    pub name: String,
    /// The inventory query string (`category=...&q=...`).
    pub query: String,
}

impl Store {
    /// Devices by (category, criticality); `''` where unknown.
    pub async fn device_counts(&self, site: Option<&str>) -> Result<Vec<CategoryCount>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT category, criticality, count(*) AS n FROM devices \
                 WHERE ($1 = '' OR site = $1) GROUP BY category, criticality \
                 ORDER BY category, criticality",
            )
            .bind(site.unwrap_or(""))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(CategoryCount {
                    category: r.try_get("category")?,
                    criticality: r.try_get("criticality")?,
                    devices: u(r.try_get("n")?),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Devices first seen per day (day = micros / [`MICROS_PER_DAY`]), oldest first.
    pub async fn devices_first_seen_by_day(&self, site: Option<&str>) -> Result<Vec<(i64, u64)>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT first_seen / 86400000000 AS day, count(*) AS n FROM devices \
                 WHERE ($1 = '' OR site = $1) GROUP BY first_seen / 86400000000 ORDER BY day",
            )
            .bind(site.unwrap_or(""))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>("day")?, u(r.try_get("n")?))))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Devices first seen at or after `since` (micros).
    pub async fn count_devices_since(&self, since: i64, site: Option<&str>) -> Result<u64> {
        let n: i64 = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT count(*) FROM devices WHERE first_seen >= $1 AND ($2 = '' OR site = $2)",
            )
            .bind(since)
            .bind(site.unwrap_or(""))
            .fetch_one(pool)
            .await?
            .try_get(0)?
        });
        Ok(u(n))
    }

    /// Findings with their devices, newest change first.
    pub async fn finding_rows(&self, q: &FindingRowQuery) -> Result<Vec<FindingRow>> {
        if let Some(s) = &q.status {
            if FindingStatus::parse(s).is_none() {
                return Err(StoreError::invalid(
                    "finding status",
                    format!("unknown status {s:?}"),
                ));
            }
        }
        let limit = i64::from(q.limit.clamp(1, 100_000));
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT f.id, f.device_id, f.vulnerability, f.document, f.status, f.reason, \
                 f.accepted_until, f.confidence, f.explanation, f.created_at, f.updated_at, \
                 d.name AS device_name, d.site AS site, d.category AS category, \
                 d.criticality AS criticality, d.model AS model, d.vendor AS vendor \
                 FROM findings f JOIN devices d ON d.id = f.device_id \
                 WHERE ($1 = '' OR f.status = $1) AND ($2 = '' OR d.site = $2) \
                 AND ($3 = '' OR f.device_id = $3) AND ($4 = '' OR f.vulnerability = $4) \
                 ORDER BY f.updated_at DESC, f.id LIMIT $5",
            )
            .bind(q.status.as_deref().unwrap_or(""))
            .bind(q.site.as_deref().unwrap_or(""))
            .bind(q.device_id.as_deref().unwrap_or(""))
            .bind(q.vulnerability.as_deref().unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                let explanation: String = r.try_get("explanation")?;
                let status: String = r.try_get("status")?;
                Ok(FindingRow {
                    finding: Finding {
                        id: r.try_get("id")?,
                        device_id: r.try_get("device_id")?,
                        vulnerability: r.try_get("vulnerability")?,
                        document: r.try_get("document")?,
                        status: FindingStatus::parse(&status).unwrap_or(FindingStatus::Open),
                        reason: r.try_get("reason")?,
                        accepted_until: r.try_get("accepted_until")?,
                        confidence: r.try_get("confidence")?,
                        explanation: serde_json::from_str(&explanation)
                            .unwrap_or(serde_json::Value::Null),
                        created_at: r.try_get("created_at")?,
                        updated_at: r.try_get("updated_at")?,
                    },
                    device_name: r.try_get("device_name")?,
                    site: r.try_get("site")?,
                    category: r.try_get("category")?,
                    criticality: r.try_get("criticality")?,
                    model: r.try_get("model")?,
                    vendor: r.try_get("vendor")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// All finding status changes since `since` (micros): (ts, from, to), oldest first.
    pub async fn finding_changes_since(
        &self,
        since: i64,
    ) -> Result<Vec<(i64, Option<String>, String)>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT ts, from_status, to_status FROM finding_history WHERE ts >= $1 ORDER BY ts, id",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("ts")?, r.try_get("from_status")?, r.try_get("to_status")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Identified connections of a site (or all), or of one device, at most `limit`.
    pub async fn connection_rows(
        &self,
        site: Option<&str>,
        device: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConnectionRow>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT site, client, server, transport, server_port, client_device, server_device, \
                 protocol, first_seen, last_seen FROM connections \
                 WHERE ($1 = '' OR site = $1) AND ($2 = '' OR client_device = $2 OR server_device = $2) \
                 ORDER BY site, client, server, transport, server_port LIMIT $3",
            )
            .bind(site.unwrap_or(""))
            .bind(device.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ConnectionRow {
                    site: r.try_get("site")?,
                    client: r.try_get("client")?,
                    server: r.try_get("server")?,
                    transport: r.try_get("transport")?,
                    server_port: r.try_get("server_port")?,
                    client_device: r.try_get("client_device")?,
                    server_device: r.try_get("server_device")?,
                    protocol: r.try_get("protocol")?,
                    first_seen: r.try_get("first_seen")?,
                    last_seen: r.try_get("last_seen")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Imported intel documents, newest first.
    pub async fn list_intel_documents(&self, limit: u32) -> Result<Vec<IntelDocumentSummary>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT id, kind, doc_id, version, publisher, sha256, imported_at, imported_by \
                 FROM intel_documents ORDER BY imported_at DESC, id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
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
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Users with their roles.
    pub async fn users_overview(&self) -> Result<Vec<UserOverview>> {
        let out = with_read_pool!(self, |pool| {
            let users = sqlx::query(
                "SELECT id, username, display_name, disabled FROM users ORDER BY username",
            )
            .fetch_all(pool)
            .await?;
            let roles =
                sqlx::query("SELECT user_id, role, site FROM user_roles ORDER BY role, site")
                    .fetch_all(pool)
                    .await?;
            let mut out = Vec::with_capacity(users.len());
            for r in &users {
                let id: String = r.try_get("id")?;
                let mut rs = Vec::new();
                for x in &roles {
                    if x.try_get::<String, _>("user_id")? == id {
                        let role: String = x.try_get("role")?;
                        let site: String = x.try_get("site")?;
                        rs.push(if site.is_empty() {
                            role
                        } else {
                            format!("{role}@{site}")
                        });
                    }
                }
                out.push(UserOverview {
                    id,
                    username: r.try_get("username")?,
                    display_name: r.try_get("display_name")?,
                    disabled: r.try_get::<i64, _>("disabled")? != 0,
                    roles: rs,
                });
            }
            out
        });
        Ok(out)
    }

    /// All jobs, by next run.
    pub async fn list_jobs(&self) -> Result<Vec<JobState>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT id, kind, state, run_after, lease_owner, lease_until, attempts, last_error, \
                 last_run_at FROM jobs ORDER BY run_after, id LIMIT 500",
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(JobState {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    state: r.try_get("state")?,
                    run_after: r.try_get("run_after")?,
                    lease_owner: r.try_get("lease_owner")?,
                    lease_until: r.try_get("lease_until")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    last_run_at: r.try_get("last_run_at")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Saves (or replaces) a named inventory filter of `owner`.
    pub async fn save_filter(&self, f: &SavedFilter) -> Result<()> {
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::invalid(
                "saved filter",
                "the name must be 1 to 100 characters",
            ));
        }
        if f.query.len() > 2000 {
            return Err(StoreError::invalid(
                "saved filter",
                "the filter is too long",
            ));
        }
        with_write_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO saved_filters (owner, name, query, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (owner, name) DO UPDATE SET query = excluded.query",
            )
            .bind(&f.owner)
            .bind(name)
            .bind(&f.query)
            .bind(crate::now_micros())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The saved filters of `owner`, by name.
    pub async fn saved_filters(&self, owner: &str) -> Result<Vec<SavedFilter>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT owner, name, query FROM saved_filters WHERE owner = $1 ORDER BY name",
            )
            .bind(owner)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(SavedFilter {
                    owner: r.try_get("owner")?,
                    name: r.try_get("name")?,
                    query: r.try_get("query")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Deletes a saved filter; true when it existed.
    pub async fn delete_filter(&self, owner: &str, name: &str) -> Result<bool> {
        let n = with_write_pool!(self, |pool| {
            sqlx::query("DELETE FROM saved_filters WHERE owner = $1 AND name = $2")
                .bind(owner)
                .bind(name)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}

/// Matches above which a search term counts as common: the listing then walks the sort
/// index and checks each device (quick, since matches are dense) instead of the trigram
/// index, and the total is shown as "more than".
pub const SEARCH_EXACT_LIMIT: u64 = 20_000;

/// A page of an inventory search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSearch {
    pub page: crate::DevicePage,
    /// Set when more than this many devices match (the total is then not counted).
    pub more_than: Option<u64>,
}

/// Prefix of the offset cursors of indexed search pages.
const SEARCH_CURSOR: &str = "s";

fn device_sort_column(s: crate::DeviceSort) -> &'static str {
    use crate::DeviceSort as S;
    match s {
        S::Name => "name",
        S::Site => "site",
        S::Category => "category",
        S::Criticality => "criticality_rank",
        S::Vendor => "vendor",
        S::Model => "model",
        S::SoftwareVersion => "software_version",
        S::Hostname => "hostname",
        S::FirstSeen => "first_seen",
        S::LastSeen => "last_seen",
    }
}

/// An FTS5 phrase matching `text` as a substring (with the trigram tokenizer).
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// `LIKE` pattern matching `text` anywhere (wildcards escaped with `\`).
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn words(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

impl Store {
    /// The inventory listing with an index-backed free-text search (`q.text`).
    ///
    /// SQLite: a term of three or more characters is looked up in the trigram index
    /// (`devices_fts`, migration 0005). When at most [`SEARCH_EXACT_LIMIT`] devices match,
    /// those are filtered, sorted and paged (offset cursors `s<offset>`) and counted
    /// exactly; a more common term is listed by [`Store::list_devices`] along the sort
    /// index (dense matches come quickly) with `more_than` set instead of a count.
    /// Without a term, with a shorter one, or on PostgreSQL (whose `search LIKE` is served
    /// by the pg_trgm index of migration 0005 where available) this is
    /// [`Store::list_devices`].
    pub async fn search_devices(&self, q: &crate::DeviceQuery) -> Result<DeviceSearch> {
        self.search_devices_with_limit(q, SEARCH_EXACT_LIMIT).await
    }

    /// [`Store::search_devices`] with another bound than [`SEARCH_EXACT_LIMIT`] between
    /// the indexed listing and the scan (for tests and tuning).
    pub async fn search_devices_with_limit(
        &self,
        q: &crate::DeviceQuery,
        exact_limit: u64,
    ) -> Result<DeviceSearch> {
        let plain = |page| DeviceSearch {
            page,
            more_than: None,
        };
        let text = q
            .text
            .as_deref()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| t.chars().count() >= 3);
        let (Some(text), crate::Backend::Sqlite { read: pool, .. }) = (text, &self.backend) else {
            return Ok(plain(self.list_devices(q).await?));
        };
        let offset = match q.after.as_deref() {
            None => 0,
            Some(c) => match c.strip_prefix(SEARCH_CURSOR).map(str::parse::<u64>) {
                Some(Ok(n)) => n,
                // A keyset cursor from a common-term listing.
                _ => return Ok(plain(self.list_devices(q).await?)),
            },
        };
        // One trigram lookup for the candidates (the index read is the costly part: the
        // phrase's common trigrams have long lists), then the page and the count over them.
        let cap = crate::i(exact_limit.saturating_add(1));
        let rowids: Vec<i64> =
            sqlx::query_scalar("SELECT rowid FROM devices_fts WHERE devices_fts MATCH ?1 LIMIT ?2")
                .bind(fts_phrase(&text))
                .bind(cap)
                .fetch_all(pool)
                .await?;
        if q.after.is_none() && rowids.len() as i64 >= cap {
            let mut common = q.clone();
            common.with_total = false;
            return Ok(DeviceSearch {
                page: self.list_devices(&common).await?,
                more_than: Some(exact_limit),
            });
        }
        let rowids = serde_json::to_string(&rowids).unwrap_or_else(|_| "[]".into());
        let limit = i64::from(q.limit.clamp(1, 1000));
        let col = device_sort_column(q.sort);
        let dir = if q.descending { "DESC" } else { "ASC" };
        let stale = q.stale.map(i64::from);
        // CROSS JOIN keeps the candidates as the outer loop; `search LIKE` rechecks each
        // so an index out of step can never add a wrong device.
        let filters = |qb: &mut sqlx::QueryBuilder<sqlx::Sqlite>| {
            qb.push(" FROM json_each(")
                .push_bind(rowids.clone())
                .push(") AS c CROSS JOIN devices d ON d.rowid = c.value")
                .push(" WHERE d.search LIKE ")
                .push_bind(contains_pattern(&text))
                .push(" ESCAPE '\\'");
            if let Some(s) = &q.site {
                qb.push(" AND d.site = ").push_bind(s.clone());
            }
            if let Some(c) = &q.category {
                qb.push(" AND d.category = ").push_bind(c.clone());
            }
            if let Some(v) = &q.vendor {
                qb.push(" AND d.vendor = ").push_bind(v.clone());
            }
            if let Some(s) = stale {
                qb.push(" AND d.stale = ").push_bind(s);
            }
        };
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT d.id, d.site, d.name, d.category, d.criticality, d.vendor, d.model, d.os, \
             d.firmware_version, d.software_version, d.hostname, d.macs, d.ips, d.is_router, \
             d.first_seen, d.last_seen, d.stale",
        );
        filters(&mut qb);
        qb.push(format!(" ORDER BY d.{col} {dir}, d.id {dir} LIMIT "))
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(crate::i(offset));
        let rows = qb.build().fetch_all(pool).await?;
        let mut devices = Vec::with_capacity(rows.len());
        for r in &rows {
            devices.push(crate::DeviceSummary {
                id: r.try_get("id")?,
                site: r.try_get("site")?,
                name: r.try_get("name")?,
                category: nonempty(r.try_get("category")?),
                criticality: nonempty(r.try_get("criticality")?),
                vendor: nonempty(r.try_get("vendor")?),
                model: nonempty(r.try_get("model")?),
                os: nonempty(r.try_get("os")?),
                firmware_version: nonempty(r.try_get("firmware_version")?),
                software_version: nonempty(r.try_get("software_version")?),
                hostname: nonempty(r.try_get("hostname")?),
                macs: words(&r.try_get::<String, _>("macs")?),
                ips: words(&r.try_get::<String, _>("ips")?),
                is_router: r.try_get::<i64, _>("is_router")? != 0,
                first_seen: r.try_get("first_seen")?,
                last_seen: r.try_get("last_seen")?,
                stale: r.try_get::<i64, _>("stale")? != 0,
            });
        }
        let total = if q.with_total {
            let mut cq = sqlx::QueryBuilder::new("SELECT count(*)");
            filters(&mut cq);
            let n: i64 = cq.build().fetch_one(pool).await?.try_get(0)?;
            Some(u(n))
        } else {
            None
        };
        let shown = offset + devices.len() as u64;
        let next_cursor = (devices.len() as i64 == limit && total.is_none_or(|t| shown < t))
            .then(|| format!("{SEARCH_CURSOR}{shown}"));
        Ok(DeviceSearch {
            page: crate::DevicePage {
                devices,
                total,
                next_cursor,
            },
            more_than: None,
        })
    }
}
