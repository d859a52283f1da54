//! The one place protocols are registered. Adding a protocol: one file in `proto/`, one
//! `mod` line in `proto/mod.rs` and one line here.

use crate::framework::{Dissector, FrameDissector};

/// Every stream/datagram dissector, in probe order.
pub fn dissectors() -> Vec<Box<dyn Dissector>> {
    vec![
        // generic dissectors
        Box::new(crate::proto::dhcp::Dhcp),
        Box::new(crate::proto::dns::Dns),
        Box::new(crate::proto::netbios::NetbiosNs),
        Box::new(crate::proto::smb::Smb),
        Box::new(crate::proto::ssdp::Ssdp),
        Box::new(crate::proto::http::Http),
        Box::new(crate::proto::tls::Tls),
        Box::new(crate::proto::snmp::Snmp),
        Box::new(crate::proto::ftp::Ftp),
        Box::new(crate::proto::telnet::Telnet),
        Box::new(crate::proto::modbus::Modbus),
        Box::new(crate::proto::bacnet::Bacnet),
        // clinical dissectors
        Box::new(crate::proto::dicom::DicomDissector),
        Box::new(crate::proto::hl7::Hl7Dissector),
        Box::new(crate::proto::astm::AstmDissector),
        Box::new(crate::proto::poct1::Poct1Dissector),
        Box::new(crate::proto::sdc::SdcDissector),
        Box::new(crate::proto::fhir::FhirDissector),
    ]
}

/// Every layer-2 frame dissector.
pub fn frame_dissectors() -> Vec<Box<dyn FrameDissector>> {
    vec![
        Box::new(crate::proto::lldp::Lldp),
        Box::new(crate::proto::cdp::Cdp),
    ]
}
