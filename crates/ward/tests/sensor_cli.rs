//! The single-site install end to end, through the built `ward` binary only: `ward user`
//! and `ward token` make a sensor account and an analyst; `ward serve` runs with its job
//! scheduler; `ward sensor -r CAPTURE --server URL --token T` dissects a generated hospital
//! capture and ships it; the server's rematch job identifies the devices from the shipped
//! facts, and the analyst reads them through the API. Then the same capture is shipped
//! again by a second sensor run: nothing is duplicated.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env("WARD_LOG", "warn")
        .output()
        .expect("run ward")
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "ward failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `ward user add NAME --role ROLE --data DATA`, which must succeed.
fn add_user(data: &str, name: &str, role: &str) {
    ok(ward(&["user", "add", name, "--role", role, "--data", data]));
}

fn secret_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.split_once("secret (shown once):").map(|(_, v)| v.trim()))
        .unwrap_or_else(|| panic!("no secret in {out}"))
        .to_string()
}

/// `ward serve` with the scheduler on (rematch every second); returns the child and URL.
fn serve(data: &Path, config: &Path) -> (Child, String) {
    serve_with(data, config, &[])
}

/// [`serve`] with more arguments.
fn serve_with(data: &Path, config: &Path, more: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(more)
        .env("WARD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ward serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent {
                if let Some(u) = l.strip_prefix("ward serve: listening on ") {
                    let _ = tx.send(u.trim().to_string());
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(url) => (child, url),
        Err(_) => {
            let _ = child.kill();
            panic!("ward serve did not start");
        }
    }
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get_json(url: &str, token: &str) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("request");
    assert_eq!(r.status().as_u16(), 200, "{url}");
    let text = r.body_mut().read_to_string().expect("body");
    serde_json::from_str(&text).expect("json")
}

fn sensor(capture: &Path, url: &str, token: &str, spool: &Path) -> String {
    ok(Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["sensor", "-r"])
        .arg(capture)
        .args(["--server", url, "--site", "north", "--name", "sensor-north"])
        .arg("--spool")
        .arg(spool)
        .env("WARD_TOKEN", token)
        .env("WARD_LOG", "warn")
        .output()
        .expect("run ward sensor"))
}

#[test]
fn sensor_ships_a_capture_and_the_server_identifies_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let capture: PathBuf = dir.path().join("hospital.pcap");
    ok(ward(&[
        "generate",
        "--seed",
        "3",
        "--size",
        "3M",
        "-o",
        &capture.display().to_string(),
    ]));
    add_user(&data_arg, "sensor-north", "sensor");
    add_user(&data_arg, "ana", "security_analyst");
    let sensor_token = secret_of(&ok(ward(&[
        "token",
        "create",
        "--data",
        &data_arg,
        "--user",
        "sensor-north",
        "--name",
        "north",
        "--scope",
        "ingest",
    ])));
    let read_token = secret_of(&ok(ward(&[
        "token", "create", "--data", &data_arg, "--user", "ana", "--name", "read", "--scope",
        "read",
    ])));
    let config = dir.path().join("ward.toml");
    std::fs::write(&config, "[jobs]\nrematch_every_secs = 1\npoll_secs = 1\n").expect("config");
    let (child, url) = serve(&data, &config);
    let _server = Killed(child);

    let out = sensor(&capture, &url, &sensor_token, &dir.path().join("spool"));
    println!("sensor: {out}");
    // The rematch job turns the shipped facts into devices within a few seconds.
    let list = format!("{url}/api/v1/devices?site=north&limit=1000");
    let started = Instant::now();
    let devices = loop {
        let page = get_json(&list, &read_token);
        let n = page["total"].as_u64().unwrap_or(0);
        if n >= 30 {
            break page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server never identified the shipped devices: {page}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let total = devices["total"].as_u64().unwrap_or(0);
    let all = devices["devices"].as_array().expect("devices");
    assert!(
        all.iter().any(|d| d["category"].as_str().is_some()),
        "devices carry identified categories: {devices}"
    );
    assert!(all.iter().all(|d| d["site"] == "north"));

    // The same capture again (a sensor restarted on the same file): same batch ids, so
    // nothing new is stored and the inventory does not grow.
    sensor(&capture, &url, &sensor_token, &dir.path().join("spool2"));
    std::thread::sleep(Duration::from_secs(3));
    let again = get_json(&list, &read_token);
    assert_eq!(again["total"].as_u64(), Some(total), "{again}");
}

/// The single-box install: `ward serve --capture lo` captures its own interface in
/// one-second windows and ingests each window into its store, with no sensor process.
/// Clients talking HTTP to the server over loopback are captured, and the connection
/// comes back through the API. Needs CAP_NET_RAW (root), like the live capture test of
/// ward-capture; fails loudly without it.
#[cfg(feature = "live")]
#[test]
fn serve_capture_ingests_what_it_sees_on_the_interface() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    add_user(&data_arg, "ana", "security_analyst");
    let read_token = secret_of(&ok(ward(&[
        "token", "create", "--data", &data_arg, "--user", "ana", "--name", "read", "--scope",
        "read",
    ])));
    let config = dir.path().join("ward.toml");
    std::fs::write(&config, "[jobs]\nrematch_every_secs = 1\npoll_secs = 1\n").expect("config");
    let (child, url) = serve_with(
        &data,
        &config,
        &["--capture", "lo", "--capture-window", "1"],
    );
    let mut server = Killed(child);
    let port: i64 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"));

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let conns = format!("{url}/api/v1/sites/default/connections");
    let started = Instant::now();
    let found = loop {
        // Traffic for the capture to see: a plain HTTP request with its own User-Agent.
        let r = agent
            .get(format!("{url}/health"))
            .header("User-Agent", "ward-live-capture-test/1.0")
            .call();
        if let Ok(status) = server.0.try_wait() {
            assert!(
                status.is_none(),
                "ward serve --capture lo exited: {status:?}"
            );
        }
        assert!(r.is_ok(), "health request failed: {r:?}");
        let list = get_json(&conns, &read_token);
        let hit = list.as_array().and_then(|a| {
            a.iter()
                .find(|c| c["server_port"].as_i64() == Some(port) && c["transport"] == "tcp")
                .cloned()
        });
        if let Some(c) = hit {
            break c;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no captured connection to port {port} after 60 s: {list}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(
        found["server"].as_str().map(|s| s.contains("127.0.0.1")),
        Some(true),
        "{found}"
    );
    assert_eq!(found["site"], "default", "{found}");
}
