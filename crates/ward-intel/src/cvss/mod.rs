//! CVSS 2.0, 3.0, 3.1 and 4.0: parse a vector string, score it exactly, print it back.
//!
//! ```
//! use ward_intel::cvss;
//! let v = cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P").unwrap();
//! let s = v.scores();
//! assert_eq!(s.base, 9.8);
//! assert_eq!(s.temporal_or_threat, Some(9.3));
//! assert_eq!(v.to_string(), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P");
//! ```
//!
//! Validation is Ward's own (so that every error names the metric and its byte position);
//! the arithmetic is delegated to the RustSec `cvss` crate (3.x), which implements the
//! FIRST formulas: v2.0 base/temporal/environmental with round-to-one-decimal, v3.0 with
//! the plain round-up, v3.1 with the Appendix A integer round-up, and v4.0 with the
//! macrovector lookup table and the severity-distance interpolation of the FIRST v4.0
//! specification (section 8) and its reference calculator (`cvss_lookup.js`).
//!
//! Exactness was checked, not assumed: `tests/cvss_vectors.rs` scores every line of the
//! RedHatProductSecurity/cvss reference files (5,114 vectors: v2, v3.0, v3.1 and the four
//! v4.0 sets, plus the results copied from the FIRST/NVD calculators) and all agree to the
//! tenth. Two conventions of those files are worth knowing:
//! - RedHat's v3 library always prints a temporal and an environmental score, equal to the
//!   base score when no such metric is given (every v3 metric then defaults to "X" = 1.0);
//!   Ward reports `None` for a group the vector does not mention, and the test compares
//!   RedHat's number with [`CvssVector::temporal_score`] / [`CvssVector::environmental_score`],
//!   which always compute.
//! - v3.0 and v3.1 differ in rounding (3.0: `ceil(x*10)/10`, exposed to floating-point
//!   error; 3.1: Appendix A integer round-up) and in the modified-impact formula under a
//!   changed scope (3.1 uses `MISS*0.9731-0.02` to the 13th power). The files were produced
//!   per version and agree with the version-specific formula, including `4.6 -> 0.0`-style
//!   environmental zeros when every modified impact is None.
//! - v2 "(-0.0, None, None)" in `vectors_simple2` is Python's negative zero for a vector
//!   whose impacts are all None; numerically it equals 0.0.

mod metrics;

use std::fmt;

use serde::{Deserialize, Serialize};

use metrics::{Group, MetricDef};

/// Longest vector string accepted; the longest valid v4.0 vector is under 200 bytes.
const MAX_VECTOR_LEN: usize = 512;

/// The CVSS specification a vector follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V2 => "2.0",
            Self::V30 => "3.0",
            Self::V31 => "3.1",
            Self::V40 => "4.0",
        })
    }
}

/// Qualitative severity rating. v3.x and v4.0 use the FIRST scale (None 0.0, Low 0.1-3.9,
/// Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0); v2.0 defines none, so the NVD scale
/// is used (Low 0.0-3.9, Medium 4.0-6.9, High 7.0-10.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CvssSeverity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl CvssSeverity {
    /// Severity of a score under the given version's scale.
    pub fn from_score(version: CvssVersion, score: f64) -> Self {
        match version {
            CvssVersion::V2 => {
                if score < 4.0 {
                    Self::Low
                } else if score < 7.0 {
                    Self::Medium
                } else {
                    Self::High
                }
            }
            _ => {
                if score < 0.1 {
                    Self::None
                } else if score < 4.0 {
                    Self::Low
                } else if score < 7.0 {
                    Self::Medium
                } else if score < 9.0 {
                    Self::High
                } else {
                    Self::Critical
                }
            }
        }
    }
}

impl fmt::Display for CvssSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        })
    }
}

/// Why a vector string was rejected. Positions are byte offsets into the string as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    #[error("empty CVSS vector")]
    Empty,
    #[error("CVSS vector is {len} bytes long; at most {MAX_VECTOR_LEN} are accepted")]
    TooLong { len: usize },
    #[error("unsupported CVSS version {version:?} at byte {position}")]
    UnknownVersion { version: String, position: usize },
    #[error(
        "CVSS vector has no \"CVSS:3.x/\" or \"CVSS:4.0/\" prefix and is not a v2 vector (no Au metric)"
    )]
    MissingPrefix,
    #[error("empty metric at byte {position}")]
    EmptyComponent { position: usize },
    #[error("malformed metric {component:?} at byte {position}: expected KEY:VALUE")]
    MalformedComponent { component: String, position: usize },
    #[error("unknown CVSS {version} metric {metric:?} at byte {position}")]
    UnknownMetric {
        version: CvssVersion,
        metric: String,
        position: usize,
    },
    #[error("invalid value {value:?} for metric {metric} ({name}) at byte {position}; allowed: {allowed}")]
    InvalidValue {
        metric: &'static str,
        name: &'static str,
        value: String,
        position: usize,
        allowed: String,
    },
    #[error("metric {metric} given twice, again at byte {position}")]
    DuplicateMetric {
        metric: &'static str,
        position: usize,
    },
    #[error("mandatory base metric {metric} ({name}) is missing")]
    MissingMetric {
        metric: &'static str,
        name: &'static str,
    },
    /// The scoring library refused a vector Ward's own validation accepted; should not happen.
    #[error("CVSS scoring library rejected the vector: {reason}")]
    Rejected { reason: String },
}

/// A parsed, validated CVSS vector of any supported version.
#[derive(Clone, Debug, PartialEq)]
pub enum CvssVector {
    V2(V2Vector),
    V30(V3Vector),
    V31(V3Vector),
    V40(V4Vector),
}

/// Which metric groups a vector string mentions (even with "X"/"ND" values): decides
/// whether a temporal/threat or environmental score is reported at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct GroupsPresent {
    temporal_or_threat: bool,
    environmental: bool,
}

/// A CVSS v2.0 vector.
#[derive(Clone, Debug, PartialEq)]
pub struct V2Vector {
    inner: cvss::v2::Vector,
    groups: GroupsPresent,
}

/// A CVSS v3.0 or v3.1 vector (the minor version decides the formulas).
#[derive(Clone, Debug, PartialEq)]
pub struct V3Vector {
    inner: cvss::v3::Vector,
    groups: GroupsPresent,
}

/// A CVSS v4.0 vector, with the metric subsets needed for the CVSS-B and CVSS-BT scores.
#[derive(Clone, Debug, PartialEq)]
pub struct V4Vector {
    inner: cvss::v4::Vector,
    base_only: cvss::v4::Vector,
    base_threat: cvss::v4::Vector,
    groups: GroupsPresent,
}

/// Every score of a vector, for display and JSON (`ward intel cvss --format json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvssScores {
    pub version: CvssVersion,
    /// The canonical vector string.
    pub vector: String,
    /// v2/v3 base score; v4 CVSS-B (base metrics alone).
    pub base: f64,
    pub base_severity: CvssSeverity,
    /// v2/v3 temporal score, v4 CVSS-BT; `None` when the vector has no such metric.
    pub temporal_or_threat: Option<f64>,
    pub temporal_or_threat_severity: Option<CvssSeverity>,
    /// v2/v3 environmental score, v4 CVSS-BE or CVSS-BTE; `None` when the vector has no
    /// environmental metric.
    pub environmental: Option<f64>,
    pub environmental_severity: Option<CvssSeverity>,
    /// The score of the vector as written: environmental if present, else temporal/threat,
    /// else base. For v4 this is the one score the specification defines.
    pub overall: f64,
    pub overall_severity: CvssSeverity,
    /// v4 only: "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE".
    pub nomenclature: Option<String>,
}

/// Parses a CVSS vector: "CVSS:3.0/...", "CVSS:3.1/...", "CVSS:4.0/...", or a v2 vector
/// without prefix ("AV:N/AC:L/Au:N/C:P/I:P/A:P", optionally in parentheses as NVD wrote
/// them, or with the non-standard "CVSS:2.0/" prefix some tools add). Surrounding
/// whitespace is ignored. Metric order is free (v3.x allows it; v4.0 vectors seen in
/// the wild are not always ordered); [`CvssVector`]'s Display prints canonical order.
pub fn parse(s: &str) -> Result<CvssVector, CvssError> {
    if s.len() > MAX_VECTOR_LEN {
        return Err(CvssError::TooLong { len: s.len() });
    }
    let lead = s.len() - s.trim_start().len();
    let mut body = s.trim();
    let mut offset = lead;
    if body.is_empty() {
        return Err(CvssError::Empty);
    }
    if let Some(inner) = body.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
        body = inner;
        offset += 1;
    }
    let (version, metrics_str, metrics_offset) = if let Some(rest) = body.strip_prefix("CVSS:") {
        let (ver, after) = match rest.split_once('/') {
            Some((v, a)) => (v, a),
            None => (rest, ""),
        };
        let version = match ver {
            "2.0" => CvssVersion::V2,
            "3.0" => CvssVersion::V30,
            "3.1" => CvssVersion::V31,
            "4.0" => CvssVersion::V40,
            other => {
                return Err(CvssError::UnknownVersion {
                    version: other.to_string(),
                    position: offset + 5,
                })
            }
        };
        (version, after, offset + 5 + ver.len() + 1)
    } else if body.split('/').any(|c| c.starts_with("Au:")) {
        (CvssVersion::V2, body, offset)
    } else {
        return Err(CvssError::MissingPrefix);
    };
    let table: &'static [MetricDef] = match version {
        CvssVersion::V2 => metrics::V2,
        CvssVersion::V30 | CvssVersion::V31 => metrics::V3,
        CvssVersion::V40 => metrics::V4,
    };
    let tokens = tokenize(version, table, metrics_str, metrics_offset)?;
    for def in table.iter().filter(|d| d.group == Group::Base) {
        if !tokens.iter().any(|t| t.def.key == def.key) {
            return Err(CvssError::MissingMetric {
                metric: def.key,
                name: def.name,
            });
        }
    }
    let groups = GroupsPresent {
        temporal_or_threat: tokens
            .iter()
            .any(|t| t.def.group == Group::TemporalOrThreat),
        environmental: tokens.iter().any(|t| t.def.group == Group::Environmental),
    };
    let join = |prefix: &str, keep: &dyn Fn(Group) -> bool| -> String {
        let mut out = String::from(prefix);
        for t in tokens.iter().filter(|t| keep(t.def.group)) {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(t.def.key);
            out.push(':');
            out.push_str(t.value);
        }
        out
    };
    let rejected = |e: cvss::Error| CvssError::Rejected {
        reason: e.to_string(),
    };
    Ok(match version {
        CvssVersion::V2 => CvssVector::V2(V2Vector {
            inner: join("", &|_| true).parse().map_err(rejected)?,
            groups,
        }),
        CvssVersion::V30 | CvssVersion::V31 => {
            let prefix = if version == CvssVersion::V30 {
                "CVSS:3.0"
            } else {
                "CVSS:3.1"
            };
            let v = V3Vector {
                inner: join(prefix, &|_| true).parse().map_err(rejected)?,
                groups,
            };
            if version == CvssVersion::V30 {
                CvssVector::V30(v)
            } else {
                CvssVector::V31(v)
            }
        }
        CvssVersion::V40 => CvssVector::V40(V4Vector {
            inner: join("CVSS:4.0", &|_| true).parse().map_err(rejected)?,
            base_only: join("CVSS:4.0", &|g| g == Group::Base)
                .parse()
                .map_err(rejected)?,
            base_threat: join("CVSS:4.0", &|g| {
                g == Group::Base || g == Group::TemporalOrThreat
            })
            .parse()
            .map_err(rejected)?,
            groups,
        }),
    })
}

struct Token<'a> {
    def: &'static MetricDef,
    value: &'a str,
}

fn tokenize<'a>(
    version: CvssVersion,
    table: &'static [MetricDef],
    s: &'a str,
    base_offset: usize,
) -> Result<Vec<Token<'a>>, CvssError> {
    let mut tokens: Vec<Token<'a>> = Vec::new();
    let mut pos = base_offset;
    for component in s.split('/') {
        if component.is_empty() {
            return Err(CvssError::EmptyComponent { position: pos });
        }
        let Some((key, value)) = component.split_once(':') else {
            return Err(CvssError::MalformedComponent {
                component: component.to_string(),
                position: pos,
            });
        };
        let Some(def) = metrics::find(table, key) else {
            return Err(CvssError::UnknownMetric {
                version,
                metric: key.to_string(),
                position: pos,
            });
        };
        if !def.values.contains(&value) {
            return Err(CvssError::InvalidValue {
                metric: def.key,
                name: def.name,
                value: value.to_string(),
                position: pos + key.len() + 1,
                allowed: def.values.join(", "),
            });
        }
        if tokens.iter().any(|t| t.def.key == def.key) {
            return Err(CvssError::DuplicateMetric {
                metric: def.key,
                position: pos,
            });
        }
        tokens.push(Token { def, value });
        pos += component.len() + 1;
    }
    Ok(tokens)
}

impl std::str::FromStr for CvssVector {
    type Err = CvssError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl fmt::Display for CvssVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V2(v) => write!(f, "{}", v.inner),
            Self::V30(v) | Self::V31(v) => write!(f, "{}", v.inner),
            Self::V40(v) => write!(f, "{}", v.inner),
        }
    }
}

impl Serialize for CvssVector {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CvssVector {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

impl CvssVector {
    pub fn version(&self) -> CvssVersion {
        match self {
            Self::V2(_) => CvssVersion::V2,
            Self::V30(_) => CvssVersion::V30,
            Self::V31(_) => CvssVersion::V31,
            Self::V40(_) => CvssVersion::V40,
        }
    }

    /// The metrics as (key, value) pairs in canonical order, e.g. `("AV", "N")`, for
    /// showing the evidence behind a score.
    pub fn metrics(&self) -> Vec<(String, String)> {
        let s = self.to_string();
        let body = match s.strip_prefix("CVSS:") {
            Some(rest) => rest.split_once('/').map_or("", |(_, m)| m).to_string(),
            None => s,
        };
        body.split('/')
            .filter_map(|c| c.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Base score (v4: CVSS-B, the base metrics alone).
    pub fn base_score(&self) -> f64 {
        match self {
            Self::V2(v) => v.inner.score().value(),
            Self::V30(v) | Self::V31(v) => v.inner.base_score().value(),
            Self::V40(v) => v.base_only.score().value(),
        }
    }

    /// Temporal score (v2/v3) or CVSS-BT (v4), always computed: metrics the vector does
    /// not give count as "not defined", which leaves the base score unchanged.
    pub fn temporal_score(&self) -> f64 {
        match self {
            Self::V2(v) => v.inner.temporal_score().value(),
            Self::V30(v) | Self::V31(v) => v.inner.temporal_score().value(),
            Self::V40(v) => v.base_threat.score().value(),
        }
    }

    /// Environmental score (v2/v3) or the full v4 score (CVSS-BE/BTE), always computed.
    pub fn environmental_score(&self) -> f64 {
        match self {
            Self::V2(v) => v.inner.environmental_score().value(),
            Self::V30(v) | Self::V31(v) => v.inner.environmental_score().value(),
            Self::V40(v) => v.inner.score().value(),
        }
    }

    fn groups(&self) -> GroupsPresent {
        match self {
            Self::V2(v) => v.groups,
            Self::V30(v) | Self::V31(v) => v.groups,
            Self::V40(v) => v.groups,
        }
    }

    /// All scores and severities of this vector.
    pub fn scores(&self) -> CvssScores {
        let version = self.version();
        let sev = |s: f64| CvssSeverity::from_score(version, s);
        let groups = self.groups();
        let base = self.base_score();
        let temporal_or_threat = groups.temporal_or_threat.then(|| self.temporal_score());
        let environmental = groups.environmental.then(|| self.environmental_score());
        let overall = environmental.or(temporal_or_threat).unwrap_or(base);
        let nomenclature = match self {
            Self::V40(v) => Some(v.inner.nomenclature().to_string()),
            _ => None,
        };
        CvssScores {
            version,
            vector: self.to_string(),
            base,
            base_severity: sev(base),
            temporal_or_threat,
            temporal_or_threat_severity: temporal_or_threat.map(sev),
            environmental,
            environmental_severity: environmental.map(sev),
            overall,
            overall_severity: sev(overall),
            nomenclature,
        }
    }
}

/// The human-readable table `ward intel cvss VECTOR` prints.
pub fn describe(vector: &CvssVector) -> String {
    let s = vector.scores();
    let (tname, ename) = match s.version {
        CvssVersion::V40 => ("Threat (CVSS-BT)", "Environmental (CVSS-BE/BTE)"),
        _ => ("Temporal", "Environmental"),
    };
    let base_name = if s.version == CvssVersion::V40 {
        "Base (CVSS-B)"
    } else {
        "Base"
    };
    let row = |name: &str, score: Option<f64>, sev: Option<CvssSeverity>| match (score, sev) {
        (Some(v), Some(sv)) => format!("{name:<28} {v:>4.1}  {sv}\n"),
        _ => format!("{name:<28}    -  (no metrics given)\n"),
    };
    let mut out = String::new();
    out.push_str(&format!("{:<28} {}\n", "Vector", s.vector));
    out.push_str(&format!("{:<28} CVSS {}\n", "Version", s.version));
    out.push_str(&row(base_name, Some(s.base), Some(s.base_severity)));
    out.push_str(&row(
        tname,
        s.temporal_or_threat,
        s.temporal_or_threat_severity,
    ));
    out.push_str(&row(ename, s.environmental, s.environmental_severity));
    let overall_name = match &s.nomenclature {
        Some(n) => format!("Score ({n})"),
        None => "Overall".to_string(),
    };
    out.push_str(&row(
        &overall_name,
        Some(s.overall),
        Some(s.overall_severity),
    ));
    out
}

/// Invariants a fuzzer checks on any input (shared by `fuzz/fuzz_targets/cvss_parse.rs`
/// and the crate's random-input tests): parsing never panics; an accepted vector has
/// scores in 0..=10 and prints to a string that parses back to the same vector.
#[doc(hidden)]
pub fn check_invariants(input: &str) {
    let Ok(v) = parse(input) else {
        return;
    };
    let s = v.scores();
    for x in [
        Some(s.base),
        s.temporal_or_threat,
        s.environmental,
        Some(s.overall),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            (0.0..=10.0).contains(&x),
            "score {x} out of range for {input:?}"
        );
    }
    let printed = v.to_string();
    assert_eq!(
        parse(&printed).ok(),
        Some(v.clone()),
        "{input:?} -> {printed:?}"
    );
    let _ = describe(&v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_without_prefix_and_in_parentheses() {
        let a = parse("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        let b = parse("(AV:N/AC:L/Au:N/C:P/I:P/A:P)").unwrap();
        let c = parse("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.version(), CvssVersion::V2);
        assert_eq!(a.scores().base, 7.5);
        assert_eq!(a.scores().base_severity, CvssSeverity::High);
        assert_eq!(a.to_string(), "AV:N/AC:L/Au:N/C:P/I:P/A:P");
    }

    #[test]
    fn v3_out_of_order_prints_canonical() {
        let v = parse("CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X").unwrap();
        assert_eq!(
            v.to_string(),
            "CVSS:3.0/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N/E:F/RL:X"
        );
        let s = v.scores();
        assert_eq!(
            (s.base, s.temporal_or_threat, s.environmental),
            (3.8, Some(3.7), None)
        );
    }

    #[test]
    fn v4_nomenclature_and_subscores() {
        let v =
            parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U").unwrap();
        let s = v.scores();
        assert_eq!(s.base, 9.3);
        assert_eq!(s.temporal_or_threat, Some(s.overall));
        assert!(s.overall < s.base, "E:U lowers the score: {s:?}");
        assert_eq!(s.nomenclature.as_deref(), Some("CVSS-BT"));
        assert_eq!(s.environmental, None);
    }

    #[test]
    fn errors_name_metric_and_position() {
        let e = parse("CVSS:3.1/AV:N/AC:Q/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap_err();
        assert_eq!(
            e,
            CvssError::InvalidValue {
                metric: "AC",
                name: "Attack Complexity",
                value: "Q".into(),
                position: 17,
                allowed: "L, H".into()
            }
        );
        assert!(e.to_string().contains("byte 17"), "{e}");
        let e = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H").unwrap_err();
        assert!(
            matches!(e, CvssError::MissingMetric { metric: "A", .. }),
            "{e:?}"
        );
        let e = parse("CVSS:3.1/AV:N/AV:N").unwrap_err();
        assert_eq!(
            e,
            CvssError::DuplicateMetric {
                metric: "AV",
                position: 14
            }
        );
        assert!(matches!(
            parse("CVSS:3.2/AV:N"),
            Err(CvssError::UnknownVersion { position: 5, .. })
        ));
        assert!(matches!(
            parse("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Err(CvssError::MissingPrefix)
        ));
        assert!(matches!(
            parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/"),
            Err(CvssError::EmptyComponent { position: 45 })
        ));
        assert!(matches!(
            parse("CVSS:3.1/AV:N/ZZ:L"),
            Err(CvssError::UnknownMetric { position: 14, .. })
        ));
        assert_eq!(parse("  "), Err(CvssError::Empty));
    }

    #[test]
    fn v4_any_order_and_metrics() {
        let v =
            parse("CVSS:4.0/E:A/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!(
            v.to_string(),
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A"
        );
        let m = v.metrics();
        assert_eq!(m.len(), 12);
        assert_eq!(m[0], ("AV".to_string(), "N".to_string()));
        assert_eq!(m[11], ("E".to_string(), "A".to_string()));
        let v2 = parse("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert_eq!(v2.metrics()[2], ("Au".to_string(), "N".to_string()));
    }

    #[test]
    fn serde_round_trip() {
        let v = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        let j = serde_json::to_string(&v).unwrap();
        assert_eq!(j, "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"");
        let back: CvssVector = serde_json::from_str(&j).unwrap();
        assert_eq!(back, v);
        let scores = serde_json::to_value(v.scores()).unwrap();
        assert_eq!(scores["version"], "3.1");
        assert_eq!(scores["base"], 9.8);
        assert_eq!(scores["base_severity"], "CRITICAL");
        assert!(scores["temporal_or_threat"].is_null());
        assert!(serde_json::from_str::<CvssVector>("\"CVSS:3.1/AV:X\"").is_err());
    }

    #[test]
    fn describe_lists_every_score() {
        let v = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/CR:H").unwrap();
        let text = describe(&v);
        assert!(text.contains("CVSS 3.1"), "{text}");
        assert!(text.contains(" 9.8  Critical"), "{text}");
        assert!(text.contains("Temporal"), "{text}");
        assert!(text.contains("Environmental"), "{text}");
    }
}
