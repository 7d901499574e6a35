//! `xentral-host stages TENANT list|map`: the deal-stage mapping, both sides.

use clap::{Args, Subcommand};
use xentral_host::actions;
use xentral_host::actions::stages::MapStageError;

use super::output::{self, CliError, ExitKind};

/// Arguments of `stages`.
#[derive(Debug, Args)]
pub struct StagesArgs {
    /// The tenant.
    tenant: String,
    #[command(subcommand)]
    action: StagesAction,
}

#[derive(Debug, Subcommand)]
enum StagesAction {
    /// Show xentral's resubmission stages, HubSpot's deal stages, and what is unmapped.
    ///
    /// Example: xentral-host stages acme list
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Map one xentral stage to a HubSpot stage (user-defined mode).
    ///
    /// Example: xentral-host stages acme map 7 default:contractsent
    Map {
        /// The xentral stage (`wiedervorlage_stages.id`).
        xentral_stage: i64,
        /// The HubSpot stage as PIPELINE_ID:STAGE_ID.
        target: String,
    },
}

/// Runs `stages`.
pub fn run(env: &super::Env, args: StagesArgs) -> Result<(), CliError> {
    let host = env.host()?;
    match args.action {
        StagesAction::List { json } => {
            let o = super::finish(host.list_stages(&args.tenant)?)?;
            output::print(json, &o, || {
                let mut out = format!("xentral stages ({} mode):", o.mode);
                for s in &o.xentral {
                    out.push_str(&format!(
                        "\n  {:>5}  {:<24} {:<24} → {}{}",
                        s.id,
                        s.view_name,
                        s.name,
                        s.mapped_to.as_ref().map_or_else(
                            || "(unmapped)".to_owned(),
                            xentral_host::report::stage_name
                        ),
                        if s.hidden { "  [hidden]" } else { "" }
                    ));
                }
                out.push_str("\nHubSpot deal stages:");
                for h in &o.hubspot {
                    out.push_str(&format!(
                        "\n  {}:{:<28} {:<24} {:<24} → {}{}",
                        h.pipeline_id,
                        h.stage_id,
                        h.pipeline_label,
                        h.label,
                        h.mapped_to.map_or_else(
                            || "(unmapped)".to_owned(),
                            |id| format!("xentral stage {id}")
                        ),
                        if h.archived { "  [archived]" } else { "" }
                    ));
                }
                out
            });
            Ok(())
        }
        StagesAction::Map {
            xentral_stage,
            target,
        } => {
            let invocation =
                actions::stages::map_stage(&host, &args.tenant, xentral_stage, &target).map_err(
                    |e| match e {
                        MapStageError::Host(h) => CliError::from(h),
                        target @ MapStageError::Target(_) => {
                            CliError::new(ExitKind::Config, target.to_string()).hint(
                                "list the HubSpot stages with `xentral-host stages TENANT list`",
                            )
                        }
                    },
                )?;
            let message = super::finish(invocation)?;
            output::line(format_args!("{message}"));
            Ok(())
        }
    }
}
