//! Device attributes as lists of candidate values, each with its source, evidence and
//! confidence.
//!
//! # Confidence
//!
//! A confidence is a number in `0.0..=1.0`: how likely the value is right given only this
//! one piece of evidence. The bands used for display ([`ConfidenceLevel`]) are
//! `high` (>= 0.8), `medium` (>= 0.5) and `low` (below 0.5). Rough guide for rule authors:
//!
//! * 0.9-0.95: the device states it about itself in a field made for it (DICOM
//!   Manufacturer, SDC manufacturer, POCT1 vendor), or a UID root registered to a vendor;
//! * 0.7-0.85: strong but indirect (a DHCP vendor class, an SMB native OS string, a product
//!   name in an HL7 application name);
//! * 0.4-0.6: suggestive (the NIC's OUI vendor, a DNS name, a behaviour pattern);
//! * below 0.4: a hint only.
//!
//! When several independent sources support the same value, the value's combined score is
//! `1 - Π(1 - cᵢ)` over its candidates (a "noisy or"), so agreement raises confidence. The
//! chosen value is the one with the highest combined score (ties: alphabetical, so output
//! is deterministic). A manual override always wins and is marked as such. Other values
//! stay in the list, and [`Attribute::conflict`] says when a single-valued attribute has
//! competing values.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ward_model::{Evidence, Timestamp};

/// The attributes Ward tracks for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrKind {
    Vendor,
    Model,
    /// A [`crate::taxonomy::Category`] name.
    Category,
    Os,
    FirmwareVersion,
    SoftwareVersion,
    /// Software product or toolkit seen in use (DCMTK, Mirth Connect, GoAhead ...).
    Software,
    Serial,
    Hostname,
    AeTitle,
    Hl7Application,
    Hl7Facility,
    /// DICOM modality codes the device produced (CT, MR ...).
    Modality,
    /// Roles such as "DICOM SCU", "DICOM SCP", "HL7 sender", "PACS", "interface engine".
    Role,
}

impl AttrKind {
    pub const ALL: &'static [AttrKind] = &[
        AttrKind::Vendor,
        AttrKind::Model,
        AttrKind::Category,
        AttrKind::Os,
        AttrKind::FirmwareVersion,
        AttrKind::SoftwareVersion,
        AttrKind::Software,
        AttrKind::Serial,
        AttrKind::Hostname,
        AttrKind::AeTitle,
        AttrKind::Hl7Application,
        AttrKind::Hl7Facility,
        AttrKind::Modality,
        AttrKind::Role,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AttrKind::Vendor => "vendor",
            AttrKind::Model => "model",
            AttrKind::Category => "category",
            AttrKind::Os => "os",
            AttrKind::FirmwareVersion => "firmware_version",
            AttrKind::SoftwareVersion => "software_version",
            AttrKind::Software => "software",
            AttrKind::Serial => "serial",
            AttrKind::Hostname => "hostname",
            AttrKind::AeTitle => "ae_title",
            AttrKind::Hl7Application => "hl7_application",
            AttrKind::Hl7Facility => "hl7_facility",
            AttrKind::Modality => "modality",
            AttrKind::Role => "role",
        }
    }

    /// Attributes for which a device legitimately has several values at once (names, AE
    /// titles, roles...). Competing values of these are not a conflict.
    pub fn is_multi_valued(&self) -> bool {
        matches!(
            self,
            AttrKind::Hostname
                | AttrKind::AeTitle
                | AttrKind::Hl7Application
                | AttrKind::Hl7Facility
                | AttrKind::Modality
                | AttrKind::Role
                | AttrKind::Software
                | AttrKind::SoftwareVersion
        )
    }
}

impl fmt::Display for AttrKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AttrKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AttrKind::ALL
            .iter()
            .find(|k| k.as_str() == s)
            .copied()
            .ok_or_else(|| format!("unknown device attribute {s:?}"))
    }
}

/// Display bands of a confidence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceLevel {
    Low,
    Medium,
    High,
}

impl ConfidenceLevel {
    pub fn of(confidence: f64) -> Self {
        if confidence >= 0.8 {
            ConfidenceLevel::High
        } else if confidence >= 0.5 {
            ConfidenceLevel::Medium
        } else {
            ConfidenceLevel::Low
        }
    }
}

impl fmt::Display for ConfidenceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfidenceLevel::Low => "low",
            ConfidenceLevel::Medium => "medium",
            ConfidenceLevel::High => "high",
        })
    }
}

/// Where a candidate value came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The value is an observed fact's value, taken as is (fact key in `key`).
    Fact { key: String },
    /// A fingerprint rule matched the fact `key`.
    Rule { id: String, key: String },
    /// The IEEE registry assigned the MAC prefix to this organization.
    Oui { registry: String, prefix: String },
    /// Inferred from the device's traffic pattern (rule id in `id`).
    Behaviour { id: String },
    /// Set by a person; wins over every inference.
    Manual {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        author: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        note: Option<String>,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Fact { key } => write!(f, "fact {key}"),
            Source::Rule { id, key } => write!(f, "rule {id} on {key}"),
            Source::Oui { registry, prefix } => write!(f, "IEEE {registry} {prefix}"),
            Source::Behaviour { id } => write!(f, "behaviour {id}"),
            Source::Manual { author, .. } => match author {
                Some(a) => write!(f, "manual override by {a}"),
                None => f.write_str("manual override"),
            },
        }
    }
}

/// One candidate value of an attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub value: String,
    /// The value as seen, when normalisation (vendor aliases) changed it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub raw: Option<String>,
    pub confidence: f64,
    pub source: Source,
    /// The observation behind the candidate (its first packet), when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_seen: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_seen: Option<Timestamp>,
}

impl Candidate {
    pub fn level(&self) -> ConfidenceLevel {
        ConfidenceLevel::of(self.confidence)
    }

    pub fn is_manual(&self) -> bool {
        matches!(self.source, Source::Manual { .. })
    }
}

/// All candidates for one attribute plus the chosen value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Attribute {
    /// The chosen value (manual override, else highest combined confidence).
    pub value: Option<String>,
    /// Combined confidence of the chosen value (1.0 for a manual override).
    pub confidence: f64,
    /// The chosen value was set by hand.
    pub overridden: bool,
    /// A single-valued attribute has other values with evidence behind them.
    pub conflict: bool,
    /// Every candidate, best first.
    pub candidates: Vec<Candidate>,
}

fn norm(v: &str) -> String {
    v.trim().to_lowercase()
}

/// Is `specific` a refinement of `general` ("windows" -> "windows 7", "linux" ->
/// "linux (embedded, busybox)", "ws-c3560-24ts" -> "cisco ws-c3560-24ts")? Both
/// normalised; `general` must occur in `specific` as whole words.
fn is_refinement(general: &str, specific: &str) -> bool {
    if general.is_empty() || specific.len() <= general.len() {
        return false;
    }
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    specific.match_indices(general).any(|(i, _)| {
        let before = specific.get(..i).and_then(|h| h.chars().next_back());
        let after = specific
            .get(i + general.len()..)
            .and_then(|t| t.chars().next());
        boundary(before) && boundary(after)
    })
}

impl Attribute {
    /// Adds a candidate (identical value+source pairs are merged, keeping the earliest
    /// evidence and the widest time span).
    pub fn push(&mut self, c: Candidate) {
        if let Some(existing) = self
            .candidates
            .iter_mut()
            .find(|e| e.source == c.source && norm(&e.value) == norm(&c.value))
        {
            if c.confidence > existing.confidence {
                existing.confidence = c.confidence;
            }
            existing.first_seen = min_opt(existing.first_seen, c.first_seen);
            existing.last_seen = max_opt(existing.last_seen, c.last_seen);
            if let (Some(a), Some(b)) = (existing.evidence, c.evidence) {
                if b.ts < a.ts {
                    existing.evidence = Some(b);
                }
            } else if existing.evidence.is_none() {
                existing.evidence = c.evidence;
            }
            return;
        }
        self.candidates.push(c);
    }

    /// Recomputes the chosen value, confidence and conflict flag, and sorts candidates.
    pub fn resolve(&mut self, kind: AttrKind) {
        self.candidates.sort_by(|a, b| {
            b.is_manual()
                .cmp(&a.is_manual())
                .then(b.confidence.total_cmp(&a.confidence))
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.source.cmp(&b.source))
        });
        // Latest manual override wins (there is normally one).
        if let Some(m) = self.candidates.iter().find(|c| c.is_manual()) {
            self.value = Some(m.value.clone());
            self.confidence = 1.0;
            self.overridden = true;
            let chosen = norm(&m.value);
            self.conflict = !kind.is_multi_valued()
                && self
                    .candidates
                    .iter()
                    .any(|c| !c.is_manual() && norm(&c.value) != chosen);
            return;
        }
        self.overridden = false;
        // Combined score per normalised value (noisy-or). A value also draws support from
        // its generalisations ("Windows" supports "Windows 7"), so the most specific value
        // that the evidence allows wins; ties go to the more specific, then alphabetical.
        let mut distinct: Vec<(String, String)> = Vec::new();
        for c in &self.candidates {
            let k = norm(&c.value);
            if !distinct.iter().any(|(n, _)| *n == k) {
                distinct.push((k, c.value.clone()));
            }
        }
        let mut scores: Vec<(String, String, f64)> = distinct
            .into_iter()
            .map(|(k, display)| {
                let miss = self
                    .candidates
                    .iter()
                    .filter(|c| {
                        let v = norm(&c.value);
                        v == k || is_refinement(&v, &k)
                    })
                    .fold(1.0, |acc, c| acc * (1.0 - c.confidence.clamp(0.0, 1.0)));
                (k, display, 1.0 - miss)
            })
            .collect();
        scores.sort_by(|a, b| {
            b.2.total_cmp(&a.2)
                .then_with(|| b.0.len().cmp(&a.0.len()))
                .then_with(|| a.0.cmp(&b.0))
        });
        match scores.first() {
            Some((chosen, display, score)) => {
                self.value = Some(display.clone());
                self.confidence = (*score * 1000.0).round() / 1000.0;
                self.conflict = !kind.is_multi_valued()
                    && scores.iter().any(|(k, _, _)| {
                        k != chosen && !is_refinement(k, chosen) && !is_refinement(chosen, k)
                    });
            }
            None => {
                self.value = None;
                self.confidence = 0.0;
                self.conflict = false;
            }
        }
    }

    /// The candidates supporting the chosen value (equal to it or a generalisation of it).
    pub fn support(&self) -> impl Iterator<Item = &Candidate> {
        let chosen = self.value.as_deref().map(norm).unwrap_or_default();
        self.candidates.iter().filter(move |c| {
            let v = norm(&c.value);
            v == chosen || is_refinement(&v, &chosen)
        })
    }

    /// Distinct values, best first (for multi-valued attributes).
    pub fn values(&self) -> Vec<&str> {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for c in &self.candidates {
            let k = norm(&c.value);
            if !seen.contains(&k) {
                seen.push(k);
                out.push(c.value.as_str());
            }
        }
        out
    }

    pub fn level(&self) -> ConfidenceLevel {
        ConfidenceLevel::of(self.confidence)
    }
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(value: &str, confidence: f64, key: &str) -> Candidate {
        Candidate {
            value: value.into(),
            raw: None,
            confidence,
            source: Source::Fact { key: key.into() },
            evidence: None,
            first_seen: None,
            last_seen: None,
        }
    }

    #[test]
    fn agreement_beats_a_single_stronger_claim() {
        let mut a = Attribute::default();
        a.push(cand("Philips", 0.6, "a"));
        a.push(cand("philips", 0.6, "b"));
        a.push(cand("GE Healthcare", 0.8, "c"));
        a.resolve(AttrKind::Vendor);
        // 1 - 0.4*0.4 = 0.84 > 0.8
        assert_eq!(a.value.as_deref(), Some("Philips"));
        assert!((a.confidence - 0.84).abs() < 1e-9, "{}", a.confidence);
        assert!(a.conflict, "competing vendor must be flagged");
        assert_eq!(a.candidates.len(), 3, "nothing dropped");
        assert_eq!(a.support().count(), 2);
    }

    #[test]
    fn refinements_support_each_other_and_do_not_conflict() {
        let mut a = Attribute::default();
        a.push(cand("Windows", 0.8, "dhcp.vendor_class"));
        a.push(cand("Windows 10/11", 0.55, "http.user_agent"));
        a.resolve(AttrKind::Os);
        assert_eq!(a.value.as_deref(), Some("Windows 10/11"));
        assert!((a.confidence - 0.91).abs() < 1e-9, "{}", a.confidence);
        assert!(!a.conflict);
        assert_eq!(a.support().count(), 2);
        a.push(cand("Linux", 0.6, "ssdp.server"));
        a.resolve(AttrKind::Os);
        assert_eq!(a.value.as_deref(), Some("Windows 10/11"));
        assert!(a.conflict, "Linux is not a kind of Windows");
        assert!(!is_refinement("win", "windows"));
        assert!(is_refinement("ws-c3560-24ts", "cisco ws-c3560-24ts"));
        assert!(!is_refinement("3560", "c3560 software"));
    }

    #[test]
    fn multi_valued_attributes_do_not_conflict() {
        let mut a = Attribute::default();
        a.push(cand("CT_1", 0.9, "dicom.calling_ae"));
        a.push(cand("CT_2", 0.9, "dicom.calling_ae"));
        a.resolve(AttrKind::AeTitle);
        assert!(!a.conflict);
        assert_eq!(a.values(), vec!["CT_1", "CT_2"]);
    }

    #[test]
    fn levels() {
        assert_eq!(ConfidenceLevel::of(0.95), ConfidenceLevel::High);
        assert_eq!(ConfidenceLevel::of(0.5), ConfidenceLevel::Medium);
        assert_eq!(ConfidenceLevel::of(0.49), ConfidenceLevel::Low);
        assert_eq!("ae_title".parse::<AttrKind>().unwrap(), AttrKind::AeTitle);
    }
}
