//! Fakes of the platform traits for native unit tests of the sync core.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use crate::platform::{
    Clock, Db, DbError, Dialect, ExecResult, Http, HttpError, Level, Log, Request, Response, Rows,
    Secrets, Value,
};

/// A virtual clock: sleeping advances it.
pub struct FakeClock {
    now: Cell<i64>,
}

impl FakeClock {
    /// Starts at `ms`.
    pub fn new(ms: i64) -> Self {
        FakeClock { now: Cell::new(ms) }
    }

    /// The current time.
    pub fn now(&self) -> i64 {
        self.now.get()
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.now.get()
    }
    fn sleep_ms(&self, ms: u64) {
        self.now.set(self.now.get() + ms as i64);
    }
    fn time_zone(&self) -> String {
        "Europe/Berlin".into()
    }
}

/// Canned HTTP responses, recorded requests.
pub struct FakeHttp {
    replies: VecDeque<Response>,
    always: Option<Response>,
    /// Requests seen.
    pub requests: RefCell<Vec<Request>>,
}

impl FakeHttp {
    /// Replies in order.
    pub fn new(replies: Vec<Response>) -> Self {
        FakeHttp {
            replies: replies.into(),
            always: None,
            requests: RefCell::new(Vec::new()),
        }
    }

    /// The same reply every time.
    pub fn always(reply: Response) -> Self {
        FakeHttp {
            replies: VecDeque::new(),
            always: Some(reply),
            requests: RefCell::new(Vec::new()),
        }
    }
}

impl Http for FakeHttp {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        self.requests.borrow_mut().push(request);
        self.replies
            .pop_front()
            .or_else(|| self.always.clone())
            .ok_or_else(|| HttpError::Transport("no reply scripted".into()))
    }
}

/// A host that holds every secret a job names (their values never reach the plugin).
pub struct AllSecrets;

impl Secrets for AllSecrets {
    fn exists(&self, _name: &str) -> bool {
        true
    }
}

/// A log that drops everything.
pub struct NullLog;

impl Log for NullLog {
    fn log(&self, _level: Level, _message: &str, _fields: &[(&str, &str)]) {}
}

/// The tenant database for native tests: an in-memory SQLite with xentral's tables, the
/// same backend (and MySQL compatibility functions) the host gives the plugin on SQLite.
pub struct MemoryDb {
    db: xentral_erp::SqliteDatabase,
}

impl MemoryDb {
    /// An empty xentral database, its clock at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        let db = xentral_erp::SqliteDatabase::open_in_memory(std::sync::Arc::new(move || now_ms))
            .expect("an in-memory database");
        db.migrate().expect("the xentral schema");
        MemoryDb { db }
    }

    /// The names of the tables in the database.
    pub fn tables(&mut self) -> Vec<String> {
        use xentral_erp::Database;
        self.db
            .query(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                &[],
            )
            .expect("the schema")
            .rows
            .into_iter()
            .filter_map(|r| r.first().and_then(xentral_erp::Value::to_text))
            .collect()
    }
}

fn to_erp(v: &Value) -> xentral_erp::Value {
    match v {
        Value::Null => xentral_erp::Value::Null,
        Value::Integer(i) => xentral_erp::Value::Integer(*i),
        Value::Real(r) => xentral_erp::Value::Real(*r),
        Value::Text(t) => xentral_erp::Value::Text(t.clone()),
        Value::Blob(b) => xentral_erp::Value::Blob(b.clone()),
    }
}

fn from_erp(v: xentral_erp::Value) -> Value {
    match v {
        xentral_erp::Value::Null => Value::Null,
        xentral_erp::Value::Integer(i) => Value::Integer(i),
        xentral_erp::Value::Real(r) => Value::Real(r),
        xentral_erp::Value::Text(t) => Value::Text(t),
        xentral_erp::Value::Blob(b) => Value::Blob(b),
    }
}

fn db_error(e: xentral_erp::DbError) -> DbError {
    match e {
        xentral_erp::DbError::Denied(m) => DbError::Denied(m),
        xentral_erp::DbError::Constraint(m) => DbError::Constraint(m),
        xentral_erp::DbError::Invalid(m) => DbError::Invalid(m),
        xentral_erp::DbError::Busy(m) => DbError::Busy(m),
        xentral_erp::DbError::Io(m) => DbError::Io(m),
        e @ xentral_erp::DbError::Limit(_) => DbError::Limit(e.to_string()),
    }
}

impl Db for MemoryDb {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        use xentral_erp::Database;
        let params: Vec<_> = params.iter().map(to_erp).collect();
        let r = self.db.query(sql, &params).map_err(db_error)?;
        Ok(Rows {
            columns: r.columns,
            rows: r
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(from_erp).collect())
                .collect(),
        })
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecResult, DbError> {
        use xentral_erp::Database;
        let params: Vec<_> = params.iter().map(to_erp).collect();
        let r = self.db.execute(sql, &params).map_err(db_error)?;
        Ok(ExecResult {
            rows_affected: r.rows_affected,
            last_insert_id: r.last_insert_id,
        })
    }

    fn begin(&mut self) -> Result<(), DbError> {
        xentral_erp::Database::begin(&mut self.db).map_err(db_error)
    }

    fn commit(&mut self) -> Result<(), DbError> {
        xentral_erp::Database::commit(&mut self.db).map_err(db_error)
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        xentral_erp::Database::rollback(&mut self.db).map_err(db_error)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}
