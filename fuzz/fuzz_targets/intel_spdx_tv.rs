//! Fuzz target: `ward_intel::spdx::read_tag_value(data, "fuzz.spdx")` must never panic or hang on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_intel::spdx::read_tag_value(data, "fuzz.spdx");
});
