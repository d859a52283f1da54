//! The Draeger sdc11073 MDIB files (`shared/data/sdc11073-mdib`) give their MDS metadata,
//! and the WS-Discovery capture from nDPI (`ndpi__upnp.pcap`) is understood.

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use ward_capture::Direction;
use ward_dissect::proto::sdc::{parse_mds_metadata, SdcParser};
use ward_dissect::Facts;

#[test]
fn mdib_metadata() {
    let dir = common::corpus("sdc11073-mdib/dev");
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
    let m = parse_mds_metadata(&read("70041_MDIB_Final.xml"));
    assert_eq!(m.len(), 1, "70041_MDIB_Final.xml: one MDS with metadata");
    assert_eq!(
        m[0].manufacturer,
        vec!["Drägerwerk AG & Co. KGaA"],
        "70041_MDIB_Final.xml: Manufacturer (entities decoded)"
    );
    assert_eq!(
        m[0].model_name,
        vec!["A3XX"],
        "70041_MDIB_Final.xml: ModelName"
    );
    assert_eq!(
        m[0].model_number.as_deref(),
        Some("01.00"),
        "70041_MDIB_Final.xml: ModelNumber"
    );
    assert!(
        m[0].serial_number.is_empty(),
        "70041_MDIB_Final.xml: empty SerialNumber"
    );
    // mdib_tns.xml has an empty <MetaData/>; the tutorial MDIB has none.
    assert!(
        parse_mds_metadata(&read("mdib_tns.xml")).is_empty(),
        "mdib_tns.xml: no metadata"
    );
    assert!(
        parse_mds_metadata(&read("tutorial_provider_mdib.xml")).is_empty(),
        "tutorial_provider_mdib.xml: no metadata"
    );
    // Streamed as an HTTP response in small pieces, the same values come out.
    let body = read("70041_MDIB_Final.xml");
    let mut stream = b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n\r\n".to_vec();
    stream.extend_from_slice(&body);
    let mut f = Facts::default();
    let mut p = SdcParser::new(false);
    for c in stream.chunks(1000) {
        p.stream(Direction::ToClient, c, &mut f);
    }
    let got: Vec<_> = f.facts.iter().map(|x| (x.key, x.value.as_str())).collect();
    assert!(
        got.contains(&("sdc.model_name", "A3XX")),
        "streamed 70041_MDIB_Final.xml: {got:?}"
    );
    // Truncated or damaged copies never panic.
    for n in (0..body.len()).step_by(97) {
        let _ = parse_mds_metadata(&body[..n]);
    }
}

#[test]
fn ws_discovery_capture() {
    let out = common::dissect(&common::corpus("pcaps/dev/ndpi__upnp.pcap"));
    let vals = out.values("sdc.discovery");
    assert_eq!(
        vals,
        vec!["Resolve"],
        "ndpi__upnp.pcap: WS-Discovery Resolve messages"
    );
    let eps = out.values("sdc.resolve_endpoint");
    assert!(
        eps.contains(&"urn:uuid:e3248000-80ce-11db-8000-001ba99ec956"),
        "ndpi__upnp.pcap: endpoint being resolved, got {eps:?}"
    );
    assert!(
        out.edges
            .iter()
            .any(|e| e.protocol.as_deref() == Some("sdc")),
        "ndpi__upnp.pcap: edge labelled sdc"
    );
}
