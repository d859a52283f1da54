//! The clinical risk score: deterministic, explained part by part. `docs/RISK.md` is
//! the specification; every worked example there is a test in `tests/risk_examples.rs`.
//!
//! ```text
//! raw   = cvss_points + exploitation_points + clinical_points + exposure_points - control_points
//! score = round1(clamp(raw, 0, 100) * confidence_factor)
//! ```

use crate::finding::{Confidence, Finding};
use serde::{Deserialize, Serialize};
use ward_identify::Criticality;
use ward_intel::{CvssVersion, KevEntry, Score};

/// What Ward observed about the device's exposure on the network, and the controls
/// around it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// Connections to internet addresses were observed.
    pub internet_bound: bool,
    /// Remote-access sessions (RDP, VNC, SSH, TeamViewer, vendor remote service).
    pub remote_access: bool,
    /// Patient data was seen in cleartext (HL7 without TLS, DICOM without TLS).
    pub cleartext_patient_data: bool,
    /// Reachable from user (workstation / guest) segments.
    pub reachable_from_user_segment: bool,
    /// The device sits in a clinical segment with an enforced policy.
    pub segmented: bool,
    /// A mitigating control is recorded for the finding (local VEX affected with action,
    /// or a plan action done).
    pub mitigating_control: bool,
}

/// Exploitation facts for one vulnerability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exploitation {
    pub kev: bool,
    pub kev_date_added: Option<String>,
    pub ransomware: bool,
    pub epss: Option<f64>,
}

impl Exploitation {
    pub fn from_kev(kev: Option<&KevEntry>, epss: Option<f64>) -> Self {
        Exploitation {
            kev: kev.is_some(),
            kev_date_added: kev.map(|k| k.date_added.clone()),
            ransomware: kev.is_some_and(|k| {
                k.known_ransomware_campaign_use
                    .eq_ignore_ascii_case("known")
            }),
            epss,
        }
    }
}

/// Priority tiers, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    P1,
    P2,
    P3,
    P4,
    /// Suppressed by VEX (not_affected / fixed).
    #[serde(rename = "closed")]
    Closed,
}

impl Tier {
    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::P1 => "P1",
            Tier::P2 => "P2",
            Tier::P3 => "P3",
            Tier::P4 => "P4",
            Tier::Closed => "closed",
        }
    }
    /// Default days to remediate.
    pub fn due_days(&self) -> u32 {
        match self {
            Tier::P1 => 14,
            Tier::P2 => 30,
            Tier::P3 => 90,
            Tier::P4 => 180,
            Tier::Closed => 0,
        }
    }
}

/// One part of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    pub name: String,
    pub points: f64,
    pub reason: String,
}

/// A finding's risk, with its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskScore {
    pub score: f64,
    pub tier: Tier,
    /// Days to remediate (14 at most for KEV-listed vulnerabilities).
    pub due_days: u32,
    pub cvss_used: Option<String>,
    pub parts: Vec<ScorePart>,
    pub confidence_factor: f64,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The CVSS Ward uses: 4.0 first, then 3.1, 3.0, 2.0; the threat/temporal score where
/// the vector carries one. Returns (score, vector, explanation).
pub fn pick_cvss(scores: &[Score]) -> Option<(f64, String, String)> {
    let rank = |v: CvssVersion| match v {
        CvssVersion::V40 => 0,
        CvssVersion::V31 => 1,
        CvssVersion::V30 => 2,
        CvssVersion::V2 => 3,
    };
    let mut sorted: Vec<&Score> = scores.iter().collect();
    sorted.sort_by_key(|s| rank(s.version));
    for s in sorted {
        if let Ok(v) = ward_intel::cvss::parse(&s.vector) {
            let sc = v.scores();
            let (val, what) = match sc.temporal_or_threat {
                Some(t) => (
                    t,
                    if s.version == CvssVersion::V40 {
                        "CVSS-BT"
                    } else {
                        "temporal"
                    },
                ),
                None => (
                    sc.base,
                    if s.version == CvssVersion::V40 {
                        "CVSS-B"
                    } else {
                        "base"
                    },
                ),
            };
            return Some((
                val,
                sc.vector.clone(),
                format!("{what} {val:.1} from {}", sc.vector),
            ));
        }
        if let Some(b) = s.base_score {
            return Some((
                b,
                s.vector.clone(),
                format!("base {b:.1} as published (vector unreadable)"),
            ));
        }
    }
    None
}

/// Whether the vector states or implies a safety impact: CVSS 4.0 `S:P` (Safety
/// supplemental metric) or `MSI:S`/`MSA:S` (environmental safety), or, on a device whose
/// criticality is high or critical, high integrity or availability impact (the MITRE
/// rubric treats loss of integrity or availability of such a device as potential harm).
pub fn safety_impact(vector: &str, criticality: Option<Criticality>) -> Option<&'static str> {
    let metrics: Vec<&str> = vector.split('/').collect();
    if metrics.contains(&"S:P") {
        return Some("CVSS 4.0 Safety S:P");
    }
    if metrics.contains(&"MSI:S") || metrics.contains(&"MSA:S") {
        return Some("CVSS 4.0 environmental MSI:S/MSA:S");
    }
    let high_ia = ["I:H", "A:H", "VI:H", "VA:H", "SI:H", "SA:H", "I:C", "A:C"]
        .iter()
        .any(|m| metrics.contains(m));
    if high_ia && matches!(criticality, Some(Criticality::Critical | Criticality::High)) {
        return Some("high integrity/availability impact on a clinical device (MITRE rubric)");
    }
    None
}

/// Scores one finding.
pub fn score_finding(
    f: &Finding,
    criticality: Option<Criticality>,
    exploitation: &Exploitation,
    exposure: &Exposure,
) -> RiskScore {
    let mut parts = Vec::new();
    let picked = pick_cvss(&f.scores);
    let (cvss, cvss_used, cvss_reason) = match &picked {
        Some((v, vec, why)) => (*v, Some(vec.clone()), why.clone()),
        None => (
            5.0,
            None,
            "no CVSS published: assumed 5.0 (medium)".to_string(),
        ),
    };
    parts.push(ScorePart {
        name: "cvss".into(),
        points: round1(cvss * 4.0),
        reason: format!("{cvss_reason} x 4"),
    });
    let mut ex: f64 = 0.0;
    let mut ex_reason = Vec::new();
    if exploitation.kev {
        ex += 40.0;
        ex_reason.push(format!(
            "in CISA KEV{}",
            exploitation
                .kev_date_added
                .as_ref()
                .map(|d| format!(" since {d}"))
                .unwrap_or_default()
        ));
        if exploitation.ransomware {
            ex += 5.0;
            ex_reason.push("known ransomware use".into());
        }
    } else if let Some(p) = exploitation.epss {
        let pts = if p >= 0.5 {
            25.0
        } else if p >= 0.1 {
            15.0
        } else if p >= 0.01 {
            5.0
        } else {
            0.0
        };
        ex += pts;
        ex_reason.push(format!("EPSS {p:.3}"));
    } else {
        ex_reason.push("no known exploitation, no EPSS".into());
    }
    parts.push(ScorePart {
        name: "exploitation".into(),
        points: ex,
        reason: ex_reason.join(", "),
    });
    let (crit_pts, crit_name) = match criticality {
        Some(Criticality::Critical) => (20.0, "critical (life-sustaining/therapy)"),
        Some(Criticality::High) => (14.0, "high (diagnosis, monitoring, clinical IT)"),
        Some(Criticality::Medium) => (8.0, "medium (laboratory)"),
        Some(Criticality::Low) => (0.0, "low (IT, non-clinical)"),
        None => (8.0, "unknown category: treated as medium"),
    };
    let safety = cvss_used
        .as_deref()
        .and_then(|v| safety_impact(v, criticality));
    let safety_pts = if safety.is_some() { 5.0 } else { 0.0 };
    parts.push(ScorePart {
        name: "clinical".into(),
        points: crit_pts + safety_pts,
        reason: match safety {
            Some(s) => format!("criticality {crit_name} {crit_pts} + safety 5 ({s})"),
            None => format!("criticality {crit_name} {crit_pts}"),
        },
    });
    let mut exp: f64 = 0.0;
    let mut exp_reason = Vec::new();
    for (on, pts, what) in [
        (exposure.internet_bound, 10.0, "internet-bound connections"),
        (exposure.remote_access, 5.0, "remote-access sessions"),
        (
            exposure.reachable_from_user_segment,
            4.0,
            "reachable from user segments",
        ),
        (
            exposure.cleartext_patient_data,
            3.0,
            "cleartext patient data",
        ),
    ] {
        if on {
            exp += pts;
            exp_reason.push(format!("{what} +{pts}"));
        }
    }
    let exp_capped = exp.min(15.0);
    parts.push(ScorePart {
        name: "exposure".into(),
        points: exp_capped,
        reason: if exp_reason.is_empty() {
            "no exposure observed".into()
        } else {
            format!("{} (capped at 15)", exp_reason.join(", "))
        },
    });
    let mut ctl: f64 = 0.0;
    let mut ctl_reason = Vec::new();
    if exposure.segmented {
        ctl += 10.0;
        ctl_reason.push("segmented -10");
    }
    if exposure.mitigating_control {
        ctl += 10.0;
        ctl_reason.push("mitigating control recorded -10");
    }
    parts.push(ScorePart {
        name: "controls".into(),
        points: if ctl > 0.0 { -ctl } else { 0.0 },
        reason: if ctl_reason.is_empty() {
            "none".into()
        } else {
            ctl_reason.join(", ")
        },
    });
    let raw: f64 = parts.iter().map(|p| p.points).sum();
    let factor = match f.confidence {
        Confidence::Confirmed => 1.0,
        Confidence::Probable => 0.9,
        Confidence::Possible => 0.7,
    };
    let mut score = round1(raw.clamp(0.0, 100.0) * factor);
    let mut tier = if score >= 70.0 {
        Tier::P1
    } else if score >= 50.0 {
        Tier::P2
    } else if score >= 30.0 {
        Tier::P3
    } else {
        Tier::P4
    };
    if f.is_suppressed() {
        score = 0.0;
        tier = Tier::Closed;
    }
    let mut due_days = tier.due_days();
    if exploitation.kev && tier != Tier::Closed {
        due_days = due_days.min(14);
    }
    RiskScore {
        score,
        tier,
        due_days,
        cvss_used,
        parts,
        confidence_factor: factor,
    }
}

/// A device's risk: its highest finding score, with the count of open findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRisk {
    pub asset_id: String,
    pub score: f64,
    pub tier: Tier,
    pub open_findings: usize,
    pub top_finding: Option<String>,
}

/// Device risk from its scored findings.
pub fn device_risk(asset_id: &str, scored: &[(&Finding, &RiskScore)]) -> DeviceRisk {
    let open: Vec<&(&Finding, &RiskScore)> = scored
        .iter()
        .filter(|(f, r)| f.asset_id == asset_id && r.tier != Tier::Closed)
        .collect();
    let top = open
        .iter()
        .max_by(|a, b| a.1.score.total_cmp(&b.1.score).then(b.0.id.cmp(&a.0.id)));
    DeviceRisk {
        asset_id: asset_id.to_string(),
        score: top.map(|t| t.1.score).unwrap_or(0.0),
        tier: top.map(|t| t.1.tier).unwrap_or(Tier::Closed),
        open_findings: open.len(),
        top_finding: top.map(|t| t.0.id.clone()),
    }
}
