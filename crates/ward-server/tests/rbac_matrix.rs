//! The route x role matrix (issue 6, acceptance): every route of the real router, every
//! role, and an unauthenticated caller. The expected answers come from the table below,
//! written independently of `Role::allows`; the test also fails when a route of the router
//! has no row in `rbac::ROUTES` or a row names a route the router does not have.

mod support;

use axum::http::StatusCode;
use std::collections::BTreeSet;
use support::*;
use ward_server::rbac::{Permission, ROUTES};

/// Who holds which permission (issue 6: admin; security analyst; clinical engineer;
/// auditor = read-only plus the audit log; sensor = ingest only).
fn expected_roles(p: Permission) -> &'static [&'static str] {
    use Permission::*;
    const PEOPLE: &[&str] = &["admin", "security_analyst", "clinical_engineer", "auditor"];
    match p {
        Public => &[
            "admin",
            "security_analyst",
            "clinical_engineer",
            "auditor",
            "sensor",
        ],
        Authenticated | ReadInventory | ReadFindings | ReadIntel | ReadPlans | ExportData => PEOPLE,
        EditInventory | Review => &["admin", "security_analyst", "clinical_engineer"],
        TriageFindings | ImportIntel | UploadCapture | ManagePlans => {
            &["admin", "security_analyst"]
        }
        Ingest => &["sensor"],
        ReadAudit | ReadUsers | ReadTokens | ReadMetrics => &["admin", "auditor"],
        ReadJobs => &["admin", "security_analyst", "auditor"],
        ManageUsers | ManageTokens | ManageJobs => &["admin"],
    }
}

/// The only routes that answer without authentication.
fn may_be_public(method: &str, pattern: &str) -> bool {
    matches!(
        (method, pattern),
        ("GET", "/health")
            | ("GET", "/ready")
            | ("POST", "/api/v1/auth/login")
            | ("GET", "/login")
            | ("POST", "/login")
            | ("GET", "/auth/oidc/login")
            | ("GET", "/auth/oidc/callback")
    ) || (method == "GET" && pattern.starts_with("/ui/") && !pattern.contains('{'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_has_exactly_one_row_and_every_row_a_route() {
    let served = router_routes().await;
    let mut rows = BTreeSet::new();
    for (m, p, _) in ROUTES {
        assert!(
            rows.insert((m.to_string(), p.to_string())),
            "duplicate row in rbac::ROUTES: {m} {p}"
        );
    }
    let no_row: Vec<_> = served.difference(&rows).collect();
    let no_route: Vec<_> = rows.difference(&served).collect();
    assert!(
        no_row.is_empty(),
        "routes without a row in rbac::ROUTES (denied): {no_row:?}"
    );
    assert!(
        no_route.is_empty(),
        "rows in rbac::ROUTES without a route: {no_route:?}"
    );
}

#[test]
fn only_health_readiness_and_login_are_public() {
    for (m, p, perm) in ROUTES {
        if *perm == Permission::Public {
            assert!(
                may_be_public(m, p),
                "{m} {p} answers without authentication"
            );
        }
    }
}

/// One caller of the matrix.
struct Caller {
    label: &'static str,
    role: Option<&'static str>,
    user_id: Option<String>,
    token: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_role_matrix() {
    let db = TestDb::new(Backend::Sqlite).await;
    let state = db.state();
    state
        .store
        .upsert_site("site-a", "Site A")
        .await
        .expect("site");
    let mut callers = vec![Caller {
        label: "unauthenticated",
        role: None,
        user_id: None,
        token: None,
    }];
    for role in [
        "admin",
        "security_analyst",
        "clinical_engineer",
        "auditor",
        "sensor",
    ] {
        let id = user(&state, &format!("u-{role}"), &[(role, None)]).await;
        callers.push(Caller {
            label: role,
            role: Some(role),
            user_id: Some(id),
            token: None,
        });
    }
    // The sensor's usual credential: a token with the ingest scope.
    let sensor_id = callers
        .iter()
        .find(|c| c.label == "sensor")
        .and_then(|c| c.user_id.clone())
        .expect("sensor user");
    let token = ward_server::auth::issue_token(
        &state,
        &sensor_id,
        "sensor-1",
        &["ingest".to_string()],
        None,
        None,
        &tester(),
    )
    .await
    .expect("token");
    callers.push(Caller {
        label: "sensor token",
        role: Some("sensor"),
        user_id: None,
        token: Some(token),
    });

    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, pattern, perm) in ROUTES {
        let uri = concrete(pattern);
        for c in &callers {
            let cred = match (&c.user_id, &c.token) {
                (_, Some(t)) => Cred::Bearer(t.clone()),
                // A fresh session per request: logout ends the one it is given.
                (Some(id), None) => session(&state, id).await,
                (None, None) => Cred::None,
            };
            let (ct, body) = if *method == "GET" {
                (None, Vec::new())
            } else {
                (Some("application/json"), b"{}".to_vec())
            };
            let a = send_raw(&state, method, &uri, &cred, ct, body, None).await;
            checked += 1;
            let s = a.status;
            let ok = match c.role {
                None if *perm == Permission::Public => s != StatusCode::UNAUTHORIZED,
                None => {
                    s == StatusCode::UNAUTHORIZED
                        || (!pattern.starts_with("/api/")
                            && s.is_redirection()
                            && a.header("location")
                                .is_some_and(|l| l.starts_with("/login")))
                }
                Some(role) => {
                    let allowed = expected_roles(*perm).contains(&role);
                    if allowed {
                        s != StatusCode::UNAUTHORIZED
                            && s != StatusCode::FORBIDDEN
                            && !s.is_server_error()
                    } else {
                        s == StatusCode::FORBIDDEN
                    }
                }
            };
            if !ok {
                failures.push(format!(
                    "{method} {uri} ({perm:?}) as {}: {s} {}",
                    c.label,
                    a.text().chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(checked >= ROUTES.len() * 7);
    assert!(
        failures.is_empty(),
        "{} of {checked} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_do_not_answer_anonymous_callers() {
    let db = TestDb::new(Backend::Sqlite).await;
    let state = db.state();
    for uri in ["/api/v1/nothing-here", "/api/v2/devices", "/etc/passwd"] {
        let a = get(&state, uri, &Cred::None).await;
        assert!(
            a.status == StatusCode::UNAUTHORIZED
                || (a.status.is_redirection()
                    && a.header("location")
                        .is_some_and(|l| l.starts_with("/login"))),
            "{uri}: {}",
            a.status
        );
    }
}

/// The routes added for device documents and password resets, with the roles that may
/// use them written out here (not derived from their permission), checked against the
/// table: reading documents is for everyone who reads the inventory, changing them for
/// those who edit it (a clinical engineer attaches an MDS2 form), a reset is admin only.
#[test]
fn document_and_password_reset_routes_have_the_expected_roles() {
    const READERS: &[&str] = &["admin", "security_analyst", "clinical_engineer", "auditor"];
    const EDITORS: &[&str] = &["admin", "security_analyst", "clinical_engineer"];
    let table: &[(&str, &str, &[&str])] = &[
        ("GET", "/api/v1/devices/{id}/documents", READERS),
        ("POST", "/api/v1/devices/{id}/documents", EDITORS),
        ("GET", "/api/v1/devices/{id}/documents/{doc}", READERS),
        ("DELETE", "/api/v1/devices/{id}/documents/{doc}", EDITORS),
        ("POST", "/devices/{id}/documents", EDITORS),
        ("GET", "/devices/{id}/documents/{doc}/delete", EDITORS),
        ("POST", "/devices/{id}/documents/{doc}/delete", EDITORS),
        ("POST", "/admin/users/{id}/password", &["admin"]),
    ];
    for (m, p, roles) in table {
        let method: axum::http::Method = m.parse().expect("method");
        let perm = ward_server::rbac::route_permission(&method, p)
            .unwrap_or_else(|| panic!("{m} {p} has no row"));
        assert_eq!(expected_roles(perm), *roles, "{m} {p} ({perm:?})");
        for role in ward_server::rbac::Role::ALL {
            assert_eq!(
                role.allows(perm),
                roles.contains(&role.as_str()),
                "{m} {p}: {role:?}"
            );
        }
    }
}
