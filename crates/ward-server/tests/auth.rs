//! Authentication (issue 6 item 4 and its acceptance): session cookie attributes, session
//! fixation, CSRF, login throttling per source, account lockout, password policy,
//! first-run bootstrap, API tokens (shown once, stored hashed, scoped, expiring,
//! revocable), disabled users. SQLite and PostgreSQL where the store is involved.

mod support;

use axum::http::StatusCode;
use serde_json::json;
use std::net::SocketAddr;
use support::*;
use ward_server::ServerConfig;

const PW: &str = "correct horse battery staple";

fn config(db: &TestDb) -> ServerConfig {
    ServerConfig {
        data_dir: db.dir.path().to_path_buf(),
        ..ServerConfig::default()
    }
}

async fn login_from(
    state: &ward_server::AppState,
    user: &str,
    pw: &str,
    cookie: Option<&str>,
    from: &str,
) -> Answer {
    let cred = match cookie {
        Some(c) => Cred::SessionNoCsrf(c.to_string()),
        None => Cred::None,
    };
    let addr: SocketAddr = from.parse().expect("addr");
    send_raw(
        state,
        "POST",
        "/api/v1/auth/login",
        &cred,
        Some("application/json"),
        serde_json::to_vec(&json!({"username": user, "password": pw})).expect("json"),
        Some(addr),
    )
    .await
}

async fn login(state: &ward_server::AppState, user: &str, pw: &str) -> Answer {
    login_from(state, user, pw, None, "192.0.2.10:1").await
}

/// The session cookie value of a login answer.
fn cookie_of(a: &Answer) -> String {
    let sc = a.header("set-cookie").expect("Set-Cookie");
    let v = sc.split(';').next().expect("cookie");
    v.strip_prefix("ward_session=")
        .expect("ward_session cookie")
        .to_string()
}

async fn cookie_attributes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    user_with_password(&state, "alice", PW, &["auditor"]).await;
    let a = login(&state, "alice", PW).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let sc = a.header("set-cookie").expect("Set-Cookie");
    assert!(sc.contains("HttpOnly"), "{sc}");
    assert!(sc.contains("SameSite=Strict"), "{sc}");
    assert!(!sc.contains("Secure"), "no TLS, no Secure: {sc}");
    let body = a.json();
    let csrf = body["csrf_token"].as_str().expect("csrf token").to_string();
    assert_eq!(csrf.len(), 64);
    assert_eq!(body["roles"], json!(["auditor"]));
    // The cookie is a 256-bit secret; the store holds only its hash.
    let cookie = cookie_of(&a);
    assert_eq!(cookie.len(), 64);
    let now = ward_store::now_micros();
    assert!(state
        .store
        .session(&cookie, now)
        .await
        .expect("session")
        .is_none());
    assert!(state
        .store
        .session(&ward_server::auth::sha256_hex(&cookie), now)
        .await
        .expect("session")
        .is_some());
    let me = get(&state, "/api/v1/auth/me", &Cred::SessionNoCsrf(cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "alice");

    // With TLS the cookie is Secure.
    let tls = db.state_with(ServerConfig {
        tls: true,
        ..config(&db)
    });
    let a = login(&tls, "alice", PW).await;
    assert!(a.header("set-cookie").expect("cookie").contains("; Secure"));
}
both_backends!(cookie_attributes);

async fn session_fixation(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    user_with_password(&state, "bob", PW, &["security_analyst"]).await;
    // An attacker plants a cookie value of their choosing: login never adopts it.
    let planted = "a".repeat(64);
    let a = login_from(&state, "bob", PW, Some(&planted), "192.0.2.10:1").await;
    assert_eq!(a.status, StatusCode::OK);
    let first = cookie_of(&a);
    assert_ne!(first, planted);
    let me = get(
        &state,
        "/api/v1/auth/me",
        &Cred::SessionNoCsrf(planted.clone()),
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    // Signing in again with a valid session rotates it: the old id stops working.
    let b = login_from(&state, "bob", PW, Some(&first), "192.0.2.10:1").await;
    assert_eq!(b.status, StatusCode::OK);
    let second = cookie_of(&b);
    assert_ne!(first, second);
    assert_eq!(
        get(&state, "/api/v1/auth/me", &Cred::SessionNoCsrf(first))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let csrf = b.json()["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(
        get(
            &state,
            "/api/v1/auth/me",
            &Cred::SessionNoCsrf(second.clone())
        )
        .await
        .status,
        StatusCode::OK
    );
    // Logout ends the session.
    let out = send_json(
        &state,
        "POST",
        "/api/v1/auth/logout",
        &Cred::Session(second.clone(), csrf),
        json!({}),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out
        .header("set-cookie")
        .expect("cleared")
        .contains("Max-Age=0"));
    assert_eq!(
        get(&state, "/api/v1/auth/me", &Cred::SessionNoCsrf(second))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
both_backends!(session_fixation);

async fn csrf(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    let admin = user(&state, "root", &[("admin", None)]).await;
    let Cred::Session(cookie, token) = session(&state, &admin).await else {
        unreachable!()
    };
    let body = json!({"user_id": admin, "name": "t", "scopes": ["read"]});
    // Without the token.
    let a = send_json(
        &state,
        "POST",
        "/api/v1/tokens",
        &Cred::SessionNoCsrf(cookie.clone()),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    assert!(a.text().contains("CSRF"));
    // With a wrong token (another session's).
    let Cred::Session(_, other) = session(&state, &admin).await else {
        unreachable!()
    };
    let a = send_json(
        &state,
        "POST",
        "/api/v1/tokens",
        &Cred::Session(cookie.clone(), other),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        state
            .store
            .list_tokens(None)
            .await
            .expect("tokens")
            .is_empty(),
        "nothing created"
    );
    // With the right one.
    let a = send_json(
        &state,
        "POST",
        "/api/v1/tokens",
        &Cred::Session(cookie.clone(), token.clone()),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    // A form post may carry it as the `csrf` field instead (browsers without script).
    let form = send_raw(
        &state,
        "POST",
        "/api/v1/auth/logout",
        &Cred::SessionNoCsrf(cookie.clone()),
        Some("application/x-www-form-urlencoded"),
        b"csrf=wrong".to_vec(),
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    let form = send_raw(
        &state,
        "POST",
        "/api/v1/auth/logout",
        &Cred::SessionNoCsrf(cookie.clone()),
        Some("application/x-www-form-urlencoded"),
        format!("x=1&csrf={token}").into_bytes(),
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::NO_CONTENT, "{}", form.text());
    // Reads need no token; bearer tokens need none either (no ambient credential).
    let Cred::Session(c2, _) = session(&state, &admin).await else {
        unreachable!()
    };
    assert_eq!(
        get(&state, "/api/v1/users", &Cred::SessionNoCsrf(c2))
            .await
            .status,
        StatusCode::OK
    );
    let secret = a.json()["secret"].as_str().expect("secret").to_string();
    let t =
        ward_server::auth::issue_token(&state, &admin, "w", &["*".into()], None, None, &tester())
            .await
            .expect("token");
    let a = send_json(
        &state,
        "POST",
        "/api/v1/tokens",
        &Cred::Bearer(t),
        json!({"user_id": admin, "name": "u", "scopes": ["read"]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert!(secret.starts_with("ward_"));
}
both_backends!(csrf);

async fn throttling_and_lockout(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state_with(ServerConfig {
        source_throttle_max: 4,
        lockout_threshold: 3,
        lockout_secs: 2,
        ..config(&db)
    });
    user_with_password(&state, "carol", PW, &["clinical_engineer"]).await;
    user_with_password(&state, "dave", PW, &["clinical_engineer"]).await;
    // Account lockout: 3 failures lock carol, from any address; the right password is
    // then refused with the same answer as a wrong one.
    for i in 0..3 {
        let a = login_from(
            &state,
            "carol",
            "wrong password here",
            None,
            &format!("198.51.100.{i}:1"),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let locked = login_from(&state, "carol", PW, None, "198.51.100.9:1").await;
    assert_eq!(
        locked.status,
        StatusCode::UNAUTHORIZED,
        "locked account refused"
    );
    let unknown = login_from(&state, "nobody", PW, None, "198.51.100.8:1").await;
    assert_eq!(
        locked.json(),
        unknown.json(),
        "locked and unknown look the same"
    );
    let u = state
        .store
        .user_by_name("carol")
        .await
        .expect("q")
        .expect("carol");
    assert!(u.locked_until.is_some());
    // Other accounts are not affected.
    assert_eq!(
        login_from(&state, "dave", PW, None, "198.51.100.7:1")
            .await
            .status,
        StatusCode::OK
    );
    // The lock expires. One wrong password afterwards starts a new count (it does not
    // relock the account at once), so the right password then gets in.
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    assert_eq!(
        login_from(&state, "carol", "wrong wrong wrong", None, "198.51.100.5:1")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let u = state
        .store
        .user_by_name("carol")
        .await
        .expect("q")
        .expect("carol");
    assert_eq!(
        (u.failed_logins, u.locked_until),
        (1, None),
        "count restarted"
    );
    assert_eq!(
        login_from(&state, "carol", PW, None, "198.51.100.6:1")
            .await
            .status,
        StatusCode::OK
    );
    // The audit log records failures and the lock.
    let entries = state.store.audit_entries(0, 1000).await.expect("audit");
    // Exactly one lock: attempts during the lock neither count nor relock.
    assert_eq!(
        entries.iter().filter(|e| e.action == "auth.locked").count(),
        1
    );
    assert!(
        entries
            .iter()
            .filter(|e| e.action == "auth.login_failed")
            .count()
            >= 2
    );

    // Throttling per source: 4 failures from one address (spread over accounts, so no
    // lockout decides) and the 5th attempt is refused even with the right password.
    for name in ["x1", "x2", "x3", "x4"] {
        let a = login_from(&state, name, "nope nope nope", None, "203.0.113.5:1").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = login_from(&state, "dave", PW, None, "203.0.113.5:2").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text());
    // Another address still gets in.
    assert_eq!(
        login_from(&state, "dave", PW, None, "203.0.113.6:1")
            .await
            .status,
        StatusCode::OK
    );
}
both_backends!(throttling_and_lockout);

async fn password_policy_and_change(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    let admin = user(&state, "root", &[("admin", None)]).await;
    let s = session(&state, &admin).await;
    for bad in [
        "short",
        "erin-is-my-password",
        "aaaaaaaaaaaaaaaa",
        "password1234",
    ] {
        let a = send_json(
            &state,
            "POST",
            "/api/v1/users",
            &s,
            json!({"username": "erin", "password": bad, "roles": [{"role": "auditor"}]}),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.text());
    }
    assert!(state.store.user_by_name("erin").await.expect("q").is_none());
    let a = send_json(
        &state,
        "POST",
        "/api/v1/users",
        &s,
        json!({"username": "erin", "password": PW, "roles": [{"role": "auditor"}]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert!(a.json()["one_time_password"].is_null());
    assert!(!a.text().contains("argon2"), "no hash in answers");
    let stored = state
        .store
        .user_by_name("erin")
        .await
        .expect("q")
        .expect("erin");
    assert!(stored
        .password_hash
        .as_deref()
        .is_some_and(|h| h.starts_with("$argon2id$")));
    // Own password change: the current one is checked, the policy applies.
    let l = login(&state, "erin", PW).await;
    let cred = Cred::Session(
        cookie_of(&l),
        l.json()["csrf_token"].as_str().expect("csrf").into(),
    );
    let a = send_json(
        &state,
        "POST",
        "/api/v1/auth/password",
        &cred,
        json!({"current_password": "not it at all", "new_password": "another fine passphrase"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = send_json(
        &state,
        "POST",
        "/api/v1/auth/password",
        &cred,
        json!({"current_password": PW, "new_password": "tiny"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send_json(
        &state,
        "POST",
        "/api/v1/auth/password",
        &cred,
        json!({"current_password": PW, "new_password": "another fine passphrase"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text());
    // Every session of the user ended; the new password works, the old does not.
    assert_eq!(
        get(&state, "/api/v1/auth/me", &cred).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&state, "erin", PW).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&state, "erin", "another fine passphrase")
            .await
            .status,
        StatusCode::OK
    );
}
both_backends!(password_policy_and_change);

async fn bootstrap(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    let pw = ward_server::auth::bootstrap_admin(&state)
        .await
        .expect("bootstrap")
        .expect("first run");
    assert_eq!(pw.len(), 24);
    assert!(
        ward_server::auth::bootstrap_admin(&state)
            .await
            .expect("again")
            .is_none(),
        "only once"
    );
    let admin = state
        .store
        .user_by_name("admin")
        .await
        .expect("q")
        .expect("admin");
    assert!(admin.must_change_password);
    assert_ne!(admin.password_hash.as_deref(), Some(pw.as_str()));
    // Nothing but the password change until it is changed.
    let l = login(&state, "admin", &pw).await;
    assert_eq!(l.status, StatusCode::OK);
    assert_eq!(l.json()["must_change_password"], true);
    let cred = Cred::Session(
        cookie_of(&l),
        l.json()["csrf_token"].as_str().expect("csrf").into(),
    );
    let a = get(&state, "/api/v1/users", &cred).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    let a = send_json(
        &state,
        "POST",
        "/api/v1/auth/password",
        &cred,
        json!({"current_password": pw, "new_password": "a brand new passphrase 42"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text());
    let l = login(&state, "admin", "a brand new passphrase 42").await;
    let cred = Cred::Session(cookie_of(&l), String::new());
    assert_eq!(
        get(&state, "/api/v1/users", &cred).await.status,
        StatusCode::OK
    );
    // The one-time password is not in the store.
    if backend == Backend::Sqlite {
        for f in ["ward.db", "ward.db-wal"] {
            if let Ok(bytes) = std::fs::read(db.dir.path().join(f)) {
                assert!(
                    !bytes.windows(pw.len()).any(|w| w == pw.as_bytes()),
                    "{f} holds the password"
                );
            }
        }
    }
}
both_backends!(bootstrap);

async fn tokens(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    state.store.upsert_site("site-a", "A").await.expect("site");
    state.store.upsert_site("site-b", "B").await.expect("site");
    let admin = user(&state, "root", &[("admin", None)]).await;
    let analyst = user(&state, "ana", &[("security_analyst", None)]).await;
    let s = session(&state, &admin).await;
    let a = send_json(&state, "POST", "/api/v1/tokens", &s, json!({"user_id": analyst, "name": "siem", "scopes": ["read_inventory"], "site": "site-a", "expires_in_days": 30})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let created = a.json();
    let secret = created["secret"].as_str().expect("secret").to_string();
    let id = created["token"]["id"].as_str().expect("id").to_string();
    assert!(created["token"].get("token_hash").is_none());
    // Shown once: the listing and the store hold no secret, only its SHA-256.
    let list = get(&state, "/api/v1/tokens", &s).await;
    assert!(!list.text().contains(&secret));
    assert!(!list
        .text()
        .contains(&ward_server::auth::sha256_hex(&secret)));
    let stored = state.store.token(&id).await.expect("q").expect("token");
    assert_eq!(stored.token_hash, ward_server::auth::sha256_hex(&secret));
    assert!(stored.expires_at.is_some());
    // Scope: inventory reads only, of site-a only.
    let t = Cred::Bearer(secret.clone());
    assert_eq!(
        get(&state, "/api/v1/devices", &t).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&state, "/api/v1/devices?site=site-b", &t).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&state, "/api/v1/findings", &t).await.status,
        StatusCode::FORBIDDEN,
        "findings are out of scope"
    );
    let a = send_json(
        &state,
        "PUT",
        "/api/v1/devices/x/overrides/model",
        &t,
        json!({"value": "v"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "writes are out of scope");
    let sites = get(&state, "/api/v1/sites", &t).await.json();
    assert_eq!(sites["sites"].as_array().map(Vec::len), Some(1));
    // A scope never exceeds the user's roles: a `*` token of an analyst cannot manage users.
    let star = ward_server::auth::issue_token(
        &state,
        &analyst,
        "all",
        &["*".into()],
        None,
        None,
        &tester(),
    )
    .await
    .expect("token");
    assert_eq!(
        get(&state, "/api/v1/users", &Cred::Bearer(star.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&state, "/api/v1/findings", &Cred::Bearer(star))
            .await
            .status,
        StatusCode::OK
    );
    // Unknown scopes are refused.
    let a = send_json(
        &state,
        "POST",
        "/api/v1/tokens",
        &s,
        json!({"user_id": analyst, "name": "x", "scopes": ["superuser"]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // Revocation.
    let a = send_raw(
        &state,
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        &s,
        None,
        Vec::new(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text());
    assert_eq!(
        get(&state, "/api/v1/devices", &t).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Expiry.
    let past = ward_store::now_micros() - 1_000_000;
    let old = ward_server::auth::issue_token(
        &state,
        &analyst,
        "old",
        &["read".into()],
        None,
        Some(past),
        &tester(),
    )
    .await
    .expect("token");
    assert_eq!(
        get(&state, "/api/v1/devices", &Cred::Bearer(old))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Garbage and unknown tokens.
    assert_eq!(
        get(&state, "/api/v1/devices", &Cred::Bearer("ward_0000".into()))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A disabled user's tokens and sessions stop working.
    let live = ward_server::auth::issue_token(
        &state,
        &analyst,
        "live",
        &["read".into()],
        None,
        None,
        &tester(),
    )
    .await
    .expect("token");
    let ana_session = session(&state, &analyst).await;
    assert_eq!(
        get(&state, "/api/v1/devices", &Cred::Bearer(live.clone()))
            .await
            .status,
        StatusCode::OK
    );
    let a = send_json(
        &state,
        "POST",
        &format!("/api/v1/users/{analyst}/disable"),
        &s,
        json!({}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(
        get(&state, "/api/v1/devices", &Cred::Bearer(live))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&state, "/api/v1/devices", &ana_session).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Token actions are audited.
    let entries = state.store.audit_entries(0, 1000).await.expect("audit");
    assert!(entries
        .iter()
        .any(|e| e.action.starts_with("token.") && e.actor.starts_with("root")));
    assert!(!serde_json::to_string(&entries)
        .expect("json")
        .contains(&secret));
}
both_backends!(tokens);

/// Authenticated tokens are cached per server under the store's auth revision: a change
/// made elsewhere (another replica's state, SQL run around the server) ends the cached
/// entry at once, while a token's recorded last use does not.
async fn token_cache_follows_changes_made_elsewhere(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    let other_replica = db.state();
    let analyst = user(&state, "ana", &[("security_analyst", None)]).await;
    let issue = |name: &'static str| {
        let state = state.clone();
        let analyst = analyst.clone();
        async move {
            ward_server::auth::issue_token(
                &state,
                &analyst,
                name,
                &["read".into()],
                None,
                None,
                &tester(),
            )
            .await
            .expect("token")
        }
    };
    let status = |st: &ward_server::AppState, secret: &str| {
        let st = st.clone();
        let cred = Cred::Bearer(secret.to_string());
        async move { get(&st, "/api/v1/devices", &cred).await.status }
    };
    let first = issue("first").await;
    assert_eq!(status(&state, &first).await, StatusCode::OK);
    let rev = state.store.auth_revision().await.expect("rev");
    // Cached now; using it again records nothing that ends the entry.
    assert_eq!(status(&state, &first).await, StatusCode::OK);
    assert_eq!(state.store.auth_revision().await.expect("rev"), rev);
    let used = state
        .store
        .token_by_hash(&ward_server::auth::sha256_hex(&first))
        .await
        .expect("q")
        .expect("token");
    assert!(used.last_used_at.is_some(), "the last use is recorded");

    // Revoked by SQL around the server.
    db.exec(&format!(
        "UPDATE api_tokens SET revoked_at = 1 WHERE token_hash = '{}'",
        ward_server::auth::sha256_hex(&first)
    ))
    .await;
    assert_eq!(status(&state, &first).await, StatusCode::UNAUTHORIZED);

    // Roles taken away by SQL: the cached roles are not used any more.
    let second = issue("second").await;
    assert_eq!(status(&state, &second).await, StatusCode::OK);
    db.exec(&format!(
        "DELETE FROM user_roles WHERE user_id = '{analyst}'"
    ))
    .await;
    assert_eq!(status(&state, &second).await, StatusCode::FORBIDDEN);
    db.exec(&format!(
        "INSERT INTO user_roles (user_id, role, site) VALUES ('{analyst}', 'security_analyst', '')"
    ))
    .await;
    assert_eq!(status(&state, &second).await, StatusCode::OK);

    // Disabled through another replica's API.
    let admin = user(&other_replica, "root", &[("admin", None)]).await;
    let s = session(&other_replica, &admin).await;
    let a = send_json(
        &other_replica,
        "POST",
        &format!("/api/v1/users/{analyst}/disable"),
        &s,
        json!({}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(status(&state, &second).await, StatusCode::UNAUTHORIZED);
}
both_backends!(token_cache_follows_changes_made_elsewhere);
