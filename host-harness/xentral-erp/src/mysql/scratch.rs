//! Throw-away databases on a MariaDB server, for tests and benchmarks that run in parallel.
//!
//! The server comes from [`TEST_URL_VAR`] (`mysql://root@127.0.0.1:3306/test` on CI); each
//! [`ScratchDatabase`] is a uniquely named database (`xt_…`) that is dropped again when the
//! value is dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::database::{DbError, system_clock};
use crate::mysql::account::account_prefix;
use crate::mysql::{MysqlDatabase, MysqlUrl};

/// The environment variable naming the MariaDB server tests run against.
pub const TEST_URL_VAR: &str = "XENTRAL_TEST_MYSQL_URL";

/// What a test prints when [`TEST_URL_VAR`] is not set and it skips its MariaDB run.
pub const SKIP_HINT: &str =
    "skipped: set XENTRAL_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test to run against MariaDB";

/// Reports that `test` skipped its MariaDB run, with [`SKIP_HINT`]. Written straight to the
/// process's stderr, past the test harness's output capture, so the skip shows in every run.
pub fn report_skip(test: &str) {
    use std::io::Write;
    writeln!(std::io::stderr(), "{test}: {SKIP_HINT}").ok();
}

/// The test server's URL from [`TEST_URL_VAR`]; `None` when unset or empty.
///
/// # Panics
/// When the variable is set but is not a valid URL: a misconfigured CI must fail, not skip.
pub fn test_server_url() -> Option<MysqlUrl> {
    let raw = std::env::var(TEST_URL_VAR)
        .ok()
        .filter(|s| !s.trim().is_empty())?;
    match MysqlUrl::parse(raw.trim()) {
        Ok(url) => Some(url),
        Err(e) => panic!("{TEST_URL_VAR}: {e}"),
    }
}

/// A fresh, empty database on a MariaDB server, dropped on drop.
#[derive(Debug)]
pub struct ScratchDatabase {
    server: MysqlUrl,
    name: String,
}

impl ScratchDatabase {
    /// Creates a uniquely named database on the server `server` points at (its own database
    /// part is ignored); `server`'s user needs `CREATE` and `DROP`.
    pub fn create(server: &MysqlUrl) -> Result<Self, DbError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "xt_{}_{}_{nanos:08x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let server = server.with_database(None);
        MysqlDatabase::connect(&server, system_clock())?.create_database(&name)?;
        Ok(ScratchDatabase { server, name })
    }

    /// Creates a scratch database on the test server, or `None` when [`TEST_URL_VAR`] is unset.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be used: CI must never skip silently.
    pub fn on_test_server() -> Option<Self> {
        let server = test_server_url()?;
        match Self::create(&server) {
            Ok(db) => Some(db),
            Err(e) => panic!("{TEST_URL_VAR}={server}: cannot create a scratch database: {e}"),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the database (with the server URL's password, if it had one).
    pub fn url(&self) -> MysqlUrl {
        self.server.with_database(Some(&self.name))
    }
}

impl Drop for ScratchDatabase {
    /// Drops the database and its plugin accounts ([`account_prefix`]), wherever created.
    fn drop(&mut self) {
        let dropped = MysqlDatabase::connect(&self.server, system_clock()).and_then(|mut db| {
            db.drop_database(&self.name)?;
            db.drop_users_with_prefix(&account_prefix(&self.name))
        });
        if let Err(e) = dropped {
            tracing::warn!(database = %self.name, error = %e, "could not drop a scratch database");
        }
    }
}
