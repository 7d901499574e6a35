//! Bindings for `xentral:hubspot@0.1.0`, bound to its frozen folder: its host interfaces over
//! the shared contexts of [`HostState`](crate::bindings::HostState), linked by
//! `add_to_linker`, and the conversions between its export types and the newest contract's.

use crate::report;

/// The generated bindings; their items are documented in the WIT.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        world: "hubspot-sync",
        path: "../wit/deps/xentral-hubspot@0.1.0",
    });
}

pub use generated::*;

use xentral::hubspot::{clock, db, http, log, secrets, types};

host_interfaces!(
    tls: http::HttpError::Invalid,
    limit: db::DbError::Io,
    http: {},
);

export_conversions!();

/// The settings in this version's form. 0.1.0 has no API version (the plugin's default) and
/// none of the later settings; the host refuses those before it gets here
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
    }
}

/// What a 0.1.0 plugin is: that contract has no manifest, so the host states its jobs and
/// own tables as that release had them (frozen with the contract), and asks for the whole of
/// the host's policy on xentral's tables, which is what 0.1.0 plugins were granted.
pub fn manifest() -> report::Manifest {
    let job = |job, starter_parameter: &str, name: &str, period_minutes, objects: &[&str]| {
        report::JobSpec {
            job,
            starter_parameter: starter_parameter.into(),
            name: name.into(),
            period_minutes,
            objects: objects.iter().map(|o| (*o).to_owned()).collect(),
        }
    };
    let own = [
        "hubspot_sync_contact_links",
        "hubspot_sync_deal_links",
        "hubspot_sync_options",
        "hubspot_sync_stage_map",
        "hubspot_sync_pipeline_map",
        "hubspot_sync_queue",
        "hubspot_sync_cursors",
        "hubspot_sync_failures",
        "hubspot_sync_conflicts",
        "hubspot_sync_backfills",
        "hubspot_sync_schema_version",
    ];
    report::Manifest {
        contract_version: "0.1.0".into(),
        jobs: vec![
            job(
                report::Job::ProcessQueue,
                "hubspot_process",
                "Hubspot Process Queues",
                10,
                &[],
            ),
            job(
                report::Job::SyncContacts,
                "hubspot_pull_contacts",
                "Hubspot Synchronize Contacts",
                60,
                &["contact"],
            ),
            job(
                report::Job::SyncDeals,
                "hubspot_pull_deals",
                "Hubspot Synchronize Deals",
                60,
                &["deal"],
            ),
        ],
        tables: own
            .iter()
            .fold(xentral_erp::TableGrant::hubspot_policy(), |g, t| {
                g.with_own_table(t)
            }),
    }
}
