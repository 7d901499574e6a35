//! Per-tenant sandbox limits: every knob a host operator may set for one tenant, in one place.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use xentral_erp::TableGrant;

/// The limits one tenant's jobs run under.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TenantLimits {
    /// Cap on the guest's linear memory, in bytes.
    pub memory_bytes: usize,
    /// Fuel (roughly: wasm instructions) one job may burn; deterministic CPU cap.
    pub fuel: u64,
    /// Wall-clock time one job may run before the epoch deadline interrupts it.
    pub wall_time_ms: u64,
    /// Origins (`scheme://host:port`) the guest may call; empty means only the tenant's
    /// HubSpot base URL.
    pub allowed_origins: Vec<String>,
    /// Cap on one HTTP response body, in bytes.
    pub max_response_bytes: u64,
    /// Cap on one HTTP request's total time.
    pub request_timeout_ms: u64,
    /// Tables the guest may touch and with which verbs; `None` means the plugin's default
    /// grant.
    pub table_grant: Option<TableGrant>,
    /// Cap on captured guest stdout/stderr, in bytes.
    pub max_output_bytes: usize,
}

impl Default for TenantLimits {
    fn default() -> Self {
        TenantLimits {
            memory_bytes: 256 << 20,
            fuel: 200_000_000_000,
            wall_time_ms: 30 * 60 * 1000,
            allowed_origins: Vec::new(),
            max_response_bytes: 16 << 20,
            request_timeout_ms: 30_000,
            table_grant: None,
            max_output_bytes: 1 << 20,
        }
    }
}

impl TenantLimits {
    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The table grant in force.
    pub fn grant(&self) -> TableGrant {
        self.table_grant
            .clone()
            .unwrap_or_else(TableGrant::plugin_default)
    }
}
