//! The scheduler, one behaviour per test, on a virtual clock: which starters run, xentral's lock
//! convention, failures, concurrency, the run log and `status`. Jobs run in the misbehaving test
//! guest (its `run` does what the `konfiguration` row `test_guest_command` says) unless a test
//! needs the real plugin.

mod common;

use common::cli;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, OnceLock};

use chrono::{DateTime, Utc};
use xentral_erp::scheduler::{self as starters, ClaimOutcome, Starter};
use xentral_erp::{Database, Value};
use xentral_host::report::PluginError;
use xentral_host::runlog::{RunLog, RunResult};
use xentral_host::sandbox::TEST_GUEST_WASM;
use xentral_host::scheduler::{self, Pass, RunOutcome};
use xentral_host::tenant::DataDir;
use xentral_host::{Job, JobError, SharedClock, SystemClock, VirtualClock, XentralHost};

/// 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;
const MINUTE_MS: i64 = 60_000;

/// The compiled-component cache, filled once per test binary and copied into every data
/// directory, so each test does not compile the plugin again.
fn warm_cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scheduler-tests-cache");
        let clock = Arc::new(VirtualClock::new(START_MS));
        XentralHost::new(&root, common::test_key(), clock.clone()).unwrap();
        XentralHost::with_component(&root, common::test_key(), clock, TEST_GUEST_WASM).unwrap();
        root.join("cache")
    })
}

fn data_dir_with_cache() -> tempfile::TempDir {
    common::data_dir_with_cache(warm_cache())
}

struct Harness {
    dir: tempfile::TempDir,
    clock: VirtualClock,
    host: XentralHost,
}

impl Harness {
    /// A host running the test guest over a fresh data directory at [`START_MS`].
    fn new() -> Self {
        let dir = data_dir_with_cache();
        let clock = VirtualClock::new(START_MS);
        let host = XentralHost::with_component(
            dir.path(),
            common::test_key(),
            Arc::new(clock.clone()),
            TEST_GUEST_WASM,
        )
        .unwrap();
        Harness { dir, clock, host }
    }

    /// A host running the real plugin.
    fn with_plugin() -> Self {
        let dir = data_dir_with_cache();
        let clock = VirtualClock::new(START_MS);
        let host =
            XentralHost::new(dir.path(), common::test_key(), Arc::new(clock.clone())).unwrap();
        Harness { dir, clock, host }
    }

    /// Another host (another scheduler process) on the same data directory and clock.
    fn second_host(&self) -> XentralHost {
        XentralHost::with_component(
            self.dir.path(),
            common::test_key(),
            Arc::new(self.clock.clone()),
            TEST_GUEST_WASM,
        )
        .unwrap()
    }

    /// Creates `tenant` whose guest does `command`, with an active `hubspot_process` starter
    /// every 10 minutes that never ran; returns the starter id.
    fn tenant(&self, tenant: &str, command: &str) -> i64 {
        self.host.create_tenant(tenant).unwrap();
        let mut db = self.db(tenant);
        db.execute(
            "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('test_guest_command', ?, 0, 0)",
            &[Value::Text(command.into())],
        )
        .unwrap();
        starters::ensure_starter(
            &mut *db,
            "Hubspot Process Queues",
            "hubspot_process",
            10,
            true,
        )
        .unwrap()
        .0
    }

    fn db(&self, tenant: &str) -> Box<dyn Database> {
        self.host
            .tenant(tenant)
            .unwrap()
            .open_admin_db(self.host.clock())
            .unwrap()
    }

    fn starter(&self, tenant: &str, id: i64) -> Starter {
        starters::get(&mut *self.db(tenant), id).unwrap().unwrap()
    }

    fn sql(&self, tenant: &str, sql: &str) {
        self.db(tenant).execute(sql, &[]).unwrap();
    }

    fn pass(&self) -> Pass {
        scheduler::run_due(&self.host, 2)
    }

    fn run_log(&self, tenant: &str) -> RunLog {
        RunLog::for_tenant(&self.host.tenant(tenant).unwrap())
    }
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

#[test]
fn due_starter_runs() {
    let h = Harness::new();
    let id = h.tenant("t", "ok");
    let pass = h.pass();
    assert_eq!(pass.runs.len(), 1);
    let run = &pass.runs[0];
    assert_eq!((run.tenant.as_str(), run.starter_id), ("t", id));
    assert_eq!(run.parameter, "hubspot_process");
    assert_eq!(run.job, Job::ProcessQueue);
    assert_eq!(run.claim, ClaimOutcome::Claimed);
    assert!(
        matches!(run.outcome, RunOutcome::Ok(_)),
        "{:?}",
        run.outcome
    );
    assert_eq!(run.started_ms, START_MS);
}

#[test]
fn starter_not_yet_due_does_not_run() {
    let h = Harness::new();
    h.tenant("t", "ok");
    assert_eq!(h.pass().runs.len(), 1);
    h.clock.advance_ms(9 * MINUTE_MS + 59_000);
    assert!(h.pass().runs.is_empty());
    assert_eq!(h.run_log("t").read().unwrap().len(), 1);
}

#[test]
fn starter_runs_again_once_its_period_has_passed() {
    let h = Harness::new();
    h.tenant("t", "ok");
    h.pass();
    h.clock.advance_ms(10 * MINUTE_MS);
    let pass = h.pass();
    assert_eq!(pass.runs.len(), 1);
    assert_eq!(pass.runs[0].claim, ClaimOutcome::Claimed);
}

#[test]
fn inactive_starter_does_not_run() {
    let h = Harness::new();
    let id = h.tenant("t", "ok");
    h.sql("t", "UPDATE prozessstarter SET aktiv = 0");
    assert!(h.pass().runs.is_empty());
    assert_eq!(h.starter("t", id).letzteausfuerhung, None);
}

#[test]
fn starter_of_another_module_is_skipped() {
    let h = Harness::new();
    h.tenant("t", "ok");
    h.sql("t", "UPDATE prozessstarter SET parameter = 'shopimport'");
    assert!(h.pass().runs.is_empty());
}

#[test]
fn a_remembering_scheduler_leaves_an_idle_tenant_closed_until_its_starter_comes_due() {
    let h = Harness::new();
    h.tenant("t", "ok");
    let scheduler = scheduler::Scheduler::new(&h.host, 2);
    // The first pass runs the starter; the tenant was written, so the next pass opens it.
    assert_eq!(scheduler.pass().runs.len(), 1);
    h.clock.advance_ms(MINUTE_MS);
    let found_idle = scheduler.pass();
    assert!(found_idle.runs.is_empty());
    assert_eq!(found_idle.quiet, 0);
    h.clock.advance_ms(MINUTE_MS);
    let left_closed = scheduler.pass();
    assert!(left_closed.runs.is_empty());
    assert_eq!(left_closed.quiet, 1);
    // Ten minutes after the run it is due again and runs, closed or not.
    h.clock.advance_ms(8 * MINUTE_MS);
    let due = scheduler.pass();
    assert_eq!((due.runs.len(), due.quiet), (1, 0));
    assert!(matches!(due.runs[0].outcome, RunOutcome::Ok(_)));
}

#[test]
fn a_remembering_scheduler_opens_an_idle_tenant_again_once_its_database_is_written() {
    let h = Harness::new();
    let id = h.tenant("t", "ok");
    h.tenant("u", "ok");
    let scheduler = scheduler::Scheduler::new(&h.host, 2);
    scheduler.pass();
    h.clock.advance_ms(MINUTE_MS);
    scheduler.pass();
    assert_eq!(scheduler.pass().quiet, 2);
    // xentral's "run now": the starter's last run is cleared, by another connection.
    h.sql(
        "t",
        &format!(
            "UPDATE prozessstarter SET letzteausfuerhung = '0000-00-00 00:00:00' WHERE id = {id}"
        ),
    );
    let pass = scheduler.pass();
    assert_eq!(pass.quiet, 1, "u is still idle");
    assert_eq!(pass.runs.len(), 1);
    assert_eq!(
        (pass.runs[0].tenant.as_str(), pass.runs[0].starter_id),
        ("t", id)
    );
    assert_eq!(pass.runs[0].claim, ClaimOutcome::Claimed);
}

#[test]
fn a_one_off_pass_opens_every_tenant() {
    let h = Harness::new();
    h.tenant("t", "ok");
    h.pass();
    h.clock.advance_ms(MINUTE_MS);
    h.pass();
    assert_eq!(h.pass().quiet, 0);
}

#[test]
fn locked_starter_increments_its_counter_and_does_not_run() {
    let h = Harness::new();
    let id = h.tenant("t", "ok");
    h.sql("t", "UPDATE prozessstarter SET mutex = 1, mutexcounter = 0");
    let pass = h.pass();
    assert_eq!(pass.runs.len(), 1);
    assert_eq!(pass.runs[0].claim, ClaimOutcome::Locked { counter: 1 });
    assert_eq!(pass.runs[0].outcome, RunOutcome::NotRun);
    let s = h.starter("t", id);
    assert!(s.mutex);
    assert_eq!(s.mutexcounter, 1);
    assert_eq!(s.status, "");
    assert!(h.run_log("t").read().unwrap().is_empty());
}

#[test]
fn stale_lock_is_taken_over() {
    let h = Harness::new();
    let id = h.tenant("t", "ok");
    h.sql("t", "UPDATE prozessstarter SET mutex = 1, mutexcounter = 3");
    let pass = h.pass();
    assert_eq!(
        pass.runs[0].claim,
        ClaimOutcome::TakenOverStale {
            previous_counter: 3
        }
    );
    assert!(matches!(pass.runs[0].outcome, RunOutcome::Ok(_)));
    let s = h.starter("t", id);
    assert_eq!(
        (s.mutex, s.mutexcounter, s.status.as_str()),
        (false, 0, "OK")
    );
}

#[test]
fn failing_job_records_its_error_and_unlocks() {
    let h = Harness::new();
    let id = h.tenant("t", "panic disk on fire");
    let pass = h.pass();
    let RunOutcome::Failed(message) = &pass.runs[0].outcome else {
        panic!("expected a failure, got {:?}", pass.runs[0].outcome);
    };
    assert!(message.starts_with("the plugin crashed: "), "{message}");
    assert!(message.contains("disk on fire"), "{message}");
    let s = h.starter("t", id);
    assert!(!s.mutex);
    assert_eq!(&s.status, message);
    assert_eq!(s.letzteausfuerhung, Some(at(START_MS)));
    let log = h.run_log("t").read().unwrap();
    assert_eq!(log[0].outcome, RunResult::Failed);
    assert_eq!(&log[0].message, message);
}

#[test]
fn unconfigured_plugin_records_its_error_and_unlocks() {
    let h = Harness::with_plugin();
    let id = h.tenant("t", "unused");
    let pass = h.pass();
    let RunOutcome::Failed(message) = &pass.runs[0].outcome else {
        panic!("expected a failure, got {:?}", pass.runs[0].outcome);
    };
    let direct = h
        .host
        .run_job("t", Job::ProcessQueue, Default::default())
        .unwrap()
        .result
        .unwrap_err();
    assert!(
        matches!(direct, JobError::Plugin(PluginError::NotConfigured(_))),
        "{direct:?}"
    );
    assert_eq!(message, &direct.to_string());
    let s = h.starter("t", id);
    assert!(!s.mutex);
    assert_eq!(&s.status, message);
}

#[test]
fn successful_run_records_ok_status_at_the_virtual_now() {
    let h = Harness::new();
    let id = h.tenant("t", "ok");
    h.clock.advance_ms(42 * MINUTE_MS);
    h.pass();
    let s = h.starter("t", id);
    assert_eq!(s.status, "OK");
    assert_eq!(s.letzteausfuerhung, Some(at(START_MS + 42 * MINUTE_MS)));
    assert_eq!(s.status_zeit, Some(at(START_MS + 42 * MINUTE_MS)));
    assert_eq!((s.mutex, s.mutexcounter), (false, 0));
}

#[test]
fn run_log_records_each_finished_run() {
    let h = Harness::new();
    let id = h.tenant("t", "ok");
    h.pass();
    h.clock.advance_ms(10 * MINUTE_MS);
    h.pass();
    let log = h.run_log("t").read().unwrap();
    let started: Vec<i64> = log.iter().map(|r| r.started_ms).collect();
    assert_eq!(started, [START_MS, START_MS + 10 * MINUTE_MS]);
    assert!(log.iter().all(|r| r.starter_id == id
        && r.job == Job::ProcessQueue.name()
        && r.outcome == RunResult::Ok
        && r.api_calls == Some(0)));
}

#[test]
fn two_schedulers_racing_on_one_tenant_run_it_once() {
    let h = Harness::new();
    h.tenant("t", "ok");
    let hosts = [h.second_host(), h.second_host()];
    let barrier = Barrier::new(hosts.len());
    let passes: Vec<Pass> = std::thread::scope(|s| {
        let handles: Vec<_> = hosts
            .iter()
            .map(|host| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    scheduler::run_due(host, 1)
                })
            })
            .collect();
        handles.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let ran = passes
        .iter()
        .flat_map(|p| &p.runs)
        .filter(|r| r.ran())
        .count();
    assert_eq!(ran, 1, "{passes:?}");
    assert_eq!(h.run_log("t").read().unwrap().len(), 1);
}

#[test]
fn trap_in_one_tenant_does_not_stop_another_tenant() {
    let h = Harness::new();
    h.tenant("a-traps", "panic boom");
    h.tenant("b-works", "ok");
    let pass = scheduler::run_due(&h.host, 1);
    let outcomes: Vec<(&str, bool)> = pass
        .runs
        .iter()
        .map(|r| (r.tenant.as_str(), matches!(r.outcome, RunOutcome::Ok(_))))
        .collect();
    assert_eq!(outcomes, [("a-traps", false), ("b-works", true)]);
    assert!(pass.failures.is_empty());
}

#[test]
fn broken_tenant_does_not_stop_another_tenant() {
    let h = Harness::new();
    h.tenant("a-broken", "ok");
    h.tenant("b-works", "ok");
    let tenant = h.host.tenant("a-broken").unwrap();
    std::fs::write(tenant.dir().join("tenant.json"), "{ not json").unwrap();
    let pass = h.pass();
    assert_eq!(pass.failures.len(), 1);
    assert_eq!(pass.failures[0].tenant, "a-broken");
    assert_eq!(pass.runs.len(), 1);
    assert_eq!(pass.runs[0].tenant, "b-works");
    assert_eq!(pass.succeeded(), 1);
}

#[test]
fn status_json_shows_last_run_outcome_and_next_due() {
    let h = Harness::new();
    h.tenant("t", "ok");
    h.pass();
    let status = scheduler::starter_status(&h.host, "t").unwrap();
    let json = serde_json::to_value(&status).unwrap();
    let s = &json[0];
    assert_eq!(s["parameter"], "hubspot_process");
    assert_eq!(s["status"], "OK");
    assert_eq!(s["last_attempt"], "2026-01-01T00:00:00Z");
    assert_eq!(s["last_run"]["started"], "2026-01-01T00:00:00Z");
    assert_eq!(s["last_run"]["outcome"], "ok");
    assert_eq!(s["last_run"]["duration_ms"], 0);
    assert_eq!(s["next_due"], "2026-01-01T00:10:00Z");
    assert_eq!(s["locked"], false);
    assert_eq!(s["aktiv"], true);
}

/// The admin database of `tenant` in `data_dir`, on the system clock (as the CLI uses).
fn admin_db(data_dir: &Path, tenant: &str) -> Box<dyn Database> {
    let clock: SharedClock = Arc::new(SystemClock);
    DataDir::new(data_dir, std::sync::Arc::new(common::test_key()))
        .tenant(tenant)
        .unwrap()
        .open_admin_db(&clock)
        .unwrap()
}

#[test]
fn cli_scheduler_once_then_status_json() {
    let dir = data_dir_with_cache();
    cli(dir.path(), &["tenant", "create", "acme"]);
    let mut db = admin_db(dir.path(), "acme");
    starters::ensure_starter(
        &mut *db,
        "Hubspot Synchronize Contacts",
        "hubspot_pull_contacts",
        60,
        true,
    )
    .unwrap();
    let pass: serde_json::Value =
        serde_json::from_str(&cli(dir.path(), &["scheduler", "--once", "--json"])).unwrap();
    assert_eq!(pass["failed"], 1, "{pass}");
    assert_eq!(pass["runs"][0]["job"], "sync-contacts");
    assert_eq!(pass["runs"][0]["result"], "failed");

    let status: serde_json::Value =
        serde_json::from_str(&cli(dir.path(), &["status", "acme", "--json"])).unwrap();
    let s = &status["starters"][0];
    assert_eq!(status["tenant"], "acme");
    assert_eq!(s["last_run"]["outcome"], "failed");
    assert_eq!(s["status"], pass["runs"][0]["message"]);
    assert_eq!(s["locked"], false);
    let last: DateTime<Utc> = s["last_attempt"].as_str().unwrap().parse().unwrap();
    let next: DateTime<Utc> = s["next_due"].as_str().unwrap().parse().unwrap();
    assert_eq!(next - last, chrono::Duration::minutes(60));
}

#[test]
fn cli_status_text_is_a_table() {
    let dir = data_dir_with_cache();
    cli(dir.path(), &["tenant", "create", "acme"]);
    let mut db = admin_db(dir.path(), "acme");
    starters::ensure_starter(
        &mut *db,
        "Hubspot Process Queues",
        "hubspot_process",
        10,
        false,
    )
    .unwrap();
    let text = cli(dir.path(), &["status", "acme"]);
    assert!(text.contains("Process starters"), "{text}");
    let header = text.lines().find(|l| l.contains("PARAMETER")).unwrap();
    let row = text
        .lines()
        .find(|l| l.contains("hubspot_process"))
        .unwrap();
    assert_eq!(header.find("ACTIVE"), row.find("no "), "{text}");
}
