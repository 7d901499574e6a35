//! One job run: the borrowed platform, the HubSpot client, the settings and the report being
//! built. Sync code takes a `&mut Session` and nothing else.

use std::collections::{HashMap, HashSet};

use crate::api::{Budget, Job, JobReport, PluginError};
use crate::hubspot::{ApiError, Client};
use crate::platform::{Clock, Db, Level, Log, Platform};
use crate::settings::StoredSettings;

/// Everything a job run uses.
pub struct Session<'a> {
    /// The tenant database.
    pub db: &'a mut dyn Db,
    /// HubSpot.
    pub client: Client<'a>,
    /// Time.
    pub clock: &'a dyn Clock,
    /// The job log.
    pub log: &'a dyn Log,
    /// The stored settings.
    pub settings: StoredSettings,
    /// The report being built.
    pub report: JobReport,
    /// Write nothing anywhere.
    pub dry_run: bool,
    /// Ids of the HubSpot records already applied in this run, per object: a record retried
    /// and then met again by the incremental read is applied (and counted) once.
    pub pulled: HashMap<&'static str, HashSet<String>>,
}

impl<'a> Session<'a> {
    /// A session over the platform.
    pub fn new(
        p: &'a mut Platform<'_>,
        settings: StoredSettings,
        job: Job,
        budget: Budget,
    ) -> Self {
        let client = Client::new(
            &mut *p.http,
            p.clock,
            p.log,
            &settings.hubspot_url,
            &settings.hubspot_credential,
            budget,
        );
        Session {
            db: &mut *p.db,
            client,
            clock: p.clock,
            log: p.log,
            settings,
            report: JobReport::new(job),
            dry_run: budget.dry_run,
            pulled: HashMap::new(),
        }
    }

    /// Logs at info level.
    pub fn info(&self, message: &str, fields: &[(&str, &str)]) {
        self.log.log(Level::Info, message, fields);
    }

    /// Logs a warning.
    pub fn warn(&self, message: &str, fields: &[(&str, &str)]) {
        self.log.log(Level::Warn, message, fields);
    }

    /// Counts a record changed on both sides (on the side that lost) and logs which fields.
    pub fn conflict(
        &mut self,
        winner: crate::merge::Winner,
        ids: &[(&str, &str)],
        fields: &[String],
    ) {
        let side = match winner {
            crate::merge::Winner::Xentral => &mut self.report.hubspot,
            crate::merge::Winner::Hubspot => &mut self.report.xentral,
        };
        side.conflicts += 1;
        let fields = fields.join(", ");
        let mut context: Vec<(&str, &str)> = ids.to_vec();
        context.push(("fields", &fields));
        self.warn("changed on both sides", &context);
    }

    /// Runs `f` in a database transaction (nothing at all in a dry run).
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        if self.dry_run {
            return f(self);
        }
        self.db.begin()?;
        match f(self) {
            Ok(v) => {
                self.db.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.db.rollback();
                Err(e)
            }
        }
    }

    /// Notes that the job stops early because of `e` (budget, daily limit) with work pending.
    pub fn stop_early(&mut self, e: &ApiError) {
        self.report.pending = true;
        self.report.messages.push(format!("stopped early: {e}"));
    }

    /// Finishes the report (API calls).
    pub fn finish(mut self) -> JobReport {
        self.report.api_calls = self.client.calls().clone();
        self.report
    }
}
