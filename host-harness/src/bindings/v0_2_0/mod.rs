//! Bindings for `xentral:hubspot@0.2.0`, bound to its frozen folder: its host interfaces over
//! the shared contexts of [`HostState`](crate::bindings::HostState), linked by
//! `add_to_linker`, and the conversions between its export types and the newest contract's.

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
    http: { send_all_in_flight!(); },
);

export_conversions!();

/// The settings in this version's form. What 0.2.0 has no field for (companies, the contact
/// mode, what happens when records end) the host refuses before it gets here
/// ([`crate::host`]), so nothing is silently dropped.
pub fn settings_to_wit(s: &latest::Settings) -> types::Settings {
    types::Settings {
        hubspot_url: s.hubspot_url.clone(),
        credential: s.credential.clone(),
        contacts: s.contacts,
        contacts_since: s.contacts_since.clone(),
        lead_statuses: s.lead_statuses.clone(),
        group: s.group.clone(),
        deals: s.deals,
        stage_mode: stage_mode_to_wit(s.stage_mode),
        api_version: s.api_version.clone(),
        contact_rule: rule_to_wit(&s.contact_rule),
        deal_rule: rule_to_wit(&s.deal_rule),
    }
}

fn direction_to_wit(d: latest::SyncDirection) -> types::SyncDirection {
    match d {
        latest::SyncDirection::TwoWay => types::SyncDirection::TwoWay,
        latest::SyncDirection::ToXentral => types::SyncDirection::ToXentral,
        latest::SyncDirection::ToHubspot => types::SyncDirection::ToHubspot,
    }
}

fn rule_to_wit(r: &latest::SyncRule) -> types::SyncRule {
    types::SyncRule {
        direction: direction_to_wit(r.direction),
        conflict_winner: match r.conflict_winner {
            latest::Side::Xentral => types::Side::Xentral,
            latest::Side::Hubspot => types::Side::Hubspot,
        },
        fields: r
            .fields
            .iter()
            .map(|f| types::FieldDirection {
                field: f.field.clone(),
                direction: direction_to_wit(f.direction),
            })
            .collect(),
    }
}

/// The manifest in the newest form.
pub fn manifest_from_wit(m: types::PluginManifest) -> latest::PluginManifest {
    latest::PluginManifest {
        contract_version: m.contract_version,
        jobs: m
            .jobs
            .into_iter()
            .map(|j| latest::JobSpec {
                job: job_from_wit(j.job),
                starter_parameter: j.starter_parameter,
                name: j.name,
                period_minutes: j.period_minutes,
                objects: j.objects,
            })
            .collect(),
        xentral_tables: m
            .xentral_tables
            .into_iter()
            .map(|t| latest::TableUse {
                table: t.table,
                verbs: t
                    .verbs
                    .into_iter()
                    .map(|v| match v {
                        types::Privilege::Select => latest::Privilege::Select,
                        types::Privilege::Insert => latest::Privilege::Insert,
                        types::Privilege::Update => latest::Privilege::Update,
                        types::Privilege::Delete => latest::Privilege::Delete,
                    })
                    .collect(),
            })
            .collect(),
        own_tables: m.own_tables,
    }
}

/// The health report in the newest form (0.2.0 ends no links).
pub fn health_from_wit(h: types::HealthReport) -> latest::HealthReport {
    latest::HealthReport {
        connected: h.connected,
        objects: h
            .objects
            .into_iter()
            .map(|o| latest::ObjectHealth {
                object: o.object,
                in_sync: o.in_sync,
                failing: o
                    .failing
                    .into_iter()
                    .map(|f| latest::FailingRecords {
                        direction: f.direction,
                        error: f.error,
                        count: f.count,
                        records: f.records,
                        next_retry_ms: f.next_retry_ms,
                        attempts: f.attempts,
                        needs_change: f.needs_change,
                    })
                    .collect(),
                ended: Vec::new(),
                conflicts_kept: o.conflicts_kept,
                recent_conflicts: o
                    .recent_conflicts
                    .into_iter()
                    .map(|c| latest::Conflict {
                        hubspot_id: c.hubspot_id,
                        xentral_id: c.xentral_id,
                        field: c.field,
                        xentral_value: c.xentral_value,
                        hubspot_value: c.hubspot_value,
                        winner: c.winner,
                        at_ms: c.at_ms,
                    })
                    .collect(),
            })
            .collect(),
        queue: latest::QueueHealth {
            pending: h.queue.pending,
            retrying: h.queue.retrying,
        },
    }
}
