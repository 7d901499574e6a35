//! Contacts under faults: traps, dropped connections, 5xx and 429 storms, malformed replies,
//! budgets and daily limits. After every fault a rerun converges; nothing is lost, duplicated,
//! or marked done that was not done.

mod common;

use std::collections::HashSet;

use common::{World, both_backends};
use hubspot_emulator::{FaultKind, FaultPlan, RandomFaults, ScriptedFault, SeedSpec};
use xentral_host::JobError;
use xentral_host::report::{Budget, Job};

/// Runs sync-contacts until nothing is pending (at most `max` runs); returns the run count.
fn converge(w: &World, max: usize) -> usize {
    for n in 1..=max {
        let r = w.run(Job::SyncContacts);
        let q = w.run(Job::ProcessQueue);
        if !r.pending && !q.pending && r.hubspot.failed == 0 && r.xentral.failed == 0 {
            return n;
        }
        // Let failed records' back-off expire.
        w.clock.advance_ms(15 * 60_000);
    }
    panic!("did not converge in {max} runs");
}

/// Both sides agree: every HubSpot contact is linked once, every group address once, and
/// no e-mail exists twice in HubSpot.
fn assert_consistent(w: &World, contacts: usize, addresses: usize) {
    let live = w.contacts();
    assert_eq!(live.len(), contacts, "HubSpot contacts");
    let emails: Vec<String> = live
        .iter()
        .filter_map(|r| r.properties.get("email").cloned().flatten())
        .map(|e| e.to_lowercase())
        .collect();
    let unique: HashSet<&String> = emails.iter().collect();
    assert_eq!(unique.len(), emails.len(), "duplicate e-mails in HubSpot");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM hubspot_sync_contact_links"),
        contacts as i64,
        "links"
    );
    assert_eq!(
        w.count("SELECT COUNT(DISTINCT address_id) FROM hubspot_sync_contact_links"),
        contacts as i64
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM adresse"),
        addresses as i64,
        "addresses"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM hubspot_sync_failures"),
        0,
        "failures left"
    );
}

fn seed_xentral(w: &World, n: usize) {
    for i in 0..n {
        w.add_address(
            &format!("Vor{i}"),
            &format!("Nach{i}"),
            &format!("x{i}@xentral.example"),
        );
    }
}

both_backends! {
    fn trap_mid_page_then_rerun_loses_and_duplicates_nothing(backend) {
        // Measure what a full run costs, then give the real tenant half of that.
        let probe = World::on(backend);
        probe.hubspot.seed(SeedSpec::new(11, 1_000, 0));
        probe.connect();
        let full = probe.run_raw(Job::SyncContacts, Budget::default());
        assert!(full.result.is_ok());

        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(11, 1_000, 0));
        w.connect();
        let mut t = w.host.tenant(common::TENANT).unwrap();
        t.config.limits.fuel = full.fuel_used / 2;
        t.save().unwrap();
        let trapped = w.run_raw(Job::SyncContacts, Budget::default());
        assert!(matches!(trapped.result, Err(JobError::OutOfFuel { .. })), "{:?}", trapped.result);
        let partial = w.count("SELECT COUNT(*) FROM adresse");
        assert!(partial > 0 && partial < 1_000, "trapped mid-way: {partial}");
        assert_eq!(
            w.count("SELECT COUNT(*) FROM hubspot_sync_contact_links"),
            partial,
            "every address written has its link (same transaction)"
        );
        t.config.limits = Default::default();
        t.save().unwrap();
        converge(&w, 3);
        assert_consistent(&w, 1_000, 1_000);
    }
}

both_backends! {
    fn dropped_connection_after_an_applied_upsert_creates_no_duplicates(backend) {
        let w = World::on(backend);
        w.connect();
        seed_xentral(&w, 250);
        w.hubspot.set_faults(FaultPlan::scripted(vec![
            ScriptedFault::new(FaultKind::DropAfterApply).path("batch/upsert"),
        ]));
        converge(&w, 3);
        assert_consistent(&w, 250, 250);
        let stats = w.hubspot.stats();
        assert_eq!(
            stats.count("POST", "/crm/objects/2026-03/contacts/batch/upsert"),
            4,
            "three batches plus one retry of the dropped one"
        );
    }
}

both_backends! {
    fn server_error_storm_converges_without_loss_or_duplicates(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(5, 600, 0));
        w.connect();
        seed_xentral(&w, 300);
        w.hubspot.set_faults(FaultPlan {
            random: Some(RandomFaults {
                probability: 0.35,
                statuses: vec![500, 502, 503, 504],
                seed: 99,
                filter: Default::default(),
            }),
            script: Vec::new(),
        });
        converge(&w, 8);
        w.hubspot.set_faults(FaultPlan::default());
        converge(&w, 2);
        assert_consistent(&w, 900, 900);
    }
}

both_backends! {
    fn rate_limit_storm_waits_and_converges(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(6, 500, 0));
        w.connect();
        seed_xentral(&w, 150);
        w.hubspot.set_faults(FaultPlan {
            random: Some(RandomFaults {
                probability: 0.4,
                statuses: vec![429],
                seed: 7,
                filter: Default::default(),
            }),
            script: Vec::new(),
        });
        converge(&w, 8);
        w.hubspot.set_faults(FaultPlan::default());
        converge(&w, 2);
        assert_consistent(&w, 650, 650);
    }
}

both_backends! {
    fn pacing_stays_under_the_rate_limits(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(8, 3_000, 0));
        w.connect();
        seed_xentral(&w, 1_200);
        converge(&w, 2);
        assert_eq!(w.hubspot.stats().count_status(429), 0, "{:#?}", w.hubspot.stats());
        assert_consistent(&w, 4_200, 4_200);
    }
}

both_backends! {
    fn malformed_json_reply_is_retried_not_taken_as_an_empty_page(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(9, 300, 0));
        w.connect();
        seed_xentral(&w, 120);
        w.hubspot.set_faults(FaultPlan::scripted(vec![
            ScriptedFault::new(FaultKind::MalformedJson).path("/search"),
            ScriptedFault::new(FaultKind::MalformedJson).path("batch/upsert"),
        ]));
        converge(&w, 3);
        assert_consistent(&w, 420, 420);
    }
}

both_backends! {
    fn request_budget_stops_at_a_page_boundary_with_work_pending(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(10, 1_000, 0));
        w.connect();
        let inv = w.run_raw(
            Job::SyncContacts,
            Budget {
                max_requests: Some(2),
                ..Budget::default()
            },
        );
        let r = inv.result.unwrap();
        assert!(r.pending);
        assert_eq!(r.total_api_calls(), 2);
        assert!(r.xentral.created > 0 && r.xentral.created <= 400, "{r:#?}");
        assert_eq!(
            w.count("SELECT COUNT(*) FROM hubspot_sync_contact_links"),
            i64::from(r.xentral.created),
            "only whole pages were committed"
        );
        converge(&w, 2);
        assert_consistent(&w, 1_000, 1_000);
    }
}

both_backends! {
    fn daily_limit_stops_the_job_until_reset(backend) {
        // 12 requests a day for the contacts, one more for the portal's owners (read once
        // an hour).
        let w = World::on_with(backend, |c| c.daily_limit = 13);
        w.hubspot.seed(SeedSpec::new(12, 3_000, 0));
        w.connect();
        let r = w.run(Job::SyncContacts);
        assert!(r.pending, "{r:#?}");
        assert!(r.messages.iter().any(|m| m.contains("DAILY")), "{:?}", r.messages);
        let done = w.count("SELECT COUNT(*) FROM adresse");
        assert!(done < 3_000);
        // The next day the limit resets and the sync completes.
        w.clock.advance_ms(24 * 3_600_000);
        converge(&w, 2);
        assert_consistent(&w, 3_000, 3_000);
    }
}

both_backends! {
    fn one_bad_record_does_not_block_the_others(backend) {
        let w = World::on(backend);
        w.connect();
        seed_xentral(&w, 150);
        let bad = w.add_address("Bad", "Status", "bad@xentral.example");
        w.edit_address(bad, &[("freifeld1", "NOT_A_HUBSPOT_STATUS")]);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.created, 150, "{r:#?}");
        assert_eq!(r.hubspot.failed, 1);
        assert_eq!(w.contacts().len(), 150);
        // HubSpot refused the value itself: no back-off retry of the same value, the record
        // waits for a change (and is never marked done).
        assert_eq!(
            w.count("SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0"),
            0,
            "not left for the back-off schedule"
        );
        assert_eq!(
            w.count(&format!("SELECT attempts FROM hubspot_sync_failures WHERE record_key = '{bad}' AND refused_properties IS NOT NULL")),
            1
        );
        assert_eq!(w.linked_contact(bad), None);
        // Once the user fixes the value, the retry goes through.
        w.edit_address(bad, &[("freifeld1", "OPEN")]);
        w.clock.advance_ms(5 * 60_000);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.created, 1, "{r:#?}");
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0"), 0);
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_failures"), 0);
    }
}

both_backends! {
    fn failed_push_is_not_marked_done_and_is_retried_after_back_off(backend) {
        let w = World::on(backend);
        w.connect();
        let a = w.add_address("Retry", "Me", "retry@xentral.example");
        let storm: Vec<ScriptedFault> = (0..6)
            .map(|_| ScriptedFault::new(FaultKind::Status(503)).path("batch/upsert"))
            .collect();
        w.hubspot.set_faults(FaultPlan::scripted(storm));
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.failed, 1, "{r:#?}");
        assert!(r.pending);
        assert_eq!(w.linked_contact(a), None);
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0"), 1);
        // Before the retry time nothing is attempted.
        w.hubspot.reset_stats();
        let early = w.host.run_job(common::TENANT, Job::ProcessQueue, Budget::default()).unwrap();
        assert!(early.result.unwrap().pending);
        assert_eq!(w.hubspot.stats().count("POST", "/crm/objects/2026-03/contacts/batch/upsert"), 0);
        w.clock.advance_ms(2 * 60_000);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.created, 1, "{r:#?}");
        assert!(w.linked_contact(a).is_some());
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0"), 0);
    }
}

both_backends! {
    /// At HubSpot-like latency (100–150 ms a reply) a sync reaches the same state as at none,
    /// and the run after it writes nothing.
    fn a_sync_at_hubspot_like_latency_converges_and_then_writes_nothing(backend) {
        let w = World::on_with(backend, |c| {
            c.latency = hubspot_emulator::Latency {
                fixed_ms: 100,
                jitter_ms: 50,
            }
        });
        w.hubspot.seed(SeedSpec::new(5, 40, 0));
        w.connect();
        seed_xentral(&w, 6);
        converge(&w, 3);
        assert_consistent(&w, 46, 46);
        let writes = w.hubspot_writes();
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created + r.xentral.updated, 0, "{r:#?}");
        assert_eq!(w.hubspot_writes(), writes, "nothing written to HubSpot");
    }
}

both_backends! {
    /// Batches go out several at a time, as many as the tenant's limit allows and never more:
    /// at 100 ms a reply, 450 new addresses (five batches) have at most that many in flight.
    fn batches_are_sent_together_up_to_the_tenants_limit(backend) {
        for (limit, expected) in [(1, 1), (2, 2), (4, 4)] {
            let w = World::on_with(backend, |c| {
                c.latency = hubspot_emulator::Latency {
                    fixed_ms: 100,
                    jitter_ms: 0,
                }
            });
            w.connect();
            let mut t = w.host.tenant(common::TENANT).unwrap();
            t.config.limits.max_requests_in_flight = limit;
            t.save().unwrap();
            seed_xentral(&w, 450);
            w.hubspot.reset_stats();
            let r = w.run(Job::SyncContacts);
            assert_eq!(r.hubspot.created, 450, "{r:#?}");
            assert_eq!(
                w.hubspot
                    .stats()
                    .count("POST", "/crm/objects/2026-03/contacts/batch/upsert"),
                5,
                "one call per batch of 100"
            );
            assert_eq!(w.hubspot.max_in_flight(), expected, "limit {limit}");
            assert_consistent(&w, 450, 450);
        }
    }
}
