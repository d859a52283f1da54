//! Bytes as a classic pcap file, walked by the chunked parallel driver (workers guessing
//! where their chunks start, small chunks so that guesses happen often) and by the
//! sequential reader: both must read the same packets and bytes and report the same
//! damage. The last byte picks the chunk size and the worker count (so that a capture
//! file with one byte appended is a useful seed); chunks from 2 KiB on are walked as
//! several record chains from guessed starts, smaller ones one record at a time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::{analyze_pcap_bytes_chunked, CaptureConfig, CaptureReader, Engine, PacketCtx};

struct Null;
impl ward_capture::FlowSink for Null {}

fuzz_target!(|input: &[u8]| {
    let Some((&sel, data)) = input.split_last() else { return };
    let chunk = 64 + usize::from(sel & 0x3f) * 61;
    let workers = 2 + usize::from(sel >> 6);
    let cfg = CaptureConfig::default();
    let chunked = match analyze_pcap_bytes_chunked("fuzz.pcap", data, &cfg, workers, chunk, &|_| Null) {
        Ok(Some((_, stats))) => stats,
        _ => return,
    };
    let Ok(mut r) = CaptureReader::from_bytes("fuzz.pcap", data.to_vec()) else {
        panic!("the chunked driver accepted bytes the reader rejects");
    };
    let mut e = Engine::new(&cfg, 0, 1, Null);
    while r.advance() {
        if let Some(p) = r.current() {
            e.process(p.linktype, p.data, PacketCtx { file: 0, packet: p.number, ts: p.ts });
        }
    }
    e.finish();
    let f = &chunked.files[0];
    assert_eq!(f.packets, r.packets(), "packet count");
    assert_eq!(f.bytes, r.offset(), "bytes walked");
    assert_eq!(f.warnings, r.warnings(), "warnings");
    assert_eq!(chunked.packets, e.stats.packets);
    assert_eq!(chunked.bytes, e.stats.bytes);
    assert_eq!(chunked.decode_errors, e.stats.decode_errors);
});
