//! Host bindings, one module per WIT contract version (Zed's `since_vX` pattern). A new
//! contract version gets a new module; old plugins keep loading through theirs.

#[macro_use]
mod macros;
pub(crate) mod host_state;
pub mod v0_1_0;
pub mod v0_2_0;
pub mod v0_3_0;

pub(crate) use host_state::HostState;
/// The newest contract's bindings: their export types are the host's own.
pub use v0_3_0 as latest;

/// The newest contract version this host implements.
pub const CONTRACT_VERSION: &str = "0.3.0";

/// Every contract version this host loads, one binding module each.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1.0", "0.2.0", "0.3.0"];

/// The custom section in which a plugin names the contract version it was built against.
pub const CONTRACT_SECTION: &str = "xentral-hubspot-contract";

/// The contract version a component names in its [`CONTRACT_SECTION`] (in its own or in a
/// nested core module), if it names one.
pub fn contract_version(wasm: &[u8]) -> Result<Option<String>, String> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| format!("not a WebAssembly component: {e}"))? {
            wasmparser::Payload::CustomSection(c) if c.name() == CONTRACT_SECTION => {
                return Ok(Some(String::from_utf8_lossy(c.data()).trim().to_owned()));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The exported interface a plugin of contract `version` provides.
pub fn plugin_export(version: &str) -> String {
    format!("xentral:hubspot/plugin@{version}")
}
