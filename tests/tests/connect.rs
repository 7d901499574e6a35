//! Connecting a tenant to HubSpot: configure and refresh, end to end.

mod common;

use common::{TENANT, TOKEN, World};
use xentral_host::JobError;
use xentral_host::report::PluginError;

#[test]
fn rejected_token_gives_a_clear_error_and_changes_nothing() {
    let w = World::new();
    let inv = w.configure_with("pat-wrong", &w.settings());
    let err = inv.result.unwrap_err();
    let JobError::Plugin(PluginError::Unauthorized(message)) = &err else {
        panic!("expected an auth error, got {err:?}")
    };
    assert!(message.starts_with("HubSpot rejected the access token"), "{message}");
    assert_eq!(w.count("SELECT COUNT(*) FROM konfiguration WHERE name LIKE 'hubspot%'"), 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM prozessstarter"), 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM gruppen"), 0);
    let tenant = w.host.tenant(TENANT).unwrap();
    assert!(tenant.secrets().load().unwrap().is_empty(), "the token was not kept");
    assert!(tenant.config.hubspot_url.is_none());
}

#[test]
fn connect_creates_group_starters_free_fields_and_says_so() {
    let w = World::new();
    let report = w.connect();
    assert_eq!(report.message, "Api key for Hubspot has been updated.");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(w.count("SELECT COUNT(*) FROM gruppen WHERE name = 'Hubspot' AND art = 'gruppe'"), 1);
    let starters = w
        .db()
        .query(
            "SELECT bezeichnung, parameter, periode, aktiv FROM prozessstarter ORDER BY id",
            &[],
        )
        .unwrap();
    let starters: Vec<Vec<String>> = starters
        .rows
        .iter()
        .map(|r| r.iter().map(|v| v.to_text().unwrap_or_default()).collect())
        .collect();
    assert_eq!(
        starters,
        vec![
            vec!["Hubspot Process Queues", "hubspot_process", "10", "1"],
            vec!["Hubspot Synchronize Contacts", "hubspot_pull_contacts", "60", "1"],
            vec!["Hubspot Synchronize Deals", "hubspot_pull_deals", "60", "1"],
        ]
    );
    let label = w.count(
        "SELECT COUNT(*) FROM firmendaten_werte WHERE name = 'adressefreifeld1' AND wert LIKE 'HubSpot Lead Status|NEW|%'",
    );
    assert_eq!(label, 1);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM firmendaten_werte WHERE name = 'adressetabellezusatz1' AND wert = 'freifeld1'"),
        1
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM konfiguration WHERE name = 'hubspot_lr_field' AND wert = 'adressefreifeld2'"),
        1
    );
    let settings = w
        .db()
        .query("SELECT wert FROM konfiguration WHERE name = 'hubspot_settings'", &[])
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&settings.rows[0][0].to_text().unwrap()).unwrap();
    assert_eq!(json["hs_contact_grp"], "Hubspot");
    assert_eq!(json["hs_sync_addresses"], true);
}

#[test]
fn connecting_again_changes_nothing_that_is_right() {
    let w = World::new();
    let first = w.connect();
    assert!(!first.changes.is_empty());
    let again = w.connect();
    assert_eq!(again.changes, Vec::<String>::new());
    assert_eq!(w.count("SELECT COUNT(*) FROM prozessstarter"), 3);
    assert_eq!(w.count("SELECT COUNT(*) FROM gruppen"), 1);
}

#[test]
fn free_fields_in_use_are_left_alone_with_exact_instructions() {
    let w = World::new();
    w.db()
        .execute(
            "INSERT INTO firmendaten_werte (name, typ, typ1, typ2, wert, default_value) VALUES ('adressefreifeld1', 'string', '', '', 'Kundenklasse', '')",
            &[],
        )
        .unwrap();
    let report = w.connect();
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].contains("hubspot_ls_field"), "{}", report.warnings[0]);
    assert!(report.warnings[0].contains("adressefreifeld2"), "{}", report.warnings[0]);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM firmendaten_werte WHERE name = 'adressefreifeld1' AND wert = 'Kundenklasse'"),
        1
    );
}

#[test]
fn unknown_lead_status_is_refused() {
    let w = World::new();
    let mut s = w.settings();
    s.lead_statuses = vec!["NEW".into(), "HOT".into()];
    let err = w.configure_with(TOKEN, &s).result.unwrap_err();
    assert!(err.to_string().contains("'HOT' is not a lead status"), "{err}");
}

#[test]
fn refresh_stores_lead_statuses_and_lifecycle_stages() {
    let w = World::new();
    w.connect();
    let inv = w.host.refresh(TENANT).unwrap();
    let report = inv.result.unwrap();
    assert_eq!(report.lead_statuses, 8);
    assert_eq!(report.lifecycle_stages, 8);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM hubspot_options WHERE type = 'lead_status'"),
        8
    );
}

#[test]
fn token_never_reaches_database_logs_or_reports() {
    let w = World::new();
    w.hubspot_contact(&[("email", "a@example.com"), ("firstname", "Ann")]);
    let configure = w.configure_with(TOKEN, &w.settings());
    let sync = w.run_raw(xentral_host::report::Job::SyncContacts, Default::default());
    let everything = format!(
        "{:?}{:?}{:?}{:?}",
        configure.result, configure.log, sync.result, sync.log
    );
    assert!(!everything.contains(TOKEN));
    let db = std::fs::read(w.host.tenant(TENANT).unwrap().db_path()).unwrap();
    assert!(!db.windows(TOKEN.len()).any(|win| win == TOKEN.as_bytes()));
    let tenant_json =
        std::fs::read_to_string(w.host.tenant(TENANT).unwrap().dir().join("tenant.json")).unwrap();
    assert!(!tenant_json.contains(TOKEN));
}
