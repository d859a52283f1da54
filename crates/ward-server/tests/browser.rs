//! End-to-end tests in a real browser: headless Debian `chromium` driven through
//! `chromedriver` (WebDriver) with `fantoccini`. A Ward server runs in-process on a free
//! loopback port with a temporary SQLite store. The test signs in, uploads a clinical
//! capture and intel, opens a device, triages a finding (with confirmation), completes a
//! review, opens the report, and checks that a clinical engineer cannot see the
//! administration page. Screenshots of the main pages go to `docs/screenshots/` with
//! `WARD_UPDATE_SCREENSHOTS=1` (else under the target directory).
//!
//! Fails (never skips) when chromium or chromedriver is missing: `scripts/setup.sh`
//! installs them (Debian packages `chromium` and `chromium-driver`).

mod common;

use common::*;
use fantoccini::{ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use ward_store::{NewUser, RoleGrant};

fn which(name: &str) -> PathBuf {
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/bin", "/usr/lib/chromium"])
    {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is required for the browser tests: install Debian's chromium and chromium-driver (scripts/setup.sh does)");
}

struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn add_user(store: &ward_store::Store, name: &str, password: &str, role: &str) {
    let hash = ward_server::auth::hash_password(password).expect("hash");
    store
        .create_user(
            &NewUser {
                id: format!("u-{name}"),
                username: name.into(),
                display_name: name.into(),
                password_hash: Some(hash),
                roles: vec![RoleGrant {
                    role: role.into(),
                    site: None,
                }],
                ..NewUser::default()
            },
            &system(),
        )
        .await
        .expect("create user");
}

/// Where the screenshots go: `docs/screenshots/` when `WARD_UPDATE_SCREENSHOTS=1` (to
/// refresh the README's pictures), otherwise a folder under the target directory, so a test
/// run does not rewrite tracked files.
fn screenshots_dir() -> PathBuf {
    let d = if std::env::var_os("WARD_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    std::fs::create_dir_all(&d).expect("screenshots folder");
    d
}

async fn shot(c: &fantoccini::Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5_000,
        "{name}: a real screenshot"
    );
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn wait_for_path(c: &fantoccini::Client, path: &str) -> String {
    for _ in 0..600 {
        let url = c.current_url().await.expect("url");
        if url.path() == path {
            return url.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let src = c.source().await.unwrap_or_default();
    panic!(
        "never reached {path}: at {:?}\n{}",
        c.current_url().await.ok(),
        &src[..src.len().min(2000)]
    );
}

/// Clicks what `at` finds and waits for the next document: the current one replaced (its
/// `<html>` element gone stale) and `text` in the new page's body, which it returns. A
/// page answered at the same address (a POST redirected back) is not mistaken for the
/// next one.
async fn click_to(c: &fantoccini::Client, at: Locator<'_>, text: &str) -> String {
    let old = c.find(Locator::Css("html")).await.expect("html element");
    c.find(at)
        .await
        .unwrap_or_else(|e| panic!("{at:?} not found: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {at:?}: {e}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        if old.tag_name().await.is_err() {
            if let Ok(b) = c.find(Locator::Css("body")).await {
                if let Ok(t) = b.text().await {
                    if t.contains(text) {
                        return t;
                    }
                    last = t;
                }
            }
        }
        if std::time::Instant::now() > deadline {
            panic!(
                "after clicking {at:?}, no page with {text:?} at {:?}: {}",
                c.current_url().await.ok(),
                &last[..last.len().min(2000)]
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn body_text(c: &fantoccini::Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

async fn login(c: &fantoccini::Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    c.find(Locator::Css("input[name=username]"))
        .await
        .expect("user field")
        .send_keys(user)
        .await
        .expect("type");
    c.find(Locator::Css("input[name=password]"))
        .await
        .expect("pw field")
        .send_keys(password)
        .await
        .expect("type");
    click_to(c, Locator::Css("form button[type=submit]"), "Signed in as").await;
    wait_for_path(c, "/").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_end_to_end() {
    let chromium = which("chromium");
    let chromedriver = which("chromedriver");
    let (store, dir) = temp_store().await;
    let mut st = state(&store);
    if let Some(cfg) = std::sync::Arc::get_mut(&mut st.config) {
        cfg.data_dir = dir.path().to_path_buf();
    }
    add_user(&store, "alice", "correct horse battery staple 1", "admin").await;
    add_user(
        &store,
        "carl",
        "another long passphrase 22",
        "clinical_engineer",
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = ward_server::app(st.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });

    let port = free_port();
    let _driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,768"]
        }),
    );
    let mut client = None;
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let c = client.expect("chromedriver answers and starts chromium");

    // Unauthenticated: the UI is not readable.
    c.goto(&format!("{base}/inventory")).await.expect("goto");
    let t = body_text(&c).await;
    assert!(
        !t.contains("Inventory") || t.contains("Sign in"),
        "the inventory needs a login: {t}"
    );

    login(&c, &base, "alice", "correct horse battery staple 1").await;
    assert!(body_text(&c).await.contains("Signed in as alice"));

    // Upload a clinical capture, then intel.
    // A clinical capture with canary patients, and the generated hospital (whose devices
    // the ICSMA advisories match).
    let capture = corpus().join("clinical-captures/hl7_mllp_monitors.pcapng");
    let capture2 = std::fs::canonicalize(dir.path())
        .expect("tmp")
        .join("hospital.pcap");
    ward_bench::generate_file(
        &ward_bench::GenConfig {
            seed: 7,
            ..Default::default()
        },
        &capture2,
    )
    .expect("generate");
    c.goto(&format!("{base}/upload"))
        .await
        .expect("upload page");
    c.find(Locator::Css("input[name=site]"))
        .await
        .expect("site")
        .clear()
        .await
        .expect("clear");
    c.find(Locator::Css("input[name=site]"))
        .await
        .expect("site")
        .send_keys("main")
        .await
        .expect("site");
    let files = format!("{}\n{}", capture.display(), capture2.display());
    c.find(Locator::Css("input[type=file]"))
        .await
        .expect("file")
        .send_keys(&files)
        .await
        .expect("choose");
    shot(&c, "upload").await;
    click_to(
        &c,
        Locator::Css("#upload-form button[type=submit]"),
        "Capture analysed",
    )
    .await;
    wait_for_path(&c, "/inventory").await;
    shot(&c, "inventory").await;

    let intel: Vec<String> = intel_files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    c.goto(&format!("{base}/upload"))
        .await
        .expect("upload page");
    c.find(Locator::Css("select[name=kind] option[value=intel]"))
        .await
        .expect("opt")
        .click()
        .await
        .expect("intel");
    c.find(Locator::Css("input[type=file]"))
        .await
        .expect("file")
        .send_keys(&intel.join("\n"))
        .await
        .expect("choose");
    click_to(
        &c,
        Locator::Css("#upload-form button[type=submit]"),
        "new document(s) imported",
    )
    .await;
    wait_for_path(&c, "/advisories").await;
    shot(&c, "advisories").await;

    // Open a device from the inventory.
    c.goto(&format!("{base}/inventory"))
        .await
        .expect("inventory");
    let t = click_to(&c, Locator::Css("table tbody tr td a"), "Review history").await;
    assert!(
        t.contains("Identity") && t.contains("Connections") && t.contains("Review history"),
        "{t}"
    );
    shot(&c, "device").await;

    // Triage a finding: select, status, reason, confirm.
    c.goto(&format!("{base}/findings")).await.expect("findings");
    shot(&c, "findings").await;
    let boxes = c
        .find_all(Locator::Css("input[name=id]"))
        .await
        .expect("boxes");
    if boxes.is_empty() {
        // No advisory matched these devices: triage is shown on a planted finding.
        panic!("the uploaded capture and intel produced no findings to triage");
    }
    boxes[0].click().await.expect("select");
    c.find(Locator::Css("select[name=to] option[value=mitigated]"))
        .await
        .expect("opt")
        .click()
        .await
        .expect("status");
    c.find(Locator::Css("input[name=reason]"))
        .await
        .expect("reason")
        .send_keys("VLAN 40 isolates the pumps")
        .await
        .expect("reason");
    click_to(
        &c,
        Locator::Css("form[action='/findings/bulk'] button[type=submit]"),
        "Confirm the status change",
    )
    .await;
    click_to(
        &c,
        Locator::Css("form button[type=submit]"),
        "set to mitigated",
    )
    .await;
    wait_for_path(&c, "/findings").await;

    // Complete a review from the queue.
    c.goto(&format!("{base}/reviews")).await.expect("reviews");
    shot(&c, "reviews").await;
    click_to(
        &c,
        Locator::LinkText("Review"),
        "Identity confirmed (vendor",
    )
    .await;
    for name in [
        "identity_confirmed",
        "software_confirmed",
        "findings_triaged",
        "plan_current",
        "connections_expected",
    ] {
        c.find(Locator::Css(&format!("input[name={name}]")))
            .await
            .expect("box")
            .click()
            .await
            .expect("tick");
    }
    c.find(Locator::Css("textarea[name=note]"))
        .await
        .expect("note")
        .send_keys("Checked on the ward")
        .await
        .expect("note");
    let t = click_to(
        &c,
        Locator::Css("form button[type=submit]"),
        "Review recorded",
    )
    .await;
    assert!(t.contains("alice"), "{t}");

    // Dashboard, map, plans, report.
    c.goto(&format!("{base}/")).await.expect("dashboard");
    shot(&c, "dashboard").await;
    c.goto(&format!("{base}/map")).await.expect("map");
    shot(&c, "map").await;
    c.goto(&format!("{base}/plans")).await.expect("plans");
    shot(&c, "plans").await;
    c.goto(&format!("{base}/admin")).await.expect("admin");
    assert!(body_text(&c).await.contains("chain verified"));
    shot(&c, "admin").await;
    c.goto(&format!("{base}/reports")).await.expect("reports");
    let t = click_to(
        &c,
        Locator::Css("form[action='/reports/posture.html'] button[type=submit]"),
        "Step 6: Periodically review",
    )
    .await;
    wait_for_path(&c, "/reports/posture.html").await;
    assert!(
        t.contains("Step 1: Identify") && t.contains("Step 6: Periodically review"),
        "{t}"
    );
    shot(&c, "report").await;
    let html = c.source().await.expect("source");
    assert_no_canary("report in the browser", &html);

    // A clinical engineer cannot see administration.
    c.delete_all_cookies().await.expect("sign out");
    login(&c, &base, "carl", "another long passphrase 22").await;
    c.goto(&format!("{base}/admin")).await.expect("admin");
    let t = body_text(&c).await;
    assert!(
        !t.contains("Recent audit entries") && !t.contains("chain verified"),
        "a clinical engineer sees no admin page: {t}"
    );
    assert!(
        t.contains("You do not have the rights to open this page"),
        "an HTML page says so: {t}"
    );
    c.goto(&format!("{base}/inventory"))
        .await
        .expect("inventory");
    assert!(
        body_text(&c).await.contains("devices match"),
        "but reads the inventory"
    );
    c.close().await.expect("close");
}
