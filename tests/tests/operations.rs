//! What an operator relies on: dry runs that write nothing, and sync health that shows what
//! is failing and why.

mod common;

use std::collections::BTreeMap;

use common::World;
use hubspot_emulator::SeedSpec;
use xentral_host::report::{Budget, Job};

fn snapshot_counts(w: &World) -> (usize, i64, i64, i64, i64) {
    (
        w.contacts().len(),
        w.count("SELECT COUNT(*) FROM adresse"),
        w.count("SELECT COUNT(*) FROM hubspot_sync_contact_links"),
        w.count("SELECT COUNT(*) FROM hubspot_sync_cursors"),
        w.count("SELECT COUNT(*) FROM hubspot_sync_queue WHERE completed = 0"),
    )
}

#[test]
fn dry_run_reports_what_would_change_and_writes_nothing_anywhere() {
    let w = World::new();
    w.hubspot.seed(SeedSpec::new(31, 80, 0));
    w.connect();
    for i in 0..20 {
        w.add_address("Dry", &format!("Run{i}"), &format!("dry{i}@x.de"));
    }
    let before = snapshot_counts(&w);
    w.hubspot.reset_stats();
    let dry = Budget {
        dry_run: true,
        ..Budget::default()
    };
    let sync = w.run_raw(Job::SyncContacts, dry).result.unwrap();
    let queue = w.run_raw(Job::ProcessQueue, dry).result.unwrap();
    assert_eq!(sync.xentral.created, 80, "{sync:#?}");
    assert_eq!(sync.hubspot.created, 20, "{sync:#?}");
    assert_eq!(queue.hubspot.created, 20, "{queue:#?}");
    assert_eq!(
        snapshot_counts(&w),
        before,
        "nothing written on either side"
    );
    assert_eq!(w.hubspot_writes(), 0, "{:#?}", w.hubspot.stats());
    // A real run afterwards does exactly what the dry run announced.
    let real = w.run(Job::SyncContacts);
    assert_eq!((real.xentral.created, real.hubspot.created), (80, 20));
}

#[test]
fn sync_health_shows_in_sync_excluded_and_failing_records_with_ids() {
    let w = World::new();
    w.connect();
    w.hubspot_contact(&[("email", "ok@x.de")]);
    let bad = w.add_address("Bad", "Status", "bad@x.de");
    w.edit_address(bad, &[("freifeld1", "NOT_AN_OPTION")]);
    w.add_address("No", "Mail", "");
    w.run(Job::SyncContacts);
    let mut db = w.db();
    let health = xentral_host::sync_health::read(db.as_mut(), &BTreeMap::new()).unwrap();
    assert!(health.connected);
    assert_eq!(health.contacts.in_sync, 1);
    assert_eq!(health.contacts.failing.len(), 1, "{health:#?}");
    let f = &health.contacts.failing[0];
    assert_eq!((f.direction.as_str(), f.count), ("push", 1));
    assert_eq!(f.records, vec![bad.to_string()]);
    assert!(
        f.error.contains("INVALID_OPTION") || f.error.contains("VALIDATION"),
        "{}",
        f.error
    );
    assert!(f.next_retry_ms > common::START_MS);
    assert_eq!(
        health.queue.pending, 2,
        "the hooks queued both addresses; sync-contacts does not consume the queue"
    );
}

#[test]
fn a_manual_run_never_overlaps_the_running_starter() {
    let w = World::new();
    w.connect();
    w.db()
        .execute(
            "UPDATE prozessstarter SET mutex = 1, mutexcounter = 0 WHERE parameter = 'hubspot_pull_contacts'",
            &[],
        )
        .unwrap();
    let err = w
        .host
        .run_job_exclusive(common::TENANT, Job::SyncContacts, Budget::default())
        .unwrap_err();
    assert!(
        matches!(err, xentral_host::HostError::Locked(ref name) if name == "Hubspot Synchronize Contacts"),
        "{err}"
    );
    // Another job's starter is free, and a finished manual run releases its lock.
    let ok = w
        .host
        .run_job_exclusive(common::TENANT, Job::ProcessQueue, Budget::default())
        .unwrap();
    assert!(ok.result.is_ok());
    assert_eq!(
        w.count("SELECT mutex FROM prozessstarter WHERE parameter = 'hubspot_process'"),
        0
    );
}
