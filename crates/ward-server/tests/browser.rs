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

// ---------------------------------------------------------------------------------------
// Keyboard accessibility: only keyboard events (WebDriver key actions), no clicks.

/// Starts chromedriver and a headless chromium at 1366x768.
async fn start_browser() -> (Driver, fantoccini::Client) {
    let chromium = which("chromium");
    let chromedriver = which("chromedriver");
    let port = free_port();
    let driver = Driver(
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
    for _ in 0..100 {
        if let Ok(c) = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return (driver, c);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver does not answer or cannot start chromium");
}

/// Serves the whole application on a free loopback port; returns its base URL.
async fn serve_app(st: ward_server::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = ward_server::app(st);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    base
}

/// Presses keys (WebDriver key actions: real key events, as a keyboard user would).
async fn press(c: &fantoccini::Client, keys: &[char]) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut a = KeyActions::new("keyboard".into());
    for k in keys {
        a = a
            .then(KeyAction::Down { value: *k })
            .then(KeyAction::Up { value: *k });
    }
    c.perform_actions(a).await.expect("key actions");
}

async fn tab(c: &fantoccini::Client) {
    press(c, &[fantoccini::key::Key::Tab.into()]).await;
}

/// Shift+Tab (a chord: Shift held while Tab is pressed).
async fn shift_tab(c: &fantoccini::Client) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    use fantoccini::key::Key;
    let a = KeyActions::new("keyboard".into())
        .then(KeyAction::Down {
            value: Key::Shift.into(),
        })
        .then(KeyAction::Down {
            value: Key::Tab.into(),
        })
        .then(KeyAction::Up {
            value: Key::Tab.into(),
        })
        .then(KeyAction::Up {
            value: Key::Shift.into(),
        });
    c.perform_actions(a).await.expect("key actions");
}

async fn type_text(c: &fantoccini::Client, text: &str) {
    press(c, &text.chars().collect::<Vec<_>>()).await;
}

/// The focused element and how its focus shows.
#[derive(Debug, serde::Deserialize)]
struct Focused {
    tag: String,
    text: String,
    name: String,
    id: String,
    class: String,
    in_main: bool,
    in_nav: bool,
    focus_visible: bool,
    outline_style: String,
    outline_width: f64,
    /// Contrast of the outline colour against what is behind the element (WCAG ratio).
    outline_contrast: f64,
    /// Inside the 1366x768 viewport, with a size.
    on_screen: bool,
}

const FOCUSED_JS: &str = r#"
const e = document.activeElement;
const cs = getComputedStyle(e);
const rgb = s => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null;
  const p = m[1].split(',').map(x => parseFloat(x)); return {r:p[0], g:p[1], b:p[2], a: p.length > 3 ? p[3] : 1}; };
const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
let back = {r:255, g:255, b:255, a:1};
for (let n = e.parentElement; n; n = n.parentElement) {
  const c = rgb(getComputedStyle(n).backgroundColor);
  if (c && c.a > 0) { back = c; break; }
}
const oc = rgb(cs.outlineColor);
let contrast = 0;
if (oc && oc.a > 0) { const a = lum(oc), b = lum(back); contrast = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); }
const r = e.getBoundingClientRect();
return {
  tag: e.tagName.toLowerCase(),
  text: (e.innerText || e.value || '').trim(),
  name: e.getAttribute('name') || '',
  id: e.id || '',
  class: e.className || '',
  in_main: !!e.closest('main'),
  in_nav: !!e.closest('nav'),
  focus_visible: e.matches(':focus-visible'),
  outline_style: cs.outlineStyle,
  outline_width: parseFloat(cs.outlineWidth) || 0,
  outline_contrast: contrast,
  box_shadow: cs.boxShadow,
  on_screen: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight,
};
"#;

async fn focused(c: &fantoccini::Client) -> Focused {
    let v = c.execute(FOCUSED_JS, Vec::new()).await.expect("script");
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
}

/// Asserts that the focused element shows a clear focus indicator: it matches
/// `:focus-visible`, has an outline of at least 2px whose colour stands out (3:1) from
/// what is behind it, and is on screen.
fn assert_indicator(f: &Focused, what: &str) {
    assert!(f.focus_visible, "{what}: not :focus-visible: {f:?}");
    assert!(
        f.outline_style != "none" && f.outline_width >= 2.0,
        "{what}: no focus outline: {f:?}"
    );
    assert!(
        f.outline_contrast >= 3.0,
        "{what}: the focus outline does not stand out (contrast {:.2} < 3): {f:?}",
        f.outline_contrast
    );
    assert!(f.on_screen, "{what}: focused but not visible: {f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_login_skip_link_and_navigation() {
    use fantoccini::key::Key;
    let (store, _dir) = temp_store().await;
    add_user(&store, "kim", "keyboard only passphrase 7", "admin").await;
    let base = serve_app(state(&store)).await;
    let (_driver, c) = start_browser().await;

    // The login form: the user name has the focus, Tab goes through the form.
    c.goto(&format!("{base}/login")).await.expect("login page");
    let f = focused(&c).await;
    assert_eq!(
        (f.tag.as_str(), f.name.as_str()),
        ("input", "username"),
        "{f:?}"
    );
    assert_indicator(&f, "user name field");
    type_text(&c, "kim").await;
    tab(&c).await;
    let f = focused(&c).await;
    assert_eq!(f.name, "password", "Tab goes to the password: {f:?}");
    assert_indicator(&f, "password field");
    type_text(&c, "keyboard only passphrase 7").await;
    tab(&c).await;
    let f = focused(&c).await;
    assert_eq!(
        (f.tag.as_str(), f.text.as_str()),
        ("button", "Sign in"),
        "{f:?}"
    );
    assert_indicator(&f, "sign-in button");
    press(&c, &[Key::Enter.into()]).await;
    wait_for_path(&c, "/").await;
    assert!(body_text(&c).await.contains("Signed in as kim"));

    // The first Tab of a page reaches the skip link, which shows and works.
    c.goto(&format!("{base}/inventory"))
        .await
        .expect("inventory");
    tab(&c).await;
    let f = focused(&c).await;
    assert!(
        f.class.contains("skip") && f.text == "Skip to content",
        "the first Tab stop is the skip link: {f:?}"
    );
    assert_indicator(&f, "skip link");
    press(&c, &[Key::Enter.into()]).await;
    let f = focused(&c).await;
    assert_eq!(
        (f.tag.as_str(), f.id.as_str()),
        ("main", "main"),
        "the skip link moves the focus to the content"
    );
    assert!(
        c.current_url().await.expect("url").fragment() == Some("main"),
        "#main"
    );
    tab(&c).await;
    let f = focused(&c).await;
    assert!(
        f.in_main && !f.in_nav,
        "after skipping, Tab goes on in the content, not the navigation: {f:?}"
    );
    assert_indicator(&f, "first control of the inventory");

    // The main navigation, in order, by Tab only; each link shows its focus.
    c.goto(&format!("{base}/")).await.expect("dashboard");
    tab(&c).await; // the skip link
    let expected = [
        "Dashboard",
        "Inventory",
        "Connection map",
        "Findings",
        "Advisories",
        "Plans",
        "Reviews",
        "Reports",
        "Administration",
    ];
    for label in expected {
        tab(&c).await;
        let f = focused(&c).await;
        assert!(f.in_nav && f.tag == "a", "{label}: {f:?}");
        assert_eq!(f.text, label, "navigation order");
        assert_indicator(&f, label);
    }
    // Back to "Reviews" with Shift+Tab, and open it with Enter.
    shift_tab(&c).await;
    shift_tab(&c).await;
    let f = focused(&c).await;
    assert_eq!(f.text, "Reviews", "{f:?}");
    press(&c, &[Key::Enter.into()]).await;
    wait_for_path(&c, "/reviews").await;
    let t = body_text(&c).await;
    assert!(t.contains("Review"), "{t}");
    c.close().await.expect("close");
}

/// The device page's document form in a real browser, without script: chromium encodes
/// the multipart form itself (the CSRF field first, as the page orders it), the server
/// reads the token from that field, the attached SBOM's components appear, and deleting
/// goes through the confirmation page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_document_attach_and_delete_in_the_browser() {
    let (store, _dir) = temp_store().await;
    add_user(
        &store,
        "cleo",
        "clinical passphrase 3141",
        "clinical_engineer",
    )
    .await;
    store.upsert_site("north", "North").await.expect("site");
    let mut inferred = std::collections::BTreeMap::new();
    inferred.insert("vendor".to_string(), "Baxter".to_string());
    inferred.insert("model".to_string(), "Sigma Spectrum".to_string());
    store
        .upsert_devices(
            &[ward_store::DeviceRecord {
                id: "dev-pump-9".into(),
                site: "north".into(),
                name: "Pump 9".into(),
                inferred,
                macs: vec![],
                ips: vec![],
                is_router: false,
                first_seen: 1,
                last_seen: 2,
                detail: serde_json::json!({}),
            }],
            &system(),
        )
        .await
        .expect("device");
    let base = serve_app(state(&store)).await;
    let (_driver, c) = start_browser().await;
    login(&c, &base, "cleo", "clinical passphrase 3141").await;
    c.goto(&format!("{base}/devices/dev-pump-9"))
        .await
        .expect("device page");
    let t = body_text(&c).await;
    assert!(
        t.contains("No documents attached") && t.contains("No SBOM applies"),
        "{t}"
    );
    let sbom = corpus().join("medical-device-sbom-spacelab/dev/narrow.sbom.json");
    c.find(Locator::Css(
        "form[enctype='multipart/form-data'] select[name=kind]",
    ))
    .await
    .expect("kind")
    .select_by_value("sbom")
    .await
    .expect("choose SBOM");
    c.find(Locator::Css(
        "form[enctype='multipart/form-data'] input[type=file]",
    ))
    .await
    .expect("file input")
    .send_keys(&sbom.display().to_string())
    .await
    .expect("choose the file");
    let t = click_to(
        &c,
        Locator::Css("form[enctype='multipart/form-data'] button[type=submit]"),
        "narrow.sbom.json attached",
    )
    .await;
    assert!(
        t.contains("Qualcomm Atheros QCA9563") && t.contains("55 component(s)"),
        "the attached SBOM's components: {t}"
    );
    let url = c.current_url().await.expect("url");
    assert!(!url.as_str().contains("csrf"), "no token in the URL: {url}");
    let docs = store.device_documents("dev-pump-9").await.expect("docs");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].uploaded_by, "cleo");
    let t = click_to(&c, Locator::LinkText("Delete…"), "cannot be undone").await;
    assert!(t.contains("narrow.sbom.json"), "{t}");
    c.find(Locator::Css("input[name=confirm]"))
        .await
        .expect("confirm box")
        .click()
        .await
        .expect("tick");
    let t = click_to(
        &c,
        Locator::Css("button.danger"),
        "narrow.sbom.json deleted",
    )
    .await;
    assert!(t.contains("No documents attached"), "{t}");
    assert!(store
        .device_documents("dev-pump-9")
        .await
        .expect("docs")
        .is_empty());
    c.close().await.expect("close");
}
