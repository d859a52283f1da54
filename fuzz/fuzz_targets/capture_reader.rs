//! Bytes as a pcap/pcapng file: read every record and push it through a flow engine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::{CaptureConfig, CaptureReader, Engine, PacketCtx};

struct Null;
impl ward_capture::FlowSink for Null {}

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = CaptureReader::from_bytes("fuzz.pcap", data.to_vec()) else { return };
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Null);
    while r.advance() {
        if let Some(p) = r.current() {
            e.process(p.linktype, p.data, PacketCtx { file: 0, packet: p.number, ts: p.ts });
        }
    }
    e.finish();
});
