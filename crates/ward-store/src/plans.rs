//! Mitigation plan actions (NHS step 2): one row per action of a device's plan, with a
//! status, owner and due date that people change on the plans board.

use crate::audit::{audit_append, canonical_json};
use crate::StoreError;
use crate::{now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, Result, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// Statuses of a plan action (as `ward_assess::plan::ActionStatus` names them).
pub const ACTION_STATUSES: &[&str] = &["proposed", "in_progress", "done", "cancelled"];

/// A plan action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAction {
    /// Stable for the same device, kind and title: re-planning keeps people's changes.
    pub id: String,
    pub device_id: String,
    pub kind: String,
    pub title: String,
    pub details: String,
    pub url: String,
    pub status: String,
    pub owner: String,
    /// YYYY-MM-DD or empty.
    pub due: String,
    /// Finding ids the action addresses.
    pub findings: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A plan action joined with its device's name, for the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardAction {
    pub action: PlanAction,
    pub device_name: String,
    pub site: String,
}

fn action_of<R: Row>(r: &R) -> Result<PlanAction, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let findings: String = r.try_get("findings")?;
    Ok(PlanAction {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        details: r.try_get("details")?,
        url: r.try_get("url")?,
        status: r.try_get("status")?,
        owner: r.try_get("owner")?,
        due: r.try_get("due")?,
        findings: serde_json::from_str(&findings).unwrap_or_default(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const ACTION_COLUMNS: &str = "a.id, a.device_id, a.kind, a.title, a.details, a.url, a.status, \
     a.owner, a.due, a.findings, a.created_at, a.updated_at";

impl Store {
    /// Adds plan actions; an action whose id exists keeps its status, owner and due date
    /// (people's decisions) and gets the new title, details and findings.
    pub async fn upsert_plan_actions(&self, actions: &[PlanAction], actor: &Actor) -> Result<()> {
        if actions.is_empty() {
            return Ok(());
        }
        let now = now_micros();
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for a in actions {
                if !ACTION_STATUSES.contains(&a.status.as_str()) {
                    return Err(StoreError::invalid(
                        "plan action",
                        format!("unknown status {:?}", a.status),
                    ));
                }
                sqlx::query(
                    "INSERT INTO plan_actions (id, device_id, kind, title, details, url, status, \
                     owner, due, findings, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                     ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
                     details = excluded.details, url = excluded.url, findings = excluded.findings",
                )
                .bind(&a.id)
                .bind(&a.device_id)
                .bind(&a.kind)
                .bind(&a.title)
                .bind(&a.details)
                .bind(&a.url)
                .bind(&a.status)
                .bind(&a.owner)
                .bind(&a.due)
                .bind(canonical_json(&a.findings).unwrap_or_else(|| "[]".into()))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let after = canonical_json(&serde_json::json!({ "actions": actions.len() }));
            audit_append!(tx, actor, "plan.upsert", "plan_actions", None, after)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// A device's plan actions, by due date.
    pub async fn plan_of_device(&self, device_id: &str) -> Result<Vec<PlanAction>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM plan_actions a WHERE a.device_id = $1 ORDER BY a.due, a.id"
        );
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(device_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(action_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// Actions for the plans board (optionally of one status and one site), by due date.
    pub async fn plan_board(
        &self,
        status: Option<&str>,
        site: Option<&str>,
        limit: u32,
    ) -> Result<Vec<BoardAction>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS}, d.name AS device_name, d.site AS site FROM plan_actions a \
             JOIN devices d ON d.id = a.device_id \
             WHERE ($1 = '' OR a.status = $1) AND ($2 = '' OR d.site = $2) \
             ORDER BY a.due = '', a.due, a.id LIMIT $3"
        );
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(status.unwrap_or(""))
                .bind(site.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| {
                    Ok(BoardAction {
                        action: action_of(r)?,
                        device_name: r.try_get("device_name")?,
                        site: r.try_get("site")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Changes an action's status and owner (audited).
    pub async fn update_plan_action(
        &self,
        id: &str,
        status: &str,
        owner: &str,
        actor: &Actor,
    ) -> Result<()> {
        if !ACTION_STATUSES.contains(&status) {
            return Err(StoreError::invalid(
                "plan action",
                format!("unknown status {status:?}"),
            ));
        }
        let owner = owner.trim();
        if owner.is_empty() || owner.chars().count() > 200 {
            return Err(StoreError::invalid(
                "plan action",
                "the owner must be 1 to 200 characters",
            ));
        }
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query("SELECT status, owner FROM plan_actions WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Err(StoreError::NotFound {
                    what: "plan action",
                    id: id.to_string(),
                });
            };
            let before = canonical_json(&serde_json::json!({
                "status": row.try_get::<String, _>("status")?,
                "owner": row.try_get::<String, _>("owner")?,
            }));
            sqlx::query(
                "UPDATE plan_actions SET status = $1, owner = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(status)
            .bind(owner)
            .bind(now_micros())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let after = canonical_json(&serde_json::json!({"status": status, "owner": owner}));
            audit_append!(
                tx,
                actor,
                "plan.action",
                &format!("plan_action:{id}"),
                before,
                after
            )?;
            tx.commit().await?;
        });
        Ok(())
    }
}
