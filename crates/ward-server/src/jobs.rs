//! The job scheduler inside the server.
//!
//! Jobs live in the store (`jobs` table), so they survive restarts; each run holds a
//! lease (owner, expiry) taken with [`Store::claim_job`], so a job never runs twice at
//! once, also across `ward serve` replicas sharing PostgreSQL. While a job runs, its lease
//! is renewed every third of the lease time; if a renewal finds the lease lost (this
//! replica stalled past the expiry and another took the job), the run is abandoned at
//! once. A replica that dies mid-run leaves its lease to expire, and the job is taken up
//! again after that.
//!
//! The standard jobs ([`standard_jobs`]) recur:
//! * `rematch`: re-identifies every site from its stored facts and re-assesses it against
//!   the stored intel (`ui::pipeline::reassess_all`, the same pipeline as an upload) when
//!   intel, ingested batches (sensors), overrides or devices changed since the last run (a
//!   fingerprint kept in the job's payload);
//! * `mark_stale`: marks devices not seen for `stale_after_days` as stale;
//! * `review_reminders`: records reviews that are due in the audit log (one entry per run
//!   that found any) and the log;
//! * `expire_risk_acceptances`: reopens findings whose risk acceptance expired;
//! * `retention` (daily): when `retention_days` is set, deletes the sensor facts
//!   (observations, security observations, flow edges) not seen for that many days, and
//!   expired sessions ([`Store::prune_facts`]); unset (the default), it does nothing.
//!   Batch ids, devices, findings, intel and the audit log are kept.
//!
//! `mark_stale` and `retention` take their day counts from this process's [`JobConfig`]
//! when they run, not from the payload stored when the job was first scheduled: a changed
//! setting takes effect at the next run after a restart, and unsetting `retention_days`
//! stops the deleting. Replicas sharing a database should be given the same settings
//! (whichever replica claims a run applies its own).

use ward_store::{Actor, JobLease, JobSpec, Store, StoreError};

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What a job run returns: `Ok(Some(payload))` to replace the job's payload.
pub type JobResult = Result<Option<serde_json::Value>, String>;
/// A job handler: runs one claimed job.
pub type Handler =
    Arc<dyn Fn(Store, JobLease) -> Pin<Box<dyn Future<Output = JobResult> + Send>> + Send + Sync>;

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// How long a claim holds before another replica may take the job.
    pub lease: Duration,
    /// How often an idle scheduler looks for due jobs.
    pub poll: Duration,
    /// Devices not seen for this many days are marked stale.
    pub stale_after_days: u64,
    /// Sensor facts not seen for this many days are deleted (`None`: keep everything).
    pub retention_days: Option<u64>,
    /// Intervals of the standard jobs, in seconds.
    pub rematch_every_secs: i64,
    pub stale_every_secs: i64,
    pub reviews_every_secs: i64,
    pub expiry_every_secs: i64,
    pub retention_every_secs: i64,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(5),
            stale_after_days: 30,
            retention_days: None,
            rematch_every_secs: 60,
            stale_every_secs: 3600,
            reviews_every_secs: 3600,
            expiry_every_secs: 300,
            retention_every_secs: 86_400,
        }
    }
}

/// The recurring jobs every server schedules at start (idempotent: an existing job id is
/// left as it is, so replicas starting together schedule each once).
pub fn standard_jobs(config: &JobConfig, now: i64) -> Vec<JobSpec> {
    let job = |id: &str, every: i64, payload: serde_json::Value| JobSpec {
        id: id.into(),
        kind: id.into(),
        payload,
        run_after: now,
        interval_secs: Some(every.max(1)),
    };
    vec![
        job(
            "rematch",
            config.rematch_every_secs,
            serde_json::json!({ "fingerprint": null }),
        ),
        job(
            "mark_stale",
            config.stale_every_secs,
            serde_json::json!({ "stale_after_days": config.stale_after_days }),
        ),
        job(
            "review_reminders",
            config.reviews_every_secs,
            serde_json::Value::Null,
        ),
        job(
            "expire_risk_acceptances",
            config.expiry_every_secs,
            serde_json::Value::Null,
        ),
        job(
            "retention",
            config.retention_every_secs,
            serde_json::Value::Null,
        ),
    ]
}

/// One scheduler (one per server process). Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    store: Store,
    owner: String,
    config: JobConfig,
    handlers: HashMap<String, Handler>,
}

/// How one claimed job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    Finished {
        id: String,
    },
    Failed {
        id: String,
        error: String,
    },
    /// The lease was lost mid-run (another scheduler holds the job now).
    LeaseLost {
        id: String,
    },
}

impl Scheduler {
    /// A scheduler named `owner` (unique per process: host, pid and a random part) with the
    /// standard handlers.
    pub fn new(store: Store, owner: impl Into<String>, config: JobConfig) -> Scheduler {
        let stale_after_days = config.stale_after_days;
        let retention_days = config.retention_days;
        let mut s = Scheduler {
            store,
            owner: owner.into(),
            config,
            handlers: HashMap::new(),
        };
        s.register(
            "rematch",
            Arc::new(|store, lease| Box::pin(rematch(store, lease))),
        );
        s.register(
            "mark_stale",
            Arc::new(move |store, lease| Box::pin(mark_stale(store, lease, stale_after_days))),
        );
        s.register(
            "review_reminders",
            Arc::new(|store, lease| Box::pin(review_reminders(store, lease))),
        );
        s.register(
            "expire_risk_acceptances",
            Arc::new(|store, lease| Box::pin(expire_risk_acceptances(store, lease))),
        );
        s.register(
            "retention",
            Arc::new(move |store, lease| Box::pin(retention(store, lease, retention_days))),
        );
        s
    }

    /// A unique owner name for this process.
    pub fn default_owner() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("{host}:{}:{nanos:08x}", std::process::id())
    }

    /// Adds (or replaces) the handler of a job kind.
    pub fn register(&mut self, kind: &str, handler: Handler) {
        self.handlers.insert(kind.to_string(), handler);
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Schedules the standard jobs (existing ones are kept).
    pub async fn schedule_standard(&self) -> Result<(), StoreError> {
        let now = ward_store::now_micros();
        for job in standard_jobs(&self.config, now) {
            self.store.schedule_job(&job, now).await?;
        }
        Ok(())
    }

    /// Claims and runs due jobs one after the other until none is due; returns what ran.
    pub async fn run_due(&self) -> Result<Vec<RunOutcome>, StoreError> {
        let mut out = Vec::new();
        while let Some(o) = self.run_once().await? {
            out.push(o);
        }
        Ok(out)
    }

    /// Claims and runs at most one due job.
    pub async fn run_once(&self) -> Result<Option<RunOutcome>, StoreError> {
        match self
            .store
            .claim_job(
                &self.owner,
                ward_store::now_micros(),
                micros(self.config.lease),
            )
            .await?
        {
            Some(lease) => Ok(Some(self.run_claimed(lease).await?)),
            None => Ok(None),
        }
    }

    /// Runs one claimed job, renewing its lease, and releases it.
    async fn run_claimed(&self, lease: JobLease) -> Result<RunOutcome, StoreError> {
        let id = lease.id.clone();
        let Some(handler) = self.handlers.get(&lease.kind).cloned() else {
            let error = format!("no handler for job kind {:?}", lease.kind);
            tracing::warn!(job = %id, %error);
            self.store
                .finish_job(&id, &self.owner, ward_store::now_micros(), Some(&error))
                .await?;
            return Ok(RunOutcome::Failed { id, error });
        };
        let run = handler(self.store.clone(), lease);
        tokio::pin!(run);
        let renew_every = self.config.lease / 3;
        let result = loop {
            tokio::select! {
                r = &mut run => break Some(r),
                _ = tokio::time::sleep(renew_every) => {
                    let until = ward_store::now_micros() + micros(self.config.lease);
                    match self.store.renew_job_lease(&id, &self.owner, until).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(e) => {
                            // Cannot tell whether the lease holds: stop rather than risk
                            // running alongside another replica.
                            tracing::warn!(job = %id, error = %e, "lease renewal failed");
                            break None;
                        }
                    }
                }
            }
        };
        let now = ward_store::now_micros();
        match result {
            None => {
                tracing::warn!(job = %id, "job lease lost; run abandoned");
                Ok(RunOutcome::LeaseLost { id })
            }
            Some(Ok(payload)) => {
                if let Some(p) = payload {
                    self.store.set_job_payload(&id, &self.owner, &p).await?;
                }
                if self.store.finish_job(&id, &self.owner, now, None).await? {
                    Ok(RunOutcome::Finished { id })
                } else {
                    Ok(RunOutcome::LeaseLost { id })
                }
            }
            Some(Err(error)) => {
                tracing::warn!(job = %id, %error, "job failed");
                self.store
                    .finish_job(&id, &self.owner, now, Some(&error))
                    .await?;
                Ok(RunOutcome::Failed { id, error })
            }
        }
    }

    /// The scheduler loop: schedules the standard jobs, then runs due jobs every `poll`
    /// until `shutdown` turns true. Store errors are logged and retried next round.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        if let Err(e) = self.schedule_standard().await {
            tracing::warn!(error = %e, "cannot schedule the standard jobs");
        }
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_due().await {
                Ok(ran) => {
                    for r in ran {
                        tracing::debug!(outcome = ?r, "job");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "job scheduler"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Starts [`Scheduler::run`] on the runtime; the returned sender stops it.
    pub fn spawn(
        self,
    ) -> (
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    ) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let handle = tokio::spawn(self.run(rx));
        (tx, handle)
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn job_actor(lease: &JobLease) -> Actor {
    Actor::new(format!("job:{}", lease.id), None)
}

/// The time `days` days before now, in microseconds (saturating: a huge count gives a
/// time before anything stored).
fn days_ago(days: u64) -> i64 {
    let span = i64::try_from(days)
        .unwrap_or(i64::MAX)
        .saturating_mul(ward_store::MICROS_PER_DAY);
    ward_store::now_micros().saturating_sub(span)
}

async fn mark_stale(store: Store, lease: JobLease, days: u64) -> JobResult {
    let before = days_ago(days);
    let n = store
        .mark_stale(before, &job_actor(&lease))
        .await
        .map_err(|e| e.to_string())?;
    if n > 0 {
        tracing::info!(devices = n, days, "marked devices stale");
    }
    Ok(None)
}

async fn expire_risk_acceptances(store: Store, lease: JobLease) -> JobResult {
    let n = store
        .expire_risk_acceptances(ward_store::now_micros(), &job_actor(&lease))
        .await
        .map_err(|e| e.to_string())?;
    if n > 0 {
        tracing::info!(findings = n, "risk acceptances expired; findings reopened");
    }
    Ok(None)
}

/// Deletes facts not seen for `days` days and expired sessions; nothing when `None`.
async fn retention(store: Store, lease: JobLease, days: Option<u64>) -> JobResult {
    let Some(days) = days else {
        return Ok(None);
    };
    if days == 0 {
        // Would delete every fact; the config parser refuses it, this is the backstop.
        return Err("retention_days must be at least 1 (unset keeps everything)".into());
    }
    let before = days_ago(days);
    let report = store
        .prune_facts(before, &job_actor(&lease))
        .await
        .map_err(|e| e.to_string())?;
    if report.total() > 0 {
        tracing::info!(
            days,
            observations = report.observations,
            security_observations = report.security_observations,
            edges = report.edges,
            sessions = report.sessions,
            "retention: deleted old facts and expired sessions"
        );
    }
    Ok(Some(serde_json::json!({
        "retention_days": days,
        "deleted": report,
    })))
}

async fn review_reminders(store: Store, lease: JobLease) -> JobResult {
    let due = store
        .reviews_due(ward_store::now_micros())
        .await
        .map_err(|e| e.to_string())?;
    if !due.is_empty() {
        let devices: Vec<&str> = due.iter().map(|(d, _)| d.as_str()).collect();
        tracing::info!(count = due.len(), "reviews due");
        store
            .append_audit(
                &job_actor(&lease),
                "reviews.due",
                "reviews",
                None,
                Some(&serde_json::json!({ "count": due.len(), "devices": devices })),
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(Some(serde_json::json!({ "due": due.len() })))
}

/// Re-matches the stored inventory against the stored intel when either changed since
/// the last run.
async fn rematch(store: Store, lease: JobLease) -> JobResult {
    let fingerprint = store
        .match_inputs_fingerprint()
        .await
        .map_err(|e| e.to_string())?;
    let last = lease.payload.get("fingerprint").and_then(|v| v.as_str());
    if last == Some(fingerprint.as_str()) {
        return Ok(None);
    }
    // The same pipeline as an upload: re-identify every site from its stored facts and
    // re-assess it against all stored intel (findings, risk tiers, plan actions).
    let summary = crate::ui::pipeline::reassess_all(&store, &job_actor(&lease))
        .await
        .map_err(|e| format!("{e:#}"))?;
    tracing::info!(
        findings = summary.findings,
        devices = summary.devices,
        "re-assessed inventory against intel"
    );
    // Writing the inventory changed the devices' update times: remember the inputs as they
    // are now, or the next run would find them changed by this one and run again.
    let fingerprint = store
        .match_inputs_fingerprint()
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(serde_json::json!({
        "fingerprint": fingerprint,
        "findings": summary.findings,
        "devices": summary.devices,
    })))
}

/// The assessment view of a stored device (the listing's chosen attributes: a manual
/// override wins over inference).
pub fn asset_of(d: &ward_store::DeviceSummary) -> ward_assess::Asset {
    let attr = |v: &Option<String>, what: &str| {
        v.as_ref()
            .map(|v| ward_assess::AssetAttr::new(v.clone(), format!("stored device {what}")))
    };
    let mut versions = Vec::new();
    for (name, v) in [
        ("firmware_version", &d.firmware_version),
        ("software_version", &d.software_version),
    ] {
        if let Some(a) = attr(v, name) {
            versions.push((name.to_string(), a));
        }
    }
    ward_assess::Asset {
        id: d.id.clone(),
        name: d.name.clone(),
        vendor: attr(&d.vendor, "vendor"),
        model: attr(&d.model, "model"),
        versions,
        category: d.category.as_deref().and_then(|c| c.parse().ok()),
        macs: d.macs.clone(),
        ips: d.ips.clone(),
        site: Some(d.site.clone()),
        ..Default::default()
    }
}
