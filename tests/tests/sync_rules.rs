//! HubSpot Data Sync's settings per object kind: which way contacts and deals flow (two-way,
//! only to xentral, only to HubSpot), who wins a field changed on both sides, and a direction
//! per field. Stored with the settings, said by `settings`, obeyed by every job.

mod common;

use common::{World, both_backends};
use hubspot_emulator::ObjectType;
use xentral_host::JobError;
use xentral_host::report::{
    Entity, FieldDirection, Job, PluginError, Settings, Side, SyncDirection, SyncRule,
};

fn contacts(w: &World, rule: SyncRule) -> Settings {
    Settings {
        contact_rule: rule,
        ..w.settings()
    }
}

fn one_way(direction: SyncDirection) -> SyncRule {
    SyncRule {
        direction,
        ..SyncRule::default()
    }
}

both_backends! {
    /// Only HubSpot → xentral: HubSpot's contacts and edits arrive; xentral's edits and new
    /// addresses stay in xentral, each left out with its reason.
    fn contacts_synced_to_xentral_only_never_write_hubspot(backend) {
        let w = World::on(backend);
        let report = w.connect_with(&contacts(&w, one_way(SyncDirection::ToXentral)));
        assert!(
            report.changes.iter().any(|c| c == "contacts to-xentral, xentral wins a conflict"),
            "{:?}",
            report.changes
        );
        let id = w.hubspot_contact(&[("email", "t@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).expect("HubSpot's contact arrives");
        w.hubspot_edit(&id, &[("city", "Köln")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.address(a, "ort"), "Köln");

        let writes = w.hubspot_writes();
        w.edit_address(a, &[("ort", "Hamburg")]);
        let queued = w.run(Job::ProcessQueue);
        assert_eq!(queued.hubspot.updated, 0, "{queued:#?}");
        let new = w.add_address("Neu", "Adresse", "neu@x.de");
        let r = w.run(Job::ProcessQueue);
        assert_eq!(
            r.hubspot.excluded_for("contacts sync to xentral only: new addresses are not created in HubSpot"),
            1,
            "{r:#?}"
        );
        let reconciled = w.run(Job::SyncContacts);
        assert_eq!(reconciled.hubspot.created + reconciled.hubspot.updated, 0);
        assert_eq!(w.hubspot_writes(), writes, "nothing is written to HubSpot");
        assert_eq!(w.hubspot_prop(&id, "city"), "Köln");
        assert_eq!(w.address(a, "ort"), "Hamburg", "xentral's edit stays in xentral");
        assert_eq!(w.linked_contact(new), None);
        assert_eq!(w.contacts().len(), 1);
    }
}

both_backends! {
    /// Only xentral → HubSpot: new HubSpot contacts are not imported and HubSpot's edits of
    /// linked ones stay in HubSpot; xentral's addresses and edits go out.
    fn contacts_synced_to_hubspot_only_never_write_xentral(backend) {
        let w = World::on(backend);
        w.connect_with(&contacts(&w, one_way(SyncDirection::ToHubspot)));
        let a = w.add_address("Olga", "Ørsted", "olga@x.dk");
        w.edit_address(a, &[("ort", "Aarhus")]);
        w.run(Job::ProcessQueue);
        let id = w.linked_contact(a).expect("the address goes out");
        assert_eq!(w.hubspot_prop(&id, "city"), "Aarhus");
        let stranger = w.hubspot_contact(&[("email", "new@x.de"), ("firstname", "New")]);
        w.hubspot_edit(&id, &[("city", "Odense")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(
            r.xentral.excluded_for("contacts sync to HubSpot only: new contacts are not created in xentral"),
            1,
            "{r:#?}"
        );
        assert_eq!(r.xentral.created + r.xentral.updated, 0, "{r:#?}");
        assert_eq!(w.linked_address(&stranger), None);
        assert_eq!(w.address(a, "ort"), "Aarhus", "HubSpot's edit stays in HubSpot");
        assert!(!w.database_contains("new@x.de"));
        // xentral's next edit still goes out, over HubSpot's own value.
        w.edit_address(a, &[("ort", "Aalborg")]);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_prop(&id, "city"), "Aalborg");
    }
}

both_backends! {
    /// HubSpot as the conflict winner: a field changed on both sides takes HubSpot's value on
    /// both, and the conflict is stored with HubSpot as the winner.
    fn hubspot_wins_a_conflict_when_told_to(backend) {
        let w = World::on(backend);
        w.connect_with(&contacts(
            &w,
            SyncRule {
                conflict_winner: Side::Hubspot,
                ..SyncRule::default()
            },
        ));
        let id = w.hubspot_contact(&[("email", "c@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        w.hubspot_edit(&id, &[("city", "Köln")]);
        w.edit_address(a, &[("ort", "Hamburg")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.conflicts + r.hubspot.conflicts, 1, "{r:#?}");
        w.run(Job::ProcessQueue);
        assert_eq!(w.address(a, "ort"), "Köln");
        assert_eq!(w.hubspot_prop(&id, "city"), "Köln");
        let conflicts = w.health().contacts().recent_conflicts.clone();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(
            (conflicts[0].field.as_str(), conflicts[0].winner.as_str()),
            ("city", "hubspot")
        );
    }
}

both_backends! {
    /// In a two-way sync one field may flow one way: HubSpot's phone never reaches xentral
    /// while its city does, and xentral's phone goes out.
    fn a_field_with_its_own_direction_flows_only_that_way(backend) {
        let w = World::on(backend);
        w.connect_with(&contacts(
            &w,
            SyncRule {
                fields: vec![FieldDirection { field: "phone".into(), direction: SyncDirection::ToHubspot }],
                ..SyncRule::default()
            },
        ));
        let id = w.hubspot_contact(&[("email", "p@x.de"), ("city", "Berlin"), ("phone", "111")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        assert_eq!(w.address(a, "telefon"), "", "created without the one-way field");
        assert_eq!(w.address(a, "ort"), "Berlin");
        w.hubspot_edit(&id, &[("city", "Köln"), ("phone", "222")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.address(a, "ort"), "Köln");
        assert_eq!(w.address(a, "telefon"), "");
        w.edit_address(a, &[("telefon", "333")]);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_prop(&id, "phone"), "333");
    }
}

both_backends! {
    /// Contacts that sync to HubSpot only pass new HubSpot contacts over; switching to
    /// two-way brings them in (a backfill behind the cursor), and `settings` says both.
    fn switching_contacts_to_two_way_brings_in_the_contacts_passed_over(backend) {
        let w = World::on(backend);
        w.connect_with(&contacts(&w, one_way(SyncDirection::ToHubspot)));
        let passed_over = w.hubspot_contact(&[("email", "late@x.de"), ("firstname", "Late")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.linked_address(&passed_over), None);
        let report = w.connect_with(&contacts(&w, SyncRule::default()));
        assert!(
            report.changes.iter().any(|c| c
                == "contacts two-way, xentral wins a conflict (was: contacts to-hubspot, xentral wins a conflict)"),
            "{:?}",
            report.changes
        );
        assert!(
            report.changes.iter().any(|c| c.contains("read in by the next contact syncs")),
            "{:?}",
            report.changes
        );
        w.run(Job::SyncContacts);
        w.run(Job::SyncContacts);
        assert!(w.linked_address(&passed_over).is_some(), "the passed-over contact arrives");
    }
}

both_backends! {
    /// Deals that sync to xentral only: a new resubmission is not created in HubSpot, with
    /// its reason; HubSpot's deals still arrive.
    fn deals_synced_to_xentral_only_are_not_created_in_hubspot(backend) {
        let w = World::on(backend);
        w.connect_with(&Settings {
            deal_rule: one_way(SyncDirection::ToXentral),
            ..w.settings()
        });
        let stage: i64 = w.count(
            "SELECT wiedervorlage_stage_id FROM hubspot_sync_stage_map ORDER BY wiedervorlage_stage_id LIMIT 1",
        );
        let address = w.add_address("Ida", "Ice", "ida@x.de");
        let wv = xentral_erp::ui::add_resubmission(
            w.db().as_mut(),
            &xentral_erp::ui::NewResubmission {
                bezeichnung: "Renewal".into(),
                betrag: Some("250.00".into()),
                stages: stage,
                adresse: address,
                ..Default::default()
            },
            chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
                .unwrap()
                .and_hms_opt(11, 0, 0)
                .unwrap(),
        )
        .unwrap()
        .id;
        w.record_changed(Entity::Resubmission, wv);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(
            r.hubspot.excluded_for("deals sync to xentral only: new resubmissions are not created in HubSpot"),
            1,
            "{r:#?}"
        );
        w.run(Job::SyncDeals);
        assert!(w.hubspot.objects(ObjectType::Deals).is_empty(), "no deal was created");
        w.hubspot
            .create_object(
                ObjectType::Deals,
                [("dealname", "From HubSpot"), ("pipeline", "default"), ("dealstage", "qualifiedtobuy")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            )
            .unwrap();
        let pulled = w.run(Job::SyncDeals);
        assert_eq!(pulled.xentral.created, 1, "{pulled:#?}");
    }
}

both_backends! {
    /// A field the kind does not sync, or one that goes against a one-way kind, is refused
    /// naming the fields, and nothing is stored.
    fn a_rule_naming_an_unknown_field_or_going_against_its_kind_is_refused(backend) {
        let w = World::on(backend);
        w.connect();
        for (rule, expected) in [
            (
                SyncRule {
                    fields: vec![FieldDirection { field: "colour".into(), direction: SyncDirection::ToHubspot }],
                    ..SyncRule::default()
                },
                "the contact field 'colour' is not synchronised; the fields are email, firstname",
            ),
            (
                SyncRule {
                    direction: SyncDirection::ToXentral,
                    fields: vec![FieldDirection { field: "city".into(), direction: SyncDirection::ToHubspot }],
                    ..SyncRule::default()
                },
                "contacts sync to-xentral only, so the field 'city' cannot sync to-hubspot",
            ),
        ] {
            let inv = w.configure_with(common::TOKEN, &contacts(&w, rule));
            match inv.result {
                Err(JobError::Plugin(PluginError::InvalidSettings(m))) => {
                    assert!(m.starts_with(expected), "{m}")
                }
                other => panic!("{other:?}"),
            }
        }
        // The rule in force is still the one saved before.
        let id = w.hubspot_contact(&[("email", "k@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        assert!(w.linked_address(&id).is_some());
    }
}
