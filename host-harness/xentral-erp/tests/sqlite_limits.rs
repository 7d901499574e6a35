//! What one statement may cost on SQLite: the length of a value, the rows and bytes of a
//! result, its running time and the job's deadline — each limit obeyed and violated.

mod common;

use std::time::{Duration, Instant};

use common::{Clock, plugin_db};
use xentral_erp::{Database, DbError, SqliteDatabase, StatementLimits};

fn db(limits: StatementLimits) -> SqliteDatabase {
    plugin_db(&Clock::at("2024-05-01 12:00:00")).with_limits(limits)
}

const COUNT_TO: &str =
    "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n";

#[test]
fn value_length_limit_obeyed() {
    let mut db = db(StatementLimits::default());
    let rows = db.query("SELECT length(zeroblob(1000000))", &[]).unwrap();
    assert_eq!(rows.scalar().and_then(|v| v.as_i64()), Some(1_000_000));
}

/// The review's `zeroblob(300000000)`: refused by SQLite before it is built.
#[test]
fn value_length_limit_violated() {
    let mut db = db(StatementLimits::default());
    let r = db.query("SELECT zeroblob(300000000)", &[]);
    assert!(
        matches!(&r, Err(DbError::Limit(m)) if m.starts_with("a text or blob value exceeds the host's length limit")),
        "{r:?}"
    );
}

#[test]
fn result_rows_limit_obeyed() {
    let mut db = db(StatementLimits {
        max_rows: 1_000,
        ..StatementLimits::default()
    });
    assert_eq!(db.query(COUNT_TO, &[1_000.into()]).unwrap().len(), 1_000);
}

#[test]
fn result_rows_limit_violated() {
    let mut db = db(StatementLimits {
        max_rows: 1_000,
        ..StatementLimits::default()
    });
    assert_eq!(
        db.query(COUNT_TO, &[1_001.into()]),
        Err(DbError::Limit(
            "the result has more than 1000 rows; the query was stopped".into()
        ))
    );
}

#[test]
fn result_bytes_limit_violated() {
    let mut db = db(StatementLimits {
        max_bytes: 10 << 20,
        ..StatementLimits::default()
    });
    let r = db.query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT zeroblob(1000000) FROM n",
        &[],
    );
    assert_eq!(
        r,
        Err(DbError::Limit(format!(
            "the result is larger than {} bytes; the query was stopped",
            10 << 20
        )))
    );
}

#[test]
fn statement_time_limit_violated() {
    let mut db = db(StatementLimits {
        statement_time: Duration::from_millis(200),
        ..StatementLimits::default()
    });
    let started = Instant::now();
    let r = db.query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) SELECT COUNT(*) FROM n",
        &[],
    );
    assert_eq!(
        r,
        Err(DbError::Limit(
            "the statement ran past its time limit and was stopped".into()
        ))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The next statement gets its own time.
    assert_eq!(db.query("SELECT 1", &[]).unwrap().len(), 1);
}

#[test]
fn job_deadline_violated() {
    let mut db = db(StatementLimits {
        statement_time: Duration::from_secs(600),
        ..StatementLimits::default()
    });
    db.set_deadline(Some(Instant::now() + Duration::from_millis(200)));
    let r = db.query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) SELECT COUNT(*) FROM n",
        &[],
    );
    let stopped = DbError::Limit("the job's deadline passed; the statement was stopped".into());
    assert_eq!(r, Err(stopped.clone()));
    assert_eq!(db.query("SELECT 1", &[]), Err(stopped));
}

#[test]
fn job_deadline_obeyed() {
    let mut db = db(StatementLimits::default());
    db.set_deadline(Some(Instant::now() + Duration::from_secs(60)));
    assert_eq!(db.query("SELECT 1", &[]).unwrap().len(), 1);
}
