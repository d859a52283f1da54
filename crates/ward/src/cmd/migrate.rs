//! `ward migrate`: applies the store's pending migrations (also done by `ward serve` on
//! start) and lists the applied versions. Also the store selection (`--data DIR` or
//! `--database URL`) shared by the admin commands (`ward user`, `ward token`,
//! `ward audit`).

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use ward_store::{Store, StoreOptions};

/// Where the store is.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
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
}

impl StoreArgs {
    /// Opens the store. `migrate`: apply pending migrations; otherwise an existing store
    /// is required (a missing `ward.db` is an error rather than a new empty store).
    pub async fn open(&self, migrate: bool) -> Result<Store> {
        self.open_with(migrate, !migrate).await
    }

    /// Like [`StoreArgs::open`]; `must_exist`: refuse to create a missing SQLite store.
    pub async fn open_with(&self, migrate: bool, must_exist: bool) -> Result<Store> {
        let options = StoreOptions {
            migrate,
            ..StoreOptions::default()
        };
        match (&self.data, &self.database) {
            (_, Some(url)) => Ok(Store::open_with(url, &options).await?),
            (Some(dir), None) => {
                let db = dir.join("ward.db");
                anyhow::ensure!(
                    !must_exist || db.exists(),
                    "no Ward store in {} (ward.db is missing)",
                    dir.display()
                );
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let url = format!("sqlite:{}", db.display());
                Ok(Store::open_with(&url, &options).await?)
            }
            (None, None) => anyhow::bail!("give --data DIR or --database URL"),
        }
    }
}

/// Runs `f` on a single-threaded runtime.
pub fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(f)
}

#[derive(Args, Debug, Clone)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: MigrateArgs) -> Result<ExitCode> {
    block_on(async {
        let store = args.store.open_with(false, false).await?;
        let before = store.applied_migrations().await.unwrap_or_default();
        store.migrate().await?;
        let after = store.applied_migrations().await?;
        let new: Vec<i64> = after
            .iter()
            .copied()
            .filter(|v| !before.contains(v))
            .collect();
        if new.is_empty() {
            println!("store is up to date (migrations {after:?})");
        } else {
            println!("applied migrations {new:?}; store at {after:?}");
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
