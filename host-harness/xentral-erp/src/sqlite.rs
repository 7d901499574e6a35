//! The embedded backend: one SQLite file per tenant, optionally fenced by a [`TableGrant`].

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::limits::Limit;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, ToSql, params_from_iter};

use crate::database::{
    Database, DbError, Dialect, ExecResult, NowFn, ResultBudget, Rows, StatementLimits,
    deadline_passed, is_past,
};
use crate::grant::{AuthState, SchemaSnapshot, TableGrant};
use crate::mysql_compat;
use crate::value::Value;

/// How long a statement waits for another connection's lock before failing with
/// [`DbError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A tenant database on SQLite.
///
/// Every connection gets the [`mysql_compat`] functions on its own clock. After
/// [`with_grant`](Self::with_grant) SQLite's authorizer checks every statement against the grant
/// while it is prepared; SQL-level transaction statements are denied and transactions go through
/// [`Database::begin`]/[`commit`](Database::commit)/[`rollback`](Database::rollback). Dropping the
/// value closes the connection, which rolls back an open transaction.
pub struct SqliteDatabase {
    conn: Connection,
    guard: Arc<Guard>,
    limits: Option<StatementLimits>,
    timer: Arc<Mutex<Timer>>,
    /// `PRAGMA query_only` is on ([`Database::set_read_only`]): SQLITE_READONLY is its refusal.
    read_only: bool,
}

/// What a SQLite database's files look like from outside: any committed write by any connection
/// changes it, without opening the database (opening one and reading its schema costs about a
/// millisecond, most of a scheduler pass over idle tenants).
///
/// A commit appends frames to the `-wal` file and moves the wal-index header in `-shm` (its
/// frame count, checksums and salts); a checkpoint or a rollback-journal write changes the main
/// file. So the stamp holds the length and modification time of the main and `-wal` files and
/// the two wal-index header copies (not the readers' marks after them, which a mere read moves).
/// Equal stamps mean no write in between; a different stamp may also follow a mere open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeStamp {
    files: [Option<(u64, std::time::SystemTime)>; 2],
    wal_index_header: Vec<u8>,
}

/// Bytes at the start of `-shm`: the wal-index header, kept twice (SQLite's `WalIndexHdr`).
const WAL_INDEX_HEADER_BYTES: usize = 96;

impl ChangeStamp {
    /// The stamp of the database at `path` now.
    pub fn of(path: &Path) -> std::io::Result<ChangeStamp> {
        let with_suffix = |suffix: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::path::PathBuf::from(p)
        };
        let file = |p: &Path| match std::fs::metadata(p) {
            Ok(m) => Ok(Some((m.len(), m.modified()?))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        let wal_index_header = match std::fs::File::open(with_suffix("-shm")) {
            Ok(f) => {
                use std::io::Read;
                let mut header = Vec::with_capacity(WAL_INDEX_HEADER_BYTES);
                f.take(WAL_INDEX_HEADER_BYTES as u64)
                    .read_to_end(&mut header)?;
                header
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(ChangeStamp {
            files: [file(path)?, file(&with_suffix("-wal"))?],
            wal_index_header,
        })
    }
}

/// The deadlines the progress handler enforces while a statement runs.
#[derive(Debug, Default)]
struct Timer {
    /// The job's deadline.
    job: Option<Instant>,
    /// The running statement's deadline.
    statement: Option<Instant>,
    /// Why the handler interrupted the last statement.
    fired: Option<DbError>,
}

impl Timer {
    /// Called by SQLite every [`PROGRESS_OPS`] virtual-machine steps; `true` interrupts.
    fn expired(&mut self) -> bool {
        let now = Instant::now();
        if self.job.is_some_and(|d| now >= d) {
            self.fired = Some(deadline_passed());
        } else if self.statement.is_some_and(|d| now >= d) {
            self.fired = Some(DbError::Limit(
                "the statement ran past its time limit and was stopped".into(),
            ));
        }
        self.fired.is_some()
    }
}

/// How many SQLite virtual-machine steps run between two looks at the clock.
const PROGRESS_OPS: i32 = 1_000;

/// State shared with the authorizer callback.
#[derive(Default)]
struct Guard {
    /// Set while the backend itself runs BEGIN/COMMIT/ROLLBACK or makes the connection read-only.
    internal: AtomicBool,
    /// What the authorizer saw so far in the statement being prepared.
    state: Mutex<AuthState>,
    /// The first thing the authorizer denied during the current prepare.
    denied: Mutex<Option<String>>,
}

impl Guard {
    /// Forgets the previous statement before a new one is prepared.
    fn reset(&self) {
        self.take_denied();
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = AuthState::default();
    }

    fn check(
        &self,
        grant: &TableGrant,
        schema: &SchemaSnapshot,
        ctx: &rusqlite::hooks::AuthContext<'_>,
    ) -> Result<(), String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.internal = self.internal.load(Ordering::SeqCst);
        grant.check(ctx, &mut state, schema)
    }

    fn take_denied(&self) -> Option<String> {
        self.denied.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn record_denied(&self, what: String) {
        self.denied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(what);
    }
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database file at `path`: WAL journal, a busy timeout of
    /// [`BUSY_TIMEOUT`], no foreign-key enforcement (xentral declares none), MySQL shims on `now`.
    pub fn open(path: &Path, now: NowFn) -> Result<Self, DbError> {
        let conn = Connection::open(path).map_err(|e| map_error(e, None))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(|e| map_error(e, None))?;
        Self::configure(conn, now)
    }

    /// Opens a private in-memory database (for tests).
    pub fn open_in_memory(now: NowFn) -> Result<Self, DbError> {
        let conn = Connection::open_in_memory().map_err(|e| map_error(e, None))?;
        Self::configure(conn, now)
    }

    fn configure(conn: Connection, now: NowFn) -> Result<Self, DbError> {
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.set_prepared_statement_cache_capacity(128);
            conn.execute_batch("PRAGMA foreign_keys = OFF")?;
            mysql_compat::register(&conn, now)
        };
        setup().map_err(|e| map_error(e, None))?;
        Ok(Self {
            conn,
            guard: Arc::default(),
            read_only: false,
            limits: None,
            timer: Arc::default(),
        })
    }

    /// From now on every statement is bounded by `limits`: its running time (a progress
    /// handler interrupts it, and also once the job's deadline passes), its result's rows and
    /// bytes, and the length of any text or blob SQLite builds (`SQLITE_LIMIT_LENGTH`, so
    /// `zeroblob(300000000)` fails instead of filling the host's memory).
    pub fn with_limits(mut self, limits: StatementLimits) -> Self {
        let max_length = i32::try_from(limits.max_value_bytes).unwrap_or(i32::MAX);
        // Cannot fail for a valid limit id; the value is clamped by SQLite to its hard maximum.
        let _ = self.conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_length);
        let timer = Arc::clone(&self.timer);
        self.conn.progress_handler(
            PROGRESS_OPS,
            Some(move || timer.lock().unwrap_or_else(|e| e.into_inner()).expired()),
        );
        self.limits = Some(limits);
        self
    }

    /// Arms the statement timer before a statement runs; refuses to start after the deadline.
    fn start_statement(&self) -> Result<(), DbError> {
        let mut timer = self.timer.lock().unwrap_or_else(|e| e.into_inner());
        if is_past(timer.job) {
            return Err(deadline_passed());
        }
        timer.fired = None;
        timer.statement = self.limits.map(|l| Instant::now() + l.statement_time);
        Ok(())
    }

    /// The error of a failed step: the timer's reason when it interrupted the statement.
    fn step_error(&self, e: rusqlite::Error) -> DbError {
        let fired = self
            .timer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fired
            .take();
        match (fired, &e) {
            (Some(reason), rusqlite::Error::SqliteFailure(f, _))
                if f.code == ErrorCode::OperationInterrupted =>
            {
                reason
            }
            (_, rusqlite::Error::SqliteFailure(f, _))
                if self.read_only && f.code == ErrorCode::ReadOnly =>
            {
                DbError::Denied(crate::database::READ_ONLY.into())
            }
            _ => map_error(e, self.guard.take_denied()),
        }
    }

    /// From now on every statement is checked against `grant`; see [`TableGrant`] for the rules.
    pub fn with_grant(self, grant: TableGrant) -> Self {
        let guard = Arc::clone(&self.guard);
        let schema = self.schema_snapshot();
        self.conn.authorizer(Some(
            move |ctx: rusqlite::hooks::AuthContext<'_>| match guard.check(&grant, &schema, &ctx) {
                Ok(()) => rusqlite::hooks::Authorization::Allow,
                Err(what) => {
                    guard.record_denied(what);
                    rusqlite::hooks::Authorization::Deny
                }
            },
        ));
        self
    }

    /// The tables and triggers as they are now (a failure to read them leaves both empty,
    /// which only makes the authorizer stricter).
    fn schema_snapshot(&self) -> SchemaSnapshot {
        let mut snapshot = SchemaSnapshot::default();
        let read = |snapshot: &mut SchemaSnapshot| -> rusqlite::Result<()> {
            let mut stmt = self.conn.prepare(
                "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'trigger')",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let (kind, name, table): (String, String, String) =
                    (row.get(0)?, row.get(1)?, row.get(2)?);
                if kind == "table" {
                    snapshot.tables.insert(name.to_ascii_lowercase());
                } else {
                    snapshot
                        .triggers
                        .insert(name.to_ascii_lowercase(), table.to_ascii_lowercase());
                }
            }
            Ok(())
        };
        if read(&mut snapshot).is_err() {
            snapshot = SchemaSnapshot::default();
        }
        snapshot
    }

    /// The raw connection, for host-internal work such as [`crate::migrate`]. Statements run here
    /// are still subject to the grant, if one is set.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Creates or upgrades the xentral schema on this database; see [`crate::migrate`].
    pub fn migrate(&self) -> Result<u32, DbError> {
        crate::migrations::migrate(&self.conn)
    }

    /// Prepares through the connection's statement cache: a sync issues the same few
    /// statements thousands of times, and preparing (with the authorizer walking every column
    /// of a 250-column table) dominated its cost. The grant cannot change after
    /// [`with_grant`](Self::with_grant), so a cached statement stays authorised.
    fn prepare(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, DbError> {
        self.guard.reset();
        self.conn
            .prepare_cached(&mysql_compat::rewrite(sql))
            .map_err(|e| self.error(e))
    }

    fn error(&self, e: rusqlite::Error) -> DbError {
        map_error(e, self.guard.take_denied())
    }

    /// Runs one of the backend's own transaction statements past the authorizer.
    fn internal(&self, sql: &str) -> Result<(), DbError> {
        self.guard.reset();
        self.guard.internal.store(true, Ordering::SeqCst);
        let result = self.conn.execute_batch(sql);
        self.guard.internal.store(false, Ordering::SeqCst);
        result.map_err(|e| self.error(e))
    }
}

impl Database for SqliteDatabase {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.start_statement()?;
        let mut budget = self.limits.map(ResultBudget::new);
        let mut stmt = self.prepare(sql)?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let scales: Vec<Option<usize>> = stmt
            .columns()
            .iter()
            .map(|c| c.decl_type().and_then(decimal_scale))
            .collect();
        let mut out = Vec::new();
        let mut rows = stmt
            .query(params_from_iter(params))
            .map_err(|e| self.step_error(e))?;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => return Err(self.step_error(e)),
            };
            let values = (0..columns.len())
                .map(|i| {
                    let v = row.get_ref(i).map_err(|e| map_error(e, None))?;
                    Ok(to_value(v, scales[i]))
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            if let Some(budget) = &mut budget {
                budget.add(&values)?;
            }
            out.push(values);
        }
        Ok(Rows { columns, rows: out })
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecResult, DbError> {
        self.start_statement()?;
        let mut stmt = self.prepare(sql)?;
        let changed = stmt
            .execute(params_from_iter(params))
            .map_err(|e| self.step_error(e))?;
        Ok(ExecResult {
            rows_affected: changed as u64,
            last_insert_id: self.conn.last_insert_rowid(),
        })
    }

    /// `BEGIN IMMEDIATE`: takes the write lock up front (waiting up to [`BUSY_TIMEOUT`]), so a
    /// transaction never fails half-way because another connection wrote in between.
    fn begin(&mut self) -> Result<(), DbError> {
        if self.in_transaction() {
            return Err(DbError::Invalid("a transaction is already open".into()));
        }
        self.internal("BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        if !self.in_transaction() {
            return Err(DbError::Invalid("no transaction is open".into()));
        }
        self.internal("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        if !self.in_transaction() {
            return Ok(());
        }
        self.internal("ROLLBACK")
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.timer.lock().unwrap_or_else(|e| e.into_inner()).job = deadline;
    }

    fn set_read_only(&mut self) -> Result<(), DbError> {
        self.internal("PRAGMA query_only = ON")?;
        self.read_only = true;
        Ok(())
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The scale of a declared `DECIMAL(p,s)` column type.
fn decimal_scale(decl: &str) -> Option<usize> {
    let lower = decl.to_ascii_lowercase();
    let args = lower.strip_prefix("decimal(")?.strip_suffix(')')?;
    args.split_once(',')?.1.trim().parse().ok()
}

/// Converts a SQLite value; numbers in a `DECIMAL(p,s)` column become text with `s` decimals.
fn to_value(v: ValueRef<'_>, decimal_scale: Option<usize>) -> Value {
    match (v, decimal_scale) {
        (ValueRef::Integer(i), Some(s)) => Value::Text(format!("{:.*}", s, i as f64)),
        (ValueRef::Real(f), Some(s)) => Value::Text(format!("{f:.s$}")),
        (ValueRef::Null, _) => Value::Null,
        (ValueRef::Integer(i), None) => Value::Integer(i),
        (ValueRef::Real(f), None) => Value::Real(f),
        (ValueRef::Text(t), _) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        (ValueRef::Blob(b), _) => Value::Blob(b.to_vec()),
    }
}

/// Maps a SQLite error to a [`DbError`]; `denied` is what the authorizer refused, if anything.
pub(crate) fn map_error(e: rusqlite::Error, denied: Option<String>) -> DbError {
    use rusqlite::Error as E;
    let text = e.to_string();
    let code = match &e {
        E::SqliteFailure(f, _) | E::SqlInputError { error: f, .. } => Some(f.code),
        _ => None,
    };
    match (code, e) {
        (Some(ErrorCode::AuthorizationForStatementDenied), _) => {
            DbError::Denied(denied.unwrap_or_else(|| "not authorized".into()))
        }
        (Some(ErrorCode::ConstraintViolation), _) => DbError::Constraint(text),
        (Some(ErrorCode::TooBig), _) => DbError::Limit(format!(
            "a text or blob value exceeds the host's length limit ({text})"
        )),
        (Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked), _) => DbError::Busy(text),
        (
            Some(
                ErrorCode::SystemIoFailure
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::NotADatabase
                | ErrorCode::PermissionDenied
                | ErrorCode::ReadOnly
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::OutOfMemory
                | ErrorCode::NoLargeFileSupport,
            ),
            _,
        ) => DbError::Io(text),
        (Some(_), _) => DbError::Invalid(text),
        (
            None,
            E::InvalidParameterCount(..)
            | E::InvalidParameterName(_)
            | E::InvalidColumnIndex(_)
            | E::InvalidColumnName(_)
            | E::InvalidColumnType(..)
            | E::MultipleStatement
            | E::ExecuteReturnedResults
            | E::FromSqlConversionFailure(..)
            | E::IntegralValueOutOfRange(..)
            | E::Utf8Error(_)
            | E::NulError(_)
            | E::ToSqlConversionFailure(_)
            | E::InvalidQuery,
        ) => DbError::Invalid(text),
        (None, _) => DbError::Io(text),
    }
}

#[cfg(test)]
mod change_stamp_tests {
    use super::*;

    fn open(path: &Path) -> SqliteDatabase {
        SqliteDatabase::open(path, Arc::new(|| 0)).unwrap()
    }

    fn read(path: &Path) {
        open(path).query("SELECT COUNT(*) FROM t", &[]).unwrap();
    }

    fn write(db: &mut SqliteDatabase, v: i64) {
        db.execute("UPDATE t SET v = ?", &[Value::Integer(v)])
            .unwrap();
    }

    fn database() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite");
        let mut db = open(&path);
        db.execute("CREATE TABLE t (v INTEGER)", &[]).unwrap();
        db.execute("INSERT INTO t (v) VALUES (1)", &[]).unwrap();
        (dir, path)
    }

    #[test]
    fn a_read_leaves_the_stamp_alone_with_and_without_another_connection_open() {
        let (_dir, path) = database();
        let closed = ChangeStamp::of(&path).unwrap();
        read(&path);
        assert_eq!(ChangeStamp::of(&path).unwrap(), closed);
        let _keeper = open(&path);
        read(&path);
        let open_elsewhere = ChangeStamp::of(&path).unwrap();
        read(&path);
        assert_eq!(ChangeStamp::of(&path).unwrap(), open_elsewhere);
    }

    #[test]
    fn every_committed_write_changes_the_stamp_even_one_of_the_same_size() {
        let (_dir, path) = database();
        let mut keeper = open(&path);
        let mut before = ChangeStamp::of(&path).unwrap();
        for v in [2, 3, 2, 3] {
            write(&mut keeper, v);
            let after = ChangeStamp::of(&path).unwrap();
            assert_ne!(after, before, "write of {v}");
            before = after;
        }
        // Written by a connection that closes (the last one checkpoints).
        drop(keeper);
        let closed = ChangeStamp::of(&path).unwrap();
        write(&mut open(&path), 4);
        assert_ne!(ChangeStamp::of(&path).unwrap(), closed);
    }

    #[test]
    fn a_missing_database_has_a_stamp_that_changes_when_it_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.sqlite");
        let missing = ChangeStamp::of(&path).unwrap();
        open(&path)
            .execute("CREATE TABLE t (v INTEGER)", &[])
            .unwrap();
        assert_ne!(ChangeStamp::of(&path).unwrap(), missing);
    }
}
