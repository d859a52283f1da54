//! Scratch PostgreSQL databases for tests (feature `testing`; not for production use).
//!
//! Every test that runs on PostgreSQL gets a fresh database on the server at
//! [`PG_ADMIN_URL`] (the one this machine kind and CI start), dropped again when the handle
//! is dropped, also when the test failed. An unreachable server is a panic that names it:
//! tests that need PostgreSQL fail loudly instead of skipping.

use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server and database used to create and drop the scratch databases.
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// One fresh database for one test.
#[derive(Debug)]
pub struct ScratchPg {
    name: String,
    url: String,
    dropped: bool,
}

impl ScratchPg {
    /// Creates the database. `purpose` names the tests that need it, for the panic message.
    pub async fn create(purpose: &str) -> ScratchPg {
        static N: AtomicU64 = AtomicU64::new(0);
        let mut admin = sqlx::PgConnection::connect(PG_ADMIN_URL)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the PostgreSQL server at {PG_ADMIN_URL} is required for {purpose} \
                     (start it; CI does): {e}"
                )
            });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "ward_test_{}_{}_{}",
            std::process::id(),
            nanos,
            N.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        admin.close().await.ok();
        ScratchPg {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            name,
            dropped: false,
        }
    }

    /// The database's connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database now (close the stores using it first).
    pub async fn drop_now(mut self) {
        drop_database(&self.name).await;
        self.dropped = true;
    }
}

async fn drop_database(name: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN_URL).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
        admin.close().await.ok();
    }
}

impl Drop for ScratchPg {
    /// A failed test still drops its database (on a thread with its own runtime, as the
    /// test's runtime may be gone or busy).
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(&name));
            }
        })
        .join();
    }
}
