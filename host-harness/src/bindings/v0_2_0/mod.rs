//! Bindings for `xentral:hubspot@0.2.0`, bound to its frozen folder: its host interfaces over
//! the shared contexts of [`HostState`](crate::bindings::HostState), linked by
//! `add_to_linker`, and the conversions of its export types into the host's
//! [`crate::report`] types.

use std::collections::BTreeMap;

use crate::report;

/// The generated bindings; their items are documented in the WIT.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        world: "hubspot-sync",
        path: "../wit/deps/xentral-hubspot@0.2.0",
    });
}

pub use generated::*;

use xentral::hubspot::{clock, db, http, log, secrets, types};

host_interfaces!(
    tls: http::HttpError::Tls,
    limit: db::DbError::Limit,
    http: {
        fn send_all(
            &mut self,
            reqs: Vec<http::Request>,
        ) -> Vec<Result<http::Response, http::HttpError>> {
            let reqs: Vec<OutboundRequest> = reqs.into_iter().map(outbound_request).collect();
            let named: Vec<(&'static str, String)> =
                reqs.iter().map(|r| (r.method, r.url.clone())).collect();
            let results = self.outbound.send_all(reqs);
            named
                .into_iter()
                .zip(results)
                .map(|((method, url), result)| answer(self, method, &url, result))
                .collect()
        }
    },
);

export_conversions!();

/// Converts host settings into the WIT record.
pub fn settings_to_wit(s: &report::Settings) -> types::Settings {
    types::Settings {
        hubspot_url: s.hubspot_url.clone(),
        credential: s.credential.clone(),
        contacts: s.contacts,
        contacts_since: s.contacts_since.clone(),
        lead_statuses: s.lead_statuses.clone(),
        group: s.group.clone(),
        deals: s.deals,
        stage_mode: match s.stage_mode {
            report::StageMode::Automatic => types::StageMode::Automatic,
            report::StageMode::UserDefined => types::StageMode::UserDefined,
        },
        api_version: s.api_version.clone(),
        contact_rule: rule_to_wit(&s.contact_rule),
        deal_rule: rule_to_wit(&s.deal_rule),
    }
}

fn direction_to_wit(d: report::SyncDirection) -> types::SyncDirection {
    match d {
        report::SyncDirection::TwoWay => types::SyncDirection::TwoWay,
        report::SyncDirection::ToXentral => types::SyncDirection::ToXentral,
        report::SyncDirection::ToHubspot => types::SyncDirection::ToHubspot,
    }
}

fn rule_to_wit(r: &report::SyncRule) -> types::SyncRule {
    types::SyncRule {
        direction: direction_to_wit(r.direction),
        conflict_winner: match r.conflict_winner {
            report::Side::Xentral => types::Side::Xentral,
            report::Side::Hubspot => types::Side::Hubspot,
        },
        fields: r
            .fields
            .iter()
            .map(|(field, d)| types::FieldDirection {
                field: field.clone(),
                direction: direction_to_wit(*d),
            })
            .collect(),
    }
}

fn privilege_from_wit(p: types::Privilege) -> xentral_erp::Privilege {
    match p {
        types::Privilege::Select => xentral_erp::Privilege::Select,
        types::Privilege::Insert => xentral_erp::Privilege::Insert,
        types::Privilege::Update => xentral_erp::Privilege::Update,
        types::Privilege::Delete => xentral_erp::Privilege::Delete,
    }
}

/// Converts the plugin's manifest. A table name that is not a plain identifier is an error
/// (the host quotes names into `GRANT` statements).
pub fn manifest_from_wit(m: types::PluginManifest) -> Result<report::Manifest, String> {
    let plain = |t: &str| {
        xentral_erp::grant::is_plain_name(t)
            .then_some(())
            .ok_or_else(|| format!("the plugin's manifest names `{t}`, not a table name"))
    };
    let mut tables = xentral_erp::TableGrant::new();
    for t in &m.xentral_tables {
        plain(&t.table)?;
        let verbs: Vec<_> = t.verbs.iter().copied().map(privilege_from_wit).collect();
        tables = tables.with_table(&t.table, &verbs);
    }
    for t in &m.own_tables {
        plain(t)?;
        tables = tables.with_own_table(t);
    }
    Ok(report::Manifest {
        contract_version: m.contract_version,
        jobs: m
            .jobs
            .into_iter()
            .map(|j| report::JobSpec {
                job: job_from_wit(j.job),
                starter_parameter: j.starter_parameter,
                name: j.name,
                period_minutes: j.period_minutes,
                objects: j.objects,
            })
            .collect(),
        tables,
    })
}

/// Converts the plugin's health report.
pub fn health_from_wit(h: types::HealthReport) -> crate::sync_health::SyncHealth {
    crate::sync_health::SyncHealth {
        connected: h.connected,
        objects: h
            .objects
            .into_iter()
            .map(|o| crate::sync_health::ObjectHealth {
                object: o.object,
                in_sync: o.in_sync,
                failing: o
                    .failing
                    .into_iter()
                    .map(|f| crate::sync_health::Failing {
                        direction: f.direction,
                        error: f.error,
                        count: f.count,
                        records: f.records,
                        next_retry_ms: f.next_retry_ms,
                        attempts: f.attempts,
                        needs_change: f.needs_change,
                    })
                    .collect(),
                conflicts_kept: o.conflicts_kept,
                recent_conflicts: o
                    .recent_conflicts
                    .into_iter()
                    .map(|c| crate::sync_health::ConflictEntry {
                        hubspot_id: c.hubspot_id,
                        xentral_id: c.xentral_id,
                        field: c.field,
                        xentral_value: c.xentral_value,
                        hubspot_value: c.hubspot_value,
                        winner: c.winner,
                        at_ms: c.at_ms,
                    })
                    .collect(),
                excluded: BTreeMap::new(),
            })
            .collect(),
        queue: crate::sync_health::QueueHealth {
            pending: h.queue.pending,
            retrying: h.queue.retrying,
        },
    }
}
