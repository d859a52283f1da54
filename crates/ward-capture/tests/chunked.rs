//! The chunked parallel driver (every worker walks part of a mapped pcap file, guessing
//! where its chunks start) must deliver exactly what the sequential reader delivers: the
//! same events per flow, the same packet numbers and times, the same totals, and the same
//! warning at the same place when the file is damaged, whatever the chunk size, the
//! worker count, and however misleading the bytes inside packets are.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use ward_capture::source::linktype;
use ward_capture::{analyze_files, analyze_one_mapped_pcap, CaptureConfig, CaptureStats, FlowEnd};

/// Events grouped by flow id (layer-2 and ARP events, all on worker 0, under `u64::MAX`).
///
/// A flow that simply stopped is recorded as `IdleTimeout` if its worker's periodic sweep
/// ran late enough, else as `EndOfInput` at the end: that depends on the other flows the
/// worker holds (so on the worker count, with either parallel driver), not on the driver,
/// so both are mapped to `EndOfInput` here. (A flow split by a late packet is decided per
/// packet and compared exactly: the new flow's events follow under its own id.)
fn by_flow(recorders: Vec<Recorder>) -> BTreeMap<u64, Vec<Ev>> {
    let mut out: BTreeMap<u64, Vec<Ev>> = BTreeMap::new();
    for r in recorders {
        for mut e in r.events {
            if let Ev::End(r) = &mut e {
                if r.end == FlowEnd::IdleTimeout {
                    r.end = FlowEnd::EndOfInput;
                }
            }
            let k = match &e {
                Ev::Start(m, _) | Ev::Datagram(m, _, _, _) => m.id,
                Ev::Data(id, _, _) | Ev::Gap(id, _, _) => *id,
                Ev::End(r) => r.meta.id,
                Ev::L2(..) | Ev::Arp(_) => u64::MAX,
            };
            out.entry(k).or_default().push(e);
        }
    }
    out
}

fn sequential(path: &Path) -> (BTreeMap<u64, Vec<Ev>>, CaptureStats) {
    let (sinks, stats) = analyze_files(
        &[path.to_path_buf()],
        &CaptureConfig::default(),
        1,
        |_| Recorder::default(),
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (by_flow(sinks), stats)
}

/// `None` if the file is not a mapped classic pcap (the chunked driver does not apply).
fn chunked(
    path: &Path,
    workers: usize,
    chunk: usize,
) -> Option<(BTreeMap<u64, Vec<Ev>>, CaptureStats)> {
    let (sinks, stats) = analyze_one_mapped_pcap(
        path,
        &CaptureConfig::default(),
        workers,
        chunk,
        &|_| Recorder::default(),
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))?;
    assert_eq!(
        sinks.len(),
        workers,
        "{}: one sink per worker",
        path.display()
    );
    Some((by_flow(sinks), stats))
}

/// Compares the chunked driver with the sequential reader; returns whether it applied.
fn assert_same(path: &Path, workers: usize, chunk: usize) -> bool {
    let (want_events, want_stats) = sequential(path);
    let Some((events, stats)) = chunked(path, workers, chunk) else {
        return false;
    };
    let what = format!(
        "{} with {workers} workers, {chunk}-byte chunks",
        path.display()
    );
    // Everything but the timed-out count (see `by_flow`).
    let (mut stats, mut want_stats) = (stats, want_stats);
    stats.timed_out_flows = 0;
    want_stats.timed_out_flows = 0;
    assert_eq!(
        stats, want_stats,
        "{what}: capture totals / file stats differ"
    );
    assert_eq!(
        events.len(),
        want_events.len(),
        "{what}: number of flows differs"
    );
    for (k, want) in &want_events {
        assert_eq!(
            events.get(k),
            Some(want),
            "{what}: events of flow {k} differ"
        );
    }
    true
}

fn corpus_dirs() -> Vec<PathBuf> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    ["pcaps/dev", "clinical-captures"]
        .iter()
        .map(|s| data.join(s))
        .collect()
}

#[test]
fn chunked_driver_equals_the_sequential_reader_on_every_corpus_pcap() {
    let mut files = Vec::new();
    for dir in corpus_dirs() {
        files.extend(
            std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("the corpus is required at {}: {e}", dir.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file()),
        );
    }
    files.sort();
    let mut applied = 0;
    for f in &files {
        if ward_capture::CaptureReader::open(f).is_err() {
            continue;
        }
        let mut any = false;
        for (workers, chunk) in [(2, 64), (2, 1000), (3, 4096), (2, 1 << 16), (2, 2 << 20)] {
            any |= assert_same(f, workers, chunk);
        }
        applied += usize::from(any);
    }
    assert!(
        applied >= 20,
        "only {applied} corpus files were classic pcap files the chunked driver applies to"
    );
}

/// UDP and TCP traffic over many address pairs, with payloads of varied sizes.
fn mixed_packets(n: usize, fake_records_in_payload: bool) -> Vec<(u64, Vec<u8>)> {
    let mut pkts = Vec::with_capacity(n);
    let mut seqs = [1000u32; 40];
    for i in 0..n {
        let ts = 1_700_000_000_000_000 + (i as u64) * 1_537;
        let pair = i % 40;
        let a = [10, 0, (pair / 8) as u8, (pair % 8) as u8 + 1];
        let b = [10, 1, 0, (pair % 5) as u8 + 1];
        let mut payload = vec![(i % 251) as u8; 40 + (i * 37) % 1400];
        if fake_records_in_payload {
            // A chain of well-formed pcap record headers inside the payload: a walker
            // guessing where a chunk starts finds these first and must be caught.
            let mut at = 0;
            while at + 16 + 24 <= payload.len() {
                let hdr: Vec<u8> = [1_700_000_000u32, 5, 24, 24]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                payload[at..at + 16].copy_from_slice(&hdr);
                at += 16 + 24;
            }
        }
        let frame = if i % 3 == 0 {
            eth_udp(a, b, 5000 + pair as u16, 53, &payload)
        } else {
            let s = &mut seqs[pair];
            let f = eth_tcp(a, b, 40000 + pair as u16, 104, *s, ACK, &payload);
            *s = s.wrapping_add(payload.len() as u32);
            f
        };
        pkts.push((ts, frame));
    }
    pkts
}

#[test]
fn chunked_driver_is_not_misled_by_payloads_that_look_like_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    for fake in [false, true] {
        let bytes = pcap_file(linktype::ETHERNET, &mixed_packets(3000, fake));
        let p = write(dir.path(), &format!("mixed-{fake}.pcap"), &bytes);
        // From 2 KiB on, chunks are walked as record chains from guessed starts, which the
        // fake records can mislead.
        for (workers, chunk) in [
            (2, 64),
            (2, 777),
            (3, 5000),
            (2, 64 << 10),
            (4, 100_000),
            (2, 1 << 20),
        ] {
            assert!(
                assert_same(&p, workers, chunk),
                "{} is a classic pcap",
                p.display()
            );
        }
    }
}

#[test]
fn chunked_driver_stops_at_damage_exactly_like_the_sequential_reader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = pcap_file(linktype::ETHERNET, &mixed_packets(800, true));
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    // Truncated anywhere: inside the file header's end, a record header, a record body.
    for cut in [
        24usize,
        30,
        41,
        1000,
        good.len() / 3,
        good.len() / 2 + 7,
        good.len() - 1,
    ] {
        cases.push((format!("cut-{cut}"), good[..cut].to_vec()));
    }
    // An absurd captured length in the middle: find the record header of packet 400.
    let mut off = 24;
    for _ in 0..400 {
        let caplen = u32::from_le_bytes(good[off + 8..off + 12].try_into().expect("4")) as usize;
        off += 16 + caplen;
    }
    let mut corrupt = good.clone();
    corrupt[off + 8..off + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    cases.push(("corrupt-caplen".into(), corrupt));
    // A captured length that runs past the end of the file.
    let mut past = good.clone();
    past[off + 8..off + 12].copy_from_slice(&((good.len() - off) as u32).to_le_bytes());
    cases.push(("runs-past-end".into(), past));
    for (name, bytes) in cases {
        let p = write(dir.path(), &format!("{name}.pcap"), &bytes);
        // Chunks of 2 KiB and more are walked as several record chains at once.
        for (workers, chunk) in [(2, 64), (2, 3000), (3, 50_000), (2, 256 << 10)] {
            assert!(assert_same(&p, workers, chunk), "{name}: a classic pcap");
        }
        let (_, stats) = sequential(&p);
        let want = usize::from(name != "cut-24");
        assert_eq!(
            stats.warnings().count(),
            want,
            "{name}: damage is reported once: {:?}",
            stats.files
        );
    }
}

/// Big-endian, nanosecond-resolution and modified (Kuznetzov) layouts walk alike.
#[test]
fn chunked_driver_handles_every_classic_pcap_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkts = mixed_packets(600, false);
    // (magic as written little-endian, big-endian fields, nanoseconds, modified header)
    for (name, be, nanos, modified) in [
        ("be-micro", true, false, false),
        ("le-nano", false, true, false),
        ("be-nano", true, true, false),
        ("le-modified", false, false, true),
    ] {
        let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let magic = match (nanos, modified) {
            (true, _) => 0xa1b2_3c4d,
            (false, true) => 0xa1b2_cd34,
            _ => 0xa1b2_c3d4,
        };
        let mut out = Vec::new();
        out.extend_from_slice(&w32(magic));
        out.extend_from_slice(&w16(2));
        out.extend_from_slice(&w16(4));
        out.extend_from_slice(&w32(0));
        out.extend_from_slice(&w32(0));
        out.extend_from_slice(&w32(65535));
        out.extend_from_slice(&w32(linktype::ETHERNET));
        for (ts, data) in &pkts {
            let frac = if nanos {
                (ts % 1_000_000) * 1000 + 123
            } else {
                ts % 1_000_000
            };
            out.extend_from_slice(&w32((ts / 1_000_000) as u32));
            out.extend_from_slice(&w32(frac as u32));
            out.extend_from_slice(&w32(data.len() as u32));
            out.extend_from_slice(&w32(data.len() as u32));
            if modified {
                out.extend_from_slice(&[0u8; 8]);
            }
            out.extend_from_slice(data);
        }
        let p = write(dir.path(), &format!("{name}.pcap"), &out);
        let (_, stats) = sequential(&p);
        assert_eq!(
            stats.packets,
            pkts.len() as u64,
            "{name}: every packet read"
        );
        for (workers, chunk) in [(2, 64), (3, 2000), (2, 1 << 20)] {
            assert!(assert_same(&p, workers, chunk), "{name}: a classic pcap");
        }
    }
}

#[test]
fn chunked_driver_leaves_pcapng_and_gzip_to_the_reader_thread_driver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frame = eth_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"x");
    let ng = write(
        dir.path(),
        "a.pcapng",
        &pcapng_file(&[(1, 6)], &[(0, 1, frame.clone())]),
    );
    assert!(chunked(&ng, 2, 1 << 20).is_none(), "pcapng is not chunked");
    let plain = pcap_file(linktype::ETHERNET, &[(1, frame)]);
    let gzp = write(dir.path(), "a.pcap.gz", &stored_gzip(&plain));
    assert!(chunked(&gzp, 2, 1 << 20).is_none(), "gzip is not chunked");
    // And analyze_files with several workers still reads both.
    for p in [&ng, &gzp] {
        let (_, stats) = analyze_files(
            std::slice::from_ref(p),
            &CaptureConfig::default(),
            2,
            |_| Recorder::default(),
            &|_| {},
        )
        .expect("analyze");
        assert_eq!(stats.packets, 1, "{}", p.display());
    }
}

/// Gzip without a dependency of the test's own: a stored (uncompressed) deflate stream.
fn stored_gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    for (i, block) in data.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= data.len();
        out.push(u8::from(last));
        let n = block.len() as u16;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A sink that panics on its 50th datagram when armed.
struct Bomb {
    armed: bool,
    seen: u64,
}

impl ward_capture::FlowSink for Bomb {
    fn datagram(
        &mut self,
        _f: &ward_capture::FlowMeta,
        _d: ward_capture::Direction,
        _data: &[u8],
        _p: &ward_capture::PacketCtx,
    ) {
        self.seen += 1;
        assert!(
            !(self.armed && self.seen == 50),
            "deliberate panic in worker 1"
        );
    }
}

/// A worker that panics makes the run fail with an error; the other workers, which may
/// be waiting for a chunk the panicking one was walking, do not hang.
#[test]
fn a_panicking_worker_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "bomb.pcap",
        &pcap_file(linktype::ETHERNET, &mixed_packets(3000, false)),
    );
    for chunk in [512, 4096, 1 << 20] {
        let r = analyze_one_mapped_pcap(
            &p,
            &CaptureConfig::default(),
            2,
            chunk,
            &|t| Bomb {
                armed: t == 1,
                seen: 0,
            },
            &|_| {},
        );
        assert!(
            matches!(r, Err(ward_capture::CaptureError::Worker(_))),
            "chunk {chunk}: expected a worker error"
        );
    }
}
