//! The sync engine, written once for every object kind: the incremental pull behind a
//! cursor in HubSpot's time, the three-way merge, the batch push with its freshness check,
//! the export queue, Data Sync's rules, records that end (archive, restore, merge, delete),
//! and the job session that counts and reports.

pub mod incremental;
pub mod kind;
pub mod lifecycle;
pub mod merge;
pub mod push;
pub mod queue;
pub mod rules;
pub mod session;
