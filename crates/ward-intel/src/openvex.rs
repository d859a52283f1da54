//! OpenVEX reader, versions 0.0.1 and 0.2.0. In 0.0.1 `vulnerability` is a string and
//! `products` a list of strings; in 0.2.0 both are objects (`name`, `@id`,
//! `subcomponents`). Statement count: one [`VexStatement`] per (statement, product).

use crate::error::{from_json_slice, IntelError};
use crate::model::{VexDocument, VexStatement, VexStatus};
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

const JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

pub fn read(bytes: &[u8], file: &str) -> Result<VexDocument, IntelError> {
    let v: Value = from_json_slice(bytes, file)?;
    read_value(&v, file)
}

pub fn read_value(v: &Value, file: &str) -> Result<VexDocument, IntelError> {
    let bad = |at: &str, msg: &str| IntelError::invalid(file, "openvex", at, msg);
    let context = s(v, "@context").ok_or_else(|| bad("/@context", "@context is required"))?;
    let spec = context
        .strip_prefix("https://openvex.dev/ns")
        .ok_or_else(|| bad("/@context", "not an OpenVEX context"))?
        .trim_start_matches('/')
        .to_string();
    let id = s(v, "@id")
        .ok_or_else(|| bad("/@id", "@id is required"))?
        .to_string();
    let mut doc = VexDocument {
        id: id.clone(),
        author: s(v, "author").map(str::to_string),
        version: v.get("version").map(|x| match x {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        timestamp: s(v, "timestamp").map(str::to_string),
        spec_version: if spec.is_empty() {
            "v0.0.1".into()
        } else {
            spec
        },
        ..Default::default()
    };
    let statements = v
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("/statements", "statements is required"))?;
    for (i, st) in statements.iter().enumerate() {
        let at = format!("/statements/{i}");
        let (vuln, aliases) = match st.get("vulnerability") {
            Some(Value::String(name)) => (name.clone(), Vec::new()),
            Some(obj @ Value::Object(_)) => (
                s(obj, "name")
                    .or_else(|| s(obj, "@id"))
                    .ok_or_else(|| {
                        bad(&format!("{at}/vulnerability"), "vulnerability needs a name")
                    })?
                    .to_string(),
                arr(obj, "aliases")
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            ),
            _ => {
                return Err(bad(
                    &format!("{at}/vulnerability"),
                    "vulnerability is required",
                ))
            }
        };
        let status_word =
            s(st, "status").ok_or_else(|| bad(&format!("{at}/status"), "status is required"))?;
        let status = match status_word {
            "not_affected" => VexStatus::NotAffected,
            "affected" => VexStatus::Affected,
            "fixed" => VexStatus::Fixed,
            "under_investigation" => VexStatus::UnderInvestigation,
            _ => {
                return Err(bad(
                    &format!("{at}/status"),
                    "status must be not_affected, affected, fixed or under_investigation",
                ))
            }
        };
        let justification = s(st, "justification").map(str::to_string);
        if let Some(j) = &justification {
            if !JUSTIFICATIONS.contains(&j.as_str()) {
                return Err(bad(&format!("{at}/justification"), "unknown justification"));
            }
        }
        let impact = s(st, "impact_statement").map(str::to_string);
        if status == VexStatus::NotAffected && justification.is_none() && impact.is_none() {
            return Err(bad(
                &at,
                "not_affected needs a justification or an impact statement",
            ));
        }
        let action = s(st, "action_statement").map(str::to_string);
        let products = arr(st, "products");
        if products.is_empty() {
            return Err(bad(
                &format!("{at}/products"),
                "a statement names at least one product",
            ));
        }
        // 0.0.1 lists subcomponents beside products.
        let outer_subs: Vec<String> = arr(st, "subcomponents")
            .iter()
            .filter_map(|x| x.as_str().or_else(|| s(x, "@id")))
            .map(str::to_string)
            .collect();
        for (j, p) in products.iter().enumerate() {
            let (product, subs) = match p {
                Value::String(id) => (id.clone(), outer_subs.clone()),
                obj @ Value::Object(_) => {
                    let pid = s(obj, "@id")
                        .or_else(|| obj.get("identifiers").and_then(|x| s(x, "purl")))
                        .ok_or_else(|| bad(&format!("{at}/products/{j}"), "product needs @id"))?;
                    let subs = arr(obj, "subcomponents")
                        .iter()
                        .filter_map(|x| x.as_str().or_else(|| s(x, "@id")))
                        .map(str::to_string)
                        .collect();
                    (pid.to_string(), subs)
                }
                _ => {
                    return Err(bad(
                        &format!("{at}/products/{j}"),
                        "product is a string or object",
                    ))
                }
            };
            doc.statements.push(VexStatement {
                vulnerability: vuln.clone(),
                aliases: aliases.clone(),
                product,
                subcomponents: subs,
                status: status.clone(),
                justification: justification.clone(),
                impact_statement: impact.clone(),
                action_statement: action.clone(),
                responses: Vec::new(),
                detail: s(st, "status_notes").map(str::to_string),
                timestamp: s(st, "timestamp")
                    .or(doc.timestamp.as_deref())
                    .map(str::to_string),
                source_document: id.clone(),
                versions: Vec::new(),
            });
        }
    }
    Ok(doc)
}
