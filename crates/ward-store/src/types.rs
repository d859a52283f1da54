//! The records the store takes and gives back. Times are microseconds since the Unix epoch
//! (`i64`, as stored).

use serde::{Deserialize, Serialize};
use ward_model::{ConnectionEdge, Observation, SecurityObservation};

/// Who made a change and from where, for the audit log and histories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// A user name, `token:<id>`, `sensor:<name>` or `system`.
    pub name: String,
    /// The client address, if the change came over the network.
    pub source: Option<String>,
}

impl Actor {
    pub fn new(name: impl Into<String>, source: Option<String>) -> Self {
        Actor {
            name: name.into(),
            source,
        }
    }
    /// The server itself (jobs, migrations).
    pub fn system() -> Self {
        Actor::new("system", None)
    }
}

/// A site (hospital, campus) that sensors report for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// What a sensor ships in one batch: the output of the dissection pipeline. The types
/// carry device metadata only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The capture files (or interface) that [`ward_model::Evidence::file`] indexes.
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub observations: Vec<Observation>,
    #[serde(default)]
    pub security: Vec<SecurityObservation>,
    #[serde(default)]
    pub edges: Vec<ConnectionEdge>,
}

/// The result of [`crate::Store::ingest_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IngestOutcome {
    /// The batch was new and is now committed: counts of distinct rows written (after
    /// merging duplicates inside the batch).
    Applied {
        observations: u64,
        security: u64,
        edges: u64,
    },
    /// A batch with this id was committed before; nothing changed.
    AlreadyApplied,
}

/// Where a stored fact was first seen: the batch, and the file and packet within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvidence {
    pub batch: String,
    pub file: u32,
    pub packet: u64,
    pub ts: u64,
    pub flow: Option<u64>,
}

/// An aggregated observation as stored for a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObservation {
    pub site: String,
    pub observation: Observation,
    pub evidence: StoredEvidence,
}

/// All raw facts of a site, ready for `ward_identify::identify`. The `file` of each
/// evidence is 0-based within its batch; [`StoredObservation`] keeps the batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteFacts {
    pub observations: Vec<Observation>,
    pub security: Vec<SecurityObservation>,
    pub edges: Vec<ConnectionEdge>,
}

/// One device row for listings: the chosen attributes (a manual override's value where
/// there is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    pub id: String,
    pub site: String,
    pub name: String,
    pub category: Option<String>,
    pub criticality: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub os: Option<String>,
    pub firmware_version: Option<String>,
    pub software_version: Option<String>,
    pub hostname: Option<String>,
    pub macs: Vec<String>,
    pub ips: Vec<String>,
    pub is_router: bool,
    pub first_seen: i64,
    pub last_seen: i64,
    pub stale: bool,
}

/// A device with its full identification detail and its manual overrides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceDetail {
    pub summary: DeviceSummary,
    /// The identified device as `ward_identify::Device` serialises it: every attribute with
    /// its candidates and evidence, facts, security observations.
    pub detail: serde_json::Value,
    pub overrides: Vec<ward_identify::ManualOverride>,
}

/// A device as the store writes it: built from an identified device with
/// [`DeviceRecord::from_device`], or directly (imports, synthetic data).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceRecord {
    pub id: String,
    pub site: String,
    pub name: String,
    /// Inferred attribute values by [`ward_identify::AttrKind`] name (`vendor`, `model`,
    /// `category`, `os`, `firmware_version`, `software_version`, `hostname`).
    pub inferred: std::collections::BTreeMap<String, String>,
    pub macs: Vec<String>,
    pub ips: Vec<String>,
    pub is_router: bool,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The full detail JSON (see [`DeviceDetail::detail`]).
    pub detail: serde_json::Value,
}

/// The attribute names that are columns of the device table (and so can be filtered and
/// sorted on, and overridden in listings).
pub const DEVICE_COLUMNS: &[&str] = &[
    "category",
    "vendor",
    "model",
    "os",
    "firmware_version",
    "software_version",
    "hostname",
];

impl DeviceRecord {
    /// The record of an identified device of `site`.
    pub fn from_device(site: &str, d: &ward_identify::Device) -> DeviceRecord {
        use ward_identify::AttrKind;
        let mut inferred = std::collections::BTreeMap::new();
        for kind in [
            AttrKind::Vendor,
            AttrKind::Model,
            AttrKind::Os,
            AttrKind::FirmwareVersion,
            AttrKind::SoftwareVersion,
            AttrKind::Hostname,
        ] {
            if let Some(v) = d.value(kind) {
                inferred.insert(kind.as_str().to_string(), v.to_string());
            }
        }
        if let Some(c) = d.category {
            inferred.insert("category".into(), c.as_str().to_string());
        }
        DeviceRecord {
            id: d.id.clone(),
            site: site.to_string(),
            name: d.display_name(),
            inferred,
            macs: d.macs.iter().map(|m| m.to_string()).collect(),
            ips: d.ips.iter().map(|b| b.ip.to_string()).collect(),
            is_router: d.is_router,
            first_seen: crate::i(d.first_seen.0),
            last_seen: crate::i(d.last_seen.0),
            detail: serde_json::to_value(d).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Columns a device listing can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceSort {
    #[default]
    Name,
    Site,
    Category,
    /// By criticality rank (low < medium < high < critical).
    Criticality,
    Vendor,
    Model,
    SoftwareVersion,
    Hostname,
    FirstSeen,
    LastSeen,
}

/// A device listing request. Filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceQuery {
    pub site: Option<String>,
    pub category: Option<String>,
    pub vendor: Option<String>,
    pub stale: Option<bool>,
    /// Case-insensitive substring of the name, host name, an IP or a MAC.
    pub text: Option<String>,
    pub sort: DeviceSort,
    pub descending: bool,
    /// Page size (clamped to 1..=1000).
    pub limit: u32,
    /// Offset pagination (ignored when `after` is set).
    pub offset: u64,
    /// Keyset pagination: the `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Also count all matching devices (a second query).
    pub with_total: bool,
}

impl Default for DeviceQuery {
    fn default() -> Self {
        DeviceQuery {
            site: None,
            category: None,
            vendor: None,
            stale: None,
            text: None,
            sort: DeviceSort::Name,
            descending: false,
            limit: 50,
            offset: 0,
            after: None,
            with_total: true,
        }
    }
}

/// One page of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePage {
    pub devices: Vec<DeviceSummary>,
    /// All devices matching the filters (when asked for).
    pub total: Option<u64>,
    /// Pass as [`DeviceQuery::after`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// One normalised intel document to import (CSAF advisory, VEX, SBOM, KEV catalogue ...).
/// The caller (the intel room) normalises; the store keeps the JSON and indexes the
/// products and CVEs for lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntelDocument {
    /// `csaf`, `openvex`, `cyclonedx`, `spdx`, `kev`, `epss`, `osv`, `cve`, `mds2` ...
    pub kind: String,
    /// The document's own id (CSAF tracking id, SBOM serial number ...).
    pub doc_id: String,
    pub version: String,
    pub publisher: String,
    /// SHA-256 of the imported bytes: importing the same bytes twice is a no-op.
    pub sha256: String,
    pub provenance: serde_json::Value,
    pub document: serde_json::Value,
    pub products: Vec<IntelProduct>,
    pub vulnerabilities: Vec<IntelVulnerability>,
}

/// A product named by an intel document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelProduct {
    /// The id within the document (CSAF product id, SBOM bom-ref ...); unique per document.
    pub product_id: String,
    pub vendor: String,
    pub name: String,
    pub version: String,
    pub cpe: String,
    pub purl: String,
}

/// A CVE (or other vulnerability id) and a product status the document states for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelVulnerability {
    pub cve: String,
    /// Empty when the statement is not about one product.
    pub product_id: String,
    /// `known_affected`, `fixed`, `known_not_affected`, `under_investigation`, ...
    pub status: String,
}

/// A stored intel document (without its JSON body; see
/// [`crate::Store::intel_document_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelDocumentSummary {
    pub id: i64,
    pub kind: String,
    pub doc_id: String,
    pub version: String,
    pub publisher: String,
    pub sha256: String,
    pub imported_at: i64,
    pub imported_by: String,
}

/// What an intel import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelImport {
    /// Store ids of newly imported documents, in input order.
    pub imported: Vec<i64>,
    /// Documents whose SHA-256 was already stored.
    pub already_present: usize,
}

/// The status lifecycle of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    InTriage,
    Affected,
    Mitigated,
    /// Needs an expiry; a job reopens it when the expiry passes.
    RiskAccepted,
    FalsePositive,
    Fixed,
}

impl FindingStatus {
    pub const ALL: &'static [FindingStatus] = &[
        FindingStatus::Open,
        FindingStatus::InTriage,
        FindingStatus::Affected,
        FindingStatus::Mitigated,
        FindingStatus::RiskAccepted,
        FindingStatus::FalsePositive,
        FindingStatus::Fixed,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::InTriage => "in_triage",
            FindingStatus::Affected => "affected",
            FindingStatus::Mitigated => "mitigated",
            FindingStatus::RiskAccepted => "risk_accepted",
            FindingStatus::FalsePositive => "false_positive",
            FindingStatus::Fixed => "fixed",
        }
    }
    pub fn parse(s: &str) -> Option<FindingStatus> {
        Self::ALL.iter().copied().find(|f| f.as_str() == s)
    }
}

/// A finding as the matcher produces it. Upserting keeps the status people gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewFinding {
    pub id: String,
    pub device_id: String,
    pub vulnerability: String,
    /// The intel document it came from, if stored.
    pub document: Option<i64>,
    pub confidence: f64,
    pub explanation: serde_json::Value,
}

/// A stored finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub device_id: String,
    pub vulnerability: String,
    pub document: Option<i64>,
    pub status: FindingStatus,
    pub reason: String,
    pub accepted_until: Option<i64>,
    pub confidence: f64,
    pub explanation: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One status change of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingChange {
    pub ts: i64,
    pub actor: String,
    /// `None` for the creation.
    pub from: Option<FindingStatus>,
    pub to: FindingStatus,
    pub reason: String,
    pub accepted_until: Option<i64>,
}

/// A job to schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Unique; scheduling an existing id changes nothing (replicas may all schedule).
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_after: i64,
    /// Repeat every so many seconds after each finish.
    pub interval_secs: Option<i64>,
}

/// A job claimed by one owner until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLease {
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub owner: String,
    pub lease_until: i64,
    pub attempts: i64,
}

/// A job's stored state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobState {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub run_after: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub last_run_at: Option<i64>,
}
