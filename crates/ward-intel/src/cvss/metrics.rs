//! The metric keys and values each CVSS version allows, as listed in the FIRST
//! specifications (v2.0 section 2, v3.0/v3.1 section 6 "Vector String",
//! v4.0 section 7 "Vector String" and its Table 23). Used to validate a vector before
//! scoring, so that an error can name the metric and its byte position.

/// Which part of the score a metric feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    Base,
    /// v2/v3 temporal, v4 threat.
    TemporalOrThreat,
    Environmental,
    /// v4 supplemental metrics: carried, never scored.
    Supplemental,
}

/// One metric of a version's vector string.
#[derive(Debug)]
pub(crate) struct MetricDef {
    pub key: &'static str,
    pub name: &'static str,
    pub group: Group,
    pub values: &'static [&'static str],
}

const fn m(
    key: &'static str,
    name: &'static str,
    group: Group,
    values: &'static [&'static str],
) -> MetricDef {
    MetricDef {
        key,
        name,
        group,
        values,
    }
}

use Group::{Base as B, Environmental as EN, Supplemental as SU, TemporalOrThreat as T};

/// CVSS v2.0 (FIRST, "A Complete Guide to the CVSS Version 2.0", section 2.4).
pub(crate) const V2: &[MetricDef] = &[
    m("AV", "Access Vector", B, &["L", "A", "N"]),
    m("AC", "Access Complexity", B, &["H", "M", "L"]),
    m("Au", "Authentication", B, &["M", "S", "N"]),
    m("C", "Confidentiality Impact", B, &["N", "P", "C"]),
    m("I", "Integrity Impact", B, &["N", "P", "C"]),
    m("A", "Availability Impact", B, &["N", "P", "C"]),
    m("E", "Exploitability", T, &["U", "POC", "F", "H", "ND"]),
    m("RL", "Remediation Level", T, &["OF", "TF", "W", "U", "ND"]),
    m("RC", "Report Confidence", T, &["UC", "UR", "C", "ND"]),
    m(
        "CDP",
        "Collateral Damage Potential",
        EN,
        &["N", "L", "LM", "MH", "H", "ND"],
    ),
    m("TD", "Target Distribution", EN, &["N", "L", "M", "H", "ND"]),
    m(
        "CR",
        "Confidentiality Requirement",
        EN,
        &["L", "M", "H", "ND"],
    ),
    m("IR", "Integrity Requirement", EN, &["L", "M", "H", "ND"]),
    m("AR", "Availability Requirement", EN, &["L", "M", "H", "ND"]),
];

/// CVSS v3.0 and v3.1 (same metrics; FIRST v3.1 specification, Table 15).
pub(crate) const V3: &[MetricDef] = &[
    m("AV", "Attack Vector", B, &["N", "A", "L", "P"]),
    m("AC", "Attack Complexity", B, &["L", "H"]),
    m("PR", "Privileges Required", B, &["N", "L", "H"]),
    m("UI", "User Interaction", B, &["N", "R"]),
    m("S", "Scope", B, &["U", "C"]),
    m("C", "Confidentiality", B, &["H", "L", "N"]),
    m("I", "Integrity", B, &["H", "L", "N"]),
    m("A", "Availability", B, &["H", "L", "N"]),
    m("E", "Exploit Code Maturity", T, &["X", "H", "F", "P", "U"]),
    m("RL", "Remediation Level", T, &["X", "U", "W", "T", "O"]),
    m("RC", "Report Confidence", T, &["X", "C", "R", "U"]),
    m(
        "CR",
        "Confidentiality Requirement",
        EN,
        &["X", "H", "M", "L"],
    ),
    m("IR", "Integrity Requirement", EN, &["X", "H", "M", "L"]),
    m("AR", "Availability Requirement", EN, &["X", "H", "M", "L"]),
    m(
        "MAV",
        "Modified Attack Vector",
        EN,
        &["X", "N", "A", "L", "P"],
    ),
    m("MAC", "Modified Attack Complexity", EN, &["X", "L", "H"]),
    m(
        "MPR",
        "Modified Privileges Required",
        EN,
        &["X", "N", "L", "H"],
    ),
    m("MUI", "Modified User Interaction", EN, &["X", "N", "R"]),
    m("MS", "Modified Scope", EN, &["X", "U", "C"]),
    m("MC", "Modified Confidentiality", EN, &["X", "H", "L", "N"]),
    m("MI", "Modified Integrity", EN, &["X", "H", "L", "N"]),
    m("MA", "Modified Availability", EN, &["X", "H", "L", "N"]),
];

/// CVSS v4.0 (FIRST v4.0 specification, section 7, Table 23).
pub(crate) const V4: &[MetricDef] = &[
    m("AV", "Attack Vector", B, &["N", "A", "L", "P"]),
    m("AC", "Attack Complexity", B, &["L", "H"]),
    m("AT", "Attack Requirements", B, &["N", "P"]),
    m("PR", "Privileges Required", B, &["N", "L", "H"]),
    m("UI", "User Interaction", B, &["N", "P", "A"]),
    m(
        "VC",
        "Vulnerable System Confidentiality",
        B,
        &["H", "L", "N"],
    ),
    m("VI", "Vulnerable System Integrity", B, &["H", "L", "N"]),
    m("VA", "Vulnerable System Availability", B, &["H", "L", "N"]),
    m(
        "SC",
        "Subsequent System Confidentiality",
        B,
        &["H", "L", "N"],
    ),
    m("SI", "Subsequent System Integrity", B, &["H", "L", "N"]),
    m("SA", "Subsequent System Availability", B, &["H", "L", "N"]),
    m("E", "Exploit Maturity", T, &["X", "A", "P", "U"]),
    m(
        "CR",
        "Confidentiality Requirement",
        EN,
        &["X", "H", "M", "L"],
    ),
    m("IR", "Integrity Requirement", EN, &["X", "H", "M", "L"]),
    m("AR", "Availability Requirement", EN, &["X", "H", "M", "L"]),
    m(
        "MAV",
        "Modified Attack Vector",
        EN,
        &["X", "N", "A", "L", "P"],
    ),
    m("MAC", "Modified Attack Complexity", EN, &["X", "L", "H"]),
    m("MAT", "Modified Attack Requirements", EN, &["X", "N", "P"]),
    m(
        "MPR",
        "Modified Privileges Required",
        EN,
        &["X", "N", "L", "H"],
    ),
    m(
        "MUI",
        "Modified User Interaction",
        EN,
        &["X", "N", "P", "A"],
    ),
    m(
        "MVC",
        "Modified Vulnerable System Confidentiality",
        EN,
        &["X", "H", "L", "N"],
    ),
    m(
        "MVI",
        "Modified Vulnerable System Integrity",
        EN,
        &["X", "H", "L", "N"],
    ),
    m(
        "MVA",
        "Modified Vulnerable System Availability",
        EN,
        &["X", "H", "L", "N"],
    ),
    m(
        "MSC",
        "Modified Subsequent System Confidentiality",
        EN,
        &["X", "H", "L", "N"],
    ),
    m(
        "MSI",
        "Modified Subsequent System Integrity",
        EN,
        &["X", "S", "H", "L", "N"],
    ),
    m(
        "MSA",
        "Modified Subsequent System Availability",
        EN,
        &["X", "S", "H", "L", "N"],
    ),
    m("S", "Safety", SU, &["X", "N", "P"]),
    m("AU", "Automatable", SU, &["X", "N", "Y"]),
    m("R", "Recovery", SU, &["X", "A", "U", "I"]),
    m("V", "Value Density", SU, &["X", "D", "C"]),
    m(
        "RE",
        "Vulnerability Response Effort",
        SU,
        &["X", "L", "M", "H"],
    ),
    m(
        "U",
        "Provider Urgency",
        SU,
        &["X", "Clear", "Green", "Amber", "Red"],
    ),
];

/// Looks a metric key up in a version's table.
pub(crate) fn find(table: &'static [MetricDef], key: &str) -> Option<&'static MetricDef> {
    table.iter().find(|d| d.key == key)
}
