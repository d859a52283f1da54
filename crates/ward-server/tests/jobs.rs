//! The job scheduler: two schedulers (two `ward serve` replicas) on one real PostgreSQL
//! database never run a job at the same time; a crashed holder's job is taken over after
//! its lease; jobs and their state survive a restart; the standard jobs do their work.
//!
//! PostgreSQL: `postgres://postgres@127.0.0.1:5432/test` (trust auth); each test creates
//! its own database. The tests fail, never skip, when the server is unreachable.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ward_server::jobs::{JobConfig, RunOutcome, Scheduler};
use ward_store::testing::ScratchPg;
use ward_store::{JobSpec, Store};

/// Per-job count of runs in progress (across both schedulers), the highest seen, and the
/// runs per scheduler.
#[derive(Default)]
struct Probe {
    active: Mutex<HashMap<String, usize>>,
    overlaps: AtomicUsize,
    runs: Mutex<HashMap<String, usize>>,
    per_owner: Mutex<HashMap<String, usize>>,
}

type BoxedRun =
    std::pin::Pin<Box<dyn std::future::Future<Output = ward_server::jobs::JobResult> + Send>>;

fn probe_handler(probe: Arc<Probe>, owner: String) -> ward_server::jobs::Handler {
    Arc::new(
        move |_store: Store, lease: ward_store::JobLease| -> BoxedRun {
            let probe = Arc::clone(&probe);
            let owner = owner.clone();
            Box::pin(async move {
                {
                    let mut a = probe.active.lock().expect("lock");
                    let n = a.entry(lease.id.clone()).or_default();
                    *n += 1;
                    if *n > 1 {
                        probe.overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                }
                // Long enough for the other scheduler to try the same job meanwhile.
                tokio::time::sleep(Duration::from_millis(120)).await;
                *probe
                    .active
                    .lock()
                    .expect("lock")
                    .entry(lease.id.clone())
                    .or_default() -= 1;
                *probe
                    .runs
                    .lock()
                    .expect("lock")
                    .entry(lease.id.clone())
                    .or_default() += 1;
                *probe
                    .per_owner
                    .lock()
                    .expect("lock")
                    .entry(owner)
                    .or_default() += 1;
                Ok(None)
            })
        },
    )
}

fn config() -> JobConfig {
    JobConfig {
        lease: Duration::from_secs(5),
        poll: Duration::from_millis(20),
        ..JobConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_on_one_postgres_never_run_a_job_twice_at_once() {
    let db = ScratchPg::create("the jobs tests").await;
    // Two replicas: separate stores (connection pools) on the same database.
    let store_a = Store::open(db.url()).await.expect("open store A");
    let store_b = Store::open(db.url()).await.expect("open store B");
    let probe = Arc::new(Probe::default());
    let now = ward_store::now_micros();
    for i in 0..4 {
        let created = store_a
            .schedule_job(
                &JobSpec {
                    id: format!("probe-{i}"),
                    kind: "probe".into(),
                    payload: serde_json::Value::Null,
                    run_after: now,
                    interval_secs: Some(0),
                },
                now,
            )
            .await
            .expect("schedule");
        assert!(created);
        // The other replica schedules the same job at its start: nothing changes.
        assert!(!store_b
            .schedule_job(
                &JobSpec {
                    id: format!("probe-{i}"),
                    kind: "probe".into(),
                    payload: serde_json::Value::Null,
                    run_after: now,
                    interval_secs: Some(0),
                },
                now,
            )
            .await
            .expect("schedule again"));
    }
    let mut a = Scheduler::new(store_a.clone(), "replica-a", config());
    a.register(
        "probe",
        probe_handler(Arc::clone(&probe), "replica-a".into()),
    );
    let mut b = Scheduler::new(store_b.clone(), "replica-b", config());
    b.register(
        "probe",
        probe_handler(Arc::clone(&probe), "replica-b".into()),
    );

    // Each replica runs two workers (four claimers in all) for three seconds.
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for s in [a.clone(), a, b.clone(), b] {
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                outcomes.extend(s.run_once().await.expect("claim and run"));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            outcomes
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await.expect("worker"));
    }

    assert_eq!(
        probe.overlaps.load(Ordering::SeqCst),
        0,
        "a job ran twice at once"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, RunOutcome::Finished { .. })),
        "{outcomes:?}"
    );
    let runs = probe.runs.lock().expect("lock").clone();
    let total: usize = runs.values().sum();
    assert_eq!(total, outcomes.len());
    // 4 jobs of 120 ms for 3 s with 4 claimers: at least ~50 runs, every job ran.
    assert!(total >= 40, "only {total} runs: {runs:?}");
    assert_eq!(runs.len(), 4, "{runs:?}");
    let per_owner = probe.per_owner.lock().expect("lock").clone();
    assert!(
        per_owner.get("replica-a").is_some_and(|n| *n > 0)
            && per_owner.get("replica-b").is_some_and(|n| *n > 0),
        "both replicas must have competed for the jobs: {per_owner:?}"
    );
    // The store's attempt counters agree with the runs seen.
    for (id, n) in &runs {
        let job = store_a.job(id).await.expect("job").expect("exists");
        assert_eq!(job.attempts as usize, *n, "{id}");
        assert!(job.lease_owner.is_none(), "{id} still leased");
    }
    store_a.close().await;
    store_b.close().await;
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_holders_job_is_taken_over_after_its_lease() {
    let db = ScratchPg::create("the jobs tests").await;
    let a = Store::open(db.url()).await.expect("open store A");
    let b = Store::open(db.url()).await.expect("open store B");
    let now = ward_store::now_micros();
    a.schedule_job(
        &JobSpec {
            id: "once".into(),
            kind: "probe".into(),
            payload: serde_json::json!({"n": 1}),
            run_after: now,
            interval_secs: None,
        },
        now,
    )
    .await
    .expect("schedule");
    let lease = a
        .claim_job("a", now, 1_000_000)
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(lease.attempts, 1);
    // While A holds it, B gets nothing.
    assert!(b
        .claim_job("b", now + 500_000, 1_000_000)
        .await
        .expect("claim")
        .is_none());
    // A "crashes"; after the lease B takes the job; A's late renewal and finish fail.
    let taken = b
        .claim_job("b", now + 1_500_000, 1_000_000)
        .await
        .expect("claim")
        .expect("taken over after the lease expired");
    assert_eq!(taken.attempts, 2);
    assert!(!a
        .renew_job_lease("once", "a", now + 9_000_000)
        .await
        .expect("renew"));
    assert!(!a
        .finish_job("once", "a", now + 1_600_000, None)
        .await
        .expect("finish"));
    assert!(b
        .finish_job("once", "b", now + 1_700_000, None)
        .await
        .expect("finish"));
    let job = a.job("once").await.expect("job").expect("exists");
    assert_eq!(job.state, "done");
    assert!(b
        .claim_job("b", now + 100_000_000, 1_000_000)
        .await
        .expect("claim")
        .is_none());
    a.close().await;
    b.close().await;
    db.drop_now().await;
}

/// The standard jobs run once, record their state in the store, and after a restart (a new
/// store and scheduler on the same file) are neither rescheduled nor run again early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_jobs_run_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let s = Scheduler::new(store.clone(), "first", config());
    s.schedule_standard().await.expect("schedule");
    let mut ran = s.run_due().await.expect("run");
    ran.sort_by_key(|o| format!("{o:?}"));
    let names: Vec<String> = ran
        .iter()
        .map(|o| match o {
            RunOutcome::Finished { id } => id.clone(),
            other => panic!("job did not finish: {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "expire_risk_acceptances",
            "mark_stale",
            "rematch",
            "retention",
            "review_reminders"
        ]
    );
    let rematch = store.job("rematch").await.expect("job").expect("exists");
    assert!(rematch.last_run_at.is_some());
    assert!(
        rematch.run_after > ward_store::now_micros(),
        "the next run is in the future"
    );
    store.close().await;

    // Restart.
    let store = Store::open_data_dir(dir.path()).await.expect("store again");
    let s = Scheduler::new(store.clone(), "second", config());
    s.schedule_standard().await.expect("schedule again");
    assert!(
        s.run_due().await.expect("run").is_empty(),
        "nothing is due after the restart"
    );
    let again = store.job("rematch").await.expect("job").expect("exists");
    assert_eq!(
        again.run_after, rematch.run_after,
        "the schedule survived the restart"
    );
    assert_eq!(again.attempts, 1);
    store.close().await;
}

fn device(id: &str, last_seen: i64) -> ward_store::DeviceRecord {
    ward_store::DeviceRecord {
        id: id.into(),
        site: "main".into(),
        name: id.into(),
        inferred: Default::default(),
        macs: vec![],
        ips: vec![],
        is_router: false,
        first_seen: last_seen - 1000,
        last_seen,
        detail: serde_json::json!({ "id": id }),
    }
}

/// What the standard jobs do: devices unseen for N days become stale (the others not),
/// an expired risk acceptance reopens its finding, and the rematch job records the
/// fingerprint of its inputs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_jobs_mark_stale_devices_and_expire_risk_acceptances() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let actor = ward_store::Actor::new("test", None);
    let now = ward_store::now_micros();
    let day = 86_400_000_000i64;
    store
        .upsert_devices(
            &[device("old", now - 40 * day), device("recent", now - day)],
            &actor,
        )
        .await
        .expect("devices");
    store
        .upsert_findings(
            &[ward_store::NewFinding {
                id: "f1".into(),
                device_id: "recent".into(),
                vulnerability: "CVE-2024-0001".into(),
                document: None,
                confidence: 0.9,
                explanation: serde_json::json!({}),
            }],
            &actor,
        )
        .await
        .expect("finding");
    store
        .set_finding_status(
            "f1",
            ward_store::FindingStatus::RiskAccepted,
            "compensating control",
            Some(ward_store::now_micros() + 300_000),
            &actor,
        )
        .await
        .expect("accept risk");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let s = Scheduler::new(
        store.clone(),
        "one",
        JobConfig {
            stale_after_days: 30,
            ..config()
        },
    );
    s.schedule_standard().await.expect("schedule");
    let ran = s.run_due().await.expect("run");
    assert_eq!(ran.len(), 5, "{ran:?}");
    let old = store.device("old").await.expect("device").expect("exists");
    let recent = store
        .device("recent")
        .await
        .expect("device")
        .expect("exists");
    assert!(old.summary.stale, "a device unseen for 40 days is stale");
    assert!(!recent.summary.stale, "a device seen yesterday is not");
    let f = store.finding("f1").await.expect("finding").expect("exists");
    assert_eq!(
        f.status,
        ward_store::FindingStatus::Open,
        "the expired risk acceptance reopened the finding"
    );
    let rematch = store.jobs().await.expect("jobs");
    assert!(
        rematch.iter().all(|j| j.last_error.is_none()),
        "{rematch:?}"
    );
    store.close().await;
}

/// The rematch job is the upload pipeline run by the scheduler: facts a sensor shipped
/// become devices, new intel becomes findings, and when nothing changed since the last
/// run it does nothing (its own inventory write does not count as a change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rematch_follows_sensor_batches_and_intel_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let actor = ward_store::Actor::new("sensor-1", None);
    let s = Scheduler::new(
        store.clone(),
        "one",
        JobConfig {
            rematch_every_secs: 1,
            ..config()
        },
    );
    s.schedule_standard().await.expect("schedule");
    s.run_due().await.expect("first run on an empty store");

    // A sensor ships a generated hospital's facts (no identification on ingest); the
    // corpus' ICSMA advisories name some of its devices (`ward assess` finds 2).
    let pcap = dir.path().join("hospital.pcap");
    ward_bench::generate_file(
        &ward_bench::GenConfig {
            seed: 1,
            target_bytes: 3 << 20,
            ..Default::default()
        },
        &pcap,
    )
    .expect("generate");
    let captures = vec![pcap];
    let (out, _) = ward_dissect::analyze_files(
        &captures,
        &ward_capture::CaptureConfig::default(),
        &ward_dissect::EngineConfig::default(),
        1,
        &|_| {},
    )
    .expect("dissect");
    store.upsert_site("main", "main").await.expect("site");
    let batch = ward_store::Batch {
        files: captures.iter().map(|p| p.display().to_string()).collect(),
        observations: out.observations,
        security: out.security,
        edges: out.edges,
    };
    store
        .ingest_batch("sensor-batch-1", "main", &batch, &actor)
        .await
        .expect("ingest");
    let devices = |store: Store| async move {
        store
            .list_devices(&ward_store::DeviceQuery::default())
            .await
            .expect("list")
            .total
            .unwrap_or(0)
    };
    assert_eq!(
        devices(store.clone()).await,
        0,
        "ingest alone identifies nothing"
    );
    let findings = |store: Store| async move {
        store
            .list_findings(&ward_store::FindingQuery {
                limit: 1000,
                ..Default::default()
            })
            .await
            .expect("findings")
            .len()
    };

    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.run_due().await.expect("run after the batch");
    let n = devices(store.clone()).await;
    assert!(
        n >= 30,
        "the rematch job identified the shipped devices: {n}"
    );
    assert_eq!(findings(store.clone()).await, 0, "no intel yet");

    ward_server::ui::pipeline::import_intel_files(&store, &common::intel_files(), &actor)
        .await
        .expect("intel");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.run_due().await.expect("run after intel");
    let f = findings(store.clone()).await;
    assert!(f > 0, "new intel became findings on the next run");

    // Nothing changed: the next run leaves the inventory alone.
    let before = store.match_inputs_fingerprint().await.expect("fp");
    let rev = store.device_revision().await.expect("rev");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ran = s.run_due().await.expect("idle run");
    assert!(
        ran.contains(&RunOutcome::Finished {
            id: "rematch".into()
        }),
        "{ran:?}"
    );
    assert_eq!(store.match_inputs_fingerprint().await.expect("fp"), before);
    assert_eq!(store.device_revision().await.expect("rev"), rev);
    assert_eq!(findings(store.clone()).await, f);
    let job = store.job("rematch").await.expect("job").expect("exists");
    assert!(job.last_error.is_none(), "{job:?}");
    store.close().await;
}

/// Schedules one standard job (as `schedule_standard` would, with `config`'s interval)
/// without the others, so that a test sees only its effects.
async fn schedule_one(store: &Store, config: &JobConfig, id: &str) {
    let now = ward_store::now_micros();
    let spec = ward_server::jobs::standard_jobs(config, now)
        .into_iter()
        .find(|j| j.id == id)
        .expect("a standard job");
    store.schedule_job(&spec, now).await.expect("schedule");
}

/// The audit entries with `action` written after `after_seq`.
async fn audit_of(store: &Store, after_seq: i64, action: &str) -> Vec<ward_store::AuditEntry> {
    let mut out = store.audit_entries(after_seq, 10_000).await.expect("audit");
    out.retain(|e| e.action == action);
    out
}

const DAY: u64 = 86_400_000_000;

fn facts_batch(mac: &str, ip: &str, port: u16, last: u64) -> ward_store::Batch {
    use ward_model::{
        ConnectionEdge, EndpointAddr, Evidence, Observation, SecurityKind, SecurityObservation,
        Severity, Timestamp, Transport,
    };
    let a = EndpointAddr {
        mac: Some(mac.parse().expect("mac")),
        ip: Some(ip.parse().expect("ip")),
    };
    let server = EndpointAddr {
        mac: Some("00:1d:4a:00:00:99".parse().expect("mac")),
        ip: Some("10.9.9.9".parse().expect("ip")),
    };
    let ev = Evidence {
        file: 0,
        packet: 1,
        ts: Timestamp(last - 10),
        flow: None,
    };
    ward_store::Batch {
        files: vec!["x.pcap".into()],
        observations: vec![Observation {
            subject: a,
            key: "dhcp.hostname".into(),
            value: format!("host-{port}"),
            first_seen: Timestamp(last - 10),
            last_seen: Timestamp(last),
            count: 1,
            evidence: ev,
        }],
        security: vec![SecurityObservation {
            kind: SecurityKind::TelnetInUse,
            severity: Severity::High,
            subject: a,
            peer: None,
            detail: format!("telnet {port}"),
            first_seen: Timestamp(last - 10),
            last_seen: Timestamp(last),
            count: 1,
            evidence: ev,
        }],
        edges: vec![ConnectionEdge {
            client: a,
            server,
            transport: Transport::Tcp,
            server_port: port,
            vlan: None,
            protocol: None,
            bytes_to_server: 10,
            bytes_to_client: 10,
            packets: 2,
            sessions: 1,
            first_seen: Timestamp(last - 10),
            last_seen: Timestamp(last),
            evidence: ev,
        }],
    }
}

fn fact_count(f: &ward_store::SiteFacts) -> usize {
    f.observations.len() + f.security.len() + f.edges.len()
}

/// The retention job: unset (the default) it deletes nothing; with `retention_days` it
/// deletes the facts unseen that long (keeping recent ones, devices and batch ids, so a
/// replayed old batch stays a duplicate) with one audit entry; the setting in force is the
/// running scheduler's, so setting it after the job was first scheduled, or unsetting it
/// again, takes effect at the next run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_job_deletes_old_facts_only_when_configured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let sensor = ward_store::Actor::new("sensor:s1", None);
    let now = u64::try_from(ward_store::now_micros()).expect("clock");
    let old = facts_batch("00:1b:21:00:00:01", "10.0.0.1", 104, now - 40 * DAY);
    let recent = facts_batch("00:1b:21:00:00:02", "10.0.0.2", 2575, now - DAY);
    for (id, batch) in [("old-1", &old), ("recent-1", &recent)] {
        store
            .ingest_batch(id, "main", batch, &sensor)
            .await
            .expect("ingest");
    }
    let t = ward_store::now_micros();
    store
        .upsert_devices(&[device("pump-1", t - 40 * DAY as i64)], &sensor)
        .await
        .expect("device");
    assert_eq!(
        fact_count(&store.site_facts("main").await.expect("facts")),
        6
    );

    // Unset: the job runs and deletes nothing.
    let keep = JobConfig {
        retention_every_secs: 1,
        ..config()
    };
    assert_eq!(keep.retention_days, None, "the default keeps everything");
    schedule_one(&store, &keep, "retention").await;
    let head = store.audit_head().await.expect("head").0;
    let ran = Scheduler::new(store.clone(), "keep", keep.clone())
        .run_due()
        .await
        .expect("run");
    assert_eq!(
        ran,
        [RunOutcome::Finished {
            id: "retention".into()
        }]
    );
    assert_eq!(
        fact_count(&store.site_facts("main").await.expect("facts")),
        6
    );
    assert!(audit_of(&store, head, "facts.prune").await.is_empty());

    // Configured (a restarted server with the setting): old facts go, recent ones stay.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let prune = JobConfig {
        retention_days: Some(30),
        ..keep.clone()
    };
    let ran = Scheduler::new(store.clone(), "prune", prune)
        .run_due()
        .await
        .expect("run");
    assert_eq!(
        ran,
        [RunOutcome::Finished {
            id: "retention".into()
        }]
    );
    let facts = store.site_facts("main").await.expect("facts");
    assert_eq!(fact_count(&facts), 3, "{facts:?}");
    assert_eq!(facts.observations[0].value, "host-2575");
    assert_eq!(facts.security[0].detail, "telnet 2575");
    assert_eq!(facts.edges[0].server_port, 2575);
    let entries = audit_of(&store, head, "facts.prune").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].actor, "job:retention");
    let after: serde_json::Value =
        serde_json::from_str(entries[0].after.as_deref().expect("after")).expect("json");
    assert_eq!(after["observations"], 1);
    assert_eq!(after["security_observations"], 1);
    assert_eq!(after["edges"], 1);
    // Kept: the device, the batch ids (a replay is still a duplicate and re-adds nothing).
    assert!(store.device("pump-1").await.expect("device").is_some());
    assert_eq!(store.batch_count().await.expect("batches"), 2);
    assert_eq!(
        store
            .ingest_batch("old-1", "main", &old, &sensor)
            .await
            .expect("replay"),
        ward_store::IngestOutcome::AlreadyApplied
    );
    assert_eq!(store.site_facts("main").await.expect("facts"), facts);
    let job = store.job("retention").await.expect("job").expect("exists");
    assert!(job.last_error.is_none(), "{job:?}");
    assert!(store.verify_audit_chain().await.expect("verify").ok());

    // Unset again: new old facts are kept.
    store
        .ingest_batch(
            "old-2",
            "main",
            &facts_batch("00:1b:21:00:00:03", "10.0.0.3", 80, now - 50 * DAY),
            &sensor,
        )
        .await
        .expect("ingest");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let head = store.audit_head().await.expect("head").0;
    let ran = Scheduler::new(store.clone(), "keep-again", keep)
        .run_due()
        .await
        .expect("run");
    assert_eq!(
        ran,
        [RunOutcome::Finished {
            id: "retention".into()
        }]
    );
    assert_eq!(
        fact_count(&store.site_facts("main").await.expect("facts")),
        6
    );
    assert!(audit_of(&store, head, "facts.prune").await.is_empty());
    store.close().await;
}

/// The review reminder job records the reviews that are due (a recorded review whose due
/// time has passed and that no later review replaced) in one `reviews.due` audit entry
/// with their count and device ids, and writes no entry when none is due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_reminders_audit_due_reviews_and_nothing_else() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let actor = ward_store::Actor::new("alice", None);
    let now = ward_store::now_micros();
    store
        .upsert_devices(
            &[
                device("pump-1", now),
                device("pump-2", now),
                device("monitor-3", now),
            ],
            &actor,
        )
        .await
        .expect("devices");
    for id in ["pump-1", "pump-2", "monitor-3"] {
        store
            .record_review(
                &ward_store::ReviewInput {
                    device_id: id.into(),
                    identity_confirmed: true,
                    ..Default::default()
                },
                &actor,
            )
            .await
            .expect("review");
    }
    let cfg = JobConfig {
        reviews_every_secs: 1,
        ..config()
    };
    schedule_one(&store, &cfg, "review_reminders").await;
    let s = Scheduler::new(store.clone(), "one", cfg);
    let run = || {
        let s = s.clone();
        async move {
            let ran = s.run_due().await.expect("run");
            assert_eq!(
                ran,
                [RunOutcome::Finished {
                    id: "review_reminders".into()
                }]
            );
        }
    };

    // Just reviewed: nothing due, no entry.
    let head = store.audit_head().await.expect("head").0;
    run().await;
    assert!(audit_of(&store, head, "reviews.due").await.is_empty());
    assert_eq!(
        store.audit_head().await.expect("head").0,
        head,
        "no entry at all"
    );

    // Two reviews' due times pass (as if their interval elapsed).
    let url = format!("sqlite:{}", dir.path().join("ward.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    let past = ward_store::now_micros() - 1_000_000;
    let n = sqlx::query("UPDATE reviews SET due_at = $1 WHERE device_id IN ('pump-1', 'pump-2')")
        .bind(past)
        .execute(&mut db)
        .await
        .expect("update")
        .rows_affected();
    assert_eq!(n, 2);
    db.close().await.expect("close");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let head = store.audit_head().await.expect("head").0;
    run().await;
    let entries = audit_of(&store, head, "reviews.due").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].actor, "job:review_reminders");
    assert_eq!(entries[0].object, "reviews");
    let after: serde_json::Value =
        serde_json::from_str(entries[0].after.as_deref().expect("after")).expect("json");
    assert_eq!(
        after,
        serde_json::json!({ "count": 2, "devices": ["pump-1", "pump-2"] })
    );

    // Reviewing them again replaces the due reviews: nothing due, no entry.
    for id in ["pump-1", "pump-2"] {
        store
            .record_review(
                &ward_store::ReviewInput {
                    device_id: id.into(),
                    ..Default::default()
                },
                &actor,
            )
            .await
            .expect("review again");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let head = store.audit_head().await.expect("head").0;
    run().await;
    assert!(audit_of(&store, head, "reviews.due").await.is_empty());
    assert!(store.verify_audit_chain().await.expect("verify").ok());
    store.close().await;
}
