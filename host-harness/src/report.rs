//! Host-side forms of what the plugin's exports return, serialisable for `--json`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The plugin's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    /// Export queued xentral changes (`hubspot_process`).
    ProcessQueue,
    /// Pull contacts (`hubspot_pull_contacts`).
    SyncContacts,
    /// Pull deals (`hubspot_pull_deals`).
    SyncDeals,
}

impl Job {
    /// All jobs.
    pub const ALL: [Job; 3] = [Job::ProcessQueue, Job::SyncContacts, Job::SyncDeals];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Job::ProcessQueue => "process-queue",
            Job::SyncContacts => "sync-contacts",
            Job::SyncDeals => "sync-deals",
        }
    }
}

impl std::str::FromStr for Job {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Job::ALL.into_iter().find(|j| j.name() == s).ok_or_else(|| {
            format!("unknown job '{s}': expected process-queue, sync-contacts or sync-deals")
        })
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Stage mapping mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StageMode {
    /// Automatic.
    #[default]
    Automatic,
    /// User defined.
    UserDefined,
}

impl std::fmt::Display for StageMode {
    /// As the command line spells it (`--stage-mode user-defined`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StageMode::Automatic => "automatic",
            StageMode::UserDefined => "user-defined",
        })
    }
}

/// Settings passed to `configure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// HubSpot base URL.
    pub hubspot_url: String,
    /// Credential name.
    pub credential: String,
    /// Contacts on/off.
    pub contacts: bool,
    /// Contacts start time.
    pub contacts_since: Option<String>,
    /// Lead statuses that take part.
    pub lead_statuses: Vec<String>,
    /// Contact group.
    pub group: String,
    /// Deals on/off.
    pub deals: bool,
    /// Stage mode.
    pub stage_mode: StageMode,
    /// The HubSpot API version (`2026-03`, `legacy`); empty for the plugin's default, as in
    /// settings saved before there was a choice.
    #[serde(default)]
    pub api_version: String,
    /// How contacts sync (HubSpot Data Sync's direction, conflict winner, field directions).
    #[serde(default)]
    pub contact_rule: SyncRule,
    /// How deals sync.
    #[serde(default)]
    pub deal_rule: SyncRule,
}

/// Which way values of a kind or a field flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncDirection {
    /// Both ways.
    #[default]
    TwoWay,
    /// HubSpot → xentral only.
    ToXentral,
    /// xentral → HubSpot only.
    ToHubspot,
}

/// A side of the sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// xentral.
    #[default]
    Xentral,
    /// HubSpot.
    Hubspot,
}

/// How one object kind syncs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRule {
    /// The kind's direction.
    #[serde(default)]
    pub direction: SyncDirection,
    /// Whose value stands when a field changed on both sides.
    #[serde(default)]
    pub conflict_winner: Side,
    /// Fields with a direction of their own.
    #[serde(default)]
    pub fields: BTreeMap<String, SyncDirection>,
}

/// Limits of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Deadline (ms since epoch, host clock).
    pub deadline_ms: Option<i64>,
    /// Request cap.
    pub max_requests: Option<u32>,
    /// Dry run.
    pub dry_run: bool,
}

/// What `configure` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigureReport {
    /// User message.
    pub message: String,
    /// Changes.
    pub changes: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// What `refresh-metadata` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataReport {
    /// Lead status options.
    pub lead_statuses: u32,
    /// Lifecycle stage options.
    pub lifecycle_stages: u32,
    /// Pipelines.
    pub pipelines: u32,
    /// Stages.
    pub stages: u32,
    /// Changes.
    pub changes: Vec<String>,
}

/// What a job did to one side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SideReport {
    /// Created.
    pub created: u32,
    /// Updated.
    pub updated: u32,
    /// Unchanged.
    pub unchanged: u32,
    /// Conflicts.
    pub conflicts: u32,
    /// Failed.
    pub failed: u32,
    /// Excluded by reason.
    pub excluded: BTreeMap<String, u32>,
}

/// The outcome of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    /// Which job.
    pub job: Job,
    /// Writes to xentral.
    pub xentral: SideReport,
    /// Writes to HubSpot.
    pub hubspot: SideReport,
    /// API calls by endpoint.
    pub api_calls: BTreeMap<String, u32>,
    /// More work pending.
    pub pending: bool,
    /// Notes.
    pub messages: Vec<String>,
}

impl JobReport {
    /// Total HubSpot API calls.
    pub fn total_api_calls(&self) -> u32 {
        self.api_calls.values().sum()
    }
}

/// A failure the plugin reported for a whole call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum PluginError {
    /// Not configured.
    #[error("{0}")]
    NotConfigured(String),
    /// Invalid settings.
    #[error("{0}")]
    InvalidSettings(String),
    /// Credential rejected.
    #[error("{0}")]
    Unauthorized(String),
    /// HubSpot failed.
    #[error("{0}")]
    Hubspot(String),
    /// Database failed.
    #[error("{0}")]
    Database(String),
    /// Daily limit reached.
    #[error("{0}")]
    RateLimited(String),
}

/// xentral record kinds for the save hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Entity {
    /// `adresse`.
    Address,
    /// `wiedervorlage`.
    Resubmission,
}

/// One xentral stage and its mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The HubSpot stage it maps to.
    pub mapped_to: Option<DealStage>,
    /// Mapped by Refresh (automatic mode).
    pub automatic: bool,
}

/// A HubSpot deal stage by its ids, as the contract's (pipeline id, stage id) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DealStage {
    /// The pipeline.
    pub pipeline_id: String,
    /// The stage in it.
    pub stage_id: String,
}

impl fmt::Display for DealStage {
    /// `pipeline:stage`, as `stages map` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.pipeline_id, self.stage_id)
    }
}

/// One HubSpot stage and its mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Both sides of the deal-stage mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageOverview {
    /// The mode.
    pub mode: StageMode,
    /// xentral's stages.
    pub xentral: Vec<XentralStage>,
    /// HubSpot's stages.
    pub hubspot: Vec<HubspotStage>,
}

/// One of the plugin's jobs as its manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobSpec {
    /// The job.
    pub job: Job,
    /// `prozessstarter.parameter` of the starter that runs it.
    pub starter_parameter: String,
    /// The starter's name.
    pub name: String,
    /// Its default period in minutes.
    pub period_minutes: u32,
    /// The object kinds whose records it pulls (its exclusions are theirs).
    pub objects: Vec<String>,
}

/// What a plugin says it is: its jobs and the tables it needs. The host schedules by it and
/// grants no more than it asks for (see [`xentral_erp::TableGrant::admit`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The contract version the plugin is built against.
    pub contract_version: String,
    /// Its jobs.
    pub jobs: Vec<JobSpec>,
    /// The tables it asks for: xentral tables with verbs, and its own tables.
    pub tables: xentral_erp::TableGrant,
}

impl Manifest {
    /// The job a process starter's `parameter` names, if the plugin has one.
    pub fn job_of_starter(&self, parameter: &str) -> Option<Job> {
        self.jobs
            .iter()
            .find(|j| j.starter_parameter == parameter)
            .map(|j| j.job)
    }

    /// The job that pulls `object`'s records, if one does.
    pub fn job_of_object(&self, object: &str) -> Option<Job> {
        self.jobs
            .iter()
            .find(|j| j.objects.iter().any(|o| o == object))
            .map(|j| j.job)
    }

    /// The `parameter` of the starter that runs `job`.
    pub fn starter_of(&self, job: Job) -> Option<&str> {
        self.jobs
            .iter()
            .find(|j| j.job == job)
            .map(|j| j.starter_parameter.as_str())
    }
}
