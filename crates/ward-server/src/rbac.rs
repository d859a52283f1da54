//! Roles, permissions and the route table. Owner: the server-core helper.
//!
//! Every route of the application has exactly one row in [`ROUTES`]; [`authorize`] looks the
//! matched route up and refuses anything not in the table. Helpers adding routes add rows.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Ward's roles (issue 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    SecurityAnalyst,
    ClinicalEngineer,
    Auditor,
    Sensor,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// No authentication (health, login page and login).
    Public,
}

/// (method, route pattern as given to axum, permission).
pub static ROUTES: &[(&str, &str, Permission)] = &[
    ("GET", "/health", Permission::Public),
    ("GET", "/auth/oidc/login", Permission::Public),
    ("GET", "/auth/oidc/callback", Permission::Public),
];

/// The one authorization layer every request passes.
pub async fn authorize(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    next.run(req).await
}
