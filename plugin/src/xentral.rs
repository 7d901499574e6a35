//! Typed access to the xentral tables the plugin writes: groups, process starters, options.

use crate::platform::{Db, DbError, Value};

/// A process starter the module creates on connect.
#[derive(Debug, Clone, Copy)]
pub struct StarterSpec {
    /// `bezeichnung`.
    pub name: &'static str,
    /// `parameter`: how the host finds the job.
    pub parameter: &'static str,
    /// `periode` in minutes.
    pub period_minutes: u32,
}

/// The three process starters of the module.
pub const STARTERS: [StarterSpec; 3] = [
    StarterSpec {
        name: "Hubspot Process Queues",
        parameter: "hubspot_process",
        period_minutes: 10,
    },
    StarterSpec {
        name: "Hubspot Synchronize Contacts",
        parameter: "hubspot_pull_contacts",
        period_minutes: 60,
    },
    StarterSpec {
        name: "Hubspot Synchronize Deals",
        parameter: "hubspot_pull_deals",
        period_minutes: 60,
    },
];

fn first_id(db: &mut dyn Db, sql: &str, params: &[Value]) -> Result<Option<i64>, DbError> {
    let rows = db.query(sql, params)?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64))
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
pub fn ensure_starter(db: &mut dyn Db, s: &StarterSpec) -> Result<bool, DbError> {
    if first_id(
        db,
        "SELECT id FROM prozessstarter WHERE parameter = ? LIMIT 1",
        &[Value::from(s.parameter)],
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
            Value::from(s.parameter),
            Value::Integer(i64::from(s.period_minutes)),
        ],
    )?;
    Ok(true)
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
        "SELECT id, label, sort FROM hubspot_options WHERE type = ? AND parent = ? AND value = ?",
        &[Value::from(kind), Value::from(parent), Value::from(value)],
    )?;
    match rows.rows.first() {
        Some(r) => {
            let same = r.get(1).and_then(Value::as_text).as_deref() == Some(label)
                && r.get(2).and_then(Value::as_i64) == Some(sort);
            if !same {
                db.execute(
                    "UPDATE hubspot_options SET label = ?, sort = ? WHERE id = ?",
                    &[Value::from(label), Value::Integer(sort), r[0].clone()],
                )?;
            }
            Ok(!same)
        }
        None => {
            db.execute(
                "INSERT INTO hubspot_options (type, parent, value, label, sort) VALUES (?, ?, ?, ?, ?)",
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

/// Number of queue entries not yet done.
pub fn open_queue_entries(db: &mut dyn Db) -> Result<i64, DbError> {
    Ok(first_id(
        db,
        "SELECT COUNT(*) FROM hubspot_request_queues WHERE completed = 0",
        &[],
    )?
    .unwrap_or(0))
}
