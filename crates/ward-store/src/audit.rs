//! The append-only, hash-chained audit log.
//!
//! Each entry's `hash` is SHA-256 over a canonical encoding of the entry (every field
//! length-prefixed, see [`audit_hash`]) that includes its `seq` and the previous entry's
//! hash. The `audit_head` row holds the last seq and hash and is updated in the same
//! transaction as each append. [`crate::Store::verify_audit_chain`] recomputes every hash
//! and checks the links, the seq sequence and the head, so it detects an edited entry
//! (hash mismatch), swapped or reordered entries (hash mismatch: seq is hashed), a deleted
//! entry in the middle (gap and broken link) and a deleted last entry (head mismatch).
//!
//! The limit: all of this lives in the same database. Someone who can write to it
//! directly can rewrite every hash from the tampered entry on *and* the head, and the
//! chain verifies again. Detecting that needs a copy of the head outside the database:
//! [`crate::Store::audit_head`] gives `(seq, hash)` for an operator or another system to
//! record (printed by `ward audit verify`), and [`crate::Store::verify_audit_chain_from`]
//! checks the chain still passes through such an anchor.

use crate::{with_read_pool, with_write_pool, Actor, Result, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub ts: i64,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub object: String,
    /// JSON text of the object before the change (canonical: sorted keys, no spaces).
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: hex SHA-256 over `ward-audit-v1`, then each field as an 8-byte
/// big-endian length and its UTF-8 bytes (absent JSON as length `u64::MAX`), in the order
/// seq, ts (decimal), actor, source, action, object, before, after, prev_hash.
#[allow(clippy::too_many_arguments)]
pub fn audit_hash(
    seq: i64,
    ts: i64,
    actor: &str,
    source: &str,
    action: &str,
    object: &str,
    before: Option<&str>,
    after: Option<&str>,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"ward-audit-v1");
    let mut field = |b: Option<&[u8]>| match b {
        Some(b) => {
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
        None => h.update(u64::MAX.to_be_bytes()),
    };
    field(Some(seq.to_string().as_bytes()));
    field(Some(ts.to_string().as_bytes()));
    field(Some(actor.as_bytes()));
    field(Some(source.as_bytes()));
    field(Some(action.as_bytes()));
    field(Some(object.as_bytes()));
    field(before.map(str::as_bytes));
    field(after.map(str::as_bytes));
    field(Some(prev_hash.as_bytes()));
    hex::encode(h.finalize())
}

impl AuditEntry {
    fn expected_hash(&self) -> String {
        audit_hash(
            self.seq,
            self.ts,
            &self.actor,
            &self.source,
            &self.action,
            &self.object,
            self.before.as_deref(),
            self.after.as_deref(),
            &self.prev_hash,
        )
    }
}

/// What verification found wrong (the first problem in seq order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The entry's content does not match its hash: edited, or moved to another seq.
    HashMismatch { seq: i64 },
    /// The entry does not point at the hash of the entry before it.
    BrokenLink { seq: i64 },
    /// Seq numbers jump: entries between were deleted.
    Gap { expected: i64, found: i64 },
    /// The chain does not end where the head says: the last entries were deleted, or
    /// entries were appended around the store.
    HeadMismatch { head_seq: i64, last_seq: i64 },
    /// The chain does not pass through the given anchor.
    AnchorMismatch { seq: i64 },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditProblem::HashMismatch { seq } => {
                write!(f, "entry {seq} was altered (its hash does not match its content)")
            }
            AuditProblem::BrokenLink { seq } => write!(
                f,
                "entry {seq} does not follow the entry before it (reordered or deleted entries)"
            ),
            AuditProblem::Gap { expected, found } => {
                write!(f, "entries {expected}..{found} are missing (deleted)")
            }
            AuditProblem::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the chain ends at entry {last_seq} but the head records {head_seq} (last entries deleted)"
            ),
            AuditProblem::AnchorMismatch { seq } => {
                write!(f, "the chain no longer matches the recorded anchor at entry {seq}")
            }
        }
    }
}

/// The result of [`Store::verify_audit_chain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub entries: u64,
    pub head_seq: i64,
    pub head_hash: String,
    /// `None` when the chain verifies.
    pub problem: Option<AuditProblem>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Appends an audit entry inside an open transaction `$tx` (any backend). Evaluates to
/// `Result<i64, StoreError>` (the new seq).
///
/// The head row is updated first: that takes the row lock (PostgreSQL) or the write lock
/// (SQLite) before anything is read, so concurrent appenders queue instead of forking the
/// chain.
macro_rules! audit_append {
    ($tx:expr, $actor:expr, $action:expr, $object:expr, $before:expr, $after:expr) => {{
        async {
            let actor: &$crate::Actor = $actor;
            let action: &str = $action;
            let object: &str = $object;
            let before: Option<String> = $before;
            let after: Option<String> = $after;
            use sqlx::Row as _;
            let row =
                sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(&mut *$tx)
                    .await?;
            let seq: i64 = row.try_get("seq")?;
            let prev: String = row.try_get("hash")?;
            let ts = $crate::now_micros();
            let source = actor.source.clone().unwrap_or_default();
            let hash = $crate::audit::audit_hash(
                seq,
                ts,
                &actor.name,
                &source,
                action,
                object,
                before.as_deref(),
                after.as_deref(),
                &prev,
            );
            sqlx::query(
                "INSERT INTO audit_log (seq, ts, actor, source, action, object, before, after, \
                 prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(seq)
            .bind(ts)
            .bind(&actor.name)
            .bind(&source)
            .bind(action)
            .bind(object)
            .bind(&before)
            .bind(&after)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *$tx)
            .await?;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&hash)
                .execute(&mut *$tx)
                .await?;
            Ok::<i64, $crate::StoreError>(seq)
        }
        .await
    }};
}
pub(crate) use audit_append;

/// Canonical JSON text (serde_json's maps are sorted by key; compact form).
pub(crate) fn canonical_json<T: Serialize + ?Sized>(v: &T) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| serde_json::to_string(&v).ok())
}

fn entry_from_row<R: Row>(r: &R) -> Result<AuditEntry, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
{
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        ts: r.try_get("ts")?,
        actor: r.try_get("actor")?,
        source: r.try_get("source")?,
        action: r.try_get("action")?,
        object: r.try_get("object")?,
        before: r.try_get("before")?,
        after: r.try_get("after")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

const ENTRY_COLUMNS: &str =
    "seq, ts, actor, source, action, object, before, after, prev_hash, hash";

impl Store {
    /// Appends an entry (for changes made outside the store's own audited methods, such
    /// as logins). `before`/`after` are stored as canonical JSON.
    pub async fn append_audit(
        &self,
        actor: &Actor,
        action: &str,
        object: &str,
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) -> Result<i64> {
        let before = before.and_then(canonical_json);
        let after = after.and_then(canonical_json);
        let seq = with_write_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            let seq = audit_append!(tx, actor, action, object, before, after)?;
            tx.commit().await?;
            seq
        });
        Ok(seq)
    }

    /// Entries with `seq > after_seq`, oldest first, at most `limit`.
    pub async fn audit_entries(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        let out = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
                .iter()
                .map(entry_from_row)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// The chain head: the last seq and its hash, as recorded in `audit_head`.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let out = with_read_pool!(self, |pool| {
            let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(pool)
                .await?;
            (r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?)
        });
        Ok(out)
    }

    /// Verifies the whole chain (streaming it in pages).
    pub async fn verify_audit_chain(&self) -> Result<AuditReport> {
        self.verify_audit_chain_from(None).await
    }

    /// Verifies the chain and, with `anchor = Some((seq, hash))` recorded earlier outside
    /// the database, that the entry `seq` still has that hash.
    pub async fn verify_audit_chain_from(
        &self,
        anchor: Option<(i64, &str)>,
    ) -> Result<AuditReport> {
        // Read the head and the entries in one read transaction so that a concurrent
        // append cannot look like a head mismatch.
        let begin = match self.kind() {
            crate::BackendKind::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            crate::BackendKind::Sqlite => "BEGIN",
        };
        let (head_seq, head_hash, entries) = with_read_pool!(self, |pool| {
            let mut tx = pool.begin_with(begin).await?;
            let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let head_seq: i64 = r.try_get("seq")?;
            let head_hash: String = r.try_get("hash")?;
            let sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *tx)
                .await?;
            let entries = rows
                .iter()
                .map(entry_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().await?;
            (head_seq, head_hash, entries)
        });
        let problem = check_chain(&entries, head_seq, &head_hash, anchor);
        Ok(AuditReport {
            entries: entries.len() as u64,
            head_seq,
            head_hash,
            problem,
        })
    }
}

/// The first problem of a chain read in seq order, if any.
pub(crate) fn check_chain(
    entries: &[AuditEntry],
    head_seq: i64,
    head_hash: &str,
    anchor: Option<(i64, &str)>,
) -> Option<AuditProblem> {
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut expected_seq = 1i64;
    let mut anchor_seen = false;
    for e in entries {
        if e.seq != expected_seq {
            return Some(AuditProblem::Gap {
                expected: expected_seq,
                found: e.seq,
            });
        }
        if e.expected_hash() != e.hash {
            return Some(AuditProblem::HashMismatch { seq: e.seq });
        }
        if e.prev_hash != prev_hash {
            return Some(AuditProblem::BrokenLink { seq: e.seq });
        }
        if let Some((aseq, ahash)) = anchor {
            if aseq == e.seq {
                if ahash != e.hash {
                    return Some(AuditProblem::AnchorMismatch { seq: aseq });
                }
                anchor_seen = true;
            }
        }
        prev_hash = e.hash.clone();
        expected_seq = e.seq.saturating_add(1);
    }
    let last_seq = expected_seq - 1;
    if last_seq != head_seq || prev_hash != head_hash {
        return Some(AuditProblem::HeadMismatch { head_seq, last_seq });
    }
    if let Some((aseq, _)) = anchor {
        if !anchor_seen && aseq != 0 {
            return Some(AuditProblem::AnchorMismatch { seq: aseq });
        }
    }
    None
}
