//! The one place protocols are registered. Adding a protocol: one file in `proto/`, one
//! `mod` line in `proto/mod.rs` and one line here.

use crate::framework::{Dissector, FrameDissector};

/// Every stream/datagram dissector, in probe order.
pub fn dissectors() -> Vec<Box<dyn Dissector>> {
    vec![
        // generic dissectors
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
    vec![]
}
