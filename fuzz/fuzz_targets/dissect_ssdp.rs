//! Arbitrary bytes through the SSDP parser and its flow parser (both directions,
//! whole and chunked), via `ward_dissect::proto::harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_dissect::proto::ssdp::parse(data);
    let _ = ward_dissect::proto::harness::fuzz_dissector("ssdp", data);
});
