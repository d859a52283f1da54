//! Errors of the capture engine. Every variant names the input it is about.

use std::path::PathBuf;

/// Why an input could not be analysed. Damage *inside* a capture (truncation, a corrupt
/// record) is not an error: the file is processed up to the damage and a warning is
/// recorded in its [`crate::FileStats`].
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a pcap or pcapng capture (first bytes {magic})")]
    NotCapture { path: PathBuf, magic: String },
    #[error("{path}: damaged capture header: {reason}")]
    BadHeader { path: PathBuf, reason: String },
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: directory contains no capture files")]
    EmptyDirectory { path: PathBuf },
    #[error("worker thread failed: {0}")]
    Worker(String),
    #[error("live capture on {iface}: {reason}")]
    Live { iface: String, reason: String },
}
