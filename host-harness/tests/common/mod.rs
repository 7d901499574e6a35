//! Helpers shared by the host's integration tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs the built binary over `data_dir`; returns stdout, panicking with stderr on failure.
pub fn cli(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xentral-host"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("XENTRAL_HOST_DATA")
        .output()
        .unwrap();
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
