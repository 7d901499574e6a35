//! `xentral-host hubspot-emulator`: the local HubSpot API emulator, standalone.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use hubspot_emulator::{EmulatorConfig, Latency, SeedSpec, TokenConfig};

use super::output::{CliError, ExitKind};

/// Arguments of `hubspot-emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback only is sensible).
    #[arg(long, default_value = "127.0.0.1:8099")]
    listen: SocketAddr,
    /// Bearer token the portal accepts (repeat for several).
    #[arg(long = "token", default_value = "demo-token")]
    tokens: Vec<String>,
    /// Contacts to seed.
    #[arg(long, default_value_t = 0)]
    seed_contacts: usize,
    /// Deals to seed.
    #[arg(long, default_value_t = 0)]
    seed_deals: usize,
    /// Requests allowed per rolling 10 seconds.
    #[arg(long, default_value_t = 100)]
    rate_limit: u32,
    /// Serve HTTPS, as HubSpot does, with a certificate of a CA generated at start.
    #[arg(long)]
    tls: bool,
    /// Where to write that CA (PEM), for `settings --ca-file`.
    #[arg(long, value_name = "PATH", requires = "tls")]
    ca_out: Option<PathBuf>,
    /// How long each reply takes, in ms, as HubSpot's take 100–300 ms (default none).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Up to this many ms more per reply, varying from request to request.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
}

/// Runs the emulator until Ctrl-C.
pub fn run(args: EmulatorArgs) -> Result<(), CliError> {
    let seed = (args.seed_contacts > 0 || args.seed_deals > 0)
        .then(|| SeedSpec::new(1, args.seed_contacts, args.seed_deals));
    let config = EmulatorConfig {
        listen: args.listen,
        tokens: args
            .tokens
            .iter()
            .map(|t| TokenConfig::all_scopes(t))
            .collect(),
        rate_limit_per_10s: args.rate_limit,
        seed,
        tls: args.tls,
        latency: Latency {
            fixed_ms: args.latency_ms,
            jitter_ms: args.jitter_ms,
        },
        ..EmulatorConfig::default()
    };
    hubspot_emulator::run_standalone(config, args.ca_out.as_deref()).map_err(|e| {
        CliError::new(
            ExitKind::Unavailable,
            format!("the HubSpot emulator stopped: {e:#}"),
        )
        .hint("is the port already in use? choose another with --listen 127.0.0.1:PORT")
    })
}
