//! Command-line interface: parsing (clap), dispatch, and the one-line errors with hints that
//! operators see. Library code returns typed errors; this is the edge where they become text.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use xentral_host::actions;
use xentral_host::actions::run::RunRequest;
use xentral_host::actions::settings::{RuleChange, SettingsChange};
use xentral_host::report::{
    ArchiveAction, ContactMode, DeleteAction, Job, Side, StageMode, SyncDirection,
};
use xentral_host::secrets::KEY_FILE_ENV;
use xentral_host::tenant::{DataDir, MysqlSetup};
use xentral_host::{
    Connection, HostError, HostKey, Invocation, JobError, KeySource, SystemClock, XentralHost,
};

mod demo;
mod emulator;
mod output;
mod scheduler;
mod serve;
mod stages;
mod starter;
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
    /// The host key file that seals every tenant's secrets; it must live outside the data
    /// directory. Default ~/.config/xentral-host/host.key; XENTRAL_HOST_KEY (64 hex digits)
    /// overrides both.
    #[arg(long, global = true, env = KEY_FILE_ENV, value_name = "PATH")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Where the host keeps its state: what every subcommand needs to open the host.
#[derive(Debug, Clone)]
pub struct Env {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The host key's source.
    pub key: KeySource,
}

impl Env {
    /// The host over the data directory.
    pub fn host(&self) -> Result<XentralHost, CliError> {
        XentralHost::new(
            &self.data_dir,
            HostKey::new(self.key.clone()),
            Arc::new(SystemClock),
        )
        .map_err(CliError::from)
    }

    /// The data directory without the wasm engine (for commands that run no plugin).
    pub fn data(&self) -> Result<DataDir, CliError> {
        let key = HostKey::new(self.key.clone());
        key.check_outside(&self.data_dir)
            .map_err(|e| CliError::from(HostError::from(e)))?;
        Ok(DataDir::new(&self.data_dir, Arc::new(key)))
    }
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
    /// Set a process starter's period and switch it on or off (the plugin's starters only).
    ///
    /// Example: xentral-host starter acme 2 --period 30 --active off
    Starter(starter::StarterArgs),
    /// Retry failing records at the next run instead of at their back-off time (and send
    /// again those HubSpot refused): every failing record, those of one object kind, or the
    /// given ids (as `status` lists them).
    ///
    /// Example: xentral-host retry acme --object contact 4711 4712
    Retry {
        /// The tenant.
        tenant: String,
        /// Only records of this object kind (contact, company, contact-person, deal).
        #[arg(long)]
        object: Option<String>,
        /// The records' ids as `status` lists them; none: every failing record.
        records: Vec<String>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show or set how xentral resubmission stages map to HubSpot deal stages.
    ///
    /// Example: xentral-host stages acme map 7 default:contractsent
    Stages(stages::StagesArgs),
    /// Run the local HubSpot API emulator until Ctrl-C (for trying things out by hand).
    ///
    /// Example: xentral-host hubspot-emulator --tls --ca-out /tmp/hubspot-ca.pem --token pat-eu1-demo --seed-contacts 500 --seed-deals 50
    HubspotEmulator(emulator::EmulatorArgs),
    /// The whole product in one command: a seeded HubSpot emulator and xentral tenant kept in
    /// sync by the scheduler for a few simulated cycles, then both sides compared.
    ///
    /// Example: xentral-host demo --json
    Demo(demo::DemoArgs),
    /// Serve the operator's web console for the tenants of the data directory: the HubSpot
    /// module page per tenant and its sync health (set its password first with `console
    /// password`).
    ///
    /// Example: xentral-host serve --listen 127.0.0.1:8080
    Serve(serve::ServeArgs),
    /// Manage the web console.
    #[command(subcommand)]
    Console(serve::ConsoleCommand),
    /// Manage the host key that seals every tenant's secrets.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Replace the host key: seal every tenant's secrets under a new key, then drop the old
    /// one. Safe to run again after a crash.
    ///
    /// Example: xentral-host key rotate
    Rotate,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant with an empty xentral database.
    ///
    /// Example: xentral-host tenant create acme --db mysql://xentral:PASSWORD@127.0.0.1:3306/acme
    Create {
        /// Name: a-z, 0-9, '-' and '_'.
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Connect an existing tenant to its MariaDB database again: new passwords, or another
    /// plugin account.
    ///
    /// Example: xentral-host tenant set-db acme --db mysql://xentral:PASSWORD@127.0.0.1:3306/acme
    SetDb {
        /// The tenant.
        name: String,
        #[command(flatten)]
        db: DbArgs,
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

#[derive(Debug, Args)]
struct DbArgs {
    /// The tenant's xentral database on MariaDB/MySQL with the host's own account,
    /// mysql://USER[:PASSWORD]@HOST:PORT/DB (created if missing). Without --plugin-db this
    /// account must be allowed to create users: it creates the tenant's plugin account.
    /// Default: a SQLite file.
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// The plugin's own account, prepared by a DBA with exactly the plugin's grants (checked
    /// with SHOW GRANTS; one with more rights is refused), on the same server and database.
    #[arg(long, value_name = "URL", requires = "db")]
    plugin_db: Option<String>,
}

impl DbArgs {
    fn setup(&self) -> Option<MysqlSetup<'_>> {
        self.db.as_deref().map(|database| MysqlSetup {
            database,
            plugin_account: self.plugin_db.as_deref(),
        })
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DirectionArg {
    TwoWay,
    ToXentral,
    ToHubspot,
}

impl From<DirectionArg> for SyncDirection {
    fn from(d: DirectionArg) -> Self {
        match d {
            DirectionArg::TwoWay => SyncDirection::TwoWay,
            DirectionArg::ToXentral => SyncDirection::ToXentral,
            DirectionArg::ToHubspot => SyncDirection::ToHubspot,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ContactModeArg {
    ContactPersons,
    Addresses,
}

impl From<ContactModeArg> for ContactMode {
    fn from(m: ContactModeArg) -> Self {
        match m {
            ContactModeArg::ContactPersons => ContactMode::ContactPersons,
            ContactModeArg::Addresses => ContactMode::Addresses,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ArchiveArg {
    Keep,
    Mark,
}

impl From<ArchiveArg> for ArchiveAction {
    fn from(a: ArchiveArg) -> Self {
        match a {
            ArchiveArg::Keep => ArchiveAction::Keep,
            ArchiveArg::Mark => ArchiveAction::Mark,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DeleteArg {
    Keep,
    Archive,
}

impl From<DeleteArg> for DeleteAction {
    fn from(a: DeleteArg) -> Self {
        match a {
            DeleteArg::Keep => DeleteAction::Keep,
            DeleteArg::Archive => DeleteAction::Archive,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SideArg {
    Xentral,
    Hubspot,
}

impl From<SideArg> for Side {
    fn from(s: SideArg) -> Self {
        match s {
            SideArg::Xentral => Side::Xentral,
            SideArg::Hubspot => Side::Hubspot,
        }
    }
}

/// `FIELD=DIRECTION`, as `--contact-field city=to-xentral` gives it.
fn field_direction(raw: &str) -> Result<(String, DirectionArg), String> {
    let (field, direction) = raw
        .split_once('=')
        .ok_or_else(|| format!("'{raw}' is not FIELD=DIRECTION (e.g. city=to-xentral)"))?;
    let direction = DirectionArg::from_str(direction.trim(), true).map_err(|_| {
        format!("'{direction}' is not a direction: two-way, to-xentral or to-hubspot")
    })?;
    Ok((field.trim().to_owned(), direction))
}

/// The rule change the flags of one object kind give.
fn rule_change(
    direction: Option<DirectionArg>,
    winner: Option<SideArg>,
    fields: Vec<(String, DirectionArg)>,
    on_archive: Option<ArchiveArg>,
    on_delete: Option<DeleteArg>,
) -> RuleChange {
    RuleChange {
        direction: direction.map(Into::into),
        conflict_winner: winner.map(Into::into),
        fields: fields.into_iter().map(|(f, d)| (f, d.into())).collect(),
        on_hubspot_archive: on_archive.map(Into::into),
        on_xentral_delete: on_delete.map(Into::into),
    }
}

#[derive(Debug, Args)]
struct SettingsArgs {
    /// The tenant.
    tenant: String,
    /// HubSpot API base URL; default: the saved one, or https://api.hubapi.com. A new origin
    /// needs --token again.
    #[arg(long)]
    hubspot_url: Option<String>,
    /// A HubSpot private-app access token (sealed by the host, never in the tenant database,
    /// only ever sent to the URL it was saved with).
    #[arg(long, env = "XENTRAL_HUBSPOT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A CA certificate (PEM) to trust besides Mozilla's roots, for a local trial or test
    /// portal such as `xentral-host hubspot-emulator --tls`.
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Synchronise contacts. Every setting not given keeps its saved value (first time: the
    /// old HubSpot module's, else on).
    #[arg(long, value_enum)]
    contacts: Option<OnOff>,
    /// Only contacts created at or after this instant (RFC 3339); "" for every contact.
    #[arg(long)]
    contacts_since: Option<String>,
    /// Only contacts with this lead status (repeat for several); "" for every status.
    #[arg(long = "lead-status")]
    lead_status: Vec<String>,
    /// The xentral group for contacts (default: Hubspot).
    #[arg(long)]
    group: Option<String>,
    /// Synchronise deals (default: on).
    #[arg(long, value_enum)]
    deals: Option<OnOff>,
    /// How deal stages map to resubmission stages (default: automatic).
    #[arg(long, value_enum)]
    stage_mode: Option<StageModeArg>,
    /// Which HubSpot API paths to call: `2026-03` (the default) or `legacy` (the v3/v4 paths
    /// HubSpot stops supporting in 2027). Kept when not given.
    #[arg(long, value_name = "VERSION")]
    api_version: Option<String>,
    /// Which way contacts sync (HubSpot Data Sync): both ways (the default), only HubSpot →
    /// xentral, or only xentral → HubSpot.
    #[arg(long, value_enum)]
    contacts_direction: Option<DirectionArg>,
    /// Whose value stands when a contact field changed on both sides (default: xentral).
    #[arg(long, value_enum)]
    contacts_conflict_winner: Option<SideArg>,
    /// One contact field's own direction, FIELD=DIRECTION (repeat for several;
    /// FIELD=two-way takes it away), e.g. `--contact-field phone=to-hubspot`.
    #[arg(long = "contact-field", value_name = "FIELD=DIRECTION", value_parser = field_direction)]
    contact_field: Vec<(String, DirectionArg)>,
    /// Which way deals sync (default: both ways).
    #[arg(long, value_enum)]
    deals_direction: Option<DirectionArg>,
    /// Whose value stands when a deal field changed on both sides (default: xentral).
    #[arg(long, value_enum)]
    deals_conflict_winner: Option<SideArg>,
    /// One deal field's own direction (name, amount, closedate, stage), FIELD=DIRECTION.
    #[arg(long = "deal-field", value_name = "FIELD=DIRECTION", value_parser = field_direction)]
    deal_field: Vec<(String, DirectionArg)>,
    /// Synchronise HubSpot companies ⇄ xentral company addresses (default: on).
    #[arg(long, value_enum)]
    companies: Option<OnOff>,
    /// Where a synced company's contacts live in xentral: as its contact persons (the
    /// default) or as person addresses of their own.
    #[arg(long, value_enum)]
    contact_mode: Option<ContactModeArg>,
    /// Which way companies sync (default: both ways).
    #[arg(long, value_enum)]
    companies_direction: Option<DirectionArg>,
    /// Whose value stands when a company field changed on both sides (default: xentral).
    #[arg(long, value_enum)]
    companies_conflict_winner: Option<SideArg>,
    /// One company field's own direction, FIELD=DIRECTION.
    #[arg(long = "company-field", value_name = "FIELD=DIRECTION", value_parser = field_direction)]
    company_field: Vec<(String, DirectionArg)>,
    /// What xentral does when HubSpot archives a synced contact: keep the address (the
    /// default; the link ends) or mark it deleted.
    #[arg(long, value_enum)]
    contacts_on_archive: Option<ArchiveArg>,
    /// What HubSpot gets when a synced address is deleted in xentral: nothing (keep, the
    /// default; the link ends) or the contact archived.
    #[arg(long, value_enum)]
    contacts_on_delete: Option<DeleteArg>,
    /// What xentral does when HubSpot archives a synced company (keep or mark).
    #[arg(long, value_enum)]
    companies_on_archive: Option<ArchiveArg>,
    /// What HubSpot gets when a synced company address is deleted in xentral (keep or
    /// archive).
    #[arg(long, value_enum)]
    companies_on_delete: Option<DeleteArg>,
    /// What xentral does when HubSpot archives a synced deal: keep the resubmission or mark
    /// it closed.
    #[arg(long, value_enum)]
    deals_on_archive: Option<ArchiveArg>,
    /// What HubSpot gets when a synced resubmission is removed in xentral (keep or archive).
    #[arg(long, value_enum)]
    deals_on_delete: Option<DeleteArg>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl SettingsArgs {
    /// What the flags change; every flag not given keeps its saved value.
    fn change(&self) -> SettingsChange {
        SettingsChange {
            contacts: self.contacts.map(|c| matches!(c, OnOff::On)),
            contacts_since: self.contacts_since.clone(),
            lead_statuses: (!self.lead_status.is_empty()).then(|| self.lead_status.clone()),
            group: self.group.clone(),
            deals: self.deals.map(|c| matches!(c, OnOff::On)),
            stage_mode: self.stage_mode.map(|m| match m {
                StageModeArg::Automatic => StageMode::Automatic,
                StageModeArg::UserDefined => StageMode::UserDefined,
            }),
            api_version: self.api_version.clone(),
            companies: self.companies.map(|c| matches!(c, OnOff::On)),
            contact_mode: self.contact_mode.map(Into::into),
            contact_rule: rule_change(
                self.contacts_direction,
                self.contacts_conflict_winner,
                self.contact_field.clone(),
                self.contacts_on_archive,
                self.contacts_on_delete,
            ),
            company_rule: rule_change(
                self.companies_direction,
                self.companies_conflict_winner,
                self.company_field.clone(),
                self.companies_on_archive,
                self.companies_on_delete,
            ),
            deal_rule: rule_change(
                self.deals_direction,
                self.deals_conflict_winner,
                self.deal_field.clone(),
                self.deals_on_archive,
                self.deals_on_delete,
            ),
        }
    }
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
    /// Take over the job's lock even though its holder may still run (a lock left by a
    /// crashed run on another machine); a holder that died on this machine needs no force.
    #[arg(long, conflicts_with = "dry_run")]
    force: bool,
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

/// Log targets that stay off at every level, whatever `RUST_LOG` says: the HTTP, TLS and
/// database clients' wire-level logging would print request headers — the injected
/// `Authorization: Bearer …` among them, as text or hex dumps — and connection handshakes.
const SILENCED_TARGETS: &[&str] = &[
    "ureq",
    "ureq_proto",
    "rustls",
    "hyper",
    "hyper_util",
    "h2",
    "mysql",
    "mysql_common",
    "axum_server",
    "tokio_rustls",
];

/// The wasm compiler's targets, held at `warn`: at `trace` they print millions of lines per
/// compile, which would drown everything else.
const COMPILER_TARGETS: &[&str] = &[
    "cranelift_codegen",
    "cranelift_frontend",
    "regalloc2",
    "wasmtime_internal_cranelift",
    "wasmtime_internal_environ",
    "wasmparser",
];

fn init_tracing() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let directives = SILENCED_TARGETS
        .iter()
        .map(|t| format!("{t}=off"))
        .chain(COMPILER_TARGETS.iter().map(|t| format!("{t}=warn")));
    for directive in directives {
        filter = filter.add_directive(directive.parse().expect("a static directive parses"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    let env = Env {
        data_dir: cli.data_dir.clone(),
        key: KeySource::from_environment(cli.key_file.clone()),
    };
    match cli.command {
        Command::Tenant(TenantCommand::Create { name, db }) => {
            let host = env.host()?;
            let tenant = host.create_tenant_on(&name, db.setup())?;
            output::line(format_args!(
                "created tenant '{}' ({})",
                tenant.name(),
                tenant.database_location()
            ));
            Ok(())
        }
        Command::Tenant(TenantCommand::SetDb { name, db }) => {
            let Some(setup) = db.setup() else {
                return Err(CliError::new(
                    ExitKind::Config,
                    "give the database with --db mysql://USER:PASSWORD@HOST:PORT/DB",
                ));
            };
            let host = env.host()?;
            let tenant = host.set_tenant_database(&name, setup)?;
            output::line(format_args!(
                "tenant '{}' now uses {}",
                tenant.name(),
                tenant.database_location()
            ));
            Ok(())
        }
        Command::Key(KeyCommand::Rotate) => {
            let (id, sealed) = env
                .data()?
                .rotate_key()
                .map_err(|e| CliError::from(HostError::from(e)))?;
            output::line(format_args!(
                "the host key is now {id}; {sealed} secret(s) sealed again"
            ));
            Ok(())
        }
        Command::Tenant(TenantCommand::List { json }) => {
            let names = env
                .data()?
                .tenant_names()
                .map_err(|e| CliError::from(HostError::from(e)))?;
            if json {
                output::line(format_args!("{}", serde_json::json!({ "tenants": names })));
            } else if names.is_empty() {
                output::line(format_args!("no tenants in {}", cli.data_dir.display()));
            } else {
                for n in names {
                    output::line(format_args!("{n}"));
                }
            }
            Ok(())
        }
        Command::Settings(args) => {
            let host = env.host()?;
            let ca_pem = args
                .ca_file
                .as_ref()
                .map(|path| {
                    std::fs::read_to_string(path).map_err(|e| {
                        CliError::new(
                            ExitKind::Config,
                            format!("cannot read the CA file {}: {e}", path.display()),
                        )
                    })
                })
                .transpose()?;
            let change = args.change();
            let inv = actions::settings::save_settings(
                &host,
                &args.tenant,
                &Connection {
                    hubspot_url: args.hubspot_url.as_deref(),
                    token: args.token.as_deref(),
                    extra_ca_pem: ca_pem.as_deref(),
                },
                &change,
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
            let host = env.host()?;
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
            let host = env.host()?;
            let request = RunRequest {
                job: args.job,
                max_requests: args.max_requests,
                dry_run: args.dry_run,
                force: args.force,
            };
            let report = finish(actions::run::run_job(&host, &args.tenant, &request)?)?;
            output::print(args.json, &report, || output::job_report_text(&report));
            Ok(())
        }
        Command::Retry {
            tenant,
            object,
            records,
            json,
        } => {
            let host = env.host()?;
            let n = finish(host.retry_now(&tenant, object.as_deref(), &records)?)?;
            let value = serde_json::json!({ "retried": n });
            output::print(json, &value, || {
                format!("{n} failing record(s) will be retried by the next run")
            });
            Ok(())
        }
        Command::Xentral(args) => xentral::run(&env, args),
        Command::Scheduler(args) => scheduler::run(&env, args),
        Command::Status(args) => status::run(&env, args),
        Command::Stages(args) => stages::run(&env, args),
        Command::Starter(args) => starter::run(&env, args),
        Command::HubspotEmulator(args) => emulator::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Serve(args) => serve::serve(&env, args),
        Command::Console(command) => serve::console(&env, command),
    }
}

/// Turns a finished invocation into its value or the CLI error for its failure.
fn finish<T>(inv: Invocation<T>) -> Result<T, CliError> {
    inv.result.map_err(|e| match &e {
        JobError::Plugin(p) => CliError::from_plugin(p),
        _ => CliError::new(ExitKind::JobFailed, e.to_string()),
    })
}
