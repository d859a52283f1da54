//! Who is calling. Owner: the server-core helper (sessions, tokens, passwords, throttling).
//!
//! * Passwords: argon2id (the `argon2` crate's defaults, OWASP's minimum m=19 MiB, t=2,
//!   p=1), a policy ([`check_password_policy`]), per-account lockout after
//!   `lockout_threshold` failures in a row (kept in the store, shared by replicas) and a
//!   per-client-address throttle (in memory).
//! * Sessions: a 256-bit random id in an `HttpOnly; SameSite=Strict` cookie (`Secure` with
//!   TLS); the store keeps only its SHA-256. A new id is issued at every login (no
//!   fixation). Each session has a CSRF token (synchronizer token pattern) that every
//!   state-changing request authenticated by the cookie must repeat in `X-CSRF-Token` or a
//!   `csrf` form field.
//! * API tokens: `ward_` + 256 random bits, shown once, stored as SHA-256, with scopes
//!   ([`crate::rbac::scope_permissions`]), an optional site and expiry, revocable.

use crate::error::ApiError;
use crate::rbac::{Permission, Role};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use ward_store::{now_micros, Actor, ApiToken, NewUser, RoleGrant, Session, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ward_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A browser session cookie (state-changing requests also need the CSRF token).
    Session,
    /// An API token (`Authorization: Bearer ...`).
    Token,
}

/// The authenticated caller, put into the request extensions by [`crate::rbac::authorize`]
/// and taken by handlers as `Extension<CurrentUser>`.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: String,
    pub username: String,
    pub roles: Vec<Role>,
    /// Sites the caller may see; empty = all sites.
    pub sites: Vec<String>,
    pub method: AuthMethod,
    /// The client address, for the audit log.
    pub source: Option<String>,
    /// A token's scopes as permissions (`None` for sessions: the roles alone decide).
    pub token_scopes: Option<Vec<Permission>>,
    /// The token's id when authenticated by token.
    pub token_id: Option<String>,
    /// The SHA-256 of the session id when authenticated by session.
    pub session_hash: Option<String>,
    /// The SHA-256 of the session's CSRF token.
    pub csrf_hash: Option<String>,
    /// A first-run or reset password must be changed before anything else.
    pub must_change_password: bool,
}

impl CurrentUser {
    /// The caller as an audit actor (`user` or `token:<id>` on behalf of `user`).
    pub fn actor(&self) -> Actor {
        let name = match &self.token_id {
            Some(t) => format!("{} (token:{t})", self.username),
            None => self.username.clone(),
        };
        Actor::new(name, self.source.clone())
    }
}

/// Hex SHA-256.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Hex SHA-256 of bytes.
pub fn sha256_bytes_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// 256 random bits from the operating system, hex.
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// A random id (128 bits, hex).
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// A random password of 24 characters (letters and digits without look-alikes).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(24);
    let mut rng = rand::rngs::OsRng;
    while out.len() < 24 {
        let b = (rng.next_u32() & 0xff) as usize;
        // Rejection sampling keeps the choice uniform.
        if b < 256 - 256 % ALPHABET.len() {
            out.push(ALPHABET[b % ALPHABET.len()] as char);
        }
    }
    out
}

/// The client's address (from the connection), for throttling and the audit log.
pub fn client_source(req: &Request) -> Option<String> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// argon2id hash (PHC string) of a password.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(h) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A few passwords that pass the length rule but every guesser tries first.
const COMMON: &[&str] = &[
    "password1234",
    "123456789012",
    "qwertyuiopas",
    "administrator",
    "letmein12345",
    "changeme1234",
    "welcome12345",
    "passwordpassword",
];

/// The password policy: at least 12 characters (at most 1024), not the user name and not
/// containing it, not one repeated character, not a well-known password.
pub fn check_password_policy(username: &str, password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 12 {
        return Err("the password must have at least 12 characters".into());
    }
    if n > 1024 {
        return Err("the password must have at most 1024 characters".into());
    }
    let lower = password.to_lowercase();
    let user = username.to_lowercase();
    if !user.is_empty() && lower.contains(&user) {
        return Err("the password must not contain the user name".into());
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Err("the password must not be one repeated character".into());
        }
    }
    if COMMON.contains(&lower.as_str()) {
        return Err("the password is too common".into());
    }
    Ok(())
}

/// The roles and visible sites of a user's grants (unknown role names are ignored). A grant
/// without a site makes every site visible.
pub fn roles_and_sites(grants: &[RoleGrant]) -> (Vec<Role>, Vec<String>) {
    let mut roles: Vec<Role> = Vec::new();
    let mut sites: Vec<String> = Vec::new();
    let mut all_sites = false;
    for g in grants {
        let Some(r) = Role::parse(&g.role) else {
            continue;
        };
        if !roles.contains(&r) {
            roles.push(r);
        }
        match &g.site {
            None => all_sites = true,
            Some(s) => {
                if !sites.contains(s) {
                    sites.push(s.clone());
                }
            }
        }
    }
    if all_sites {
        sites.clear();
    }
    sites.sort();
    (roles, sites)
}

/// Creates a session for `user_id`; returns `(cookie value, CSRF token)`. The plaintext of
/// both leaves the server only in the login answer.
pub async fn create_session(
    state: &AppState,
    user_id: &str,
    source: Option<String>,
) -> Result<(String, String), ApiError> {
    let id = random_secret();
    let csrf = random_secret();
    let now = now_micros();
    let ttl = state
        .config
        .session_ttl_secs
        .max(60)
        .saturating_mul(1_000_000);
    state
        .store
        .create_session(&Session {
            id_hash: sha256_hex(&id),
            user_id: user_id.to_string(),
            csrf_hash: sha256_hex(&csrf),
            source: source.unwrap_or_default(),
            created_at: now,
            last_seen_at: now,
            expires_at: now.saturating_add(ttl),
        })
        .await?;
    Ok((id, csrf))
}

/// The `Set-Cookie` value for a session id.
pub fn session_cookie(state: &AppState, value: &str) -> HeaderValue {
    let secure = if state.config.tls { "; Secure" } else { "" };
    let s = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.session_ttl_secs.max(60)
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.config.tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session cookie's value in a request, if any.
pub fn session_cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Authenticates a request by `Authorization: Bearer` token or by session cookie.
/// `Ok(None)`: no (valid) credentials.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    source: Option<String>,
) -> Result<Option<CurrentUser>, ApiError> {
    let now = now_micros();
    if let Some(token) = bearer(headers) {
        let hash = sha256_hex(token);
        // The revision first, then the rows (as for device counts): an entry cached under
        // revision r is used only while the revision still reads r.
        let rev = state.store.auth_revision().await?;
        let (t, user) = match state.tokens.get(&hash, rev) {
            Some(cached) => cached,
            None => {
                let Some(t) = state.store.token_by_hash(&hash).await? else {
                    return Ok(None);
                };
                let Some(user_id) = &t.user_id else {
                    return Ok(None);
                };
                let Some(user) = state.store.user(user_id).await? else {
                    return Ok(None);
                };
                state
                    .tokens
                    .put(hash.clone(), rev, (t.clone(), user.clone()));
                (t, user)
            }
        };
        // Expiry is a time, not a change: checked on every request.
        if !t.active(now) {
            return Ok(None);
        }
        if user.disabled {
            return Ok(None);
        }
        let (roles, mut sites) = roles_and_sites(&user.roles);
        if let Some(site) = &t.site {
            if sites.is_empty() || sites.contains(site) {
                sites = vec![site.clone()];
            } else {
                return Ok(None);
            }
        }
        let mut scopes: Vec<Permission> = t
            .scopes
            .iter()
            .filter_map(|s| crate::rbac::scope_permissions(s))
            .flatten()
            .collect();
        scopes.sort_by_key(|p| p.as_str());
        scopes.dedup();
        // Recording the last use costs a write: at most once a minute per token.
        if t.last_used_at.is_none_or(|l| now - l > 60_000_000) {
            match state.store.touch_token(&t.id, now).await {
                Ok(()) => state
                    .tokens
                    .update(&hash, |(t, _)| t.last_used_at = Some(now)),
                Err(e) => tracing::warn!(error = %e, "cannot record token use"),
            }
        }
        return Ok(Some(CurrentUser {
            user_id: user.id,
            username: user.username,
            roles,
            sites,
            method: AuthMethod::Token,
            source,
            token_scopes: Some(scopes),
            token_id: Some(t.id),
            session_hash: None,
            csrf_hash: None,
            must_change_password: false,
        }));
    }
    if let Some(cookie) = session_cookie_value(headers) {
        let id_hash = sha256_hex(&cookie);
        let Some(s) = state.store.session(&id_hash, now).await? else {
            return Ok(None);
        };
        let Some(user) = state.store.user(&s.user_id).await? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let (roles, sites) = roles_and_sites(&user.roles);
        return Ok(Some(CurrentUser {
            user_id: user.id,
            username: user.username,
            roles,
            sites,
            method: AuthMethod::Session,
            source,
            token_scopes: None,
            token_id: None,
            session_hash: Some(s.id_hash),
            csrf_hash: Some(s.csrf_hash),
            must_change_password: user.must_change_password,
        }));
    }
    Ok(None)
}

/// Checks the CSRF token of a cookie-authenticated, state-changing request against its
/// session: the `X-CSRF-Token` header or, for form posts, the `csrf` field. Returns the
/// request (with its body restored when it was read).
pub async fn check_csrf(
    user: &CurrentUser,
    req: Request,
    max_form_bytes: usize,
) -> Result<Request, ApiError> {
    let refused = || ApiError::new(StatusCode::FORBIDDEN, "missing or wrong CSRF token");
    let Some(expected) = user.csrf_hash.as_deref() else {
        return Err(refused());
    };
    if let Some(v) = req.headers().get(CSRF_HEADER) {
        let given = v.to_str().map_err(|_| refused())?;
        return if sha256_hex(given) == expected {
            Ok(req)
        } else {
            Err(refused())
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refused());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, max_form_bytes)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "form too large"))?;
    let given = bytes
        .split(|b| *b == b'&')
        .filter_map(|kv| {
            let mut it = kv.splitn(2, |b| *b == b'=');
            match (it.next(), it.next()) {
                (Some(b"csrf"), Some(v)) => std::str::from_utf8(v).ok(),
                _ => None,
            }
        })
        .next();
    match given {
        Some(g) if sha256_hex(g) == expected => {
            Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
        }
        _ => Err(refused()),
    }
}

/// The outcome of a password check.
const BAD_LOGIN: &str = "invalid user name or password, or the account is locked";

/// Checks a local user's password with throttling and lockout. Every failure gives the
/// same answer (401), so that a caller cannot tell an unknown user from a locked one.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    source: Option<String>,
) -> Result<User, ApiError> {
    use std::sync::atomic::Ordering;
    let key = source.clone().unwrap_or_else(|| "unknown".into());
    let window = std::time::Duration::from_secs(state.config.source_throttle_window_secs);
    {
        let map = state
            .throttle
            .by_source
            .lock()
            .map_err(|_| ApiError::internal("throttle lock poisoned"))?;
        if let Some((n, since)) = map.get(&key) {
            if since.elapsed() < window && *n >= state.config.source_throttle_max {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many failed logins from this address; try again later",
                ));
            }
        }
    }
    let now = now_micros();
    let user = state.store.user_by_name(username).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let pw = password.to_string();
    // Verify even for unknown users (against a fixed hash) so timing does not tell.
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&h, &pw),
        None => {
            let _ = verify_password(dummy_hash(), &pw);
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let usable = user
        .as_ref()
        .is_some_and(|u| !u.disabled && u.locked_until.is_none_or(|l| l <= now));
    if ok && usable {
        if let Some(u) = user {
            state.store.record_login_success(&u.id).await?;
            if let Ok(mut map) = state.throttle.by_source.lock() {
                map.remove(&key);
            }
            state.metrics.logins_ok.fetch_add(1, Ordering::Relaxed);
            state
                .store
                .append_audit(
                    &Actor::new(u.username.clone(), source),
                    "auth.login",
                    &format!("user:{}", u.username),
                    None,
                    None,
                )
                .await?;
            return Ok(u);
        }
    }
    state.metrics.logins_failed.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut map) = state.throttle.by_source.lock() {
        // Bounded memory: many addresses (an IPv6 sweep) cannot grow the map for ever.
        if map.len() >= 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = map.entry(key).or_insert((0, std::time::Instant::now()));
        if e.1.elapsed() >= window {
            *e = (0, std::time::Instant::now());
        }
        e.0 = e.0.saturating_add(1);
    }
    if let Some(u) = &user {
        let lock_until = now.saturating_add(state.config.lockout_secs.saturating_mul(1_000_000));
        let f = state
            .store
            .record_login_failure(&u.id, now, state.config.lockout_threshold, lock_until)
            .await?;
        let failed = f.failed;
        let action = if f.newly_locked {
            "auth.locked"
        } else {
            "auth.login_failed"
        };
        state
            .store
            .append_audit(
                &Actor::new("anonymous", source),
                action,
                &format!("user:{}", u.username),
                None,
                Some(&serde_json::json!({ "failed_logins": failed })),
            )
            .await?;
    }
    Err(ApiError::new(StatusCode::UNAUTHORIZED, BAD_LOGIN))
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&random_secret()).unwrap_or_default())
}

/// The user for a single-sign-on identity: found by `(issuer, subject)` (its roles
/// replaced by `roles` when they differ: the identity provider's claims decide), or created
/// without a password. A disabled user is refused (403).
pub async fn find_or_create_oidc_user(
    state: &AppState,
    issuer: &str,
    subject: &str,
    username: &str,
    display_name: &str,
    roles: &[RoleGrant],
    source: Option<String>,
) -> Result<User, ApiError> {
    let actor = Actor::new(format!("oidc:{issuer}"), source);
    let mut wanted = roles.to_vec();
    wanted.sort();
    wanted.dedup();
    if let Some(u) = state.store.user_by_oidc(issuer, subject).await? {
        if u.disabled {
            return Err(ApiError::forbidden());
        }
        if u.roles != wanted {
            return Ok(state.store.set_user_roles(&u.id, &wanted, &actor).await?);
        }
        return Ok(u);
    }
    let mut name = username.to_string();
    if name.is_empty() || state.store.user_by_name(&name).await?.is_some() {
        // A local user of that name exists: never merge identities silently.
        name = format!(
            "{}@{}",
            if username.is_empty() {
                subject
            } else {
                username
            },
            issuer
        );
    }
    Ok(state
        .store
        .create_user(
            &NewUser {
                id: random_id(),
                username: name,
                display_name: display_name.to_string(),
                password_hash: None,
                oidc_issuer: Some(issuer.to_string()),
                oidc_subject: Some(subject.to_string()),
                must_change_password: false,
                roles: wanted,
            },
            &actor,
        )
        .await?)
}

/// Issues an API token for `user_id` and returns its plaintext (shown once; only its
/// SHA-256 is stored). `scopes` are permission names, `read` or `*`; `expires_at` is in
/// microseconds since the epoch.
pub async fn issue_token(
    state: &AppState,
    user_id: &str,
    name: &str,
    scopes: &[String],
    site: Option<String>,
    expires_at: Option<i64>,
    actor: &Actor,
) -> Result<String, ApiError> {
    Ok(
        issue_token_record(state, user_id, name, scopes, site, expires_at, actor)
            .await?
            .1,
    )
}

/// Like [`issue_token`], also returning the stored record.
pub async fn issue_token_record(
    state: &AppState,
    user_id: &str,
    name: &str,
    scopes: &[String],
    site: Option<String>,
    expires_at: Option<i64>,
    actor: &Actor,
) -> Result<(ApiToken, String), ApiError> {
    if scopes.is_empty() {
        return Err(ApiError::bad_request("a token needs at least one scope"));
    }
    for s in scopes {
        if crate::rbac::scope_permissions(s).is_none() {
            return Err(ApiError::bad_request(format!("unknown scope {s:?}")));
        }
    }
    if state.store.user(user_id).await?.is_none() {
        return Err(ApiError::not_found("user"));
    }
    let plaintext = format!("ward_{}", random_secret());
    let t = ApiToken {
        id: random_id(),
        user_id: Some(user_id.to_string()),
        name: name.to_string(),
        token_hash: sha256_hex(&plaintext),
        scopes: scopes.to_vec(),
        site,
        created_at: now_micros(),
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    state.store.create_token(&t, actor).await?;
    Ok((t, plaintext))
}

/// First run: when no user exists, creates `admin` with a random one-time password that
/// must be changed at first login, and returns that password (the caller prints it once).
pub async fn bootstrap_admin(state: &AppState) -> Result<Option<String>, ApiError> {
    if state.store.user_count().await? > 0 {
        return Ok(None);
    }
    let password = generate_password();
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(ApiError::internal)??;
    state
        .store
        .create_user(
            &NewUser {
                id: random_id(),
                username: "admin".into(),
                display_name: "Administrator".into(),
                password_hash: Some(hash),
                must_change_password: true,
                roles: vec![RoleGrant {
                    role: "admin".into(),
                    site: None,
                }],
                ..NewUser::default()
            },
            &Actor::system(),
        )
        .await?;
    Ok(Some(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_password_policy("alice", "short").is_err());
        assert!(check_password_policy("alice", "xxalicexx-long-enough").is_err());
        assert!(check_password_policy("bob", "aaaaaaaaaaaaaaaa").is_err());
        assert!(check_password_policy("bob", "password1234").is_err());
        assert!(check_password_policy("bob", "correct horse battery").is_ok());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterx"));
        assert!(!verify_password("garbage", "x"));
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..50 {
            let p = generate_password();
            assert_eq!(p.len(), 24);
            assert!(check_password_policy("admin", &p).is_ok(), "{p}");
        }
    }

    #[test]
    fn cookie_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; ward_session=xyz; c=d"),
        );
        assert_eq!(session_cookie_value(&h).as_deref(), Some("xyz"));
    }
}
