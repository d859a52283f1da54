//! SPDX readers: 2.x JSON, YAML and tag-value, and 3.0 JSON-LD. Packages become
//! [`Component`]s (files and snippets are not components), with their version, supplier,
//! checksums and external references (purl, cpe23Type / cpe22Type); relationships are
//! kept as edges. SPDX 2 YAML uses the JSON key names, so both share one reader.

use crate::error::{from_json_slice, IntelError};
use crate::model::{Component, Hash, Property, Relationship, SbomDocument};
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

/// SPDX 2.x JSON.
pub fn read_json(bytes: &[u8], file: &str) -> Result<SbomDocument, IntelError> {
    let v: Value = from_json_slice(bytes, file)?;
    read_v2_value(&v, file)
}

/// SPDX 2.x YAML.
pub fn read_yaml(bytes: &[u8], file: &str) -> Result<SbomDocument, IntelError> {
    let v: Value = serde_yaml::from_slice(bytes).map_err(|e| IntelError::Yaml {
        file: file.to_string(),
        line: e.location().map(|l| l.line()).unwrap_or(0),
        message: e.to_string(),
    })?;
    read_v2_value(&v, file)
}

fn invalid(file: &str, at: &str, msg: &str) -> IntelError {
    IntelError::invalid(file, "spdx:required", at, msg)
}

/// SPDX 2.x in its JSON shape (from JSON or YAML).
pub fn read_v2_value(v: &Value, file: &str) -> Result<SbomDocument, IntelError> {
    let version = s(v, "spdxVersion")
        .ok_or_else(|| invalid(file, "/spdxVersion", "spdxVersion is required"))?;
    if !version.starts_with("SPDX-2.") {
        return Err(invalid(file, "/spdxVersion", "not an SPDX 2.x document"));
    }
    let mut doc = SbomDocument {
        spec_version: version.to_string(),
        serial_number: s(v, "documentNamespace").map(str::to_string),
        name: s(v, "name").map(str::to_string),
        ..Default::default()
    };
    let doc_id = s(v, "SPDXID").unwrap_or("SPDXRef-DOCUMENT").to_string();
    for (i, p) in arr(v, "packages").iter().enumerate() {
        let at = format!("/packages/{i}");
        let name = s(p, "name")
            .ok_or_else(|| invalid(file, &format!("{at}/name"), "package name is required"))?;
        let id = s(p, "SPDXID")
            .ok_or_else(|| invalid(file, &format!("{at}/SPDXID"), "package SPDXID is required"))?;
        let mut c = Component {
            bom_ref: Some(id.to_string()),
            component_type: s(p, "primaryPackagePurpose").map(str::to_string),
            name: name.to_string(),
            version: s(p, "versionInfo").map(str::to_string),
            supplier: s(p, "supplier").map(strip_agent),
            publisher: s(p, "originator").map(strip_agent),
            ..Default::default()
        };
        for ck in arr(p, "checksums") {
            if let (Some(a), Some(val)) = (s(ck, "algorithm"), s(ck, "checksumValue")) {
                c.hashes.push(Hash {
                    algorithm: a.to_string(),
                    value: val.to_string(),
                });
            }
        }
        for r in arr(p, "externalRefs") {
            if let (Some(t), Some(loc)) = (s(r, "referenceType"), s(r, "referenceLocator")) {
                add_ref(&mut c, t, loc);
            }
        }
        doc.components.push(c);
    }
    for d in arr(v, "documentDescribes").iter().filter_map(Value::as_str) {
        doc.relationships.push(Relationship {
            from: doc_id.clone(),
            kind: "DESCRIBES".into(),
            to: d.to_string(),
        });
    }
    for (i, r) in arr(v, "relationships").iter().enumerate() {
        let at = format!("/relationships/{i}");
        let (Some(a), Some(t), Some(b)) = (
            s(r, "spdxElementId"),
            s(r, "relationshipType"),
            s(r, "relatedSpdxElement"),
        ) else {
            return Err(invalid(
                file,
                &at,
                "a relationship needs spdxElementId, relationshipType and relatedSpdxElement",
            ));
        };
        doc.relationships.push(Relationship {
            from: a.to_string(),
            kind: t.to_string(),
            to: b.to_string(),
        });
    }
    set_subject(&mut doc, &doc_id);
    Ok(doc)
}

/// "Organization: Acme" -> "Acme".
fn strip_agent(s: &str) -> String {
    for p in ["Organization:", "Person:", "Tool:"] {
        if let Some(rest) = s.strip_prefix(p) {
            return rest.trim().to_string();
        }
    }
    s.to_string()
}

fn add_ref(c: &mut Component, ty: &str, loc: &str) {
    match ty {
        "purl" if c.purl.is_none() => c.purl = Some(loc.to_string()),
        "cpe23Type" | "cpe22Type" | "cpe23" | "cpe22" => {
            if c.cpe.is_none() {
                c.cpe = Some(loc.to_string());
            } else {
                c.other_cpes.push(loc.to_string());
            }
        }
        _ => c.properties.push(Property {
            name: format!("externalRef:{ty}"),
            value: loc.to_string(),
        }),
    }
}

/// The described package is the SBOM's subject (it stays among the components too).
fn set_subject(doc: &mut SbomDocument, doc_id: &str) {
    let described = doc
        .relationships
        .iter()
        .find(|r| r.from == doc_id && r.kind.eq_ignore_ascii_case("DESCRIBES"))
        .map(|r| r.to.clone());
    if let Some(d) = described {
        doc.subject = doc
            .components
            .iter()
            .find(|c| c.bom_ref.as_deref() == Some(&d))
            .cloned();
    }
}

/// SPDX 2.x tag-value.
pub fn read_tag_value(bytes: &[u8], file: &str) -> Result<SbomDocument, IntelError> {
    let text = std::str::from_utf8(bytes).map_err(|e| IntelError::Line {
        file: file.to_string(),
        line: bytes
            .get(..e.valid_up_to())
            .map(|b| b.iter().filter(|c| **c == b'\n').count() + 1)
            .unwrap_or(1),
        message: "not UTF-8".into(),
    })?;
    let err = |line: usize, msg: &str| IntelError::Line {
        file: file.to_string(),
        line,
        message: msg.to_string(),
    };
    let mut doc = SbomDocument::default();
    let mut doc_id = "SPDXRef-DOCUMENT".to_string();
    // Which element the following tags describe.
    #[derive(PartialEq)]
    enum Section {
        Document,
        Package,
        Other,
    }
    let mut section = Section::Document;
    let mut lines = text.lines().enumerate();
    while let Some((idx, raw)) = lines.next() {
        let lineno = idx + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((tag, value)) = line.split_once(':') else {
            return Err(err(lineno, "expected \"Tag: value\""));
        };
        let tag = tag.trim();
        let mut value = value.trim().to_string();
        if let Some(rest) = value.strip_prefix("<text>") {
            // Multi-line text runs until </text>.
            let mut buf = rest.to_string();
            let mut closed = buf.contains("</text>");
            while !closed {
                let Some((_, more)) = lines.next() else {
                    return Err(err(lineno, "<text> is never closed"));
                };
                buf.push('\n');
                buf.push_str(more);
                closed = more.contains("</text>");
            }
            value = buf.split("</text>").next().unwrap_or("").to_string();
        }
        if tag.is_empty() || tag.contains(char::is_whitespace) {
            return Err(err(lineno, "malformed tag"));
        }
        match tag {
            "SPDXVersion" => doc.spec_version = value,
            "DocumentName" => doc.name = Some(value),
            "DocumentNamespace" => doc.serial_number = Some(value),
            "PackageName" => {
                section = Section::Package;
                doc.components.push(Component {
                    name: value,
                    ..Default::default()
                });
            }
            "FileName" | "SnippetSPDXID" | "LicenseID" => section = Section::Other,
            "SPDXID" => match section {
                Section::Document => doc_id = value,
                Section::Package => {
                    if let Some(c) = doc.components.last_mut() {
                        c.bom_ref = Some(value);
                    }
                }
                Section::Other => {}
            },
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let [a, t, b] = parts.as_slice() else {
                    return Err(err(lineno, "Relationship needs three fields"));
                };
                doc.relationships.push(Relationship {
                    from: a.to_string(),
                    kind: t.to_string(),
                    to: b.to_string(),
                });
            }
            _ if section == Section::Package => {
                let Some(c) = doc.components.last_mut() else {
                    continue;
                };
                match tag {
                    "PackageVersion" => c.version = Some(value),
                    "PackageSupplier" => c.supplier = Some(strip_agent(&value)),
                    "PackageOriginator" => c.publisher = Some(strip_agent(&value)),
                    "PrimaryPackagePurpose" => c.component_type = Some(value),
                    "PackageChecksum" => {
                        if let Some((a, h)) = value.split_once(':') {
                            c.hashes.push(Hash {
                                algorithm: a.trim().to_string(),
                                value: h.trim().to_string(),
                            });
                        }
                    }
                    "ExternalRef" => {
                        let parts: Vec<&str> = value.split_whitespace().collect();
                        let [_cat, ty, loc] = parts.as_slice() else {
                            return Err(err(
                                lineno,
                                "ExternalRef needs category, type and locator",
                            ));
                        };
                        add_ref(c, ty, loc);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !doc.spec_version.starts_with("SPDX-2.") {
        return Err(err(1, "no SPDXVersion: SPDX-2.x tag"));
    }
    if let Some(i) = doc.components.iter().position(|c| c.bom_ref.is_none()) {
        return Err(IntelError::invalid(
            file,
            "spdx:required",
            &format!("package {i}"),
            "package without SPDXID",
        ));
    }
    set_subject(&mut doc, &doc_id);
    Ok(doc)
}

/// SPDX 3.0 JSON-LD (`@graph` of elements).
pub fn read_v3(bytes: &[u8], file: &str) -> Result<SbomDocument, IntelError> {
    let v: Value = from_json_slice(bytes, file)?;
    read_v3_value(&v, file)
}

fn element_type(e: &Value) -> &str {
    let t = s(e, "type").or_else(|| s(e, "@type")).unwrap_or("");
    // Accept compacted ("software_Package") and prefixed ("software:Package") forms.
    t.rsplit(['_', ':', '/']).next().unwrap_or(t)
}

pub fn read_v3_value(v: &Value, file: &str) -> Result<SbomDocument, IntelError> {
    let graph = v
        .get("@graph")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(file, "/@graph", "SPDX 3 JSON-LD needs an @graph array"))?;
    let mut doc = SbomDocument {
        spec_version: "SPDX-3.0".into(),
        ..Default::default()
    };
    let mut doc_root: Vec<String> = Vec::new();
    for (i, e) in graph.iter().enumerate() {
        let at = format!("/@graph/{i}");
        let id = s(e, "spdxId").or_else(|| s(e, "@id"));
        match element_type(e) {
            "CreationInfo" => {
                if let Some(sv) = s(e, "specVersion") {
                    doc.spec_version = format!("SPDX-{sv}");
                }
            }
            "SpdxDocument" => {
                doc.serial_number = id.map(str::to_string);
                doc.name = s(e, "name").map(str::to_string);
                doc_root = arr(e, "rootElement")
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
            }
            "Package" => {
                let name = s(e, "name").ok_or_else(|| {
                    invalid(file, &format!("{at}/name"), "package name is required")
                })?;
                let mut c = Component {
                    bom_ref: id.map(str::to_string),
                    component_type: s(e, "software_primaryPurpose").map(str::to_string),
                    name: name.to_string(),
                    version: s(e, "software_packageVersion").map(str::to_string),
                    purl: s(e, "software_packageUrl").map(str::to_string),
                    supplier: s(e, "suppliedBy").map(str::to_string),
                    ..Default::default()
                };
                for h in arr(e, "verifiedUsing") {
                    if let (Some(a), Some(val)) = (s(h, "algorithm"), s(h, "hashValue")) {
                        c.hashes.push(Hash {
                            algorithm: a.to_string(),
                            value: val.to_string(),
                        });
                    }
                }
                for x in arr(e, "externalIdentifier") {
                    if let (Some(t), Some(val)) =
                        (s(x, "externalIdentifierType"), s(x, "identifier"))
                    {
                        let t = match t {
                            "packageUrl" => "purl",
                            other => other,
                        };
                        add_ref(&mut c, t, val);
                    }
                }
                doc.components.push(c);
            }
            "Relationship" | "LifecycleScopedRelationship" => {
                let from = s(e, "from").ok_or_else(|| {
                    invalid(file, &format!("{at}/from"), "relationship needs from")
                })?;
                let kind = s(e, "relationshipType").unwrap_or("other");
                for t in arr(e, "to").iter().filter_map(Value::as_str) {
                    doc.relationships.push(Relationship {
                        from: from.to_string(),
                        kind: kind.to_string(),
                        to: t.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    // The subject: a package described by the document, else a root package.
    let described: Vec<String> = doc
        .relationships
        .iter()
        .filter(|r| r.kind == "describes")
        .map(|r| r.to.clone())
        .chain(doc_root)
        .collect();
    doc.subject = described
        .iter()
        .find_map(|d| {
            doc.components
                .iter()
                .find(|c| c.bom_ref.as_deref() == Some(d))
        })
        .cloned();
    Ok(doc)
}
