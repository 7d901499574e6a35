//! The types the plugin's exports take and return: the newest contract's generated types, the
//! one definition of each (serialisable for `--json` and the tenant's files), with what the
//! host adds to them. Plugins of older contract versions are converted into these by their
//! binding modules.

use std::fmt;

pub use crate::bindings::latest::xentral::hubspot::types::{
    ArchiveAction, Budget, ConfigureReport, Conflict, ContactMode, DeleteAction, EndedRecords,
    Entity, FailingRecords, FieldDirection, HealthReport, HubspotOptions, HubspotStage, Job,
    JobReport, JobSpec, MetadataReport, ObjectHealth, OptionValue, PlannedChange, PluginError,
    PluginManifest, Privilege, QueueHealth, ReasonCount, RecordLink, Settings, Side, SideReport,
    StageMode, StageOverview, SyncDirection, SyncRule, XentralStage,
};

impl Job {
    /// Every job.
    pub const ALL: [Job; 3] = [Job::ProcessQueue, Job::SyncContacts, Job::SyncDeals];

    /// The job's name on the command line and in the run log.
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

impl fmt::Display for StageMode {
    /// As the command line spells it (`--stage-mode user-defined`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StageMode::Automatic => "automatic",
            StageMode::UserDefined => "user-defined",
        })
    }
}

impl fmt::Display for SyncDirection {
    /// As the command line spells it (`--contacts-direction to-xentral`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncDirection::TwoWay => "two-way",
            SyncDirection::ToXentral => "to-xentral",
            SyncDirection::ToHubspot => "to-hubspot",
        })
    }
}

impl fmt::Display for Side {
    /// As the command line spells it (`--contacts-conflict-winner hubspot`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Xentral => "xentral",
            Side::Hubspot => "hubspot",
        })
    }
}

impl fmt::Display for ContactMode {
    /// As the command line spells it (`--contact-mode contact-persons`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContactMode::ContactPersons => "contact-persons",
            ContactMode::Addresses => "addresses",
        })
    }
}

impl fmt::Display for ArchiveAction {
    /// As the command line spells it (`--contacts-on-archive mark`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArchiveAction::Keep => "keep",
            ArchiveAction::Mark => "mark",
        })
    }
}

impl fmt::Display for DeleteAction {
    /// As the command line spells it (`--contacts-on-delete archive`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeleteAction::Keep => "keep",
            DeleteAction::Archive => "archive",
        })
    }
}

impl SyncRule {
    /// Both ways, xentral winning, no field of its own, records that end kept: the rule of a
    /// kind nobody set up, and of settings saved before there were rules.
    pub fn two_way() -> SyncRule {
        SyncRule {
            direction: SyncDirection::TwoWay,
            conflict_winner: Side::Xentral,
            fields: Vec::new(),
            on_hubspot_archive: ArchiveAction::Keep,
            on_xentral_delete: DeleteAction::Keep,
        }
    }

    /// The direction of `field`: its own, else the kind's.
    pub fn field_direction(&self, field: &str) -> SyncDirection {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map_or(self.direction, |f| f.direction)
    }

    /// Whether the rule keeps records that end on both sides (what a plugin before 0.3.0
    /// does).
    pub fn keeps_ended_records(&self) -> bool {
        self.on_hubspot_archive == ArchiveAction::Keep
            && self.on_xentral_delete == DeleteAction::Keep
    }
}

/// A HubSpot deal stage as the command line and the console name it: `pipeline:stage`.
pub fn stage_name((pipeline, stage): &(String, String)) -> String {
    format!("{pipeline}:{stage}")
}

impl Default for Budget {
    /// No deadline, no request cap, not a dry run.
    fn default() -> Self {
        Budget {
            deadline_ms: None,
            max_requests: None,
            dry_run: false,
        }
    }
}

impl Default for SyncRule {
    /// [`SyncRule::two_way`].
    fn default() -> Self {
        SyncRule::two_way()
    }
}

impl Default for SideReport {
    /// Nothing done.
    fn default() -> Self {
        SideReport {
            created: 0,
            updated: 0,
            unchanged: 0,
            conflicts: 0,
            failed: 0,
            excluded: Vec::new(),
        }
    }
}

impl SideReport {
    /// How many records were left out for `reason`.
    pub fn excluded_for(&self, reason: &str) -> u32 {
        self.excluded
            .iter()
            .filter(|c| c.reason == reason)
            .map(|c| c.count)
            .sum()
    }

    /// How many records were left out, whatever the reason.
    pub fn excluded_total(&self) -> u32 {
        self.excluded.iter().map(|c| c.count).sum()
    }
}

impl JobReport {
    /// Total HubSpot API calls.
    pub fn total_api_calls(&self) -> u32 {
        self.api_calls.iter().map(|c| c.count).sum()
    }
}

/// What a plugin says it is, as the host keeps it: its jobs, and the tables it asks for as a
/// grant. The host schedules by it and grants no more than it asks for (see
/// [`xentral_erp::TableGrant::admit`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Manifest {
    /// The contract version the plugin is built against.
    pub contract_version: String,
    /// Its jobs.
    pub jobs: Vec<JobSpec>,
    /// The tables it asks for: xentral tables with verbs, and its own tables.
    pub tables: xentral_erp::TableGrant,
}

impl Manifest {
    /// The host's form of what a plugin states. A table name that is not a plain identifier
    /// is an error (the host quotes names into `GRANT` statements).
    pub fn from_plugin(m: PluginManifest) -> Result<Manifest, String> {
        let plain = |t: &str| {
            xentral_erp::grant::is_plain_name(t)
                .then_some(())
                .ok_or_else(|| format!("the plugin's manifest names `{t}`, not a table name"))
        };
        let mut tables = xentral_erp::TableGrant::new();
        for t in &m.xentral_tables {
            plain(&t.table)?;
            let verbs: Vec<_> = t
                .verbs
                .iter()
                .map(|p| match p {
                    Privilege::Select => xentral_erp::Privilege::Select,
                    Privilege::Insert => xentral_erp::Privilege::Insert,
                    Privilege::Update => xentral_erp::Privilege::Update,
                    Privilege::Delete => xentral_erp::Privilege::Delete,
                })
                .collect();
            tables = tables.with_table(&t.table, &verbs);
        }
        for t in &m.own_tables {
            plain(t)?;
            tables = tables.with_own_table(t);
        }
        Ok(Manifest {
            contract_version: m.contract_version,
            jobs: m.jobs,
            tables,
        })
    }

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
