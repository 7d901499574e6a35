//! What a xentral user does in the UI: the rows written and the one Change returned.

mod common;

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use common::{Clock, host_db};
use xentral_erp::records::count_rows;
use xentral_erp::ui::{self, Change, Entity, NewAddress, NewResubmission, NewStage};
use xentral_erp::{Database, DbError, SqliteDatabase, Value};

fn db() -> SqliteDatabase {
    host_db(&Clock::at("2024-05-01 12:00:00"))
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn address(db: &mut SqliteDatabase) -> i64 {
    let a = NewAddress {
        typ: "herr".into(),
        name: "Max Muster".into(),
        vorname: "Max".into(),
        nachname: "Muster".into(),
        email: "max@example.com".into(),
        land: "DE".into(),
        lead: true,
        freifelder: BTreeMap::from([(1, "new".into()), (2, "lead".into())]),
        ..NewAddress::default()
    };
    ui::add_address(db, &a).unwrap().id
}

fn changes(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[test]
fn add_address_writes_the_form_fields_and_returns_one_change() {
    let mut db = db();
    let a = NewAddress {
        name: "Acme".into(),
        email: "info@acme.de".into(),
        ort: "Köln".into(),
        land: "DE".into(),
        lead: true,
        freifelder: BTreeMap::from([(1, "new".into())]),
        ..NewAddress::default()
    };
    let change = ui::add_address(&mut db, &a).unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Address,
            id: 1
        }
    );
    let row = ui::get_address(&mut db, 1).unwrap().unwrap();
    assert_eq!(row["name"], Value::from("Acme"));
    assert_eq!(row["typ"], Value::from("firma"));
    assert_eq!(row["ort"], Value::from("Köln"));
    assert_eq!(row["lead"], Value::Integer(1));
    assert_eq!(row["firma"], Value::Integer(1));
    assert_eq!(row["freifeld1"], Value::from("new"));
    assert_eq!(row["freifeld2"], Value::Null);
    assert_eq!(row["telefon"], Value::from(""));
    assert_eq!(row["geloescht"], Value::Integer(0));
    assert_eq!(row["logdatei"], Value::from("2024-05-01 12:00:00"));
}

#[test]
fn edit_address_updates_the_given_columns() {
    let mut db = db();
    let id = address(&mut db);
    let change = ui::edit_address(
        &mut db,
        id,
        &changes(&[
            ("email", "new@example.com".into()),
            ("telefon", "+49 1".into()),
        ]),
    )
    .unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Address,
            id
        }
    );
    let row = ui::get_address(&mut db, id).unwrap().unwrap();
    assert_eq!(row["email"], Value::from("new@example.com"));
    assert_eq!(row["telefon"], Value::from("+49 1"));
    assert_eq!(row["vorname"], Value::from("Max"));
}

#[test]
fn edit_address_refuses_unknown_columns() {
    let mut db = db();
    let id = address(&mut db);
    let spliced = changes(&[("name = 'x', geloescht", 1.into())]);
    assert!(matches!(
        ui::edit_address(&mut db, id, &spliced),
        Err(DbError::Invalid(_))
    ));
    let id_change = changes(&[("id", 5.into())]);
    assert!(matches!(
        ui::edit_address(&mut db, id, &id_change),
        Err(DbError::Invalid(_))
    ));
}

#[test]
fn edit_of_a_missing_address_is_invalid() {
    let mut db = db();
    let r = ui::edit_address(&mut db, 99, &changes(&[("name", "x".into())]));
    assert!(matches!(r, Err(DbError::Invalid(_))), "{r:?}");
}

#[test]
fn delete_address_marks_it_deleted() {
    let mut db = db();
    let id = address(&mut db);
    let change = ui::delete_address(&mut db, id).unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Address,
            id
        }
    );
    let row = ui::get_address(&mut db, id).unwrap().unwrap();
    assert_eq!(row["geloescht"], Value::Integer(1));
    assert_eq!(count_rows(&mut db, "adresse").unwrap(), 1);
}

#[test]
fn create_group_and_find_it_by_name() {
    let mut db = db();
    let id = ui::create_group(&mut db, "Hubspot", "HS").unwrap();
    assert_eq!(
        ui::find_group_by_name(&mut db, "hubspot").unwrap(),
        Some(id)
    );
    assert_eq!(ui::find_group_by_name(&mut db, "Other").unwrap(), None);
    let rows = db
        .query("SELECT art, kennziffer, aktiv FROM gruppen", &[])
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [Value::from("gruppe"), Value::from("HS"), Value::Integer(1)]
    );
}

#[test]
fn add_to_group_writes_the_xentral_role_row() {
    let mut db = db();
    let a = address(&mut db);
    let g = ui::create_group(&mut db, "Hubspot", "HS").unwrap();
    let change = ui::add_to_group(&mut db, a, g, day("2024-05-01")).unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Address,
            id: a
        }
    );
    let rows = db
        .query("SELECT adresse, projekt, subjekt, praedikat, objekt, parameter, von, bis FROM adresse_rolle", &[])
        .unwrap();
    assert_eq!(
        rows.rows,
        vec![vec![
            Value::Integer(a),
            Value::Integer(0),
            Value::from("Mitglied"),
            Value::from("von"),
            Value::from("Gruppe"),
            Value::from(g.to_string()),
            Value::from("2024-05-01"),
            Value::from("0000-00-00"),
        ]]
    );
    assert_eq!(
        ui::group_members(&mut db, g, day("2024-05-01")).unwrap(),
        [a]
    );
}

#[test]
fn adding_a_current_member_again_writes_nothing() {
    let mut db = db();
    let a = address(&mut db);
    let g = ui::create_group(&mut db, "Hubspot", "HS").unwrap();
    ui::add_to_group(&mut db, a, g, day("2024-05-01")).unwrap();
    let change = ui::add_to_group(&mut db, a, g, day("2024-05-02")).unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Address,
            id: a
        }
    );
    assert_eq!(count_rows(&mut db, "adresse_rolle").unwrap(), 1);
}

#[test]
fn remove_from_group_ends_the_membership_yesterday() {
    let mut db = db();
    let a = address(&mut db);
    let g = ui::create_group(&mut db, "Hubspot", "HS").unwrap();
    ui::add_to_group(&mut db, a, g, day("2024-04-01")).unwrap();
    let change = ui::remove_from_group(&mut db, a, g, day("2024-05-01")).unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Address,
            id: a
        }
    );
    let rows = db.query("SELECT bis FROM adresse_rolle", &[]).unwrap();
    assert_eq!(rows.scalar(), Some(&Value::from("2024-04-30")));
    assert!(!ui::is_group_member(&mut db, a, g, day("2024-05-01")).unwrap());
    assert!(
        ui::group_members(&mut db, g, day("2024-05-01"))
            .unwrap()
            .is_empty()
    );
    ui::add_to_group(&mut db, a, g, day("2024-05-02")).unwrap();
    assert!(ui::is_group_member(&mut db, a, g, day("2024-05-02")).unwrap());
    assert_eq!(count_rows(&mut db, "adresse_rolle").unwrap(), 2);
}

#[test]
fn a_membership_ending_in_the_future_is_current() {
    let mut db = db();
    let a = address(&mut db);
    let g = ui::create_group(&mut db, "Hubspot", "HS").unwrap();
    ui::add_to_group(&mut db, a, g, day("2024-04-01")).unwrap();
    db.execute("UPDATE adresse_rolle SET bis = '2024-06-30'", &[])
        .unwrap();
    assert!(ui::is_group_member(&mut db, a, g, day("2024-06-30")).unwrap());
    assert!(!ui::is_group_member(&mut db, a, g, day("2024-07-01")).unwrap());
}

#[test]
fn add_to_a_missing_group_is_invalid() {
    let mut db = db();
    let a = address(&mut db);
    let r = ui::add_to_group(&mut db, a, 42, day("2024-05-01"));
    assert!(matches!(r, Err(DbError::Invalid(_))), "{r:?}");
}

fn board(db: &mut SqliteDatabase) -> (i64, i64, i64) {
    let view = ui::create_view(db, "Hubspot Sales", "hubspot", true).unwrap();
    let open = ui::create_stage(
        db,
        &NewStage {
            kurzbezeichnung: "OP".into(),
            name: "Open".into(),
            sort: 1,
            view,
            chance: Some(20),
            ..NewStage::default()
        },
    )
    .unwrap();
    let won = ui::create_stage(
        db,
        &NewStage {
            kurzbezeichnung: "WON".into(),
            name: "Won".into(),
            sort: 2,
            view,
            chance: Some(100),
            ..NewStage::default()
        },
    )
    .unwrap();
    (view, open, won)
}

#[test]
fn create_view_and_stage_write_their_rows() {
    let mut db = db();
    let (view, open, _) = board(&mut db);
    let rows = db
        .query(
            "SELECT name, shortname, active FROM wiedervorlage_view",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("Hubspot Sales"),
            Value::from("hubspot"),
            Value::Integer(1)
        ]
    );
    let rows = db
        .query("SELECT kurzbezeichnung, hexcolor, view, chance, ausblenden FROM wiedervorlage_stages WHERE id = ?", &[open.into()])
        .unwrap();
    assert_eq!(
        rows.rows[0],
        [
            Value::from("OP"),
            Value::from("#a2d624"),
            Value::Integer(view),
            Value::Integer(20),
            Value::Integer(0)
        ]
    );
}

#[test]
fn add_resubmission_writes_the_form_and_returns_one_change() {
    let mut db = db();
    let a = address(&mut db);
    let (_, open, _) = board(&mut db);
    let r = NewResubmission {
        bezeichnung: "Big deal".into(),
        beschreibung: "Call back".into(),
        betrag: Some("1234.56".into()),
        adresse: a,
        stages: open,
        datum_erinnerung: Some(day("2024-06-30")),
        zeit_erinnerung: Some(NaiveTime::from_hms_opt(9, 30, 0).unwrap()),
        bearbeiter: 1,
        adresse_mitarbeiter: 1,
        ..NewResubmission::default()
    };
    let now = day("2024-05-01").and_hms_opt(14, 15, 16).unwrap();
    let change = ui::add_resubmission(&mut db, &r, now).unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Resubmission,
            id: 1
        }
    );
    let row = ui::get_resubmission(&mut db, 1).unwrap().unwrap();
    assert_eq!(row["betrag"], Value::from("1234.56"));
    assert_eq!(row["stages"], Value::Integer(open));
    assert_eq!(row["adresse"], Value::Integer(a));
    assert_eq!(row["datum_erinnerung"], Value::from("2024-06-30"));
    assert_eq!(row["zeit_erinnerung"], Value::from("09:30:00"));
    assert_eq!(row["datum_angelegt"], Value::from("2024-05-01"));
    assert_eq!(row["zeit_angelegt"], Value::from("14:15:16"));
    assert_eq!(row["ergebnis"], Value::from(""));
    assert_eq!(row["color"], Value::from("#a2d624"));
}

#[test]
fn a_malformed_amount_is_refused() {
    let mut db = db();
    let r = NewResubmission {
        betrag: Some("12,50".into()),
        ..NewResubmission::default()
    };
    let now = day("2024-05-01").and_hms_opt(0, 0, 0).unwrap();
    assert!(matches!(
        ui::add_resubmission(&mut db, &r, now),
        Err(DbError::Invalid(_))
    ));
    assert_eq!(count_rows(&mut db, "wiedervorlage").unwrap(), 0);
}

#[test]
fn edit_resubmission_updates_the_given_columns() {
    let mut db = db();
    let now = day("2024-05-01").and_hms_opt(0, 0, 0).unwrap();
    let id = ui::add_resubmission(&mut db, &NewResubmission::default(), now)
        .unwrap()
        .id;
    let change = ui::edit_resubmission(
        &mut db,
        id,
        &changes(&[("betrag", "99.5".into()), ("bezeichnung", "X".into())]),
    )
    .unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Resubmission,
            id
        }
    );
    let row = ui::get_resubmission(&mut db, id).unwrap().unwrap();
    assert_eq!(
        (row["betrag"].clone(), row["bezeichnung"].clone()),
        (Value::from("99.50"), Value::from("X"))
    );
}

#[test]
fn moving_a_resubmission_changes_its_stage() {
    let mut db = db();
    let (view, open, won) = board(&mut db);
    let now = day("2024-05-01").and_hms_opt(0, 0, 0).unwrap();
    let r = NewResubmission {
        stages: open,
        ..NewResubmission::default()
    };
    let id = ui::add_resubmission(&mut db, &r, now).unwrap().id;
    let change = ui::move_resubmission(&mut db, id, won).unwrap();
    assert_eq!(
        change,
        Change {
            entity: Entity::Resubmission,
            id
        }
    );
    let rows = db
        .query("SELECT s.view FROM wiedervorlage w JOIN wiedervorlage_stages s ON s.id = w.stages WHERE w.id = ?", &[id.into()])
        .unwrap();
    assert_eq!(rows.scalar(), Some(&Value::Integer(view)));
    assert_eq!(
        ui::get_resubmission(&mut db, id).unwrap().unwrap()["stages"],
        Value::Integer(won)
    );
    assert!(matches!(
        ui::move_resubmission(&mut db, id, 999),
        Err(DbError::Invalid(_))
    ));
}
