//! Periodic reviews (NHS step 6, "periodically review"): each device is reviewed every N
//! days, N per clinical category (`review_intervals`, `''` = the default), with a checklist
//! that records who confirmed what and when.

use crate::audit::{audit_append, canonical_json};
use crate::{now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, Result, Store};
use crate::{StoreError, MICROS_PER_DAY};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The review form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewInput {
    pub device_id: String,
    pub identity_confirmed: bool,
    pub software_confirmed: bool,
    pub findings_triaged: bool,
    pub plan_current: bool,
    pub connections_expected: bool,
    pub note: String,
}

/// A recorded review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: i64,
    pub device_id: String,
    pub reviewer: String,
    pub reviewed_at: i64,
    /// When the next review is due.
    pub due_at: Option<i64>,
    pub identity_confirmed: bool,
    pub software_confirmed: bool,
    pub findings_triaged: bool,
    pub plan_current: bool,
    pub connections_expected: bool,
    pub note: String,
}

/// A device in the review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDue {
    pub device_id: String,
    pub name: String,
    pub site: String,
    pub category: String,
    pub criticality: String,
    /// The last review, if any.
    pub last_reviewed_at: Option<i64>,
    /// When the review was (or is) due; `None`: never reviewed.
    pub due_at: Option<i64>,
}

const REVIEW_COLUMNS: &str = "id, device_id, reviewer, reviewed_at, due_at, identity_confirmed, \
     software_confirmed, findings_triaged, plan_current, connections_expected, note";

fn review_of<R: Row>(r: &R) -> Result<Review, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let b = |c: &str| r.try_get::<i64, _>(c).map(|v| v != 0);
    Ok(Review {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        reviewer: r.try_get("reviewer")?,
        reviewed_at: r.try_get("reviewed_at")?,
        due_at: r.try_get("due_at")?,
        identity_confirmed: b("identity_confirmed")?,
        software_confirmed: b("software_confirmed")?,
        findings_triaged: b("findings_triaged")?,
        plan_current: b("plan_current")?,
        connections_expected: b("connections_expected")?,
        note: r.try_get("note")?,
    })
}

impl Store {
    /// The review interval in days of each category (`""` = the default).
    pub async fn review_intervals(&self) -> Result<Vec<(String, i64)>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query("SELECT category, days FROM review_intervals ORDER BY category")
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("category")?, r.try_get("days")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Sets how often devices of `category` (`""`: all others) are reviewed.
    pub async fn set_review_interval(
        &self,
        category: &str,
        days: i64,
        actor: &Actor,
    ) -> Result<()> {
        if !(1..=3650).contains(&days) {
            return Err(StoreError::invalid(
                "review interval",
                "days must be between 1 and 3650",
            ));
        }
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO review_intervals (category, days) VALUES ($1, $2) \
                 ON CONFLICT (category) DO UPDATE SET days = excluded.days",
            )
            .bind(category)
            .bind(days)
            .execute(&mut *tx)
            .await?;
            let after = canonical_json(&serde_json::json!({"category": category, "days": days}));
            audit_append!(
                tx,
                actor,
                "review.interval",
                &format!("review_interval:{category}"),
                None,
                after
            )?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a review of a device: who (the actor) and when (now); the next review falls
    /// due after the device category's interval. Audited in the same transaction.
    pub async fn record_review(&self, input: &ReviewInput, actor: &Actor) -> Result<Review> {
        let now = now_micros();
        let note = input.note.trim();
        if note.chars().count() > 4000 {
            return Err(StoreError::invalid(
                "review",
                "the note is longer than 4000 characters",
            ));
        }
        let id = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query("SELECT category FROM devices WHERE id = $1")
                .bind(&input.device_id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Err(StoreError::NotFound {
                    what: "device",
                    id: input.device_id.clone(),
                });
            };
            let category: String = row.try_get("category")?;
            let days: i64 = sqlx::query(
                "SELECT days FROM review_intervals WHERE category = $1 OR category = '' \
                 ORDER BY category DESC LIMIT 1",
            )
            .bind(&category)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(365);
            let due = now.saturating_add(days.saturating_mul(MICROS_PER_DAY));
            let id: i64 = sqlx::query(
                "INSERT INTO reviews (device_id, reviewer, reviewed_at, due_at, note, \
                 identity_confirmed, software_confirmed, findings_triaged, plan_current, \
                 connections_expected) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(&input.device_id)
            .bind(&actor.name)
            .bind(now)
            .bind(due)
            .bind(note)
            .bind(i64::from(input.identity_confirmed))
            .bind(i64::from(input.software_confirmed))
            .bind(i64::from(input.findings_triaged))
            .bind(i64::from(input.plan_current))
            .bind(i64::from(input.connections_expected))
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let after = canonical_json(&serde_json::json!({
                "identity_confirmed": input.identity_confirmed,
                "software_confirmed": input.software_confirmed,
                "findings_triaged": input.findings_triaged,
                "plan_current": input.plan_current,
                "connections_expected": input.connections_expected,
                "due_at": due,
            }));
            audit_append!(
                tx,
                actor,
                "review.record",
                &format!("device:{}", input.device_id),
                None,
                after
            )?;
            tx.commit().await?;
            id
        });
        let mut all = self.reviews_of_device(&input.device_id).await?;
        all.retain(|r| r.id == id);
        all.pop().ok_or(StoreError::NotFound {
            what: "review",
            id: id.to_string(),
        })
    }

    /// A device's reviews, newest first.
    pub async fn reviews_of_device(&self, device_id: &str) -> Result<Vec<Review>> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE device_id = $1 ORDER BY reviewed_at DESC, id DESC"
        );
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(device_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(review_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// The most recent reviews of all devices, newest first.
    pub async fn recent_reviews(&self, limit: u32) -> Result<Vec<Review>> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews ORDER BY reviewed_at DESC, id DESC LIMIT $1"
        );
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
                .iter()
                .map(review_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// Devices whose review is due at `now` (never reviewed, or last review older than the
    /// category's interval), most critical and most overdue first; with the number of all
    /// such devices. `site` limits to one site.
    pub async fn review_queue(
        &self,
        now: i64,
        site: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<ReviewDue>, u64)> {
        let base = "FROM devices d \
             LEFT JOIN (SELECT device_id, max(reviewed_at) AS last, max(due_at) AS due \
                        FROM reviews GROUP BY device_id) r ON r.device_id = d.id \
             WHERE (r.due IS NULL OR r.due <= $1) AND ($2 = '' OR d.site = $2)";
        let page = format!(
            "SELECT d.id, d.name, d.site, d.category, d.criticality, r.last, r.due {base} \
             ORDER BY d.criticality_rank DESC, r.due IS NOT NULL, r.due, d.name, d.id LIMIT $3"
        );
        let count = format!("SELECT count(*) {base}");
        let site = site.unwrap_or("");
        let out = with_read_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(page))
                .bind(now)
                .bind(site)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            let items = rows
                .iter()
                .map(|r| {
                    Ok(ReviewDue {
                        device_id: r.try_get("id")?,
                        name: r.try_get("name")?,
                        site: r.try_get("site")?,
                        category: r.try_get("category")?,
                        criticality: r.try_get("criticality")?,
                        last_reviewed_at: r.try_get("last")?,
                        due_at: r.try_get("due")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let n: i64 = sqlx::query(sqlx::AssertSqlSafe(count))
                .bind(now)
                .bind(site)
                .fetch_one(pool)
                .await?
                .try_get(0)?;
            (items, crate::u(n))
        });
        Ok(out)
    }
}
