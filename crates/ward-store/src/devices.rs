//! Devices: inventory writes, manual overrides (which win over inference), listings with
//! filters, sorting and pagination.

use crate::audit::{audit_append, canonical_json};
use crate::counts::CountKey;
use crate::fastread::Sql;
use crate::{
    i, now_micros, u, with_read_pool, with_write_pool, Actor, BeginWrite, DevicePage, DeviceQuery,
    DeviceRecord, DeviceSort, DeviceSummary, Result, Store, StoreError, DEVICE_COLUMNS,
};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use ward_identify::{AttrKind, Category, Criticality, Inventory, ManualOverride};
use ward_model::Timestamp;

/// Rows per multi-row device INSERT (22 columns).
const CHUNK: usize = 500;

/// The column values of a device after applying overrides.
pub(crate) struct Effective {
    pub(crate) name: String,
    pub(crate) cols: BTreeMap<&'static str, String>,
    pub(crate) criticality: String,
    pub(crate) rank: i64,
    pub(crate) search: String,
}

fn criticality_rank(c: Criticality) -> i64 {
    match c {
        Criticality::Low => 1,
        Criticality::Medium => 2,
        Criticality::High => 3,
        Criticality::Critical => 4,
    }
}

pub(crate) fn effective(
    inferred: &BTreeMap<String, String>,
    overrides: Option<&HashMap<String, String>>,
    macs: &str,
    ips: &str,
    id: &str,
) -> Effective {
    let mut cols = BTreeMap::new();
    for c in DEVICE_COLUMNS {
        let v = overrides
            .and_then(|o| o.get(*c))
            .or_else(|| inferred.get(*c))
            .cloned()
            .unwrap_or_default();
        cols.insert(*c, v);
    }
    let crit = cols
        .get("category")
        .and_then(|c| Category::from_str(c).ok())
        .map(|c| c.criticality());
    let name = match overrides.and_then(|o| o.get("hostname")) {
        Some(h) => h.clone(),
        None => inferred
            .get("name")
            .cloned()
            .unwrap_or_else(|| id.to_string()),
    };
    let search = format!(
        "{} {} {} {} {}",
        name,
        cols.get("hostname").map(String::as_str).unwrap_or(""),
        ips,
        macs,
        id
    )
    .to_lowercase();
    Effective {
        name,
        cols,
        criticality: crit.map(|c| c.as_str().to_string()).unwrap_or_default(),
        rank: crit.map(criticality_rank).unwrap_or(0),
        search,
    }
}

fn opt(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn split(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) const SUMMARY_COLUMNS: &str =
    "id, site, name, category, criticality, vendor, model, os, \
    firmware_version, software_version, hostname, macs, ips, is_router, first_seen, last_seen, \
    stale";

/// Whether a listing's page is bounded by an index: at most `LIMIT` + `OFFSET` rows read
/// in index order (migration 0001's indexes: `(column, id)` for most sort columns, and
/// `(site | category | vendor, name, id)`). Such a page takes tens of microseconds and is
/// read on the caller's thread. A filter the sort index does not lead with, a sort by
/// site, category or vendor without that filter (ordered by `(column, id)`, which those
/// indexes do not give), the stale flag or free text can read much of the table, and go
/// to the blocking pool.
fn index_bounded(q: &DeviceQuery, text: Option<&str>, keyset: bool, offset: i64) -> bool {
    let filters = [&q.site, &q.category, &q.vendor]
        .iter()
        .filter(|f| f.is_some())
        .count();
    text.is_none()
        && q.stale.is_none()
        && (keyset || offset <= 1000)
        && match filters {
            0 => !matches!(
                q.sort,
                DeviceSort::Site | DeviceSort::Category | DeviceSort::Vendor
            ),
            1 => q.sort == DeviceSort::Name,
            _ => false,
        }
}

/// One page of the `fastread` path.
fn page_rows(c: &rusqlite::Connection, page: &Sql) -> rusqlite::Result<Vec<DeviceSummary>> {
    c.prepare_cached(&page.text)?
        .query_map(rusqlite::params_from_iter(&page.binds), summary_of_row)?
        .collect()
}

/// [`summary_of`] for a row of the `fastread` path (columns in [`SUMMARY_COLUMNS`] order,
/// read by position).
fn summary_of_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceSummary> {
    summary_from(|i, _| r.get(i), |i, _| r.get(i))
}

pub(crate) fn summary_of<R: Row>(r: &R) -> Result<DeviceSummary, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    summary_from(|_, name| r.try_get(name), |_, name| r.try_get(name))
}

/// A [`DeviceSummary`] from one row, for either driver: `text` and `int` read the column
/// at a position of [`SUMMARY_COLUMNS`] or by its name (sqlx rows by name, since their
/// queries may order columns otherwise; `fastread` rows by position).
fn summary_from<E>(
    text: impl Fn(usize, &str) -> Result<String, E>,
    int: impl Fn(usize, &str) -> Result<i64, E>,
) -> Result<DeviceSummary, E> {
    Ok(DeviceSummary {
        id: text(0, "id")?,
        site: text(1, "site")?,
        name: text(2, "name")?,
        category: opt(text(3, "category")?),
        criticality: opt(text(4, "criticality")?),
        vendor: opt(text(5, "vendor")?),
        model: opt(text(6, "model")?),
        os: opt(text(7, "os")?),
        firmware_version: opt(text(8, "firmware_version")?),
        software_version: opt(text(9, "software_version")?),
        hostname: opt(text(10, "hostname")?),
        macs: split(&text(11, "macs")?),
        ips: split(&text(12, "ips")?),
        is_router: int(13, "is_router")? != 0,
        first_seen: int(14, "first_seen")?,
        last_seen: int(15, "last_seen")?,
        stale: int(16, "stale")? != 0,
    })
}

/// Adds a merged-away device's addresses and time span to its target's record.
fn fold_record(target: &mut DeviceRecord, alias: &DeviceRecord) {
    for (t, a) in [
        (&mut target.macs, &alias.macs),
        (&mut target.ips, &alias.ips),
    ] {
        t.extend(a.iter().cloned());
        t.sort_unstable();
        t.dedup();
    }
    target.first_seen = target.first_seen.min(alias.first_seen);
    target.last_seen = target.last_seen.max(alias.last_seen);
}

/// A row ready to write.
struct Prepared<'a> {
    rec: &'a DeviceRecord,
    eff: Effective,
    macs: String,
    ips: String,
    inferred: String,
    detail: String,
}

fn sort_column(s: DeviceSort) -> (&'static str, bool) {
    // (column, is integer)
    match s {
        DeviceSort::Name => ("name", false),
        DeviceSort::Site => ("site", false),
        DeviceSort::Category => ("category", false),
        DeviceSort::Criticality => ("criticality_rank", true),
        DeviceSort::Vendor => ("vendor", false),
        DeviceSort::Model => ("model", false),
        DeviceSort::SoftwareVersion => ("software_version", false),
        DeviceSort::Hostname => ("hostname", false),
        DeviceSort::FirstSeen => ("first_seen", true),
        DeviceSort::LastSeen => ("last_seen", true),
    }
}

/// The keyset position after a row: the sort value and the id, as hex of JSON (opaque to
/// clients, safe in a URL).
fn encode_cursor(value: serde_json::Value, id: &str) -> String {
    hex::encode(serde_json::json!([value, id]).to_string())
}

enum CursorValue {
    Int(i64),
    Text(String),
}

fn decode_cursor(c: &str, integer: bool) -> Result<(CursorValue, String)> {
    let bad = || StoreError::invalid("cursor", "not a cursor of this listing");
    let bytes = hex::decode(c).map_err(|_| bad())?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let arr = v.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
    let id = arr
        .get(1)
        .and_then(|v| v.as_str())
        .ok_or_else(bad)?
        .to_string();
    let val = match (integer, arr.first()) {
        (true, Some(serde_json::Value::Number(n))) => CursorValue::Int(n.as_i64().ok_or_else(bad)?),
        (false, Some(serde_json::Value::String(s))) => CursorValue::Text(s.clone()),
        _ => return Err(bad()),
    };
    Ok((val, id))
}

/// `LIKE` pattern matching `text` anywhere, with wildcards in `text` escaped.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

impl Store {
    /// Writes (inserts or updates) devices in one transaction. Manual overrides stored for
    /// a device win over the record's inferred values. A device seen again is no longer
    /// stale; its first seen keeps the earliest time.
    pub async fn upsert_devices(&self, records: &[DeviceRecord], actor: &Actor) -> Result<()> {
        self.write_devices(records, None, actor).await
    }

    /// Writes an identified inventory of one site in one transaction: its devices (as
    /// [`Store::upsert_devices`]), and its endpoints, IP bindings and connections, which
    /// replace the site's previous ones.
    pub async fn replace_inventory(
        &self,
        site: &str,
        inventory: &Inventory,
        actor: &Actor,
    ) -> Result<()> {
        let records: Vec<DeviceRecord> = inventory
            .devices
            .iter()
            .map(|d| DeviceRecord::from_device(site, d))
            .collect();
        self.write_devices(&records, Some((site, inventory)), actor)
            .await
    }

    async fn write_devices(
        &self,
        records: &[DeviceRecord],
        inventory: Option<(&str, &Inventory)>,
        actor: &Actor,
    ) -> Result<()> {
        let now = now_micros();
        // One statement may not update a row twice (PostgreSQL): the last record of an id
        // wins.
        let mut last_of: HashMap<&str, usize> = HashMap::with_capacity(records.len());
        for (k, r) in records.iter().enumerate() {
            last_of.insert(r.id.as_str(), k);
        }
        let deduped: Vec<DeviceRecord>;
        let records: &[DeviceRecord] = if last_of.len() == records.len() {
            records
        } else {
            deduped = records
                .iter()
                .enumerate()
                .filter(|(k, r)| last_of.get(r.id.as_str()) == Some(k))
                .map(|(_, r)| r.clone())
                .collect();
            &deduped
        };
        let mut sites: Vec<&str> = records.iter().map(|r| r.site.as_str()).collect();
        if let Some((site, _)) = inventory {
            sites.push(site);
        }
        sites.sort_unstable();
        sites.dedup();
        let device_of_endpoint: HashMap<&str, &str> = inventory
            .map(|(_, inv)| {
                inv.devices
                    .iter()
                    .flat_map(|d| d.endpoints.iter().map(move |e| (e.as_str(), d.id.as_str())))
                    .collect()
            })
            .unwrap_or_default();
        let audit_after = canonical_json(&serde_json::json!({
            "devices": records.len(),
            "sites": sites,
        }));
        let action = if inventory.is_some() {
            "inventory.replace"
        } else {
            "devices.upsert"
        };
        let object = match inventory {
            Some((site, _)) => format!("site:{site}"),
            None => "devices".to_string(),
        };
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for site in &sites {
                sqlx::query(
                    "INSERT INTO sites (id, name, created_at) VALUES ($1, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(*site)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let mut overrides: HashMap<String, HashMap<String, String>> = HashMap::new();
            for r in sqlx::query("SELECT device_id, attribute, value FROM device_overrides")
                .fetch_all(&mut *tx)
                .await?
            {
                overrides
                    .entry(r.try_get("device_id")?)
                    .or_default()
                    .insert(r.try_get("attribute")?, r.try_get("value")?);
            }
            // Merged devices (see `merges`): a record of an alias is folded into its target
            // (in this batch, or the stored row), never written as a device of its own.
            let mut aliases: HashMap<String, String> = HashMap::new();
            for r in sqlx::query("SELECT alias, target FROM device_merges")
                .fetch_all(&mut *tx)
                .await?
            {
                aliases.insert(r.try_get("alias")?, r.try_get("target")?);
            }
            let folded: Vec<DeviceRecord>;
            let mut orphans: Vec<(&str, &DeviceRecord)> = Vec::new();
            let records: &[DeviceRecord] = if aliases.is_empty() {
                records
            } else {
                let mut kept: Vec<DeviceRecord> = records
                    .iter()
                    .filter(|r| !aliases.contains_key(&r.id))
                    .cloned()
                    .collect();
                let index: HashMap<String, usize> = kept
                    .iter()
                    .enumerate()
                    .map(|(k, r)| (r.id.clone(), k))
                    .collect();
                for r in records {
                    let Some(target) = aliases.get(&r.id) else {
                        continue;
                    };
                    match index.get(target).and_then(|k| kept.get_mut(*k)) {
                        Some(t) => fold_record(t, r),
                        None => orphans.push((target.as_str(), r)),
                    }
                }
                folded = kept;
                &folded
            };
            for (target, r) in &orphans {
                let row = sqlx::query(
                    "SELECT macs, ips, first_seen, last_seen FROM devices WHERE id = $1",
                )
                .bind(*target)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { continue };
                let mut t = DeviceRecord {
                    id: target.to_string(),
                    site: r.site.clone(),
                    name: String::new(),
                    inferred: BTreeMap::new(),
                    macs: split(&row.try_get::<String, _>("macs")?),
                    ips: split(&row.try_get::<String, _>("ips")?),
                    is_router: false,
                    first_seen: row.try_get("first_seen")?,
                    last_seen: row.try_get("last_seen")?,
                    detail: serde_json::Value::Null,
                };
                fold_record(&mut t, r);
                sqlx::query(
                    "UPDATE devices SET macs = $1, ips = $2, first_seen = $3, last_seen = $4, \
                     stale = 0 WHERE id = $5",
                )
                .bind(t.macs.join(" "))
                .bind(t.ips.join(" "))
                .bind(t.first_seen)
                .bind(t.last_seen)
                .bind(*target)
                .execute(&mut *tx)
                .await?;
            }
            let target_of = |d: &str| aliases.get(d).cloned().unwrap_or_else(|| d.to_string());
            for chunk in records.chunks(CHUNK) {
                let prepared: Vec<Prepared> = chunk
                    .iter()
                    .map(|rec| {
                        let macs = rec.macs.join(" ");
                        let ips = rec.ips.join(" ");
                        let mut inferred = rec.inferred.clone();
                        inferred.insert("name".into(), rec.name.clone());
                        let eff =
                            effective(&inferred, overrides.get(&rec.id), &macs, &ips, &rec.id);
                        Prepared {
                            rec,
                            eff,
                            macs,
                            ips,
                            inferred: canonical_json(&inferred).unwrap_or_else(|| "{}".into()),
                            detail: canonical_json(&rec.detail).unwrap_or_else(|| "{}".into()),
                        }
                    })
                    .collect();
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO devices (id, site, name, category, criticality, \
                     criticality_rank, vendor, model, os, firmware_version, software_version, \
                     hostname, macs, ips, search, is_router, first_seen, last_seen, stale, \
                     inferred, detail, updated_at) ",
                );
                qb.push_values(&prepared, |mut b, p| {
                    let col = |c: &str| p.eff.cols.get(c).cloned().unwrap_or_default();
                    b.push_bind(p.rec.id.clone())
                        .push_bind(p.rec.site.clone())
                        .push_bind(p.eff.name.clone())
                        .push_bind(col("category"))
                        .push_bind(p.eff.criticality.clone())
                        .push_bind(p.eff.rank)
                        .push_bind(col("vendor"))
                        .push_bind(col("model"))
                        .push_bind(col("os"))
                        .push_bind(col("firmware_version"))
                        .push_bind(col("software_version"))
                        .push_bind(col("hostname"))
                        .push_bind(p.macs.clone())
                        .push_bind(p.ips.clone())
                        .push_bind(p.eff.search.clone())
                        .push_bind(i64::from(p.rec.is_router))
                        .push_bind(p.rec.first_seen)
                        .push_bind(p.rec.last_seen)
                        .push_bind(0i64)
                        .push_bind(p.inferred.clone())
                        .push_bind(p.detail.clone())
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (id) DO UPDATE SET site = excluded.site, name = excluded.name, \
                     category = excluded.category, criticality = excluded.criticality, \
                     criticality_rank = excluded.criticality_rank, vendor = excluded.vendor, \
                     model = excluded.model, os = excluded.os, \
                     firmware_version = excluded.firmware_version, \
                     software_version = excluded.software_version, hostname = excluded.hostname, \
                     macs = excluded.macs, ips = excluded.ips, search = excluded.search, \
                     is_router = excluded.is_router, \
                     first_seen = CASE WHEN excluded.first_seen < devices.first_seen \
                         THEN excluded.first_seen ELSE devices.first_seen END, \
                     last_seen = CASE WHEN excluded.last_seen > devices.last_seen \
                         THEN excluded.last_seen ELSE devices.last_seen END, \
                     stale = 0, inferred = excluded.inferred, detail = excluded.detail, \
                     updated_at = excluded.updated_at",
                );
                qb.build().execute(&mut *tx).await?;
            }
            if let Some((site, inv)) = inventory {
                sqlx::query("DELETE FROM connections WHERE site = $1")
                    .bind(site)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM ip_bindings WHERE site = $1")
                    .bind(site)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM endpoints WHERE site = $1")
                    .bind(site)
                    .execute(&mut *tx)
                    .await?;
                for chunk in inv.endpoints.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO endpoints (site, id, device_id, mac, is_router, first_seen, \
                         last_seen) ",
                    );
                    qb.push_values(chunk, |mut b, e| {
                        b.push_bind(site)
                            .push_bind(e.id.clone())
                            .push_bind(device_of_endpoint.get(e.id.as_str()).map(|d| target_of(d)))
                            .push_bind(e.mac.map(|m| m.to_string()).unwrap_or_default())
                            .push_bind(i64::from(e.is_router))
                            .push_bind(i(e.first_seen.0))
                            .push_bind(i(e.last_seen.0));
                    });
                    qb.push(" ON CONFLICT (site, id) DO NOTHING");
                    qb.build().execute(&mut *tx).await?;
                }
                let bindings: Vec<(String, String, String, i64, i64)> = inv
                    .endpoints
                    .iter()
                    .flat_map(|e| {
                        e.ips.iter().map(move |b| {
                            (
                                e.id.clone(),
                                b.ip.to_string(),
                                canonical_json(&b.sources).unwrap_or_else(|| "[]".into()),
                                i(b.first_seen.0),
                                i(b.last_seen.0),
                            )
                        })
                    })
                    .collect();
                for chunk in bindings.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO ip_bindings (site, endpoint_id, ip, sources, first_seen, \
                         last_seen) ",
                    );
                    qb.push_values(chunk, |mut b, (e, ip, src, f, l)| {
                        b.push_bind(site)
                            .push_bind(e.clone())
                            .push_bind(ip.clone())
                            .push_bind(src.clone())
                            .push_bind(*f)
                            .push_bind(*l);
                    });
                    qb.push(" ON CONFLICT (site, endpoint_id, ip) DO NOTHING");
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in inv.connections.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO connections (site, client, server, transport, server_port, \
                         client_device, server_device, protocol, detail, first_seen, last_seen) ",
                    );
                    qb.push_values(chunk, |mut b, c| {
                        b.push_bind(site)
                            .push_bind(
                                c.client
                                    .endpoint
                                    .clone()
                                    .unwrap_or(c.client.address.clone()),
                            )
                            .push_bind(
                                c.server
                                    .endpoint
                                    .clone()
                                    .unwrap_or(c.server.address.clone()),
                            )
                            .push_bind(c.transport.to_string())
                            .push_bind(i64::from(c.server_port))
                            .push_bind(c.client.device.as_deref().map(target_of))
                            .push_bind(c.server.device.as_deref().map(target_of))
                            .push_bind(c.protocol.clone().unwrap_or_default())
                            .push_bind(canonical_json(c).unwrap_or_else(|| "{}".into()))
                            .push_bind(i(c.first_seen.0))
                            .push_bind(i(c.last_seen.0));
                    });
                    qb.push(
                        " ON CONFLICT (site, client, server, transport, server_port) DO NOTHING",
                    );
                    qb.build().execute(&mut *tx).await?;
                }
            }
            audit_append!(tx, actor, action, &object, None, audit_after.clone())?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// One device with its detail and overrides.
    pub async fn device(&self, id: &str) -> Result<Option<crate::DeviceDetail>> {
        let sql = format!("SELECT {SUMMARY_COLUMNS}, detail FROM devices WHERE id = $1");
        let row = with_read_pool!(self, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Some((summary_of(&r)?, r.try_get::<String, _>("detail")?)),
                None => None,
            }
        });
        let Some((summary, detail)) = row else {
            return Ok(None);
        };
        let detail = serde_json::from_str(&detail)
            .map_err(|e| StoreError::json(format!("devices.detail of {id}"), e))?;
        let overrides = self.overrides(Some(id)).await?;
        Ok(Some(crate::DeviceDetail {
            summary,
            detail,
            overrides,
        }))
    }

    /// Lists devices with filters, sorting and offset or keyset pagination.
    pub async fn list_devices(&self, q: &DeviceQuery) -> Result<DevicePage> {
        let (col, integer) = sort_column(q.sort);
        let limit = i64::from(q.limit.clamp(1, 1000));
        let cursor = match &q.after {
            Some(c) => Some(decode_cursor(c, integer)?),
            None => None,
        };
        let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let dir = if q.descending { "DESC" } else { "ASC" };
        let cmp = if q.descending { "<" } else { ">" };
        let stale = q.stale.map(i64::from);
        let offset = i(q.offset);

        // The same filters for the page and the count.
        let filters = |sql: &mut Sql| {
            sql.push(" WHERE 1 = 1");
            if let Some(s) = &q.site {
                sql.push(" AND site = ").bind_text(s.clone());
            }
            if let Some(c) = &q.category {
                sql.push(" AND category = ").bind_text(c.clone());
            }
            if let Some(v) = &q.vendor {
                sql.push(" AND vendor = ").bind_text(v.clone());
            }
            if let Some(s) = stale {
                sql.push(" AND stale = ").bind_int(s);
            }
            if let Some(t) = text {
                sql.push(" AND search LIKE ")
                    .bind_text(like_pattern(t))
                    .push(" ESCAPE '\\'");
            }
        };
        let mut page = Sql::new(format!("SELECT {SUMMARY_COLUMNS} FROM devices"));
        filters(&mut page);
        if let Some((v, id)) = &cursor {
            page.push(&format!(" AND ({col}, id) {cmp} ("));
            match v {
                CursorValue::Int(n) => page.bind_int(*n),
                CursorValue::Text(s) => page.bind_text(s.clone()),
            };
            page.push(", ").bind_text(id.clone()).push(")");
        }
        page.push(&format!(" ORDER BY {col} {dir}, id {dir} LIMIT "))
            .bind_int(limit);
        if cursor.is_none() && offset > 0 {
            page.push(" OFFSET ").bind_int(offset);
        }
        let count = q.with_total.then(|| {
            let mut cq = Sql::new("SELECT count(*) FROM devices");
            filters(&mut cq);
            (CountKey::of(q, text), cq)
        });

        let devices = match &self.backend {
            // SQLite, without sqlx's thread hand-offs (`fastread`): a page that an index
            // bounds is read on this thread, one that may scan on the blocking pool.
            crate::Backend::Sqlite { fast, .. } => {
                if index_bounded(q, text, cursor.is_some(), offset) {
                    fast.now("listing devices", |c| page_rows(c, &page))?
                } else {
                    fast.read("listing devices", move |c| page_rows(c, &page))
                        .await?
                }
            }
            crate::Backend::Postgres { pool } => page
                .sqlx()
                .fetch_all(pool)
                .await?
                .iter()
                .map(summary_of)
                .collect::<Result<Vec<_>, _>>()?,
        };
        let total = match count {
            Some((key, cq)) => {
                // The revision first, then the count (see `counts` for why that is exact).
                let rev = self.device_revision().await?;
                Some(match self.counts.get(&key, rev) {
                    Some(n) => n,
                    None => {
                        let n = self.count_rows(cq).await?;
                        self.counts.put(key, rev, n);
                        n
                    }
                })
            }
            None => None,
        };
        let next_cursor = if devices.len() as i64 == limit {
            devices.last().map(|d| {
                let v = match q.sort {
                    DeviceSort::Name => d.name.clone().into(),
                    DeviceSort::Site => d.site.clone().into(),
                    DeviceSort::Category => d.category.clone().unwrap_or_default().into(),
                    DeviceSort::Criticality => serde_json::Value::from(
                        d.criticality
                            .as_deref()
                            .and_then(|c| match c {
                                "low" => Some(1),
                                "medium" => Some(2),
                                "high" => Some(3),
                                "critical" => Some(4),
                                _ => None,
                            })
                            .unwrap_or(0i64),
                    ),
                    DeviceSort::Vendor => d.vendor.clone().unwrap_or_default().into(),
                    DeviceSort::Model => d.model.clone().unwrap_or_default().into(),
                    DeviceSort::SoftwareVersion => {
                        d.software_version.clone().unwrap_or_default().into()
                    }
                    DeviceSort::Hostname => d.hostname.clone().unwrap_or_default().into(),
                    DeviceSort::FirstSeen => d.first_seen.into(),
                    DeviceSort::LastSeen => d.last_seen.into(),
                };
                encode_cursor(v, &d.id)
            })
        } else {
            None
        };
        Ok(DevicePage {
            devices,
            total,
            next_cursor,
        })
    }

    /// Manual overrides, of one device or all, by device and attribute.
    pub async fn overrides(&self, device_id: Option<&str>) -> Result<Vec<ManualOverride>> {
        let out = with_read_pool!(self, |pool| {
            let rows = match device_id {
                Some(id) => {
                    sqlx::query(
                        "SELECT device_id, attribute, value, author, note, set_at \
                         FROM device_overrides WHERE device_id = $1 ORDER BY attribute",
                    )
                    .bind(id)
                    .fetch_all(pool)
                    .await?
                }
                None => {
                    sqlx::query(
                        "SELECT device_id, attribute, value, author, note, set_at \
                         FROM device_overrides ORDER BY device_id, attribute",
                    )
                    .fetch_all(pool)
                    .await?
                }
            };
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let attr: String = r.try_get("attribute")?;
                let Ok(attribute) = AttrKind::from_str(&attr) else {
                    continue;
                };
                out.push(ManualOverride {
                    device_id: r.try_get("device_id")?,
                    attribute,
                    value: r.try_get("value")?,
                    author: r.try_get("author")?,
                    note: r.try_get("note")?,
                    set_at: Some(Timestamp(u(r.try_get("set_at")?))),
                });
            }
            out
        });
        Ok(out)
    }

    /// Sets a manual override (it wins over inference in listings and is kept across
    /// inventory updates), with an audit entry, in one transaction.
    pub async fn set_override(&self, ov: &ManualOverride, actor: &Actor) -> Result<()> {
        self.change_override(&ov.device_id, ov.attribute, Some(ov), actor)
            .await
    }

    /// Removes a manual override; the inferred value applies again.
    pub async fn clear_override(
        &self,
        device_id: &str,
        attribute: AttrKind,
        actor: &Actor,
    ) -> Result<()> {
        self.change_override(device_id, attribute, None, actor)
            .await
    }

    async fn change_override(
        &self,
        device_id: &str,
        attribute: AttrKind,
        ov: Option<&ManualOverride>,
        actor: &Actor,
    ) -> Result<()> {
        if let Some(o) = ov {
            if attribute == AttrKind::Category && Category::from_str(&o.value).is_err() {
                return Err(StoreError::invalid(
                    "override",
                    format!("unknown category {:?}", o.value),
                ));
            }
        }
        let attr = attribute.as_str();
        let now = now_micros();
        let object = format!("device:{device_id}/override/{attr}");
        let after = ov.and_then(canonical_json);
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query("SELECT inferred, macs, ips FROM devices WHERE id = $1")
                .bind(device_id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Err(StoreError::NotFound {
                    what: "device",
                    id: device_id.to_string(),
                });
            };
            let inferred: String = row.try_get("inferred")?;
            let macs: String = row.try_get("macs")?;
            let ips: String = row.try_get("ips")?;
            let before = sqlx::query(
                "SELECT device_id, attribute, value, author, note, set_at FROM device_overrides \
                 WHERE device_id = $1 AND attribute = $2",
            )
            .bind(device_id)
            .bind(attr)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| -> Result<serde_json::Value, sqlx::Error> {
                Ok(serde_json::json!({
                    "device_id": r.try_get::<String, _>("device_id")?,
                    "attribute": r.try_get::<String, _>("attribute")?,
                    "value": r.try_get::<String, _>("value")?,
                    "author": r.try_get::<Option<String>, _>("author")?,
                    "note": r.try_get::<Option<String>, _>("note")?,
                    "set_at": r.try_get::<i64, _>("set_at")?,
                }))
            })
            .transpose()?
            .and_then(|v| canonical_json(&v));
            match ov {
                Some(o) => {
                    sqlx::query(
                        "INSERT INTO device_overrides (device_id, attribute, value, author, note, \
                         set_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (device_id, attribute) DO UPDATE SET value = excluded.value, \
                         author = excluded.author, note = excluded.note, set_at = excluded.set_at",
                    )
                    .bind(device_id)
                    .bind(attr)
                    .bind(&o.value)
                    .bind(o.author.clone().or_else(|| Some(actor.name.clone())))
                    .bind(&o.note)
                    .bind(o.set_at.map(|t| i(t.0)).unwrap_or(now))
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "DELETE FROM device_overrides WHERE device_id = $1 AND attribute = $2",
                    )
                    .bind(device_id)
                    .bind(attr)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let mut current: HashMap<String, String> = HashMap::new();
            for r in
                sqlx::query("SELECT attribute, value FROM device_overrides WHERE device_id = $1")
                    .bind(device_id)
                    .fetch_all(&mut *tx)
                    .await?
            {
                current.insert(r.try_get("attribute")?, r.try_get("value")?);
            }
            let inferred: BTreeMap<String, String> = serde_json::from_str(&inferred)
                .map_err(|e| StoreError::json(format!("devices.inferred of {device_id}"), e))?;
            let eff = effective(&inferred, Some(&current), &macs, &ips, device_id);
            let col = |c: &str| eff.cols.get(c).cloned().unwrap_or_default();
            sqlx::query(
                "UPDATE devices SET name = $1, category = $2, criticality = $3, \
                 criticality_rank = $4, vendor = $5, model = $6, os = $7, firmware_version = $8, \
                 software_version = $9, hostname = $10, search = $11, updated_at = $12 \
                 WHERE id = $13",
            )
            .bind(&eff.name)
            .bind(col("category"))
            .bind(&eff.criticality)
            .bind(eff.rank)
            .bind(col("vendor"))
            .bind(col("model"))
            .bind(col("os"))
            .bind(col("firmware_version"))
            .bind(col("software_version"))
            .bind(col("hostname"))
            .bind(&eff.search)
            .bind(now)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
            let action = if ov.is_some() {
                "device.override.set"
            } else {
                "device.override.clear"
            };
            audit_append!(tx, actor, action, &object, before, after.clone())?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The inventory's revision (migration 0006): it changes whenever a device is added or
    /// removed or a listing filter column of one changes, by any writer (another replica,
    /// direct SQL). Device counts are cached under it.
    pub async fn device_revision(&self) -> Result<i64> {
        self.revision(
            "SELECT rev FROM device_revision WHERE id = 1",
            "reading the device revision",
        )
        .await
    }

    /// `SELECT count(*)` of a listing's filters (on SQLite on the blocking pool: it scans).
    async fn count_rows(&self, cq: Sql) -> Result<u64> {
        let n = match &self.backend {
            crate::Backend::Sqlite { fast, .. } => {
                fast.read("counting devices", move |c| {
                    c.prepare_cached(&cq.text)?
                        .query_row(rusqlite::params_from_iter(&cq.binds), |r| {
                            r.get::<_, i64>(0)
                        })
                })
                .await?
            }
            crate::Backend::Postgres { pool } => cq.sqlx().fetch_one(pool).await?.try_get(0)?,
        };
        Ok(u(n))
    }

    /// Marks devices not seen since `before` (micros) as stale; returns how many changed.
    pub async fn mark_stale(&self, before: i64, actor: &Actor) -> Result<u64> {
        let after = canonical_json(&serde_json::json!({ "last_seen_before": before }));
        let n = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE devices SET stale = 1 WHERE last_seen < $1 AND stale = 0")
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                audit_append!(
                    tx,
                    actor,
                    "devices.mark_stale",
                    "devices",
                    None,
                    after.clone()
                )?;
            }
            tx.commit().await?;
            n
        });
        Ok(n)
    }
}
