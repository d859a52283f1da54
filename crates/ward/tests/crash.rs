//! Crash safety of `ward serve` (the built binary): SIGKILL at random points while a
//! sensor ingests many batches and an analyst imports many advisories at once, many times
//! over. After every kill the store opens, its audit chain verifies, every acknowledged
//! batch is present exactly once, no batch that was never sent is present, and each intel
//! import is visible completely or not at all.
//!
//! Kill points are aimed, not blind: round 0 runs both activities to the end and measures
//! one batch's round trip and the import's duration; after that the rounds alternate
//! between killing within one batch's round trip after the k-th acknowledged batch (k
//! random) and killing at a random point within the measured import duration after the
//! import request started. The test records what was outstanding at each kill (a batch
//! request, the import request, both, neither; and whether the outstanding work was
//! committed anyway) and asserts that the kills landed in both phases often.
//!
//! The seed of the kill points is printed; `WARD_CRASH_SEED=N` repeats the choices (the
//! delays also scale with the timings measured in the run).

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ward_server::{AppState, ServerConfig};
use ward_store::{Actor, NewUser, RoleGrant, Store};

const ROUNDS: usize = 40;
/// Copies of the advisories per import (each a distinct document; POST
/// /api/v1/intel/import takes up to `max_upload_bytes` in one request).
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
    let mut tally = Tally::default();
    // Timing estimates, measured in round 0 (no kill until both finish) and refined by every
    // later round: one batch's round trip and one import's duration, under the same
    // concurrency the kill rounds have.
    let mut batch_ms = 10.0f64;
    let mut import_ms = 300.0f64;
    let mut ingest_ms = 800.0f64;

    for round in 0..ROUNDS {
        let batches: Vec<(String, Vec<u8>)> =
            ward_sensor::batches(&format!("crash-{round}"), "main", &[], out.clone(), 40)
                .into_iter()
                .map(|b| {
                    let body = ward_sensor::spool::encode(&b).expect("encode");
                    (b.batch_id, body)
                })
                .collect();
        let n = batches.len();
        // The kill plan: round 0 calibrates; then the rounds alternate between a kill
        // while a batch is in flight (after k acknowledged batches, within one batch's
        // round trip) and a kill while the import is in flight (within its measured
        // duration). Both activities run concurrently in every round.
        let target = if round == 0 {
            Target::Calibrate
        } else if round % 2 == 1 {
            Target::Ingest {
                after_acks: rng.between(0, n as u64) as usize,
                delay: ms(rng.between(0, batch_ms.ceil() as u64)),
            }
        } else {
            let lo = (import_ms * 0.05) as u64;
            Target::Import {
                delay: ms(rng.between(lo, (import_ms * 0.9) as u64)),
            }
        };
        let import_after = match target {
            Target::Calibrate => ms(0),
            Target::Ingest { .. } => ms(rng.between(0, ingest_ms as u64)),
            Target::Import { .. } => ms(rng.between(0, (ingest_ms * 0.7) as u64)),
        };

        let (mut child, url, ready) = start(&data);
        ready_times.push(ready);
        let progress = Arc::new(Mutex::new(Progress::default()));
        let dead = Arc::new(AtomicBool::new(false));
        let ingest_started = Instant::now();
        let ingest = {
            let (url, token, progress, dead) = (
                url.clone(),
                sensor_token.clone(),
                Arc::clone(&progress),
                Arc::clone(&dead),
            );
            std::thread::spawn(move || {
                let agent = agent();
                for (id, body) in batches {
                    if dead.load(Ordering::SeqCst) {
                        break;
                    }
                    {
                        let mut p = progress.lock().expect("lock");
                        p.sent.push(id.clone());
                        p.in_flight = Some(id.clone());
                    }
                    let t = Instant::now();
                    let r = agent
                        .post(&format!("{url}/api/v1/ingest/batches"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .header("Content-Encoding", "gzip")
                        .header("Content-Type", "application/json")
                        .send(&body[..]);
                    match r {
                        Ok(mut resp) if resp.status() == 200 => {
                            let text = resp.body_mut().read_to_string().unwrap_or_default();
                            let mut p = progress.lock().expect("lock");
                            if text.contains(&id) {
                                p.acked.push(id);
                                p.batch_times.push(t.elapsed());
                            }
                            p.in_flight = None;
                        }
                        Ok(resp) => panic!("ingest answered {}", resp.status()),
                        Err(_) => break,
                    }
                }
                let mut p = progress.lock().expect("lock");
                p.finished = Some(ingest_started.elapsed());
            })
        };
        let import_state = Arc::new(Mutex::new(ImportState::default()));
        let import = {
            let (url, token, state) = (
                url.clone(),
                analyst_token.clone(),
                Arc::clone(&import_state),
            );
            let boundary = format!("wardcrash{round}x{seed}");
            let body = intel_body(&advisories, round, &boundary);
            std::thread::spawn(move || {
                std::thread::sleep(import_after);
                let t = Instant::now();
                state.lock().expect("lock").started = Some(t);
                let r = agent()
                    .post(&format!("{url}/api/v1/intel/import"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .header(
                        "Content-Type",
                        &format!("multipart/form-data; boundary={boundary}"),
                    )
                    .send(&body[..]);
                let acked = match r {
                    Ok(resp) if resp.status() == 200 => true,
                    Ok(mut resp) => panic!(
                        "intel import answered {}: {}",
                        resp.status(),
                        resp.body_mut().read_to_string().unwrap_or_default()
                    ),
                    Err(_) => false,
                };
                state.lock().expect("lock").finished = Some(t.elapsed());
                acked
            })
        };

        // Wait for the kill point.
        let deadline = Instant::now() + Duration::from_secs(60);
        let wait_until = |cond: &dyn Fn() -> bool| {
            while !cond() {
                assert!(
                    Instant::now() < deadline,
                    "round {round}: the kill point never came"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        match target {
            Target::Calibrate => wait_until(&|| {
                progress.lock().expect("lock").finished.is_some()
                    && import_state.lock().expect("lock").finished.is_some()
            }),
            Target::Ingest { after_acks, delay } => {
                wait_until(&|| {
                    let p = progress.lock().expect("lock");
                    p.acked.len() >= after_acks || p.finished.is_some()
                });
                std::thread::sleep(delay);
            }
            Target::Import { delay } => {
                wait_until(&|| import_state.lock().expect("lock").started.is_some());
                std::thread::sleep(delay);
            }
        }
        // What was outstanding at the moment of the SIGKILL.
        let batch_in_flight = progress.lock().expect("lock").in_flight.clone();
        let import_in_flight = {
            let s = import_state.lock().expect("lock");
            s.started.is_some() && s.finished.is_none()
        };
        let killed_at = ingest_started.elapsed();
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
        let p = std::mem::take(&mut *progress.lock().expect("lock"));
        for id in &p.acked {
            assert!(
                store.has_batch(id).await.expect("has_batch"),
                "round {round}: acknowledged batch {id} lost"
            );
        }
        sent_all.extend(p.sent.iter().cloned());
        acked_all.extend(p.acked.iter().cloned());
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
        // Where the kill landed.
        let batch_state = match &batch_in_flight {
            Some(id) => {
                tally.ingest += 1;
                if store.has_batch(id).await.expect("has_batch") {
                    tally.batch_committed_unacked += 1;
                    "batch in flight (committed, unacknowledged)"
                } else {
                    "batch in flight (not committed)"
                }
            }
            None => "no batch in flight",
        };
        let import_state_text = if import_in_flight {
            tally.import += 1;
            if added > 0 {
                tally.import_committed_unacked += 1;
                "import in flight (committed, unacknowledged)"
            } else {
                "import in flight (not committed)"
            }
        } else {
            "no import in flight"
        };
        if batch_in_flight.is_some() && import_in_flight {
            tally.both += 1;
        }
        if batch_in_flight.is_none() && !import_in_flight {
            tally.neither += 1;
        }
        store.close().await;

        // Refine the estimates from what this round measured.
        let mut times: Vec<Duration> = p.batch_times.clone();
        times.sort();
        if let Some(median) = times.get(times.len() / 2) {
            batch_ms = (batch_ms + median.as_secs_f64() * 1000.0) / 2.0;
        }
        let import_took = import_state.lock().expect("lock").finished;
        if let (true, Some(d)) = (import_acked, import_took) {
            let d = d.as_secs_f64() * 1000.0;
            import_ms = if round == 0 { d } else { (import_ms + d) / 2.0 };
        }
        if let (Target::Calibrate, Some(d)) = (target, p.finished) {
            ingest_ms = d.as_secs_f64() * 1000.0;
            batch_ms = ingest_ms / n.max(1) as f64;
        }
        println!(
            "round {round}: {target:?}; ready in {} ms, killed at {} ms: {batch_state}, {import_state_text}; {} of {} batches acknowledged ({count} stored in all); import started at {} ms, acknowledged: {import_acked}, visible: {}",
            ready.as_millis(),
            killed_at.as_millis(),
            p.acked.len(),
            p.sent.len(),
            import_after.as_millis(),
            added > 0
        );
    }
    println!(
        "{ROUNDS} kills in {:.1} s: {} during an ingest request ({} of those batches committed but unacknowledged), {} during an intel import ({} committed but unacknowledged), {} during both, {} during neither; {} batches acknowledged, {} sent; imports acknowledged {imports_acked}, visible {imports_visible}; slowest start {} ms; estimates at the end: batch {batch_ms:.0} ms, import {import_ms:.0} ms",
        started.elapsed().as_secs_f64(),
        tally.ingest,
        tally.batch_committed_unacked,
        tally.import,
        tally.import_committed_unacked,
        tally.both,
        tally.neither,
        acked_all.len(),
        sent_all.len(),
        ready_times.iter().max().map_or(0, |d| d.as_millis())
    );
    // The kills must have hit both activities in the middle, often.
    assert!(
        acked_all.len() > 100,
        "too few batches acknowledged: the test proved little"
    );
    assert!(
        tally.ingest >= ROUNDS / 3,
        "only {} of {ROUNDS} kills landed while a batch was in flight",
        tally.ingest
    );
    assert!(
        tally.import >= ROUNDS / 4,
        "only {} of {ROUNDS} kills landed while an intel import was in flight",
        tally.import
    );
}

/// What the kill of one round aims at.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// No kill until the ingest and the import have both finished: measures their timing.
    Calibrate,
    /// Kill `delay` after the `after_acks`-th acknowledged batch (within the next batch).
    Ingest { after_acks: usize, delay: Duration },
    /// Kill `delay` after the import request started (within its measured duration).
    Import { delay: Duration },
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The ingest thread's view of one round.
#[derive(Default)]
struct Progress {
    sent: Vec<String>,
    acked: Vec<String>,
    /// The batch whose request is outstanding.
    in_flight: Option<String>,
    /// Round trip of each acknowledged batch.
    batch_times: Vec<Duration>,
    /// When the thread stopped (all sent, or the server went away), from the round start.
    finished: Option<Duration>,
}

#[derive(Default)]
struct ImportState {
    started: Option<Instant>,
    finished: Option<Duration>,
}

/// Where the kills landed, over all rounds.
#[derive(Default)]
struct Tally {
    ingest: usize,
    import: usize,
    both: usize,
    neither: usize,
    batch_committed_unacked: usize,
    import_committed_unacked: usize,
}
