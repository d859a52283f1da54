//! Browser sessions. The store keeps only SHA-256 hashes of the session id and of its CSRF
//! token (the server computes them), so a copy of the database gives no usable session.

use crate::{with_read_pool, with_write_pool, Result, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_hash: String,
    pub source: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session.
    pub async fn create_session(&self, s: &Session) -> Result<()> {
        with_write_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_hash, source, created_at, \
                 last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&s.id_hash)
            .bind(&s.user_id)
            .bind(&s.csrf_hash)
            .bind(&s.source)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .bind(s.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session with this id hash, if it exists and has not expired at `now`.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<Session>> {
        let out = with_read_pool!(self, |pool| {
            match sqlx::query(
                "SELECT id_hash, user_id, csrf_hash, source, created_at, last_seen_at, \
                 expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
            )
            .bind(id_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
            {
                None => None,
                Some(r) => Some(Session {
                    id_hash: r.try_get("id_hash")?,
                    user_id: r.try_get("user_id")?,
                    csrf_hash: r.try_get("csrf_hash")?,
                    source: r.try_get("source")?,
                    created_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                    expires_at: r.try_get("expires_at")?,
                }),
            }
        });
        Ok(out)
    }

    /// Ends one session (logout). Returns whether it existed.
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        let n = with_write_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Ends every session of a user.
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64> {
        let n = with_write_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Deletes sessions expired at `now`.
    pub async fn purge_expired_sessions(&self, now: i64) -> Result<u64> {
        let n = with_write_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
