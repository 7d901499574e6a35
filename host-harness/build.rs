//! Builds the guest components (the plugin and the sandbox test guest) for wasm32-wasip2, so a
//! new user never builds a `.wasm` by hand: `cargo run`, `cargo test` and `cargo clippy` all
//! get fresh components. The nested cargo uses its own target directory so it never waits on
//! the lock held by the outer build.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("host-harness sits in the workspace");
    for dir in [
        "wit",
        "plugin/src",
        "plugin/Cargo.toml",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    for dir in [
        "test-guest/src",
        "test-guest/Cargo.toml",
        "compat-guest/src",
        "compat-guest/Cargo.toml",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(dir).display()
        );
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| {
            if d.is_absolute() {
                d
            } else {
                workspace.join(d)
            }
        })
        .unwrap_or_else(|| workspace.join("target"))
        .join("guest");

    ensure_target_installed();
    build_guests(workspace, &target_dir);

    let out = target_dir.join(TARGET).join(PROFILE);
    for (crate_file, var) in [
        ("xentral_hubspot_plugin.wasm", "XENTRAL_PLUGIN_WASM"),
        ("xentral_test_guest.wasm", "XENTRAL_TEST_GUEST_WASM"),
        ("xentral_compat_guest.wasm", "XENTRAL_COMPAT_GUEST_WASM"),
    ] {
        let path = out.join(crate_file);
        assert!(path.exists(), "guest build produced no {}", path.display());
        println!("cargo:rustc-env={var}={}", path.display());
    }
}

/// Makes sure the wasm target's standard library is installed for the active toolchain.
fn ensure_target_installed() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if libdir.as_deref().is_some_and(Path::exists) {
        return;
    }
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        panic!(
            "the {TARGET} target is not installed and `rustup target add {TARGET}` failed; \
             run `rustup target add {TARGET}` (or `rustup toolchain install` in the repository) and build again"
        );
    }
}

/// Runs a nested `cargo build` for the guest crates.
fn build_guests(workspace: &Path, target_dir: &Path) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .args(["-p", "xentral-hubspot-plugin", "-p", "xentral-test-guest"])
        .args(["-p", "xentral-compat-guest"])
        .arg("--target-dir")
        .arg(target_dir);
    // Settings of the outer build that must not leak into the guest build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_FEATURE_") || key.starts_with("CARGO_CFG_") {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .status()
        .expect("could not run cargo for the guest build");
    assert!(
        status.success(),
        "building the guest components failed (see above)"
    );
}
