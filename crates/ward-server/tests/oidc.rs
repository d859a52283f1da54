//! OIDC single sign-on against a real OpenID Provider: the npm package `oidc-provider`
//! (tests/oidc-provider/provider.js) run under Node.js on an ephemeral port of 127.0.0.1,
//! with a static confidential client and test accounts whose claims include `groups`.
//! Each test drives the whole browser flow with an HTTP client that keeps cookies and fills
//! in the provider's development login and consent forms.
//!
//! Needs `node` and the provider's npm packages (`scripts/setup.sh` installs both); the
//! tests fail, never skip, when they are missing.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode, Url};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use ward_server::oidc::{OidcConfig, RoleMapping};
use ward_server::{AppState, ServerConfig};
use ward_store::{Actor, RoleGrant, Store};

const CLIENT_SECRET: &str = "ward-test-client-secret-0123456789";

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// The provider process; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_provider(redirect_uri: &str, id_token_claims: bool) -> Provider {
    let dir = provider_dir();
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "the OIDC tests need Node.js (`node`, version 20 or later) to run the test \
             OpenID Provider: run scripts/setup.sh"
        ),
    }
    assert!(
        dir.join("node_modules/oidc-provider/package.json")
            .is_file(),
        "the OIDC tests need the npm package oidc-provider in {}: run scripts/setup.sh \
         (it runs `npm ci` there)",
        dir.display()
    );
    let accounts = serde_json::json!({
        "alice": { "groups": ["staff", "ward-admins"] },
        "bob": { "groups": ["biomed-north"] },
        "mallory": { "groups": ["visitors", "staff"] },
        "carol": { "groups": ["ward-auditors"] },
    });
    let mut child = Command::new("node")
        .arg("provider.js")
        .current_dir(&dir)
        .env("WARD_TEST_REDIRECT_URI", redirect_uri)
        .env("WARD_TEST_CLIENT_SECRET", CLIENT_SECRET)
        .env("WARD_TEST_ACCOUNTS", accounts.to_string())
        .env(
            "WARD_TEST_ID_TOKEN_CLAIMS",
            if id_token_claims { "1" } else { "0" },
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node provider.js");
    let stdout = child.stdout.take().expect("provider stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(issuer) = line.strip_prefix("ISSUER ") {
                let _ = tx.send(issuer.trim().to_string());
            }
        }
    });
    let issuer = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(i) => i,
        Err(_) => {
            let _ = child.kill();
            panic!("the test OpenID Provider did not start within 30 s (see its stderr above)");
        }
    };
    Provider { child, issuer }
}

/// Ward with single sign-on configured against a fresh provider.
struct Setup {
    _provider: Provider,
    _dir: tempfile::TempDir,
    issuer: String,
    ward: String,
    state: AppState,
}

async fn setup(id_token_claims: bool) -> Setup {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind Ward");
    let addr = listener.local_addr().expect("Ward address");
    let ward = format!("http://{addr}");
    let redirect = format!("{ward}/auth/oidc/callback");
    let provider = start_provider(&redirect, id_token_claims);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_data_dir(dir.path())
        .await
        .expect("open SQLite store");
    let oidc = OidcConfig {
        issuer_url: provider.issuer.clone(),
        client_id: "ward".into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_url: redirect,
        scopes: vec!["profile".into(), "email".into(), "groups".into()],
        roles_claim: "groups".into(),
        username_claim: "preferred_username".into(),
        role_mappings: vec![
            RoleMapping {
                group: "ward-admins".into(),
                role: "admin".into(),
                site: None,
            },
            RoleMapping {
                group: "biomed-north".into(),
                role: "clinical-engineer".into(),
                site: Some("north".into()),
            },
            RoleMapping {
                group: "ward-auditors".into(),
                role: "auditor".into(),
                site: None,
            },
        ],
    };
    oidc.validate().expect("valid OIDC config");
    let config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        oidc: Some(oidc),
        ..ServerConfig::default()
    };
    let state = AppState::new(store, config);
    let app = ward_server::app(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Setup {
        issuer: provider.issuer.clone(),
        _provider: provider,
        _dir: dir,
        ward,
        state,
    }
}

/// A browser: keeps cookies, does not follow redirects by itself.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

fn location(base: &Url, r: &reqwest::Response) -> Url {
    let loc = r
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{} answered {} without Location", base, r.status()));
    base.join(loc).expect("Location is a URL")
}

/// The value of form attribute `action` in an HTML page.
fn form_action(html: &str) -> &str {
    let start = html
        .find("action=\"")
        .expect("a form in the provider's page")
        + 8;
    let end = html[start..].find('"').expect("end of action") + start;
    &html[start..end]
}

/// What starting a sign-in gave: the callback URL the provider sent the browser to, and
/// Ward's pending-login cookie as it was set.
struct Started {
    callback: Url,
    pending_cookie: String,
}

/// Starts a sign-in at Ward, signs in at the provider as `login` and consents; stops at the
/// redirect back to Ward's callback (not followed).
async fn sign_in_at_provider(s: &Setup, b: &Client, login: &str) -> Started {
    let start = Url::parse(&format!("{}/auth/oidc/login", s.ward)).expect("url");
    let r = b
        .get(start.clone())
        .send()
        .await
        .expect("GET /auth/oidc/login");
    assert!(r.status().is_redirection(), "login answered {}", r.status());
    let pending_cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ward_oidc="))
        .expect("pending-login cookie")
        .to_string();
    assert!(pending_cookie.contains("HttpOnly"), "{pending_cookie}");
    assert!(pending_cookie.contains("SameSite=Lax"), "{pending_cookie}");
    let mut url = location(&start, &r);
    assert!(
        url.as_str().starts_with(&s.issuer),
        "redirected to the provider: {url}"
    );
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(q.get("client_id").map(String::as_str), Some("ward"));
    assert_eq!(
        q.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert!(q.get("code_challenge").is_some_and(|c| c.len() >= 43));
    assert!(q.get("nonce").is_some_and(|n| n.len() >= 16));
    assert!(q.get("state").is_some_and(|n| n.len() >= 16));
    assert!(q
        .get("scope")
        .is_some_and(|sc| sc.split(' ').any(|x| x == "openid")));

    for _ in 0..30 {
        if url
            .as_str()
            .starts_with(&format!("{}/auth/oidc/callback", s.ward))
        {
            return Started {
                callback: url,
                pending_cookie,
            };
        }
        let r = b
            .get(url.clone())
            .send()
            .await
            .expect("GET at the provider");
        if r.status().is_redirection() {
            url = location(&url, &r);
            continue;
        }
        assert_eq!(r.status(), StatusCode::OK, "provider page {url}");
        let page = r.text().await.expect("provider page");
        let action = url.join(form_action(&page)).expect("form action");
        let form: Vec<(&str, &str)> = if page.contains("name=\"prompt\" value=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else if page.contains("name=\"prompt\" value=\"consent\"") {
            vec![("prompt", "consent")]
        } else {
            panic!("unexpected provider page at {url}:\n{page}");
        };
        let r = b
            .post(action.clone())
            .form(&form)
            .send()
            .await
            .expect("POST provider form");
        assert!(
            r.status().is_redirection(),
            "provider form answered {}",
            r.status()
        );
        url = location(&action, &r);
    }
    panic!("the provider did not send the browser back to Ward");
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ward_session=") && !v.starts_with("ward_session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// The user a session cookie authenticates, through the server's own authentication.
async fn session_user(s: &Setup, cookie: &str) -> ward_server::auth::CurrentUser {
    let mut h = axum::http::HeaderMap::new();
    h.insert(
        axum::http::header::COOKIE,
        axum::http::HeaderValue::from_str(cookie).expect("cookie header"),
    );
    ward_server::auth::authenticate(&s.state, &h, None)
        .await
        .expect("authenticate")
        .expect("the session authenticates")
}

async fn audit_actions(s: &Setup) -> Vec<(String, String, Option<String>)> {
    s.state
        .store
        .audit_entries(0, 10_000)
        .await
        .expect("audit log")
        .into_iter()
        .map(|e| (e.action, e.object, e.after))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_login_maps_groups_to_roles_and_creates_a_session() {
    let s = setup(false).await;

    // alice: groups staff (unmapped) + ward-admins -> admin on every site.
    let b = browser();
    let started = sign_in_at_provider(&s, &b, "alice").await;
    let r = b
        .get(started.callback.clone())
        .send()
        .await
        .expect("callback");
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "callback answered {}",
        r.status()
    );
    assert_eq!(
        r.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/")
    );
    let cookie = session_cookie(&r).expect("a session cookie");
    let cleared = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("ward_oidc=;") && v.contains("Max-Age=0"));
    assert!(cleared, "the pending-login cookie is cleared");
    let me = session_user(&s, &cookie).await;
    assert_eq!(me.username, "alice");
    assert_eq!(me.roles, vec![ward_server::rbac::Role::Admin]);
    assert!(me.sites.is_empty(), "admin on every site");
    let user = s
        .state
        .store
        .user_by_oidc(&s.issuer, "alice")
        .await
        .expect("store")
        .expect("alice stored with issuer and subject");
    assert_eq!(user.id, me.user_id);
    assert!(user.password_hash.is_none(), "an SSO user has no password");
    assert_eq!(
        user.roles,
        vec![RoleGrant {
            role: "admin".into(),
            site: None
        }]
    );

    // bob: biomed-north -> clinical engineer for site north only. Groups come from the
    // userinfo endpoint here (the provider keeps them out of the ID token by default).
    let b2 = browser();
    let started = sign_in_at_provider(&s, &b2, "bob").await;
    let r = b2.get(started.callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let me = session_user(&s, &session_cookie(&r).expect("session")).await;
    assert_eq!(me.username, "bob");
    assert_eq!(me.roles, vec![ward_server::rbac::Role::ClinicalEngineer]);
    assert_eq!(me.sites, vec!["north".to_string()]);

    // alice again: the same user, a new session.
    let started = sign_in_at_provider(&s, &b, "alice").await;
    let r = b.get(started.callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie2 = session_cookie(&r).expect("session");
    assert_ne!(cookie, cookie2, "each login gets a new session id");
    assert_eq!(session_user(&s, &cookie2).await.user_id, user.id);
    assert_eq!(s.state.store.list_users().await.expect("users").len(), 2);

    // Audited: one user.create per person and one auth.login per sign-in.
    let audit = audit_actions(&s).await;
    let logins: Vec<_> = audit.iter().filter(|(a, _, _)| a == "auth.login").collect();
    assert_eq!(logins.len(), 3, "{audit:?}");
    assert!(logins.iter().all(|(_, _, after)| after
        .as_deref()
        .is_some_and(|a| a.contains("\"method\":\"oidc\""))));
    assert_eq!(
        audit.iter().filter(|(a, _, _)| a == "user.create").count(),
        2
    );
    let report = s.state.store.verify_audit_chain().await.expect("verify");
    assert!(report.problem.is_none(), "{:?}", report.problem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_roles_claim_in_the_id_token_is_used() {
    // The provider puts `groups` in the ID token itself (as many hospital IdPs do).
    let s = setup(true).await;
    let b = browser();
    let started = sign_in_at_provider(&s, &b, "carol").await;
    let r = b.get(started.callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let me = session_user(&s, &session_cookie(&r).expect("session")).await;
    assert_eq!(me.roles, vec![ward_server::rbac::Role::Auditor]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_user_with_no_mapped_group_is_refused() {
    let s = setup(false).await;
    let b = browser();
    let started = sign_in_at_provider(&s, &b, "mallory").await;
    let r = b.get(started.callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        session_cookie(&r).is_none(),
        "no session for an unmapped user"
    );
    let page = r.text().await.expect("page");
    assert!(page.contains("No Ward role for this account"), "{page}");
    assert!(
        page.contains("visitors, staff"),
        "the page names the groups: {page}"
    );
    assert!(
        s.state
            .store
            .user_by_oidc(&s.issuer, "mallory")
            .await
            .expect("store")
            .is_none(),
        "no user is created without a role"
    );
    assert!(s.state.store.list_users().await.expect("users").is_empty());
    let audit = audit_actions(&s).await;
    assert!(
        audit.iter().any(|(a, _, _)| a == "auth.oidc.refused"),
        "{audit:?}"
    );
    assert!(!audit.iter().any(|(a, _, _)| a == "auth.login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_tampered_state_is_refused() {
    let s = setup(false).await;
    let b = browser();
    let started = sign_in_at_provider(&s, &b, "alice").await;
    let mut tampered = started.callback.clone();
    let pairs: Vec<(String, String)> = started
        .callback
        .query_pairs()
        .map(|(k, v)| {
            if k == "state" {
                (k.into_owned(), format!("{v}x"))
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(&pairs);
    let r = b.get(tampered).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&r).is_none());
    let page = r.text().await.expect("page");
    assert!(page.contains("does not match"), "{page}");

    // The failed callback ended the sign-in: the genuine answer is not accepted afterwards
    // in this browser either.
    let r = b.get(started.callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&r).is_none());
    assert!(r
        .text()
        .await
        .expect("page")
        .contains("No sign-in in progress"));

    // A callback in a browser that never started a sign-in (login CSRF) is refused too.
    let started = sign_in_at_provider(&s, &b, "alice").await;
    let other = browser();
    let r = other.get(started.callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&r).is_none());
    assert!(s.state.store.list_users().await.expect("users").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_replayed_callback_code_is_refused() {
    let s = setup(false).await;
    let b = browser();
    let started = sign_in_at_provider(&s, &b, "alice").await;
    let r = b
        .get(started.callback.clone())
        .send()
        .await
        .expect("callback");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&r).is_some());

    // The same browser replays the callback: its pending login is gone.
    let r = b
        .get(started.callback.clone())
        .send()
        .await
        .expect("replay");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&r).is_none());

    // A replay that also carries the original pending-login cookie (state, nonce and PKCE
    // verifier all match) still fails: the provider redeems a code once.
    let cookie = started
        .pending_cookie
        .split(';')
        .next()
        .expect("cookie pair")
        .to_string();
    let r = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(started.callback)
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("replay with cookie");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&r).is_none());
    let page = r.text().await.expect("page");
    assert!(page.contains("refused the authorization code"), "{page}");
    let logins = audit_actions(&s)
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "auth.login")
        .count();
    assert_eq!(logins, 1, "only the first callback signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_login_never_takes_over_a_local_account() {
    let s = setup(false).await;
    // A local (password) user named like the provider's user.
    let local = s
        .state
        .store
        .create_user(
            &ward_store::NewUser {
                id: "local-carol".into(),
                username: "carol".into(),
                display_name: "Carol (local)".into(),
                password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
                roles: vec![RoleGrant {
                    role: "security_analyst".into(),
                    site: None,
                }],
                ..Default::default()
            },
            &Actor::system(),
        )
        .await
        .expect("create local user");
    let b = browser();
    let started = sign_in_at_provider(&s, &b, "carol").await;
    let r = b.get(started.callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let me = session_user(&s, &session_cookie(&r).expect("session")).await;
    assert_ne!(me.user_id, local.id, "a separate user");
    assert_ne!(me.username, "carol");
    assert_eq!(me.roles, vec![ward_server::rbac::Role::Auditor]);
    let still = s
        .state
        .store
        .user("local-carol")
        .await
        .expect("store")
        .expect("local user");
    assert_eq!(still.roles, local.roles);
    assert!(still.oidc_subject.is_none());
}

#[tokio::test]
async fn oidc_routes_without_configuration_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let state = AppState::new(store, ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = ward_server::app(state);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let r = browser()
        .get(format!("http://{addr}/auth/oidc/login"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r
        .text()
        .await
        .expect("page")
        .contains("Single sign-on is not configured"));
}
