//! The outbound queue: xentral's save hook enqueues changed records; the process-queue job
//! exports them promptly. An entry is completed only when its record reached HubSpot or was
//! deliberately left out; a failed entry waits for its retry time, so one bad record never
//! blocks the queue.

use std::collections::BTreeMap;

use crate::api::{Entity, PluginError};
use crate::engine::kind::{self, ObjectKind};
use crate::engine::push::PushOutcome;
use crate::engine::session::Session;
use crate::kinds::companies::Companies;
use crate::kinds::contacts::Contacts;
use crate::kinds::deals::Deals;
use crate::kinds::persons::ContactPersons;
use crate::platform::{Db, DbError, Value};

/// Entries taken per run.
const MAX_ENTRIES: i64 = 5_000;

/// Enqueues a changed record once while an entry for it is still open.
pub fn enqueue(db: &mut dyn Db, entity: Entity, id: i64, now_ms: i64) -> Result<(), DbError> {
    let open = db.query(
        "SELECT id FROM hubspot_sync_queue WHERE entity = ? AND record_id = ? AND completed = 0",
        &[Value::from(entity.name()), Value::Integer(id)],
    )?;
    if open.rows.is_empty() {
        db.execute(
            "INSERT INTO hubspot_sync_queue (entity, record_id, enqueued_ms, next_attempt_ms) VALUES (?, ?, ?, ?)",
            &[
                Value::from(entity.name()),
                Value::Integer(id),
                Value::Integer(now_ms),
                Value::Integer(now_ms),
            ],
        )?;
    }
    Ok(())
}

/// Open entries whose time has come, by entity: entry id → record id.
fn due(db: &mut dyn Db, entity: Entity, now_ms: i64) -> Result<Vec<(i64, i64)>, DbError> {
    let rows = db.query(
        "SELECT id, record_id FROM hubspot_sync_queue WHERE completed = 0 AND entity = ? AND next_attempt_ms <= ? ORDER BY id LIMIT ?",
        &[
            Value::from(entity.name()),
            Value::Integer(now_ms),
            Value::Integer(MAX_ENTRIES),
        ],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_i64()?, r.get(1)?.as_i64()?)))
        .collect())
}

/// Marks entries by what became of their record.
fn settle(
    s: &mut Session<'_>,
    entries: &[(i64, i64)],
    outcomes: &BTreeMap<i64, PushOutcome>,
) -> Result<(), PluginError> {
    s.transaction(|s| {
        for (entry, record) in entries {
            match outcomes.get(record) {
                Some(
                    PushOutcome::Done
                    | PushOutcome::Excluded(_)
                    | PushOutcome::Deferred
                    | PushOutcome::NeedsChange(_),
                ) => {
                    s.db.execute(
                        "UPDATE hubspot_sync_queue SET completed = 1, last_error = NULL WHERE id = ?",
                        &[Value::Integer(*entry)],
                    )?;
                }
                Some(PushOutcome::Failed(next)) => {
                    s.db.execute(
                        "UPDATE hubspot_sync_queue SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE id = ?",
                        &[
                            Value::Integer(*next),
                            Value::from("export failed; see hubspot_sync_failures"),
                            Value::Integer(*entry),
                        ],
                    )?;
                }
                Some(PushOutcome::NotAttempted) | None => s.report.pending = true,
            }
        }
        Ok(())
    })
}

/// Pushes due queue entries of one kind and settles them (not in a dry run).
fn process_kind<K: ObjectKind>(
    s: &mut Session<'_>,
    entries: &[(i64, i64)],
) -> Result<(), PluginError> {
    if entries.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = entries.iter().map(|(_, r)| *r).collect();
    let outcomes = kind::push_queued::<K>(s, &ids)?;
    if !s.dry_run {
        settle(s, entries, &outcomes)?;
    }
    Ok(())
}

/// Queue entries: (entry id, record id).
type Entries = Vec<(i64, i64)>;

/// The due address entries split by kind: (companies, contacts). With companies synced, an
/// address is a company when it is one ([`crate::xentral::AddressRow::is_company`]) and not linked as a contact (a
/// contact's link decides for good); otherwise every address is a contact's.
fn split_addresses(
    s: &mut Session<'_>,
    entries: Entries,
) -> Result<(Entries, Entries), PluginError> {
    if !s.settings.hs_sync_companies || entries.is_empty() {
        return Ok((Vec::new(), entries));
    }
    let ids: Vec<i64> = entries.iter().map(|(_, r)| *r).collect();
    let companies: std::collections::HashSet<i64> =
        crate::xentral::addresses_by_id(s.db, &[], &ids)?
            .into_iter()
            .filter(|a| a.is_company())
            .map(|a| a.id)
            .collect();
    let contacts = crate::store::state::linked_xentral_ids(
        s.db,
        crate::store::state::LinkTable::Contacts,
        &ids,
    )?;
    Ok(entries
        .into_iter()
        .partition(|(_, id)| companies.contains(id) && !contacts.contains(id)))
}

/// The process-queue job: companies first (a new company's contact persons need its link),
/// then contacts, contact persons and deals.
pub fn process(s: &mut Session<'_>) -> Result<(), PluginError> {
    let now = s.clock.now_ms();
    let addresses = due(s.db, Entity::Address, now)?;
    let (companies, contacts) = split_addresses(s, addresses)?;
    process_kind::<Companies>(s, &companies)?;
    process_kind::<Contacts>(s, &contacts)?;
    let persons = due(s.db, Entity::ContactPerson, now)?;
    process_kind::<ContactPersons>(s, &persons)?;
    let deals = due(s.db, Entity::Resubmission, now)?;
    process_kind::<Deals>(s, &deals)?;
    let open: i64 =
        s.db.query(
            "SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0",
            &[],
        )?
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if open > 0 {
        s.report.pending = true;
        s.report
            .messages
            .push(format!("{open} queued change(s) remain for a later run"));
    }
    Ok(())
}
