//! What the command line prints and how it ends, as an operator meets it.

mod common;

use std::process::{Command, Stdio};

use common::{TEST_KEY, cli, warm_data_dir};
use hubspot_emulator::{Emulator, EmulatorConfig, TokenConfig};

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let dir = warm_data_dir();
    cli(dir.path(), &["tenant", "create", "acme"]);
    for args in [&["status", "acme"][..], &["tenant", "list"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xentral-host"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("XENTRAL_HOST_KEY", TEST_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `… | true`: the reader is gone before the first line is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn stages_list_names_the_mode_as_the_command_line_spells_it() {
    let dir = warm_data_dir();
    let token = "pat-eu1-57a6e5-0000-0000-0000-000000000000";
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(token)],
        ..EmulatorConfig::default()
    })
    .unwrap();
    cli(dir.path(), &["tenant", "create", "acme"]);
    let url = hubspot.base_url();
    cli(
        dir.path(),
        &[
            "settings",
            "acme",
            "--hubspot-url",
            &url,
            "--token",
            token,
            "--stage-mode",
            "user-defined",
        ],
    );
    let listed = cli(dir.path(), &["stages", "acme", "list"]);
    assert!(
        listed.contains("xentral stages (user-defined mode):"),
        "{listed}"
    );
}
