//! Findings and their status lifecycle, every change kept in `finding_history` (who, when,
//! why) and the audit log, in the same transaction.

use crate::audit::{audit_append, canonical_json};
use crate::{
    now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, Finding, FindingChange,
    FindingStatus, NewFinding, Result, Store, StoreError,
};
use sqlx::Row;

fn status(s: &str) -> Result<FindingStatus, sqlx::Error> {
    FindingStatus::parse(s)
        .ok_or_else(|| sqlx::Error::Decode(format!("finding status {s:?}").into()))
}

fn finding_of<R: Row>(r: &R) -> Result<Finding, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
{
    let explanation: String = r.try_get("explanation")?;
    Ok(Finding {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        vulnerability: r.try_get("vulnerability")?,
        document: r.try_get("document")?,
        status: status(&r.try_get::<String, _>("status")?)?,
        reason: r.try_get("reason")?,
        accepted_until: r.try_get("accepted_until")?,
        confidence: r.try_get("confidence")?,
        explanation: serde_json::from_str(&explanation).unwrap_or(serde_json::Value::Null),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "id, device_id, vulnerability, document, status, reason, accepted_until, \
    confidence, explanation, created_at, updated_at";

impl Store {
    /// Inserts findings (status `open`, with a creation history row) or refreshes the
    /// explanation and confidence of existing ones, keeping their status.
    pub async fn upsert_findings(&self, findings: &[NewFinding], actor: &Actor) -> Result<()> {
        let now = now_micros();
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for f in findings {
                let explanation = canonical_json(&f.explanation).unwrap_or_else(|| "null".into());
                // A finding of a merged-away device belongs to the device it was merged
                // into; and a device has one finding per vulnerability, whatever its id.
                let device_id: String =
                    match sqlx::query("SELECT target FROM device_merges WHERE alias = $1")
                        .bind(&f.device_id)
                        .fetch_optional(&mut *tx)
                        .await?
                    {
                        Some(r) => r.try_get("target")?,
                        None => f.device_id.clone(),
                    };
                let id: String = match sqlx::query(
                    "SELECT id FROM findings WHERE device_id = $1 AND vulnerability = $2",
                )
                .bind(&device_id)
                .bind(&f.vulnerability)
                .fetch_optional(&mut *tx)
                .await?
                {
                    Some(r) => r.try_get("id")?,
                    None => f.id.clone(),
                };
                let created = sqlx::query(
                    "INSERT INTO findings (id, device_id, vulnerability, document, status, reason, \
                     confidence, explanation, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 'open', '', $5, $6, $7, $7) \
                     ON CONFLICT (id) DO NOTHING RETURNING id",
                )
                .bind(&id)
                .bind(&device_id)
                .bind(&f.vulnerability)
                .bind(f.document)
                .bind(f.confidence)
                .bind(&explanation)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if created.is_some() {
                    sqlx::query(
                        "INSERT INTO finding_history (finding_id, ts, actor, from_status, \
                         to_status, reason) VALUES ($1, $2, $3, NULL, 'open', 'created')",
                    )
                    .bind(&id)
                    .bind(now)
                    .bind(&actor.name)
                    .execute(&mut *tx)
                    .await?;
                    let after = canonical_json(f);
                    audit_append!(
                        tx,
                        actor,
                        "finding.create",
                        &format!("finding:{id}"),
                        None,
                        after
                    )?;
                } else {
                    sqlx::query(
                        "UPDATE findings SET confidence = $1, explanation = $2, document = $3, \
                         updated_at = $4 WHERE id = $5",
                    )
                    .bind(f.confidence)
                    .bind(&explanation)
                    .bind(f.document)
                    .bind(now)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Changes a finding's status with a reason; `risk_accepted` needs `accepted_until`
    /// (micros, in the future). Writes the history row and an audit entry in the same
    /// transaction.
    pub async fn set_finding_status(
        &self,
        id: &str,
        to: FindingStatus,
        reason: &str,
        accepted_until: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let now = now_micros();
        let accepted_until = match (to, accepted_until) {
            (FindingStatus::RiskAccepted, Some(t)) if t > now => Some(t),
            (FindingStatus::RiskAccepted, _) => {
                return Err(StoreError::invalid(
                    "finding status",
                    "risk_accepted needs an expiry in the future",
                ))
            }
            _ => None,
        };
        let object = format!("finding:{id}");
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(row) =
                sqlx::query("SELECT status, reason, accepted_until FROM findings WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
            else {
                return Err(StoreError::NotFound {
                    what: "finding",
                    id: id.to_string(),
                });
            };
            let from: String = row.try_get("status")?;
            let before = canonical_json(&serde_json::json!({
                "status": from,
                "reason": row.try_get::<String, _>("reason")?,
                "accepted_until": row.try_get::<Option<i64>, _>("accepted_until")?,
            }));
            sqlx::query(
                "UPDATE findings SET status = $1, reason = $2, accepted_until = $3, \
                 updated_at = $4 WHERE id = $5",
            )
            .bind(to.as_str())
            .bind(reason)
            .bind(accepted_until)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO finding_history (finding_id, ts, actor, from_status, to_status, \
                 reason, accepted_until) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(now)
            .bind(&actor.name)
            .bind(&from)
            .bind(to.as_str())
            .bind(reason)
            .bind(accepted_until)
            .execute(&mut *tx)
            .await?;
            let after = canonical_json(&serde_json::json!({
                "status": to.as_str(), "reason": reason, "accepted_until": accepted_until,
            }));
            audit_append!(tx, actor, "finding.status", &object, before, after)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// One finding.
    pub async fn finding(&self, id: &str) -> Result<Option<Finding>> {
        let sql = format!("SELECT {COLUMNS} FROM findings WHERE id = $1");
        let out = with_read_pool!(self, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Some(finding_of(&r)?),
                None => None,
            }
        });
        Ok(out)
    }

    /// Findings of a device, by vulnerability.
    pub async fn findings_of_device(&self, device_id: &str) -> Result<Vec<Finding>> {
        let sql =
            format!("SELECT {COLUMNS} FROM findings WHERE device_id = $1 ORDER BY vulnerability");
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(device_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(finding_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// The status history of a finding, oldest first.
    pub async fn finding_history(&self, id: &str) -> Result<Vec<FindingChange>> {
        let out = with_read_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT ts, actor, from_status, to_status, reason, accepted_until \
                 FROM finding_history WHERE finding_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(FindingChange {
                    ts: r.try_get("ts")?,
                    actor: r.try_get("actor")?,
                    from: r
                        .try_get::<Option<String>, _>("from_status")?
                        .map(|s| status(&s))
                        .transpose()?,
                    to: status(&r.try_get::<String, _>("to_status")?)?,
                    reason: r.try_get("reason")?,
                    accepted_until: r.try_get("accepted_until")?,
                });
            }
            out
        });
        Ok(out)
    }

    /// Reopens risk acceptances whose expiry is at or before `now`; returns how many.
    pub async fn expire_risk_acceptances(&self, now: i64, actor: &Actor) -> Result<u64> {
        let expired: Vec<String> = with_read_pool!(self, |pool| {
            sqlx::query(
                "SELECT id FROM findings WHERE status = 'risk_accepted' AND accepted_until <= $1",
            )
            .bind(now)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()?
        });
        for id in &expired {
            self.set_finding_status(
                id,
                FindingStatus::Open,
                "risk acceptance expired",
                None,
                actor,
            )
            .await?;
        }
        Ok(expired.len() as u64)
    }
}
