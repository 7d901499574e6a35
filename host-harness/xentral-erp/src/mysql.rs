//! The production backend: a tenant database on MariaDB/MySQL, xentral's own engine.
//!
//! One synchronous connection ([`mysql`] crate, no TLS) per [`MysqlDatabase`], set up the way
//! xentral sets up its sessions: `SQL_MODE='NO_AUTO_VALUE_ON_ZERO'` (not strict), utf8mb4, UTC
//! session time zone. Statements run as server-side prepared statements with `?` placeholders,
//! so parameters are always bound. The connection's clock follows the database's [`NowFn`]
//! (`SET timestamp`), so `NOW()` and `current_timestamp()` defaults run on a virtual clock in
//! tests just as the SQLite shims do.
//!
//! What both backends agree on: `rows_affected` counts *matched* rows (`CLIENT_FOUND_ROWS`, as
//! SQLite counts them), `last_insert_id` is the connection's last generated id, `DECIMAL` values
//! come back as text with the column's scale (`"1234.50"`), `DATE`/`DATETIME`/`TIME` as MySQL's
//! text formats, and errors map to the same [`DbError`] kinds.
//!
//! The table grant is enforced first by the server, through the privileges of the account the
//! connection logs in with ([`TableGrant::mysql_grants`]), and second by the host:
//! [`MysqlDatabase::with_grant`] parses every statement (see [`check`]) and refuses what the
//! grant does not allow before it reaches the server. The reference schema is loaded as-is by
//! [`MysqlDatabase::migrate`] (see the [`reference`](mod@reference) module).
//!
//! What it deliberately does not: pool connections, speak TLS, or create database users.

pub mod account;
pub mod check;
pub mod reference;
/// Scratch databases and accounts on a test server: for tests only, behind the `scratch`
/// feature, so no production build carries code that creates and drops databases.
#[cfg(feature = "scratch")]
pub mod scratch;
mod watchdog;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use ::mysql::consts::{CapabilityFlags, ColumnType};
use ::mysql::prelude::Queryable;
use ::mysql::{Column, Conn, OptsBuilder, Params};

use crate::database::{
    Database, DbError, Dialect, ExecResult, NowFn, ResultBudget, Rows, StatementLimits,
};
use crate::grant::TableGrant;
use crate::laender;
use crate::value::Value;

use self::check::StatementCheck;
use self::watchdog::Watchdog;

/// The default MariaDB/MySQL TCP port.
pub const DEFAULT_PORT: u16 = 3306;

/// How long a statement waits for another transaction's row lock (`innodb_lock_wait_timeout`,
/// every session) or, on guest connections, a metadata lock (`lock_wait_timeout`) before
/// failing with [`DbError::Busy`], like SQLite's busy timeout. Seconds.
pub const LOCK_WAIT_TIMEOUT_SECS: u32 = 5;

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The session settings every connection starts with, as xentral's own database layer sets them.
pub const SESSION_SETUP: &[&str] = &[
    "SET NAMES utf8mb4",
    "SET time_zone = '+00:00'",
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
    "SET SESSION innodb_lock_wait_timeout = 5",
];

/// Prepared statements kept per connection; the plugin reuses a few dozen texts.
const STATEMENT_CACHE: usize = 256;

/// The MariaDB charset number of binary strings (`BLOB`, `VARBINARY`).
const BINARY_CHARSET: u16 = 63;

/// A `mysql://` URL could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MariaDB URL: {0} (expected mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)")]
pub struct MysqlUrlError(pub String);

/// Where a tenant database lives: `mysql://USER[:PASSWORD]@HOST[:PORT][/DATABASE]`.
///
/// [`Display`](fmt::Display) never prints the password, so a URL can be logged and stored as it
/// prints; the password travels separately (the host keeps it in the tenant's secret store).
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlUrl {
    /// The user name.
    pub user: String,
    /// The password, if any.
    pub password: Option<String>,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The database (schema), if named.
    pub database: Option<String>,
}

impl MysqlUrl {
    /// Parses a `mysql://` (or `mariadb://`) URL; user, host and database are percent-decoded.
    pub fn parse(s: &str) -> Result<Self, MysqlUrlError> {
        let err = |m: &str| MysqlUrlError(format!("{m} in `{}`", redact_password(s)));
        let url = url::Url::parse(s).map_err(|e| err(&e.to_string()))?;
        if !matches!(url.scheme(), "mysql" | "mariadb") {
            return Err(err("the scheme must be mysql://"));
        }
        let decode = |p: &str| {
            percent_decode(p).ok_or_else(|| err("a part is not valid percent-encoded UTF-8"))
        };
        let user = decode(url.username())?;
        if user.is_empty() {
            return Err(err("no user"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| err("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let database = match url.path().trim_start_matches('/') {
            "" => None,
            path => {
                let name = decode(path)?;
                validate_database_name(&name).map_err(|_| {
                    err("the database name must be 1-64 characters from A-Z, a-z, 0-9 and _")
                })?;
                Some(name)
            }
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(err("query parameters are not supported"));
        }
        Ok(MysqlUrl {
            user,
            password: url.password().map(decode).transpose()?,
            host,
            port: url.port().unwrap_or(DEFAULT_PORT),
            database,
        })
    }

    /// The same URL without its password.
    pub fn without_password(&self) -> Self {
        MysqlUrl {
            password: None,
            ..self.clone()
        }
    }

    /// The same server and user, another database (`None`: the server without a database).
    pub fn with_database(&self, database: Option<&str>) -> Self {
        MysqlUrl {
            database: database.map(str::to_owned),
            ..self.clone()
        }
    }

    pub(crate) fn opts(&self) -> OptsBuilder {
        OptsBuilder::new()
            .ip_or_hostname(Some(self.host.clone()))
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(self.password.clone())
            .db_name(self.database.clone())
            .prefer_socket(false)
            .tcp_connect_timeout(Some(CONNECT_TIMEOUT))
            .stmt_cache_size(STATEMENT_CACHE)
            .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
            .init(SESSION_SETUP.to_vec())
    }
}

impl fmt::Display for MysqlUrl {
    /// `mysql://user@host:port/database`, never with the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "mysql://{}@{host}:{}",
            percent_encode(&self.user),
            self.port
        )?;
        if let Some(db) = &self.database {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for MysqlUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = self.password.as_ref().map(|_| "[REDACTED]");
        write!(f, "MysqlUrl({self}, password: {password:?})")
    }
}

impl FromStr for MysqlUrl {
    type Err = MysqlUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `s` with the password part of a URL (between `user:` and `@`) replaced, for error messages.
fn redact_password(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:[REDACTED]@{host}")
        }
        _ => s.to_owned(),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Checks a database name the host may splice into `CREATE DATABASE`: 1-64 characters from
/// `A-Z a-z 0-9 _`.
pub fn validate_database_name(name: &str) -> Result<(), DbError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(DbError::Invalid(format!("invalid database name `{name}`")))
    }
}

/// A tenant database on MariaDB/MySQL.
///
/// Dropping the value closes the connection, which rolls back an open transaction.
pub struct MysqlDatabase {
    conn: Conn,
    now: NowFn,
    /// The `SET timestamp` value in force (seconds), so the clock is only sent when it moved.
    clock_secs: Option<i64>,
    in_transaction: bool,
    last_insert_id: i64,
    check: Option<StatementCheck>,
    database: Option<String>,
    limits: Option<StatementLimits>,
    watchdog: Watchdog,
}

impl MysqlDatabase {
    /// Connects to the database `url` names (or to the server only, if it names none), with
    /// xentral's session settings ([`SESSION_SETUP`]) and `NOW()` following `now`.
    pub fn connect(url: &MysqlUrl, now: NowFn) -> Result<Self, DbError> {
        let conn = Conn::new(url.opts()).map_err(map_error)?;
        let watchdog = Watchdog::new(url.clone(), conn.connection_id());
        Ok(MysqlDatabase {
            conn,
            now,
            clock_secs: None,
            in_transaction: false,
            last_insert_id: 0,
            check: None,
            database: url.database.clone(),
            limits: None,
            watchdog,
        })
    }

    /// From now on every statement is bounded by `limits`: the session's `max_statement_time`
    /// (and short lock waits: `lock_wait_timeout`, `innodb_lock_wait_timeout`), and its result's
    /// rows and bytes, counted as they arrive: past a cap the statement is stopped on the
    /// server and fails with [`DbError::Limit`]. The server's `max_allowed_packet` bounds a
    /// single value.
    pub fn with_limits(mut self, limits: StatementLimits) -> Result<Self, DbError> {
        self.raw(&format!(
            "SET SESSION max_statement_time = {:.3}",
            limits.statement_time.as_secs_f64()
        ))?;
        self.raw(&format!(
            "SET SESSION lock_wait_timeout = {LOCK_WAIT_TIMEOUT_SECS}"
        ))?;
        self.limits = Some(limits);
        Ok(self)
    }

    /// The server's id of this connection (what `KILL` and the process list name).
    pub fn connection_id(&self) -> u32 {
        self.conn.connection_id()
    }

    /// Parses `url` and connects; see [`connect`](Self::connect).
    pub fn open(url: &str, now: NowFn) -> Result<Self, DbError> {
        let url = MysqlUrl::parse(url).map_err(|e| DbError::Invalid(e.to_string()))?;
        Self::connect(&url, now)
    }

    /// From now on every statement is checked against `grant` before it is sent; see
    /// [`check`] for the rules. A denied statement fails with [`DbError::Denied`] naming the
    /// table (or the statement kind, such as `"SET"`).
    pub fn with_grant(mut self, grant: TableGrant) -> Self {
        self.check = Some(StatementCheck::new(grant, self.database.clone()));
        self
    }

    /// The database this connection uses, if any.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Creates database `name` (utf8mb4) unless it exists. Needs the `CREATE` privilege.
    pub fn create_database(&mut self, name: &str) -> Result<(), DbError> {
        validate_database_name(name)?;
        self.raw(&format!(
            "CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        ))
    }

    /// Drops database `name` if it exists. Needs the `DROP` privilege.
    pub fn drop_database(&mut self, name: &str) -> Result<(), DbError> {
        validate_database_name(name)?;
        self.raw(&format!("DROP DATABASE IF EXISTS `{name}`"))
    }

    /// Drops every account whose name is `user` (on any host). Needs `CREATE USER`.
    pub fn drop_users(&mut self, user: &str) -> Result<(), DbError> {
        self.drop_accounts("SELECT user, host FROM mysql.user WHERE user = ?", user)
    }

    /// Drops every account whose name starts with `prefix` (on any host). Needs `CREATE USER`.
    pub fn drop_users_with_prefix(&mut self, prefix: &str) -> Result<(), DbError> {
        let pattern = prefix
            .replace('\\', "\\\\")
            .replace('_', "\\_")
            .replace('%', "\\%")
            + "%";
        self.drop_accounts(
            "SELECT user, host FROM mysql.user WHERE user LIKE ?",
            &pattern,
        )
    }

    fn drop_accounts(&mut self, select: &str, arg: &str) -> Result<(), DbError> {
        let accounts: Vec<(String, String)> = self.conn.exec(select, (arg,)).map_err(map_error)?;
        for (user, host) in accounts {
            if !crate::grant::is_plain_name(&user) {
                continue;
            }
            let host = host.replace(['\'', '\\'], "");
            self.raw(&format!("DROP USER IF EXISTS '{user}'@'{host}'"))?;
        }
        Ok(())
    }

    /// The names of the tables of this connection's database, as the server spells them.
    /// Host-internal: what the account can see.
    pub fn table_names(&mut self) -> Result<BTreeSet<String>, DbError> {
        Ok(self
            .conn
            .query::<String, _>(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
            )
            .map_err(map_error)?
            .into_iter()
            .collect())
    }

    /// Loads the reference schema and the `laender` seed into this database, as-is: every
    /// reference table that does not exist yet is created by its statement from
    /// [`crate::schema::REFERENCE_SQL`]; existing tables (a real xentral's) are left alone.
    /// Returns the number of tables created. Host-internal: runs past any grant.
    pub fn migrate(&mut self) -> Result<usize, DbError> {
        let existing: BTreeSet<String> = self
            .table_names()?
            .into_iter()
            .map(|t| t.to_ascii_lowercase())
            .collect();
        let mut created = 0;
        // xentral's widest tables (`adresse`) exceed InnoDB's worst-case row size for its
        // strict check, which then refuses the CREATE; xentral's installer loads them with the
        // check off (real rows are far smaller). Only this session, only for the load.
        self.raw("SET SESSION innodb_strict_mode = OFF")?;
        for stmt in reference::statements(crate::schema::REFERENCE_SQL) {
            let table = reference::created_table(&stmt);
            if table.is_some_and(|t| existing.contains(&t.to_ascii_lowercase())) {
                continue;
            }
            match self.conn.query_drop(&stmt) {
                Ok(()) => created += usize::from(table.is_some()),
                // Another process created it in between (ER_TABLE_EXISTS_ERROR).
                Err(::mysql::Error::MySqlError(e)) if e.code == 1050 => {}
                Err(e) => return Err(map_error(e)),
            }
        }
        self.raw("SET SESSION innodb_strict_mode = DEFAULT")?;
        self.seed_laender()?;
        Ok(created)
    }

    /// Inserts every country of [`laender::COUNTRIES`] whose ISO-2 code is missing, in one
    /// transaction; returns how many were added.
    pub fn seed_laender(&mut self) -> Result<u64, DbError> {
        self.begin()?;
        let result = (|| {
            let mut added = 0;
            for c in laender::COUNTRIES {
                added += self
                    .run(
                        "INSERT INTO laender (iso, iso3, num_code, bezeichnung_de, bezeichnung_en, eu) \
                         SELECT ?, ?, ?, ?, ?, ? FROM DUAL \
                         WHERE NOT EXISTS (SELECT 1 FROM laender WHERE iso = ?)",
                        &[
                            c.iso.into(),
                            c.iso3.into(),
                            c.num_code.into(),
                            c.bezeichnung_de.into(),
                            c.bezeichnung_en.into(),
                            c.eu.into(),
                            c.iso.into(),
                        ],
                    )?
                    .rows_affected;
            }
            Ok(added)
        })();
        match result {
            Ok(n) => self.commit().map(|()| n),
            Err(e) => {
                self.rollback().ok();
                Err(e)
            }
        }
    }

    /// Runs one statement as text (no parameters, no grant check): host-internal DDL.
    fn raw(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.query_drop(sql).map_err(map_error)
    }

    /// Sends the database clock to the server when it moved to another second.
    fn sync_clock(&mut self) -> Result<(), DbError> {
        let secs = (self.now)().div_euclid(1000);
        if self.clock_secs != Some(secs) {
            self.raw(&format!("SET timestamp = {secs}"))?;
            self.clock_secs = Some(secs);
        }
        Ok(())
    }

    /// Checks a guest statement, syncs the clock and marks it as running for the watchdog.
    fn prepare(&mut self, sql: &str) -> Result<(), DbError> {
        if let Some(check) = &mut self.check {
            check.check(sql)?;
        }
        self.sync_clock()?;
        self.watchdog.begin()
    }

    /// Ends a statement begun by [`prepare`](Self::prepare): a statement the watchdog stopped
    /// fails with the watchdog's reason rather than the server's "interrupted".
    fn finish<T>(&mut self, result: Result<T, DbError>) -> Result<T, DbError> {
        match (self.watchdog.end(), result) {
            (Some(reason), Err(_)) => Err(reason),
            (_, result) => result,
        }
    }

    fn query_rows(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        let budget = self.limits.map(ResultBudget::new);
        let prepared = match self.conn.exec_iter(sql, to_params(params)) {
            Ok(result) => return collect_rows(result, budget, &self.watchdog),
            Err(e) => e,
        };
        if params.is_empty() && not_preparable(&prepared) {
            let result = self.conn.query_iter(sql).map_err(map_error)?;
            collect_rows(result, budget, &self.watchdog)
        } else {
            Err(map_error(prepared))
        }
    }

    /// Executes a statement without the grant check (the host's own statements).
    fn run(&mut self, sql: &str, params: &[Value]) -> Result<ExecResult, DbError> {
        match self.conn.exec_drop(sql, to_params(params)) {
            Err(e) if params.is_empty() && not_preparable(&e) => self.conn.query_drop(sql),
            other => other,
        }
        .map_err(map_error)?;
        if let Ok(id) = i64::try_from(self.conn.last_insert_id())
            && id != 0
        {
            self.last_insert_id = id;
        }
        Ok(ExecResult {
            rows_affected: self.conn.affected_rows(),
            last_insert_id: self.last_insert_id,
        })
    }

    fn transaction_statement(&mut self, sql: &str) -> Result<(), DbError> {
        self.sync_clock()?;
        self.raw(sql)
    }
}

impl Database for MysqlDatabase {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.prepare(sql)?;
        let result = self.query_rows(sql, params);
        self.finish(result)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecResult, DbError> {
        self.prepare(sql)?;
        let result = self.run(sql, params);
        self.finish(result)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        if self.in_transaction {
            return Err(DbError::Invalid("a transaction is already open".into()));
        }
        self.transaction_statement("START TRANSACTION")?;
        self.in_transaction = true;
        Ok(())
    }

    /// Commits. DDL inside a transaction commits implicitly on MariaDB, so a `COMMIT` may find
    /// nothing left to commit; that is not an error.
    fn commit(&mut self) -> Result<(), DbError> {
        if !self.in_transaction {
            return Err(DbError::Invalid("no transaction is open".into()));
        }
        self.in_transaction = false;
        self.transaction_statement("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        if !self.in_transaction {
            return Ok(());
        }
        self.in_transaction = false;
        self.transaction_statement("ROLLBACK")
    }

    fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.watchdog.set_deadline(deadline);
    }

    fn set_read_only(&mut self) -> Result<(), DbError> {
        self.raw("SET SESSION TRANSACTION READ ONLY")
    }
}

/// Reads a whole result set, converting each value by its column's type. Past the budget the
/// statement is stopped on the server (so the rest of the result is never sent) and the
/// budget's error returned.
fn collect_rows<P: ::mysql::prelude::Protocol>(
    mut result: ::mysql::QueryResult<'_, '_, '_, P>,
    mut budget: Option<ResultBudget>,
    watchdog: &Watchdog,
) -> Result<Rows, DbError> {
    let meta: Vec<Column> = result.columns().as_ref().to_vec();
    let columns = meta.iter().map(|c| c.name_str().into_owned()).collect();
    let mut rows = Vec::new();
    for row in result.by_ref() {
        let row = row.map_err(map_error)?;
        let values: Vec<Value> = row
            .unwrap_raw()
            .into_iter()
            .zip(&meta)
            .map(|(v, c)| v.map_or(Value::Null, |v| to_value(v, c)))
            .collect();
        if let Some(Err(over)) = budget.as_mut().map(|b| b.add(&values)) {
            watchdog.kill_now(over.clone());
            // Dropping the result reads what the server sent before it stopped.
            drop(rows);
            drop(result);
            return Err(over);
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

/// Whether the server refused to prepare the statement (`ER_UNSUPPORTED_PS`); such a statement
/// without parameters can still run as text.
fn not_preparable(e: &::mysql::Error) -> bool {
    matches!(e, ::mysql::Error::MySqlError(me) if me.code == 1295)
}

fn to_params(params: &[Value]) -> Params {
    if params.is_empty() {
        return Params::Empty;
    }
    Params::Positional(
        params
            .iter()
            .map(|v| match v {
                Value::Null => ::mysql::Value::NULL,
                Value::Integer(i) => ::mysql::Value::Int(*i),
                Value::Real(f) => ::mysql::Value::Double(*f),
                Value::Text(s) => ::mysql::Value::Bytes(s.as_bytes().to_vec()),
                Value::Blob(b) => ::mysql::Value::Bytes(b.clone()),
            })
            .collect(),
    )
}

/// Converts a value of the binary (or, for text-protocol results, text) protocol, using the
/// column's type: temporal values as MySQL's text formats, `DECIMAL` as text, binary strings as
/// blobs.
fn to_value(v: ::mysql::Value, col: &Column) -> Value {
    use ::mysql::Value as M;
    let ty = col.column_type();
    match v {
        M::NULL => Value::Null,
        M::Int(i) => Value::Integer(i),
        M::UInt(u) => i64::try_from(u).map_or_else(|_| Value::Text(u.to_string()), Value::Integer),
        M::Float(f) => Value::Real(f64::from(f)),
        M::Double(f) => Value::Real(f),
        M::Date(y, mo, d, h, mi, s, us) => {
            let date = format!("{y:04}-{mo:02}-{d:02}");
            if matches!(
                ty,
                ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE
            ) {
                Value::Text(date)
            } else {
                Value::Text(format!(
                    "{date} {h:02}:{mi:02}:{s:02}{}",
                    fraction(us, col.decimals())
                ))
            }
        }
        M::Time(neg, d, h, mi, s, us) => {
            let hours = d * 24 + u32::from(h);
            let sign = if neg { "-" } else { "" };
            Value::Text(format!(
                "{sign}{hours:02}:{mi:02}:{s:02}{}",
                fraction(us, col.decimals())
            ))
        }
        M::Bytes(b) => bytes_value(b, col),
    }
}

fn bytes_value(b: Vec<u8>, col: &Column) -> Value {
    use ColumnType as T;
    let text = || String::from_utf8_lossy(&b).into_owned();
    match col.column_type() {
        T::MYSQL_TYPE_TINY
        | T::MYSQL_TYPE_SHORT
        | T::MYSQL_TYPE_INT24
        | T::MYSQL_TYPE_LONG
        | T::MYSQL_TYPE_LONGLONG
        | T::MYSQL_TYPE_YEAR => text()
            .parse()
            .map_or_else(|_| Value::Text(text()), Value::Integer),
        T::MYSQL_TYPE_FLOAT | T::MYSQL_TYPE_DOUBLE => text()
            .parse()
            .map_or_else(|_| Value::Text(text()), Value::Real),
        T::MYSQL_TYPE_DECIMAL
        | T::MYSQL_TYPE_NEWDECIMAL
        | T::MYSQL_TYPE_DATE
        | T::MYSQL_TYPE_NEWDATE
        | T::MYSQL_TYPE_DATETIME
        | T::MYSQL_TYPE_DATETIME2
        | T::MYSQL_TYPE_TIMESTAMP
        | T::MYSQL_TYPE_TIMESTAMP2
        | T::MYSQL_TYPE_TIME
        | T::MYSQL_TYPE_TIME2 => Value::Text(text()),
        _ if col.character_set() == BINARY_CHARSET => Value::Blob(b),
        _ => Value::Text(text()),
    }
}

/// `.ffffff` cut to the column's fractional digits (none for plain `DATETIME`/`TIME`).
fn fraction(micros: u32, decimals: u8) -> String {
    let digits = usize::from(decimals.min(6));
    if digits == 0 {
        return String::new();
    }
    let all = format!("{micros:06}");
    format!(".{}", &all[..digits])
}

/// Maps a client error to a [`DbError`]; server errors by their MariaDB error number.
pub fn map_error(e: ::mysql::Error) -> DbError {
    use ::mysql::{DriverError as D, Error as E};
    match e {
        E::MySqlError(me) => {
            let text = format!("{} ({})", me.message, me.code);
            match me.code {
                // Table or column access denied.
                1142 | 1143 => DbError::Denied(denied_table(&me.message).unwrap_or(text)),
                // Database access denied, login failed, privilege missing.
                1044 | 1045 | 1227 | 1370 => DbError::Denied(text),
                // Duplicate key, NULL into NOT NULL, foreign keys, no default (strict), CHECK.
                1062 | 1048 | 1451 | 1452 | 1216 | 1217 | 1364 | 1557 | 1586 | 3819 | 4025 => {
                    DbError::Constraint(text)
                }
                // A write in a READ ONLY transaction (see `set_read_only`).
                1792 => DbError::Denied(crate::database::READ_ONLY.into()),
                // Lock wait timeout, deadlock, metadata lock wait timeout.
                1205 | 1213 => DbError::Busy(text),
                // max_statement_time exceeded.
                1969 => DbError::Limit(format!(
                    "the statement ran past its time limit and was stopped ({text})"
                )),
                // Query interrupted (KILL QUERY).
                1317 => DbError::Limit(format!("the statement was stopped ({text})")),
                // Disk full, table full, out of memory, storage engine, too many connections.
                1021 | 1030 | 1037 | 1038 | 1040 | 1114 | 1180 | 1181 | 1290 => DbError::Io(text),
                // Syntax, unknown table/column, wrong use: 1064, 1146, 1054, 1050, …
                _ => DbError::Invalid(text),
            }
        }
        E::DriverError(
            d @ (D::MismatchedStmtParams(..) | D::Params(_) | D::MixedParams | D::PacketTooLarge),
        ) => DbError::Invalid(d.to_string()),
        E::UrlError(u) => DbError::Invalid(u.to_string()),
        other => DbError::Io(other.to_string()),
    }
}

/// The table named in a 1142/1143 message: `… for table \`db\`.\`t\`` or `… in table 't'`.
fn denied_table(message: &str) -> Option<String> {
    let (_, rest) = message
        .rsplit_once(" in table ")
        .or_else(|| message.rsplit_once(" for table "))?;
    let name = rest
        .trim()
        .rsplit('.')
        .next()?
        .trim_matches(|c| c == '`' || c == '\'' || c == '"');
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_never_prints_the_password() {
        let u = MysqlUrl::parse("mysql://app:s%3Acret@db.example:3307/xentral").unwrap();
        assert_eq!(u.user, "app");
        assert_eq!(u.password.as_deref(), Some("s:cret"));
        assert_eq!((u.host.as_str(), u.port), ("db.example", 3307));
        assert_eq!(u.database.as_deref(), Some("xentral"));
        assert_eq!(u.to_string(), "mysql://app@db.example:3307/xentral");
        assert!(!format!("{u:?}").contains("cret"));
        let d = MysqlUrl::parse("mysql://root@127.0.0.1").unwrap();
        assert_eq!(d.to_string(), "mysql://root@127.0.0.1:3306");
        assert_eq!(d.database, None);
    }

    #[test]
    fn rejects_unusable_urls_without_echoing_the_password() {
        for bad in [
            "postgres://u@h/db",
            "mysql://h/db",
            "mysql://u@h/db;drop",
            "mysql://u@h/db?ssl=1",
        ] {
            assert!(MysqlUrl::parse(bad).is_err(), "{bad}");
        }
        let e = MysqlUrl::parse("mysql://u:hunter2@h/bad-name").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn finds_the_table_in_denied_messages() {
        assert_eq!(
            denied_table("SELECT command denied to user 'u'@'localhost' for table `xt`.`user`"),
            Some("user".into())
        );
        assert_eq!(
            denied_table("INSERT command denied to user 'u'@'%' for table 'adresse'"),
            Some("adresse".into())
        );
        assert_eq!(
            denied_table(
                "SELECT command denied to user 'u'@'h' for column 'passwort' in table 'user'"
            ),
            Some("user".into())
        );
    }

    #[test]
    fn fractions_follow_the_column_scale() {
        assert_eq!(fraction(123_456, 0), "");
        assert_eq!(fraction(123_456, 3), ".123");
        assert_eq!(fraction(5, 6), ".000005");
    }
}
