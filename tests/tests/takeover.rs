//! A xentral that ran the old HubSpot module: its tables (`hubspot_contacts`, `hubspot_deals`,
//! `hubspot_request_queues`, `hubspot_events`, `hs_mapping_leads`) are still there. Connecting
//! works, the old id maps become our links, the first sync creates no duplicate on either
//! side, and the old tables are left exactly as they were.

mod common;

use std::collections::BTreeMap;

use common::{Backend, TENANT, World, both_backends};
use hubspot_emulator::ObjectType;
use xentral_erp::Value;
use xentral_host::report::Job;
use xentral_host::tenant::MysqlSetup;

/// The old module's tables, as its queries use them.
const OLD_TABLES: &[&str] = &[
    "CREATE TABLE hubspot_contacts (id INT PRIMARY KEY, hs_contact_id VARCHAR(32), created_at DATETIME, address_id INT, type VARCHAR(32), hidden INT, data TEXT)",
    "CREATE TABLE hubspot_deals (id INT PRIMARY KEY, hs_deal_id VARCHAR(32), created_at DATETIME, wiedervorlage_id INT, hidden INT)",
    "CREATE TABLE hubspot_request_queues (id INT PRIMARY KEY, command TEXT, on_after_done TEXT, runner VARCHAR(64), not_before DATETIME, check_sum VARCHAR(64), call_type VARCHAR(32), try INT, completed INT, deleted INT)",
    "CREATE TABLE hubspot_events (id INT PRIMARY KEY, event TEXT, created_at DATETIME)",
    "CREATE TABLE hs_mapping_leads (id INT PRIMARY KEY, label VARCHAR(255), value VARCHAR(255), type VARCHAR(32), wiedervorlage_stage_id INT, wiedervorlage_view_id INT, is_system INT, setting_scope VARCHAR(32))",
];

fn props(p: &[(&str, &str)]) -> BTreeMap<String, String> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Every row of every old table, to prove they are left untouched.
fn old_state(w: &World) -> Vec<Vec<Value>> {
    let mut db = w.db();
    let mut all = Vec::new();
    for t in [
        "hubspot_contacts",
        "hubspot_deals",
        "hubspot_request_queues",
        "hubspot_events",
        "hs_mapping_leads",
    ] {
        all.extend(
            db.query(&format!("SELECT * FROM {t} ORDER BY id"), &[])
                .unwrap()
                .rows,
        );
    }
    all
}

/// What the old module left: addresses and a resubmission linked to HubSpot records, one
/// unlinked row (`hidden = 1`), one row pointing at a deleted address, and its other tables.
struct OldInstall {
    /// Linked address whose e-mail matches the contact's.
    ann: i64,
    /// Linked address whose e-mail differs from the contact's (e-mail matching would miss it).
    bob: i64,
    ann_contact: String,
    bob_contact: String,
    /// Unlinked by the old module: synced as new.
    carl_contact: String,
    deal: String,
    resubmission: i64,
}

fn old_install(w: &World) -> OldInstall {
    let mut db = w.db();
    for sql in OLD_TABLES {
        db.execute(sql, &[]).unwrap();
    }
    let address = |db: &mut dyn xentral_erp::Database, first: &str, email: &str| {
        xentral_erp::ui::add_address(
            db,
            &xentral_erp::ui::NewAddress {
                name: format!("{first} Old"),
                vorname: first.into(),
                nachname: "Old".into(),
                email: email.into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id
    };
    let ann = address(db.as_mut(), "Ann", "ann@example.com");
    let bob = address(db.as_mut(), "Bob", "bob@old-mail.example");
    let carl = address(db.as_mut(), "Carl", "carl@xentral.example");
    let dora = address(db.as_mut(), "Dora", "dora@example.com");
    xentral_erp::ui::delete_address(db.as_mut(), dora).unwrap();
    let contact = |email: &str, first: &str| {
        w.hubspot
            .create_object(
                ObjectType::Contacts,
                props(&[("email", email), ("firstname", first), ("lastname", "Old")]),
            )
            .unwrap()
    };
    let ann_contact = contact("ann@example.com", "Ann");
    let bob_contact = contact("bob@new-mail.example", "Bob");
    let carl_contact = contact("carl@hubspot.example", "Carl");
    let dora_contact = contact("dora@example.com", "Dora");
    let resubmission = xentral_erp::ui::add_resubmission(
        db.as_mut(),
        &xentral_erp::ui::NewResubmission {
            bezeichnung: "Big order".into(),
            betrag: Some("1000.00".into()),
            adresse: ann,
            ..Default::default()
        },
        w.today().and_hms_opt(9, 0, 0).unwrap(),
    )
    .unwrap()
    .id;
    let deal = w
        .hubspot
        .create_object(
            ObjectType::Deals,
            props(&[
                ("dealname", "Big order"),
                ("amount", "1000"),
                ("pipeline", "default"),
                ("dealstage", "appointmentscheduled"),
            ]),
        )
        .unwrap();
    let rows: Vec<(String, Vec<Value>)> = vec![
        (
            "INSERT INTO hubspot_contacts (id, hs_contact_id, address_id, type, hidden) VALUES (?, ?, ?, 'address', ?)".into(),
            vec![1.into(), ann_contact.as_str().into(), ann.into(), 0.into()],
        ),
        (
            "INSERT INTO hubspot_contacts (id, hs_contact_id, address_id, type, hidden) VALUES (?, ?, ?, 'address', ?)".into(),
            vec![2.into(), bob_contact.as_str().into(), bob.into(), 0.into()],
        ),
        (
            "INSERT INTO hubspot_contacts (id, hs_contact_id, address_id, type, hidden) VALUES (?, ?, ?, 'address', ?)".into(),
            vec![3.into(), carl_contact.as_str().into(), carl.into(), 1.into()],
        ),
        (
            "INSERT INTO hubspot_contacts (id, hs_contact_id, address_id, type, hidden) VALUES (?, ?, ?, 'address', ?)".into(),
            vec![4.into(), dora_contact.as_str().into(), dora.into(), 0.into()],
        ),
        (
            "INSERT INTO hubspot_deals (id, hs_deal_id, wiedervorlage_id, hidden) VALUES (1, ?, ?, 0)".into(),
            vec![deal.as_str().into(), resubmission.into()],
        ),
        (
            "INSERT INTO hubspot_request_queues (id, command, runner, try, completed, deleted) VALUES (1, 'updateContact', 'contact', 3, 1, 0)".into(),
            vec![],
        ),
        (
            "INSERT INTO hubspot_events (id, event) VALUES (1, 'old log line')".into(),
            vec![],
        ),
        (
            "INSERT INTO hs_mapping_leads (id, label, value, type, is_system) VALUES (1, 'Open', 'OPEN', 'status', 1)".into(),
            vec![],
        ),
    ];
    for (sql, params) in rows {
        db.execute(&sql, &params).unwrap();
    }
    drop(db);
    // On MariaDB the host grants the plugin's account SELECT on the old tables only when
    // they exist; a tenant connected before they appeared is connected again (`set-db`).
    if w.backend == Backend::MariaDb {
        let url = w.scratch.as_ref().unwrap().url().to_string();
        w.host
            .set_tenant_database(
                TENANT,
                MysqlSetup {
                    database: &url,
                    plugin_account: None,
                },
            )
            .unwrap();
    }
    OldInstall {
        ann,
        bob,
        ann_contact,
        bob_contact,
        carl_contact,
        deal,
        resubmission,
    }
}

both_backends! {
    fn connecting_takes_the_old_links_over_and_leaves_the_old_tables_alone(backend) {
        let w = World::on(backend);
        let old = old_install(&w);
        let before = old_state(&w);
        let report = w.connect();
        assert!(
            report.changes.iter().any(|c| c.starts_with(
                "took over 2 contact, 0 company and 1 deal links from the old HubSpot module (1 of its rows"
            )),
            "{:#?}",
            report.changes
        );
        assert_eq!(w.linked_address(&old.ann_contact), Some(old.ann));
        assert_eq!(w.linked_address(&old.bob_contact), Some(old.bob));
        assert_eq!(w.linked_address(&old.carl_contact), None, "hidden = 1 is unlinked");
        let again = w.connect();
        assert!(
            !again.changes.iter().any(|c| c.starts_with("took over")),
            "{:#?}",
            again.changes
        );
        assert_eq!(old_state(&w), before);
    }
}

both_backends! {
    fn the_first_sync_after_the_switch_creates_no_duplicate(backend) {
        let w = World::on(backend);
        let old = old_install(&w);
        w.connect();
        let addresses = w.count("SELECT COUNT(*) FROM adresse");
        let contacts = w.contacts().len();

        let r = w.run(Job::SyncContacts);
        // Only Carl (unlinked by the old module, no e-mail match) is new in xentral; Dora's
        // address is deleted, so her contact arrives as a new address too.
        assert_eq!(r.xentral.created, 2, "{r:#?}");
        assert_eq!(r.hubspot.created, 0, "{r:#?}");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), addresses + 2);
        assert_eq!(w.contacts().len(), contacts);
        assert_eq!(w.linked_address(&old.bob_contact), Some(old.bob));
        // The link decides, not the e-mail: xentral (the default winner) keeps its e-mail.
        assert_eq!(w.address(old.bob, "email"), "bob@old-mail.example");
        assert!(w.linked_address(&old.carl_contact).is_some());

        let r = w.run(Job::SyncDeals);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(r.hubspot.created, 0, "{r:#?}");
        assert_eq!(w.count("SELECT COUNT(*) FROM wiedervorlage"), 1);
        assert_eq!(w.hubspot.objects(ObjectType::Deals).len(), 1);
        assert_eq!(
            w.count(&format!(
                "SELECT wiedervorlage_id FROM hubspot_sync_deal_links WHERE hs_deal_id = '{}'",
                old.deal
            )),
            old.resubmission
        );
    }
}

both_backends! {
    fn a_tenant_without_the_old_module_takes_nothing_over(backend) {
        let w = World::on(backend);
        let report = w.connect();
        assert!(
            !report.changes.iter().any(|c| c.starts_with("took over")),
            "{:#?}",
            report.changes
        );
    }
}
