//! DICOM upper layer: PDU parser, command-set parser, device-element reader and the stream state machine (fresh and mid-stream), with the input split at a data-chosen point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::Direction;
use ward_dissect::proto::dicom::{
    parse_command_set, parse_pdu, read_device_elements, DatasetEncoding, DicomParser,
};
use ward_dissect::Facts;

fuzz_target!(|data: &[u8]| {
    let _ = parse_pdu(data);
    let _ = parse_command_set(data);
    let _ = read_device_elements(data, DatasetEncoding::ImplicitLittle);
    let _ = read_device_elements(data, DatasetEncoding::ExplicitLittle);
    let _ = read_device_elements(data, DatasetEncoding::ExplicitBig);
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    for midstream in [false, true] {
        let mut p = DicomParser::new(midstream);
        let mut f = Facts::default();
        p.feed(None, Direction::ToServer, &data[..split], &mut f);
        p.feed(None, Direction::ToClient, data, &mut f);
        p.feed(None, Direction::ToServer, &data[split..], &mut f);
    }
});
