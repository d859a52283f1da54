//! Fuzzes the IEEE registry text parser and the lookups on whatever it accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_identify::OuiRegistry;
use ward_model::MacAddr;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(reg) = OuiRegistry::parse("fuzz.txt", "MA-L", &text) {
        let mut mac = [0u8; 6];
        for (i, b) in data.iter().take(6).enumerate() {
            mac[i] = *b & 0xfc;
        }
        if let Some(e) = reg.lookup(&MacAddr(mac)) {
            let _ = e.prefix_text();
        }
    }
});
