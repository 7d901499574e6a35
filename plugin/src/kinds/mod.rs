//! The object kinds the engine syncs: contacts ⇄ person addresses (with the address free
//! fields), companies ⇄ company addresses, their contacts ⇄ contact persons, and deals ⇄
//! resubmissions (with the stage mapping); and what they share: owners ⇄ sales reps and the
//! unique property that makes exports idempotent.

pub mod companies;
pub mod contacts;
pub mod deals;
pub mod freefields;
pub mod owners;
pub mod persons;
pub mod stages;
pub mod unique;
