//! CVE JSON 5.x record reader: the CNA container and every ADP container, with their
//! affected products (versions with lessThan / lessThanOrEqual / versionType / status /
//! changes), metrics (cvssV2_0, cvssV3_0, cvssV3_1, cvssV4_0), CWEs and references.

use crate::error::{from_json_slice, IntelError};
use crate::model::{
    CveAffected, CveContainer, CveRecord, CveVersion, CvssVersion, Reference, Score,
};
use serde_json::Value;

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}
fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub fn read(bytes: &[u8], file: &str) -> Result<CveRecord, IntelError> {
    let v: Value = from_json_slice(bytes, file)?;
    read_value(&v, file)
}

pub fn read_value(v: &Value, file: &str) -> Result<CveRecord, IntelError> {
    let bad = |at: &str, msg: &str| IntelError::invalid(file, "cve5:required", at, msg);
    if s(v, "dataType") != Some("CVE_RECORD") {
        return Err(bad("/dataType", "dataType must be CVE_RECORD"));
    }
    let meta = v
        .get("cveMetadata")
        .ok_or_else(|| bad("/cveMetadata", "cveMetadata is required"))?;
    let id = s(meta, "cveId").ok_or_else(|| bad("/cveMetadata/cveId", "cveId is required"))?;
    if !crate::csaf::validate::cve_pattern_ok(id) {
        return Err(bad("/cveMetadata/cveId", "not a CVE id"));
    }
    let state = s(meta, "state").ok_or_else(|| bad("/cveMetadata/state", "state is required"))?;
    let containers = v
        .get("containers")
        .ok_or_else(|| bad("/containers", "containers is required"))?;
    let cna = match containers.get("cna") {
        Some(c) => container(c, "/containers/cna", file)?,
        None => return Err(bad("/containers/cna", "the CNA container is required")),
    };
    let mut adp = Vec::new();
    for (i, a) in arr(containers, "adp").iter().enumerate() {
        adp.push(container(a, &format!("/containers/adp/{i}"), file)?);
    }
    Ok(CveRecord {
        id: id.to_string(),
        state: state.to_string(),
        assigner: s(meta, "assignerShortName")
            .or_else(|| s(meta, "assignerOrgId"))
            .map(str::to_string),
        date_published: s(meta, "datePublished").map(str::to_string),
        date_updated: s(meta, "dateUpdated").map(str::to_string),
        cna,
        adp,
        provenance: Default::default(),
    })
}

fn container(c: &Value, at: &str, file: &str) -> Result<CveContainer, IntelError> {
    let pm = c.get("providerMetadata").ok_or_else(|| {
        IntelError::invalid(
            file,
            "cve5:required",
            &format!("{at}/providerMetadata"),
            "providerMetadata is required",
        )
    })?;
    let provider = s(pm, "shortName")
        .or_else(|| s(pm, "orgId"))
        .unwrap_or("")
        .to_string();
    let mut out = CveContainer {
        provider: provider.clone(),
        title: s(c, "title").map(str::to_string),
        description: arr(c, "descriptions")
            .iter()
            .find(|d| s(d, "lang").is_some_and(|l| l.starts_with("en")))
            .or_else(|| arr(c, "descriptions").first())
            .and_then(|d| s(d, "value"))
            .map(str::to_string),
        ..Default::default()
    };
    for (i, a) in arr(c, "affected").iter().enumerate() {
        let mut aff = CveAffected {
            vendor: s(a, "vendor").map(str::to_string),
            product: s(a, "product").map(str::to_string),
            collection_url: s(a, "collectionURL").map(str::to_string),
            package_name: s(a, "packageName").map(str::to_string),
            cpes: arr(a, "cpes")
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            platforms: arr(a, "platforms")
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            default_status: s(a, "defaultStatus").map(str::to_string),
            versions: Vec::new(),
        };
        for (j, ver) in arr(a, "versions").iter().enumerate() {
            let vat = format!("{at}/affected/{i}/versions/{j}");
            let (Some(version), Some(status)) = (s(ver, "version"), s(ver, "status")) else {
                return Err(IntelError::invalid(
                    file,
                    "cve5:required",
                    &vat,
                    "a version needs version and status",
                ));
            };
            if !["affected", "unaffected", "unknown"].contains(&status) {
                return Err(IntelError::invalid(
                    file,
                    "cve5:status",
                    &format!("{vat}/status"),
                    "status must be affected, unaffected or unknown",
                ));
            }
            aff.versions.push(CveVersion {
                version: version.to_string(),
                status: status.to_string(),
                version_type: s(ver, "versionType").map(str::to_string),
                less_than: s(ver, "lessThan").map(str::to_string),
                less_than_or_equal: s(ver, "lessThanOrEqual").map(str::to_string),
                changes: arr(ver, "changes")
                    .iter()
                    .filter_map(|ch| Some((s(ch, "at")?.to_string(), s(ch, "status")?.to_string())))
                    .collect(),
            });
        }
        out.affected.push(aff);
    }
    for m in arr(c, "metrics") {
        for (key, version) in [
            ("cvssV2_0", CvssVersion::V2),
            ("cvssV3_0", CvssVersion::V30),
            ("cvssV3_1", CvssVersion::V31),
            ("cvssV4_0", CvssVersion::V40),
        ] {
            if let Some(obj) = m.get(key) {
                if let Some(vector) = s(obj, "vectorString") {
                    out.metrics.push(Score {
                        version,
                        vector: vector.to_string(),
                        base_score: obj.get("baseScore").and_then(Value::as_f64),
                        base_severity: s(obj, "baseSeverity").map(str::to_string),
                        products: Vec::new(),
                        source: Some(provider.clone()),
                    });
                }
            }
        }
    }
    for pt in arr(c, "problemTypes") {
        for d in arr(pt, "descriptions") {
            if let Some(cwe) = s(d, "cweId") {
                out.cwes.push(cwe.to_string());
            }
        }
    }
    for r in arr(c, "references") {
        if let Some(url) = s(r, "url") {
            out.references.push(Reference {
                url: url.to_string(),
                summary: s(r, "name").map(str::to_string),
                category: arr(r, "tags")
                    .first()
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}
