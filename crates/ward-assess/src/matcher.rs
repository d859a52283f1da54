//! Matching assets against intel, through indexes (never a scan of every advisory per
//! device, nor of every device per advisory).
//!
//! Each advisory product (CSAF product, OSV affected package) is compiled once into a
//! [`ProductRule`]: the vendor keys (alias table), the product-name tokens and model
//! numbers, the identifiers (CPE vendor:product, PURL type/namespace/name, serials,
//! helper model numbers) and the version predicate. [`MatchIndex`] maps each key to the
//! rules holding it; a device looks up its own keys and checks only those candidates.
//! [`AssetIndex`] is the reverse map, so one new advisory is checked against only the
//! devices that share a key with it.

use crate::alias::{is_model_token, tokens, vendor_tokens, VendorAliases};
use crate::asset::Asset;
use crate::finding::{Confidence, Finding, MatchReason, VersionCheck, VexApplied};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use ward_intel::cpe::Cpe;
use ward_intel::purl::Purl;
use ward_intel::version::{compare, parse_predicate, VersionPredicate, VersionScheme};
use ward_intel::{Advisory, OsvEvent, OsvRecord, Remediation, SbomDocument, Score};

/// Words that do not identify a product.
const PRODUCT_STOPWORDS: &[&str] = &[
    "model",
    "models",
    "series",
    "the",
    "and",
    "with",
    "of",
    "for",
    "including",
    "version",
    "versions",
    "all",
    "system",
    "systems",
    "device",
    "devices",
    "software",
    "firmware",
    "a",
    "an",
    "in",
    "on",
    "v",
];

/// Product-name tokens: normalised, stopwords and vendor words removed.
pub fn product_tokens(name: &str, vendor_words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tokens(name)
        .into_iter()
        .filter(|t| !PRODUCT_STOPWORDS.contains(&t.as_str()) && !vendor_words.contains(t))
        // Version fragments written into product names ("IntelliSpace Portal 8.0.x").
        .filter(|t| !(t == "x" || (t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit()))))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where a product rule came from.
#[derive(Debug, Clone)]
pub struct SourceMeta {
    pub kind: &'static str,
    pub id: String,
    pub title: Option<String>,
}

/// One vulnerability a product rule is listed under.
#[derive(Debug, Clone)]
pub struct RuleVuln {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    pub title: Option<String>,
    /// The CSAF product status list ("known_affected"...), or "affected" for OSV.
    pub status: &'static str,
    /// Affected (true) or fixed / not affected (false).
    pub positive: bool,
    pub scores: Arc<Vec<Score>>,
    pub remediations: Arc<Vec<Remediation>>,
    /// For known_not_affected: the CSAF flag label (VEX justification) of the product.
    pub justification: Option<String>,
}

/// Product status lists that say a product is not (or no longer) vulnerable: a device
/// matching such a product suppresses the same vulnerability's findings on it.
const NEGATIVE_LISTS: &[&str] = &["fixed", "first_fixed", "known_not_affected"];

/// How versions are checked for a rule.
#[derive(Debug, Clone)]
pub enum VersionRule {
    /// A predicate as advisories write it (CSAF product_version / _range).
    Predicate {
        raw: String,
        parsed: Option<VersionPredicate>,
    },
    /// OSV ranges and versions.
    Osv {
        raw: String,
        intervals: Vec<OsvInterval>,
        versions: Vec<String>,
    },
    /// CVE JSON 5 `affected[].versions[]` entries with the entry's `defaultStatus`.
    Cve {
        raw: String,
        entries: Vec<CveEntry>,
        default_status: Option<String>,
    },
    /// The advisory names no version: the product as a whole.
    Unspecified,
}

/// One CVE JSON 5 version entry, compiled.
#[derive(Debug, Clone)]
pub struct CveEntry {
    /// The entry as written ("0 <= 1.52 (custom): affected").
    pub text: String,
    /// `None` when the entry cannot be read as a version predicate.
    pub predicate: Option<VersionPredicate>,
    /// affected, unaffected or unknown.
    pub status: String,
    /// `changes[]`: (at, status) pairs, status from `at` on within the range.
    pub changes: Vec<(String, String)>,
    /// `None` for versionType "git" (commit ids cannot be ordered).
    pub scheme: Option<VersionScheme>,
}

/// The version scheme of a CVE 5 `versionType` ("custom" and absent: generic).
fn cve_version_scheme(version_type: Option<&str>) -> Option<VersionScheme> {
    match version_type.map(str::to_ascii_lowercase).as_deref() {
        Some("git") => None,
        Some("python") => Some(VersionScheme::Pypi),
        Some("custom") | None => Some(VersionScheme::Generic),
        Some(other) => Some(VersionScheme::from_vers_scheme(other)),
    }
}

/// Values CVE records put in vendor / product when there is none.
fn cve_placeholder(s: Option<&str>) -> bool {
    s.is_none_or(|s| {
        matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "" | "n/a" | "na" | "unknown" | "unspecified" | "-"
        )
    })
}

/// A compiled advisory product.
#[derive(Debug, Clone)]
pub struct ProductRule {
    pub source: usize,
    pub product_id: Option<String>,
    pub product_name: String,
    pub vendor: Option<String>,
    pub vendor_keys: Vec<String>,
    pub name_tokens: Vec<String>,
    pub model_tokens: Vec<String>,
    pub helper_models: Vec<String>,
    pub serials: Vec<String>,
    pub cpe: Option<(String, String)>,
    pub cpe_raw: Option<String>,
    pub purl_key: Option<(String, Option<String>, String)>,
    pub purl_raw: Option<String>,
    pub version: VersionRule,
    pub scheme: VersionScheme,
    pub vulns: Vec<RuleVuln>,
}

type PurlKey = (String, Option<String>, String);

/// An OSV interval: (introduced, (bound, inclusive)); `None` for open ends.
pub type OsvInterval = (Option<String>, Option<(String, bool)>);

/// The index of compiled advisory products.
#[derive(Debug, Default)]
pub struct MatchIndex {
    pub sources: Vec<SourceMeta>,
    pub rules: Vec<ProductRule>,
    by_vendor_token: HashMap<(String, String), Vec<u32>>,
    by_cpe: HashMap<(String, String), Vec<u32>>,
    by_purl: HashMap<PurlKey, Vec<u32>>,
    by_serial: HashMap<String, Vec<u32>>,
    by_helper_model: HashMap<String, Vec<u32>>,
    aliases: Option<VendorAliases>,
}

fn cpe_key(s: &str) -> Option<(String, String)> {
    let c = Cpe::parse(s).ok()?;
    let v = c.vendor.unquoted()?.to_ascii_lowercase();
    let p = c.product.unquoted()?.to_ascii_lowercase();
    Some((v, p))
}

fn cpe_version(s: &str) -> Option<String> {
    let c = Cpe::parse(s).ok()?;
    c.version.unquoted()
}

fn purl_key(s: &str) -> Option<PurlKey> {
    Purl::parse(s).ok().map(|p| p.package_key())
}

/// OSV ecosystem name -> purl type.
fn ecosystem_purl_type(eco: &str) -> Option<&'static str> {
    let base = eco.split(':').next().unwrap_or(eco);
    Some(match base {
        "npm" => "npm",
        "PyPI" => "pypi",
        "Maven" => "maven",
        "NuGet" => "nuget",
        "Go" => "golang",
        "crates.io" => "cargo",
        "RubyGems" => "gem",
        "Packagist" => "composer",
        "Hex" => "hex",
        "Pub" => "pub",
        "Debian" => "deb",
        "Alpine" => "apk",
        "GitHub Actions" => "github",
        _ => return None,
    })
}

fn norm_id(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl MatchIndex {
    /// An empty index using the built-in vendor alias table.
    pub fn new() -> Self {
        MatchIndex {
            aliases: Some(VendorAliases::standard()),
            ..Default::default()
        }
    }

    pub fn aliases(&self) -> VendorAliases {
        self.aliases.clone().unwrap_or_else(VendorAliases::standard)
    }

    fn push_rule(&mut self, rule: ProductRule) {
        let i = self.rules.len() as u32;
        for vk in &rule.vendor_keys {
            for t in &rule.name_tokens {
                self.by_vendor_token
                    .entry((vk.clone(), t.clone()))
                    .or_default()
                    .push(i);
            }
        }
        if let Some(k) = &rule.cpe {
            self.by_cpe.entry(k.clone()).or_default().push(i);
        }
        if let Some(k) = &rule.purl_key {
            self.by_purl.entry(k.clone()).or_default().push(i);
        }
        for s in &rule.serials {
            self.by_serial.entry(norm_id(s)).or_default().push(i);
        }
        for m in &rule.helper_models {
            self.by_helper_model.entry(norm_id(m)).or_default().push(i);
        }
        self.rules.push(rule);
    }

    /// Compiles and indexes every product of a CSAF advisory. Returns the rule ids added.
    pub fn add_advisory(&mut self, adv: &Advisory) -> std::ops::Range<usize> {
        let aliases = self.aliases();
        let start = self.rules.len();
        let source = self.sources.len();
        self.sources.push(SourceMeta {
            kind: "csaf",
            id: adv.tracking_id.clone(),
            title: Some(adv.title.clone()),
        });
        for p in &adv.products {
            let mut vulns = Vec::new();
            for v in &adv.vulnerabilities {
                let id = v
                    .cve
                    .clone()
                    .or_else(|| v.ids.first().map(|i| i.text.clone()))
                    .unwrap_or_else(|| {
                        format!(
                            "{}#{}",
                            adv.tracking_id,
                            v.title.clone().unwrap_or_default()
                        )
                    });
                for (list, pid) in v.product_status.entries() {
                    if pid != &p.id {
                        continue;
                    }
                    let positive = matches!(
                        list,
                        "known_affected"
                            | "first_affected"
                            | "last_affected"
                            | "under_investigation"
                    );
                    let scores: Vec<Score> = v
                        .scores
                        .iter()
                        .filter(|s| s.products.is_empty() || s.products.contains(&p.id))
                        .cloned()
                        .collect();
                    let remediations: Vec<Remediation> = v
                        .remediations
                        .iter()
                        .filter(|r| r.product_ids.is_empty() || r.product_ids.contains(&p.id))
                        .cloned()
                        .collect();
                    let justification = v
                        .flags
                        .iter()
                        .find(|f| f.product_ids.contains(&p.id))
                        .map(|f| f.label.clone());
                    vulns.push(RuleVuln {
                        vulnerability: id.clone(),
                        aliases: v.ids.iter().map(|i| i.text.clone()).collect(),
                        title: v.title.clone(),
                        status: list,
                        positive,
                        scores: Arc::new(scores),
                        remediations: Arc::new(remediations),
                        justification,
                    });
                }
            }
            if vulns.is_empty() {
                continue;
            }
            let vendor = p.vendor.clone();
            let vendor_keys = vendor
                .as_deref()
                .map(|v| aliases.keys(v))
                .unwrap_or_default();
            let mut vendor_words: Vec<String> =
                vendor.as_deref().map(vendor_tokens).unwrap_or_default();
            for k in &vendor_keys {
                vendor_words.extend(k.split(' ').map(str::to_string));
            }
            let pname = p.product_name.clone().unwrap_or_else(|| p.name.clone());
            let name_tokens = product_tokens(&pname, &vendor_words);
            let model_tokens = name_tokens
                .iter()
                .filter(|t| is_model_token(t))
                .cloned()
                .collect();
            // first_affected / last_affected / first_fixed give one version meaning a bound.
            let raw = p.version_range.clone().or_else(|| p.version.clone());
            let list_of = |want: &str| vulns.iter().any(|v| v.status == want);
            let raw = match (&raw, &p.version) {
                (Some(_), Some(v)) if p.version_range.is_none() && list_of("first_affected") => {
                    Some(format!(">= {v}"))
                }
                (Some(_), Some(v)) if p.version_range.is_none() && list_of("last_affected") => {
                    Some(format!("<= {v}"))
                }
                (Some(_), Some(v)) if p.version_range.is_none() && list_of("first_fixed") => {
                    Some(format!(">= {v}"))
                }
                _ => raw,
            };
            let version = match raw {
                Some(r) => VersionRule::Predicate {
                    parsed: parse_predicate(&r).ok(),
                    raw: r,
                },
                None => VersionRule::Unspecified,
            };
            let ids = &p.identifiers;
            let purl_raw = ids.purl.clone();
            let scheme = purl_raw
                .as_deref()
                .and_then(|s| Purl::parse(s).ok())
                .map(|p| p.version_scheme())
                .unwrap_or(VersionScheme::Generic);
            self.push_rule(ProductRule {
                source,
                product_id: Some(p.id.clone()),
                product_name: p.name.clone(),
                vendor,
                vendor_keys,
                name_tokens,
                model_tokens,
                helper_models: ids.model_numbers.clone(),
                serials: ids.serial_numbers.clone(),
                cpe: ids.cpe.as_deref().and_then(cpe_key),
                cpe_raw: ids.cpe.clone(),
                purl_key: purl_raw.as_deref().and_then(purl_key),
                purl_raw,
                version,
                scheme,
                vulns,
            });
        }
        start..self.rules.len()
    }

    /// Indexes the packages of an OSV record (matched against SBOM component PURLs).
    pub fn add_osv(&mut self, rec: &OsvRecord) -> std::ops::Range<usize> {
        let start = self.rules.len();
        if rec.withdrawn.is_some() {
            return start..start;
        }
        let source = self.sources.len();
        self.sources.push(SourceMeta {
            kind: "osv",
            id: rec.id.clone(),
            title: rec.summary.clone(),
        });
        let cve = std::iter::once(&rec.id)
            .chain(rec.aliases.iter())
            .find(|a| a.starts_with("CVE-"))
            .cloned()
            .unwrap_or_else(|| rec.id.clone());
        let scores: Vec<Score> = rec
            .severity
            .iter()
            .filter_map(|(ty, vector)| {
                let version = match ty.as_str() {
                    "CVSS_V4" => ward_intel::CvssVersion::V40,
                    "CVSS_V3" if vector.starts_with("CVSS:3.0") => ward_intel::CvssVersion::V30,
                    "CVSS_V3" => ward_intel::CvssVersion::V31,
                    _ => return None,
                };
                Some(Score {
                    version,
                    vector: vector.clone(),
                    base_score: None,
                    base_severity: None,
                    products: Vec::new(),
                    source: Some(rec.id.clone()),
                })
            })
            .collect();
        for a in &rec.affected {
            let key = a.purl.as_deref().and_then(purl_key).or_else(|| {
                let ty = ecosystem_purl_type(a.ecosystem.as_deref()?)?;
                let name = a.name.as_deref()?;
                let s = match ty {
                    "maven" => name.replacen(':', "/", 1),
                    _ => name.to_string(),
                };
                purl_key(&format!("pkg:{ty}/{s}"))
            });
            let Some(key) = key else { continue };
            let scheme = VersionScheme::from_vers_scheme(&key.0);
            let mut intervals = Vec::new();
            for r in &a.ranges {
                if r.range_type.eq_ignore_ascii_case("git") {
                    continue;
                }
                let mut intro: Option<String> = None;
                for e in r.events.iter().take(1000) {
                    match e {
                        OsvEvent::Introduced(v) => {
                            intro = Some(v.clone());
                        }
                        OsvEvent::Fixed(v) | OsvEvent::Limit(v) => {
                            intervals.push((intro.take(), Some((v.clone(), false))));
                        }
                        OsvEvent::LastAffected(v) => {
                            intervals.push((intro.take(), Some((v.clone(), true))));
                        }
                    }
                }
                if intro.is_some() {
                    intervals.push((intro, None));
                }
            }
            let raw = describe_osv(&intervals, &a.versions);
            let name = a.name.clone().unwrap_or_else(|| key.2.clone());
            self.push_rule(ProductRule {
                source,
                product_id: None,
                product_name: name,
                vendor: None,
                vendor_keys: Vec::new(),
                name_tokens: Vec::new(),
                model_tokens: Vec::new(),
                helper_models: Vec::new(),
                serials: Vec::new(),
                cpe: None,
                cpe_raw: None,
                purl_key: Some(key),
                purl_raw: a.purl.clone(),
                version: VersionRule::Osv {
                    raw,
                    intervals,
                    versions: a.versions.clone(),
                },
                scheme,
                vulns: vec![RuleVuln {
                    vulnerability: cve.clone(),
                    aliases: std::iter::once(rec.id.clone())
                        .chain(rec.aliases.iter().cloned())
                        .filter(|x| x != &cve)
                        .collect(),
                    title: rec.summary.clone(),
                    status: "affected",
                    positive: true,
                    scores: Arc::new(scores.clone()),
                    remediations: Arc::new(Vec::new()),
                    justification: None,
                }],
            });
        }
        start..self.rules.len()
    }

    /// Compiles and indexes the `affected` entries of a CVE JSON 5 record (the CNA
    /// container and every ADP container): vendor and product names through the alias
    /// table, `cpes` as identifiers, `versions` with their ranges, `changes` and the
    /// entry's `defaultStatus`. Entries whose vendor and product are placeholders ("n/a")
    /// and carry no CPE are skipped: nothing identifies a device in them.
    pub fn add_cve(&mut self, rec: &ward_intel::CveRecord) -> std::ops::Range<usize> {
        let start = self.rules.len();
        if rec.state.eq_ignore_ascii_case("REJECTED") {
            return start..start;
        }
        let aliases = self.aliases();
        let source = self.sources.len();
        let title = rec
            .cna
            .title
            .clone()
            .or_else(|| rec.cna.description.clone());
        self.sources.push(SourceMeta {
            kind: "cve5",
            id: rec.id.clone(),
            title: title.clone(),
        });
        let scores: Arc<Vec<Score>> = Arc::new(
            std::iter::once(&rec.cna)
                .chain(rec.adp.iter())
                .flat_map(|c| c.metrics.iter().cloned())
                .collect(),
        );
        for (container, aff) in std::iter::once(&rec.cna)
            .chain(rec.adp.iter())
            .flat_map(|c| c.affected.iter().map(move |a| (c, a)))
        {
            let cpe_raw = aff.cpes.iter().find(|c| cpe_key(c).is_some()).cloned();
            let placeholder =
                cve_placeholder(aff.vendor.as_deref()) && cve_placeholder(aff.product.as_deref());
            if placeholder && cpe_raw.is_none() {
                continue;
            }
            let vendor = aff.vendor.clone().filter(|v| !cve_placeholder(Some(v)));
            let vendor_keys = vendor
                .as_deref()
                .map(|v| aliases.keys(v))
                .unwrap_or_default();
            let mut vendor_words: Vec<String> =
                vendor.as_deref().map(vendor_tokens).unwrap_or_default();
            for k in &vendor_keys {
                vendor_words.extend(k.split(' ').map(str::to_string));
            }
            let pname = aff
                .product
                .clone()
                .filter(|p| !cve_placeholder(Some(p)))
                .or_else(|| aff.package_name.clone())
                .unwrap_or_default();
            let name_tokens = product_tokens(&pname, &vendor_words);
            let model_tokens = name_tokens
                .iter()
                .filter(|t| is_model_token(t))
                .cloned()
                .collect();
            let mut entries = Vec::new();
            for v in aff.versions.iter().take(1000) {
                let predicate = ward_intel::version::cve5_predicate(
                    &v.version,
                    v.less_than.as_deref(),
                    v.less_than_or_equal.as_deref(),
                )
                .ok();
                let range = match (&v.less_than, &v.less_than_or_equal) {
                    (Some(lt), _) => format!("{} to < {lt}", v.version),
                    (None, Some(le)) => format!("{} to <= {le}", v.version),
                    (None, None) => v.version.clone(),
                };
                let vt = v.version_type.as_deref().unwrap_or("unspecified");
                entries.push(CveEntry {
                    text: format!("{range} ({vt}): {}", v.status),
                    predicate,
                    status: v.status.to_ascii_lowercase(),
                    changes: v.changes.clone(),
                    scheme: cve_version_scheme(v.version_type.as_deref()),
                });
            }
            let default_status = aff.default_status.as_ref().map(|d| d.to_ascii_lowercase());
            let mut raw: Vec<String> = entries.iter().map(|e| e.text.clone()).collect();
            if let Some(d) = &default_status {
                raw.push(format!("default {d}"));
            }
            let scheme = aff
                .versions
                .first()
                .and_then(|v| cve_version_scheme(v.version_type.as_deref()))
                .unwrap_or(VersionScheme::Generic);
            let product_name = if pname.is_empty() {
                cpe_raw.clone().unwrap_or_default()
            } else {
                pname.clone()
            };
            self.push_rule(ProductRule {
                source,
                product_id: Some(format!("{}:{}", container.provider, product_name)),
                product_name,
                vendor,
                vendor_keys,
                name_tokens,
                model_tokens,
                helper_models: Vec::new(),
                serials: Vec::new(),
                cpe: cpe_raw.as_deref().and_then(cpe_key),
                cpe_raw,
                purl_key: None,
                purl_raw: None,
                version: VersionRule::Cve {
                    raw: raw.join("; "),
                    entries,
                    default_status,
                },
                scheme,
                vulns: vec![RuleVuln {
                    vulnerability: rec.id.clone(),
                    aliases: Vec::new(),
                    title: title.clone(),
                    status: "affected",
                    positive: true,
                    scores: scores.clone(),
                    remediations: Arc::new(Vec::new()),
                    justification: None,
                }],
            });
        }
        start..self.rules.len()
    }

    /// Builds an index over everything matchable in the given intel.
    pub fn build(advisories: &[Advisory], osv: &[&OsvRecord]) -> Self {
        let mut idx = MatchIndex::new();
        for a in advisories {
            idx.add_advisory(a);
        }
        for o in osv {
            idx.add_osv(o);
        }
        idx
    }

    /// The candidate rules for an asset, through the indexes.
    fn candidates(&self, keys: &AssetKeys) -> BTreeSet<u32> {
        let mut out = BTreeSet::new();
        if let Some(vk) = &keys.vendor_key {
            for t in &keys.model_tokens {
                if let Some(v) = self.by_vendor_token.get(&(vk.clone(), t.clone())) {
                    out.extend(v.iter().copied());
                }
            }
        }
        for c in &keys.cpes {
            if let Some(v) = self.by_cpe.get(c) {
                out.extend(v.iter().copied());
            }
        }
        for p in &keys.purls {
            if let Some(v) = self.by_purl.get(p) {
                out.extend(v.iter().copied());
            }
        }
        if let Some(s) = &keys.serial {
            if let Some(v) = self.by_serial.get(s) {
                out.extend(v.iter().copied());
            }
        }
        for m in &keys.model_ids {
            if let Some(v) = self.by_helper_model.get(m) {
                out.extend(v.iter().copied());
            }
        }
        out
    }

    /// Every finding for one asset (device-level and its SBOM components).
    pub fn match_asset(&self, asset: &Asset) -> Vec<Finding> {
        let keys = AssetKeys::of(asset, self.aliases.as_ref());
        self.match_asset_keys(asset, keys)
    }

    fn match_asset_keys(&self, asset: &Asset, keys: AssetKeys) -> Vec<Finding> {
        let mut out = Vec::new();
        for r in self.candidates(&keys) {
            if let Some(rule) = self.rules.get(r as usize) {
                self.check_device_rule(asset, &keys, rule, &mut out);
            }
        }
        for c in &asset.components {
            let mut ck = AssetKeys::default();
            if let Some(k) = c.purl.as_deref().and_then(purl_key) {
                ck.purls.push(k);
            }
            for cpe in c.cpe.iter().chain(c.other_cpes.iter()) {
                if let Some(k) = cpe_key(cpe) {
                    ck.cpes.push(k);
                }
            }
            for r in self.candidates(&ck) {
                if let Some(rule) = self.rules.get(r as usize) {
                    self.check_component_rule(asset, c, rule, &mut out);
                }
            }
        }
        apply_negatives(&mut out);
        dedup_findings(&mut out);
        out
    }

    /// Matches every asset, in parallel over the available cores.
    pub fn match_all(&self, assets: &[Asset]) -> Vec<Finding> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .max(1);
        let chunk = assets.len().div_ceil(threads).max(1);
        let mut parts: Vec<Vec<Finding>> = Vec::new();
        std::thread::scope(|s| {
            let handles: Vec<_> = assets
                .chunks(chunk)
                .map(|c| {
                    s.spawn(move || {
                        // Fleets share vendor and model: their keys are computed once.
                        let mut cache = KeyCache::default();
                        c.iter()
                            .flat_map(|a| {
                                let keys = cache.keys(a, self.aliases.as_ref());
                                self.match_asset_keys(a, keys)
                            })
                            .collect()
                    })
                })
                .collect();
            for h in handles {
                parts.push(h.join().unwrap_or_default());
            }
        });
        parts.into_iter().flatten().collect()
    }

    fn check_device_rule(
        &self,
        asset: &Asset,
        keys: &AssetKeys,
        rule: &ProductRule,
        out: &mut Vec<Finding>,
    ) {
        let mut reasons = Vec::new();
        // Identity: the strongest of identifier, model number, name.
        let mut identity: Option<Identity> = None;
        if let (Some(s), Some(sa)) = (&keys.serial, &asset.serial) {
            if rule.serials.iter().any(|x| &norm_id(x) == s) {
                identity = Some(Identity::Identifier);
                reasons.push(reason(
                    "serial",
                    "serial",
                    sa,
                    "product_identification_helper serial_numbers",
                    &rule.serials.join(", "),
                ));
            }
        }
        if identity.is_none() {
            if let Some(ck) = &rule.cpe {
                if keys.cpes.contains(ck) {
                    identity = Some(Identity::Identifier);
                    let v = asset.cpes.join(", ");
                    reasons.push(MatchReason {
                        rule: "cpe".into(),
                        attribute: "cpe".into(),
                        value: v,
                        evidence: "asset CPE".into(),
                        advisory_field: "product_identification_helper cpe".into(),
                        advisory_value: rule.cpe_raw.clone().unwrap_or_default(),
                    });
                }
            }
        }
        if identity.is_none() {
            if let Some(pk) = &rule.purl_key {
                if keys.purls.contains(pk) {
                    identity = Some(Identity::Identifier);
                    reasons.push(MatchReason {
                        rule: "purl".into(),
                        attribute: "purl".into(),
                        value: asset.purls.join(", "),
                        evidence: "asset PURL".into(),
                        advisory_field: "product_identification_helper purl".into(),
                        advisory_value: rule.purl_raw.clone().unwrap_or_default(),
                    });
                }
            }
        }
        if identity.is_none() && !rule.helper_models.is_empty() {
            if let Some(m) = &asset.model {
                if rule
                    .helper_models
                    .iter()
                    .any(|x| keys.model_ids.contains(&norm_id(x)))
                {
                    identity = Some(Identity::Identifier);
                    reasons.push(reason(
                        "helper_model_number",
                        "model",
                        m,
                        "product_identification_helper model_numbers",
                        &rule.helper_models.join(", "),
                    ));
                }
            }
        }
        let vendor_ok = keys
            .vendor_key
            .as_ref()
            .is_some_and(|vk| rule.vendor_keys.contains(vk));
        if identity.is_none() && vendor_ok {
            if let Some(m) = &asset.model {
                let d = &keys.model_tokens;
                let p = &rule.name_tokens;
                let d_in_p = !d.is_empty() && d.iter().all(|t| p.contains(t));
                let p_in_d = !p.is_empty() && p.iter().all(|t| d.contains(t));
                let dm: Vec<&String> = d.iter().filter(|t| is_model_token(t)).collect();
                let pm: Vec<&String> = rule.model_tokens.iter().collect();
                let models_agree = !dm.is_empty() && dm == pm;
                let (id, rule_name) = if models_agree && (d_in_p || p_in_d) {
                    (Identity::ModelNumber, "model_number")
                } else if p_in_d {
                    (Identity::Name, "product_name")
                } else if d_in_p {
                    (Identity::Partial, "product_name_partial")
                } else {
                    return;
                };
                identity = Some(id);
                reasons.push(reason(
                    rule_name,
                    "model",
                    m,
                    "product_name",
                    &rule.product_name,
                ));
            }
        }
        let Some(identity) = identity else { return };
        let name_distance = match identity {
            Identity::Identifier => 0,
            _ => {
                let d = &keys.model_tokens;
                let p = &rule.name_tokens;
                (d.iter().filter(|t| !p.contains(t)).count()
                    + p.iter().filter(|t| !d.contains(t)).count()) as u32
            }
        };
        if vendor_ok {
            if let Some(v) = &asset.vendor {
                reasons.insert(
                    0,
                    reason(
                        "vendor_alias",
                        "vendor",
                        v,
                        "product_tree vendor",
                        rule.vendor.as_deref().unwrap_or(""),
                    ),
                );
            }
        }
        let (installed, installed_ev) = match asset.versions.first() {
            Some((_, a)) => (Some(a.value.clone()), Some(a.evidence.clone())),
            None => (None, None),
        };
        self.emit(
            asset,
            None,
            rule,
            (identity, name_distance),
            installed,
            installed_ev,
            reasons,
            out,
        );
    }

    fn check_component_rule(
        &self,
        asset: &Asset,
        c: &ward_intel::Component,
        rule: &ProductRule,
        out: &mut Vec<Finding>,
    ) {
        let mut reasons = Vec::new();
        let cp = c.purl.as_deref().and_then(purl_key);
        let mut installed = c.version.clone();
        if rule.purl_key.is_some() && cp == rule.purl_key {
            reasons.push(MatchReason {
                rule: "purl".into(),
                attribute: "component purl".into(),
                value: c.purl.clone().unwrap_or_default(),
                evidence: format!("SBOM component {}", c.bom_ref.as_deref().unwrap_or(&c.name)),
                advisory_field: "affected package".into(),
                advisory_value: rule.purl_raw.clone().unwrap_or_else(|| {
                    rule.purl_key
                        .as_ref()
                        .map(|k| format!("{}/{}", k.0, k.2))
                        .unwrap_or_default()
                }),
            });
            if installed.is_none() {
                installed = c
                    .purl
                    .as_deref()
                    .and_then(|p| Purl::parse(p).ok())
                    .and_then(|p| p.version);
            }
        } else if let Some(ck) = &rule.cpe {
            let hit = c
                .cpe
                .iter()
                .chain(c.other_cpes.iter())
                .find(|x| cpe_key(x).as_ref() == Some(ck));
            let Some(hit) = hit else { return };
            reasons.push(MatchReason {
                rule: "cpe".into(),
                attribute: "component cpe".into(),
                value: hit.clone(),
                evidence: format!("SBOM component {}", c.bom_ref.as_deref().unwrap_or(&c.name)),
                advisory_field: "cpe".into(),
                advisory_value: rule.cpe_raw.clone().unwrap_or_default(),
            });
            if installed.is_none() {
                installed = cpe_version(hit);
            }
        } else {
            return;
        }
        self.emit(
            asset,
            Some(c),
            rule,
            (Identity::Identifier, 0),
            installed,
            Some(format!("SBOM component version of {}", c.name)),
            reasons,
            out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        asset: &Asset,
        component: Option<&ward_intel::Component>,
        rule: &ProductRule,
        (identity, name_distance): (Identity, u32),
        installed: Option<String>,
        installed_ev: Option<String>,
        reasons: Vec<MatchReason>,
        out: &mut Vec<Finding>,
    ) {
        let (result, affected, explanation, all_versions) =
            check_version(&rule.version, installed.as_deref(), rule.scheme);
        if result == Some(false) {
            return;
        }
        let confidence = match (result, identity) {
            (None, _) | (_, Identity::Partial) => Confidence::Possible,
            (Some(true), Identity::Identifier | Identity::ModelNumber)
                if all_versions && installed.is_none() =>
            {
                Confidence::Probable
            }
            (Some(true), Identity::Identifier | Identity::ModelNumber) => Confidence::Confirmed,
            (Some(true), Identity::Name) if all_versions && installed.is_none() => {
                Confidence::Possible
            }
            (Some(true), Identity::Name) => Confidence::Probable,
            (Some(false), _) => return,
        };
        let src = self.sources.get(rule.source);
        let source = src.map(|s| s.id.clone()).unwrap_or_default();
        let source_kind = src.map(|s| s.kind).unwrap_or("?").to_string();
        for v in rule
            .vulns
            .iter()
            .filter(|v| v.positive || NEGATIVE_LISTS.contains(&v.status))
        {
            let comp_label = component.map(|c| match &c.version {
                Some(ver) => format!("{}@{ver}", c.name),
                None => c.name.clone(),
            });
            let id = Finding::compute_id(
                &asset.id,
                &v.vulnerability,
                &source,
                rule.product_id.as_deref().unwrap_or(&rule.product_name),
                component.and_then(|c| c.bom_ref.as_deref()).unwrap_or(""),
            );
            let conf = if v.status == "under_investigation" {
                Confidence::Possible
            } else {
                confidence
            };
            // A negative statement is carried in `vex` until `apply_negatives` uses it.
            let vex = (!v.positive).then(|| VexApplied {
                status: if v.status == "known_not_affected" {
                    "not_affected".into()
                } else {
                    "fixed".into()
                },
                justification: v.justification.clone(),
                impact_statement: Some(format!(
                    "{source} lists {} ({affected}) as {}",
                    rule.product_name, v.status
                )),
                action_statement: None,
                source: source.clone(),
                fixed_version: (v.status != "known_not_affected")
                    .then(|| installed.clone())
                    .flatten(),
                suppresses: true,
            });
            out.push(Finding {
                id,
                asset_id: asset.id.clone(),
                asset_name: asset.name.clone(),
                component: comp_label,
                component_ref: component.and_then(|c| c.bom_ref.clone()),
                component_purl: component.and_then(|c| c.purl.clone()),
                vulnerability: v.vulnerability.clone(),
                aliases: v.aliases.clone(),
                source: source.clone(),
                source_kind: source_kind.clone(),
                title: v
                    .title
                    .clone()
                    .or_else(|| src.and_then(|s| s.title.clone())),
                product_id: rule.product_id.clone(),
                product_name: rule.product_name.clone(),
                product_status: v.status.to_string(),
                reasons: reasons.clone(),
                version: VersionCheck {
                    installed: installed.clone(),
                    installed_evidence: installed_ev.clone(),
                    affected: affected.clone(),
                    scheme: rule.scheme.as_str().to_string(),
                    result,
                    explanation: explanation.clone(),
                },
                confidence: conf,
                scores: v.scores.clone(),
                remediations: v.remediations.clone(),
                vex,
                name_distance,
            });
        }
    }

    /// The number of compiled product rules.
    pub fn rules_len(&self) -> usize {
        self.rules.len()
    }
}

fn reason(
    rule: &str,
    attribute: &str,
    a: &crate::asset::AssetAttr,
    field: &str,
    value: &str,
) -> MatchReason {
    MatchReason {
        rule: rule.to_string(),
        attribute: attribute.to_string(),
        value: a.value.clone(),
        evidence: a.evidence.clone(),
        advisory_field: field.to_string(),
        advisory_value: value.to_string(),
    }
}

/// Splits the negative hits (devices matching a product an advisory lists as fixed,
/// first_fixed or known_not_affected) out of `out` and closes, with that statement, every
/// finding of the same vulnerability on the same asset and component whose match is no
/// stronger than the negative one, nor closer by name (an "InfuCare 300" device is not
/// closed by a statement about "InfuCare 300 Lite"). A merely possible negative match
/// closes nothing.
fn apply_negatives(out: &mut Vec<Finding>) {
    let is_negative = |f: &Finding| NEGATIVE_LISTS.contains(&f.product_status.as_str());
    if !out.iter().any(is_negative) {
        return;
    }
    let (neg, mut pos): (Vec<Finding>, Vec<Finding>) = std::mem::take(out)
        .into_iter()
        .partition(|f| is_negative(f));
    for f in pos.iter_mut() {
        let ids: Vec<&String> = std::iter::once(&f.vulnerability)
            .chain(f.aliases.iter())
            .collect();
        let best = neg
            .iter()
            .filter(|n| {
                n.component_ref == f.component_ref
                    && n.confidence != Confidence::Possible
                    && n.confidence >= f.confidence
                    && n.name_distance <= f.name_distance
                    && ids.iter().any(|i| i.eq_ignore_ascii_case(&n.vulnerability))
            })
            .max_by_key(|n| n.confidence);
        if let Some(n) = best {
            f.vex = n.vex.clone();
        }
    }
    *out = pos;
}

/// Keeps one finding per (asset, vulnerability, component), the most confident; ties go
/// to the first source in order.
fn dedup_findings(v: &mut Vec<Finding>) {
    v.sort_by(|a, b| {
        (&a.asset_id, &a.vulnerability, &a.component_ref, &a.source)
            .cmp(&(&b.asset_id, &b.vulnerability, &b.component_ref, &b.source))
            .then(b.confidence.cmp(&a.confidence))
            .then(a.product_id.cmp(&b.product_id))
    });
    v.dedup_by(|b, a| {
        a.asset_id == b.asset_id
            && a.vulnerability == b.vulnerability
            && a.component_ref == b.component_ref
            && a.source == b.source
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Identifier,
    ModelNumber,
    Name,
    Partial,
}

/// Memoised name-derived keys (vendor key, model tokens, model id) by (vendor, model)
/// string, for matching many devices of the same fleet.
#[derive(Default)]
pub struct KeyCache {
    map: HashMap<(Option<String>, Option<String>), NameKeys>,
}

/// Vendor key, model tokens, model ids.
type NameKeys = (Option<String>, Vec<String>, Vec<String>);

impl KeyCache {
    /// At most this many distinct (vendor, model) pairs are kept; past it keys are computed.
    const MAX: usize = 100_000;

    /// The keys of `asset`, the same as [`AssetKeys::of`].
    pub fn keys(&mut self, asset: &Asset, aliases: Option<&VendorAliases>) -> AssetKeys {
        let k = (
            asset.vendor.as_ref().map(|v| v.value.clone()),
            asset.model.as_ref().map(|m| m.value.clone()),
        );
        if let Some((vk, mt, mi)) = self.map.get(&k) {
            return AssetKeys {
                vendor_key: vk.clone(),
                model_tokens: mt.clone(),
                model_ids: mi.clone(),
                ..AssetKeys::identifiers(asset)
            };
        }
        let keys = AssetKeys::of(asset, aliases);
        if self.map.len() < Self::MAX {
            self.map.insert(
                k,
                (
                    keys.vendor_key.clone(),
                    keys.model_tokens.clone(),
                    keys.model_ids.clone(),
                ),
            );
        }
        keys
    }
}

/// The lookup keys of an asset.
#[derive(Debug, Default, Clone)]
pub struct AssetKeys {
    pub vendor_key: Option<String>,
    pub model_tokens: Vec<String>,
    pub model_ids: Vec<String>,
    pub cpes: Vec<(String, String)>,
    pub purls: Vec<PurlKey>,
    pub serial: Option<String>,
}

impl AssetKeys {
    pub fn of(asset: &Asset, aliases: Option<&VendorAliases>) -> Self {
        let std_aliases;
        let aliases = match aliases {
            Some(a) => a,
            None => {
                std_aliases = VendorAliases::standard();
                &std_aliases
            }
        };
        let vendor_key = asset.vendor.as_ref().and_then(|v| aliases.key(&v.value));
        let mut vendor_words: Vec<String> = asset
            .vendor
            .as_ref()
            .map(|v| vendor_tokens(&v.value))
            .unwrap_or_default();
        if let Some(k) = &vendor_key {
            vendor_words.extend(k.split(' ').map(str::to_string));
        }
        let model_tokens = asset
            .model
            .as_ref()
            .map(|m| product_tokens(&m.value, &vendor_words))
            .unwrap_or_default();
        let model_ids = asset
            .model
            .as_ref()
            .map(|m| vec![norm_id(&m.value)])
            .unwrap_or_default();
        AssetKeys {
            vendor_key,
            model_tokens,
            model_ids,
            ..AssetKeys::identifiers(asset)
        }
    }

    /// The identifier keys only (CPE, PURL, serial), which are the device's own.
    fn identifiers(asset: &Asset) -> Self {
        AssetKeys {
            cpes: asset.cpes.iter().filter_map(|c| cpe_key(c)).collect(),
            purls: asset.purls.iter().filter_map(|p| purl_key(p)).collect(),
            serial: asset.serial.as_ref().map(|s| norm_id(&s.value)),
            ..AssetKeys::default()
        }
    }
}

fn describe_osv(intervals: &[OsvInterval], versions: &[String]) -> String {
    let mut parts: Vec<String> = intervals
        .iter()
        .map(|(i, e)| {
            let lo = match i.as_deref() {
                None | Some("0") => String::new(),
                Some(v) => format!(">= {v}"),
            };
            let hi = match e {
                Some((v, true)) => format!("<= {v}"),
                Some((v, false)) => format!("< {v}"),
                None => String::new(),
            };
            match (lo.is_empty(), hi.is_empty()) {
                (true, true) => "all versions".to_string(),
                (false, true) => lo,
                (true, false) => hi,
                (false, false) => format!("{lo}, {hi}"),
            }
        })
        .collect();
    if !versions.is_empty() {
        parts.push(format!("exactly {}", versions.join(" | ")));
    }
    parts.join(" | ")
}

/// Evaluates a version rule: (result, predicate text, explanation, "all versions").
pub fn check_version(
    rule: &VersionRule,
    installed: Option<&str>,
    scheme: VersionScheme,
) -> (Option<bool>, String, String, bool) {
    match rule {
        VersionRule::Unspecified => (
            Some(true),
            "(no version given)".into(),
            "the advisory names the product without a version: all versions".into(),
            true,
        ),
        VersionRule::Predicate { raw, parsed } => {
            let Some(p) = parsed else {
                return (
                    None,
                    raw.clone(),
                    "Ward cannot read the advisory's version text; check by hand".into(),
                    false,
                );
            };
            let any = matches!(p, VersionPredicate::Any)
                || matches!(p, VersionPredicate::Annotated { predicate, .. } if matches!(**predicate, VersionPredicate::Any));
            if any {
                return (
                    Some(true),
                    raw.clone(),
                    "the advisory says all versions are affected".into(),
                    true,
                );
            }
            let Some(v) = installed else {
                return (
                    None,
                    raw.clone(),
                    "installed version unknown: not assumed affected or unaffected".into(),
                    false,
                );
            };
            let r = p.contains(v, scheme);
            let note = p
                .note()
                .map(|n| format!(" (advisory note: {n})"))
                .unwrap_or_default();
            let text = match r {
                Some(true) => format!("{v} is inside {raw}{note}"),
                Some(false) => format!("{v} is outside {raw}"),
                None => format!("{v} cannot be compared with {raw} under the {scheme} scheme"),
            };
            (r, raw.clone(), text, false)
        }
        VersionRule::Cve {
            raw,
            entries,
            default_status,
        } => check_cve(raw, entries, default_status.as_deref(), installed),
        VersionRule::Osv {
            raw,
            intervals,
            versions,
        } => {
            let Some(v) = installed else {
                return (
                    None,
                    raw.clone(),
                    "installed version unknown: not assumed affected or unaffected".into(),
                    false,
                );
            };
            if versions.iter().any(|x| x == v) {
                return (
                    Some(true),
                    raw.clone(),
                    format!("{v} is listed as affected"),
                    false,
                );
            }
            let mut undecided = false;
            for (lo, hi) in intervals {
                let above = match lo.as_deref() {
                    None | Some("0") => Some(true),
                    Some(l) => compare(scheme, v, l).map(|o| o.is_ge()),
                };
                let below = match hi {
                    None => Some(true),
                    Some((h, true)) => compare(scheme, v, h).map(|o| o.is_le()),
                    Some((h, false)) => compare(scheme, v, h).map(|o| o.is_lt()),
                };
                match (above, below) {
                    (Some(true), Some(true)) => {
                        return (
                            Some(true),
                            raw.clone(),
                            format!("{v} is inside {raw}"),
                            false,
                        )
                    }
                    (Some(false), _) | (_, Some(false)) => {}
                    _ => undecided = true,
                }
            }
            if undecided {
                (
                    None,
                    raw.clone(),
                    format!("{v} cannot be compared with {raw} under the {scheme} scheme"),
                    false,
                )
            } else {
                (
                    Some(false),
                    raw.clone(),
                    format!("{v} is outside {raw}"),
                    intervals.is_empty() && versions.is_empty(),
                )
            }
        }
    }
}

/// The status of one CVE 5 entry for a version inside its range, after `changes`: the
/// status of the greatest `at` not above the version, else the entry's own status.
fn cve_entry_status(e: &CveEntry, v: &str, scheme: VersionScheme) -> Option<String> {
    let mut best: Option<(&str, &str)> = None;
    for (at, st) in &e.changes {
        match compare(scheme, v, at) {
            Some(o) if o.is_ge() => {
                let later = match best {
                    None => true,
                    Some((b, _)) => compare(scheme, at, b)?.is_gt(),
                };
                if later {
                    best = Some((at, st));
                }
            }
            Some(_) => {}
            None => return None,
        }
    }
    Some(best.map_or_else(|| e.status.clone(), |(_, st)| st.to_ascii_lowercase()))
}

/// Evaluates CVE JSON 5 version entries. An installed version inside an entry takes the
/// entry's status (after `changes`); outside every entry it takes `defaultStatus`. When
/// the record gives no `defaultStatus` (CVE 5 then says "unknown"), Ward reads the listed
/// ranges as the complete affected set, the way CNAs write them ("versions before
/// 3.6.7"), and says so in the explanation.
fn check_cve(
    raw: &str,
    entries: &[CveEntry],
    default_status: Option<&str>,
    installed: Option<&str>,
) -> (Option<bool>, String, String, bool) {
    let any_affected = entries.iter().any(|e| {
        e.status == "affected"
            && e.changes.is_empty()
            && matches!(e.predicate, Some(VersionPredicate::Any))
    });
    let Some(v) = installed else {
        if any_affected || (entries.is_empty() && default_status == Some("affected")) {
            return (
                Some(true),
                raw.to_string(),
                "the CVE record says all versions are affected".into(),
                true,
            );
        }
        return (
            None,
            raw.to_string(),
            "installed version unknown: not assumed affected or unaffected".into(),
            false,
        );
    };
    let mut undecided: Vec<&str> = Vec::new();
    for e in entries {
        let (Some(p), Some(scheme)) = (&e.predicate, e.scheme) else {
            undecided.push(&e.text);
            continue;
        };
        match p.contains(v, scheme) {
            Some(true) => {
                let Some(status) = cve_entry_status(e, v, scheme) else {
                    undecided.push(&e.text);
                    continue;
                };
                return match status.as_str() {
                    "affected" => (
                        Some(true),
                        raw.to_string(),
                        format!("{v} is inside {} (CVE 5 versions entry)", e.text),
                        false,
                    ),
                    "unaffected" => (
                        Some(false),
                        raw.to_string(),
                        format!("{v} is inside {}, status unaffected", e.text),
                        false,
                    ),
                    _ => (
                        None,
                        raw.to_string(),
                        format!("{v} is inside {}, status unknown: check by hand", e.text),
                        false,
                    ),
                };
            }
            Some(false) => {}
            None => undecided.push(&e.text),
        }
    }
    if !undecided.is_empty() {
        return (
            None,
            raw.to_string(),
            format!(
                "{v} cannot be compared with {}: check by hand",
                undecided.join("; ")
            ),
            false,
        );
    }
    match default_status {
        Some("affected") => (
            Some(true),
            raw.to_string(),
            format!("{v} is outside the listed versions; the record's default status is affected"),
            false,
        ),
        Some("unaffected") => (
            Some(false),
            raw.to_string(),
            format!("{v} is outside the listed versions; default status unaffected"),
            false,
        ),
        Some(_) => (
            None,
            raw.to_string(),
            format!("{v} is outside the listed versions; default status unknown: check by hand"),
            false,
        ),
        None => (
            Some(false),
            raw.to_string(),
            format!("{v} is outside the listed affected versions (no defaultStatus given)"),
            false,
        ),
    }
}

/// Findings declared by the SBOM itself (CycloneDX `vulnerabilities[].affects`): the
/// manufacturer says the component is concerned; its VEX analysis is applied separately.
pub fn sbom_declared_findings(asset: &Asset, sbom: &SbomDocument) -> Vec<Finding> {
    let source = sbom
        .serial_number
        .clone()
        .or_else(|| sbom.name.clone())
        .unwrap_or_else(|| sbom.provenance.file_name.clone());
    let mut out = Vec::new();
    for v in &sbom.vulnerabilities {
        for aff in &v.affects {
            let bref = aff.rsplit('#').next().unwrap_or(aff);
            let Some(c) = asset.components.iter().find(|c| {
                c.bom_ref.as_deref() == Some(bref) || c.bom_ref.as_deref() == Some(aff.as_str())
            }) else {
                continue;
            };
            // A CycloneDX VEX analysis on the same entry is applied later as a statement
            // (the finding stays, closed, with its justification shown).
            out.push(Finding {
                id: Finding::compute_id(&asset.id, &v.id, &source, "", bref),
                asset_id: asset.id.clone(),
                asset_name: asset.name.clone(),
                component: Some(match &c.version {
                    Some(ver) => format!("{}@{ver}", c.name),
                    None => c.name.clone(),
                }),
                component_ref: c.bom_ref.clone(),
                component_purl: c.purl.clone(),
                vulnerability: v.id.clone(),
                aliases: Vec::new(),
                source: source.clone(),
                source_kind: "sbom".into(),
                title: v.description.clone(),
                product_id: None,
                product_name: c.name.clone(),
                product_status: "declared".into(),
                reasons: vec![MatchReason {
                    rule: "sbom_declared".into(),
                    attribute: "component bom-ref".into(),
                    value: bref.to_string(),
                    evidence: format!("SBOM {source}"),
                    advisory_field: "vulnerabilities[].affects".into(),
                    advisory_value: aff.clone(),
                }],
                version: VersionCheck {
                    installed: c.version.clone(),
                    installed_evidence: Some("SBOM component version".into()),
                    affected: "(declared by the SBOM)".into(),
                    scheme: "-".into(),
                    result: Some(true),
                    explanation: "the SBOM lists the vulnerability against this component".into(),
                },
                confidence: Confidence::Confirmed,
                scores: Arc::new(v.ratings.clone()),
                remediations: Arc::new(Vec::new()),
                vex: None,
                name_distance: 0,
            });
        }
    }
    out
}

/// The reverse index: assets by the keys advisories are matched on, so a new advisory is
/// checked only against the assets sharing a key with one of its products.
#[derive(Debug, Default)]
pub struct AssetIndex {
    by_vendor_token: HashMap<(String, String), Vec<u32>>,
    by_cpe: HashMap<(String, String), Vec<u32>>,
    by_purl: HashMap<PurlKey, Vec<u32>>,
    by_serial: HashMap<String, Vec<u32>>,
    by_model_id: HashMap<String, Vec<u32>>,
}

impl AssetIndex {
    pub fn build(assets: &[Asset], aliases: &VendorAliases) -> Self {
        let mut ix = AssetIndex::default();
        let mut cache = KeyCache::default();
        for (i, a) in assets.iter().enumerate() {
            let i = i as u32;
            let k = cache.keys(a, Some(aliases));
            if let Some(vk) = &k.vendor_key {
                for t in &k.model_tokens {
                    ix.by_vendor_token
                        .entry((vk.clone(), t.clone()))
                        .or_default()
                        .push(i);
                }
            }
            for c in k.cpes {
                ix.by_cpe.entry(c).or_default().push(i);
            }
            for comp in &a.components {
                if let Some(p) = comp.purl.as_deref().and_then(purl_key) {
                    ix.by_purl.entry(p).or_default().push(i);
                }
                for c in comp.cpe.iter().chain(comp.other_cpes.iter()) {
                    if let Some(c) = cpe_key(c) {
                        ix.by_cpe.entry(c).or_default().push(i);
                    }
                }
            }
            for p in k.purls {
                ix.by_purl.entry(p).or_default().push(i);
            }
            if let Some(s) = k.serial {
                ix.by_serial.entry(s).or_default().push(i);
            }
            for m in k.model_ids {
                ix.by_model_id.entry(m).or_default().push(i);
            }
        }
        ix
    }

    /// The assets that share a key with any rule in `rules`.
    pub fn candidates(&self, rules: &[ProductRule]) -> BTreeSet<u32> {
        let mut out = BTreeSet::new();
        let mut add = |v: Option<&Vec<u32>>| {
            if let Some(v) = v {
                out.extend(v.iter().copied());
            }
        };
        for r in rules {
            // The device's model tokens must all appear among the product's (or the
            // reverse), so any one product token is enough to find every candidate.
            for vk in &r.vendor_keys {
                for t in &r.name_tokens {
                    add(self.by_vendor_token.get(&(vk.clone(), t.clone())));
                }
            }
            if let Some(c) = &r.cpe {
                add(self.by_cpe.get(c));
            }
            if let Some(p) = &r.purl_key {
                add(self.by_purl.get(p));
            }
            for s in &r.serials {
                add(self.by_serial.get(&norm_id(s)));
            }
            for m in &r.helper_models {
                add(self.by_model_id.get(&norm_id(m)));
            }
        }
        out
    }
}

/// Matches one newly imported advisory against already indexed assets: compiles the
/// advisory alone, looks up candidate assets in `assets_index`, checks only those.
pub fn match_new_advisory(
    adv: &Advisory,
    assets: &[Asset],
    assets_index: &AssetIndex,
) -> Vec<Finding> {
    let mut idx = MatchIndex::new();
    idx.add_advisory(adv);
    match_new_rules(&idx, assets, assets_index)
}

/// Matches one newly imported CVE JSON 5 record against already indexed assets, like
/// [`match_new_advisory`].
pub fn match_new_cve(
    rec: &ward_intel::CveRecord,
    assets: &[Asset],
    assets_index: &AssetIndex,
) -> Vec<Finding> {
    let mut idx = MatchIndex::new();
    idx.add_cve(rec);
    match_new_rules(&idx, assets, assets_index)
}

fn match_new_rules(idx: &MatchIndex, assets: &[Asset], assets_index: &AssetIndex) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in assets_index.candidates(&idx.rules) {
        if let Some(a) = assets.get(i as usize) {
            out.extend(idx.match_asset(a));
        }
    }
    out
}
