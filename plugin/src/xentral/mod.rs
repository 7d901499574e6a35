//! Typed access to the xentral tables the plugin reads and writes: groups, process starters,
//! options and dates here; addresses, contact persons and resubmissions in their modules.

mod addresses;
mod persons;
mod resubmissions;

pub use addresses::*;
pub use persons::*;
pub use resubmissions::*;

use crate::api::{Job, JobSpec};
use crate::platform::{Db, DbError, Value};
use crate::store::state::LinkTable;

/// The three process starters of the module, one per job: the host schedules by them
/// (through the manifest) and `configure` creates them.
pub const STARTERS: [JobSpec; 3] = [
    JobSpec {
        job: Job::ProcessQueue,
        name: "Hubspot Process Queues",
        starter_parameter: "hubspot_process",
        period_minutes: 10,
        objects: &[],
    },
    JobSpec {
        job: Job::SyncContacts,
        name: "Hubspot Synchronize Contacts",
        starter_parameter: "hubspot_pull_contacts",
        period_minutes: 60,
        objects: &[
            LinkTable::Companies.object(),
            LinkTable::Contacts.object(),
            LinkTable::Persons.object(),
        ],
    },
    JobSpec {
        job: Job::SyncDeals,
        name: "Hubspot Synchronize Deals",
        starter_parameter: "hubspot_pull_deals",
        period_minutes: 60,
        objects: &[LinkTable::Deals.object()],
    },
];

/// Updates columns of one row of `table` (table and column names come from the plugin's
/// field tables, never from input).
fn update_row<V: Clone + Into<Value>>(
    db: &mut dyn Db,
    table: &str,
    id: i64,
    columns: &[(impl AsRef<str>, V)],
) -> Result<(), DbError> {
    if columns.is_empty() {
        return Ok(());
    }
    let sets = columns
        .iter()
        .map(|(c, _)| format!("{} = ?", c.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut params: Vec<Value> = columns.iter().map(|(_, v)| v.clone().into()).collect();
    params.push(Value::Integer(id));
    db.execute(&format!("UPDATE {table} SET {sets} WHERE id = ?"), &params)?;
    Ok(())
}

/// Inserts one row of `table` with these columns; returns its id.
fn insert_row(db: &mut dyn Db, table: &str, columns: Vec<(String, Value)>) -> Result<i64, DbError> {
    let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
    let marks = vec!["?"; names.len()].join(", ");
    let params: Vec<Value> = columns.iter().map(|(_, v)| v.clone()).collect();
    let r = db.execute(
        &format!(
            "INSERT INTO {table} ({}) VALUES ({marks})",
            names.join(", ")
        ),
        &params,
    )?;
    Ok(r.last_insert_id)
}

fn first_id(db: &mut dyn Db, sql: &str, params: &[Value]) -> Result<Option<i64>, DbError> {
    let rows = db.query(sql, params)?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64))
}

/// The id of the group with this name, if it exists.
pub fn group_id(db: &mut dyn Db, name: &str) -> Result<Option<i64>, DbError> {
    first_id(
        db,
        "SELECT id FROM gruppen WHERE name = ? AND art = 'gruppe' ORDER BY id LIMIT 1",
        &[Value::from(name)],
    )
}

/// Finds the group by name or creates it; returns its id and whether it was created.
pub fn ensure_group(db: &mut dyn Db, name: &str) -> Result<(i64, bool), DbError> {
    if let Some(id) = first_id(
        db,
        "SELECT id FROM gruppen WHERE name = ? AND art = 'gruppe' ORDER BY id LIMIT 1",
        &[Value::from(name)],
    )? {
        return Ok((id, false));
    }
    let r = db.execute(
        "INSERT INTO gruppen (name, art, kennziffer, aktiv, webid, objektname, objekttyp, parameter, objektname2, objekttyp2, parameter2, objektname3, objekttyp3, parameter3, dta_dateiname, dta_mail, dta_mail_betreff) VALUES (?, 'gruppe', ?, 1, '', '', '', '', '', '', '', '', '', '', '', '', '')",
        &[Value::from(name), Value::from(name.to_uppercase())],
    )?;
    Ok((r.last_insert_id, true))
}

/// Creates the starter if no row has its `parameter`; returns whether it was created.
pub fn ensure_starter(db: &mut dyn Db, s: &JobSpec) -> Result<bool, DbError> {
    if first_id(
        db,
        "SELECT id FROM prozessstarter WHERE parameter = ? LIMIT 1",
        &[Value::from(s.starter_parameter)],
    )?
    .is_some()
    {
        return Ok(false);
    }
    db.execute(
        "INSERT INTO prozessstarter (bezeichnung, bedingung, art, startzeit, letzteausfuerhung, periode, typ, parameter, aktiv, mutex, mutexcounter, firma, art_filter, status, recommended_period) VALUES (?, '', 'periodisch', '0000-00-00 00:00:00', '0000-00-00 00:00:00', ?, 'cronjob', ?, 1, 0, 0, 1, '', '', ?)",
        &[
            Value::from(s.name),
            Value::from(s.period_minutes.to_string()),
            Value::from(s.starter_parameter),
            Value::Integer(i64::from(s.period_minutes)),
        ],
    )?;
    Ok(true)
}

/// The options of one kind Refresh stored (`lead_status`, `lifecycle_stage`): (value,
/// label) in HubSpot's order.
pub fn options(db: &mut dyn Db, kind: &str) -> Result<Vec<(String, String)>, DbError> {
    let rows = db.query(
        "SELECT value, label FROM hubspot_sync_options WHERE type = ? AND parent = '' ORDER BY sort, value",
        &[Value::from(kind)],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_text()?, r.get(1)?.as_text()?)))
        .collect())
}

/// Inserts or updates one option read from HubSpot; returns whether anything changed.
pub fn upsert_option(
    db: &mut dyn Db,
    kind: &str,
    parent: &str,
    value: &str,
    label: &str,
    sort: i64,
) -> Result<bool, DbError> {
    let rows = db.query(
        "SELECT id, label, sort FROM hubspot_sync_options WHERE type = ? AND parent = ? AND value = ?",
        &[Value::from(kind), Value::from(parent), Value::from(value)],
    )?;
    match rows.rows.first() {
        Some(r) => {
            let same = r.get(1).and_then(Value::as_text).as_deref() == Some(label)
                && r.get(2).and_then(Value::as_i64) == Some(sort);
            if !same {
                db.execute(
                    "UPDATE hubspot_sync_options SET label = ?, sort = ? WHERE id = ?",
                    &[Value::from(label), Value::Integer(sort), r[0].clone()],
                )?;
            }
            Ok(!same)
        }
        None => {
            db.execute(
                "INSERT INTO hubspot_sync_options (type, parent, value, label, sort) VALUES (?, ?, ?, ?, ?)",
                &[
                    Value::from(kind),
                    Value::from(parent),
                    Value::from(value),
                    Value::from(label),
                    Value::Integer(sort),
                ],
            )?;
            Ok(true)
        }
    }
}

/// The date `ms` falls on in the tenant's time zone, as xentral stores dates.
pub fn local_date(ms: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .format("%Y-%m-%d")
        .to_string()
}

/// The local date and time of `ms` in the tenant's time zone.
pub fn local_date_time(ms: i64, tz: chrono_tz::Tz) -> (String, String) {
    let t = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz);
    (
        t.format("%Y-%m-%d").to_string(),
        t.format("%H:%M:%S").to_string(),
    )
}
