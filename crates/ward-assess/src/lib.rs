//! Ward's assessment room: given an inventory (devices from `ward-identify`, a CMMS
//! CSV, SBOMs) and intel (`ward-intel`), it decides which vulnerabilities concern which
//! devices and what to do about them. Pure functions, no I/O: the `ward assess`
//! command reads the files.
//!
//! * [`matcher`]: indexed matching of assets against CSAF products, OSV packages and
//!   SBOM-declared vulnerabilities; every [`Finding`] explains itself with a
//!   [`Confidence`].
//! * [`vex`]: manufacturer VEX (CSAF, CycloneDX, OpenVEX) applied to findings; local
//!   hospital assessments exported as CycloneDX VEX, OpenVEX and CSAF VEX.
//! * [`risk`]: the clinical risk score (see `docs/RISK.md`).
//! * [`plan`]: mitigation plans per device.
//! * [`lifecycle`]: the finding status model and its transition rules.
//! * [`segment`]: zones, conduits and violations from observed connections.
//! * [`blast`]: what a compromised device can reach next.
//!
//! ```no_run
//! use ward_assess::{asset::Asset, matcher::MatchIndex};
//! # let advisories: Vec<ward_intel::Advisory> = vec![]; let assets: Vec<Asset> = vec![];
//! let index = MatchIndex::build(&advisories, &[]);
//! for f in index.match_all(&assets) {
//!     println!("{}", f.explain().join("\n"));
//! }
//! ```

pub mod alias;
pub mod asset;
pub mod finding;
pub mod matcher;

pub use asset::{parse_inventory_csv, Asset, AssetAttr, InventoryError, InventoryRow};
pub use finding::{Confidence, Finding, MatchReason, VersionCheck, VexApplied};
pub use matcher::{AssetIndex, MatchIndex};
pub mod blast;
pub mod lifecycle;
pub mod plan;
pub mod report;
pub mod risk;
pub mod segment;
pub mod vex;
