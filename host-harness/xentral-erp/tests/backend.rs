//! The SQLite backend: value conversion, error mapping, transactions.

mod common;

use std::time::Duration;

use common::{Clock, host_db};
use xentral_erp::{Database, DbError, Dialect, SqliteDatabase, Value};

fn clock() -> Clock {
    Clock::at("2024-05-01 12:00:00")
}

fn with_scratch_table() -> SqliteDatabase {
    let db = host_db(&clock());
    db.connection()
        .execute_batch("CREATE TABLE hubspot_scratch (id INTEGER PRIMARY KEY, v)")
        .unwrap();
    db
}

#[test]
fn every_value_kind_round_trips() {
    let mut db = with_scratch_table();
    let values = [
        Value::Null,
        Value::Integer(-42),
        Value::Real(2.5),
        Value::Text("Grüße".into()),
        Value::Blob(vec![0, 159, 255]),
    ];
    for v in &values {
        db.execute(
            "INSERT INTO hubspot_scratch (v) VALUES (?)",
            std::slice::from_ref(v),
        )
        .unwrap();
    }
    let rows = db
        .query("SELECT v FROM hubspot_scratch ORDER BY id", &[])
        .unwrap();
    let read: Vec<Value> = rows.rows.into_iter().map(|mut r| r.remove(0)).collect();
    assert_eq!(read, values);
}

#[test]
fn rows_are_addressed_by_column_name() {
    let mut db = host_db(&clock());
    let rows = db.query("SELECT 1 AS a, 'x' AS b", &[]).unwrap();
    assert_eq!(rows.columns, ["a", "b"]);
    assert_eq!(rows.get(0, "B"), Some(&Value::from("x")));
    assert_eq!(rows.row_map(0).unwrap()["a"], Value::Integer(1));
}

#[test]
fn execute_reports_rows_affected_and_last_insert_id() {
    let mut db = host_db(&clock());
    let first = db
        .execute("INSERT INTO gruppen (name) VALUES ('a')", &[])
        .unwrap();
    let second = db
        .execute("INSERT INTO gruppen (name) VALUES ('b')", &[])
        .unwrap();
    assert_eq!((first.rows_affected, first.last_insert_id), (1, 1));
    assert_eq!(second.last_insert_id, 2);
    let updated = db.execute("UPDATE gruppen SET aktiv = 0", &[]).unwrap();
    assert_eq!(updated.rows_affected, 2);
}

#[test]
fn unique_violation_is_a_constraint_error() {
    let mut db = host_db(&clock());
    let sql = "INSERT INTO konfiguration (name, wert) VALUES ('k', 'v')";
    db.execute(sql, &[]).unwrap();
    assert!(matches!(db.execute(sql, &[]), Err(DbError::Constraint(_))));
}

#[test]
fn explicit_null_in_a_not_null_column_is_a_constraint_error() {
    let mut db = host_db(&clock());
    let r = db.execute("INSERT INTO adresse (name) VALUES (NULL)", &[]);
    assert!(matches!(r, Err(DbError::Constraint(_))), "{r:?}");
}

#[test]
fn syntax_errors_are_invalid() {
    let mut db = host_db(&clock());
    assert!(matches!(db.query("SELEC 1", &[]), Err(DbError::Invalid(_))));
    assert!(matches!(
        db.query("SELECT * FROM nope", &[]),
        Err(DbError::Invalid(_))
    ));
}

#[test]
fn wrong_parameter_count_is_invalid() {
    let mut db = host_db(&clock());
    let r = db.query("SELECT ?, ?", &[Value::Integer(1)]);
    assert!(matches!(r, Err(DbError::Invalid(_))), "{r:?}");
}

#[test]
fn several_statements_in_one_call_are_invalid() {
    let mut db = host_db(&clock());
    let r = db.execute("DELETE FROM gruppen; DELETE FROM adresse", &[]);
    assert!(matches!(r, Err(DbError::Invalid(_))), "{r:?}");
}

#[test]
fn a_statement_error_inside_a_transaction_leaves_it_usable() {
    let mut db = host_db(&clock());
    db.begin().unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert) VALUES ('a', '1')",
        &[],
    )
    .unwrap();
    assert!(
        db.execute(
            "INSERT INTO konfiguration (name, wert) VALUES ('a', '2')",
            &[]
        )
        .is_err()
    );
    assert!(db.execute("INSERT INTO nope VALUES (1)", &[]).is_err());
    assert!(db.in_transaction());
    db.execute(
        "INSERT INTO konfiguration (name, wert) VALUES ('b', '3')",
        &[],
    )
    .unwrap();
    db.commit().unwrap();
    let rows = db.query("SELECT COUNT(*) FROM konfiguration", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(2)));
}

#[test]
fn rollback_discards_the_transaction() {
    let mut db = host_db(&clock());
    db.begin().unwrap();
    db.execute("INSERT INTO gruppen (name) VALUES ('a')", &[])
        .unwrap();
    db.rollback().unwrap();
    assert!(!db.in_transaction());
    let rows = db.query("SELECT COUNT(*) FROM gruppen", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(0)));
}

#[test]
fn transaction_misuse_is_reported() {
    let mut db = host_db(&clock());
    assert!(matches!(db.commit(), Err(DbError::Invalid(_))));
    assert_eq!(db.rollback(), Ok(()));
    db.begin().unwrap();
    assert!(matches!(db.begin(), Err(DbError::Invalid(_))));
}

#[test]
fn dropping_the_database_rolls_back_an_open_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.sqlite");
    let clock = clock();
    {
        let mut db = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
        db.migrate().unwrap();
        db.begin().unwrap();
        db.execute("INSERT INTO gruppen (name) VALUES ('lost')", &[])
            .unwrap();
    }
    let mut db = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
    let rows = db.query("SELECT COUNT(*) FROM gruppen", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(0)));
}

#[test]
fn a_write_lock_held_elsewhere_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.sqlite");
    let clock = clock();
    let mut holder = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
    holder.migrate().unwrap();
    let mut other = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
    other
        .connection()
        .busy_timeout(Duration::from_millis(20))
        .unwrap();
    holder.begin().unwrap();
    assert!(matches!(other.begin(), Err(DbError::Busy(_))));
    let r = other.execute("INSERT INTO gruppen (name) VALUES ('x')", &[]);
    assert!(matches!(r, Err(DbError::Busy(_))), "{r:?}");
    holder.commit().unwrap();
    other.begin().unwrap();
}

#[test]
fn the_dialect_is_sqlite() {
    assert_eq!(host_db(&clock()).dialect(), Dialect::Sqlite);
}
