//! Generated captures read by the parsers Ward's capture engine uses (pcap-parser for the
//! file, etherparse for L2-L4): every record and every frame must parse, and the IPv4 and
//! TCP checksums computed by etherparse must match the ones written.

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::{LegacyPcapSlice, PcapBlockOwned};
use ward_bench::{generate, GenConfig};

#[test]
fn pcap_parser_and_etherparse_accept_every_frame() {
    let cfg = GenConfig {
        seed: 42,
        target_bytes: 2 << 20,
        impairment_rate: 0.02,
        ..GenConfig::default()
    };
    let mut file = Vec::new();
    let summary = generate(&cfg, &mut file).expect("generate");
    let pcap = LegacyPcapSlice::from_slice(&file).expect("pcap-parser reads the global header");
    assert_eq!(pcap.header.network.0, 1, "LINKTYPE_ETHERNET");
    let (mut records, mut tcp, mut udp, mut arp, mut other) = (0u64, 0, 0, 0, 0);
    for block in pcap {
        let block =
            block.unwrap_or_else(|e| panic!("pcap-parser failed after {records} records: {e:?}"));
        let PcapBlockOwned::Legacy(b) = block else {
            panic!("unexpected block after {records} records");
        };
        records += 1;
        assert_eq!(b.caplen, b.origlen, "record {records} truncated");
        let p = SlicedPacket::from_ethernet(b.data)
            .unwrap_or_else(|e| panic!("etherparse rejects record {records}: {e:?}"));
        match (&p.net, &p.transport) {
            (Some(NetSlice::Ipv4(ip)), Some(t)) => {
                let h = ip.header();
                assert_eq!(
                    h.to_header().calc_header_checksum(),
                    h.header_checksum(),
                    "IPv4 checksum of record {records}"
                );
                match t {
                    TransportSlice::Tcp(s) => {
                        let c = s
                            .calc_checksum_ipv4(h.source(), h.destination())
                            .expect("segment fits IPv4");
                        assert_eq!(c, s.checksum(), "TCP checksum of record {records}");
                        tcp += 1;
                    }
                    TransportSlice::Udp(_) => udp += 1,
                    _ => other += 1,
                }
            }
            (Some(NetSlice::Arp(_)), _) => arp += 1,
            (None, _) => other += 1, // LLDP and CDP
            _ => panic!("record {records}: IPv4 without transport"),
        }
    }
    assert_eq!(records, summary.packets);
    assert!(
        tcp > 1000 && udp > 50 && arp > 20 && other >= 2,
        "tcp {tcp} udp {udp} arp {arp} other {other}"
    );
}
