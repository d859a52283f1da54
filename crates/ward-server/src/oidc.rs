//! OpenID Connect single sign-on (issue 6, item 4) with the `openidconnect` crate.
//!
//! The flow is the authorization-code flow with PKCE (S256) and a nonce:
//!
//! 1. `GET /auth/oidc/login` discovers the provider (`/.well-known/openid-configuration`,
//!    whose `issuer` must equal the configured one), makes a random `state`, nonce and PKCE
//!    verifier, keeps them in a short-lived cookie (`ward_oidc`: HttpOnly, `SameSite=Lax`
//!    because the provider's redirect back is a cross-site navigation, `Path=/auth/oidc`,
//!    ten minutes, `Secure` under TLS) and redirects the browser to the provider.
//! 2. `GET /auth/oidc/callback?code&state` refuses a callback whose `state` does not equal
//!    the cookie's (login CSRF, a tampered or foreign callback) or that comes without the
//!    cookie (expired, already used: the cookie is cleared by every callback), exchanges the
//!    code at the token endpoint with the PKCE verifier and the client secret, and checks the
//!    ID token: signature against the provider's JWKS (from discovery; `none` refused),
//!    issuer, audience (the client id), expiry and issue time, the nonce, and the access-token
//!    hash when present. A code can be redeemed once: the provider refuses a replayed one.
//! 3. The roles claim (configurable, e.g. `groups` or `roles`; read from the ID token, else
//!    from the userinfo endpoint, whose `sub` must match) is mapped to Ward role grants with
//!    [`OidcConfig::role_mappings`]. An identity none of whose values maps to a role is
//!    refused with a page that says so; nobody gets a default role.
//! 4. The user is found by (issuer, subject) or created (`users.oidc_issuer`,
//!    `users.oidc_subject`); its role grants follow the provider on every login. A local
//!    account with the same name is never taken over: the new user gets a distinct name.
//!    A disabled user is refused. Then a session is created through the local-auth seam
//!    ([`crate::auth::create_session`]) and the login is appended to the audit log.
//!
//! Provider metadata and keys are discovered on each login and each callback (logins are
//! rare; a rotated signing key is picked up at once).

use crate::rbac::Role;
use crate::state::AppState;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use ward_store::{Actor, RoleGrant};

/// The cookie that carries a login in progress from the redirect to the callback.
pub const PENDING_COOKIE: &str = "ward_oidc";
/// How long a login may take at the provider.
pub const PENDING_TTL_SECS: i64 = 600;
/// Timeout of each request to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

/// Single sign-on settings (`[oidc]` in the config file, `WARD_OIDC_*` in the environment).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL, exactly as it appears in its discovery document.
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Ward's callback as registered at the provider: `https://WARD/auth/oidc/callback`.
    pub redirect_url: String,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim whose values (a string or an array of strings) are mapped to roles.
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// The claim that names the user in Ward (falls back to `email`, then the subject).
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    /// Claim value -> Ward role (and optionally one site). Values with no row give nothing.
    #[serde(default)]
    pub role_mappings: Vec<RoleMapping>,
}

/// One row of the claim-to-role mapping.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    /// A value of the roles claim (a group name or id, an app role).
    pub group: String,
    /// `admin`, `security_analyst`, `clinical_engineer` or `auditor` (`-` may stand for `_`).
    pub role: String,
    /// Only this site; absent: every site.
    #[serde(default)]
    pub site: Option<String>,
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into()]
}
fn default_roles_claim() -> String {
    "groups".into()
}
fn default_username_claim() -> String {
    "preferred_username".into()
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .field("roles_claim", &self.roles_claim)
            .field("username_claim", &self.username_claim)
            .field("role_mappings", &self.role_mappings)
            .finish()
    }
}

/// A configuration problem, naming the setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("OIDC configuration: {setting}: {problem}")]
pub struct OidcConfigError {
    pub setting: String,
    pub problem: String,
}

fn config_err(setting: &str, problem: impl Into<String>) -> OidcConfigError {
    OidcConfigError {
        setting: setting.to_string(),
        problem: problem.into(),
    }
}

/// The roles an identity provider may grant: people's roles. `sensor` is for API tokens.
fn role_of(name: &str) -> Option<(Role, &'static str)> {
    match name.trim().replace('-', "_").to_ascii_lowercase().as_str() {
        "admin" => Some((Role::Admin, "admin")),
        "security_analyst" => Some((Role::SecurityAnalyst, "security_analyst")),
        "clinical_engineer" => Some((Role::ClinicalEngineer, "clinical_engineer")),
        "auditor" => Some((Role::Auditor, "auditor")),
        _ => None,
    }
}

impl OidcConfig {
    /// Applies `WARD_OIDC_*` overrides (read through `env`, so tests need not touch the
    /// process environment) over the config file's `[oidc]` section, and validates the
    /// result. `None`: single sign-on is off.
    ///
    /// Variables: `WARD_OIDC_ISSUER_URL`, `WARD_OIDC_CLIENT_ID`, `WARD_OIDC_CLIENT_SECRET`,
    /// `WARD_OIDC_REDIRECT_URL`, `WARD_OIDC_SCOPES` (space-separated),
    /// `WARD_OIDC_ROLES_CLAIM`, `WARD_OIDC_USERNAME_CLAIM`, `WARD_OIDC_ROLE_MAPPINGS`
    /// (`group=role[@site]`, comma-separated; replaces the file's mapping).
    pub fn from_file_and_env(
        file: Option<OidcConfig>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<OidcConfig>, OidcConfigError> {
        let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let mut cfg = match file {
            Some(c) => c,
            None => {
                if var("WARD_OIDC_ISSUER_URL").is_none() {
                    return Ok(None);
                }
                OidcConfig {
                    issuer_url: String::new(),
                    client_id: String::new(),
                    client_secret: String::new(),
                    redirect_url: String::new(),
                    scopes: default_scopes(),
                    roles_claim: default_roles_claim(),
                    username_claim: default_username_claim(),
                    role_mappings: Vec::new(),
                }
            }
        };
        if let Some(v) = var("WARD_OIDC_ISSUER_URL") {
            cfg.issuer_url = v;
        }
        if let Some(v) = var("WARD_OIDC_CLIENT_ID") {
            cfg.client_id = v;
        }
        if let Some(v) = var("WARD_OIDC_CLIENT_SECRET") {
            cfg.client_secret = v;
        }
        if let Some(v) = var("WARD_OIDC_REDIRECT_URL") {
            cfg.redirect_url = v;
        }
        if let Some(v) = var("WARD_OIDC_SCOPES") {
            cfg.scopes = v.split_whitespace().map(str::to_string).collect();
        }
        if let Some(v) = var("WARD_OIDC_ROLES_CLAIM") {
            cfg.roles_claim = v.trim().to_string();
        }
        if let Some(v) = var("WARD_OIDC_USERNAME_CLAIM") {
            cfg.username_claim = v.trim().to_string();
        }
        if let Some(v) = var("WARD_OIDC_ROLE_MAPPINGS") {
            cfg.role_mappings = parse_role_mappings(&v)?;
        }
        cfg.validate()?;
        Ok(Some(cfg))
    }

    /// Checks every setting; the first problem found is returned.
    pub fn validate(&self) -> Result<(), OidcConfigError> {
        IssuerUrl::new(self.issuer_url.clone())
            .map_err(|e| config_err("issuer_url", format!("not a URL: {e}")))?;
        RedirectUrl::new(self.redirect_url.clone())
            .map_err(|e| config_err("redirect_url", format!("not a URL: {e}")))?;
        if self.client_id.is_empty() {
            return Err(config_err("client_id", "missing"));
        }
        if self.client_secret.is_empty() {
            return Err(config_err("client_secret", "missing"));
        }
        if self.roles_claim.is_empty() {
            return Err(config_err("roles_claim", "empty"));
        }
        if self.role_mappings.is_empty() {
            return Err(config_err(
                "role_mappings",
                "no mapping: nobody could sign in (users with no mapped role are refused)",
            ));
        }
        for (i, m) in self.role_mappings.iter().enumerate() {
            if m.group.is_empty() {
                return Err(config_err(&format!("role_mappings[{i}].group"), "empty"));
            }
            if role_of(&m.role).is_none() {
                return Err(config_err(
                    &format!("role_mappings[{i}].role"),
                    format!(
                        "unknown role {:?} (admin, security_analyst, clinical_engineer, auditor)",
                        m.role
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The role grants for these claim values, sorted and without duplicates.
    pub fn map_roles(&self, values: &[String]) -> Vec<RoleGrant> {
        let mut out: Vec<RoleGrant> = self
            .role_mappings
            .iter()
            .filter(|m| values.iter().any(|v| v == &m.group))
            .filter_map(|m| {
                role_of(&m.role).map(|(_, name)| RoleGrant {
                    role: name.to_string(),
                    site: m.site.clone().filter(|s| !s.is_empty()),
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// `group=role[@site],...` (the `WARD_OIDC_ROLE_MAPPINGS` form).
pub fn parse_role_mappings(text: &str) -> Result<Vec<RoleMapping>, OidcConfigError> {
    let mut out = Vec::new();
    for (i, item) in text.split(',').map(str::trim).enumerate() {
        if item.is_empty() {
            continue;
        }
        let Some((group, rest)) = item.rsplit_once('=') else {
            return Err(config_err(
                "WARD_OIDC_ROLE_MAPPINGS",
                format!("item {} ({item:?}) is not group=role[@site]", i + 1),
            ));
        };
        let (role, site) = match rest.split_once('@') {
            Some((r, s)) => (r, Some(s.trim().to_string())),
            None => (rest, None),
        };
        out.push(RoleMapping {
            group: group.trim().to_string(),
            role: role.trim().to_string(),
            site,
        });
    }
    Ok(out)
}

/// Every claim of the ID token / userinfo answer beyond the standard ones, kept as JSON so
/// the roles claim can be any name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

type WardIdTokenFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type WardTokenResponse = StandardTokenResponse<WardIdTokenFields, CoreTokenType>;
type WardClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    WardTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The routes: add with `.merge(oidc::router())`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/login", get(login))
        .route("/auth/oidc/callback", get(callback))
}

/// A refusal or failure, shown to the person as a small page.
#[derive(Debug)]
pub struct OidcError {
    status: StatusCode,
    title: &'static str,
    detail: String,
}

fn fail(status: StatusCode, title: &'static str, detail: impl Into<String>) -> OidcError {
    OidcError {
        status,
        title,
        detail: detail.into(),
    }
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Ward: {t}</title></head>\
             <body><h1>{t}</h1><p>{d}</p><p><a href=\"/\">Back to Ward</a></p></body></html>",
            t = html_escape(self.title),
            d = html_escape(&self.detail)
        );
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        // Whatever went wrong, the login in progress is over.
        if let Ok(v) = HeaderValue::from_str(&clear_pending_cookie()) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn config(state: &AppState) -> Result<&OidcConfig, OidcError> {
    state.config.oidc.as_ref().ok_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            "Single sign-on is not configured",
            "This Ward server has no OpenID Connect provider configured; sign in with a local account.",
        )
    })
}

/// An HTTP client for the provider: no redirects followed (the discovery, token, JWKS and
/// userinfo endpoints answer directly), bounded time, rustls.
fn http_client() -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .build()
        .map_err(|e| {
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Single sign-on is unavailable",
                format!("cannot build the HTTP client: {e}"),
            )
        })
}

async fn discover(cfg: &OidcConfig, http: &reqwest::Client) -> Result<WardClient, OidcError> {
    let unavailable = |e: String| {
        tracing::warn!(issuer = %cfg.issuer_url, error = %e, "OIDC discovery failed");
        fail(
            StatusCode::BAD_GATEWAY,
            "The identity provider cannot be reached",
            format!("Discovery at {} failed: {e}", cfg.issuer_url),
        )
    };
    let issuer = IssuerUrl::new(cfg.issuer_url.clone()).map_err(|e| unavailable(e.to_string()))?;
    let redirect =
        RedirectUrl::new(cfg.redirect_url.clone()).map_err(|e| unavailable(e.to_string()))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| unavailable(error_chain(&e)))?;
    Ok(WardClient::from_provider_metadata(
        metadata,
        ClientId::new(cfg.client_id.clone()),
        Some(ClientSecret::new(cfg.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// What the pending-login cookie holds.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    /// `state` sent to the provider.
    s: String,
    /// Nonce sent to the provider.
    n: String,
    /// PKCE verifier.
    v: String,
    /// When the login started (seconds since the epoch).
    t: i64,
}

fn now_secs() -> i64 {
    ward_store::now_micros() / 1_000_000
}

fn pending_cookie(value: &str, secure: bool) -> String {
    format!(
        "{PENDING_COOKIE}={value}; Path=/auth/oidc; Max-Age={PENDING_TTL_SECS}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

fn clear_pending_cookie() -> String {
    format!("{PENDING_COOKIE}=; Path=/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax")
}

fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Equal in constant time (for equal lengths).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `GET /auth/oidc/login`: to the provider.
async fn login(State(state): State<AppState>) -> Result<Response, OidcError> {
    let cfg = config(&state)?;
    let http = http_client()?;
    let client = discover(cfg, &http).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in &cfg.scopes {
        if s != "openid" {
            req = req.add_scope(Scope::new(s.clone()));
        }
    }
    let (url, csrf, nonce) = req.set_pkce_challenge(challenge).url();
    let pending = Pending {
        s: csrf.secret().clone(),
        n: nonce.secret().clone(),
        v: verifier.secret().clone(),
        t: now_secs(),
    };
    let json = serde_json::to_vec(&pending).map_err(|e| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Single sign-on failed",
            e.to_string(),
        )
    })?;
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let mut r = Redirect::to(url.as_str()).into_response();
    let cookie = HeaderValue::from_str(&pending_cookie(&value, state.config.tls)).map_err(|e| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Single sign-on failed",
            e.to_string(),
        )
    })?;
    r.headers_mut().append(header::SET_COOKIE, cookie);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The provider's answer.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/oidc/callback`: back from the provider.
async fn callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
    req: Request,
) -> Result<Response, OidcError> {
    let cfg = config(&state)?;
    let source = crate::auth::client_source(&req);
    let headers = req.headers();
    let refused = |title: &'static str, detail: String| {
        tracing::warn!(source = ?source, "OIDC sign-in refused: {title}: {detail}");
        fail(StatusCode::BAD_REQUEST, title, detail)
    };

    let pending = cookie_value(headers, PENDING_COOKIE)
        .and_then(|v| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Pending>(&b).ok())
        .ok_or_else(|| {
            refused(
                "No sign-in in progress",
                "This browser has no single sign-on in progress (it expired, was already \
                 completed, or was started elsewhere). Start again from the sign-in page."
                    .into(),
            )
        })?;
    if now_secs().saturating_sub(pending.t) > PENDING_TTL_SECS || pending.t > now_secs() + 60 {
        return Err(refused(
            "Sign-in expired",
            "The single sign-on took too long. Start again from the sign-in page.".into(),
        ));
    }
    let Some(got_state) = q.state.as_deref() else {
        return Err(refused(
            "Invalid sign-in response",
            "The identity provider's answer has no state.".into(),
        ));
    };
    if !same(got_state, &pending.s) {
        return Err(refused(
            "Invalid sign-in response",
            "The state in the identity provider's answer does not match this browser's \
             sign-in: the answer was altered or belongs to another sign-in."
                .into(),
        ));
    }
    if let Some(err) = q.error.as_deref() {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "The identity provider refused the sign-in",
            format!(
                "{err}{}",
                q.error_description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
        ));
    }
    let Some(code) = q.code.clone() else {
        return Err(refused(
            "Invalid sign-in response",
            "The identity provider's answer has no authorization code.".into(),
        ));
    };

    let http = http_client()?;
    let client = discover(cfg, &http).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| {
            fail(
                StatusCode::BAD_GATEWAY,
                "Single sign-on is unavailable",
                format!("the provider has no token endpoint: {e}"),
            )
        })?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.v.clone()))
        .request_async(&http)
        .await
        .map_err(|e| {
            let e = error_chain(&e);
            tracing::warn!(source = ?source, error = %e, "OIDC code exchange refused");
            fail(
                StatusCode::UNAUTHORIZED,
                "The sign-in could not be completed",
                format!(
                    "The identity provider refused the authorization code (already used, \
                     expired or not issued to Ward): {e}"
                ),
            )
        })?;
    let id_token = token.id_token().ok_or_else(|| {
        fail(
            StatusCode::UNAUTHORIZED,
            "The sign-in could not be completed",
            "The identity provider returned no ID token.",
        )
    })?;
    let verifier = client.id_token_verifier();
    let nonce = Nonce::new(pending.n.clone());
    let claims = id_token.claims(&verifier, &nonce).map_err(|e| {
        let e = error_chain(&e);
        tracing::warn!(source = ?source, error = %e, "OIDC ID token rejected");
        fail(
            StatusCode::UNAUTHORIZED,
            "The sign-in could not be completed",
            format!("The ID token is not valid: {e}"),
        )
    })?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| {
            fail(
                StatusCode::UNAUTHORIZED,
                "The sign-in could not be completed",
                format!("ID token: {e}"),
            )
        })?;
        let key = id_token.signing_key(&verifier).map_err(|e| {
            fail(
                StatusCode::UNAUTHORIZED,
                "The sign-in could not be completed",
                format!("ID token: {e}"),
            )
        })?;
        let actual = AccessTokenHash::from_token(token.access_token(), alg, key).map_err(|e| {
            fail(
                StatusCode::UNAUTHORIZED,
                "The sign-in could not be completed",
                format!("ID token: {e}"),
            )
        })?;
        if actual != *expected {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                "The sign-in could not be completed",
                "The ID token's access-token hash does not match the access token.",
            ));
        }
    }

    let issuer = claims.issuer().to_string();
    let subject = claims.subject().to_string();
    let mut extra = claims.additional_claims().claims.clone();
    let mut username = standard_username(cfg, &extra, claims);
    let mut display = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string());
    if !extra.contains_key(&cfg.roles_claim) {
        // Many providers put groups only in the userinfo answer for the code flow.
        if let Ok(req) =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
        {
            let info: openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim> =
                req.request_async(&http).await.map_err(|e| {
                    fail(
                        StatusCode::BAD_GATEWAY,
                        "The sign-in could not be completed",
                        format!("userinfo: {}", error_chain(&e)),
                    )
                })?;
            extra = info.additional_claims().claims.clone();
            if username.is_none() {
                username = info
                    .preferred_username()
                    .map(|u| u.to_string())
                    .or_else(|| info.email().map(|e| e.to_string()));
            }
            if display.is_none() {
                display = info.name().and_then(|n| n.get(None)).map(|n| n.to_string());
            }
        }
    }
    let values = claim_values(extra.get(&cfg.roles_claim));
    let username = username.unwrap_or_else(|| subject.clone());
    let roles = cfg.map_roles(&values);
    if roles.is_empty() {
        let actor = Actor::new(username.clone(), source.clone());
        let _ = state
            .store
            .append_audit(
                &actor,
                "auth.oidc.refused",
                &format!("oidc:{issuer}#{subject}"),
                None,
                Some(&serde_json::json!({"reason": "no mapped role", "claim": cfg.roles_claim})),
            )
            .await;
        tracing::warn!(user = %username, "OIDC sign-in refused: no mapped role");
        return Err(fail(
            StatusCode::FORBIDDEN,
            "No Ward role for this account",
            format!(
                "You signed in at the identity provider as {username}, but none of the values \
                 of your \"{}\" claim ({}) is mapped to a Ward role, so Ward does not let you \
                 in. Ask a Ward administrator to map one of your groups to a role.",
                cfg.roles_claim,
                if values.is_empty() {
                    "none".to_string()
                } else {
                    values.join(", ")
                }
            ),
        ));
    }

    let user = crate::auth::find_or_create_oidc_user(
        &state,
        &issuer,
        &subject,
        &username,
        display.as_deref().unwrap_or(&username),
        &roles,
        source.clone(),
    )
    .await
    .map_err(|e| {
        if e.status == StatusCode::FORBIDDEN {
            fail(
                StatusCode::FORBIDDEN,
                "This Ward account is disabled",
                format!("The Ward account for {username} is disabled."),
            )
        } else {
            tracing::error!(error = ?e, "OIDC sign-in: cannot find or create the user");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Single sign-on failed",
                "Ward could not record the account; see the server log.",
            )
        }
    })?;
    let (session, _csrf) = crate::auth::create_session(&state, &user.id, source.clone())
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "OIDC sign-in: cannot create a session");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Single sign-on failed",
                "Ward could not create a session; see the server log.",
            )
        })?;
    state
        .store
        .append_audit(
            &Actor::new(user.username.clone(), source.clone()),
            "auth.login",
            &format!("user:{}", user.username),
            None,
            Some(&serde_json::json!({
                "method": "oidc",
                "issuer": issuer,
                "subject": subject,
                "roles": user.roles,
            })),
        )
        .await
        .map_err(store_err)?;
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        crate::auth::session_cookie(&state, &session),
    );
    tracing::info!(user = %user.username, "OIDC sign-in");
    if let Ok(v) = HeaderValue::from_str(&clear_pending_cookie()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn standard_username(
    cfg: &OidcConfig,
    extra: &serde_json::Map<String, serde_json::Value>,
    claims: &openidconnect::IdTokenClaims<ExtraClaims, CoreGenderClaim>,
) -> Option<String> {
    let from_std = match cfg.username_claim.as_str() {
        "preferred_username" => claims.preferred_username().map(|u| u.to_string()),
        "email" => claims.email().map(|e| e.to_string()),
        "sub" => Some(claims.subject().to_string()),
        other => extra
            .get(other)
            .and_then(|v| v.as_str())
            .map(str::to_string),
    };
    from_std
        .or_else(|| claims.email().map(|e| e.to_string()))
        .filter(|u| !u.trim().is_empty())
}

/// A claim's values: a string (space- or comma-separated lists are not split: a group name
/// may contain either) or an array of strings.
pub fn claim_values(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn store_err(e: ward_store::StoreError) -> OidcError {
    tracing::error!(error = %e, "store error during OIDC sign-in");
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Single sign-on failed",
        "The store failed; see the server log.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> OidcConfig {
        OidcConfig {
            issuer_url: "https://idp.hospital.test/realms/ward".into(),
            client_id: "ward".into(),
            client_secret: "s3cret".into(),
            redirect_url: "https://ward.hospital.test/auth/oidc/callback".into(),
            scopes: default_scopes(),
            roles_claim: "groups".into(),
            username_claim: default_username_claim(),
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
            ],
        }
    }

    #[test]
    fn maps_groups_to_role_grants_and_ignores_unmapped() {
        let c = base();
        let g = c.map_roles(&["staff".into(), "biomed-north".into(), "ward-admins".into()]);
        assert_eq!(
            g,
            vec![
                RoleGrant {
                    role: "admin".into(),
                    site: None
                },
                RoleGrant {
                    role: "clinical_engineer".into(),
                    site: Some("north".into())
                },
            ]
        );
        assert!(c.map_roles(&["staff".into()]).is_empty());
        assert!(c.map_roles(&[]).is_empty());
    }

    #[test]
    fn env_overrides_file_and_validates() {
        let env = |k: &str| match k {
            "WARD_OIDC_CLIENT_SECRET" => Some("from-env".to_string()),
            "WARD_OIDC_ROLE_MAPPINGS" => Some("sec=security_analyst, audit=auditor@south".into()),
            "WARD_OIDC_ROLES_CLAIM" => Some("roles".into()),
            _ => None,
        };
        let c = OidcConfig::from_file_and_env(Some(base()), env)
            .expect("valid")
            .expect("on");
        assert_eq!(c.client_secret, "from-env");
        assert_eq!(c.roles_claim, "roles");
        assert_eq!(c.role_mappings.len(), 2);
        assert_eq!(c.role_mappings[1].site.as_deref(), Some("south"));
        assert!(!format!("{c:?}").contains("from-env"), "secret in Debug");

        // Off unless configured.
        assert_eq!(OidcConfig::from_file_and_env(None, |_| None), Ok(None));
        // Environment only.
        let env_only = |k: &str| match k {
            "WARD_OIDC_ISSUER_URL" => Some("https://idp.test".to_string()),
            "WARD_OIDC_CLIENT_ID" => Some("ward".into()),
            "WARD_OIDC_CLIENT_SECRET" => Some("x".into()),
            "WARD_OIDC_REDIRECT_URL" => Some("https://ward.test/auth/oidc/callback".into()),
            "WARD_OIDC_ROLE_MAPPINGS" => Some("g=admin".into()),
            _ => None,
        };
        let c = OidcConfig::from_file_and_env(None, env_only)
            .expect("valid")
            .expect("on");
        assert_eq!(c.roles_claim, "groups");
        assert_eq!(c.scopes, vec!["profile", "email"]);
    }

    #[test]
    fn rejects_bad_settings_naming_them() {
        let mut c = base();
        c.role_mappings[1].role = "sensor".into();
        let e = c.validate().expect_err("sensor is not for people");
        assert_eq!(e.setting, "role_mappings[1].role");
        let mut c = base();
        c.role_mappings.clear();
        assert_eq!(
            c.validate().expect_err("no mapping").setting,
            "role_mappings"
        );
        let mut c = base();
        c.issuer_url = "not a url".into();
        assert_eq!(c.validate().expect_err("bad url").setting, "issuer_url");
        assert!(parse_role_mappings("no-equals-sign").is_err());
        let cfg: Result<OidcConfig, _> = toml::from_str(
            "issuer_url = \"https://i\"\nclient_id = \"a\"\nclient_secret = \"b\"\n\
             redirect_url = \"https://w/cb\"\n[[role_mappings]]\ngroup = \"g\"\nrole = \"auditor\"\n",
        );
        let cfg = cfg.expect("parses from TOML");
        assert_eq!(cfg.role_mappings[0].role, "auditor");
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn claim_values_take_strings_and_arrays_only() {
        use serde_json::json;
        assert_eq!(claim_values(Some(&json!("a b"))), vec!["a b"]);
        assert_eq!(claim_values(Some(&json!(["a", 1, "b"]))), vec!["a", "b"]);
        assert!(claim_values(Some(&json!({"a": 1}))).is_empty());
        assert!(claim_values(None).is_empty());
    }

    #[test]
    fn cookie_parsing_and_escaping() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ward_oidc=xyz; b=2"),
        );
        assert_eq!(cookie_value(&h, PENDING_COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&h, "c"), None);
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
