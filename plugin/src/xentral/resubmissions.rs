//! xentral resubmissions (`wiedervorlage`), as the deal sync reads and writes them.

use crate::platform::{Db, DbError, Value};

use super::{insert_row, update_row};

/// A resubmission (`wiedervorlage`) as read for the deal sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResubmissionRow {
    /// `id`.
    pub id: i64,
    /// `bezeichnung`.
    pub name: String,
    /// `betrag` as text (`decimal(10,2)`), empty when NULL.
    pub amount: String,
    /// `stages` (a `wiedervorlage_stages.id`).
    pub stage: i64,
    /// `datum_erinnerung`, empty when unset.
    pub date: String,
    /// `adresse` (0 when none).
    pub address: i64,
    /// `ansprechpartner_id`: the contact person (0 when none).
    pub person: i64,
    /// `adresse_mitarbeiter`: the employee in charge, the sales rep (0 when none).
    pub employee: i64,
    /// `abgeschlossen`: closed.
    pub closed: bool,
}

const RESUBMISSION_COLUMNS: &str = "w.id, w.bezeichnung, w.betrag, w.stages, w.datum_erinnerung, w.adresse, w.ansprechpartner_id, w.adresse_mitarbeiter, w.abgeschlossen";

fn resubmission_from_row(r: &[Value]) -> ResubmissionRow {
    let text = |i: usize| r.get(i).and_then(Value::as_text).unwrap_or_default();
    let date = text(4);
    ResubmissionRow {
        id: r.first().and_then(Value::as_i64).unwrap_or(0),
        name: text(1),
        amount: text(2),
        stage: r.get(3).and_then(Value::as_i64).unwrap_or(0),
        date: if date.starts_with("0000") {
            String::new()
        } else {
            date
        },
        address: r.get(5).and_then(Value::as_i64).unwrap_or(0),
        person: r.get(6).and_then(Value::as_i64).unwrap_or(0),
        employee: r.get(7).and_then(Value::as_i64).unwrap_or(0),
        closed: r.get(8).and_then(Value::as_i64).unwrap_or(0) != 0,
    }
}

/// Resubmissions by id.
pub fn resubmissions_by_id(db: &mut dyn Db, ids: &[i64]) -> Result<Vec<ResubmissionRow>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk.iter().map(|i| Value::Integer(*i)).collect();
        let rows = db.query(
            &format!("SELECT {RESUBMISSION_COLUMNS} FROM wiedervorlage w WHERE w.id IN ({marks}) ORDER BY w.id"),
            &params,
        )?;
        out.extend(rows.rows.iter().map(|r| resubmission_from_row(r)));
    }
    Ok(out)
}

/// Resubmissions whose stage is one of `stages` with an id above `after`, in id order, at
/// most `limit`: a page of a pass over them all.
pub fn resubmissions_in_stages_after(
    db: &mut dyn Db,
    stages: &[i64],
    after: i64,
    limit: i64,
) -> Result<Vec<ResubmissionRow>, DbError> {
    if stages.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; stages.len()].join(", ");
    let mut params: Vec<Value> = stages.iter().map(|i| Value::Integer(*i)).collect();
    params.extend([Value::Integer(after), Value::Integer(limit)]);
    let rows = db.query(
        &format!("SELECT {RESUBMISSION_COLUMNS} FROM wiedervorlage w WHERE w.stages IN ({marks}) AND w.id > ? ORDER BY w.id LIMIT ?"),
        &params,
    )?;
    Ok(rows.rows.iter().map(|r| resubmission_from_row(r)).collect())
}

/// Updates columns of a resubmission (names come from the field map, never from input).
pub fn update_resubmission(
    db: &mut dyn Db,
    id: i64,
    columns: &[(&str, Value)],
) -> Result<(), DbError> {
    update_row(db, "wiedervorlage", id, columns)
}

/// Closes a resubmission (`abgeschlossen = 1`), as xentral does when it is done, or opens it
/// again.
pub fn set_resubmission_closed(db: &mut dyn Db, id: i64, closed: bool) -> Result<(), DbError> {
    update_row(
        db,
        "wiedervorlage",
        id,
        &[("abgeschlossen", Value::Integer(i64::from(closed)))],
    )
}

/// Inserts a resubmission as xentral does (created now, by nobody in particular).
pub fn insert_resubmission(
    db: &mut dyn Db,
    columns: &[(&str, Value)],
    created_date: &str,
    created_time: &str,
) -> Result<i64, DbError> {
    let mut names = vec![
        "beschreibung",
        "ergebnis",
        "datum_angelegt",
        "zeit_angelegt",
        "prio",
        "oeffentlich",
        "abgeschlossen",
    ];
    let mut params = vec![
        Value::from(""),
        Value::from(""),
        Value::from(created_date),
        Value::from(created_time),
        Value::Integer(0),
        Value::Integer(0),
        Value::Integer(0),
    ];
    for (c, v) in columns {
        names.push(c);
        params.push(v.clone());
    }
    let all = names.into_iter().map(str::to_owned).zip(params).collect();
    insert_row(db, "wiedervorlage", all)
}
