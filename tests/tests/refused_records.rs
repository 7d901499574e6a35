//! Records HubSpot refuses as they are (a portal's validation rule, `400 VALIDATION_ERROR`):
//! stored with HubSpot's reason (which property, which rule), never retried on the back-off
//! schedule, shown in health as needing a change, and sent again once the record changes in
//! xentral or in HubSpot. One suite per object kind.

mod common;

use common::{World, both_backends};
use hubspot_emulator::ObjectType;
use xentral_erp::Value;
use xentral_host::report::{Entity, Job};

const HOUR_MS: i64 = 3_600_000;

fn upserts(w: &World, object: &str) -> u64 {
    w.hubspot.stats().count(
        "POST",
        &format!("/crm/objects/2026-03/{object}/batch/upsert"),
    )
}

fn open_queue(w: &World) -> i64 {
    w.count("SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0")
}

both_backends! {
    fn a_contact_refused_for_a_required_property_waits_for_a_change_in_xentral(backend) {
        let w = World::on(backend);
        w.connect();
        assert!(w.hubspot.require_property(ObjectType::Contacts, "phone"));
        let id = w.add_address("Ada", "Lovelace", "ada@example.com");
        let r = w.run(Job::ProcessQueue);
        assert_eq!((r.hubspot.failed, r.hubspot.created), (1, 0), "{r:#?}");
        assert!(
            r.messages.iter().any(|m| m.contains(&format!("contact {id} needs a change"))
                && m.contains("phone") && m.contains("REQUIRED")),
            "{:#?}",
            r.messages
        );
        assert_eq!(w.linked_contact(id), None, "never marked done");
        assert_eq!(open_queue(&w), 0, "not left for the back-off schedule");
        let failing = w.health().contacts().failing.clone();
        assert_eq!(failing.len(), 1, "{failing:#?}");
        assert!(failing[0].needs_change && failing[0].error.contains("phone"), "{failing:#?}");
        assert_eq!(failing[0].records, [id.to_string()]);

        // Hours later, saved again without a change: not sent again.
        w.clock.advance_ms(5 * HOUR_MS);
        let before = upserts(&w, "contacts");
        w.hook(id);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(upserts(&w, "contacts"), before, "{r:#?}");
        assert_eq!(r.hubspot.failed, 0);

        // The user fills the phone in: sent, linked, the refusal gone.
        w.edit_address(id, &[("telefon", "+49 30 1234")]);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.created, 1, "{r:#?}");
        let contact = w.linked_contact(id).expect("linked");
        assert_eq!(w.hubspot_prop(&contact, "phone"), "+49 30 1234");
        assert!(w.health().contacts().failing.is_empty());
    }
}

both_backends! {
    fn a_contact_update_refused_is_sent_again_once_hubspot_changed_the_record(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.add_address("Bea", "Berg", "bea@example.com");
        w.run(Job::ProcessQueue);
        let contact = w.linked_contact(id).unwrap();
        // A rule the xentral side cannot satisfy: a property it does not sync.
        assert!(w.hubspot.require_property(ObjectType::Contacts, "jobtitle"));
        w.edit_address(id, &[("telefon", "+49 89 42")]);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.failed, 1, "{r:#?}");
        assert_eq!(w.hubspot_prop(&contact, "phone"), "");
        assert!(w.health().contacts().failing[0].needs_change);

        // HubSpot's record changes (the rule is met there): the pull sends the refused
        // change again.
        w.hubspot_edit(&contact, &[("jobtitle", "CTO")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.hubspot.updated, 1, "{r:#?}");
        assert_eq!(w.hubspot_prop(&contact, "phone"), "+49 89 42");
        w.run(Job::ProcessQueue);
        assert!(w.health().contacts().failing.is_empty());
    }
}

both_backends! {
    fn a_deal_refused_for_a_required_amount_waits_for_a_change_in_xentral(backend) {
        let w = World::on(backend);
        w.connect();
        assert!(w.hubspot.require_property(ObjectType::Deals, "amount"));
        let stage = w
            .db()
            .query(
                "SELECT wiedervorlage_stage_id FROM hubspot_sync_stage_map WHERE pipeline_id = 'default' AND stage_id = 'qualifiedtobuy'",
                &[],
            )
            .unwrap()
            .rows[0][0]
            .as_i64()
            .unwrap();
        let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .unwrap()
            .and_hms_opt(11, 0, 0)
            .unwrap();
        let wv = xentral_erp::ui::add_resubmission(
            w.db().as_mut(),
            &xentral_erp::ui::NewResubmission {
                bezeichnung: "Order".into(),
                stages: stage,
                ..Default::default()
            },
            now,
        )
        .unwrap()
        .id;
        w.record_changed(Entity::Resubmission, wv);
        let r = w.run(Job::ProcessQueue);
        assert_eq!((r.hubspot.failed, r.hubspot.created), (1, 0), "{r:#?}");
        assert!(
            r.messages.iter().any(|m| m.contains(&format!("deal {wv} needs a change")) && m.contains("amount")),
            "{:#?}",
            r.messages
        );
        let failing = w.health().deals().failing.clone();
        assert!(failing.len() == 1 && failing[0].needs_change, "{failing:#?}");

        w.clock.advance_ms(5 * HOUR_MS);
        let before = upserts(&w, "deals");
        w.record_changed(Entity::Resubmission, wv);
        w.run(Job::ProcessQueue);
        assert_eq!(upserts(&w, "deals"), before, "unchanged: not sent again");

        w.db()
            .execute(
                "UPDATE wiedervorlage SET betrag = 250 WHERE id = ?",
                &[Value::Integer(wv)],
            )
            .unwrap();
        w.record_changed(Entity::Resubmission, wv);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.created, 1, "{r:#?}");
        assert!(w.health().deals().failing.is_empty());
    }
}
