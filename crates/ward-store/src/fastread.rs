//! SQLite's hot read path: plain `rusqlite` connections instead of sqlx's.
//!
//! sqlx runs every SQLite connection on a thread of its own and passes each command and
//! each result row through channels, so a query costs several thread hand-offs and a copy
//! of every column value. On the requests a hospital's clients repeat all day (the
//! inventory listing, token authentication) that overhead was most of the cost: under
//! 100 clients the server spent 1.15 ms of CPU per listing request, a fifth of it in
//! futex wake-ups between the runtime and sqlx's threads (docs/BENCHMARKS.md, issue 6).
//!
//! [`SqliteReader`] keeps a small pool of ordinary connections to the same database file,
//! opened read-write but with `PRAGMA query_only` (a read-only open would need the WAL
//! index files to exist already), with the file memory-mapped for reads, and runs a read
//! either directly on the calling thread (reads an index bounds to a few rows: revisions,
//! one page of the listing) or on tokio's blocking pool (everything that may scan).
//! Writes never come here: they stay on the one-connection sqlx write pool.
//!
//! What this is not: a second store. It serves a few hot reads of the SQLite backend;
//! PostgreSQL and every other read keep using sqlx, and the conformance suite runs the
//! same assertions over both paths.

use crate::{Result, Store, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Connections of the hot read path (see the module documentation).
#[derive(Debug)]
pub(crate) struct SqliteReader {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    /// Connections kept open when idle; more may exist briefly under load.
    keep: usize,
    /// Bounds the reads running on the blocking pool at once (the read pool's size), so
    /// a burst of requests queues here instead of starting a thread and a connection each.
    running: tokio::sync::Semaphore,
}

impl SqliteReader {
    /// `readers` reads at once on the blocking pool; connections kept for them and for the
    /// short reads on the runtime's threads.
    pub(crate) fn new(path: PathBuf, readers: usize, busy_timeout: Duration) -> Arc<Self> {
        let readers = readers.max(1);
        Arc::new(SqliteReader {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            keep: readers * 2,
            running: tokio::sync::Semaphore::new(readers),
        })
    }

    /// Closes the idle connections (connections in use close when their read ends).
    pub(crate) fn close(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn open(&self) -> Result<Connection> {
        let err = |e: rusqlite::Error| StoreError::Read {
            what: format!("opening {}", self.path.display()),
            source: e,
        };
        // No CREATE: the sqlx pools created the file and applied the migrations.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(self.busy_timeout).map_err(err)?;
        // Nothing is written through here. Pages are read from the memory-mapped file
        // (no copy into a per-connection cache, no allocation per page), so the page
        // cache can stay small.
        conn.execute_batch(
            "PRAGMA query_only = 1; PRAGMA mmap_size = 4294967296; \
             PRAGMA cache_size = -16384; PRAGMA temp_store = memory;",
        )
        .map_err(err)?;
        // Statements differ by filter combination: keep enough of them prepared.
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `f` on a pooled connection on this thread. Only for reads that touch a few
    /// rows through an index (revisions, one row by key): it blocks the caller.
    pub(crate) fn now<R>(
        &self,
        what: &str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R> {
        let conn = match self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        // A connection whose read failed mid-transaction is dropped, not reused.
        if out.is_ok() && conn.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < self.keep {
                idle.push(conn);
            }
        }
        out.map_err(|e| StoreError::Read {
            what: what.to_owned(),
            source: e,
        })
    }

    /// Runs `f` on a pooled connection on tokio's blocking pool (each statement reads its
    /// own snapshot, as in autocommit anywhere).
    pub(crate) async fn read<R: Send + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R> {
        let permit = self
            .running
            .acquire()
            .await
            .map_err(|e| StoreError::invalid("read task", e.to_string()))?;
        let me = Arc::clone(self);
        let out = tokio::task::spawn_blocking(move || me.now(what, f))
            .await
            .map_err(|e| StoreError::invalid("read task", e.to_string()))?;
        drop(permit);
        out
    }
}

impl Store {
    /// A revision counter (migration 0006), read on every listing with a total and every
    /// token request: on SQLite on the calling thread (one row by key).
    pub(crate) async fn revision(&self, sql: &'static str, what: &str) -> Result<i64> {
        match &self.backend {
            crate::Backend::Sqlite { fast, .. } => {
                fast.now(what, |c| c.prepare_cached(sql)?.query_row([], |r| r.get(0)))
            }
            crate::Backend::Postgres { pool } => {
                Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
            }
        }
    }
}

/// A value bound to a statement built at run time ([`crate::devices`]' listing), for
/// either path.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

impl rusqlite::ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Bind::Int(n) => n.to_sql(),
            Bind::Text(s) => s.to_sql(),
        }
    }
}

/// SQL text with numbered placeholders (`$1`, `$2`, ...: SQLite, both drivers, and
/// PostgreSQL read them alike) and the values bound to them, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    pub(crate) fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            binds: Vec::new(),
        }
    }
    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    pub(crate) fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        self.text.push('$');
        self.text.push_str(&self.binds.len().to_string());
        self
    }
    pub(crate) fn bind_text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Bind::Text(s.into()))
    }
    pub(crate) fn bind_int(&mut self, n: i64) -> &mut Self {
        self.bind(Bind::Int(n))
    }
    /// As an sqlx query with every value bound (the PostgreSQL path).
    pub(crate) fn sqlx<DB: sqlx::Database>(
        &self,
    ) -> sqlx::query::Query<'_, DB, <DB as sqlx::Database>::Arguments>
    where
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text.clone()));
        for b in &self.binds {
            q = match b {
                Bind::Int(n) => q.bind(*n),
                Bind::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use crate::{Actor, Backend, DeviceQuery, DeviceRecord, Store, StoreOptions};

    fn device(i: u32) -> DeviceRecord {
        DeviceRecord {
            id: format!("dev-{i:04}"),
            site: "north".into(),
            name: format!("pump-{i:04}"),
            inferred: Default::default(),
            macs: vec![],
            ips: vec![],
            is_router: false,
            first_seen: 1,
            last_seen: 2,
            detail: serde_json::json!({}),
        }
    }

    /// A burst of listings far above the pool size: every answer is the same and complete,
    /// and no more connections stay open than the reader keeps.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_reads_shares_a_bounded_pool() {
        let dir = tempfile::tempdir().expect("tmp");
        let options = StoreOptions {
            max_connections: 3,
            ..StoreOptions::default()
        };
        let store = Store::open_with(&dir.path().join("w.db").display().to_string(), &options)
            .await
            .expect("open");
        let records: Vec<_> = (0..120).map(device).collect();
        store
            .upsert_devices(&records, &Actor::new("test", None))
            .await
            .expect("seed");
        let q = DeviceQuery {
            limit: 200,
            ..DeviceQuery::default()
        };
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (s, q) = (store.clone(), q.clone());
            tasks.push(tokio::spawn(async move { s.list_devices(&q).await }));
        }
        for t in tasks {
            let page = t.await.expect("task").expect("listing");
            assert_eq!(page.total, Some(120));
            assert_eq!(page.devices.len(), 120);
            assert_eq!(page.devices[0].name, "pump-0000");
            assert_eq!(page.devices[119].name, "pump-0119");
        }
        let Backend::Sqlite { fast, .. } = &store.backend else {
            panic!("SQLite store expected");
        };
        let idle = fast.idle.lock().expect("lock").len();
        assert!(
            (1..=fast.keep).contains(&idle),
            "{idle} idle connections, keep {}",
            fast.keep
        );
        assert_eq!(fast.keep, 6);
        // Nothing is written through this path.
        let err = fast
            .now("writing", |c| c.execute("DELETE FROM devices", []))
            .expect_err("query_only connections refuse writes");
        assert!(err.to_string().contains("writing"), "{err}");
        assert_eq!(
            store.list_devices(&q).await.expect("listing").total,
            Some(120)
        );
    }
}
