//! What a tenant's sync is doing (`xentral-host status`, the console's health page and
//! process starters): the plugin's sync health and the process starters.
//!
//! The report is a list of sections. A new section is a field of [`StatusReport`] (its JSON
//! key), filled here; the command line and the console each say how they show it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::host::XentralHost;
use crate::scheduler::{self, SchedulerError, StarterStatus};
use crate::sync_health::SyncHealth;

/// Everything `status` reports, one field per section.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// The tenant.
    pub tenant: String,
    /// When the report was made, UTC.
    pub now: DateTime<Utc>,
    /// The process starters, with lock state, last run and next due time.
    pub starters: Vec<StarterStatus>,
    /// Per object type: in sync, excluded, failing; the export queue. An `Err` says why the
    /// plugin could not report it (the starters are shown all the same).
    #[serde(serialize_with = "health_or_error")]
    pub sync: Result<SyncHealth, String>,
}

/// The health as it is, or `{"error": "…"}`.
fn health_or_error<S: serde::Serializer>(
    sync: &Result<SyncHealth, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match sync {
        Ok(h) => h.serialize(serializer),
        Err(e) => serde_json::json!({ "error": e }).serialize(serializer),
    }
}

/// The tenant's status now. The starters are what an operator needs most when the plugin
/// cannot answer, so a failing health export is reported in [`StatusReport::sync`], not as an
/// error.
pub fn status(host: &XentralHost, tenant: &str) -> Result<StatusReport, SchedulerError> {
    let sync = host.sync_health(tenant)?.result.map_err(|e| e.to_string());
    Ok(StatusReport {
        now: xentral_erp::mysql_compat::instant_from_millis(host.clock().now_ms()),
        starters: scheduler::starter_status(host, tenant)?,
        tenant: tenant.to_owned(),
        sync,
    })
}
