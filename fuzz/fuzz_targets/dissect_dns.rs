//! Arbitrary bytes through the DNS parser and its flow parser (both directions,
//! whole and chunked), via `ward_dissect::proto::harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ward_dissect::proto::dns::parse(data) {
        for r in m.records() {
            let _ = m.name(r.name_off);
        }
    }
    let _ = ward_dissect::proto::harness::fuzz_dissector("dns", data);
});
