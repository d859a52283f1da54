//! Per-direction TCP stream reassembly.
//!
//! Sequence numbers are mapped to 64-bit *stream offsets* (offset 0 is the first byte
//! after the SYN, or the first byte seen when the handshake was missed), so wraparound of
//! the 32-bit sequence space needs no special case: a segment's offset is found from its
//! signed 32-bit distance to the next expected byte.
//!
//! Rules, chosen to be deterministic whatever order segments arrive in:
//! - **First received wins.** A byte, once delivered or buffered, is never replaced by a
//!   later segment that covers it with different content (retransmission or overlap).
//! - **In-order data is delivered without copying**: a segment that starts at the next
//!   expected offset is handed to the consumer straight from the packet buffer. Only
//!   out-of-order bytes are copied, into a `BTreeMap` keyed by offset.
//! - **Gaps are tolerated**: when the bytes buffered for one direction would exceed the
//!   per-direction cap, or when the stream is finished (FIN/RST/flow end) with holes, the
//!   reassembler declares `Gap(missing)` and resumes after the hole. Delivered bytes plus
//!   declared gaps always account for every stream offset up to the last delivered byte.
//! - **Mid-stream pickup**: without a SYN, the first segment seen fixes offset 0; data
//!   from before it is ignored as old.

use std::collections::BTreeMap;

/// What the reassembler hands to its consumer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The next in-order bytes.
    Data(&'a [u8]),
    /// This many bytes will never be delivered; the stream resumes after them.
    Gap(u64),
}

/// Segments further ahead than this from the next expected byte are treated as
/// garbage (a stray packet from another connection reusing the ports), not as a
/// multi-gigabyte hole.
const MAX_AHEAD: i64 = 1 << 30;

/// Reassembly state of one direction of one TCP connection.
#[derive(Debug, Default)]
pub struct StreamReassembler {
    started: bool,
    /// Sequence number of stream offset 0.
    isn: u32,
    /// Next stream offset to deliver.
    next: u64,
    /// Out-of-order bytes by stream offset; ranges never overlap each other and all
    /// start after `next`.
    pending: BTreeMap<u64, Vec<u8>>,
    buffered: usize,
    /// Stream offset just past the last byte, once a FIN was seen.
    fin_at: Option<u64>,
    gap_bytes: u64,
    delivered: u64,
}

impl StreamReassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes currently held out of order.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Total bytes declared missing so far.
    pub fn gap_bytes(&self) -> u64 {
        self.gap_bytes
    }

    /// Total bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Next stream offset the consumer will receive.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Feed one segment. `cap` bounds the bytes buffered out of order for this direction;
    /// `emit` receives the resulting in-order data and gap events.
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        data: &[u8],
        cap: usize,
        emit: &mut dyn FnMut(StreamEvent<'_>),
    ) {
        let mut seq = seq;
        if syn {
            // The SYN occupies one sequence number; data (rare) starts after it.
            if !self.started {
                self.started = true;
                self.isn = seq.wrapping_add(1);
            }
            seq = seq.wrapping_add(1);
        } else if !self.started {
            self.started = true;
            self.isn = seq;
        }
        let expected = self.isn.wrapping_add(self.next as u32);
        let rel = seq.wrapping_sub(expected) as i32 as i64;
        if rel > MAX_AHEAD {
            return;
        }
        let start = self.next as i64 + rel;
        let end = start + data.len() as i64;
        if fin && end >= 0 && self.fin_at.is_none() {
            self.fin_at = Some(end as u64);
        }
        if end <= self.next as i64 || data.is_empty() {
            return; // old retransmission, or no payload
        }
        // Trim what was already delivered: the first bytes received win.
        let skip = (self.next as i64 - start).max(0) as usize;
        let mut data = &data[skip..];
        let mut start = (start + skip as i64) as u64;

        if start == self.next {
            // Hot path: deliver straight from the packet, up to the first buffered byte.
            let direct = match self.pending.keys().next() {
                None => data.len(),
                Some(&k) => ((k - start) as usize).min(data.len()),
            };
            if direct > 0 {
                self.deliver(&data[..direct], emit);
                data = &data[direct..];
                start += direct as u64;
            }
            if data.is_empty() {
                return;
            }
        }
        self.insert(start, data);
        self.drain(emit);
        while self.buffered > cap {
            self.skip_to_pending(emit);
        }
    }

    fn deliver(&mut self, data: &[u8], emit: &mut dyn FnMut(StreamEvent<'_>)) {
        self.next += data.len() as u64;
        self.delivered += data.len() as u64;
        emit(StreamEvent::Data(data));
    }

    /// Buffer the parts of `[start, start+len)` not already covered (first wins).
    fn insert(&mut self, start: u64, data: &[u8]) {
        let end = start + data.len() as u64;
        let mut cursor = start;
        if let Some((&k, v)) = self.pending.range(..start).next_back() {
            cursor = cursor.max(k + v.len() as u64);
        }
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        for (&k, v) in self.pending.range(start..end) {
            if k > cursor {
                pieces.push((cursor, k));
            }
            cursor = cursor.max(k + v.len() as u64);
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        for (s, e) in pieces {
            let bytes = data[(s - start) as usize..(e - start) as usize].to_vec();
            self.buffered += bytes.len();
            self.pending.insert(s, bytes);
        }
    }

    /// Deliver buffered segments that have become contiguous.
    fn drain(&mut self, emit: &mut dyn FnMut(StreamEvent<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let k = *entry.key();
            if k > self.next {
                break;
            }
            let v = entry.remove();
            self.buffered -= v.len();
            let end = k + v.len() as u64;
            if end > self.next {
                let from = (self.next - k) as usize;
                self.deliver(&v[from..], emit);
            }
        }
    }

    /// Declare the hole before the first buffered segment lost and resume there.
    fn skip_to_pending(&mut self, emit: &mut dyn FnMut(StreamEvent<'_>)) {
        let Some(&k) = self.pending.keys().next() else {
            return;
        };
        if k > self.next {
            let missing = k - self.next;
            self.gap_bytes += missing;
            self.next = k;
            emit(StreamEvent::Gap(missing));
        }
        self.drain(emit);
    }

    /// Release every buffered byte, declaring the holes between them, so that nothing
    /// stays buffered (global memory pressure). The stream continues afterwards.
    pub fn flush(&mut self, emit: &mut dyn FnMut(StreamEvent<'_>)) {
        // Each step removes at least one buffered segment.
        while !self.pending.is_empty() {
            self.skip_to_pending(emit);
        }
    }

    /// The stream is over (FIN/RST/timeout/end of input): flush, and declare missing
    /// the bytes between the last delivered one and the FIN, if any.
    pub fn finish(&mut self, emit: &mut dyn FnMut(StreamEvent<'_>)) {
        self.flush(emit);
        if let Some(f) = self.fin_at {
            if f > self.next {
                let missing = f - self.next;
                self.gap_bytes += missing;
                self.next = f;
                emit(StreamEvent::Gap(missing));
            }
        }
    }

    /// Whether every byte up to the FIN has been delivered or declared missing.
    pub fn fin_complete(&self) -> bool {
        self.fin_at
            .is_some_and(|f| self.next >= f && self.pending.is_empty())
    }

    pub fn fin_seen(&self) -> bool {
        self.fin_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(segs: &[(u32, &[u8])], cap: usize) -> (Vec<u8>, u64) {
        let mut r = StreamReassembler::new();
        let mut out = Vec::new();
        let mut gaps = 0;
        for (seq, d) in segs {
            r.segment(*seq, false, false, d, cap, &mut |e| match e {
                StreamEvent::Data(b) => out.extend_from_slice(b),
                StreamEvent::Gap(n) => gaps += n,
            });
        }
        r.finish(&mut |e| match e {
            StreamEvent::Data(b) => out.extend_from_slice(b),
            StreamEvent::Gap(n) => gaps += n,
        });
        (out, gaps)
    }

    #[test]
    fn in_order_and_reordered() {
        assert_eq!(run(&[(10, b"abc"), (13, b"def")], 100).0, b"abcdef");
        // First segment seen fixes offset 0; later reordering is repaired.
        assert_eq!(
            run(&[(10, b"abc"), (16, b"ghi"), (13, b"def")], 100).0,
            b"abcdefghi"
        );
    }

    #[test]
    fn first_received_wins_on_overlap() {
        let (out, _) = run(&[(0, b"ab"), (4, b"EF"), (2, b"cdXY")], 100);
        assert_eq!(out, b"abcdEF");
    }

    #[test]
    fn wraparound() {
        let s = u32::MAX - 1;
        let (out, gaps) = run(&[(s, b"abcd"), (s.wrapping_add(4), b"ef")], 100);
        assert_eq!((out.as_slice(), gaps), (&b"abcdef"[..], 0));
    }

    #[test]
    fn gap_when_cap_exceeded() {
        let (out, gaps) = run(&[(0, b"ab"), (10, b"xyz")], 2);
        assert_eq!(out, b"abxyz");
        assert_eq!(gaps, 8);
    }

    #[test]
    fn syn_sets_isn() {
        let mut r = StreamReassembler::new();
        let mut out = Vec::new();
        let mut sink = |e: StreamEvent<'_>| {
            if let StreamEvent::Data(b) = e {
                out.extend_from_slice(b)
            }
        };
        r.segment(100, true, false, b"", 10, &mut sink);
        r.segment(101, false, false, b"hi", 10, &mut sink);
        assert_eq!(out, b"hi");
    }
}
