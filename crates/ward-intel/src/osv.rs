//! OSV reader (schema 1.x): ranges of type SEMVER, ECOSYSTEM and GIT with
//! introduced / fixed / last_affected / limit events, and explicit version lists.
//!
//! Checks the schema rules on ranges (an `introduced` event in every range, GIT ranges
//! with a repo and full commit hashes, `fixed` and `last_affected` not mixed) and the
//! required fields.
//!
//! Entries without a `package`: the OSV schema lets `affected[].package` be left out,
//! which only makes sense when the entry is identified by its GIT ranges (the repo and
//! commits; `versions` are then the repo's tags). An entry without a package must have
//! at least one range and only GIT ranges; otherwise its versions would belong to no
//! package, so it is rejected (`osv:package-required`). Such entries are kept with
//! `ecosystem`/`name` unset and matched by their ranges' `repo`.
//!
//! The OSV linter's "package exists in its registry" rule (the linter's `nopackage-*`
//! test files) needs the registry's package list, which Ward, offline, does not have;
//! it runs only when one is supplied: [`OsvOptions::package_exists`], or a
//! [`PackageIndex`] read from a file (`ward intel import --osv-packages FILE`).

use crate::csaf::revision::parse_datetime;
use crate::error::{from_json_slice, IntelError};
use crate::model::{OsvAffected, OsvEvent, OsvRange, OsvRecord, Reference};
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

/// (ecosystem, name) -> does the package exist?
pub type PackageExists<'a> = &'a dyn Fn(&str, &str) -> bool;

/// Knowledge the reader cannot hold itself.
#[derive(Default, Clone, Copy)]
pub struct OsvOptions<'a> {
    /// (ecosystem, name) -> does the package exist?
    pub package_exists: Option<PackageExists<'a>>,
}

/// A registry package list for the "package exists" rule: lines of
/// `ECOSYSTEM<TAB>NAME` (or separated by a single space); blank lines and lines starting
/// with `#` are ignored. Names compare exactly, as the registries' canonical names.
#[derive(Debug, Default, Clone)]
pub struct PackageIndex {
    packages: std::collections::HashSet<(String, String)>,
}

impl PackageIndex {
    /// Parse a package list; an error names the line.
    pub fn from_text(text: &str, file: &str) -> Result<Self, IntelError> {
        let mut packages = std::collections::HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (eco, name) = line
                .split_once('\t')
                .or_else(|| line.split_once(' '))
                .filter(|(e, n)| !e.is_empty() && !n.trim().is_empty())
                .ok_or_else(|| IntelError::Line {
                    file: file.to_string(),
                    line: i + 1,
                    message: "expected ECOSYSTEM<TAB>NAME".into(),
                })?;
            packages.insert((eco.to_string(), name.trim().to_string()));
        }
        Ok(Self { packages })
    }

    pub fn insert(&mut self, ecosystem: &str, name: &str) {
        self.packages
            .insert((ecosystem.to_string(), name.to_string()));
    }

    /// Does the list hold this package? The ecosystem's `:suffix` (e.g. `Debian:11`) is
    /// also tried without the suffix.
    pub fn contains(&self, ecosystem: &str, name: &str) -> bool {
        let has = |e: &str| self.packages.contains(&(e.to_string(), name.to_string()));
        has(ecosystem) || ecosystem.split_once(':').is_some_and(|(base, _)| has(base))
    }

    pub fn len(&self) -> usize {
        self.packages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

pub fn read(bytes: &[u8], file: &str) -> Result<OsvRecord, IntelError> {
    read_with(bytes, file, OsvOptions::default())
}

pub fn read_with(bytes: &[u8], file: &str, opts: OsvOptions) -> Result<OsvRecord, IntelError> {
    let v: Value = from_json_slice(bytes, file)?;
    read_value(&v, file, opts)
}

fn full_hash(h: &str) -> bool {
    h == "0"
        || ((h.len() == 40 || h.len() == 64)
            && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

pub fn read_value(v: &Value, file: &str, opts: OsvOptions) -> Result<OsvRecord, IntelError> {
    let bad = |rule: &str, at: &str, msg: &str| {
        IntelError::invalid(file, &format!("osv:{rule}"), at, msg)
    };
    let id = s(v, "id")
        .filter(|x| !x.is_empty())
        .ok_or_else(|| bad("required", "/id", "id is required"))?;
    let modified =
        s(v, "modified").ok_or_else(|| bad("required", "/modified", "modified is required"))?;
    if parse_datetime(modified).is_none() {
        return Err(bad(
            "date-time",
            "/modified",
            "modified is not an RFC 3339 date-time",
        ));
    }
    let mut rec = OsvRecord {
        id: id.to_string(),
        schema_version: s(v, "schema_version").map(str::to_string),
        modified: modified.to_string(),
        published: s(v, "published").map(str::to_string),
        withdrawn: s(v, "withdrawn").map(str::to_string),
        aliases: arr(v, "aliases")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        related: arr(v, "related")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        summary: s(v, "summary").map(str::to_string),
        details: s(v, "details").map(str::to_string),
        ..Default::default()
    };
    for sev in arr(v, "severity") {
        if let (Some(t), Some(sc)) = (s(sev, "type"), s(sev, "score")) {
            rec.severity.push((t.to_string(), sc.to_string()));
        }
    }
    for r in arr(v, "references") {
        if let Some(url) = s(r, "url") {
            rec.references.push(Reference {
                url: url.to_string(),
                summary: None,
                category: s(r, "type").map(str::to_string),
            });
        }
    }
    for (i, a) in arr(v, "affected").iter().enumerate() {
        let at = format!("/affected/{i}");
        let mut aff = OsvAffected::default();
        if let Some(p) = a.get("package") {
            let eco = s(p, "ecosystem").ok_or_else(|| {
                bad(
                    "required",
                    &format!("{at}/package/ecosystem"),
                    "package needs an ecosystem",
                )
            })?;
            let name = s(p, "name").ok_or_else(|| {
                bad(
                    "required",
                    &format!("{at}/package/name"),
                    "package needs a name",
                )
            })?;
            if let Some(exists) = opts.package_exists {
                if !exists(eco, name) {
                    return Err(bad(
                        "package-exists",
                        &format!("{at}/package/name"),
                        &format!("package {name:?} is not known in {eco}"),
                    ));
                }
            }
            aff.ecosystem = Some(eco.to_string());
            aff.name = Some(name.to_string());
            aff.purl = s(p, "purl").map(str::to_string);
        } else {
            let ranges = arr(a, "ranges");
            if ranges.is_empty() {
                return Err(bad(
                    "package-required",
                    &at,
                    "an affected entry without a package needs GIT ranges to identify it",
                ));
            }
            if let Some(j) = ranges.iter().position(|r| s(r, "type") != Some("GIT")) {
                return Err(bad(
                    "package-required",
                    &format!("{at}/ranges/{j}/type"),
                    "a SEMVER or ECOSYSTEM range needs the entry's package",
                ));
            }
        }
        for (j, r) in arr(a, "ranges").iter().enumerate() {
            let rat = format!("{at}/ranges/{j}");
            let ty = s(r, "type")
                .ok_or_else(|| bad("required", &format!("{rat}/type"), "range needs a type"))?;
            if !["SEMVER", "ECOSYSTEM", "GIT"].contains(&ty) {
                return Err(bad(
                    "range-type",
                    &format!("{rat}/type"),
                    "range type must be SEMVER, ECOSYSTEM or GIT",
                ));
            }
            let repo = s(r, "repo").map(str::to_string);
            if ty == "GIT" && repo.is_none() {
                return Err(bad("git-repo", &rat, "GIT ranges need a repo"));
            }
            let events = r
                .get("events")
                .and_then(Value::as_array)
                .filter(|e| !e.is_empty())
                .ok_or_else(|| bad("required", &format!("{rat}/events"), "range needs events"))?;
            let mut range = OsvRange {
                range_type: ty.to_string(),
                repo,
                events: Vec::new(),
            };
            for (k, e) in events.iter().enumerate() {
                let eat = format!("{rat}/events/{k}");
                let obj = e.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
                    bad(
                        "event",
                        &eat,
                        "an event has exactly one of introduced, fixed, last_affected, limit",
                    )
                })?;
                let (key, val) = obj
                    .iter()
                    .next()
                    .ok_or_else(|| bad("event", &eat, "empty event"))?;
                let val = val
                    .as_str()
                    .ok_or_else(|| bad("event", &eat, "event value is a string"))?
                    .to_string();
                if ty == "GIT" && !full_hash(&val) {
                    return Err(bad("git-hash", &eat, "GIT events use full commit hashes"));
                }
                range.events.push(match key.as_str() {
                    "introduced" => OsvEvent::Introduced(val),
                    "fixed" => OsvEvent::Fixed(val),
                    "last_affected" => OsvEvent::LastAffected(val),
                    "limit" => OsvEvent::Limit(val),
                    _ => return Err(bad("event", &eat, "unknown event")),
                });
            }
            if !range
                .events
                .iter()
                .any(|e| matches!(e, OsvEvent::Introduced(_)))
            {
                return Err(bad(
                    "introduced",
                    &format!("{rat}/events"),
                    "events must contain an introduced event",
                ));
            }
            let fixed = range.events.iter().any(|e| matches!(e, OsvEvent::Fixed(_)));
            let last = range
                .events
                .iter()
                .any(|e| matches!(e, OsvEvent::LastAffected(_)));
            if fixed && last {
                return Err(bad(
                    "fixed-last-affected",
                    &format!("{rat}/events"),
                    "fixed and last_affected are mutually exclusive",
                ));
            }
            aff.ranges.push(range);
        }
        aff.versions = arr(a, "versions")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        rec.affected.push(aff);
    }
    Ok(rec)
}
