//! Contacts both ways, end to end: the real plugin through the host against the emulator.

mod common;

use common::{World, assert_no_writes, both_backends};
use hubspot_emulator::{ObjectType, SeedSpec};
use xentral_host::report::Job;

both_backends! {
    fn first_pull_creates_lead_addresses_in_the_group(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[
            ("email", "Jana.Mueller@Example.de"),
            ("firstname", "Jana"),
            ("lastname", "Müller"),
            ("phone", "+49 30 1234"),
            ("address", "Hauptstraße 1"),
            ("zip", "10115"),
            ("city", "Berlin"),
            ("country", "Germany"),
            ("hs_lead_status", "OPEN"),
            ("lifecyclestage", "lead"),
        ]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        let a = w.linked_address(&id).expect("linked");
        assert_eq!(w.address(a, "name"), "Jana Müller");
        assert_eq!(w.address(a, "vorname"), "Jana");
        assert_eq!(w.address(a, "nachname"), "Müller");
        assert_eq!(w.address(a, "email"), "jana.mueller@example.de");
        assert_eq!(w.address(a, "telefon"), "+49 30 1234");
        assert_eq!(w.address(a, "strasse"), "Hauptstraße 1");
        assert_eq!(w.address(a, "plz"), "10115");
        assert_eq!(w.address(a, "ort"), "Berlin");
        assert_eq!(w.address(a, "land"), "DE");
        assert_eq!(w.address(a, "lead"), "1");
        assert_eq!(w.address(a, "freifeld1"), "OPEN");
        assert_eq!(w.address(a, "freifeld2"), "lead");
        assert_eq!(w.group_size(), 1);
    }
}

both_backends! {
    fn contact_is_matched_by_email_case_insensitively_not_duplicated(backend) {
        let w = World::on(backend);
        w.connect();
        let a = w.add_address("Ann", "Smith", "ANN@example.com");
        let id = w.hubspot_contact(&[("email", "ann@Example.com"), ("phone", "555")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(w.linked_address(&id), Some(a));
        assert_eq!(w.address(a, "telefon"), "555");
        assert_eq!(w.address(a, "email"), "ANN@example.com", "xentral's e-mail is kept");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
        assert_eq!(w.contacts().len(), 1);
    }
}

both_backends! {
    fn second_run_right_after_a_sync_writes_nothing_on_either_side(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(7, 150, 0));
        w.connect();
        w.add_address("Xaver", "Local", "xaver@example.org");
        w.run(Job::SyncContacts);
        w.run(Job::ProcessQueue);
        w.hubspot.reset_stats();
        let again = w.run(Job::SyncContacts);
        assert_no_writes(&again);
        assert_eq!(w.hubspot_writes(), 0, "{:#?}", w.hubspot.stats());
        let queue = w.run(Job::ProcessQueue);
        assert_no_writes(&queue);
    }
}

both_backends! {
    fn hubspot_edit_flows_to_xentral(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "e@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        w.hubspot_edit(&id, &[("city", "Köln")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.updated, 1, "{r:#?}");
        assert_eq!(w.address(w.linked_address(&id).unwrap(), "ort"), "Köln");
    }
}

both_backends! {
    fn xentral_edit_flows_to_hubspot_through_the_queue(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "e@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        w.edit_address(a, &[("ort", "Hamburg")]);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.updated, 1, "{r:#?}");
        assert_eq!(w.hubspot_prop(&id, "city"), "Hamburg");
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0"), 0);
    }
}

both_backends! {
    fn xentral_edit_without_a_hook_is_caught_by_reconciliation(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "e@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        w.db()
            .execute(
                "UPDATE adresse SET ort = 'Bremen' WHERE id = ?",
                &[xentral_erp::Value::Integer(a)],
            )
            .unwrap();
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.hubspot.updated, 1, "{r:#?}");
        assert_eq!(w.hubspot_prop(&id, "city"), "Bremen");
    }
}

both_backends! {
    fn new_xentral_address_is_upserted_and_linked(backend) {
        let w = World::on(backend);
        w.connect();
        let a = w.add_address("Olga", "Ørsted", "olga@example.dk");
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.created, 1, "{r:#?}");
        let id = w.linked_contact(a).expect("linked");
        assert_eq!(w.hubspot_prop(&id, "lastname"), "Ørsted");
        assert_eq!(w.hubspot_prop(&id, "email"), "olga@example.dk");
    }
}

both_backends! {
    fn both_sides_changed_xentral_wins_and_a_conflict_is_counted(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "c@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        w.hubspot_edit(&id, &[("city", "Köln")]);
        w.db()
            .execute(
                "UPDATE adresse SET ort = 'Hamburg' WHERE id = ?",
                &[xentral_erp::Value::Integer(a)],
            )
            .unwrap();
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.hubspot.conflicts, 1, "{r:#?}");
        assert_eq!(w.address(a, "ort"), "Hamburg");
        assert_eq!(w.hubspot_prop(&id, "city"), "Hamburg");
    }
}

both_backends! {
    fn a_blank_in_hubspot_never_overwrites_xentral(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "b@x.de"), ("city", "Berlin"), ("phone", "1")]);
        w.run(Job::SyncContacts);
        w.hubspot_edit(&id, &[("city", "")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.address(w.linked_address(&id).unwrap(), "ort"), "Berlin");
    }
}

both_backends! {
    fn xentral_email_of_an_existing_address_is_never_overwritten(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "old@x.de")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        w.hubspot_edit(&id, &[("email", "new@x.de")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.address(a, "email"), "old@x.de");
    }
}

both_backends! {
    fn start_time_and_lead_status_filters_exclude_with_reasons(backend) {
        let w = World::on(backend);
        w.hubspot_contact(&[("email", "old@x.de"), ("hs_lead_status", "NEW")]);
        w.clock.advance_ms(3_600_000);
        let since = chrono::DateTime::from_timestamp_millis(common::START_MS + 1_800_000)
            .unwrap()
            .to_rfc3339();
        w.hubspot_contact(&[("email", "new@x.de"), ("hs_lead_status", "NEW")]);
        w.hubspot_contact(&[("email", "open@x.de"), ("hs_lead_status", "OPEN")]);
        w.hubspot_contact(&[("email", "bad@x.de"), ("hs_lead_status", "BAD_TIMING")]);
        let mut s = w.settings();
        s.contacts_since = Some(since);
        s.lead_statuses = vec!["NEW".into(), "OPEN".into()];
        w.connect_with(&s);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 2, "{r:#?}");
        assert_eq!(r.xentral.excluded_for("created before the start time"), 1);
        assert_eq!(r.xentral.excluded_for("lead status not selected"), 1);
    }
}

both_backends! {
    fn address_without_email_stays_in_xentral_and_is_counted(backend) {
        let w = World::on(backend);
        w.connect();
        w.add_address("No", "Mail", "");
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.hubspot.excluded_for("no e-mail address"), 1, "{r:#?}");
        assert_eq!(w.contacts().len(), 0);
        let again = w.run(Job::SyncContacts);
        assert_eq!(w.contacts().len(), 0);
        assert_no_writes(&again);
    }
}

both_backends! {
    fn lead_status_filter_applies_to_export_too(backend) {
        let w = World::on(backend);
        let mut s = w.settings();
        s.lead_statuses = vec!["OPEN".into()];
        w.connect_with(&s);
        let a = w.add_address("In", "Scope", "in@x.de");
        w.edit_address(a, &[("freifeld1", "OPEN")]);
        w.add_address("Out", "Scope", "out@x.de");
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.hubspot.created, 1, "{r:#?}");
        assert_eq!(r.hubspot.excluded_for("lead status not selected"), 1);
    }
}

both_backends! {
    fn contacts_sharing_one_modified_timestamp_all_arrive_once(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec {
            shared_modified: Some(hubspot_emulator::SharedModified {
                object: ObjectType::Contacts,
                count: 12_000,
                at_ms: Some(common::START_MS - 3_600_000),
            }),
            ..SeedSpec::new(3, 12_000, 0)
        });
        w.connect();
        let r = w.run(Job::SyncContacts);
        assert!(!r.pending, "{r:#?}");
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_contact_links"), 12_000);
        assert_eq!(w.count("SELECT COUNT(DISTINCT hs_contact_id) FROM hubspot_sync_contact_links"), 12_000);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), r.xentral.created as i64);
    }
}

/// The searches of the contact pull so far.
fn contact_searches(w: &World) -> u64 {
    w.hubspot
        .stats()
        .count("POST", "/crm/objects/2026-03/contacts/search")
}

/// Rows of the contact read's further ranges (`contacts@<start>`).
fn split_ranges(w: &World) -> i64 {
    w.count("SELECT COUNT(*) FROM hubspot_sync_cursors WHERE name LIKE 'contacts@%'")
}

/// 3,000 contacts, 600 of them sharing one modified time (a tie walked inside a range).
fn seed_for_a_split_pull(w: &World, seed: u64) {
    w.hubspot.seed(SeedSpec {
        shared_modified: Some(hubspot_emulator::SharedModified {
            object: ObjectType::Contacts,
            count: 600,
            at_ms: Some(common::START_MS - 7_200_000),
        }),
        ..SeedSpec::new(seed, 3_000, 0)
    });
}

both_backends! {
    /// A pull of more than a couple of pages splits its modified-time range and keeps a
    /// search of each part in flight together (keyset pages of one range must follow each
    /// other): every contact arrives once, searches stay near one per 200 contacts, and
    /// nothing of the split is left once the read is done.
    fn a_large_pull_reads_three_ranges_at_once_and_every_contact_once(backend) {
        let w = World::on_with(backend, |c| {
            c.latency = hubspot_emulator::Latency { fixed_ms: 20, jitter_ms: 0 }
        });
        seed_for_a_split_pull(&w, 21);
        w.connect();
        w.hubspot.reset_stats();
        let r = w.run(Job::SyncContacts);
        assert!(!r.pending, "{r:#?}");
        assert_eq!(r.xentral.created, 3_000, "{r:#?}");
        assert_eq!(w.count("SELECT COUNT(DISTINCT hs_contact_id) FROM hubspot_sync_contact_links"), 3_000);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 3_000);
        let searches = contact_searches(&w);
        assert!((15..=21).contains(&searches), "{searches} searches for 3,000 contacts");
        assert_eq!(w.hubspot.max_in_flight(), 3, "three ranges at once");
        assert_eq!(split_ranges(&w), 0, "the split is joined again");
        w.hubspot.reset_stats();
        let again = w.run(Job::SyncContacts);
        assert_eq!(again.xentral.created + again.xentral.updated, 0, "{again:#?}");
        assert_eq!(contact_searches(&w), 1, "the next run asks once");
    }
}

both_backends! {
    /// A split read stopped by the budget again and again keeps where each range stood:
    /// run after run goes on from there, every contact arrives once, and no page is read
    /// twice: as many searches over all runs as in one (give or take a split made anew
    /// where a part had stored nothing yet; 19 and 19 on this data).
    fn a_split_pull_stopped_by_the_budget_goes_on_where_each_range_stood(backend) {
        let whole = World::on(backend);
        seed_for_a_split_pull(&whole, 22);
        whole.connect();
        whole.hubspot.reset_stats();
        assert!(!whole.run(Job::SyncContacts).pending);
        let in_one_run = contact_searches(&whole);

        let w = World::on(backend);
        seed_for_a_split_pull(&w, 22);
        w.connect();
        w.hubspot.reset_stats();
        let budget = xentral_host::report::Budget { max_requests: Some(3), ..Default::default() };
        let (mut runs, mut created, mut ranges_kept) = (0, 0, 0);
        loop {
            runs += 1;
            assert!(runs <= 30, "still pending after {runs} runs");
            let r = w.run_raw(Job::SyncContacts, budget).result.unwrap();
            created += r.xentral.created;
            ranges_kept = ranges_kept.max(split_ranges(&w));
            if !r.pending {
                break;
            }
        }
        assert_eq!(created, 3_000);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 3_000);
        assert!(ranges_kept > 0, "a stop left a second range stored");
        assert_eq!(split_ranges(&w), 0, "joined again at the end");
        let searches = contact_searches(&w);
        assert!(searches <= in_one_run + 2, "{searches} searches in {runs} runs, {in_one_run} in one");
    }
}

both_backends! {
    fn concurrent_edit_is_not_overwritten_blindly_by_the_queue(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "q@x.de"), ("city", "Berlin"), ("phone", "1")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        w.hubspot_edit(&id, &[("city", "Köln")]);
        w.edit_address(a, &[("ort", "Hamburg")]);
        let queue = w.run(Job::ProcessQueue);
        assert_eq!(queue.hubspot.updated, 0, "{queue:#?}");
        assert_eq!(w.hubspot_prop(&id, "city"), "Köln", "not overwritten before the merge");
        let sync = w.run(Job::SyncContacts);
        assert_eq!(sync.hubspot.conflicts, 1, "{sync:#?}");
        assert_eq!(w.hubspot_prop(&id, "city"), "Hamburg", "xentral wins by default");
        assert_eq!(w.address(a, "ort"), "Hamburg");
    }
}

both_backends! {
    /// xentral's tables are utf8mb3 (as its schema defines them): on MariaDB a character outside
    /// the BMP, such as an emoji, is stored as `?`. The plugin must not take the mangled value
    /// for a xentral edit and push it back over HubSpot's original.
    fn a_value_xentral_cannot_store_is_not_pushed_back_mangled(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "mia@example.com"), ("firstname", "Mia 🌸")]);
        w.run(Job::SyncContacts);
        w.run(Job::ProcessQueue);
        w.hubspot.reset_stats();
        let again = w.run(Job::SyncContacts);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_writes(), 0, "{again:#?}");
        assert_eq!(w.hubspot_prop(&id, "firstname"), "Mia 🌸");
    }
}

/// A world whose HubSpot clock is `skew_ms` off the host's.
fn world_with_hubspot_skew(backend: common::Backend, skew_ms: i64) -> World {
    World::on_with(backend, |cfg| {
        let host_time = cfg.clock.take().expect("the world shares its clock");
        cfg.clock = Some(std::sync::Arc::new(move || host_time() + skew_ms));
    })
}

both_backends! {
    fn hubspot_edits_arrive_when_hubspots_clock_runs_behind_the_hosts(backend) {
        let w = world_with_hubspot_skew(backend, -120_000);
        w.connect();
        let id = w.hubspot_contact(&[("email", "late@example.com"), ("phone", "1")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        let a = w.linked_address(&id).expect("linked");
        for phone in ["2", "3"] {
            w.hubspot_edit(&id, &[("phone", phone)]);
            let r = w.run(Job::SyncContacts);
            assert_eq!(r.xentral.updated, 1, "{r:#?}");
            assert_eq!(w.address(a, "telefon"), phone);
        }
        // The read position is in HubSpot's time: never ahead of HubSpot's own clock.
        let cursor = w.count("SELECT modified_ms FROM hubspot_sync_cursors WHERE name = 'contacts'");
        assert!(cursor <= w.hubspot.now_ms(), "cursor {cursor} > HubSpot's now {}", w.hubspot.now_ms());
    }
}

both_backends! {
    fn hubspot_edits_arrive_at_once_when_hubspots_clock_runs_ahead(backend) {
        let w = world_with_hubspot_skew(backend, 600_000);
        w.connect();
        let id = w.hubspot_contact(&[("email", "early@example.com")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        w.hubspot_edit(&id, &[("phone", "9")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.updated, 1, "{r:#?}");
        let again = w.run(Job::SyncContacts);
        assert_eq!(again.xentral.updated, 0, "read once: {again:#?}");
    }
}

both_backends! {
    fn a_conflict_is_stored_with_both_values_and_the_winner_and_shown_in_sync_health(backend) {
        let w = World::on(backend);
        w.connect();
        let id = w.hubspot_contact(&[("email", "both@x.de"), ("city", "Berlin")]);
        w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        assert_eq!(w.health().contacts().conflicts_kept, 0);
        w.hubspot_edit(&id, &[("city", "Köln")]);
        w.edit_address(a, &[("ort", "Hamburg")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.hubspot.conflicts, 1, "{r:#?}");
        let h = w.health();
        assert_eq!(h.contacts().conflicts_kept, 1);
        let c = &h.contacts().recent_conflicts[0];
        assert_eq!(
            (c.hubspot_id.as_str(), c.xentral_id, c.field.as_str()),
            (id.as_str(), a, "city")
        );
        assert_eq!((c.xentral_value.as_str(), c.hubspot_value.as_str()), ("Hamburg", "Köln"));
        assert_eq!(c.winner, "xentral");
        // The losing value is kept in the record only; the next run records nothing new.
        w.run(Job::SyncContacts);
        assert_eq!(w.health().contacts().conflicts_kept, 1);
    }
}

both_backends! {
    fn differing_values_on_a_first_link_by_email_are_a_conflict_not_a_silent_overwrite(backend) {
        let w = World::on(backend);
        w.connect();
        let a = w.add_address("Ann", "Smith", "ann.first@example.com");
        w.edit_address(a, &[("ort", "Hamburg")]);
        let id = w.hubspot_contact(&[("email", "ann.first@example.com"), ("city", "Köln")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 0, "{r:#?}");
        assert_eq!(w.linked_address(&id), Some(a));
        assert_eq!(r.hubspot.conflicts, 1, "{r:#?}");
        let c = w.health().contacts().recent_conflicts.clone();
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].field.as_str(), c[0].hubspot_value.as_str()), ("city", "Köln"));
    }
}

#[test]
fn conflicts_are_bounded_the_oldest_pruned() {
    let w = World::new();
    w.connect();
    let id = w.hubspot_contact(&[("email", "many@x.de"), ("city", "A0")]);
    w.run(Job::SyncContacts);
    let a = w.linked_address(&id).unwrap();
    // Seed the table up to its bound, then let one real conflict arrive.
    let mut db = w.db();
    for i in 0..xentral_hubspot_plugin::store::state::MAX_CONFLICTS {
        db.execute(
            "INSERT INTO hubspot_sync_conflicts (object, hubspot_id, xentral_id, field, xentral_value, hubspot_value, winner, at_ms) VALUES ('contact', 'old', 0, 'city', ?, 'h', 'xentral', 0)",
            &[xentral_erp::Value::Text(format!("x{i}"))],
        )
        .unwrap();
    }
    w.hubspot_edit(&id, &[("city", "Köln")]);
    w.edit_address(a, &[("ort", "Hamburg")]);
    w.run(Job::SyncContacts);
    let h = w.health();
    assert_eq!(
        h.contacts().conflicts_kept,
        xentral_hubspot_plugin::store::state::MAX_CONFLICTS as u64
    );
    assert_eq!(h.contacts().recent_conflicts[0].hubspot_value, "Köln");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM hubspot_sync_conflicts WHERE xentral_value = 'x0'"),
        0,
        "the oldest was pruned"
    );
}

both_backends! {
    fn a_value_too_long_for_xentral_is_cut_on_a_grapheme_boundary_reported_once_and_never_echoed(backend) {
        let w = World::on(backend);
        w.connect();
        // `ort` holds 64 characters; the 64th is a letter whose accent follows it.
        let city = format!("{}e\u{301}{}", "a".repeat(63), "b".repeat(236));
        assert_eq!(city.chars().count(), 301);
        let id = w.hubspot_contact(&[("email", "long@x.de"), ("city", &city)]);
        let r = w.run(Job::SyncContacts);
        let a = w.linked_address(&id).unwrap();
        assert_eq!(w.address(a, "ort"), "a".repeat(63), "cut before the accented letter, not inside it");
        let notes: Vec<&String> = r.messages.iter().filter(|m| m.contains("cut to fit")).collect();
        assert_eq!(notes.len(), 1, "{r:#?}");
        assert!(notes[0].contains(&format!("contact {id}")) && notes[0].contains("city"), "{notes:?}");
        w.hubspot.reset_stats();
        for job in [Job::SyncContacts, Job::ProcessQueue, Job::SyncContacts] {
            let again = w.run(job);
            assert!(!again.messages.iter().any(|m| m.contains("cut to fit")), "reported once: {again:#?}");
            assert_no_writes(&again);
        }
        assert_eq!(w.hubspot_writes(), 0, "the cut value is never sent back");
        assert_eq!(w.hubspot_prop(&id, "city"), city);
    }
}

/// Saves the settings again with `change` applied; returns what `settings` reported.
fn resave(w: &World, change: impl FnOnce(&mut xentral_host::report::Settings)) -> Vec<String> {
    let mut s = w.settings();
    change(&mut s);
    w.connect_with(&s).changes
}

both_backends! {
    fn widening_the_lead_status_filter_brings_in_the_contacts_passed_over_before(backend) {
        let w = World::on(backend);
        for (i, status) in ["NEW", "NEW", "OPEN", "OPEN", "OPEN", "", ""].iter().enumerate() {
            let email = format!("c{i}@widen.example");
            let mut props = vec![("email", email.as_str())];
            if !status.is_empty() {
                props.push(("hs_lead_status", status));
            }
            w.hubspot_contact(&props);
        }
        resave(&w, |s| s.lead_statuses = vec!["NEW".into()]);
        assert_eq!(w.run(Job::SyncContacts).xentral.created, 2);
        assert_eq!(w.run(Job::SyncContacts).xentral.created, 0, "nothing else, ever, without a backfill");

        let said = resave(&w, |s| s.lead_statuses = vec!["NEW".into(), "OPEN".into()]);
        assert!(said.iter().any(|c| c.contains("now includes contacts it left out before")), "{said:?}");
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 3, "{r:#?}");
        assert!(r.messages.iter().any(|m| m.contains("backfill complete")), "{r:#?}");
        assert_eq!(w.run(Job::SyncContacts).xentral.created, 0, "the backfill ran once");

        resave(&w, |s| s.lead_statuses = Vec::new());
        assert_eq!(w.run(Job::SyncContacts).xentral.created, 2, "those without a status too");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 7);
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_backfills"), 0);
    }
}

both_backends! {
    /// A filter widened while a split read is half done: the backfill covers what every
    /// range has read so far, not only what lies behind the first range's position.
    fn widening_the_filter_during_a_split_read_brings_in_what_every_range_passed_over(backend) {
        let w = World::on(backend);
        seed_for_a_split_pull(&w, 23);
        w.connect();
        resave(&w, |s| s.lead_statuses = vec!["NEW".into()]);
        let budget = xentral_host::report::Budget { max_requests: Some(6), ..Default::default() };
        let mut runs = 0;
        while split_ranges(&w) == 0 {
            runs += 1;
            assert!(runs <= 20, "no run left a second range stored");
            assert!(w.run_raw(Job::SyncContacts, budget).result.unwrap().pending);
        }
        resave(&w, |s| s.lead_statuses = Vec::new());
        for _ in 0..5 {
            if !w.run(Job::SyncContacts).pending {
                break;
            }
        }
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 3_000);
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_backfills"), 0);
        assert_eq!(split_ranges(&w), 0);
    }
}

both_backends! {
    fn removing_a_future_start_time_brings_in_every_contact(backend) {
        let w = World::on(backend);
        for i in 0..5 {
            w.hubspot_contact(&[("email", &format!("f{i}@future.example"))]);
        }
        resave(&w, |s| s.contacts_since = Some("2027-01-01T00:00:00Z".into()));
        assert_eq!(w.run(Job::SyncContacts).xentral.created, 0);
        let said = resave(&w, |s| s.contacts_since = None);
        assert!(said.iter().any(|c| c.contains("now includes contacts")), "{said:?}");
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 5, "{r:#?}");
        // Narrowing again plans nothing.
        let said = resave(&w, |s| s.contacts_since = Some("2027-01-01T00:00:00Z".into()));
        assert!(!said.iter().any(|c| c.contains("now includes")), "{said:?}");
    }
}

both_backends! {
    fn a_backfill_stopped_by_the_budget_goes_on_in_the_next_run(backend) {
        let w = World::on(backend);
        w.hubspot.seed(hubspot_emulator::SeedSpec::new(11, 450, 0));
        resave(&w, |s| s.contacts_since = Some("2099-01-01T00:00:00Z".into()));
        w.run(Job::SyncContacts);
        resave(&w, |s| s.contacts_since = None);
        let budget = xentral_host::report::Budget { max_requests: Some(2), ..Default::default() };
        let first = w.run_raw(Job::SyncContacts, budget).result.unwrap();
        assert!(first.pending, "{first:#?}");
        assert!(first.xentral.created > 0 && first.xentral.created < 450, "{first:#?}");
        let mut total = first.xentral.created;
        for _ in 0..5 {
            total += w.run(Job::SyncContacts).xentral.created;
        }
        assert_eq!(total, 450);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 450);
    }
}

both_backends! {
    fn changing_the_contact_group_keeps_the_linked_addresses_syncing_both_ways(backend) {
        let w = World::on(backend);
        w.connect();
        let a = w.add_address("Gina", "Group", "gina@group.example");
        w.run(Job::ProcessQueue);
        let id = w.linked_contact(a).expect("linked");
        let said = resave(&w, |s| s.group = "Kunden".into());
        assert!(
            said.iter().any(|c| c.contains("its 1 linked address(es) from 'Hubspot' were added to it")),
            "{said:?}"
        );
        let kunden = xentral_erp::ui::find_group_by_name(w.db().as_mut(), "Kunden").unwrap().unwrap();
        assert!(xentral_erp::ui::is_group_member(w.db().as_mut(), a, kunden, w.today()).unwrap());
        // Both directions still work.
        w.edit_address(a, &[("ort", "Bonn")]);
        let r = w.run(Job::ProcessQueue);
        assert!(r.hubspot.excluded.is_empty(), "{r:#?}");
        assert_eq!(w.hubspot_prop(&id, "city"), "Bonn");
        w.hubspot_edit(&id, &[("phone", "123")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.address(a, "telefon"), "123");
        // Saving again changes nothing more.
        let again = resave(&w, |s| s.group = "Kunden".into());
        assert!(!again.iter().any(|c| c.contains("contact group")), "{again:?}");
    }
}
