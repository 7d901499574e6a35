//! Sync health as HubSpot's own sync settings page shows it: per object kind how many records
//! are in sync, how many were left out (by reason, from the last scheduled run), which are
//! failing (by error, with their ids and next retry), the recent conflicts (both values and
//! who won), and what waits in the queue.
//!
//! The plugin says what its state holds (its `sync-health` export, contract 0.2.0 on); the
//! host adds what it keeps itself: the exclusions of the last run from its run log. The host
//! never reads the plugin's tables.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::Manifest;
use crate::runlog::RunRecord;

/// One group of failing records.
#[derive(Debug, Clone, Serialize)]
pub struct Failing {
    /// `push` (xentral → HubSpot) or `pull` (HubSpot → xentral).
    pub direction: String,
    /// The error.
    pub error: String,
    /// How many records.
    pub count: u32,
    /// Their ids (xentral ids for pushes, HubSpot ids for pulls), the first 20.
    pub records: Vec<String>,
    /// The earliest next retry, ms since the epoch.
    pub next_retry_ms: i64,
    /// The most attempts among them.
    pub attempts: u32,
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

/// Health of one object kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectHealth {
    /// The kind, as the plugin names it (`contact`, `deal`).
    pub object: String,
    /// Linked pairs.
    pub in_sync: u64,
    /// Left out in the last scheduled run, by reason.
    pub excluded: BTreeMap<String, u32>,
    /// Failing records, grouped by error.
    pub failing: Vec<Failing>,
    /// Conflicts kept (the newest, bounded by the plugin).
    pub conflicts_kept: u64,
    /// The most recent conflicts, newest first.
    pub recent_conflicts: Vec<ConflictEntry>,
}

/// The queue of xentral changes waiting for export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueHealth {
    /// Entries not yet done.
    pub pending: u64,
    /// Of those, entries waiting for a retry after a failure.
    pub retrying: u64,
}

/// The whole picture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncHealth {
    /// Whether the plugin has its state (the tenant is connected).
    pub connected: bool,
    /// Per object kind, in the plugin's order.
    pub objects: Vec<ObjectHealth>,
    /// The export queue.
    pub queue: QueueHealth,
}

/// Shown for an object kind the plugin did not report.
static NOTHING: ObjectHealth = ObjectHealth {
    object: String::new(),
    in_sync: 0,
    excluded: BTreeMap::new(),
    failing: Vec::new(),
    conflicts_kept: 0,
    recent_conflicts: Vec::new(),
};

impl SyncHealth {
    /// The health of one object kind (empty when the plugin reports none of it).
    pub fn object(&self, object: &str) -> &ObjectHealth {
        self.objects
            .iter()
            .find(|o| o.object == object)
            .unwrap_or(&NOTHING)
    }

    /// Contacts ⇄ addresses.
    pub fn contacts(&self) -> &ObjectHealth {
        self.object("contact")
    }

    /// Deals ⇄ resubmissions.
    pub fn deals(&self) -> &ObjectHealth {
        self.object("deal")
    }

    /// Adds the exclusions of the last run of the job that pulls each kind (as the
    /// plugin's manifest names it; `runs`: the newest run-log record per starter) to what the
    /// plugin reported.
    pub fn with_exclusions(mut self, manifest: &Manifest, runs: &BTreeMap<i64, RunRecord>) -> Self {
        for o in &mut self.objects {
            let Some(job) = manifest.job_of_object(&o.object) else {
                continue;
            };
            if let Some(last) = runs
                .values()
                .filter(|r| r.job == job)
                .max_by_key(|r| r.started_ms)
            {
                o.excluded = last.excluded.clone();
            }
        }
        self
    }
}
