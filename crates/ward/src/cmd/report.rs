//! `ward report`: the posture report (NHS six steps, IMDRF model pages) from a store, as
//! printable HTML or PDF; the same report the web UI serves.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Html,
    Pdf,
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Data directory of the SQLite store (`ward.db` inside).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "database",
        required_unless_present = "database"
    )]
    pub data: Option<PathBuf>,
    /// Database URL (`sqlite:PATH` or `postgres://...`).
    #[arg(long, value_name = "URL", env = "WARD_DATABASE_URL")]
    pub database: Option<String>,
    /// Only this site (default: the whole organisation).
    #[arg(long)]
    pub site: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Time zone for the times in the report (IANA name).
    #[arg(long, default_value = "UTC")]
    pub time_zone: String,
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    if args.time_zone.parse::<chrono_tz::Tz>().is_err() {
        anyhow::bail!(
            "unknown time zone {:?} (use an IANA name such as Europe/London)",
            args.time_zone
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async {
        let store = match (&args.data, &args.database) {
            (_, Some(url)) => ward_store::Store::open(url).await?,
            (Some(dir), None) => {
                anyhow::ensure!(
                    dir.join("ward.db").exists(),
                    "no Ward store in {} (ward.db is missing)",
                    dir.display()
                );
                ward_store::Store::open_data_dir(dir).await?
            }
            (None, None) => anyhow::bail!("give --data DIR or --database URL"),
        };
        if let Some(site) = &args.site {
            let sites = store.sites().await?;
            anyhow::ensure!(
                sites.iter().any(|s| &s.id == site),
                "no site {site:?} in the store"
            );
        }
        let posture =
            ward_server::report::Posture::gather(&store, args.site.as_deref(), &args.time_zone)
                .await?;
        let bytes = match args.format {
            ReportFormat::Html => ward_server::report::html(&posture).into_bytes(),
            ReportFormat::Pdf => ward_server::report::pdf(&posture),
        };
        std::fs::write(&args.out, &bytes)
            .with_context(|| format!("writing {}", args.out.display()))?;
        store.close().await;
        eprintln!(
            "ward report: wrote {} ({} bytes)",
            args.out.display(),
            bytes.len()
        );
        Ok(ExitCode::SUCCESS)
    })
}
