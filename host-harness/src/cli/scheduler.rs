//! `xentral-host scheduler`: xentral's cron for every tenant in the data directory.

use std::time::Duration;

use clap::Args;
use serde::Serialize;
use xentral_erp::scheduler::ClaimOutcome;
use xentral_host::scheduler::{self, Pass, RunOutcome, StarterRun, TenantFailure};

use super::output::{self, CliError};

#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Do one pass over all tenants, print a summary and exit (exit code 0 also when jobs
    /// failed: their errors are in `xentral-host status TENANT`).
    #[arg(long)]
    once: bool,
    /// Tenants handled at the same time (default: the machine's available parallelism).
    #[arg(long)]
    workers: Option<usize>,
    /// Seconds between passes.
    #[arg(long, default_value_t = 60)]
    interval_secs: u64,
    /// Print each pass as JSON.
    #[arg(long)]
    json: bool,
}

/// A pass as printed.
#[derive(Debug, Serialize)]
struct PassReport<'a> {
    succeeded: usize,
    failed: usize,
    skipped: usize,
    runs: Vec<RunReport<'a>>,
    tenant_failures: &'a [TenantFailure],
}

#[derive(Debug, Serialize)]
struct RunReport<'a> {
    tenant: &'a str,
    starter_id: i64,
    parameter: &'a str,
    job: String,
    claim: String,
    #[serde(flatten)]
    outcome: &'a RunOutcome,
    started_ms: i64,
    duration_ms: u64,
    api_calls: Option<u32>,
}

/// How a claim outcome reads.
fn claim_text(c: ClaimOutcome) -> String {
    match c {
        ClaimOutcome::Claimed => "claimed".into(),
        ClaimOutcome::TakenOverStale { previous_counter } => {
            format!("took over a stale lock (counter {previous_counter})")
        }
        ClaimOutcome::TakenOverFromDead { pid } => {
            format!("took over the lock of process {pid}, which is gone")
        }
        ClaimOutcome::Forced => "forced over a held lock".into(),
        ClaimOutcome::Locked { counter } => format!("locked by a running job (counter {counter})"),
        ClaimOutcome::NotDue => "not due (claimed elsewhere)".into(),
        ClaimOutcome::Inactive => "inactive".into(),
    }
}

fn run_report(r: &StarterRun) -> RunReport<'_> {
    RunReport {
        tenant: &r.tenant,
        starter_id: r.starter_id,
        parameter: &r.parameter,
        job: r.job.to_string(),
        claim: claim_text(r.claim),
        outcome: &r.outcome,
        started_ms: r.started_ms,
        duration_ms: r.duration_ms,
        api_calls: r.api_calls,
    }
}

fn print_pass(json: bool, pass: &Pass) {
    let report = PassReport {
        succeeded: pass.succeeded(),
        failed: pass.failed(),
        skipped: pass.skipped(),
        runs: pass.runs.iter().map(run_report).collect(),
        tenant_failures: &pass.failures,
    };
    output::print(json, &report, || {
        let mut s = format!(
            "scheduler pass: {} ok, {} failed, {} skipped",
            report.succeeded, report.failed, report.skipped
        );
        for r in &pass.runs {
            let outcome = match &r.outcome {
                RunOutcome::NotRun => claim_text(r.claim),
                RunOutcome::Ok(m) => format!("ok in {} ms: {m}", r.duration_ms),
                RunOutcome::Failed(m) => format!("FAILED after {} ms: {m}", r.duration_ms),
            };
            s.push_str(&format!(
                "\n  {} #{} {:<14} {outcome}",
                r.tenant, r.starter_id, r.job
            ));
        }
        for f in &pass.failures {
            s.push_str(&format!("\n  {}: FAILED: {}", f.tenant, f.message));
        }
        s
    });
}

/// Runs `xentral-host scheduler`.
pub fn run(env: &super::Env, args: SchedulerArgs) -> Result<(), CliError> {
    let host = env.host()?;
    let workers = args.workers.unwrap_or_else(scheduler::default_workers);
    if args.once {
        print_pass(args.json, &scheduler::run_due(&host, workers));
        return Ok(());
    }
    let interval = Duration::from_secs(args.interval_secs.max(1));
    scheduler::run_forever(&host, workers, interval, |pass| {
        if !pass.runs.is_empty() || !pass.failures.is_empty() {
            print_pass(args.json, pass);
        }
    })
}
