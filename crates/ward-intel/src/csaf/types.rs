//! Serde types for CSAF 2.0 (and the 2.1 fields that cost nothing), holding only what Ward
//! reads. Unknown fields are ignored so that 2.1 documents and extensions still parse;
//! the fields the schema requires are required here too.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct CsafJson {
    pub document: DocumentJ,
    pub product_tree: Option<ProductTreeJ>,
    pub vulnerabilities: Option<Vec<VulnerabilityJ>>,
}

#[derive(Debug, Deserialize)]
pub struct DocumentJ {
    pub category: String,
    pub csaf_version: String,
    pub publisher: PublisherJ,
    pub title: String,
    pub tracking: TrackingJ,
    pub lang: Option<String>,
    pub source_lang: Option<String>,
    pub notes: Option<Vec<NoteJ>>,
    pub references: Option<Vec<ReferenceJ>>,
    pub distribution: Option<Value>,
    pub aggregate_severity: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct PublisherJ {
    pub category: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Deserialize)]
pub struct TrackingJ {
    pub id: String,
    pub version: String,
    pub status: String,
    pub initial_release_date: String,
    pub current_release_date: String,
    pub revision_history: Vec<RevisionJ>,
}

#[derive(Debug, Deserialize)]
pub struct RevisionJ {
    pub date: String,
    pub number: String,
    pub summary: String,
}

#[derive(Debug, Deserialize)]
pub struct NoteJ {
    pub category: String,
    pub text: String,
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ReferenceJ {
    pub url: String,
    pub summary: String,
    pub category: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ProductTreeJ {
    pub branches: Option<Vec<BranchJ>>,
    pub full_product_names: Option<Vec<FullProductNameJ>>,
    pub relationships: Option<Vec<RelationshipJ>>,
    pub product_groups: Option<Vec<ProductGroupJ>>,
}

#[derive(Debug, Deserialize)]
pub struct BranchJ {
    pub category: String,
    pub name: String,
    pub branches: Option<Vec<BranchJ>>,
    pub product: Option<FullProductNameJ>,
}

#[derive(Debug, Deserialize)]
pub struct FullProductNameJ {
    pub name: String,
    pub product_id: String,
    pub product_identification_helper: Option<HelperJ>,
}

#[derive(Debug, Deserialize)]
pub struct HelperJ {
    pub cpe: Option<String>,
    pub purl: Option<String>,
    pub hashes: Option<Vec<HashesJ>>,
    pub model_numbers: Option<Vec<String>>,
    pub sbom_urls: Option<Vec<String>>,
    pub serial_numbers: Option<Vec<String>>,
    pub skus: Option<Vec<String>>,
    pub x_generic_uris: Option<Vec<GenericUriJ>>,
}

#[derive(Debug, Deserialize)]
pub struct HashesJ {
    pub file_hashes: Vec<FileHashJ>,
    pub filename: String,
}

#[derive(Debug, Deserialize)]
pub struct FileHashJ {
    pub algorithm: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
pub struct GenericUriJ {
    pub namespace: String,
    pub uri: String,
}

#[derive(Debug, Deserialize)]
pub struct RelationshipJ {
    pub category: String,
    pub full_product_name: FullProductNameJ,
    pub product_reference: String,
    pub relates_to_product_reference: String,
}

#[derive(Debug, Deserialize)]
pub struct ProductGroupJ {
    pub group_id: String,
    pub product_ids: Vec<String>,
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct VulnerabilityJ {
    pub cve: Option<String>,
    pub cwe: Option<CweJ>,
    pub ids: Option<Vec<IdJ>>,
    pub notes: Option<Vec<NoteJ>>,
    pub title: Option<String>,
    pub discovery_date: Option<String>,
    pub release_date: Option<String>,
    pub product_status: Option<ProductStatusJ>,
    pub remediations: Option<Vec<RemediationJ>>,
    pub scores: Option<Vec<ScoreJ>>,
    pub threats: Option<Vec<ThreatJ>>,
    pub flags: Option<Vec<FlagJ>>,
    pub references: Option<Vec<ReferenceJ>>,
    pub involvements: Option<Vec<InvolvementJ>>,
    /// CSAF 2.1: several CWEs.
    pub cwes: Option<Vec<CweJ>>,
    /// CSAF 2.1: `metrics[]` replaces `scores[]`.
    pub metrics: Option<Vec<MetricJ>>,
}

/// A CSAF 2.1 metric: the scores of one set of products.
#[derive(Debug, Deserialize)]
pub struct MetricJ {
    pub products: Vec<String>,
    pub content: MetricContentJ,
}

#[derive(Debug, Deserialize)]
pub struct MetricContentJ {
    pub cvss_v2: Option<Value>,
    pub cvss_v3: Option<Value>,
    pub cvss_v4: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct CweJ {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct IdJ {
    pub system_name: String,
    pub text: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct ProductStatusJ {
    pub first_affected: Option<Vec<String>>,
    pub first_fixed: Option<Vec<String>>,
    pub fixed: Option<Vec<String>>,
    pub known_affected: Option<Vec<String>>,
    pub known_not_affected: Option<Vec<String>>,
    pub last_affected: Option<Vec<String>>,
    pub recommended: Option<Vec<String>>,
    pub under_investigation: Option<Vec<String>>,
}

impl ProductStatusJ {
    /// (list name, ids) for all eight lists, present or not.
    pub fn lists(&self) -> [(&'static str, &[String]); 8] {
        fn s(v: &Option<Vec<String>>) -> &[String] {
            v.as_deref().unwrap_or(&[])
        }
        [
            ("first_affected", s(&self.first_affected)),
            ("first_fixed", s(&self.first_fixed)),
            ("fixed", s(&self.fixed)),
            ("known_affected", s(&self.known_affected)),
            ("known_not_affected", s(&self.known_not_affected)),
            ("last_affected", s(&self.last_affected)),
            ("recommended", s(&self.recommended)),
            ("under_investigation", s(&self.under_investigation)),
        ]
    }
}

#[derive(Debug, Deserialize)]
pub struct RemediationJ {
    pub category: String,
    pub details: String,
    pub url: Option<String>,
    pub date: Option<String>,
    pub product_ids: Option<Vec<String>>,
    pub group_ids: Option<Vec<String>>,
    pub restart_required: Option<RestartJ>,
}

#[derive(Debug, Deserialize)]
pub struct RestartJ {
    pub category: String,
}

#[derive(Debug, Deserialize)]
pub struct ScoreJ {
    pub products: Vec<String>,
    pub cvss_v2: Option<Value>,
    pub cvss_v3: Option<Value>,
    /// CSAF 2.1 only; kept raw.
    pub cvss_v4: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct ThreatJ {
    pub category: String,
    pub details: String,
    pub date: Option<String>,
    pub product_ids: Option<Vec<String>>,
    pub group_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub struct FlagJ {
    pub label: String,
    pub date: Option<String>,
    pub product_ids: Option<Vec<String>>,
    pub group_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub struct InvolvementJ {
    pub party: String,
    pub status: String,
    pub date: Option<String>,
}
