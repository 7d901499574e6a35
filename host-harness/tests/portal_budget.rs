//! The shared rate budget of a HubSpot portal across connections (each stands for another job
//! or process of the tenant), on SQLite and MariaDB: within the limit requests pass at once,
//! beyond it the next one waits for the window, whoever claimed the slots; a wait past the
//! job's deadline is refused; limits learnt from HubSpot's headers apply.

use std::sync::Arc;
use std::time::{Duration, Instant};

use xentral_erp::mysql::scratch::{ScratchDatabase, report_skip};
use xentral_erp::{Database, MysqlDatabase, SqliteDatabase};
use xentral_host::portal_budget::{Bucket, BudgetError, PortalBudget, SEARCH_PER_SECOND};
use xentral_host::{HostClock, SharedClock, VirtualClock};

const ORIGIN: &str = "https://api.hubapi.com";
const TOKEN: &str = "pat-eu1-budget-0000";

/// Opens connections to one database.
type Connect = Box<dyn Fn() -> Box<dyn Database> + Send + Sync>;

fn on_sqlite() -> (tempfile::TempDir, Connect) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.sqlite");
    let connect: Connect = Box::new(move || {
        Box::new(SqliteDatabase::open(&path, Arc::new(|| 0)).unwrap()) as Box<dyn Database>
    });
    (dir, connect)
}

fn on_mariadb() -> Option<(ScratchDatabase, Connect)> {
    let scratch = ScratchDatabase::on_test_server()?;
    let url = scratch.url();
    let connect: Connect = Box::new(move || {
        Box::new(MysqlDatabase::connect(&url, Arc::new(|| 0)).unwrap()) as Box<dyn Database>
    });
    Some((scratch, connect))
}

fn budget(connect: &Connect, clock: &Arc<VirtualClock>, token: &str) -> PortalBudget {
    let shared: SharedClock = clock.clone();
    let db = connect();
    PortalBudget::new(Box::new(move || Ok(db)), ORIGIN, token, shared)
}

#[test]
fn a_budget_whose_database_cannot_be_opened_admits_requests_unpaced() {
    let clock = Arc::new(VirtualClock::new(0));
    let shared: SharedClock = clock.clone();
    let budget = PortalBudget::new(
        Box::new(|| {
            Err(xentral_erp::DbError::Denied(
                "CREATE on xentral_host_rate_locks".into(),
            ))
        }),
        ORIGIN,
        TOKEN,
        shared,
    );
    for _ in 0..3 * SEARCH_PER_SECOND {
        budget.acquire(Bucket::Search, None).unwrap();
    }
    assert_eq!(
        clock.now_ms(),
        0,
        "the plugin's own pacing is all that is left"
    );
}

fn two_jobs_share_one_search_budget(connect: &Connect) {
    let clock = Arc::new(VirtualClock::new(1_000_000));
    let (a, b) = (
        budget(connect, &clock, TOKEN),
        budget(connect, &clock, TOKEN),
    );
    for _ in 0..SEARCH_PER_SECOND {
        a.acquire(Bucket::Search, None).unwrap();
    }
    assert_eq!(clock.now_ms(), 1_000_000, "within the limit nothing waits");
    b.acquire(Bucket::Search, None).unwrap();
    assert!(
        clock.now_ms() > 1_001_000,
        "the other job waited for the window: {}",
        clock.now_ms()
    );
    // Another portal (another token) has its own budget.
    let other = budget(connect, &clock, "pat-eu1-other-portal");
    let before = clock.now_ms();
    for _ in 0..SEARCH_PER_SECOND {
        other.acquire(Bucket::Search, None).unwrap();
    }
    assert_eq!(clock.now_ms(), before);
}

fn a_wait_past_the_deadline_is_refused_and_learnt_limits_apply(connect: &Connect) {
    let clock = Arc::new(VirtualClock::new(5_000_000));
    let a = budget(connect, &clock, TOKEN);
    a.learn(&[
        ("x-hubspot-ratelimit-max".into(), "2".into()),
        (
            "x-hubspot-ratelimit-interval-milliseconds".into(),
            "10000".into(),
        ),
    ]);
    a.acquire(Bucket::General, None).unwrap();
    a.acquire(Bucket::General, None).unwrap();
    let soon = Instant::now() + Duration::from_millis(50);
    assert!(matches!(
        a.acquire(Bucket::General, Some(soon)),
        Err(BudgetError::Deadline)
    ));
    assert_eq!(clock.now_ms(), 5_000_000, "a refused wait does not sleep");
    a.acquire(Bucket::General, None).unwrap();
    assert!(clock.now_ms() > 5_010_000, "{}", clock.now_ms());
}

#[test]
fn sqlite_two_jobs_share_one_search_budget() {
    let (_dir, connect) = on_sqlite();
    two_jobs_share_one_search_budget(&connect);
}

#[test]
fn sqlite_a_wait_past_the_deadline_is_refused_and_learnt_limits_apply() {
    let (_dir, connect) = on_sqlite();
    a_wait_past_the_deadline_is_refused_and_learnt_limits_apply(&connect);
}

#[test]
fn mariadb_two_jobs_share_one_search_budget() {
    match on_mariadb() {
        Some((_db, connect)) => two_jobs_share_one_search_budget(&connect),
        None => report_skip("mariadb_two_jobs_share_one_search_budget"),
    }
}

#[test]
fn mariadb_a_wait_past_the_deadline_is_refused_and_learnt_limits_apply() {
    match on_mariadb() {
        Some((_db, connect)) => {
            a_wait_past_the_deadline_is_refused_and_learnt_limits_apply(&connect)
        }
        None => report_skip("mariadb_a_wait_past_the_deadline_is_refused_and_learnt_limits_apply"),
    }
}
