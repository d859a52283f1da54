//! `ward_server::serve`: start on port 0, first-run bootstrap (once), TLS through rustls
//! with a certificate made by `openssl` for the test, readiness in under a second on an
//! existing store, graceful shutdown, and the config file / environment precedence.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use ward_server::serve::{self, FileConfig, Overrides, ServeOptions, TlsFiles};

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("the `openssl` command is required for the TLS test: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA and a server certificate for 127.0.0.1 signed by it (openssl must be
/// installed: scripts/setup.sh). Returns the server's files and the CA certificate.
fn make_cert(dir: &Path) -> (TlsFiles, std::path::PathBuf) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=ward-test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
        ],
        dir,
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
        dir,
    );
    (
        TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        },
        dir.join("ca.pem"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_tls_bootstraps_once_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (tls, ca_file) = make_cert(dir.path());
    let mut opts = ServeOptions::new("127.0.0.1:0", dir.path().join("data"));
    opts.tls = Some(tls.clone());
    opts.config.tls = true;

    // First run: a one-time admin password, once.
    let mut bound = serve::start(opts.clone()).await.expect("start");
    let password = bound
        .take_bootstrap_password()
        .expect("first run creates the admin");
    assert_eq!(password.len(), 24);
    assert!(
        bound.take_bootstrap_password().is_none(),
        "the password is handed out once"
    );
    let url = bound.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let admin = bound
        .state()
        .store
        .user_by_name("admin")
        .await
        .expect("lookup")
        .expect("admin exists");
    assert!(admin.must_change_password);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve(async move {
        let _ = rx.await;
    }));

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).expect("ca")).expect("pem");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let health = client
        .get(format!("{url}/health"))
        .send()
        .await
        .expect("GET /health over TLS");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body"), "ok");
    assert_eq!(
        client
            .get(format!("{url}/ready"))
            .send()
            .await
            .expect("ready")
            .status(),
        200
    );
    // Plain HTTP to the TLS port is not served.
    let plain = reqwest::Client::new()
        .get(format!("{}/health", url.replacen("https", "http", 1)))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    // The one-time password logs in (and must be changed before anything else).
    let login = client
        .post(format!("{url}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"username": "admin", "password": password}).to_string())
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200, "{:?}", login.text().await);
    // The session cookie is Secure under TLS.
    // (checked through the header of a second login)
    let again = client
        .post(format!("{url}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"username": "admin", "password": password}).to_string())
        .send()
        .await
        .expect("login");
    let cookie = again
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // Graceful shutdown: the task ends, the port closes.
    let addr = url.trim_start_matches("https://").to_string();
    tx.send(()).expect("signal");
    tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .expect("stops in time")
        .expect("join")
        .expect("clean stop");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still listening after shutdown"
    );

    // Second run on the same store: no new admin, ready quickly.
    let t0 = Instant::now();
    let mut bound = serve::start(opts).await.expect("restart");
    assert!(
        bound.take_bootstrap_password().is_none(),
        "bootstrap only on the first run"
    );
    let url = bound.url();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve(async move {
        let _ = rx.await;
    }));
    loop {
        if let Ok(r) = client.get(format!("{url}/ready")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "not ready");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready = t0.elapsed();
    println!("ready in {} ms (debug build)", ready.as_millis());
    assert!(ready < Duration::from_secs(1), "ready after {ready:?}");
    assert_eq!(
        bound_users(&dir.path().join("data")).await,
        1,
        "the restart created no second admin"
    );
    tx.send(()).expect("signal");
    task.await.expect("join").expect("clean stop");
}

async fn bound_users(data: &Path) -> u64 {
    let store = ward_store::Store::open_data_dir(data).await.expect("store");
    let n = store.user_count().await.expect("count");
    store.close().await;
    n
}

#[test]
fn flags_and_environment_override_the_config_file() {
    let file: FileConfig = toml::from_str(
        r#"
        listen = "0.0.0.0:9000"
        data = "/var/lib/ward"
        database_url = "postgres://ward@db/ward"
        time_zone = "Europe/London"
        session_ttl_secs = 3600
        [jobs]
        stale_after_days = 10
        retention_days = 400
        "#,
    )
    .expect("config");
    let o =
        ServeOptions::from_sources(file.clone(), Overrides::default(), |_| None).expect("options");
    assert_eq!(o.listen, "0.0.0.0:9000");
    assert_eq!(o.config.data_dir, Path::new("/var/lib/ward"));
    assert_eq!(o.database_url.as_deref(), Some("postgres://ward@db/ward"));
    assert_eq!(o.config.time_zone, "Europe/London");
    assert_eq!(o.config.session_ttl_secs, 3600);
    assert_eq!(o.jobs.as_ref().map(|j| j.stale_after_days), Some(10));
    assert_eq!(o.jobs.as_ref().map(|j| j.retention_days), Some(Some(400)));
    assert!(o.tls.is_none() && !o.config.tls);

    let o = ServeOptions::from_sources(
        file.clone(),
        Overrides {
            listen: Some("127.0.0.1:1".into()),
            data: Some("/tmp/w".into()),
            stale_after_days: Some(3),
            retention_days: Some(90),
            tls_cert: Some("/c.pem".into()),
            tls_key: Some("/k.pem".into()),
            ..Overrides::default()
        },
        |_| None,
    )
    .expect("options");
    assert_eq!(o.listen, "127.0.0.1:1");
    assert_eq!(o.config.data_dir, Path::new("/tmp/w"));
    assert_eq!(o.jobs.as_ref().map(|j| j.stale_after_days), Some(3));
    assert_eq!(o.jobs.as_ref().map(|j| j.retention_days), Some(Some(90)));
    assert!(o.config.tls);

    // Mistakes are named.
    let err = ServeOptions::from_sources(
        FileConfig::default(),
        Overrides {
            data: Some("/d".into()),
            tls_cert: Some("/c".into()),
            ..Overrides::default()
        },
        |_| None,
    )
    .expect_err("cert without key");
    assert!(err.to_string().contains("--tls-key"), "{err}");
    let err = ServeOptions::from_sources(FileConfig::default(), Overrides::default(), |_| None)
        .expect_err("no data dir");
    assert!(err.to_string().contains("--data"), "{err}");
    let err = ServeOptions::from_sources(
        file.clone(),
        Overrides {
            retention_days: Some(0),
            ..Overrides::default()
        },
        |_| None,
    )
    .expect_err("zero retention days");
    assert!(err.to_string().contains("retention_days"), "{err}");
    // Unset everywhere: retention keeps everything.
    let o = ServeOptions::from_sources(
        FileConfig::default(),
        Overrides {
            data: Some("/d".into()),
            ..Overrides::default()
        },
        |_| None,
    )
    .expect("options");
    assert_eq!(o.jobs.as_ref().map(|j| j.retention_days), Some(None));
    let err = toml::from_str::<FileConfig>("lisen = \"x\"").expect_err("unknown key");
    assert!(err.to_string().contains("lisen"), "{err}");
    let o = ServeOptions::from_sources(
        FileConfig::default(),
        Overrides {
            data: Some("/d".into()),
            no_jobs: true,
            ..Overrides::default()
        },
        |_| None,
    )
    .expect("options");
    assert!(o.jobs.is_none());
}

/// The OpenAPI document describes the sensor routes.
#[test]
fn openapi_lists_ingest_and_jobs() {
    let doc = serde_json::to_value(ward_server::api::openapi()).expect("json");
    let paths = doc.get("paths").and_then(|p| p.as_object()).expect("paths");
    assert!(paths.contains_key("/ingest/batches"), "{:?}", paths.keys());
    assert!(paths.contains_key("/jobs"));
}
