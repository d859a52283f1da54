//! Ward's persistence room: one async [`Store`] over two backends.
//!
//! * **SQLite** (the embedded default): a single file under the data directory, WAL
//!   journal, `foreign_keys=ON`, a busy timeout, and `synchronous=FULL`. In WAL mode
//!   `NORMAL` already keeps every committed transaction across a process kill (`kill -9`):
//!   the WAL frames are in the OS page cache once `COMMIT` returns. It can lose the last
//!   transactions on power loss or an OS crash, though, and a sensor whose batch was
//!   acknowledged deletes it from its spool. `FULL` fsyncs the WAL on every commit, so an
//!   acknowledged batch survives power loss too; ingest commits one transaction per batch,
//!   so the price is one fsync per batch. Writes go through a one-connection pool (SQLite
//!   has one writer at a time anyway; queueing in-process avoids `SQLITE_BUSY`), and each
//!   write transaction starts with `BEGIN IMMEDIATE` so another process (`ward migrate`)
//!   waits on the busy timeout instead of failing mid-transaction. Reads use a separate
//!   pool and run concurrently with the writer (WAL).
//! * **PostgreSQL**: a URL; several `ward serve` replicas may share the database. Jobs are
//!   claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, the audit chain head is a locked
//!   row, and migrations take PostgreSQL's advisory lock (sqlx) so replicas starting
//!   together do not race.
//!
//! [`Store::open`] picks the backend from the URL (`sqlite:PATH`, a plain path, or
//! `postgres://...`), applies the embedded migrations (`migrations/{sqlite,postgres}/`)
//! and returns a cheap-to-clone handle. Every multi-row change runs in one transaction:
//! an ingest batch ([`Store::ingest_batch`], idempotent by batch id), an intel import
//! ([`Store::import_intel`], all or nothing), an inventory update, a finding status change
//! with its history row, and each audited change with its audit entry.
//!
//! Nothing here ever holds patient data: the store only accepts Ward's metadata types
//! (observations, devices, intel), which carry none.
//!
//! All SQL is written once with `$n` placeholders (which both SQLite and PostgreSQL
//! accept) and run through `sqlx::query` with binds; the few dialect differences
//! (`min`/`LEAST`, row locking) are chosen at run time.

mod audit;
mod counts;
mod dashboard;
mod devices;
mod documents;
mod error;
mod fastread;
mod findings;
mod ingest;
mod intel;
mod jobs;
mod listing;
mod merges;
mod plans;
mod retention;
mod reviews;
mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod types;
mod users;

pub use audit::{audit_hash, AuditEntry, AuditProblem, AuditReport, GENESIS_HASH};
pub use counts::RevisionCache;
pub use dashboard::*;
pub use documents::{
    normalise_media_type, DeviceDocument, NewDeviceDocument, DOCUMENT_KINDS, MAX_DOCUMENT_BYTES,
};
pub use error::StoreError;
pub use ingest::SensorBatch;
pub use listing::{FindingQuery, StoredConnection};
pub use merges::DeviceMerge;
pub use plans::{BoardAction, PlanAction, ACTION_STATUSES};
pub use retention::PruneReport;
pub use reviews::{Review, ReviewDue, ReviewInput};
pub use sessions::Session;
pub use tokens::ApiToken;
pub use types::*;
pub use users::{LoginFailure, NewUser, RoleGrant, User};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

// `sqlx::migrate!` is a thin `macro_rules!` wrapper around exactly this proc macro, but it is
// only compiled with sqlx's `macros` feature, which also builds the offline machinery of
// the compile-time-checked `query!` macros that Ward does not use. Calling the proc macro
// through sqlx's re-export (present with `derive` + `migrate`) embeds the same migrations
// with less to compile.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::sqlx_macros::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::sqlx_macros::migrate!("./migrations/postgres");

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite {
        /// One connection: SQLite's single writer.
        write: SqlitePool,
        read: SqlitePool,
        /// The hot read path without sqlx's connection threads (`fastread`).
        fast: std::sync::Arc<fastread::SqliteReader>,
    },
    Postgres {
        pool: PgPool,
    },
}

/// Options for [`Store::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Apply pending migrations on open (the default). `ward migrate` can open without and
    /// call [`Store::migrate`] itself.
    pub migrate: bool,
    /// Connections in the read pool (SQLite) or the whole pool (PostgreSQL).
    pub max_connections: u32,
    /// How long SQLite waits for another writer (another process) before failing.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            migrate: true,
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// The handle to Ward's database. Cloning is cheap (pools are shared).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Device counts by filters, valid for one inventory revision (see `counts`).
    pub(crate) counts: std::sync::Arc<counts::RevisionCache<counts::CountKey, u64>>,
}

/// Runs `$body` with `$pool` bound to the backend's write pool (the same text compiles once
/// per backend).
macro_rules! with_write_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { write: $pool, .. } => $body,
            $crate::Backend::Postgres { pool: $pool } => $body,
        }
    };
}
/// Like [`with_write_pool`] with the read pool.
macro_rules! with_read_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { read: $pool, .. } => $body,
            $crate::Backend::Postgres { pool: $pool } => $body,
        }
    };
}
pub(crate) use with_read_pool;
pub(crate) use with_write_pool;

/// Starting a write transaction, per backend.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        // IMMEDIATE takes the write lock now: a deferred transaction that reads and then
        // writes can fail with SQLITE_BUSY when another process wrote in between.
        Ok(self.begin_with("BEGIN IMMEDIATE").await?)
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.begin().await?)
    }
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Saturating conversion of the model's unsigned counters and times to SQL BIGINT.
pub(crate) fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Back from SQL BIGINT (negative values, which Ward never writes, become 0).
pub(crate) fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the store at `url` with default options and applies
    /// pending migrations.
    ///
    /// `url` is `sqlite:PATH` (also `sqlite://PATH`), `postgres://...` /
    /// `postgresql://...`, or a plain file path (SQLite).
    pub async fn open(url: &str) -> Result<Store> {
        Self::open_with(url, &StoreOptions::default()).await
    }

    /// The SQLite store `ward.db` in a data directory (created if missing).
    pub async fn open_data_dir(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        Self::open_sqlite_file(&dir.join("ward.db"), &StoreOptions::default()).await
    }

    /// Like [`Store::open`], with options.
    pub async fn open_with(url: &str, options: &StoreOptions) -> Result<Store> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidUrl {
                url: redact_url(url),
                reason: e.to_string(),
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(connect)
                .await
                .map_err(|e| StoreError::Connect {
                    url: redact_url(url),
                    source: e,
                })?;
            Store {
                backend: Backend::Postgres { pool },
                counts: std::sync::Arc::new(counts::RevisionCache::new(counts::MAX_COUNT_ENTRIES)),
            }
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if path.is_empty()
                || path.starts_with(':')
                || (url.contains("://") && !url.starts_with("sqlite://"))
            {
                return Err(StoreError::InvalidUrl {
                    url: redact_url(url),
                    reason: "expected sqlite:PATH, a file path or postgres://...".into(),
                });
            }
            return Self::open_sqlite_file(Path::new(path), options).await;
        };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    async fn open_sqlite_file(path: &Path, options: &StoreOptions) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Io {
                path: parent.display().to_string(),
                source: e,
            })?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            // A bigger page cache keeps the device indexes of a large inventory in memory.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let url = path.display().to_string();
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(connect.clone())
            .await
            .map_err(|e| StoreError::Connect {
                url: url.clone(),
                source: e,
            })?;
        if options.migrate {
            SQLITE_MIGRATIONS.run(&write).await?;
        }
        // The read pool is opened after migrations so that its connections see the schema.
        let read = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(connect)
            .await
            .map_err(|e| StoreError::Connect { url, source: e })?;
        let fast = fastread::SqliteReader::new(
            path.to_path_buf(),
            options.max_connections.max(1) as usize,
            options.busy_timeout,
        );
        Ok(Store {
            backend: Backend::Sqlite { write, read, fast },
            counts: std::sync::Arc::new(counts::RevisionCache::new(counts::MAX_COUNT_ENTRIES)),
        })
    }

    /// Which backend this store uses.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite { .. } => BackendKind::Sqlite,
            Backend::Postgres { .. } => BackendKind::Postgres,
        }
    }

    /// Applies pending migrations (idempotent: applied ones are skipped, and a changed
    /// applied migration is an error rather than silently re-run).
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await?,
            Backend::Postgres { pool } => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The versions of the applied migrations, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        use sqlx::Row;
        let rows = with_read_pool!(self, |pool| {
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>(0))
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Closes the pools, waiting for connections to be returned (SQLite checkpoints the
    /// WAL when its last connection closes).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { write, read, fast } => {
                fast.close();
                read.close().await;
                write.close().await;
            }
            Backend::Postgres { pool } => pool.close().await,
        }
    }

    /// Creates or renames a site.
    pub async fn upsert_site(&self, id: &str, name: &str) -> Result<()> {
        with_write_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sites (id, name, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )
            .bind(id)
            .bind(name)
            .bind(now_micros())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Every site, by id.
    pub async fn sites(&self) -> Result<Vec<Site>> {
        use sqlx::Row;
        let rows = with_read_pool!(self, |pool| {
            let rows = sqlx::query("SELECT id, name, created_at FROM sites ORDER BY id")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(Site {
                        id: r.try_get("id")?,
                        name: r.try_get("name")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }
}

/// The URL without a password, for error messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
            } else {
                url.to_string()
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://ward:secret@db:5432/ward"),
            "postgres://ward:***@db:5432/ward"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact_url("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
    }
}
