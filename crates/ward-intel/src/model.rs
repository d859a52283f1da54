//! The normalized intel model: what every reader produces, independent of any store.
//!
//! Version ranges, CVSS vectors, CPEs and PURLs are kept as the raw strings their
//! document wrote; interpreting them is the job of the `cvss`, `cpe`, `purl` and
//! `version` modules, so nothing is lost or guessed at import time.

use serde::{Deserialize, Serialize};

/// The formats Ward reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csaf,
    CycloneDxJson,
    CycloneDxXml,
    SpdxJson,
    SpdxTagValue,
    SpdxYaml,
    Spdx3JsonLd,
    OpenVex,
    KevJson,
    KevCsv,
    EpssCsv,
    Osv,
    Cve5,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csaf => "CSAF",
            Format::CycloneDxJson => "CycloneDX JSON",
            Format::CycloneDxXml => "CycloneDX XML",
            Format::SpdxJson => "SPDX 2 JSON",
            Format::SpdxTagValue => "SPDX 2 tag-value",
            Format::SpdxYaml => "SPDX 2 YAML",
            Format::Spdx3JsonLd => "SPDX 3 JSON-LD",
            Format::OpenVex => "OpenVEX",
            Format::KevJson => "CISA KEV JSON",
            Format::KevCsv => "CISA KEV CSV",
            Format::EpssCsv => "EPSS CSV",
            Format::Osv => "OSV",
            Format::Cve5 => "CVE JSON 5",
        }
    }
}

/// Result of checking the `.sha512` / `.sha256` file beside a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ChecksumStatus {
    #[default]
    NotPresent,
    Verified {
        algorithm: String,
    },
}

/// Result of checking the OpenPGP `.asc` signature beside a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum SignatureStatus {
    #[default]
    NotPresent,
    /// The signature verified against a key of the supplied keyring.
    Verified { issuer: String },
    /// A well-formed signature packet, but no key to check it with was supplied.
    /// Nothing is claimed about authenticity.
    SignaturePresentKeyUnknown { issuer: String },
}

/// Where a document came from. Attached to every imported document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Provenance {
    pub file_name: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Seconds since the Unix epoch when Ward imported the file.
    pub imported_at: u64,
    pub format: Option<Format>,
    pub checksum: ChecksumStatus,
    pub signature: SignatureStatus,
    pub publisher: Option<String>,
    pub tracking_id: Option<String>,
    pub version: Option<String>,
}

/// A free-text note of a document or vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Note {
    pub category: String,
    pub title: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reference {
    pub url: String,
    pub summary: Option<String>,
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Hash {
    pub algorithm: String,
    pub value: String,
}

/// The hashes of one file of a product (CSAF `hashes[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileHashes {
    pub filename: String,
    pub hashes: Vec<Hash>,
}

/// How a product can be recognised (CSAF product_identification_helper, SBOM ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProductIdentifiers {
    pub cpe: Option<String>,
    pub purl: Option<String>,
    pub model_numbers: Vec<String>,
    pub serial_numbers: Vec<String>,
    pub skus: Vec<String>,
    pub hashes: Vec<FileHashes>,
    pub sbom_urls: Vec<String>,
    /// CSAF `x_generic_uris` (namespace, uri).
    pub generic_uris: Vec<(String, String)>,
}

impl ProductIdentifiers {
    pub fn is_empty(&self) -> bool {
        self.cpe.is_none()
            && self.purl.is_none()
            && self.model_numbers.is_empty()
            && self.serial_numbers.is_empty()
            && self.skus.is_empty()
            && self.hashes.is_empty()
            && self.sbom_urls.is_empty()
            && self.generic_uris.is_empty()
    }
}

/// A product relationship such as "installed_on" (CSAF product_tree.relationships).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProductRelationship {
    pub category: String,
    pub product_reference: String,
    pub relates_to_product_reference: String,
}

/// One product (a CSAF product id) flattened from the branch path that defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Product {
    /// The document-local product id (CSAF `product_id`).
    pub id: String,
    /// The full product name as the document wrote it.
    pub name: String,
    pub vendor: Option<String>,
    pub family: Option<String>,
    /// The `product_name` branch name, if any.
    pub product_name: Option<String>,
    /// Exact version (`product_version` branch), raw.
    pub version: Option<String>,
    /// Version range (`product_version_range` branch), raw: `vers:...` or free form.
    pub version_range: Option<String>,
    pub architecture: Option<String>,
    pub identifiers: ProductIdentifiers,
    /// Other names for the same product (e.g. relationship-built names).
    pub aliases: Vec<String>,
    pub relationship: Option<ProductRelationship>,
}

/// A named set of products (CSAF product_groups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProductGroup {
    pub id: String,
    pub summary: Option<String>,
    pub product_ids: Vec<String>,
}

/// The CVSS version a score was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CvssVersion {
    #[serde(rename = "2.0")]
    V2,
    #[serde(rename = "3.0")]
    V30,
    #[serde(rename = "3.1")]
    V31,
    #[serde(rename = "4.0")]
    V40,
}

impl CvssVersion {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "2.0" | "2" => Some(CvssVersion::V2),
            "3.0" => Some(CvssVersion::V30),
            "3.1" => Some(CvssVersion::V31),
            "4.0" | "4" => Some(CvssVersion::V40),
            _ => None,
        }
    }
}

/// A score as the document wrote it; the vector is authoritative and raw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub version: CvssVersion,
    pub vector: String,
    pub base_score: Option<f64>,
    pub base_severity: Option<String>,
    /// Products (ids) the score applies to; empty where the format has no such notion.
    pub products: Vec<String>,
    /// Who gave the score (CVE ADP provider, CSAF publisher...), when known.
    pub source: Option<String>,
}

/// The eight CSAF product status lists, as product ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProductStatus {
    pub first_affected: Vec<String>,
    pub first_fixed: Vec<String>,
    pub fixed: Vec<String>,
    pub known_affected: Vec<String>,
    pub known_not_affected: Vec<String>,
    pub last_affected: Vec<String>,
    pub recommended: Vec<String>,
    pub under_investigation: Vec<String>,
}

impl ProductStatus {
    /// Every (list name, product id) pair.
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &String)> {
        [
            ("first_affected", &self.first_affected),
            ("first_fixed", &self.first_fixed),
            ("fixed", &self.fixed),
            ("known_affected", &self.known_affected),
            ("known_not_affected", &self.known_not_affected),
            ("last_affected", &self.last_affected),
            ("recommended", &self.recommended),
            ("under_investigation", &self.under_investigation),
        ]
        .into_iter()
        .flat_map(|(n, v)| v.iter().map(move |p| (n, p)))
    }
    pub fn len(&self) -> usize {
        self.entries().count()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What to do about a vulnerability for some products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Remediation {
    /// vendor_fix, mitigation, workaround, no_fix_planned, none_available (CSAF); free in others.
    pub category: String,
    pub details: String,
    pub url: Option<String>,
    pub date: Option<String>,
    /// Product ids, with the members of `group_ids` resolved in.
    pub product_ids: Vec<String>,
    pub group_ids: Vec<String>,
    pub restart_required: Option<String>,
}

/// A CSAF threat (impact, exploit_status, target_set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Threat {
    pub category: String,
    pub details: String,
    pub date: Option<String>,
    pub product_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

/// A CSAF flag (machine-readable VEX justification label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Flag {
    pub label: String,
    pub date: Option<String>,
    pub product_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VulnerabilityId {
    pub system_name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Cwe {
    pub id: String,
    pub name: Option<String>,
}

/// One vulnerability of an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Vulnerability {
    pub cve: Option<String>,
    pub ids: Vec<VulnerabilityId>,
    pub cwe: Option<Cwe>,
    pub title: Option<String>,
    pub notes: Vec<Note>,
    pub discovery_date: Option<String>,
    pub release_date: Option<String>,
    pub scores: Vec<Score>,
    pub product_status: ProductStatus,
    pub remediations: Vec<Remediation>,
    pub threats: Vec<Threat>,
    pub flags: Vec<Flag>,
    pub references: Vec<Reference>,
}

/// A security advisory (CSAF document of any category).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Advisory {
    /// `document.tracking.id`.
    pub tracking_id: String,
    /// `document.tracking.version`, raw (integer or semver).
    pub version: String,
    pub status: String,
    pub title: String,
    pub publisher: String,
    pub publisher_namespace: String,
    pub publisher_category: String,
    pub category: String,
    pub csaf_version: String,
    pub lang: Option<String>,
    pub initial_release_date: String,
    pub current_release_date: String,
    pub notes: Vec<Note>,
    pub references: Vec<Reference>,
    pub products: Vec<Product>,
    pub product_groups: Vec<ProductGroup>,
    pub vulnerabilities: Vec<Vulnerability>,
    pub provenance: Provenance,
}

impl Advisory {
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    /// The advisory's product statuses as VEX statements (CSAF VEX profile semantics):
    /// known_affected -> affected (action: remediations for the product), known_not_affected
    /// -> not_affected (justification: flag label; impact: `impact` threats), fixed and
    /// first_fixed -> fixed, under_investigation -> under_investigation. `product` is the
    /// CSAF product id; the first/last_affected and recommended lists are not VEX statuses.
    pub fn vex_statements(&self) -> Vec<VexStatement> {
        let mut out = Vec::new();
        for v in &self.vulnerabilities {
            let vuln = v
                .cve
                .clone()
                .or_else(|| v.ids.first().map(|i| i.text.clone()))
                .unwrap_or_default();
            let aliases: Vec<String> = v
                .ids
                .iter()
                .map(|i| i.text.clone())
                .filter(|t| *t != vuln)
                .collect();
            let lists: [(&Vec<String>, VexStatus); 5] = [
                (&v.product_status.known_affected, VexStatus::Affected),
                (&v.product_status.known_not_affected, VexStatus::NotAffected),
                (&v.product_status.fixed, VexStatus::Fixed),
                (&v.product_status.first_fixed, VexStatus::Fixed),
                (
                    &v.product_status.under_investigation,
                    VexStatus::UnderInvestigation,
                ),
            ];
            for (ids, status) in lists {
                for pid in ids {
                    let about = |list: &[String]| list.iter().any(|p| p == pid);
                    let justification = v
                        .flags
                        .iter()
                        .find(|f| about(&f.product_ids))
                        .map(|f| f.label.clone());
                    let impact = v
                        .threats
                        .iter()
                        .filter(|t| t.category == "impact" && about(&t.product_ids))
                        .map(|t| t.details.clone())
                        .collect::<Vec<_>>();
                    let action = v
                        .remediations
                        .iter()
                        .filter(|r| about(&r.product_ids))
                        .map(|r| r.details.clone())
                        .collect::<Vec<_>>();
                    let not_affected = status == VexStatus::NotAffected;
                    out.push(VexStatement {
                        vulnerability: vuln.clone(),
                        aliases: aliases.clone(),
                        product: pid.clone(),
                        subcomponents: Vec::new(),
                        status: status.clone(),
                        justification: if not_affected { justification } else { None },
                        impact_statement: (not_affected && !impact.is_empty())
                            .then(|| impact.join("\n")),
                        action_statement: (status == VexStatus::Affected && !action.is_empty())
                            .then(|| action.join("\n")),
                        responses: v
                            .remediations
                            .iter()
                            .filter(|r| about(&r.product_ids))
                            .map(|r| r.category.clone())
                            .collect(),
                        detail: None,
                        timestamp: Some(self.current_release_date.clone()),
                        source_document: self.tracking_id.clone(),
                        versions: Vec::new(),
                    });
                }
            }
        }
        out
    }
}

/// A key/value property of a component (CycloneDX `properties`, SPDX annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Property {
    pub name: String,
    pub value: String,
}

/// Support life-cycle facts FDA premarket guidance asks SBOMs to carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SupportInfo {
    pub level_of_support: Option<String>,
    pub end_of_support: Option<String>,
}

/// A component of an SBOM (CycloneDX component, SPDX package).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Component {
    /// CycloneDX `bom-ref` or SPDX element id.
    pub bom_ref: Option<String>,
    /// application, library, device, firmware, operating-system... (CycloneDX), or
    /// SPDX `primaryPackagePurpose` when given.
    pub component_type: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub group: Option<String>,
    pub supplier: Option<String>,
    pub publisher: Option<String>,
    pub purl: Option<String>,
    pub cpe: Option<String>,
    /// Additional CPEs (SPDX may list several).
    pub other_cpes: Vec<String>,
    pub hashes: Vec<Hash>,
    pub properties: Vec<Property>,
    pub support: SupportInfo,
    /// `bom_ref` of the enclosing component, for nested components.
    pub parent: Option<String>,
    /// Version range (CycloneDX 1.7 `versionRange`), raw.
    pub version_range: Option<String>,
}

/// A dependency / relationship edge between two SBOM elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Relationship {
    pub from: String,
    /// DEPENDS_ON, CONTAINS, DESCRIBES... (SPDX) or "dependsOn"/"provides" (CycloneDX).
    pub kind: String,
    pub to: String,
}

/// The status a VEX statement gives a product for a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    Affected,
    NotAffected,
    Fixed,
    UnderInvestigation,
    /// A status word outside the four (e.g. CycloneDX `false_positive`), kept as written.
    Other(String),
}

/// One VEX statement: vulnerability x product -> status, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexStatement {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    /// Product reference: a purl, CycloneDX bom-ref, CSAF product id or OpenVEX @id.
    pub product: String,
    pub subcomponents: Vec<String>,
    pub status: VexStatus,
    pub justification: Option<String>,
    pub impact_statement: Option<String>,
    pub action_statement: Option<String>,
    /// CycloneDX `analysis.response[]`.
    pub responses: Vec<String>,
    pub detail: Option<String>,
    pub timestamp: Option<String>,
    /// Tracking id / serial number / @id of the document that made the statement.
    pub source_document: String,
    /// Version range the statement covers, raw (CycloneDX `affects[].versions`).
    pub versions: Vec<String>,
}

/// A vulnerability described inside an SBOM (CycloneDX `vulnerabilities[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SbomVulnerability {
    pub id: String,
    pub source: Option<String>,
    pub ratings: Vec<Score>,
    /// Ratings without a vector (method "other", or a bare severity).
    pub severities: Vec<String>,
    pub cwes: Vec<u32>,
    pub description: Option<String>,
    pub affects: Vec<String>,
}

/// An SBOM (CycloneDX or SPDX), possibly carrying VEX data (CycloneDX VEX).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SbomDocument {
    pub spec_version: String,
    /// CycloneDX serialNumber or SPDX documentNamespace / @id.
    pub serial_number: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    /// What the SBOM describes (CycloneDX metadata.component; SPDX DESCRIBES target).
    pub subject: Option<Component>,
    /// All components, nested ones flattened with `parent` set.
    pub components: Vec<Component>,
    pub relationships: Vec<Relationship>,
    pub vulnerabilities: Vec<SbomVulnerability>,
    pub vex: Vec<VexStatement>,
    pub provenance: Provenance,
}

/// A standalone VEX document (OpenVEX).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VexDocument {
    pub id: String,
    pub author: Option<String>,
    pub version: Option<String>,
    pub timestamp: Option<String>,
    pub spec_version: String,
    pub statements: Vec<VexStatement>,
    pub provenance: Provenance,
}

/// One entry of CISA's Known Exploited Vulnerabilities catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KevEntry {
    pub cve: String,
    pub vendor_project: String,
    pub product: String,
    pub vulnerability_name: String,
    pub date_added: String,
    pub short_description: String,
    pub required_action: String,
    pub due_date: String,
    /// "Known" or "Unknown".
    pub known_ransomware_campaign_use: String,
    pub notes: String,
    pub cwes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct KevCatalog {
    pub title: Option<String>,
    pub catalog_version: Option<String>,
    pub date_released: Option<String>,
    pub entries: Vec<KevEntry>,
    pub provenance: Provenance,
}

/// One EPSS probability for one CVE on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    pub cve: String,
    pub score: f64,
    pub percentile: f64,
    /// YYYY-MM-DD.
    pub date: String,
    pub model_version: Option<String>,
}

/// One daily EPSS file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EpssSnapshot {
    pub model_version: Option<String>,
    pub score_date: String,
    pub scores: Vec<EpssScore>,
    pub provenance: Provenance,
}

/// An OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OsvRange {
    /// SEMVER, ECOSYSTEM or GIT.
    pub range_type: String,
    pub repo: Option<String>,
    pub events: Vec<OsvEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OsvAffected {
    pub ecosystem: Option<String>,
    pub name: Option<String>,
    pub purl: Option<String>,
    pub ranges: Vec<OsvRange>,
    pub versions: Vec<String>,
}

/// An OSV vulnerability record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OsvRecord {
    pub id: String,
    pub schema_version: Option<String>,
    pub modified: String,
    pub published: Option<String>,
    pub withdrawn: Option<String>,
    pub aliases: Vec<String>,
    pub related: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    /// (type, score) as written: CVSS_V3 vectors etc.
    pub severity: Vec<(String, String)>,
    pub affected: Vec<OsvAffected>,
    pub references: Vec<Reference>,
    pub provenance: Provenance,
}

/// One version entry of a CVE 5 `affected[].versions[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CveVersion {
    pub version: String,
    pub status: String,
    pub version_type: Option<String>,
    pub less_than: Option<String>,
    pub less_than_or_equal: Option<String>,
    /// (at, status) pairs.
    pub changes: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CveAffected {
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub collection_url: Option<String>,
    pub package_name: Option<String>,
    pub cpes: Vec<String>,
    pub platforms: Vec<String>,
    pub default_status: Option<String>,
    pub versions: Vec<CveVersion>,
}

/// A CNA or ADP container of a CVE record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CveContainer {
    /// providerMetadata.shortName (or orgId).
    pub provider: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub affected: Vec<CveAffected>,
    pub metrics: Vec<Score>,
    /// CWE ids from problemTypes.
    pub cwes: Vec<String>,
    pub references: Vec<Reference>,
}

/// A CVE JSON 5 record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CveRecord {
    pub id: String,
    pub state: String,
    pub assigner: Option<String>,
    pub date_published: Option<String>,
    pub date_updated: Option<String>,
    pub cna: CveContainer,
    pub adp: Vec<CveContainer>,
    pub provenance: Provenance,
}

/// Anything a reader can produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IntelDocument {
    Advisory(Box<Advisory>),
    Sbom(Box<SbomDocument>),
    Vex(Box<VexDocument>),
    Kev(Box<KevCatalog>),
    Epss(Box<EpssSnapshot>),
    Osv(Box<OsvRecord>),
    Cve(Box<CveRecord>),
}

impl IntelDocument {
    pub fn provenance(&self) -> &Provenance {
        match self {
            IntelDocument::Advisory(d) => &d.provenance,
            IntelDocument::Sbom(d) => &d.provenance,
            IntelDocument::Vex(d) => &d.provenance,
            IntelDocument::Kev(d) => &d.provenance,
            IntelDocument::Epss(d) => &d.provenance,
            IntelDocument::Osv(d) => &d.provenance,
            IntelDocument::Cve(d) => &d.provenance,
        }
    }
    pub fn provenance_mut(&mut self) -> &mut Provenance {
        match self {
            IntelDocument::Advisory(d) => &mut d.provenance,
            IntelDocument::Sbom(d) => &mut d.provenance,
            IntelDocument::Vex(d) => &mut d.provenance,
            IntelDocument::Kev(d) => &mut d.provenance,
            IntelDocument::Epss(d) => &mut d.provenance,
            IntelDocument::Osv(d) => &mut d.provenance,
            IntelDocument::Cve(d) => &mut d.provenance,
        }
    }
    /// A short kind name for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            IntelDocument::Advisory(_) => "advisory",
            IntelDocument::Sbom(_) => "sbom",
            IntelDocument::Vex(_) => "vex",
            IntelDocument::Kev(_) => "kev",
            IntelDocument::Epss(_) => "epss",
            IntelDocument::Osv(_) => "osv",
            IntelDocument::Cve(_) => "cve",
        }
    }
    /// The document's own identifier (tracking id, serial number, CVE id...).
    pub fn id(&self) -> String {
        match self {
            IntelDocument::Advisory(d) => d.tracking_id.clone(),
            IntelDocument::Sbom(d) => d
                .serial_number
                .clone()
                .or_else(|| d.name.clone())
                .unwrap_or_else(|| d.provenance.file_name.clone()),
            IntelDocument::Vex(d) => d.id.clone(),
            IntelDocument::Kev(d) => match &d.catalog_version {
                Some(v) => format!("KEV {v}"),
                None => format!(
                    "KEV {} ({} entries)",
                    d.provenance.file_name,
                    d.entries.len()
                ),
            },
            IntelDocument::Epss(d) => format!("EPSS {}", d.score_date),
            IntelDocument::Osv(d) => d.id.clone(),
            IntelDocument::Cve(d) => d.id.clone(),
        }
    }
}
