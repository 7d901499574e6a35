//! xentral contact persons (`ansprechpartner`): the people of a company address, as the contact
//! persons of a synced HubSpot company become.
//!
//! xentral keeps a contact person's whole name in `name` ("first last", as xentral's lists
//! show it and the old module wrote it) and the first name in `vorname`. The sync reads the
//! last name as `name` without the first name (a virtual column `nachname`) and writes `name`
//! back whole.

use std::collections::BTreeMap;

use crate::mapping::display_name;
use crate::platform::{Db, DbError, Value};

use super::{insert_row, update_row};

/// The virtual column of a contact person's last name (see the module doc).
pub const PERSON_LAST_NAME: &str = "nachname";

/// A contact person as read for the sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonRow {
    /// `ansprechpartner.id`.
    pub id: i64,
    /// `adresse`: the company address it belongs to.
    pub company: i64,
    /// `geloescht`.
    pub deleted: bool,
    /// Column → value as text (NULL as empty), with the virtual `nachname`.
    pub columns: BTreeMap<String, String>,
}

impl PersonRow {
    /// A column's value, empty when not read or NULL.
    pub fn col(&self, column: &str) -> &str {
        self.columns.get(column).map_or("", String::as_str)
    }
}

/// The columns every contact person is read with, besides those of a field map.
const BASE_COLUMNS: &[&str] = &["id", "adresse", "geloescht", "name", "vorname", "email"];

fn select_list(columns: &[String]) -> String {
    let mut all: Vec<&str> = BASE_COLUMNS.to_vec();
    for c in columns {
        if c != PERSON_LAST_NAME && !all.contains(&c.as_str()) {
            all.push(c);
        }
    }
    all.iter()
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The last name in a whole name: the name without the first name before it (the one rule
/// for it; the demo's comparison reads contact persons by it too).
pub fn last_name(name: &str, first: &str) -> String {
    let (name, first) = (name.trim(), first.trim());
    if first.is_empty() {
        return name.to_owned();
    }
    name.strip_prefix(first)
        .filter(|rest| rest.is_empty() || rest.starts_with(' '))
        .map_or(name, str::trim)
        .to_owned()
}

fn person_from_row(columns: &[String], row: &[Value]) -> PersonRow {
    let mut p = PersonRow::default();
    for (c, v) in columns.iter().zip(row) {
        match c.as_str() {
            "id" => p.id = v.as_i64().unwrap_or(0),
            "adresse" => p.company = v.as_i64().unwrap_or(0),
            "geloescht" => p.deleted = v.as_i64().unwrap_or(0) != 0,
            _ => {
                p.columns.insert(c.clone(), v.as_text().unwrap_or_default());
            }
        }
    }
    let last = last_name(p.col("name"), p.col("vorname"));
    p.columns.insert(PERSON_LAST_NAME.into(), last);
    p
}

fn read(db: &mut dyn Db, sql: &str, params: &[Value]) -> Result<Vec<PersonRow>, DbError> {
    let rows = db.query(sql, params)?;
    Ok(rows
        .rows
        .iter()
        .map(|r| person_from_row(&rows.columns, r))
        .collect())
}

/// Contact persons by id (any state), in id order, read with `columns`.
pub fn persons_by_id(
    db: &mut dyn Db,
    columns: &[String],
    ids: &[i64],
) -> Result<Vec<PersonRow>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk.iter().map(|i| Value::Integer(*i)).collect();
        out.extend(read(
            db,
            &format!(
                "SELECT {} FROM ansprechpartner p WHERE p.id IN ({marks}) ORDER BY p.id",
                select_list(columns)
            ),
            &params,
        )?);
    }
    Ok(out)
}

/// The not deleted contact persons of these company addresses, in id order.
pub fn persons_of_companies(
    db: &mut dyn Db,
    columns: &[String],
    companies: &[i64],
) -> Result<Vec<PersonRow>, DbError> {
    let mut out = Vec::new();
    for chunk in companies.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk.iter().map(|i| Value::Integer(*i)).collect();
        out.extend(read(
            db,
            &format!(
                "SELECT {} FROM ansprechpartner p WHERE p.geloescht = 0 AND p.adresse IN ({marks}) ORDER BY p.id",
                select_list(columns)
            ),
            &params,
        )?);
    }
    out.sort_by_key(|p| p.id);
    Ok(out)
}

/// The real columns for written values: the virtual last name becomes the whole `name`
/// (with the first name written or, else, the one the person has).
fn real_columns(
    current: Option<&PersonRow>,
    columns: &[(String, String)],
) -> Vec<(String, String)> {
    let get = |c: &str| {
        columns
            .iter()
            .find(|(k, _)| k == c)
            .map(|(_, v)| v.as_str())
    };
    let mut out: Vec<(String, String)> = columns
        .iter()
        .filter(|(c, _)| c != PERSON_LAST_NAME)
        .cloned()
        .collect();
    if get(PERSON_LAST_NAME).is_some() || get("vorname").is_some() {
        let first = get("vorname").unwrap_or_else(|| current.map_or("", |p| p.col("vorname")));
        let last = get(PERSON_LAST_NAME)
            .unwrap_or_else(|| current.map_or("", |p| p.col(PERSON_LAST_NAME)));
        let email = get("email").unwrap_or_else(|| current.map_or("", |p| p.col("email")));
        out.push(("name".into(), display_name(first, last, email, "")));
    }
    out
}

/// Updates columns of a contact person (column names from the field map).
pub fn update_person(
    db: &mut dyn Db,
    current: &PersonRow,
    columns: &[(String, String)],
) -> Result<(), DbError> {
    update_row(
        db,
        "ansprechpartner",
        current.id,
        &real_columns(Some(current), columns),
    )
}

/// Moves a contact person to another company address.
pub fn move_person(db: &mut dyn Db, id: i64, company: i64) -> Result<(), DbError> {
    update_row(
        db,
        "ansprechpartner",
        id,
        &[("adresse", Value::Integer(company))],
    )
}

/// Marks a contact person deleted, as xentral's UI does (`geloescht = 1`), or not deleted
/// again.
pub fn set_person_deleted(db: &mut dyn Db, id: i64, deleted: bool) -> Result<(), DbError> {
    update_row(
        db,
        "ansprechpartner",
        id,
        &[("geloescht", Value::Integer(i64::from(deleted)))],
    )
}

/// Inserts a contact person of `company` with these columns; returns its id. xentral's
/// columns without a default get what its UI saves for an empty field.
pub fn insert_person(
    db: &mut dyn Db,
    company: i64,
    columns: &[(String, String)],
) -> Result<i64, DbError> {
    let written = real_columns(None, columns);
    let mut all: Vec<(String, Value)> = vec![("adresse".into(), Value::Integer(company))];
    for empty in [
        "typ",
        "sprache",
        "name",
        "bereich",
        "abteilung",
        "unterabteilung",
        "land",
        "strasse",
        "ort",
        "plz",
        "telefon",
        "telefax",
        "email",
        "sonstiges",
        "adresszusatz",
        "steuer",
        "interne_bemerkung",
    ] {
        if !written.iter().any(|(c, _)| c == empty) {
            all.push((empty.into(), Value::from("")));
        }
    }
    all.extend(written.into_iter().map(|(c, v)| (c, Value::from(v))));
    insert_row(db, "ansprechpartner", all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_name_is_the_whole_name_without_the_first() {
        assert_eq!(last_name("Ada Lovelace", "Ada"), "Lovelace");
        assert_eq!(last_name("Ada Lovelace", ""), "Ada Lovelace");
        assert_eq!(last_name("Adam Smith", "Ada"), "Adam Smith");
        assert_eq!(last_name("Ada", "Ada"), "");
    }

    #[test]
    fn a_written_first_or_last_name_rewrites_the_whole_name() {
        let current = PersonRow {
            columns: BTreeMap::from([
                ("vorname".to_owned(), "Ada".to_owned()),
                (PERSON_LAST_NAME.to_owned(), "Lovelace".to_owned()),
            ]),
            ..PersonRow::default()
        };
        let cols = real_columns(
            Some(&current),
            &[(PERSON_LAST_NAME.to_owned(), "King".to_owned())],
        );
        assert_eq!(cols, [("name".to_owned(), "Ada King".to_owned())]);
        let cols = real_columns(Some(&current), &[("telefon".to_owned(), "1".to_owned())]);
        assert_eq!(cols, [("telefon".to_owned(), "1".to_owned())]);
    }
}
