//! Arbitrary bytes as LLDP and CDP frame payloads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_dissect::proto::cdp::parse(data).map(|t| t.count());
    let _ = ward_dissect::proto::lldp::tlvs(data).count();
    let _ = ward_dissect::proto::harness::fuzz_frames(data);
});
