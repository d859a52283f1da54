//! Shared helpers of the ward-server UI, report and browser tests.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use ward_server::{AppState, ServerConfig};
use ward_store::{Actor, Store};

pub const CANARIES: &[&str] = &["CANARY^PHI^TEST", "CANARY-123456", "CANARY"];

/// The test corpus (`../shared/data` beside the repository root); panics when missing.
pub fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("INDEX.md").exists(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        p.display()
    );
    // Canonical (WebDriver refuses file paths with `..`).
    std::fs::canonicalize(&p).unwrap_or(p)
}

/// Every clinical capture of the corpus (DICOM and HL7 with canary patients).
pub fn clinical_captures() -> Vec<PathBuf> {
    let dir = corpus().join("clinical-captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 9,
        "expected the 9 clinical captures in {}",
        dir.display()
    );
    v
}

/// Intel for the tests: the ICSMA advisories and the KEV catalogue of the corpus.
pub fn intel_files() -> Vec<PathBuf> {
    let c = corpus();
    let mut v: Vec<PathBuf> = std::fs::read_dir(c.join("cisa-csaf-icsma/dev"))
        .or_else(|_| std::fs::read_dir(c.join("cisa-csaf-icsma")))
        .expect("cisa-csaf-icsma in the corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    let kev = walk(&c.join("cisa-kev")).into_iter().find(|p| {
        p.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.contains("known_exploited") && !n.contains("schema")
        }) && p.extension().is_some_and(|x| x == "json")
    });
    assert!(
        kev.is_some(),
        "the KEV catalogue (cisa-kev/**/known_exploited_vulnerabilities*.json) is required"
    );
    v.extend(kev);
    v
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A SQLite store in a temporary directory.
pub async fn temp_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("open store");
    (store, dir)
}

pub fn state(store: &Store) -> AppState {
    AppState::new(
        store.clone(),
        ServerConfig {
            time_zone: "Europe/London".into(),
            ..ServerConfig::default()
        },
    )
}

pub fn system() -> Actor {
    Actor::new("tester", None)
}

/// A response's status, headers and body text.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

/// Sends one request to the UI routes (without the authorization layer: these tests are
/// about the pages; the route x role matrix is the server's test).
pub async fn send(state: &AppState, method: &str, uri: &str, form: Option<&str>) -> Answer {
    let app = ward_server::ui::router().with_state(state.clone());
    let mut b = Request::builder().method(method).uri(uri);
    if form.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let req = b
        .body(Body::from(form.unwrap_or("").to_string()))
        .expect("request");
    let resp = app.oneshot(req).await.expect("response");
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body");
    Answer {
        status,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn assert_no_canary(what: &str, text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "{what} contains the canary {c:?}");
    }
}
