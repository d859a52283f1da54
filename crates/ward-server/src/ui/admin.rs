//! Administration write actions: create a user (one-time password shown once), change
//! roles and site scopes, disable or enable, create an API token (secret shown once) or
//! revoke one. Every form carries the CSRF field (checked in `rbac::authorize`), the
//! destructive ones need a confirmation box, and every change goes through the same store
//! and auth functions as the API, which write the audit log.

use super::{actor_of, csrf_field, html_response, layout, redirect, MaybeUser};
use crate::auth;
use crate::rbac::{Permission, Role};
use crate::state::AppState;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use ward_store::{NewUser, RoleGrant};

/// A role's name for people.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administrator",
        Role::SecurityAnalyst => "Security analyst",
        Role::ClinicalEngineer => "Clinical engineer",
        Role::Auditor => "Auditor",
        Role::Sensor => "Sensor (ingest only)",
    }
}

/// The role grants chosen in a form: every `grant` field, each `role` (all sites) or
/// `role@site`, as the `<select>` of [`grant_select`] offers them. Refuses an empty choice
/// and anything that is not a real role, with a message for people.
pub fn grants_from_form(fields: &[(String, String)]) -> Result<Vec<RoleGrant>, String> {
    let mut out: Vec<RoleGrant> = Vec::new();
    for (_, value) in fields.iter().filter(|(k, _)| k == "grant") {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let (role, site) = match value.split_once('@') {
            Some((r, s)) if !s.trim().is_empty() => (r.trim(), Some(s.trim().to_string())),
            Some(_) => return Err(format!("{value:?} names no site")),
            None => (value, None),
        };
        if Role::parse(role).is_none() {
            return Err(format!(
                "{role:?} is not a role; choose from the list ({})",
                Role::ALL
                    .iter()
                    .map(|r| role_label(*r))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let g = RoleGrant {
            role: role.to_string(),
            site,
        };
        if !out.contains(&g) {
            out.push(g);
        }
    }
    if out.is_empty() {
        return Err("choose at least one role".into());
    }
    Ok(out)
}

/// The value a grant has in the role `<select>`.
fn grant_value(g: &RoleGrant) -> String {
    match &g.site {
        Some(s) => format!("{}@{s}", g.role),
        None => g.role.clone(),
    }
}

/// A multiple `<select>` of the real roles, each for all sites or for one site; `chosen`
/// are preselected.
pub fn grant_select(label: &str, sites: &[ward_store::Site], chosen: &[String]) -> Markup {
    let rows = (Role::ALL.len() * (sites.len() + 1)).clamp(4, 8);
    html! {
        select name="grant" multiple required size=(rows) aria-label=(label) {
            @for r in Role::ALL {
                optgroup label=(role_label(*r)) {
                    @let all = r.as_str().to_string();
                    option value=(all) selected[chosen.contains(&all)] { (role_label(*r)) " · all sites" }
                    @for s in sites {
                        @let v = grant_value(&RoleGrant { role: r.as_str().into(), site: Some(s.id.clone()) });
                        option value=(v) selected[chosen.contains(&v)] { (role_label(*r)) " · " (s.name) }
                    }
                }
            }
        }
    }
}

fn valid_username(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

fn allows(user: &MaybeUser, p: Permission) -> bool {
    user.as_ref().is_some_and(|u| u.allows(p))
}

/// The forms of one user's row on the administration page (only those the user may use).
pub fn user_row_forms(
    user: &MaybeUser,
    headers: &HeaderMap,
    target: &ward_store::UserOverview,
    sites: &[ward_store::Site],
    local: bool,
) -> Markup {
    if !allows(user, Permission::ManageUsers) {
        return html! {};
    }
    let enc = super::urlencode(&target.id);
    let me = user.as_ref().is_some_and(|u| u.user_id == target.id);
    html! {
        form.inline method="post" action={"/admin/users/" (enc) "/roles"} {
            (csrf_field(headers))
            (grant_select(&format!("Roles of {}", target.username), sites, &target.roles))
            " "
            button type="submit" { "Set roles" }
        }
        " "
        @if target.disabled {
            form.inline method="post" action={"/admin/users/" (enc) "/enable"} {
                (csrf_field(headers))
                button type="submit" { "Enable" }
            }
        } @else {
            form.inline method="post" action={"/admin/users/" (enc) "/disable"} {
                (csrf_field(headers))
                label.small { input type="checkbox" name="confirm" value="yes" required; " confirm" }
                button.danger type="submit" { "Disable" }
            }
        }
        @if local && !me {
            " "
            form.inline method="post" action={"/admin/users/" (enc) "/password"} {
                (csrf_field(headers))
                label.small { input type="checkbox" name="confirm" value="yes" required; " confirm" }
                button.danger type="submit" { "Reset password" }
            }
        }
    }
}

pub fn create_user_form(
    user: &MaybeUser,
    headers: &HeaderMap,
    sites: &[ward_store::Site],
) -> Markup {
    if !allows(user, Permission::ManageUsers) {
        return html! {};
    }
    html! {
        h3 { "New user" }
        form.filters method="post" action="/admin/users" {
            (csrf_field(headers))
            label { "User name" input name="username" required maxlength="64" pattern="[A-Za-z0-9._@-]+"; }
            label { "Display name" input name="display_name" maxlength="128"; }
            label { "Roles (Ctrl+click or Shift+arrows for several)" (grant_select("Roles of the new user", sites, &[])) }
            button type="submit" { "Create (shows a one-time password)" }
        }
    }
}

pub fn token_row_form(user: &MaybeUser, headers: &HeaderMap, id: &str, active: bool) -> Markup {
    if !active || !allows(user, Permission::ManageTokens) {
        return html! {};
    }
    html! {
        form.inline method="post" action={"/admin/tokens/" (super::urlencode(id)) "/revoke"} {
            (csrf_field(headers))
            label.small { input type="checkbox" name="confirm" value="yes" required; " confirm" }
            button.danger type="submit" { "Revoke" }
        }
    }
}

pub fn create_token_form(
    user: &MaybeUser,
    headers: &HeaderMap,
    users: &[ward_store::UserOverview],
) -> Markup {
    if !allows(user, Permission::ManageTokens) {
        return html! {};
    }
    html! {
        h3 { "New API token" }
        form.filters method="post" action="/admin/tokens" {
            (csrf_field(headers))
            label { "Acts for" select name="user_id" required {
                @for u in users { @if !u.disabled { option value=(u.id) { (u.username) } } }
            } }
            label { "Name" input name="name" required maxlength="128"; }
            label { "Scopes" input name="scopes" required placeholder="ingest or read"; }
            label { "Site" input name="site" size="10" placeholder="all"; }
            label { "Days" input name="days" type="number" min="0" max="3650" value="90"; }
            button type="submit" { "Create (shows the secret once)" }
        }
    }
}

/// A page showing a secret once (never put in a URL, never stored in clear).
fn secret_page(user: &MaybeUser, title: &str, what: &str, secret: &str, note: &str) -> Response {
    let body = html! {
        h1 { (title) }
        div.msg.ok { (what) }
        p { "Copy it now; it is shown this once and Ward keeps only a hash." }
        p { code.secret style="font-size:1.2em;user-select:all" { (secret) } }
        p.small.muted { (note) }
        p { a href="/admin" { "Back to administration" } }
    };
    let mut resp = html_response(StatusCode::OK, layout(user, title, "/admin", None, body));
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// The first value of a field of a form read as pairs.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub async fn create_user(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let username = field(&fields, "username").trim().to_string();
    let display_name = field(&fields, "display_name");
    if !valid_username(&username) {
        return redirect(
            "/admin",
            false,
            "A user name has 1 to 64 letters, digits, '.', '_', '-' or '@'.",
        );
    }
    let grants = match grants_from_form(&fields) {
        Ok(g) => g,
        Err(e) => return redirect("/admin", false, &format!("Roles: {e}.")),
    };
    let grants = match crate::api::users::checked_grants(&state, &grants).await {
        Ok(g) => g,
        Err(e) => return redirect("/admin", false, &format!("Roles: {}.", e.message)),
    };
    let password = auth::generate_password();
    let pw = password.clone();
    let hash = match tokio::task::spawn_blocking(move || auth::hash_password(&pw)).await {
        Ok(Ok(h)) => h,
        _ => return redirect("/admin", false, "The password could not be hashed."),
    };
    let new = NewUser {
        id: auth::random_id(),
        username: username.clone(),
        display_name: display_name.trim().chars().take(128).collect(),
        password_hash: Some(hash),
        oidc_issuer: None,
        oidc_subject: None,
        must_change_password: true,
        roles: grants,
    };
    match state.store.create_user(&new, &actor_of(&user)).await {
        Ok(_) => secret_page(
            &user,
            "User created",
            &format!("{username} was created with a one-time password:"),
            &password,
            "The user must choose a new password at first sign-in.",
        ),
        Err(e) => redirect(
            "/admin",
            false,
            &format!("The user could not be created: {e}"),
        ),
    }
}

pub async fn set_roles(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let grants = match grants_from_form(&fields) {
        Ok(g) => g,
        Err(e) => return redirect("/admin", false, &format!("Roles: {e}.")),
    };
    let grants = match crate::api::users::checked_grants(&state, &grants).await {
        Ok(g) => g,
        Err(e) => return redirect("/admin", false, &format!("Roles: {}.", e.message)),
    };
    if user.as_ref().is_some_and(|u| u.user_id == id)
        && !grants.iter().any(|g| g.role == "admin" && g.site.is_none())
    {
        return redirect("/admin", false, "You cannot remove your own admin role.");
    }
    match state
        .store
        .set_user_roles(&id, &grants, &actor_of(&user))
        .await
    {
        Ok(u) => redirect("/admin", true, &format!("Roles of {} changed.", u.username)),
        Err(e) => redirect(
            "/admin",
            false,
            &format!("The roles could not be changed: {e}"),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    pub confirm: Option<String>,
}

fn confirmed(f: &ConfirmForm) -> bool {
    f.confirm.as_deref() == Some("yes")
}

pub async fn disable_user(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !confirmed(&f) {
        return redirect("/admin", false, "Tick confirm to disable a user.");
    }
    if user.as_ref().is_some_and(|u| u.user_id == id) {
        return redirect("/admin", false, "You cannot disable yourself.");
    }
    match state
        .store
        .set_user_disabled(&id, true, &actor_of(&user))
        .await
    {
        Ok(u) => redirect("/admin", true, &format!("{} disabled.", u.username)),
        Err(e) => redirect(
            "/admin",
            false,
            &format!("The user could not be disabled: {e}"),
        ),
    }
}

pub async fn enable_user(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Response {
    match state
        .store
        .set_user_disabled(&id, false, &actor_of(&user))
        .await
    {
        Ok(u) => redirect("/admin", true, &format!("{} enabled.", u.username)),
        Err(e) => redirect(
            "/admin",
            false,
            &format!("The user could not be enabled: {e}"),
        ),
    }
}

/// Resets a local user's password to a generated one-time password, shown once on a page
/// that is not cached; the user must change it at the next sign-in, and their sessions
/// end (the store's `set_password_hash`, audited as `user.password` without the hash).
pub async fn reset_password(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !confirmed(&f) {
        return redirect("/admin", false, "Tick confirm to reset a password.");
    }
    if user.as_ref().is_some_and(|u| u.user_id == id) {
        return redirect(
            "/admin",
            false,
            "Change your own password on the Password page, not by a reset.",
        );
    }
    let target = match state.store.user(&id).await {
        Ok(Some(t)) => t,
        Ok(None) => return redirect("/admin", false, "No such user."),
        Err(e) => return redirect("/admin", false, &format!("The user could not be read: {e}")),
    };
    if target.oidc_issuer.is_some() {
        return redirect(
            "/admin",
            false,
            &format!(
                "{} signs in through single sign-on; Ward has no password to reset.",
                target.username
            ),
        );
    }
    let password = auth::generate_password();
    let pw = password.clone();
    let hash = match tokio::task::spawn_blocking(move || auth::hash_password(&pw)).await {
        Ok(Ok(h)) => h,
        _ => return redirect("/admin", false, "The password could not be hashed."),
    };
    match state
        .store
        .set_password_hash(&id, &hash, true, &actor_of(&user))
        .await
    {
        Ok(u) => secret_page(
            &user,
            "Password reset",
            &format!("{} has a new one-time password:", u.username),
            &password,
            "The user must choose a new password at the next sign-in; their open sessions have ended.",
        ),
        Err(e) => redirect(
            "/admin",
            false,
            &format!("The password could not be reset: {e}"),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateTokenForm {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scopes: String,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub days: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(f): Form<CreateTokenForm>,
) -> Response {
    let name = f.name.trim();
    if name.is_empty() || name.len() > 128 {
        return redirect("/admin", false, "A token name has 1 to 128 bytes.");
    }
    let days: i64 = match f.days.trim() {
        "" => 90,
        d => match d.parse::<u32>() {
            Ok(n) if n <= 3650 => i64::from(n),
            _ => {
                return redirect(
                    "/admin",
                    false,
                    "Days: a number from 0 (never expires) to 3650.",
                )
            }
        },
    };
    let scopes: Vec<String> = f
        .scopes
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let site = Some(f.site.trim().to_string()).filter(|s| !s.is_empty());
    let expires = (days > 0).then(|| ward_store::now_micros() + days * 86_400_000_000);
    match auth::issue_token_record(
        &state,
        &f.user_id,
        name,
        &scopes,
        site,
        expires,
        &actor_of(&user),
    )
    .await
    {
        Ok((t, secret)) => secret_page(
            &user,
            "Token created",
            &format!("The token {} ({}) was created:", t.name, t.id),
            &secret,
            "Send it as `Authorization: Bearer <secret>`.",
        ),
        Err(e) => redirect(
            "/admin",
            false,
            &format!("The token could not be created: {}", e.message),
        ),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !confirmed(&f) {
        return redirect("/admin", false, "Tick confirm to revoke a token.");
    }
    match state.store.revoke_token(&id, &actor_of(&user)).await {
        Ok(true) => redirect("/admin", true, "Token revoked."),
        Ok(false) => redirect("/admin", false, "No such active token."),
        Err(e) => redirect(
            "/admin",
            false,
            &format!("The token could not be revoked: {e}"),
        ),
    }
}
