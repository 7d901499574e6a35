//! Sync health as HubSpot's own sync settings page shows it: per object type how many records
//! are in sync, how many were left out (by reason, from the last scheduled run), which are
//! failing (by error, with their ids and next retry), the recent conflicts (both values and
//! who won), and what waits in the queue.
//!
//! It reads the state tables the plugin keeps in the tenant database
//! (`hubspot_sync_contact_links`, `hubspot_sync_deal_links`, `hubspot_sync_failures`,
//! `hubspot_sync_queue`) — read-only, and tolerant of a tenant that is not connected yet.

use std::collections::BTreeMap;

use serde::Serialize;
use xentral_erp::{Database, DbError, Value};

use crate::report::Job;
use crate::runlog::RunRecord;

/// One group of failing records.
#[derive(Debug, Clone, Serialize)]
pub struct Failing {
    /// `push` (xentral → HubSpot) or `pull` (HubSpot → xentral).
    pub direction: String,
    /// The error.
    pub error: String,
    /// How many records.
    pub count: usize,
    /// Their ids (xentral ids for pushes, HubSpot ids for pulls), the first 20.
    pub records: Vec<String>,
    /// The earliest next retry, ms since the epoch.
    pub next_retry_ms: i64,
    /// The most attempts among them.
    pub attempts: i64,
    /// HubSpot refused them as they are (a validation rule): they are not retried on a
    /// schedule, only once they change in xentral or in HubSpot.
    pub needs_change: bool,
}

/// One field changed on both sides, as recorded by the sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictEntry {
    /// The HubSpot record.
    pub hubspot_id: String,
    /// The xentral record (address or resubmission id).
    pub xentral_id: i64,
    /// The field.
    pub field: String,
    /// xentral's value.
    pub xentral_value: String,
    /// HubSpot's value.
    pub hubspot_value: String,
    /// `xentral` or `hubspot`.
    pub winner: String,
    /// When, ms since the epoch.
    pub at_ms: i64,
}

/// How many recent conflicts per object type are shown.
pub const RECENT_CONFLICTS: usize = 10;

/// Health of one object type.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectHealth {
    /// Linked pairs.
    pub in_sync: i64,
    /// Left out in the last scheduled run, by reason.
    pub excluded: BTreeMap<String, u32>,
    /// Failing records, grouped by error.
    pub failing: Vec<Failing>,
    /// Conflicts kept (the newest, bounded by the plugin).
    pub conflicts_kept: i64,
    /// The most recent conflicts, newest first.
    pub recent_conflicts: Vec<ConflictEntry>,
}

/// The queue of xentral changes waiting for export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueHealth {
    /// Entries not yet done.
    pub pending: i64,
    /// Of those, entries waiting for a retry after a failure.
    pub retrying: i64,
}

/// The whole picture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncHealth {
    /// Whether the plugin's tables exist (the tenant is connected).
    pub connected: bool,
    /// Contacts ⇄ addresses.
    pub contacts: ObjectHealth,
    /// Deals ⇄ resubmissions.
    pub deals: ObjectHealth,
    /// The export queue.
    pub queue: QueueHealth,
}

fn scalar(db: &mut dyn Database, sql: &str) -> Result<i64, DbError> {
    Ok(db
        .query(sql, &[])?
        .scalar()
        .and_then(Value::as_i64)
        .unwrap_or(0))
}

fn object(
    db: &mut dyn Database,
    links: &str,
    failure_object: &str,
    last_run: Option<&RunRecord>,
) -> Result<ObjectHealth, DbError> {
    let mut h = ObjectHealth {
        in_sync: scalar(db, &format!("SELECT COUNT(*) FROM {links}"))?,
        excluded: last_run.map(|r| r.excluded.clone()).unwrap_or_default(),
        failing: Vec::new(),
        conflicts_kept: 0,
        recent_conflicts: Vec::new(),
    };
    // A tenant whose schema predates conflict records has none to show.
    if let Ok(rows) = db.query(
        &format!(
            "SELECT hubspot_id, xentral_id, field, xentral_value, hubspot_value, winner, at_ms FROM hubspot_sync_conflicts WHERE object = ? ORDER BY id DESC LIMIT {RECENT_CONFLICTS}"
        ),
        &[Value::from(failure_object)],
    ) {
        h.recent_conflicts = rows
            .rows
            .iter()
            .map(|r| {
                let text = |i: usize| r.get(i).and_then(Value::to_text).unwrap_or_default();
                let int = |i: usize| r.get(i).and_then(Value::as_i64).unwrap_or(0);
                ConflictEntry {
                    hubspot_id: text(0),
                    xentral_id: int(1),
                    field: text(2),
                    xentral_value: text(3),
                    hubspot_value: text(4),
                    winner: text(5),
                    at_ms: int(6),
                }
            })
            .collect();
        h.conflicts_kept = db
            .query(
                "SELECT COUNT(*) FROM hubspot_sync_conflicts WHERE object = ?",
                &[Value::from(failure_object)],
            )?
            .scalar()
            .and_then(Value::as_i64)
            .unwrap_or(0);
    }
    // Refusals are recorded from the plugin's schema version 3 on; a tenant no job has run
    // on since has none.
    let rows = db
        .query(
            "SELECT direction, error, record_key, next_retry_ms, attempts, CASE WHEN refused_properties IS NULL THEN 0 ELSE 1 END FROM hubspot_sync_failures WHERE object = ? ORDER BY direction, error, record_key",
            &[Value::from(failure_object)],
        )
        .or_else(|_| {
            db.query(
                "SELECT direction, error, record_key, next_retry_ms, attempts, 0 FROM hubspot_sync_failures WHERE object = ? ORDER BY direction, error, record_key",
                &[Value::from(failure_object)],
            )
        })?;
    let mut groups: BTreeMap<(String, String), Failing> = BTreeMap::new();
    for r in &rows.rows {
        let text = |i: usize| r.get(i).and_then(Value::to_text).unwrap_or_default();
        let needs_change = r.get(5).and_then(Value::as_i64) == Some(1);
        let entry = groups.entry((text(0), text(1))).or_insert_with(|| Failing {
            direction: text(0),
            error: text(1),
            count: 0,
            records: Vec::new(),
            next_retry_ms: i64::MAX,
            attempts: 0,
            needs_change,
        });
        entry.count += 1;
        if entry.records.len() < 20 {
            entry.records.push(text(2));
        }
        entry.next_retry_ms = entry
            .next_retry_ms
            .min(r.get(3).and_then(Value::as_i64).unwrap_or(0));
        entry.attempts = entry
            .attempts
            .max(r.get(4).and_then(Value::as_i64).unwrap_or(0));
    }
    h.failing = groups.into_values().collect();
    Ok(h)
}

/// Reads the sync health of a tenant; `runs` are the newest run-log records per starter.
pub fn read(db: &mut dyn Database, runs: &BTreeMap<i64, RunRecord>) -> Result<SyncHealth, DbError> {
    if db
        .query("SELECT COUNT(*) FROM hubspot_sync_queue", &[])
        .is_err()
    {
        return Ok(SyncHealth::default());
    }
    let last = |job: Job| {
        runs.values()
            .filter(|r| r.job == job)
            .max_by_key(|r| r.started_ms)
    };
    Ok(SyncHealth {
        connected: true,
        contacts: object(
            db,
            "hubspot_sync_contact_links",
            "contact",
            last(Job::SyncContacts),
        )?,
        deals: object(db, "hubspot_sync_deal_links", "deal", last(Job::SyncDeals))?,
        queue: QueueHealth {
            pending: scalar(
                db,
                "SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0",
            )?,
            retrying: scalar(
                db,
                "SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0 AND attempts > 0",
            )?,
        },
    })
}
