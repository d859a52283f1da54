//! Format auto-detection from content (never from the file extension alone): JSON keys,
//! the XML root namespace, the tag-value / YAML header, and CSV headers. Then dispatch
//! to the right reader: [`read_document`].

use crate::error::{from_json_slice, IntelError};
use crate::model::{Format, IntelDocument};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

/// The keys detection looks at; everything else is skipped without allocating.
#[derive(Deserialize)]
struct Probe {
    document: Option<DocProbe>,
    #[serde(rename = "bomFormat")]
    bom_format: Option<IgnoredAny>,
    #[serde(rename = "spdxVersion")]
    spdx_version: Option<IgnoredAny>,
    #[serde(rename = "@context")]
    context: Option<Value>,
    #[serde(rename = "@graph")]
    graph: Option<IgnoredAny>,
    #[serde(rename = "catalogVersion")]
    catalog_version: Option<IgnoredAny>,
    vulnerabilities: Option<IgnoredAny>,
    #[serde(rename = "dataType")]
    data_type: Option<Value>,
    id: Option<IgnoredAny>,
    modified: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct DocProbe {
    csaf_version: Option<IgnoredAny>,
}

fn detect_probe(p: &Probe) -> Option<Format> {
    if p.document
        .as_ref()
        .is_some_and(|d| d.csaf_version.is_some())
    {
        return Some(Format::Csaf);
    }
    if p.bom_format.is_some() {
        return Some(Format::CycloneDxJson);
    }
    if p.spdx_version.is_some() {
        return Some(Format::SpdxJson);
    }
    let ctx = p
        .context
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    if ctx.contains("openvex.dev") {
        return Some(Format::OpenVex);
    }
    if p.graph.is_some() && (ctx.contains("spdx") || ctx.is_empty()) {
        return Some(Format::Spdx3JsonLd);
    }
    if p.catalog_version.is_some() && p.vulnerabilities.is_some() {
        return Some(Format::KevJson);
    }
    if p.data_type.as_ref().and_then(Value::as_str) == Some("CVE_RECORD") {
        return Some(Format::Cve5);
    }
    if p.id.is_some() && p.modified.is_some() {
        return Some(Format::Osv);
    }
    None
}

/// What [`read_document`] returns besides the document: warnings that did not reject it.
pub type Warnings = Vec<String>;

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

fn first_significant(bytes: &[u8]) -> Option<u8> {
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Which format a JSON value is.
pub fn detect_json(v: &Value) -> Option<Format> {
    let o = v.as_object()?;
    if o.get("document")
        .and_then(|d| d.get("csaf_version"))
        .is_some()
    {
        return Some(Format::Csaf);
    }
    if o.contains_key("bomFormat") {
        return Some(Format::CycloneDxJson);
    }
    if o.contains_key("spdxVersion") {
        return Some(Format::SpdxJson);
    }
    let ctx = o.get("@context").map(|c| c.to_string()).unwrap_or_default();
    if ctx.contains("openvex.dev") {
        return Some(Format::OpenVex);
    }
    if o.contains_key("@graph") && (ctx.contains("spdx") || ctx.is_empty()) {
        return Some(Format::Spdx3JsonLd);
    }
    if o.contains_key("catalogVersion") && o.contains_key("vulnerabilities") {
        return Some(Format::KevJson);
    }
    if o.get("dataType").and_then(Value::as_str) == Some("CVE_RECORD") {
        return Some(Format::Cve5);
    }
    if o.contains_key("id") && o.contains_key("modified") {
        return Some(Format::Osv);
    }
    None
}

/// Detect the format of a file's bytes.
pub fn detect(bytes: &[u8], file: &str) -> Result<Format, IntelError> {
    let body = strip_bom(bytes);
    let unknown = |hint: &str| IntelError::UnknownFormat {
        file: file.to_string(),
        hint: hint.to_string(),
    };
    match first_significant(body) {
        None => Err(unknown("empty file")),
        Some(b'{') => {
            // A non-object top level (e.g. an array) is simply not a known format.
            let probe: Probe = match from_json_slice(body, file) {
                Ok(p) => p,
                Err(e) => {
                    if serde_json::from_slice::<IgnoredAny>(body).is_ok() {
                        return Err(unknown("JSON without the keys of any known format"));
                    }
                    return Err(e);
                }
            };
            detect_probe(&probe).ok_or_else(|| unknown("JSON without the keys of any known format"))
        }
        Some(b'<') => {
            let head = &body[..body.len().min(8192)];
            let head = String::from_utf8_lossy(head);
            if head.contains("http://cyclonedx.org/schema/bom/") {
                Ok(Format::CycloneDxXml)
            } else {
                Err(unknown("XML that is not a CycloneDX BOM"))
            }
        }
        Some(_) => {
            let text =
                std::str::from_utf8(body).map_err(|_| unknown("binary or non-UTF-8 text"))?;
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| {
                    !l.is_empty()
                        && !l.starts_with("##")
                        && (!l.starts_with('#') || l.starts_with("#model_version"))
                })
                .unwrap_or("");
            if crate::kev::is_kev_csv_header(first) {
                Ok(Format::KevCsv)
            } else if crate::epss::looks_like_epss(text) || first == "cve,epss,percentile" {
                Ok(Format::EpssCsv)
            } else if first.starts_with("SPDXVersion:") {
                Ok(Format::SpdxTagValue)
            } else if text
                .lines()
                .any(|l| l.starts_with("spdxVersion:") || l.starts_with("\"spdxVersion\":"))
            {
                Ok(Format::SpdxYaml)
            } else {
                Err(unknown("text that is no known format"))
            }
        }
    }
}

/// Knowledge some readers can use when it is supplied.
#[derive(Debug, Default, Clone)]
pub struct ReadOptions {
    /// Registry package list for the OSV "package exists" rule.
    pub osv_packages: Option<std::sync::Arc<crate::osv::PackageIndex>>,
}

/// Detect and read. CSAF documents are validated as on import (see
/// [`crate::csaf::IMPORT_TOLERATED_TESTS`]); their tolerated findings become warnings.
pub fn read_document(
    bytes: &[u8],
    file: &str,
) -> Result<(Format, IntelDocument, Warnings), IntelError> {
    read_document_with(bytes, file, &ReadOptions::default())
}

/// [`read_document`] with optional knowledge (see [`ReadOptions`]).
pub fn read_document_with(
    bytes: &[u8],
    file: &str,
    options: &ReadOptions,
) -> Result<(Format, IntelDocument, Warnings), IntelError> {
    let body = strip_bom(bytes);
    let format = detect(body, file)?;
    let mut warnings = Vec::new();
    let doc = match format {
        Format::Csaf => {
            let imp = crate::csaf::read(body, file)?;
            warnings.extend(
                imp.warnings
                    .iter()
                    .map(|w| format!("CSAF {} at {}: {}", w.test, w.pointer, w.message)),
            );
            IntelDocument::Advisory(Box::new(imp.advisory))
        }
        Format::CycloneDxJson => {
            IntelDocument::Sbom(Box::new(crate::cyclonedx::read_json(body, file)?))
        }
        Format::CycloneDxXml => {
            IntelDocument::Sbom(Box::new(crate::cyclonedx::read_xml(body, file)?))
        }
        Format::SpdxJson => IntelDocument::Sbom(Box::new(crate::spdx::read_json(body, file)?)),
        Format::SpdxYaml => IntelDocument::Sbom(Box::new(crate::spdx::read_yaml(body, file)?)),
        Format::SpdxTagValue => {
            IntelDocument::Sbom(Box::new(crate::spdx::read_tag_value(body, file)?))
        }
        Format::Spdx3JsonLd => IntelDocument::Sbom(Box::new(crate::spdx::read_v3(body, file)?)),
        Format::OpenVex => IntelDocument::Vex(Box::new(crate::openvex::read(body, file)?)),
        Format::KevJson => IntelDocument::Kev(Box::new(crate::kev::read_json(body, file)?)),
        Format::KevCsv => IntelDocument::Kev(Box::new(crate::kev::read_csv(body, file)?)),
        Format::EpssCsv => IntelDocument::Epss(Box::new(crate::epss::read(body, file)?)),
        Format::Osv => {
            let exists = |eco: &str, name: &str| {
                options
                    .osv_packages
                    .as_ref()
                    .is_none_or(|index| index.contains(eco, name))
            };
            let opts = crate::osv::OsvOptions {
                package_exists: options
                    .osv_packages
                    .is_some()
                    .then_some(&exists as crate::osv::PackageExists),
            };
            IntelDocument::Osv(Box::new(crate::osv::read_with(body, file, opts)?))
        }
        Format::Cve5 => IntelDocument::Cve(Box::new(crate::cve5::read(body, file)?)),
    };
    Ok((format, doc, warnings))
}
