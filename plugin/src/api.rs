//! The plugin's exported operations as plain Rust types, mirroring the WIT `types` interface.
//!
//! `wit_glue` converts between these and the generated bindings; everything else uses these.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How xentral resubmission stages relate to HubSpot deal stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StageMode {
    /// One view per pipeline, one stage per HubSpot stage.
    #[default]
    Automatic,
    /// The user maps stages by hand.
    UserDefined,
}

/// The settings a xentral user edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// HubSpot API base URL.
    pub hubspot_url: String,
    /// Name of the host-held secret.
    pub credential: String,
    /// Contacts on/off.
    pub contacts: bool,
    /// Only contacts created at or after this RFC 3339 instant.
    pub contacts_since: Option<String>,
    /// Only contacts with one of these lead statuses (empty: all).
    pub lead_statuses: Vec<String>,
    /// The contact group's name.
    pub group: String,
    /// Deals on/off.
    pub deals: bool,
    /// Stage mapping mode.
    pub stage_mode: StageMode,
    /// The HubSpot API version (`2026-03`, `legacy`; empty for the default).
    pub api_version: String,
    /// How contacts sync (Data Sync's direction, conflict winner, field directions).
    pub contact_rule: crate::engine::rules::SyncRule,
    /// Companies on/off.
    pub companies: bool,
    /// Where a synced company's contacts live in xentral.
    pub contact_mode: ContactMode,
    /// How companies sync.
    pub company_rule: crate::engine::rules::SyncRule,
    /// How deals sync.
    pub deal_rule: crate::engine::rules::SyncRule,
}

/// Where the contacts of a synced HubSpot company live in xentral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ContactMode {
    /// As contact persons (`ansprechpartner`) of the company's address.
    ContactPersons,
    /// Every contact as a person address (settings stored before there was a choice).
    #[default]
    Addresses,
}

/// What `configure` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigureReport {
    /// The user-facing message.
    pub message: String,
    /// What changed.
    pub changes: Vec<String>,
    /// What the user must still do.
    pub warnings: Vec<String>,
}

/// What `refresh-metadata` stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataReport {
    /// Lead status options.
    pub lead_statuses: u32,
    /// Lifecycle stage options.
    pub lifecycle_stages: u32,
    /// Deal pipelines.
    pub pipelines: u32,
    /// Deal stages.
    pub stages: u32,
    /// What changed.
    pub changes: Vec<String>,
}

/// The plugin's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    /// Export queued xentral changes.
    ProcessQueue,
    /// Pull contacts, reconcile addresses.
    SyncContacts,
    /// Pull deals, reconcile resubmissions.
    SyncDeals,
}

impl Job {
    /// The job's name as used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Job::ProcessQueue => "process-queue",
            Job::SyncContacts => "sync-contacts",
            Job::SyncDeals => "sync-deals",
        }
    }
}

/// Limits for one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// Stop starting new work at this instant (ms, host clock).
    pub deadline_ms: Option<i64>,
    /// Stop after this many HubSpot requests.
    pub max_requests: Option<u32>,
    /// Write nothing; report what would change.
    pub dry_run: bool,
}

/// What a job did to one side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SideReport {
    /// Records created.
    pub created: u32,
    /// Records updated.
    pub updated: u32,
    /// Records compared and found equal.
    pub unchanged: u32,
    /// Records changed on both sides since the last sync.
    pub conflicts: u32,
    /// Records that failed (stored for retry).
    pub failed: u32,
    /// Records left out, by reason.
    pub excluded: BTreeMap<String, u32>,
}

impl SideReport {
    /// Counts one excluded record.
    pub fn exclude(&mut self, reason: &str) {
        *self.excluded.entry(reason.to_owned()).or_default() += 1;
    }
}

/// The outcome of one job run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    /// Which job.
    pub job: Job,
    /// Writes made to xentral.
    pub xentral: SideReport,
    /// Writes made to HubSpot.
    pub hubspot: SideReport,
    /// HubSpot requests by endpoint.
    pub api_calls: BTreeMap<String, u32>,
    /// Work is left for the next run.
    pub pending: bool,
    /// Notes for the operator.
    pub messages: Vec<String>,
    /// In a dry run: the changes it would make, record by record (bounded).
    pub planned: Vec<PlannedChange>,
}

/// One change a dry run would make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedChange {
    /// The object kind.
    pub object: String,
    /// Where the write would happen: `true` for xentral, `false` for HubSpot.
    pub in_xentral: bool,
    /// `create`, `update`, `link`, `archive`, `mark-deleted`, `unlink`, `relink`, `conflict`.
    pub kind: &'static str,
    /// The xentral record, if it exists yet.
    pub xentral_id: Option<i64>,
    /// The HubSpot record, if it exists yet.
    pub hubspot_id: Option<String>,
    /// The fields that would be written.
    pub fields: Vec<String>,
    /// Why, when it is not a plain change.
    pub reason: String,
}

impl JobReport {
    /// An empty report for a job.
    pub fn new(job: Job) -> Self {
        JobReport {
            job,
            xentral: SideReport::default(),
            hubspot: SideReport::default(),
            api_calls: BTreeMap::new(),
            pending: false,
            messages: Vec::new(),
            planned: Vec::new(),
        }
    }
}

/// A kind of xentral record the host reports as changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// `adresse`.
    Address,
    /// `wiedervorlage`.
    Resubmission,
    /// `ansprechpartner`.
    ContactPerson,
}

impl Entity {
    /// The name stored in the queue.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Address => "address",
            Entity::Resubmission => "resubmission",
            Entity::ContactPerson => "contact-person",
        }
    }
}

/// Why an export call failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// Not configured, or a stored setting is unusable.
    NotConfigured(String),
    /// Settings given to `configure` are invalid.
    InvalidSettings(String),
    /// HubSpot rejected the credential or a scope is missing.
    Unauthorized(String),
    /// HubSpot failed or answered unusably.
    Hubspot(String),
    /// The tenant database failed.
    Database(String),
    /// The daily limit is used up.
    RateLimited(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::NotConfigured(m)
            | PluginError::InvalidSettings(m)
            | PluginError::Unauthorized(m)
            | PluginError::Hubspot(m)
            | PluginError::Database(m)
            | PluginError::RateLimited(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PluginError {}

impl From<crate::platform::DbError> for PluginError {
    fn from(e: crate::platform::DbError) -> Self {
        PluginError::Database(e.to_string())
    }
}

/// One xentral stage and its mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XentralStage {
    /// `wiedervorlage_stages.id`.
    pub id: i64,
    /// Its view.
    pub view_id: i64,
    /// The view's name.
    pub view_name: String,
    /// The stage's name.
    pub name: String,
    /// Hidden.
    pub hidden: bool,
    /// The HubSpot (pipeline, stage) it maps to.
    pub mapped_to: Option<(String, String)>,
    /// Mapped by Refresh.
    pub automatic: bool,
}

/// One HubSpot stage and its mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubspotStage {
    /// Pipeline id.
    pub pipeline_id: String,
    /// Pipeline label.
    pub pipeline_label: String,
    /// Stage id.
    pub stage_id: String,
    /// Stage label.
    pub label: String,
    /// Archived.
    pub archived: bool,
    /// The xentral stage it maps to.
    pub mapped_to: Option<i64>,
}

/// Both sides of the stage mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOverview {
    /// The mode.
    pub mode: StageMode,
    /// xentral's stages.
    pub xentral: Vec<XentralStage>,
    /// HubSpot's stages.
    pub hubspot: Vec<HubspotStage>,
}

/// A row verb on a xentral table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    /// Read rows.
    Select,
    /// Insert rows.
    Insert,
    /// Change rows.
    Update,
    /// Delete rows.
    Delete,
}

/// One of the plugin's jobs as the host schedules it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// The job.
    pub job: Job,
    /// `prozessstarter.parameter` of its starter.
    pub starter_parameter: &'static str,
    /// `prozessstarter.bezeichnung` of its starter.
    pub name: &'static str,
    /// Its default period in minutes.
    pub period_minutes: u32,
    /// The object kinds whose records it pulls (their exclusions are its exclusions).
    pub objects: &'static [&'static str],
}

/// What the plugin is: its jobs, the xentral tables and verbs it needs, its own tables. The
/// host grants it no more than this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The contract version the plugin is built against.
    pub contract_version: &'static str,
    /// Its jobs.
    pub jobs: Vec<JobSpec>,
    /// xentral tables with the verbs needed on each.
    pub xentral_tables: Vec<(&'static str, &'static [Privilege])>,
    /// Its own tables.
    pub own_tables: Vec<&'static str>,
}

/// Records of one object kind failing in one direction with one error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingRecords {
    /// `push` or `pull`.
    pub direction: String,
    /// The error.
    pub error: String,
    /// How many records.
    pub count: u32,
    /// Their ids, the first [`crate::store::health::LISTED_RECORDS`].
    pub records: Vec<String>,
    /// The earliest next retry, ms since the epoch.
    pub next_retry_ms: i64,
    /// The most attempts among them.
    pub attempts: u32,
    /// HubSpot refused them as they are: they wait for a change.
    pub needs_change: bool,
}

/// A field changed on both sides, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConflict {
    /// The HubSpot record.
    pub hubspot_id: String,
    /// The xentral record.
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

/// Records of one object kind whose link ended for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedRecords {
    /// Why.
    pub reason: String,
    /// How many.
    pub count: u32,
    /// The pairs (HubSpot id, xentral id), the first [`crate::store::health::LISTED_RECORDS`].
    pub records: Vec<(String, i64)>,
    /// They stay unsynced until the user acts.
    pub needs_action: bool,
}

/// The state of one object kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHealth {
    /// `contact`, `company`, `contact-person` or `deal`.
    pub object: &'static str,
    /// Linked pairs.
    pub in_sync: u64,
    /// Failing records, grouped by direction and error.
    pub failing: Vec<FailingRecords>,
    /// Links that ended, by reason.
    pub ended: Vec<EndedRecords>,
    /// Conflicts kept.
    pub conflicts_kept: u64,
    /// The most recent conflicts, newest first.
    pub recent_conflicts: Vec<StoredConflict>,
}

/// The export queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueHealth {
    /// Entries not yet done.
    pub pending: u64,
    /// Of those, entries waiting for a retry.
    pub retrying: u64,
}

/// The option lists Refresh read: (value, label) each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubspotOptions {
    /// Lead statuses.
    pub lead_statuses: Vec<(String, String)>,
    /// Lifecycle stages.
    pub lifecycle_stages: Vec<(String, String)>,
}

/// What the plugin's state says of each object kind and of the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncHealth {
    /// Whether the plugin's tables exist.
    pub connected: bool,
    /// Per object kind.
    pub objects: Vec<ObjectHealth>,
    /// The queue.
    pub queue: QueueHealth,
}
