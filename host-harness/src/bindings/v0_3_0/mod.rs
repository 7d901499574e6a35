//! Bindings for `xentral:hubspot@0.3.0`, the newest contract, bound to its frozen folder: its
//! host interfaces over the shared contexts of [`HostState`](crate::bindings::HostState),
//! linked by `add_to_linker`.
//!
//! Its generated export types are the host's own types (re-exported by [`crate::report`]):
//! one definition per type, the contract's, serialisable for `--json` and the tenant's files.
//! Older versions' modules convert their types into these.

/// The generated bindings; their items are documented in the WIT.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        world: "hubspot-sync",
        path: "../wit/deps/xentral-hubspot@0.3.0",
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    });
}

pub use generated::*;

use xentral::hubspot::{clock, db, http, log, secrets, types};

host_interfaces!(
    tls: http::HttpError::Tls,
    limit: db::DbError::Limit,
    http: { send_all_in_flight!(); },
);
