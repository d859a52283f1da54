//! Property tests of the TCP reassembler: any arrival order, duplication or overlap of
//! a segmented stream (with consistent bytes) yields exactly the original bytes; with
//! losses, delivered bytes sit at their true offsets and delivered + gaps = the stream
//! length; the per-direction buffer cap always holds.

use proptest::prelude::*;
use proptest::sample::Index;
use ward_capture::reassembly::{StreamEvent, StreamReassembler};

/// Segment boundaries from arbitrary cut points.
fn segments(len: usize, cuts: &[Index]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(len)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Deterministic shuffle (xorshift), so failures reproduce from the seed.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    seed |= 1;
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// Checks every event against the original stream.
struct Checker<'a> {
    data: &'a [u8],
    offset: usize,
    gaps: u64,
}

impl Checker<'_> {
    fn on(&mut self, e: StreamEvent<'_>) {
        match e {
            StreamEvent::Data(b) => {
                let want = self.data.get(self.offset..self.offset + b.len());
                assert_eq!(
                    Some(b),
                    want,
                    "bytes delivered at offset {} differ",
                    self.offset
                );
                self.offset += b.len();
            }
            StreamEvent::Gap(n) => {
                assert!(n > 0, "empty gap declared");
                self.offset += n as usize;
                self.gaps += n;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_order_duplication_overlap_yields_original(
        data in proptest::collection::vec(any::<u8>(), 1..3000),
        cuts in proptest::collection::vec(any::<Index>(), 0..24),
        overlaps in proptest::collection::vec((any::<Index>(), any::<Index>()), 0..12),
        dups in proptest::collection::vec(any::<Index>(), 0..8),
        isn in any::<u32>(),
        seed in any::<u64>(),
    ) {
        let mut segs = segments(data.len(), &cuts);
        let base = segs.clone();
        for d in &dups {
            segs.push(base[d.index(base.len())]);
        }
        for (a, b) in &overlaps {
            let (x, y) = (a.index(data.len()), b.index(data.len()) + 1);
            if x < y {
                segs.push((x, y));
            }
        }
        shuffle(&mut segs, seed);
        let mut r = StreamReassembler::new();
        let mut out = Vec::new();
        let mut gaps = 0u64;
        let mut emit = |e: StreamEvent<'_>| match e {
            StreamEvent::Data(b) => out.extend_from_slice(b),
            StreamEvent::Gap(n) => gaps += n,
        };
        r.segment(isn, true, false, &[], usize::MAX, &mut emit);
        for (s, e) in &segs {
            let seq = isn.wrapping_add(1).wrapping_add(*s as u32);
            r.segment(seq, false, false, &data[*s..*e], usize::MAX, &mut emit);
        }
        r.finish(&mut emit);
        prop_assert_eq!(gaps, 0);
        prop_assert_eq!(out, data);
        prop_assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn losses_are_declared_and_caps_hold(
        data in proptest::collection::vec(any::<u8>(), 1..3000),
        cuts in proptest::collection::vec(any::<Index>(), 0..24),
        drop_mask in any::<u32>(),
        isn in any::<u32>(),
        seed in any::<u64>(),
        cap in 1usize..4000,
    ) {
        let mut segs: Vec<(usize, usize)> = segments(data.len(), &cuts)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| drop_mask & (1 << (i % 32)) == 0)
            .map(|(_, s)| s)
            .collect();
        shuffle(&mut segs, seed);
        let mut r = StreamReassembler::new();
        let mut ck = Checker { data: &data, offset: 0, gaps: 0 };
        r.segment(isn, true, false, &[], cap, &mut |e| ck.on(e));
        for (s, e) in &segs {
            let seq = isn.wrapping_add(1).wrapping_add(*s as u32);
            r.segment(seq, false, false, &data[*s..*e], cap, &mut |e| ck.on(e));
            prop_assert!(r.buffered() <= cap, "buffered {} > cap {}", r.buffered(), cap);
        }
        // The FIN marks the end of the stream.
        let fin_seq = isn.wrapping_add(1).wrapping_add(data.len() as u32);
        r.segment(fin_seq, false, true, &[], cap, &mut |e| ck.on(e));
        r.finish(&mut |e| ck.on(e));
        prop_assert_eq!(ck.offset, data.len(), "delivered + gaps must cover the stream");
        prop_assert_eq!(r.delivered() + r.gap_bytes(), data.len() as u64);
        prop_assert_eq!(ck.gaps, r.gap_bytes());
        prop_assert_eq!(r.buffered(), 0);
    }

    /// Arbitrary segments (inconsistent bytes, wild sequence numbers) never panic, and
    /// the cap holds; this is the logic of the `reassembler` fuzz target.
    #[test]
    fn arbitrary_segments_never_panic(
        segs in proptest::collection::vec((any::<u32>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..40),
        cap in 0usize..2000,
    ) {
        let mut r = StreamReassembler::new();
        let mut last = 0u64;
        for (seq, flags, d) in &segs {
            r.segment(*seq, flags & 1 != 0, flags & 2 != 0, d, cap, &mut |e| {
                if let StreamEvent::Data(b) = e { last += b.len() as u64 }
            });
            prop_assert!(r.buffered() <= cap);
        }
        r.finish(&mut |e| {
            if let StreamEvent::Data(b) = e { last += b.len() as u64 }
        });
        prop_assert_eq!(r.buffered(), 0);
        prop_assert_eq!(r.delivered(), last);
    }
}
