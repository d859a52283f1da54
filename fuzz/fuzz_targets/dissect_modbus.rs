//! Arbitrary bytes through the MODBUS parser and its flow parser (both directions,
//! whole and chunked), via `ward_dissect::proto::harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_dissect::proto::modbus::parse(data);
    let _ = ward_dissect::proto::harness::fuzz_dissector("modbus", data);
});
