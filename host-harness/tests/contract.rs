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

/// The released 0.2.0 WIT, byte for byte.
const FROZEN_0_2_0: &[u8] = include_bytes!("../../wit/deps/xentral-hubspot@0.2.0/hubspot-sync.wit");
const FROZEN_0_2_0_SHA256: &str =
    "7fe4cba86e3d5a8a18e229b2c66dd6cd3ea8079c59f8f9fd608ae38c16885b49";

#[test]
fn the_released_contracts_are_frozen() {
    for (version, wit, sha) in [
        ("0.1.0", FROZEN_0_1_0, FROZEN_0_1_0_SHA256),
        ("0.2.0", FROZEN_0_2_0, FROZEN_0_2_0_SHA256),
    ] {
        assert_eq!(
            hex::encode(Sha256::digest(wit)),
            sha,
            "wit/deps/xentral-hubspot@{version} was edited; add a new version instead"
        );
    }
}

#[test]
fn the_plugin_carries_0_2_0_and_the_test_guest_0_1_0_and_the_host_loads_both() {
    assert_eq!(
        contract_version(PLUGIN_WASM).unwrap().as_deref(),
        Some("0.2.0")
    );
    assert_eq!(
        contract_version(TEST_GUEST_WASM).unwrap().as_deref(),
        Some("0.1.0")
    );
    assert_eq!(SUPPORTED_CONTRACTS, ["0.1.0", "0.2.0"]);
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
            && message.contains("this host supports xentral:hubspot@0.1.0, xentral:hubspot@0.2.0"),
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

#[test]
fn a_component_whose_exports_are_not_of_the_version_it_names_is_refused() {
    let mut old = CONTRACT_SECTION.as_bytes().to_vec();
    old.extend_from_slice(b"0.1.0");
    let mut claimed = CONTRACT_SECTION.as_bytes().to_vec();
    claimed.extend_from_slice(b"0.2.0");
    let err = load(&guest_with(&old, &claimed)).err().expect("refused");
    assert!(
        err.to_string().contains("xentral:hubspot/plugin@0.1.0"),
        "names what it exports: {err}"
    );
}
