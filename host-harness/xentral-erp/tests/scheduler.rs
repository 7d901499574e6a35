//! Process-starter state: due, claim, lock, stale takeover, finish, races.

mod common;

use std::sync::{Arc, Barrier};

use common::{Clock, host_db};
use xentral_erp::scheduler::{self, Claim, ClaimOutcome, Lease, Release, Starter};
use xentral_erp::{Database, SqliteDatabase, Value};

fn setup(periode: u32, aktiv: bool) -> (Clock, SqliteDatabase, i64) {
    let clock = Clock::at("2024-05-01 12:00:00");
    let mut db = host_db(&clock);
    let (id, created) = scheduler::ensure_starter(
        &mut db,
        "Hubspot Process Queues",
        "hubspot_process",
        periode,
        aktiv,
    )
    .unwrap();
    assert!(created);
    (clock, db, id)
}

fn starter(db: &mut SqliteDatabase, id: i64) -> Starter {
    scheduler::get(db, id).unwrap().unwrap()
}

fn attempt(db: &mut SqliteDatabase, id: i64, clock: &Clock) -> Claim {
    let s = starter(db, id);
    scheduler::try_claim(db, &s, clock.now()).unwrap()
}

fn claim(db: &mut SqliteDatabase, id: i64, clock: &Clock) -> ClaimOutcome {
    attempt(db, id, clock).outcome()
}

/// Claims a due starter and returns the lease.
fn lease(db: &mut SqliteDatabase, id: i64, clock: &Clock) -> Lease {
    let c = attempt(db, id, clock);
    assert!(c.outcome().should_run(), "{c:?}");
    c.into_lease().expect("a claim that runs holds a lease")
}

#[test]
fn ensure_starter_creates_once_and_finds_by_parameter() {
    let (_, mut db, id) = setup(10, true);
    let again =
        scheduler::ensure_starter(&mut db, "renamed", "hubspot_process", 60, false).unwrap();
    assert_eq!(again, (id, false));
    let all = scheduler::list(&mut db).unwrap();
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(
        (
            s.bezeichnung.as_str(),
            s.art.as_str(),
            s.typ.as_str(),
            s.periode.as_str(),
            s.aktiv
        ),
        (
            "Hubspot Process Queues",
            "periodisch",
            "cronjob",
            "10",
            true
        )
    );
    assert_eq!(
        (s.mutex, s.mutexcounter, s.letzteausfuerhung),
        (false, 0, None)
    );
}

#[test]
fn a_starter_that_never_ran_is_due() {
    let (clock, mut db, id) = setup(10, true);
    assert!(starter(&mut db, id).is_due(clock.now()));
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Claimed);
    let s = starter(&mut db, id);
    assert_eq!((s.mutex, s.mutexcounter), (true, 0));
    assert_eq!(s.letzteausfuerhung, Some(clock.now()));
}

#[test]
fn a_starter_is_not_due_before_its_period_has_passed() {
    let (clock, mut db, id) = setup(10, true);
    let held = lease(&mut db, id, &clock);
    scheduler::finish(&mut db, &held, clock.now(), Ok("OK")).unwrap();
    clock.advance_minutes(9);
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::NotDue);
    let s = starter(&mut db, id);
    assert_eq!(s.next_due().unwrap().to_string(), "2024-05-01 12:10:00 UTC");
    clock.advance_minutes(1);
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Claimed);
}

#[test]
fn an_inactive_starter_is_never_claimed() {
    let (clock, mut db, id) = setup(10, false);
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Inactive);
    assert_eq!(starter(&mut db, id).next_due(), None);
    assert!(!starter(&mut db, id).mutex);
}

#[test]
fn a_locked_starter_only_counts_the_attempt() {
    let (clock, mut db, id) = setup(10, true);
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Claimed);
    clock.advance_minutes(10);
    assert_eq!(
        claim(&mut db, id, &clock),
        ClaimOutcome::Locked { counter: 1 }
    );
    let s = starter(&mut db, id);
    assert_eq!((s.mutex, s.mutexcounter), (true, 1));
    assert_eq!(s.letzteausfuerhung, Some(clock.now()));
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::NotDue);
}

#[test]
fn a_stale_lock_is_taken_over() {
    let (clock, mut db, id) = setup(10, true);
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Claimed);
    for counter in 1..=3 {
        clock.advance_minutes(10);
        assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Locked { counter });
    }
    clock.advance_minutes(10);
    assert_eq!(
        claim(&mut db, id, &clock),
        ClaimOutcome::TakenOverStale {
            previous_counter: 3
        }
    );
    let s = starter(&mut db, id);
    assert_eq!((s.mutex, s.mutexcounter), (true, 0));
}

#[test]
fn finish_unlocks_and_records_the_status() {
    let (clock, mut db, id) = setup(10, true);
    let held = lease(&mut db, id, &clock);
    assert!(
        starter(&mut db, id)
            .status
            .starts_with("running since 2024-05-01 12:00:00 (run ")
    );
    clock.advance_minutes(3);
    assert_eq!(
        scheduler::finish(&mut db, &held, clock.now(), Ok("OK")).unwrap(),
        Release::Released
    );
    let s = starter(&mut db, id);
    assert_eq!(
        (s.mutex, s.mutexcounter, s.status.as_str()),
        (false, 0, "OK")
    );
    assert_eq!(s.letzteausfuerhung, Some(clock.now()));
    assert_eq!(s.status_zeit, Some(clock.now()));
}

#[test]
fn a_failed_run_records_its_error_cut_to_the_column_size() {
    let (clock, mut db, id) = setup(10, true);
    let held = lease(&mut db, id, &clock);
    let message = "ä".repeat(300);
    scheduler::finish(&mut db, &held, clock.now(), Err(&message)).unwrap();
    let s = starter(&mut db, id);
    assert_eq!(s.status.chars().count(), 255);
    assert!(!s.mutex);
}

#[test]
fn a_stale_snapshot_is_rechecked_against_the_database() {
    let (clock, mut db, id) = setup(10, true);
    let snapshot = starter(&mut db, id);
    assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Claimed);
    let again = scheduler::try_claim(&mut db, &snapshot, clock.now()).unwrap();
    assert_eq!(
        (again.outcome(), again.lease()),
        (ClaimOutcome::NotDue, None)
    );
}

#[test]
fn periode_is_read_like_php_int() {
    let (clock, mut db, id) = setup(10, true);
    db.execute("UPDATE prozessstarter SET periode = 'abc'", &[])
        .unwrap();
    let s = starter(&mut db, id);
    assert_eq!(s.period_minutes(), 0);
    assert!(s.is_due(clock.now()));
}

#[test]
fn two_schedulers_racing_for_a_due_starter_claim_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.sqlite");
    let clock = Clock::at("2024-05-01 12:00:00");
    let id = {
        let mut db = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
        db.migrate().unwrap();
        scheduler::ensure_starter(&mut db, "Sync", "hubspot_pull_contacts", 60, true)
            .unwrap()
            .0
    };
    for round in 0..20 {
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (path, clock, barrier) = (path.clone(), clock.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let mut db = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
                    let s = scheduler::get(&mut db, id).unwrap().unwrap();
                    barrier.wait();
                    scheduler::try_claim(&mut db, &s, clock.now()).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Claim> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let leases: Vec<&Lease> = outcomes.iter().filter_map(|c| c.lease()).collect();
        assert_eq!(leases.len(), 1, "round {round}: {outcomes:?}");
        let mut db = SqliteDatabase::open(&path, clock.now_fn()).unwrap();
        scheduler::finish(&mut db, leases[0], clock.now(), Ok("OK")).unwrap();
        clock.advance_minutes(60);
        let rows = db.query("SELECT mutex FROM prozessstarter", &[]).unwrap();
        assert_eq!(rows.scalar(), Some(&Value::Integer(0)));
    }
}

#[test]
fn a_run_whose_stale_lock_was_taken_over_leaves_the_new_holders_lock_alone() {
    let (clock, mut db, id) = setup(10, true);
    let late = lease(&mut db, id, &clock);
    for counter in 1..=3 {
        clock.advance_minutes(10);
        assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Locked { counter });
    }
    clock.advance_minutes(10);
    let holder = lease(&mut db, id, &clock);
    assert_ne!(late, holder);
    assert_eq!(
        scheduler::finish(&mut db, &late, clock.now(), Ok("OK")).unwrap(),
        Release::TakenOver
    );
    let s = starter(&mut db, id);
    assert!(s.mutex, "the late run released the new holder's lock");
    assert!(s.status.starts_with("running since"), "{}", s.status);
    clock.advance_minutes(10);
    assert_eq!(
        claim(&mut db, id, &clock),
        ClaimOutcome::Locked { counter: 1 }
    );
    assert_eq!(
        scheduler::finish(&mut db, &holder, clock.now(), Ok("OK")).unwrap(),
        Release::Released
    );
    assert!(!starter(&mut db, id).mutex);
}

#[test]
fn a_manual_claim_respects_a_held_lock_without_counting_the_attempt() {
    let (clock, mut db, id) = setup(10, true);
    let _running = lease(&mut db, id, &clock);
    clock.advance_minutes(1);
    for _ in 0..5 {
        let s = starter(&mut db, id);
        let manual = scheduler::claim_manual(&mut db, &s, clock.now(), false).unwrap();
        assert_eq!(
            (manual.outcome(), manual.lease()),
            (ClaimOutcome::Locked { counter: 0 }, None)
        );
    }
    let s = starter(&mut db, id);
    assert_eq!((s.mutex, s.mutexcounter), (true, 0));
}

#[test]
fn a_manual_claim_takes_over_a_stale_lock_by_the_same_rule() {
    let (clock, mut db, id) = setup(10, true);
    let _stuck = lease(&mut db, id, &clock);
    for counter in 1..=2 {
        clock.advance_minutes(10);
        assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Locked { counter });
    }
    let s = starter(&mut db, id);
    let refused = scheduler::claim_manual(&mut db, &s, clock.now(), false).unwrap();
    assert_eq!(refused.outcome(), ClaimOutcome::Locked { counter: 2 });
    clock.advance_minutes(10);
    assert_eq!(
        claim(&mut db, id, &clock),
        ClaimOutcome::Locked { counter: 3 }
    );
    clock.advance_minutes(1);
    let s = starter(&mut db, id);
    let manual = scheduler::claim_manual(&mut db, &s, clock.now(), false).unwrap();
    assert_eq!(
        manual.outcome(),
        ClaimOutcome::TakenOverStale {
            previous_counter: 3
        }
    );
    assert!(manual.lease().is_some());
}

#[test]
fn a_manual_claim_runs_a_starter_that_is_not_due_or_switched_off_and_stamps_it() {
    let (clock, mut db, id) = setup(10, false);
    let s = starter(&mut db, id);
    let manual = scheduler::claim_manual(&mut db, &s, clock.now(), false).unwrap();
    assert_eq!(manual.outcome(), ClaimOutcome::Claimed);
    let s = starter(&mut db, id);
    assert_eq!((s.mutex, s.letzteausfuerhung), (true, Some(clock.now())));
    assert!(s.status.starts_with("running since"), "{}", s.status);
    clock.advance_minutes(2);
    scheduler::finish(
        &mut db,
        &manual.into_lease().unwrap(),
        clock.now(),
        Err("HubSpot: 401"),
    )
    .unwrap();
    let s = starter(&mut db, id);
    assert_eq!((s.mutex, s.status.as_str()), (false, "HubSpot: 401"));
    assert_eq!(s.letzteausfuerhung, Some(clock.now()));
}

/// Rewrites the lock's lease as if `pid` on this machine held it.
fn held_by(db: &mut SqliteDatabase, id: i64, pid: u32) {
    let here = scheduler::Holder::current();
    let status = format!(
        "running since 2024-05-01 12:00:00 (run 0123456789ab; pid {pid} on {}, boot {})",
        here.host, here.boot
    );
    db.execute(
        "UPDATE prozessstarter SET status = ? WHERE id = ?",
        &[status.as_str().into(), id.into()],
    )
    .unwrap();
}

/// A process that has exited (and was reaped), so its pid is free.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_lease_names_this_process_as_its_holder_and_a_live_holder_is_respected() {
    let (clock, mut db, id) = setup(10, true);
    let _running = lease(&mut db, id, &clock);
    let holder = starter(&mut db, id).holder().expect("named");
    assert_eq!(holder.pid, std::process::id());
    assert_eq!(holder.since, "2024-05-01 12:00:00");
    assert!(!holder.is_dead());
    clock.advance_minutes(10);
    assert_eq!(
        claim(&mut db, id, &clock),
        ClaimOutcome::Locked { counter: 1 }
    );
}

#[test]
fn a_lock_whose_process_died_on_this_machine_is_free_at_once_for_the_scheduler() {
    let (clock, mut db, id) = setup(10, true);
    let _crashed = lease(&mut db, id, &clock);
    let pid = dead_pid();
    held_by(&mut db, id, pid);
    clock.advance_minutes(10);
    let c = attempt(&mut db, id, &clock);
    assert_eq!(c.outcome(), ClaimOutcome::TakenOverFromDead { pid });
    let s = starter(&mut db, id);
    assert_eq!(s.holder().map(|h| h.pid), Some(std::process::id()));
    assert!(c.lease().is_some());
}

#[test]
fn a_lock_whose_process_died_on_this_machine_is_free_at_once_for_a_manual_run() {
    let (clock, mut db, id) = setup(10, true);
    let _crashed = lease(&mut db, id, &clock);
    let pid = dead_pid();
    held_by(&mut db, id, pid);
    let s = starter(&mut db, id);
    let manual = scheduler::claim_manual(&mut db, &s, clock.now(), false).unwrap();
    assert_eq!(manual.outcome(), ClaimOutcome::TakenOverFromDead { pid });
}

#[test]
fn a_lock_held_on_another_machine_is_respected_unless_a_manual_run_is_forced() {
    let (clock, mut db, id) = setup(10, true);
    let _elsewhere = lease(&mut db, id, &clock);
    db.execute(
        "UPDATE prozessstarter SET status = 'running since 2024-05-01 12:00:00 (run 0123456789ab; pid 1 on other-host, boot 00000000)' WHERE id = ?",
        &[id.into()],
    )
    .unwrap();
    let s = starter(&mut db, id);
    assert!(
        !s.holder().unwrap().is_dead(),
        "another machine's process cannot be told dead"
    );
    let refused = scheduler::claim_manual(&mut db, &s, clock.now(), false).unwrap();
    assert_eq!(refused.outcome(), ClaimOutcome::Locked { counter: 0 });
    let forced = scheduler::claim_manual(&mut db, &s, clock.now(), true).unwrap();
    assert_eq!(forced.outcome(), ClaimOutcome::Forced);
    assert!(forced.lease().is_some());
}

#[test]
fn a_lease_without_a_holder_keeps_the_three_attempt_rule() {
    let (clock, mut db, id) = setup(10, true);
    let _old = lease(&mut db, id, &clock);
    db.execute(
        "UPDATE prozessstarter SET status = 'running since 2024-05-01 12:00:00 (run 0123456789ab)' WHERE id = ?",
        &[id.into()],
    )
    .unwrap();
    assert_eq!(starter(&mut db, id).holder(), None);
    for counter in 1..=3 {
        clock.advance_minutes(10);
        assert_eq!(claim(&mut db, id, &clock), ClaimOutcome::Locked { counter });
    }
    clock.advance_minutes(10);
    assert_eq!(
        claim(&mut db, id, &clock),
        ClaimOutcome::TakenOverStale {
            previous_counter: 3
        }
    );
}
