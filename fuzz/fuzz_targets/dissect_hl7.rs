//! HL7 v2: message parser and the MLLP/plain stream state machine, split at a data-chosen point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::Direction;
use ward_dissect::proto::hl7::{parse_message, Hl7Parser};
use ward_dissect::Facts;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message(data);
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut p = Hl7Parser::new();
    let mut f = Facts::default();
    p.feed(None, Direction::ToServer, &data[..split], &mut f);
    p.feed(None, Direction::ToClient, data, &mut f);
    p.feed(None, Direction::ToServer, &data[split..], &mut f);
});
