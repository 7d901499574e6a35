//! Command-line interface: parsing (clap), dispatch, and the one-line errors with hints that
//! operators see. Library code returns typed errors; this is the edge where they become text.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use xentral_host::report::{Budget, Job, Settings, StageMode};
use xentral_host::{HUBSPOT_CREDENTIAL, HostError, Invocation, JobError, SystemClock, XentralHost};

mod demo;
mod emulator;
mod output;
mod scheduler;
mod stages;
mod status;
mod xentral;

use output::{CliError, ExitKind};

/// Runs the xentral ⇄ HubSpot sync plugin for xentral tenants, sandboxed.
#[derive(Debug, Parser)]
#[command(name = "xentral-host", version, about, long_about = None)]
struct Cli {
    /// Directory holding tenants and the compiled-plugin cache.
    #[arg(
        long,
        global = true,
        env = "XENTRAL_HOST_DATA",
        default_value = "./xentral-data"
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create and list tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Connect a tenant to HubSpot and save its sync settings.
    ///
    /// Example: xentral-host settings acme --hubspot-url https://api.hubapi.com --token pat-eu1-…
    Settings(SettingsArgs),
    /// Fetch lead statuses, lifecycle stages and deal pipelines from HubSpot (the Refresh button).
    ///
    /// Example: xentral-host refresh acme
    Refresh {
        /// The tenant.
        tenant: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run one sync job for a tenant now.
    ///
    /// Example: xentral-host run acme sync-contacts --json
    Run(RunArgs),
    /// Act as a xentral user: add, edit and delete addresses, groups and resubmissions; every
    /// save fires the plugin's save hook once.
    ///
    /// Example: xentral-host xentral acme address add --vorname Ada --nachname Lovelace --email ada@example.com --group Hubspot --lead
    Xentral(xentral::XentralArgs),
    /// Run the due process starters of every tenant, as xentral's cron does.
    ///
    /// Example: xentral-host scheduler --once --workers 4
    Scheduler(scheduler::SchedulerArgs),
    /// Show a tenant's process starters: last run, duration, outcome, lock and next due time.
    ///
    /// Example: xentral-host status acme --json
    Status(status::StatusArgs),
    /// Show or set how xentral resubmission stages map to HubSpot deal stages.
    ///
    /// Example: xentral-host stages acme map 7 default:contractsent
    Stages(stages::StagesArgs),
    /// Run the local HubSpot API emulator until Ctrl-C (for trying things out by hand).
    ///
    /// Example: xentral-host hubspot-emulator --listen 127.0.0.1:8099 --token demo-token --seed-contacts 500 --seed-deals 50
    HubspotEmulator(emulator::EmulatorArgs),
    /// The whole product in one command: a seeded HubSpot emulator and xentral tenant kept in
    /// sync by the scheduler for a few simulated cycles, then both sides compared.
    ///
    /// Example: xentral-host demo --json
    Demo(demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant with an empty xentral database.
    ///
    /// Example: xentral-host tenant create acme --db mysql://xentral@127.0.0.1:3306/acme
    Create {
        /// Name: a-z, 0-9, '-' and '_'.
        name: String,
        /// The tenant's xentral database on MariaDB/MySQL, mysql://USER[:PASSWORD]@HOST:PORT/DB
        /// (created if missing; the password is kept as a secret). Default: a SQLite file.
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// List tenants.
    ///
    /// Example: xentral-host tenant list --json
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StageModeArg {
    Automatic,
    UserDefined,
}

#[derive(Debug, Args)]
struct SettingsArgs {
    /// The tenant.
    tenant: String,
    /// HubSpot API base URL.
    #[arg(long, default_value = "https://api.hubapi.com")]
    hubspot_url: String,
    /// A HubSpot private-app access token (kept by the host, never in the tenant database).
    #[arg(long, env = "XENTRAL_HUBSPOT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Synchronise contacts.
    #[arg(long, value_enum, default_value = "on")]
    contacts: OnOff,
    /// Only contacts created at or after this instant (RFC 3339).
    #[arg(long)]
    contacts_since: Option<String>,
    /// Only contacts with this lead status (repeat for several).
    #[arg(long = "lead-status")]
    lead_status: Vec<String>,
    /// The xentral group for contacts.
    #[arg(long, default_value = "Hubspot")]
    group: String,
    /// Synchronise deals.
    #[arg(long, value_enum, default_value = "on")]
    deals: OnOff,
    /// How deal stages map to resubmission stages.
    #[arg(long, value_enum, default_value = "automatic")]
    stage_mode: StageModeArg,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The tenant.
    tenant: String,
    /// process-queue, sync-contacts or sync-deals.
    job: Job,
    /// Stop after this many HubSpot requests.
    #[arg(long)]
    max_requests: Option<u32>,
    /// Report what would change without writing anything anywhere.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            if let Some(hint) = &e.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.kind.code())
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn host(data_dir: &Path) -> Result<XentralHost, CliError> {
    XentralHost::new(data_dir, Arc::new(SystemClock)).map_err(CliError::from)
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Tenant(TenantCommand::Create { name, db }) => {
            let host = host(&cli.data_dir)?;
            let tenant = host.create_tenant_on(&name, db.as_deref())?;
            println!(
                "created tenant '{}' ({})",
                tenant.name(),
                tenant.database_location()
            );
            Ok(())
        }
        Command::Tenant(TenantCommand::List { json }) => {
            let names = xentral_host::tenant::DataDir::new(&cli.data_dir)
                .tenant_names()
                .map_err(|e| CliError::from(HostError::from(e)))?;
            if json {
                println!("{}", serde_json::json!({ "tenants": names }));
            } else if names.is_empty() {
                println!("no tenants in {}", cli.data_dir.display());
            } else {
                for n in names {
                    println!("{n}");
                }
            }
            Ok(())
        }
        Command::Settings(args) => {
            let host = host(&cli.data_dir)?;
            let settings = Settings {
                hubspot_url: args.hubspot_url.trim_end_matches('/').to_owned(),
                credential: HUBSPOT_CREDENTIAL.into(),
                contacts: matches!(args.contacts, OnOff::On),
                contacts_since: args.contacts_since,
                lead_statuses: args.lead_status,
                group: args.group,
                deals: matches!(args.deals, OnOff::On),
                stage_mode: match args.stage_mode {
                    StageModeArg::Automatic => StageMode::Automatic,
                    StageModeArg::UserDefined => StageMode::UserDefined,
                },
            };
            let inv = host.configure(
                &args.tenant,
                &settings.hubspot_url,
                args.token.as_deref(),
                &settings,
            )?;
            let report = finish(inv)?;
            output::print(args.json, &report, || {
                let mut s = report.message.clone();
                for c in &report.changes {
                    s.push_str(&format!("\n  - {c}"));
                }
                for w in &report.warnings {
                    s.push_str(&format!("\n  ! {w}"));
                }
                s
            });
            Ok(())
        }
        Command::Refresh { tenant, json } => {
            let host = host(&cli.data_dir)?;
            let report = finish(host.refresh(&tenant)?)?;
            output::print(json, &report, || {
                format!(
                    "{} lead statuses, {} lifecycle stages, {} pipelines with {} stages; {} change(s)",
                    report.lead_statuses,
                    report.lifecycle_stages,
                    report.pipelines,
                    report.stages,
                    report.changes.len()
                )
            });
            Ok(())
        }
        Command::Run(args) => {
            let host = host(&cli.data_dir)?;
            let budget = Budget {
                deadline_ms: None,
                max_requests: args.max_requests,
                dry_run: args.dry_run,
            };
            let report = finish(host.run_job_exclusive(&args.tenant, args.job, budget)?)?;
            output::print(args.json, &report, || output::job_report_text(&report));
            Ok(())
        }
        Command::Xentral(args) => xentral::run(&cli.data_dir, args),
        Command::Scheduler(args) => scheduler::run(&cli.data_dir, args),
        Command::Status(args) => status::run(&cli.data_dir, args),
        Command::Stages(args) => stages::run(&cli.data_dir, args),
        Command::HubspotEmulator(args) => emulator::run(args),
        Command::Demo(args) => demo::run(args),
    }
}

/// Turns a finished invocation into its value or the CLI error for its failure.
fn finish<T>(inv: Invocation<T>) -> Result<T, CliError> {
    inv.result.map_err(|e| match &e {
        JobError::Plugin(p) => CliError::from_plugin(p),
        _ => CliError::new(ExitKind::JobFailed, e.to_string()),
    })
}
