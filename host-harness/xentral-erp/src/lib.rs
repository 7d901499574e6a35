//! The emulated xentral ERP database.
//!
//! What it does:
//! - a small database-access abstraction ([`Database`], [`Value`], [`Rows`], [`DbError`]) that the
//!   host exposes to the plugin;
//! - the SQLite backend ([`SqliteDatabase`]) with table grants enforced by SQLite's authorizer,
//!   the embedded default;
//! - the MariaDB/MySQL backend ([`MysqlDatabase`]), xentral's own engine, with the reference
//!   schema loaded as-is and table grants enforced by a host-side statement check;
//! - xentral's real tables ([`schema`], from OpenXE's DDL, with every column) created and upgraded
//!   by versioned [`migrations`], the `laender` seed, and MySQL function shims
//!   ([`mysql_compat`]) so SQL written for xentral runs unchanged on a virtual clock;
//! - what a xentral user does in the UI, as library calls ([`ui`]), each returning the
//!   [`ui::Change`]s the host fires into the plugin's save hook;
//! - the state machine of xentral's process starters ([`scheduler`]): due, claim, lock, finish.
//!
//! What it deliberately does not: run jobs, map starters to jobs, fire save hooks, know anything
//! about HubSpot, or manage MariaDB servers and users. No xentral
//! business logic beyond the rows the UI writes (no customer numbers, no document flows).

#![deny(missing_docs)]

pub mod database;
pub mod grant;
pub mod laender;
pub mod migrations;
pub mod mysql;
pub mod mysql_compat;
pub mod records;
pub mod scheduler;
pub mod schema;
pub mod sqlite;
pub mod ui;
pub mod value;

pub use database::{
    Database, DbError, Dialect, ExecResult, NowFn, READ_ONLY, Rows, StatementLimits, system_clock,
};
pub use grant::{GrantError, Privilege, TableGrant};
pub use migrations::migrate;
pub use mysql::{MysqlDatabase, MysqlUrl, MysqlUrlError};
pub use sqlite::SqliteDatabase;
pub use value::Value;
