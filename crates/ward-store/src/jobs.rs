//! Scheduled jobs with leases, so that a job never runs twice at once, even across
//! `ward serve` replicas sharing PostgreSQL.
//!
//! A claim picks the earliest due job whose lease is free or expired and sets the lease
//! (owner, expiry) in one transaction: on PostgreSQL the candidate row is locked with
//! `FOR UPDATE SKIP LOCKED` (a concurrent claimer skips it and takes the next job); on
//! SQLite the transaction starts with `BEGIN IMMEDIATE`, so claims are serialised by the
//! single writer. A holder renews its lease while it works; finishing releases it. A
//! crashed holder's job becomes claimable again when its lease expires.

use crate::{
    with_read_pool, with_write_pool, BackendKind, BeginWrite, JobLease, JobSpec, JobState, Result,
    Store,
};
use sqlx::Row;

impl Store {
    /// Schedules a job; an existing id is left as it is (every replica may schedule the
    /// same recurring jobs at start). Returns whether it was new.
    pub async fn schedule_job(&self, job: &JobSpec, now: i64) -> Result<bool> {
        let payload = serde_json::to_string(&job.payload).unwrap_or_else(|_| "null".into());
        let created = with_write_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO jobs (id, kind, payload, run_after, interval_secs, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&job.id)
            .bind(&job.kind)
            .bind(&payload)
            .bind(job.run_after)
            .bind(job.interval_secs)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
                > 0
        });
        Ok(created)
    }

    /// Claims the earliest due job (`run_after <= now`) whose lease is free or expired, for
    /// `owner` until `now + lease_micros`. `None` when nothing is due.
    pub async fn claim_job(
        &self,
        owner: &str,
        now: i64,
        lease_micros: i64,
    ) -> Result<Option<JobLease>> {
        let lock = match self.kind() {
            BackendKind::Postgres => " FOR UPDATE SKIP LOCKED",
            BackendKind::Sqlite => "",
        };
        let select = format!(
            "SELECT id FROM jobs WHERE state = 'pending' AND run_after <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY run_after, id LIMIT 1{lock}"
        );
        let until = now.saturating_add(lease_micros);
        let lease = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let picked = sqlx::query(sqlx::AssertSqlSafe(select))
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            match picked {
                None => {
                    tx.rollback().await?;
                    None
                }
                Some(r) => {
                    let id: String = r.try_get(0)?;
                    // The lease condition again: belt and braces against a claimer that
                    // read the row before ours committed.
                    let row = sqlx::query(
                        "UPDATE jobs SET lease_owner = $1, lease_until = $2, \
                         attempts = attempts + 1 WHERE id = $3 \
                         AND (lease_until IS NULL OR lease_until < $4) \
                         RETURNING id, kind, payload, attempts",
                    )
                    .bind(owner)
                    .bind(until)
                    .bind(&id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    match row {
                        Some(row) => {
                            let payload: String = row.try_get("payload")?;
                            let lease = JobLease {
                                id: row.try_get("id")?,
                                kind: row.try_get("kind")?,
                                payload: serde_json::from_str(&payload)
                                    .unwrap_or(serde_json::Value::Null),
                                owner: owner.to_string(),
                                lease_until: until,
                                attempts: row.try_get("attempts")?,
                            };
                            tx.commit().await?;
                            Some(lease)
                        }
                        None => {
                            tx.rollback().await?;
                            None
                        }
                    }
                }
            }
        });
        Ok(lease)
    }

    /// Extends a lease `owner` still holds; `false` if it was lost (expired and taken).
    pub async fn renew_job_lease(&self, id: &str, owner: &str, until: i64) -> Result<bool> {
        let ok = with_write_pool!(self, |pool| {
            sqlx::query("UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3")
                .bind(until)
                .bind(id)
                .bind(owner)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        });
        Ok(ok)
    }

    /// Releases a job `owner` holds after a run at `now`: a recurring job is due again
    /// `interval_secs` later, a one-off job is done. `error` is recorded (and a failed
    /// one-off job is retried a minute later). `false` if the lease was lost.
    pub async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        error: Option<&str>,
    ) -> Result<bool> {
        let ok = with_write_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, last_run_at = $1, \
                 last_error = $2, \
                 state = CASE WHEN interval_secs IS NULL AND $2 IS NULL THEN 'done' \
                     ELSE 'pending' END, \
                 run_after = CASE WHEN interval_secs IS NOT NULL \
                     THEN $1 + interval_secs * 1000000 ELSE $1 + 60000000 END \
                 WHERE id = $3 AND lease_owner = $4",
            )
            .bind(now)
            .bind(error)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
                > 0
        });
        Ok(ok)
    }

    /// A job's state.
    pub async fn job(&self, id: &str) -> Result<Option<JobState>> {
        let out = with_read_pool!(self, |pool| {
            match sqlx::query(
                "SELECT id, kind, state, run_after, lease_owner, lease_until, attempts, \
                 last_error, last_run_at FROM jobs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
            {
                Some(r) => Some(JobState {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    state: r.try_get("state")?,
                    run_after: r.try_get("run_after")?,
                    lease_owner: r.try_get("lease_owner")?,
                    lease_until: r.try_get("lease_until")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    last_run_at: r.try_get("last_run_at")?,
                }),
                None => None,
            }
        });
        Ok(out)
    }
}

impl Store {
    /// Every job, by id (for the jobs status API).
    pub async fn jobs(&self) -> Result<Vec<JobState>> {
        let out = with_read_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, kind, state, run_after, lease_owner, lease_until, attempts, \
                 last_error, last_run_at FROM jobs ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(JobState {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    state: r.try_get("state")?,
                    run_after: r.try_get("run_after")?,
                    lease_owner: r.try_get("lease_owner")?,
                    lease_until: r.try_get("lease_until")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    last_run_at: r.try_get("last_run_at")?,
                });
            }
            out
        });
        Ok(out)
    }

    /// Replaces the payload of a job `owner` holds (a recurring job keeps what it needs
    /// between runs there, e.g. what it last saw); `false` if the lease was lost.
    pub async fn set_job_payload(
        &self,
        id: &str,
        owner: &str,
        payload: &serde_json::Value,
    ) -> Result<bool> {
        let payload = serde_json::to_string(payload).unwrap_or_else(|_| "null".into());
        let ok = with_write_pool!(self, |pool| {
            sqlx::query("UPDATE jobs SET payload = $1 WHERE id = $2 AND lease_owner = $3")
                .bind(&payload)
                .bind(id)
                .bind(owner)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        });
        Ok(ok)
    }

    /// Devices whose latest review is due at or before `now`: (device id, due at), oldest
    /// due first.
    pub async fn reviews_due(&self, now: i64) -> Result<Vec<(String, i64)>> {
        let out = with_read_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT r.device_id, r.due_at FROM reviews r WHERE r.due_at IS NOT NULL \
                 AND r.due_at <= $1 AND NOT EXISTS (SELECT 1 FROM reviews n \
                 WHERE n.device_id = r.device_id AND n.reviewed_at > r.reviewed_at) \
                 ORDER BY r.due_at, r.device_id",
            )
            .bind(now)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?));
            }
            out
        });
        Ok(out)
    }

    /// A cheap fingerprint of the inputs of identification and matching: the number of
    /// intel documents, ingest batches, manual overrides and devices and the newest device
    /// change. Re-assessment is due when it changes.
    pub async fn match_inputs_fingerprint(&self) -> Result<String> {
        let fp = with_read_pool!(self, |pool| {
            let intel: i64 = sqlx::query("SELECT count(*) FROM intel_documents")
                .fetch_one(pool)
                .await?
                .try_get(0)?;
            // Sensor batches and uploads add facts that change identification.
            let batches: i64 = sqlx::query("SELECT count(*) FROM ingest_batches")
                .fetch_one(pool)
                .await?
                .try_get(0)?;
            let overrides: i64 = sqlx::query("SELECT count(*) FROM device_overrides")
                .fetch_one(pool)
                .await?
                .try_get(0)?;
            let row = sqlx::query("SELECT count(*), coalesce(max(updated_at), 0) FROM devices")
                .fetch_one(pool)
                .await?;
            let devices: i64 = row.try_get(0)?;
            let newest: i64 = row.try_get(1)?;
            format!(
                "intel={intel};batches={batches};overrides={overrides};\
                 devices={devices};updated={newest}"
            )
        });
        Ok(fp)
    }
}

impl Store {
    /// The stored intel documents of the given kinds, as (store id, kind, document JSON),
    /// oldest first (input of re-matching).
    pub async fn intel_documents_of_kinds(
        &self,
        kinds: &[&str],
    ) -> Result<Vec<(i64, String, serde_json::Value)>> {
        let mut out = Vec::new();
        for kind in kinds {
            let rows = with_read_pool!(self, |pool| {
                let rows = sqlx::query(
                    "SELECT id, kind, document FROM intel_documents WHERE kind = $1 ORDER BY id",
                )
                .bind(*kind)
                .fetch_all(pool)
                .await?;
                let mut v = Vec::with_capacity(rows.len());
                for r in &rows {
                    let id: i64 = r.try_get(0)?;
                    let kind: String = r.try_get(1)?;
                    let text: String = r.try_get(2)?;
                    v.push((id, kind, text));
                }
                v
            });
            for (id, kind, text) in rows {
                let doc = serde_json::from_str(&text)
                    .map_err(|e| crate::StoreError::json(format!("intel document {id}"), e))?;
                out.push((id, kind, doc));
            }
        }
        out.sort_by_key(|(id, _, _)| *id);
        Ok(out)
    }
}
