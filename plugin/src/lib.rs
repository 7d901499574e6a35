//! The xentral ⇄ HubSpot sync plugin.
//!
//! All HubSpot and sync knowledge lives here; the host supplies HTTP, the tenant database,
//! time, logging and secrets through [`platform`] traits. The crate compiles natively (so the
//! sync core unit-tests with fakes) and to a wasm32-wasip2 component, where the private
//! `wit_glue` module adapts the WIT contract. It deliberately holds no I/O of its own.

#![deny(missing_docs)]

pub mod api;
pub mod contacts;
pub mod deals;
pub mod exports;
pub mod freefields;
pub mod health;
pub mod hubspot;
pub mod incremental;
pub mod manifest;
pub mod mapping;
pub mod merge;
pub mod platform;
pub mod push;
pub mod queue;
pub mod rules;
pub mod session;
pub mod settings;
pub mod stages;
pub mod state;
pub mod takeover;
pub mod xentral;

#[cfg(test)]
mod testing;

#[cfg(target_arch = "wasm32")]
mod wit_glue;
