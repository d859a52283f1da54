//! Fuzz target: `ward_intel::version` parsing must never panic and must keep its invariants
//! (see `ward_intel::version::check_invariants`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        ward_intel::version::check_invariants(s);
    }
});
