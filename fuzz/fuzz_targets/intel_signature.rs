//! Detached OpenPGP signature parsing and the signed-hash check (the `.asc` beside an
//! advisory is untrusted input): never panics. The first line is the signed data, the
//! rest the armored signature.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (signed, rest) = data.split_at(split);
    if let Ok(armored) = std::str::from_utf8(rest) {
        let _ = ward_intel::signature::verify_detached(
            armored,
            signed,
            &ward_intel::Keyring::empty(),
            "fuzz.asc",
        );
    }
});
