//! Bytes as a frame (link type chosen by the first byte): the header-only dispatch hash
//! that sends a packet to a worker must equal the hash of what the full decoder reads
//! (VLAN and address pair) whenever the decoder sees an IP packet, must say "not IP"
//! otherwise, and the hash of an address pair must not depend on its order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_capture::decode::{flow_hash, flow_hash_input, flow_hash_of};

fuzz_target!(|data: &[u8]| {
    let lt = match data.first() {
        Some(b) => [0, 1, 12, 101, 108, 113, 228, 229, 276][(*b as usize) % 9],
        None => 1,
    };
    for (lt, frame) in [(1, data), (lt, data.get(1..).unwrap_or(&[]))] {
        let slow = flow_hash_input(lt, frame);
        let fast = flow_hash(lt, frame);
        match slow {
            Some((vlan, a, b)) => {
                let h = flow_hash_of(vlan, a, b);
                assert_eq!(fast, Some(h), "header-only hash differs from the decoder's");
                assert_eq!(flow_hash_of(vlan, b, a), h, "hash depends on direction");
            }
            // The header-only path may hash an IPv6 frame whose extension chain the
            // decoder rejects (a decode error wherever it goes); anything else is not IP.
            None => {
                if fast.is_some() {
                    assert!(
                        ward_capture::decode::decode(lt, frame).is_err(),
                        "hashed a frame the decoder reads as non-IP"
                    );
                }
            }
        }
    }
});
