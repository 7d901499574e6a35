//! The MariaDB backend against a real server: the reference schema as-is, xentral's session,
//! values, counts, errors, transactions, the grant, and the scheduler's claim. Each test uses its
//! own scratch database; without `XENTRAL_TEST_MYSQL_URL` each test prints why it skipped.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};

use chrono::{DateTime, Utc};
use xentral_erp::mysql::scratch::{ScratchDatabase, report_skip};
use xentral_erp::scheduler::{self as starters, Claim};
use xentral_erp::{Database, DbError, Dialect, MysqlDatabase, NowFn, TableGrant, Value, laender};

/// 2026-01-15 10:00:00 UTC.
const START_MS: i64 = 1_768_471_200_000;

/// A scratch database with the reference schema, and a clock to move; `None` means skipped.
struct Fixture {
    scratch: ScratchDatabase,
    clock: Arc<AtomicI64>,
}

impl Fixture {
    fn new() -> Option<Self> {
        let Some(scratch) = ScratchDatabase::on_test_server() else {
            let thread = std::thread::current();
            report_skip(thread.name().unwrap_or("mysql_backend"));
            return None;
        };
        let f = Fixture {
            scratch,
            clock: Arc::new(AtomicI64::new(START_MS)),
        };
        f.admin().migrate().unwrap();
        Some(f)
    }

    fn now_fn(&self) -> NowFn {
        let clock = Arc::clone(&self.clock);
        Arc::new(move || clock.load(Ordering::SeqCst))
    }

    fn admin(&self) -> MysqlDatabase {
        MysqlDatabase::connect(&self.scratch.url(), self.now_fn()).unwrap()
    }

    fn guest(&self) -> MysqlDatabase {
        self.admin()
            .with_grant(TableGrant::hubspot_plugin_for_tests())
    }
}

fn scalar(db: &mut dyn Database, sql: &str) -> Value {
    db.query(sql, &[]).unwrap().scalar().cloned().unwrap()
}

#[test]
fn reference_schema_loads_as_is_and_migrate_is_idempotent() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.admin();
    let tables = scalar(
        &mut db,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    );
    assert_eq!(
        tables.as_i64(),
        Some(xentral_erp::schema::tables().len() as i64)
    );
    let countries = scalar(&mut db, "SELECT COUNT(*) FROM laender");
    assert_eq!(countries.as_i64(), Some(laender::COUNTRIES.len() as i64));
    assert_eq!(db.migrate(), Ok(0));
    let again = scalar(&mut db, "SELECT COUNT(*) FROM laender");
    assert_eq!(again, countries);
    assert_eq!(db.dialect(), Dialect::Mysql);
}

#[test]
fn session_is_set_up_as_xentral_does() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.admin();
    let row = db
        .query(
            "SELECT @@SESSION.sql_mode, @@SESSION.time_zone, @@character_set_connection",
            &[],
        )
        .unwrap();
    assert_eq!(
        row.rows[0],
        vec![
            Value::Text("NO_AUTO_VALUE_ON_ZERO".into()),
            Value::Text("+00:00".into()),
            Value::Text("utf8mb4".into()),
        ]
    );
    // Not strict: a NOT NULL column without default that an INSERT omits gets '' or 0.
    db.execute("INSERT INTO adresse (name) VALUES ('Ada')", &[])
        .unwrap();
    let r = db
        .query(
            "SELECT email, geloescht FROM adresse WHERE name = 'Ada'",
            &[],
        )
        .unwrap();
    assert_eq!(
        r.rows[0],
        vec![Value::Text(String::new()), Value::Integer(0)]
    );
}

#[test]
fn now_and_column_defaults_follow_the_database_clock() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.admin();
    assert_eq!(
        scalar(&mut db, "SELECT NOW()"),
        Value::Text("2026-01-15 10:00:00".into())
    );
    f.clock.fetch_add(90_000, Ordering::SeqCst);
    let id = db
        .execute("INSERT INTO adresse (name) VALUES ('Ada')", &[])
        .unwrap()
        .last_insert_id;
    let r = db
        .query("SELECT logdatei FROM adresse WHERE id = ?", &[id.into()])
        .unwrap();
    assert_eq!(r.rows[0][0], Value::Text("2026-01-15 10:01:30".into()));
}

#[test]
fn values_come_back_as_on_sqlite() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.admin();
    db.execute(
        "CREATE TABLE kinds (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, d DECIMAL(10,2), \
         dt DATE, ts DATETIME, t TIME, b BLOB, s VARCHAR(32), r DOUBLE, big BIGINT UNSIGNED)",
        &[],
    )
    .unwrap();
    db.execute(
        "INSERT INTO kinds (d, dt, ts, t, b, s, r, big) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text("1234.5".into()),
            Value::Text("2026-01-15".into()),
            Value::Text("2026-01-15 10:00:00".into()),
            Value::Text("26:30:00".into()),
            Value::Blob(vec![0, 159, 255]),
            Value::Text("Grüße 🚀".into()),
            Value::Real(0.25),
            Value::Integer(7),
        ],
    )
    .unwrap();
    db.execute(
        "INSERT INTO kinds (dt, ts) VALUES ('0000-00-00', '0000-00-00 00:00:00')",
        &[],
    )
    .unwrap();
    let r = db
        .query(
            "SELECT d, dt, ts, t, b, s, r, big, NULL AS n FROM kinds ORDER BY id",
            &[],
        )
        .unwrap();
    assert_eq!(r.columns[8], "n");
    assert_eq!(
        r.rows[0],
        vec![
            Value::Text("1234.50".into()),
            Value::Text("2026-01-15".into()),
            Value::Text("2026-01-15 10:00:00".into()),
            Value::Text("26:30:00".into()),
            Value::Blob(vec![0, 159, 255]),
            Value::Text("Grüße 🚀".into()),
            Value::Real(0.25),
            Value::Integer(7),
            Value::Null,
        ]
    );
    assert_eq!(r.rows[1][1], Value::Text("0000-00-00".into()));
    assert_eq!(r.rows[1][2], Value::Text("0000-00-00 00:00:00".into()));
}

#[test]
fn rows_affected_counts_matched_rows_and_last_insert_id_is_the_generated_id() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.admin();
    let first = db
        .execute("INSERT INTO adresse (name) VALUES (?)", &["A".into()])
        .unwrap();
    let second = db
        .execute("INSERT INTO adresse (name) VALUES (?)", &["B".into()])
        .unwrap();
    assert_eq!(second.last_insert_id, first.last_insert_id + 1);
    let same = db
        .execute(
            "UPDATE adresse SET name = ? WHERE id = ?",
            &["A".into(), first.last_insert_id.into()],
        )
        .unwrap();
    assert_eq!(same.rows_affected, 1, "an unchanged but matched row counts");
    assert_eq!(same.last_insert_id, second.last_insert_id);
    let none = db
        .execute("UPDATE adresse SET name = 'x' WHERE id = -1", &[])
        .unwrap();
    assert_eq!(none.rows_affected, 0);
}

#[test]
fn errors_map_to_the_same_kinds() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.admin();
    db.execute(
        "CREATE TABLE hubspot_u (id INT PRIMARY KEY, v VARCHAR(8) NOT NULL)",
        &[],
    )
    .unwrap();
    db.execute("INSERT INTO hubspot_u VALUES (1, 'a')", &[])
        .unwrap();
    let err = |db: &mut MysqlDatabase, sql: &str| db.execute(sql, &[]).unwrap_err();
    assert!(matches!(
        err(&mut db, "INSERT INTO hubspot_u VALUES (1, 'b')"),
        DbError::Constraint(_)
    ));
    assert!(matches!(
        err(&mut db, "INSERT INTO hubspot_u VALUES (2, NULL)"),
        DbError::Constraint(_)
    ));
    assert!(matches!(err(&mut db, "SELEKT 1"), DbError::Invalid(_)));
    assert!(matches!(
        err(&mut db, "SELECT * FROM nowhere"),
        DbError::Invalid(_)
    ));
    assert!(matches!(
        err(&mut db, "SELECT nothing FROM hubspot_u"),
        DbError::Invalid(_)
    ));
    assert!(matches!(
        db.execute("SELECT ?", &[]).unwrap_err(),
        DbError::Invalid(_)
    ));
}

#[test]
fn a_row_lock_held_too_long_is_busy() {
    let Some(f) = Fixture::new() else { return };
    let mut holder = f.admin();
    let mut other = f.admin();
    other
        .execute("SET SESSION innodb_lock_wait_timeout = 1", &[])
        .unwrap();
    let id = holder
        .execute("INSERT INTO adresse (name) VALUES ('x')", &[])
        .unwrap()
        .last_insert_id;
    holder.begin().unwrap();
    holder
        .execute("UPDATE adresse SET name = 'y' WHERE id = ?", &[id.into()])
        .unwrap();
    let e = other
        .execute("UPDATE adresse SET name = 'z' WHERE id = ?", &[id.into()])
        .unwrap_err();
    assert!(matches!(e, DbError::Busy(_)), "{e:?}");
    holder.rollback().unwrap();
}

#[test]
fn transactions_commit_and_roll_back() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.admin();
    let mut other = f.admin();
    let count = |db: &mut MysqlDatabase| scalar(db, "SELECT COUNT(*) FROM adresse").as_i64();
    db.begin().unwrap();
    assert!(db.in_transaction());
    assert!(matches!(db.begin(), Err(DbError::Invalid(_))));
    db.execute("INSERT INTO adresse (name) VALUES ('gone')", &[])
        .unwrap();
    assert_eq!(count(&mut other), Some(0), "uncommitted rows are invisible");
    db.rollback().unwrap();
    assert_eq!(count(&mut db), Some(0));
    db.begin().unwrap();
    db.execute("INSERT INTO adresse (name) VALUES ('kept')", &[])
        .unwrap();
    db.commit().unwrap();
    assert!(!db.in_transaction());
    assert_eq!(count(&mut other), Some(1));
    assert!(matches!(db.commit(), Err(DbError::Invalid(_))));
    assert_eq!(db.rollback(), Ok(()));
}

#[test]
fn plugin_migrations_run_with_ddl_inside_a_transaction() {
    let Some(f) = Fixture::new() else { return };
    let mut db = f.guest();
    for _ in 0..2 {
        db.begin().unwrap();
        db.execute(
            "CREATE TABLE IF NOT EXISTS hubspot_sync_contact_links (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
             hs_contact_id VARCHAR(32) NOT NULL, address_id BIGINT NOT NULL)",
            &[],
        )
        .unwrap();
        db.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_contact_links_hs ON hubspot_sync_contact_links (hs_contact_id)",
            &[],
        )
        .unwrap();
        db.commit().unwrap();
    }
    let r = db
        .execute(
            "INSERT INTO hubspot_sync_contact_links (hs_contact_id, address_id) VALUES (?, ?)",
            &["101".into(), 1.into()],
        )
        .unwrap();
    assert_eq!((r.rows_affected, r.last_insert_id), (1, 1));
}

#[test]
fn the_grant_is_enforced_on_the_guest_connection() {
    let Some(f) = Fixture::new() else { return };
    let mut admin = f.admin();
    admin
        .execute(
            "CREATE TABLE user (id INT PRIMARY KEY, username VARCHAR(64), passwort VARCHAR(64))",
            &[],
        )
        .unwrap();
    admin
        .execute("INSERT INTO user VALUES (1, 'admin', 'secret')", &[])
        .unwrap();
    let mut guest = f.guest();
    let denied = |db: &mut MysqlDatabase, sql: &str| db.query(sql, &[]).unwrap_err();
    assert_eq!(
        denied(&mut guest, "SELECT * FROM user"),
        DbError::Denied("user".into())
    );
    assert_eq!(
        denied(
            &mut guest,
            "SELECT a.id FROM adresse a WHERE a.id IN (SELECT id FROM user)"
        ),
        DbError::Denied("user".into())
    );
    assert_eq!(
        denied(&mut guest, "DROP TABLE adresse"),
        DbError::Denied("adresse".into())
    );
    assert_eq!(
        denied(&mut guest, "SET sql_mode = ''"),
        DbError::Denied("SET".into())
    );
    assert_eq!(denied(&mut guest, "BEGIN"), DbError::Denied("BEGIN".into()));
    assert_eq!(
        denied(&mut guest, "SELECT * FROM mysql.user"),
        DbError::Denied("mysql.user".into())
    );
    assert_eq!(
        denied(&mut guest, "SELECT LOAD_FILE('/etc/passwd')"),
        DbError::Denied("function load_file".into())
    );
    guest.query("SELECT COUNT(*) FROM adresse", &[]).unwrap();
    guest.begin().unwrap();
    guest.rollback().unwrap();
}

#[test]
fn a_server_side_denial_names_the_table() {
    let Some(f) = Fixture::new() else { return };
    let mut admin = f.admin();
    let user = format!("{}_ro", f.scratch.name());
    let user = &user[user.len().saturating_sub(32)..];
    admin
        .execute(&format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"), &[])
        .unwrap();
    admin
        .execute(
            &format!(
                "GRANT SELECT ON `{}`.`adresse` TO '{user}'@'%'",
                f.scratch.name()
            ),
            &[],
        )
        .unwrap();
    let mut url = f.scratch.url();
    url.user = user.to_owned();
    url.password = Some("pw".into());
    let result = MysqlDatabase::connect(&url, f.now_fn()).map(|mut limited| {
        (
            limited.query("SELECT COUNT(*) FROM adresse", &[]).map(drop),
            limited.query("SELECT COUNT(*) FROM laender", &[]).map(drop),
        )
    });
    admin
        .execute(&format!("DROP USER '{user}'@'%'"), &[])
        .unwrap();
    let (granted, denied) = result.unwrap();
    assert_eq!(granted, Ok(()));
    assert_eq!(denied, Err(DbError::Denied("laender".into())));
}

#[test]
fn two_schedulers_claim_a_due_starter_once() {
    let Some(f) = Fixture::new() else { return };
    let now: DateTime<Utc> = DateTime::from_timestamp_millis(START_MS).unwrap();
    let id = starters::ensure_starter(&mut f.admin(), "Hubspot", "hubspot_process", 10, true)
        .unwrap()
        .0;
    for round in 0..20 {
        let at = now + chrono::Duration::minutes(10 * round);
        let barrier = Barrier::new(4);
        let outcomes: Vec<Claim> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let mut db = f.admin();
                    let barrier = &barrier;
                    s.spawn(move || {
                        let starter = starters::get(&mut db, id).unwrap().unwrap();
                        barrier.wait();
                        starters::try_claim(&mut db, &starter, at).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let leases: Vec<_> = outcomes.iter().filter_map(|c| c.lease()).collect();
        assert_eq!(leases.len(), 1, "round {round}: {outcomes:?}");
        assert_eq!(
            starters::finish(&mut f.admin(), leases[0], at, Ok("OK")).unwrap(),
            starters::Release::Released
        );
    }
}
