//! CSAF 2.0 reader (2.1 documents parse too where their shape matches): parses a
//! document, validates it (hand-written schema checks plus the mandatory tests 6.1.x, see
//! [`validate`]) and flattens it into an [`Advisory`].
//!
//! Why not `csaf-rs`: version 0.6.1 needs Rust 1.88 (this workspace targets 1.85) and pulls
//! `jsonschema` with its default HTTP resolver (reqwest, rustls with aws-lc-rs, a C build),
//! `rust-embed`, `symspell`, two PURL crates and a CVSS crate: a large tree for two cores,
//! with code that can fetch at run time. The serde types in [`types`] read only the fields
//! Ward uses and tolerate unknown ones.

pub mod cwe;
pub mod revision;
pub mod types;
pub mod validate;

use crate::error::{from_json_slice, IntelError};
use crate::model::{
    Advisory, CvssVersion, Cwe, FileHashes, Flag, Hash, Note, Product, ProductGroup,
    ProductIdentifiers, ProductRelationship, ProductStatus, Reference, Remediation, Score, Threat,
    Vulnerability, VulnerabilityId,
};
use std::collections::HashMap;
use types::*;
pub use validate::{cvss_computation, validate, CsafFinding, ValidationOptions};

/// Mandatory tests whose failure on import is recorded as a warning, not a rejection,
/// because real publishers commit them while the meaning stays clear. CISA writes
/// `vers:all/*` as a `product_version` name (6.1.31); Ward keeps it as a version range.
pub const IMPORT_TOLERATED_TESTS: &[&str] = &["6.1.31"];

/// How many further failed tests a rejection names besides the first.
const MAX_OTHER_FINDINGS: usize = 5;

/// A parsed, validated CSAF document and the findings that did not reject it.
#[derive(Debug, Clone)]
pub struct CsafImport {
    pub advisory: Advisory,
    pub warnings: Vec<CsafFinding>,
}

/// Parse without validating (serde shape only).
pub fn parse_json(bytes: &[u8], file: &str) -> Result<CsafJson, IntelError> {
    from_json_slice(bytes, file)
}

/// Every finding of the implemented tests (empty = valid); errors only if the document
/// does not parse.
pub fn findings(bytes: &[u8], file: &str) -> Result<Vec<CsafFinding>, IntelError> {
    let doc = parse_json(bytes, file)?;
    Ok(validate(&doc, &ValidationOptions::default()))
}

/// Parse, validate strictly (every implemented test is an error) and flatten.
pub fn read_strict(bytes: &[u8], file: &str) -> Result<Advisory, IntelError> {
    read_with(bytes, file, &ValidationOptions::default(), &[]).map(|i| i.advisory)
}

/// Parse, validate and flatten, as import does: the tests in [`IMPORT_TOLERATED_TESTS`]
/// become warnings.
pub fn read(bytes: &[u8], file: &str) -> Result<CsafImport, IntelError> {
    read_with(
        bytes,
        file,
        &ValidationOptions::default(),
        IMPORT_TOLERATED_TESTS,
    )
}

pub fn read_with(
    bytes: &[u8],
    file: &str,
    options: &ValidationOptions,
    tolerated: &[&str],
) -> Result<CsafImport, IntelError> {
    let doc = parse_json(bytes, file)?;
    let findings = validate(&doc, options);
    let (warnings, errors): (Vec<_>, Vec<_>) = findings
        .into_iter()
        .partition(|f| tolerated.contains(&f.test.as_str()));
    // The first failed test is the error; the others are named in its message.
    if let Some((first, rest)) = errors.split_first() {
        let mut message = first.message.clone();
        if !rest.is_empty() {
            let others: Vec<String> = rest
                .iter()
                .take(MAX_OTHER_FINDINGS)
                .map(|f| format!("{} at {}", f.test, f.pointer))
                .collect();
            message.push_str(&format!("; also failed: {}", others.join(", ")));
            if rest.len() > MAX_OTHER_FINDINGS {
                message.push_str(&format!(" and {} more", rest.len() - MAX_OTHER_FINDINGS));
            }
        }
        return Err(IntelError::invalid(
            file,
            &first.test,
            &first.pointer,
            message,
        ));
    }
    Ok(CsafImport {
        advisory: flatten(&doc),
        warnings,
    })
}

/// Turn the document into the normalized [`Advisory`]. Group ids in remediations,
/// threats and flags are resolved into their product ids.
pub fn flatten(doc: &CsafJson) -> Advisory {
    let d = &doc.document;
    let mut adv = Advisory {
        tracking_id: d.tracking.id.clone(),
        version: d.tracking.version.clone(),
        status: d.tracking.status.clone(),
        title: d.title.clone(),
        publisher: d.publisher.name.clone(),
        publisher_namespace: d.publisher.namespace.clone(),
        publisher_category: d.publisher.category.clone(),
        category: d.category.clone(),
        csaf_version: d.csaf_version.clone(),
        lang: d.lang.clone(),
        initial_release_date: d.tracking.initial_release_date.clone(),
        current_release_date: d.tracking.current_release_date.clone(),
        notes: notes(&d.notes),
        references: references(&d.references),
        ..Default::default()
    };
    let mut groups: HashMap<&str, &[String]> = HashMap::new();
    if let Some(tree) = &doc.product_tree {
        if let Some(branches) = &tree.branches {
            let ctx = BranchContext::default();
            for b in branches {
                flatten_branch(b, &ctx, &mut adv.products);
            }
        }
        for fpn in tree.full_product_names.iter().flatten() {
            adv.products
                .push(product_from_fpn(fpn, &BranchContext::default()));
        }
        for rel in tree.relationships.iter().flatten() {
            let mut p = product_from_fpn(&rel.full_product_name, &BranchContext::default());
            p.relationship = Some(ProductRelationship {
                category: rel.category.clone(),
                product_reference: rel.product_reference.clone(),
                relates_to_product_reference: rel.relates_to_product_reference.clone(),
            });
            adv.products.push(p);
        }
        for g in tree.product_groups.iter().flatten() {
            groups.insert(&g.group_id, &g.product_ids);
            adv.product_groups.push(ProductGroup {
                id: g.group_id.clone(),
                summary: g.summary.clone(),
                product_ids: g.product_ids.clone(),
            });
        }
    }
    // A product defined by a relationship is also known by the name of its component.
    let names: HashMap<String, String> = adv
        .products
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    for p in &mut adv.products {
        if let Some(rel) = &p.relationship {
            if let Some(n) = names.get(&rel.product_reference) {
                if n != &p.name {
                    p.aliases.push(n.clone());
                }
            }
        }
    }
    for v in doc.vulnerabilities.iter().flatten() {
        adv.vulnerabilities
            .push(flatten_vulnerability(v, &groups, &d.publisher.name));
    }
    adv
}

#[derive(Default, Clone)]
struct BranchContext {
    vendor: Option<String>,
    family: Option<String>,
    product_name: Option<String>,
    version: Option<String>,
    version_range: Option<String>,
    architecture: Option<String>,
}

fn flatten_branch(b: &BranchJ, parent: &BranchContext, out: &mut Vec<Product>) {
    let mut ctx = parent.clone();
    let name = Some(b.name.clone());
    match b.category.as_str() {
        "vendor" => ctx.vendor = name,
        "product_family" => {
            ctx.family = Some(match &parent.family {
                Some(f) => format!("{f} / {}", b.name),
                None => b.name.clone(),
            })
        }
        "product_name" => ctx.product_name = name,
        // CISA writes ranges such as "vers:all/*" as product_version; keep them as ranges.
        "product_version" if b.name.starts_with("vers:") => ctx.version_range = name,
        "product_version" => ctx.version = name,
        "product_version_range" => ctx.version_range = name,
        "architecture" => ctx.architecture = name,
        _ => {}
    }
    if let Some(p) = &b.product {
        out.push(product_from_fpn(p, &ctx));
    }
    for child in b.branches.iter().flatten() {
        flatten_branch(child, &ctx, out);
    }
}

fn product_from_fpn(p: &FullProductNameJ, ctx: &BranchContext) -> Product {
    let mut ids = ProductIdentifiers::default();
    if let Some(h) = &p.product_identification_helper {
        ids.cpe = h.cpe.clone();
        ids.purl = h.purl.clone();
        ids.model_numbers = h.model_numbers.clone().unwrap_or_default();
        ids.serial_numbers = h.serial_numbers.clone().unwrap_or_default();
        ids.skus = h.skus.clone().unwrap_or_default();
        ids.sbom_urls = h.sbom_urls.clone().unwrap_or_default();
        ids.hashes = h
            .hashes
            .iter()
            .flatten()
            .map(|fh| FileHashes {
                filename: fh.filename.clone(),
                hashes: fh
                    .file_hashes
                    .iter()
                    .map(|x| Hash {
                        algorithm: x.algorithm.clone(),
                        value: x.value.clone(),
                    })
                    .collect(),
            })
            .collect();
        ids.generic_uris = h
            .x_generic_uris
            .iter()
            .flatten()
            .map(|u| (u.namespace.clone(), u.uri.clone()))
            .collect();
    }
    Product {
        id: p.product_id.clone(),
        name: p.name.clone(),
        vendor: ctx.vendor.clone(),
        family: ctx.family.clone(),
        product_name: ctx.product_name.clone(),
        version: ctx.version.clone(),
        version_range: ctx.version_range.clone(),
        architecture: ctx.architecture.clone(),
        identifiers: ids,
        aliases: Vec::new(),
        relationship: None,
    }
}

fn notes(n: &Option<Vec<NoteJ>>) -> Vec<Note> {
    n.iter()
        .flatten()
        .map(|n| Note {
            category: n.category.clone(),
            title: n.title.clone(),
            text: n.text.clone(),
        })
        .collect()
}

fn references(r: &Option<Vec<ReferenceJ>>) -> Vec<Reference> {
    r.iter()
        .flatten()
        .map(|r| Reference {
            url: r.url.clone(),
            summary: Some(r.summary.clone()),
            category: r.category.clone(),
        })
        .collect()
}

/// Product ids named directly plus the members of the named groups, without repeats.
fn resolve(
    product_ids: &Option<Vec<String>>,
    group_ids: &Option<Vec<String>>,
    groups: &HashMap<&str, &[String]>,
) -> Vec<String> {
    let mut out: Vec<String> = product_ids.clone().unwrap_or_default();
    for g in group_ids.iter().flatten() {
        if let Some(members) = groups.get(g.as_str()) {
            for m in members.iter() {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
        }
    }
    out
}

fn flatten_vulnerability(
    v: &VulnerabilityJ,
    groups: &HashMap<&str, &[String]>,
    publisher: &str,
) -> Vulnerability {
    let ps = v.product_status.as_ref();
    let list = |f: fn(&ProductStatusJ) -> &Option<Vec<String>>| -> Vec<String> {
        ps.and_then(|p| f(p).clone()).unwrap_or_default()
    };
    let mut scores = Vec::new();
    // CSAF 2.0 scores[] and CSAF 2.1 metrics[] carry the same CVSS objects.
    let score_sets = v
        .scores
        .iter()
        .flatten()
        .map(|s| (&s.products, &s.cvss_v2, &s.cvss_v3, &s.cvss_v4))
        .chain(v.metrics.iter().flatten().map(|m| {
            (
                &m.products,
                &m.content.cvss_v2,
                &m.content.cvss_v3,
                &m.content.cvss_v4,
            )
        }));
    for (products, v2, v3, v4) in score_sets {
        for (obj, default_version) in [
            (v2, Some(CvssVersion::V2)),
            (v3, None),
            (v4, Some(CvssVersion::V40)),
        ] {
            let Some(obj) = obj else { continue };
            let version = obj
                .get("version")
                .and_then(|x| x.as_str())
                .and_then(CvssVersion::parse)
                .or(default_version);
            let (Some(version), Some(vector)) =
                (version, obj.get("vectorString").and_then(|x| x.as_str()))
            else {
                continue;
            };
            scores.push(Score {
                version,
                vector: vector.to_string(),
                base_score: obj.get("baseScore").and_then(|x| x.as_f64()),
                base_severity: obj
                    .get("baseSeverity")
                    .and_then(|x| x.as_str())
                    .map(str::to_string),
                products: products.clone(),
                source: Some(publisher.to_string()),
            });
        }
    }
    Vulnerability {
        cve: v.cve.clone(),
        ids: v
            .ids
            .iter()
            .flatten()
            .map(|i| VulnerabilityId {
                system_name: i.system_name.clone(),
                text: i.text.clone(),
            })
            .collect(),
        cwe: v
            .cwe
            .as_ref()
            .or_else(|| v.cwes.as_ref().and_then(|c| c.first()))
            .map(|c| Cwe {
                id: c.id.clone(),
                name: Some(c.name.clone()),
            }),
        title: v.title.clone(),
        notes: notes(&v.notes),
        discovery_date: v.discovery_date.clone(),
        release_date: v.release_date.clone(),
        scores,
        product_status: ProductStatus {
            first_affected: list(|p| &p.first_affected),
            first_fixed: list(|p| &p.first_fixed),
            fixed: list(|p| &p.fixed),
            known_affected: list(|p| &p.known_affected),
            known_not_affected: list(|p| &p.known_not_affected),
            last_affected: list(|p| &p.last_affected),
            recommended: list(|p| &p.recommended),
            under_investigation: list(|p| &p.under_investigation),
        },
        remediations: v
            .remediations
            .iter()
            .flatten()
            .map(|r| Remediation {
                category: r.category.clone(),
                details: r.details.clone(),
                url: r.url.clone(),
                date: r.date.clone(),
                product_ids: resolve(&r.product_ids, &r.group_ids, groups),
                group_ids: r.group_ids.clone().unwrap_or_default(),
                restart_required: r.restart_required.as_ref().map(|x| x.category.clone()),
            })
            .collect(),
        threats: v
            .threats
            .iter()
            .flatten()
            .map(|t| Threat {
                category: t.category.clone(),
                details: t.details.clone(),
                date: t.date.clone(),
                product_ids: resolve(&t.product_ids, &t.group_ids, groups),
                group_ids: t.group_ids.clone().unwrap_or_default(),
            })
            .collect(),
        flags: v
            .flags
            .iter()
            .flatten()
            .map(|f| Flag {
                label: f.label.clone(),
                date: f.date.clone(),
                product_ids: resolve(&f.product_ids, &f.group_ids, groups),
                group_ids: f.group_ids.clone().unwrap_or_default(),
            })
            .collect(),
        references: references(&v.references),
    }
}
