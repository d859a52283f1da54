//! Fuzzes the rule file loader (TOML syntax, validation) and classification with the
//! rules it accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_identify::Rules;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut rules = Rules::empty();
    if rules.add_file("fuzz.toml", &text).is_ok() {
        // Use the input's tail as a fact value against every loaded rule's key.
        let value = text.get(text.len() / 2..).unwrap_or("");
        let keys: Vec<String> = rules.rules().iter().map(|r| r.spec.key.clone()).collect();
        for key in keys {
            let _ = rules.classify(&key, value);
        }
        let _ = rules.canonical_vendor(value);
    }
});
