//! The database-access abstraction every backend implements, and the types it speaks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::value::Value;

/// The clock of a database: milliseconds since the Unix epoch, UTC.
///
/// `NOW()` and the `ON UPDATE current_timestamp()` emulation read it, so tests can run a
/// tenant on a virtual clock.
pub type NowFn = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The real wall clock as a [`NowFn`].
pub fn system_clock() -> NowFn {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// The result of a query: column names in select order and the rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names as the statement names them (aliases win).
    pub columns: Vec<String>,
    /// One vector per row, in column order.
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Index of a column by name, compared case-insensitively as MySQL does.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }

    /// The value in `row` under column `name`.
    pub fn get(&self, row: usize, name: &str) -> Option<&Value> {
        let col = self.column_index(name)?;
        self.rows.get(row)?.get(col)
    }

    /// The first column of the first row: the answer of `SELECT COUNT(*) …` and the like.
    pub fn scalar(&self) -> Option<&Value> {
        self.rows.first()?.first()
    }

    /// Row `row` as a map of column name → value.
    pub fn row_map(&self, row: usize) -> Option<BTreeMap<String, Value>> {
        let values = self.rows.get(row)?;
        Some(
            self.columns
                .iter()
                .cloned()
                .zip(values.iter().cloned())
                .collect(),
        )
    }
}

/// What a write statement did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecResult {
    /// Rows inserted, updated or deleted by the statement itself (not by triggers).
    pub rows_affected: u64,
    /// The connection's last auto-generated id, as `LAST_INSERT_ID()` reports it.
    pub last_insert_id: i64,
}

/// The SQL dialect a backend speaks, so callers can pick dialect-specific DDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite with the MySQL function shims of [`crate::mysql_compat`].
    Sqlite,
    /// MariaDB / MySQL, xentral's own engine.
    Mysql,
}

/// Why a statement failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// The table grant forbids it. Carries the table name, or for statements that touch no table
    /// the statement kind (`"ATTACH"`, `"PRAGMA journal_mode"`, `"BEGIN"`).
    #[error("access denied: {0}")]
    Denied(String),
    /// A constraint (NOT NULL, UNIQUE, PRIMARY KEY, CHECK) was violated.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// The statement is malformed, names something unknown, or is used wrongly.
    #[error("invalid statement: {0}")]
    Invalid(String),
    /// Another connection holds a lock; retrying later may succeed.
    #[error("database busy: {0}")]
    Busy(String),
    /// The storage failed (disk, permissions, corruption).
    #[error("database i/o error: {0}")]
    Io(String),
    /// A host limit stopped the statement: its time, its result's size, or the job's deadline.
    #[error("stopped by a host limit: {0}")]
    Limit(String),
}

/// What one guest connection may cost: the host's bounds on every statement the plugin runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementLimits {
    /// The longest one statement may run (MariaDB `max_statement_time`; on SQLite the progress
    /// handler interrupts it).
    pub statement_time: Duration,
    /// The most rows one result may have; the query is stopped past it.
    pub max_rows: usize,
    /// The most bytes (text, blobs, 8 per number) one result may hold; stopped past it.
    pub max_bytes: usize,
    /// The longest text or blob value SQLite may build (`SQLITE_LIMIT_LENGTH`); MariaDB's own
    /// bound is the server's `max_allowed_packet`.
    pub max_value_bytes: usize,
}

impl Default for StatementLimits {
    fn default() -> Self {
        StatementLimits {
            statement_time: Duration::from_secs(30),
            max_rows: 200_000,
            max_bytes: 64 << 20,
            max_value_bytes: 16 << 20,
        }
    }
}

/// Counts a result as it is read and says when it passes the limits.
#[derive(Debug)]
pub(crate) struct ResultBudget {
    limits: StatementLimits,
    rows: usize,
    bytes: usize,
}

impl ResultBudget {
    pub(crate) fn new(limits: StatementLimits) -> Self {
        ResultBudget {
            limits,
            rows: 0,
            bytes: 0,
        }
    }

    /// Adds one row; `Err` once the result is over a limit.
    pub(crate) fn add(&mut self, row: &[Value]) -> Result<(), DbError> {
        self.rows += 1;
        self.bytes += row.iter().map(Value::size_bytes).sum::<usize>();
        if self.rows > self.limits.max_rows {
            return Err(DbError::Limit(format!(
                "the result has more than {} rows; the query was stopped",
                self.limits.max_rows
            )));
        }
        if self.bytes > self.limits.max_bytes {
            return Err(DbError::Limit(format!(
                "the result is larger than {} bytes; the query was stopped",
                self.limits.max_bytes
            )));
        }
        Ok(())
    }
}

/// The error a statement gets once the job's deadline has passed.
pub(crate) fn deadline_passed() -> DbError {
    DbError::Limit("the job's deadline passed; the statement was stopped".into())
}

/// Whether `deadline` has passed.
pub(crate) fn is_past(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// A tenant's xentral database as the host and the plugin see it.
///
/// Parameters are always bound (`?` placeholders), never spliced. Implementations must be usable
/// from the thread that owns them; they are `Send` so a job can run on a worker thread.
pub trait Database: Send {
    /// Runs a statement that returns rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError>;
    /// Runs a statement that returns no rows.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecResult, DbError>;
    /// Opens a transaction; nesting is an error.
    fn begin(&mut self) -> Result<(), DbError>;
    /// Commits the open transaction; an error when none is open.
    fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls back the open transaction; does nothing when none is open.
    fn rollback(&mut self) -> Result<(), DbError>;
    /// Whether a transaction is open.
    fn in_transaction(&self) -> bool;
    /// The SQL dialect of this backend.
    fn dialect(&self) -> Dialect;
    /// From now on no statement runs past `deadline` (the job's wall-time limit): a statement
    /// still running then is stopped from outside and fails with [`DbError::Limit`], as does
    /// every statement after it. `None` lifts the deadline.
    fn set_deadline(&mut self, deadline: Option<Instant>);
    /// From now on the database itself refuses every write on this connection (SQLite's
    /// `query_only`, a MariaDB session whose transactions are `READ ONLY`): a dry run cannot
    /// change anything, whatever the plugin sends. A refused write fails with
    /// [`DbError::Denied`] carrying [`READ_ONLY`].
    fn set_read_only(&mut self) -> Result<(), DbError>;
}

/// What [`DbError::Denied`] carries for a write refused on a read-only connection.
pub const READ_ONLY: &str = "this connection is read-only (a dry run writes nothing)";
