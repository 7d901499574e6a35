//! A local, faithful emulator of the HubSpot CRM API (contacts, companies, deals, search,
//! pipelines, properties, owners, custom-object schemas, v4 associations with HubSpot's type ids
//! and primary companies, archive and merge) over real HTTP or HTTPS (a CA generated at start) on
//! loopback, for testing a sync client
//! against HubSpot's actual behaviour: its error bodies, validation rules, 100-input batches with
//! 207 partial results, search limits and indexing lag, rate limits with their 429 bodies and
//! headers, and injectable faults (status codes, latency, dropped connections after the write,
//! malformed bodies) — all on a clock a test can share and move.
//!
//! One [`Emulator`] is one portal, in memory, serving the v3/v4 paths and their 2026-03
//! date-versioned twins. It deliberately does not emulate other object types, custom objects or
//! custom association labels, webhooks, property history, OAuth flows or persistence.
//!
//! ```no_run
//! use hubspot_emulator::{Emulator, EmulatorConfig, SeedSpec};
//! let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
//! emulator.seed(SeedSpec::new(42, 1_000, 200));
//! let base = emulator.base_url(); // use with `Authorization: Bearer test-token`
//! # drop(base);
//! ```
#![deny(missing_docs)]

mod admin;
mod app;
mod association;
mod auth;
mod clock;
mod config;
mod dates;
mod emulator;
mod endpoint;
mod error;
mod faults;
pub mod floor;
mod object_type;
mod owners;
mod pipelines;
mod query;
mod rate_limit;
mod routes;
mod schema;
mod search;
mod seed;
mod server;
mod stats;
mod store;
mod tls;

pub use auth::TokenConfig;
pub use clock::{ManualClock, NowFn, system_now};
pub use config::{EmulatorConfig, Latency};
pub use emulator::{Emulator, run_standalone};
pub use error::{FieldError, StartError, WriteError};
pub use faults::{FaultFilter, FaultKind, FaultPlan, RandomFaults, ScriptedFault};
pub use object_type::ObjectType;
pub use owners::Owner;
pub use pipelines::{Pipeline, Stage};
pub use schema::{LEAD_STATUSES, LIFECYCLE_STAGES};
pub use seed::{SeedSpec, SeedSummary, SharedModified};
pub use stats::{CallCount, Stats};
pub use store::{Association, Record};
