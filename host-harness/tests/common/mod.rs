//! Helpers shared by the host's integration tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use xentral_host::{HostKey, KeySource};

/// The host key the CLI runs of these tests use (through `XENTRAL_HOST_KEY`).
pub const TEST_KEY: &str = "7e57ab1e7e57ab1e7e57ab1e7e57ab1e7e57ab1e7e57ab1e7e57ab1e7e57ab1e";

/// The same key for the library side of a test.
pub fn test_key() -> HostKey {
    HostKey::new(KeySource::Env(TEST_KEY.into()))
}

/// The built binary over `data_dir` with [`TEST_KEY`], ready to run.
pub fn cli_command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xentral-host"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("XENTRAL_HOST_DATA")
        .env_remove("XENTRAL_HOST_KEY_FILE")
        .env("XENTRAL_HOST_KEY", TEST_KEY);
    command
}

/// Runs the built binary over `data_dir` with [`TEST_KEY`]; returns its output.
pub fn cli_output(data_dir: &Path, args: &[&str]) -> Output {
    cli_command(data_dir, args).output().unwrap()
}

/// A tenant `acme` created and connected to `hubspot` with `token`, through the command line.
pub fn connected_tenant(data_dir: &Path, hubspot: &hubspot_emulator::Emulator, token: &str) {
    cli(data_dir, &["tenant", "create", "acme"]);
    cli(
        data_dir,
        &[
            "settings",
            "acme",
            "--hubspot-url",
            &hubspot.base_url(),
            "--token",
            token,
        ],
    );
}

/// Runs the built binary over `data_dir`; returns stdout, panicking with stderr on failure.
pub fn cli(data_dir: &Path, args: &[&str]) -> String {
    let out = cli_output(data_dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh data directory whose compiled-component cache is a copy of `cache`, so a test does
/// not compile the plugin again.
pub fn data_dir_with_cache(cache: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cache");
    std::fs::create_dir_all(&target).unwrap();
    for entry in std::fs::read_dir(cache).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
    }
    dir
}

/// A fresh data directory; the plugin is compiled at most once per test binary (into the
/// compiled-component cache every data directory of this user shares).
pub fn warm_data_dir() -> tempfile::TempDir {
    static WARM: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    WARM.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        xentral_host::XentralHost::new(
            dir.path(),
            test_key(),
            std::sync::Arc::new(xentral_host::SystemClock),
        )
        .unwrap();
    });
    tempfile::tempdir().unwrap()
}
