//! The emulated xentral ERP database.
//!
//! What it does:
//! - a small database-access abstraction ([`Database`], [`Value`], [`Rows`], [`DbError`]) that the
//!   host exposes to the plugin and that a MariaDB backend can implement later;
//! - the SQLite backend ([`SqliteDatabase`]) with table grants enforced by SQLite's authorizer;
//! - xentral's real tables ([`schema`], from OpenXE's DDL, with every column) created and upgraded
//!   by versioned [`migrations`], the `laender` seed, and MySQL function shims
//!   ([`mysql_compat`]) so SQL written for xentral runs unchanged on a virtual clock;
//! - what a xentral user does in the UI, as library calls ([`ui`]), each returning the
//!   [`ui::Change`]s the host fires into the plugin's save hook;
//! - the state machine of xentral's process starters ([`scheduler`]): due, claim, lock, finish.
//!
//! What it deliberately does not: run jobs, map starters to jobs, fire save hooks, know anything
//! about HubSpot, or speak to MariaDB (only the [`Dialect`] marker exists for it). No xentral
//! business logic beyond the rows the UI writes (no customer numbers, no document flows).

#![deny(missing_docs)]

pub mod database;
pub mod grant;
pub mod laender;
pub mod migrations;
pub mod mysql_compat;
pub mod records;
pub mod scheduler;
pub mod schema;
pub mod sqlite;
pub mod ui;
pub mod value;

pub use database::{Database, DbError, Dialect, ExecResult, NowFn, Rows, system_clock};
pub use grant::{GrantParseError, TableGrant};
pub use migrations::migrate;
pub use sqlite::SqliteDatabase;
pub use value::Value;
