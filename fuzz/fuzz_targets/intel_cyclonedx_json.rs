//! Fuzz target: `ward_intel::cyclonedx::read_json(data, "fuzz.json")` must never panic or hang on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_intel::cyclonedx::read_json(data, "fuzz.json");
});
