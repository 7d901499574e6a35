//! `xentral-host status TENANT`: what a tenant's sync is doing, as text or JSON. The report is
//! [`actions::status`]'s; a new section is a field there plus one entry in [`sections`].

use chrono::{DateTime, Utc};
use clap::Args;
use xentral_host::actions::{self, status::StatusReport};
use xentral_host::runlog::RunResult;
use xentral_host::scheduler::{SchedulerError, StarterStatus};
use xentral_host::sync_health::SyncHealth;

use super::output::{self, CliError, ExitKind};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The tenant.
    tenant: String,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// The sections for people: title and body. A new section of [`StatusReport`] gets its
/// text here.
fn sections(report: &StatusReport) -> Vec<(&'static str, String)> {
    vec![
        (
            "Sync health",
            match &report.sync {
                Ok(h) => health_text(h),
                Err(e) => format!("  unavailable: {e}"),
            },
        ),
        (
            "Process starters",
            starters_text(&report.starters, report.now),
        ),
    ]
}

fn text(report: &StatusReport) -> String {
    let mut out = format!(
        "tenant {} at {} UTC",
        report.tenant,
        report.now.format("%Y-%m-%d %H:%M:%S")
    );
    for (title, body) in sections(report) {
        out.push_str(&format!("\n\n{title}\n{body}"));
    }
    out
}

impl From<SchedulerError> for CliError {
    fn from(e: SchedulerError) -> Self {
        match e {
            SchedulerError::Host(h) => CliError::from(h),
            other => CliError::new(ExitKind::Config, other.to_string()),
        }
    }
}

/// Runs `xentral-host status`.
pub fn run(env: &super::Env, args: StatusArgs) -> Result<(), CliError> {
    let host = env.host()?;
    let report = actions::status::status(&host, &args.tenant)?;
    output::print(args.json, &report, || text(&report));
    Ok(())
}

fn health_text(h: &SyncHealth) -> String {
    if !h.connected {
        return "  not connected: run `xentral-host settings TENANT --token …` first".into();
    }
    let mut out = String::new();
    for o in &h.objects {
        let name = format!("{}s", o.object);
        let failing: u32 = o.failing.iter().map(|f| f.count).sum();
        let excluded: u32 = o.excluded.values().sum();
        out.push_str(&format!(
            "  {name:<9} in sync {:>7}   excluded {excluded:>5}   failing {failing:>4}\n",
            o.in_sync
        ));
        for (reason, n) in &o.excluded {
            out.push_str(&format!("            excluded {n:>5}: {reason}\n"));
        }
        if o.conflicts_kept > 0 {
            out.push_str(&format!(
                "            conflicts {:>4} kept, newest first:\n",
                o.conflicts_kept
            ));
        }
        for c in &o.recent_conflicts {
            out.push_str(&format!(
                "            {} {} ⇄ {}: {} — xentral {:?}, HubSpot {:?}; {} won\n",
                time(Some(xentral_erp::mysql_compat::instant_from_millis(
                    c.at_ms
                ))),
                c.xentral_id,
                c.hubspot_id,
                c.field,
                c.xentral_value,
                c.hubspot_value,
                c.winner
            ));
        }
        for e in &o.ended {
            let pairs: Vec<String> = e
                .records
                .iter()
                .map(|r| format!("{} ⇄ {}", r.hubspot_id, r.xentral_id))
                .collect();
            out.push_str(&format!(
                "            ended    {:>5}{}: {} — {}\n",
                e.count,
                if e.needs_action { " (needs you)" } else { "" },
                e.reason,
                pairs.join(", ")
            ));
        }
        for f in o.failing.iter().filter(|f| f.needs_change) {
            out.push_str(&format!(
                "            needs a change {:>3} (HubSpot refused them as they are; sent again once they change in xentral or HubSpot): {} — ids {}\n",
                f.count,
                f.error,
                f.records.join(", ")
            ));
        }
        for f in o.failing.iter().filter(|f| !f.needs_change) {
            out.push_str(&format!(
                "            failing  {:>5} ({}, {} attempts, next retry {}): {} — ids {}\n",
                f.count,
                f.direction,
                f.attempts,
                time(Some(xentral_erp::mysql_compat::instant_from_millis(
                    f.next_retry_ms
                ))),
                f.error,
                f.records.join(", ")
            ));
        }
    }
    out.push_str(&format!(
        "  queue     {} pending ({} waiting for a retry)",
        h.queue.pending, h.queue.retrying
    ));
    out
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "never".into(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn starters_text(starters: &[StarterStatus], now: DateTime<Utc>) -> String {
    if starters.is_empty() {
        return "  none (they are created by `xentral-host settings`)".into();
    }
    let mut rows = vec![
        [
            "ID",
            "PARAMETER",
            "ACTIVE",
            "EVERY",
            "LAST ATTEMPT (UTC)",
            "LAST RUN (UTC)",
            "DURATION",
            "OUTCOME",
            "LOCK",
            "NEXT DUE (UTC)",
            "STATUS",
        ]
        .map(String::from),
    ];
    for s in starters {
        let (last, duration, outcome) = match &s.last_run {
            Some(r) => (
                time(Some(r.started)),
                format!("{} ms", r.duration_ms),
                format!(
                    "{}{}",
                    match r.outcome {
                        RunResult::Ok => "ok",
                        RunResult::Failed => "FAILED",
                    },
                    if r.manual { " (by hand)" } else { "" }
                ),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let lock = match (s.locked, s.lock_stale) {
            (false, _) => "free".to_owned(),
            (true, false) => format!("held ({})", s.lock_counter),
            (true, true) => format!("stale ({})", s.lock_counter),
        };
        let next = match s.next_due {
            Some(t) if t <= now => "now".to_owned(),
            other => time(other).replace("never", "-"),
        };
        rows.push([
            s.id.to_string(),
            s.parameter.clone(),
            if s.aktiv { "yes" } else { "no" }.into(),
            format!("{} min", s.period_minutes),
            time(s.last_attempt),
            last,
            duration,
            outcome,
            lock,
            next,
            s.status.clone(),
        ]);
    }
    table(&rows)
}

/// Left-aligned columns, two spaces apart, indented by two; the last column is not padded.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (cell, w))| {
                    if i + 1 == N {
                        cell.clone()
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            format!("  {}", cells.join("  ").trim_end())
        })
        .collect::<Vec<_>>()
        .join("\n")
}
