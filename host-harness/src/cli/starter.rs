//! `xentral-host starter TENANT ID`: a process starter's period and switch.

use clap::Args;
use xentral_host::actions::starters::{self, StarterChange, StarterError};

use super::OnOff;
use super::output::{self, CliError, ExitKind};

/// Arguments of `starter`.
#[derive(Debug, Args)]
pub struct StarterArgs {
    /// The tenant.
    tenant: String,
    /// The starter's id (`xentral-host status TENANT` lists them).
    id: i64,
    /// Minutes between runs (1 to a week).
    #[arg(long, value_name = "MINUTES")]
    period: Option<u32>,
    /// Switch the starter on or off.
    #[arg(long, value_enum)]
    active: Option<OnOff>,
    /// Print the change as JSON.
    #[arg(long)]
    json: bool,
}

impl From<StarterError> for CliError {
    fn from(e: StarterError) -> Self {
        match e {
            StarterError::Host(h) => CliError::from(h),
            StarterError::Unknown { ref tenant, .. } => {
                let hint = format!("`xentral-host status {tenant}` lists its process starters");
                CliError::new(ExitKind::Config, e.to_string()).hint(hint)
            }
            other => CliError::new(ExitKind::Config, other.to_string()),
        }
    }
}

/// Runs `starter`.
pub fn run(env: &super::Env, args: StarterArgs) -> Result<(), CliError> {
    if args.period.is_none() && args.active.is_none() {
        return Err(CliError::new(
            ExitKind::Config,
            "give --period MINUTES, --active on|off, or both",
        ));
    }
    let host = env.host()?;
    let change = StarterChange {
        period_minutes: args.period,
        active: args.active.map(|a| matches!(a, OnOff::On)),
    };
    let changed = starters::change_schedule(&host, &args.tenant, args.id, change)?;
    output::print(args.json, &changed, || changed.message());
    Ok(())
}
