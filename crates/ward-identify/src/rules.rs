//! Classification knowledge kept as data: fingerprint rules, vendor name aliases and
//! extra MAC prefixes, read from TOML files.
//!
//! The built-in files live in `crates/ward-identify/rules/` and are compiled in with
//! `include_str!`. Users add or replace rules without rebuilding by pointing
//! [`Rules::load_dir`] at a directory of `*.toml` files: a user rule with the id of a
//! built-in rule replaces it, any other id is added.
//!
//! # File format
//!
//! ```toml
//! # Source: <public document the rule is based on>
//! [[rule]]
//! id = "dicom.impl-uid.dcmtk"          # unique, stable
//! key = "dicom.implementation_class_uid" # fact key; may be a glob ("poct1.*")
//! uid_root = "1.2.276.0.7230010.3"     # exactly one matcher: equals, prefix, suffix,
//!                                      # contains, glob (* and ?), uid_root, any = true
//! case_sensitive = false               # default false
//! fallback = false                     # true: applies only if no other rule matched
//! software = "DCMTK"                   # outputs: vendor, model, category, os, software,
//! software_version = "{version}"       # software_version, firmware_version, roles = [..]
//! confidence = 0.9                     # 0..1, see crate::attributes
//!
//! [[vendor]]                           # canonical vendor names
//! name = "GE Healthcare"
//! aliases = ["GE MEDICAL SYSTEMS*", "GE Healthcare*"]   # globs, case-insensitive
//!
//! [[oui]]                              # extra or private MAC prefixes
//! prefix = "00:11:22"                  # 6 (MA-L), 7 (MA-M) or 9 (MA-S) hex digits
//! organization = "Example Medical"
//! ```
//!
//! Output values may use `{value}` (the fact's value), `{rest}` (what follows the matched
//! prefix or UID root, without leading separators) and `{version}` (the first
//! version-looking token of `{rest}`, or of the value). An output that expands to an empty
//! string is dropped.

use crate::attributes::AttrKind;
use crate::oui::{OuiEntry, OuiRegistry};
use crate::taxonomy::Category;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ward_model::MacAddr;

/// The built-in rule files: (file name, text).
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    ("dicom.toml", include_str!("../rules/dicom.toml")),
    ("hl7.toml", include_str!("../rules/hl7.toml")),
    ("dhcp.toml", include_str!("../rules/dhcp.toml")),
    ("os.toml", include_str!("../rules/os.toml")),
    ("http.toml", include_str!("../rules/http.toml")),
    ("tls.toml", include_str!("../rules/tls.toml")),
    ("clinical.toml", include_str!("../rules/clinical.toml")),
    ("network.toml", include_str!("../rules/network.toml")),
    ("vendors.toml", include_str!("../rules/vendors.toml")),
];

/// Longest value a matcher looks at; longer values are matched on their first bytes only,
/// which keeps glob matching bounded.
const MAX_MATCH_LEN: usize = 1024;

/// Errors loading rule files.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: rule {id:?}: {message}")]
    Invalid {
        file: String,
        id: String,
        message: String,
    },
    #[error("{file}: rule id {id:?} is defined twice in the same file")]
    Duplicate { file: String, id: String },
    #[error("cannot read rule file or directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    vendor: Vec<VendorAlias>,
    #[serde(default)]
    oui: Vec<OuiSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OuiSpec {
    prefix: String,
    organization: String,
}

/// A rule as written in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glob: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_root: Option<String>,
    #[serde(default)]
    pub any: bool,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub fallback: bool,
    pub confidence: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A canonical vendor name and the spellings that mean it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorAlias {
    pub name: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Equals(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Glob(String),
    UidRoot(String),
    Any,
}

/// A loaded, validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub spec: RuleSpec,
    /// The file the rule came from.
    pub file: String,
    matcher: Matcher,
}

/// What a matching rule says about a fact.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit<'a> {
    pub rule: &'a Rule,
    /// Attribute values after template expansion.
    pub outputs: Vec<(AttrKind, String)>,
}

/// The whole knowledge base: rules, vendor aliases and the MAC registry.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    vendors: Vec<VendorAlias>,
    /// MAC prefixes from rule files (they win over the IEEE registry).
    extra_oui: OuiRegistry,
    oui: Option<Arc<OuiRegistry>>,
    files: Vec<String>,
    /// Rule indices by exact fact key, and the rules whose key is a glob.
    by_key: ahash::AHashMap<String, Vec<usize>>,
    glob_keyed: Vec<usize>,
}

impl Rules {
    /// An empty rule set (no rules, no registry).
    pub fn empty() -> Self {
        Rules::default()
    }

    /// The built-in rule set, without the IEEE registry.
    pub fn builtin() -> Result<Self, RuleError> {
        let mut r = Rules::empty();
        for (name, text) in BUILTIN_RULE_FILES {
            r.add_file(name, text)?;
        }
        Ok(r)
    }

    /// The built-in rules with every `*.toml` file of `dir` merged over them (files in
    /// name order).
    pub fn load_dir(dir: &Path) -> Result<Self, RuleError> {
        let mut r = Rules::builtin()?;
        r.merge_dir(dir)?;
        Ok(r)
    }

    /// Merges every `*.toml` file of `dir` over the current rules.
    pub fn merge_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let io = |source| RuleError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|source| RuleError::Io {
                path: p.clone(),
                source,
            })?;
            self.add_file(&p.display().to_string(), &text)?;
        }
        Ok(())
    }

    /// Parses one rule file and merges it: rules with an existing id replace it, others
    /// are appended; vendor aliases with an existing name replace it. All or nothing: on
    /// error nothing from the file is kept.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), RuleError> {
        let parsed = parse_rule_file(file, text)?;
        for rule in parsed.rules {
            match self.rules.iter_mut().find(|r| r.spec.id == rule.spec.id) {
                Some(existing) => *existing = rule,
                None => self.rules.push(rule),
            }
        }
        for v in parsed.vendors {
            match self.vendors.iter_mut().find(|x| x.name == v.name) {
                Some(existing) => *existing = v,
                None => self.vendors.push(v),
            }
        }
        self.extra_oui.merge(parsed.oui);
        self.files.push(file.to_string());
        self.reindex();
        Ok(())
    }

    fn reindex(&mut self) {
        self.by_key.clear();
        self.glob_keyed.clear();
        for (i, r) in self.rules.iter().enumerate() {
            if r.spec.key.contains(['*', '?']) {
                self.glob_keyed.push(i);
            } else {
                self.by_key.entry(r.spec.key.clone()).or_default().push(i);
            }
        }
    }

    /// Attaches the IEEE registry.
    pub fn with_oui(mut self, registry: OuiRegistry) -> Self {
        self.oui = Some(Arc::new(registry));
        self
    }

    /// Attaches a shared IEEE registry.
    pub fn set_oui(&mut self, registry: Arc<OuiRegistry>) {
        self.oui = Some(registry);
    }

    /// Is an IEEE registry attached?
    pub fn has_oui_registry(&self) -> bool {
        self.oui.is_some()
    }

    /// Every loaded rule, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.spec.id == id)
    }

    pub fn vendor_aliases(&self) -> &[VendorAlias] {
        &self.vendors
    }

    /// The files merged so far.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Every rule that matches `(key, value)`, with expanded outputs. Fallback rules are
    /// returned only when no other rule matched.
    pub fn classify(&self, key: &str, value: &str) -> Vec<RuleHit<'_>> {
        self.classify_with(&self.rules_for_key(key), value)
    }

    /// The rules (by index, in order) that apply to observations with `key`: what
    /// [`Rules::classify_with`] takes, for callers classifying many values of one key.
    pub fn rules_for_key(&self, key: &str) -> Vec<usize> {
        let mut candidates: Vec<usize> = self.by_key.get(key).cloned().unwrap_or_default();
        candidates.extend(self.glob_keyed.iter().copied().filter(|i| {
            self.rules
                .get(*i)
                .is_some_and(|r| key_matches(&r.spec.key, key))
        }));
        candidates.sort_unstable();
        candidates
    }

    /// [`Rules::classify`] of a value of a key whose [`Rules::rules_for_key`] are
    /// `candidates`.
    pub fn classify_with(&self, candidates: &[usize], value: &str) -> Vec<RuleHit<'_>> {
        if candidates.is_empty() {
            return Vec::new();
        }
        let trimmed = truncate(value.trim());
        let folded = trimmed.to_lowercase();
        let mut hits: Vec<RuleHit<'_>> = Vec::new();
        let mut fallbacks: Vec<RuleHit<'_>> = Vec::new();
        for rule in candidates.iter().filter_map(|i| self.rules.get(*i)) {
            let Some(rest) = rule.match_value(trimmed, &folded) else {
                continue;
            };
            let outputs = rule.outputs(trimmed, rest);
            if outputs.is_empty() {
                continue;
            }
            let hit = RuleHit { rule, outputs };
            if rule.spec.fallback {
                fallbacks.push(hit);
            } else {
                hits.push(hit);
            }
        }
        if hits.is_empty() {
            fallbacks
        } else {
            hits
        }
    }

    /// The canonical vendor name for a spelling, if an alias covers it.
    pub fn canonical_vendor(&self, raw: &str) -> Option<&str> {
        let raw = raw.trim();
        self.vendors
            .iter()
            .find(|v| {
                v.name.eq_ignore_ascii_case(raw)
                    || v.aliases.iter().any(|a| glob_match(a, raw, false))
            })
            .map(|v| v.name.as_str())
    }

    /// The registry entry for a MAC: rule-file prefixes first, then the IEEE registry.
    pub fn oui_lookup(&self, mac: &MacAddr) -> Option<&OuiEntry> {
        self.extra_oui
            .lookup(mac)
            .or_else(|| self.oui.as_deref().and_then(|o| o.lookup(mac)))
    }
}

struct ParsedFile {
    rules: Vec<Rule>,
    vendors: Vec<VendorAlias>,
    oui: OuiRegistry,
}

/// Converts a byte offset into 1-based line and column.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |p| {
        before.get(p + 1..).map_or(0, |s| s.chars().count())
    }) + 1;
    (line, col)
}

/// Parses and validates one rule file without merging it anywhere (the fuzz entry point).
pub fn parse_rule_file_checked(file: &str, text: &str) -> Result<usize, RuleError> {
    parse_rule_file(file, text).map(|p| p.rules.len() + p.vendors.len() + p.oui.len())
}

fn parse_rule_file(file: &str, text: &str) -> Result<ParsedFile, RuleError> {
    let raw: RuleFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        RuleError::Syntax {
            file: file.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let mut rules = Vec::with_capacity(raw.rule.len());
    for spec in raw.rule {
        if rules.iter().any(|r: &Rule| r.spec.id == spec.id) {
            return Err(RuleError::Duplicate {
                file: file.to_string(),
                id: spec.id,
            });
        }
        let matcher = validate(&spec).map_err(|message| RuleError::Invalid {
            file: file.to_string(),
            id: spec.id.clone(),
            message,
        })?;
        rules.push(Rule {
            spec,
            file: file.to_string(),
            matcher,
        });
    }
    for v in &raw.vendor {
        if v.name.trim().is_empty() || v.aliases.iter().any(|a| a.trim().is_empty()) {
            return Err(RuleError::Invalid {
                file: file.to_string(),
                id: format!("vendor {}", v.name),
                message: "vendor name and aliases must not be empty".into(),
            });
        }
    }
    let mut oui = OuiRegistry::new();
    for o in raw.oui {
        let entry = parse_oui_spec(&o, file).map_err(|message| RuleError::Invalid {
            file: file.to_string(),
            id: format!("oui {}", o.prefix),
            message,
        })?;
        oui.insert(entry);
    }
    Ok(ParsedFile {
        rules,
        vendors: raw.vendor,
        oui,
    })
}

fn parse_oui_spec(o: &OuiSpec, file: &str) -> Result<OuiEntry, String> {
    let hex: String = o
        .prefix
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if !matches!(hex.len(), 6 | 7 | 9) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "prefix {:?} must be 6, 7 or 9 hex digits (MA-L, MA-M, MA-S)",
            o.prefix
        ));
    }
    if o.organization.trim().is_empty() {
        return Err("organization must not be empty".into());
    }
    let prefix = u64::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
    let bits = u8::try_from(hex.len() * 4).map_err(|e| e.to_string())?;
    Ok(OuiEntry {
        bits,
        prefix,
        organization: Arc::from(o.organization.trim()),
        registry: Arc::from(file),
    })
}

fn validate(spec: &RuleSpec) -> Result<Matcher, String> {
    if spec.id.trim().is_empty() {
        return Err("id must not be empty".into());
    }
    if spec.key.trim().is_empty() {
        return Err("key must not be empty".into());
    }
    if !(0.0..=1.0).contains(&spec.confidence) {
        return Err(format!(
            "confidence {} must be between 0 and 1",
            spec.confidence
        ));
    }
    let mut matchers = Vec::new();
    let fold = |s: &String| {
        if spec.case_sensitive {
            s.clone()
        } else {
            s.to_lowercase()
        }
    };
    if let Some(s) = &spec.equals {
        matchers.push(Matcher::Equals(fold(s)));
    }
    if let Some(s) = &spec.prefix {
        matchers.push(Matcher::Prefix(fold(s)));
    }
    if let Some(s) = &spec.suffix {
        matchers.push(Matcher::Suffix(fold(s)));
    }
    if let Some(s) = &spec.contains {
        matchers.push(Matcher::Contains(fold(s)));
    }
    if let Some(s) = &spec.glob {
        matchers.push(Matcher::Glob(s.clone()));
    }
    if let Some(s) = &spec.uid_root {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(format!("uid_root {s:?} is not a dotted numeric UID"));
        }
        matchers.push(Matcher::UidRoot(s.trim_end_matches('.').to_string()));
    }
    if spec.any {
        matchers.push(Matcher::Any);
    }
    if matchers.len() != 1 {
        return Err(format!(
            "needs exactly one of equals, prefix, suffix, contains, glob, uid_root, any = true \
             (found {})",
            matchers.len()
        ));
    }
    if let Some(c) = &spec.category {
        c.parse::<Category>().map_err(|e| e.to_string())?;
    }
    if spec.roles.iter().any(|r| r.trim().is_empty()) {
        return Err("roles must not be empty strings".into());
    }
    let has_output = spec.vendor.is_some()
        || spec.model.is_some()
        || spec.category.is_some()
        || spec.os.is_some()
        || spec.software.is_some()
        || spec.software_version.is_some()
        || spec.firmware_version.is_some()
        || !spec.roles.is_empty();
    if !has_output {
        return Err(
            "a rule must output at least one of vendor, model, category, os, \
                    software, software_version, firmware_version, roles"
                .into(),
        );
    }
    matchers
        .pop()
        .ok_or_else(|| "needs exactly one matcher".to_string())
}

fn key_matches(pattern: &str, key: &str) -> bool {
    if pattern.contains('*') || pattern.contains('?') {
        glob_match(pattern, key, true)
    } else {
        pattern == key
    }
}

fn truncate(s: &str) -> &str {
    if s.len() <= MAX_MATCH_LEN {
        return s;
    }
    let mut end = MAX_MATCH_LEN;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

impl Rule {
    /// Does the rule match `value`? Returns the remainder after the matched prefix
    /// (empty for other matchers).
    fn match_value<'v>(&self, value: &'v str, folded: &str) -> Option<&'v str> {
        let cmp: &str = if self.spec.case_sensitive {
            value
        } else {
            folded
        };
        match &self.matcher {
            Matcher::Equals(s) => (cmp == s).then_some(""),
            Matcher::Prefix(s) => {
                if cmp.starts_with(s.as_str()) && cmp.len() == value.len() {
                    value.get(s.len()..).or(Some(""))
                } else if cmp.starts_with(s.as_str()) {
                    Some("")
                } else {
                    None
                }
            }
            Matcher::Suffix(s) => cmp.ends_with(s.as_str()).then_some(""),
            Matcher::Contains(s) => cmp.contains(s.as_str()).then_some(""),
            Matcher::Glob(g) => glob_match(g, value, self.spec.case_sensitive).then_some(""),
            Matcher::UidRoot(root) => {
                if value == root {
                    Some("")
                } else {
                    value
                        .strip_prefix(root.as_str())
                        .and_then(|r| r.strip_prefix('.'))
                }
            }
            Matcher::Any => Some(""),
        }
    }

    fn outputs(&self, value: &str, rest: &str) -> Vec<(AttrKind, String)> {
        let value = truncate(value.trim());
        let rest = rest.trim_start_matches(['.', '_', '-', '/', ' ', ':']);
        let version = find_version(if rest.is_empty() { value } else { rest });
        let expand = |t: &str| -> Option<String> {
            let s = t
                .replace("{value}", value)
                .replace("{rest}", rest)
                .replace("{version}", version.unwrap_or(""));
            let s = s.trim().to_string();
            (!s.is_empty()).then_some(s)
        };
        let s = &self.spec;
        let mut out = Vec::new();
        let single = [
            (AttrKind::Vendor, &s.vendor),
            (AttrKind::Model, &s.model),
            (AttrKind::Category, &s.category),
            (AttrKind::Os, &s.os),
            (AttrKind::Software, &s.software),
            (AttrKind::SoftwareVersion, &s.software_version),
            (AttrKind::FirmwareVersion, &s.firmware_version),
        ];
        for (kind, tpl) in single {
            if let Some(v) = tpl.as_deref().and_then(expand) {
                out.push((kind, v));
            }
        }
        for r in &s.roles {
            if let Some(v) = expand(r) {
                out.push((AttrKind::Role, v));
            }
        }
        out
    }
}

/// The first token that looks like a version: starts with a digit at a word boundary and
/// continues with alphanumerics, dots, dashes, underscores and balanced parentheses
/// ("12.2(44)SE", "2.4.3", "0.94.14rc21").
fn find_version(s: &str) -> Option<&str> {
    let mut prev: Option<char> = None;
    let start = s.char_indices().find_map(|(i, c)| {
        let at_boundary = prev.is_none_or(|p| !p.is_ascii_alphanumeric());
        prev = Some(c);
        (c.is_ascii_digit() && at_boundary).then_some(i)
    })?;
    let tail = s.get(start..)?;
    let end = tail
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '(' | ')')))
        .unwrap_or(tail.len());
    let mut v = tail.get(..end)?;
    loop {
        let trimmed = v.trim_end_matches(['.', '-', '_']);
        let unbalanced =
            trimmed.ends_with(')') && trimmed.matches('(').count() < trimmed.matches(')').count();
        let next = if unbalanced {
            trimmed.get(..trimmed.len() - 1)?
        } else {
            trimmed
        };
        if next == v {
            break;
        }
        v = next;
    }
    // Still unbalanced ("1.2(3"): keep what precedes the first parenthesis.
    if v.matches('(').count() != v.matches(')').count() {
        v = v.split('(').next().unwrap_or("");
    }
    (!v.is_empty()).then_some(v)
}

/// Glob match with `*` (any run) and `?` (one character); linear-time two-pointer
/// algorithm with single backtrack point, so it cannot blow up on hostile input.
pub fn glob_match(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let text = truncate(text);
    if pattern.is_ascii() && text.is_ascii() {
        // One byte per character, and an ASCII character's `to_lowercase` is its
        // `to_ascii_lowercase`: the same answer as the general path, without collecting
        // either string (this runs for every observation against every glob rule).
        return if case_sensitive {
            glob_core(pattern.as_bytes(), text.as_bytes(), |c| c)
        } else {
            glob_core(pattern.as_bytes(), text.as_bytes(), |c| {
                c.to_ascii_lowercase()
            })
        };
    }
    let fold = |c: char| {
        if case_sensitive {
            c
        } else {
            c.to_lowercase().next().unwrap_or(c)
        }
    };
    let p: Vec<char> = pattern.chars().map(fold).collect();
    let t: Vec<char> = text.chars().map(fold).collect();
    glob_core(&p, &t, |c| c)
}

/// The two-pointer matcher of [`glob_match`] over characters `C`, comparing `fold` of
/// the pattern's and the text's characters.
fn glob_core<C: Copy + PartialEq + GlobChar>(p: &[C], t: &[C], fold: impl Fn(C) -> C) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        match p.get(pi).map(|&c| fold(c)) {
            Some(c) if c == C::STAR => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if c == C::QUESTION || c == fold(tc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|r| r.iter().all(|c| fold(*c) == C::STAR))
}

/// The wildcard characters of [`glob_core`], for bytes and chars.
trait GlobChar {
    const STAR: Self;
    const QUESTION: Self;
}

impl GlobChar for u8 {
    const STAR: u8 = b'*';
    const QUESTION: u8 = b'?';
}

impl GlobChar for char {
    const STAR: char = '*';
    const QUESTION: char = '?';
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_found_at_word_boundaries() {
        let ios = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE";
        assert_eq!(find_version(ios), Some("12.2(44)SE"));
        assert_eq!(find_version("Apache/2.4.3 (Fedora)"), Some("2.4.3"));
        assert_eq!(find_version("(2.4.3)"), Some("2.4.3"));
        assert_eq!(find_version("0.94.14rc21"), Some("0.94.14rc21"));
        assert_eq!(find_version("v1(2"), Some("2"));
        assert_eq!(find_version("no digits"), None);
        assert_eq!(find_version("C3560"), None);
    }

    #[test]
    fn glob_basics() {
        assert!(glob_match("GE MEDICAL*", "ge medical systems", false));
        assert!(!glob_match("GE MEDICAL*", "ge medical systems", true));
        assert!(glob_match("*IntelliVue*", "PHILIPS_IntelliVue_IIC", false));
        assert!(glob_match("a?c", "abc", true));
        assert!(!glob_match("a?c", "abbc", true));
        assert!(glob_match("*", "", true));
        assert!(!glob_match("x*", "", true));
        let long = "a".repeat(5000);
        assert!(!glob_match("*a*a*a*a*a*b", &long, true));
    }

    /// The previous implementation (every string collected into folded chars), kept as
    /// the reference for the byte fast path.
    fn glob_reference(pattern: &str, text: &str, case_sensitive: bool) -> bool {
        let fold = |c: char| {
            if case_sensitive {
                c
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        };
        let p: Vec<char> = pattern.chars().map(fold).collect();
        let t: Vec<char> = truncate(text).chars().map(fold).collect();
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p.get(pi..).is_some_and(|r| r.iter().all(|c| *c == '*'))
    }

    #[test]
    fn glob_fast_path_agrees_with_the_reference() {
        let patterns = [
            "",
            "*",
            "**",
            "?",
            "a",
            "A",
            "a*",
            "*a",
            "*a*",
            "a?c",
            "A?C",
            "*?",
            "?*",
            "ge medical*",
            "GE MEDICAL*",
            "*IntelliVue*",
            "*.*.*",
            "dicom.*",
            "tls.*",
            "*_name",
            "x*y*z",
            "Ä*",
            "*ü?",
            "straße*",
            "*İ*",
            "?\u{1F600}?",
        ];
        let mut texts: Vec<String> = [
            "",
            "a",
            "A",
            "abc",
            "ABC",
            "abbc",
            "ac",
            "GE Medical Systems",
            "ge medical",
            "PHILIPS_IntelliVue_IIC",
            "1.2.3",
            "dicom.ae_title",
            "tls.sni",
            "host_name",
            "xyz",
            "xaybzc",
            "Äpfel",
            "äpfel",
            "Müller",
            "STRASSE",
            "straße 5",
            "İstanbul",
            "istanbul",
            "a\u{1F600}b",
            "*?",
            "a*b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        texts.push("a".repeat(1500));
        texts.push(format!("{}b", "a".repeat(1023)));
        texts.push(format!("{}é", "a".repeat(1023)));
        for p in patterns {
            for t in &texts {
                for cs in [false, true] {
                    assert_eq!(
                        glob_match(p, t, cs),
                        glob_reference(p, t, cs),
                        "pattern {p:?} text {t:?} case_sensitive {cs}"
                    );
                }
            }
        }
    }

    #[test]
    fn builtin_rules_load() {
        let r = Rules::builtin().unwrap();
        assert!(r.rules().len() >= 40, "only {} rules", r.rules().len());
        assert!(r.canonical_vendor("GE MEDICAL SYSTEMS").is_some());
    }

    #[test]
    fn uid_root_matches_whole_components_and_versions_expand() {
        let r = Rules::builtin().unwrap();
        let hits = r.classify(
            "dicom.implementation_class_uid",
            "1.2.276.0.7230010.3.0.3.6.7",
        );
        assert!(
            hits.iter()
                .any(|h| h.outputs.contains(&(AttrKind::Software, "DCMTK".into()))),
            "{hits:?}"
        );
        // Same digits, different component: must not match.
        let hits = r.classify("dicom.implementation_class_uid", "1.2.276.0.72300100.1");
        assert!(hits
            .iter()
            .all(|h| h.rule.spec.id != "dicom.impl-uid.dcmtk"));
        let hits = r.classify("dicom.implementation_version", "PYNETDICOM_304");
        assert!(
            hits.iter().any(|h| h
                .outputs
                .contains(&(AttrKind::SoftwareVersion, "pynetdicom 304".into()))),
            "{hits:?}"
        );
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let text = "[[rule]]\nid = \"x\"\nkey = \"k\"\nconfidence = oops\n";
        let e = parse_rule_file_checked("user.toml", text).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("user.toml:4:"), "{msg}");
        let unknown =
            "[[rule]]\nid = \"x\"\nkey = \"k\"\nequals = \"a\"\nconfidence = 0.5\nvendr = \"V\"\n";
        let e = parse_rule_file_checked("u.toml", unknown).unwrap_err();
        assert!(e.to_string().contains("u.toml:"), "{e}");
        assert!(e.to_string().contains("vendr"), "{e}");
    }

    #[test]
    fn invalid_rules_are_rejected_with_their_id() {
        let cases = [
            (
                "[[rule]]\nid='a'\nkey='k'\nconfidence=0.5\nvendor='V'\n",
                "exactly one",
            ),
            (
                "[[rule]]\nid='a'\nkey='k'\nequals='x'\nprefix='y'\nconfidence=0.5\nvendor='V'\n",
                "exactly one",
            ),
            (
                "[[rule]]\nid='a'\nkey='k'\nequals='x'\nconfidence=1.5\nvendor='V'\n",
                "between 0 and 1",
            ),
            (
                "[[rule]]\nid='a'\nkey='k'\nequals='x'\nconfidence=0.5\ncategory='toaster'\n",
                "toaster",
            ),
            (
                "[[rule]]\nid='a'\nkey='k'\nequals='x'\nconfidence=0.5\n",
                "at least one",
            ),
            (
                "[[rule]]\nid='a'\nkey='k'\nuid_root='1.2.x'\nconfidence=0.5\nvendor='V'\n",
                "uid_root",
            ),
        ];
        for (text, needle) in cases {
            let e = parse_rule_file_checked("bad.toml", text)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("bad.toml") && e.contains(needle),
                "{e} should mention {needle}"
            );
        }
        let dup = "[[rule]]\nid='a'\nkey='k'\nany=true\nconfidence=0.5\nvendor='V'\n\
                   [[rule]]\nid='a'\nkey='k'\nany=true\nconfidence=0.5\nvendor='W'\n";
        assert!(matches!(
            parse_rule_file_checked("d.toml", dup),
            Err(RuleError::Duplicate { .. })
        ));
    }

    #[test]
    fn user_directory_overrides_and_extends_builtin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("site.toml"),
            "# Source: our biomed team's asset list\n\
             [[rule]]\nid = \"site.pump-gateway\"\nkey = \"hl7.sending_application\"\n\
             equals = \"PUMPGW\"\ncategory = \"infusion_pump\"\nvendor = \"Acme\"\nconfidence = 0.9\n\
             # Source: replaces the built-in\n\
             [[rule]]\nid = \"dicom.impl-uid.dcmtk\"\nkey = \"dicom.implementation_class_uid\"\n\
             uid_root = \"1.2.276.0.7230010.3\"\nsoftware = \"DCMTK (site)\"\nconfidence = 0.5\n\
             [[oui]]\nprefix = \"02:00:00\"\norganization = \"Lab VMs\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("ignored.txt"), "not toml at all [[[").unwrap();
        let builtin = Rules::builtin().unwrap();
        let r = Rules::load_dir(dir.path()).unwrap();
        assert_eq!(r.rules().len(), builtin.rules().len() + 1);
        let hits = r.classify("hl7.sending_application", "pumpgw");
        let site = hits
            .iter()
            .find(|h| h.rule.spec.id == "site.pump-gateway")
            .unwrap();
        assert!(site
            .outputs
            .contains(&(AttrKind::Category, "infusion_pump".into())));
        assert_eq!(
            site.rule.file,
            dir.path().join("site.toml").display().to_string()
        );
        assert_eq!(
            r.rule("dicom.impl-uid.dcmtk")
                .unwrap()
                .spec
                .software
                .as_deref(),
            Some("DCMTK (site)")
        );
        // A broken user file fails loudly, naming the file.
        std::fs::write(dir.path().join("zz-broken.toml"), "[[rule]\n").unwrap();
        let e = Rules::load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("zz-broken.toml:1:"), "{e}");
    }

    #[test]
    fn fallback_rules_apply_only_alone() {
        let text = "[[rule]]\nid='specific'\nkey='smb.native_os'\nprefix='Windows 5.1'\nos='Windows XP'\nconfidence=0.85\n\
                    [[rule]]\nid='generic'\nkey='smb.native_os'\nany=true\nfallback=true\nos='{value}'\nconfidence=0.6\n";
        let mut r = Rules::empty();
        r.add_file("t.toml", text).unwrap();
        let hits = r.classify("smb.native_os", "Windows 5.1");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].rule.spec.id, "specific");
        let hits = r.classify("smb.native_os", "Unix");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].outputs, vec![(AttrKind::Os, "Unix".to_string())]);
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let seedtext = BUILTIN_RULE_FILES
            .iter()
            .map(|(_, t)| *t)
            .collect::<Vec<_>>()
            .join("\n");
        let bytes = seedtext.as_bytes();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut v = bytes.to_vec();
            let n = v.len();
            for k in 0..4 {
                let pos = ((seed >> (k * 8)) as usize) % n;
                v[pos] = (seed >> (k * 5)) as u8;
            }
            let cut = (seed as usize >> 3) % n;
            let text = String::from_utf8_lossy(&v[..cut]);
            let _ = parse_rule_file_checked("fuzz.toml", &text);
        }
    }
}
