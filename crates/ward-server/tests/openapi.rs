//! The OpenAPI document (`/api/v1/openapi.json`) against the routes, both ways: every API
//! route of the router (and every `/api/v1` row of `rbac::ROUTES`) is in the document with
//! its method, and every operation of the document is a route.

mod support;

use axum::http::StatusCode;
use std::collections::BTreeSet;
use support::*;

fn document_operations(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        let item = item.as_object().expect("path item");
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.contains_key(method) {
                out.insert((method.to_uppercase(), format!("/api/v1{path}")));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_matches_route_table() {
    let db = TestDb::new(Backend::Sqlite).await;
    let state = db.state();
    let admin = user(&state, "root", &[("auditor", None)]).await;
    let cred = session(&state, &admin).await;
    let a = get(&state, "/api/v1/openapi.json", &cred).await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let documented = document_operations(&doc);
    assert!(
        documented.len() >= 30,
        "only {} operations",
        documented.len()
    );

    let served: BTreeSet<(String, String)> = router_routes()
        .await
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/v1/"))
        .collect();
    let rows: BTreeSet<(String, String)> = ward_server::rbac::ROUTES
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v1/"))
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&served).collect();
    let rows_undocumented: Vec<_> = rows.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "API routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        not_served.is_empty(),
        "documented operations that are no route: {not_served:?}"
    );
    assert!(
        rows_undocumented.is_empty(),
        "ROUTES rows missing from the document: {rows_undocumented:?}"
    );
    // Every operation has at least one response described.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (m, op) in item.as_object().expect("item") {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{m} {path} has no responses"
            );
        }
    }
    // The function the server uses is the same document.
    let direct = serde_json::to_value(ward_server::api::openapi()).expect("json");
    assert_eq!(direct, doc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_needs_authentication() {
    let db = TestDb::new(Backend::Sqlite).await;
    let a = get(&db.state(), "/api/v1/openapi.json", &Cred::None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}
