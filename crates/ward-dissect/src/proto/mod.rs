//! One module per protocol. Each exposes a `Dissector` (or `FrameDissector`) type, a pure
//! parser function and tests.

// clinical protocols
pub mod dicom;
pub mod hl7;
pub mod astm;
pub mod poct1;
pub mod xml;
pub mod sdc;
pub mod fhir;
