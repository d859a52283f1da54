//! IPv4 and IPv6 fragment reassembly with bounded memory and a timeout.
//!
//! Fragments are held per (addresses, id, protocol, VLAN) until the datagram is whole.
//! Overlapping fragments resolve as in the TCP reassembler: bytes received first win.
//! Memory is capped globally (oldest datagrams dropped first) and per datagram (at most
//! [`MAX_PIECES`] fragments and 64 KiB), and incomplete datagrams expire after
//! [`FRAG_TIMEOUT_SECS`] of packet time.

use std::net::IpAddr;

use ahash::AHashMap;
use ward_model::Timestamp;

use crate::decode::FragInfo;

/// Incomplete datagrams expire after this much packet time (RFC 791 suggests 15-120 s).
pub const FRAG_TIMEOUT_SECS: u64 = 30;
/// A datagram cut in more pieces than this is dropped (crafted input).
pub const MAX_PIECES: usize = 128;
const MAX_DATAGRAM: u32 = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
    vlan: Option<u16>,
}

#[derive(Debug)]
struct Pending {
    first_ts: Timestamp,
    pieces: Vec<(u32, Vec<u8>)>,
    total: Option<u32>,
    bytes: usize,
}

/// Reassembles fragmented IP datagrams.
#[derive(Debug, Default)]
pub struct Defragmenter {
    pending: AHashMap<FragKey, Pending>,
    bytes: usize,
    /// Datagrams dropped (timeout, memory cap, inconsistent fragments).
    pub dropped: u64,
}

impl Defragmenter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes currently held.
    pub fn memory(&self) -> usize {
        self.bytes
    }

    /// Add one fragment; returns the whole payload once every fragment is present.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        vlan: Option<u16>,
        frag: FragInfo,
        data: &[u8],
        ts: Timestamp,
        max_memory: usize,
    ) -> Option<Vec<u8>> {
        let end = frag.offset.checked_add(data.len() as u32)?;
        if end > MAX_DATAGRAM || (frag.more && data.is_empty()) {
            self.dropped += 1;
            return None;
        }
        let key = FragKey {
            src,
            dst,
            id: frag.id,
            proto,
            vlan,
        };
        // Make room: drop the oldest datagrams until this fragment fits.
        while self.bytes + data.len() > max_memory && !self.pending.is_empty() {
            self.drop_oldest();
        }
        if data.len() > max_memory {
            self.dropped += 1;
            return None;
        }
        let p = self.pending.entry(key).or_insert_with(|| Pending {
            first_ts: ts,
            pieces: Vec::new(),
            total: None,
            bytes: 0,
        });
        if p.pieces.len() >= MAX_PIECES {
            let bytes = p.bytes;
            self.pending.remove(&key);
            self.bytes -= bytes;
            self.dropped += 1;
            return None;
        }
        if !frag.more {
            p.total = Some(end);
        }
        p.pieces.push((frag.offset, data.to_vec()));
        p.bytes += data.len();
        self.bytes += data.len();
        let total = p.total?;
        // Is it whole? Pieces in offset order (stable: earlier arrivals first on ties).
        let mut order: Vec<usize> = (0..p.pieces.len()).collect();
        order.sort_by_key(|&i| p.pieces[i].0);
        let mut filled = 0u32;
        for &i in &order {
            let (off, ref d) = p.pieces[i];
            if off > filled {
                return None;
            }
            filled = filled.max(off + d.len() as u32);
        }
        if filled < total {
            return None;
        }
        let p = self.pending.remove(&key)?;
        self.bytes -= p.bytes;
        let mut out = vec![0u8; total as usize];
        let mut have = vec![false; total as usize];
        // Arrival order: bytes received first win.
        for (off, d) in &p.pieces {
            for (j, b) in d.iter().enumerate() {
                let pos = *off as usize + j;
                if pos < out.len() && !have[pos] {
                    out[pos] = *b;
                    have[pos] = true;
                }
            }
        }
        Some(out)
    }

    fn drop_oldest(&mut self) {
        let Some(key) = self
            .pending
            .iter()
            .min_by_key(|(_, p)| p.first_ts)
            .map(|(k, _)| *k)
        else {
            return;
        };
        if let Some(p) = self.pending.remove(&key) {
            self.bytes -= p.bytes;
            self.dropped += 1;
        }
    }

    /// Drop datagrams older than the timeout.
    pub fn expire(&mut self, now: Timestamp) {
        let limit = FRAG_TIMEOUT_SECS * 1_000_000;
        let mut freed = 0;
        let mut dropped = 0;
        self.pending.retain(|_, p| {
            let keep = now.0.saturating_sub(p.first_ts.0) <= limit;
            if !keep {
                freed += p.bytes;
                dropped += 1;
            }
            keep
        });
        self.bytes -= freed;
        self.dropped += dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_out_of_order() {
        let mut d = Defragmenter::new();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let f = |offset, more| FragInfo {
            id: 7,
            offset,
            more,
        };
        assert!(d
            .add(a, b, 17, None, f(8, false), b"world!", Timestamp(0), 1000)
            .is_none());
        let out = d.add(a, b, 17, None, f(0, true), b"hello, w", Timestamp(1), 1000);
        assert_eq!(out, Some(b"hello, wworld!".to_vec()));
        assert_eq!(d.memory(), 0);
    }
}
