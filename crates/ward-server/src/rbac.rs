//! Roles, permissions and the route table. Owner: the server-core helper.
//!
//! Every route of the application has exactly one row in [`ROUTES`]; [`authorize`] looks the
//! matched route up and refuses anything not in the table (403, deny by default). Helpers
//! adding routes add rows. The layer then authenticates the caller (API token or session
//! cookie), checks the CSRF token of cookie-authenticated state-changing requests, checks
//! the permission against the caller's roles (and a token's scopes), and puts
//! [`CurrentUser`] into the request extensions.

use crate::auth::{self, AuthMethod, CurrentUser};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Ward's roles (issue 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    SecurityAnalyst,
    ClinicalEngineer,
    /// Read-only, plus the audit log.
    Auditor,
    /// Ingest only (sensors' tokens).
    Sensor,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Admin,
        Role::SecurityAnalyst,
        Role::ClinicalEngineer,
        Role::Auditor,
        Role::Sensor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::SecurityAnalyst => "security_analyst",
            Role::ClinicalEngineer => "clinical_engineer",
            Role::Auditor => "auditor",
            Role::Sensor => "sensor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Whether this role grants `p`.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match p {
            Public => true,
            // Only people; a sensor does nothing but ingest.
            Authenticated => self != Role::Sensor,
            _ => match self {
                Role::Admin => p != Ingest,
                Role::SecurityAnalyst => matches!(
                    p,
                    ReadInventory
                        | EditInventory
                        | ReadFindings
                        | TriageFindings
                        | ReadIntel
                        | ImportIntel
                        | UploadCapture
                        | ReadPlans
                        | ManagePlans
                        | Review
                        | ReadJobs
                        | ExportData
                ),
                Role::ClinicalEngineer => matches!(
                    p,
                    ReadInventory
                        | EditInventory
                        | ReadFindings
                        | ReadIntel
                        | ReadPlans
                        | Review
                        | ExportData
                ),
                Role::Auditor => p.is_read_only(),
                Role::Sensor => p == Ingest,
            },
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// No authentication (health, readiness, login page and login).
    Public,
    /// Any signed-in person (who am I, logout, own password).
    Authenticated,
    /// Devices, connections, security observations.
    ReadInventory,
    /// Manual overrides and merges of devices.
    EditInventory,
    ReadFindings,
    /// Finding status changes.
    TriageFindings,
    /// Advisories and vulnerability intelligence.
    ReadIntel,
    ImportIntel,
    /// Capture file upload (analysed on the server).
    UploadCapture,
    /// Sensor batches.
    Ingest,
    ReadPlans,
    ManagePlans,
    /// Device reviews.
    Review,
    ReadAudit,
    ReadUsers,
    ManageUsers,
    ReadTokens,
    ManageTokens,
    ReadJobs,
    ManageJobs,
    ReadMetrics,
    /// CSV exports.
    ExportData,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::Public,
        Permission::Authenticated,
        Permission::ReadInventory,
        Permission::EditInventory,
        Permission::ReadFindings,
        Permission::TriageFindings,
        Permission::ReadIntel,
        Permission::ImportIntel,
        Permission::UploadCapture,
        Permission::Ingest,
        Permission::ReadPlans,
        Permission::ManagePlans,
        Permission::Review,
        Permission::ReadAudit,
        Permission::ReadUsers,
        Permission::ManageUsers,
        Permission::ReadTokens,
        Permission::ManageTokens,
        Permission::ReadJobs,
        Permission::ManageJobs,
        Permission::ReadMetrics,
        Permission::ExportData,
    ];

    /// Permissions that change nothing (what an auditor holds).
    pub fn is_read_only(self) -> bool {
        use Permission::*;
        matches!(
            self,
            Public
                | Authenticated
                | ReadInventory
                | ReadFindings
                | ReadIntel
                | ReadPlans
                | ReadAudit
                | ReadUsers
                | ReadTokens
                | ReadJobs
                | ReadMetrics
                | ExportData
        )
    }

    /// The token scope name (`read_inventory`, `ingest`, ...).
    pub fn as_str(self) -> &'static str {
        use Permission::*;
        match self {
            Public => "public",
            Authenticated => "authenticated",
            ReadInventory => "read_inventory",
            EditInventory => "edit_inventory",
            ReadFindings => "read_findings",
            TriageFindings => "triage_findings",
            ReadIntel => "read_intel",
            ImportIntel => "import_intel",
            UploadCapture => "upload_capture",
            Ingest => "ingest",
            ReadPlans => "read_plans",
            ManagePlans => "manage_plans",
            Review => "review",
            ReadAudit => "read_audit",
            ReadUsers => "read_users",
            ManageUsers => "manage_users",
            ReadTokens => "read_tokens",
            ManageTokens => "manage_tokens",
            ReadJobs => "read_jobs",
            ManageJobs => "manage_jobs",
            ReadMetrics => "read_metrics",
            ExportData => "export_data",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s)
    }
}

/// The permissions a token scope grants: a permission name, or `read` (every read-only
/// permission) or `*` (everything the token's user may do).
pub fn scope_permissions(scope: &str) -> Option<Vec<Permission>> {
    match scope {
        "*" => Some(Permission::ALL.to_vec()),
        "read" => Some(
            Permission::ALL
                .iter()
                .copied()
                .filter(|p| p.is_read_only())
                .collect(),
        ),
        s => Permission::parse(s)
            .filter(|p| *p != Permission::Public)
            .map(|p| vec![p]),
    }
}

/// (method, route pattern as given to axum, permission). Patterns are full paths (with the
/// `/api/v1` prefix); one row per method and pattern.
#[rustfmt::skip]
pub static ROUTES: &[(&str, &str, Permission)] = &[
    ("GET", "/health", Permission::Public),
    ("GET", "/ready", Permission::Public),
    ("GET", "/metrics", Permission::ReadMetrics),
    ("GET", "/api/v1/openapi.json", Permission::Authenticated),
    // Authentication.
    ("POST", "/api/v1/auth/login", Permission::Public),
    ("POST", "/api/v1/auth/logout", Permission::Authenticated),
    ("GET", "/api/v1/auth/me", Permission::Authenticated),
    ("POST", "/api/v1/auth/password", Permission::Authenticated),
    // Inventory.
    ("GET", "/api/v1/devices", Permission::ReadInventory),
    ("GET", "/api/v1/devices/{id}", Permission::ReadInventory),
    ("PUT", "/api/v1/devices/{id}/overrides/{attribute}", Permission::EditInventory),
    ("DELETE", "/api/v1/devices/{id}/overrides/{attribute}", Permission::EditInventory),
    ("GET", "/api/v1/devices/{id}/findings", Permission::ReadFindings),
    ("POST", "/api/v1/devices/{id}/merge", Permission::EditInventory),
    ("GET", "/api/v1/devices/{id}/merges", Permission::ReadInventory),
    ("GET", "/api/v1/devices/{id}/documents", Permission::ReadInventory),
    ("POST", "/api/v1/devices/{id}/documents", Permission::EditInventory),
    ("GET", "/api/v1/devices/{id}/documents/{doc}", Permission::ReadInventory),
    ("DELETE", "/api/v1/devices/{id}/documents/{doc}", Permission::EditInventory),
    ("GET", "/api/v1/sites", Permission::ReadInventory),
    ("GET", "/api/v1/sites/{site}/connections", Permission::ReadInventory),
    ("GET", "/api/v1/sites/{site}/security-observations", Permission::ReadInventory),
    ("GET", "/api/v1/sites/{site}/policy", Permission::ReadInventory),
    ("GET", "/api/v1/sites/{site}/violations", Permission::ReadInventory),
    ("GET", "/api/v1/export/devices.csv", Permission::ExportData),
    ("GET", "/api/v1/export/findings.csv", Permission::ExportData),
    // Findings.
    ("GET", "/api/v1/findings", Permission::ReadFindings),
    ("GET", "/api/v1/findings/{id}", Permission::ReadFindings),
    ("POST", "/api/v1/findings/{id}/status", Permission::TriageFindings),
    // Intel.
    ("GET", "/api/v1/intel", Permission::ReadIntel),
    ("GET", "/api/v1/intel/{id}", Permission::ReadIntel),
    ("POST", "/api/v1/intel/import", Permission::ImportIntel),
    // Captures.
    ("POST", "/api/v1/captures", Permission::UploadCapture),
    // Users, roles, tokens.
    ("GET", "/api/v1/users", Permission::ReadUsers),
    ("POST", "/api/v1/users", Permission::ManageUsers),
    ("GET", "/api/v1/users/{id}", Permission::ReadUsers),
    ("PUT", "/api/v1/users/{id}/roles", Permission::ManageUsers),
    ("POST", "/api/v1/users/{id}/disable", Permission::ManageUsers),
    ("POST", "/api/v1/users/{id}/enable", Permission::ManageUsers),
    ("POST", "/api/v1/users/{id}/password", Permission::ManageUsers),
    ("GET", "/api/v1/roles", Permission::ReadUsers),
    ("GET", "/api/v1/tokens", Permission::ReadTokens),
    ("POST", "/api/v1/tokens", Permission::ManageTokens),
    ("DELETE", "/api/v1/tokens/{id}", Permission::ManageTokens),
    // Audit log: read and verify only; no route changes it.
    ("GET", "/api/v1/audit", Permission::ReadAudit),
    ("GET", "/api/v1/audit/verify", Permission::ReadAudit),
    // Sensor ingest and jobs (owner: sensor)
    ("POST", "/api/v1/ingest/batches", Permission::Ingest),
    ("GET", "/api/v1/jobs", Permission::ReadJobs),
    // Web UI (owner: web). Pages need what the matching API needs.
    ("GET", "/", Permission::Authenticated),
    ("GET", "/ui/style.css", Permission::Public),
    ("GET", "/ui/upload.js", Permission::Public),
    ("GET", "/login", Permission::Public),
    ("POST", "/login", Permission::Public),
    ("GET", "/logout", Permission::Authenticated),
    ("POST", "/logout", Permission::Authenticated),
    ("GET", "/account/password", Permission::Authenticated),
    ("POST", "/account/password", Permission::Authenticated),
    ("GET", "/inventory", Permission::ReadInventory),
    ("POST", "/inventory/filters", Permission::ReadInventory),
    ("POST", "/inventory/filters/delete", Permission::ReadInventory),
    ("GET", "/devices/{id}", Permission::ReadInventory),
    ("POST", "/devices/{id}/override", Permission::EditInventory),
    ("POST", "/devices/{id}/documents", Permission::EditInventory),
    ("GET", "/devices/{id}/documents/{doc}/delete", Permission::EditInventory),
    ("POST", "/devices/{id}/documents/{doc}/delete", Permission::EditInventory),
    ("GET", "/map", Permission::ReadInventory),
    ("GET", "/findings", Permission::ReadFindings),
    ("POST", "/findings/bulk", Permission::TriageFindings),
    ("GET", "/findings/vex", Permission::ExportData),
    ("GET", "/advisories", Permission::ReadIntel),
    ("GET", "/upload", Permission::ImportIntel),
    ("POST", "/upload", Permission::ImportIntel),
    ("GET", "/plans", Permission::ReadPlans),
    ("POST", "/plans/{id}", Permission::ManagePlans),
    ("GET", "/reviews", Permission::Review),
    ("GET", "/reviews/{id}", Permission::Review),
    ("POST", "/reviews/{id}", Permission::Review),
    ("GET", "/admin", Permission::ReadUsers),
    ("POST", "/admin/users", Permission::ManageUsers),
    ("POST", "/admin/users/{id}/roles", Permission::ManageUsers),
    ("POST", "/admin/users/{id}/disable", Permission::ManageUsers),
    ("POST", "/admin/users/{id}/enable", Permission::ManageUsers),
    ("POST", "/admin/users/{id}/password", Permission::ManageUsers),
    ("POST", "/admin/tokens", Permission::ManageTokens),
    ("POST", "/admin/tokens/{id}/revoke", Permission::ManageTokens),
    ("GET", "/reports", Permission::ReadFindings),
    ("GET", "/reports/posture.html", Permission::ReadFindings),
    ("GET", "/reports/posture.pdf", Permission::ReadFindings),
    // OpenID Connect single sign-on.
    ("GET", "/auth/oidc/login", Permission::Public),
    ("GET", "/auth/oidc/callback", Permission::Public),
];

/// The permission of a route, if it has a row.
pub fn route_permission(method: &Method, pattern: &str) -> Option<Permission> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == pattern)
        .map(|(_, _, perm)| *perm)
}

/// The one authorization layer every request passes.
pub async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let source = auth::client_source(&req);
    let Some(pattern) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        // No route matched: a 404 for callers who may know, 401 for anyone else.
        return match auth::authenticate(&state, req.headers(), source.clone()).await {
            Ok(Some(_)) => next.run(req).await,
            Ok(None) => ApiError::unauthenticated().into_response(),
            Err(e) => e.into_response(),
        };
    };
    let Some(permission) = route_permission(req.method(), &pattern) else {
        tracing::warn!(route = %pattern, method = %req.method(), "route without a row in rbac::ROUTES: denied");
        return ApiError::new(StatusCode::FORBIDDEN, "forbidden").into_response();
    };
    if permission == Permission::Public {
        return next.run(req).await;
    }
    let user = match auth::authenticate(&state, req.headers(), source).await {
        Ok(Some(u)) => u,
        // Web UI (owner: web): a page asked for without a session goes to the login form.
        Ok(None)
            if !pattern.starts_with("/api/")
                && req.method() == Method::GET
                && req
                    .headers()
                    .get(axum::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html")) =>
        {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let to = format!("/login?next={}", crate::ui::urlencode(next));
            return (StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to)]).into_response();
        }
        Ok(None) => return ApiError::unauthenticated().into_response(),
        Err(e) => return e.into_response(),
    };
    let mut req = req;
    if user.method == AuthMethod::Session && !is_safe(req.method()) {
        // Web UI (owner: web): a multipart form's token comes as its first field without script.
        req = crate::ui::csrf_from_multipart(req, &pattern).await;
        match auth::check_csrf(&user, req, 1 << 20).await {
            Ok(r) => req = r,
            Err(e) => return e.into_response(),
        }
    }
    // Web UI (owner: web): pages refused to a signed-in user answer in HTML.
    if ((user.must_change_password && permission != Permission::Authenticated)
        || !user.allows(permission))
        && crate::ui::wants_page(&req, &pattern)
    {
        return crate::ui::refused_page(&user);
    }
    if user.must_change_password && permission != Permission::Authenticated {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "the password must be changed first (POST /api/v1/auth/password)",
        )
        .into_response();
    }
    if !user.allows(permission) {
        return ApiError::new(StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    req.extensions_mut().insert(user);
    next.run(req).await
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl CurrentUser {
    /// Whether the caller holds `p`: one of its roles grants it and, for a token, one of
    /// the token's scopes does too.
    pub fn allows(&self, p: Permission) -> bool {
        self.roles.iter().any(|r| r.allows(p))
            && self.token_scopes.as_ref().is_none_or(|s| s.contains(&p))
    }

    /// Whether the caller may see `site`.
    pub fn may_see_site(&self, site: &str) -> bool {
        self.sites.is_empty() || self.sites.iter().any(|s| s == site)
    }
}
