//! Ward's vulnerability intelligence: readers for every advisory, SBOM and feed format
//! Ward imports, normalised into one model with provenance. It knows nothing of devices.
//!
//! Start with [`IntelDb::import_file`] (format auto-detected) or [`import_paths`]; each
//! reader module (`csaf`, `cyclonedx`, `spdx`, `openvex`, `kev`, `epss`, `osv`, `cve5`)
//! can also be used alone. Readers never panic: errors name the file and the position.
//!
//! ```no_run
//! use ward_intel::{import_paths, IntelDb};
//! let mut db = IntelDb::new();
//! let report = import_paths(&mut db, &["advisories/".into()], &|p| eprintln!("{}", p.display()));
//! println!("{report}");
//! if let Some(json) = db.show("CVE-2017-0144") {
//!     println!("{json}");
//! }
//! ```
//!
//! Map: [`model`] (normalized types), [`detect`] (format detection and dispatch),
//! [`import`] (the database, import / validate / show), [`signature`] (checksums and
//! OpenPGP), one module per format. CVSS vectors, CPEs, PURLs and version ranges are
//! kept as raw strings here; their interpretation lives in separate modules.

pub mod cpe;
pub mod csaf;
pub mod cvss;
pub mod purl;
pub mod version;

pub mod cve5;
pub mod cyclonedx;
pub mod detect;
pub mod epss;
pub mod error;
pub mod import;
pub mod kev;
pub mod model;
pub mod openvex;
pub mod osv;
pub mod schema;
pub mod signature;
pub mod spdx;

pub use detect::{detect, read_document, read_document_with, ReadOptions};
pub use error::IntelError;
pub use import::{
    import_paths, validate_paths, validate_paths_with, ImportOutcome, ImportReport, IntelDb,
    ShowItem, ValidationReport,
};
pub use model::*;
pub use schema::{SchemaKind, SchemaSet, SchemaViolation};
pub use signature::Keyring;
