//! Who is calling. Owner: the server-core helper (sessions, tokens, passwords, throttling).

use crate::rbac::Role;

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
}
