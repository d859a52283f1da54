//! Sign-in, sign-out and the own-password form of the web UI.
//!
//! The login form posts user name and password; [`crate::auth::login`] checks them (with
//! throttling and lockout) and a new session is created. Besides the `HttpOnly` session
//! cookie the browser gets the session's CSRF token in the `ward_csrf` cookie (also
//! `HttpOnly`, `SameSite=Strict`): pages copy it into every form's hidden `csrf` field and
//! the authorization layer compares it with the hash stored in the session.

use super::pages::FlashQuery;
use super::{csrf_field, html_response, layout, redirect, Flash, MaybeUser};
use crate::auth;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;
use std::net::SocketAddr;

/// The cookie that carries the session's CSRF token for server-rendered forms.
pub const CSRF_COOKIE: &str = "ward_csrf";

fn csrf_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    pub next: Option<String>,
    pub err: Option<String>,
    pub ok: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: &Option<String>) -> String {
    match next.as_deref() {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

pub async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    let flash = Flash::from_query(&q.ok, &q.err);
    let next = safe_next(&q.next);
    let body = html! {
        h1 { "Sign in" }
        form.form method="post" action="/login" {
            input type="hidden" name="next" value=(next);
            p { label { "User name" input name="username" autocomplete="username" required autofocus maxlength="128"; } }
            p { label { "Password" input type="password" name="password" autocomplete="current-password" required maxlength="1024"; } }
            button type="submit" { "Sign in" }
        }
        p.small.muted { "Single sign-on, when configured: " a href="/auth/oidc/login" { "sign in with your organisation's account" } "." }
    };
    let mut r = html_response(
        StatusCode::OK,
        layout(&None, "Sign in", "", flash.as_ref(), body),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    pub next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(&f.next);
    let back = format!("/login?next={}", super::urlencode(&next));
    if f.username.trim().is_empty() || f.password.is_empty() {
        return redirect(&back, false, "Enter your user name and password.");
    }
    let source = connect.map(|c| c.0 .0.ip().to_string());
    let user = match auth::login(&state, f.username.trim(), &f.password, source.clone()).await {
        Ok(u) => u,
        Err(e) => return redirect(&back, false, &e.message),
    };
    if let Some(old) = auth::session_cookie_value(&headers) {
        if let Err(e) = state.store.delete_session(&auth::sha256_hex(&old)).await {
            tracing::warn!(error = %e, "cannot end the previous session");
        }
    }
    let (cookie, csrf) = match auth::create_session(&state, &user.id, source).await {
        Ok(x) => x,
        Err(e) => return redirect(&back, false, &e.message),
    };
    let to = if user.must_change_password {
        "/account/password".to_string()
    } else {
        next
    };
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
    let ttl = state.config.session_ttl_secs.max(60);
    r.headers_mut()
        .append(header::SET_COOKIE, auth::session_cookie(&state, &cookie));
    r.headers_mut()
        .append(header::SET_COOKIE, csrf_cookie(&state, &csrf, ttl));
    r
}

pub async fn logout_page(user: MaybeUser, headers: HeaderMap) -> Response {
    let body = html! {
        h1 { "Sign out" }
        form.form method="post" action="/logout" {
            (csrf_field(&headers))
            button type="submit" { "Sign out now" }
        }
    };
    html_response(StatusCode::OK, layout(&user, "Sign out", "", None, body))
}

pub async fn logout(State(state): State<AppState>, user: MaybeUser) -> Response {
    if let Some(u) = &user {
        if let Some(h) = &u.session_hash {
            if let Err(e) = state.store.delete_session(h).await {
                tracing::warn!(error = %e, "cannot end the session");
            }
            let _ = state
                .store
                .append_audit(
                    &u.actor(),
                    "auth.logout",
                    &format!("user:{}", u.username),
                    None,
                    None,
                )
                .await;
        }
    }
    let mut r = redirect("/login", true, "Signed out.");
    r.headers_mut()
        .append(header::SET_COOKIE, auth::clear_session_cookie(&state));
    r.headers_mut()
        .append(header::SET_COOKIE, csrf_cookie(&state, "", 0));
    r
}

pub async fn password_page(
    user: MaybeUser,
    headers: HeaderMap,
    Query(q): Query<FlashQuery>,
) -> Response {
    let must = user.as_ref().is_some_and(|u| u.must_change_password);
    let body = html! {
        h1 { "Change your password" }
        @if must { p.msg.err { "Your password was set by an administrator or at first run: choose your own before continuing." } }
        form.form method="post" action="/account/password" {
            (csrf_field(&headers))
            p { label { "Current password" input type="password" name="current_password" autocomplete="current-password" required; } }
            p { label { "New password (at least 12 characters, not containing the user name)" input type="password" name="new_password" autocomplete="new-password" required minlength="12"; } }
            p { label { "New password again" input type="password" name="confirm_password" autocomplete="new-password" required minlength="12"; } }
            button type="submit" { "Change password" }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Password",
            "",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub confirm_password: String,
}

pub async fn password_submit(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(f): Form<PasswordForm>,
) -> Response {
    let back = "/account/password";
    let Some(Extension(u)) = user else {
        return redirect("/login", false, "Sign in first.");
    };
    if u.method != auth::AuthMethod::Session {
        return redirect(
            back,
            false,
            "Only a signed-in person can change a password.",
        );
    }
    if f.new_password != f.confirm_password {
        return redirect(back, false, "The two new passwords differ.");
    }
    if f.new_password == f.current_password {
        return redirect(
            back,
            false,
            "The new password must differ from the current one.",
        );
    }
    let stored = match state.store.user(&u.user_id).await {
        Ok(Some(s)) => s,
        _ => return redirect("/login", false, "Sign in again."),
    };
    let Some(hash) = stored.password_hash.clone() else {
        return redirect(back, false, "This account signs in through single sign-on.");
    };
    let current = f.current_password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &current))
        .await
        .unwrap_or(false);
    if !ok {
        return redirect(back, false, "The current password is wrong.");
    }
    if let Err(m) = auth::check_password_policy(&stored.username, &f.new_password) {
        return redirect(back, false, &m);
    }
    let new = f.new_password.clone();
    let new_hash = match tokio::task::spawn_blocking(move || auth::hash_password(&new)).await {
        Ok(Ok(h)) => h,
        _ => return redirect(back, false, "The password could not be stored."),
    };
    if let Err(e) = state
        .store
        .set_password_hash(&u.user_id, &new_hash, false, &u.actor())
        .await
    {
        return redirect(back, false, &e.to_string());
    }
    // Every session of the user ended with the change: sign in again with a fresh one.
    let (cookie, csrf) = match auth::create_session(&state, &u.user_id, u.source.clone()).await {
        Ok(x) => x,
        Err(_) => return redirect("/login", true, "Password changed; sign in again."),
    };
    let mut r = redirect("/", true, "Password changed.");
    let ttl = state.config.session_ttl_secs.max(60);
    r.headers_mut()
        .append(header::SET_COOKIE, auth::session_cookie(&state, &cookie));
    r.headers_mut()
        .append(header::SET_COOKIE, csrf_cookie(&state, &csrf, ttl));
    r
}
