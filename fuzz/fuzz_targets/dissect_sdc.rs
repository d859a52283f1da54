//! SDC: WS-Discovery parser, MDS metadata parser, datagram and stream handling.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::Direction;
use ward_dissect::proto::sdc::{parse_discovery, parse_mds_metadata, SdcParser};
use ward_dissect::Facts;

fuzz_target!(|data: &[u8]| {
    let _ = parse_discovery(data);
    let _ = parse_mds_metadata(data);
    let mut f = Facts::default();
    SdcParser::new(true).datagram(Direction::ToServer, data, &mut f);
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut p = SdcParser::new(false);
    p.stream(Direction::ToClient, &data[..split], &mut f);
    p.stream(Direction::ToClient, &data[split..], &mut f);
});
