//! Records that end, on both sides, end to end: an archive in HubSpot (kept or marked), its
//! restore, merges of linked and unlinked records, deletes in xentral (kept or archived),
//! under faults and in dry runs; never a duplicate, nothing lost silently.

mod common;

use common::{World, assert_no_writes, both_backends};
use hubspot_emulator::ObjectType::{Companies, Contacts, Deals};
use hubspot_emulator::{FaultKind, FaultPlan, ScriptedFault};
use xentral_host::report::{ArchiveAction, Budget, DeleteAction, Job, Settings, SyncRule};

/// Long enough for the next archive sweep to start.
const SWEEP_DUE_MS: i64 = 6 * 3_600_000 + 60_000;

fn rule(on_archive: ArchiveAction, on_delete: DeleteAction) -> SyncRule {
    SyncRule {
        on_hubspot_archive: on_archive,
        on_xentral_delete: on_delete,
        ..SyncRule::two_way()
    }
}

/// Contacts (and everything else) with these archive and delete rules.
fn settings(w: &World, on_archive: ArchiveAction, on_delete: DeleteAction) -> Settings {
    Settings {
        contact_rule: rule(on_archive, on_delete),
        company_rule: rule(on_archive, on_delete),
        deal_rule: rule(on_archive, on_delete),
        ..w.company_settings()
    }
}

/// A contact created in HubSpot and pulled into an address; its id and the address.
fn linked_contact(w: &World, email: &str) -> (String, i64) {
    let id = w.hubspot_contact(&[
        ("email", email),
        ("firstname", "Tess"),
        ("lastname", "Ende"),
    ]);
    w.run(Job::SyncContacts);
    let address = w.linked_address(&id).expect("linked");
    (id, address)
}

/// The ended links of one object kind as sync health lists them: (reason, count).
fn ended(w: &World, object: &str) -> Vec<(String, u32, bool)> {
    w.health()
        .object(object)
        .ended
        .iter()
        .map(|e| (e.reason.clone(), e.count, e.needs_action))
        .collect()
}

both_backends! {
    fn an_archived_contact_ends_its_link_and_keeps_the_address(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        let (id, address) = linked_contact(&w, "keep@example.com");
        w.hubspot.archive_object(Contacts, &id).unwrap();
        w.clock.advance_ms(SWEEP_DUE_MS);
        let r = w.run(Job::SyncContacts);
        assert_eq!(w.linked_address(&id), None, "{r:#?}");
        assert_eq!(w.address(address, "geloescht"), "0", "the address stays");
        assert_eq!(ended(&w, "contact"), [("archived in HubSpot".to_owned(), 1, false)]);
        // Nothing comes back: the address is not exported again as a new contact.
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_no_writes(&w.run(Job::ProcessQueue));
        assert_eq!(w.hubspot_writes(), 0);
        assert_eq!(w.live(Contacts).len(), 0);
    }
}

both_backends! {
    fn an_archived_contact_marks_its_address_deleted_when_the_rule_says_mark(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Mark, DeleteAction::Keep));
        let (id, address) = linked_contact(&w, "mark@example.com");
        w.hubspot.archive_object(Contacts, &id).unwrap();
        w.clock.advance_ms(SWEEP_DUE_MS);
        w.run(Job::SyncContacts);
        assert_eq!(w.address(address, "geloescht"), "1");
        assert_eq!(
            ended(&w, "contact"),
            [("archived in HubSpot (marked deleted in xentral)".to_owned(), 1, false)]
        );
    }
}

both_backends! {
    fn an_archived_deal_closes_its_resubmission_when_the_rule_says_mark(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Mark, DeleteAction::Keep));
        let deal = w.hubspot_create(Deals, &[("dealname", "Ende"), ("pipeline", "default"), ("dealstage", "appointmentscheduled")]);
        w.run(Job::SyncDeals);
        let wv = w.linked("deal", &deal).expect("linked");
        w.hubspot.archive_object(Deals, &deal).unwrap();
        w.clock.advance_ms(SWEEP_DUE_MS);
        w.run(Job::SyncDeals);
        let mut db = w.db();
        let row = xentral_erp::ui::get_resubmission(db.as_mut(), wv).unwrap().unwrap();
        assert_eq!(row.get("abgeschlossen").and_then(xentral_erp::Value::as_i64), Some(1));
        assert_eq!(w.linked("deal", &deal), None);
    }
}

both_backends! {
    fn a_restored_record_is_linked_to_the_same_xentral_record_again(backend) {
        for on_archive in [ArchiveAction::Keep, ArchiveAction::Mark] {
            let w = World::on(backend);
            w.connect_with(&settings(&w, on_archive, DeleteAction::Keep));
            let (id, address) = linked_contact(&w, "back@example.com");
            w.hubspot.archive_object(Contacts, &id).unwrap();
            w.clock.advance_ms(SWEEP_DUE_MS);
            w.run(Job::SyncContacts);
            w.hubspot.restore_object(Contacts, &id).unwrap();
            w.hubspot_edit(&id, &[("phone", "+49 1")]);
            let r = w.run(Job::SyncContacts);
            assert_eq!(w.linked_address(&id), Some(address), "{on_archive:?}: {r:#?}");
            assert_eq!(r.xentral.created, 0, "no second address");
            assert_eq!(w.address(address, "geloescht"), "0", "unmarked");
            assert_eq!(w.address(address, "telefon"), "+49 1");
            assert!(ended(&w, "contact").is_empty());
            assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
        }
    }
}

both_backends! {
    fn a_merge_of_a_linked_and_an_unlinked_contact_moves_the_link_to_the_new_id(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        let (linked, address) = linked_contact(&w, "primary@example.com");
        w.clock.advance_ms(60_000);
        // Created after the sync, not yet pulled; it has a phone the linked one lacks.
        let other = w.hubspot_contact(&[("email", "other@example.com"), ("phone", "+49 2")]);
        let merged = w.hubspot.merge(Contacts, &linked, &other).unwrap();
        let r = w.run(Job::SyncContacts);
        assert_eq!(w.linked_address(&merged), Some(address), "{r:#?}");
        assert_eq!(w.linked_address(&linked), None);
        assert_eq!(r.xentral.created, 0, "never a second address: {r:#?}");
        assert_eq!(w.address(address, "telefon"), "+49 2", "the merged values come over");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_no_writes(&w.run(Job::ProcessQueue));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn a_merge_of_two_linked_contacts_leaves_the_second_address_for_the_user(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        let a = w.hubspot_contact(&[("email", "a@example.com"), ("firstname", "A")]);
        let b = w.hubspot_contact(&[("email", "b@example.com"), ("firstname", "B")]);
        w.run(Job::SyncContacts);
        let (x, y) = (w.linked_address(&a).unwrap(), w.linked_address(&b).unwrap());
        let merged = w.hubspot.merge(Contacts, &a, &b).unwrap();
        let r = w.run(Job::SyncContacts);
        let keeper = x.min(y);
        let other = x.max(y);
        assert_eq!(w.linked_address(&merged), Some(keeper), "{r:#?}");
        assert_eq!(w.linked_contact(other), None);
        let e = ended(&w, "contact");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].0.starts_with("merged in HubSpot — merge in xentral by hand"), "{e:?}");
        assert!(e[0].2, "the user must act");
        // The second address is neither exported nor matched while it waits.
        w.edit_address(other, &[("telefon", "999")]);
        let q = w.run(Job::ProcessQueue);
        assert_eq!(q.hubspot.excluded_for("merged in HubSpot — merge in xentral by hand"), 1, "{q:#?}");
        assert_eq!(w.live(Contacts).len(), 1);
        // The user merges in xentral (deletes the second address): the wait is over.
        xentral_erp::ui::delete_address(w.db().as_mut(), other).unwrap();
        w.run(Job::SyncContacts);
        assert!(ended(&w, "contact").iter().all(|(_, _, needs)| !needs), "{:?}", ended(&w, "contact"));
    }
}

both_backends! {
    fn a_merge_of_two_unlinked_contacts_creates_one_address(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        w.run(Job::SyncContacts);
        let a = w.hubspot_contact(&[("email", "u1@example.com")]);
        let b = w.hubspot_contact(&[("email", "u2@example.com")]);
        let merged = w.hubspot.merge(Contacts, &a, &b).unwrap();
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        assert!(w.linked_address(&merged).is_some());
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
    }
}

both_backends! {
    fn a_merge_of_two_linked_companies_moves_the_link_and_leaves_the_other(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        let a = w.hubspot_create(Companies, &[("name", "Merge A"), ("domain", "merge-a.de")]);
        let b = w.hubspot_create(Companies, &[("name", "Merge B"), ("domain", "merge-b.de")]);
        w.run(Job::SyncContacts);
        let (x, y) = (w.linked("company", &a).unwrap(), w.linked("company", &b).unwrap());
        let merged = w.hubspot.merge(Companies, &a, &b).unwrap();
        w.run(Job::SyncContacts);
        assert_eq!(w.linked("company", &merged), Some(x.min(y)));
        assert_eq!(w.linked_hubspot("company", x.max(y)), None);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse WHERE typ = 'firma'"), 2, "nothing created");
        assert!(ended(&w, "company")[0].2);
    }
}

both_backends! {
    fn a_record_merged_away_is_found_by_the_sweep_when_the_pull_does_not_meet_it(backend) {
        let w = World::on(backend);
        // Only contacts with lead status NEW take part; the merged record has another one.
        w.connect_with(&Settings {
            lead_statuses: vec!["NEW".into()],
            ..settings(&w, ArchiveAction::Keep, DeleteAction::Keep)
        });
        let a = w.hubspot_contact(&[("email", "s1@example.com"), ("hs_lead_status", "NEW")]);
        w.run(Job::SyncContacts);
        let x = w.linked_address(&a).unwrap();
        let b = w.hubspot_contact(&[("email", "s2@example.com"), ("hs_lead_status", "OPEN")]);
        let merged = w.hubspot.merge(Contacts, &b, &a).unwrap();
        w.clock.advance_ms(SWEEP_DUE_MS);
        w.run(Job::SyncContacts);
        assert_eq!(w.linked_address(&merged), Some(x), "the sweep moved the link");
    }
}

both_backends! {
    fn a_deleted_address_ends_its_link_and_leaves_hubspot_alone_by_default(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        let (id, address) = linked_contact(&w, "del-keep@example.com");
        xentral_erp::ui::delete_address(w.db().as_mut(), address).unwrap();
        w.hook(address);
        w.run(Job::ProcessQueue);
        w.run(Job::SyncContacts);
        assert_eq!(w.linked_address(&id), None);
        assert_eq!(w.live(Contacts).len(), 1, "HubSpot's contact stays");
        assert_eq!(ended(&w, "contact"), [("deleted in xentral".to_owned(), 1, false)]);
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn a_record_deleted_in_xentral_is_not_re_created_by_an_edit_in_hubspot(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        let (contact, address) = linked_contact(&w, "stays-gone@example.com");
        let company = w.hubspot_create(Companies, &[("name", "Gone GmbH"), ("domain", "gone.de")]);
        let deal = w.hubspot_create(Deals, &[("dealname", "Gone"), ("pipeline", "default"), ("dealstage", "appointmentscheduled")]);
        w.run(Job::SyncContacts);
        w.run(Job::SyncDeals);
        let firm = w.linked("company", &company).unwrap();
        let wv = w.linked("deal", &deal).unwrap();
        let mut db = w.db();
        xentral_erp::ui::delete_address(db.as_mut(), address).unwrap();
        xentral_erp::ui::delete_address(db.as_mut(), firm).unwrap();
        db.execute("DELETE FROM wiedervorlage WHERE id = ?", &[xentral_erp::Value::Integer(wv)]).unwrap();
        w.run(Job::SyncContacts);
        w.run(Job::SyncDeals);
        let addresses = w.count("SELECT COUNT(*) FROM adresse");
        // HubSpot's records change after their links ended: nothing comes back in xentral.
        w.hubspot_edit(&contact, &[("phone", "1")]);
        w.hubspot_update(Companies, &company, &[("phone", "2")]);
        w.hubspot_update(Deals, &deal, &[("dealname", "Still gone")]);
        let contacts = w.run(Job::SyncContacts);
        let deals = w.run(Job::SyncDeals);
        assert_eq!(contacts.xentral.created, 0, "{contacts:#?}");
        assert_eq!(contacts.xentral.excluded_for("address deleted in xentral"), 1, "{contacts:#?}");
        assert_eq!(contacts.xentral.excluded_for("company address deleted in xentral"), 1);
        assert_eq!(deals.xentral.created, 0, "{deals:#?}");
        assert_eq!(deals.xentral.excluded_for("resubmission deleted in xentral"), 1, "{deals:#?}");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), addresses);
        assert_eq!(w.count("SELECT COUNT(*) FROM wiedervorlage"), 0);
        assert_eq!(w.address(address, "geloescht"), "1");
        assert_eq!(w.address(firm, "geloescht"), "1");
    }
}

both_backends! {
    fn a_deleted_address_archives_its_contact_when_the_rule_says_archive(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Archive));
        let (id, address) = linked_contact(&w, "del-archive@example.com");
        xentral_erp::ui::delete_address(w.db().as_mut(), address).unwrap();
        w.run(Job::SyncContacts);
        assert_eq!(w.live(Contacts).len(), 0, "archived");
        assert!(w.hubspot.get_object(Contacts, &id).unwrap().archived);
        assert_eq!(
            ended(&w, "contact"),
            [("deleted in xentral (archived in HubSpot)".to_owned(), 1, false)]
        );
        // An address leaving the group is no delete.
        let (other, kept) = linked_contact(&w, "leaves@example.com");
        xentral_erp::ui::remove_from_group(w.db().as_mut(), kept, w.group_id(), w.today()).unwrap();
        w.run(Job::SyncContacts);
        assert!(!w.hubspot.get_object(Contacts, &other).unwrap().archived);
    }
}

both_backends! {
    fn a_removed_resubmission_archives_its_deal_when_the_rule_says_archive(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Archive));
        let deal = w.hubspot_create(Deals, &[("dealname", "Weg"), ("pipeline", "default"), ("dealstage", "appointmentscheduled")]);
        w.run(Job::SyncDeals);
        let wv = w.linked("deal", &deal).unwrap();
        w.db().execute("DELETE FROM wiedervorlage WHERE id = ?", &[xentral_erp::Value::Integer(wv)]).unwrap();
        w.run(Job::SyncDeals);
        assert!(w.hubspot.get_object(Deals, &deal).unwrap().archived);
        assert_eq!(w.linked("deal", &deal), None);
    }
}

both_backends! {
    fn a_failed_archive_keeps_the_link_and_is_done_by_the_next_run(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Archive));
        let (id, address) = linked_contact(&w, "retry-archive@example.com");
        xentral_erp::ui::delete_address(w.db().as_mut(), address).unwrap();
        // More server errors than the client's attempts.
        w.hubspot.set_faults(FaultPlan::scripted(
            (0..20)
                .map(|_| ScriptedFault::new(FaultKind::Status(503)).path("batch/archive"))
                .collect(),
        ));
        let r = w.run(Job::SyncContacts);
        assert!(r.pending, "{r:#?}");
        assert_eq!(w.linked_address(&id), Some(address), "the link stays until HubSpot archived it");
        w.hubspot.set_faults(FaultPlan::default());
        w.run(Job::SyncContacts);
        assert!(w.hubspot.get_object(Contacts, &id).unwrap().archived);
        assert_eq!(w.linked_address(&id), None);
    }
}

both_backends! {
    fn a_server_error_in_the_sweep_ends_nothing_and_the_next_run_goes_on(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Mark, DeleteAction::Keep));
        let (id, address) = linked_contact(&w, "sweep-5xx@example.com");
        w.hubspot.archive_object(Contacts, &id).unwrap();
        w.clock.advance_ms(SWEEP_DUE_MS);
        // The batch read succeeds, the read of the archived ones fails every attempt (more
        // server errors than the client's attempts).
        w.hubspot.set_faults(FaultPlan::scripted(
            std::iter::once(ScriptedFault::new(FaultKind::Pass).path("batch/read"))
                .chain((0..20).map(|_| ScriptedFault::new(FaultKind::Status(503)).path("batch/read")))
                .collect(),
        ));
        let failed = w.run_raw(Job::SyncContacts, Budget::default());
        assert!(failed.result.is_err(), "the job fails: {:?}", failed.result);
        assert_eq!(w.linked_address(&id), Some(address), "nothing ended");
        assert_eq!(w.address(address, "geloescht"), "0", "nothing marked");
        w.hubspot.set_faults(FaultPlan::default());
        w.run(Job::SyncContacts);
        assert_eq!(w.linked_address(&id), None);
        assert_eq!(w.address(address, "geloescht"), "1");
    }
}

both_backends! {
    fn a_dry_run_reports_what_ends_and_changes_nothing(backend) {
        let w = World::on(backend);
        w.connect_with(&settings(&w, ArchiveAction::Mark, DeleteAction::Archive));
        let (archived, marked) = linked_contact(&w, "dry-archived@example.com");
        let (deleted_contact, deleted) = linked_contact(&w, "dry-deleted@example.com");
        w.hubspot.archive_object(Contacts, &archived).unwrap();
        xentral_erp::ui::delete_address(w.db().as_mut(), deleted).unwrap();
        w.clock.advance_ms(SWEEP_DUE_MS);
        let dry = w
            .run_raw(Job::SyncContacts, Budget { dry_run: true, ..Budget::default() })
            .result
            .unwrap();
        let kinds: Vec<(&str, Option<&str>)> = dry
            .planned
            .iter()
            .map(|c| (c.kind.as_str(), c.hubspot_id.as_deref()))
            .collect();
        assert!(kinds.contains(&("mark-deleted", Some(archived.as_str()))), "{kinds:?}");
        assert!(kinds.contains(&("archive", Some(deleted_contact.as_str()))), "{kinds:?}");
        assert_eq!(w.address(marked, "geloescht"), "0");
        assert_eq!(w.linked_address(&archived), Some(marked));
        assert!(!w.hubspot.get_object(Contacts, &deleted_contact).unwrap().archived);
    }
}

both_backends! {
    fn the_sweep_reads_a_bounded_number_of_batches_per_run(backend) {
        let w = World::on(backend);
        w.hubspot.seed(hubspot_emulator::SeedSpec::new(3, 1_500, 0));
        w.connect_with(&settings(&w, ArchiveAction::Keep, DeleteAction::Keep));
        w.run(Job::SyncContacts);
        assert_eq!(w.links("contact").len(), 1_500);
        w.clock.advance_ms(SWEEP_DUE_MS);
        w.hubspot.reset_stats();
        w.run(Job::SyncContacts);
        let reads = w.hubspot.stats().count("POST", "/crm/objects/2026-03/contacts/batch/read");
        assert_eq!(reads, 10, "ten batches of a hundred links per run");
        w.hubspot.reset_stats();
        w.run(Job::SyncContacts);
        let reads = w.hubspot.stats().count("POST", "/crm/objects/2026-03/contacts/batch/read");
        assert_eq!(reads, 5, "the sweep goes on where it stopped and ends");
        w.hubspot.reset_stats();
        w.run(Job::SyncContacts);
        assert_eq!(w.hubspot.stats().count("POST", "/crm/objects/2026-03/contacts/batch/read"), 0, "no new sweep before six hours");
    }
}

/// 600 seeded contacts pulled with archives marked, then every other one archived in HubSpot
/// and the sweep due; the archived ids.
fn archived_half(w: &World) -> Vec<String> {
    w.hubspot.seed(hubspot_emulator::SeedSpec {
        associations: false,
        ..hubspot_emulator::SeedSpec::new(31, 600, 0)
    });
    w.connect_with(&settings(w, ArchiveAction::Mark, DeleteAction::Keep));
    w.run(Job::SyncContacts);
    let archived: Vec<String> = w
        .links("contact")
        .into_iter()
        .map(|(id, _)| id)
        .step_by(2)
        .collect();
    for id in &archived {
        w.hubspot.archive_object(Contacts, id).unwrap();
    }
    w.clock.advance_ms(SWEEP_DUE_MS);
    archived
}

both_backends! {
    fn a_trap_mid_sweep_then_rerun_ends_every_archived_link_once(backend) {
        // Measure what the sweep's run costs, then give the real tenant half of that.
        let probe = World::on(backend);
        archived_half(&probe);
        let full = probe.run_raw(Job::SyncContacts, Budget::default());
        assert!(full.result.is_ok(), "{:?}", full.result);

        let w = World::on(backend);
        let archived = archived_half(&w);
        let mut t = w.host.tenant(common::TENANT).unwrap();
        t.config.limits.fuel = full.fuel_used / 2;
        t.save().unwrap();
        let trapped = w.run_raw(Job::SyncContacts, Budget::default());
        assert!(trapped.result.is_err(), "{:?}", trapped.result);
        let marked = w.count("SELECT COUNT(*) FROM adresse WHERE geloescht = 1");
        assert!(marked > 0 && marked < 300, "trapped mid-way: {marked}");
        assert_eq!(
            w.count("SELECT COUNT(*) FROM hubspot_sync_ended"),
            marked,
            "every address marked has its end recorded (same transaction)"
        );
        t.config.limits = Default::default();
        t.save().unwrap();
        w.run(Job::SyncContacts);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse WHERE geloescht = 1"), 300);
        assert_eq!(w.count("SELECT COUNT(DISTINCT hubspot_id) FROM hubspot_sync_ended"), 300);
        assert_eq!(
            ended(&w, "contact"),
            [("archived in HubSpot (marked deleted in xentral)".to_owned(), 300, false)]
        );
        for id in &archived {
            assert_eq!(w.linked_address(id), None);
        }
        assert_eq!(w.links("contact").len(), 300);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 600, "nothing created");
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
    }
}
