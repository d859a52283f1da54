//! `ward intel`: import, show and validate vulnerability intelligence; score CVSS vectors.
//!
//! Until the server's store exists, `import` keeps a small catalogue of the imported files
//! (path and SHA-256) in the data folder, and `show` re-reads them (offline and fast: the
//! whole KEV catalogue imports in well under a second).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ward_intel::cvss;

#[derive(Args, Debug, Clone)]
pub struct IntelArgs {
    /// Folder where Ward keeps its catalogue of imported intelligence.
    #[arg(long, env = "WARD_DATA", default_value = "ward-data", global = true)]
    pub data: PathBuf,
    /// Folder(s) holding the official JSON schemas (CSAF 2.0 with the FIRST CVSS schemas,
    /// CycloneDX with spdx/jsf, OSV, SPDX 2.3); JSON documents are then also checked
    /// against them. Read locally, never downloaded. Without it no schema check is done.
    #[arg(long, env = "WARD_SCHEMAS", global = true, value_delimiter = ':')]
    pub schemas: Vec<PathBuf>,
    /// OpenPGP public keys (armored or binary) to verify `.asc` signatures beside files;
    /// without it signatures are only parsed and recorded as "key unknown".
    #[arg(long, env = "WARD_KEYRING", global = true)]
    pub keyring: Option<PathBuf>,
    /// Registry package list (`ECOSYSTEM<TAB>NAME` lines) for the OSV rule that the named
    /// package exists; without it the rule is not checked.
    #[arg(long, global = true)]
    pub osv_packages: Option<PathBuf>,
    #[command(subcommand)]
    pub command: IntelCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum IntelCommand {
    /// Import advisories, SBOMs, VEX, KEV, EPSS, OSV or CVE files and folders (auto-detected).
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an advisory (tracking id), a CVE or a product name from the imported intelligence.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Validate files without importing them; exits 1 when any file is invalid.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Score CVSS 2.0, 3.0, 3.1 or 4.0 vectors exactly.
    Cvss {
        #[arg(required = true)]
        vectors: Vec<String>,
        #[arg(long, value_enum, default_value_t = CvssFormat::Table)]
        format: CvssFormat,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvssFormat {
    Table,
    Json,
}

/// The files imported so far.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Catalogue {
    files: Vec<PathBuf>,
}

fn catalogue_path(data: &Path) -> PathBuf {
    data.join("intel-catalogue.json")
}

fn load_catalogue(data: &Path) -> Result<Catalogue> {
    let p = catalogue_path(data);
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b).with_context(|| format!("reading {}", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalogue::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

/// Writes the catalogue atomically (temporary file, then rename).
fn save_catalogue(data: &Path, c: &Catalogue) -> Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let p = catalogue_path(data);
    let tmp = p.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(c)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &p).with_context(|| format!("replacing {}", p.display()))?;
    Ok(())
}

/// Schemas, keyring and package list named on the command line.
struct Knowledge {
    schemas: Option<std::sync::Arc<ward_intel::SchemaSet>>,
    keyring: ward_intel::Keyring,
    osv_packages: Option<std::sync::Arc<ward_intel::osv::PackageIndex>>,
}

impl Knowledge {
    fn load(args: &IntelArgs) -> Result<Self> {
        let schemas = if args.schemas.is_empty() {
            None
        } else {
            let set = ward_intel::SchemaSet::load_dirs(&args.schemas)?;
            for (file, why) in set.skipped() {
                eprintln!("ward: warning: schema {file} not used: {why}");
            }
            Some(std::sync::Arc::new(set))
        };
        let keyring = match &args.keyring {
            Some(p) => ward_intel::Keyring::from_file(p)?,
            None => ward_intel::Keyring::empty(),
        };
        let osv_packages = match &args.osv_packages {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                let index =
                    ward_intel::osv::PackageIndex::from_text(&text, &p.display().to_string())?;
                Some(std::sync::Arc::new(index))
            }
            None => None,
        };
        Ok(Self {
            schemas,
            keyring,
            osv_packages,
        })
    }

    fn db(&self) -> ward_intel::IntelDb {
        let mut db = ward_intel::IntelDb::new().with_keyring(self.keyring.clone());
        if let Some(s) = &self.schemas {
            db = db.with_schemas(s.clone());
        }
        if let Some(p) = &self.osv_packages {
            db = db.with_osv_packages(p.clone());
        }
        db
    }

    /// One line saying which schemas are checked.
    fn schema_note(&self) -> String {
        match &self.schemas {
            Some(s) => format!(
                "JSON schemas checked: {}",
                s.kinds()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "JSON schemas: not checked (give --schemas DIR or WARD_SCHEMAS)".into(),
        }
    }
}

fn load_db(data: &Path, k: &Knowledge) -> Result<ward_intel::IntelDb> {
    let cat = load_catalogue(data)?;
    let mut db = k.db();
    let report = ward_intel::import_paths(&mut db, &cat.files, &|_| {});
    for (p, why) in &report.rejected {
        eprintln!("ward: warning: {}: no longer imports: {why}", p.display());
    }
    Ok(db)
}

pub fn run(args: IntelArgs) -> Result<ExitCode> {
    if let IntelCommand::Cvss { vectors, format } = &args.command {
        return cvss_command(vectors, *format);
    }
    let k = Knowledge::load(&args)?;
    match args.command {
        IntelCommand::Import { paths, json } => {
            let mut cat = load_catalogue(&args.data)?;
            let mut db = load_db(&args.data, &k)?;
            let bar = indicatif::ProgressBar::new_spinner();
            let report = ward_intel::import_paths(&mut db, &paths, &|p| {
                bar.set_message(p.display().to_string());
                bar.tick();
            });
            bar.finish_and_clear();
            for (p, _) in &report.imported {
                let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                if !cat.files.contains(&abs) {
                    cat.files.push(abs);
                }
            }
            save_catalogue(&args.data, &cat)?;
            if json {
                serde_json::to_writer_pretty(std::io::stdout().lock(), &report)?;
                println!();
            } else {
                println!("{report}");
            }
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        IntelCommand::Show { id, json } => {
            let db = load_db(&args.data, &k)?;
            if json {
                match db.show_item(&id) {
                    Some(item) => {
                        serde_json::to_writer_pretty(std::io::stdout().lock(), &item)?;
                        println!();
                        Ok(ExitCode::SUCCESS)
                    }
                    None => not_found(&id),
                }
            } else {
                match db.show(&id) {
                    Some(text) => {
                        println!("{text}");
                        Ok(ExitCode::SUCCESS)
                    }
                    None => not_found(&id),
                }
            }
        }
        IntelCommand::Validate { paths, json } => {
            let options = ward_intel::ReadOptions {
                osv_packages: k.osv_packages.clone(),
            };
            let report =
                ward_intel::validate_paths_with(&paths, k.schemas.as_deref(), &options, &k.keyring);
            if json {
                serde_json::to_writer_pretty(std::io::stdout().lock(), &report)?;
                println!();
            } else {
                println!("{report}");
                println!("{}", k.schema_note());
            }
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        IntelCommand::Cvss { vectors, format } => cvss_command(&vectors, format),
    }
}

fn cvss_command(vectors: &[String], format: CvssFormat) -> Result<ExitCode> {
    let mut failed = false;
    let mut all = Vec::new();
    for v in vectors {
        match cvss::parse(v) {
            Ok(parsed) => match format {
                CvssFormat::Table => println!("{}", cvss::describe(&parsed)),
                CvssFormat::Json => all.push(parsed.scores()),
            },
            Err(e) => {
                eprintln!("ward: invalid CVSS vector {v:?}: {e}");
                failed = true;
            }
        }
    }
    if format == CvssFormat::Json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), &all)?;
        println!();
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn not_found(id: &str) -> Result<ExitCode> {
    eprintln!(
        "ward: {id:?}: no advisory, CVE or product by that name in the imported intelligence"
    );
    Ok(ExitCode::from(1))
}
