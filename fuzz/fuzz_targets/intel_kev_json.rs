//! KEV catalogue JSON reader: never panics on any input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_intel::kev::read_json(data, "fuzz.json");
});
