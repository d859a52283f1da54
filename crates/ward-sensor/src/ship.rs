//! The shipper: delivers spooled batches to the server in order, with retries.
//!
//! Each batch is `POST`ed to `<server>/api/v1/ingest/batches` with the sensor's API token.
//! Only a `200` naming the same batch id with outcome `inserted` or `duplicate` deletes it
//! from the spool; a network error or a 5xx/408/429 answer is retried with exponential
//! backoff (the same batch again, so order is kept); a 401/403 stops the shipper (a token
//! problem needs a person); any other 4xx moves the batch to the spool's `rejected/`
//! folder so the queue moves on.

use crate::spool::{Spool, SpoolError, Spooled};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Why shipping stopped.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("the server refused the sensor's token ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("stopped with {waiting} batches still spooled")]
    Stopped { waiting: usize },
}

/// How one delivery attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Acknowledged: `inserted` or `duplicate`.
    Acknowledged { outcome: String },
    /// Try again later.
    Retry(String),
    /// The server refuses this batch for good.
    Rejected { status: u16, message: String },
    /// The server refuses the caller.
    Unauthorized { status: u16, message: String },
}

#[derive(Deserialize)]
struct Answer {
    batch_id: String,
    outcome: String,
}

/// Retry pacing.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
        }
    }
}

/// Delivered and pending counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipStats {
    pub inserted: u64,
    pub duplicate: u64,
    pub rejected: u64,
    pub retries: u64,
}

/// An HTTP client for one server and token.
pub struct Shipper {
    agent: ureq::Agent,
    url: String,
    token: String,
    pub backoff: Backoff,
}

impl Shipper {
    /// `server` is the base URL (`https://ward.example:8443`).
    pub fn new(server: &str, token: &str) -> Shipper {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .timeout_connect(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Shipper {
            agent,
            url: format!("{}/api/v1/ingest/batches", server.trim_end_matches('/')),
            token: token.to_string(),
            backoff: Backoff::default(),
        }
    }

    /// One attempt to deliver one batch body.
    pub fn send(&self, batch_id: &str, body: &[u8]) -> Attempt {
        let resp = self
            .agent
            .post(&self.url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .send(body);
        let mut resp = match resp {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(format!("cannot reach the server: {e}")),
        };
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        let message: String = text.chars().take(300).collect();
        match status {
            200 => match serde_json::from_str::<Answer>(&text) {
                Ok(a)
                    if a.batch_id == batch_id
                        && (a.outcome == "inserted" || a.outcome == "duplicate") =>
                {
                    Attempt::Acknowledged { outcome: a.outcome }
                }
                Ok(a) => Attempt::Retry(format!(
                    "unexpected acknowledgement {:?}/{:?} for batch {batch_id}",
                    a.batch_id, a.outcome
                )),
                Err(e) => Attempt::Retry(format!("unreadable acknowledgement: {e}")),
            },
            401 | 403 => Attempt::Unauthorized { status, message },
            408 | 429 => Attempt::Retry(format!("server busy ({status})")),
            400..=499 => Attempt::Rejected { status, message },
            _ => Attempt::Retry(format!("server error {status}: {message}")),
        }
    }

    /// Delivers one spooled batch, retrying until it is acknowledged or rejected, or
    /// `stop` is set (then `Ok(false)`).
    pub fn deliver(
        &self,
        spool: &Spool,
        item: &Spooled,
        stop: &AtomicBool,
        stats: &mut ShipStats,
    ) -> Result<bool, ShipError> {
        let mut delay = self.backoff.initial;
        loop {
            match self.send(&item.batch_id, &item.body) {
                Attempt::Acknowledged { outcome } => {
                    spool.remove(item.seq)?;
                    if outcome == "inserted" {
                        stats.inserted += 1;
                    } else {
                        stats.duplicate += 1;
                    }
                    return Ok(true);
                }
                Attempt::Rejected { status, message } => {
                    let to = spool.reject(item.seq, &format!("{status}: {message}"))?;
                    tracing::error!(
                        batch = %item.batch_id, status, %message,
                        "server rejected batch; kept in {}", to.display()
                    );
                    stats.rejected += 1;
                    return Ok(true);
                }
                Attempt::Unauthorized { status, message } => {
                    return Err(ShipError::Unauthorized { status, message })
                }
                Attempt::Retry(why) => {
                    stats.retries += 1;
                    tracing::warn!(batch = %item.batch_id, %why, retry_in = ?delay, "delivery failed");
                    if !sleep_unless(stop, delay) {
                        return Ok(false);
                    }
                    delay = (delay * 2).min(self.backoff.max);
                }
            }
        }
    }

    /// Delivers everything spooled, oldest first, until the spool is empty (`Ok`) or
    /// `stop` is set ([`ShipError::Stopped`]).
    pub fn drain(&self, spool: &Spool, stop: &AtomicBool) -> Result<ShipStats, ShipError> {
        let mut stats = ShipStats::default();
        while let Some(item) = spool.oldest()? {
            if !self.deliver(spool, &item, stop, &mut stats)? {
                return Err(ShipError::Stopped {
                    waiting: spool.len(),
                });
            }
        }
        Ok(stats)
    }

    /// Runs until `stop` is set and (when `finish` is set too) the spool is empty:
    /// delivers batches as they arrive. Used by a shipper thread beside the producer.
    pub fn run(
        &self,
        spool: &Spool,
        stop: &AtomicBool,
        finish: &AtomicBool,
    ) -> Result<ShipStats, ShipError> {
        let mut stats = ShipStats::default();
        loop {
            if stop.load(Ordering::SeqCst) {
                return Err(ShipError::Stopped {
                    waiting: spool.len(),
                });
            }
            match spool.oldest()? {
                Some(item) => {
                    if !self.deliver(spool, &item, stop, &mut stats)? {
                        return Err(ShipError::Stopped {
                            waiting: spool.len(),
                        });
                    }
                }
                None => {
                    if finish.load(Ordering::SeqCst) {
                        return Ok(stats);
                    }
                    spool.wait_nonempty(Duration::from_millis(200));
                }
            }
        }
    }
}

/// Sleeps `d` in small steps; `false` if `stop` was set meanwhile.
fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !left.is_zero() {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
    !stop.load(Ordering::SeqCst)
}
