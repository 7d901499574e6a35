//! The object kinds the engine syncs: contacts ⇄ addresses (with the address free fields)
//! and deals ⇄ resubmissions (with the stage mapping).

pub mod contacts;
pub mod deals;
pub mod freefields;
pub mod stages;
