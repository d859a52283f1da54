//! The fuzz targets' logic as ordinary tests: arbitrary and mutated bytes through every
//! generic dissector's probe and flow parser (both directions, whole and chunked) and
//! through the frame dissectors. Nothing may panic or hang.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use ward_dissect::proto::harness::{fuzz_dissector, fuzz_frames};

/// The generic dissectors this crate's fuzz targets cover.
const GENERIC: [&str; 12] = [
    "dhcp",
    "dns",
    "netbios-ns",
    "smb",
    "ssdp",
    "http",
    "tls",
    "snmp",
    "ftp",
    "telnet",
    "modbus",
    "bacnet",
];

/// Valid-looking seeds so that mutations reach deep parser states.
fn seeds() -> Vec<Vec<u8>> {
    let mut dhcp = vec![0u8; 236];
    dhcp[0] = 1;
    dhcp[1] = 1;
    dhcp[2] = 6;
    dhcp.extend_from_slice(&[
        99, 130, 83, 99, 53, 1, 1, 52, 1, 3, 12, 3, b'a', b'b', b'c', 255,
    ]);
    vec![
        dhcp,
        b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            .to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        b"NOTIFY * HTTP/1.1\r\nSERVER: x\r\nUSN: y\r\n\r\n".to_vec(),
        vec![
            0x16, 3, 1, 0, 0x2f, 1, 0, 0, 0x2b, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x13, 1, 1, 0, 0, 0,
        ],
        vec![
            0x30, 0x10, 2, 1, 1, 4, 6, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 3, 2, 1, 1,
        ],
        vec![
            0, 0, 0, 0x30, 0xff, b'S', b'M', b'B', 0x72, 0, 0, 0, 0, 0x18,
        ],
        vec![
            0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1,
        ],
        vec![0, 1, 0, 0, 0, 6, 1, 43, 14, 1, 0, 0],
        vec![0x81, 0x0b, 0, 12, 1, 0x20, 0xff, 0xff, 0, 0xff, 0x10, 0x00],
        b"220 hi\r\nUSER x\r\nPASS y\r\n".to_vec(),
        vec![
            255, 250, 24, 255, 255, 255, 240, b'l', b'o', b'g', b'i', b'n', b':',
        ],
    ]
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5741_5244);
    let seeds = seeds();
    for round in 0..400 {
        let data: Vec<u8> = if round % 2 == 0 {
            let len = rng.gen_range(0..600);
            (0..len).map(|_| rng.gen()).collect()
        } else {
            let mut d = seeds[round % seeds.len()].clone();
            for _ in 0..rng.gen_range(1..8) {
                if d.is_empty() {
                    break;
                }
                let i = rng.gen_range(0..d.len());
                match rng.gen_range(0..3) {
                    0 => d[i] = rng.gen(),
                    1 => d.truncate(i),
                    _ => d.insert(i, rng.gen()),
                }
            }
            d
        };
        for name in GENERIC {
            fuzz_dissector(name, &data);
        }
        fuzz_frames(&data);
    }
}

#[test]
fn seeds_produce_facts() {
    // The seeds are meaningful: at least most of them yield facts through their dissector,
    // so the mutation test above starts from parseable inputs.
    let seeds = seeds();
    let total: usize = seeds
        .iter()
        .map(|s| GENERIC.iter().map(|n| fuzz_dissector(n, s)).sum::<usize>())
        .sum();
    assert!(total > 20, "seed inputs yield only {total} facts");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn arbitrary_bytes_through_every_dissector(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        for name in GENERIC {
            fuzz_dissector(name, &data);
        }
        fuzz_frames(&data);
    }
}
