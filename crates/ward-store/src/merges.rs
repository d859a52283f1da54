//! Device merges: a person decides that two inferred devices are one. Merging `alias` into
//! `target` moves the alias's endpoints, connections, findings, overrides, reviews and plan
//! actions to the target, adds its MAC and IP addresses, deletes its row and records the
//! merge; all in one transaction with an audit entry (before: both devices, after: the
//! target). The merge is kept as such: re-inference that yields the alias id again is folded
//! into the target (see `write_devices`), findings for the alias land on the target, and
//! [`Store::device_alias`] answers lookups of the alias.

use crate::audit::{audit_append, canonical_json};
use crate::devices::{effective, summary_of, SUMMARY_COLUMNS};
use crate::{now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, Result, Store};
use crate::{DeviceSummary, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// A recorded merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMerge {
    /// The merged-away device id; it now answers as `target`.
    pub alias: String,
    pub target: String,
    pub site: String,
    pub author: String,
    pub note: String,
    pub merged_at: i64,
}

fn merge_of<R: Row>(r: &R) -> std::result::Result<DeviceMerge, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(DeviceMerge {
        alias: r.try_get("alias")?,
        target: r.try_get("target")?,
        site: r.try_get("site")?,
        author: r.try_get("author")?,
        note: r.try_get("note")?,
        merged_at: r.try_get("merged_at")?,
    })
}

fn union(a: &[String], b: &[String]) -> String {
    let mut v: Vec<&str> = a.iter().chain(b).map(String::as_str).collect();
    v.sort_unstable();
    v.dedup();
    v.join(" ")
}

impl Store {
    /// Merges device `alias` into device `target` (same site; neither may be an alias
    /// already, and a device cannot be merged into itself). Earlier merges into `alias`
    /// are redirected to `target`. Returns the merge.
    pub async fn merge_devices(
        &self,
        target: &str,
        alias: &str,
        note: &str,
        actor: &Actor,
    ) -> Result<DeviceMerge> {
        if target == alias {
            return Err(StoreError::invalid(
                "merge",
                "a device cannot be merged into itself",
            ));
        }
        let now = now_micros();
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM devices WHERE id = $1");
        let merge = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut rows: Vec<DeviceSummary> = Vec::with_capacity(2);
            for id in [target, alias] {
                match sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                {
                    Some(r) => rows.push(summary_of(&r)?),
                    None => {
                        return Err(StoreError::NotFound {
                            what: "device",
                            id: id.to_string(),
                        })
                    }
                }
            }
            let (Some(t), Some(a)) = (rows.first(), rows.get(1)) else {
                return Err(StoreError::invalid("merge", "devices vanished"));
            };
            if t.site != a.site {
                return Err(StoreError::invalid(
                    "merge",
                    "devices of different sites cannot be merged",
                ));
            }
            let alias_row = canonical_json(a).unwrap_or_else(|| "{}".into());
            for stmt in [
                "UPDATE endpoints SET device_id = $1 WHERE device_id = $2",
                "UPDATE connections SET client_device = $1 WHERE client_device = $2",
                "UPDATE connections SET server_device = $1 WHERE server_device = $2",
                "UPDATE reviews SET device_id = $1 WHERE device_id = $2",
                "UPDATE plan_actions SET device_id = $1 WHERE device_id = $2",
                // Findings of a vulnerability the target does not have move; duplicates
                // stay with the target's own finding (the alias's go with its row).
                "UPDATE findings SET device_id = $1 WHERE device_id = $2 AND vulnerability \
                 NOT IN (SELECT vulnerability FROM findings WHERE device_id = $1)",
                // The target's own overrides win over the alias's.
                "UPDATE device_overrides SET device_id = $1 WHERE device_id = $2 AND attribute \
                 NOT IN (SELECT attribute FROM device_overrides WHERE device_id = $1)",
                "UPDATE device_merges SET target = $1 WHERE target = $2",
            ] {
                sqlx::query(stmt)
                    .bind(target)
                    .bind(alias)
                    .execute(&mut *tx)
                    .await?;
            }
            // The target's columns again: the union of addresses and the span of both, with
            // the overrides it has now.
            let inferred: String = sqlx::query("SELECT inferred FROM devices WHERE id = $1")
                .bind(target)
                .fetch_one(&mut *tx)
                .await?
                .try_get("inferred")?;
            let inferred: BTreeMap<String, String> = serde_json::from_str(&inferred)
                .map_err(|e| StoreError::json(format!("devices.inferred of {target}"), e))?;
            let mut current: HashMap<String, String> = HashMap::new();
            for r in
                sqlx::query("SELECT attribute, value FROM device_overrides WHERE device_id = $1")
                    .bind(target)
                    .fetch_all(&mut *tx)
                    .await?
            {
                current.insert(r.try_get("attribute")?, r.try_get("value")?);
            }
            let (macs, ips) = (union(&t.macs, &a.macs), union(&t.ips, &a.ips));
            let eff = effective(&inferred, Some(&current), &macs, &ips, target);
            let col = |c: &str| eff.cols.get(c).cloned().unwrap_or_default();
            sqlx::query(
                "UPDATE devices SET name = $1, category = $2, criticality = $3, \
                 criticality_rank = $4, vendor = $5, model = $6, os = $7, firmware_version = $8, \
                 software_version = $9, hostname = $10, search = $11, updated_at = $12, \
                 macs = $13, ips = $14, first_seen = $15, last_seen = $16 WHERE id = $17",
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
            .bind(&macs)
            .bind(&ips)
            .bind(t.first_seen.min(a.first_seen))
            .bind(t.last_seen.max(a.last_seen))
            .bind(target)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM devices WHERE id = $1")
                .bind(alias)
                .execute(&mut *tx)
                .await?;
            let merge = DeviceMerge {
                alias: alias.to_string(),
                target: target.to_string(),
                site: t.site.clone(),
                author: actor.name.clone(),
                note: note.to_string(),
                merged_at: now,
            };
            sqlx::query(
                "INSERT INTO device_merges (alias, target, site, author, note, alias_row, \
                 merged_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&merge.alias)
            .bind(&merge.target)
            .bind(&merge.site)
            .bind(&merge.author)
            .bind(&merge.note)
            .bind(&alias_row)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let after = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(target)
                .fetch_one(&mut *tx)
                .await?;
            let after = summary_of(&after)?;
            let before = canonical_json(&serde_json::json!({ "target": t, "alias": a }));
            let after = canonical_json(&serde_json::json!({ "target": after, "merge": merge }));
            audit_append!(
                tx,
                actor,
                "device.merge",
                &format!("device:{target}"),
                before,
                after
            )?;
            tx.commit().await?;
            merge
        });
        Ok(merge)
    }

    /// The device an id was merged into, if it was.
    pub async fn device_alias(&self, id: &str) -> Result<Option<String>> {
        let t = with_read_pool!(self, |pool| {
            sqlx::query("SELECT target FROM device_merges WHERE alias = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|r| r.try_get::<String, _>("target"))
                .transpose()?
        });
        Ok(t)
    }

    /// The merges into `target` (every merge with `None`), oldest first.
    pub async fn device_merges(&self, target: Option<&str>) -> Result<Vec<DeviceMerge>> {
        let out = with_read_pool!(self, |pool| {
            let q = match target {
                Some(t) => sqlx::query(
                    "SELECT alias, target, site, author, note, merged_at FROM device_merges \
                     WHERE target = $1 ORDER BY merged_at, alias",
                )
                .bind(t),
                None => sqlx::query(
                    "SELECT alias, target, site, author, note, merged_at FROM device_merges \
                     ORDER BY merged_at, alias",
                ),
            };
            q.fetch_all(pool)
                .await?
                .iter()
                .map(merge_of)
                .collect::<std::result::Result<Vec<_>, _>>()?
        });
        Ok(out)
    }
}
