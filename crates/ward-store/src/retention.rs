//! Retention: forgetting old sensor facts.
//!
//! [`Store::prune_facts`] deletes the stored *facts* (observations, security observations
//! and flow edges) whose `last_seen` is older than a cutoff, and the sessions that have
//! expired, in one transaction with one audit entry carrying the counts.
//!
//! What it keeps, on purpose:
//! * `ingest_batches`: a batch id is what makes ingest idempotent. A sensor that replays an
//!   old batch (a spool delivered late, a restart over the same files) must still be told
//!   `duplicate` rather than re-add the facts retention just removed. The rows are small
//!   (one per batch, no facts).
//! * devices, overrides, findings, reviews, plans, intel and the audit log: these are
//!   people's decisions and the record of them, not raw sightings. A device whose facts
//!   were all pruned stays in the inventory (it will be marked stale by its `last_seen`).
//!
//! Facts are merged on ingest (counts add up, `last_seen` takes the maximum), so a fact
//! still being observed keeps a recent `last_seen` and survives; only sightings that have
//! not recurred since the cutoff go.

use crate::audit::{audit_append, canonical_json};
use crate::{now_micros, with_write_pool, Actor, BeginWrite, Result, Store};
use serde::{Deserialize, Serialize};

/// The fact tables, each with a `last_seen` column (microseconds).
const FACT_TABLES: [&str; 3] = ["observations", "security_observations", "edges"];

/// What [`Store::prune_facts`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// The cutoff: facts last seen before this time (microseconds) were deleted.
    pub before: i64,
    pub observations: u64,
    pub security_observations: u64,
    pub edges: u64,
    /// Sessions expired at the time of the prune.
    pub sessions: u64,
}

impl PruneReport {
    /// Facts deleted (all three tables).
    pub fn facts(&self) -> u64 {
        self.observations
            .saturating_add(self.security_observations)
            .saturating_add(self.edges)
    }

    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.facts().saturating_add(self.sessions)
    }
}

impl Store {
    /// Deletes facts (observations, security observations, edges) last seen before
    /// `before_micros`, and sessions expired now, in one transaction. When anything was
    /// deleted, one audit entry (`facts.prune`, object `facts`) records the cutoff and the
    /// counts in the same transaction; a run that finds nothing to delete writes none.
    ///
    /// Ingest batch ids, devices, findings, intel and the audit log are never touched (see
    /// the module documentation): a replayed old batch is still a duplicate.
    pub async fn prune_facts(&self, before_micros: i64, actor: &Actor) -> Result<PruneReport> {
        let now = now_micros();
        let report = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut facts = [0u64; FACT_TABLES.len()];
            for (n, table) in facts.iter_mut().zip(FACT_TABLES) {
                let sql = format!("DELETE FROM {table} WHERE last_seen < $1");
                *n = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(before_micros)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            let [observations, security_observations, edges] = facts;
            let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let report = PruneReport {
                before: before_micros,
                observations,
                security_observations,
                edges,
                sessions,
            };
            if report.total() > 0 {
                let after = canonical_json(&report);
                audit_append!(tx, actor, "facts.prune", "facts", None, after)?;
            }
            tx.commit().await?;
            report
        });
        Ok(report)
    }
}
