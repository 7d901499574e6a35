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
    /// How long each reply takes to arrive, as HubSpot's take 100–300 ms (default none).
    pub latency: Latency,
}

/// The network and processing time of a real portal, added to every reply in real time (a
/// client's wait for it is real, whatever the emulator's clock says), before the request is
/// authenticated, counted or rate-limited, and without holding any lock: requests in flight
/// together wait together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    /// Every reply waits this long.
    pub fixed_ms: u64,
    /// Plus up to this much more, varying from request to request (reproducibly: the n-th
    /// request of an emulator always waits the same).
    pub jitter_ms: u64,
}

impl Latency {
    /// The wait of the `n`-th request.
    pub fn of_request(self, n: u64) -> std::time::Duration {
        let jitter = if self.jitter_ms == 0 {
            0
        } else {
            // SplitMix64: a well-spread value per request number.
            let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) % (self.jitter_ms + 1)
        };
        std::time::Duration::from_millis(self.fixed_ms + jitter)
    }
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
            latency: Latency::default(),
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
            .field("latency", &self.latency)
            .field("custom_clock", &self.clock.is_some())
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_waits_the_fixed_time_plus_a_reproducible_jitter_within_bounds() {
        let l = Latency {
            fixed_ms: 100,
            jitter_ms: 50,
        };
        let waits: Vec<u128> = (0..200).map(|n| l.of_request(n).as_millis()).collect();
        assert!(waits.iter().all(|w| (100..=150).contains(w)), "{waits:?}");
        assert_eq!(
            waits,
            (0..200)
                .map(|n| l.of_request(n).as_millis())
                .collect::<Vec<_>>()
        );
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 20, "the jitter varies: {distinct:?}");
        assert_eq!(Latency::default().of_request(7), std::time::Duration::ZERO);
    }
}
