//! API tokens: the store keeps the SHA-256 of the token (the plaintext is shown once by
//! the server and never stored), its scopes, an optional site and expiry, and revocation.

use crate::audit::{audit_append, canonical_json};
use crate::{now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, Result, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A stored API token (without any secret but the hash, which is never serialised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    /// The user the token acts for (its roles bound what the scopes can grant).
    pub user_id: Option<String>,
    pub name: String,
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    pub scopes: Vec<String>,
    /// `None`: every site the user may see.
    pub site: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    /// Usable at `now`: not revoked, not expired.
    pub fn active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

fn audit_view(t: &ApiToken) -> serde_json::Value {
    serde_json::json!({
        "name": t.name, "user_id": t.user_id, "scopes": t.scopes, "site": t.site,
        "expires_at": t.expires_at, "revoked_at": t.revoked_at,
    })
}

const COLUMNS: &str = "id, user_id, name, token_hash, scopes, site, created_at, expires_at, \
    last_used_at, revoked_at";

fn token_of<R: Row>(r: &R) -> Result<ApiToken, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
{
    let scopes: String = r.try_get("scopes")?;
    let site: String = r.try_get("site")?;
    Ok(ApiToken {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        token_hash: r.try_get("token_hash")?,
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        site: (!site.is_empty()).then_some(site),
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

impl Store {
    /// Stores a new token (audited as `token.create`, without the hash).
    pub async fn create_token(&self, t: &ApiToken, actor: &Actor) -> Result<()> {
        if t.scopes.iter().any(|s| s.contains(',') || s.is_empty()) {
            return Err(crate::StoreError::invalid(
                "token scopes",
                "a scope is empty or contains a comma",
            ));
        }
        let after = canonical_json(&audit_view(t));
        let object = format!("token:{}", t.id);
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, site, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&t.id)
            .bind(&t.user_id)
            .bind(&t.name)
            .bind(&t.token_hash)
            .bind(t.scopes.join(","))
            .bind(t.site.as_deref().unwrap_or(""))
            .bind(t.created_at)
            .bind(t.expires_at)
            .execute(&mut *tx)
            .await?;
            audit_append!(tx, actor, "token.create", &object, None, after)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The token with this hash (active or not: the caller checks [`ApiToken::active`]).
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let out = with_read_pool!(self, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Some(token_of(&r)?),
                None => None,
            }
        });
        Ok(out)
    }

    /// The revision of what token authentication reads (migration 0006): it changes when a
    /// token is revoked, deleted or re-scoped, or its user is disabled, renamed, deleted or
    /// given other roles, by any writer. The server caches authenticated tokens under it.
    ///
    /// Read on every token-authenticated request: on SQLite through the `fastread` path,
    /// on the calling thread (one row by key).
    pub async fn auth_revision(&self) -> Result<i64> {
        self.revision(
            "SELECT rev FROM auth_revision WHERE id = 1",
            "reading the auth revision",
        )
        .await
    }

    /// One token by id.
    pub async fn token(&self, id: &str) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1");
        let out = with_read_pool!(self, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Some(token_of(&r)?),
                None => None,
            }
        });
        Ok(out)
    }

    /// Tokens, newest first; of one user when `user_id` is given.
    pub async fn list_tokens(&self, user_id: Option<&str>) -> Result<Vec<ApiToken>> {
        let sql = match user_id {
            Some(_) => format!(
                "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id"
            ),
            None => format!("SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id"),
        };
        let out = with_read_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some(u) = user_id {
                q = q.bind(u.to_string());
            }
            q.fetch_all(pool)
                .await?
                .iter()
                .map(token_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(out)
    }

    /// Revokes a token (audited as `token.revoke`). Returns false when it was already
    /// revoked; an unknown id is `NotFound`.
    pub async fn revoke_token(&self, id: &str, actor: &Actor) -> Result<bool> {
        let Some(before) = self.token(id).await? else {
            return Err(crate::StoreError::NotFound {
                what: "token",
                id: id.to_string(),
            });
        };
        if before.revoked_at.is_some() {
            return Ok(false);
        }
        let now = now_micros();
        let mut after = before.clone();
        after.revoked_at = Some(now);
        let before_json = canonical_json(&audit_view(&before));
        let after_json = canonical_json(&audit_view(&after));
        let object = format!("token:{id}");
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit_append!(tx, actor, "token.revoke", &object, before_json, after_json)?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// Records that a token was used (at most the time; cheap).
    pub async fn touch_token(&self, id: &str, now: i64) -> Result<()> {
        with_write_pool!(self, |pool| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
