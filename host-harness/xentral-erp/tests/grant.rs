//! The table grant, enforced by SQLite's authorizer.

mod common;

use common::{Clock, plugin_db};
use xentral_erp::{Database, DbError, Value};

fn clock() -> Clock {
    Clock::at("2024-05-01 12:00:00")
}

fn denied(table: &str) -> DbError {
    DbError::Denied(table.to_owned())
}

#[test]
fn read_outside_grant_is_denied_with_the_table_name() {
    let mut db = plugin_db(&clock());
    assert_eq!(db.query("SELECT * FROM user", &[]), Err(denied("user")));
}

#[test]
fn insert_outside_grant_is_denied() {
    let mut db = plugin_db(&clock());
    let r = db.execute("INSERT INTO user (username) VALUES (?)", &["x".into()]);
    assert_eq!(r, Err(denied("user")));
}

#[test]
fn update_outside_grant_is_denied() {
    let mut db = plugin_db(&clock());
    let r = db.execute("UPDATE user SET passwort = 'x'", &[]);
    assert_eq!(r, Err(denied("user")));
}

#[test]
fn delete_outside_grant_is_denied() {
    let mut db = plugin_db(&clock());
    assert_eq!(db.execute("DELETE FROM user", &[]), Err(denied("user")));
}

#[test]
fn create_table_outside_grant_is_denied() {
    let mut db = plugin_db(&clock());
    let r = db.execute("CREATE TABLE evil (id INTEGER)", &[]);
    assert_eq!(r, Err(denied("evil")));
}

#[test]
fn drop_of_a_xentral_table_is_denied() {
    let mut db = plugin_db(&clock());
    assert_eq!(db.execute("DROP TABLE user", &[]), Err(denied("user")));
    assert_eq!(
        db.execute("DROP TABLE adresse", &[]),
        Err(denied("adresse"))
    );
}

#[test]
fn ddl_on_a_table_granted_by_exact_name_is_denied() {
    let mut db = plugin_db(&clock());
    for sql in [
        "ALTER TABLE adresse ADD COLUMN hubspot_id TEXT",
        "CREATE INDEX hubspot_idx ON adresse (email)",
    ] {
        assert_eq!(db.execute(sql, &[]), Err(denied("adresse")), "{sql}");
    }
    let trigger = "CREATE TRIGGER hubspot_trg AFTER UPDATE ON adresse BEGIN DELETE FROM user; END";
    assert_eq!(db.execute(trigger, &[]), Err(denied("TRIGGER")));
}

#[test]
fn ddl_on_own_tables_is_allowed() {
    let mut db = plugin_db(&clock());
    for sql in [
        "CREATE TABLE IF NOT EXISTS hubspot_sync_contact_links (id INTEGER PRIMARY KEY AUTOINCREMENT, hs_contact_id TEXT, address_id INTEGER)",
        "CREATE INDEX hubspot_sync_contact_links_address ON hubspot_sync_contact_links (address_id)",
        "ALTER TABLE hubspot_sync_contact_links ADD COLUMN type TEXT",
        "INSERT INTO hubspot_sync_contact_links (hs_contact_id, address_id) VALUES ('1', 1)",
        "DROP INDEX hubspot_sync_contact_links_address",
        "DROP TABLE hubspot_sync_contact_links",
    ] {
        db.execute(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn rows_of_granted_tables_can_be_read_and_written() {
    let mut db = plugin_db(&clock());
    let id = db
        .execute(
            "INSERT INTO adresse (name, email) VALUES (?, ?)",
            &["A".into(), "a@x.de".into()],
        )
        .unwrap()
        .last_insert_id;
    db.execute("UPDATE adresse SET name = 'B' WHERE id = ?", &[id.into()])
        .unwrap();
    let rows = db
        .query("SELECT name FROM adresse WHERE id = ?", &[id.into()])
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::from("B")));
    db.execute("CREATE TABLE hubspot_sync_cursors (name TEXT)", &[])
        .unwrap();
    db.execute("DELETE FROM hubspot_sync_cursors WHERE name = 'x'", &[])
        .unwrap_or_else(|e| panic!("own tables allow every verb: {e}"));
}

#[test]
fn a_verb_the_grant_leaves_out_is_denied_with_verb_and_table() {
    let mut db = plugin_db(&clock());
    assert_eq!(
        db.execute("DELETE FROM konfiguration WHERE name = 'x'", &[]),
        Err(denied("DELETE on konfiguration"))
    );
    assert_eq!(
        db.execute("INSERT INTO laender (iso) VALUES ('XX')", &[]),
        Err(denied("INSERT on laender"))
    );
    assert_eq!(
        db.execute("UPDATE adresse_rolle SET bis = '2020-01-01'", &[]),
        Err(denied("UPDATE on adresse_rolle"))
    );
}

#[test]
fn triggers_and_views_are_denied_even_on_own_tables() {
    let mut db = plugin_db(&clock());
    db.execute("CREATE TABLE hubspot_sync_cursors (name TEXT)", &[])
        .unwrap();
    assert_eq!(
        db.execute(
            "CREATE TRIGGER hubspot_t AFTER INSERT ON hubspot_sync_cursors BEGIN SELECT 1; END",
            &[]
        ),
        Err(denied("TRIGGER"))
    );
    assert_eq!(
        db.execute(
            "CREATE VIEW hubspot_v AS SELECT * FROM hubspot_sync_cursors",
            &[]
        ),
        Err(denied("VIEW"))
    );
    assert_eq!(
        db.execute("CREATE TEMP TABLE hubspot_tmp (x INT)", &[]),
        Err(denied("TEMPORARY"))
    );
}

#[test]
fn a_join_touching_one_denied_table_is_denied() {
    let mut db = plugin_db(&clock());
    let r = db.query(
        "SELECT a.name, u.passwort FROM adresse a JOIN user u ON u.id = a.id",
        &[],
    );
    assert_eq!(r, Err(denied("user")));
    let r = db.query(
        "SELECT name FROM adresse WHERE id IN (SELECT id FROM user)",
        &[],
    );
    assert_eq!(r, Err(denied("user")));
}

#[test]
fn attach_is_denied() {
    let mut db = plugin_db(&clock());
    let r = db.execute("ATTACH DATABASE ':memory:' AS other", &[]);
    assert_eq!(r, Err(denied("ATTACH")));
}

#[test]
fn pragma_is_denied() {
    let mut db = plugin_db(&clock());
    assert_eq!(
        db.query("PRAGMA journal_mode = DELETE", &[]),
        Err(denied("PRAGMA journal_mode"))
    );
    assert_eq!(
        db.execute("PRAGMA user_version = 99", &[]),
        Err(denied("PRAGMA user_version"))
    );
    assert_eq!(
        db.query("SELECT * FROM pragma_user_version", &[]),
        Err(denied("PRAGMA user_version"))
    );
}

#[test]
fn table_info_of_a_granted_table_is_allowed() {
    let mut db = plugin_db(&clock());
    let rows = db.query("PRAGMA table_info(adresse)", &[]).unwrap();
    assert!(rows.len() > 200);
    assert_eq!(
        db.query("PRAGMA table_info(user)", &[]),
        Err(denied("PRAGMA table_info"))
    );
}

#[test]
fn sql_transaction_statements_are_denied() {
    let mut db = plugin_db(&clock());
    assert_eq!(db.execute("BEGIN", &[]), Err(denied("BEGIN")));
    assert_eq!(db.execute("SAVEPOINT sp", &[]), Err(denied("SAVEPOINT")));
    assert!(!db.in_transaction());
}

#[test]
fn api_transactions_work_under_a_grant() {
    let mut db = plugin_db(&clock());
    db.begin().unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert) VALUES ('a', '1')",
        &[],
    )
    .unwrap();
    db.commit().unwrap();
    db.begin().unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert) VALUES ('b', '2')",
        &[],
    )
    .unwrap();
    db.rollback().unwrap();
    let rows = db.query("SELECT name FROM konfiguration", &[]).unwrap();
    assert_eq!(rows.rows, vec![vec![Value::from("a")]]);
}

#[test]
fn id_counters_cannot_be_rewritten() {
    let mut db = plugin_db(&clock());
    db.execute("INSERT INTO adresse (name) VALUES ('A')", &[])
        .unwrap();
    assert_eq!(
        db.execute("UPDATE sqlite_sequence SET seq = 0", &[]),
        Err(denied("sqlite_sequence"))
    );
    assert_eq!(
        db.execute("DELETE FROM sqlite_sequence", &[]),
        Err(denied("sqlite_sequence"))
    );
}

#[test]
fn the_schema_table_cannot_be_written_directly() {
    let mut db = plugin_db(&clock());
    let r = db.execute("UPDATE sqlite_master SET sql = '' WHERE name = 'user'", &[]);
    assert!(matches!(r, Err(DbError::Invalid(_))), "{r:?}");
}

#[test]
fn a_cte_named_like_a_trigger_cannot_read_past_the_grant() {
    let mut db = plugin_db(&clock());
    let triggers = db.query("SELECT COUNT(*) FROM adresse", &[]).map(|_| ());
    assert_eq!(triggers, Ok(()));
    for sql in [
        "WITH adresse_logdatei_on_update AS (SELECT passwort FROM user) SELECT * FROM adresse_logdatei_on_update",
        "WITH x AS (SELECT passwort FROM user) SELECT * FROM x",
        "WITH x AS (SELECT * FROM user) SELECT COUNT(*) FROM x",
        "SELECT COUNT(*) FROM user",
    ] {
        assert_eq!(db.query(sql, &[]), Err(denied("user")), "{sql}");
    }
}

#[test]
fn counting_a_cte_is_allowed() {
    let mut db = plugin_db(&clock());
    let rows = db
        .query(
            "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT COUNT(*) FROM n",
            &[],
        )
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(10)));
}
