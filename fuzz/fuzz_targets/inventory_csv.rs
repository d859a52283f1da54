#![no_main]
//! Fuzzes the CMMS inventory CSV reader of ward-assess: it must never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ward_assess::parse_inventory_csv(text);
    }
});
