//! Format auto-detection from content (never from the file extension alone): JSON keys,
//! the XML root namespace, the tag-value / YAML header, and CSV headers. Then dispatch
//! to the right reader: [`read_document`].

use crate::error::{from_json_slice, IntelError};
use crate::model::{Format, IntelDocument};
use serde_json::Value;

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
    if o.get("document").and_then(|d| d.get("csaf_version")).is_some() {
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
            let v: Value = from_json_slice(body, file)?;
            detect_json(&v).ok_or_else(|| unknown("JSON without the keys of any known format"))
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
            let text = std::str::from_utf8(body).map_err(|_| unknown("binary or non-UTF-8 text"))?;
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("##") && !(l.starts_with('#') && !l.starts_with("#model_version")))
                .unwrap_or("");
            if crate::kev::is_kev_csv_header(first) {
                Ok(Format::KevCsv)
            } else if crate::epss::looks_like_epss(text) || first == "cve,epss,percentile" {
                Ok(Format::EpssCsv)
            } else if first.starts_with("SPDXVersion:") {
                Ok(Format::SpdxTagValue)
            } else if text.lines().any(|l| l.starts_with("spdxVersion:") || l.starts_with("\"spdxVersion\":")) {
                Ok(Format::SpdxYaml)
            } else {
                Err(unknown("text that is no known format"))
            }
        }
    }
}

/// Detect and read. CSAF documents are validated as on import (see
/// [`crate::csaf::IMPORT_TOLERATED_TESTS`]); their tolerated findings become warnings.
pub fn read_document(bytes: &[u8], file: &str) -> Result<(Format, IntelDocument, Warnings), IntelError> {
    let body = strip_bom(bytes);
    let format = detect(body, file)?;
    let mut warnings = Vec::new();
    let doc = match format {
        Format::Csaf => {
            let imp = crate::csaf::read(body, file)?;
            warnings.extend(imp.warnings.iter().map(|w| format!("CSAF {} at {}: {}", w.test, w.pointer, w.message)));
            IntelDocument::Advisory(Box::new(imp.advisory))
        }
        Format::CycloneDxJson => IntelDocument::Sbom(Box::new(crate::cyclonedx::read_json(body, file)?)),
        Format::CycloneDxXml => IntelDocument::Sbom(Box::new(crate::cyclonedx::read_xml(body, file)?)),
        Format::SpdxJson => IntelDocument::Sbom(Box::new(crate::spdx::read_json(body, file)?)),
        Format::SpdxYaml => IntelDocument::Sbom(Box::new(crate::spdx::read_yaml(body, file)?)),
        Format::SpdxTagValue => IntelDocument::Sbom(Box::new(crate::spdx::read_tag_value(body, file)?)),
        Format::Spdx3JsonLd => IntelDocument::Sbom(Box::new(crate::spdx::read_v3(body, file)?)),
        Format::OpenVex => IntelDocument::Vex(Box::new(crate::openvex::read(body, file)?)),
        Format::KevJson => IntelDocument::Kev(Box::new(crate::kev::read_json(body, file)?)),
        Format::KevCsv => IntelDocument::Kev(Box::new(crate::kev::read_csv(body, file)?)),
        Format::EpssCsv => IntelDocument::Epss(Box::new(crate::epss::read(body, file)?)),
        Format::Osv => IntelDocument::Osv(Box::new(crate::osv::read(body, file)?)),
        Format::Cve5 => IntelDocument::Cve(Box::new(crate::cve5::read(body, file)?)),
    };
    Ok((format, doc, warnings))
}
