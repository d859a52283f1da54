//! Bytes drive a sequence of TCP segments into one reassembler: each segment is
//! [seq: 4][flags: 1][len: 1][data: len]. The per-direction cap must hold throughout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::reassembly::{StreamEvent, StreamReassembler};

fuzz_target!(|data: &[u8]| {
    let mut r = StreamReassembler::new();
    let cap = 512;
    let mut rest = data;
    let mut delivered = 0u64;
    while rest.len() >= 6 {
        let seq = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let flags = rest[4];
        let len = (rest[5] as usize).min(rest.len() - 6);
        let seg = &rest[6..6 + len];
        r.segment(seq, flags & 1 != 0, flags & 2 != 0, seg, cap, &mut |e| {
            if let StreamEvent::Data(b) = e {
                delivered += b.len() as u64;
            }
        });
        assert!(r.buffered() <= cap);
        rest = &rest[6 + len..];
    }
    r.finish(&mut |e| {
        if let StreamEvent::Data(b) = e {
            delivered += b.len() as u64;
        }
    });
    assert_eq!(r.buffered(), 0);
    assert_eq!(r.delivered(), delivered);
});
