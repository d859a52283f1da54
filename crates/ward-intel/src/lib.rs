//! Ward's vulnerability intelligence: readers for every advisory, SBOM and feed format
//! Ward imports, normalised into one model with provenance. It knows nothing of devices.

pub mod cpe;
pub mod cvss;
pub mod purl;
pub mod version;
