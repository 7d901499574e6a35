//! The xentral schema on SQLite: columns, defaults, ON UPDATE, migrations, laender.

mod common;

use std::collections::BTreeSet;

use common::{Clock, host_db};
use rusqlite::Connection;
use xentral_erp::migrations::{CURRENT_VERSION, migrate_to, schema_version};
use xentral_erp::{Database, SqliteDatabase, Value, migrate};

const REFERENCE: &str = include_str!("../sql/xentral-schema.sql");

fn clock() -> Clock {
    Clock::at("2024-05-01 12:00:00")
}

/// (table, column) pairs of the reference, read independently of the crate's parser.
fn reference_columns() -> Vec<(String, String)> {
    let mut table = String::new();
    let mut out = Vec::new();
    for line in REFERENCE.lines() {
        if let Some(rest) = line.strip_prefix("CREATE TABLE `") {
            table = rest.split('`').next().unwrap().to_owned();
        } else if let Some(rest) = line.strip_prefix("  `") {
            out.push((table.clone(), rest.split('`').next().unwrap().to_owned()));
        }
    }
    out
}

fn columns_of(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .unwrap();
    stmt.query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn schema_dump(conn: &Connection) -> Vec<(String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_embedded_reference_is_the_shared_one_verbatim() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/xentral-schema.sql"
    );
    if let Ok(text) = std::fs::read_to_string(shared) {
        assert_eq!(text, REFERENCE);
    }
}

#[test]
fn every_reference_column_exists_with_the_same_name_and_order() {
    let db = host_db(&clock());
    let expected = reference_columns();
    assert_eq!(expected.len(), 448);
    let tables: BTreeSet<&str> = expected.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tables.len(), 12);
    for table in tables {
        let want: Vec<&str> = expected
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, c)| c.as_str())
            .collect();
        assert_eq!(columns_of(db.connection(), table), want, "{table}");
    }
}

#[test]
fn primary_keys_and_indexes_exist() {
    let db = host_db(&clock());
    let conn = db.connection();
    let pk: String = conn
        .query_row(
            "SELECT name FROM pragma_table_info('konfiguration') WHERE pk = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pk, "name");
    let indexes: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_index_list('adresse') ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    for key in [
        "email",
        "kundennummer",
        "lieferantennummer",
        "name",
        "plz",
        "projekt",
        "usereditid",
    ] {
        assert!(
            indexes.contains(&format!("adresse_{key}")),
            "{key}: {indexes:?}"
        );
    }
}

#[test]
fn an_insert_omitting_not_null_columns_stores_mysql_implicit_defaults() {
    let mut db = host_db(&clock());
    db.execute("INSERT INTO adresse (name) VALUES ('Acme')", &[])
        .unwrap();
    let rows = db
        .query(
            "SELECT typ, sonstiges, geloescht, projekt, kreditlimit, tour, vorname, \
             useredittimestamp, mandatsreferenzdatum FROM adresse",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from(""),
            Value::from(""),
            Value::Integer(0),
            Value::Integer(0),
            Value::from("0.00"),
            Value::Integer(0),
            Value::Null,
            Value::from("0000-00-00 00:00:00"),
            Value::Null,
        ]
    );
    db.execute("INSERT INTO adresse_rolle (adresse) VALUES (1)", &[])
        .unwrap();
    let rows = db
        .query("SELECT von, bis, subjekt FROM adresse_rolle", &[])
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("0000-00-00"),
            Value::from("0000-00-00"),
            Value::from("")
        ]
    );
    db.execute("INSERT INTO prozessstarter (bezeichnung) VALUES ('x')", &[])
        .unwrap();
    let rows = db
        .query("SELECT letzteausfuerhung, periode FROM prozessstarter", &[])
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [Value::from("0000-00-00 00:00:00"), Value::from("1440")]
    );
}

#[test]
fn logdatei_defaults_to_the_virtual_clock() {
    let clock = clock();
    let mut db = host_db(&clock);
    db.execute("INSERT INTO adresse (name) VALUES ('Acme')", &[])
        .unwrap();
    let rows = db.query("SELECT logdatei FROM adresse", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::from("2024-05-01 12:00:00")));
}

#[test]
fn logdatei_is_bumped_on_update_with_the_virtual_clock() {
    let clock = clock();
    let mut db = host_db(&clock);
    db.execute("INSERT INTO adresse (name) VALUES ('Acme')", &[])
        .unwrap();
    db.execute(
        "INSERT INTO ansprechpartner (name, adresse) VALUES ('Eve', 1)",
        &[],
    )
    .unwrap();
    clock.set("2024-05-02 08:30:00");
    db.execute("UPDATE adresse SET name = 'Acme GmbH'", &[])
        .unwrap();
    db.execute("UPDATE ansprechpartner SET name = 'Eva'", &[])
        .unwrap();
    for table in ["adresse", "ansprechpartner"] {
        let rows = db
            .query(&format!("SELECT logdatei FROM {table}"), &[])
            .unwrap();
        assert_eq!(
            rows.scalar(),
            Some(&Value::from("2024-05-02 08:30:00")),
            "{table}"
        );
    }
}

#[test]
fn an_update_setting_logdatei_keeps_that_value() {
    let clock = clock();
    let mut db = host_db(&clock);
    db.execute("INSERT INTO adresse (name) VALUES ('Acme')", &[])
        .unwrap();
    clock.set("2024-05-02 08:30:00");
    db.execute(
        "UPDATE adresse SET name = 'B', logdatei = '2020-01-01 00:00:00'",
        &[],
    )
    .unwrap();
    let rows = db.query("SELECT logdatei FROM adresse", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::from("2020-01-01 00:00:00")));
}

#[test]
fn an_update_changing_nothing_leaves_logdatei() {
    let clock = clock();
    let mut db = host_db(&clock);
    db.execute("INSERT INTO adresse (name) VALUES ('Acme')", &[])
        .unwrap();
    clock.set("2024-05-02 08:30:00");
    db.execute("UPDATE adresse SET name = 'Acme'", &[]).unwrap();
    let rows = db.query("SELECT logdatei FROM adresse", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::from("2024-05-01 12:00:00")));
}

#[test]
fn status_zeit_is_bumped_on_update() {
    let clock = clock();
    let mut db = host_db(&clock);
    db.execute("INSERT INTO prozessstarter (bezeichnung) VALUES ('x')", &[])
        .unwrap();
    clock.set("2024-05-01 13:00:00");
    db.execute("UPDATE prozessstarter SET mutex = 1", &[])
        .unwrap();
    let rows = db
        .query("SELECT status_zeit FROM prozessstarter", &[])
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::from("2024-05-01 13:00:00")));
}

#[test]
fn decimal_betrag_round_trips_exactly() {
    let mut db = host_db(&clock());
    for (written, read) in [
        (Value::from("1234.56"), "1234.56"),
        (Value::from("1234.5"), "1234.50"),
        (Value::Real(1234.56), "1234.56"),
        (Value::Integer(7), "7.00"),
        (Value::from("99999999.99"), "99999999.99"),
        (Value::from("0.01"), "0.01"),
    ] {
        db.execute("DELETE FROM wiedervorlage", &[]).unwrap();
        db.execute(
            "INSERT INTO wiedervorlage (betrag) VALUES (?)",
            std::slice::from_ref(&written),
        )
        .unwrap();
        let rows = db.query("SELECT betrag FROM wiedervorlage", &[]).unwrap();
        assert_eq!(rows.scalar(), Some(&Value::from(read)), "{written:?}");
    }
}

#[test]
fn decimals_compare_and_sum_as_numbers() {
    let mut db = host_db(&clock());
    for b in ["999.50", "1000.25", "0.25"] {
        db.execute("INSERT INTO wiedervorlage (betrag) VALUES (?)", &[b.into()])
            .unwrap();
    }
    let rows = db
        .query(
            "SELECT COUNT(*) FROM wiedervorlage WHERE betrag > 1000",
            &[],
        )
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(1)));
    let rows = db
        .query("SELECT SUM(betrag) FROM wiedervorlage", &[])
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Real(2000.0)));
}

#[test]
fn text_compares_case_insensitively_like_xentrals_collation() {
    let mut db = host_db(&clock());
    db.execute(
        "INSERT INTO adresse (email) VALUES ('Max@Example.com')",
        &[],
    )
    .unwrap();
    let rows = db
        .query(
            "SELECT COUNT(*) FROM adresse WHERE email = ?",
            &["max@example.COM".into()],
        )
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(1)));
}

#[test]
fn temporal_values_are_stored_as_mysql_converts_them() {
    let mut db = host_db(&clock());
    db.execute(
        "INSERT INTO wiedervorlage (datum_angelegt, zeit_angelegt, erinnerung) VALUES (NOW(), NOW(), '2024-06-01')",
        &[],
    )
    .unwrap();
    db.execute(
        "UPDATE wiedervorlage SET datum_erinnerung = '2024-07-01 09:00:00'",
        &[],
    )
    .unwrap();
    let rows = db
        .query(
            "SELECT datum_angelegt, zeit_angelegt, erinnerung, datum_erinnerung FROM wiedervorlage",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("2024-05-01"),
            Value::from("12:00:00"),
            Value::from("2024-06-01 00:00:00"),
            Value::from("2024-07-01"),
        ]
    );
}

#[test]
fn migrating_twice_is_a_no_op() {
    let db = host_db(&clock());
    let before = schema_dump(db.connection());
    let countries: i64 = db
        .connection()
        .query_row("SELECT COUNT(*) FROM laender", [], |r| r.get(0))
        .unwrap();
    assert_eq!(migrate(db.connection()), Ok(CURRENT_VERSION));
    assert_eq!(schema_dump(db.connection()), before);
    let again: i64 = db
        .connection()
        .query_row("SELECT COUNT(*) FROM laender", [], |r| r.get(0))
        .unwrap();
    assert_eq!(again, countries);
}

#[test]
fn an_old_version_database_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.sqlite");
    let clock = clock();
    {
        let mut db = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
        assert_eq!(migrate_to(db.connection(), 1), Ok(1));
        db.execute("INSERT INTO adresse (name) VALUES ('kept')", &[])
            .unwrap();
    }
    let mut db = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
    assert_eq!(schema_version(db.connection()), Ok(1));
    assert_eq!(db.migrate(), Ok(CURRENT_VERSION));
    clock.set("2024-05-03 00:00:00");
    db.execute("UPDATE adresse SET ort = 'Berlin'", &[])
        .unwrap();
    let rows = db.query("SELECT name, logdatei FROM adresse", &[]).unwrap();
    assert_eq!(
        rows.rows[0],
        [Value::from("kept"), Value::from("2024-05-03 00:00:00")]
    );
    let rows = db
        .query("SELECT COUNT(*) FROM laender WHERE iso = 'DE'", &[])
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(1)));
}

#[test]
fn a_table_lacking_columns_gains_them_and_keeps_its_rows() {
    let clock = clock();
    let db = SqliteDatabase::open_in_memory(clock.now_fn()).unwrap();
    db.connection()
        .execute_batch(
            "CREATE TABLE adresse (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '');
             INSERT INTO adresse (name) VALUES ('old');",
        )
        .unwrap();
    db.migrate().unwrap();
    let columns = columns_of(db.connection(), "adresse");
    let expected = reference_columns()
        .into_iter()
        .filter(|(t, _)| t == "adresse")
        .count();
    assert_eq!(columns.len(), expected);
    let (name, email): (String, String) = db
        .connection()
        .query_row("SELECT name, email FROM adresse", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((name.as_str(), email.as_str()), ("old", ""));
}

#[test]
fn laender_is_seeded_with_the_required_countries() {
    let mut db = host_db(&clock());
    let eu = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    ];
    let rows = db
        .query("SELECT iso FROM laender WHERE eu = 1 ORDER BY iso", &[])
        .unwrap();
    let mut seeded: Vec<String> = rows.rows.iter().map(|r| r[0].to_text().unwrap()).collect();
    let mut want: Vec<String> = eu.iter().map(|s| s.to_string()).collect();
    seeded.sort();
    want.sort();
    assert_eq!(seeded, want);
    for iso in ["CH", "GB", "US", "NO"] {
        let rows = db
            .query("SELECT eu FROM laender WHERE iso = ?", &[iso.into()])
            .unwrap();
        assert_eq!(rows.scalar(), Some(&Value::Integer(0)), "{iso}");
    }
    let rows = db
        .query(
            "SELECT iso3, num_code, bezeichnung_de, bezeichnung_en FROM laender WHERE iso = 'AT'",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("AUT"),
            Value::from("040"),
            Value::from("Österreich"),
            Value::from("Austria")
        ]
    );
}

#[test]
fn reseeding_laender_adds_nothing() {
    let db = host_db(&clock());
    assert_eq!(xentral_erp::laender::seed(db.connection()), Ok(0));
}
