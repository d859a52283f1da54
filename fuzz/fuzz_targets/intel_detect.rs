//! Fuzz target: `ward_intel::read_document(data, "fuzz")` must never panic or hang on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_intel::read_document(data, "fuzz");
});
