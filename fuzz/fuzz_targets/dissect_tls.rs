//! Arbitrary bytes through the TLS parser and its flow parser (both directions,
//! whole and chunked), via `ward_dissect::proto::harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ch) = ward_dissect::proto::tls::parse_client_hello(data) {
        let _ = ward_dissect::proto::tls::ja3(&ch);
        let _ = ward_dissect::proto::tls::ja4(&ch);
    }
    let _ = ward_dissect::proto::tls::parse_server_hello(data);
    let _ = ward_dissect::proto::tls::first_certificate(data);
    let _ = ward_dissect::proto::harness::fuzz_dissector("tls", data);
});
