//! Benchmark: the 10,000-contact initial sync on SQLite and on MariaDB.
//!
//! Seeds the emulated portal with 10,000 contacts, connects a fresh tenant and runs
//! `sync-contacts` until nothing is pending, once per backend. Reports the wall time, the time
//! spent inside the tenant database (every `db` call of the plugin, measured at the host
//! boundary) and both per created address. MariaDB runs when `XENTRAL_TEST_MYSQL_URL` is set.
//!
//! Run: `cargo run --release -p xentral-e2e --example backend_bench [-- CONTACTS]`

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, TENANT, World};
use hubspot_emulator::SeedSpec;
use xentral_erp::{Database, DbError, Dialect, ExecResult, Rows, Value};
use xentral_host::report::{Budget, Job};

/// Time and statements spent in the database.
#[derive(Debug, Default, Clone, Copy)]
struct DbTime {
    spent: Duration,
    statements: u64,
}

/// A database that times every call of the one it wraps.
struct Timed {
    inner: Box<dyn Database>,
    total: Arc<Mutex<DbTime>>,
}

impl Timed {
    fn time<T>(&mut self, f: impl FnOnce(&mut dyn Database) -> T) -> T {
        let started = Instant::now();
        let out = f(self.inner.as_mut());
        let mut t = self.total.lock().unwrap_or_else(|p| p.into_inner());
        t.spent += started.elapsed();
        t.statements += 1;
        out
    }
}

impl Database for Timed {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.time(|db| db.query(sql, params))
    }
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecResult, DbError> {
        self.time(|db| db.execute(sql, params))
    }
    fn begin(&mut self) -> Result<(), DbError> {
        self.time(|db| db.begin())
    }
    fn commit(&mut self) -> Result<(), DbError> {
        self.time(|db| db.commit())
    }
    fn rollback(&mut self) -> Result<(), DbError> {
        self.time(|db| db.rollback())
    }
    fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.inner.set_deadline(deadline);
    }

    fn set_read_only(&mut self) -> Result<(), DbError> {
        self.inner.set_read_only()
    }
}

/// What one backend's initial sync cost.
struct Outcome {
    backend: Backend,
    runs: usize,
    records: i64,
    wall: Duration,
    db: DbTime,
}

fn initial_sync(backend: Backend, contacts: usize) -> Outcome {
    let w = World::on(backend);
    w.hubspot.seed(SeedSpec::new(7, contacts, 0));
    w.connect();
    let total = Arc::new(Mutex::new(DbTime::default()));
    let started = Instant::now();
    let mut runs = 0;
    loop {
        runs += 1;
        w.clock.advance_ms(60_000);
        let tenant = w.host.tenant(TENANT).expect("tenant");
        let mut ctx = w.host.job_context(&tenant).expect("job context");
        ctx.db = Box::new(Timed {
            inner: ctx.db,
            total: Arc::clone(&total),
        });
        let inv = w
            .host
            .component()
            .run(ctx, Job::SyncContacts, Budget::default());
        let report = inv
            .result
            .unwrap_or_else(|e| panic!("sync-contacts failed on {backend:?}: {e}"));
        if !report.pending || runs > 100 {
            break;
        }
    }
    let wall = started.elapsed();
    let db = *total.lock().unwrap_or_else(|p| p.into_inner());
    Outcome {
        backend,
        runs,
        records: w.count("SELECT COUNT(*) FROM adresse"),
        wall,
        db,
    }
}

fn main() {
    let contacts: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("CONTACTS must be a number"))
        .unwrap_or(10_000);
    let mut outcomes = vec![initial_sync(Backend::Sqlite, contacts)];
    if Backend::MariaDb.available() {
        outcomes.push(initial_sync(Backend::MariaDb, contacts));
    } else {
        eprintln!("MariaDB {}", xentral_erp::mysql::scratch::SKIP_HINT);
    }
    println!(
        "{:<8} {:>5} {:>8} {:>10} {:>10} {:>9} {:>14} {:>14}",
        "backend", "runs", "records", "wall s", "db s", "db share", "wall µs/rec", "db µs/rec"
    );
    for o in &outcomes {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / o.records.max(1) as f64;
        println!(
            "{:<8} {:>5} {:>8} {:>10.2} {:>10.2} {:>8.0}% {:>14.0} {:>14.0}   ({} db calls)",
            format!("{:?}", o.backend),
            o.runs,
            o.records,
            o.wall.as_secs_f64(),
            o.db.spent.as_secs_f64(),
            100.0 * o.db.spent.as_secs_f64() / o.wall.as_secs_f64().max(1e-9),
            per(o.wall),
            per(o.db.spent),
            o.db.statements,
        );
    }
}
