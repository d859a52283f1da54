//! The bounded on-disk spool: batches waiting for the server.
//!
//! A spool is a directory of numbered batch files, `<seq>.batch` (20 digits, so names
//! sort like numbers), each holding one [`SensorBatch`] as gzip-compressed JSON: exactly
//! the body the shipper sends. A file is written to a temporary name, fsynced, renamed
//! into place and the directory fsynced, so after a crash (of the sensor or the machine)
//! a batch file is either complete or absent; leftover temporary files are removed on
//! open. Delivery takes the lowest number first, and a file is deleted only after the
//! server acknowledged its batch, so a restart resumes where the last run stopped.
//!
//! The spool holds at most `max_bytes` of batch files: [`Spool::push`] answers
//! [`SpoolError::Full`] (the caller ships and tries again: backpressure), and
//! [`Spool::push_wait`] waits for room while a shipper drains it.
//!
//! Batches the server refuses for good (a 4xx answer other than an authentication
//! problem) are moved to `rejected/` with the reason beside them, so the queue moves on
//! and nothing is silently dropped.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use ward_store::SensorBatch;

/// What can go wrong with the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "spool {dir} is full: {used} of {max} bytes used, the next batch needs {needed}; \
         the server has not taken batches fast enough (is it reachable?)"
    )]
    Full {
        dir: String,
        used: u64,
        max: u64,
        needed: u64,
    },
    #[error(
        "batch of {size} bytes is larger than the whole spool ({max} bytes); \
         use smaller batches or a larger --spool-max"
    )]
    TooLarge { size: u64, max: u64 },
    #[error("spool file {path} is not a batch: {reason}")]
    Corrupt { path: String, reason: String },
}

fn io(path: &Path, source: std::io::Error) -> SpoolError {
    SpoolError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One spooled batch, ready to send.
#[derive(Debug, Clone)]
pub struct Spooled {
    pub seq: u64,
    pub path: PathBuf,
    pub batch_id: String,
    /// The gzip-compressed JSON body.
    pub body: Vec<u8>,
}

struct Inner {
    /// seq -> file size.
    files: BTreeMap<u64, u64>,
    bytes: u64,
    next_seq: u64,
}

/// A bounded, crash-safe FIFO of batches on disk. Shared between a producer (the capture
/// pipeline) and a shipper thread.
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    inner: Mutex<Inner>,
    changed: Condvar,
}

const SUFFIX: &str = ".batch";
const STATE: &str = "next_seq";

impl Spool {
    /// Opens (creating) the spool in `dir`, holding at most `max_bytes` of batches.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        fs::create_dir_all(dir.join("rejected")).map_err(|e| io(dir, e))?;
        let mut files = BTreeMap::new();
        let mut bytes = 0;
        for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".tmp-") {
                // A write that did not reach its rename: the batch was never accepted.
                fs::remove_file(entry.path()).map_err(|e| io(&entry.path(), e))?;
                continue;
            }
            let Some(seq) = name
                .strip_suffix(SUFFIX)
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let len = entry.metadata().map_err(|e| io(&entry.path(), e))?.len();
            files.insert(seq, len);
            bytes += len;
        }
        let stored_next = match fs::read_to_string(dir.join(STATE)) {
            Ok(s) => s.trim().parse::<u64>().unwrap_or(0),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(&dir.join(STATE), e)),
        };
        let next_seq = stored_next.max(files.keys().next_back().map_or(0, |s| s + 1));
        Ok(Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            inner: Mutex::new(Inner {
                files,
                bytes,
                next_seq,
            }),
            changed: Condvar::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every change is one
        // statement after the disk work), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.lock().files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of batch files waiting.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn path_of(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}{SUFFIX}"))
    }

    /// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync of the folder.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), SpoolError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.dir.join(format!(".tmp-{name}"));
        let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| io(path, e))?;
        self.sync_dir()
    }

    fn sync_dir(&self) -> Result<(), SpoolError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&self.dir, e))
    }

    /// Appends a batch: gives it the next sequence number (`batch.seq`), compresses it and
    /// writes it durably. [`SpoolError::Full`] when it does not fit now.
    pub fn push(&self, batch: &mut SensorBatch) -> Result<u64, SpoolError> {
        let mut inner = self.lock();
        self.push_locked(&mut inner, batch, None)
    }

    fn push_locked(
        &self,
        inner: &mut Inner,
        batch: &mut SensorBatch,
        body: Option<Vec<u8>>,
    ) -> Result<u64, SpoolError> {
        let seq = inner.next_seq;
        batch.seq = seq;
        let body = match body {
            Some(b) => b,
            None => encode(batch)?,
        };
        let size = body.len() as u64;
        if size > self.max_bytes {
            return Err(SpoolError::TooLarge {
                size,
                max: self.max_bytes,
            });
        }
        if inner.bytes + size > self.max_bytes {
            return Err(SpoolError::Full {
                dir: self.dir.display().to_string(),
                used: inner.bytes,
                max: self.max_bytes,
                needed: size,
            });
        }
        self.write_atomic(&self.path_of(seq), &body)?;
        // The counter only needs to stay ahead of the files; it is what keeps numbers
        // growing after the spool was emptied and the sensor restarted.
        self.write_atomic(&self.dir.join(STATE), (seq + 1).to_string().as_bytes())?;
        inner.next_seq = seq + 1;
        inner.files.insert(seq, size);
        inner.bytes += size;
        self.changed.notify_all();
        Ok(seq)
    }

    /// Like [`Spool::push`], but waits (up to `timeout`, or for ever with `None`) for room
    /// while another thread delivers; `keep_waiting` is asked between waits (return
    /// `false` to give up with the `Full` error).
    pub fn push_wait(
        &self,
        batch: &mut SensorBatch,
        timeout: Option<Duration>,
        keep_waiting: &dyn Fn() -> bool,
    ) -> Result<u64, SpoolError> {
        let start = Instant::now();
        let mut inner = self.lock();
        loop {
            match self.push_locked(&mut inner, batch, None) {
                Err(SpoolError::Full { .. })
                    if keep_waiting() && timeout.is_none_or(|t| start.elapsed() < t) =>
                {
                    inner = self
                        .changed
                        .wait_timeout(inner, Duration::from_millis(200))
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                other => return other,
            }
        }
    }

    /// The oldest waiting batch, if any.
    pub fn oldest(&self) -> Result<Option<Spooled>, SpoolError> {
        let seq = match self.lock().files.keys().next() {
            Some(s) => *s,
            None => return Ok(None),
        };
        let path = self.path_of(seq);
        let mut body = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut body))
            .map_err(|e| io(&path, e))?;
        let batch_id = decode(&body)
            .map_err(|reason| SpoolError::Corrupt {
                path: path.display().to_string(),
                reason,
            })?
            .batch_id;
        Ok(Some(Spooled {
            seq,
            path,
            batch_id,
            body,
        }))
    }

    /// Waits until a batch is waiting (or `timeout` passes); whether one is.
    pub fn wait_nonempty(&self, timeout: Duration) -> bool {
        let inner = self.lock();
        if !inner.files.is_empty() {
            return true;
        }
        let (inner, _) = self
            .changed
            .wait_timeout(inner, timeout)
            .unwrap_or_else(|p| p.into_inner());
        !inner.files.is_empty()
    }

    /// Deletes a delivered batch (after the server acknowledged it).
    pub fn remove(&self, seq: u64) -> Result<(), SpoolError> {
        let path = self.path_of(seq);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path, e)),
        }
        self.sync_dir()?;
        let mut inner = self.lock();
        if let Some(size) = inner.files.remove(&seq) {
            inner.bytes = inner.bytes.saturating_sub(size);
        }
        self.changed.notify_all();
        Ok(())
    }

    /// Moves a batch the server refused for good to `rejected/`, with the reason in
    /// `<seq>.reason`.
    pub fn reject(&self, seq: u64, reason: &str) -> Result<PathBuf, SpoolError> {
        let from = self.path_of(seq);
        let rejected = self.dir.join("rejected");
        let to = rejected.join(format!("{seq:020}{SUFFIX}"));
        let why = rejected.join(format!("{seq:020}.reason"));
        fs::write(&why, reason).map_err(|e| io(&why, e))?;
        fs::rename(&from, &to).map_err(|e| io(&from, e))?;
        self.sync_dir()?;
        let mut inner = self.lock();
        if let Some(size) = inner.files.remove(&seq) {
            inner.bytes = inner.bytes.saturating_sub(size);
        }
        self.changed.notify_all();
        Ok(to)
    }
}

/// A batch as a spool file / request body: gzip-compressed JSON.
pub fn encode(batch: &SensorBatch) -> Result<Vec<u8>, SpoolError> {
    let json = serde_json::to_vec(batch).map_err(|e| SpoolError::Corrupt {
        path: "(batch being spooled)".into(),
        reason: e.to_string(),
    })?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&json)
        .and_then(|_| gz.finish())
        .map_err(|e| io(Path::new("(gzip)"), e))
}

/// Reads back a spool file's batch.
pub fn decode(body: &[u8]) -> Result<SensorBatch, String> {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut json)
        .map_err(|e| format!("gzip: {e}"))?;
    serde_json::from_slice(&json)
        .map_err(|e| format!("JSON at line {}, column {}: {e}", e.line(), e.column()))
}
