//! Fuzz target: the SPDX JSON-shaped readers (2.x JSON, 2.x YAML, 3.0 JSON-LD) must
//! never panic or hang on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_intel::spdx::read_json(data, "fuzz.json");
    let _ = ward_intel::spdx::read_yaml(data, "fuzz.yaml");
    let _ = ward_intel::spdx::read_v3(data, "fuzz.jsonld");
});
