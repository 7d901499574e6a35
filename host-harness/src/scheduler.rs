//! The scheduler: runs the due process starters (`prozessstarter`) of every tenant, as xentral's
//! cron (`starter2.php`) does, each as a sandboxed plugin job.
//!
//! The starter state machine (due, claim, lock, stale lock, finish) is `xentral_erp::scheduler`;
//! this module decides which starters are ours (by `parameter`, as the plugin's manifest
//! names them: [`Manifest::job_of_starter`](crate::report::Manifest::job_of_starter)), runs them with a [`Budget`] derived from the tenant's
//! limits, records each finished run in the [`RunLog`], and spreads tenants over a bounded pool of
//! threads. A claim is one conditional UPDATE in the tenant's database, so several scheduler
//! processes on one data directory never run the same starter at once. A failure of one tenant
//! (its database, a trap in its job) is recorded and never stops the others.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use xentral_erp::DbError;
use xentral_erp::mysql_compat::instant_from_millis;
use xentral_erp::scheduler::{self as starters, ClaimOutcome, Starter};
use xentral_erp::sqlite::ChangeStamp;

use crate::host::{HostError, XentralHost};
use crate::limits::TenantLimits;
use crate::report::{Budget, Job, JobReport};
use crate::runlog::{RunLog, RunLogError, RunRecord, RunResult};

/// What a successful run writes into `prozessstarter.status` (xentral's convention).
pub const STATUS_OK: &str = "OK";

/// The most a job's deadline is set before the tenant's wall-time limit, so the plugin stops at
/// a page boundary and reports before the sandbox kills it.
pub const DEADLINE_MARGIN_MS: u64 = 30_000;

/// Errors of the scheduler and of status queries.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The tenant could not be opened.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The tenant's database failed.
    #[error("tenant '{tenant}': xentral database: {source}")]
    Database {
        /// The tenant.
        tenant: String,
        /// The cause.
        source: DbError,
    },
    /// The run log could not be read.
    #[error(transparent)]
    RunLog(#[from] RunLogError),
}

/// How an attempt on a starter ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "message", rename_all = "kebab-case")]
pub enum RunOutcome {
    /// The attempt did not run the job (see the claim outcome).
    NotRun,
    /// The job ran and returned a report; carries its summary.
    Ok(String),
    /// The job ran and failed; carries the error message.
    Failed(String),
}

/// One attempt on a due starter in one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct StarterRun {
    /// The tenant.
    pub tenant: String,
    /// `prozessstarter.id`.
    pub starter_id: i64,
    /// `prozessstarter.parameter`.
    pub parameter: String,
    /// The plugin job the parameter names.
    pub job: Job,
    /// What the claim found.
    pub claim: ClaimOutcome,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// When the attempt started, ms since the epoch on the host clock.
    pub started_ms: i64,
    /// How long the job ran, in ms on the host clock (0 when it did not run).
    pub duration_ms: u64,
    /// HubSpot API calls, when the job returned a report.
    pub api_calls: Option<u32>,
    /// The job's report, when it returned one.
    pub report: Option<JobReport>,
    /// Run by hand (`run`), not by the scheduler.
    pub manual: bool,
}

impl StarterRun {
    /// An attempt on `starter` begun at `started_ms`, not run yet.
    pub(crate) fn begun(
        tenant: &str,
        starter: &Starter,
        job: Job,
        claim: ClaimOutcome,
        started_ms: i64,
        manual: bool,
    ) -> StarterRun {
        StarterRun {
            tenant: tenant.to_owned(),
            starter_id: starter.id,
            parameter: starter.parameter.clone(),
            job,
            claim,
            outcome: RunOutcome::NotRun,
            started_ms,
            duration_ms: 0,
            api_calls: None,
            report: None,
            manual,
        }
    }

    /// Whether the job ran in this attempt.
    pub fn ran(&self) -> bool {
        self.claim.should_run()
    }
}

/// A failure that kept the scheduler from handling (part of) a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantFailure {
    /// The tenant.
    pub tenant: String,
    /// What went wrong.
    pub message: String,
}

/// The result of one pass over all tenants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pass {
    /// Every attempt on a due starter, grouped by tenant in name order.
    pub runs: Vec<StarterRun>,
    /// Tenant-level failures (the other tenants were still handled).
    pub failures: Vec<TenantFailure>,
    /// Tenants left closed: an earlier pass of the same [`Scheduler`] found nothing due, their
    /// database has not been written since, and none of their starters has come due.
    pub quiet: usize,
}

impl Pass {
    /// Number of jobs that ran and succeeded.
    pub fn succeeded(&self) -> usize {
        self.count(|o| matches!(o, RunOutcome::Ok(_)))
    }

    /// Number of jobs that ran and failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, RunOutcome::Failed(_)))
    }

    /// Number of attempts that found the starter locked or claimed by another scheduler.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, RunOutcome::NotRun))
    }

    fn count(&self, f: impl Fn(&RunOutcome) -> bool) -> usize {
        self.runs.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// The budget of a job started at `now_ms`: its deadline is the tenant's wall-time limit minus a
/// margin of a tenth of it, at most [`DEADLINE_MARGIN_MS`].
pub fn budget_for(limits: &TenantLimits, now_ms: i64) -> Budget {
    let margin = (limits.wall_time_ms / 10).min(DEADLINE_MARGIN_MS);
    let allowed = i64::try_from(limits.wall_time_ms - margin).unwrap_or(i64::MAX);
    Budget {
        deadline_ms: Some(now_ms.saturating_add(allowed)),
        max_requests: None,
        dry_run: false,
    }
}

/// The number of workers when none is given: the machine's available parallelism.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One pass: every due starter of every tenant, at the host clock's now, tenants spread over at
/// most `workers` threads (at least one). Starters of one tenant run one after another. Opens
/// every tenant's database; a [`Scheduler`] that runs pass after pass leaves idle ones closed.
pub fn run_due(host: &XentralHost, workers: usize) -> Pass {
    Scheduler::new(host, workers).pass()
}

/// Runs passes forever, `interval` apart on the host clock, handing each to `on_pass`.
pub fn run_forever(
    host: &XentralHost,
    workers: usize,
    interval: Duration,
    mut on_pass: impl FnMut(&Pass),
) -> ! {
    let interval_ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
    let scheduler = Scheduler::new(host, workers);
    loop {
        on_pass(&scheduler.pass());
        host.clock().sleep_ms(interval_ms);
    }
}

/// Runs passes over all tenants and remembers, between them, which tenants had nothing due:
/// such a tenant's database is not opened again until it is written (its [`ChangeStamp`]
/// differs: a starter edited, a run by hand, anything) or its next starter comes due. Opening a
/// SQLite database and reading its schema costs about a millisecond and a half, so for 1,000
/// idle tenants this is most of a pass. A MariaDB tenant has no such stamp and is opened every
/// pass.
pub struct Scheduler<'h> {
    host: &'h XentralHost,
    workers: usize,
    quiet: Mutex<HashMap<String, Quiet>>,
}

/// What a pass found about a tenant with nothing due.
#[derive(Debug, Clone)]
struct Quiet {
    /// The database's files before the pass read them.
    stamp: ChangeStamp,
    /// When its first scheduled starter comes due (`None`: none is scheduled).
    next_due: Option<DateTime<Utc>>,
}

impl Quiet {
    fn still(&self, stamp: &ChangeStamp, now: DateTime<Utc>) -> bool {
        &self.stamp == stamp && self.next_due.is_none_or(|due| now < due)
    }
}

/// How a pass handled one tenant.
enum Visit {
    /// Its database was opened and its due starters run.
    Opened,
    /// Left closed (see [`Quiet`]).
    Quiet,
}

impl<'h> Scheduler<'h> {
    /// A scheduler over `host`'s tenants with at most `workers` threads, remembering nothing yet.
    pub fn new(host: &'h XentralHost, workers: usize) -> Scheduler<'h> {
        Scheduler {
            host,
            workers,
            quiet: Mutex::default(),
        }
    }

    /// One pass: every due starter of every tenant, at the host clock's now.
    pub fn pass(&self) -> Pass {
        let host = self.host;
        let names = match host.data().tenant_names() {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "cannot list tenants");
                return Pass {
                    failures: vec![TenantFailure {
                        tenant: String::new(),
                        message: e.to_string(),
                    }],
                    ..Pass::default()
                };
            }
        };
        let next = AtomicUsize::new(0);
        let mut done = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..self.workers.clamp(1, names.len().max(1)))
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        while let Some(name) = names.get(next.fetch_add(1, Ordering::SeqCst)) {
                            let mut runs = Vec::new();
                            let visit = self.run_tenant(name, &mut runs).map_err(|e| {
                                tracing::error!(tenant = %name, error = %e, "scheduler pass failed for tenant");
                                TenantFailure {
                                    tenant: name.clone(),
                                    message: e.to_string(),
                                }
                            });
                            mine.push((name, runs, visit));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Vec<_>>()
        });
        done.sort_by(|a, b| a.0.cmp(b.0));
        let mut pass = Pass::default();
        for (_, runs, visit) in done {
            pass.runs.extend(runs);
            match visit {
                Ok(Visit::Quiet) => pass.quiet += 1,
                Ok(Visit::Opened) => {}
                Err(failure) => pass.failures.push(failure),
            }
        }
        pass
    }

    fn quiet(&self) -> std::sync::MutexGuard<'_, HashMap<String, Quiet>> {
        self.quiet.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles one tenant's due starters, pushing each attempt onto `runs` as it finishes.
    fn run_tenant(&self, name: &str, runs: &mut Vec<StarterRun>) -> Result<Visit, SchedulerError> {
        let host = self.host;
        let tenant = host.tenant(name)?;
        let clock = host.clock();
        let now = instant_from_millis(clock.now_ms());
        // Taken before the database is read, so a write while it is read shows next pass.
        let stamp = tenant
            .config
            .database_url
            .is_none()
            .then(|| ChangeStamp::of(&tenant.db_path()).ok())
            .flatten();
        if let Some(stamp) = &stamp
            && self.quiet().get(name).is_some_and(|q| q.still(stamp, now))
        {
            return Ok(Visit::Quiet);
        }
        self.quiet().remove(name);
        let mut db = tenant
            .open_admin_db(clock)
            .map_err(|e| SchedulerError::Host(e.into()))?;
        let log = RunLog::for_tenant(&tenant);
        let mut next_due: Option<DateTime<Utc>> = None;
        let mut any_due = false;
        for starter in starters::list(&mut *db).map_err(db_error(name))? {
            let Some(job) = host
                .component()
                .manifest()
                .job_of_starter(&starter.parameter)
            else {
                continue;
            };
            if !starter.is_due(now) {
                next_due = next_due.into_iter().chain(starter.next_due()).min();
                continue;
            }
            any_due = true;
            let started_ms = clock.now_ms();
            let attempt = starters::try_claim(&mut *db, &starter, instant_from_millis(started_ms))
                .map_err(db_error(name))?;
            let claim = attempt.outcome();
            let lease = attempt.into_lease();
            let mut run = StarterRun::begun(name, &starter, job, claim, started_ms, false);
            if let ClaimOutcome::TakenOverFromDead { pid } = claim {
                tracing::warn!(tenant = %name, starter = starter.id, pid, "took over the lock of a run whose process is gone");
            }
            let Some(lease) = lease else {
                if let ClaimOutcome::Locked { counter } = claim {
                    tracing::info!(tenant = %name, starter = starter.id, counter, "starter is locked by a running job");
                }
                runs.push(run);
                continue;
            };
            execute(host, name, &tenant.config.limits, &starter, &mut run);
            let finished = instant_from_millis(clock.now_ms());
            let status = match &run.outcome {
                RunOutcome::Failed(message) => Err(message.as_str()),
                _ => Ok(STATUS_OK),
            };
            let released = starters::finish(&mut *db, &lease, finished, status);
            record(&log, &run);
            runs.push(run);
            released.map_err(db_error(name))?;
        }
        if !any_due && let Some(stamp) = stamp {
            self.quiet()
                .insert(name.to_owned(), Quiet { stamp, next_due });
        }
        Ok(Visit::Opened)
    }
}

fn db_error(tenant: &str) -> impl Fn(DbError) -> SchedulerError + '_ {
    move |source| SchedulerError::Database {
        tenant: tenant.to_owned(),
        source,
    }
}

/// Runs the job of a claimed starter and fills in the outcome, duration and API calls.
fn execute(
    host: &XentralHost,
    tenant: &str,
    limits: &TenantLimits,
    starter: &Starter,
    run: &mut StarterRun,
) {
    let budget = budget_for(limits, run.started_ms);
    tracing::info!(tenant, starter = starter.id, job = %run.job, "starting job");
    let result = host.run_job(tenant, run.job, budget);
    run.ended(host.clock().now_ms(), &result);
}

impl StarterRun {
    /// Fills in how the job ended at `now_ms`; shared by scheduled and manual runs, so both
    /// are recorded alike.
    pub(crate) fn ended(
        &mut self,
        now_ms: i64,
        result: &Result<crate::Invocation<JobReport>, crate::HostError>,
    ) {
        self.duration_ms = u64::try_from(now_ms - self.started_ms).unwrap_or(0);
        self.outcome = match result {
            Ok(inv) => match &inv.result {
                Ok(report) => {
                    self.api_calls = Some(report.total_api_calls());
                    self.report = Some(report.clone());
                    RunOutcome::Ok(summary(report))
                }
                Err(e) => RunOutcome::Failed(e.to_string()),
            },
            Err(e) => RunOutcome::Failed(e.to_string()),
        };
        if let RunOutcome::Failed(message) = &self.outcome {
            tracing::warn!(tenant = %self.tenant, starter = self.starter_id, job = %self.job, error = %message, "job failed");
        }
    }
}

/// One line about a job report.
fn summary(r: &crate::report::JobReport) -> String {
    let side = |s: &crate::report::SideReport| {
        format!(
            "{} created, {} updated, {} conflicts, {} failed",
            s.created, s.updated, s.conflicts, s.failed
        )
    };
    let mut out = format!(
        "xentral: {}; HubSpot: {}; {} API calls",
        side(&r.xentral),
        side(&r.hubspot),
        r.total_api_calls()
    );
    if r.pending {
        out.push_str("; more pending");
    }
    out
}

/// Appends a finished run to the tenant's run log (a failure to write is logged, never fatal).
pub(crate) fn record(log: &RunLog, run: &StarterRun) {
    let (outcome, message) = match &run.outcome {
        RunOutcome::Failed(m) => (RunResult::Failed, m.clone()),
        RunOutcome::Ok(m) => (RunResult::Ok, m.clone()),
        RunOutcome::NotRun => (RunResult::Ok, String::new()),
    };
    let entry = RunRecord {
        manual: run.manual,
        tenant: run.tenant.clone(),
        starter_id: run.starter_id,
        parameter: run.parameter.clone(),
        job: run.job.name().into(),
        started_ms: run.started_ms,
        duration_ms: run.duration_ms,
        outcome,
        message,
        api_calls: run.api_calls,
        excluded: run
            .report
            .iter()
            .flat_map(|r| {
                let x = r
                    .xentral
                    .excluded
                    .iter()
                    .map(|c| (format!("xentral: {}", c.reason), c.count));
                let h = r
                    .hubspot
                    .excluded
                    .iter()
                    .map(|c| (format!("HubSpot: {}", c.reason), c.count));
                x.chain(h).collect::<Vec<_>>()
            })
            .collect(),
    };
    if let Err(e) = log.append(&entry) {
        tracing::warn!(error = %e, "could not write the run log");
    }
}

/// One starter as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StarterStatus {
    /// `prozessstarter.id`.
    pub id: i64,
    /// Name shown in xentral.
    pub bezeichnung: String,
    /// `prozessstarter.parameter`.
    pub parameter: String,
    /// The plugin job, if the starter is ours.
    pub job: Option<Job>,
    /// Whether the starter is switched on.
    pub aktiv: bool,
    /// Period in minutes.
    pub period_minutes: i64,
    /// Last attempt or run (`letzteausfuerhung`), UTC.
    pub last_attempt: Option<DateTime<Utc>>,
    /// `prozessstarter.status`: `OK` or the last error.
    pub status: String,
    /// Whether a run holds the lock (`mutex`).
    pub locked: bool,
    /// Attempts that found the lock held (`mutexcounter`).
    pub lock_counter: i64,
    /// Whether the lock counts as stale (the next attempt takes it over).
    pub lock_stale: bool,
    /// When the next run is due, UTC; `None` if the starter is not scheduled.
    pub next_due: Option<DateTime<Utc>>,
    /// The newest run in the run log.
    pub last_run: Option<LastRun>,
}

/// The newest recorded run of a starter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRun {
    /// When it started, UTC.
    pub started: DateTime<Utc>,
    /// How long it ran.
    pub duration_ms: u64,
    /// How it ended.
    pub outcome: RunResult,
    /// Its summary or error message.
    pub message: String,
    /// HubSpot API calls, when the job returned a report.
    pub api_calls: Option<u32>,
    /// Run by hand (`xentral-host run`), not by the scheduler.
    pub manual: bool,
}

/// The process starters of `tenant`, by id, with their lock state, next due time and the newest
/// run from the run log.
pub fn starter_status(
    host: &XentralHost,
    tenant: &str,
) -> Result<Vec<StarterStatus>, SchedulerError> {
    let t = host.tenant(tenant)?;
    let mut db = t
        .open_admin_db(host.clock())
        .map_err(|e| SchedulerError::Host(e.into()))?;
    let rows = starters::list(&mut *db).map_err(db_error(tenant))?;
    let mut latest = RunLog::for_tenant(&t).latest_by_starter()?;
    Ok(rows
        .into_iter()
        .map(|s| StarterStatus {
            id: s.id,
            job: host.component().manifest().job_of_starter(&s.parameter),
            aktiv: s.aktiv,
            period_minutes: s.period_minutes(),
            last_attempt: s.letzteausfuerhung,
            locked: s.mutex,
            lock_counter: s.mutexcounter,
            lock_stale: s.lock_is_stale(),
            next_due: s.next_due(),
            last_run: latest.remove(&s.id).map(|r| LastRun {
                started: instant_from_millis(r.started_ms),
                duration_ms: r.duration_ms,
                outcome: r.outcome,
                message: r.message,
                api_calls: r.api_calls,
                manual: r.manual,
            }),
            bezeichnung: s.bezeichnung,
            parameter: s.parameter,
            status: s.status,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_deadline_leaves_a_tenth_of_short_limits() {
        let limits = TenantLimits {
            wall_time_ms: 10_000,
            ..TenantLimits::default()
        };
        assert_eq!(budget_for(&limits, 1_000).deadline_ms, Some(10_000));
    }

    #[test]
    fn budget_deadline_margin_is_capped() {
        let limits = TenantLimits {
            wall_time_ms: 30 * 60 * 1000,
            ..TenantLimits::default()
        };
        assert_eq!(
            budget_for(&limits, 0).deadline_ms,
            Some(30 * 60 * 1000 - DEADLINE_MARGIN_MS as i64)
        );
    }
}
