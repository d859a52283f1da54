//! JSON-schema validation of intel documents (CSAF 2.0, CycloneDX 1.4 to 1.7, OSV,
//! SPDX 2.3 JSON) with the `jsonschema` crate, built without its HTTP and file
//! resolvers: a `$ref` that is not one of the loaded schemas fails when the set is
//! built, nothing is ever fetched.
//!
//! Ward ships no schema files: the official schemas are read at run time from a folder
//! ([`SchemaSet::load_dir`], `ward intel ... --schemas DIR`, `WARD_SCHEMAS`). Every
//! `*.json` file under it that declares a JSON-schema `$schema` is registered under its
//! `$id` (draft-04: `id`), also without the `?date` query the FIRST CVSS schemas add to
//! their ids, so the CSAF schema's `$ref` to `https://www.first.org/cvss/cvss-v3.1.json`
//! and CycloneDX's relative `spdx.schema.json` resolve to the local files.
//!
//! Violations carry the JSON pointer of the offending value in the document.

use crate::error::IntelError;
use crate::model::Format;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Documents a schema in the set validates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaKind {
    /// CSAF 2.0 (`document.csaf_version` "2.0").
    Csaf20,
    /// CycloneDX JSON of this `specVersion` ("1.4" ... "1.7").
    CycloneDx(String),
    /// OSV (any `schema_version`).
    Osv,
    /// SPDX 2.3 JSON.
    Spdx23,
}

impl SchemaKind {
    /// The kind a schema with this `$id` validates, if Ward knows it.
    pub fn from_schema_id(id: &str) -> Option<Self> {
        let id = id.trim_end_matches('#');
        if id == "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json" {
            return Some(Self::Csaf20);
        }
        if let Some(v) = id
            .strip_prefix("http://cyclonedx.org/schema/bom-")
            .and_then(|r| r.strip_suffix(".schema.json"))
        {
            return Some(Self::CycloneDx(v.to_string()));
        }
        if id.contains("ossf/osv-schema") {
            return Some(Self::Osv);
        }
        if id == "http://spdx.org/rdf/terms/2.3" {
            return Some(Self::Spdx23);
        }
        None
    }

    /// The kind of schema a parsed document of `format` needs, if any.
    pub fn for_document(format: Format, doc: &Value) -> Option<Self> {
        let s = |p: &str| doc.pointer(p).and_then(Value::as_str);
        match format {
            Format::Csaf if s("/document/csaf_version") == Some("2.0") => Some(Self::Csaf20),
            Format::CycloneDxJson => s("/specVersion").map(|v| Self::CycloneDx(v.to_string())),
            Format::Osv => Some(Self::Osv),
            Format::SpdxJson if s("/spdxVersion") == Some("SPDX-2.3") => Some(Self::Spdx23),
            _ => None,
        }
    }
}

impl std::fmt::Display for SchemaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Csaf20 => f.write_str("CSAF 2.0"),
            Self::CycloneDx(v) => write!(f, "CycloneDX {v}"),
            Self::Osv => f.write_str("OSV"),
            Self::Spdx23 => f.write_str("SPDX 2.3"),
        }
    }
}

/// One schema violation: where in the document (JSON pointer), which schema keyword
/// (pointer into the schema) and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaViolation {
    pub pointer: String,
    pub schema_path: String,
    pub message: String,
}

/// At most this many violations are reported per document.
pub const MAX_VIOLATIONS: usize = 20;
/// Messages are cut to this many characters (they quote the offending value).
const MAX_MESSAGE: usize = 300;

/// Compiled validators for the schemas found in a folder.
pub struct SchemaSet {
    validators: BTreeMap<SchemaKind, jsonschema::Validator>,
    skipped: Vec<(String, String)>,
}

/// The URIs a schema is registered under: its `$id` without a trailing `#`, and also
/// without the `?date` query the FIRST CVSS schemas add.
fn schema_uris(v: &Value) -> Vec<String> {
    let Some(id) = schema_id(v) else {
        return Vec::new();
    };
    let id = id.trim_end_matches('#');
    let mut uris = vec![id.to_string()];
    if let Some((bare, _)) = id.split_once('?') {
        uris.push(bare.to_string());
    }
    uris
}

/// The other documents a schema's `$ref`s name (fragment cut off, relative references
/// resolved against the schema's `$id`), in order of first appearance.
fn external_refs(schema: &Value) -> Vec<String> {
    let base = schema_id(schema).unwrap_or("");
    let dir = base.rfind('/').map_or("", |i| &base[..=i]);
    let mut out: Vec<String> = Vec::new();
    let mut stack = vec![schema];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        if let Some(r) = x.as_str() {
                            let doc = r.split('#').next().unwrap_or("");
                            if !doc.is_empty() {
                                let uri = if doc.contains("://") {
                                    doc.to_string()
                                } else {
                                    format!("{dir}{}", doc.trim_start_matches("./"))
                                };
                                if !out.contains(&uri) {
                                    out.push(uri);
                                }
                            }
                        }
                    } else {
                        stack.push(x);
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    out
}

/// Compile `schema` offline with exactly the supplied schemas it refers to, directly or
/// through others (so an unrelated schema with a dangling `$ref` cannot break it). A
/// `$ref` to a document that is not among `all` is an error naming it.
fn compile(all: &[(String, Value)], schema: &Value) -> Result<jsonschema::Validator, String> {
    let find = |uri: &str| {
        all.iter()
            .map(|(_, v)| v)
            .find(|v| schema_uris(v).iter().any(|u| u == uri))
    };
    let mut needed: Vec<&Value> = vec![schema];
    let mut i = 0;
    while let Some(v) = needed.get(i) {
        for uri in external_refs(v) {
            let r = find(&uri).ok_or_else(|| format!("refers to {uri}, which is not supplied"))?;
            if !needed.iter().any(|n| std::ptr::eq(*n, r)) {
                needed.push(r);
            }
        }
        i += 1;
    }
    let mut registry = jsonschema::Registry::new();
    let mut seen: Vec<String> = Vec::new();
    for v in needed {
        for uri in schema_uris(v) {
            if seen.contains(&uri) {
                continue;
            }
            registry = registry
                .add(&uri, jsonschema::Resource::from_contents(v.clone()))
                .map_err(|e| format!("cannot register {uri}: {e}"))?;
            seen.push(uri);
        }
    }
    let registry = registry
        .prepare()
        .map_err(|e| format!("cannot resolve: {e}"))?;
    jsonschema::options()
        .offline()
        .with_registry(&registry)
        .build(schema)
        .map_err(|e| format!("does not compile: {e}"))
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("kinds", &self.validators.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn schema_id(v: &Value) -> Option<&str> {
    v.get("$id").or_else(|| v.get("id")).and_then(Value::as_str)
}

fn is_schema(v: &Value) -> bool {
    v.get("$schema")
        .and_then(Value::as_str)
        .is_some_and(|s| s.contains("json-schema.org"))
}

impl SchemaSet {
    /// An empty set: validates nothing.
    pub fn empty() -> Self {
        Self {
            validators: BTreeMap::new(),
            skipped: Vec::new(),
        }
    }

    /// Load every JSON schema under `dir` (recursively, up to 4 levels). Files that are
    /// not JSON schemas are ignored; a known schema that does not compile (for example a
    /// `$ref` to a schema that is not in the folder) is left out and listed by
    /// [`SchemaSet::skipped`]; `Err` only when none compiles.
    pub fn load_dir(dir: &Path) -> Result<Self, IntelError> {
        Self::load_dirs(&[dir])
    }

    /// [`SchemaSet::load_dir`] over several folders, whose schemas may refer to each other.
    pub fn load_dirs<P: AsRef<Path>>(dirs: &[P]) -> Result<Self, IntelError> {
        let mut docs = Vec::new();
        let mut stack: Vec<(std::path::PathBuf, usize)> =
            dirs.iter().map(|d| (d.as_ref().to_path_buf(), 0)).collect();
        while let Some((d, depth)) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|source| IntelError::Io {
                path: d.clone(),
                source,
            })?;
            for e in entries {
                let e = e.map_err(|source| IntelError::Io {
                    path: d.clone(),
                    source,
                })?;
                let p = e.path();
                if p.is_dir() {
                    if depth < 4 {
                        stack.push((p, depth + 1));
                    }
                    continue;
                }
                if p.extension().and_then(|x| x.to_str()) != Some("json") {
                    continue;
                }
                let bytes = std::fs::read(&p).map_err(|source| IntelError::Io {
                    path: p.clone(),
                    source,
                })?;
                // Files that are no JSON (or no schema) are simply not schemas.
                if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                    if is_schema(&v) && schema_id(&v).is_some() {
                        docs.push((p.display().to_string(), v));
                    }
                }
            }
        }
        docs.sort_by(|a, b| a.0.cmp(&b.0));
        Self::from_documents(docs)
    }

    /// Build from (name, schema) pairs. Each schema Ward knows ([`SchemaKind`]) is compiled
    /// with the schemas its `$ref`s reach (e.g. the CVSS, SPDX and JSF schemas) as its
    /// registry. A known schema that does not compile, for example one
    /// whose `$ref` names a schema that was not supplied, is left out and listed by
    /// [`SchemaSet::skipped`]; `Err` only when no known schema compiles at all.
    pub fn from_documents(docs: Vec<(String, Value)>) -> Result<Self, IntelError> {
        let mut validators = BTreeMap::new();
        let mut skipped = Vec::new();
        for (name, v) in &docs {
            let Some(kind) = schema_id(v).and_then(SchemaKind::from_schema_id) else {
                continue;
            };
            if validators.contains_key(&kind) {
                continue;
            }
            match compile(&docs, v) {
                Ok(validator) => {
                    validators.insert(kind, validator);
                }
                Err(reason) => skipped.push((name.clone(), reason)),
            }
        }
        if validators.is_empty() && !skipped.is_empty() {
            let detail = skipped
                .iter()
                .map(|(n, r)| format!("{n}: {r}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(IntelError::Invalid {
                file: "schema folder".into(),
                test: "json-schema".into(),
                pointer: String::new(),
                message: format!("no schema compiles: {detail}"),
            });
        }
        Ok(Self {
            validators,
            skipped,
        })
    }

    /// Known schemas that were found but did not compile, with the reason.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// The kinds of document this set can validate.
    pub fn kinds(&self) -> impl Iterator<Item = &SchemaKind> {
        self.validators.keys()
    }

    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Validate against the schema of `kind`: `None` when the set has no such schema,
    /// otherwise the violations (empty = valid), at most [`MAX_VIOLATIONS`].
    pub fn validate(&self, kind: &SchemaKind, doc: &Value) -> Option<Vec<SchemaViolation>> {
        let v = self.validators.get(kind)?;
        Some(
            v.iter_errors(doc)
                .take(MAX_VIOLATIONS)
                .map(|e| {
                    let mut message = e.to_string();
                    if message.chars().count() > MAX_MESSAGE {
                        message = message.chars().take(MAX_MESSAGE).collect::<String>() + "...";
                    }
                    SchemaViolation {
                        pointer: e.instance_path().to_string(),
                        schema_path: e.schema_path().to_string(),
                        message,
                    }
                })
                .collect(),
        )
    }

    /// Check a document of a detected format: `Ok(None)` when no schema applies (not a
    /// JSON format, or no schema for its version in the set), `Ok(Some(kind))` when it
    /// passed, and an [`IntelError::Invalid`] with test `json-schema` and the pointer of
    /// the first violation when it did not (the message lists up to three).
    pub fn check(
        &self,
        format: Format,
        bytes: &[u8],
        file: &str,
    ) -> Result<Option<SchemaKind>, IntelError> {
        if !matches!(
            format,
            Format::Csaf | Format::CycloneDxJson | Format::Osv | Format::SpdxJson
        ) || self.is_empty()
        {
            return Ok(None);
        }
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let doc: Value = crate::error::from_json_slice(body, file)?;
        let Some(kind) = SchemaKind::for_document(format, &doc) else {
            return Ok(None);
        };
        let Some(violations) = self.validate(&kind, &doc) else {
            return Ok(None);
        };
        match violations.first() {
            None => Ok(Some(kind)),
            Some(first) => {
                let detail = violations
                    .iter()
                    .take(3)
                    .map(|v| format!("{}: {}", display_pointer(&v.pointer), v.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                Err(IntelError::Invalid {
                    file: file.to_string(),
                    test: "json-schema".into(),
                    pointer: display_pointer(&first.pointer).to_string(),
                    message: format!(
                        "{kind} schema: {} violation(s){}: {detail}",
                        violations.len(),
                        if violations.len() >= MAX_VIOLATIONS {
                            " or more"
                        } else {
                            ""
                        }
                    ),
                })
            }
        }
    }
}

/// The root's RFC 6901 pointer is the empty string; messages show it as `/`.
fn display_pointer(p: &str) -> &str {
    if p.is_empty() {
        "/"
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tiny() -> SchemaSet {
        let cvss = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "https://example.org/part.json?2024",
            "type": "object",
            "required": ["n"],
            "properties": {"n": {"type": "integer"}}
        });
        let osv = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.org/ossf/osv-schema/schema.json",
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string"}, "x": {"$ref": "https://example.org/part.json"}}
        });
        SchemaSet::from_documents(vec![("part".into(), cvss), ("osv".into(), osv)])
            .expect("schemas compile")
    }

    #[test]
    fn refs_resolve_locally_and_violations_have_pointers() {
        let s = tiny();
        assert_eq!(s.kinds().collect::<Vec<_>>(), vec![&SchemaKind::Osv]);
        let ok = s.validate(&SchemaKind::Osv, &json!({"id": "A", "x": {"n": 1}}));
        assert_eq!(ok, Some(vec![]));
        let bad = s
            .validate(&SchemaKind::Osv, &json!({"id": "A", "x": {"n": "one"}}))
            .expect("osv schema present");
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].pointer, "/x/n");
        assert_eq!(s.validate(&SchemaKind::Csaf20, &json!({})), None);
    }

    #[test]
    fn unknown_ref_fails_at_build_without_fetching() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.org/ossf/osv-schema/schema.json",
            "properties": {"x": {"$ref": "https://example.org/not-here.json"}}
        });
        let e = SchemaSet::from_documents(vec![("s".into(), s.clone())]).expect_err("unresolvable");
        assert_eq!(e.test_id(), Some("json-schema"));
        // Beside a schema that compiles, it is skipped and listed.
        let csaf = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
            "type": "object"
        });
        let set = SchemaSet::from_documents(vec![("s".into(), s), ("c".into(), csaf)])
            .expect("one compiles");
        assert_eq!(set.kinds().collect::<Vec<_>>(), vec![&SchemaKind::Csaf20]);
        assert_eq!(set.skipped().len(), 1);
        assert!(
            set.skipped()[0].1.contains("not-here"),
            "{:?}",
            set.skipped()
        );
    }

    #[test]
    fn check_names_test_and_pointer() {
        let s = tiny();
        let e = s
            .check(Format::Osv, br#"{"id": 5}"#, "f.json")
            .expect_err("invalid");
        match e {
            IntelError::Invalid { test, pointer, .. } => {
                assert_eq!(test, "json-schema");
                assert_eq!(pointer, "/id");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            s.check(Format::Osv, br#"{"id": "x"}"#, "f.json")
                .expect("valid"),
            Some(SchemaKind::Osv)
        );
        assert_eq!(s.check(Format::KevCsv, b"a,b", "f.csv").expect("n/a"), None);
    }
}
