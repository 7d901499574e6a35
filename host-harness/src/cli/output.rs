//! How results and errors are printed: text for people, `--json` for scripts, one line per
//! error with a hint, and documented exit codes.

use serde::Serialize;
use xentral_host::report::{JobReport, PluginError};
use xentral_host::secrets::{KEY_ENV, SecretError};
use xentral_host::tenant::{DB_PASSWORD_SECRET, PLUGIN_DB_PASSWORD_SECRET, TenantError};
use xentral_host::{HUBSPOT_CREDENTIAL, HostError};

/// Exit codes, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// 1: a job ran and failed (trap, limit, HubSpot or database failure).
    JobFailed,
    /// 3: the tenant or its configuration is missing or invalid.
    Config,
    /// 4: HubSpot rejected the credential.
    Auth,
    /// 5: HubSpot or the network could not be reached, or rate limits stopped the job.
    Unavailable,
    /// 6: another run holds the job's lock.
    Locked,
}

impl ExitKind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitKind::JobFailed => 1,
            ExitKind::Config => 3,
            ExitKind::Auth => 4,
            ExitKind::Unavailable => 5,
            ExitKind::Locked => 6,
        }
    }
}

/// An error as the operator sees it.
#[derive(Debug)]
pub struct CliError {
    /// Exit code class.
    pub kind: ExitKind,
    /// One line.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl CliError {
    /// An error without a hint.
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        CliError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The CLI error for a plugin failure.
    pub fn from_plugin(p: &PluginError) -> Self {
        match p {
            PluginError::Unauthorized(m) => CliError::new(ExitKind::Auth, m.clone())
                .hint("check the token with `xentral-host settings TENANT --token …`"),
            PluginError::NotConfigured(m) | PluginError::InvalidSettings(m) => {
                CliError::new(ExitKind::Config, m.clone())
            }
            PluginError::Hubspot(m) => CliError::new(ExitKind::Unavailable, m.clone())
                .hint("check --hubspot-url and that HubSpot is reachable from this host"),
            PluginError::RateLimited(m) => CliError::new(ExitKind::Unavailable, m.clone()).hint(
                "HubSpot's daily API limit is used up; the next run after midnight continues",
            ),
            PluginError::Database(m) => CliError::new(ExitKind::JobFailed, m.clone()),
        }
    }
}

impl From<HostError> for CliError {
    fn from(e: HostError) -> Self {
        match &e {
            HostError::Tenant(TenantError::Unknown(name)) => {
                CliError::new(ExitKind::Config, e.to_string()).hint(format!(
                    "create it with `xentral-host tenant create {name}` or list tenants with `xentral-host tenant list`"
                ))
            }
            HostError::Tenant(TenantError::Exists(_)) => {
                CliError::new(ExitKind::Config, e.to_string())
                    .hint("choose another name, or use the existing tenant")
            }
            HostError::Tenant(TenantError::Secrets(SecretError::Undecryptable {
                tenant,
                names,
                ..
            })) => {
                let mut steps: Vec<String> = Vec::new();
                if names.iter().any(|n| n == HUBSPOT_CREDENTIAL) {
                    steps.push(format!(
                        "the HubSpot token with `xentral-host settings {tenant} --token …`"
                    ));
                }
                if names
                    .iter()
                    .any(|n| n == DB_PASSWORD_SECRET || n == PLUGIN_DB_PASSWORD_SECRET)
                {
                    steps.push(format!(
                        "the database with `xentral-host tenant set-db {tenant} --db mysql://USER:PASSWORD@HOST:PORT/DB`"
                    ));
                }
                CliError::new(ExitKind::Config, e.to_string()).hint(format!(
                    "point --key-file (or {KEY_ENV}) at the key they were saved with, or re-enter {}",
                    steps.join(" and ")
                ))
            }
            HostError::Tenant(TenantError::NoPluginAccount(name)) => {
                CliError::new(ExitKind::Config, e.to_string()).hint(format!(
                    "create it with `xentral-host tenant set-db {name} --db mysql://USER:PASSWORD@HOST:PORT/DB` (an account that may create users), or pass a prepared one with --plugin-db"
                ))
            }
            HostError::Tenant(_) | HostError::Invalid(_) => {
                CliError::new(ExitKind::Config, e.to_string())
            }
            HostError::Origin(_) => CliError::new(ExitKind::Config, e.to_string()).hint(
                "use the https:// URL; plain http:// is only for an emulator on this machine",
            ),
            HostError::TokenForOtherOrigin { .. } | HostError::NoToken => {
                CliError::new(ExitKind::Config, e.to_string()).hint(
                    "xentral-host settings TENANT --hubspot-url URL --token pat-… (HubSpot: Settings → Integrations → Private Apps)",
                )
            }
            HostError::Key(_) => CliError::new(ExitKind::Config, e.to_string()).hint(format!(
                "choose the key file with --key-file PATH (outside the data directory), or set {KEY_ENV}"
            )),
            HostError::Sandbox(_) => CliError::new(ExitKind::JobFailed, e.to_string()),
            HostError::Locked { .. } => CliError::new(ExitKind::Locked, e.to_string()).hint(
                "wait for it to finish (`xentral-host status TENANT` shows the lock); a lock whose process died on this machine is free at once, one left on another machine is taken over after three scheduled attempts, or now with `run … --force` once you know that run is gone",
            ),
        }
    }
}

/// Prints one line on stdout. A reader that went away (`xentral-host status | head`) ends the
/// command quietly, as a closed pipe ends any Unix tool; any other write error is reported.
pub fn line(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: could not write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Prints `value` as JSON or as the text `text` builds.
pub fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        line(format_args!(
            "{}",
            serde_json::to_string_pretty(value).expect("reports serialise")
        ));
    } else {
        line(format_args!("{}", text()));
    }
}

/// A job report for people.
pub fn job_report_text(r: &JobReport) -> String {
    let mut out = format!("{}:", r.job);
    for (side, s) in [("xentral", &r.xentral), ("HubSpot", &r.hubspot)] {
        out.push_str(&format!(
            "\n  {side:<8} created {}, updated {}, unchanged {}, conflicts {}, failed {}",
            s.created, s.updated, s.unchanged, s.conflicts, s.failed
        ));
        for c in &s.excluded {
            out.push_str(&format!("\n           excluded {}: {}", c.count, c.reason));
        }
    }
    out.push_str(&format!("\n  API calls {}", r.total_api_calls()));
    for c in &r.api_calls {
        out.push_str(&format!("\n    {:>5}  {}", c.count, c.reason));
    }
    if r.pending {
        out.push_str("\n  more work is pending for the next run");
    }
    for m in &r.messages {
        out.push_str(&format!("\n  note: {m}"));
    }
    out
}
