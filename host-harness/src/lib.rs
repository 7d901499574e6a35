//! `xentral-host`: a wasmtime host that emulates xentral for the HubSpot sync plugin.
//!
//! It runs the plugin component sandboxed per tenant (memory, CPU by fuel and epochs, an
//! outbound allow-list, table grants, secrets by name), keeps each tenant's xentral database,
//! and drives the plugin the way xentral does. It deliberately knows nothing about HubSpot or
//! sync rules: those live in the plugin.

#![deny(missing_docs)]

pub mod actions;
pub mod bindings;
pub mod clock;
pub mod console;
pub mod host;
pub mod joblog;
pub mod limits;
pub mod outbound;
pub mod portal_budget;
pub mod report;
pub mod runlog;
pub mod sandbox;
pub mod scheduler;
pub mod secrets;
pub mod settings_defaults;
pub mod sync_health;
pub mod tenant;
pub mod xentral_ui;

pub use clock::{HostClock, SharedClock, SystemClock, VirtualClock};
pub use host::{Connection, DEFAULT_HUBSPOT_URL, HUBSPOT_CREDENTIAL, HostError, XentralHost};
pub use limits::TenantLimits;
pub use report::{Budget, Entity, Job, JobReport, Settings, StageMode};
pub use sandbox::{Invocation, JobError, PluginComponent, Runtime};
pub use secrets::{HostKey, KeySource};
pub use xentral_ui::XentralUi;
