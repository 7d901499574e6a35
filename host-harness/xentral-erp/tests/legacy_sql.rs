//! The INSERT and UPDATE shapes the old PHP module ran against xentral succeed unchanged.

mod common;

use common::{Clock, plugin_db};
use xentral_erp::{Database, SqliteDatabase, Value};

fn db() -> SqliteDatabase {
    plugin_db(&Clock::at("2024-05-01 12:00:00"))
}

fn scalar(db: &mut SqliteDatabase, sql: &str) -> Value {
    db.query(sql, &[]).unwrap().scalar().cloned().unwrap()
}

#[test]
fn address_insert_and_update() {
    let mut db = db();
    let id = db
        .execute(
            "INSERT INTO adresse (typ,name,vorname,nachname,email,telefon,strasse,plz,ort,land,bundesstaat,internetseite,lead,vertrieb,firma,freifeld1,freifeld2) \
             VALUES ('herr',?,?,?,?,?,?,?,?,?,?,?,1,0,1,?,?)",
            &[
                "Max Muster".into(), "Max".into(), "Muster".into(), "max@example.com".into(),
                "+49 30 1".into(), "Hauptstr. 1".into(), "10115".into(), "Berlin".into(),
                "DE".into(), "BE".into(), "https://example.com".into(), "new".into(), "lead".into(),
            ],
        )
        .unwrap()
        .last_insert_id;
    db.execute(
        "UPDATE adresse SET vorname = ?, nachname = ?, name = ?, email = ?, telefon = ? WHERE id = ?",
        &["Maxi".into(), "Muster".into(), "Maxi Muster".into(), "maxi@example.com".into(), "".into(), id.into()],
    )
    .unwrap();
    assert_eq!(
        scalar(&mut db, "SELECT name FROM adresse"),
        Value::from("Maxi Muster")
    );
}

#[test]
fn group_membership_insert() {
    let mut db = db();
    db.execute(
        "INSERT INTO gruppen (name, art, kennziffer, aktiv) VALUES ('Hubspot', 'gruppe', 'HS', 1)",
        &[],
    )
    .unwrap();
    db.execute("INSERT INTO adresse (name) VALUES ('x')", &[])
        .unwrap();
    db.execute(
        "INSERT INTO adresse_rolle (adresse, projekt, subjekt, praedikat, objekt, parameter, von, bis) \
         VALUES (?, 0, 'Mitglied', 'von', 'Gruppe', ?, CURDATE(), '0000-00-00')",
        &[Value::Integer(1), Value::from("1")],
    )
    .unwrap();
    let rows = db
        .query("SELECT von, bis, parameter FROM adresse_rolle", &[])
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("2024-05-01"),
            Value::from("0000-00-00"),
            Value::from("1")
        ]
    );
}

#[test]
fn resubmission_insert_and_update() {
    let mut db = db();
    db.execute(
        "INSERT INTO wiedervorlage (bezeichnung, betrag, adresse, stages, datum_erinnerung, zeit_erinnerung, \
         datum_angelegt, zeit_angelegt, bearbeiter, adresse_mitarbeiter, prio, oeffentlich) \
         VALUES (?, ?, ?, ?, ?, '00:00:00', NOW(), NOW(), 0, 0, 0, 1)",
        &["Deal".into(), "1234.56".into(), 1.into(), 2.into(), "2024-06-30".into()],
    )
    .unwrap();
    db.execute(
        "UPDATE wiedervorlage SET bezeichnung = ?, betrag = ?, stages = ?, datum_erinnerung = ? WHERE id = ?",
        &["Deal 2".into(), "99.9".into(), 3.into(), "2024-07-31".into(), 1.into()],
    )
    .unwrap();
    let rows = db
        .query("SELECT bezeichnung, betrag, datum_angelegt, zeit_angelegt, beschreibung FROM wiedervorlage", &[])
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("Deal 2"),
            Value::from("99.90"),
            Value::from("2024-05-01"),
            Value::from("12:00:00"),
            Value::from(""),
        ]
    );
}

#[test]
fn stage_and_view_inserts() {
    let mut db = db();
    db.execute(
        "INSERT INTO wiedervorlage_view (name, shortname, active) VALUES ('Hubspot', 'hubspot', 1)",
        &[],
    )
    .unwrap();
    db.execute(
        "INSERT INTO wiedervorlage_stages (kurzbezeichnung, name, hexcolor, ausblenden, stageausblenden, sort, view, chance) \
         VALUES ('AS', 'appointmentscheduled', '#a2d624', 0, 0, 1, 1, 20)",
        &[],
    )
    .unwrap();
    db.execute(
        "UPDATE wiedervorlage_stages SET name = 'Termin', chance = 30 WHERE id = 1",
        &[],
    )
    .unwrap();
    db.execute("UPDATE wiedervorlage_view SET active = 0 WHERE id = 1", &[])
        .unwrap();
    assert_eq!(
        scalar(&mut db, "SELECT chance FROM wiedervorlage_stages"),
        Value::Integer(30)
    );
}

#[test]
fn free_field_labels_in_firmendaten_werte() {
    let mut db = db();
    db.execute(
        "INSERT INTO firmendaten_werte (name, typ, typ1, typ2, wert, default_value, default_null, darf_null) \
         VALUES ('adressefreifeld1', 'varchar', '64', '', 'Hubspot Lead Status', '', 0, 0)",
        &[],
    )
    .unwrap();
    db.execute(
        "UPDATE firmendaten_werte SET wert = ? WHERE name = ?",
        &["Lead".into(), "adressefreifeld1".into()],
    )
    .unwrap();
    assert_eq!(
        scalar(&mut db, "SELECT wert FROM firmendaten_werte"),
        Value::from("Lead")
    );
}

#[test]
fn settings_in_konfiguration() {
    let mut db = db();
    db.execute(
        "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('hubspot_settings', ?, 0, 1)",
        &[r#"{"hs_sync_addresses":1}"#.into()],
    )
    .unwrap();
    db.execute(
        "UPDATE konfiguration SET wert = ? WHERE name = 'hubspot_settings'",
        &["{}".into()],
    )
    .unwrap();
    assert_eq!(
        scalar(&mut db, "SELECT wert FROM konfiguration"),
        Value::from("{}")
    );
}

/// The lock updates are the scheduler's (the host's), not the plugin's: no grant.
#[test]
fn process_starter_insert_and_lock_updates() {
    let mut db = common::host_db(&Clock::at("2024-05-01 12:00:00"));
    db.execute(
        "INSERT INTO prozessstarter (bezeichnung, bedingung, art, startzeit, letzteausfuerhung, periode, typ, parameter, aktiv, mutex, mutexcounter, firma, art_filter, status) \
         VALUES ('Hubspot Process Queues', '', 'periodisch', '2017-01-01 00:00:00', '0000-00-00 00:00:00', '10', 'cronjob', 'hubspot_process', 1, 0, 0, 1, '', '')",
        &[],
    )
    .unwrap();
    db.execute("UPDATE prozessstarter SET mutexcounter = mutexcounter + 1 WHERE mutex = 1 AND parameter = 'hubspot_process' AND aktiv = 1", &[])
        .unwrap();
    db.execute("UPDATE prozessstarter SET letzteausfuerhung=NOW(), mutex = 1,mutexcounter=0 WHERE parameter = 'hubspot_process'", &[])
        .unwrap();
    assert_eq!(
        scalar(&mut db, "SELECT letzteausfuerhung FROM prozessstarter"),
        Value::from("2024-05-01 12:00:00")
    );
}

#[test]
fn update_with_limit_is_not_supported_on_sqlite() {
    let mut db = db();
    let r = db.execute("UPDATE adresse SET name = 'x' WHERE id = 1 LIMIT 1", &[]);
    assert!(matches!(r, Err(xentral_erp::DbError::Invalid(_))), "{r:?}");
}
