//! Fuzz target: `ward_intel::osv::read(data, "fuzz.json")` must never panic or hang on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_intel::osv::read(data, "fuzz.json");
    // The registry package list for the "package exists" rule is read by the same target.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ward_intel::osv::PackageIndex::from_text(text, "fuzz.txt");
    }
});
