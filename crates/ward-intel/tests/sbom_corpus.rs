//! SBOM and VEX corpus tests: CycloneDX spec tests and examples, the medical-device SBOM,
//! SPDX examples, OpenVEX documents.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use ward_intel::{
    cyclonedx, detect, openvex, spdx, Format, IntelDb, IntelDocument, SbomDocument, VexStatus,
};

fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// CycloneDX spec tests Ward does not reject (none since license ids are checked
/// against the SPDX license list of the `spdx` crate).
const CDX_KNOWN_GAPS: &[&str] = &[];

fn read_cdx(p: &Path) -> Result<SbomDocument, ward_intel::IntelError> {
    let bytes = read(p);
    if p.extension().is_some_and(|e| e == "xml") {
        cyclonedx::read_xml(&bytes, &name(p))
    } else {
        cyclonedx::read_json(&bytes, &name(p))
    }
}

#[test]
fn cyclonedx_spec_tests_valid_accepted_invalid_rejected() {
    let root = dir("cyclonedx-spec-tests/dev");
    let mut problems = Vec::new();
    let (mut valid, mut invalid, mut gaps) = (0, 0, 0);
    for f in files(&root, "")
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json" || e == "xml"))
    {
        let n = name(&f);
        let result = read_cdx(&f);
        if n.starts_with("valid-") {
            valid += 1;
            if let Err(e) = result {
                problems.push(format!("{} must be accepted: {e}", f.display()));
            }
        } else if n.starts_with("invalid-") {
            invalid += 1;
            let gap = CDX_KNOWN_GAPS
                .iter()
                .any(|g| n.starts_with(&format!("{g}-")));
            match (result, gap) {
                // Rejected by a named rule at a position: a JSON pointer or an XML byte.
                (Err(ward_intel::IntelError::Invalid { test, pointer, .. }), false) => {
                    let at_ok = if n.ends_with(".xml") {
                        pointer.starts_with("byte ")
                    } else {
                        pointer.starts_with('/')
                    };
                    if !test.starts_with("cyclonedx:") || !at_ok {
                        problems.push(format!("{}: rule {test} at {pointer:?}", f.display()));
                    }
                }
                (Err(e), false) => {
                    problems.push(format!("{} rejected without rule id: {e}", f.display()))
                }
                (Ok(_), true) => gaps += 1,
                (Ok(_), false) => problems.push(format!("{} must be rejected", f.display())),
                (Err(e), true) => problems.push(format!(
                    "{} is a listed gap but was rejected ({e}): update CDX_KNOWN_GAPS",
                    f.display()
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        valid > 100 && invalid > 50,
        "valid {valid}, invalid {invalid}"
    );
    assert_eq!(gaps, 0, "gaps {gaps}");
}

/// Components in a CycloneDX JSON BOM, counted without Ward's code: top level, nested,
/// and those nested in metadata.component (not the metadata component itself).
fn cdx_json_components(v: &Value) -> usize {
    fn nested(c: &Value) -> usize {
        arr(c, "components").iter().map(|x| 1 + nested(x)).sum()
    }
    let top: usize = arr(v, "components").iter().map(|x| 1 + nested(x)).sum();
    top + v
        .get("metadata")
        .and_then(|m| m.get("component"))
        .map(nested)
        .unwrap_or(0)
}

fn cdx_xml_components(text: &str) -> usize {
    let doc = roxmltree::Document::parse(text).expect("corpus XML parses");
    doc.descendants()
        .filter(|n| {
            n.tag_name().name() == "component"
                && n.parent_element()
                    .is_some_and(|p| p.tag_name().name() == "components")
        })
        .count()
}

#[test]
fn cyclonedx_examples_exact_counts() {
    let root = dir("cyclonedx-bom-examples/dev");
    let mut checked = 0;
    for f in files(&root, "") {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "json" && ext != "xml" {
            continue;
        }
        let doc = read_cdx(&f).unwrap_or_else(|e| panic!("{} must import: {e}", f.display()));
        if ext == "json" {
            let v = json(&f);
            assert_eq!(
                doc.components.len(),
                cdx_json_components(&v),
                "{}: components",
                f.display()
            );
            let vulns = arr(&v, "vulnerabilities");
            assert_eq!(
                doc.vulnerabilities.len(),
                vulns.len(),
                "{}: vulnerabilities",
                f.display()
            );
            let statements: usize = vulns
                .iter()
                .filter(|x| x.get("analysis").and_then(|a| a.get("state")).is_some())
                .map(|x| arr(x, "affects").len())
                .sum();
            assert_eq!(doc.vex.len(), statements, "{}: VEX statements", f.display());
            assert_eq!(
                doc.relationships.len(),
                arr(&v, "dependencies")
                    .iter()
                    .map(|d| arr(d, "dependsOn").len() + arr(d, "provides").len())
                    .sum::<usize>(),
                "{}: dependency edges",
                f.display()
            );
        } else {
            let text = String::from_utf8(read(&f)).expect("UTF-8");
            assert_eq!(
                doc.components.len(),
                cdx_xml_components(&text),
                "{}: components",
                f.display()
            );
        }
        // Auto-detection agrees.
        let fmt = detect(&read(&f), &name(&f)).expect("detected");
        assert!(
            matches!(fmt, Format::CycloneDxJson | Format::CycloneDxXml),
            "{}: {fmt:?}",
            f.display()
        );
        checked += 1;
    }
    assert!(checked >= 35, "checked {checked}");
}

/// Every VEX statement of every CycloneDX VEX use case (Use-Cases and CISA-Use-Cases):
/// vulnerability, product, status, justification and responses, in order, read here
/// straight from the JSON (the CycloneDX analysis states mapped to the VEX statuses).
#[test]
fn cyclonedx_vex_use_cases_every_statement() {
    let root = dir("cyclonedx-bom-examples/dev/VEX");
    let mut statements = 0;
    let mut files_with_vex = 0;
    for f in files(&root, ".json") {
        let v = json(&f);
        let doc = read_cdx(&f).unwrap_or_else(|e| panic!("{} must import: {e}", f.display()));
        let mut expected = Vec::new();
        for vuln in arr(&v, "vulnerabilities") {
            let Some(a) = vuln.get("analysis") else {
                continue;
            };
            let Some(state) = a.get("state").and_then(Value::as_str) else {
                continue;
            };
            let status = match state {
                "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
                "exploitable" => VexStatus::Affected,
                "in_triage" => VexStatus::UnderInvestigation,
                "not_affected" | "false_positive" => VexStatus::NotAffected,
                other => panic!("{}: unknown state {other}", f.display()),
            };
            let responses: Vec<String> = arr(a, "response")
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            for aff in arr(vuln, "affects") {
                expected.push((
                    vuln["id"].as_str().unwrap_or("").to_string(),
                    aff["ref"].as_str().unwrap_or("").to_string(),
                    status.clone(),
                    a.get("justification")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    responses.clone(),
                ));
            }
        }
        let ours: Vec<_> = doc
            .vex
            .iter()
            .map(|s| {
                (
                    s.vulnerability.clone(),
                    s.product.clone(),
                    s.status.clone(),
                    s.justification.clone(),
                    s.responses.clone(),
                )
            })
            .collect();
        assert_eq!(ours, expected, "{}", f.display());
        statements += expected.len();
        files_with_vex += usize::from(!expected.is_empty());
    }
    assert!(
        files_with_vex >= 15 && statements >= 20,
        "{files_with_vex} files, {statements} statements"
    );
}

#[test]
fn cyclonedx_vex_use_case_statuses() {
    let f =
        dir("cyclonedx-bom-examples/dev").join("VEX/CISA-Use-Cases/Case-1/vex-not_affected.json");
    let doc = read_cdx(&f).expect("CISA VEX case 1 imports");
    assert!(!doc.vex.is_empty(), "vex-not_affected.json has statements");
    assert!(
        doc.vex.iter().all(|s| s.status == VexStatus::NotAffected),
        "{:?}",
        doc.vex
    );
    let f = dir("cyclonedx-bom-examples/dev").join("VEX/CISA-Use-Cases/Case-1/vex-affected.json");
    let doc = read_cdx(&f).expect("CISA VEX case 1 affected imports");
    assert!(
        doc.vex.iter().all(|s| s.status == VexStatus::Affected),
        "{:?}",
        doc.vex
    );
}

#[test]
fn medical_device_sbom_55_components_with_identifiers() {
    let f = dir("medical-device-sbom-spacelab/dev").join("narrow.sbom.json");
    let v = json(&f);
    let mut db = IntelDb::new();
    db.import_file(&f).expect("narrow.sbom.json imports");
    let doc = &db.sboms()[0];
    assert_eq!(
        doc.components.len(),
        55,
        "narrow.sbom.json has 55 components"
    );
    assert_eq!(
        doc.subject
            .as_ref()
            .and_then(|s| s.component_type.as_deref()),
        Some("device"),
        "metadata.component.type is device"
    );
    for (c, j) in doc.components.iter().zip(arr(&v, "components")) {
        assert_eq!(c.name, j["name"].as_str().unwrap_or(""), "name");
        assert_eq!(c.purl.as_deref(), j["purl"].as_str(), "purl of {}", c.name);
        assert_eq!(c.cpe.as_deref(), j["cpe"].as_str(), "cpe of {}", c.name);
        assert_eq!(
            c.bom_ref.as_deref(),
            j["bom-ref"].as_str(),
            "bom-ref of {}",
            c.name
        );
        assert_eq!(
            c.component_type.as_deref(),
            j["type"].as_str(),
            "type of {}",
            c.name
        );
        assert_eq!(
            c.publisher.as_deref(),
            j["publisher"].as_str(),
            "publisher of {}",
            c.name
        );
        // An empty version string means "no version".
        let version = j["version"].as_str().filter(|v| !v.is_empty());
        assert_eq!(
            c.version.as_deref().filter(|v| !v.is_empty()),
            version,
            "version of {}",
            c.name
        );
        let prop = |k: &str| {
            arr(j, "properties")
                .iter()
                .find(|p| p["name"] == k)
                .and_then(|p| p["value"].as_str())
        };
        assert_eq!(
            c.support.level_of_support.as_deref(),
            prop("Level of Support"),
            "FDA level of support of {}",
            c.name
        );
        assert_eq!(
            c.support.end_of_support.as_deref(),
            prop("End-of-Support"),
            "FDA end of support of {}",
            c.name
        );
    }
    assert!(doc
        .components
        .iter()
        .any(|c| c.name == "WolfSSL" && c.version.as_deref() == Some("4.8.1")));
    let types: std::collections::BTreeSet<&str> = doc
        .components
        .iter()
        .filter_map(|c| c.component_type.as_deref())
        .collect();
    assert!(
        types.contains("device") && types.contains("firmware"),
        "{types:?}"
    );
}

/// SPDX 2 JSON/YAML: packages and relationships (+ documentDescribes) counted from JSON.
fn spdx2_counts(v: &Value) -> (usize, usize) {
    (
        arr(v, "packages").len(),
        arr(v, "relationships").len() + arr(v, "documentDescribes").len(),
    )
}

#[test]
fn spdx_examples_exact_counts() {
    let mut checked = 0;
    for root in ["spdx-examples/dev", "spdx-spec-examples/dev"] {
        for f in files(&dir(root), "") {
            let n = name(&f);
            let bytes = read(&f);
            if n.ends_with(".sha256") {
                continue;
            }
            let (format, doc, _) = ward_intel::read_document(&bytes, &n)
                .unwrap_or_else(|e| panic!("{} must import: {e}", f.display()));
            let IntelDocument::Sbom(doc) = doc else {
                panic!("{} is not an SBOM", f.display())
            };
            match format {
                Format::SpdxJson => {
                    let v = json(&f);
                    let (p, r) = spdx2_counts(&v);
                    assert_eq!(
                        (doc.components.len(), doc.relationships.len()),
                        (p, r),
                        "{}: packages, relationships",
                        f.display()
                    );
                    let purls = arr(&v, "packages")
                        .iter()
                        .flat_map(|p| arr(p, "externalRefs"))
                        .filter(|r| r["referenceType"] == "purl")
                        .count();
                    assert_eq!(
                        doc.components.iter().filter(|c| c.purl.is_some()).count(),
                        purls,
                        "{}: purls",
                        f.display()
                    );
                }
                Format::SpdxYaml => {
                    let v: Value = serde_yaml::from_slice(&bytes).expect("YAML");
                    let (p, r) = spdx2_counts(&v);
                    assert_eq!(
                        (doc.components.len(), doc.relationships.len()),
                        (p, r),
                        "{}: packages, relationships",
                        f.display()
                    );
                }
                Format::SpdxTagValue => {
                    let text = String::from_utf8_lossy(&bytes);
                    let packages = text
                        .lines()
                        .filter(|l| l.starts_with("PackageName:"))
                        .count();
                    let rels = text
                        .lines()
                        .filter(|l| l.starts_with("Relationship:"))
                        .count();
                    assert_eq!(
                        (doc.components.len(), doc.relationships.len()),
                        (packages, rels),
                        "{}: packages, relationships",
                        f.display()
                    );
                }
                Format::Spdx3JsonLd => {
                    let v = json(&f);
                    let graph = arr(&v, "@graph");
                    let packages = graph
                        .iter()
                        .filter(|e| e["type"] == "software_Package")
                        .count();
                    let edges: usize = graph
                        .iter()
                        .filter(|e| {
                            e["type"] == "Relationship"
                                || e["type"] == "LifecycleScopedRelationship"
                        })
                        .map(|e| arr(e, "to").len())
                        .sum();
                    assert_eq!(
                        (doc.components.len(), doc.relationships.len()),
                        (packages, edges),
                        "{}: packages, relationship edges",
                        f.display()
                    );
                }
                other => panic!("{}: unexpected format {other:?}", f.display()),
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "checked {checked}");
}

#[test]
fn spdx_spec_example_details() {
    let d = dir("spdx-spec-examples/dev");
    let json_doc = spdx::read_json(&read(&d.join("SPDXJSONExample-v2.3.spdx.json")), "json")
        .expect("JSON example");
    let tv = spdx::read_tag_value(&read(&d.join("SPDXTagExample-v2.3.spdx")), "tv")
        .expect("tag-value example");
    let yaml = spdx::read_yaml(&read(&d.join("SPDXYAMLExample-2.3.spdx.yaml")), "yaml")
        .expect("YAML example");
    // The three encodings of the canonical example describe the same packages.
    let names = |d: &SbomDocument| {
        let mut v: Vec<(String, Option<String>)> = d
            .components
            .iter()
            .map(|c| (c.name.clone(), c.version.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&json_doc), names(&yaml));
    assert_eq!(names(&json_doc), names(&tv));
    let cpes: usize = json_doc
        .components
        .iter()
        .map(|c| usize::from(c.cpe.is_some()) + c.other_cpes.len())
        .sum();
    assert!(cpes >= 1, "the canonical example has a cpe23Type reference");
}

#[test]
fn openvex_documents_statement_counts() {
    let root = dir("openvex-go-vex/dev");
    let mut checked = 0;
    for f in files(&root, ".json") {
        let v = json(&f);
        if v.get("@context").is_none() {
            continue; // the CSAF files of this folder
        }
        let doc = openvex::read(&read(&f), &name(&f))
            .unwrap_or_else(|e| panic!("{} must import: {e}", f.display()));
        let expected: usize = arr(&v, "statements")
            .iter()
            .map(|s| arr(s, "products").len())
            .sum();
        assert_eq!(
            doc.statements.len(),
            expected,
            "{}: statements x products",
            f.display()
        );
        // Each (statement, product): vulnerability name, product id, status, read here
        // from both shapes (0.0.1 strings, 0.2.0 objects).
        let mut want = Vec::new();
        for st in arr(&v, "statements") {
            let vuln = match &st["vulnerability"] {
                Value::String(s) => s.clone(),
                o => o["name"].as_str().unwrap_or("").to_string(),
            };
            for p in arr(st, "products") {
                let product = match p {
                    Value::String(s) => s.clone(),
                    o => o["@id"].as_str().unwrap_or("").to_string(),
                };
                want.push((vuln.clone(), product, st["status"].clone()));
            }
        }
        let ours: Vec<_> = doc
            .statements
            .iter()
            .map(|s| {
                (
                    s.vulnerability.clone(),
                    s.product.clone(),
                    serde_json::to_value(&s.status).expect("status serializes"),
                )
            })
            .collect();
        assert_eq!(ours, want, "{}", f.display());
        checked += 1;
    }
    assert_eq!(checked, 6, "six OpenVEX documents (0.0.1 and 0.2.0)");
}

#[test]
fn go_vex_folder_formats_are_detected_by_content() {
    // Names mislead: csaf__openvex.json is OpenVEX, vex__csaf.json is CSAF VEX.
    let root = dir("openvex-go-vex/dev");
    for (n, f) in [
        ("csaf__openvex.json", Format::OpenVex),
        ("vex__csaf.json", Format::Csaf),
    ] {
        let bytes = read(&root.join(n));
        assert_eq!(detect(&bytes, n).expect("detected"), f, "{n}");
        ward_intel::read_document(&bytes, n).unwrap_or_else(|e| panic!("{n} must import: {e}"));
    }
}
