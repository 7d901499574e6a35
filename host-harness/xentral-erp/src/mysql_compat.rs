//! MySQL functions on SQLite, so SQL written for xentral runs unchanged.
//!
//! Registered on every connection of [`crate::SqliteDatabase`], all reading time from the
//! database's [`NowFn`] (UTC) and formatting like MySQL with a UTC session time zone:
//!
//! | function | result |
//! |---|---|
//! | `NOW()`, `SYSDATE()`, `UTC_TIMESTAMP()`, `CURRENT_TIMESTAMP()` / `CURRENT_TIMESTAMP` | `'YYYY-MM-DD HH:MM:SS'` |
//! | `CURDATE()`, `UTC_DATE()`, `CURRENT_DATE()` / `CURRENT_DATE` | `'YYYY-MM-DD'` |
//! | `CURTIME()`, `UTC_TIME()`, `CURRENT_TIME()` / `CURRENT_TIME` | `'HH:MM:SS'` |
//! | `UNIX_TIMESTAMP()`, `UNIX_TIMESTAMP(datetime_or_date)` | seconds; 0 for zero dates, `NULL` for garbage |
//! | `FROM_UNIXTIME(seconds)` | `'YYYY-MM-DD HH:MM:SS'` |
//! | `CONCAT(a, …)` | MySQL semantics: `NULL` if any argument is `NULL` (SQLite's own `concat` skips them) |
//!
//! SQLite's parser maps the keywords `CURRENT_TIMESTAMP`, `CURRENT_DATE`, `CURRENT_TIME` to
//! functions of those names, so overriding them makes column defaults and triggers follow the
//! virtual clock too. SQLite rejects MySQL's `CURRENT_TIMESTAMP()` spelling; [`rewrite`] drops the
//! empty parentheses before a statement is prepared. Already built into SQLite 3.50 with MySQL
//! semantics, hence not registered: `IF(c, a, b)` (alias of `iif` since 3.48), `IFNULL`,
//! `COALESCE`, `CONCAT_WS`, `LOWER`, `UPPER`, `TRIM`, `REPLACE`, `LENGTH`. Not provided:
//! `DATE_FORMAT`, `DATE_ADD`/`DATE_SUB` and `INTERVAL` arithmetic (the plugin passes computed
//! instants as parameters instead). Not rewritten: `UPDATE … LIMIT n` / `DELETE … LIMIT n`
//! (the bundled SQLite is built without it, so such statements fail with `Invalid`), `ON
//! DUPLICATE KEY UPDATE` (SQLite spells it `ON CONFLICT … DO UPDATE`), backslash escapes in
//! string literals.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};

use crate::database::NowFn;

/// MySQL's `DATETIME` text format.
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
/// MySQL's `DATE` text format.
pub const DATE_FORMAT: &str = "%Y-%m-%d";
/// MySQL's `TIME` text format.
pub const TIME_FORMAT: &str = "%H:%M:%S";
/// The zero date xentral stores for "no date" in `NOT NULL` date columns.
pub const ZERO_DATE: &str = "0000-00-00";
/// The zero datetime xentral stores for "never" in `NOT NULL` datetime columns.
pub const ZERO_DATETIME: &str = "0000-00-00 00:00:00";

/// An instant in milliseconds since the epoch as a UTC date-time (clamped to the epoch if absurd).
pub fn instant_from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Formats a UTC instant as MySQL's `'YYYY-MM-DD HH:MM:SS'`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.format(DATETIME_FORMAT).to_string()
}

/// Parses MySQL `DATETIME` text (`None` for zero dates and garbage); a bare date means midnight.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, DATETIME_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, DATE_FORMAT)
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })
}

const FLAGS: FunctionFlags = FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_INNOCUOUS);

/// Registers the functions of the table above on `conn`, reading time from `now`.
pub fn register(conn: &Connection, now: NowFn) -> rusqlite::Result<()> {
    for name in ["now", "sysdate", "utc_timestamp", "current_timestamp"] {
        let now = now.clone();
        conn.create_scalar_function(name, 0, FLAGS, move |_| {
            Ok(format_datetime(instant_from_millis(now())))
        })?;
    }
    for name in ["curdate", "utc_date", "current_date"] {
        let now = now.clone();
        conn.create_scalar_function(name, 0, FLAGS, move |_| {
            Ok(instant_from_millis(now()).format(DATE_FORMAT).to_string())
        })?;
    }
    for name in ["curtime", "utc_time", "current_time"] {
        let now = now.clone();
        conn.create_scalar_function(name, 0, FLAGS, move |_| {
            Ok(instant_from_millis(now()).format(TIME_FORMAT).to_string())
        })?;
    }
    let clock = now.clone();
    conn.create_scalar_function("unix_timestamp", 0, FLAGS, move |_| {
        Ok(clock().div_euclid(1000))
    })?;
    conn.create_scalar_function("unix_timestamp", 1, FLAGS, |ctx| Ok(unix_timestamp(ctx)))?;
    conn.create_scalar_function("from_unixtime", 1, FLAGS, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Integer(s) => DateTime::from_timestamp(s, 0).map(format_datetime),
            ValueRef::Real(f) => DateTime::from_timestamp(f as i64, 0).map(format_datetime),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .map(format_datetime),
            _ => None,
        })
    })?;
    conn.create_scalar_function("concat", -1, FLAGS, |ctx| Ok(concat(ctx)))?;
    Ok(())
}

/// `UNIX_TIMESTAMP(x)`: seconds of a UTC datetime/date text; 0 for zero or pre-epoch dates.
fn unix_timestamp(ctx: &Context<'_>) -> SqlValue {
    let text = match ctx.get_raw(0) {
        ValueRef::Null => return SqlValue::Null,
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Blob(_) => return SqlValue::Null,
    };
    if text.trim().starts_with(ZERO_DATE) {
        return SqlValue::Integer(0);
    }
    match parse_datetime(&text) {
        Some(t) => SqlValue::Integer(t.and_utc().timestamp().max(0)),
        None => SqlValue::Null,
    }
}

/// MySQL `CONCAT`: the arguments as text, `NULL` as soon as one is `NULL`.
fn concat(ctx: &Context<'_>) -> SqlValue {
    let mut out = String::new();
    for i in 0..ctx.len() {
        match ctx.get_raw(i) {
            ValueRef::Null => return SqlValue::Null,
            ValueRef::Integer(n) => out.push_str(&n.to_string()),
            ValueRef::Real(f) => out.push_str(&f.to_string()),
            ValueRef::Text(t) | ValueRef::Blob(t) => out.push_str(&String::from_utf8_lossy(t)),
        }
    }
    SqlValue::Text(out)
}

/// The keywords MySQL also accepts with empty parentheses.
const CTIME_KEYWORDS: [&str; 3] = ["current_timestamp", "current_date", "current_time"];

/// Rewrites MySQL spellings SQLite cannot parse: `CURRENT_TIMESTAMP()`, `CURRENT_DATE()`,
/// `CURRENT_TIME()` lose their empty parentheses. String literals, quoted identifiers and comments
/// are left untouched. Returns the input unchanged (borrowed) when there is nothing to do.
pub fn rewrite(sql: &str) -> Cow<'_, str> {
    if !sql.to_ascii_lowercase().contains("current_") {
        return Cow::Borrowed(sql);
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < b.len() {
        let start = i;
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() {
                    i += 1;
                    if b[i - 1] == q {
                        if b.get(i) == Some(&q) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push_str(&sql[start..i]);
                if CTIME_KEYWORDS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&sql[start..i]))
                {
                    let rest = sql[i..].trim_start();
                    if let Some(tail) = rest
                        .strip_prefix('(')
                        .and_then(|after| after.trim_start().strip_prefix(')'))
                    {
                        i = b.len() - tail.len();
                    }
                }
                continue;
            }
            _ => {
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        out.push_str(&sql[start..i]);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_drops_empty_parentheses_after_ctime_keywords() {
        assert_eq!(
            rewrite("SELECT CURRENT_TIMESTAMP(), current_date ( ), CURRENT_TIME"),
            "SELECT CURRENT_TIMESTAMP, current_date, CURRENT_TIME"
        );
    }

    #[test]
    fn rewrite_leaves_literals_and_comments_alone() {
        let sql = "SELECT 'CURRENT_TIMESTAMP()', `current_date()` -- current_time()\n, 1";
        assert_eq!(rewrite(sql), sql);
        assert_eq!(
            rewrite("SELECT 'it''s', CURRENT_DATE()"),
            "SELECT 'it''s', CURRENT_DATE"
        );
    }

    #[test]
    fn rewrite_borrows_when_nothing_matches() {
        assert!(matches!(rewrite("SELECT NOW()"), Cow::Borrowed(_)));
    }
}
