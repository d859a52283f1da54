//! Fuzz target: `ward_intel::kev::read_csv(data, "fuzz.csv")` must never panic or hang on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_intel::kev::read_csv(data, "fuzz.csv");
});
