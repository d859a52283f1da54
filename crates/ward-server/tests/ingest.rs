//! Sensor ingest through the real server (`ward_server::serve` on a loopback port) and the
//! sensor client (`ward-sensor`): idempotent batches, permissions, and the spool across a
//! server outage and a sensor restart, with the corpus captures.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ward_sensor::{Attempt, Backoff, SensorConfig, Shipper};
use ward_server::serve::{self, ServeOptions};
use ward_server::AppState;
use ward_store::{Actor, NewUser, RoleGrant, SensorBatch, Store};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("INDEX.md").exists(),
        "the test corpus is required at {} (shared/data beside the repository root)",
        p.display()
    );
    p
}

/// The corpus captures the spool test ships: the clinical captures (DICOM, HL7 with canary
/// patients) and the protocol captures of `pcaps/dev`.
fn corpus_captures() -> Vec<PathBuf> {
    let c = corpus();
    let mut v = Vec::new();
    for dir in ["clinical-captures", "pcaps/dev"] {
        let d = c.join(dir);
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display())) {
            let p = e.expect("dir entry").path();
            if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                v.push(p);
            }
        }
    }
    v.sort();
    assert!(
        v.len() >= 20,
        "expected the corpus captures, found {}",
        v.len()
    );
    v
}

/// Dissects the corpus captures once and cuts the result into small batches.
fn corpus_batches(sensor: &str, rows: usize) -> Vec<SensorBatch> {
    let files = corpus_captures();
    let (out, _) = ward_dissect::analyze_files(
        &files,
        &ward_capture::CaptureConfig::default(),
        &ward_dissect::EngineConfig::default(),
        2,
        &|_| {},
    )
    .expect("dissect the corpus captures");
    assert!(
        !out.observations.is_empty(),
        "the corpus gave no observations"
    );
    ward_sensor::batches(sensor, "main", &[], out, rows)
}

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("server stops in time")
            .expect("server task")
            .expect("server ran cleanly");
    }
}

/// Starts `ward serve` in-process on `listen` with SQLite in `data` (no scheduler).
async fn start(listen: &str, data: &Path) -> (Running, AppState) {
    let mut opts = ServeOptions::new(listen, data);
    opts.jobs = None;
    let bound = serve::start(opts).await.expect("server starts");
    let addr = bound.addr();
    let state = bound.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(bound.serve(async move {
        let _ = rx.await;
    }));
    (
        Running {
            addr,
            stop: Some(tx),
            task,
        },
        state,
    )
}

/// A user with `role` (optionally at one site) and an API token with `scopes`.
async fn token(
    state: &AppState,
    name: &str,
    role: &str,
    site: Option<&str>,
    scopes: &[&str],
) -> String {
    let actor = Actor::new("test", None);
    let user = state
        .store
        .create_user(
            &NewUser {
                id: format!("u-{name}"),
                username: name.into(),
                display_name: name.into(),
                roles: vec![RoleGrant {
                    role: role.into(),
                    site: site.map(str::to_string),
                }],
                ..NewUser::default()
            },
            &actor,
        )
        .await
        .expect("create user");
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    ward_server::auth::issue_token(state, &user.id, name, &scopes, None, None, &actor)
        .await
        .expect("issue token")
}

fn quick_backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
    }
}

/// Everything the store holds for the site, in a comparable form.
async fn snapshot(store: &Store) -> (u64, String) {
    let facts = store.site_facts("main").await.expect("site facts");
    (
        store.batch_count().await.expect("batch count"),
        format!("{facts:?}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_is_idempotent_and_only_for_the_ingest_permission() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, state) = start("127.0.0.1:0", dir.path()).await;
    let sensor = token(&state, "sensor1", "sensor", None, &["ingest"]).await;
    let scoped = token(&state, "sensor-south", "sensor", Some("south"), &["ingest"]).await;
    let analyst = token(&state, "analyst", "security_analyst", None, &["*"]).await;
    let url = server.url();
    let batches = corpus_batches("s1", 100_000);
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    let body = ward_sensor::spool::encode(b).expect("encode");

    let send = |t: &str| {
        let (url, t, id, body) = (url.clone(), t.to_string(), b.batch_id.clone(), body.clone());
        tokio::task::spawn_blocking(move || Shipper::new(&url, &t).send(&id, &body))
    };
    assert_eq!(
        send(&sensor).await.expect("send"),
        Attempt::Acknowledged {
            outcome: "inserted".into()
        }
    );
    assert_eq!(
        send(&sensor).await.expect("send"),
        Attempt::Acknowledged {
            outcome: "duplicate".into()
        },
        "a retried batch is answered duplicate"
    );
    assert_eq!(state.store.batch_count().await.expect("count"), 1);
    let facts = state.store.site_facts("main").await.expect("facts");
    assert_eq!(facts.observations.len(), b.batch.observations.len());

    // An analyst may do much, but not ingest; a token for another site may not either.
    assert!(matches!(
        send(&analyst).await.expect("send"),
        Attempt::Unauthorized { status: 403, .. }
    ));
    assert!(matches!(
        send(&scoped).await.expect("send"),
        Attempt::Unauthorized { status: 403, .. }
    ));
    assert!(matches!(
        send("ward_not-a-token").await.expect("send"),
        Attempt::Unauthorized { status: 401, .. }
    ));

    // Not a batch: rejected for good (400), naming the position.
    let garbage = {
        let (url, t) = (url.clone(), sensor.clone());
        tokio::task::spawn_blocking(move || {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut gz, b"{\"batch_id\": 7}").expect("gzip");
            Shipper::new(&url, &t).send("x", &gz.finish().expect("gzip"))
        })
        .await
        .expect("send")
    };
    match garbage {
        Attempt::Rejected {
            status: 400,
            message,
        } => {
            assert!(message.contains("line 1"), "{message}")
        }
        other => panic!("expected a 400 rejection, got {other:?}"),
    }
    assert_eq!(state.store.batch_count().await.expect("count"), 1);
    server.stop().await;
}

/// The acceptance test of the spool: the server is stopped in the middle of a run, the
/// sensor is restarted while the server is still down, then the server comes back. The
/// server must end with exactly what an uninterrupted run gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spool_survives_server_outage_and_sensor_restart() {
    let batches = corpus_batches("spool-sensor", 40);
    assert!(
        batches.len() >= 30,
        "want many batches, got {}",
        batches.len()
    );
    let third = batches.len() / 3;

    // The reference: an uninterrupted run.
    let ref_dir = tempfile::tempdir().expect("temp dir");
    let (reference, ref_state) = start("127.0.0.1:0", &ref_dir.path().join("server")).await;
    let t = token(&ref_state, "sensor", "sensor", None, &["ingest"]).await;
    let cfg = SensorConfig {
        server: reference.url(),
        token: t,
        sensor: "spool-sensor".into(),
        site: "main".into(),
        spool_dir: ref_dir.path().join("spool"),
        spool_max: ward_sensor::DEFAULT_SPOOL_MAX,
        batch_rows: 40,
        backoff: quick_backoff(),
    };
    let all = batches.clone();
    let report = tokio::task::spawn_blocking(move || {
        ward_sensor::ship_batches(&cfg, all, &Arc::new(AtomicBool::new(false)))
    })
    .await
    .expect("join")
    .expect("uninterrupted run");
    assert_eq!(report.shipped.inserted as usize, batches.len());
    let expected = snapshot(&ref_state.store).await;
    assert_eq!(expected.0 as usize, batches.len());
    reference.stop().await;

    // The interrupted run.
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("server");
    let (server, state) = start("127.0.0.1:0", &data).await;
    let listen = server.addr.to_string();
    let t = token(&state, "sensor", "sensor", None, &["ingest"]).await;
    let cfg = SensorConfig {
        server: server.url(),
        token: t,
        sensor: "spool-sensor".into(),
        site: "main".into(),
        spool_dir: dir.path().join("spool"),
        // Bounded: far smaller than the whole run, so the producer must wait for room.
        spool_max: 64 * 1024,
        batch_rows: 40,
        backoff: quick_backoff(),
    };
    let (first, rest) = batches.split_at(third);
    let (second, last) = rest.split_at(third);
    let (first, second, last) = (first.to_vec(), second.to_vec(), last.to_vec());

    // 1. The first third while the server is up; all delivered.
    let stop = Arc::new(AtomicBool::new(false));
    let mut pipeline = ward_sensor::Pipeline::start(&cfg, &stop).expect("pipeline");
    let pipeline = tokio::task::spawn_blocking(move || {
        for b in first {
            pipeline.push(b).expect("spool");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while !pipeline.spool().is_empty() {
            assert!(Instant::now() < deadline, "first third not delivered");
            std::thread::sleep(Duration::from_millis(20));
        }
        pipeline
    })
    .await
    .expect("join");
    let delivered_before_outage = state.store.batch_count().await.expect("count");
    assert_eq!(delivered_before_outage as usize, third);

    // 2. The server goes down; the second third is spooled (the shipper retries).
    drop(state);
    server.stop().await;
    let stop2 = Arc::clone(&stop);
    let spooled = tokio::task::spawn_blocking(move || {
        let mut pipeline = pipeline;
        let mut n = 0;
        for b in second {
            // Only as many as fit: the spool is bounded; the rest waits in the producer.
            if pipeline.spool().bytes() + 8 * 1024 > pipeline.spool().max_bytes() {
                break;
            }
            pipeline.push(b).expect("spool while the server is down");
            n += 1;
        }
        let waiting = pipeline.spool().len();
        // 3. The sensor stops (restart) while the server is still down.
        stop2.store(true, std::sync::atomic::Ordering::SeqCst);
        let r = pipeline.finish();
        assert!(
            r.is_err(),
            "shipping cannot have finished while the server is down"
        );
        (n, waiting)
    })
    .await
    .expect("join");
    let (pushed, waiting) = spooled;
    assert!(
        pushed > 0 && waiting == pushed,
        "pushed {pushed}, waiting {waiting}"
    );
    let leftover = ward_sensor::Spool::open(&cfg.spool_dir, cfg.spool_max).expect("spool");
    assert_eq!(
        leftover.len(),
        waiting,
        "the spool survives the sensor's restart"
    );
    drop(leftover);

    // 4. The sensor starts again (server still down) with the rest of the batches; then
    //    the server comes back on the same address and everything is delivered in order.
    let mut remaining: Vec<SensorBatch> = second_rest(&batches, third, pushed);
    remaining.extend(last);
    let cfg2 = cfg.clone();
    let sensor = tokio::task::spawn_blocking(move || {
        ward_sensor::ship_batches(&cfg2, remaining, &Arc::new(AtomicBool::new(false)))
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (server, state) = start(&listen, &data).await;
    let report = tokio::time::timeout(Duration::from_secs(60), sensor)
        .await
        .expect("sensor finishes after the server returns")
        .expect("join")
        .expect("sensor run");
    assert_eq!(report.waiting, 0);
    assert!(
        report.shipped.retries > 0,
        "the sensor must have retried while the server was down"
    );
    assert_eq!(
        report.shipped.inserted as usize + third,
        batches.len(),
        "every batch delivered once: {report:?}"
    );
    let got = snapshot(&state.store).await;
    assert_eq!(
        got.0, expected.0,
        "batch count differs from the uninterrupted run"
    );
    assert!(
        got.1 == expected.1,
        "stored facts differ from the uninterrupted run"
    );

    // Canary patient data of the clinical captures reached neither store file.
    server.stop().await;
    for d in [&data, &ref_dir.path().join("server")] {
        for e in std::fs::read_dir(d).expect("data dir") {
            let p = e.expect("entry").path();
            if !p.is_file() {
                continue;
            }
            let bytes = std::fs::read(&p).expect("read store file");
            for canary in ["CANARY^PHI^TEST", "CANARY-123456"] {
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "{} holds canary patient data {canary}",
                    p.display()
                );
            }
        }
    }
}

/// The batches of the second third that were not pushed before the sensor stopped.
fn second_rest(batches: &[SensorBatch], third: usize, pushed: usize) -> Vec<SensorBatch> {
    batches[third + pushed..2 * third].to_vec()
}

/// Benchmark (not a test; run in release):
/// `cargo test --release -p ward-server --test ingest -- --ignored --nocapture ingest_throughput`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run in release with --ignored"]
async fn ingest_throughput() {
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = dir.path().join("hospital.pcap");
    let cfg = ward_bench::GenConfig {
        target_bytes: 64 << 20,
        devices: 400,
        ..Default::default()
    };
    ward_bench::generate_file(&cfg, &capture).expect("generate capture");
    let (out, _) = ward_dissect::analyze_files(
        &[capture],
        &ward_capture::CaptureConfig::default(),
        &ward_dissect::EngineConfig::default(),
        2,
        &|_| {},
    )
    .expect("dissect");
    let (server, state) = start("127.0.0.1:0", &dir.path().join("server")).await;
    let t = token(&state, "sensor", "sensor", None, &["ingest"]).await;
    let mut observations = 0usize;
    let mut batches = Vec::new();
    // Several sensors' worth of data: the same dissected traffic from 8 sensors.
    for s in 0..8 {
        for b in ward_sensor::batches(
            &format!("bench-{s}"),
            &format!("site-{s}"),
            &[],
            out.clone(),
            5000,
        ) {
            observations += b.batch.observations.len();
            batches.push(
                ward_sensor::spool::encode(&b)
                    .map(|body| (b.batch_id.clone(), body))
                    .expect("encode"),
            );
        }
    }
    let url = server.url();
    let started = Instant::now();
    let n = batches.len();
    tokio::task::spawn_blocking(move || {
        let shipper = Shipper::new(&url, &t);
        for (id, body) in &batches {
            assert_eq!(
                shipper.send(id, body),
                Attempt::Acknowledged {
                    outcome: "inserted".into()
                }
            );
        }
    })
    .await
    .expect("join");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "ingest: {n} batches, {observations} observations in {secs:.2} s over HTTP into SQLite: {:.0} observations/s",
        observations as f64 / secs
    );
    assert_eq!(state.store.batch_count().await.expect("count") as usize, n);
    server.stop().await;
}
