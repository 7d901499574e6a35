//! Connecting a tenant to HubSpot: configure and refresh, end to end.

mod common;

use common::{TENANT, TOKEN, World, both_backends};
use xentral_host::report::PluginError;
use xentral_host::{HUBSPOT_CREDENTIAL, JobError};

both_backends! {
    fn rejected_token_gives_a_clear_error_and_changes_nothing(backend) {
        let w = World::on(backend);
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
        let secrets = tenant.secrets().load().unwrap();
        assert!(!secrets.contains_key(HUBSPOT_CREDENTIAL), "the token was not kept");
        assert!(tenant.config.hubspot_url.is_none());
    }
}

both_backends! {
    fn connect_creates_group_starters_free_fields_and_says_so(backend) {
        let w = World::on(backend);
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
            .query("SELECT wert FROM konfiguration WHERE name = 'hubspot_sync_settings'", &[])
            .unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&settings.rows[0][0].to_text().unwrap()).unwrap();
        assert_eq!(json["hs_contact_grp"], "Hubspot");
        assert_eq!(json["hs_sync_addresses"], true);
    }
}

both_backends! {
    fn connecting_again_changes_nothing_that_is_right(backend) {
        let w = World::on(backend);
        let first = w.connect();
        assert!(!first.changes.is_empty());
        let again = w.connect();
        assert_eq!(again.changes, Vec::<String>::new());
        assert_eq!(w.count("SELECT COUNT(*) FROM prozessstarter"), 3);
        assert_eq!(w.count("SELECT COUNT(*) FROM gruppen"), 1);
    }
}

both_backends! {
    fn free_fields_in_use_are_left_alone_with_exact_instructions(backend) {
        let w = World::on(backend);
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
}

both_backends! {
    fn unknown_lead_status_is_refused(backend) {
        let w = World::on(backend);
        let mut s = w.settings();
        s.lead_statuses = vec!["NEW".into(), "HOT".into()];
        let err = w.configure_with(TOKEN, &s).result.unwrap_err();
        assert!(err.to_string().contains("'HOT' is not a lead status"), "{err}");
    }
}

both_backends! {
    fn refresh_stores_lead_statuses_and_lifecycle_stages(backend) {
        let w = World::on(backend);
        w.connect();
        let inv = w.host.refresh(TENANT).unwrap();
        let report = inv.result.unwrap();
        assert_eq!(report.lead_statuses, 8);
        assert_eq!(report.lifecycle_stages, 8);
        assert_eq!(
            w.count("SELECT COUNT(*) FROM hubspot_sync_options WHERE type = 'lead_status'"),
            8
        );
    }
}

both_backends! {
    fn token_never_reaches_database_logs_or_reports(backend) {
        let w = World::on(backend);
        w.hubspot_contact(&[("email", "a@example.com"), ("firstname", "Ann")]);
        let configure = w.configure_with(TOKEN, &w.settings());
        assert!(configure.result.is_ok(), "{:?}", configure.result);
        let sync = w.run_raw(xentral_host::report::Job::SyncContacts, Default::default());
        let report = sync.result.as_ref().expect("the sync ran with the token");
        assert_eq!(report.xentral.created, 1, "the token reached HubSpot: {report:#?}");
        assert!(!sync.log.is_empty(), "there was a log to look at");
        let everything = format!(
            "{:?}{:?}{:?}{:?}",
            configure.result, configure.log, sync.result, sync.log
        );
        assert!(!everything.contains(TOKEN));
        assert!(!w.database_contains(TOKEN));
        let tenant_json =
            std::fs::read_to_string(w.host.tenant(TENANT).unwrap().dir().join("tenant.json")).unwrap();
        assert!(!tenant_json.contains(TOKEN));
    }
}

/// Saves settings with `ca` as the tenant's extra CA.
fn configure_trusting(
    w: &World,
    ca: Option<&str>,
) -> xentral_host::Invocation<xentral_host::report::ConfigureReport> {
    let s = w.settings();
    w.host
        .configure(
            TENANT,
            &xentral_host::Connection {
                hubspot_url: Some(&s.hubspot_url),
                token: Some(TOKEN),
                extra_ca_pem: ca,
            },
            &s,
        )
        .unwrap()
}

fn hubspot_error(inv: &xentral_host::Invocation<xentral_host::report::ConfigureReport>) -> String {
    match &inv.result {
        Err(JobError::Plugin(PluginError::Hubspot(m))) => m.clone(),
        other => panic!("expected a HubSpot error, got {other:?}"),
    }
}

#[test]
fn a_portal_whose_certificate_another_ca_signed_is_refused_and_nothing_is_kept() {
    let w = World::new();
    let other = hubspot_emulator::Emulator::start(hubspot_emulator::EmulatorConfig {
        tls: true,
        ..Default::default()
    })
    .unwrap();
    let inv = configure_trusting(&w, other.ca_pem());
    let m = hubspot_error(&inv);
    let origin = format!("https://{}", w.hubspot.addr());
    assert!(m.contains(&format!("TLS with {origin}")), "{m}");
    assert!(m.contains("invalid peer certificate"), "{m}");
    assert!(m.contains("the tenant's extra CA"), "{m}");
    let tenant = w.host.tenant(TENANT).unwrap();
    assert!(tenant.config.hubspot_url.is_none());
    assert!(tenant.config.extra_ca_pem.is_none());
    assert!(tenant.secrets().load().unwrap().is_empty());
    assert_eq!(w.hubspot.stats().total, 0, "no request got through TLS");
}

#[test]
fn without_an_extra_ca_only_public_roots_are_trusted() {
    let w = World::new();
    let inv = configure_trusting(&w, None);
    let m = hubspot_error(&inv);
    assert!(m.contains("invalid peer certificate"), "{m}");
    assert!(m.contains("give its CA with --ca-file"), "{m}");
    assert_eq!(w.hubspot.stats().total, 0);
}

#[test]
fn plain_http_to_a_loopback_emulator_is_allowed() {
    let w = World::with(|c| c.tls = false);
    assert!(w.settings().hubspot_url.starts_with("http://127.0.0.1:"));
    let report = w.connect();
    assert_eq!(report.message, "Api key for Hubspot has been updated.");
}

both_backends! {
    fn refresh_with_a_revoked_token_is_a_credential_error(backend) {
        let w = World::on(backend);
        w.connect();
        w.hubspot.set_faults(hubspot_emulator::FaultPlan::scripted(vec![
            hubspot_emulator::ScriptedFault::new(hubspot_emulator::FaultKind::Status(401))
                .path("/contacts/hs_lead_status"),
        ]));
        let err = w.host.refresh(TENANT).unwrap().result.unwrap_err();
        assert!(
            matches!(&err, JobError::Plugin(PluginError::Unauthorized(m)) if m.contains("hs_lead_status")),
            "{err:?}"
        );
    }
}

both_backends! {
    fn saving_settings_without_a_token_says_what_was_updated(backend) {
        let w = World::on(backend);
        w.connect();
        let save = |settings: &xentral_host::report::Settings| {
            w.host
                .configure(
                    TENANT,
                    &xentral_host::Connection {
                        hubspot_url: None,
                        token: None,
                        extra_ca_pem: None,
                    },
                    settings,
                )
                .unwrap()
                .result
                .unwrap()
        };
        let same = save(&w.settings());
        assert_eq!(
            same.message,
            "Nothing to update: the settings are as saved; the saved access token was checked and kept."
        );
        let changed = save(&xentral_host::report::Settings { deals: false, ..w.settings() });
        assert_eq!(
            changed.message,
            "Settings updated; the saved access token was checked and kept."
        );
        assert!(changed.changes.contains(&"stored the settings".to_owned()), "{changed:?}");
    }
}

both_backends! {
    fn a_contacts_start_time_in_the_future_is_warned_about(backend) {
        let w = World::on(backend);
        let future = w.connect_with(&xentral_host::report::Settings {
            contacts_since: Some("2027-01-01T00:00:00Z".into()),
            ..w.settings()
        });
        assert!(
            future.warnings.iter().any(|m| m.contains("2027-01-01T00:00:00+00:00 lies in the future")),
            "{future:?}"
        );
        let past = w.connect_with(&xentral_host::report::Settings {
            contacts_since: Some("2025-01-01T00:00:00Z".into()),
            ..w.settings()
        });
        assert!(!past.warnings.iter().any(|m| m.contains("future")), "{past:?}");
    }
}

#[test]
fn an_unknown_time_zone_is_a_clear_error_never_silently_berlin() {
    let w = World::new();
    w.connect();
    let mut tenant = w.host.tenant(TENANT).unwrap();
    tenant.config.time_zone = "Mars/Olympus_Mons".into();
    tenant.save().unwrap();
    let inv = w.run_raw(xentral_host::report::Job::SyncContacts, Default::default());
    let err = inv.result.unwrap_err();
    assert!(
        matches!(&err, JobError::Plugin(PluginError::InvalidSettings(m)) if m.contains("'Mars/Olympus_Mons' is not an IANA time zone")),
        "{err:?}"
    );
}
