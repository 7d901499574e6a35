//! Bindings for `xentral:hubspot@0.1.0`, bound to its frozen folder: its host interfaces over
//! the shared contexts of [`HostState`](crate::bindings::HostState), linked by
//! `add_to_linker`, and the conversions of its export types into the host's
//! [`crate::report`] types.

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
);

export_conversions!();

/// Converts host settings into the WIT record.
/// (0.1.0 has no API version: the plugin's default.)
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
    }
}
