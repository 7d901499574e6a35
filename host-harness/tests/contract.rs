//! The contract's versions: 0.1.0 is frozen as released, the plugin carries the version it
//! was built against, and the host refuses one it does not implement before compiling it,
//! naming both.

mod common;

use std::sync::Arc;

use sha2::{Digest, Sha256};
use xentral_host::bindings::{CONTRACT_SECTION, SUPPORTED_CONTRACTS, contract_version};
use xentral_host::report::{Budget, Job};
use xentral_host::sandbox::{PLUGIN_WASM, TEST_GUEST_WASM};
use xentral_host::{HostError, VirtualClock, XentralHost};

/// The released 0.1.0 WIT, byte for byte. It is never edited: a change to the contract is a
/// new version in a new folder, with a new binding module in the host.
const FROZEN_0_1_0: &[u8] = include_bytes!("../../wit/deps/xentral-hubspot@0.1.0/hubspot-sync.wit");
const FROZEN_0_1_0_SHA256: &str =
    "579daf9446e8d0fad8ba567ceaa23c4a228d56d99706511162be8df4a93c7f72";

#[test]
fn the_released_contract_0_1_0_is_frozen() {
    assert_eq!(
        hex::encode(Sha256::digest(FROZEN_0_1_0)),
        FROZEN_0_1_0_SHA256,
        "wit/deps/xentral-hubspot@0.1.0 was edited; add a new version instead"
    );
}

#[test]
fn the_plugin_and_the_test_guest_carry_contract_0_1_0() {
    assert_eq!(
        contract_version(PLUGIN_WASM).unwrap().as_deref(),
        Some("0.1.0")
    );
    assert_eq!(
        contract_version(TEST_GUEST_WASM).unwrap().as_deref(),
        Some("0.1.0")
    );
    assert_eq!(SUPPORTED_CONTRACTS, ["0.1.0"]);
}

/// The test guest with its contract section's name or version bytes replaced.
fn guest_with(find: &[u8], replace: &[u8]) -> Vec<u8> {
    assert_eq!(find.len(), replace.len());
    let mut wasm = TEST_GUEST_WASM.to_vec();
    let at = wasm
        .windows(find.len())
        .position(|w| w == find)
        .expect("the bytes are in the guest");
    wasm[at..at + find.len()].copy_from_slice(replace);
    wasm
}

fn load(wasm: &[u8]) -> Result<XentralHost, HostError> {
    let dir = tempfile::tempdir().unwrap();
    XentralHost::with_component(
        dir.path(),
        common::test_key(),
        Arc::new(VirtualClock::new(0)),
        wasm,
    )
}

#[test]
fn a_component_built_against_0_1_0_loads_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let host = XentralHost::with_component(
        dir.path(),
        common::test_key(),
        Arc::new(VirtualClock::new(0)),
        TEST_GUEST_WASM,
    )
    .unwrap();
    host.create_tenant("t").unwrap();
    let mut db = host
        .tenant("t")
        .unwrap()
        .open_admin_db(host.clock())
        .unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('test_guest_command', 'ok', 0, 0)",
        &[],
    )
    .unwrap();
    let run = host
        .run_job("t", Job::SyncContacts, Budget::default())
        .unwrap();
    assert!(run.result.is_ok(), "{:?}", run.result);
}

#[test]
fn a_component_of_an_unknown_contract_version_is_refused_naming_both() {
    let mut versioned = CONTRACT_SECTION.as_bytes().to_vec();
    versioned.extend_from_slice(b"0.1.0");
    let mut future = CONTRACT_SECTION.as_bytes().to_vec();
    future.extend_from_slice(b"9.9.0");
    let err = load(&guest_with(&versioned, &future))
        .err()
        .expect("refused");
    let message = err.to_string();
    assert!(
        message.contains("built against contract xentral:hubspot@9.9.0")
            && message.contains("this host supports xentral:hubspot@0.1.0"),
        "{message}"
    );
}

#[test]
fn a_component_that_names_no_contract_version_is_refused() {
    let hidden = CONTRACT_SECTION.replace('c', "k");
    let err = load(&guest_with(CONTRACT_SECTION.as_bytes(), hidden.as_bytes()))
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("built against contract no version"),
        "{err}"
    );
}
