//! CSAF 2.0 validation: the schema rules serde cannot express (enumerations, patterns,
//! date-times) under the test id `schema`, and these mandatory tests of section 6.1:
//!
//! 6.1.1, 6.1.2, 6.1.3, 6.1.4, 6.1.5, 6.1.6, 6.1.7, 6.1.8, 6.1.10, 6.1.12, 6.1.13 (PURL
//! syntax), 6.1.14, 6.1.15, 6.1.16, 6.1.17, 6.1.18, 6.1.19, 6.1.20, 6.1.21, 6.1.22,
//! 6.1.23, 6.1.24, 6.1.25, 6.1.26, 6.1.27.1 to 6.1.27.11, 6.1.28, 6.1.29, 6.1.30, 6.1.31,
//! 6.1.32, 6.1.33.
//!
//! 6.1.9 (invalid CVSS computation) recomputes every score and severity of a `cvss_v2` /
//! `cvss_v3` object from its vector with Ward's [`crate::cvss`] module
//! ([`cvss_computation`], the default [`ValidationOptions::cvss_check`]).
//!
//! 6.1.11 (CWE) checks the id's format always; the name is checked against the full
//! catalogue when one is supplied through [`ValidationOptions::cwe_name`], otherwise
//! against the small built-in table of [`super::cwe`] (ids outside it are not judged).

use super::revision::{parse_datetime, DocVersion};
use super::types::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// One failed test: its id (`6.1.1`, `schema`...), where, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CsafFinding {
    pub test: String,
    pub pointer: String,
    pub message: String,
}

/// Computes whether a CVSS object's scores match its vector: (version, vector, object)
/// -> Err(reason). Used for 6.1.9.
pub type CvssCheck = fn(&str, &str, &Value) -> Result<(), String>;

/// Optional knowledge the validator cannot hold itself.
#[derive(Clone)]
pub struct ValidationOptions {
    /// CWE id ("CWE-79") -> its official name from a full CWE catalogue, for 6.1.11; an
    /// id it does not know fails the test. `None`: the built-in table of [`super::cwe`]
    /// is used, and ids outside it are not judged.
    pub cwe_name: Option<fn(&str) -> Option<String>>,
    /// CVSS computation, for 6.1.9 (default: [`cvss_computation`]; `None` skips 6.1.9).
    pub cvss_check: Option<CvssCheck>,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        Self {
            cwe_name: None,
            cvss_check: Some(cvss_computation),
        }
    }
}

/// 6.1.9: recompute the scores and severities a CVSS object states from its
/// `vectorString` and report the first that differs. Properties the object leaves out
/// are not checked; temporal and environmental scores are computed with the metrics the
/// vector leaves out as "not defined", as the FIRST calculators do.
pub fn cvss_computation(_version: &str, vector: &str, obj: &Value) -> Result<(), String> {
    use crate::cvss::{CvssSeverity, CvssVersion};
    let v = crate::cvss::parse(vector).map_err(|e| format!("vectorString {vector:?}: {e}"))?;
    let version = v.version();
    if version == CvssVersion::V40 {
        return Ok(());
    }
    let sev_name = |s: f64| match CvssSeverity::from_score(version, s) {
        CvssSeverity::None => "NONE",
        CvssSeverity::Low => "LOW",
        CvssSeverity::Medium => "MEDIUM",
        CvssSeverity::High => "HIGH",
        CvssSeverity::Critical => "CRITICAL",
    };
    let computed = [
        ("baseScore", "baseSeverity", v.base_score()),
        ("temporalScore", "temporalSeverity", v.temporal_score()),
        (
            "environmentalScore",
            "environmentalSeverity",
            v.environmental_score(),
        ),
    ];
    for (score_key, sev_key, score) in computed {
        if let Some(stated) = obj.get(score_key).and_then(Value::as_f64) {
            if (stated - score).abs() > 1e-6 {
                return Err(format!(
                    "{score_key} is {stated} but the vector {vector} computes {score:.1}"
                ));
            }
        }
        // CVSS v2 objects carry no severities.
        if version == CvssVersion::V2 {
            continue;
        }
        if let Some(stated) = obj.get(sev_key).and_then(Value::as_str) {
            let want = sev_name(score);
            if stated != want {
                return Err(format!(
                    "{sev_key} is {stated} but the vector {vector} computes {score:.1} ({want})"
                ));
            }
        }
    }
    Ok(())
}

struct Ctx {
    out: Vec<CsafFinding>,
}

impl Ctx {
    fn fail(&mut self, test: &str, pointer: impl Into<String>, message: impl Into<String>) {
        self.out.push(CsafFinding {
            test: test.to_string(),
            pointer: pointer.into(),
            message: message.into(),
        });
    }
}

const PROFILES: &[&str] = &[
    "csaf_base",
    "csaf_security_incident_response",
    "csaf_informational_advisory",
    "csaf_security_advisory",
    "csaf_vex",
];

/// Run every implemented check; an empty result means valid.
pub fn validate(doc: &CsafJson, opts: &ValidationOptions) -> Vec<CsafFinding> {
    let mut c = Ctx { out: Vec::new() };
    schema_checks(doc, &mut c);
    product_ids(doc, &mut c);
    groups(doc, &mut c);
    vulnerabilities(doc, opts, &mut c);
    revisions(doc, &mut c);
    document(doc, &mut c);
    profiles(doc, &mut c);
    c.out
}

// ---------------------------------------------------------------- schema

fn schema_checks(doc: &CsafJson, c: &mut Ctx) {
    let d = &doc.document;
    if d.csaf_version != "2.0" && d.csaf_version != "2.1" {
        c.fail(
            "schema",
            "/document/csaf_version",
            format!("unsupported CSAF version {:?}", d.csaf_version),
        );
    }
    if !category_pattern_ok(&d.category) {
        c.fail(
            "schema",
            "/document/category",
            "category does not match the schema pattern",
        );
    }
    if !["draft", "final", "interim"].contains(&d.tracking.status.as_str()) {
        c.fail(
            "schema",
            "/document/tracking/status",
            format!("unknown status {:?}", d.tracking.status),
        );
    }
    if ![
        "coordinator",
        "discoverer",
        "other",
        "translator",
        "user",
        "vendor",
        "multiplier",
    ]
    .contains(&d.publisher.category.as_str())
    {
        c.fail(
            "schema",
            "/document/publisher/category",
            "unknown publisher category",
        );
    }
    for (p, s) in [
        (
            "/document/tracking/initial_release_date",
            &d.tracking.initial_release_date,
        ),
        (
            "/document/tracking/current_release_date",
            &d.tracking.current_release_date,
        ),
    ] {
        if parse_datetime(s).is_none() {
            c.fail("schema", p, format!("not an RFC 3339 date-time: {s:?}"));
        }
    }
    if DocVersion::parse(&d.tracking.version).is_none() {
        c.fail(
            "schema",
            "/document/tracking/version",
            "version is neither an integer nor semver",
        );
    }
    if d.tracking.revision_history.is_empty() {
        c.fail(
            "schema",
            "/document/tracking/revision_history",
            "revision history is empty",
        );
    }
    for (i, r) in d.tracking.revision_history.iter().enumerate() {
        if DocVersion::parse(&r.number).is_none() {
            c.fail(
                "schema",
                format!("/document/tracking/revision_history/{i}/number"),
                "number is neither an integer nor semver",
            );
        }
        if parse_datetime(&r.date).is_none() {
            c.fail(
                "schema",
                format!("/document/tracking/revision_history/{i}/date"),
                "not an RFC 3339 date-time",
            );
        }
    }
    if let Some(tree) = &doc.product_tree {
        for (i, b) in tree.branches.iter().flatten().enumerate() {
            branch_schema(b, &format!("/product_tree/branches/{i}"), c);
        }
        for (i, r) in tree.relationships.iter().flatten().enumerate() {
            if ![
                "default_component_of",
                "external_component_of",
                "installed_on",
                "installed_with",
                "optional_component_of",
            ]
            .contains(&r.category.as_str())
            {
                c.fail(
                    "schema",
                    format!("/product_tree/relationships/{i}/category"),
                    "unknown relationship category",
                );
            }
        }
    }
    for (vi, v) in doc.vulnerabilities.iter().flatten().enumerate() {
        for (i, r) in v.remediations.iter().flatten().enumerate() {
            if ![
                "mitigation",
                "no_fix_planned",
                "none_available",
                "vendor_fix",
                "workaround",
                "fix_planned",
                "optional_patch",
            ]
            .contains(&r.category.as_str())
            {
                c.fail(
                    "schema",
                    format!("/vulnerabilities/{vi}/remediations/{i}/category"),
                    "unknown remediation category",
                );
            }
        }
        for (i, t) in v.threats.iter().flatten().enumerate() {
            if !["exploit_status", "impact", "target_set"].contains(&t.category.as_str()) {
                c.fail(
                    "schema",
                    format!("/vulnerabilities/{vi}/threats/{i}/category"),
                    "unknown threat category",
                );
            }
        }
        for (i, f) in v.flags.iter().flatten().enumerate() {
            if ![
                "component_not_present",
                "inline_mitigations_already_exist",
                "vulnerable_code_cannot_be_controlled_by_adversary",
                "vulnerable_code_not_in_execute_path",
                "vulnerable_code_not_present",
            ]
            .contains(&f.label.as_str())
            {
                c.fail(
                    "schema",
                    format!("/vulnerabilities/{vi}/flags/{i}/label"),
                    "unknown flag label",
                );
            }
        }
        if let Some(cve) = &v.cve {
            if !cve_pattern_ok(cve) {
                c.fail(
                    "schema",
                    format!("/vulnerabilities/{vi}/cve"),
                    "not a CVE id",
                );
            }
        }
    }
}

/// Schema pattern of document.category: `^[^\s\-_\.](.*[^\s\-_\.])?$`.
fn category_pattern_ok(s: &str) -> bool {
    let bad = |ch: char| ch.is_whitespace() || matches!(ch, '-' | '_' | '.');
    match (s.chars().next(), s.chars().last()) {
        (Some(a), Some(b)) => !bad(a) && !bad(b),
        _ => false,
    }
}

/// `^CVE-[0-9]{4}-[0-9]{4,}$`
pub(crate) fn cve_pattern_ok(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
}

fn branch_schema(b: &BranchJ, ptr: &str, c: &mut Ctx) {
    const CATS: &[&str] = &[
        "architecture",
        "host_name",
        "language",
        "legacy",
        "patch_level",
        "product_family",
        "product_name",
        "product_version",
        "product_version_range",
        "service_pack",
        "specification",
        "vendor",
        "platform",
    ];
    if !CATS.contains(&b.category.as_str()) {
        c.fail(
            "schema",
            format!("{ptr}/category"),
            format!("unknown branch category {:?}", b.category),
        );
    }
    if b.branches.is_none() && b.product.is_none() {
        c.fail(
            "schema",
            ptr.to_string(),
            "branch has neither branches nor product",
        );
    }
    if b.category == "product_version" {
        if let Some(word) = version_range_indicator(&b.name) {
            c.fail(
                "6.1.31",
                format!("{ptr}/name"),
                format!(
                    "product_version {:?} contains the range indicator {word:?}",
                    b.name
                ),
            );
        }
    }
    for (i, child) in b.branches.iter().flatten().enumerate() {
        branch_schema(child, &format!("{ptr}/branches/{i}"), c);
    }
}

/// 6.1.31: the strings the spec names as version-range indicators: the operators
/// anywhere, the words as whitespace-separated words ("after-eight" is a version name).
fn version_range_indicator(name: &str) -> Option<&'static str> {
    for op in ["<=", ">=", "<", ">"] {
        if name.contains(op) {
            return Some(op);
        }
    }
    let lower = name.to_ascii_lowercase();
    for word in lower.split_whitespace() {
        for w in [
            "after", "all", "before", "earlier", "later", "prior", "versions",
        ] {
            if word == w {
                return Some(w);
            }
        }
    }
    None
}

// ---------------------------------------------------------------- product ids

/// Every product id definition with its pointer.
fn definitions(doc: &CsafJson) -> Vec<(String, &str)> {
    let mut defs = Vec::new();
    fn walk<'a>(b: &'a BranchJ, ptr: String, defs: &mut Vec<(String, &'a str)>) {
        if let Some(p) = &b.product {
            defs.push((format!("{ptr}/product/product_id"), p.product_id.as_str()));
        }
        for (i, ch) in b.branches.iter().flatten().enumerate() {
            walk(ch, format!("{ptr}/branches/{i}"), defs);
        }
    }
    if let Some(t) = &doc.product_tree {
        for (i, b) in t.branches.iter().flatten().enumerate() {
            walk(b, format!("/product_tree/branches/{i}"), &mut defs);
        }
        for (i, f) in t.full_product_names.iter().flatten().enumerate() {
            defs.push((
                format!("/product_tree/full_product_names/{i}/product_id"),
                &f.product_id,
            ));
        }
        for (i, r) in t.relationships.iter().flatten().enumerate() {
            defs.push((
                format!("/product_tree/relationships/{i}/full_product_name/product_id"),
                &r.full_product_name.product_id,
            ));
        }
    }
    defs
}

/// Where a product id is referenced; formatted into a JSON pointer only on failure
/// (large advisories hold thousands of references).
#[derive(Clone, Copy)]
enum RefLoc {
    Group(usize, usize),
    RelationshipProduct(usize),
    RelationshipRelatesTo(usize),
    Status(usize, &'static str, usize),
    Remediation(usize, usize, usize),
    Score(usize, usize, usize),
    Metric(usize, usize, usize),
    Threat(usize, usize, usize),
    Flag(usize, usize, usize),
}

impl RefLoc {
    fn pointer(self) -> String {
        match self {
            RefLoc::Group(i, j) => format!("/product_tree/product_groups/{i}/product_ids/{j}"),
            RefLoc::RelationshipProduct(i) => {
                format!("/product_tree/relationships/{i}/product_reference")
            }
            RefLoc::RelationshipRelatesTo(i) => {
                format!("/product_tree/relationships/{i}/relates_to_product_reference")
            }
            RefLoc::Status(v, list, j) => format!("/vulnerabilities/{v}/product_status/{list}/{j}"),
            RefLoc::Remediation(v, i, j) => {
                format!("/vulnerabilities/{v}/remediations/{i}/product_ids/{j}")
            }
            RefLoc::Score(v, i, j) => format!("/vulnerabilities/{v}/scores/{i}/products/{j}"),
            RefLoc::Metric(v, i, j) => format!("/vulnerabilities/{v}/metrics/{i}/products/{j}"),
            RefLoc::Threat(v, i, j) => format!("/vulnerabilities/{v}/threats/{i}/product_ids/{j}"),
            RefLoc::Flag(v, i, j) => format!("/vulnerabilities/{v}/flags/{i}/product_ids/{j}"),
        }
    }
}

/// Every product id reference with its location.
fn references(doc: &CsafJson) -> Vec<(RefLoc, &str)> {
    let mut refs: Vec<(RefLoc, &str)> = Vec::new();
    if let Some(t) = &doc.product_tree {
        for (i, g) in t.product_groups.iter().flatten().enumerate() {
            for (j, id) in g.product_ids.iter().enumerate() {
                refs.push((RefLoc::Group(i, j), id));
            }
        }
        for (i, r) in t.relationships.iter().flatten().enumerate() {
            refs.push((RefLoc::RelationshipProduct(i), &r.product_reference));
            refs.push((
                RefLoc::RelationshipRelatesTo(i),
                &r.relates_to_product_reference,
            ));
        }
    }
    for (vi, v) in doc.vulnerabilities.iter().flatten().enumerate() {
        if let Some(ps) = &v.product_status {
            for (name, ids) in ps.lists() {
                for (j, id) in ids.iter().enumerate() {
                    refs.push((RefLoc::Status(vi, name, j), id));
                }
            }
        }
        for (i, r) in v.remediations.iter().flatten().enumerate() {
            for (j, id) in r.product_ids.iter().flatten().enumerate() {
                refs.push((RefLoc::Remediation(vi, i, j), id));
            }
        }
        for (i, s) in v.scores.iter().flatten().enumerate() {
            for (j, id) in s.products.iter().enumerate() {
                refs.push((RefLoc::Score(vi, i, j), id));
            }
        }
        for (i, m) in v.metrics.iter().flatten().enumerate() {
            for (j, id) in m.products.iter().enumerate() {
                refs.push((RefLoc::Metric(vi, i, j), id));
            }
        }
        for (i, t) in v.threats.iter().flatten().enumerate() {
            for (j, id) in t.product_ids.iter().flatten().enumerate() {
                refs.push((RefLoc::Threat(vi, i, j), id));
            }
        }
        for (i, f) in v.flags.iter().flatten().enumerate() {
            for (j, id) in f.product_ids.iter().flatten().enumerate() {
                refs.push((RefLoc::Flag(vi, i, j), id));
            }
        }
    }
    refs
}

fn product_ids(doc: &CsafJson, c: &mut Ctx) {
    let defs = definitions(doc);
    let mut seen: HashSet<&str> = HashSet::new();
    for (ptr, id) in &defs {
        if !seen.insert(id) {
            c.fail(
                "6.1.2",
                ptr.clone(),
                format!("product id {id:?} is defined more than once"),
            );
        }
    }
    for (loc, id) in references(doc) {
        if !seen.contains(id) {
            c.fail(
                "6.1.1",
                loc.pointer(),
                format!("product id {id:?} is not defined in the product tree"),
            );
        }
    }
    // 6.1.3: a relationship must not define a product in terms of itself, directly or
    // through other relationships.
    if let Some(t) = &doc.product_tree {
        let rels: Vec<&RelationshipJ> = t.relationships.iter().flatten().collect();
        let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in &rels {
            edges
                .entry(r.full_product_name.product_id.as_str())
                .or_default()
                .extend([
                    r.product_reference.as_str(),
                    r.relates_to_product_reference.as_str(),
                ]);
        }
        for (i, r) in rels.iter().enumerate() {
            let start = r.full_product_name.product_id.as_str();
            let mut stack: Vec<&str> = edges.get(start).cloned().unwrap_or_default();
            let mut visited: HashSet<&str> = HashSet::new();
            while let Some(n) = stack.pop() {
                if n == start {
                    c.fail(
                        "6.1.3",
                        format!("/product_tree/relationships/{i}/full_product_name/product_id"),
                        format!("product id {start:?} is defined through itself"),
                    );
                    break;
                }
                if visited.insert(n) {
                    if let Some(next) = edges.get(n) {
                        stack.extend(next.iter().copied());
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- groups

fn groups(doc: &CsafJson, c: &mut Ctx) {
    let mut defined: HashSet<&str> = HashSet::new();
    if let Some(t) = &doc.product_tree {
        for (i, g) in t.product_groups.iter().flatten().enumerate() {
            if !defined.insert(&g.group_id) {
                c.fail(
                    "6.1.5",
                    format!("/product_tree/product_groups/{i}/group_id"),
                    format!("group id {:?} is defined more than once", g.group_id),
                );
            }
        }
    }
    for (vi, v) in doc.vulnerabilities.iter().flatten().enumerate() {
        let base = format!("/vulnerabilities/{vi}");
        let mut check = |kind: &str, i: usize, ids: &Option<Vec<String>>| {
            for (j, g) in ids.iter().flatten().enumerate() {
                if !defined.contains(g.as_str()) {
                    c.fail(
                        "6.1.4",
                        format!("{base}/{kind}/{i}/group_ids/{j}"),
                        format!("group id {g:?} is not defined"),
                    );
                }
            }
        };
        for (i, r) in v.remediations.iter().flatten().enumerate() {
            check("remediations", i, &r.group_ids);
        }
        for (i, t) in v.threats.iter().flatten().enumerate() {
            check("threats", i, &t.group_ids);
        }
        for (i, f) in v.flags.iter().flatten().enumerate() {
            check("flags", i, &f.group_ids);
        }
    }
}

// ---------------------------------------------------------------- vulnerabilities

fn group_members(doc: &CsafJson) -> HashMap<&str, &[String]> {
    doc.product_tree
        .iter()
        .flat_map(|t| t.product_groups.iter().flatten())
        .map(|g| (g.group_id.as_str(), g.product_ids.as_slice()))
        .collect()
}

fn resolved<'a>(
    pids: &'a Option<Vec<String>>,
    gids: &'a Option<Vec<String>>,
    groups: &HashMap<&str, &'a [String]>,
) -> HashSet<&'a str> {
    let mut out: HashSet<&str> = pids.iter().flatten().map(String::as_str).collect();
    for g in gids.iter().flatten() {
        if let Some(m) = groups.get(g.as_str()) {
            out.extend(m.iter().map(String::as_str));
        }
    }
    out
}

fn vulnerabilities(doc: &CsafJson, opts: &ValidationOptions, c: &mut Ctx) {
    let groups = group_members(doc);
    let mut cves: HashMap<&str, usize> = HashMap::new();
    for (vi, v) in doc.vulnerabilities.iter().flatten().enumerate() {
        let base = format!("/vulnerabilities/{vi}");
        if let Some(cve) = &v.cve {
            if let Some(first) = cves.insert(cve, vi) {
                c.fail(
                    "6.1.23",
                    format!("{base}/cve"),
                    format!("{cve} is also used by /vulnerabilities/{first}"),
                );
            }
        }
        // 6.1.6 contradicting product status.
        if let Some(ps) = &v.product_status {
            let mut group_of: HashMap<&str, &str> = HashMap::new();
            for (name, ids) in ps.lists() {
                let g = match name {
                    "first_affected" | "known_affected" | "last_affected" => "affected",
                    "known_not_affected" => "not affected",
                    "first_fixed" | "fixed" => "fixed",
                    "under_investigation" => "under investigation",
                    _ => continue,
                };
                for (j, id) in ids.iter().enumerate() {
                    if let Some(prev) = group_of.insert(id, g) {
                        if prev != g {
                            c.fail(
                                "6.1.6",
                                format!("{base}/product_status/{name}/{j}"),
                                format!("product {id:?} is both {prev} and {g}"),
                            );
                        }
                    }
                }
            }
        }
        // 6.1.7, 6.1.8, 6.1.9, 6.1.10 scores.
        let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
        for (si, s) in v.scores.iter().flatten().enumerate() {
            let sp = format!("{base}/scores/{si}");
            for (key, obj) in [("cvss_v2", &s.cvss_v2), ("cvss_v3", &s.cvss_v3)] {
                let Some(obj) = obj else { continue };
                let version = obj.get("version").and_then(Value::as_str).unwrap_or("");
                for p in &s.products {
                    if !seen.insert((p.as_str(), key, version)) {
                        c.fail(
                            "6.1.7",
                            format!("{sp}/products"),
                            format!(
                                "product {p:?} has more than one {key} score of version {version}"
                            ),
                        );
                    }
                }
                let op = format!("{sp}/{key}");
                let shape_ok = cvss_shape(key, obj, &op, c);
                if shape_ok {
                    cvss_consistency(key, obj, &op, c);
                    if let (Some(check), Some(vector)) = (
                        opts.cvss_check,
                        obj.get("vectorString").and_then(Value::as_str),
                    ) {
                        if let Err(e) = check(version, vector, obj) {
                            c.fail("6.1.9", op.clone(), e);
                        }
                    }
                }
            }
        }
        // 6.1.11 CWE.
        if let Some(cwe) = &v.cwe {
            if super::cwe::parse_id(&cwe.id).is_none() {
                c.fail(
                    "6.1.11",
                    format!("{base}/cwe/id"),
                    format!("{:?} is not a CWE id", cwe.id),
                );
            } else if let Some(lookup) = opts.cwe_name {
                match lookup(&cwe.id) {
                    Some(name) if name == cwe.name => {}
                    Some(name) => c.fail(
                        "6.1.11",
                        format!("{base}/cwe/name"),
                        format!("{} is named {name:?}", cwe.id),
                    ),
                    None => c.fail(
                        "6.1.11",
                        format!("{base}/cwe/id"),
                        format!("{} is not in the CWE catalog", cwe.id),
                    ),
                }
            } else if let Some(name) = super::cwe::builtin_name(&cwe.id) {
                if name != cwe.name {
                    c.fail(
                        "6.1.11",
                        format!("{base}/cwe/name"),
                        format!("{} is named {name:?} (CWE 4.15)", cwe.id),
                    );
                }
            }
        }
        // 6.1.24 involvements.
        let mut inv: HashSet<(&str, Option<i64>)> = HashSet::new();
        for (i, x) in v.involvements.iter().flatten().enumerate() {
            let date = x.date.as_deref().and_then(parse_datetime).map(|d| d.0);
            if !inv.insert((&x.party, date)) {
                c.fail(
                    "6.1.24",
                    format!("{base}/involvements/{i}"),
                    "two involvements with the same party and date",
                );
            }
        }
        // 6.1.29 / 6.1.32 product references.
        for (i, r) in v.remediations.iter().flatten().enumerate() {
            if r.product_ids.is_none() && r.group_ids.is_none() {
                c.fail(
                    "6.1.29",
                    format!("{base}/remediations/{i}"),
                    "remediation names no product_ids or group_ids",
                );
            }
        }
        let mut flagged: HashSet<&str> = HashSet::new();
        for (i, f) in v.flags.iter().flatten().enumerate() {
            if f.product_ids.is_none() && f.group_ids.is_none() {
                c.fail(
                    "6.1.32",
                    format!("{base}/flags/{i}"),
                    "flag names no product_ids or group_ids",
                );
            }
            for p in resolved(&f.product_ids, &f.group_ids, &groups) {
                if !flagged.insert(p) {
                    c.fail(
                        "6.1.33",
                        format!("{base}/flags/{i}"),
                        format!("product {p:?} has more than one VEX justification flag"),
                    );
                }
            }
        }
    }
    // 6.1.25 hashes and 6.1.13 purls, in the product tree.
    if let Some(t) = &doc.product_tree {
        let mut helpers: Vec<(String, &HelperJ)> = Vec::new();
        fn walk<'a>(b: &'a BranchJ, ptr: String, out: &mut Vec<(String, &'a HelperJ)>) {
            if let Some(h) = b
                .product
                .as_ref()
                .and_then(|p| p.product_identification_helper.as_ref())
            {
                out.push((format!("{ptr}/product/product_identification_helper"), h));
            }
            for (i, ch) in b.branches.iter().flatten().enumerate() {
                walk(ch, format!("{ptr}/branches/{i}"), out);
            }
        }
        for (i, b) in t.branches.iter().flatten().enumerate() {
            walk(b, format!("/product_tree/branches/{i}"), &mut helpers);
        }
        for (i, f) in t.full_product_names.iter().flatten().enumerate() {
            if let Some(h) = &f.product_identification_helper {
                helpers.push((
                    format!("/product_tree/full_product_names/{i}/product_identification_helper"),
                    h,
                ));
            }
        }
        for (i, r) in t.relationships.iter().flatten().enumerate() {
            if let Some(h) = &r.full_product_name.product_identification_helper {
                helpers.push((format!("/product_tree/relationships/{i}/full_product_name/product_identification_helper"), h));
            }
        }
        for (ptr, h) in helpers {
            for (i, fh) in h.hashes.iter().flatten().enumerate() {
                let mut algs: HashSet<String> = HashSet::new();
                for (j, x) in fh.file_hashes.iter().enumerate() {
                    if !algs.insert(x.algorithm.to_ascii_lowercase()) {
                        c.fail(
                            "6.1.25",
                            format!("{ptr}/hashes/{i}/file_hashes/{j}"),
                            format!("hash algorithm {:?} used twice for one file", x.algorithm),
                        );
                    }
                }
            }
            if let Some(purl) = &h.purl {
                if let Err(e) = purl_syntax(purl) {
                    c.fail("6.1.13", format!("{ptr}/purl"), e);
                }
            }
        }
    }
}

/// A minimal package-URL syntax check (scheme, type, name); the full parser is the
/// `purl` module's job.
pub(crate) fn purl_syntax(purl: &str) -> Result<(), String> {
    let rest = purl
        .strip_prefix("pkg:")
        .ok_or("purl does not start with \"pkg:\"")?;
    let rest = rest.trim_start_matches('/');
    let rest = rest.split('#').next().unwrap_or("");
    let rest = rest.split('?').next().unwrap_or("");
    let (ty, path) = rest.split_once('/').ok_or("purl has no name")?;
    let mut chars = ty.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
    {
        return Err(format!("purl type {ty:?} is not valid"));
    }
    let path = path.trim_end_matches('/');
    // Type-specific rule of the purl spec (PURL-TYPES): OCI artifacts have no namespace.
    if ty.eq_ignore_ascii_case("oci") && path.contains('/') {
        return Err("purl type oci has no namespace".into());
    }
    let name_part = path.rsplit('/').next().unwrap_or("");
    let name = name_part.split('@').next().unwrap_or("");
    if name.is_empty() {
        return Err("purl has an empty name".into());
    }
    Ok(())
}

fn cvss_shape(key: &str, obj: &Value, ptr: &str, c: &mut Ctx) -> bool {
    let before = c.out.len();
    let Some(map) = obj.as_object() else {
        c.fail("6.1.8", ptr, "CVSS object is not an object");
        return false;
    };
    let version = map.get("version").and_then(Value::as_str);
    let vector = map.get("vectorString").and_then(Value::as_str);
    let score = map.get("baseScore").and_then(Value::as_f64);
    if score.is_none_or(|s| !(0.0..=10.0).contains(&s)) {
        c.fail(
            "6.1.8",
            format!("{ptr}/baseScore"),
            "baseScore missing or outside 0-10",
        );
    }
    match key {
        "cvss_v2" => {
            if version != Some("2.0") {
                c.fail(
                    "6.1.8",
                    format!("{ptr}/version"),
                    "cvss_v2 needs version \"2.0\"",
                );
            }
            if !vector.is_some_and(|v| vector_tokens_ok(v, V2_METRICS)) {
                c.fail(
                    "6.1.8",
                    format!("{ptr}/vectorString"),
                    "not a CVSS v2 vector",
                );
            }
        }
        _ => {
            let Some(ver @ ("3.0" | "3.1")) = version else {
                c.fail(
                    "6.1.8",
                    format!("{ptr}/version"),
                    "cvss_v3 needs version \"3.0\" or \"3.1\"",
                );
                return false;
            };
            let ok = vector
                .and_then(|v| v.strip_prefix("CVSS:"))
                .and_then(|v| v.strip_prefix(ver))
                .and_then(|v| v.strip_prefix('/'))
                .is_some_and(|v| vector_tokens_ok(v, V3_METRICS));
            if !ok {
                c.fail(
                    "6.1.8",
                    format!("{ptr}/vectorString"),
                    format!("not a CVSS {ver} vector"),
                );
            }
            if !map
                .get("baseSeverity")
                .and_then(Value::as_str)
                .is_some_and(|s| ["NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"].contains(&s))
            {
                c.fail(
                    "6.1.8",
                    format!("{ptr}/baseSeverity"),
                    "baseSeverity missing or unknown",
                );
            }
        }
    }
    // Optional properties must hold allowed values.
    let table = if key == "cvss_v2" {
        V2_METRICS
    } else {
        V3_METRICS
    };
    for m in table {
        if let Some(val) = map.get(m.property) {
            if !val
                .as_str()
                .is_some_and(|s| m.values.iter().any(|(_, name)| *name == s))
            {
                c.fail(
                    "6.1.8",
                    format!("{ptr}/{}", m.property),
                    "value not allowed by the CVSS schema",
                );
            }
        }
    }
    c.out.len() == before
}

struct Metric {
    key: &'static str,
    property: &'static str,
    values: &'static [(&'static str, &'static str)],
}

const V3_IMPACT: &[(&str, &str)] = &[("N", "NONE"), ("L", "LOW"), ("H", "HIGH")];
const V3_IMPACT_M: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("N", "NONE"),
    ("L", "LOW"),
    ("H", "HIGH"),
];
const V3_REQ: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("L", "LOW"),
    ("M", "MEDIUM"),
    ("H", "HIGH"),
];
const V3_METRICS: &[Metric] = &[
    Metric {
        key: "AV",
        property: "attackVector",
        values: &[
            ("N", "NETWORK"),
            ("A", "ADJACENT_NETWORK"),
            ("L", "LOCAL"),
            ("P", "PHYSICAL"),
        ],
    },
    Metric {
        key: "AC",
        property: "attackComplexity",
        values: &[("L", "LOW"), ("H", "HIGH")],
    },
    Metric {
        key: "PR",
        property: "privilegesRequired",
        values: V3_IMPACT,
    },
    Metric {
        key: "UI",
        property: "userInteraction",
        values: &[("N", "NONE"), ("R", "REQUIRED")],
    },
    Metric {
        key: "S",
        property: "scope",
        values: &[("U", "UNCHANGED"), ("C", "CHANGED")],
    },
    Metric {
        key: "C",
        property: "confidentialityImpact",
        values: V3_IMPACT,
    },
    Metric {
        key: "I",
        property: "integrityImpact",
        values: V3_IMPACT,
    },
    Metric {
        key: "A",
        property: "availabilityImpact",
        values: V3_IMPACT,
    },
    Metric {
        key: "E",
        property: "exploitCodeMaturity",
        values: &[
            ("X", "NOT_DEFINED"),
            ("U", "UNPROVEN"),
            ("P", "PROOF_OF_CONCEPT"),
            ("F", "FUNCTIONAL"),
            ("H", "HIGH"),
        ],
    },
    Metric {
        key: "RL",
        property: "remediationLevel",
        values: &[
            ("X", "NOT_DEFINED"),
            ("O", "OFFICIAL_FIX"),
            ("T", "TEMPORARY_FIX"),
            ("W", "WORKAROUND"),
            ("U", "UNAVAILABLE"),
        ],
    },
    Metric {
        key: "RC",
        property: "reportConfidence",
        values: &[
            ("X", "NOT_DEFINED"),
            ("U", "UNKNOWN"),
            ("R", "REASONABLE"),
            ("C", "CONFIRMED"),
        ],
    },
    Metric {
        key: "CR",
        property: "confidentialityRequirement",
        values: V3_REQ,
    },
    Metric {
        key: "IR",
        property: "integrityRequirement",
        values: V3_REQ,
    },
    Metric {
        key: "AR",
        property: "availabilityRequirement",
        values: V3_REQ,
    },
    Metric {
        key: "MAV",
        property: "modifiedAttackVector",
        values: &[
            ("X", "NOT_DEFINED"),
            ("N", "NETWORK"),
            ("A", "ADJACENT_NETWORK"),
            ("L", "LOCAL"),
            ("P", "PHYSICAL"),
        ],
    },
    Metric {
        key: "MAC",
        property: "modifiedAttackComplexity",
        values: &[("X", "NOT_DEFINED"), ("L", "LOW"), ("H", "HIGH")],
    },
    Metric {
        key: "MPR",
        property: "modifiedPrivilegesRequired",
        values: V3_IMPACT_M,
    },
    Metric {
        key: "MUI",
        property: "modifiedUserInteraction",
        values: &[("X", "NOT_DEFINED"), ("N", "NONE"), ("R", "REQUIRED")],
    },
    Metric {
        key: "MS",
        property: "modifiedScope",
        values: &[("X", "NOT_DEFINED"), ("U", "UNCHANGED"), ("C", "CHANGED")],
    },
    Metric {
        key: "MC",
        property: "modifiedConfidentialityImpact",
        values: V3_IMPACT_M,
    },
    Metric {
        key: "MI",
        property: "modifiedIntegrityImpact",
        values: V3_IMPACT_M,
    },
    Metric {
        key: "MA",
        property: "modifiedAvailabilityImpact",
        values: V3_IMPACT_M,
    },
];

const V2_IMPACT: &[(&str, &str)] = &[("N", "NONE"), ("P", "PARTIAL"), ("C", "COMPLETE")];
const V2_REQ: &[(&str, &str)] = &[
    ("L", "LOW"),
    ("M", "MEDIUM"),
    ("H", "HIGH"),
    ("ND", "NOT_DEFINED"),
];
const V2_METRICS: &[Metric] = &[
    Metric {
        key: "AV",
        property: "accessVector",
        values: &[("L", "LOCAL"), ("A", "ADJACENT_NETWORK"), ("N", "NETWORK")],
    },
    Metric {
        key: "AC",
        property: "accessComplexity",
        values: &[("H", "HIGH"), ("M", "MEDIUM"), ("L", "LOW")],
    },
    Metric {
        key: "Au",
        property: "authentication",
        values: &[("M", "MULTIPLE"), ("S", "SINGLE"), ("N", "NONE")],
    },
    Metric {
        key: "C",
        property: "confidentialityImpact",
        values: V2_IMPACT,
    },
    Metric {
        key: "I",
        property: "integrityImpact",
        values: V2_IMPACT,
    },
    Metric {
        key: "A",
        property: "availabilityImpact",
        values: V2_IMPACT,
    },
    Metric {
        key: "E",
        property: "exploitability",
        values: &[
            ("U", "UNPROVEN"),
            ("POC", "PROOF_OF_CONCEPT"),
            ("F", "FUNCTIONAL"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    },
    Metric {
        key: "RL",
        property: "remediationLevel",
        values: &[
            ("OF", "OFFICIAL_FIX"),
            ("TF", "TEMPORARY_FIX"),
            ("W", "WORKAROUND"),
            ("U", "UNAVAILABLE"),
            ("ND", "NOT_DEFINED"),
        ],
    },
    Metric {
        key: "RC",
        property: "reportConfidence",
        values: &[
            ("UC", "UNCONFIRMED"),
            ("UR", "UNCORROBORATED"),
            ("C", "CONFIRMED"),
            ("ND", "NOT_DEFINED"),
        ],
    },
    Metric {
        key: "CDP",
        property: "collateralDamagePotential",
        values: &[
            ("N", "NONE"),
            ("L", "LOW"),
            ("LM", "LOW_MEDIUM"),
            ("MH", "MEDIUM_HIGH"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    },
    Metric {
        key: "TD",
        property: "targetDistribution",
        values: &[
            ("N", "NONE"),
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    },
    Metric {
        key: "CR",
        property: "confidentialityRequirement",
        values: V2_REQ,
    },
    Metric {
        key: "IR",
        property: "integrityRequirement",
        values: V2_REQ,
    },
    Metric {
        key: "AR",
        property: "availabilityRequirement",
        values: V2_REQ,
    },
];

/// The schemas' vector patterns: `/`-separated `KEY:VALUE` tokens from the table.
fn vector_tokens_ok(v: &str, table: &[Metric]) -> bool {
    !v.is_empty()
        && v.split('/').all(|tok| {
            tok.split_once(':').is_some_and(|(k, val)| {
                table
                    .iter()
                    .any(|m| m.key == k && m.values.iter().any(|(code, _)| *code == val))
            })
        })
}

/// 6.1.10: properties given beside the vector must say what the vector says.
fn cvss_consistency(key: &str, obj: &Value, ptr: &str, c: &mut Ctx) {
    let Some(vector) = obj.get("vectorString").and_then(Value::as_str) else {
        return;
    };
    let table = if key == "cvss_v2" {
        V2_METRICS
    } else {
        V3_METRICS
    };
    let body = vector
        .split_once('/')
        .map(|x| x.1)
        .filter(|_| key != "cvss_v2")
        .unwrap_or(vector);
    let in_vector: HashMap<&str, &str> =
        body.split('/').filter_map(|t| t.split_once(':')).collect();
    for m in table {
        let Some(prop) = obj.get(m.property).and_then(Value::as_str) else {
            continue;
        };
        // A metric absent from the vector is not contradicted (OASIS 6.2.19 cases).
        let Some(code) = in_vector.get(m.key) else {
            continue;
        };
        let Some(expected) = m
            .values
            .iter()
            .find(|(c2, _)| c2 == code)
            .map(|(_, name)| *name)
        else {
            continue;
        };
        if prop != expected {
            c.fail(
                "6.1.10",
                format!("{ptr}/{}", m.property),
                format!("{} is {prop} but the vector says {expected}", m.property),
            );
        }
    }
}

// ---------------------------------------------------------------- revision history

fn revisions(doc: &CsafJson, c: &mut Ctx) {
    let t = &doc.document.tracking;
    let status = t.status.as_str();
    let rh = "/document/tracking/revision_history";
    let Some(version) = DocVersion::parse(&t.version) else {
        return;
    };
    let mut items: Vec<(usize, DocVersion, (i64, u32))> = Vec::new();
    for (i, r) in t.revision_history.iter().enumerate() {
        if let (Some(n), Some(d)) = (DocVersion::parse(&r.number), parse_datetime(&r.date)) {
            items.push((i, n, d));
        }
    }
    if items.len() != t.revision_history.len() {
        return; // already reported as schema errors
    }
    // 6.1.30 mixed versioning.
    let ints =
        items.iter().filter(|x| x.1.is_integer()).count() + usize::from(version.is_integer());
    if ints != 0 && ints != items.len() + 1 {
        c.fail("6.1.30", rh, "integer and semantic versioning are mixed");
        return;
    }
    // 6.1.14 sorted by date, numbers ascend.
    let mut by_date = items.clone();
    by_date.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.1.cmp(&b.1)));
    for w in by_date.windows(2) {
        if w[0].1.stripped(false) > w[1].1.stripped(false) {
            c.fail(
                "6.1.14",
                format!("{rh}/{}/number", w[1].0),
                "revision numbers do not ascend with their dates",
            );
            break;
        }
    }
    // 6.1.16 latest version.
    if let Some(latest) = by_date.last() {
        let draft = status == "draft";
        if latest.1.stripped(draft) != version.stripped(draft) {
            c.fail(
                "6.1.16",
                "/document/tracking/version",
                format!(
                    "version {} is not the latest revision number {}",
                    t.version,
                    t.revision_history
                        .get(latest.0)
                        .map(|r| r.number.as_str())
                        .unwrap_or("")
                ),
            );
        }
    }
    // 6.1.17 status draft for 0.y.z / pre-release.
    if (version.is_zero() || version.has_pre_release()) && status != "draft" {
        c.fail(
            "6.1.17",
            "/document/tracking/status",
            format!("version {} requires status draft", t.version),
        );
    }
    // 6.1.20 non-draft version.
    if (status == "final" || status == "interim") && version.has_pre_release() {
        c.fail(
            "6.1.20",
            "/document/tracking/version",
            "a final or interim document has a pre-release version",
        );
    }
    for (i, n, _) in &items {
        if (status == "final" || status == "interim") && n.is_zero() {
            c.fail(
                "6.1.18",
                format!("{rh}/{i}/number"),
                "a released document lists version 0 in its history",
            );
        }
        if n.has_pre_release() {
            c.fail(
                "6.1.19",
                format!("{rh}/{i}/number"),
                "revision history lists a pre-release version",
            );
        }
    }
    // 6.1.21 missing item; 6.1.22 duplicates.
    let mut by_number = items.clone();
    by_number.sort_by(|a, b| a.1.cmp(&b.1));
    let mut seen: HashSet<DocVersion> = HashSet::new();
    for (i, n, _) in &items {
        if !seen.insert(n.stripped(false)) {
            c.fail(
                "6.1.22",
                format!("{rh}/{i}/number"),
                "revision number used twice",
            );
        }
    }
    if let Some(first) = by_number.first() {
        if first.1.major() > 1 {
            c.fail(
                "6.1.21",
                format!("{rh}/{}/number", first.0),
                "revision history does not start at version 0 or 1",
            );
        }
    }
    for w in by_number.windows(2) {
        if w[1].1.major() > w[0].1.major() + 1 {
            c.fail(
                "6.1.21",
                format!("{rh}/{}/number", w[1].0),
                "a version is missing from the revision history",
            );
            break;
        }
    }
}

impl std::hash::Hash for DocVersion {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            DocVersion::Integer(n) => (0u8, *n).hash(state),
            DocVersion::Semver {
                major,
                minor,
                patch,
                pre,
                ..
            } => (1u8, major, minor, patch, pre).hash(state),
        }
    }
}

// ---------------------------------------------------------------- document

fn document(doc: &CsafJson, c: &mut Ctx) {
    let d = &doc.document;
    for (p, l) in [
        ("/document/lang", &d.lang),
        ("/document/source_lang", &d.source_lang),
    ] {
        if let Some(l) = l {
            if !language_tag_ok(l) {
                c.fail("6.1.12", p, format!("{l:?} is not a valid language tag"));
            }
        }
    }
    if d.publisher.category == "translator" && d.source_lang.is_none() {
        c.fail(
            "6.1.15",
            "/document/source_lang",
            "a translator's document needs source_lang",
        );
    }
    if let (Some(a), Some(b)) = (&d.lang, &d.source_lang) {
        if a.eq_ignore_ascii_case(b) {
            c.fail(
                "6.1.28",
                "/document/source_lang",
                "lang and source_lang are the same",
            );
        }
    }
    // 6.1.26 prohibited category names.
    let cat = d.category.as_str();
    if !PROFILES.contains(&cat) {
        let norm = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
                .flat_map(char::to_lowercase)
                .collect()
        };
        let n = norm(cat);
        let prohibited = [
            "securityincidentresponse",
            "informationaladvisory",
            "securityadvisory",
            "vex",
            "csafsecurityincidentresponse",
            "csafinformationaladvisory",
            "csafsecurityadvisory",
            "csafvex",
        ];
        if prohibited.contains(&n.as_str()) {
            c.fail(
                "6.1.26",
                "/document/category",
                format!("{cat:?} is too close to a profile name"),
            );
        } else if cat.to_ascii_lowercase().starts_with("csaf_") {
            c.fail(
                "6.1.26",
                "/document/category",
                "the prefix csaf_ is reserved",
            );
        }
    }
}

/// Well-formedness of a BCP 47 language tag (RFC 5646 syntax, not the registry).
pub(crate) fn language_tag_ok(tag: &str) -> bool {
    let alpha = |s: &str, a: usize, b: usize| {
        (a..=b).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_alphabetic())
    };
    let alnum = |s: &str, a: usize, b: usize| {
        (a..=b).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_alphanumeric())
    };
    let parts: Vec<&str> = tag.split('-').collect();
    let Some(first) = parts.first() else {
        return false;
    };
    if first.eq_ignore_ascii_case("x") {
        return parts.len() > 1 && parts[1..].iter().all(|p| alnum(p, 1, 8));
    }
    if first.eq_ignore_ascii_case("i") {
        return parts.len() > 1 && parts[1..].iter().all(|p| alnum(p, 2, 8));
    }
    if !alpha(first, 2, 8) || first.len() == 4 {
        return false;
    }
    let mut i = 1;
    let mut ext = 0;
    while i < parts.len() && ext < 3 && first.len() <= 3 && alpha(parts[i], 3, 3) {
        i += 1;
        ext += 1;
    }
    if i < parts.len() && alpha(parts[i], 4, 4) {
        i += 1;
    }
    if i < parts.len()
        && (alpha(parts[i], 2, 2)
            || (parts[i].len() == 3 && parts[i].bytes().all(|c| c.is_ascii_digit())))
    {
        i += 1;
    }
    while i < parts.len()
        && (alnum(parts[i], 5, 8)
            || (parts[i].len() == 4
                && parts[i].as_bytes()[0].is_ascii_digit()
                && alnum(parts[i], 4, 4)))
    {
        i += 1;
    }
    while i < parts.len()
        && parts[i].len() == 1
        && !parts[i].eq_ignore_ascii_case("x")
        && alnum(parts[i], 1, 1)
    {
        i += 1;
        let start = i;
        while i < parts.len() && alnum(parts[i], 2, 8) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if i < parts.len() && parts[i].eq_ignore_ascii_case("x") {
        i += 1;
        let start = i;
        while i < parts.len() && alnum(parts[i], 1, 8) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == parts.len()
}

// ---------------------------------------------------------------- profiles (6.1.27.x)

fn profiles(doc: &CsafJson, c: &mut Ctx) {
    let d = &doc.document;
    let cat = d.category.as_str();
    let vulns: &[VulnerabilityJ] = doc.vulnerabilities.as_deref().unwrap_or(&[]);
    if cat == "csaf_informational_advisory" || cat == "csaf_security_incident_response" {
        let has_note = d.notes.iter().flatten().any(|n| {
            ["description", "details", "general", "summary"].contains(&n.category.as_str())
        });
        if !has_note {
            c.fail(
                "6.1.27.1",
                "/document/notes",
                "needs a note of category description, details, general or summary",
            );
        }
        let has_ref = d
            .references
            .iter()
            .flatten()
            .any(|r| r.category.as_deref().unwrap_or("external") == "external");
        if !has_ref {
            c.fail(
                "6.1.27.2",
                "/document/references",
                "needs an external reference",
            );
        }
    }
    if cat == "csaf_informational_advisory" && doc.vulnerabilities.is_some() {
        c.fail(
            "6.1.27.3",
            "/vulnerabilities",
            "an informational advisory has no vulnerabilities",
        );
    }
    if cat == "csaf_security_advisory" || cat == "csaf_vex" {
        if doc.product_tree.is_none() {
            c.fail(
                "6.1.27.4",
                "/product_tree",
                "the profile requires a product tree",
            );
        }
        if doc.vulnerabilities.is_none() {
            c.fail(
                "6.1.27.11",
                "/vulnerabilities",
                "the profile requires vulnerabilities",
            );
        }
        for (i, v) in vulns.iter().enumerate() {
            if v.notes.is_none() {
                c.fail(
                    "6.1.27.5",
                    format!("/vulnerabilities/{i}/notes"),
                    "each vulnerability needs notes",
                );
            }
        }
    }
    if cat == "csaf_security_advisory" {
        for (i, v) in vulns.iter().enumerate() {
            if v.product_status.is_none() {
                c.fail(
                    "6.1.27.6",
                    format!("/vulnerabilities/{i}/product_status"),
                    "each vulnerability needs a product status",
                );
            }
        }
    }
    if cat == "csaf_vex" {
        let groups = group_members(doc);
        for (i, v) in vulns.iter().enumerate() {
            let base = format!("/vulnerabilities/{i}");
            let ps = v.product_status.as_ref();
            let has = ps.is_some_and(|p| {
                p.fixed.is_some()
                    || p.known_affected.is_some()
                    || p.known_not_affected.is_some()
                    || p.under_investigation.is_some()
            });
            if !has {
                c.fail(
                    "6.1.27.7",
                    format!("{base}/product_status"),
                    "needs fixed, known_affected, known_not_affected or under_investigation",
                );
            }
            if v.cve.is_none() && v.ids.is_none() {
                c.fail(
                    "6.1.27.8",
                    base.clone(),
                    "a VEX vulnerability needs cve or ids",
                );
            }
            let Some(ps) = ps else { continue };
            let mut impact: HashSet<&str> = HashSet::new();
            for f in v.flags.iter().flatten() {
                impact.extend(resolved(&f.product_ids, &f.group_ids, &groups));
            }
            for t in v
                .threats
                .iter()
                .flatten()
                .filter(|t| t.category == "impact")
            {
                impact.extend(resolved(&t.product_ids, &t.group_ids, &groups));
            }
            for (j, p) in ps.known_not_affected.iter().flatten().enumerate() {
                if !impact.contains(p.as_str()) {
                    c.fail(
                        "6.1.27.9",
                        format!("{base}/product_status/known_not_affected/{j}"),
                        format!("product {p:?} has no impact statement"),
                    );
                }
            }
            let mut action: HashSet<&str> = HashSet::new();
            for r in v.remediations.iter().flatten() {
                action.extend(resolved(&r.product_ids, &r.group_ids, &groups));
            }
            for (j, p) in ps.known_affected.iter().flatten().enumerate() {
                if !action.contains(p.as_str()) {
                    c.fail(
                        "6.1.27.10",
                        format!("{base}/product_status/known_affected/{j}"),
                        format!("product {p:?} has no action statement"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for ok in [
            "en",
            "en-US",
            "de-CH-1996",
            "zh-Hant-TW",
            "x-private",
            "sr-Latn-RS",
            "en-a-bbb-x-a-ccc",
        ] {
            assert!(language_tag_ok(ok), "{ok}");
        }
        for bad in ["", "e", "english-", "EZ-123456789", "en--US", "1a"] {
            assert!(!language_tag_ok(bad), "{bad}");
        }
    }

    #[test]
    fn purls() {
        assert!(purl_syntax("pkg:maven/org.apache/commons@1.3.4").is_ok());
        assert!(purl_syntax("pkg:maven/@1.3.4").is_err());
        assert!(purl_syntax("maven/x").is_err());
    }

    #[test]
    fn range_words() {
        assert_eq!(version_range_indicator("<=4.1"), Some("<="));
        assert_eq!(version_range_indicator("All versions"), Some("all"));
        assert_eq!(version_range_indicator("after-eight"), None);
        assert_eq!(version_range_indicator("vers:all/*"), None);
        assert_eq!(version_range_indicator("Install 2.0"), None);
        assert_eq!(version_range_indicator("4.4.x"), None);
    }
}
