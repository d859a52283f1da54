//! Helpers of the server-core tests (api, auth, rbac_matrix, openapi, canary): stores on
//! SQLite or on the PostgreSQL server at 127.0.0.1:5432 (a database per test), users with
//! sessions or tokens made directly (no password hashing where a test does not need it),
//! and one-shot requests through the real application with its authorization layer.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::Response;
use sqlx::Connection;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use tower::ServiceExt;
use ward_server::{AppState, ServerConfig};
use ward_store::testing::ScratchPg;
use ward_store::{Actor, NewUser, RoleGrant, Store};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store for one test: a SQLite file in a temporary directory or a fresh PostgreSQL
/// database (dropped at the end, even when the test fails).
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<ScratchPg>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let store = Store::open_data_dir(dir.path())
                    .await
                    .expect("open SQLite store");
                let url = format!("sqlite:{}", dir.path().join("ward.db").display());
                TestDb {
                    store,
                    url,
                    dir,
                    pg: None,
                }
            }
            Backend::Postgres => {
                let pg = ScratchPg::create("the PostgreSQL variant of this test").await;
                let url = pg.url().to_string();
                let store = Store::open(&url).await.expect("open PostgreSQL store");
                TestDb {
                    store,
                    url,
                    dir,
                    pg: Some(pg),
                }
            }
        }
    }

    /// Runs SQL directly on the database, around the store.
    pub async fn exec(&self, sql: &str) {
        if self.pg.is_some() {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .expect("direct SQL");
            c.close().await.ok();
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .expect("direct SQL");
            c.close().await.ok();
        }
    }

    pub fn state(&self) -> AppState {
        self.state_with(ServerConfig {
            data_dir: self.dir.path().to_path_buf(),
            ..ServerConfig::default()
        })
    }

    pub fn state_with(&self, config: ServerConfig) -> AppState {
        AppState::new(self.store.clone(), config)
    }
}

pub fn tester() -> Actor {
    Actor::new("tester", None)
}

/// Creates a user (no password) with the given role grants `(role, site)`.
pub async fn user(state: &AppState, name: &str, grants: &[(&str, Option<&str>)]) -> String {
    let id = ward_server::auth::random_id();
    state
        .store
        .create_user(
            &NewUser {
                id: id.clone(),
                username: name.into(),
                display_name: name.into(),
                roles: grants
                    .iter()
                    .map(|(r, s)| RoleGrant {
                        role: (*r).into(),
                        site: s.map(str::to_owned),
                    })
                    .collect(),
                ..NewUser::default()
            },
            &tester(),
        )
        .await
        .expect("create user");
    id
}

/// Creates a user with a real (argon2id) password.
pub async fn user_with_password(
    state: &AppState,
    name: &str,
    password: &str,
    roles: &[&str],
) -> String {
    let id = ward_server::auth::random_id();
    let hash = ward_server::auth::hash_password(password).expect("hash");
    state
        .store
        .create_user(
            &NewUser {
                id: id.clone(),
                username: name.into(),
                display_name: name.into(),
                password_hash: Some(hash),
                roles: roles
                    .iter()
                    .map(|r| RoleGrant {
                        role: (*r).into(),
                        site: None,
                    })
                    .collect(),
                ..NewUser::default()
            },
            &tester(),
        )
        .await
        .expect("create user");
    id
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    /// Session cookie value and CSRF token.
    Session(String, String),
    /// Session cookie without the CSRF token.
    SessionNoCsrf(String),
    Bearer(String),
}

/// A fresh session for `user_id` (made directly, as login would).
pub async fn session(state: &AppState, user_id: &str) -> Cred {
    let (cookie, csrf) = ward_server::auth::create_session(state, user_id, None)
        .await
        .expect("session");
    Cred::Session(cookie, csrf)
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// One request through the whole application (authorization layer included), from
/// 192.0.2.10 unless `from` is given.
pub async fn send_raw(
    state: &AppState,
    method: &str,
    uri: &str,
    cred: &Cred,
    content_type: Option<&str>,
    body: Vec<u8>,
    from: Option<SocketAddr>,
) -> Answer {
    let app = ward_server::app(state.clone());
    let mut b = Request::builder().method(method).uri(uri);
    match cred {
        Cred::None => {}
        Cred::Session(c, csrf) => {
            b = b
                .header(header::COOKIE, format!("ward_session={c}"))
                .header("x-csrf-token", csrf.as_str());
        }
        Cred::SessionNoCsrf(c) => {
            b = b.header(header::COOKIE, format!("ward_session={c}"));
        }
        Cred::Bearer(t) => {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
    }
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    let mut req = b.body(Body::from(body)).expect("request");
    let addr = from.unwrap_or_else(|| "192.0.2.10:40000".parse().expect("addr"));
    req.extensions_mut().insert(ConnectInfo(addr));
    let resp = app.oneshot(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 256 << 20)
        .await
        .expect("body")
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn get(state: &AppState, uri: &str, cred: &Cred) -> Answer {
    send_raw(state, "GET", uri, cred, None, Vec::new(), None).await
}

pub async fn send_json(
    state: &AppState,
    method: &str,
    uri: &str,
    cred: &Cred,
    body: serde_json::Value,
) -> Answer {
    send_raw(
        state,
        method,
        uri,
        cred,
        Some("application/json"),
        serde_json::to_vec(&body).expect("json"),
        None,
    )
    .await
}

/// The corpus (`../shared/data` beside the repository root); panics when missing.
pub fn corpus() -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("INDEX.md").exists(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        p.display()
    );
    p
}

/// Declares `$name` as two tests, `sqlite` and `postgres`, running `$body(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await;
            }
        }
    };
}

/// Every path pattern registered in the application router, read from the router's
/// `Debug` form (axum lists its matchit paths there).
pub fn router_paths() -> BTreeSet<String> {
    let dbg = format!("{:?}", ward_server::routes());
    let mut out = BTreeSet::new();
    let mut rest = dbg.as_str();
    while let Some(i) = rest.find("): \"") {
        rest = &rest[i + 4..];
        let Some(end) = rest.find('"') else { break };
        let p = &rest[..end];
        if p.starts_with('/') && !p.contains("__private__axum") {
            out.insert(p.to_string());
        }
        rest = &rest[end..];
    }
    assert!(
        out.contains("/health") && out.contains("/api/v1/devices"),
        "could not read the routes from the router's Debug form: {out:?}"
    );
    out
}

/// Every (method, pattern) the router serves: each path is sent a TRACE request (no route
/// uses it) and the `Allow` header of axum's 405 answer lists the methods it has. No
/// handler runs.
pub async fn router_routes() -> BTreeSet<(String, String)> {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = ward_server::routes().with_state(db.state());
    let mut out = BTreeSet::new();
    for path in router_paths() {
        let uri = concrete(&path);
        let req = Request::builder()
            .method("TRACE")
            .uri(&uri)
            .body(axum::body::Body::empty())
            .expect("request");
        let resp: Response = app.clone().oneshot(req).await.expect("response");
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "TRACE {uri}");
        let allow = resp
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Allow header for {uri}"))
            .to_string();
        for m in allow.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            if m != "HEAD" {
                out.insert((m.to_string(), path.clone()));
            }
        }
    }
    out
}

/// A request path for a pattern: every `{param}` becomes a value no object has.
pub fn concrete(pattern: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in pattern.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("no-such-object");
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}
