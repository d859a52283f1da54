//! Arbitrary bytes through the SMB parser and its flow parser (both directions,
//! whole and chunked), via `ward_dissect::proto::harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ward_dissect::proto::smb::parse(data);
    let mut f = ward_dissect::Facts::default();
    ward_dissect::proto::smb::emit_ntlmssp(data, ward_dissect::Side::Client, &mut f);
    let _ = ward_dissect::proto::harness::fuzz_dissector("smb", data);
});
