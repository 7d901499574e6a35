//! Matching contacts and addresses by e-mail, end to end: one normalisation on both sides, a
//! re-created contact takes over its address, deleted addresses take no part. Each case once
//! made a duplicate address or blocked a push.

mod common;

use common::{World, both_backends};
use hubspot_emulator::ObjectType;
use xentral_erp::ui::{self, NewAddress};
use xentral_host::report::Job;

/// An address a xentral user made outside the contact group (no save hook: it is not synced).
fn address_outside_group(w: &World, name: &str, email: &str) -> i64 {
    ui::add_address(
        w.db().as_mut(),
        &NewAddress {
            name: name.into(),
            email: email.into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

both_backends! {
    fn whitespace_and_unicode_case_around_a_xentral_email_still_match(backend) {
        let w = World::on(backend);
        w.connect();
        let spaced = address_outside_group(&w, "Y Trim", " y.trim@example.com");
        let nbsp = address_outside_group(&w, "Ä Tab", "\u{a0}ÄNNE.Tab@Example.com\t");
        let y = w.hubspot_contact(&[("email", "y.trim@example.com"), ("phone", "1")]);
        let a = w.hubspot_contact(&[("email", "änne.tab@example.com"), ("phone", "2")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(w.linked_address(&y), Some(spaced));
        assert_eq!(w.linked_address(&a), Some(nbsp));
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 2);
        assert_eq!(w.address(spaced, "telefon"), "1");
        assert_eq!(w.address(nbsp, "telefon"), "2");
        // Both are now members of the group, and the push finds nothing to send.
        assert_eq!(w.group_size(), 2);
        w.run(Job::ProcessQueue);
        let again = w.run(Job::SyncContacts);
        assert_eq!((again.hubspot.created, again.hubspot.updated), (0, 0), "{again:#?}");
        assert_eq!(w.contacts().len(), 2);
    }
}

both_backends! {
    fn a_contact_archived_and_recreated_with_its_email_takes_over_the_address(backend) {
        let w = World::on(backend);
        w.connect();
        let old = w.hubspot_contact(&[("email", "re@example.com"), ("firstname", "Rea")]);
        w.run(Job::SyncContacts);
        let address = w.linked_address(&old).expect("linked");
        w.hubspot.archive_object(ObjectType::Contacts, &old).unwrap();
        let new = w.hubspot_contact(&[
            ("email", "RE@example.com"),
            ("firstname", "Rea"),
            ("phone", "+49 1"),
        ]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(w.linked_address(&new), Some(address));
        assert_eq!(w.linked_address(&old), None, "the archived contact's link is gone");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
        assert_eq!(w.address(address, "telefon"), "+49 1");
        // xentral edits now reach the new contact.
        w.edit_address(address, &[("ort", "Köln")]);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_prop(&new, "city"), "Köln");
    }
}

both_backends! {
    fn an_email_held_by_a_live_linked_contact_is_excluded_not_duplicated(backend) {
        let w = World::on(backend);
        w.connect();
        let first = w.hubspot_contact(&[("email", "held@example.com")]);
        w.run(Job::SyncContacts);
        let address = w.linked_address(&first).expect("linked");
        // In HubSpot the e-mail moves to a new contact; xentral keeps its e-mail.
        w.hubspot_edit(&first, &[("email", "moved@example.com")]);
        let second = w.hubspot_contact(&[("email", "held@example.com")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(
            r.xentral.excluded_for("e-mail belongs to another HubSpot contact linked to an address"), 1,
            "{r:#?}"
        );
        assert_eq!(w.linked_address(&first), Some(address));
        assert_eq!(w.linked_address(&second), None);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
    }
}

both_backends! {
    fn a_deleted_address_does_not_block_a_new_one_with_its_email(backend) {
        let w = World::on(backend);
        w.connect();
        let gone = w.add_address("Del", "Eted", "del@example.com");
        w.run(Job::ProcessQueue);
        let contact = w.linked_contact(gone).expect("pushed and linked");
        ui::delete_address(w.db().as_mut(), gone).unwrap();
        let new = w.add_address("Del", "Eted", "Del@Example.com");
        let r = w.run(Job::ProcessQueue);
        assert!(r.hubspot.excluded.is_empty(), "{r:#?}");
        assert_eq!(w.linked_contact(new), Some(contact.clone()), "{r:#?}");
        assert_eq!(w.contacts().len(), 1);
        // HubSpot's edits go to the live address, and the deleted one is left alone.
        w.hubspot_edit(&contact, &[("phone", "777")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.address(new, "telefon"), "777");
        assert_eq!(w.address(gone, "telefon"), "");
    }
}

both_backends! {
    fn a_deleted_address_is_never_matched_by_a_pulled_contact(backend) {
        let w = World::on(backend);
        w.connect();
        let deleted = address_outside_group(&w, "Old", "old@example.com");
        ui::delete_address(w.db().as_mut(), deleted).unwrap();
        let id = w.hubspot_contact(&[("email", "old@example.com")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        let linked = w.linked_address(&id).expect("linked");
        assert_ne!(linked, deleted);
        assert_eq!(w.address(deleted, "geloescht"), "1");
    }
}

both_backends! {
    fn a_contact_whose_address_was_deleted_moves_to_the_live_address_with_its_email(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "moves@example.com")]);
        w.run(Job::SyncContacts);
        let first = w.linked_address(&id).expect("linked");
        ui::delete_address(w.db().as_mut(), first).unwrap();
        let live = address_outside_group(&w, "Moves", "moves@example.com");
        w.hubspot_edit(&id, &[("phone", "42")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(w.linked_address(&id), Some(live));
        assert_eq!(w.address(live, "telefon"), "42");
        // A deleted address with no live twin is left deleted, never re-created.
        let other = w.hubspot_contact(&[("email", "solo@example.com")]);
        w.run(Job::SyncContacts);
        let solo = w.linked_address(&other).expect("linked");
        ui::delete_address(w.db().as_mut(), solo).unwrap();
        w.hubspot_edit(&other, &[("phone", "1")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(r.xentral.excluded_for("address deleted in xentral"), 1, "{r:#?}");
    }
}

both_backends! {
    fn a_company_address_with_only_a_name_is_not_exported_as_a_nameless_contact(backend) {
        let w = World::on(backend);
        w.connect();
        let mut db = w.db();
        let company = ui::add_address(
            db.as_mut(),
            &NewAddress {
                typ: "firma".into(),
                name: "Müller GmbH".into(),
                email: "info@mueller-gmbh.de".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
        ui::add_to_group(db.as_mut(), company, w.group_id(), w.today()).unwrap();
        let person = w.add_address("Jana", "Müller", "jana@mueller-gmbh.de");
        w.hook(company);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(
            r.hubspot.excluded_for("company address without a contact person's name (companies are switched off)"), 1,
            "{r:#?}"
        );
        assert_eq!(w.linked_contact(company), None);
        assert!(w.linked_contact(person).is_some());
        assert_eq!(w.contacts().len(), 1);
    }
}
