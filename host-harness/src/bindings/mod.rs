//! Host bindings, one module per WIT contract version (Zed's `since_vX` pattern). A new
//! contract version gets a new module; old plugins keep loading through theirs.

pub mod v0_1_0;

/// The newest contract version this host implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The exported interface every compatible plugin must provide.
pub const PLUGIN_EXPORT: &str = "xentral:hubspot/plugin@0.1.0";
