//! Crash safety of `ward serve` (the built binary): SIGKILL at random points while a
//! sensor ingests many batches and an analyst imports many advisories at once, many times
//! over. After every kill the store opens, its audit chain verifies, every acknowledged
//! batch is present exactly once, no batch that was never sent is present, and each intel
//! import is visible completely or not at all.
//!
//! The seed of the kill points is printed; `WARD_CRASH_SEED=N` repeats a run.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ward_server::{AppState, ServerConfig};
use ward_store::{Actor, NewUser, RoleGrant, Store};

const ROUNDS: usize = 16;
/// Copies of the advisories per import (each a distinct document). More than one copy
/// exceeds the 2 MB multipart limit of POST /api/v1/intel/import (axum default).
const COPIES: usize = 1;

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("INDEX.md").exists(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        p.display()
    );
    p
}

/// A small deterministic generator for the kill points (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// The users and tokens the test drives the server with (created before the first start,
/// so no bootstrap admin is made).
async fn seed_users(data: &Path) -> (String, String) {
    let store = Store::open_data_dir(data).await.expect("open store");
    let state = AppState::new(store.clone(), ServerConfig::default());
    let actor = Actor::new("crash-test", None);
    let mut tokens = Vec::new();
    for (name, role, scope) in [
        ("sensor", "sensor", "ingest"),
        ("analyst", "security_analyst", "import_intel"),
    ] {
        let user = store
            .create_user(
                &NewUser {
                    id: format!("u-{name}"),
                    username: name.into(),
                    display_name: name.into(),
                    roles: vec![RoleGrant {
                        role: role.into(),
                        site: None,
                    }],
                    ..NewUser::default()
                },
                &actor,
            )
            .await
            .expect("create user");
        tokens.push(
            ward_server::auth::issue_token(
                &state,
                &user.id,
                name,
                &[scope.to_string()],
                None,
                None,
                &actor,
            )
            .await
            .expect("token"),
        );
    }
    store.close().await;
    (tokens.remove(0), tokens.remove(0))
}

/// Starts `ward serve` and waits for its "listening on URL" line; returns the child, the
/// URL and how long it took to be ready.
fn start(data: &Path) -> (Child, String, Duration) {
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-jobs", "--data"])
        .arg(data)
        .env("WARD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ward serve");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    // Keep draining stderr so a chatty server never blocks on a full pipe.
    let errors = Arc::new(Mutex::new(String::new()));
    {
        let errors = Arc::clone(&errors);
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut e = errors.lock().expect("lock");
                if e.len() < 20_000 {
                    e.push_str(&l);
                    e.push('\n');
                }
            }
        });
    }
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
    let url = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(u) => u,
        Err(_) => {
            let _ = child.kill();
            std::thread::sleep(Duration::from_millis(200));
            panic!("ward serve did not start: {}", errors.lock().expect("lock"));
        }
    };
    (child, url, t0.elapsed())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// One multipart body with every advisory, made new for the round (the tracking id gets a
/// suffix, so the bytes and their SHA-256 differ from every other round).
fn intel_body(advisories: &[(String, serde_json::Value)], round: usize, boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, doc) in advisories {
        let mut doc = doc.clone();
        if let Some(id) = doc.pointer_mut("/document/tracking/id") {
            *id =
                serde_json::Value::String(format!("{}-crash-{round}", id.as_str().unwrap_or("x")));
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{round}-{name}\"\r\nContent-Type: application/json\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&serde_json::to_vec(&doc).expect("json"));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingest_and_intel_import_loses_nothing_acknowledged() {
    let started = Instant::now();
    let seed: u64 = std::env::var("WARD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("crash test seed: WARD_CRASH_SEED={seed}");
    let mut rng = Rng(seed);

    // Traffic: a generated hospital capture, dissected once.
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = dir.path().join("hospital.pcap");
    ward_bench::generate_file(
        &ward_bench::GenConfig {
            target_bytes: 8 << 20,
            devices: 120,
            ..Default::default()
        },
        &capture,
    )
    .expect("generate capture");
    let (out, _) = ward_dissect::analyze_files(
        &[capture],
        &ward_capture::CaptureConfig::default(),
        &ward_dissect::EngineConfig::default(),
        2,
        &|_| {},
    )
    .expect("dissect");
    // Intel: the corpus's ICSMA advisories.
    let adv_dir = corpus().join("cisa-csaf-icsma/dev");
    let mut advisories = Vec::new();
    for e in std::fs::read_dir(&adv_dir).expect("advisories") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "json") {
            let doc: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("advisory JSON");
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            advisories.push((name, doc));
        }
    }
    advisories.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        advisories.len() >= 20,
        "expected the ICSMA advisories in {}",
        adv_dir.display()
    );
    let advisories: Vec<(String, serde_json::Value)> = (0..COPIES)
        .flat_map(|c| {
            advisories.iter().map(move |(n, d)| {
                let mut d = d.clone();
                if let Some(id) = d.pointer_mut("/document/tracking/id") {
                    *id = serde_json::Value::String(format!(
                        "{}-copy{c}",
                        id.as_str().unwrap_or("x")
                    ));
                }
                (format!("{c}-{n}"), d)
            })
        })
        .collect();
    let per_import = advisories.len() as u64;

    let data = dir.path().join("data");
    let (sensor_token, analyst_token) = seed_users(&data).await;
    let mut sent_all: HashSet<String> = HashSet::new();
    let mut acked_all: HashSet<String> = HashSet::new();
    let mut intel_before = 0u64;
    let mut imports_acked = 0;
    let mut imports_visible = 0;
    let mut ready_times = Vec::new();

    for round in 0..ROUNDS {
        let batches: Vec<(String, Vec<u8>)> =
            ward_sensor::batches(&format!("crash-{round}"), "main", &[], out.clone(), 40)
                .into_iter()
                .map(|b| {
                    let body = ward_sensor::spool::encode(&b).expect("encode");
                    (b.batch_id, body)
                })
                .collect();
        let (mut child, url, ready) = start(&data);
        ready_times.push(ready);
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let sent = Arc::new(Mutex::new(Vec::<String>::new()));
        let dead = Arc::new(AtomicBool::new(false));
        let ingest = {
            let (url, token, acked, sent, dead) = (
                url.clone(),
                sensor_token.clone(),
                Arc::clone(&acked),
                Arc::clone(&sent),
                Arc::clone(&dead),
            );
            std::thread::spawn(move || {
                let agent = agent();
                for (id, body) in batches {
                    if dead.load(Ordering::SeqCst) {
                        break;
                    }
                    sent.lock().expect("lock").push(id.clone());
                    let r = agent
                        .post(&format!("{url}/api/v1/ingest/batches"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .header("Content-Encoding", "gzip")
                        .header("Content-Type", "application/json")
                        .send(&body[..]);
                    match r {
                        Ok(mut resp) if resp.status() == 200 => {
                            let text = resp.body_mut().read_to_string().unwrap_or_default();
                            if text.contains(&id) {
                                acked.lock().expect("lock").push(id);
                            }
                        }
                        Ok(resp) => panic!("ingest answered {}", resp.status()),
                        Err(_) => break,
                    }
                }
            })
        };
        // Kill at a random point: early (before anything committed) to late (deep in the
        // ingest); the import starts at a random point before the kill.
        let kill_after = rng.between(20, 2500);
        let import_after = rng.between(0, kill_after);
        let import = {
            let (url, token) = (url.clone(), analyst_token.clone());
            let boundary = format!("wardcrash{round}x{seed}");
            let body = intel_body(&advisories, round, &boundary);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(import_after));
                let r = agent()
                    .post(&format!("{url}/api/v1/intel/import"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .header(
                        "Content-Type",
                        &format!("multipart/form-data; boundary={boundary}"),
                    )
                    .send(&body[..]);
                match r {
                    Ok(resp) if resp.status() == 200 => true,
                    Ok(mut resp) => panic!(
                        "intel import answered {}: {}",
                        resp.status(),
                        resp.body_mut().read_to_string().unwrap_or_default()
                    ),
                    Err(_) => false,
                }
            })
        };
        std::thread::sleep(Duration::from_millis(kill_after));
        child.kill().expect("SIGKILL ward serve");
        let _ = child.wait();
        dead.store(true, Ordering::SeqCst);
        ingest.join().expect("ingest thread");
        let import_acked = import.join().expect("import thread");

        // After the crash: the store as the next start would see it.
        let store = Store::open_data_dir(&data)
            .await
            .expect("store opens after SIGKILL");
        let audit = store
            .verify_audit_chain()
            .await
            .expect("verify audit chain");
        assert!(
            audit.ok(),
            "round {round}: audit chain broken after SIGKILL: {:?}",
            audit.problem
        );
        let acked = acked.lock().expect("lock").clone();
        let sent = sent.lock().expect("lock").clone();
        for id in &acked {
            assert!(
                store.has_batch(id).await.expect("has_batch"),
                "round {round}: acknowledged batch {id} lost"
            );
        }
        sent_all.extend(sent.iter().cloned());
        acked_all.extend(acked.iter().cloned());
        // Exactly once: the stored batch ids are a subset of those sent, each once.
        let mut present = 0u64;
        for id in &sent_all {
            if store.has_batch(id).await.expect("has_batch") {
                present += 1;
            }
        }
        let count = store.batch_count().await.expect("batch count");
        assert_eq!(
            count, present,
            "round {round}: stored batches that were never sent"
        );
        assert!(count >= acked_all.len() as u64);
        // All or nothing: each round's import adds every advisory or none.
        let intel = store.intel_document_count().await.expect("intel count");
        let added = intel - intel_before;
        assert!(
            added == 0 || added == per_import,
            "round {round}: a partial intel import is visible ({added} of {per_import} documents)"
        );
        if import_acked {
            imports_acked += 1;
            assert_eq!(added, per_import, "round {round}: acknowledged import lost");
        }
        if added > 0 {
            imports_visible += 1;
        }
        intel_before = intel;
        // The inventory answers.
        store
            .list_devices(&ward_store::DeviceQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("device listing after SIGKILL");
        store.close().await;
        println!(
            "round {round}: ready in {} ms, killed after {kill_after} ms; {} of {} batches acknowledged, {count} stored in all; import (started at {import_after} ms) acknowledged: {import_acked}, visible: {}",
            ready.as_millis(),
            acked.len(),
            sent.len(),
            added > 0
        );
    }
    // The kills must have hit both activities in the middle at least sometimes.
    assert!(
        acked_all.len() > 100,
        "too few batches acknowledged: the test proved little"
    );
    assert!(
        (sent_all.len() as u64) > acked_all.len() as u64,
        "no kill hit an ingest in flight"
    );
    println!(
        "{ROUNDS} kills in {:.1} s: {} batches acknowledged, {} sent; imports acknowledged {imports_acked}, visible {imports_visible}; slowest start {} ms",
        started.elapsed().as_secs_f64(),
        acked_all.len(),
        sent_all.len(),
        ready_times.iter().max().map_or(0, |d| d.as_millis())
    );
}
