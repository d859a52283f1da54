//! CycloneDX 1.2-1.7 reader, JSON and XML, including CycloneDX VEX (`vulnerabilities[]`
//! with `analysis`). Own model rather than `cyclonedx-bom`, which stops at 1.5.
//!
//! Validation is hand-written (the JSON schemas are not shipped with Ward): required
//! fields, the enumerations Ward relies on (component type, scope, hash algorithm, patch
//! and issue types, data flow, VEX state/justification/response), hash, serial-number
//! and date-time patterns, unique non-empty `bom-ref`s, license choice rules, `swid`
//! required fields, `versionRange` rules (1.7), the XML namespace, and license ids
//! (`licenses[].license.id` must be an SPDX license or exception id, checked against the
//! SPDX license list the `spdx` crate carries, as CycloneDX's `spdx.schema.json` enum
//! does). Not checked here: schema rules on parts of a BOM Ward does not read
//! (formulation, declarations, crypto properties...); the official JSON schemas check
//! those when a schema folder is given (see [`crate::schema`]).

use crate::csaf::revision::parse_datetime;
use crate::error::IntelError;
use crate::model::{
    Component, CvssVersion, Hash, Property, Relationship, SbomDocument, SbomVulnerability, Score,
    SupportInfo, VexStatement, VexStatus,
};
use serde_json::Value;
use std::collections::HashSet;

const COMPONENT_TYPES: &[&str] = &[
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
    "cryptographic-asset",
];
const SCOPES: &[&str] = &["required", "optional", "excluded"];
const HASH_ALGS: &[&str] = &[
    "MD5",
    "SHA-1",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
    "Streebog-256",
    "Streebog-512",
];
const PATCH_TYPES: &[&str] = &["unofficial", "monkey", "backport", "cherry-pick"];
const ISSUE_TYPES: &[&str] = &["defect", "enhancement", "security"];
const DATA_FLOWS: &[&str] = &["inbound", "outbound", "bi-directional", "unknown"];
const IMPACT_STATES: &[&str] = &[
    "resolved",
    "resolved_with_pedigree",
    "exploitable",
    "in_triage",
    "false_positive",
    "not_affected",
];
const JUSTIFICATIONS: &[&str] = &[
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];
const RESPONSES: &[&str] = &[
    "can_not_fix",
    "will_not_fix",
    "update",
    "rollback",
    "workaround_available",
];
/// `metadata` keys of CycloneDX 1.2-1.7 (the schema forbids others).
const METADATA_KEYS: &[&str] = &[
    "timestamp",
    "lifecycles",
    "tools",
    "authors",
    "component",
    "manufacture",
    "manufacturer",
    "supplier",
    "licenses",
    "properties",
    "distributionConstraints",
];

/// Per-document checker shared by the JSON and XML readers.
struct Checker<'a> {
    file: &'a str,
    refs: HashSet<String>,
    /// Before 1.7 an SPDX expression had to be the only entry of `licenses`.
    lone_expression: bool,
}

impl Checker<'_> {
    fn err(&self, rule: &str, at: &str, msg: impl Into<String>) -> IntelError {
        IntelError::invalid(self.file, &format!("cyclonedx:{rule}"), at, msg)
    }
    fn bom_ref(&mut self, r: &str, at: &str) -> Result<(), IntelError> {
        if r.is_empty() {
            return Err(self.err("bom-ref", at, "bom-ref is empty"));
        }
        if !self.refs.insert(r.to_string()) {
            return Err(self.err("bom-ref", at, format!("bom-ref {r:?} is not unique")));
        }
        Ok(())
    }
    fn one_of(
        &self,
        rule: &str,
        at: &str,
        value: &str,
        allowed: &[&str],
    ) -> Result<(), IntelError> {
        if allowed.contains(&value) {
            Ok(())
        } else {
            Err(self.err(
                rule,
                at,
                format!("{value:?} is not one of the allowed values"),
            ))
        }
    }
    fn hash(&self, alg: &str, content: &str, at: &str) -> Result<(), IntelError> {
        self.one_of("hash-alg", at, alg, HASH_ALGS)?;
        let len_ok = [32, 40, 64, 96, 128].contains(&content.len());
        if !len_ok || !content.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err(
                "hash-content",
                at,
                format!("{alg} hash is not 32-128 hex digits"),
            ));
        }
        Ok(())
    }
}

/// `urn:uuid:` followed by a canonical UUID.
fn serial_ok(s: &str) -> bool {
    let Some(u) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = u.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn support_from(props: &[Property]) -> SupportInfo {
    let mut s = SupportInfo::default();
    for p in props {
        let key: String = p
            .name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .flat_map(|c| c.to_lowercase())
            .collect();
        if key.contains("levelofsupport") || key.ends_with("supportlevel") {
            s.level_of_support = Some(p.value.clone());
        } else if key.contains("endofsupport")
            || key.ends_with("eosdate")
            || key.contains("endoflife")
        {
            s.end_of_support = Some(p.value.clone());
        }
    }
    s
}

fn vex_status(state: &str) -> VexStatus {
    match state {
        "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
        "exploitable" => VexStatus::Affected,
        "in_triage" => VexStatus::UnderInvestigation,
        "not_affected" | "false_positive" => VexStatus::NotAffected,
        other => VexStatus::Other(other.to_string()),
    }
}

/// Score from a CycloneDX rating `method` and `vector`.
fn rating_score(
    method: Option<&str>,
    vector: Option<&str>,
    score: Option<f64>,
    severity: Option<&str>,
    source: Option<String>,
) -> Option<Score> {
    let vector = vector?;
    let version = match method? {
        "CVSSv2" => CvssVersion::V2,
        "CVSSv3" => CvssVersion::V30,
        "CVSSv31" => CvssVersion::V31,
        "CVSSv4" => CvssVersion::V40,
        _ => return None,
    };
    Some(Score {
        version,
        vector: vector.to_string(),
        base_score: score,
        base_severity: severity.map(str::to_string),
        products: Vec::new(),
        source,
    })
}

// ====================================================================== JSON

/// Read a CycloneDX JSON BOM.
pub fn read_json(bytes: &[u8], file: &str) -> Result<SbomDocument, IntelError> {
    let v: Value = crate::error::from_json_slice(bytes, file)?;
    read_json_value(&v, file)
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub fn read_json_value(v: &Value, file: &str) -> Result<SbomDocument, IntelError> {
    let mut c = Checker {
        file,
        refs: HashSet::new(),
        lone_expression: true,
    };
    let root = v
        .as_object()
        .ok_or_else(|| c.err("required", "/", "a BOM is a JSON object"))?;
    if s(v, "bomFormat") != Some("CycloneDX") {
        return Err(c.err("bomFormat", "/bomFormat", "bomFormat must be \"CycloneDX\""));
    }
    let spec = s(v, "specVersion")
        .ok_or_else(|| c.err("required", "/specVersion", "specVersion is required"))?;
    c.lone_expression = !matches!(spec, "1.7" | "1.8");
    let mut doc = SbomDocument {
        spec_version: spec.to_string(),
        ..Default::default()
    };
    if let Some(sn) = root.get("serialNumber") {
        let sn = sn.as_str().filter(|x| serial_ok(x)).ok_or_else(|| {
            c.err(
                "serialNumber",
                "/serialNumber",
                "serialNumber is not urn:uuid:<uuid>",
            )
        })?;
        doc.serial_number = Some(sn.to_string());
    }
    if let Some(ver) = root.get("version") {
        let n = ver
            .as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| c.err("version", "/version", "version must be an integer >= 1"))?;
        doc.version = Some(n.to_string());
    }
    if let Some(md) = root.get("metadata") {
        let mdo = md
            .as_object()
            .ok_or_else(|| c.err("required", "/metadata", "metadata is an object"))?;
        for k in mdo.keys() {
            if !METADATA_KEYS.contains(&k.as_str()) {
                return Err(c.err(
                    "additionalProperties",
                    &format!("/metadata/{k}"),
                    format!("unknown metadata property {k:?}"),
                ));
            }
        }
        if let Some(ts) = md.get("timestamp") {
            if ts.as_str().is_none_or(|t| parse_datetime(t).is_none()) {
                return Err(c.err(
                    "date-time",
                    "/metadata/timestamp",
                    "timestamp is not an RFC 3339 date-time",
                ));
            }
        }
        json_licenses(&c, md.get("licenses"), "/metadata/licenses")?;
        json_properties(&c, md.get("properties"), "/metadata/properties")?;
        if let Some(mc) = md.get("component") {
            let mut out = Vec::new();
            json_component(&mut c, mc, "/metadata/component", None, &mut out, 0)?;
            let mut it = out.into_iter();
            doc.subject = it.next();
            // Components nested in the subject are part of the BOM's content.
            doc.components.extend(it);
        }
    }
    for (i, comp) in arr(v, "components").iter().enumerate() {
        json_component(
            &mut c,
            comp,
            &format!("/components/{i}"),
            None,
            &mut doc.components,
            0,
        )?;
    }
    for (i, svc) in arr(v, "services").iter().enumerate() {
        json_service(&mut c, svc, &format!("/services/{i}"), 0)?;
    }
    for (i, d) in arr(v, "dependencies").iter().enumerate() {
        let at = format!("/dependencies/{i}");
        let r = s(d, "ref")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| c.err("dependency", &at, "dependency needs a non-empty ref"))?;
        for (j, t) in arr(d, "dependsOn").iter().enumerate() {
            let t = t.as_str().filter(|t| !t.is_empty()).ok_or_else(|| {
                c.err(
                    "dependency",
                    &format!("{at}/dependsOn/{j}"),
                    "dependsOn entries are non-empty strings",
                )
            })?;
            doc.relationships.push(Relationship {
                from: r.to_string(),
                kind: "dependsOn".into(),
                to: t.to_string(),
            });
        }
        for t in arr(d, "provides").iter().filter_map(Value::as_str) {
            doc.relationships.push(Relationship {
                from: r.to_string(),
                kind: "provides".into(),
                to: t.to_string(),
            });
        }
    }
    let source_doc = doc
        .serial_number
        .clone()
        .unwrap_or_else(|| file.to_string());
    for (i, vul) in arr(v, "vulnerabilities").iter().enumerate() {
        json_vulnerability(
            &mut c,
            vul,
            &format!("/vulnerabilities/{i}"),
            &source_doc,
            &mut doc,
        )?;
    }
    Ok(doc)
}

fn json_properties(
    c: &Checker,
    props: Option<&Value>,
    at: &str,
) -> Result<Vec<Property>, IntelError> {
    let mut out = Vec::new();
    let Some(props) = props else { return Ok(out) };
    let list = props
        .as_array()
        .ok_or_else(|| c.err("properties", at, "properties is an array"))?;
    for (i, p) in list.iter().enumerate() {
        let pat = format!("{at}/{i}");
        let obj = p
            .as_object()
            .ok_or_else(|| c.err("properties", &pat, "a property is an object"))?;
        if obj.keys().any(|k| k != "name" && k != "value") {
            return Err(c.err("properties", &pat, "a property has only name and value"));
        }
        let name =
            s(p, "name").ok_or_else(|| c.err("properties", &pat, "a property needs a name"))?;
        out.push(Property {
            name: name.to_string(),
            value: s(p, "value").unwrap_or("").to_string(),
        });
    }
    Ok(out)
}

/// Is `id` on the SPDX license list (licenses, deprecated ones included, or exceptions)?
/// Exact match, as the enumeration in CycloneDX's `spdx.schema.json`.
pub fn is_spdx_license_id(id: &str) -> bool {
    spdx::license_id(id).is_some() || spdx::exception_id(id).is_some()
}

fn check_license_id(c: &Checker, id: &str, at: &str) -> Result<(), IntelError> {
    if is_spdx_license_id(id) {
        Ok(())
    } else {
        Err(c.err(
            "license-id",
            at,
            format!("{id:?} is not an SPDX license id (use name for other licenses)"),
        ))
    }
}

fn json_licenses(c: &Checker, lic: Option<&Value>, at: &str) -> Result<(), IntelError> {
    let Some(lic) = lic else { return Ok(()) };
    let list = lic
        .as_array()
        .ok_or_else(|| c.err("license", at, "licenses is an array"))?;
    let mut expressions = 0;
    for (i, l) in list.iter().enumerate() {
        let lat = format!("{at}/{i}");
        let has_l = l.get("license").is_some();
        let has_e = l.get("expression").is_some();
        if has_l == has_e {
            return Err(c.err(
                "license-choice",
                &lat,
                "a license entry has exactly one of license or expression",
            ));
        }
        if has_e {
            expressions += 1;
        }
        if let Some(lo) = l.get("license") {
            let (id, name) = (lo.get("id"), lo.get("name"));
            if id.is_some() == name.is_some() {
                return Err(c.err(
                    "license",
                    &format!("{lat}/license"),
                    "a license has exactly one of id or name",
                ));
            }
            if let Some(id) = id {
                let id_at = format!("{lat}/license/id");
                let id = id
                    .as_str()
                    .ok_or_else(|| c.err("license-id", &id_at, "license id is a string"))?;
                check_license_id(c, id, &id_at)?;
            }
            if let Some(enc) = lo.get("text").and_then(|t| t.get("encoding")) {
                if enc.as_str() != Some("base64") {
                    return Err(c.err(
                        "license-encoding",
                        &format!("{lat}/license/text/encoding"),
                        "encoding must be base64",
                    ));
                }
            }
            json_properties(
                c,
                lo.get("properties"),
                &format!("{lat}/license/properties"),
            )?;
        }
    }
    if c.lone_expression && expressions > 0 && list.len() > 1 {
        return Err(c.err(
            "license-choice",
            at,
            "an expression must be the only license entry",
        ));
    }
    Ok(())
}

fn json_hashes(c: &Checker, v: &Value, at: &str) -> Result<Vec<Hash>, IntelError> {
    let mut out = Vec::new();
    for (i, h) in arr(v, "hashes").iter().enumerate() {
        let hat = format!("{at}/hashes/{i}");
        let alg = s(h, "alg").ok_or_else(|| c.err("required", &hat, "hash needs alg"))?;
        let content =
            s(h, "content").ok_or_else(|| c.err("required", &hat, "hash needs content"))?;
        c.hash(alg, content, &hat)?;
        out.push(Hash {
            algorithm: alg.to_string(),
            value: content.to_string(),
        });
    }
    Ok(out)
}

const MAX_DEPTH: usize = 64;

fn json_component(
    c: &mut Checker,
    v: &Value,
    at: &str,
    parent: Option<&str>,
    out: &mut Vec<Component>,
    depth: usize,
) -> Result<(), IntelError> {
    if depth > MAX_DEPTH {
        return Err(c.err("depth", at, "components nested too deeply"));
    }
    if !v.is_object() {
        return Err(c.err("required", at, "a component is an object"));
    }
    let ty = s(v, "type").ok_or_else(|| {
        c.err(
            "required",
            &format!("{at}/type"),
            "component type is required",
        )
    })?;
    c.one_of("component-type", &format!("{at}/type"), ty, COMPONENT_TYPES)?;
    let name = s(v, "name").ok_or_else(|| {
        c.err(
            "required",
            &format!("{at}/name"),
            "component name is required",
        )
    })?;
    let bom_ref = match v.get("bom-ref") {
        Some(r) => {
            let r = r
                .as_str()
                .ok_or_else(|| c.err("bom-ref", &format!("{at}/bom-ref"), "bom-ref is a string"))?;
            c.bom_ref(r, &format!("{at}/bom-ref"))?;
            Some(r.to_string())
        }
        None => None,
    };
    if let Some(scope) = s(v, "scope") {
        c.one_of("scope", &format!("{at}/scope"), scope, SCOPES)?;
    }
    let external = v
        .get("isExternal")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if v.get("versionRange").is_some() {
        if !external {
            return Err(c.err(
                "versionRange",
                &format!("{at}/versionRange"),
                "versionRange is only allowed with isExternal true",
            ));
        }
        if v.get("version").is_some() {
            return Err(c.err(
                "versionRange",
                at,
                "a component has version or versionRange, not both",
            ));
        }
    }
    if let Some(sw) = v.get("swid") {
        if s(sw, "tagId").is_none() || s(sw, "name").is_none() {
            return Err(c.err("swid", &format!("{at}/swid"), "swid needs tagId and name"));
        }
    }
    json_licenses(c, v.get("licenses"), &format!("{at}/licenses"))?;
    if let Some(ped) = v.get("pedigree") {
        for (i, p) in arr(ped, "patches").iter().enumerate() {
            let pat = format!("{at}/pedigree/patches/{i}");
            c.one_of(
                "patch-type",
                &format!("{pat}/type"),
                s(p, "type").unwrap_or(""),
                PATCH_TYPES,
            )?;
            for (j, r) in arr(p, "resolves").iter().enumerate() {
                c.one_of(
                    "issue-type",
                    &format!("{pat}/resolves/{j}/type"),
                    s(r, "type").unwrap_or(""),
                    ISSUE_TYPES,
                )?;
            }
        }
    }
    let hashes = json_hashes(c, v, at)?;
    let properties = json_properties(c, v.get("properties"), &format!("{at}/properties"))?;
    let supplier = v
        .get("supplier")
        .and_then(|x| s(x, "name"))
        .map(str::to_string);
    let comp = Component {
        bom_ref: bom_ref.clone(),
        component_type: Some(ty.to_string()),
        name: name.to_string(),
        version: s(v, "version").map(str::to_string),
        group: s(v, "group").map(str::to_string),
        supplier,
        publisher: s(v, "publisher").map(str::to_string),
        purl: s(v, "purl").map(str::to_string),
        cpe: s(v, "cpe").map(str::to_string),
        other_cpes: Vec::new(),
        hashes,
        support: support_from(&properties),
        properties,
        parent: parent.map(str::to_string),
        version_range: s(v, "versionRange").map(str::to_string),
    };
    out.push(comp);
    let me = bom_ref.or_else(|| Some(name.to_string()));
    for (i, child) in arr(v, "components").iter().enumerate() {
        json_component(
            c,
            child,
            &format!("{at}/components/{i}"),
            me.as_deref(),
            out,
            depth + 1,
        )?;
    }
    Ok(())
}

fn json_service(c: &mut Checker, v: &Value, at: &str, depth: usize) -> Result<(), IntelError> {
    if depth > MAX_DEPTH {
        return Err(c.err("depth", at, "services nested too deeply"));
    }
    s(v, "name").ok_or_else(|| {
        c.err(
            "required",
            &format!("{at}/name"),
            "service name is required",
        )
    })?;
    if let Some(r) = v.get("bom-ref") {
        let r = r.as_str().unwrap_or("");
        c.bom_ref(r, &format!("{at}/bom-ref"))?;
    }
    for (i, d) in arr(v, "data").iter().enumerate() {
        if let Some(flow) = d.get("flow") {
            c.one_of(
                "data-flow",
                &format!("{at}/data/{i}/flow"),
                flow.as_str().unwrap_or(""),
                DATA_FLOWS,
            )?;
        }
    }
    json_properties(c, v.get("properties"), &format!("{at}/properties"))?;
    for (i, child) in arr(v, "services").iter().enumerate() {
        json_service(c, child, &format!("{at}/services/{i}"), depth + 1)?;
    }
    Ok(())
}

fn json_vulnerability(
    c: &mut Checker,
    v: &Value,
    at: &str,
    source_doc: &str,
    doc: &mut SbomDocument,
) -> Result<(), IntelError> {
    if let Some(r) = v.get("bom-ref") {
        c.bom_ref(r.as_str().unwrap_or(""), &format!("{at}/bom-ref"))?;
    }
    let id = s(v, "id").unwrap_or("").to_string();
    let source = v
        .get("source")
        .and_then(|x| s(x, "name"))
        .map(str::to_string);
    let mut vul = SbomVulnerability {
        id: id.clone(),
        source: source.clone(),
        description: s(v, "description").map(str::to_string),
        ..Default::default()
    };
    for r in arr(v, "ratings") {
        let rsource = r
            .get("source")
            .and_then(|x| s(x, "name"))
            .map(str::to_string)
            .or_else(|| source.clone());
        match rating_score(
            s(r, "method"),
            s(r, "vector"),
            r.get("score").and_then(Value::as_f64),
            s(r, "severity"),
            rsource,
        ) {
            Some(score) => vul.ratings.push(score),
            None => {
                if let Some(sev) = s(r, "severity") {
                    vul.severities.push(sev.to_string());
                }
            }
        }
    }
    vul.cwes = arr(v, "cwes")
        .iter()
        .filter_map(Value::as_u64)
        .filter_map(|n| u32::try_from(n).ok())
        .collect();
    let aliases: Vec<String> = arr(v, "references")
        .iter()
        .filter_map(|r| s(r, "id"))
        .map(str::to_string)
        .collect();
    let analysis = v.get("analysis");
    let mut state = None;
    if let Some(a) = analysis {
        if let Some(st) = a.get("state") {
            let st = st.as_str().unwrap_or("");
            c.one_of(
                "analysis-state",
                &format!("{at}/analysis/state"),
                st,
                IMPACT_STATES,
            )?;
            state = Some(st.to_string());
        }
        if let Some(j) = a.get("justification") {
            c.one_of(
                "analysis-justification",
                &format!("{at}/analysis/justification"),
                j.as_str().unwrap_or(""),
                JUSTIFICATIONS,
            )?;
        }
        for (i, r) in arr(a, "response").iter().enumerate() {
            c.one_of(
                "analysis-response",
                &format!("{at}/analysis/response/{i}"),
                r.as_str().unwrap_or(""),
                RESPONSES,
            )?;
        }
    }
    for (i, aff) in arr(v, "affects").iter().enumerate() {
        let r = s(aff, "ref").ok_or_else(|| {
            c.err(
                "required",
                &format!("{at}/affects/{i}/ref"),
                "affects needs ref",
            )
        })?;
        vul.affects.push(r.to_string());
        let versions: Vec<String> = arr(aff, "versions")
            .iter()
            .filter_map(|x| {
                s(x, "version")
                    .or_else(|| s(x, "range"))
                    .map(str::to_string)
            })
            .collect();
        if let (Some(st), Some(a)) = (&state, analysis) {
            let justification = s(a, "justification")
                .map(str::to_string)
                .or_else(|| (st == "false_positive").then(|| "false_positive".to_string()));
            doc.vex.push(VexStatement {
                vulnerability: id.clone(),
                aliases: aliases.clone(),
                product: r.to_string(),
                subcomponents: Vec::new(),
                status: vex_status(st),
                justification,
                impact_statement: s(a, "detail").map(str::to_string),
                action_statement: s(v, "recommendation")
                    .or_else(|| s(v, "workaround"))
                    .map(str::to_string),
                responses: arr(a, "response")
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                detail: s(a, "detail").map(str::to_string),
                timestamp: s(a, "lastUpdated")
                    .or_else(|| s(v, "updated"))
                    .map(str::to_string),
                source_document: source_doc.to_string(),
                versions,
            });
        }
    }
    doc.vulnerabilities.push(vul);
    Ok(())
}

// ====================================================================== XML

/// Read a CycloneDX XML BOM (namespace `http://cyclonedx.org/schema/bom/1.x`).
/// The byte offset of a 1-based (row, column-in-characters) position in `text`, clamped
/// to the text's length.
fn text_pos_to_byte(text: &str, row: u32, col: u32) -> usize {
    let mut start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == row as usize {
            let within = line
                .char_indices()
                .nth((col as usize).saturating_sub(1))
                .map_or(line.len(), |(b, _)| b);
            return start + within;
        }
        start += line.len();
    }
    text.len()
}

pub fn read_xml(bytes: &[u8], file: &str) -> Result<SbomDocument, IntelError> {
    let text = std::str::from_utf8(bytes).map_err(|e| IntelError::Xml {
        file: file.to_string(),
        offset: e.valid_up_to(),
        message: "not UTF-8".into(),
    })?;
    if let Some(offset) = xml_too_deep(text) {
        return Err(IntelError::Xml {
            file: file.to_string(),
            offset,
            message: format!("elements nested deeper than {MAX_XML_DEPTH} levels"),
        });
    }
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 5_000_000,
    };
    let xml = roxmltree::Document::parse_with_options(text, opts).map_err(|e| IntelError::Xml {
        file: file.to_string(),
        offset: text_pos_to_byte(text, e.pos().row, e.pos().col),
        message: e.to_string(),
    })?;
    let root = xml.root_element();
    let mut c = Checker {
        file,
        refs: HashSet::new(),
        lone_expression: true,
    };
    let at = |n: roxmltree::Node| format!("byte {}", n.range().start);
    let ns = root.tag_name().namespace().unwrap_or("");
    let spec = ns
        .strip_prefix("http://cyclonedx.org/schema/bom/")
        .unwrap_or("");
    let known = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];
    if root.tag_name().name() != "bom" || !known.contains(&spec) {
        return Err(c.err(
            "namespace",
            &at(root),
            format!("root is not a CycloneDX bom (namespace {ns:?})"),
        ));
    }
    c.lone_expression = spec != "1.7";
    let mut doc = SbomDocument {
        spec_version: spec.to_string(),
        ..Default::default()
    };
    if let Some(sn) = root.attribute("serialNumber") {
        if !serial_ok(sn) {
            return Err(c.err(
                "serialNumber",
                &at(root),
                "serialNumber is not urn:uuid:<uuid>",
            ));
        }
        doc.serial_number = Some(sn.to_string());
    }
    doc.version = root.attribute("version").map(str::to_string);
    let child = |n, name| elements(n, name).next();
    if let Some(md) = child(root, "metadata") {
        if let Some(ts) = child(md, "timestamp") {
            if parse_datetime(ts.text().unwrap_or("").trim()).is_none() {
                return Err(c.err(
                    "date-time",
                    &at(ts),
                    "timestamp is not an RFC 3339 date-time",
                ));
            }
        }
        if let Some(l) = child(md, "licenses") {
            xml_licenses(&c, l)?;
        }
        if let Some(mc) = child(md, "component") {
            let mut out = Vec::new();
            xml_component(&mut c, mc, None, &mut out, 0)?;
            let mut it = out.into_iter();
            doc.subject = it.next();
            doc.components.extend(it);
        }
    }
    if let Some(comps) = child(root, "components") {
        for comp in comps
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "component")
        {
            xml_component(&mut c, comp, None, &mut doc.components, 0)?;
        }
    }
    if let Some(deps) = child(root, "dependencies") {
        for d in deps
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == "dependency")
        {
            let r = d
                .attribute("ref")
                .filter(|r| !r.is_empty())
                .ok_or_else(|| c.err("dependency", &at(d), "dependency needs a non-empty ref"))?;
            for t in d
                .children()
                .filter(|n| n.is_element() && n.tag_name().name() == "dependency")
            {
                if let Some(to) = t.attribute("ref") {
                    doc.relationships.push(Relationship {
                        from: r.to_string(),
                        kind: "dependsOn".into(),
                        to: to.to_string(),
                    });
                }
            }
        }
    }
    let source_doc = doc
        .serial_number
        .clone()
        .unwrap_or_else(|| file.to_string());
    if let Some(vulns) = child(root, "vulnerabilities") {
        for v in vulns
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "vulnerability")
        {
            xml_vulnerability(&mut c, v, &source_doc, &mut doc)?;
        }
    }
    Ok(doc)
}

/// Deepest XML element nesting accepted (the XML parser recurses; real BOMs stay far
/// below this).
pub const MAX_XML_DEPTH: usize = 160;

/// Byte offset where element nesting first exceeds [`MAX_XML_DEPTH`], if it does.
/// A cheap scan: start tags open, end tags and `/>` close; comments, CDATA,
/// processing instructions and declarations are skipped.
fn xml_too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = b.get(i..).and_then(|r| r.iter().position(|c| *c == b'<')) {
        i += off;
        let rest = &b[i..];
        let skip_to = |pat: &[u8]| {
            rest.windows(pat.len())
                .position(|w| w == pat)
                .map(|p| p + pat.len())
        };
        if rest.starts_with(b"<!--") {
            i += skip_to(b"-->")?;
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            i += skip_to(b"]]>")?;
            continue;
        }
        let end = rest.iter().position(|c| *c == b'>')?;
        let tag = &rest[..=end];
        if tag.starts_with(b"</") {
            depth = depth.saturating_sub(1);
        } else if !(tag.starts_with(b"<?") || tag.starts_with(b"<!") || tag.ends_with(b"/>")) {
            depth += 1;
            if depth > MAX_XML_DEPTH {
                return Some(i);
            }
        }
        i += end + 1;
    }
    None
}

fn text_of(n: roxmltree::Node, name: &str) -> Option<String> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .map(|c| c.text().unwrap_or("").trim().to_string())
}

fn elements<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn xml_licenses(c: &Checker, l: roxmltree::Node) -> Result<(), IntelError> {
    let at = format!("byte {}", l.range().start);
    let lics: Vec<_> = elements(l, "license").collect();
    let exprs = elements(l, "expression").count();
    if c.lone_expression && exprs > 0 && (exprs + lics.len()) > 1 {
        return Err(c.err(
            "license-choice",
            &at,
            "an expression must be the only license entry",
        ));
    }
    for lic in lics {
        let at = format!("byte {}", lic.range().start);
        let ids = elements(lic, "id").count();
        let names = elements(lic, "name").count();
        if ids + names != 1 {
            return Err(c.err("license", &at, "a license has exactly one id or one name"));
        }
        if let Some(id) = elements(lic, "id").next() {
            let id_at = format!("byte {}", id.range().start);
            check_license_id(c, id.text().unwrap_or("").trim(), &id_at)?;
        }
        if let Some(t) = elements(lic, "text").next() {
            if let Some(enc) = t.attribute("encoding") {
                if enc != "base64" {
                    return Err(c.err("license-encoding", &at, "encoding must be base64"));
                }
            }
        }
    }
    Ok(())
}

fn xml_component(
    c: &mut Checker,
    n: roxmltree::Node,
    parent: Option<&str>,
    out: &mut Vec<Component>,
    depth: usize,
) -> Result<(), IntelError> {
    let at = format!("byte {}", n.range().start);
    if depth > MAX_DEPTH {
        return Err(c.err("depth", &at, "components nested too deeply"));
    }
    let ty = n
        .attribute("type")
        .ok_or_else(|| c.err("required", &at, "component type is required"))?;
    c.one_of("component-type", &at, ty, COMPONENT_TYPES)?;
    let name =
        text_of(n, "name").ok_or_else(|| c.err("required", &at, "component name is required"))?;
    let bom_ref = match n.attribute("bom-ref") {
        Some(r) => {
            c.bom_ref(r, &at)?;
            Some(r.to_string())
        }
        None => None,
    };
    if let Some(scope) = text_of(n, "scope") {
        c.one_of("scope", &at, &scope, SCOPES)?;
    }
    if let Some(sw) = elements(n, "swid").next() {
        if sw.attribute("tagId").is_none() || sw.attribute("name").is_none() {
            return Err(c.err("swid", &at, "swid needs tagId and name"));
        }
    }
    if let Some(l) = elements(n, "licenses").next() {
        xml_licenses(c, l)?;
    }
    if let Some(ped) = elements(n, "pedigree").next() {
        for patches in elements(ped, "patches") {
            for p in elements(patches, "patch") {
                c.one_of(
                    "patch-type",
                    &at,
                    p.attribute("type").unwrap_or(""),
                    PATCH_TYPES,
                )?;
                for res in elements(p, "resolves") {
                    for issue in elements(res, "issue") {
                        c.one_of(
                            "issue-type",
                            &at,
                            issue.attribute("type").unwrap_or(""),
                            ISSUE_TYPES,
                        )?;
                    }
                }
            }
        }
    }
    let mut hashes = Vec::new();
    for hs in elements(n, "hashes") {
        for h in elements(hs, "hash") {
            let alg = h.attribute("alg").unwrap_or("");
            let content = h.text().unwrap_or("").trim();
            c.hash(alg, content, &format!("byte {}", h.range().start))?;
            hashes.push(Hash {
                algorithm: alg.to_string(),
                value: content.to_string(),
            });
        }
    }
    let mut properties = Vec::new();
    for ps in elements(n, "properties") {
        for p in elements(ps, "property") {
            let pname = p
                .attribute("name")
                .ok_or_else(|| c.err("properties", &at, "a property needs a name"))?;
            properties.push(Property {
                name: pname.to_string(),
                value: p.text().unwrap_or("").trim().to_string(),
            });
        }
    }
    let supplier = elements(n, "supplier")
        .next()
        .and_then(|s| text_of(s, "name"));
    out.push(Component {
        bom_ref: bom_ref.clone(),
        component_type: Some(ty.to_string()),
        name: name.clone(),
        version: text_of(n, "version"),
        group: text_of(n, "group"),
        supplier,
        publisher: text_of(n, "publisher"),
        purl: text_of(n, "purl"),
        cpe: text_of(n, "cpe"),
        other_cpes: Vec::new(),
        hashes,
        support: support_from(&properties),
        properties,
        parent: parent.map(str::to_string),
        version_range: text_of(n, "versionRange"),
    });
    let me = bom_ref.unwrap_or(name);
    for comps in elements(n, "components") {
        for child in elements(comps, "component") {
            xml_component(c, child, Some(&me), out, depth + 1)?;
        }
    }
    Ok(())
}

fn xml_vulnerability(
    c: &mut Checker,
    v: roxmltree::Node,
    source_doc: &str,
    doc: &mut SbomDocument,
) -> Result<(), IntelError> {
    let at = format!("byte {}", v.range().start);
    if let Some(r) = v.attribute("bom-ref") {
        c.bom_ref(r, &at)?;
    }
    let id = text_of(v, "id").unwrap_or_default();
    let source = elements(v, "source")
        .next()
        .and_then(|s| text_of(s, "name"));
    let mut vul = SbomVulnerability {
        id: id.clone(),
        source: source.clone(),
        description: text_of(v, "description"),
        ..Default::default()
    };
    for rs in elements(v, "ratings") {
        for r in elements(rs, "rating") {
            let score = text_of(r, "score").and_then(|x| x.parse().ok());
            let method = text_of(r, "method");
            let vector = text_of(r, "vector");
            let sev = text_of(r, "severity");
            match rating_score(
                method.as_deref(),
                vector.as_deref(),
                score,
                sev.as_deref(),
                source.clone(),
            ) {
                Some(sc) => vul.ratings.push(sc),
                None => vul.severities.extend(sev),
            }
        }
    }
    for cw in elements(v, "cwes") {
        vul.cwes.extend(
            elements(cw, "cwe").filter_map(|x| x.text().and_then(|t| t.trim().parse::<u32>().ok())),
        );
    }
    let analysis = elements(v, "analysis").next();
    let state = analysis.and_then(|a| text_of(a, "state"));
    if let Some(st) = &state {
        c.one_of("analysis-state", &at, st, IMPACT_STATES)?;
    }
    let justification = analysis.and_then(|a| text_of(a, "justification"));
    if let Some(j) = &justification {
        c.one_of("analysis-justification", &at, j, JUSTIFICATIONS)?;
    }
    let responses: Vec<String> = analysis
        .into_iter()
        .flat_map(|a| elements(a, "responses"))
        .flat_map(|r| elements(r, "response"))
        .map(|r| r.text().unwrap_or("").trim().to_string())
        .collect();
    for r in &responses {
        c.one_of("analysis-response", &at, r, RESPONSES)?;
    }
    for affs in elements(v, "affects") {
        for t in elements(affs, "target") {
            let r = text_of(t, "ref")
                .ok_or_else(|| c.err("required", &at, "affects target needs ref"))?;
            vul.affects.push(r.clone());
            let versions: Vec<String> = elements(t, "versions")
                .flat_map(|vs| elements(vs, "version"))
                .filter_map(|x| text_of(x, "version").or_else(|| text_of(x, "range")))
                .collect();
            if let Some(st) = &state {
                let detail = analysis.and_then(|a| text_of(a, "detail"));
                doc.vex.push(VexStatement {
                    vulnerability: id.clone(),
                    aliases: Vec::new(),
                    product: r,
                    subcomponents: Vec::new(),
                    status: vex_status(st),
                    justification: justification
                        .clone()
                        .or_else(|| (st == "false_positive").then(|| "false_positive".to_string())),
                    impact_statement: detail.clone(),
                    action_statement: text_of(v, "recommendation"),
                    responses: responses.clone(),
                    detail,
                    timestamp: text_of(v, "updated"),
                    source_document: source_doc.to_string(),
                    versions,
                });
            }
        }
    }
    doc.vulnerabilities.push(vul);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_syntax_errors_give_the_byte_offset() {
        let text = "<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\">\n  <components></bom>\n";
        let e = read_xml(text.as_bytes(), "x.xml").expect_err("mismatched tag");
        let IntelError::Xml { offset, .. } = e else {
            panic!("{e}")
        };
        // The error is on line 3, after both earlier lines.
        let line3 = text.find("  <components>").unwrap_or(0);
        assert!(
            offset >= line3 && offset <= text.len(),
            "{offset} vs {line3}"
        );
        assert_eq!(text_pos_to_byte("ab\ncé\nx", 2, 3), 6);
        assert_eq!(text_pos_to_byte("ab", 9, 1), 2);
    }
}
