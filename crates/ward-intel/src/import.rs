//! The in-memory intel database and the CLI-facing import / validate / show functions.
//!
//! Rules: a file is imported whole or not at all; importing the same bytes twice changes
//! nothing (SHA-256); a newer revision of the same advisory (same publisher namespace and
//! tracking id, higher version or, at equal version, a later release date) supersedes
//! the old one, and an older revision is skipped. OSV and CVE records follow the same
//! rule by their `modified` / `dateUpdated`; EPSS files add one day to each CVE's series.

use crate::csaf::revision::{parse_datetime, DocVersion};
use crate::detect::{read_document_with, ReadOptions};
use crate::error::IntelError;
use crate::model::*;
use crate::signature::{self, Keyring};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Files larger than this are refused (the KEV catalog is about 1.3 MB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What importing one file did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    Imported {
        format: Format,
        kind: String,
        id: String,
        warnings: Vec<String>,
    },
    /// A newer revision replaced an older one.
    Superseded {
        format: Format,
        id: String,
        previous_version: String,
        version: String,
        warnings: Vec<String>,
    },
    /// These exact bytes were imported before.
    Duplicate { sha256: String },
    /// The database already holds this or a newer revision.
    Outdated {
        id: String,
        version: String,
        current_version: String,
    },
}

impl ImportOutcome {
    pub fn changed(&self) -> bool {
        matches!(
            self,
            ImportOutcome::Imported { .. } | ImportOutcome::Superseded { .. }
        )
    }
}

/// Everything Ward knows from imported intel, in memory.
#[derive(Default)]
pub struct IntelDb {
    advisories: Vec<Advisory>,
    sboms: Vec<SbomDocument>,
    vex: Vec<VexDocument>,
    kev: BTreeMap<String, KevEntry>,
    kev_catalogs: Vec<Provenance>,
    epss: BTreeMap<String, BTreeMap<String, EpssScore>>,
    epss_files: Vec<Provenance>,
    osv: BTreeMap<String, OsvRecord>,
    cves: BTreeMap<String, CveRecord>,
    seen: HashSet<String>,
    keyring: Keyring,
    /// Official JSON schemas to validate documents against (see [`crate::schema`]).
    schemas: Option<std::sync::Arc<crate::schema::SchemaSet>>,
    read_options: ReadOptions,
    /// Fixed import time for reproducible tests; `None` = the system clock.
    pub clock: Option<u64>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Is revision `a` newer than `b`? (version first, then release date)
fn newer(a_version: &str, a_date: &str, b_version: &str, b_date: &str) -> bool {
    let (va, vb) = (DocVersion::parse(a_version), DocVersion::parse(b_version));
    let by_version = match (&va, &vb) {
        (Some(x), Some(y)) if x.is_integer() == y.is_integer() => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    };
    match by_version {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => match (parse_datetime(a_date), parse_datetime(b_date)) {
            (Some(x), Some(y)) => x > y,
            _ => a_date > b_date,
        },
    }
}

impl IntelDb {
    pub fn new() -> Self {
        Self::default()
    }

    /// Verify `.asc` signatures with these keys (without, signatures are only parsed).
    pub fn with_keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = keyring;
        self
    }

    /// Also validate every JSON document against its official JSON schema, when `schemas`
    /// holds one for the document's format and version; a violation rejects the file
    /// (test `json-schema`, with the JSON pointer of the offending value).
    pub fn with_schemas(mut self, schemas: std::sync::Arc<crate::schema::SchemaSet>) -> Self {
        self.schemas = Some(schemas);
        self
    }

    /// Check that the packages OSV records name exist, against this registry package list
    /// (rule `osv:package-exists`); without it the rule is not checked.
    pub fn with_osv_packages(mut self, index: std::sync::Arc<crate::osv::PackageIndex>) -> Self {
        self.read_options.osv_packages = Some(index);
        self
    }

    /// Read, check (checksum, signature), parse, validate and insert one file.
    pub fn import_file(&mut self, path: &Path) -> Result<ImportOutcome, IntelError> {
        let io = |source| IntelError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(IntelError::UnknownFormat {
                file: path.display().to_string(),
                hint: format!("file larger than {MAX_FILE_BYTES} bytes"),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let sha = signature::sha256_hex(&bytes);
        if self.seen.contains(&sha) {
            return Ok(ImportOutcome::Duplicate { sha256: sha });
        }
        let checksum = signature::verify_checksum(path, &bytes)?;
        let sig = signature::verify_signature(path, &bytes, &self.keyring)?;
        let name = path.display().to_string();
        self.import_checked(&bytes, &name, sha, checksum, sig)
    }

    /// Import bytes that did not come from a file (no checksum or signature beside them).
    pub fn import_bytes(
        &mut self,
        bytes: &[u8],
        file_name: &str,
    ) -> Result<ImportOutcome, IntelError> {
        let sha = signature::sha256_hex(bytes);
        if self.seen.contains(&sha) {
            return Ok(ImportOutcome::Duplicate { sha256: sha });
        }
        self.import_checked(
            bytes,
            file_name,
            sha,
            ChecksumStatus::NotPresent,
            SignatureStatus::NotPresent,
        )
    }

    fn import_checked(
        &mut self,
        bytes: &[u8],
        file_name: &str,
        sha: String,
        checksum: ChecksumStatus,
        sig: SignatureStatus,
    ) -> Result<ImportOutcome, IntelError> {
        let (format, mut doc, warnings) = read_document_with(bytes, file_name, &self.read_options)?;
        if let Some(schemas) = &self.schemas {
            schemas.check(format, bytes, file_name)?;
        }
        {
            let p = doc.provenance_mut();
            p.file_name = file_name.to_string();
            p.sha256 = sha.clone();
            p.imported_at = self.clock.unwrap_or_else(now);
            p.format = Some(format);
            p.checksum = checksum;
            p.signature = sig;
        }
        let outcome = self.insert(format, doc, warnings);
        if outcome.changed() || matches!(outcome, ImportOutcome::Outdated { .. }) {
            self.seen.insert(sha);
        }
        Ok(outcome)
    }

    fn insert(
        &mut self,
        format: Format,
        doc: IntelDocument,
        warnings: Vec<String>,
    ) -> ImportOutcome {
        let kind = doc.kind().to_string();
        let id = doc.id();
        let imported = |warnings| ImportOutcome::Imported {
            format,
            kind: kind.clone(),
            id: id.clone(),
            warnings,
        };
        match doc {
            IntelDocument::Advisory(mut a) => {
                a.provenance.publisher = Some(a.publisher.clone());
                a.provenance.tracking_id = Some(a.tracking_id.clone());
                a.provenance.version = Some(a.version.clone());
                let pos = self.advisories.iter().position(|x| {
                    x.tracking_id == a.tracking_id && x.publisher_namespace == a.publisher_namespace
                });
                match pos {
                    None => {
                        self.advisories.push(*a);
                        imported(warnings)
                    }
                    Some(i) => {
                        let old = &self.advisories[i];
                        if newer(
                            &a.version,
                            &a.current_release_date,
                            &old.version,
                            &old.current_release_date,
                        ) {
                            let previous_version = old.version.clone();
                            let version = a.version.clone();
                            self.advisories[i] = *a;
                            ImportOutcome::Superseded {
                                format,
                                id,
                                previous_version,
                                version,
                                warnings,
                            }
                        } else {
                            ImportOutcome::Outdated {
                                id,
                                version: a.version.clone(),
                                current_version: old.version.clone(),
                            }
                        }
                    }
                }
            }
            IntelDocument::Sbom(s) => {
                let key = s.serial_number.clone();
                let pos = key.as_ref().and_then(|k| {
                    self.sboms
                        .iter()
                        .position(|x| x.serial_number.as_ref() == Some(k))
                });
                match pos {
                    Some(i) => {
                        let old_v = self.sboms[i].version.clone().unwrap_or_default();
                        let new_v = s.version.clone().unwrap_or_default();
                        if new_v.parse::<u64>().unwrap_or(0) > old_v.parse::<u64>().unwrap_or(0) {
                            self.sboms[i] = *s;
                            ImportOutcome::Superseded {
                                format,
                                id,
                                previous_version: old_v,
                                version: new_v,
                                warnings,
                            }
                        } else {
                            ImportOutcome::Outdated {
                                id,
                                version: new_v,
                                current_version: old_v,
                            }
                        }
                    }
                    None => {
                        self.sboms.push(*s);
                        imported(warnings)
                    }
                }
            }
            IntelDocument::Vex(v) => match self.vex.iter().position(|x| x.id == v.id) {
                Some(i) => {
                    let old = &self.vex[i];
                    let (ov, nv) = (
                        old.version.clone().unwrap_or_default(),
                        v.version.clone().unwrap_or_default(),
                    );
                    let later = nv.parse::<u64>().unwrap_or(0) > ov.parse::<u64>().unwrap_or(0)
                        || (nv == ov
                            && v.timestamp.as_deref().and_then(parse_datetime)
                                > old.timestamp.as_deref().and_then(parse_datetime));
                    if later {
                        self.vex[i] = *v;
                        ImportOutcome::Superseded {
                            format,
                            id,
                            previous_version: ov,
                            version: nv,
                            warnings,
                        }
                    } else {
                        ImportOutcome::Outdated {
                            id,
                            version: nv,
                            current_version: ov,
                        }
                    }
                }
                None => {
                    self.vex.push(*v);
                    imported(warnings)
                }
            },
            IntelDocument::Kev(k) => {
                for e in &k.entries {
                    self.kev.insert(e.cve.clone(), e.clone());
                }
                let mut p = k.provenance.clone();
                p.version = k.catalog_version.clone();
                self.kev_catalogs.push(p);
                imported(warnings)
            }
            IntelDocument::Epss(e) => {
                for s in &e.scores {
                    self.epss
                        .entry(s.cve.clone())
                        .or_default()
                        .insert(s.date.clone(), s.clone());
                }
                self.epss_files.push(e.provenance.clone());
                imported(warnings)
            }
            IntelDocument::Osv(o) => {
                if let Some(old) = self.osv.get(&o.id) {
                    if !newer("", &o.modified, "", &old.modified) {
                        return ImportOutcome::Outdated {
                            id,
                            version: o.modified.clone(),
                            current_version: old.modified.clone(),
                        };
                    }
                    let previous_version = old.modified.clone();
                    let version = o.modified.clone();
                    self.osv.insert(o.id.clone(), *o);
                    return ImportOutcome::Superseded {
                        format,
                        id,
                        previous_version,
                        version,
                        warnings,
                    };
                }
                self.osv.insert(o.id.clone(), *o);
                imported(warnings)
            }
            IntelDocument::Cve(c) => {
                let date = |r: &CveRecord| {
                    r.date_updated
                        .clone()
                        .or_else(|| r.date_published.clone())
                        .unwrap_or_default()
                };
                if let Some(old) = self.cves.get(&c.id) {
                    if !newer("", &date(&c), "", &date(old)) {
                        return ImportOutcome::Outdated {
                            id,
                            version: date(&c),
                            current_version: date(old),
                        };
                    }
                    let previous_version = date(old);
                    let version = date(&c);
                    self.cves.insert(c.id.clone(), *c);
                    return ImportOutcome::Superseded {
                        format,
                        id,
                        previous_version,
                        version,
                        warnings,
                    };
                }
                self.cves.insert(c.id.clone(), *c);
                imported(warnings)
            }
        }
    }

    // ------------------------------------------------------------ lookups

    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }
    pub fn sboms(&self) -> &[SbomDocument] {
        &self.sboms
    }
    pub fn vex_documents(&self) -> &[VexDocument] {
        &self.vex
    }
    pub fn kev_entries(&self) -> impl Iterator<Item = &KevEntry> {
        self.kev.values()
    }
    pub fn osv_records(&self) -> impl Iterator<Item = &OsvRecord> {
        self.osv.values()
    }
    pub fn cve_records(&self) -> impl Iterator<Item = &CveRecord> {
        self.cves.values()
    }

    /// The current revision of an advisory, by tracking id (case-insensitive).
    pub fn advisory(&self, tracking_id: &str) -> Option<&Advisory> {
        self.advisories
            .iter()
            .find(|a| a.tracking_id.eq_ignore_ascii_case(tracking_id))
    }

    /// Advisories that describe a CVE (in `cve` or `ids`).
    pub fn advisories_for_cve(&self, cve: &str) -> Vec<&Advisory> {
        self.advisories
            .iter()
            .filter(|a| {
                a.vulnerabilities.iter().any(|v| {
                    v.cve
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(cve))
                        || v.ids.iter().any(|i| i.text.eq_ignore_ascii_case(cve))
                })
            })
            .collect()
    }

    /// Products whose name, product name or alias contains `name` (case-insensitive).
    pub fn find_products(&self, name: &str) -> Vec<(&Advisory, &Product)> {
        let needle = name.to_lowercase();
        let hit = |s: &str| s.to_lowercase().contains(&needle);
        self.advisories
            .iter()
            .flat_map(|a| a.products.iter().map(move |p| (a, p)))
            .filter(|(_, p)| {
                hit(&p.name)
                    || p.product_name.as_deref().is_some_and(hit)
                    || p.aliases.iter().any(|x| hit(x))
            })
            .collect()
    }

    pub fn kev(&self, cve: &str) -> Option<&KevEntry> {
        self.kev.get(cve)
    }
    /// EPSS time series of a CVE, by date.
    pub fn epss_series(&self, cve: &str) -> Option<&BTreeMap<String, EpssScore>> {
        self.epss.get(cve)
    }
    /// The most recent EPSS score of a CVE.
    pub fn epss_latest(&self, cve: &str) -> Option<&EpssScore> {
        self.epss.get(cve).and_then(|m| m.values().next_back())
    }
    pub fn osv(&self, id: &str) -> Option<&OsvRecord> {
        self.osv.get(id)
    }
    /// OSV records whose id or aliases name `id`.
    pub fn osv_for(&self, id: &str) -> Vec<&OsvRecord> {
        self.osv
            .values()
            .filter(|o| o.id == id || o.aliases.iter().any(|a| a == id))
            .collect()
    }
    pub fn cve_record(&self, id: &str) -> Option<&CveRecord> {
        self.cves.get(id)
    }
    /// VEX statements (OpenVEX and CycloneDX VEX) about a vulnerability.
    pub fn vex_statements_for(&self, vulnerability: &str) -> Vec<&VexStatement> {
        self.vex
            .iter()
            .flat_map(|d| d.statements.iter())
            .chain(self.sboms.iter().flat_map(|s| s.vex.iter()))
            .filter(|s| {
                s.vulnerability == vulnerability || s.aliases.iter().any(|a| a == vulnerability)
            })
            .collect()
    }

    /// What `ward intel show ID` prints: an advisory, everything about a CVE, or the
    /// products matching a name.
    pub fn show_item(&self, id: &str) -> Option<ShowItem<'_>> {
        if let Some(a) = self.advisory(id) {
            return Some(ShowItem::Advisory(a));
        }
        let upper = id.to_ascii_uppercase();
        if upper.starts_with("CVE-") {
            let advisories: Vec<&str> = self
                .advisories_for_cve(&upper)
                .iter()
                .map(|a| a.tracking_id.as_str())
                .collect();
            let item = CveView {
                cve: upper.clone(),
                record: self.cve_record(&upper),
                kev: self.kev(&upper),
                epss: self.epss_latest(&upper),
                advisories,
                osv: self.osv_for(&upper).iter().map(|o| o.id.as_str()).collect(),
                vex: self.vex_statements_for(&upper),
            };
            let empty = item.record.is_none()
                && item.kev.is_none()
                && item.epss.is_none()
                && item.advisories.is_empty()
                && item.osv.is_empty()
                && item.vex.is_empty();
            return (!empty).then_some(ShowItem::Cve(Box::new(item)));
        }
        if let Some(o) = self.osv(id) {
            return Some(ShowItem::Osv(o));
        }
        let products: Vec<ProductView> = self
            .find_products(id)
            .into_iter()
            .map(|(a, p)| ProductView {
                advisory: &a.tracking_id,
                product: p,
                vulnerabilities: a
                    .vulnerabilities
                    .iter()
                    .filter_map(|v| {
                        let st = v.product_status.entries().find(|(_, pid)| **pid == p.id)?.0;
                        Some((
                            v.cve
                                .clone()
                                .unwrap_or_else(|| v.title.clone().unwrap_or_default()),
                            st,
                        ))
                    })
                    .collect(),
            })
            .collect();
        (!products.is_empty()).then_some(ShowItem::Products { products })
    }

    /// [`IntelDb::show_item`] as pretty JSON.
    pub fn show(&self, id: &str) -> Option<String> {
        self.show_item(id)
            .and_then(|i| serde_json::to_string_pretty(&i).ok())
    }
}

/// What `show` found.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShowItem<'a> {
    Advisory(&'a Advisory),
    Cve(Box<CveView<'a>>),
    Osv(&'a OsvRecord),
    /// A struct variant: internally tagged enums cannot carry a bare list.
    Products {
        products: Vec<ProductView<'a>>,
    },
}

#[derive(Debug, Serialize)]
pub struct CveView<'a> {
    pub cve: String,
    pub record: Option<&'a CveRecord>,
    pub kev: Option<&'a KevEntry>,
    pub epss: Option<&'a EpssScore>,
    pub advisories: Vec<&'a str>,
    pub osv: Vec<&'a str>,
    pub vex: Vec<&'a VexStatement>,
}

#[derive(Debug, Serialize)]
pub struct ProductView<'a> {
    pub advisory: &'a str,
    pub product: &'a Product,
    /// (CVE or title, product status list name).
    pub vulnerabilities: Vec<(String, &'static str)>,
}

// ------------------------------------------------------------------ import_paths

/// Result of importing files and folders.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub imported: Vec<(PathBuf, String)>,
    pub skipped: Vec<(PathBuf, String)>,
    pub rejected: Vec<(PathBuf, String)>,
    /// Warnings of imported files (e.g. CSAF tests tolerated on import).
    pub warnings: Vec<(PathBuf, String)>,
}

impl ImportReport {
    pub fn is_ok(&self) -> bool {
        self.rejected.is_empty()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (p, why) in &self.rejected {
            writeln!(f, "rejected  {}: {why}", p.display())?;
        }
        for (p, why) in &self.skipped {
            writeln!(f, "skipped   {}: {why}", p.display())?;
        }
        for (p, w) in &self.warnings {
            writeln!(f, "warning   {}: {w}", p.display())?;
        }
        write!(
            f,
            "{} imported, {} skipped, {} rejected",
            self.imported.len(),
            self.skipped.len(),
            self.rejected.len()
        )
    }
}

/// Sidecar files that belong to a document rather than being one.
fn is_sidecar(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("asc" | "sha512" | "sha256" | "sig" | "md")
    )
}

const MAX_DEPTH: usize = 32;

/// Expand folders (recursively, sorted, skipping hidden entries and sidecar files).
pub fn collect_files(paths: &[PathBuf]) -> Vec<(PathBuf, bool)> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, bool)>) {
        if depth > MAX_DEPTH {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                continue;
            }
            if p.is_dir() {
                walk(&p, depth + 1, out);
            } else if !is_sidecar(&p) {
                out.push((p, false));
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, 0, &mut out);
        } else {
            // Named explicitly: an unknown format is an error, not a skip.
            out.push((p.clone(), true));
        }
    }
    out
}

/// Import files and folders; `progress` is called before each file.
pub fn import_paths(db: &mut IntelDb, paths: &[PathBuf], progress: &dyn Fn(&Path)) -> ImportReport {
    let mut report = ImportReport::default();
    for (path, explicit) in collect_files(paths) {
        progress(&path);
        match db.import_file(&path) {
            Ok(ImportOutcome::Imported {
                kind,
                id,
                warnings,
                format,
            }) => {
                report
                    .warnings
                    .extend(warnings.into_iter().map(|w| (path.clone(), w)));
                report
                    .imported
                    .push((path, format!("{} {kind} {id}", format.name())));
            }
            Ok(ImportOutcome::Superseded {
                id,
                previous_version,
                version,
                warnings,
                format,
            }) => {
                report
                    .warnings
                    .extend(warnings.into_iter().map(|w| (path.clone(), w)));
                report.imported.push((
                    path,
                    format!(
                        "{} {id} version {version} supersedes {previous_version}",
                        format.name()
                    ),
                ));
            }
            Ok(ImportOutcome::Duplicate { .. }) => report
                .skipped
                .push((path, "already imported (same SHA-256)".into())),
            Ok(ImportOutcome::Outdated {
                id,
                version,
                current_version,
            }) => report.skipped.push((
                path,
                format!("{id} version {version} is not newer than {current_version}"),
            )),
            Err(IntelError::UnknownFormat { hint, .. }) if !explicit => report
                .skipped
                .push((path, format!("not an intel format ({hint})"))),
            Err(e) => report.rejected.push((path, e.to_string())),
        }
    }
    report
}

/// The verdict on one file.
#[derive(Debug, Serialize)]
pub struct FileValidation {
    pub path: PathBuf,
    pub format: Option<Format>,
    pub error: Option<String>,
    /// The failed rule (CSAF test id, `cyclonedx:...`, `json-schema`), if the error is a rule.
    pub test: Option<String>,
    /// Where the error is: a JSON pointer, `byte N` (XML) or `line N`.
    pub position: Option<String>,
    pub warnings: Vec<String>,
    /// Set for files found in a folder that are no intel format (not an error).
    pub skipped: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct ValidationReport {
    pub files: Vec<FileValidation>,
}

impl ValidationReport {
    pub fn is_ok(&self) -> bool {
        self.files.iter().all(|f| f.error.is_none())
    }
    pub fn invalid_count(&self) -> usize {
        self.files.iter().filter(|f| f.error.is_some()).count()
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for v in &self.files {
            match (&v.error, &v.skipped) {
                (Some(e), _) => {
                    // Errors name their file already; do not print the path twice.
                    let path = v.path.display().to_string();
                    let e = e.strip_prefix(&format!("{path}: ")).unwrap_or(e);
                    writeln!(f, "INVALID {path}: {e}")?
                }
                (None, Some(why)) => writeln!(f, "skipped {}: {why}", v.path.display())?,
                (None, None) => writeln!(
                    f,
                    "ok      {} ({})",
                    v.path.display(),
                    v.format.map(Format::name).unwrap_or("?")
                )?,
            }
            for w in &v.warnings {
                writeln!(f, "        warning: {w}")?;
            }
        }
        write!(
            f,
            "{} files, {} invalid",
            self.files.len(),
            self.invalid_count()
        )
    }
}

/// Validate files and folders without importing anything. Checksums and signatures
/// beside the files are checked too (parsed only: no keyring).
pub fn validate_paths(paths: &[PathBuf]) -> ValidationReport {
    validate_paths_with(paths, None, &ReadOptions::default(), &Keyring::empty())
}

/// [`validate_paths`], also checking each JSON document against its official JSON
/// schema when `schemas` holds one (test `json-schema`, with the JSON pointer), using
/// the knowledge in `options` (e.g. an OSV package list), and verifying `.asc`
/// signatures against `keyring` (a bad signature makes the file invalid).
pub fn validate_paths_with(
    paths: &[PathBuf],
    schemas: Option<&crate::schema::SchemaSet>,
    options: &ReadOptions,
    keyring: &Keyring,
) -> ValidationReport {
    let mut report = ValidationReport::default();
    for (path, explicit) in collect_files(paths) {
        let name = path.display().to_string();
        let result = std::fs::read(&path)
            .map_err(|source| IntelError::Io {
                path: path.clone(),
                source,
            })
            .and_then(|bytes| {
                signature::verify_checksum(&path, &bytes)?;
                signature::verify_signature(&path, &bytes, keyring)?;
                let read = read_document_with(&bytes, &name, options)?;
                if let Some(s) = schemas {
                    s.check(read.0, &bytes, &name)?;
                }
                Ok(read)
            });
        report.files.push(match result {
            Ok((format, _, warnings)) => FileValidation {
                path,
                format: Some(format),
                error: None,
                test: None,
                position: None,
                warnings,
                skipped: None,
            },
            Err(IntelError::UnknownFormat { hint, .. }) if !explicit => FileValidation {
                path,
                format: None,
                error: None,
                test: None,
                position: None,
                warnings: Vec::new(),
                skipped: Some(format!("not an intel format ({hint})")),
            },
            Err(e) => FileValidation {
                path,
                format: None,
                test: e.test_id().map(str::to_string),
                position: e.position(),
                error: Some(e.to_string()),
                warnings: Vec::new(),
                skipped: None,
            },
        });
    }
    report
}

/// Counts per kind, for summaries.
pub fn kind_counts(db: &IntelDb) -> HashMap<&'static str, usize> {
    HashMap::from([
        ("advisories", db.advisories.len()),
        ("sboms", db.sboms.len()),
        ("vex", db.vex.len()),
        ("kev", db.kev.len()),
        ("epss_cves", db.epss.len()),
        ("osv", db.osv.len()),
        ("cve", db.cves.len()),
    ])
}
