//! Running an analysis over files: input expansion, the single-threaded loop, and the
//! parallel driver (one reader thread, N workers each owning a flow table and a sink).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use std::sync::Arc;

use crate::decode::flow_hash;
use crate::error::CaptureError;
use crate::events::{FlowSink, PacketCtx};
use crate::flow::{Engine, EngineStats};
use crate::source::MergedSource;

/// Limits of the capture engine. The defaults keep the resident memory of the whole
/// engine well under 256 MiB whatever the input size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    /// A TCP flow with no packet for this long (packet time) ends with `IdleTimeout`.
    pub tcp_timeout_secs: u64,
    /// Same for UDP and other transports.
    pub udp_timeout_secs: u64,
    /// Flows held at once (all workers together); beyond it the oldest idle are evicted.
    pub max_flows: usize,
    /// Out-of-order bytes buffered per TCP direction before a gap is forced.
    pub max_stream_buffer: usize,
    /// Out-of-order bytes buffered across all flows before gaps are forced on the
    /// largest buffers.
    pub max_reassembly_memory: usize,
    /// Bytes of IP fragments held awaiting reassembly.
    pub max_fragment_memory: usize,
    /// How the flows' hash space of a memory-mapped pcap file is divided between the
    /// calling thread (worker 0) and every other worker, in units: `(main, other)`. Equal
    /// by default; give the calling thread less when other work will compete for the
    /// cores meanwhile. `WARD_MAIN_SHARE=a/b` in the environment overrides it (tuning).
    pub worker_shares: (u32, u32),
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            tcp_timeout_secs: 300,
            udp_timeout_secs: 60,
            // A flow entry is about 300 bytes: 200k flows stay near 60 MiB.
            max_flows: 200_000,
            max_stream_buffer: 1 << 20,
            max_reassembly_memory: 64 << 20,
            max_fragment_memory: 16 << 20,
            worker_shares: (1, 1),
        }
    }
}

/// What was read from one input file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    pub path: PathBuf,
    /// Bytes read from the file (decompressed bytes for gzip input).
    pub bytes: u64,
    pub packets: u64,
    /// Damage found in the file (truncation, corrupt record), with its byte offset.
    pub warnings: Vec<String>,
}

/// Totals of one analysis run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureStats {
    pub files: Vec<FileStats>,
    pub packets: u64,
    /// Captured frame bytes processed (the sum of every packet's captured length).
    pub bytes: u64,
    /// Frames whose headers could not be decoded (truncated or malformed).
    pub decode_errors: u64,
    pub flows: u64,
    /// TCP bytes declared missing by reassembly.
    pub gap_bytes: u64,
    pub evicted_flows: u64,
    pub timed_out_flows: u64,
    pub fragments_dropped: u64,
    pub memory_pressure_events: u64,
}

impl CaptureStats {
    pub(crate) fn add_engine(&mut self, e: &EngineStats) {
        self.packets += e.packets;
        self.bytes += e.bytes;
        self.decode_errors += e.decode_errors;
        self.flows += e.flows;
        self.gap_bytes += e.gap_bytes;
        self.evicted_flows += e.evicted_flows;
        self.timed_out_flows += e.timed_out_flows;
        self.fragments_dropped += e.fragments_dropped;
        self.memory_pressure_events += e.memory_pressure_events;
    }

    /// Every warning of every file.
    pub fn warnings(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .flat_map(|f| f.warnings.iter().map(String::as_str))
    }
}

/// Directory depth beyond which expansion stops (guards against pathological trees).
const MAX_DIR_DEPTH: usize = 32;

/// Whether a file starts like a capture (pcap, pcapng, or gzip of either).
fn looks_like_capture(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    let Ok(n) = f.read(&mut head) else {
        return false;
    };
    let mut magic = head;
    if n >= 2 && head[..2] == [0x1f, 0x8b] {
        let Ok(f) = std::fs::File::open(path) else {
            return false;
        };
        let mut gz = flate2::read::MultiGzDecoder::new(f);
        let mut inner = [0u8; 4];
        if gz.read_exact(&mut inner).is_err() {
            return false;
        }
        magic = inner;
    } else if n < 4 {
        return false;
    }
    matches!(
        magic,
        [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xcd, 0x34]
            | [0x34, 0xcd, 0xb2, 0xa1]
            | [0x0a, 0x0d, 0x0d, 0x0a]
    )
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), CaptureError> {
    let io = |source| CaptureError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        // symlink_metadata: symlinked directories are not followed (no cycles).
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if md.is_dir() {
            if depth < MAX_DIR_DEPTH {
                walk(&p, depth + 1, out)?;
            }
        } else if (md.is_file() || md.file_type().is_symlink()) && looks_like_capture(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Expand the command-line inputs: files are kept as given (an unreadable or non-capture
/// file is reported when opened), directories are searched recursively for capture
/// files, recognised by their content.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CaptureError> {
    let mut out = Vec::new();
    for p in paths {
        let md = std::fs::metadata(p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CaptureError::NotFound { path: p.clone() }
            } else {
                CaptureError::Io {
                    path: p.clone(),
                    source: e,
                }
            }
        })?;
        if md.is_dir() {
            let before = out.len();
            walk(p, 0, &mut out)?;
            if out.len() == before {
                return Err(CaptureError::EmptyDirectory { path: p.clone() });
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Bytes between two progress callbacks.
const PROGRESS_EVERY: u64 = 4 << 20;

/// Analyse capture files, in timestamp order across files.
///
/// With `workers <= 1` everything runs on the calling thread and `make_sink(0)` receives
/// every event. With more and a single memory-mapped classic pcap file, the workers walk
/// the file's chunks themselves (see [`analyze_one_mapped_pcap`]; the calling thread is
/// worker 0). Otherwise the calling thread reads and hashes each packet by its VLAN
/// and address pair (symmetrically, so both directions and all fragments of a flow meet
/// in one worker); worker 0 is the calling thread itself (a smaller share, decoded
/// between reads, see [`worker_of`]), the others are threads fed with batches, each with its own flow
/// table and the sink `make_sink(i)`; non-IP frames and ARP go to worker 0. The sinks are
/// returned in worker order. `progress` receives the bytes read so far, every few MiB.
pub fn analyze_files<S, F>(
    files: &[PathBuf],
    cfg: &CaptureConfig,
    workers: usize,
    make_sink: F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<S>, CaptureStats), CaptureError>
where
    S: FlowSink + Send,
    F: Fn(usize) -> S + Sync,
{
    // WARD_READER_THREAD_DRIVER=1 forces the reader-thread driver (benchmark comparisons).
    let chunked = std::env::var_os("WARD_READER_THREAD_DRIVER").is_none_or(|v| v != "1");
    if workers > 1 && files.len() == 1 && chunked {
        if let Some(done) = analyze_one_mapped_pcap(
            &files[0],
            cfg,
            workers,
            crate::chunked::CHUNK,
            &make_sink,
            progress,
        )? {
            return Ok(done);
        }
    }
    let mut src = MergedSource::open(files)?;
    let mut stats = CaptureStats::default();
    let sinks = if workers <= 1 {
        let mut engine = Engine::new(cfg, 0, 1, make_sink(0));
        let mut prev = None;
        let mut since = 0u64;
        while let Some(i) = src.next_file(prev) {
            prev = Some(i);
            let Some(p) = src.current(i) else { continue };
            let ctx = PacketCtx {
                file: i as u32,
                packet: p.number,
                ts: p.ts,
            };
            since += p.data.len() as u64 + 16;
            engine.process(p.linktype, p.data, ctx);
            if since >= PROGRESS_EVERY {
                since = 0;
                progress(src.consumed());
            }
        }
        engine.finish();
        stats.add_engine(&engine.stats);
        vec![engine.sink]
    } else {
        let (sinks, engine_stats) = run_parallel(&mut src, cfg, workers, &make_sink, progress)?;
        for e in &engine_stats {
            stats.add_engine(e);
        }
        sinks
    };
    progress(src.consumed());
    stats.files = files
        .iter()
        .zip(src.finished.iter())
        .map(|(p, f)| FileStats {
            path: p.clone(),
            bytes: f.bytes,
            packets: f.packets,
            warnings: f.warnings.clone(),
        })
        .collect();
    Ok((sinks, stats))
}

/// The parallel run over one memory-mapped classic pcap file, where every worker walks
/// part of the file (see `crate::chunked`). `Ok(None)` if the file is not such a file
/// (pcapng, gzip, not mappable): the caller then uses the reader-thread driver.
#[doc(hidden)]
pub fn analyze_one_mapped_pcap<S, F>(
    file: &Path,
    cfg: &CaptureConfig,
    workers: usize,
    chunk: usize,
    make_sink: &F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Option<(Vec<S>, CaptureStats)>, CaptureError>
where
    S: FlowSink + Send,
    F: Fn(usize) -> S + Sync,
{
    let mut reader = crate::source::CaptureReader::open(file)?;
    let Some((map, layout, first)) = reader.mapped_pcap() else {
        return Ok(None);
    };
    chunked_stats(
        &mut reader,
        &map,
        layout,
        first,
        cfg,
        workers,
        chunk,
        make_sink,
        progress,
    )
    .map(Some)
}

/// [`analyze_one_mapped_pcap`] over a classic pcap held in memory (copied into an
/// anonymous mapping): for the fuzz target and tests that compare it with
/// [`crate::CaptureReader::from_bytes`]. `Ok(None)` if the bytes are not a classic pcap.
#[doc(hidden)]
pub fn analyze_pcap_bytes_chunked<S, F>(
    name: &str,
    bytes: &[u8],
    cfg: &CaptureConfig,
    workers: usize,
    chunk: usize,
    make_sink: &F,
) -> Result<Option<(Vec<S>, CaptureStats)>, CaptureError>
where
    S: FlowSink + Send,
    F: Fn(usize) -> S + Sync,
{
    let mut reader = crate::source::CaptureReader::from_bytes(name, bytes.to_vec())?;
    let Some((layout, first)) = reader.pcap_layout() else {
        return Ok(None);
    };
    let io = |source| CaptureError::Io {
        path: PathBuf::from(name),
        source,
    };
    let mut anon = memmap2::MmapMut::map_anon(bytes.len().max(1)).map_err(io)?;
    anon[..bytes.len()].copy_from_slice(bytes);
    let map = anon.make_read_only().map_err(io)?;
    if map.len() != bytes.len() {
        // Empty input cannot be mapped as such; it has no pcap header anyway.
        return Ok(None);
    }
    chunked_stats(
        &mut reader,
        &map,
        layout,
        first,
        cfg,
        workers,
        chunk,
        make_sink,
        &|_| {},
    )
    .map(Some)
}

#[allow(clippy::too_many_arguments)]
fn chunked_stats<S, F>(
    reader: &mut crate::source::CaptureReader,
    map: &memmap2::Mmap,
    layout: crate::source::PcapLayout,
    first: usize,
    cfg: &CaptureConfig,
    workers: usize,
    chunk: usize,
    make_sink: &F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<S>, CaptureStats), CaptureError>
where
    S: FlowSink + Send,
    F: Fn(usize) -> S + Sync,
{
    let file = reader.path().to_path_buf();
    let workers = workers.max(2);
    let (sinks, engine_stats, end) =
        crate::chunked::run_chunked(map, layout, first, cfg, workers, chunk, make_sink, progress)
            .map_err(CaptureError::Worker)?;
    progress(end.offset);
    let mut warnings = reader.take_warnings();
    if let Some((msg, at)) = &end.damage {
        warnings.push(reader.damage_warning(msg, *at, end.packets));
    }
    let mut stats = CaptureStats::default();
    for e in &engine_stats {
        stats.add_engine(e);
    }
    stats.files = vec![FileStats {
        path: file,
        bytes: end.offset,
        packets: end.packets,
        warnings,
    }];
    Ok((sinks, stats))
}

/// Where a batched packet's bytes are.
const IN_BATCH_DATA: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct BatchPkt {
    /// Index into `Batch::maps`, or [`IN_BATCH_DATA`] for bytes copied into `Batch::data`.
    src: u32,
    len: u32,
    off: usize,
    linktype: u32,
    ctx: PacketCtx,
}

/// Packets for one worker; recycled through a return channel. Packets of memory-mapped
/// files are not copied: the batch holds the shared mapping and their offsets in it (the
/// worker decodes them in place). Only streamed (gzip) input is copied into `data`.
#[derive(Default)]
struct Batch {
    maps: Vec<Arc<memmap2::Mmap>>,
    data: Vec<u8>,
    pkts: Vec<BatchPkt>,
}

impl Batch {
    fn bytes(&self, p: &BatchPkt) -> Option<&[u8]> {
        let buf: &[u8] = if p.src == IN_BATCH_DATA {
            &self.data
        } else {
            self.maps.get(p.src as usize)?
        };
        buf.get(p.off..p.off + p.len as usize)
    }

    fn clear(&mut self) {
        self.maps.clear();
        self.data.clear();
        self.pkts.clear();
    }
}

/// Packets per batch: large enough that channel traffic is negligible, small enough that
/// a worker never waits long for its first batch.
const BATCH_PKTS: usize = 2048;
/// Copied bytes per batch (streamed input only).
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight per worker (bounds memory and keeps the reader ahead).
const QUEUE_DEPTH: usize = 8;

/// How many packets ahead a worker prefetches the headers of the packet it will decode.
const PREFETCH_PKTS: usize = 3;

/// Prefetch the first cache lines of a packet (its headers and the start of its
/// payload; the hardware prefetcher follows the rest of a sequential read).
#[inline]
#[allow(unsafe_code)]
fn prefetch_head(d: &[u8]) {
    let mut at = 0usize;
    while at < d.len().min(192) {
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

/// The worker a packet belongs to: by the symmetric hash of its VLAN and address pair,
/// so that both directions and every fragment of a flow meet in one worker. Non-IP
/// frames (ARP, LLDP ...) go to worker 0.
///
/// Worker 0 is the reading thread itself, which also walks the file (and identifies and
/// writes the output afterwards): it takes a quarter of the share of each other worker
/// (a fifth of the flows with two workers), so that both cores end at about the same
/// time (measured in docs/BENCHMARKS.md).
pub(crate) fn worker_of(linktype: u32, data: &[u8], workers: usize) -> usize {
    match flow_hash(linktype, data) {
        Some(h) => share_of(h, workers),
        None => 0,
    }
}

/// Units of the hash space given to each worker but the reading thread, which has one.
const WORKER_UNITS: u128 = 4;

/// The worker of hash `h`: the hash space is cut into `WORKER_UNITS * (workers - 1) + 1`
/// equal units, one for worker 0 and [`WORKER_UNITS`] for each other worker.
fn share_of(h: u64, workers: usize) -> usize {
    let units = WORKER_UNITS * (workers as u128 - 1) + 1;
    let u = (u128::from(h) * units) >> 64;
    (u.div_ceil(WORKER_UNITS) as usize).min(workers - 1)
}

fn run_parallel<S, F>(
    src: &mut MergedSource,
    cfg: &CaptureConfig,
    workers: usize,
    make_sink: &F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<S>, Vec<EngineStats>), CaptureError>
where
    S: FlowSink + Send,
    F: Fn(usize) -> S + Sync,
{
    std::thread::scope(|scope| {
        let mut txs: Vec<SyncSender<Batch>> = Vec::with_capacity(workers);
        let (ret_tx, ret_rx) = std::sync::mpsc::channel::<Batch>();
        let mut handles = Vec::with_capacity(workers);
        // Worker 0 runs on this thread, between reads: its packets are decoded while
        // still in this core's cache, and no batch is built for them.
        let mut engine0 = Engine::new(cfg, 0, workers, make_sink(0));
        for w in 1..workers {
            let (tx, rx): (SyncSender<Batch>, Receiver<Batch>) = sync_channel(QUEUE_DEPTH);
            txs.push(tx);
            let ret = ret_tx.clone();
            handles.push(scope.spawn(move || {
                let mut engine = Engine::new(cfg, w, workers, make_sink(w));
                while let Ok(mut batch) = rx.recv() {
                    for (k, p) in batch.pkts.iter().enumerate() {
                        // The reader touched these bytes on another core: ask for the
                        // headers of a packet a little ahead so that their transfer
                        // overlaps the decoding of this one.
                        if let Some(d) = batch
                            .pkts
                            .get(k + PREFETCH_PKTS)
                            .and_then(|n| batch.bytes(n))
                        {
                            prefetch_head(d);
                        }
                        if let Some(d) = batch.bytes(p) {
                            engine.process(p.linktype, d, p.ctx);
                        }
                    }
                    batch.clear();
                    // The reader may be gone at the end; losing a spare batch is fine.
                    let _ = ret.send(batch);
                }
                engine.finish();
                (engine.sink, engine.stats)
            }));
        }
        drop(ret_tx);
        let mut open: Vec<Batch> = (0..workers).map(|_| Batch::default()).collect();
        let mut prev = None;
        let mut since = 0u64;
        let mut send_failed = false;
        while let Some(i) = src.next_file(prev) {
            prev = Some(i);
            let Some(p) = src.current(i) else { continue };
            let w = worker_of(p.linktype, p.data, workers);
            let ctx = PacketCtx {
                file: i as u32,
                packet: p.number,
                ts: p.ts,
            };
            let len = p.data.len() as u32;
            since += u64::from(len) + 16;
            if since >= PROGRESS_EVERY {
                since = 0;
                progress(src.consumed());
            }
            if w == 0 {
                engine0.process(p.linktype, p.data, ctx);
                continue;
            }
            let b = &mut open[w];
            match src.current_mapped(i) {
                Some((map, off)) => {
                    let idx = match b.maps.iter().rposition(|m| Arc::ptr_eq(m, map)) {
                        Some(idx) => idx,
                        None => {
                            b.maps.push(Arc::clone(map));
                            b.maps.len() - 1
                        }
                    };
                    b.pkts.push(BatchPkt {
                        src: idx as u32,
                        len,
                        off,
                        linktype: p.linktype,
                        ctx,
                    });
                }
                None => {
                    b.pkts.push(BatchPkt {
                        src: IN_BATCH_DATA,
                        len,
                        off: b.data.len(),
                        linktype: p.linktype,
                        ctx,
                    });
                    b.data.extend_from_slice(p.data);
                }
            }
            if b.pkts.len() >= BATCH_PKTS || b.data.len() >= BATCH_BYTES {
                let fresh = ret_rx.try_recv().unwrap_or_default();
                let full = std::mem::replace(b, fresh);
                if txs[w - 1].send(full).is_err() {
                    send_failed = true;
                    break;
                }
            }
        }
        for (w, b) in open.into_iter().enumerate().skip(1) {
            if !b.pkts.is_empty() && txs[w - 1].send(b).is_err() {
                send_failed = true;
            }
        }
        drop(txs);
        engine0.finish();
        let mut sinks = Vec::with_capacity(workers);
        let mut stats = Vec::with_capacity(workers);
        sinks.push(engine0.sink);
        stats.push(engine0.stats);
        for h in handles {
            match h.join() {
                Ok((s, st)) => {
                    sinks.push(s);
                    stats.push(st);
                }
                Err(_) => return Err(CaptureError::Worker("a worker thread panicked".into())),
            }
        }
        if send_failed {
            return Err(CaptureError::Worker("a worker stopped early".into()));
        }
        Ok((sinks, stats))
    })
}

#[cfg(test)]
mod tests {
    use super::share_of;

    #[test]
    fn reader_worker_takes_one_unit_of_the_hash_space() {
        for workers in 2..=8usize {
            let mut counts = vec![0u64; workers];
            let n = 1u64 << 16;
            for k in 0..n {
                // Spread probes evenly over the hash space, ends included.
                let h = k.wrapping_mul(u64::MAX / (n - 1));
                counts[share_of(h, workers)] += 1;
            }
            let k = super::WORKER_UNITS as f64;
            let unit = n as f64 / (k * (workers - 1) as f64 + 1.0);
            assert!(
                (counts[0] as f64 - unit).abs() < 2.0,
                "{workers}: {counts:?}"
            );
            for c in &counts[1..] {
                assert!((*c as f64 - k * unit).abs() < 3.0, "{workers}: {counts:?}");
            }
        }
        assert_eq!(share_of(u64::MAX, 2), 1);
        assert_eq!(share_of(0, 2), 0);
    }
}
