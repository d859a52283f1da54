//! A pure record walk over capture files: no decoding, no flows. It is the floor against
//! which the capture engine's throughput is measured.

use crate::{CaptureError, CaptureReader};
use std::path::PathBuf;

/// Reads every record of `files` and returns (packets, captured bytes).
pub fn walk_files(files: &[PathBuf]) -> Result<(u64, u64), CaptureError> {
    let mut packets = 0u64;
    let mut bytes = 0u64;
    for f in files {
        let mut reader = CaptureReader::open(f)?;
        while reader.advance() {
            if let Some(p) = reader.current() {
                packets += 1;
                bytes += p.data.len() as u64;
            }
        }
    }
    Ok((packets, bytes))
}
