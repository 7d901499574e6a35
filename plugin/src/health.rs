//! Sync health as HubSpot's own sync settings page shows it, read from the plugin's state:
//! per object kind the linked pairs, the failing records (by direction and error, with ids,
//! attempts and next retry), the recent conflicts, and the export queue. The host asks for it
//! through the `sync-health` export instead of reading the plugin's tables.

use std::collections::BTreeMap;

use crate::api::{FailingRecords, ObjectHealth, QueueHealth, StoredConflict, SyncHealth};
use crate::platform::{Db, DbError, Value};
use crate::state::{self, LinkTable};

/// How many ids one group of failing records lists.
pub const LISTED_RECORDS: usize = 20;

/// How many recent conflicts per object kind are shown.
pub const RECENT_CONFLICTS: usize = 10;

fn count(db: &mut dyn Db, sql: &str, params: &[Value]) -> Result<u64, DbError> {
    let rows = db.query(sql, params)?;
    let n = rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

fn text(row: &[Value], i: usize) -> String {
    row.get(i)
        .and_then(Value::as_text)
        .or_else(|| row.get(i).and_then(Value::as_i64).map(|n| n.to_string()))
        .unwrap_or_default()
}

fn int(row: &[Value], i: usize) -> i64 {
    row.get(i).and_then(Value::as_i64).unwrap_or(0)
}

fn failing(db: &mut dyn Db, object: &str) -> Result<Vec<FailingRecords>, DbError> {
    // Refusals are recorded from schema version 3 on; a tenant no job has run on since the
    // upgrade has none.
    let refused = if state::installed_version(db)? >= 3 {
        "CASE WHEN refused_properties IS NULL THEN 0 ELSE 1 END"
    } else {
        "0"
    };
    let rows = db.query(
        &format!(
            "SELECT direction, error, record_key, next_retry_ms, attempts, {refused} FROM hubspot_sync_failures WHERE object = ? ORDER BY direction, error, record_key"
        ),
        &[Value::from(object)],
    )?;
    let mut groups: BTreeMap<(String, String), FailingRecords> = BTreeMap::new();
    for r in &rows.rows {
        let entry = groups
            .entry((text(r, 0), text(r, 1)))
            .or_insert_with(|| FailingRecords {
                direction: text(r, 0),
                error: text(r, 1),
                count: 0,
                records: Vec::new(),
                next_retry_ms: i64::MAX,
                attempts: 0,
                needs_change: false,
            });
        entry.count += 1;
        if entry.records.len() < LISTED_RECORDS {
            entry.records.push(text(r, 2));
        }
        entry.next_retry_ms = entry.next_retry_ms.min(int(r, 3));
        entry.attempts = entry.attempts.max(u32::try_from(int(r, 4)).unwrap_or(0));
        entry.needs_change |= int(r, 5) == 1;
    }
    Ok(groups.into_values().collect())
}

fn conflicts(db: &mut dyn Db, object: &str) -> Result<Vec<StoredConflict>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT hubspot_id, xentral_id, field, xentral_value, hubspot_value, winner, at_ms FROM hubspot_sync_conflicts WHERE object = ? ORDER BY id DESC LIMIT {RECENT_CONFLICTS}"
        ),
        &[Value::from(object)],
    )?;
    Ok(rows
        .rows
        .iter()
        .map(|r| StoredConflict {
            hubspot_id: text(r, 0),
            xentral_id: int(r, 1),
            field: text(r, 2),
            xentral_value: text(r, 3),
            hubspot_value: text(r, 4),
            winner: text(r, 5),
            at_ms: int(r, 6),
        })
        .collect())
}

fn object(db: &mut dyn Db, links: LinkTable) -> Result<ObjectHealth, DbError> {
    let object = links.object();
    Ok(ObjectHealth {
        object,
        in_sync: count(db, &format!("SELECT COUNT(*) FROM {}", links.table()), &[])?,
        failing: failing(db, object)?,
        conflicts_kept: count(
            db,
            "SELECT COUNT(*) FROM hubspot_sync_conflicts WHERE object = ?",
            &[Value::from(object)],
        )?,
        recent_conflicts: conflicts(db, object)?,
    })
}

/// Reads the sync health. Before the first `configure` there is no state: not connected.
/// Reads only, so it runs on a read-only connection.
pub fn read(db: &mut dyn Db) -> Result<SyncHealth, DbError> {
    if state::installed_version(db)? == 0 {
        return Ok(SyncHealth::default());
    }
    Ok(SyncHealth {
        connected: true,
        objects: vec![
            object(db, LinkTable::Contacts)?,
            object(db, LinkTable::Deals)?,
        ],
        queue: QueueHealth {
            pending: count(
                db,
                "SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0",
                &[],
            )?,
            retrying: count(
                db,
                "SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0 AND attempts > 0",
                &[],
            )?,
        },
    })
}
