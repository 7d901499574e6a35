//! Host bindings, one module per WIT contract version (Zed's `since_vX` pattern). A new
//! contract version gets a new module; old plugins keep loading through theirs.

pub mod v0_1_0;

/// The newest contract version this host implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Every contract version this host loads, one binding module each.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1.0"];

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

/// The exported interface every compatible plugin must provide.
pub const PLUGIN_EXPORT: &str = "xentral:hubspot/plugin@0.1.0";
