//! Start-up configuration of one emulated portal.

use std::net::{Ipv4Addr, SocketAddr};

use crate::auth::TokenConfig;
use crate::clock::NowFn;
use crate::faults::FaultPlan;
use crate::seed::SeedSpec;

/// How to start an emulator; `Default` gives a plain-HTTP loopback server on a free port with
/// one all-scopes token `test-token`, HubSpot's Free/Starter limits and no faults.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Address to bind (default `127.0.0.1:0`, a free port).
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate of a CA generated at start (see
    /// [`Emulator::ca_pem`](crate::Emulator::ca_pem)), as the real HubSpot serves HTTPS only.
    pub tls: bool,
    /// Accepted bearer tokens.
    pub tokens: Vec<TokenConfig>,
    /// Requests per rolling ten seconds (default 100).
    pub rate_limit_per_10s: u32,
    /// Searches per second (default 5).
    pub search_per_second: u32,
    /// Requests per UTC day of the emulator clock (default 250,000).
    pub daily_limit: u64,
    /// Writes younger than this (emulator clock) are invisible to search (default 0).
    pub search_lag_ms: i64,
    /// Time source; `None` uses the system clock.
    pub clock: Option<NowFn>,
    /// Faults active from the start.
    pub faults: FaultPlan,
    /// Data to generate at start.
    pub seed: Option<SeedSpec>,
}

impl Default for EmulatorConfig {
    fn default() -> EmulatorConfig {
        EmulatorConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls: false,
            tokens: vec![TokenConfig::all_scopes("test-token")],
            rate_limit_per_10s: 100,
            search_per_second: 5,
            daily_limit: 250_000,
            search_lag_ms: 0,
            clock: None,
            faults: FaultPlan::default(),
            seed: None,
        }
    }
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("tokens", &self.tokens.len())
            .field("rate_limit_per_10s", &self.rate_limit_per_10s)
            .field("search_per_second", &self.search_per_second)
            .field("daily_limit", &self.daily_limit)
            .field("search_lag_ms", &self.search_lag_ms)
            .field("custom_clock", &self.clock.is_some())
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .finish()
    }
}
