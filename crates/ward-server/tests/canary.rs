//! Patient data (issue 6 acceptance): the clinical captures of the corpus carry the canary
//! patient `CANARY^PHI^TEST` / `CANARY-123456` in DICOM and HL7 payloads. Uploaded through
//! the API and analysed on the server, the canaries must appear in no API answer, no log
//! line (everything logged at TRACE is captured) and not in the database: the SQLite file
//! bytes (with WAL and any other file of the data directory), or every row of every
//! PostgreSQL table as text.

mod support;

use axum::http::StatusCode;
use std::io::Write;
use std::sync::{Arc, Mutex};
use support::*;

const CANARIES: &[&str] = &["CANARY^PHI^TEST", "CANARY-123456", "CANARY"];

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// One global subscriber (handlers log from worker and blocking threads) at TRACE into a
/// buffer shared by the tests of this binary.
fn global_logs() -> LogBuffer {
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    })
    .clone()
}

fn assert_clean(what: &str, bytes: &[u8]) {
    for c in CANARIES {
        assert!(
            !bytes.windows(c.len()).any(|w| w == c.as_bytes()),
            "{what} contains the canary {c:?}"
        );
    }
}

fn clinical_captures() -> Vec<std::path::PathBuf> {
    let dir = corpus().join("clinical-captures");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
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
    let with_canary = v
        .iter()
        .filter(|p| {
            std::fs::read(p)
                .map(|b| {
                    b.windows(13)
                        .any(|w| w == b"CANARY-123456" || w == b"CANARY^PHI^TE")
                })
                .unwrap_or(false)
        })
        .count();
    assert!(
        with_canary >= 3,
        "the corpus captures should carry the canaries ({with_canary})"
    );
    v
}

async fn canaries_go_nowhere(backend: Backend) {
    let logs = global_logs();

    let db = TestDb::new(backend).await;
    let state = db.state();
    let analyst = user(
        &state,
        "ana",
        &[("security_analyst", None), ("auditor", None)],
    )
    .await;
    let admin = user(&state, "root", &[("admin", None)]).await;
    let s = session(&state, &analyst).await;
    let adm = session(&state, &admin).await;
    let mut answers: Vec<(String, Vec<u8>)> = Vec::new();

    // Each capture alone, then all together as one multipart upload.
    for p in clinical_captures() {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&p).expect("read capture");
        let a = send_raw(
            &state,
            "POST",
            &format!("/api/v1/captures?site=ward-7&name={name}"),
            &s,
            Some("application/vnd.tcpdump.pcap"),
            bytes,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{name}: {}", a.text());
        answers.push((format!("upload {name}"), a.body));
    }
    let mut body = Vec::new();
    let boundary = "ward-test-boundary";
    for p in clinical_captures() {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .expect("write");
        body.extend(std::fs::read(&p).expect("read"));
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").expect("write");
    let a = send_raw(
        &state,
        "POST",
        "/api/v1/captures?site=ward-7",
        &s,
        Some(&format!("multipart/form-data; boundary={boundary}")),
        body,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "multipart: {}", a.text());
    let report = a.json();
    assert!(
        report["devices"].as_u64().unwrap_or(0) >= 2,
        "the captures identify devices: {report}"
    );
    answers.push(("multipart upload".into(), a.body));

    // Every read of the API, with every device's detail and findings.
    let mut uris: Vec<String> = ward_server::rbac::ROUTES
        .iter()
        .filter(|(m, p, _)| *m == "GET" && !p.contains('{') && p.starts_with("/api/v1/"))
        .map(|(_, p, _)| p.to_string())
        .collect();
    uris.push("/metrics".into());
    for site in ["ward-7"] {
        uris.push(format!("/api/v1/sites/{site}/connections"));
        uris.push(format!("/api/v1/sites/{site}/security-observations"));
        let list = get(
            &state,
            &format!("/api/v1/devices?site={site}&limit=1000"),
            &adm,
        )
        .await;
        assert_eq!(list.status, StatusCode::OK);
        let devices = list.json()["devices"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!devices.is_empty(), "{site} has devices: {}", list.text());
        for d in devices {
            let id = d["id"].as_str().expect("device id").to_string();
            uris.push(format!("/api/v1/devices/{id}"));
            uris.push(format!("/api/v1/devices/{id}/findings"));
        }
        uris.push(format!("/api/v1/devices?site={site}&q=CANARY"));
    }
    for uri in &uris {
        let a = get(&state, uri, &adm).await;
        assert!(
            a.status.is_success() || a.status == StatusCode::BAD_REQUEST,
            "{uri}: {}",
            a.status
        );
        answers.push((uri.clone(), a.body));
    }
    assert!(answers.len() > 20);
    for (what, body) in &answers {
        assert_clean(&format!("the answer to {what}"), body);
    }

    // The logs.
    let log = logs.0.lock().map(|v| v.clone()).unwrap_or_default();
    assert!(!log.is_empty(), "the test should capture log output");
    assert_clean("the server log", &log);

    // The database.
    match backend {
        Backend::Sqlite => {
            state.store.close().await;
            db.store.close().await;
            let mut n = 0;
            for e in std::fs::read_dir(db.dir.path())
                .expect("data dir")
                .flatten()
            {
                if e.path().is_file() {
                    let bytes = std::fs::read(e.path()).expect("read");
                    assert_clean(&format!("{}", e.path().display()), &bytes);
                    n += 1;
                }
            }
            let main = std::fs::read(db.dir.path().join("ward.db")).expect("ward.db");
            assert!(main.len() > 10_000, "the database holds the inventory");
            assert!(n >= 1);
        }
        Backend::Postgres => {
            use sqlx::{Connection, Row};
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let tables: Vec<String> = sqlx::query(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut c)
            .await
            .expect("tables")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
            assert!(tables.len() > 5);
            let mut rows = 0;
            for t in tables {
                let texts: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{t}\" t"
                )))
                .fetch_all(&mut c)
                .await
                .expect("rows")
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
                rows += texts.len();
                for row in texts {
                    assert_clean(&format!("a row of {t}"), row.as_bytes());
                }
            }
            assert!(rows > 50, "the database holds the inventory ({rows} rows)");
            c.close().await.ok();
        }
    }
}
both_backends!(canaries_go_nowhere);
