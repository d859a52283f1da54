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
//! index files to exist already), and runs a whole read (several statements in one read
//! transaction, so they see one snapshot) either directly on the calling thread (reads
//! that are a single indexed row) or on tokio's blocking pool (everything that may scan).
//! Writes never come here: they stay on the one-connection sqlx write pool.
//!
//! What this is not: a second store. It serves a few hot reads of the SQLite backend;
//! PostgreSQL and every other read keep using sqlx, and the conformance suite runs the
//! same assertions over both paths.

use crate::{Result, StoreError};
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
}

impl SqliteReader {
    pub(crate) fn new(path: PathBuf, keep: usize, busy_timeout: Duration) -> Arc<Self> {
        Arc::new(SqliteReader {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            keep: keep.max(1),
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
        // The same page cache as the sqlx read pool; nothing written through here.
        conn.execute_batch(
            "PRAGMA query_only = 1; PRAGMA cache_size = -65536; PRAGMA temp_store = memory;",
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

    /// Runs `f` on a pooled connection on tokio's blocking pool, inside one read
    /// transaction (one snapshot for every statement of `f`).
    pub(crate) async fn read<R: Send + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R> {
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            me.now(what, |c| {
                let tx = c.unchecked_transaction()?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            })
        })
        .await
        .map_err(|e| StoreError::invalid("read task", e.to_string()))?
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
