//! Local and single-sign-on users and their role grants. Passwords arrive already hashed
//! (argon2id, by the server): the store never sees a password. Every change made by a
//! person is appended to the audit log in the same transaction; the audit entries carry
//! the user's name, roles and flags, never a password hash.

use crate::audit::{audit_append, canonical_json};
use crate::{now_micros, with_read_pool, with_write_pool, Actor, BeginWrite, Result, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A role granted to a user, optionally for one site only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    /// `admin`, `security_analyst`, `clinical_engineer`, `auditor`, `sensor`.
    pub role: String,
    /// `None`: every site.
    pub site: Option<String>,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// The PHC string (argon2id); `None` for single-sign-on users. Never serialised.
    #[serde(skip_serializing, default)]
    pub password_hash: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub roles: Vec<RoleGrant>,
}

/// The outcome of [`Store::record_login_failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailure {
    /// Failures counted since the last success or the last expired lock.
    pub failed: i64,
    /// The lock in force after this failure.
    pub locked_until: Option<i64>,
    /// This failure set the lock (it was not locked before).
    pub newly_locked: bool,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub must_change_password: bool,
    pub roles: Vec<RoleGrant>,
}

const COLUMNS: &str = "id, username, display_name, password_hash, oidc_issuer, oidc_subject, \
    disabled, must_change_password, failed_logins, locked_until, created_at, updated_at";

fn user_of<R: Row>(r: &R) -> Result<User, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
{
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        oidc_issuer: r.try_get("oidc_issuer")?,
        oidc_subject: r.try_get("oidc_subject")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        roles: Vec::new(),
    })
}

/// What the audit log keeps of a user (no secrets).
fn audit_view(u: &User) -> serde_json::Value {
    serde_json::json!({
        "username": u.username,
        "display_name": u.display_name,
        "oidc_issuer": u.oidc_issuer,
        "disabled": u.disabled,
        "must_change_password": u.must_change_password,
        "roles": u.roles,
    })
}

impl Store {
    /// Creates a user with its role grants (audited as `user.create`).
    pub async fn create_user(&self, user: &NewUser, actor: &Actor) -> Result<User> {
        let now = now_micros();
        let mut roles = user.roles.clone();
        roles.sort();
        roles.dedup();
        let created = User {
            id: user.id.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            password_hash: user.password_hash.clone(),
            oidc_issuer: user.oidc_issuer.clone(),
            oidc_subject: user.oidc_subject.clone(),
            disabled: false,
            must_change_password: user.must_change_password,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
            updated_at: now,
            roles,
        };
        let after = canonical_json(&audit_view(&created));
        let object = format!("user:{}", created.username);
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO users (id, username, display_name, password_hash, oidc_issuer, \
                 oidc_subject, disabled, must_change_password, failed_logins, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 0, $8, $8)",
            )
            .bind(&created.id)
            .bind(&created.username)
            .bind(&created.display_name)
            .bind(&created.password_hash)
            .bind(&created.oidc_issuer)
            .bind(&created.oidc_subject)
            .bind(i64::from(created.must_change_password))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for g in &created.roles {
                sqlx::query("INSERT INTO user_roles (user_id, role, site) VALUES ($1, $2, $3)")
                    .bind(&created.id)
                    .bind(&g.role)
                    .bind(g.site.as_deref().unwrap_or(""))
                    .execute(&mut *tx)
                    .await?;
            }
            audit_append!(tx, actor, "user.create", &object, None, after)?;
            tx.commit().await?;
        });
        Ok(created)
    }

    /// How many users exist (0 on first run).
    pub async fn user_count(&self) -> Result<u64> {
        let n = with_read_pool!(self, |pool| {
            sqlx::query("SELECT COUNT(*) AS n FROM users")
                .fetch_one(pool)
                .await?
                .try_get::<i64, _>("n")?
        });
        Ok(crate::u(n))
    }

    async fn user_where(&self, clause: &str, a: &str, b: Option<&str>) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE {clause}");
        let user = with_read_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(a.to_string());
            if let Some(b) = b {
                q = q.bind(b.to_string());
            }
            match q.fetch_optional(pool).await? {
                Some(r) => Some(user_of(&r)?),
                None => None,
            }
        });
        match user {
            Some(mut u) => {
                u.roles = self.user_roles(&u.id).await?;
                Ok(Some(u))
            }
            None => Ok(None),
        }
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        self.user_where("id = $1", id, None).await
    }

    /// A user by user name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        self.user_where("username = $1", username, None).await
    }

    /// A single-sign-on user by issuer and subject.
    pub async fn user_by_oidc(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
        self.user_where(
            "oidc_issuer = $1 AND oidc_subject = $2",
            issuer,
            Some(subject),
        )
        .await
    }

    /// The role grants of a user, sorted.
    pub async fn user_roles(&self, user_id: &str) -> Result<Vec<RoleGrant>> {
        let out = with_read_pool!(self, |pool| {
            sqlx::query("SELECT role, site FROM user_roles WHERE user_id = $1 ORDER BY role, site")
                .bind(user_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| {
                    let site: String = r.try_get("site")?;
                    Ok(RoleGrant {
                        role: r.try_get("role")?,
                        site: (!site.is_empty()).then_some(site),
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(out)
    }

    /// Every user with its roles, by user name.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
        let mut users = with_read_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?
                .iter()
                .map(user_of)
                .collect::<Result<Vec<_>, _>>()?
        });
        for u in &mut users {
            u.roles = self.user_roles(&u.id).await?;
        }
        Ok(users)
    }

    /// Applies `change` to a user inside one transaction, audited with the user's view
    /// before and after.
    async fn change_user(
        &self,
        id: &str,
        action: &str,
        actor: &Actor,
        change: UserChange<'_>,
    ) -> Result<User> {
        let Some(before) = self.user(id).await? else {
            return Err(crate::StoreError::NotFound {
                what: "user",
                id: id.to_string(),
            });
        };
        let mut after = before.clone();
        match &change {
            UserChange::Roles(roles) => {
                let mut r = roles.to_vec();
                r.sort();
                r.dedup();
                after.roles = r;
            }
            UserChange::Disabled(d) => after.disabled = *d,
            UserChange::Password { hash, must_change } => {
                after.password_hash = Some((*hash).to_string());
                after.must_change_password = *must_change;
                after.failed_logins = 0;
                after.locked_until = None;
            }
        }
        let now = now_micros();
        after.updated_at = now;
        let object = format!("user:{}", before.username);
        let before_json = canonical_json(&audit_view(&before));
        let mut after_json = audit_view(&after);
        if matches!(change, UserChange::Password { .. }) {
            after_json["password_changed"] = serde_json::Value::Bool(true);
        }
        let after_json = canonical_json(&after_json);
        with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            match &change {
                UserChange::Roles(_) => {
                    sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    for g in &after.roles {
                        sqlx::query(
                            "INSERT INTO user_roles (user_id, role, site) VALUES ($1, $2, $3)",
                        )
                        .bind(id)
                        .bind(&g.role)
                        .bind(g.site.as_deref().unwrap_or(""))
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                UserChange::Disabled(d) => {
                    sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
                        .bind(i64::from(*d))
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    if *d {
                        // A disabled user's sessions end now.
                        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                UserChange::Password { hash, must_change } => {
                    sqlx::query(
                        "UPDATE users SET password_hash = $1, must_change_password = $2, \
                         failed_logins = 0, locked_until = NULL, updated_at = $3 WHERE id = $4",
                    )
                    .bind(*hash)
                    .bind(i64::from(*must_change))
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    // A new password ends every existing session of the user.
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            audit_append!(tx, actor, action, &object, before_json, after_json)?;
            tx.commit().await?;
        });
        Ok(after)
    }

    /// Replaces a user's role grants (audited as `user.roles`).
    pub async fn set_user_roles(
        &self,
        id: &str,
        roles: &[RoleGrant],
        actor: &Actor,
    ) -> Result<User> {
        self.change_user(id, "user.roles", actor, UserChange::Roles(roles))
            .await
    }

    /// Disables (ending the user's sessions) or enables a user (audited).
    pub async fn set_user_disabled(&self, id: &str, disabled: bool, actor: &Actor) -> Result<User> {
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.change_user(id, action, actor, UserChange::Disabled(disabled))
            .await
    }

    /// Sets a new password hash, clears the lockout, ends the user's sessions (audited as
    /// `user.password`; the hash is not in the audit entry).
    pub async fn set_password_hash(
        &self,
        id: &str,
        hash: &str,
        must_change: bool,
        actor: &Actor,
    ) -> Result<User> {
        self.change_user(
            id,
            "user.password",
            actor,
            UserChange::Password { hash, must_change },
        )
        .await
    }

    /// Counts a failed login at time `now`; from `threshold` failures on, the account is
    /// locked until `lock_until`. While a lock holds the count does not grow (and the lock
    /// is not extended); once a lock has expired the count restarts, so the first wrong
    /// password after a lock counts as 1, not as `threshold + 1`. Returns the failure
    /// count, the lock in force and whether this call set it.
    pub async fn record_login_failure(
        &self,
        id: &str,
        now: i64,
        threshold: i64,
        lock_until: i64,
    ) -> Result<LoginFailure> {
        let out = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Every right-hand side sees the row's old values (SQLite and PostgreSQL).
            let r = sqlx::query(
                "UPDATE users SET \
                   failed_logins = CASE \
                     WHEN locked_until IS NULL THEN failed_logins + 1 \
                     WHEN locked_until > $2 THEN failed_logins \
                     ELSE 1 END, \
                   locked_until = CASE \
                     WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL \
                     ELSE locked_until END \
                 WHERE id = $1 \
                 RETURNING failed_logins, locked_until",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let out = match r {
                None => LoginFailure::default(),
                Some(r) => {
                    let failed: i64 = r.try_get("failed_logins")?;
                    let locked: Option<i64> = r.try_get("locked_until")?;
                    if locked.is_none() && failed >= threshold {
                        sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                            .bind(lock_until)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        LoginFailure {
                            failed,
                            locked_until: Some(lock_until),
                            newly_locked: true,
                        }
                    } else {
                        LoginFailure {
                            failed,
                            locked_until: locked,
                            newly_locked: false,
                        }
                    }
                }
            };
            tx.commit().await?;
            out
        });
        Ok(out)
    }

    /// A successful login clears the failure count and any expired lock.
    pub async fn record_login_success(&self, id: &str) -> Result<()> {
        with_write_pool!(self, |pool| {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

enum UserChange<'a> {
    Roles(&'a [RoleGrant]),
    Disabled(bool),
    Password { hash: &'a str, must_change: bool },
}
