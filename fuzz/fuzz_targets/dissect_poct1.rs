//! POCT1-A: device block parser and the message-cutting stream state machine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::Direction;
use ward_dissect::proto::poct1::{message_root, parse_device, Poct1Parser};
use ward_dissect::Facts;

fuzz_target!(|data: &[u8]| {
    let _ = message_root(data);
    let _ = parse_device(data);
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut p = Poct1Parser::new();
    let mut f = Facts::default();
    p.feed(Direction::ToServer, &data[..split], &mut f);
    p.feed(Direction::ToServer, &data[split..], &mut f);
});
