//! What a xentral user does in the UI, as library calls writing the rows xentral writes.
//!
//! Every call works over `&mut dyn Database`, so it runs on any backend. Calls that edit an
//! address or a resubmission return the [`Change`] the host fires into the plugin's save hook
//! (xentral fires its hooks after every save, also when nothing changed); this module fires
//! nothing itself. Dates are the wall-clock values the xentral user sees, passed in by the caller.
//!
//! Group membership follows xentral: joining inserts an `adresse_rolle` row
//! (`subjekt`='Mitglied', `praedikat`='von', `objekt`='Gruppe', `parameter`=group id, `von`=today,
//! `bis`='0000-00-00'); leaving does not delete it but ends it, as OpenXE's address "Gruppen" tab
//! does (`bis = DATE_SUB(NOW(), INTERVAL 1 DAY)`), so `bis` becomes yesterday. A membership is
//! current while `bis = '0000-00-00' OR bis >= today`.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::database::{Database, DbError};
use crate::mysql_compat::{DATE_FORMAT, TIME_FORMAT, ZERO_DATE};
use crate::records::{self, Record};
use crate::value::Value;

/// The kind of record a [`Change`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Entity {
    /// An `adresse` row.
    Address,
    /// A `wiedervorlage` row.
    Resubmission,
    /// An `ansprechpartner` row.
    ContactPerson,
}

/// One saved edit, to be fired into the plugin's save hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Change {
    /// What was edited.
    pub entity: Entity,
    /// Its id.
    pub id: i64,
}

impl Change {
    fn address(id: i64) -> Self {
        Self {
            entity: Entity::Address,
            id,
        }
    }

    fn resubmission(id: i64) -> Self {
        Self {
            entity: Entity::Resubmission,
            id,
        }
    }

    fn contact_person(id: i64) -> Self {
        Self {
            entity: Entity::ContactPerson,
            id,
        }
    }
}

/// The fields of the address form a user fills in.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAddress {
    /// `firma`, `herr`, `frau` or empty.
    pub typ: String,
    /// Display name (company, or "first last").
    pub name: String,
    /// First name.
    pub vorname: String,
    /// Last name.
    pub nachname: String,
    /// E-mail address.
    pub email: String,
    /// Phone.
    pub telefon: String,
    /// Street and number.
    pub strasse: String,
    /// Postcode.
    pub plz: String,
    /// City.
    pub ort: String,
    /// Country as ISO-2 code (`DE`).
    pub land: String,
    /// State or region.
    pub bundesstaat: String,
    /// Website.
    pub internetseite: String,
    /// The company (`firmendaten`) the address belongs to; xentral uses 1.
    pub firma: i64,
    /// Project id, 0 for none.
    pub projekt: i64,
    /// Whether the address is a lead.
    pub lead: bool,
    /// Free fields by number (1–20) → text.
    pub freifelder: BTreeMap<u8, String>,
}

impl Default for NewAddress {
    fn default() -> Self {
        Self {
            typ: "firma".into(),
            name: String::new(),
            vorname: String::new(),
            nachname: String::new(),
            email: String::new(),
            telefon: String::new(),
            strasse: String::new(),
            plz: String::new(),
            ort: String::new(),
            land: String::new(),
            bundesstaat: String::new(),
            internetseite: String::new(),
            firma: 1,
            projekt: 0,
            lead: false,
            freifelder: BTreeMap::new(),
        }
    }
}

/// Saves a new address, as the address form does; every form field is written (empty as `''`).
pub fn add_address(db: &mut dyn Database, a: &NewAddress) -> Result<Change, DbError> {
    let freifeld_names: Vec<String> = a
        .freifelder
        .keys()
        .map(|n| format!("freifeld{n}"))
        .collect();
    let mut values: Vec<(&str, Value)> = vec![
        ("typ", a.typ.as_str().into()),
        ("name", a.name.as_str().into()),
        ("vorname", a.vorname.as_str().into()),
        ("nachname", a.nachname.as_str().into()),
        ("email", a.email.as_str().into()),
        ("telefon", a.telefon.as_str().into()),
        ("strasse", a.strasse.as_str().into()),
        ("plz", a.plz.as_str().into()),
        ("ort", a.ort.as_str().into()),
        ("land", a.land.as_str().into()),
        ("bundesstaat", a.bundesstaat.as_str().into()),
        ("internetseite", a.internetseite.as_str().into()),
        ("firma", a.firma.into()),
        ("projekt", a.projekt.into()),
        ("lead", a.lead.into()),
    ];
    values.extend(
        freifeld_names
            .iter()
            .zip(a.freifelder.values())
            .map(|(c, v)| (c.as_str(), Value::from(v.as_str()))),
    );
    let id = records::insert_row(db, "adresse", &values)?;
    Ok(Change::address(id))
}

/// Saves edits to an address: column → new value; unknown columns are refused.
pub fn edit_address(
    db: &mut dyn Database,
    id: i64,
    changes: &BTreeMap<String, Value>,
) -> Result<Change, DbError> {
    records::update_row(db, "adresse", id, changes)?;
    Ok(Change::address(id))
}

/// Deletes an address the xentral way: `geloescht = 1`, the row stays.
pub fn delete_address(db: &mut dyn Database, id: i64) -> Result<Change, DbError> {
    let changes = BTreeMap::from([("geloescht".to_owned(), Value::Integer(1))]);
    edit_address(db, id, &changes)
}

/// The fields of the contact-person form of a company address a user fills in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewContactPerson {
    /// The company address it belongs to.
    pub adresse: i64,
    /// The whole name (`name`), as xentral's lists show it.
    pub name: String,
    /// First name.
    pub vorname: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub telefon: String,
    /// Mobile.
    pub mobil: String,
    /// Position (`bereich`).
    pub bereich: String,
    /// Department (`abteilung`).
    pub abteilung: String,
}

/// Saves a new contact person, as the form does; every form field is written (empty as `''`).
pub fn add_contact_person(db: &mut dyn Database, p: &NewContactPerson) -> Result<Change, DbError> {
    let mut values: Vec<(&str, Value)> = vec![
        ("adresse", p.adresse.into()),
        ("name", p.name.as_str().into()),
        ("vorname", p.vorname.as_str().into()),
        ("email", p.email.as_str().into()),
        ("telefon", p.telefon.as_str().into()),
        ("mobil", p.mobil.as_str().into()),
        ("bereich", p.bereich.as_str().into()),
        ("abteilung", p.abteilung.as_str().into()),
    ];
    for empty in [
        "typ",
        "sprache",
        "unterabteilung",
        "land",
        "strasse",
        "ort",
        "plz",
        "telefax",
        "sonstiges",
        "adresszusatz",
        "steuer",
        "interne_bemerkung",
    ] {
        values.push((empty, "".into()));
    }
    let id = records::insert_row(db, "ansprechpartner", &values)?;
    Ok(Change::contact_person(id))
}

/// Saves edits to a contact person: column → new value (`adresse` moves it to another
/// company address); unknown columns are refused.
pub fn edit_contact_person(
    db: &mut dyn Database,
    id: i64,
    changes: &BTreeMap<String, Value>,
) -> Result<Change, DbError> {
    records::update_row(db, "ansprechpartner", id, changes)?;
    Ok(Change::contact_person(id))
}

/// Deletes a contact person the xentral way: `geloescht = 1`, the row stays.
pub fn delete_contact_person(db: &mut dyn Database, id: i64) -> Result<Change, DbError> {
    let changes = BTreeMap::from([("geloescht".to_owned(), Value::Integer(1))]);
    edit_contact_person(db, id, &changes)
}

/// The contact person with `id`, every column.
pub fn get_contact_person(db: &mut dyn Database, id: i64) -> Result<Option<Record>, DbError> {
    records::get_row(db, "ansprechpartner", id)
}

/// The address with `id`, every column.
pub fn get_address(db: &mut dyn Database, id: i64) -> Result<Option<Record>, DbError> {
    records::get_row(db, "adresse", id)
}

/// Creates an active group (`art` = 'gruppe'); returns its id.
pub fn create_group(db: &mut dyn Database, name: &str, kennziffer: &str) -> Result<i64, DbError> {
    records::insert_row(
        db,
        "gruppen",
        &[
            ("name", name.into()),
            ("art", "gruppe".into()),
            ("kennziffer", kennziffer.into()),
            ("aktiv", 1.into()),
        ],
    )
}

/// The id of the first group named `name` (case-insensitive, as in xentral's collation).
pub fn find_group_by_name(db: &mut dyn Database, name: &str) -> Result<Option<i64>, DbError> {
    let rows = db.query(
        "SELECT id FROM gruppen WHERE name = ? ORDER BY id LIMIT 1",
        &[name.into()],
    )?;
    Ok(rows.scalar().and_then(Value::as_i64))
}

fn date(d: NaiveDate) -> Value {
    d.format(DATE_FORMAT).to_string().into()
}

/// Puts an address into a group from `today` on. Adding a current member again writes nothing.
pub fn add_to_group(
    db: &mut dyn Database,
    address: i64,
    group: i64,
    today: NaiveDate,
) -> Result<Change, DbError> {
    for (table, id) in [("adresse", address), ("gruppen", group)] {
        if !records::exists(db, table, id)? {
            return Err(DbError::Invalid(format!("no `{table}` row with id {id}")));
        }
    }
    if !is_group_member(db, address, group, today)? {
        db.execute(
            "INSERT INTO adresse_rolle (adresse, projekt, subjekt, praedikat, objekt, parameter, von, bis) \
             VALUES (?, 0, 'Mitglied', 'von', 'Gruppe', ?, ?, ?)",
            &[address.into(), group.to_string().into(), date(today), ZERO_DATE.into()],
        )?;
    }
    Ok(Change::address(address))
}

/// Ends an address's current membership in a group: `bis` becomes yesterday (see module docs).
pub fn remove_from_group(
    db: &mut dyn Database,
    address: i64,
    group: i64,
    today: NaiveDate,
) -> Result<Change, DbError> {
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    db.execute(
        "UPDATE adresse_rolle SET bis = ? \
         WHERE adresse = ? AND parameter = ? AND (subjekt = 'Mitglied' OR subjekt = 'Kunde') \
         AND objekt = 'Gruppe' AND (bis = ? OR bis >= ?)",
        &[
            date(yesterday),
            address.into(),
            group.to_string().into(),
            ZERO_DATE.into(),
            date(today),
        ],
    )?;
    Ok(Change::address(address))
}

const CURRENT_MEMBERSHIP: &str = "subjekt = 'Mitglied' AND objekt = 'Gruppe' AND parameter = ? \
     AND (bis = '0000-00-00' OR bis >= ?)";

/// Whether the address is a current member of the group on `today`.
pub fn is_group_member(
    db: &mut dyn Database,
    address: i64,
    group: i64,
    today: NaiveDate,
) -> Result<bool, DbError> {
    let rows = db.query(
        &format!("SELECT id FROM adresse_rolle WHERE adresse = ? AND {CURRENT_MEMBERSHIP} LIMIT 1"),
        &[address.into(), group.to_string().into(), date(today)],
    )?;
    Ok(!rows.is_empty())
}

/// The ids of the current members of a group on `today`, ascending.
pub fn group_members(
    db: &mut dyn Database,
    group: i64,
    today: NaiveDate,
) -> Result<Vec<i64>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT DISTINCT adresse FROM adresse_rolle WHERE {CURRENT_MEMBERSHIP} ORDER BY adresse"
        ),
        &[group.to_string().into(), date(today)],
    )?;
    Ok(rows.rows.iter().filter_map(|r| r[0].as_i64()).collect())
}

/// The fields of the resubmission ("Wiedervorlage") form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewResubmission {
    /// Title.
    pub bezeichnung: String,
    /// Description.
    pub beschreibung: String,
    /// Amount as a decimal string (`"1234.56"`), or none.
    pub betrag: Option<String>,
    /// The address it concerns.
    pub adresse: i64,
    /// Project id, 0 for none.
    pub projekt: i64,
    /// The stage (`wiedervorlage_stages.id`), 0 for none.
    pub stages: i64,
    /// Reminder date.
    pub datum_erinnerung: Option<NaiveDate>,
    /// Reminder time.
    pub zeit_erinnerung: Option<chrono::NaiveTime>,
    /// The editing employee's address id.
    pub bearbeiter: i64,
    /// The responsible employee's address id.
    pub adresse_mitarbeiter: i64,
    /// Chance in percent.
    pub chance: Option<i64>,
    /// High priority.
    pub prio: bool,
    /// Visible to everyone.
    pub oeffentlich: bool,
}

/// Whether `s` is a plain decimal number as MySQL accepts for `DECIMAL` (`-12`, `1234.56`).
fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
}

/// Saves a new resubmission created at `now` (the user's wall clock).
pub fn add_resubmission(
    db: &mut dyn Database,
    r: &NewResubmission,
    now: NaiveDateTime,
) -> Result<Change, DbError> {
    if let Some(b) = r.betrag.as_deref().filter(|b| !is_decimal(b)) {
        return Err(DbError::Invalid(format!(
            "betrag `{b}` is not a decimal number"
        )));
    }
    let id = records::insert_row(
        db,
        "wiedervorlage",
        &[
            ("bezeichnung", r.bezeichnung.as_str().into()),
            ("beschreibung", r.beschreibung.as_str().into()),
            ("betrag", r.betrag.as_deref().into()),
            ("adresse", r.adresse.into()),
            ("projekt", r.projekt.into()),
            ("stages", r.stages.into()),
            ("datum_erinnerung", r.datum_erinnerung.map(date).into()),
            (
                "zeit_erinnerung",
                r.zeit_erinnerung
                    .map(|t| t.format(TIME_FORMAT).to_string())
                    .into(),
            ),
            ("datum_angelegt", date(now.date())),
            ("zeit_angelegt", now.format(TIME_FORMAT).to_string().into()),
            ("bearbeiter", r.bearbeiter.into()),
            ("adresse_mitarbeiter", r.adresse_mitarbeiter.into()),
            ("chance", r.chance.into()),
            ("prio", r.prio.into()),
            ("oeffentlich", r.oeffentlich.into()),
            ("abgeschlossen", 0.into()),
        ],
    )?;
    Ok(Change::resubmission(id))
}

/// Saves edits to a resubmission: column → new value; unknown columns are refused.
pub fn edit_resubmission(
    db: &mut dyn Database,
    id: i64,
    changes: &BTreeMap<String, Value>,
) -> Result<Change, DbError> {
    records::update_row(db, "wiedervorlage", id, changes)?;
    Ok(Change::resubmission(id))
}

/// Drags a resubmission onto another stage of the board (the stage's `view` decides the board).
pub fn move_resubmission(db: &mut dyn Database, id: i64, stage: i64) -> Result<Change, DbError> {
    if !records::exists(db, "wiedervorlage_stages", stage)? {
        return Err(DbError::Invalid(format!(
            "no wiedervorlage_stages row with id {stage}"
        )));
    }
    let changes = BTreeMap::from([("stages".to_owned(), Value::Integer(stage))]);
    edit_resubmission(db, id, &changes)
}

/// The resubmission with `id`, every column.
pub fn get_resubmission(db: &mut dyn Database, id: i64) -> Result<Option<Record>, DbError> {
    records::get_row(db, "wiedervorlage", id)
}

/// Creates a resubmission view (a board); returns its id.
pub fn create_view(
    db: &mut dyn Database,
    name: &str,
    shortname: &str,
    active: bool,
) -> Result<i64, DbError> {
    records::insert_row(
        db,
        "wiedervorlage_view",
        &[
            ("name", name.into()),
            ("shortname", shortname.into()),
            ("active", active.into()),
        ],
    )
}

/// The fields of a resubmission stage.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStage {
    /// Short label.
    pub kurzbezeichnung: String,
    /// Name.
    pub name: String,
    /// Colour `#rrggbb`.
    pub hexcolor: String,
    /// Position on the board.
    pub sort: i64,
    /// The view (`wiedervorlage_view.id`) the stage belongs to.
    pub view: i64,
    /// Chance in percent.
    pub chance: Option<i64>,
}

impl Default for NewStage {
    fn default() -> Self {
        Self {
            kurzbezeichnung: String::new(),
            name: String::new(),
            hexcolor: "#a2d624".into(),
            sort: 0,
            view: 0,
            chance: None,
        }
    }
}

/// Creates a resubmission stage; returns its id.
pub fn create_stage(db: &mut dyn Database, s: &NewStage) -> Result<i64, DbError> {
    records::insert_row(
        db,
        "wiedervorlage_stages",
        &[
            ("kurzbezeichnung", s.kurzbezeichnung.as_str().into()),
            ("name", s.name.as_str().into()),
            ("hexcolor", s.hexcolor.as_str().into()),
            ("ausblenden", 0.into()),
            ("stageausblenden", 0.into()),
            ("sort", s.sort.into()),
            ("view", s.view.into()),
            ("chance", s.chance.into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::is_decimal;

    #[test]
    fn decimal_strings_are_recognised() {
        for ok in ["0", "1234.56", "-3.5", "10"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", "1.", ".5", "1,5", "1e3", "abc", "--1"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }
}
