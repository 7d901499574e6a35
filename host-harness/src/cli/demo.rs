//! `xentral-host demo`: the whole product in one command, with progress bars and a summary.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
mod scenario;
mod verify;

use scenario::{self as demo, DemoConfig, DemoReport, Step};

use super::output::{self, CliError, ExitKind};

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print the summary as one JSON document.
    #[arg(long)]
    json: bool,
    /// HubSpot contacts to seed.
    #[arg(long, default_value_t = 2_000)]
    contacts: usize,
    /// HubSpot deals to seed.
    #[arg(long, default_value_t = 300)]
    deals: usize,
    /// HubSpot companies to seed.
    #[arg(long, default_value_t = 150)]
    companies: usize,
    /// xentral addresses to seed.
    #[arg(long, default_value_t = 500)]
    addresses: usize,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<(), CliError> {
    let dir = tempfile::tempdir()
        .map_err(|e| CliError::new(ExitKind::JobFailed, format!("no temporary directory: {e}")))?;
    let config = DemoConfig {
        contacts: args.contacts,
        deals: args.deals,
        companies: args.companies,
        addresses: args.addresses,
        shared_emails: (args.addresses / 5).min(args.contacts),
        ..DemoConfig::default()
    };
    let started = std::time::Instant::now();
    let mut bar: Option<ProgressBar> = None;
    let quiet = args.json;
    let mut progress = |step: Step| {
        if quiet {
            return;
        }
        match step {
            Step::Phase(name, len) => {
                if let Some(b) = bar.take() {
                    b.finish();
                }
                let b = ProgressBar::new(len);
                b.set_style(
                    ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                b.set_prefix(name);
                bar = Some(b);
            }
            Step::Tick => {
                if let Some(b) = &bar {
                    b.inc(1);
                }
            }
            Step::Note(n) => match &bar {
                Some(b) => b.println(format!("  · {n}")),
                None => eprintln!("  · {n}"),
            },
        }
    };
    let report = demo::run(dir.path(), &config, &mut progress)
        .map_err(|e| CliError::new(ExitKind::JobFailed, format!("the demo failed: {e}")))?;
    if let Some(b) = bar.take() {
        b.finish();
    }
    if args.json {
        output::line(format_args!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serialises")
        ));
    } else {
        output::line(format_args!("{}", summary(&report, started.elapsed())));
    }
    if report.comparison.mismatches > 0 {
        return Err(CliError::new(
            ExitKind::JobFailed,
            format!(
                "{} records differ between xentral and HubSpot",
                report.comparison.mismatches
            ),
        ));
    }
    Ok(())
}

fn summary(r: &DemoReport, elapsed: std::time::Duration) -> String {
    let mut out = String::new();
    out.push_str("\nxentral ⇄ HubSpot demo\n");
    out.push_str(&format!(
        "\n  {:<28} {:>10} {:>10}\n",
        "", "before", "after"
    ));
    for (label, b, a) in [
        (
            "HubSpot contacts",
            r.before.hubspot_contacts as i64,
            r.after.hubspot_contacts as i64,
        ),
        (
            "HubSpot deals",
            r.before.hubspot_deals as i64,
            r.after.hubspot_deals as i64,
        ),
        (
            "HubSpot companies",
            r.before.hubspot_companies as i64,
            r.after.hubspot_companies as i64,
        ),
        (
            "xentral addresses (group)",
            r.before.xentral_addresses,
            r.after.xentral_addresses,
        ),
        (
            "xentral company addresses",
            r.before.xentral_companies,
            r.after.xentral_companies,
        ),
        (
            "xentral contact persons",
            r.before.xentral_contact_persons,
            r.after.xentral_contact_persons,
        ),
        (
            "xentral resubmissions",
            r.before.xentral_resubmissions,
            r.after.xentral_resubmissions,
        ),
    ] {
        out.push_str(&format!("  {label:<28} {b:>10} {a:>10}\n"));
    }
    out.push_str(&format!(
        "\n  {} scheduled jobs over {} simulated minutes ({} failed as a whole)\n",
        r.jobs.jobs, r.simulated_minutes, r.jobs.failed_jobs
    ));
    for (side, s) in [
        ("written to xentral", &r.jobs.xentral),
        ("written to HubSpot", &r.jobs.hubspot),
    ] {
        out.push_str(&format!(
            "  {side:<20} created {:>5}  updated {:>5}  conflicts {:>3}  failed {:>3} (retried)\n",
            s.created, s.updated, s.conflicts, s.failed
        ));
        for (reason, n) in &s.excluded {
            out.push_str(&format!("  {:<20} excluded {n:>5}: {reason}\n", ""));
        }
    }
    out.push_str(&format!(
        "\n  API calls {} ({} refused with 429 during the fault burst); under HubSpot's rate windows they need at least {:.1} s\n",
        r.api_calls_total, r.rate_limited, r.rate_limit_floor_s
    ));
    out.push_str(&format!(
        "\n  compared {} contact ⇄ address, {} contact ⇄ contact person, {} company and {} deal pairs: {} mismatching records\n",
        r.comparison.contacts_compared,
        r.comparison.persons_compared,
        r.comparison.companies_compared,
        r.comparison.deals_compared,
        r.comparison.mismatches
    ));
    if !r.ended.is_empty() {
        out.push_str(
            "\n  links that ended (sync health lists them; left out of the comparison):\n",
        );
        for e in &r.ended {
            out.push_str(&format!(
                "    {:<15} {:>4}  {}{}\n",
                e.object,
                e.count,
                e.reason,
                if e.needs_action { " (needs you)" } else { "" }
            ));
        }
    }
    if r.comparison.countries_not_written > 0 {
        out.push_str(&format!(
            "  ({} HubSpot countries not in xentral's country list were left empty there, as the sync's notes say)\n",
            r.comparison.countries_not_written
        ));
    }
    for e in &r.comparison.examples {
        out.push_str(&format!("    - {e}\n"));
    }
    out.push_str(&format!("\n  finished in {:.1} s\n", elapsed.as_secs_f64()));
    out
}
