//! Typed access to the xentral tables the plugin writes: groups, process starters, options.

use std::collections::HashMap;

use crate::api::{Job, JobSpec};
use crate::mapping::{AddressRow, FreeFields, address_columns, canonical_email};
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
        objects: &[LinkTable::Contacts.object()],
    },
    JobSpec {
        job: Job::SyncDeals,
        name: "Hubspot Synchronize Deals",
        starter_parameter: "hubspot_pull_deals",
        period_minutes: 60,
        objects: &[LinkTable::Deals.object()],
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

/// The condition "is a current member of group ?2 on date ?3" for address `a`, as xentral
/// writes memberships (`adresse_rolle`, ended by setting `bis`).
const MEMBER_OF_GROUP: &str = "EXISTS (SELECT 1 FROM adresse_rolle r WHERE r.adresse = a.id AND r.objekt = 'Gruppe' AND r.subjekt IN ('Mitglied', 'Kunde') AND r.parameter = ? AND (r.bis = '0000-00-00' OR r.bis >= ?))";

fn address_from_row(columns: &[String], row: &[Value]) -> AddressRow {
    let mut a = AddressRow::default();
    for (c, v) in columns.iter().zip(row) {
        match c.as_str() {
            "id" => a.id = v.as_i64().unwrap_or(0),
            "geloescht" => a.deleted = v.as_i64().unwrap_or(0) != 0,
            _ => {
                a.columns.insert(c.clone(), v.as_text().unwrap_or_default());
            }
        }
    }
    a
}

fn select_list(ff: &FreeFields) -> String {
    address_columns(ff)
        .iter()
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The current, not deleted members of a group.
pub fn group_addresses(
    db: &mut dyn Db,
    ff: &FreeFields,
    group_id: i64,
    today: &str,
) -> Result<Vec<AddressRow>, DbError> {
    let sql = format!(
        "SELECT {} FROM adresse a WHERE a.geloescht = 0 AND {MEMBER_OF_GROUP} ORDER BY a.id",
        select_list(ff)
    );
    let rows = db.query(
        &sql,
        &[Value::from(group_id.to_string()), Value::from(today)],
    )?;
    Ok(rows
        .rows
        .iter()
        .map(|r| address_from_row(&rows.columns, r))
        .collect())
}

/// Addresses by id (any state), in id order.
pub fn addresses_by_id(
    db: &mut dyn Db,
    ff: &FreeFields,
    ids: &[i64],
) -> Result<Vec<AddressRow>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT {} FROM adresse a WHERE a.id IN ({marks}) ORDER BY a.id",
            select_list(ff)
        );
        let params: Vec<Value> = chunk.iter().map(|i| Value::Integer(*i)).collect();
        let rows = db.query(&sql, &params)?;
        out.extend(rows.rows.iter().map(|r| address_from_row(&rows.columns, r)));
    }
    Ok(out)
}

/// The linked, not deleted addresses that are current members of group `group_id`.
pub fn linked_members(db: &mut dyn Db, group_id: i64, today: &str) -> Result<Vec<i64>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT a.id FROM adresse a JOIN hubspot_sync_contact_links c ON c.address_id = a.id WHERE a.geloescht = 0 AND {MEMBER_OF_GROUP} ORDER BY a.id"
        ),
        &[Value::from(group_id.to_string()), Value::from(today)],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| r.first().and_then(Value::as_i64))
        .collect())
}

/// Whether an address is a current member of the group.
pub fn is_group_member(
    db: &mut dyn Db,
    address_id: i64,
    group_id: i64,
    today: &str,
) -> Result<bool, DbError> {
    let sql = format!("SELECT 1 FROM adresse a WHERE a.id = ? AND {MEMBER_OF_GROUP}");
    Ok(!db
        .query(
            &sql,
            &[
                Value::Integer(address_id),
                Value::from(group_id.to_string()),
                Value::from(today),
            ],
        )?
        .rows
        .is_empty())
}

/// xentral's addresses that are not deleted, by canonical e-mail. E-mails are compared in
/// Rust by [`canonical_email`] only, never by SQL `=` (whose case and whitespace rules differ
/// between SQLite and MariaDB and know nothing of a non-breaking space): the index is read
/// once per run, when the first contact needs matching, and kept up to date by the run.
#[derive(Debug, Default)]
pub struct AddressEmails {
    by_email: HashMap<String, Vec<i64>>,
}

impl AddressEmails {
    /// Reads every not deleted address with an e-mail.
    pub fn load(db: &mut dyn Db) -> Result<AddressEmails, DbError> {
        let rows = db.query(
            "SELECT id, email FROM adresse WHERE geloescht = 0 AND email <> '' ORDER BY id",
            &[],
        )?;
        let mut index = AddressEmails::default();
        for r in &rows.rows {
            if let (Some(id), Some(email)) = (
                r.first().and_then(Value::as_i64),
                r.get(1).and_then(Value::as_text),
            ) {
                index.insert(&email, id);
            }
        }
        Ok(index)
    }

    /// Records an address's e-mail (an address the run created).
    pub fn insert(&mut self, email: &str, id: i64) {
        let key = canonical_email(email);
        if !key.is_empty() {
            self.by_email.entry(key).or_default().push(id);
        }
    }

    /// The addresses with this e-mail, in id order.
    pub fn get(&self, email: &str) -> &[i64] {
        self.by_email
            .get(&canonical_email(email))
            .map_or(&[], Vec::as_slice)
    }
}

/// The address a HubSpot contact's e-mail matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailMatch {
    /// No address has the e-mail.
    None,
    /// An address not linked to any contact (members of the group first, then the oldest).
    Unlinked(i64),
    /// Every address with the e-mail is linked; the first is linked to `hubspot_id`.
    Linked {
        /// The address.
        address: i64,
        /// The contact it is linked to.
        hubspot_id: String,
    },
}

/// Finds the address for `email` among `candidates` (from [`AddressEmails::get`]).
pub fn match_email(
    db: &mut dyn Db,
    candidates: &[i64],
    group_id: i64,
    today: &str,
) -> Result<EmailMatch, DbError> {
    if candidates.is_empty() {
        return Ok(EmailMatch::None);
    }
    let marks = vec!["?"; candidates.len()].join(", ");
    let params: Vec<Value> = candidates.iter().map(|i| Value::Integer(*i)).collect();
    let rows = db.query(
        &format!(
            "SELECT address_id, hs_contact_id FROM hubspot_sync_contact_links WHERE address_id IN ({marks})"
        ),
        &params,
    )?;
    let linked: HashMap<i64, String> = rows
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_i64()?, r.get(1)?.as_text()?)))
        .collect();
    let mut unlinked = candidates.iter().filter(|id| !linked.contains_key(id));
    let first_unlinked = unlinked.clone().next().copied();
    for id in unlinked.by_ref() {
        if is_group_member(db, *id, group_id, today)? {
            return Ok(EmailMatch::Unlinked(*id));
        }
    }
    if let Some(id) = first_unlinked {
        return Ok(EmailMatch::Unlinked(id));
    }
    let address = candidates[0];
    Ok(EmailMatch::Linked {
        address,
        hubspot_id: linked[&address].clone(),
    })
}

/// Updates columns of an address (column names come from the field map, never from input).
pub fn update_address(
    db: &mut dyn Db,
    id: i64,
    columns: &[(String, String)],
) -> Result<(), DbError> {
    if columns.is_empty() {
        return Ok(());
    }
    let sets = columns
        .iter()
        .map(|(c, _)| format!("{c} = ?"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut params: Vec<Value> = columns.iter().map(|(_, v)| Value::from(v)).collect();
    params.push(Value::Integer(id));
    db.execute(&format!("UPDATE adresse SET {sets} WHERE id = ?"), &params)?;
    Ok(())
}

/// Inserts a lead address with these columns; returns its id.
pub fn insert_lead_address(db: &mut dyn Db, columns: &[(String, String)]) -> Result<i64, DbError> {
    let mut names = vec!["lead".to_owned(), "firma".to_owned()];
    let mut params = vec![Value::Integer(1), Value::Integer(1)];
    for (c, v) in columns {
        names.push(c.clone());
        params.push(Value::from(v));
    }
    let marks = vec!["?"; names.len()].join(", ");
    let r = db.execute(
        &format!(
            "INSERT INTO adresse ({}) VALUES ({marks})",
            names.join(", ")
        ),
        &params,
    )?;
    Ok(r.last_insert_id)
}

/// Puts an address into a group as xentral does (an `adresse_rolle` row from today on).
pub fn add_to_group(
    db: &mut dyn Db,
    address_id: i64,
    group_id: i64,
    today: &str,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO adresse_rolle (adresse, projekt, subjekt, praedikat, objekt, parameter, von, bis) VALUES (?, 0, 'Mitglied', 'von', 'Gruppe', ?, ?, '0000-00-00')",
        &[
            Value::Integer(address_id),
            Value::from(group_id.to_string()),
            Value::from(today),
        ],
    )?;
    Ok(())
}

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
}

const RESUBMISSION_COLUMNS: &str =
    "w.id, w.bezeichnung, w.betrag, w.stages, w.datum_erinnerung, w.adresse";

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

/// Resubmissions whose stage is one of `stages`.
pub fn resubmissions_in_stages(
    db: &mut dyn Db,
    stages: &[i64],
) -> Result<Vec<ResubmissionRow>, DbError> {
    let mut out = Vec::new();
    for chunk in stages.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk.iter().map(|i| Value::Integer(*i)).collect();
        let rows = db.query(
            &format!("SELECT {RESUBMISSION_COLUMNS} FROM wiedervorlage w WHERE w.stages IN ({marks}) ORDER BY w.id"),
            &params,
        )?;
        out.extend(rows.rows.iter().map(|r| resubmission_from_row(r)));
    }
    out.sort_by_key(|r| r.id);
    Ok(out)
}

/// Updates columns of a resubmission (names come from the field map, never from input).
pub fn update_resubmission(
    db: &mut dyn Db,
    id: i64,
    columns: &[(&str, Value)],
) -> Result<(), DbError> {
    if columns.is_empty() {
        return Ok(());
    }
    let sets = columns
        .iter()
        .map(|(c, _)| format!("{c} = ?"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut params: Vec<Value> = columns.iter().map(|(_, v)| v.clone()).collect();
    params.push(Value::Integer(id));
    db.execute(
        &format!("UPDATE wiedervorlage SET {sets} WHERE id = ?"),
        &params,
    )?;
    Ok(())
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
    let marks = vec!["?"; names.len()].join(", ");
    let r = db.execute(
        &format!(
            "INSERT INTO wiedervorlage ({}) VALUES ({marks})",
            names.join(", ")
        ),
        &params,
    )?;
    Ok(r.last_insert_id)
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
