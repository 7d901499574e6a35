//! The capabilities the plugin gets from its host, as plain Rust traits.
//!
//! The sync core only ever talks to these traits, so it runs natively in unit tests with fakes
//! and inside the wasm component with the thin adapter in `wit_glue`. No generated binding type
//! appears outside that adapter.

use std::fmt;

/// An HTTP method the plugin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One outgoing HTTP request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// Name of the host-held secret to authenticate with.
    pub credential: Option<String>,
    /// Requested timeout.
    pub timeout_ms: Option<u32>,
}

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Lower-case header names with values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The origin is not allowed; nothing was sent.
    Denied(String),
    /// The host holds no such credential; nothing was sent.
    UnknownCredential(String),
    /// No complete response in time; the request may have been applied.
    Timeout,
    /// The connection failed or dropped; the request may have been applied.
    Transport(String),
    /// The body exceeded the host's cap.
    TooLarge(u64),
    /// The request is malformed.
    Invalid(String),
    /// The server's certificate failed verification; nothing was sent.
    Tls(String),
}

impl HttpError {
    /// Whether the request may have reached HubSpot (so a retry must be idempotent).
    pub fn maybe_applied(&self) -> bool {
        matches!(self, HttpError::Timeout | HttpError::Transport(_))
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Denied(origin) => write!(f, "the host does not allow requests to {origin}"),
            HttpError::UnknownCredential(name) => {
                write!(f, "the host holds no credential named '{name}'")
            }
            HttpError::Timeout => f.write_str("the request timed out"),
            HttpError::Transport(msg) => write!(f, "connection failed: {msg}"),
            HttpError::TooLarge(cap) => write!(f, "the response exceeded {cap} bytes"),
            HttpError::Invalid(msg) => write!(f, "invalid request: {msg}"),
            HttpError::Tls(msg) => write!(f, "the server's certificate was refused: {msg}"),
        }
    }
}

/// Outbound HTTP.
pub trait Http {
    /// Sends a request and waits for the complete response.
    fn send(&mut self, request: Request) -> Result<Response, HttpError>;

    /// Sends several requests at once (the host has some in flight together) and waits for
    /// every reply; the results are in the order of `requests`. One after the other unless
    /// the platform does better.
    fn send_all(&mut self, requests: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        requests.into_iter().map(|r| self.send(r)).collect()
    }
}

/// One SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// The value as text, converting numbers; `None` for NULL and blobs.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null | Value::Blob(_) => None,
            Value::Integer(i) => Some(i.to_string()),
            Value::Real(r) => Some(r.to_string()),
            Value::Text(t) => Some(t.clone()),
        }
    }

    /// The value as an integer, parsing text; `None` when it is not one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            Value::Real(r) => Some(*r as i64),
            Value::Text(t) => t.trim().parse().ok(),
            Value::Null | Value::Blob(_) => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The rows a query returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// Values in column order.
    pub rows: Vec<Vec<Value>>,
}

/// The effect of a data-changing statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecResult {
    /// Rows changed.
    pub rows_affected: u64,
    /// The last inserted id.
    pub last_insert_id: i64,
}

/// The SQL dialect of the tenant database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (the embedded default).
    Sqlite,
    /// MariaDB / MySQL (xentral's own engine).
    Mysql,
}

/// Why a statement failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// A table outside the grant.
    Denied(String),
    /// A constraint violation.
    Constraint(String),
    /// Invalid SQL or parameters.
    Invalid(String),
    /// Locked by someone else.
    Busy(String),
    /// Anything else.
    Io(String),
    /// A host limit on statements was reached.
    Limit(String),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Denied(what) => write!(f, "access denied: {what}"),
            DbError::Constraint(m) => write!(f, "constraint violated: {m}"),
            DbError::Invalid(m) => write!(f, "invalid statement: {m}"),
            DbError::Busy(m) => write!(f, "database busy: {m}"),
            DbError::Io(m) => write!(f, "database error: {m}"),
            DbError::Limit(m) => write!(f, "database limit reached: {m}"),
        }
    }
}

impl std::error::Error for DbError {}

/// The tenant's xentral database.
pub trait Db {
    /// Runs a statement that returns rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError>;
    /// Runs a statement that changes data.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecResult, DbError>;
    /// Starts a transaction.
    fn begin(&mut self) -> Result<(), DbError>;
    /// Commits the open transaction.
    fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls the open transaction back.
    fn rollback(&mut self) -> Result<(), DbError>;
    /// The database's dialect.
    fn dialect(&self) -> Dialect;
}

/// Time, possibly virtual.
pub trait Clock {
    /// Milliseconds since the epoch, UTC.
    fn now_ms(&self) -> i64;
    /// Waits (or advances a virtual clock).
    fn sleep_ms(&self, ms: u64);
    /// The tenant's IANA time zone.
    fn time_zone(&self) -> String;
}

/// The tenant's time zone, the one rule every local date and time goes by: an unknown name
/// is a clear error, never silently another zone.
pub fn time_zone(clock: &dyn Clock) -> Result<chrono_tz::Tz, crate::api::PluginError> {
    let name = clock.time_zone();
    name.parse().map_err(|_| {
        crate::api::PluginError::InvalidSettings(format!(
            "the tenant's time zone '{name}' is not an IANA time zone (such as Europe/Berlin); set it with `xentral-host tenant`"
        ))
    })
}

/// Severity of a log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Very detailed.
    Trace,
    /// Detailed.
    Debug,
    /// Normal progress.
    Info,
    /// Something to look at.
    Warn,
    /// Something failed.
    Error,
}

/// The job log.
pub trait Log {
    /// Appends an entry.
    fn log(&self, level: Level, message: &str, fields: &[(&str, &str)]);
}

/// Which secrets the host holds (never their values).
pub trait Secrets {
    /// Whether a secret of this name exists.
    fn exists(&self, name: &str) -> bool;
}

/// Everything the sync core may use, borrowed for one export call.
pub struct Platform<'a> {
    /// Outbound HTTP.
    pub http: &'a mut dyn Http,
    /// The tenant database.
    pub db: &'a mut dyn Db,
    /// Time.
    pub clock: &'a dyn Clock,
    /// The job log.
    pub log: &'a dyn Log,
    /// Secret names.
    pub secrets: &'a dyn Secrets,
}
