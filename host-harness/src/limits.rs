//! Per-tenant sandbox limits: every knob a host operator may set for one tenant, in one place.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use xentral_erp::mysql::account::AccountLimits;
use xentral_erp::{StatementLimits, TableGrant};

/// The limits one tenant's jobs run under.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TenantLimits {
    /// Cap on the guest's linear memories together, in bytes.
    pub memory_bytes: usize,
    /// Linear memories one job's store may create (the plugin has one).
    pub max_memories: usize,
    /// Tables one job's store may create.
    pub max_tables: usize,
    /// Instances (core modules and components) one job's store may create.
    pub max_instances: usize,
    /// Fuel (roughly: wasm instructions) one job may burn; deterministic CPU cap.
    pub fuel: u64,
    /// Wall-clock time one job may run: past it the epoch deadline interrupts the guest, a
    /// running statement is stopped on the server and no request or statement starts.
    pub wall_time_ms: u64,
    /// Origins (`scheme://host:port`) the guest may call; empty means only the tenant's
    /// HubSpot base URL. Plain `http://` only to loopback.
    pub allowed_origins: Vec<String>,
    /// Cap on one HTTP response body, in bytes.
    pub max_response_bytes: u64,
    /// Cap on one HTTP request's total time.
    pub request_timeout_ms: u64,
    /// How many requests the guest may have in flight at the same time (`send-all`).
    pub max_requests_in_flight: usize,
    /// The most the guest may touch, table by table with verbs (the operator's policy);
    /// `None` means the host's [`TableGrant::hubspot_policy`]. The guest gets what its
    /// manifest asks for within it.
    pub table_grant: Option<TableGrant>,
    /// Cap on one SQL statement's running time.
    pub statement_time_ms: u64,
    /// Cap on the rows of one SQL result.
    pub max_result_rows: usize,
    /// Cap on the bytes of one SQL result.
    pub max_result_bytes: usize,
    /// Cap on one text or blob value SQLite builds.
    pub max_value_bytes: usize,
    /// Connections the tenant's MariaDB plugin account may hold at once.
    pub max_db_connections: u32,
    /// Cap on captured guest stdout/stderr, in bytes.
    pub max_output_bytes: usize,
    /// Cap on the entries of one job's log.
    pub max_log_entries: usize,
    /// Cap on the bytes of one job's log (messages and fields).
    pub max_log_bytes: usize,
}

impl Default for TenantLimits {
    fn default() -> Self {
        let statements = StatementLimits::default();
        TenantLimits {
            memory_bytes: 256 << 20,
            max_memories: 2,
            max_tables: 16,
            max_instances: 64,
            fuel: 200_000_000_000,
            wall_time_ms: 30 * 60 * 1000,
            allowed_origins: Vec::new(),
            max_response_bytes: 16 << 20,
            request_timeout_ms: 30_000,
            max_requests_in_flight: default_in_flight(),
            table_grant: None,
            statement_time_ms: statements.statement_time.as_millis() as u64,
            max_result_rows: statements.max_rows,
            max_result_bytes: statements.max_bytes,
            max_value_bytes: statements.max_value_bytes,
            max_db_connections: AccountLimits::default().max_user_connections,
            max_output_bytes: 1 << 20,
            max_log_entries: 10_000,
            max_log_bytes: 4 << 20,
        }
    }
}

/// Four requests in flight: enough to hide a real portal's latency behind HubSpot's rate
/// limits (100–190 requests per 10 s), few enough for many tenants on one machine.
fn default_in_flight() -> usize {
    4
}

impl TenantLimits {
    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The job's wall-time limit as a duration.
    pub fn wall_time(&self) -> Duration {
        Duration::from_millis(self.wall_time_ms)
    }

    /// The grant in force for a plugin that asks for `requested` (its manifest's tables):
    /// the policy intersected with the request.
    pub fn grant(&self, requested: &TableGrant) -> TableGrant {
        match &self.table_grant {
            Some(policy) => policy.admit(requested),
            None => TableGrant::hubspot_policy().admit(requested),
        }
    }

    /// What one guest statement may cost.
    pub fn statements(&self) -> StatementLimits {
        StatementLimits {
            statement_time: Duration::from_millis(self.statement_time_ms),
            max_rows: self.max_result_rows,
            max_bytes: self.max_result_bytes,
            max_value_bytes: self.max_value_bytes,
        }
    }

    /// The server-side bounds of the tenant's MariaDB plugin account.
    pub fn account(&self) -> AccountLimits {
        AccountLimits {
            max_user_connections: self.max_db_connections,
            max_statement_time: Duration::from_millis(self.statement_time_ms),
        }
    }
}
