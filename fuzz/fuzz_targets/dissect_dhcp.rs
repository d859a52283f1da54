//! Arbitrary bytes through the DHCP parser and its flow parser (both directions,
//! whole and chunked), via `ward_dissect::proto::harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_dissect::proto::dhcp::parse(data).map(|m| m.options().count());
    let _ = ward_dissect::proto::harness::fuzz_dissector("dhcp", data);
});
