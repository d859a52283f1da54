//! The parallel driver for one memory-mapped classic pcap file: every worker walks part
//! of the file, and every worker processes its own flows.
//!
//! The file is cut into chunks of [`CHUNK`] bytes. Chunk `k` holds the records that
//! start in `[k * CHUNK, (k + 1) * CHUNK)`. Worker `t` of `n` *walks* chunks `t`, `t + n`,
//! `t + 2n` ... a little ahead of its processing: it finds the records of the chunk,
//! hashes each one's flow ([`crate::decode::flow_hash`]) and files it under the worker
//! that owns the flow. Every worker then *processes* all chunks in file order, decoding
//! only the records filed under it. Walking, page-table population and hashing are so
//! split evenly between the cores, and no worker waits on a single reading thread.
//!
//! A chunk is walked as [`CHAINS`] record chains side by side, each from a guessed record
//! boundary inside the chunk ([`Shared::walk_chains`]): a walk reads one record header
//! after another, each read waiting on memory, and independent chains let those waits
//! overlap. The walk so reads only record and packet headers; the decoding worker
//! prefetches the rest of its own records. (Streaming every byte of the chunk through the
//! cache instead, as the sequential reader does, cost the two-worker run about a third
//! more CPU: docs/BENCHMARKS.md, session 7.) The chains are checked like the chunks: the
//! records of a chain are used only if it starts where the previous one ended; from the
//! first chain that does not, the chunk is walked one record at a time.
//!
//! Where a chunk's first record starts is only known once the previous chunk has been
//! walked. A worker walking ahead therefore *guesses* it (the first offset from which a
//! chain of plausible record headers follows, [`guess_start`]) and the guess is checked
//! before anything walked from it is used: a chunk is *verified* when the previous chunk
//! is verified and ended exactly where this one started; otherwise it is walked again
//! from the true start. Chunk 0 starts after the file header. So the records processed,
//! their numbers, and where and why the walk stops at damage are exactly those of the
//! sequential reader (both use [`pcap_record`]), whatever the guesses were; a bad guess
//! costs only time.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::decode::flow_hash;
use crate::driver::CaptureConfig;
use crate::events::{FlowSink, PacketCtx};
use crate::flow::{Engine, EngineStats};
use crate::source::{pcap_record, Current, PcapLayout, Step};
use ward_model::Timestamp;

/// Bytes per chunk: large enough that the per-chunk synchronisation is negligible, small
/// enough that a chunk just walked is still in the shared cache when it is processed.
pub(crate) const CHUNK: usize = 2 << 20;
/// Chunks of its own a worker walks ahead of the chunk it processes (times the worker
/// count: with two workers each one walks up to four chunks ahead).
const AHEAD: usize = 2;
/// Records a guessed start must be followed by (each plausible, each starting where the
/// previous ended) to be taken as a record boundary.
const GUESS_CHAIN: usize = 4;
/// Bytes of mapping released at once behind the slowest worker (bounded resident
/// memory; one system call, and one TLB shootdown, per this many bytes).
const RELEASE_EVERY: usize = 32 << 20;
/// Chunks a worker may run ahead of the slowest one (whose chunks are not released yet):
/// bounds the resident part of the mapping and the walked indexes when one worker's flows
/// cost much more than another's.
const MAX_LEAD: usize = 16;
/// Records of its own a worker prefetches the first bytes of, ahead of the one it decodes
/// (the walk reads only record and packet headers, so the rest is not cached yet).
const PREFETCH_RECS: usize = 6;
/// Bytes of each of those records prefetched (headers and the start of the payload).
const PREFETCH_BYTES: usize = 384;
/// Bytes ahead of the walk position whose cache lines are prefetched.
const WALK_PREFETCH: usize = 8 << 10;

/// One record filed under a worker.
#[derive(Clone, Copy)]
struct Rec {
    /// Offset of the packet bytes in the mapping.
    data: usize,
    len: u32,
    /// Index of the record within its chunk (its packet number is the chunk's base
    /// plus this plus one).
    index: u32,
    ts: Timestamp,
}

/// How a chunk's walk ended.
#[derive(Clone)]
enum Stop {
    /// At the first record starting at or after the chunk's end: the next chunk's start.
    Next(usize),
    /// At the end of the file.
    End,
    /// At damage, at this offset (the record that could not be read).
    Damaged(usize, String),
}

struct Walked {
    start: usize,
    /// Records per worker, in file order.
    by_worker: Vec<Vec<Rec>>,
    count: u64,
    stop: Stop,
}

enum Slot {
    /// Nobody has walked it yet.
    Pending,
    /// A worker is walking it.
    Walking,
    /// Walked from a guessed start, not yet checked.
    Guessed(Arc<Walked>),
    /// Walked from its true start; `base` records come before it.
    Verified { walked: Arc<Walked>, base: u64 },
    /// Verified and processed by every worker: only what the next chunk needs is kept.
    Retired { stop: Stop, base_after: u64 },
}

struct State {
    slots: Vec<Slot>,
    /// Workers that have processed each chunk.
    done: Vec<usize>,
    /// Chunks before this one are processed by all and retired.
    retired: usize,
    /// Mapping before this offset has been released.
    released: usize,
    /// A worker panicked: everyone stops waiting (the join then reports the panic).
    failed: bool,
    /// Record lists of retired chunks, emptied, for the next walks: once the run is under
    /// way a walk neither allocates nor grows its lists (5% of the two-worker run's wall
    /// time on h400, docs/BENCHMARKS.md, session 7).
    spare: Vec<Vec<Rec>>,
}

/// Marks the run failed if the worker holding it unwinds, so that no other worker waits
/// forever for a chunk the panicking one was walking.
struct FailOnPanic<'a, 'm>(&'a Shared<'m>);

impl Drop for FailOnPanic<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().failed = true;
            self.0.cv.notify_all();
        }
    }
}

/// What the last chunk said about the end of the walk.
pub(crate) struct WalkEnd {
    /// Offset the walk reached (the end of the file, or the damaged record).
    pub(crate) offset: u64,
    pub(crate) packets: u64,
    /// The damage message and offset, if the walk stopped at damage.
    pub(crate) damage: Option<(String, u64)>,
}

struct Shared<'a> {
    map: &'a memmap2::Mmap,
    layout: PcapLayout,
    first: usize,
    workers: usize,
    chunk: usize,
    nchunks: usize,
    shares: Shares,
    state: Mutex<State>,
    cv: Condvar,
}

/// How the hash space is divided: worker 0 (the calling thread, which also builds the
/// report afterwards) gets `main` units, every other worker `other`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shares {
    main: u64,
    other: u64,
}

impl Shares {
    /// The configured split ([`CaptureConfig::worker_shares`]), or `WARD_MAIN_SHARE=a/b`
    /// (benchmark tuning: worker 0 gets `a` units, every other worker `b`). An invalid
    /// split (no units for the other workers, or more than 1000) is the equal split.
    pub(crate) fn new(configured: (u32, u32)) -> Shares {
        let valid = |a: u64, b: u64| {
            (a <= 1000 && (1..=1000).contains(&b)).then_some(Shares { main: a, other: b })
        };
        let parsed = std::env::var("WARD_MAIN_SHARE").ok().and_then(|v| {
            let (a, b) = v.split_once('/')?;
            valid(a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)
        });
        parsed
            .or_else(|| valid(u64::from(configured.0), u64::from(configured.1)))
            .unwrap_or(Shares { main: 1, other: 1 })
    }

    /// The worker owning hash `h`.
    pub(crate) fn worker_of(&self, h: u64, workers: usize) -> usize {
        let units = self.main + self.other * (workers as u64 - 1);
        // The top 64 bits of `h * units`, below `units`: the rest is 64-bit arithmetic
        // (a 128-bit division is a library call).
        let u = ((u128::from(h) * u128::from(units)) >> 64) as u64;
        if u < self.main {
            0
        } else {
            (((u - self.main) / self.other) as usize + 1).min(workers - 1)
        }
    }
}

/// Record chains walked side by side in a chunk (see [`Shared::walk_chains`]): 8 against
/// 4 and 16 measured in docs/BENCHMARKS.md (session 7).
const CHAINS: usize = 8;
/// Bytes per chain below which a chunk is walked one record at a time: chunks of 2 KiB
/// and more are walked as chains (so the tests' and the fuzz target's small chunks
/// exercise both ways).
const MIN_CHAIN: usize = 256;

/// Prefetch (into the first-level cache) the cache lines of `d`'s first `bytes` bytes:
/// a packet's headers and the start of its payload, or a record header and the packet
/// headers after it.
#[inline]
#[allow(unsafe_code)]
fn prefetch_head(d: &[u8], bytes: usize) {
    let mut at = 0usize;
    while at < d.len().min(bytes) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `at < d.len()`, so the pointer is inside the slice; a prefetch is a
        // hint that never faults and never changes memory.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(d.as_ptr().add(at).cast::<i8>());
        }
        at += 64;
    }
}

/// The first offset in `[from, to)` from which [`GUESS_CHAIN`] plausible records follow
/// one another (or plausible records reach the end of the file exactly).
pub(crate) fn guess_start(
    map: &[u8],
    layout: &PcapLayout,
    from: usize,
    to: usize,
) -> Option<usize> {
    let to = to.min(map.len());
    'candidates: for p in from..to {
        let mut at = p;
        let mut prev_sec: Option<u32> = None;
        for _ in 0..GUESS_CHAIN {
            if at == map.len() {
                break;
            }
            let Some((sec, total)) = map.get(at..).and_then(|a| layout.plausible(a)) else {
                continue 'candidates;
            };
            if prev_sec.is_some_and(|s| s.abs_diff(sec) > 86_400) {
                continue 'candidates;
            }
            prev_sec = Some(sec);
            at += total;
        }
        return Some(p);
    }
    None
}

impl Shared<'_> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked while holding the lock leaves consistent slots (every
        // update is one assignment); keep going and let the join report the panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bounds(&self, k: usize) -> (usize, usize) {
        (k * self.chunk, ((k + 1) * self.chunk).min(self.map.len()))
    }

    /// Walk chunk `k` from `start`: the records starting before the chunk's end.
    fn walk(&self, k: usize, start: usize) -> Walked {
        let (_, end) = self.bounds(k);
        let map: &[u8] = self.map;
        #[cfg(target_os = "linux")]
        if end > start {
            // Page tables of the chunk in one system call instead of a fault every few
            // pages (the last record may run into the next chunk, whose walker fills it).
            let _ = self
                .map
                .advise_range(memmap2::Advice::PopulateRead, start, end - start);
        }
        let mut by_worker = self.record_lists();
        let mut count = 0u32;
        let mut off = self.walk_chains(start, end, &mut by_worker, &mut count);
        let mut prefetched = off;
        let stop = loop {
            if off >= end {
                break if off >= map.len() {
                    Stop::End
                } else {
                    Stop::Next(off)
                };
            }
            prefetched = crate::source::prefetch(map, prefetched.max(off), off + WALK_PREFETCH);
            let a = map.get(off..).unwrap_or(&[]);
            match pcap_record(a, &self.layout) {
                Step::Packet(c) => {
                    let (w, rec) = self.record_at(off, &c, count);
                    by_worker[w].push(rec);
                    count += 1;
                    off += c.record_len;
                }
                Step::End => break Stop::End,
                Step::Damaged(msg) => break Stop::Damaged(off, msg),
                Step::Skip(n) => off += n.max(1),
            }
        };
        Walked {
            start,
            by_worker,
            count: u64::from(count),
            stop,
        }
    }

    /// Empty record lists, one per worker: recycled ones where there are.
    fn record_lists(&self) -> Vec<Vec<Rec>> {
        let mut st = self.lock();
        (0..self.workers)
            .map(|_| {
                st.spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(self.chunk / 512 / self.workers))
            })
            .collect()
    }

    /// The packet record `r` found at `off` as chunk record number `index`, and the worker
    /// that owns its flow.
    fn record_at(&self, off: usize, r: &Current, index: u32) -> (usize, Rec) {
        let data = off + r.data_start;
        let d = self.map.get(data..data + r.data_len).unwrap_or(&[]);
        let w = match flow_hash(r.linktype, d) {
            Some(h) => self.shares.worker_of(h, self.workers),
            None => 0,
        };
        let rec = Rec {
            data,
            len: r.data_len as u32,
            index,
            ts: r.ts,
        };
        (w, rec)
    }

    /// Walk `[start, end)` as [`CHAINS`] record chains side by side, each from a guessed
    /// record boundary, so that their header reads overlap instead of waiting on each
    /// other (no streaming of whole packets). Files the records of the chains that
    /// verify (each starts where the previous one ended) and returns where they end: the
    /// caller walks on from there one record at a time.
    fn walk_chains(
        &self,
        start: usize,
        end: usize,
        by_worker: &mut [Vec<Rec>],
        count: &mut u32,
    ) -> usize {
        let map: &[u8] = self.map;
        let len = end.saturating_sub(start);
        if len < CHAINS * MIN_CHAIN {
            return start;
        }
        let mut starts = vec![start];
        for i in 1..CHAINS {
            let from = start + len * i / CHAINS;
            // A guess lies in `[from, end)`; it may repeat the previous chain's.
            if let Some(g) = guess_start(map, &self.layout, from, end) {
                if g > starts[starts.len() - 1] {
                    starts.push(g);
                }
            }
        }
        let n = starts.len();
        starts.push(end);
        struct Chain {
            off: usize,
            limit: usize,
            /// Owning worker and record (its `index` set when filed).
            recs: Vec<(usize, Rec)>,
            ok: bool,
            done: bool,
        }
        let mut chains: Vec<Chain> = (0..n)
            .map(|j| Chain {
                off: starts[j],
                limit: starts[j + 1],
                recs: Vec::with_capacity(len / n / 256),
                ok: true,
                done: false,
            })
            .collect();
        // A record header and the packet headers after it: two cache lines.
        let head = |at: usize| prefetch_head(map.get(at..).unwrap_or(&[]), 128);
        for c in &chains {
            head(c.off);
        }
        let mut active = n;
        while active > 0 {
            for c in chains.iter_mut() {
                if c.done {
                    continue;
                }
                if c.off >= c.limit {
                    c.done = true;
                    active -= 1;
                    continue;
                }
                let a = map.get(c.off..).unwrap_or(&[]);
                match pcap_record(a, &self.layout) {
                    Step::Packet(r) => {
                        c.recs.push(self.record_at(c.off, &r, 0));
                        c.off += r.record_len;
                        head(c.off);
                    }
                    _ => {
                        c.ok = false;
                        c.done = true;
                        active -= 1;
                    }
                }
            }
        }
        let mut cur = start;
        for (j, c) in chains.iter().enumerate() {
            if starts[j] != cur || !c.ok {
                break;
            }
            for &(w, rec) in &c.recs {
                by_worker[w].push(Rec {
                    index: *count,
                    ..rec
                });
                *count += 1;
            }
            cur = c.off;
        }
        cur
    }

    /// Where chunk `k` truly starts and how many records come before it, if chunk
    /// `k - 1` is verified and did not end the file.
    fn true_start(&self, st: &State, k: usize) -> Option<Option<(usize, u64)>> {
        if k == 0 {
            return Some(Some((self.first, 0)));
        }
        match &st.slots[k - 1] {
            Slot::Verified { walked, base } => Some(match walked.stop {
                Stop::Next(off) => Some((off, base + walked.count)),
                _ => None,
            }),
            Slot::Retired { stop, base_after } => Some(match stop {
                Stop::Next(off) => Some((*off, *base_after)),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Walk chunk `k` ahead of processing, if nobody has: from its true start when the
    /// previous chunk is verified, else from a guess.
    fn walk_ahead(&self, k: usize) {
        let mut st = self.lock();
        if !matches!(st.slots[k], Slot::Pending) {
            return;
        }
        let known = self.true_start(&st, k);
        if matches!(known, Some(None)) {
            // The file ended before this chunk.
            return;
        }
        st.slots[k] = Slot::Walking;
        drop(st);
        let (from, to) = self.bounds(k);
        let (start, base) = match known {
            Some(Some((s, b))) => (Some(s), Some(b)),
            _ => (guess_start(self.map, &self.layout, from, to), None),
        };
        let walked = start.map(|s| Arc::new(self.walk(k, s)));
        let mut st = self.lock();
        st.slots[k] = match (walked, base) {
            (Some(walked), Some(base)) => Slot::Verified { walked, base },
            (Some(w), None) => Slot::Guessed(w),
            // No plausible start in the chunk: it will be walked from its true start.
            (None, _) => Slot::Pending,
        };
        drop(st);
        self.cv.notify_all();
    }

    /// Chunk `k`, verified (walked again from its true start if its guess was wrong);
    /// `None` if the file ended before it. The caller has processed chunk `k - 1`.
    fn verified(&self, k: usize) -> Option<(Arc<Walked>, u64)> {
        let mut st = self.lock();
        loop {
            if st.failed {
                return None;
            }
            let (start, base) = match self.true_start(&st, k) {
                Some(Some(x)) => x,
                Some(None) => return None,
                // The previous chunk is being re-walked by another worker.
                None => {
                    st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
                    continue;
                }
            };
            match &st.slots[k] {
                Slot::Verified { walked, base } => return Some((Arc::clone(walked), *base)),
                Slot::Retired { .. } => return None,
                Slot::Walking => {
                    st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                Slot::Guessed(w) if w.start == start => {
                    let walked = Arc::clone(w);
                    st.slots[k] = Slot::Verified {
                        walked: Arc::clone(&walked),
                        base,
                    };
                    drop(st);
                    self.cv.notify_all();
                    return Some((walked, base));
                }
                Slot::Guessed(_) | Slot::Pending => {
                    st.slots[k] = Slot::Walking;
                    drop(st);
                    let walked = Arc::new(self.walk(k, start));
                    st = self.lock();
                    st.slots[k] = Slot::Verified {
                        walked: Arc::clone(&walked),
                        base,
                    };
                    drop(st);
                    self.cv.notify_all();
                    return Some((walked, base));
                }
            }
        }
    }

    /// Wait until chunk `k` is at most [`MAX_LEAD`] chunks ahead of the oldest chunk not
    /// yet processed by every worker. (The slowest worker never waits here, and nothing
    /// it needs is held by a waiting one: waiting workers are between chunks.)
    /// Returns false if the run failed meanwhile.
    fn wait_for_slowest(&self, k: usize) -> bool {
        let mut st = self.lock();
        while k >= st.retired + MAX_LEAD && !st.failed {
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        !st.failed
    }

    /// Worker finished processing chunk `k`: retire chunks every worker is done with and
    /// release the mapping behind them.
    fn done(&self, k: usize) {
        let mut st = self.lock();
        st.done[k] += 1;
        let mut release_to = None;
        while st.retired < self.nchunks && st.done[st.retired] >= self.workers {
            let r = st.retired;
            if let Slot::Verified { walked, base } = &st.slots[r] {
                let retired = Slot::Retired {
                    stop: walked.stop.clone(),
                    base_after: base + walked.count,
                };
                if let Slot::Verified { walked, .. } = std::mem::replace(&mut st.slots[r], retired)
                {
                    if let Ok(w) = Arc::try_unwrap(walked) {
                        for mut v in w.by_worker {
                            v.clear();
                            st.spare.push(v);
                        }
                    }
                }
            }
            st.retired += 1;
            let upto = st.retired * self.chunk;
            if upto - st.released >= RELEASE_EVERY {
                release_to = Some((st.released, upto));
                st.released = upto;
            }
        }
        drop(st);
        // Workers waiting for the slowest one (see `wait_for_slowest`).
        self.cv.notify_all();
        if let Some((from, to)) = release_to {
            let to = to.min(self.map.len());
            if to > from {
                crate::source::release(self.map, from, to - from);
            }
        }
    }

    /// One worker's loop: walk own chunks ahead, process every chunk's own records.
    /// Returns how the walk ended (the same for every worker).
    fn run<S: FlowSink>(
        &self,
        t: usize,
        engine: &mut Engine<S>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Option<WalkEnd> {
        let map: &[u8] = self.map;
        let linktype = self.layout.linktype;
        let _fail_on_panic = FailOnPanic(self);
        let mut next_walk = t;
        let mut k = 0;
        while k < self.nchunks {
            if !self.wait_for_slowest(k) {
                return None;
            }
            while next_walk < self.nchunks && next_walk <= k + AHEAD * self.workers {
                self.walk_ahead(next_walk);
                next_walk += self.workers;
            }
            let (walked, base) = self.verified(k)?;
            let mine = &walked.by_worker[t];
            for (i, r) in mine.iter().enumerate() {
                if let Some(n) = mine.get(i + PREFETCH_RECS) {
                    if let Some(d) = map.get(n.data..n.data + n.len as usize) {
                        prefetch_head(d, PREFETCH_BYTES);
                    }
                }
                if let Some(d) = map.get(r.data..r.data + r.len as usize) {
                    let ctx = PacketCtx {
                        file: 0,
                        packet: base + u64::from(r.index) + 1,
                        ts: r.ts,
                    };
                    engine.process(linktype, d, ctx);
                }
            }
            let end = match &walked.stop {
                Stop::Next(off) => {
                    if t == 0 {
                        progress(*off as u64);
                    }
                    None
                }
                Stop::End => Some(WalkEnd {
                    offset: map.len() as u64,
                    packets: base + walked.count,
                    damage: None,
                }),
                Stop::Damaged(at, msg) => Some(WalkEnd {
                    offset: *at as u64,
                    packets: base + walked.count,
                    damage: Some((msg.clone(), *at as u64)),
                }),
            };
            // Dropped before `done`, so that the last worker done with the chunk owns its
            // record lists and recycles them.
            drop(walked);
            self.done(k);
            if let Some(end) = end {
                return Some(end);
            }
            k += 1;
        }
        None
    }
}

/// How long a worker ran and how much it processed (debug log: how evenly the flows
/// spread over the workers).
fn worker_done(t: usize, started: std::time::Instant, stats: &EngineStats) {
    tracing::debug!(
        worker = t,
        elapsed = ?started.elapsed(),
        packets = stats.packets,
        bytes = stats.bytes,
        flows = stats.flows,
        "capture worker done"
    );
}

/// Analyse one mapped classic pcap file with `workers` (>= 2) workers; the calling thread
/// is worker 0. Returns the sinks and engine counters in worker order and how the walk
/// ended. `chunk` is the chunk size ([`CHUNK`]; smaller in tests).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_chunked<S, F>(
    map: &memmap2::Mmap,
    layout: PcapLayout,
    first: usize,
    cfg: &CaptureConfig,
    workers: usize,
    chunk: usize,
    make_sink: &F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<S>, Vec<EngineStats>, WalkEnd), String>
where
    S: FlowSink + Send,
    F: Fn(usize) -> S + Sync,
{
    let chunk = chunk.max(64);
    let nchunks = map.len().div_ceil(chunk).max(1);
    let shared = Shared {
        map,
        layout,
        first,
        workers,
        chunk,
        nchunks,
        shares: Shares::new(cfg.worker_shares),
        state: Mutex::new(State {
            slots: (0..nchunks).map(|_| Slot::Pending).collect(),
            done: vec![0; nchunks],
            retired: 0,
            released: 0,
            failed: false,
            spare: Vec::new(),
        }),
        cv: Condvar::new(),
    };
    let shared = &shared;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers)
            .map(|t| {
                scope.spawn(move || {
                    let started = std::time::Instant::now();
                    let mut engine = Engine::new(cfg, t, workers, make_sink(t));
                    shared.run(t, &mut engine, &|_| {});
                    engine.finish();
                    worker_done(t, started, &engine.stats);
                    (engine.sink, engine.stats)
                })
            })
            .collect();
        let started = std::time::Instant::now();
        let mut engine0 = Engine::new(cfg, 0, workers, make_sink(0));
        let end = shared.run(0, &mut engine0, progress);
        engine0.finish();
        worker_done(0, started, &engine0.stats);
        let mut sinks = vec![engine0.sink];
        let mut stats = vec![engine0.stats];
        for h in handles {
            let (s, st) = h
                .join()
                .map_err(|_| "a worker thread panicked".to_string())?;
            sinks.push(s);
            stats.push(st);
        }
        let end = end.unwrap_or(WalkEnd {
            offset: first as u64,
            packets: 0,
            damage: None,
        });
        Ok((sinks, stats, end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_layout() -> PcapLayout {
        PcapLayout {
            big_endian: false,
            nanos: false,
            modified: false,
            linktype: 1,
        }
    }

    fn record(sec: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [sec, 1, payload.len() as u32, payload.len() as u32] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn shares_cover_the_hash_space_in_proportion() {
        for (main, other) in [(3, 4), (1, 1), (0, 1), (5, 2)] {
            let shares = Shares { main, other };
            for workers in 2..=6usize {
                let mut counts = vec![0u64; workers];
                let n = 1u64 << 16;
                for k in 0..n {
                    counts[shares.worker_of(k.wrapping_mul(u64::MAX / (n - 1)), workers)] += 1;
                }
                let units = (main + other * (workers as u64 - 1)) as f64;
                let unit = n as f64 / units;
                let what = format!("{main}/{other}, {workers} workers: {counts:?}");
                assert!(
                    (counts[0] as f64 - main as f64 * unit).abs() < 3.0,
                    "{what}"
                );
                for c in &counts[1..] {
                    assert!((*c as f64 - other as f64 * unit).abs() < 3.0, "{what}");
                }
            }
            assert_eq!(shares.worker_of(u64::MAX, 2), 1);
            assert_eq!(shares.worker_of(u64::MAX, 7), 6);
        }
        let default = Shares::new(CaptureConfig::default().worker_shares);
        assert_eq!(default.worker_of(0, 2), 0);
        if std::env::var_os("WARD_MAIN_SHARE").is_none() {
            assert_eq!((default.main, default.other), (1, 1));
            let s = Shares::new((3, 4));
            assert_eq!((s.main, s.other), (3, 4));
            let s = Shares::new((1, 0));
            assert_eq!(
                (s.main, s.other),
                (1, 1),
                "no units for the others: equal split"
            );
        }
    }

    /// A classic pcap file (header left zero) of records with these payloads, one second
    /// apart, and where each record starts.
    fn pcap_of(payloads: impl IntoIterator<Item = Vec<u8>>) -> (Vec<u8>, Vec<usize>) {
        let mut file = vec![0u8; 24];
        let mut starts = Vec::new();
        for (i, p) in payloads.into_iter().enumerate() {
            starts.push(file.len());
            file.extend_from_slice(&record(1_700_000_000 + i as u32, &p));
        }
        (file, starts)
    }

    /// `n` well-formed 24-byte pcap records in a row: payload that looks like records.
    fn fake_records(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|_| record(1_700_000_000, &[7; 8]))
            .collect()
    }

    /// A `Shared` over `file` (a classic little-endian pcap) with one chunk per file.
    fn walk_whole(file: &[u8], f: impl FnOnce(&Shared<'_>)) {
        let mut anon = memmap2::MmapMut::map_anon(file.len()).expect("anonymous map");
        anon.copy_from_slice(file);
        let map = anon.make_read_only().expect("read-only");
        let shared = Shared {
            map: &map,
            layout: le_layout(),
            first: 24,
            workers: 2,
            chunk: file.len(),
            nchunks: 1,
            shares: Shares { main: 1, other: 1 },
            state: Mutex::new(State {
                slots: vec![Slot::Pending],
                done: vec![0],
                retired: 0,
                released: 0,
                failed: false,
                spare: Vec::new(),
            }),
            cv: Condvar::new(),
        };
        f(&shared);
    }

    /// Clean records: every chain starts on a true boundary, so the chains cover the whole
    /// chunk (the fast path is taken) and file every record once, in order.
    #[test]
    fn record_chains_cover_a_clean_chunk() {
        let (file, starts) =
            pcap_of((0..400usize).map(|i| vec![(i % 200) as u8; 60 + (i * 53) % 1400]));
        assert!(file.len() > CHAINS * MIN_CHAIN, "long enough for chains");
        walk_whole(&file, |sh| {
            let mut lists = vec![Vec::new(), Vec::new()];
            let mut count = 0;
            let reached = sh.walk_chains(24, file.len(), &mut lists, &mut count);
            assert_eq!(reached, file.len(), "every chain verified");
            assert_eq!(count as usize, starts.len());
            let mut all: Vec<Rec> = lists.into_iter().flatten().collect();
            all.sort_by_key(|r| r.index);
            for (i, r) in all.iter().enumerate() {
                assert_eq!(r.index as usize, i);
                assert_eq!(r.data, starts[i] + 16, "record {i} in file order");
            }
            let walked = sh.walk(0, 24);
            assert_eq!(walked.count as usize, starts.len());
            assert!(matches!(walked.stop, Stop::End));
        });
    }

    /// Payloads holding record-like bytes mislead the guessed chain starts; the chains
    /// that do not start where the previous one ended are dropped and the walk goes on
    /// record by record, filing exactly the true records.
    #[test]
    fn record_chains_fall_back_when_a_guess_is_wrong() {
        // 123 records: the chains' search positions do not fall on record boundaries.
        let (file, starts) = pcap_of((0..123).map(|_| fake_records(40)));
        walk_whole(&file, |sh| {
            let mut lists = vec![Vec::new(), Vec::new()];
            let mut count = 0;
            let reached = sh.walk_chains(24, file.len(), &mut lists, &mut count);
            assert!(reached < file.len(), "some guess fell inside a payload");
            assert!(starts.contains(&reached), "chains end on a true boundary");
            let walked = sh.walk(0, 24);
            assert_eq!(walked.count as usize, starts.len());
            let mut all: Vec<usize> = walked.by_worker.iter().flatten().map(|r| r.data).collect();
            all.sort_unstable();
            let want: Vec<usize> = starts.iter().map(|s| s + 16).collect();
            assert_eq!(all, want);
        });
    }

    #[test]
    fn a_guess_finds_the_next_record_boundary() {
        let (file, starts) = pcap_of((0..20).map(|i| vec![0xab; 100 + i]));
        let l = le_layout();
        assert_eq!(guess_start(&file, &l, 24, file.len()), Some(24));
        assert_eq!(guess_start(&file, &l, 25, file.len()), Some(starts[1]));
        // Near the end, a shorter chain that ends exactly at the end of the file counts.
        assert_eq!(
            guess_start(&file, &l, starts[18] + 1, file.len()),
            Some(starts[19])
        );
        assert_eq!(guess_start(&file, &l, starts[19] + 1, file.len()), None);
    }

    /// The guess can be wrong (a payload holding record-like bytes); the walk from it is
    /// then never used: this is why chunks are verified.
    #[test]
    fn a_guess_can_be_fooled_by_record_like_payload() {
        let inner = fake_records(6);
        let mut file = vec![0u8; 24];
        file.extend_from_slice(&record(1_700_000_000, &[0; 40]));
        let outer = file.len();
        file.extend_from_slice(&record(1_700_000_001, &inner));
        file.extend_from_slice(&record(1_700_000_002, &[0; 40]));
        let g = guess_start(&file, &le_layout(), outer + 1, file.len());
        assert_eq!(g, Some(outer + 16), "the fake chain inside the payload");
    }
}
