//! VEX: manufacturer statements (CSAF VEX, CycloneDX VEX, OpenVEX, all read by
//! `ward-intel` into [`VexStatement`]s) applied to findings, and the hospital's own
//! assessments recorded as local statements and exported as CycloneDX VEX 1.6,
//! OpenVEX 0.2.0 and CSAF 2.0 VEX.
//!
//! Precedence: a local (hospital) statement beats a manufacturer one; among manufacturer
//! statements the most recent `timestamp` wins, then the first given.

use crate::finding::{Finding, VexApplied};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use ward_intel::purl::Purl;
use ward_intel::{VexStatement, VexStatus};

/// The status words Ward uses (the four VEX statuses).
pub fn status_word(s: &VexStatus) -> String {
    match s {
        VexStatus::Affected => "affected".into(),
        VexStatus::NotAffected => "not_affected".into(),
        VexStatus::Fixed => "fixed".into(),
        VexStatus::UnderInvestigation => "under_investigation".into(),
        VexStatus::Other(o) => o.clone(),
    }
}

fn suppressing(s: &VexStatus) -> bool {
    match s {
        VexStatus::NotAffected | VexStatus::Fixed => true,
        // CycloneDX false_positive: the manufacturer says the match is wrong.
        VexStatus::Other(o) => o == "false_positive" || o == "resolved",
        _ => false,
    }
}

/// Does the statement's product reference name this finding's target? With
/// subcomponents (OpenVEX), the statement is about those subcomponents inside the product,
/// so only they are compared.
fn product_matches(st: &VexStatement, f: &Finding, asset_refs: &[String]) -> bool {
    if st.subcomponents.is_empty() {
        ref_matches(st, &st.product, f, asset_refs)
    } else {
        st.subcomponents
            .iter()
            .any(|r| ref_matches(st, r, f, asset_refs))
    }
}

fn ref_matches(st: &VexStatement, r: &String, f: &Finding, asset_refs: &[String]) -> bool {
    let frag = r.rsplit('#').next().unwrap_or(r);
    if let Some(b) = &f.component_ref {
        if b == r || b == frag {
            return true;
        }
    }
    if let (Some(fp), Ok(sp)) = (&f.component_purl, Purl::parse(r)) {
        if let Ok(fp) = Purl::parse(fp) {
            if fp.same_package(&sp) && (sp.version.is_none() || sp.version == fp.version) {
                return true;
            }
        }
    }
    if st.source_document == f.source && f.product_id.as_deref() == Some(r.as_str()) {
        return true;
    }
    if *r == product_ref(f) {
        return true;
    }
    f.component.is_none() && asset_refs.iter().any(|a| a == r)
}

fn vuln_matches(st: &VexStatement, f: &Finding) -> bool {
    let ids = std::iter::once(&st.vulnerability).chain(st.aliases.iter());
    let fids: Vec<&String> = std::iter::once(&f.vulnerability)
        .chain(f.aliases.iter())
        .collect();
    ids.into_iter()
        .any(|i| fids.iter().any(|x| x.eq_ignore_ascii_case(i)))
}

/// Applies manufacturer statements. `asset_refs(finding)` gives the identifiers the
/// finding's asset is known by (its id, CPEs, PURLs) for device-level statements.
pub fn apply_vex(
    findings: &mut [Finding],
    statements: &[VexStatement],
    asset_refs: &dyn Fn(&Finding) -> Vec<String>,
) -> usize {
    let mut applied = 0;
    for f in findings.iter_mut() {
        if f.vex.as_ref().is_some_and(|v| v.source == LOCAL_SOURCE) {
            continue;
        }
        let refs = asset_refs(f);
        let best = statements
            .iter()
            .filter(|s| vuln_matches(s, f) && product_matches(s, f, &refs))
            .enumerate()
            .max_by(|(ia, a), (ib, b)| a.timestamp.cmp(&b.timestamp).then(ib.cmp(ia)))
            .map(|(_, s)| s);
        if let Some(s) = best {
            // The fixed version is the version of the reference that named the finding's
            // target: with OpenVEX subcomponents, the subcomponent's (the product is the
            // image or device around it).
            let fixed_version = if s.status == VexStatus::Fixed {
                let named: Vec<&String> = if s.subcomponents.is_empty() {
                    vec![&s.product]
                } else {
                    s.subcomponents
                        .iter()
                        .filter(|r| ref_matches(s, r, f, &refs))
                        .collect()
                };
                named
                    .iter()
                    .find_map(|r| Purl::parse(r).ok().and_then(|p| p.version))
                    .or_else(|| s.versions.first().cloned())
            } else {
                None
            };
            f.vex = Some(VexApplied {
                status: status_word(&s.status),
                justification: s.justification.clone(),
                impact_statement: s.impact_statement.clone(),
                action_statement: s.action_statement.clone(),
                source: s.source_document.clone(),
                fixed_version,
                suppresses: suppressing(&s.status),
            });
            applied += 1;
        }
    }
    applied
}

/// The source name of hospital-side statements.
pub const LOCAL_SOURCE: &str = "local";

/// A hospital-side status for a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalStatus {
    Affected,
    NotAffected,
    Fixed,
    UnderInvestigation,
}

/// Justifications (CycloneDX 1.6 `impactAnalysisJustification` values); each maps to the
/// nearest OpenVEX / CSAF label on export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    CodeNotPresent,
    CodeNotReachable,
    RequiresConfiguration,
    RequiresDependency,
    RequiresEnvironment,
    ProtectedByCompiler,
    ProtectedAtRuntime,
    ProtectedAtPerimeter,
    ProtectedByMitigatingControl,
}

impl Justification {
    pub fn cyclonedx(&self) -> &'static str {
        match self {
            Self::CodeNotPresent => "code_not_present",
            Self::CodeNotReachable => "code_not_reachable",
            Self::RequiresConfiguration => "requires_configuration",
            Self::RequiresDependency => "requires_dependency",
            Self::RequiresEnvironment => "requires_environment",
            Self::ProtectedByCompiler => "protected_by_compiler",
            Self::ProtectedAtRuntime => "protected_at_runtime",
            Self::ProtectedAtPerimeter => "protected_at_perimeter",
            Self::ProtectedByMitigatingControl => "protected_by_mitigating_control",
        }
    }
    /// OpenVEX 0.2.0 justification (also the CSAF 2.0 flag label).
    pub fn openvex(&self) -> &'static str {
        match self {
            Self::CodeNotPresent => "vulnerable_code_not_present",
            Self::CodeNotReachable => "vulnerable_code_not_in_execute_path",
            Self::RequiresConfiguration | Self::RequiresDependency | Self::RequiresEnvironment => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Self::ProtectedAtPerimeter => "vulnerable_code_cannot_be_controlled_by_adversary",
            Self::ProtectedByCompiler
            | Self::ProtectedAtRuntime
            | Self::ProtectedByMitigatingControl => "inline_mitigations_already_exist",
        }
    }
}

/// A hospital's assessment of one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalStatement {
    pub finding_id: String,
    pub status: LocalStatus,
    pub justification: Option<Justification>,
    /// Why (required for not_affected without justification, shown everywhere).
    pub impact_statement: Option<String>,
    /// What is being done (required for affected).
    pub action_statement: Option<String>,
    pub author: String,
    /// RFC 3339.
    pub timestamp: String,
}

/// Records local statements on findings (they take precedence over manufacturer VEX).
pub fn apply_local(findings: &mut [Finding], local: &[LocalStatement]) {
    for f in findings.iter_mut() {
        if let Some(s) = local.iter().rev().find(|s| s.finding_id == f.id) {
            f.vex = Some(VexApplied {
                status: local_word(s.status).into(),
                justification: s.justification.map(|j| j.cyclonedx().to_string()),
                impact_statement: s.impact_statement.clone(),
                action_statement: s.action_statement.clone(),
                source: LOCAL_SOURCE.into(),
                fixed_version: None,
                suppresses: matches!(s.status, LocalStatus::NotAffected | LocalStatus::Fixed),
            });
        }
    }
}

fn local_word(s: LocalStatus) -> &'static str {
    match s {
        LocalStatus::Affected => "affected",
        LocalStatus::NotAffected => "not_affected",
        LocalStatus::Fixed => "fixed",
        LocalStatus::UnderInvestigation => "under_investigation",
    }
}

/// Who publishes an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    pub name: String,
    /// A URL identifying the organisation (CSAF publisher namespace).
    pub namespace: String,
}

fn digest_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// A deterministic RFC 4122 version-4-shaped UUID from content.
fn uuid_from(parts: &[&str]) -> String {
    let h = digest_hex(parts);
    let b = h.as_bytes();
    let s = |a: usize, z: usize| {
        std::str::from_utf8(b.get(a..z).unwrap_or(b"0"))
            .unwrap_or("0")
            .to_string()
    };
    format!(
        "{}-{}-4{}-8{}-{}",
        s(0, 8),
        s(8, 12),
        s(13, 16),
        s(17, 20),
        s(20, 32)
    )
}

/// The product reference of a finding for exports: the component PURL, else a
/// `urn:ward:` reference to the component or device.
pub fn product_ref(f: &Finding) -> String {
    if let Some(p) = &f.component_purl {
        return p.clone();
    }
    match &f.component_ref {
        Some(b) => format!(
            "urn:ward:component:{}:{}",
            uri_escape(&f.asset_id),
            uri_escape(b)
        ),
        None => device_ref(&f.asset_id),
    }
}

/// The URN Ward's VEX exports give a device (`urn:ward:device:ID`).
pub fn device_ref(asset_id: &str) -> String {
    format!("urn:ward:device:{}", uri_escape(asset_id))
}

/// Percent-encodes what may not stand in a URN (RFC 3986 unreserved and sub-delims,
/// ':' and '@' are kept).
fn uri_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn statement_pairs<'a>(
    findings: &'a [Finding],
    local: &'a [LocalStatement],
) -> Vec<(&'a Finding, &'a LocalStatement)> {
    local
        .iter()
        .filter_map(|s| {
            findings
                .iter()
                .find(|f| f.id == s.finding_id)
                .map(|f| (f, s))
        })
        .collect()
}

/// Exports local statements as a CycloneDX 1.6 VEX BOM (JSON).
pub fn export_cyclonedx(
    findings: &[Finding],
    local: &[LocalStatement],
    publisher: &Publisher,
    timestamp: &str,
) -> Value {
    let pairs = statement_pairs(findings, local);
    let ids: Vec<&str> = pairs.iter().map(|(f, _)| f.id.as_str()).collect();
    let serial = format!("urn:uuid:{}", uuid_from(&[&ids.join(","), timestamp]));
    let mut components: Vec<Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut vulns = Vec::new();
    for (f, s) in &pairs {
        let bref = product_ref(f);
        if seen.insert(bref.clone()) {
            let mut c = json!({
                "type": if f.component.is_some() { "library" } else { "device" },
                "bom-ref": bref,
                "name": f.component.clone().unwrap_or_else(|| f.asset_name.clone()),
            });
            if let Some(p) = &f.component_purl {
                c["purl"] = json!(p);
            }
            components.push(c);
        }
        let state = match s.status {
            LocalStatus::Affected => "exploitable",
            LocalStatus::NotAffected => "not_affected",
            LocalStatus::Fixed => "resolved",
            LocalStatus::UnderInvestigation => "in_triage",
        };
        let mut analysis = json!({ "state": state });
        if let Some(j) = s.justification {
            analysis["justification"] = json!(j.cyclonedx());
        }
        let detail = [s.impact_statement.as_deref(), s.action_statement.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !detail.is_empty() {
            analysis["detail"] = json!(detail);
        }
        if s.status == LocalStatus::Affected {
            analysis["response"] = json!(["workaround_available"]);
        }
        analysis["lastUpdated"] = json!(s.timestamp);
        vulns.push(json!({
            "bom-ref": format!("vuln-{}", f.id),
            "id": f.vulnerability,
            "analysis": analysis,
            "affects": [{ "ref": bref }],
        }));
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": { "components": [{ "type": "application", "name": "ward", "version": env!("CARGO_PKG_VERSION") }] },
            "supplier": { "name": publisher.name, "url": [publisher.namespace] },
        },
        "components": components,
        "vulnerabilities": vulns,
    })
}

/// Exports local statements as an OpenVEX 0.2.0 document.
pub fn export_openvex(
    findings: &[Finding],
    local: &[LocalStatement],
    publisher: &Publisher,
    timestamp: &str,
) -> Value {
    let pairs = statement_pairs(findings, local);
    let ids: Vec<&str> = pairs.iter().map(|(f, _)| f.id.as_str()).collect();
    let id = format!(
        "{}/vex/{}",
        publisher.namespace.trim_end_matches('/'),
        &digest_hex(&[&ids.join(","), timestamp])[..16]
    );
    let statements: Vec<Value> = pairs
        .iter()
        .map(|(f, s)| {
            let mut product = json!({ "@id": match &f.component_purl {
                Some(_) => device_ref(&f.asset_id),
                None => product_ref(f),
            }});
            if f.component_purl.is_some() {
                product["subcomponents"] = json!([{ "@id": product_ref(f) }]);
            }
            let mut st = json!({
                "vulnerability": { "name": f.vulnerability },
                "products": [product],
                "status": local_word(s.status),
                "timestamp": s.timestamp,
            });
            if let Some(j) = s.justification {
                st["justification"] = json!(j.openvex());
            }
            if let Some(i) = &s.impact_statement {
                // OpenVEX 0.2.0: a not_affected statement carries a justification or an
                // impact statement, not both; with a justification the text goes to
                // status_notes.
                let key = if s.status == LocalStatus::NotAffected && s.justification.is_some() {
                    "status_notes"
                } else {
                    "impact_statement"
                };
                st[key] = json!(i);
            }
            if s.status == LocalStatus::NotAffected
                && s.justification.is_none()
                && s.impact_statement.is_none()
            {
                st["impact_statement"] = json!("assessed not affected by the hospital");
            }
            if s.status == LocalStatus::Affected {
                st["action_statement"] = json!(s
                    .action_statement
                    .clone()
                    .unwrap_or_else(|| "follow the Ward mitigation plan".to_string()));
            }
            st
        })
        .collect();
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": id,
        "author": publisher.name,
        "role": "Healthcare delivery organisation",
        "timestamp": timestamp,
        "version": 1,
        "tooling": "ward",
        "statements": statements,
    })
}

/// The CSAF 2.0 file name of a tracking id (section 5.1: lower case, runs of characters
/// other than `+`, `-`, `a-z`, `0-9` replaced by `_`, then `.json`).
pub fn csaf_filename(tracking_id: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in tracking_id.to_lowercase().chars() {
        if c == '+' || c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out.push_str(".json");
    out
}

/// Exports local statements as a CSAF 2.0 VEX document (category `csaf_vex`). The
/// distribution is TLP:AMBER: the document names the hospital's devices.
pub fn export_csaf_vex(
    findings: &[Finding],
    local: &[LocalStatement],
    publisher: &Publisher,
    timestamp: &str,
    tracking_id: &str,
) -> Value {
    let pairs = statement_pairs(findings, local);
    // One product per distinct product reference.
    let mut products: Vec<(String, String, String)> = Vec::new(); // (ref, pid, name)
    for (f, _) in &pairs {
        let r = product_ref(f);
        if !products.iter().any(|(x, _, _)| x == &r) {
            let pid = format!("WARD-{:04}", products.len() + 1);
            let name = match &f.component {
                Some(c) => format!("{} on {}", c, f.asset_name),
                None => f.asset_name.clone(),
            };
            products.push((r, pid, name));
        }
    }
    let pid_of = |f: &Finding| -> String {
        let r = product_ref(f);
        products
            .iter()
            .find(|(x, _, _)| x == &r)
            .map(|(_, p, _)| p.clone())
            .unwrap_or_default()
    };
    let full_names: Vec<Value> = products
        .iter()
        .map(|(r, pid, name)| {
            let mut p = json!({ "name": name, "product_id": pid });
            if r.starts_with("pkg:") {
                p["product_identification_helper"] = json!({ "purl": r });
            } else {
                // The device or component URN, so a re-read statement finds its finding.
                p["product_identification_helper"] =
                    json!({ "x_generic_uris": [{ "namespace": "urn:ward", "uri": r }] });
            }
            p
        })
        .collect();
    // Group statements by vulnerability.
    let mut vulns: Vec<(String, Vec<(&Finding, &LocalStatement)>)> = Vec::new();
    for (f, s) in &pairs {
        match vulns.iter_mut().find(|(v, _)| v == &f.vulnerability) {
            Some((_, v)) => v.push((f, s)),
            None => vulns.push((f.vulnerability.clone(), vec![(f, s)])),
        }
    }
    let vulnerabilities: Vec<Value> = vulns
        .iter()
        .map(|(id, items)| {
            let mut status: serde_json::Map<String, Value> = serde_json::Map::new();
            let mut flags = Vec::new();
            let mut threats = Vec::new();
            let mut remediations = Vec::new();
            for (f, s) in items {
                let pid = pid_of(f);
                let list = match s.status {
                    LocalStatus::Affected => "known_affected",
                    LocalStatus::NotAffected => "known_not_affected",
                    LocalStatus::Fixed => "fixed",
                    LocalStatus::UnderInvestigation => "under_investigation",
                };
                let entry = status.entry(list.to_string()).or_insert_with(|| json!([]));
                if let Some(a) = entry.as_array_mut() {
                    if !a.iter().any(|x| x == &json!(pid)) {
                        a.push(json!(pid));
                    }
                }
                match s.status {
                    LocalStatus::NotAffected => {
                        if let Some(j) = s.justification {
                            flags.push(json!({ "label": j.openvex(), "product_ids": [pid] }));
                        }
                        threats.push(json!({
                            "category": "impact",
                            "details": s.impact_statement.clone().unwrap_or_else(|| format!(
                                "Not affected: {}",
                                s.justification.map(|j| j.cyclonedx()).unwrap_or("assessed by the hospital")
                            )),
                            "product_ids": [pid],
                        }));
                    }
                    LocalStatus::Affected => {
                        remediations.push(json!({
                            "category": "mitigation",
                            "details": s.action_statement.clone().unwrap_or_else(|| "Follow the Ward mitigation plan.".into()),
                            "product_ids": [pid],
                        }));
                    }
                    _ => {}
                }
            }
            let mut v = json!({
                "notes": [{ "category": "description", "text": format!("Hospital assessment of {id}."), "title": "Assessment" }],
                "product_status": status,
            });
            if id.starts_with("CVE-") {
                v["cve"] = json!(id);
            } else {
                v["ids"] = json!([{ "system_name": "ward", "text": id }]);
            }
            if !flags.is_empty() {
                v["flags"] = json!(flags);
            }
            if !threats.is_empty() {
                v["threats"] = json!(threats);
            }
            if !remediations.is_empty() {
                v["remediations"] = json!(remediations);
            }
            v
        })
        .collect();
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": { "category": "user", "name": publisher.name, "namespace": publisher.namespace },
            "title": format!("{} VEX assessments", publisher.name),
            "notes": [{ "category": "summary", "text": "Hospital-side VEX assessments exported by Ward.", "title": "Summary" }],
            "distribution": { "tlp": { "label": "AMBER" } },
            "references": [{ "category": "self", "summary": "This document", "url": format!("{}/vex/{}", publisher.namespace.trim_end_matches('/'), csaf_filename(tracking_id)) }],
            "tracking": {
                "current_release_date": timestamp,
                "id": tracking_id,
                "initial_release_date": timestamp,
                "revision_history": [{ "date": timestamp, "number": "1", "summary": "Initial version." }],
                "status": "final",
                "version": "1",
                "generator": { "engine": { "name": "ward", "version": env!("CARGO_PKG_VERSION") } },
            },
        },
        "product_tree": { "full_product_names": full_names },
        "vulnerabilities": vulnerabilities,
    })
}

impl Justification {
    /// Reads a justification label as CycloneDX, OpenVEX or CSAF write it. OpenVEX/CSAF
    /// labels map to the nearest CycloneDX value (the inverse of [`Justification::openvex`]
    /// where it is one to one).
    pub fn parse(label: &str) -> Option<Self> {
        Some(match label.trim().to_ascii_lowercase().as_str() {
            "code_not_present" | "vulnerable_code_not_present" | "component_not_present" => {
                Self::CodeNotPresent
            }
            "code_not_reachable" | "vulnerable_code_not_in_execute_path" => Self::CodeNotReachable,
            "requires_configuration" => Self::RequiresConfiguration,
            "requires_dependency" => Self::RequiresDependency,
            "requires_environment" => Self::RequiresEnvironment,
            "protected_by_compiler" => Self::ProtectedByCompiler,
            "protected_at_runtime" => Self::ProtectedAtRuntime,
            "protected_at_perimeter" | "vulnerable_code_cannot_be_controlled_by_adversary" => {
                Self::ProtectedAtPerimeter
            }
            "protected_by_mitigating_control" | "inline_mitigations_already_exist" => {
                Self::ProtectedByMitigatingControl
            }
            _ => return None,
        })
    }
}

/// Every VEX statement in an intel database: OpenVEX documents, CycloneDX VEX (SBOM
/// `vulnerabilities[].analysis`) and the product statuses of CSAF VEX documents (category
/// `csaf_vex`; security advisories are matched as advisories instead). CSAF statements
/// name a product id of their own tree; it is replaced by the product's identifiers
/// (PURL, CPE, `x_generic_uris`), each as a statement of its own, so the statement can
/// be matched outside its document. The product id itself is kept too.
pub fn statements_of(db: &ward_intel::IntelDb) -> Vec<VexStatement> {
    let mut out: Vec<VexStatement> = Vec::new();
    for d in db.vex_documents() {
        out.extend(d.statements.iter().cloned());
    }
    for s in db.sboms() {
        out.extend(s.vex.iter().cloned());
    }
    for a in db.advisories().iter().filter(|a| a.category == "csaf_vex") {
        for st in a.vex_statements() {
            if let Some(p) = a.product(&st.product) {
                let ids = &p.identifiers;
                let refs = ids
                    .purl
                    .iter()
                    .chain(ids.cpe.iter())
                    .chain(ids.generic_uris.iter().map(|(_, u)| u));
                for r in refs {
                    let mut c = st.clone();
                    c.product = r.clone();
                    out.push(c);
                }
            }
            out.push(st);
        }
    }
    out
}

/// The statements (as "VULNERABILITY on PRODUCT") that name no finding: a device reference
/// or CVE that is misspelt, or a device not in this assessment. Shown to the user rather
/// than silently ignored. Product references without a scheme (CSAF product ids, which
/// [`statements_of`] keeps beside the product's PURL, CPE or URI) are internal to their
/// document and not reported.
pub fn statements_naming_nothing(
    findings: &[Finding],
    statements: &[VexStatement],
    asset_refs: &dyn Fn(&Finding) -> Vec<String>,
) -> Vec<String> {
    let mut used = vec![false; statements.len()];
    for f in findings {
        let mut refs = asset_refs(f);
        refs.push(product_ref(f));
        refs.push(device_ref(&f.asset_id));
        for (i, s) in statements.iter().enumerate() {
            if !used[i] && vuln_matches(s, f) && product_matches(s, f, &refs) {
                used[i] = true;
            }
        }
    }
    statements
        .iter()
        .zip(used)
        .filter(|(s, u)| !u && s.product.contains(':'))
        .map(|(s, _)| format!("{} on {}", s.vulnerability, s.product))
        .collect()
}

/// Turns user-provided VEX statements (the hospital's own OpenVEX, CSAF VEX or
/// CycloneDX VEX) into local statements about the findings they name: for each finding
/// the matching statement with the latest timestamp (then the first given). The author
/// is the statement's document; a status outside the four VEX statuses (CycloneDX
/// `false_positive`, `resolved`) reads as not_affected / fixed.
pub fn local_from_statements(
    findings: &[Finding],
    statements: &[VexStatement],
    asset_refs: &dyn Fn(&Finding) -> Vec<String>,
) -> Vec<LocalStatement> {
    let mut out = Vec::new();
    for f in findings {
        let mut refs = asset_refs(f);
        refs.push(product_ref(f));
        refs.push(device_ref(&f.asset_id));
        let best = statements
            .iter()
            .filter(|s| vuln_matches(s, f) && product_matches(s, f, &refs))
            .enumerate()
            .max_by(|(ia, a), (ib, b)| a.timestamp.cmp(&b.timestamp).then(ib.cmp(ia)))
            .map(|(_, s)| s);
        let Some(s) = best else { continue };
        let status = match &s.status {
            VexStatus::Affected => LocalStatus::Affected,
            VexStatus::NotAffected => LocalStatus::NotAffected,
            VexStatus::Fixed => LocalStatus::Fixed,
            VexStatus::UnderInvestigation => LocalStatus::UnderInvestigation,
            VexStatus::Other(o) if o == "false_positive" => LocalStatus::NotAffected,
            VexStatus::Other(o) if o == "resolved" => LocalStatus::Fixed,
            VexStatus::Other(_) => LocalStatus::UnderInvestigation,
        };
        let justification = s.justification.as_deref().and_then(Justification::parse);
        // Keep an unmapped label readable rather than dropping it.
        let impact = match (&s.impact_statement, &s.justification, justification) {
            (Some(i), _, _) => Some(i.clone()),
            (None, Some(j), None) => Some(format!("justification: {j}")),
            (None, _, _) => s.detail.clone(),
        };
        out.push(LocalStatement {
            finding_id: f.id.clone(),
            status,
            justification,
            impact_statement: impact,
            action_statement: s.action_statement.clone(),
            author: s.source_document.clone(),
            timestamp: s.timestamp.clone().unwrap_or_default(),
        });
    }
    out
}
