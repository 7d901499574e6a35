//! The xentral ⇄ HubSpot sync plugin.
//!
//! All HubSpot and sync knowledge lives here; the host supplies HTTP, the tenant database,
//! time, logging and secrets through [`platform`] traits. The crate compiles natively (so the
//! sync core unit-tests with fakes) and to a wasm32-wasip2 component, where the private
//! `wit_glue` module adapts the WIT contract. It deliberately holds no I/O of its own.
//!
//! The tree: [`engine`] is the sync written once (incremental pull, three-way merge, batch
//! push, queue, rules, the job session); [`kinds`] are the object kinds it syncs (contacts ⇄
//! addresses, deals ⇄ resubmissions, with their stages and free fields); [`store`] is the
//! plugin's own state (its `hubspot_sync_*` tables, the takeover of the old module's links,
//! sync health); [`hubspot`] and [`xentral`] speak to either side.

#![deny(missing_docs)]

pub mod api;
pub mod engine;
pub mod exports;
pub mod hubspot;
pub mod kinds;
pub mod manifest;
pub mod mapping;
pub mod platform;
pub mod settings;
pub mod store;
pub mod xentral;

#[cfg(test)]
mod testing;

#[cfg(target_arch = "wasm32")]
mod wit_glue;
