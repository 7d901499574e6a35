//! Sync health as HubSpot's own sync settings page shows it: per object kind how many records
//! are in sync, how many were left out (by reason, from the last scheduled run), which are
//! failing (by error, with their ids and next retry), which links ended (archived, merged,
//! deleted), the recent conflicts (both values and who won), and what waits in the queue.
//!
//! The plugin says what its state holds (its `sync-health` export, contract 0.2.0 on); the
//! host adds what it keeps itself: the exclusions of the last run from its run log. The host
//! never reads the plugin's tables.

use std::collections::BTreeMap;
use std::ops::Deref;

use serde::Serialize;

use crate::report::{HealthReport, Manifest, ObjectHealth, QueueHealth};
use crate::runlog::RunRecord;

/// Health of one object kind: what the plugin reports, and the exclusions of its last run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectStatus {
    /// What the plugin's state says of the kind.
    #[serde(flatten)]
    pub health: ObjectHealth,
    /// Left out in the last scheduled run, by reason.
    pub excluded: BTreeMap<String, u32>,
}

impl Deref for ObjectStatus {
    type Target = ObjectHealth;
    fn deref(&self) -> &ObjectHealth {
        &self.health
    }
}

/// The whole picture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncHealth {
    /// Whether the plugin has its state (the tenant is connected).
    pub connected: bool,
    /// Per object kind, in the plugin's order.
    pub objects: Vec<ObjectStatus>,
    /// The export queue.
    pub queue: QueueHealth,
}

/// Shown for an object kind the plugin did not report.
static NOTHING: ObjectStatus = ObjectStatus {
    health: ObjectHealth {
        object: String::new(),
        in_sync: 0,
        failing: Vec::new(),
        ended: Vec::new(),
        conflicts_kept: 0,
        recent_conflicts: Vec::new(),
    },
    excluded: BTreeMap::new(),
};

impl From<HealthReport> for SyncHealth {
    fn from(h: HealthReport) -> Self {
        SyncHealth {
            connected: h.connected,
            objects: h
                .objects
                .into_iter()
                .map(|health| ObjectStatus {
                    health,
                    excluded: BTreeMap::new(),
                })
                .collect(),
            queue: h.queue,
        }
    }
}

impl SyncHealth {
    /// The health of one object kind (empty when the plugin reports none of it).
    pub fn object(&self, object: &str) -> &ObjectStatus {
        self.objects
            .iter()
            .find(|o| o.object == object)
            .unwrap_or(&NOTHING)
    }

    /// Contacts ⇄ addresses.
    pub fn contacts(&self) -> &ObjectStatus {
        self.object("contact")
    }

    /// Deals ⇄ resubmissions.
    pub fn deals(&self) -> &ObjectStatus {
        self.object("deal")
    }

    /// Adds the exclusions of the last run of the job that pulls each kind (as the
    /// plugin's manifest names it; `runs`: the newest run-log record per starter) to what the
    /// plugin reported.
    pub fn with_exclusions(mut self, manifest: &Manifest, runs: &BTreeMap<i64, RunRecord>) -> Self {
        for o in &mut self.objects {
            let Some(job) = manifest.job_of_object(&o.health.object) else {
                continue;
            };
            if let Some(last) = runs
                .values()
                .filter(|r| r.job == job.name())
                .max_by_key(|r| r.started_ms)
            {
                o.excluded = last.excluded.clone();
            }
        }
        self
    }
}
