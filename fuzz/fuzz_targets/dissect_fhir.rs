//! FHIR over HTTP: head parser, path classification, fhirVersion search and the request/response state machine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::Direction;
use ward_dissect::proto::fhir::{fhir_version, parse_head, resource_type, FhirParser};
use ward_dissect::Facts;

fuzz_target!(|data: &[u8]| {
    let _ = parse_head(data);
    let _ = resource_type(data);
    let _ = fhir_version(data);
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut p = FhirParser::new();
    let mut f = Facts::default();
    p.feed(None, Direction::ToServer, &data[..split], &mut f);
    p.feed(None, Direction::ToClient, data, &mut f);
    p.feed(None, Direction::ToServer, &data[split..], &mut f);
});
