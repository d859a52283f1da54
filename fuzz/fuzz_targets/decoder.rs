//! Bytes as an Ethernet frame (and, via the first byte, as other link types), decoded
//! and fed through a flow engine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::{CaptureConfig, Engine, PacketCtx};
use ward_model::Timestamp;

struct Null;
impl ward_capture::FlowSink for Null {}

fuzz_target!(|data: &[u8]| {
    let _ = ward_capture::decode::decode(1, data);
    let lt = match data.first() {
        Some(b) => [0, 1, 12, 101, 108, 113, 228, 229, 276][(*b as usize) % 9],
        None => 1,
    };
    let mut e = Engine::new(&CaptureConfig::default(), 0, 1, Null);
    let ctx = PacketCtx { file: 0, packet: 1, ts: Timestamp(1) };
    e.process(1, data, ctx);
    e.process(lt, data.get(1..).unwrap_or(&[]), ctx);
    e.finish();
});
