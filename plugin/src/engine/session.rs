//! One job run: the borrowed platform, the HubSpot client, the settings and the report being
//! built. Sync code takes a `&mut Session` and nothing else.

use std::collections::{HashMap, HashSet};

use crate::api::{Budget, Job, JobReport, PlannedChange, PluginError};
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
    /// Records with a value xentral could not hold whole so far in this run.
    noted_records: usize,
    /// Planned changes of a dry run left out of the report (beyond [`PLANNED_CHANGES`]).
    planned_beyond: usize,
}

/// How many records with values cut or refused a report names one by one.
pub const CUT_NOTES: usize = 20;

/// How many changes a dry run's report lists record by record.
pub const PLANNED_CHANGES: usize = 1_000;

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
            settings.hs_api_version,
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
            noted_records: 0,
            planned_beyond: 0,
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

    /// Counts a record changed on both sides (on the side that lost), logs which fields and
    /// stores each conflict with both values and the winner (not in a dry run).
    pub fn conflict(
        &mut self,
        winner: crate::engine::merge::Winner,
        object: &str,
        hubspot_id: &str,
        xentral_id: i64,
        conflicts: &[crate::engine::merge::Conflict],
    ) -> Result<(), PluginError> {
        let (side, winner_name) = match winner {
            crate::engine::merge::Winner::Xentral => (&mut self.report.hubspot, "xentral"),
            crate::engine::merge::Winner::Hubspot => (&mut self.report.xentral, "hubspot"),
        };
        side.conflicts += 1;
        for c in conflicts {
            self.plan(PlannedChange {
                object: object.to_owned(),
                in_xentral: winner == crate::engine::merge::Winner::Hubspot,
                kind: "conflict",
                xentral_id: Some(xentral_id),
                hubspot_id: Some(hubspot_id.to_owned()),
                fields: vec![c.field.clone()],
                reason: format!(
                    "xentral '{}', HubSpot '{}': {winner_name} wins",
                    c.xentral, c.hubspot
                ),
            });
        }
        let fields = conflicts
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let xentral = xentral_id.to_string();
        self.warn(
            "changed on both sides",
            &[
                ("object", object),
                ("hubspot_id", hubspot_id),
                ("xentral_id", &xentral),
                ("fields", &fields),
                ("winner", winner_name),
            ],
        );
        if self.dry_run {
            return Ok(());
        }
        let now = self.clock.now_ms();
        for conflict in conflicts {
            crate::store::state::record_conflict(
                self.db,
                &crate::store::state::ConflictRecord {
                    object,
                    hubspot_id,
                    xentral_id,
                    conflict,
                    winner: winner_name,
                },
                now,
            )?;
        }
        Ok(())
    }

    /// Notes that xentral could not hold `fields` of `record` whole (cut on a grapheme
    /// boundary to the column's size): a warning in the log and, for the first
    /// [`CUT_NOTES`] records of a run, a note in the report, then one count of the rest. A
    /// cut value is written once: the snapshot keeps it, so the next run neither writes it
    /// again nor sends it back to HubSpot.
    pub fn note_cut(&mut self, record: &str, fields: &[String]) {
        if fields.is_empty() {
            return;
        }
        let fields = fields.join(", ");
        self.warn(
            "value cut to fit xentral",
            &[("record", record), ("fields", &fields)],
        );
        self.note(format!("{record}: {fields} cut to fit xentral's column"));
    }

    /// Notes values of `record` xentral cannot hold at all (a country `laender` does not
    /// know, an owner no address matches): they are not written, and said per record as cut
    /// values are. The record's other values are written; the refused one stays HubSpot's
    /// until it changes there.
    pub fn note_refused(&mut self, record: &str, refused: &[(String, String)]) {
        for (field, why) in refused {
            self.warn(
                "value not written to xentral",
                &[("record", record), ("field", field), ("reason", why)],
            );
            self.note(format!("{record}: {field} not written: {why}"));
        }
    }

    /// A note about one record (a value cut or refused, a link that ended): the first
    /// [`CUT_NOTES`] of a run go into the report, the rest are counted; the log has each.
    pub fn note(&mut self, line: String) {
        self.noted_records += 1;
        if self.noted_records <= CUT_NOTES {
            self.report.messages.push(line);
        }
    }

    /// Lists one change a dry run would make (a real run lists none); beyond
    /// [`PLANNED_CHANGES`] they are only counted.
    pub fn plan(&mut self, change: PlannedChange) {
        if !self.dry_run {
            return;
        }
        if self.report.planned.len() < PLANNED_CHANGES {
            self.report.planned.push(change);
        } else {
            self.planned_beyond += 1;
        }
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

    /// Finishes the report (API calls, the count of cut records not named).
    pub fn finish(mut self) -> JobReport {
        if self.noted_records > CUT_NOTES {
            self.report.messages.push(format!(
                "{} more notes about single records (values cut or not written, links ended): see the log",
                self.noted_records - CUT_NOTES
            ));
        }
        if self.planned_beyond > 0 {
            self.report.messages.push(format!(
                "{} more planned changes are not listed one by one",
                self.planned_beyond
            ));
        }
        self.report.api_calls = self.client.calls().clone();
        self.report
    }
}
