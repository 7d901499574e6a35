//! The console's HTML, server-rendered with maud (escaped by default): one module per page
//! plus the shell and the pieces pages share. No script anywhere; one stylesheet of our own.

pub mod health;
pub mod layout;
pub mod login;
pub mod module;
pub mod reports;
pub mod tenants;
pub mod widgets;
