//! HubSpot's API versions: the plugin speaks the `2026-03` date version by default and the
//! legacy v3/v4 paths when told to; every request of a job uses the one family the settings
//! name (counted by the emulator, named in the job report), and a tenant whose settings were
//! stored before there was a choice gets the default.

mod common;

use common::{Backend, World, both_backends};
use hubspot_emulator::ObjectType;
use xentral_erp::Value;
use xentral_host::JobError;
use xentral_host::report::{Entity, Job, JobReport, PluginError, Settings};

/// Whether `endpoint` (`/crm/…`) belongs to the legacy family or to the 2026-03 one.
fn is_legacy(endpoint: &str) -> bool {
    endpoint.starts_with("/crm/v3/") || endpoint.starts_with("/crm/v4/")
}

fn is_dated(endpoint: &str) -> bool {
    [
        "objects",
        "properties",
        "pipelines",
        "associations",
        "owners",
    ]
    .iter()
    .any(|family| {
        let base = format!("/crm/{family}/2026-03");
        endpoint == base || endpoint.starts_with(&format!("{base}/"))
    })
}

/// Asserts every request HubSpot received, and every one the reports name, is of one family.
fn assert_family(w: &World, reports: &[JobReport], of_family: fn(&str) -> bool) {
    let stats = w.hubspot.stats();
    assert!(!stats.calls.is_empty());
    for call in &stats.calls {
        assert!(
            of_family(&call.endpoint),
            "{} {}",
            call.method,
            call.endpoint
        );
    }
    for r in reports {
        for endpoint in r.api_calls.iter().map(|c| &c.reason) {
            let path = endpoint.split_once(' ').map_or("", |(_, p)| p);
            assert!(of_family(path), "reported {endpoint}");
        }
    }
}

fn settings_with(w: &World, api_version: &str) -> Settings {
    Settings {
        api_version: api_version.into(),
        ..w.settings()
    }
}

/// A HubSpot contact with a deal associated with it, pulled; a xentral address and a
/// resubmission of it, pushed. Returns the reports.
fn round_trip(w: &World) -> Vec<JobReport> {
    let contact = w.hubspot_contact(&[("email", "ada@example.com"), ("firstname", "Ada")]);
    let deal = w
        .hubspot
        .create_object(
            ObjectType::Deals,
            [
                ("dealname", "Order"),
                ("pipeline", "default"),
                ("dealstage", "qualifiedtobuy"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        )
        .unwrap();
    assert!(w.hubspot.associate(ObjectType::Deals, &deal, &contact));
    let mut reports = vec![w.run(Job::SyncContacts), w.run(Job::SyncDeals)];
    let address = w.linked_address(&contact).expect("the contact was pulled");
    let resubmission = w
        .db()
        .query(
            "SELECT wiedervorlage_id FROM hubspot_sync_deal_links WHERE hs_deal_id = ?",
            &[Value::Text(deal.clone())],
        )
        .unwrap()
        .rows[0][0]
        .as_i64()
        .unwrap();
    let linked_to = w
        .db()
        .query(
            "SELECT adresse FROM wiedervorlage WHERE id = ?",
            &[Value::Integer(resubmission)],
        )
        .unwrap()
        .rows[0][0]
        .as_i64();
    assert_eq!(
        linked_to,
        Some(address),
        "the deal's contact (its association) was read"
    );
    let pushed = w.add_address("Bea", "Berg", "bea@example.com");
    w.edit_address(address, &[("telefon", "+49 30 1234")]);
    reports.push(w.run(Job::ProcessQueue));
    let bea = w.linked_contact(pushed).expect("the address was pushed");
    assert_eq!(w.hubspot_prop(&bea, "lastname"), "Berg");
    assert_eq!(w.hubspot_prop(&contact, "phone"), "+49 30 1234");
    // A resubmission of the pushed address becomes a deal associated with its contact.
    let stage = w
        .db()
        .query(
            "SELECT stages FROM wiedervorlage WHERE id = ?",
            &[Value::Integer(resubmission)],
        )
        .unwrap()
        .rows[0][0]
        .as_i64()
        .unwrap();
    let change = xentral_erp::ui::add_resubmission(
        w.db().as_mut(),
        &xentral_erp::ui::NewResubmission {
            bezeichnung: "Renewal".into(),
            stages: stage,
            adresse: pushed,
            ..Default::default()
        },
        chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .unwrap()
            .and_hms_opt(11, 0, 0)
            .unwrap(),
    )
    .unwrap();
    w.record_changed(Entity::Resubmission, change.id);
    let r = w.run(Job::ProcessQueue);
    assert_eq!(r.hubspot.created, 1, "{r:#?}");
    let new_deal = w
        .db()
        .query(
            "SELECT hs_deal_id FROM hubspot_sync_deal_links WHERE wiedervorlage_id = ?",
            &[Value::Integer(change.id)],
        )
        .unwrap()
        .rows[0][0]
        .to_text()
        .unwrap();
    assert_eq!(w.hubspot.associations(ObjectType::Deals, &new_deal), [bea]);
    reports.push(r);
    reports
}

both_backends! {
    fn the_default_speaks_the_2026_03_version_only(backend) {
        let w = World::on(backend);
        let report = w.connect();
        assert!(
            report.changes.iter().any(|c| c == "calls HubSpot's API version 2026-03"),
            "{report:#?}"
        );
        let reports = round_trip(&w);
        assert_family(&w, &reports, is_dated);
    }
}

both_backends! {
    fn legacy_speaks_the_v3_and_v4_paths_only(backend) {
        let w = World::on(backend);
        let report = w.connect_with(&settings_with(&w, "legacy"));
        assert!(
            report.changes.iter().any(|c| c == "calls HubSpot's API version legacy"),
            "{report:#?}"
        );
        let reports = round_trip(&w);
        assert_family(&w, &reports, is_legacy);
    }
}

#[test]
fn switching_the_version_says_so_and_the_next_job_uses_it() {
    let w = World::on(Backend::Sqlite);
    w.connect_with(&settings_with(&w, "legacy"));
    let report = w.connect();
    assert!(
        report
            .changes
            .iter()
            .any(|c| c == "calls HubSpot's API version 2026-03 (was legacy)"),
        "{report:#?}"
    );
    w.hubspot.reset_stats();
    w.run(Job::SyncContacts);
    assert_family(&w, &[], is_dated);
}

#[test]
fn an_unknown_version_is_refused_naming_the_ones_spoken_and_nothing_is_stored() {
    let w = World::on(Backend::Sqlite);
    let inv = w.configure_with(common::TOKEN, &settings_with(&w, "2025-09"));
    let err = inv.result.unwrap_err();
    assert!(
        matches!(&err, JobError::Plugin(PluginError::InvalidSettings(m))
            if m.contains("'2025-09'") && m.contains("2026-03 or legacy")),
        "{err:?}"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM konfiguration WHERE name = 'hubspot_sync_settings'"),
        0
    );
}

#[test]
fn settings_stored_before_there_was_a_version_get_the_default() {
    let w = World::on(Backend::Sqlite);
    w.connect_with(&settings_with(&w, "legacy"));
    // As an older plugin stored them: no `hs_api_version`.
    let mut db = w.db();
    let raw = db
        .query(
            "SELECT wert FROM konfiguration WHERE name = 'hubspot_sync_settings'",
            &[],
        )
        .unwrap()
        .rows[0][0]
        .to_text()
        .unwrap();
    let mut stored: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(stored["hs_api_version"], "legacy");
    stored.as_object_mut().unwrap().remove("hs_api_version");
    db.execute(
        "UPDATE konfiguration SET wert = ? WHERE name = 'hubspot_sync_settings'",
        &[Value::Text(stored.to_string())],
    )
    .unwrap();
    w.hubspot.reset_stats();
    w.run(Job::SyncContacts);
    assert_family(&w, &[], is_dated);
    // And the host's saved settings of an older host (no `api_version`) read as the default.
    let old: Settings = serde_json::from_value(xentral_host::settings_defaults::upgrade_format_1(
        serde_json::json!({
            "hubspot_url": w.settings().hubspot_url, "credential": "hubspot", "contacts": true,
            "contacts_since": null, "lead_statuses": [], "group": "Hubspot", "deals": true,
            "stage_mode": "automatic"
        }),
    ))
    .unwrap();
    assert_eq!(old.api_version, "");
}
