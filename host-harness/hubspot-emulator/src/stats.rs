//! Call accounting per endpoint template and status, so tests can assert how a client used the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many calls one endpoint answered with one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCount {
    /// HTTP method.
    pub method: String,
    /// Endpoint template, e.g. `/crm/v3/objects/contacts/{id}`.
    pub endpoint: String,
    /// Response status.
    pub status: u16,
    /// Number of calls.
    pub count: u64,
}

/// A snapshot of the call counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// All counted calls.
    pub total: u64,
    /// Per method, endpoint and status, sorted.
    pub calls: Vec<CallCount>,
}

impl Stats {
    /// Calls to `method endpoint` with any status.
    pub fn count(&self, method: &str, endpoint: &str) -> u64 {
        self.calls
            .iter()
            .filter(|c| c.method == method && c.endpoint == endpoint)
            .map(|c| c.count)
            .sum()
    }

    /// Calls answered with `status`, on any endpoint.
    pub fn count_status(&self, status: u16) -> u64 {
        self.calls
            .iter()
            .filter(|c| c.status == status)
            .map(|c| c.count)
            .sum()
    }
}

/// The live counters.
#[derive(Default)]
pub(crate) struct StatsBook {
    counts: BTreeMap<(String, String, u16), u64>,
}

impl StatsBook {
    pub(crate) fn record(&mut self, method: &str, endpoint: &str, status: u16) {
        *self
            .counts
            .entry((method.to_string(), endpoint.to_string(), status))
            .or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            total: self.counts.values().sum(),
            calls: self
                .counts
                .iter()
                .map(|((method, endpoint, status), count)| CallCount {
                    method: method.clone(),
                    endpoint: endpoint.clone(),
                    status: *status,
                    count: *count,
                })
                .collect(),
        }
    }
}
