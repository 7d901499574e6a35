//! Sync health as HubSpot's own sync settings page shows it, read from the plugin's state:
//! per object kind the linked pairs, the failing records (by direction and error, with ids,
//! attempts and next retry), the recent conflicts, and the export queue. The host asks for it
//! through the `sync-health` export instead of reading the plugin's tables.

use std::collections::BTreeMap;

use crate::api::{
    EndedRecords, FailingRecords, ObjectHealth, QueueHealth, StoredConflict, SyncHealth,
};
use crate::platform::{Db, DbError, Value};
use crate::store::state::{self, LinkTable};

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
    // Records waiting for a change and records waiting for a retry are told apart even when
    // HubSpot gave them the same reason.
    let mut groups: BTreeMap<(String, String, bool), FailingRecords> = BTreeMap::new();
    for r in &rows.rows {
        let needs_change = int(r, 5) == 1;
        let entry = groups
            .entry((text(r, 0), text(r, 1), needs_change))
            .or_insert_with(|| FailingRecords {
                direction: text(r, 0),
                error: text(r, 1),
                count: 0,
                records: Vec::new(),
                next_retry_ms: i64::MAX,
                attempts: 0,
                needs_change,
            });
        entry.count += 1;
        if entry.records.len() < LISTED_RECORDS {
            entry.records.push(text(r, 2));
        }
        entry.next_retry_ms = entry.next_retry_ms.min(int(r, 3));
        entry.attempts = entry.attempts.max(u32::try_from(int(r, 4)).unwrap_or(0));
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

/// Links of one object kind that ended, grouped by reason, the newest first in each group.
fn ended(db: &mut dyn Db, object: &str) -> Result<Vec<EndedRecords>, DbError> {
    let rows = db.query(
        "SELECT reason, hubspot_id, xentral_id, needs_action FROM hubspot_sync_ended WHERE object = ? ORDER BY reason, id DESC",
        &[Value::from(object)],
    )?;
    let mut groups: BTreeMap<String, EndedRecords> = BTreeMap::new();
    for r in &rows.rows {
        let entry = groups.entry(text(r, 0)).or_insert_with(|| EndedRecords {
            reason: text(r, 0),
            count: 0,
            records: Vec::new(),
            needs_action: false,
        });
        entry.count += 1;
        entry.needs_action |= int(r, 3) == 1;
        if entry.records.len() < LISTED_RECORDS {
            entry.records.push((text(r, 1), int(r, 2)));
        }
    }
    Ok(groups.into_values().collect())
}

/// The schema version that created the company, contact-person and ended-link tables.
const RECORDS_THAT_END: i64 = 4;

fn object(db: &mut dyn Db, links: LinkTable, version: i64) -> Result<ObjectHealth, DbError> {
    let object = links.object();
    Ok(ObjectHealth {
        ended: if version >= RECORDS_THAT_END {
            ended(db, object)?
        } else {
            Vec::new()
        },
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
    let version = state::installed_version(db)?;
    let tables: Vec<LinkTable> = LinkTable::ALL
        .into_iter()
        .filter(|t| {
            version >= RECORDS_THAT_END || matches!(t, LinkTable::Contacts | LinkTable::Deals)
        })
        .collect();
    Ok(SyncHealth {
        connected: true,
        objects: tables
            .into_iter()
            .map(|t| object(db, t, version))
            .collect::<Result<_, _>>()?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryDb;

    fn migrated() -> MemoryDb {
        let mut db = MemoryDb::new(0);
        state::migrate(&mut db).unwrap();
        db
    }

    #[test]
    fn before_the_plugins_tables_exist_it_is_not_connected_and_reads_nothing() {
        let mut db = MemoryDb::new(0);
        assert_eq!(read(&mut db).unwrap(), SyncHealth::default());
        assert!(
            !db.tables()
                .iter()
                .any(|t| t.starts_with(state::OWN_TABLE_PREFIX)),
            "reading creates nothing"
        );
    }

    #[test]
    fn failures_are_grouped_by_direction_and_error_and_refusals_apart() {
        let mut db = migrated();
        for (key, now) in [("7", 1_000), ("3", 5_000)] {
            state::record_failure(&mut db, "contact", "push", key, "HTTP 500", now).unwrap();
        }
        state::record_failure(&mut db, "contact", "push", "3", "HTTP 500", 9_000).unwrap();
        state::record_failure(&mut db, "contact", "pull", "901", "HTTP 500", 1_000).unwrap();
        state::record_refusal(&mut db, "contact", "8", "HTTP 500", "{}", 1_000).unwrap();
        state::record_failure(&mut db, "deal", "push", "1", "other", 1_000).unwrap();
        let h = read(&mut db).unwrap();
        assert!(h.connected);
        let contacts = &h.objects[0];
        assert_eq!(contacts.object, "contact");
        let groups: Vec<_> = contacts
            .failing
            .iter()
            .map(|f| {
                (
                    f.direction.as_str(),
                    f.count,
                    f.records.clone(),
                    f.attempts,
                    f.needs_change,
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("pull", 1, vec!["901".to_owned()], 1, false),
                ("push", 2, vec!["3".to_owned(), "7".to_owned()], 2, false),
                ("push", 1, vec!["8".to_owned()], 1, true),
            ]
        );
        // The earliest next retry of the group: record 7 failed once at 1 s (+1 min).
        assert_eq!(contacts.failing[1].next_retry_ms, 1_000 + 60_000);
        let kinds: Vec<&str> = h.objects.iter().map(|o| o.object).collect();
        assert_eq!(kinds, ["contact", "company", "contact-person", "deal"]);
        assert_eq!(h.objects[3].failing.len(), 1);
    }

    #[test]
    fn the_queue_counts_what_is_not_done_and_what_waits_for_a_retry() {
        let mut db = migrated();
        for id in [1, 2, 3] {
            crate::engine::queue::enqueue(&mut db, crate::api::Entity::Address, id, 0).unwrap();
        }
        crate::engine::queue::enqueue(&mut db, crate::api::Entity::Address, 1, 0).unwrap();
        db.execute(
            "UPDATE hubspot_sync_queue SET attempts = 1 WHERE record_id = 2",
            &[],
        )
        .unwrap();
        db.execute(
            "UPDATE hubspot_sync_queue SET completed = 1 WHERE record_id = 3",
            &[],
        )
        .unwrap();
        assert_eq!(
            read(&mut db).unwrap().queue,
            QueueHealth {
                pending: 2,
                retrying: 1
            }
        );
    }

    #[test]
    fn recent_conflicts_are_the_newest_few_and_the_count_is_all_kept() {
        let mut db = migrated();
        for i in 0..(RECENT_CONFLICTS + 5) {
            let conflict = crate::engine::merge::Conflict {
                field: "city".into(),
                xentral: format!("x{i}"),
                hubspot: format!("h{i}"),
            };
            state::record_conflict(
                &mut db,
                &state::ConflictRecord {
                    object: "contact",
                    hubspot_id: "901",
                    xentral_id: 4,
                    conflict: &conflict,
                    winner: "xentral",
                },
                i as i64,
            )
            .unwrap();
        }
        let contacts = &read(&mut db).unwrap().objects[0];
        assert_eq!(contacts.conflicts_kept, (RECENT_CONFLICTS + 5) as u64);
        assert_eq!(contacts.recent_conflicts.len(), RECENT_CONFLICTS);
        assert_eq!(
            contacts.recent_conflicts[0].xentral_value,
            format!("x{}", RECENT_CONFLICTS + 4)
        );
    }
}
