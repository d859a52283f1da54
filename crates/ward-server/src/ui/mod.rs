//! The server-rendered web UI. Owner: the web-UI helper.
//!
//! Every page is HTML rendered on the server with `maud` (escaped by construction), one
//! embedded stylesheet and no JavaScript: pages read without scripts, forms post back and
//! the server validates them. Destructive or bulk actions go through a confirmation page
//! (or a required confirmation checkbox). Times are shown in the configured time zone.

pub mod account;
pub mod admin;
pub mod pages;
pub mod pipeline;
pub mod svg;
pub mod work;

use crate::auth::CurrentUser;
use crate::state::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use ward_store::Actor;

/// The embedded stylesheet.
pub const STYLE: &str = include_str!("style.css");

/// The UI's routes (each has a row in `rbac::ROUTES`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/ui/style.css", get(style))
        .route("/ui/upload.js", get(upload_js))
        .route(
            "/login",
            get(account::login_page).post(account::login_submit),
        )
        .route("/logout", get(account::logout_page).post(account::logout))
        .route(
            "/account/password",
            get(account::password_page).post(account::password_submit),
        )
        .route("/inventory", get(pages::inventory))
        .route("/inventory/filters", post(pages::save_filter))
        .route("/inventory/filters/delete", post(pages::delete_filter))
        .route("/devices/{id}", get(pages::device))
        .route("/devices/{id}/override", post(pages::device_override))
        .route(
            "/devices/{id}/documents",
            post(pages::document_upload).layer(axum::extract::DefaultBodyLimit::max(
                ward_store::MAX_DOCUMENT_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/devices/{id}/documents/{doc}/delete",
            get(pages::document_delete_page).post(pages::document_delete),
        )
        .route("/map", get(pages::map))
        .route("/findings", get(work::findings))
        .route("/findings/bulk", post(work::findings_bulk))
        .route("/findings/vex", get(work::findings_vex))
        .route("/advisories", get(work::advisories))
        // The upload handler enforces `max_upload_bytes` itself while streaming.
        .route(
            "/upload",
            get(work::upload_page)
                .post(work::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/plans", get(work::plans))
        .route("/plans/{id}", post(work::plan_update))
        .route("/reviews", get(work::reviews))
        .route(
            "/reviews/{id}",
            get(work::review_form).post(work::review_submit),
        )
        .route("/admin", get(work::admin))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/users/{id}/roles", post(admin::set_roles))
        .route("/admin/users/{id}/disable", post(admin::disable_user))
        .route("/admin/users/{id}/enable", post(admin::enable_user))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route("/admin/tokens", post(admin::create_token))
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/reports", get(work::reports))
        .route("/reports/posture.html", get(work::report_html))
        .route("/reports/posture.pdf", get(work::report_pdf))
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

async fn upload_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        UPLOAD_JS,
    )
        .into_response()
}

/// The upload page's script (progress and the CSRF header for multipart posts).
pub const UPLOAD_JS: &str = include_str!("upload.js");

/// The caller, when the authorization layer put one in.
pub type MaybeUser = Option<axum::Extension<CurrentUser>>;

/// Who acts, for the store's histories and the audit log.
pub fn actor_of(user: &MaybeUser) -> Actor {
    match user {
        Some(u) => Actor::new(u.username.clone(), u.source.clone()),
        None => Actor::new("anonymous", None),
    }
}

/// Formats store micros in the configured time zone (`YYYY-MM-DD HH:MM TZ`).
pub fn fmt_time(state: &AppState, micros: i64) -> String {
    use chrono::TimeZone;
    let tz: chrono_tz::Tz = state.config.time_zone.parse().unwrap_or(chrono_tz::UTC);
    match tz.timestamp_micros(micros).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M %Z").to_string(),
        None => "-".into(),
    }
}

/// Like [`fmt_time`], the date only.
pub fn fmt_date(state: &AppState, micros: i64) -> String {
    use chrono::TimeZone;
    let tz: chrono_tz::Tz = state.config.time_zone.parse().unwrap_or(chrono_tz::UTC);
    match tz.timestamp_micros(micros).single() {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => "-".into(),
    }
}

/// The CSRF token for forms: the session's token as the `ward_csrf` cookie carries it.
pub fn csrf_token(headers: &HeaderMap) -> String {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "ward_csrf")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(headers: &HeaderMap) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf_token(headers)); }
}

const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/inventory", "Inventory"),
    ("/map", "Connection map"),
    ("/findings", "Findings"),
    ("/advisories", "Advisories"),
    ("/plans", "Plans"),
    ("/reviews", "Reviews"),
    ("/reports", "Reports"),
    ("/admin", "Administration"),
];

/// The page frame: navigation, flash message, content.
pub fn layout(
    user: &MaybeUser,
    title: &str,
    active: &str,
    flash: Option<&Flash>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Ward" }
                link rel="stylesheet" href="/ui/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "Ward" }
                    nav aria-label="Main" {
                        @for (href, label) in NAV {
                            @if *href == active {
                                a href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    span.who {
                        @if let Some(u) = user { "Signed in as " strong { (u.username) } " · " a href="/account/password" { "Password" } " · " a href="/logout" { "Sign out" } }
                    }
                }
                // tabindex -1: the skip link moves the keyboard focus here.
                main id="main" tabindex="-1" {
                    @if let Some(f) = flash {
                        div class=(if f.ok { "msg ok" } else { "msg err" }) role="status" { (f.text) }
                    }
                    (body)
                }
            }
        }
    }
}

/// A one-line message shown above a page.
#[derive(Debug, Clone)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

impl Flash {
    pub fn ok(t: impl Into<String>) -> Self {
        Flash {
            ok: true,
            text: t.into(),
        }
    }
    pub fn err(t: impl Into<String>) -> Self {
        Flash {
            ok: false,
            text: t.into(),
        }
    }
    /// From `?ok=` / `?err=` query parameters (after a redirect).
    pub fn from_query(ok: &Option<String>, err: &Option<String>) -> Option<Flash> {
        match (ok, err) {
            (_, Some(e)) if !e.is_empty() => Some(Flash::err(e.clone())),
            (Some(o), _) if !o.is_empty() => Some(Flash::ok(o.clone())),
            _ => None,
        }
    }
}

/// An HTML response.
pub fn html_response(status: StatusCode, m: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        m.into_string(),
    )
        .into_response()
}

/// A page for an error (store failure, not found).
pub fn error_page(user: &MaybeUser, status: StatusCode, text: &str) -> Response {
    html_response(
        status,
        layout(
            user,
            "Error",
            "",
            Some(&Flash::err(text)),
            html! {
                p { a href="/" { "Back to the dashboard" } }
            },
        ),
    )
}

/// See other (after a POST), with a flash message in the query.
pub fn redirect(to: &str, ok: bool, msg: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    let key = if ok { "ok" } else { "err" };
    let loc = format!("{to}{sep}{key}={}", urlencode(msg));
    (StatusCode::SEE_OTHER, [(header::LOCATION, loc)]).into_response()
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A tier badge.
pub fn tier_tag(tier: &str) -> Markup {
    html! { span class={"tag t-" (tier)} { (tier) } }
}

/// Raw SVG (built by [`svg`], which escapes its text).
pub fn raw(s: String) -> PreEscaped<String> {
    PreEscaped(s)
}

/// Whether `req` (matched as `pattern`) is a browser asking for a page: a GET outside
/// `/api/` that accepts HTML. Such requests get redirects and HTML error pages from
/// `rbac::authorize`; API clients keep their JSON answers.
pub fn wants_page(req: &axum::extract::Request, pattern: &str) -> bool {
    !pattern.starts_with("/api/")
        && req.method() == axum::http::Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

/// The answer to a page a signed-in user may not open yet or at all: to the password
/// form while the password must be changed, otherwise an HTML 403 page.
pub fn refused_page(user: &CurrentUser) -> Response {
    if user.must_change_password {
        return redirect(
            "/account/password",
            false,
            "Change your password before using Ward.",
        );
    }
    error_page(
        &Some(axum::Extension(user.clone())),
        StatusCode::FORBIDDEN,
        "You do not have the rights to open this page. Ask an administrator if you need them.",
    )
}

/// The most a multipart form's leading `csrf` part may take (boundary, headers, token).
const CSRF_PART_MAX: usize = 8 * 1024;

/// What the start of a multipart body says about its first part.
#[derive(Debug, PartialEq, Eq)]
enum FirstPart {
    /// The first part is the `csrf` field with this value.
    Csrf(String),
    /// The first part is something else (or the body is not what a form sends).
    Other,
    /// More bytes are needed to tell.
    NeedMore,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads the first part of a `multipart/form-data` body with `boundary` from its first
/// bytes `buf`.
fn first_part(buf: &[u8], boundary: &str) -> FirstPart {
    let open = format!("--{boundary}\r\n");
    if buf.len() < open.len() {
        return if open.as_bytes().starts_with(buf) {
            FirstPart::NeedMore
        } else {
            FirstPart::Other
        };
    }
    if !buf.starts_with(open.as_bytes()) {
        return FirstPart::Other;
    }
    let rest = &buf[open.len()..];
    let Some(end_of_headers) = find(rest, b"\r\n\r\n") else {
        return FirstPart::NeedMore;
    };
    let Ok(headers) = std::str::from_utf8(&rest[..end_of_headers]) else {
        return FirstPart::Other;
    };
    let is_csrf = headers.split("\r\n").any(|line| {
        let Some((name, value)) = line.split_once(':') else {
            return false;
        };
        if !name.trim().eq_ignore_ascii_case("content-disposition") {
            return false;
        }
        let mut params = value.split(';').map(str::trim);
        params.next() == Some("form-data")
            && params.clone().any(|p| p == "name=\"csrf\"")
            && !params.any(|p| p.starts_with("filename"))
    });
    if !is_csrf {
        return FirstPart::Other;
    }
    let value = &rest[end_of_headers + 4..];
    let close = format!("\r\n--{boundary}");
    match find(value, close.as_bytes()) {
        Some(n) => match std::str::from_utf8(&value[..n]) {
            Ok(v) => FirstPart::Csrf(v.trim().to_string()),
            Err(_) => FirstPart::Other,
        },
        None => FirstPart::NeedMore,
    }
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(req: &axum::extract::Request) -> Option<String> {
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mut params = ct.split(';').map(str::trim);
    if !params.next()?.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

/// Multipart forms (uploads) cannot carry the CSRF field where `auth::check_csrf` looks
/// for it (a url-encoded body, or the `X-CSRF-Token` header the upload script sets). Every
/// multipart form of the UI therefore has the hidden `csrf` field first, and for a page
/// POST in `multipart/form-data` without the header, this reads just that first part
/// (at most [`CSRF_PART_MAX`] bytes; the rest of the body still streams to the handler)
/// and puts its value into the header; `check_csrf` then compares it with the session's,
/// exactly as for a url-encoded field. The token never travels in the URL (where it would
/// end up in logs and the browser history). The bytes read are put back in front of the
/// body.
pub async fn csrf_from_multipart(
    req: axum::extract::Request,
    pattern: &str,
) -> axum::extract::Request {
    use futures_util::StreamExt;
    if pattern.starts_with("/api/")
        || req.method() != axum::http::Method::POST
        || req.headers().contains_key(crate::auth::CSRF_HEADER)
    {
        return req;
    }
    let Some(boundary) = multipart_boundary(&req) else {
        return req;
    };
    let (mut parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut failed = None;
    let token = loop {
        match first_part(&buf, &boundary) {
            FirstPart::Csrf(t) => break Some(t),
            FirstPart::Other => break None,
            FirstPart::NeedMore if buf.len() >= CSRF_PART_MAX => break None,
            FirstPart::NeedMore => {}
        }
        match stream.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(e)) => {
                failed = Some(e);
                break None;
            }
            None => break None,
        }
    };
    if let Some(v) = token.and_then(|t| axum::http::HeaderValue::from_str(&t).ok()) {
        parts.headers.insert(crate::auth::CSRF_HEADER, v);
    }
    let head: Vec<Result<axum::body::Bytes, axum::Error>> = std::iter::once(Ok(buf.into()))
        .chain(failed.map(Err))
        .collect();
    let body = axum::body::Body::from_stream(futures_util::stream::iter(head).chain(stream));
    axum::extract::Request::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "XyZ";

    #[test]
    fn the_leading_csrf_part_is_read() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok-123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ndata\r\n--XyZ--\r\n";
        assert_eq!(
            first_part(body.as_bytes(), B),
            FirstPart::Csrf("tok-123".into())
        );
        // Every prefix up to the closing boundary needs more, never a wrong answer.
        let end = body
            .find("\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"")
            .unwrap_or(0);
        for n in 0..end + 7 {
            assert_eq!(
                first_part(&body.as_bytes()[..n], B),
                FirstPart::NeedMore,
                "{n}"
            );
        }
    }

    #[test]
    fn other_first_parts_are_not_tokens() {
        for body in [
            "--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nintel\r\n--XyZ--\r\n",
            "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"; filename=\"t\"\r\n\r\nx\r\n--XyZ--\r\n",
            "--XyZ\r\nContent-Disposition: form-data; name=\"csrfx\"\r\n\r\nx\r\n--XyZ--\r\n",
            "--Other\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nx\r\n--Other--\r\n",
            "garbage",
        ] {
            assert_eq!(first_part(body.as_bytes(), B), FirstPart::Other, "{body}");
        }
    }
}
