//! One module per protocol. Each exposes a `Dissector` (or `FrameDissector`) type, a pure
//! parser function and tests.

// clinical protocols
pub mod astm;
pub mod dicom;
pub mod fhir;
pub mod hl7;
pub mod poct1;
pub mod sdc;
pub mod xml;
