//! The logic of the `capture_reader` and `decoder` fuzz targets, run as ordinary tests:
//! arbitrary and mutated captures never panic or hang, and every file ends.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use ward_capture::{CaptureConfig, CaptureReader, Engine, FlowSink, PacketCtx};
use ward_model::Timestamp;

struct Null;
impl FlowSink for Null {}

fn read_all(name: &str, bytes: Vec<u8>) -> u64 {
    let Ok(mut r) = CaptureReader::from_bytes(name, bytes) else {
        return 0;
    };
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Null);
    while r.advance() {
        if let Some(p) = r.current() {
            e.process(
                p.linktype,
                p.data,
                PacketCtx {
                    file: 0,
                    packet: p.number,
                    ts: p.ts,
                },
            );
        }
    }
    e.finish();
    e.stats.packets
}

const PCAP_HDR: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_pcap_bodies(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut f = PCAP_HDR.to_vec();
        f.extend_from_slice(&body);
        read_all("arbitrary.pcap", f);
    }

    #[test]
    fn arbitrary_pcapng_bodies(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut f = vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0];
        f.extend_from_slice(&[0xff; 8]);
        f.extend_from_slice(&[28, 0, 0, 0]);
        f.extend_from_slice(&body);
        read_all("arbitrary.pcapng", f);
    }

    #[test]
    fn arbitrary_frames(frame in proptest::collection::vec(any::<u8>(), 0..300), lt in 0usize..9) {
        let lts = [0, 1, 12, 101, 108, 113, 228, 229, 276];
        let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Null);
        let ctx = PacketCtx { file: 0, packet: 1, ts: Timestamp(1) };
        e.process(lts[lt], &frame, ctx);
        e.finish();
    }
}

/// Every corpus capture with bytes flipped and cut at many places.
#[test]
fn mutated_corpus_captures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pcaps/dev");
    assert!(
        dir.is_dir(),
        "the shared test corpus is required at {}",
        dir.display()
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    let mut seed = 0x9e3779b97f4a7c15u64;
    for f in files {
        let data = std::fs::read(&f).expect("read");
        let start = Instant::now();
        for round in 0..20 {
            let mut m = data.clone();
            for _ in 0..(1 + round % 8) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % m.len().max(1);
                if let Some(b) = m.get_mut(i) {
                    *b ^= (seed >> 32) as u8 | 1;
                }
            }
            let cut = (seed as usize >> 3) % (m.len() + 1);
            if round % 3 == 0 {
                m.truncate(cut);
            }
            read_all("mutated", m);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}: mutations too slow",
            f.display()
        );
    }
}
