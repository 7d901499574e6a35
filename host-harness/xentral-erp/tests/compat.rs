//! MySQL function shims on the virtual clock.

mod common;

use common::{Clock, host_db};
use xentral_erp::{Database, Value};

fn one(sql: &str, clock: &Clock) -> Value {
    let mut db = host_db(clock);
    db.query(sql, &[]).unwrap().scalar().cloned().unwrap()
}

#[test]
fn now_curdate_curtime_follow_the_virtual_clock() {
    let clock = Clock::at("2031-12-24 18:05:09");
    let mut db = host_db(&clock);
    let rows = db
        .query(
            "SELECT NOW(), CURDATE(), CURTIME(), UTC_TIMESTAMP(), SYSDATE()",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("2031-12-24 18:05:09"),
            Value::from("2031-12-24"),
            Value::from("18:05:09"),
            Value::from("2031-12-24 18:05:09"),
            Value::from("2031-12-24 18:05:09"),
        ]
    );
    clock.advance_minutes(60 * 6);
    let rows = db.query("SELECT NOW()", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::from("2031-12-25 00:05:09")));
}

#[test]
fn current_timestamp_works_with_and_without_parentheses() {
    let clock = Clock::at("2024-02-29 23:59:59");
    let mut db = host_db(&clock);
    let rows = db
        .query(
            "SELECT CURRENT_TIMESTAMP(), CURRENT_TIMESTAMP, CURRENT_DATE(), CURRENT_TIME()",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("2024-02-29 23:59:59"),
            Value::from("2024-02-29 23:59:59"),
            Value::from("2024-02-29"),
            Value::from("23:59:59"),
        ]
    );
}

#[test]
fn unix_timestamp_reads_the_clock_or_its_argument() {
    let clock = Clock::at("2024-01-01 00:00:10");
    assert_eq!(
        one("SELECT UNIX_TIMESTAMP()", &clock),
        Value::Integer(1_704_067_210)
    );
    assert_eq!(
        one("SELECT UNIX_TIMESTAMP('2024-01-01 00:00:00')", &clock),
        Value::Integer(1_704_067_200)
    );
    assert_eq!(
        one("SELECT UNIX_TIMESTAMP('2024-01-01')", &clock),
        Value::Integer(1_704_067_200)
    );
    assert_eq!(
        one("SELECT UNIX_TIMESTAMP('0000-00-00 00:00:00')", &clock),
        Value::Integer(0)
    );
    assert_eq!(one("SELECT UNIX_TIMESTAMP(NULL)", &clock), Value::Null);
}

#[test]
fn from_unixtime_formats_like_mysql() {
    let clock = Clock::at("2024-01-01 00:00:00");
    assert_eq!(
        one("SELECT FROM_UNIXTIME(1704067200)", &clock),
        Value::from("2024-01-01 00:00:00")
    );
}

#[test]
fn concat_is_null_when_an_argument_is_null() {
    let clock = Clock::at("2024-01-01 00:00:00");
    assert_eq!(
        one("SELECT CONCAT('a', 1, 'b')", &clock),
        Value::from("a1b")
    );
    assert_eq!(one("SELECT CONCAT('a', NULL)", &clock), Value::Null);
    assert_eq!(
        one("SELECT CONCAT_WS(' ', 'a', NULL, 'b')", &clock),
        Value::from("a b")
    );
}

#[test]
fn if_picks_a_branch() {
    let clock = Clock::at("2024-01-01 00:00:00");
    assert_eq!(
        one("SELECT IF(1 > 0, 'yes', 'no')", &clock),
        Value::from("yes")
    );
    assert_eq!(
        one("SELECT IF(NULL, 'yes', 'no')", &clock),
        Value::from("no")
    );
    assert_eq!(one("SELECT IFNULL(NULL, 3)", &clock), Value::Integer(3));
}
