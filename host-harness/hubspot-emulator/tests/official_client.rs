//! HubSpot's official Python client (`hubspot-api-client`, which calls the v3/v4 paths and
//! deserialises every reply into its generated models) works against the emulator: create,
//! read, update, search, batch read, list, properties, pipelines, a deal with an association,
//! v4 association reads, owners, companies (create, search, batch upsert by a unique property),
//! a primary contact→company association with its type ids, merge into a new id, custom-object
//! schemas, archive and `archived=true` listing, and a refused token.
//!
//! Needs `python3` with the client (`pip install hubspot-api-client==12.0.0`); CI installs it
//! and sets `XENTRAL_TEST_PYTHON_CLIENT=1`, under which a missing client fails the test
//! instead of skipping it.

mod common;

use std::process::Command;

use common::{Harness, TOKEN};

/// Whether `python3` can import the official client.
fn client_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import hubspot"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_official_python_client_works_against_the_emulator() {
    if !client_installed() {
        assert!(
            std::env::var_os("XENTRAL_TEST_PYTHON_CLIENT").is_none(),
            "XENTRAL_TEST_PYTHON_CLIENT is set but python3 cannot import hubspot: pip install hubspot-api-client==12.0.0"
        );
        eprintln!(
            "skipped: python3 cannot import HubSpot's client (pip install hubspot-api-client==12.0.0)"
        );
        return;
    }
    let h = Harness::new();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/official_client.py"
    );
    let out = Command::new("python3")
        .args([script, &h.emu.base_url(), TOKEN])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim() == "ok",
        "the official client failed:\n{stdout}\n{stderr}"
    );
}
