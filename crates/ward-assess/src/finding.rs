//! Findings: one vulnerability on one asset (or one of its SBOM components), with the
//! full explanation of why Ward thinks so.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use ward_intel::{Remediation, Score};

/// How sure the match is.
///
/// * `Confirmed`: an exact identifier (CPE, PURL, serial, the advisory's model number)
///   or the model number matched, and the installed version is inside the affected range.
/// * `Probable`: the normalised vendor and product name matched and the version is inside
///   the range.
/// * `Possible`: only the name matched (the device's model is less specific than the
///   advisory's product), or the version is unknown or cannot be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Possible,
    Probable,
    Confirmed,
}

impl Confidence {
    pub fn as_str(&self) -> &'static str {
        match self {
            Confidence::Possible => "possible",
            Confidence::Probable => "probable",
            Confidence::Confirmed => "confirmed",
        }
    }
}

/// One attribute-to-advisory correspondence that supports a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchReason {
    /// The rule: "vendor_alias", "model_number", "product_name", "product_name_partial",
    /// "cpe", "purl", "serial", "helper_model_number", "sbom_declared".
    pub rule: String,
    /// Device attribute ("vendor", "model", "serial", "component purl"...).
    pub attribute: String,
    pub value: String,
    /// Where the device attribute came from.
    pub evidence: String,
    /// The advisory field ("product_tree vendor", "product_name", "cpe", ...).
    pub advisory_field: String,
    pub advisory_value: String,
}

/// The version comparison behind a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionCheck {
    /// The installed version, if known.
    pub installed: Option<String>,
    pub installed_evidence: Option<String>,
    /// The advisory's affected-version predicate as written ("< 8.2.2", "vers:all/*").
    pub affected: String,
    /// The version scheme the comparison used.
    pub scheme: String,
    /// `Some(true)` inside, `None` undecided (unknown/uncomparable version). Findings
    /// with `Some(false)` are not emitted.
    pub result: Option<bool>,
    pub explanation: String,
}

/// A VEX statement applied to a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexApplied {
    /// affected, not_affected, fixed, under_investigation, or the raw word.
    pub status: String,
    pub justification: Option<String>,
    pub impact_statement: Option<String>,
    pub action_statement: Option<String>,
    /// Who said it: the VEX document id, or "local" for hospital assessments.
    pub source: String,
    /// For `fixed`: the version that fixes it, when the statement or advisory says.
    pub fixed_version: Option<String>,
    /// Whether the statement removes the finding from the open list (not_affected, fixed).
    pub suppresses: bool,
}

/// One vulnerability on one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: `F-` + 12 hex digits of SHA-256 over asset, vulnerability, source,
    /// product and component.
    pub id: String,
    pub asset_id: String,
    pub asset_name: String,
    /// For component-level findings: the SBOM component ("name@version", bom-ref).
    pub component: Option<String>,
    pub component_ref: Option<String>,
    pub component_purl: Option<String>,
    /// CVE id when there is one, else the advisory's own vulnerability id.
    pub vulnerability: String,
    pub aliases: Vec<String>,
    /// The advisory / record the match came from (CSAF tracking id, OSV id, SBOM serial).
    pub source: String,
    /// "csaf", "osv", "cve5", "sbom".
    pub source_kind: String,
    pub title: Option<String>,
    pub product_id: Option<String>,
    pub product_name: String,
    /// The CSAF product status list the product is in ("known_affected"...).
    pub product_status: String,
    pub reasons: Vec<MatchReason>,
    pub version: VersionCheck,
    pub confidence: Confidence,
    /// Shared with every finding of the same advisory clause (findings are many).
    pub scores: Arc<Vec<Score>>,
    pub remediations: Arc<Vec<Remediation>>,
    pub vex: Option<VexApplied>,
    /// How many product-name tokens the device's model and the advisory product do not
    /// share (0 for identifier matches): a fixed / not-affected product closes a finding
    /// only when it names the device at least as closely as the affected one.
    #[serde(skip)]
    pub name_distance: u32,
}

impl Finding {
    /// Computes the stable id from the identifying fields.
    pub fn compute_id(
        asset_id: &str,
        vulnerability: &str,
        source: &str,
        product: &str,
        component: &str,
    ) -> String {
        let mut h = Sha256::new();
        for part in [asset_id, vulnerability, source, product, component] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        format!("F-{}", hex::encode(&digest[..6]))
    }

    /// Whether a VEX statement closed it (not_affected or fixed).
    pub fn is_suppressed(&self) -> bool {
        self.vex.as_ref().is_some_and(|v| v.suppresses)
    }

    /// The explanation as lines of text, from device evidence to advisory clause.
    pub fn explain(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{} {} on {} ({}) [{}]",
            self.id,
            self.vulnerability,
            self.asset_name,
            self.asset_id,
            self.confidence.as_str()
        )];
        if let Some(c) = &self.component {
            out.push(format!("  component: {c}"));
        }
        out.push(format!(
            "  source: {} {} product {:?} ({}) in {}",
            self.source_kind,
            self.source,
            self.product_name,
            self.product_id.as_deref().unwrap_or("-"),
            self.product_status
        ));
        for r in &self.reasons {
            out.push(format!(
                "  matched [{}]: device {} {:?} ({}) ~ advisory {} {:?}",
                r.rule, r.attribute, r.value, r.evidence, r.advisory_field, r.advisory_value
            ));
        }
        out.push(format!(
            "  version: installed {} vs affected {:?} ({}): {}",
            self.version.installed.as_deref().unwrap_or("unknown"),
            self.version.affected,
            self.version.scheme,
            self.version.explanation
        ));
        if let Some(v) = &self.vex {
            out.push(format!(
                "  vex: {} by {}{}{}",
                v.status,
                v.source,
                v.justification
                    .as_ref()
                    .map(|j| format!(", justification {j}"))
                    .unwrap_or_default(),
                v.fixed_version
                    .as_ref()
                    .map(|f| format!(", fixed in {f}"))
                    .unwrap_or_default()
            ));
        }
        for r in self.remediations.iter() {
            out.push(format!("  remediation [{}]: {}", r.category, r.details));
        }
        out
    }
}
