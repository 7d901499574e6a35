//! What an action's outcome shows, and where: in the section of the page whose form did it
//! (a saved token under Connection, a dry run's table under Dry run), once.

use crate::report::{ConfigureReport, JobReport, MetadataReport};

/// The part of a tenant's pages an outcome belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The access token and URL.
    Connection,
    /// The Refresh button.
    Refresh,
    /// The sync settings.
    Settings,
    /// The deal phases (stage mapping).
    Stages,
    /// The process starters (schedule, Run now).
    Starters,
    /// The health page's dry run.
    DryRun,
    /// The health page's retry of failing records.
    Retry,
}

impl Section {
    /// The element id the section has on its page (redirects scroll to it).
    pub fn anchor(self) -> &'static str {
        match self {
            Section::Connection => "connection",
            Section::Refresh => "refresh",
            Section::Settings => "settings",
            Section::Stages => "stages",
            Section::Starters => "starters",
            Section::DryRun => "dry-run",
            Section::Retry => "overview",
        }
    }

    /// Whether the section is on the health page (else the module page).
    pub fn on_health_page(self) -> bool {
        matches!(self, Section::DryRun | Section::Retry)
    }
}

/// The outcome's details.
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    /// Nothing beyond the message.
    None,
    /// Lines of what was done, and warnings.
    Lines {
        /// What was done.
        done: Vec<String>,
        /// What the operator should know or do.
        warnings: Vec<String>,
    },
    /// What Refresh found.
    Metadata(MetadataReport),
    /// What a run did, or a dry run would do.
    Job {
        /// The report.
        report: JobReport,
        /// Whether it was a dry run.
        dry_run: bool,
    },
}

/// One outcome, shown once in its section.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Where it shows.
    pub section: Section,
    /// Whether the action succeeded.
    pub ok: bool,
    /// The headline, exact.
    pub message: String,
    /// The details.
    pub details: Details,
}

impl Notice {
    /// A failure in `section`.
    pub fn failed(section: Section, message: impl Into<String>) -> Self {
        Notice {
            section,
            ok: false,
            message: message.into(),
            details: Details::None,
        }
    }

    /// A success with nothing but its message.
    pub fn done(section: Section, message: impl Into<String>) -> Self {
        Notice {
            section,
            ok: true,
            message: message.into(),
            details: Details::None,
        }
    }

    /// A saved configuration.
    pub fn configured(section: Section, report: ConfigureReport) -> Self {
        Notice {
            section,
            ok: true,
            message: report.message,
            details: Details::Lines {
                done: report.changes,
                warnings: report.warnings,
            },
        }
    }
}
