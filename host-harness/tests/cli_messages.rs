//! What the command line prints and how it ends, as an operator meets it.

mod common;

use std::process::Stdio;

use common::{cli, warm_data_dir};
use hubspot_emulator::{Emulator, EmulatorConfig, TokenConfig};

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let dir = warm_data_dir();
    cli(dir.path(), &["tenant", "create", "acme"]);
    for args in [&["status", "acme"][..], &["tenant", "list"][..]] {
        // `… | true`: the pipe's reader is closed before the command even starts, so its
        // first line meets a closed pipe, every time.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = common::cli_command(dir.path(), args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
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

fn cwasm_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
                .count()
        })
        .unwrap_or(0)
}

fn create_tenant(data: &std::path::Path, cache: &std::path::Path) {
    let out = common::cli_command(data, &["tenant", "create", "acme"])
        .env("XENTRAL_HOST_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_compiled_plugin_is_shared_by_data_directories_in_a_private_cache_only() {
    use std::os::unix::fs::PermissionsExt;
    let shared = tempfile::tempdir().unwrap();
    let cache = shared.path().join("private");
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    create_tenant(one.path(), &cache);
    create_tenant(two.path(), &cache);
    assert_eq!(cwasm_files(&cache), 1, "compiled once, for both");
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(cwasm_files(&one.path().join("cache")), 0);
    assert_eq!(cwasm_files(&two.path().join("cache")), 0);

    // A cache others may write to is never used: code from it would run.
    let open = shared.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let three = tempfile::tempdir().unwrap();
    create_tenant(three.path(), &open);
    assert_eq!(cwasm_files(&open), 0);
    assert_eq!(cwasm_files(&three.path().join("cache")), 1);
}

#[test]
fn settings_start_from_the_old_modules_then_keep_every_flag_not_given() {
    let dir = warm_data_dir();
    let token = "pat-eu1-01d-m0du1e-0000-0000-000000000000";
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(token)],
        ..EmulatorConfig::default()
    })
    .unwrap();
    cli(dir.path(), &["tenant", "create", "acme"]);
    let clock: xentral_host::SharedClock = std::sync::Arc::new(xentral_host::SystemClock);
    let host =
        xentral_host::XentralHost::new(dir.path(), common::test_key(), clock.clone()).unwrap();
    {
        let mut db = host.tenant("acme").unwrap().open_admin_db(&clock).unwrap();
        let group = xentral_erp::ui::create_group(db.as_mut(), "Altkunden", "ALT").unwrap();
        let old = serde_json::json!({
            "hs_sync_addresses": "1",
            "hs_sync_addresses_from": 1_704_067_200,
            "hs_sync_address_status": ["NEW"],
            "hs_sync_deals": "0",
            "hs_contact_grp": group.to_string(),
        });
        db.execute(
            "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('hubspot_settings', ?, 0, 0)",
            &[xentral_erp::Value::Text(old.to_string())],
        )
        .unwrap();
    }
    let first = cli(
        dir.path(),
        &[
            "settings",
            "acme",
            "--hubspot-url",
            &hubspot.base_url(),
            "--token",
            token,
        ],
    );
    assert!(
        first.contains(
            "took over the old HubSpot module's settings: contacts on; contacts-since 2024-01-01T00:00:00Z; lead-status NEW; deals off; group Altkunden"
        ),
        "{first}"
    );
    let saved = || host.tenant("acme").unwrap().config.settings.unwrap();
    let s = saved();
    assert_eq!(
        (s.group.as_str(), s.deals, s.lead_statuses.clone()),
        ("Altkunden", false, vec!["NEW".to_owned()])
    );
    assert_eq!(s.contacts_since.as_deref(), Some("2024-01-01T00:00:00Z"));

    // One flag changes one setting; the old module is not consulted again.
    let second = cli(dir.path(), &["settings", "acme", "--deals", "on"]);
    assert!(!second.contains("old HubSpot module"), "{second}");
    let s = saved();
    assert_eq!(
        (s.group.as_str(), s.deals, s.lead_statuses.clone()),
        ("Altkunden", true, vec!["NEW".to_owned()])
    );
    // An empty value clears a filter.
    cli(
        dir.path(),
        &[
            "settings",
            "acme",
            "--lead-status",
            "",
            "--contacts-since",
            "",
        ],
    );
    let s = saved();
    assert!(
        s.lead_statuses.is_empty() && s.contacts_since.is_none(),
        "{s:?}"
    );
    assert_eq!(s.group, "Altkunden");
}

#[test]
fn data_sync_rules_are_set_by_flags_said_by_settings_and_kept_when_not_given() {
    let dir = warm_data_dir();
    let token = "pat-eu1-ru1e5-0000-0000-0000-000000000000";
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(token)],
        ..EmulatorConfig::default()
    })
    .unwrap();
    common::connected_tenant(dir.path(), &hubspot, token);
    let out = cli(
        dir.path(),
        &[
            "settings",
            "acme",
            "--contacts-direction",
            "to-hubspot",
            "--contacts-conflict-winner",
            "hubspot",
            "--deal-field",
            "amount=to-xentral",
        ],
    );
    assert!(
        out.contains(
            "contacts to-hubspot, hubspot wins a conflict (was: contacts two-way, xentral wins a conflict)"
        ),
        "{out}"
    );
    assert!(
        out.contains("deals two-way, xentral wins a conflict; amount to-xentral (was: deals two-way, xentral wins a conflict)"),
        "{out}"
    );
    // Another flag keeps the rules; `FIELD=two-way` takes a field's direction away.
    let again = cli(
        dir.path(),
        &["settings", "acme", "--deal-field", "amount=two-way"],
    );
    assert!(!again.contains("contacts "), "{again}");
    assert!(
        again.contains("deals two-way, xentral wins a conflict (was: deals two-way, xentral wins a conflict; amount to-xentral)"),
        "{again}"
    );
    let bad = common::cli_output(dir.path(), &["settings", "acme", "--deal-field", "amount"]);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("is not FIELD=DIRECTION"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn status_shows_the_starters_when_the_plugin_cannot_report_its_health() {
    let dir = warm_data_dir();
    let token = "pat-eu1-57a7u5-0000-0000-0000-000000000000";
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(token)],
        ..EmulatorConfig::default()
    })
    .unwrap();
    common::connected_tenant(dir.path(), &hubspot, token);
    let healthy = cli(dir.path(), &["status", "acme"]);
    assert!(healthy.contains("contacts  in sync"), "{healthy}");
    let clock: xentral_host::SharedClock = std::sync::Arc::new(xentral_host::SystemClock);
    let host =
        xentral_host::XentralHost::new(dir.path(), common::test_key(), clock.clone()).unwrap();
    host.tenant("acme")
        .unwrap()
        .open_admin_db(&clock)
        .unwrap()
        .execute("DROP TABLE hubspot_sync_failures", &[])
        .unwrap();
    let out = cli(dir.path(), &["status", "acme"]);
    assert!(
        out.contains("Sync health\n  unavailable: ") && out.contains("hubspot_sync_failures"),
        "{out}"
    );
    assert!(
        out.contains("hubspot_pull_contacts"),
        "the starters are shown: {out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&cli(dir.path(), &["status", "acme", "--json"])).unwrap();
    assert!(json["sync"]["error"].as_str().is_some(), "{json}");
    assert!(
        json["starters"].as_array().is_some_and(|s| s.len() == 3),
        "{json}"
    );
}
