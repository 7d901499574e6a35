//! Scaling out on MariaDB: two scheduler processes on two machines (two hosts, each with its own
//! data directory) share one tenant database, and every due starter runs exactly once per
//! period. The claim is the one conditional UPDATE of `xentral_erp::scheduler::try_claim`; no
//! other coordination exists. Skipped, with a hint, without `XENTRAL_TEST_MYSQL_URL`.

mod common;

use std::sync::{Arc, Barrier};

use xentral_erp::Value;
use xentral_erp::mysql::scratch::{ScratchDatabase, report_skip};
use xentral_erp::scheduler as starters;
use xentral_host::sandbox::TEST_GUEST_WASM;
use xentral_host::scheduler::{self, Pass, RunOutcome};
use xentral_host::tenant::MysqlSetup;
use xentral_host::{VirtualClock, XentralHost};

/// 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;
const MINUTE_MS: i64 = 60_000;
const PERIOD_MINUTES: u32 = 10;
const STARTERS: [&str; 3] = [
    "hubspot_process",
    "hubspot_pull_contacts",
    "hubspot_pull_deals",
];

/// One "machine": a data directory and a host whose tenant `t` lives in the shared database.
struct Machine {
    _dir: tempfile::TempDir,
    host: XentralHost,
}

impl Machine {
    /// A machine on `clock` whose compiled-component cache is copied from `cache_from`, if any.
    fn new(clock: &VirtualClock, url: &str, cache_from: Option<&Machine>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if let Some(other) = cache_from {
            let cache = dir.path().join("cache");
            std::fs::create_dir_all(&cache).unwrap();
            for entry in std::fs::read_dir(other.host.data().cache_dir()).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), cache.join(entry.file_name())).unwrap();
            }
        }
        let host = XentralHost::with_component(
            dir.path(),
            common::test_key(),
            Arc::new(clock.clone()),
            TEST_GUEST_WASM,
        )
        .unwrap();
        host.create_tenant_on(
            "t",
            Some(MysqlSetup {
                database: url,
                plugin_account: None,
            }),
        )
        .unwrap();
        Machine { _dir: dir, host }
    }
}

#[test]
fn two_schedulers_on_two_machines_run_each_due_starter_once() {
    let Some(scratch) = ScratchDatabase::on_test_server() else {
        report_skip("two_schedulers_on_two_machines_run_each_due_starter_once");
        return;
    };
    let url = scratch.url().to_string();
    let clock = VirtualClock::new(START_MS);
    let a = Machine::new(&clock, &url, None);
    let b = Machine::new(&clock, &url, Some(&a));

    let tenant = a.host.tenant("t").unwrap();
    let mut db = tenant.open_admin_db(a.host.clock()).unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('test_guest_command', ?, 0, 0)",
        &[Value::Text("ok".into())],
    )
    .unwrap();
    let ids: Vec<i64> = STARTERS
        .iter()
        .map(|p| {
            starters::ensure_starter(db.as_mut(), p, p, PERIOD_MINUTES, true)
                .unwrap()
                .0
        })
        .collect();

    // Schedulers that run pass after pass, as `xentral-host scheduler` does: a MariaDB tenant
    // has no files to watch, so neither may ever leave it closed.
    let schedulers = [
        scheduler::Scheduler::new(&a.host, 2),
        scheduler::Scheduler::new(&b.host, 2),
    ];
    let both_pass = || -> Vec<Pass> {
        let barrier = Barrier::new(2);
        std::thread::scope(|s| {
            let handles: Vec<_> = schedulers
                .iter()
                .map(|m| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        m.pass()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    };
    for round in 0..6 {
        let passes = both_pass();
        for p in &passes {
            assert!(p.failures.is_empty(), "round {round}: {:?}", p.failures);
            assert_eq!(p.quiet, 0, "round {round}: a MariaDB tenant is always read");
        }
        let mut ran: Vec<i64> = passes
            .iter()
            .flat_map(|p| &p.runs)
            .filter(|r| r.ran())
            .map(|r| {
                assert!(matches!(r.outcome, RunOutcome::Ok(_)), "{:?}", r.outcome);
                r.starter_id
            })
            .collect();
        ran.sort_unstable();
        assert_eq!(ran, ids, "round {round}: one run per due starter");
        for id in &ids {
            let s = starters::get(db.as_mut(), *id).unwrap().unwrap();
            assert_eq!((s.mutex, s.mutexcounter), (false, 0), "released");
        }
        // Between runs nothing is due; a pass finds that by reading the tenant.
        clock.advance_ms(MINUTE_MS);
        for p in both_pass() {
            assert!(p.runs.is_empty(), "round {round}: {:?}", p.runs);
            assert_eq!(p.quiet, 0);
        }
        clock.advance_ms(i64::from(PERIOD_MINUTES - 1) * MINUTE_MS);
    }
    drop(db);
}
