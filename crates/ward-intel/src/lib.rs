//! Ward's vulnerability intelligence: readers for every advisory, SBOM and feed format
//! Ward imports, normalised into one model with provenance. It knows nothing of devices.
//!
//! Start with [`IntelDb::import_file`] (format auto-detected) or [`import_paths`]; each
//! reader module (`csaf`, `cyclonedx`, `spdx`, `openvex`, `kev`, `epss`, `osv`, `cve5`)
//! can also be used alone. Readers never panic: errors name the file and the position.

pub mod csaf;
pub mod cyclonedx;
pub mod spdx;
pub mod error;
pub mod model;

pub use error::IntelError;
pub use model::*;
