//! ASTM E1381/E1394: frame parser, record splitting and the stream state machine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::Direction;
use ward_dissect::proto::astm::{decode_frame, parse_frame, record_field, AstmParser, Delimiters};
use ward_dissect::Facts;

fuzz_target!(|data: &[u8]| {
    let _ = parse_frame(data);
    let _ = decode_frame(data);
    let d = Delimiters::from_header(data).unwrap_or_default();
    for n in 0..16 {
        let _ = record_field(data, d, n);
    }
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut p = AstmParser::new();
    let mut f = Facts::default();
    p.feed(Direction::ToServer, &data[..split], &mut f);
    p.feed(Direction::ToServer, &data[split..], &mut f);
});
