//! Arbitrary bytes through the TELNET parser and its flow parser (both directions,
//! whole and chunked), via `ward_dissect::proto::harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut st = ward_dissect::proto::telnet::IacState::default();
    let mut out = Vec::new();
    ward_dissect::proto::telnet::strip_iac(data, &mut st, &mut out, 256);
    let _ = ward_dissect::proto::harness::fuzz_dissector("telnet", data);
});
