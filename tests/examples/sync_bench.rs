//! Benchmark of the sync against the emulator at HubSpot's rate limits (100 calls per rolling
//! 10 s, search 5 per second): initial pull and push of contacts, companies and deals, API calls
//! per 1,000 records, wall time against the rolling-window floor (burst included, see
//! `hubspot_emulator::floor`), plugin CPU per record in wasm and natively, database statements and
//! time per record, peak guest memory; the calls of a no-change incremental run per object kind;
//! and a scheduler pass over many tenants (idle, then each running a no-change sync).
//!
//! `cargo run --release -p xentral-e2e --example sync_bench -- [CONTACTS] [COMPANIES] [DEALS]
//! [LATENCY_MS] [--mariadb] [--tenants=N] [--no-native] [--no-tls]`
//! (defaults 10000 2000 10000 0; LATENCY_MS is each reply's real delay, as HubSpot's 100–300 ms;
//! `--mariadb` puts the tenant on a scratch database of `XENTRAL_TEST_MYSQL_URL`; `--tenants=N`
//! adds the scheduler pass over N tenants). Everything runs over HTTPS, as against HubSpot; one
//! extra pull over plain HTTP gives the cost of TLS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hubspot_emulator::floor::{Calls, floor};
use hubspot_emulator::{Emulator, EmulatorConfig, SeedSpec, TokenConfig};
use xentral_erp::Database;
use xentral_erp::mysql::scratch::{SKIP_HINT, ScratchDatabase};
use xentral_host::report::{Budget, ContactMode, Job, JobReport, ReasonCount, Settings};
use xentral_host::tenant::MysqlSetup;
use xentral_host::{Connection, HostClock, HostKey, XentralHost};
use xentral_hubspot_plugin::platform as p;

const TOKEN: &str = "pat-bench";
const START_MS: i64 = 1_768_471_200_000;

/// What to run, from the command line.
#[derive(Debug, Clone)]
struct Options {
    contacts: usize,
    companies: usize,
    deals: usize,
    /// Each reply's real delay.
    latency_ms: u64,
    mariadb: bool,
    /// Tenants of the scheduler pass (0: no pass).
    tenants: usize,
    native: bool,
    /// The HTTP-against-HTTPS comparison.
    tls_cost: bool,
}

impl Options {
    fn parse() -> Options {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
        let flag = |name: &str| args.iter().any(|a| a == name);
        Options {
            contacts: numbers.first().copied().unwrap_or(10_000),
            companies: numbers.get(1).copied().unwrap_or(2_000),
            deals: numbers.get(2).copied().unwrap_or(10_000),
            latency_ms: numbers.get(3).copied().unwrap_or(0) as u64,
            mariadb: flag("--mariadb"),
            tenants: args
                .iter()
                .find_map(|a| a.strip_prefix("--tenants="))
                .map(|n| n.parse().expect("--tenants=N"))
                .unwrap_or(0),
            native: !flag("--no-native"),
            tls_cost: !flag("--no-tls"),
        }
    }

    fn backend(&self) -> &'static str {
        if self.mariadb { "MariaDB" } else { "SQLite" }
    }
}

/// Real time plus every wait skipped: sleeping moves the clock at once, everything else takes
/// as long as it really takes.
struct FastForwardClock {
    start_ms: i64,
    started: Instant,
    skipped_ms: std::sync::atomic::AtomicI64,
}

impl FastForwardClock {
    fn new(start_ms: i64) -> FastForwardClock {
        FastForwardClock {
            start_ms,
            started: Instant::now(),
            skipped_ms: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// Moves the clock forward (time passing between runs).
    fn advance_ms(&self, ms: i64) {
        self.skipped_ms
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl HostClock for FastForwardClock {
    fn now_ms(&self) -> i64 {
        self.start_ms
            + self.started.elapsed().as_millis() as i64
            + self.skipped_ms.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn sleep_ms(&self, ms: u64) {
        self.advance_ms(ms as i64);
    }
}

/// CPU time of the calling thread (user + system), from /proc.
fn thread_cpu() -> Duration {
    proc_cpu("/proc/thread-self/stat")
}

/// CPU time of the whole process, every thread.
fn process_cpu() -> Duration {
    proc_cpu("/proc/self/stat")
}

fn proc_cpu(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

/// The process's resident memory, from /proc.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

struct World {
    _dir: tempfile::TempDir,
    clock: Arc<FastForwardClock>,
    hubspot: Emulator,
    host: XentralHost,
    /// The tenant's MariaDB database, dropped after the host.
    _scratch: Option<ScratchDatabase>,
}

/// What the portal holds at the start.
#[derive(Debug, Clone, Copy, Default)]
struct Portal {
    contacts: usize,
    companies: usize,
    deals: usize,
}

/// A world over HTTPS; companies sync when the portal or the run has any.
fn world(o: &Options, portal: Portal, companies: bool) -> World {
    world_over(o, portal, companies, true)
}

fn emulator(o: &Options, tls: bool, clock: &Arc<FastForwardClock>) -> Emulator {
    let c = Arc::clone(clock);
    Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        clock: Some(Arc::new(move || c.now_ms())),
        daily_limit: 10_000_000,
        tls,
        latency: hubspot_emulator::Latency {
            fixed_ms: o.latency_ms,
            jitter_ms: 0,
        },
        ..EmulatorConfig::default()
    })
    .expect("emulator")
}

/// Settings against `hubspot`: companies on when the run has any, every contact a person
/// address (so contact counts compare with the runs without companies).
fn bench_settings(hubspot: &Emulator, companies: bool) -> Settings {
    Settings {
        hubspot_url: hubspot.base_url(),
        companies,
        contact_mode: ContactMode::Addresses,
        ..xentral_host::settings_defaults::built_in(xentral_host::bindings::CONTRACT_VERSION)
    }
}

fn configure(host: &XentralHost, tenant: &str, hubspot: &Emulator, companies: bool) {
    let settings = bench_settings(hubspot, companies);
    let connection = Connection {
        hubspot_url: Some(&settings.hubspot_url),
        token: Some(TOKEN),
        extra_ca_pem: hubspot.ca_pem(),
    };
    host.configure(tenant, &connection, &settings)
        .expect("host")
        .result
        .expect("configured");
}

fn world_over(o: &Options, portal: Portal, companies: bool, tls: bool) -> World {
    let clock = Arc::new(FastForwardClock::new(START_MS));
    let hubspot = emulator(o, tls, &clock);
    hubspot.seed(SeedSpec {
        associations: false,
        companies: portal.companies,
        ..SeedSpec::new(1, portal.contacts, portal.deals)
    });
    let dir = tempfile::tempdir().expect("tmp");
    let host = XentralHost::new(dir.path(), HostKey::ephemeral(), clock.clone()).expect("host");
    let scratch = o
        .mariadb
        .then(|| ScratchDatabase::on_test_server().expect(SKIP_HINT));
    let url = scratch.as_ref().map(|s| s.url().to_string());
    let setup = url.as_deref().map(|database| MysqlSetup {
        database,
        plugin_account: None,
    });
    host.create_tenant_on("bench", setup).expect("tenant");
    configure(&host, "bench", &hubspot, companies);
    World {
        _dir: dir,
        clock,
        hubspot,
        host,
        _scratch: scratch,
    }
}

struct Measured {
    report: JobReport,
    calls: u64,
    /// Time on the fast-forward clock: real time plus waits skipped.
    wall_ms: i64,
    real: Duration,
    cpu: Duration,
    memory: usize,
    /// Calls HubSpot refused with 429 (each costs the plugin a wait).
    refused: u64,
    /// The guest's SQL statements and their time (the host counts them; 0 natively).
    db_statements: u64,
    db_time: Duration,
}

fn run(w: &World, job: Job) -> Measured {
    w.clock.advance_ms(60_000);
    w.hubspot.reset_stats();
    let t0 = w.clock.now_ms();
    let (real0, cpu0) = (Instant::now(), thread_cpu());
    let inv = w
        .host
        .run_job("bench", job, Budget::default())
        .expect("host");
    let (real, cpu) = (real0.elapsed(), thread_cpu() - cpu0);
    let report = inv.result.expect("job ran");
    Measured {
        calls: w.hubspot.stats().total,
        refused: w.hubspot.stats().count_status(429),
        wall_ms: w.clock.now_ms() - t0,
        report,
        real,
        cpu,
        memory: inv.memory_peak_bytes,
        db_statements: inv.db_statements,
        db_time: inv.db_time,
    }
}

/// Prints the table's header.
fn header(o: &Options) {
    println!(
        "backend {}, reply latency {} ms, portal limit {} calls / 10 s, search 5 / s",
        o.backend(),
        o.latency_ms,
        GENERAL_LIMIT
    );
    println!(
        "{:<28} {:>7} {:>7} {:>5} {:>9} {:>9} {:>8} {:>9} {:>6} {:>10} {:>7} {:>10} {:>8}",
        "run",
        "records",
        "calls",
        "429s",
        "calls/1k",
        "floor s",
        "bound",
        "wall s",
        "ratio",
        "CPU µs/rec",
        "SQL/rec",
        "DB µs/rec",
        "peak MiB"
    );
}

/// The portal's general limit, as the emulator enforces it by default.
const GENERAL_LIMIT: u64 = 100;

fn line(o: &Options, label: &str, records: usize, m: &Measured) {
    if records == 0 {
        // A kind this run leaves out: its few setup calls say nothing per record.
        return;
    }
    let calls = Calls::from_reasons(
        m.report
            .api_calls
            .iter()
            .map(|c| (c.reason.as_str(), u64::from(c.count))),
    );
    let floor = floor(calls, GENERAL_LIMIT, o.latency_ms);
    let floor_s = floor.ms as f64 / 1000.0;
    let wall = m.wall_ms as f64 / 1000.0;
    let per = |x: f64| x / records.max(1) as f64;
    println!(
        "{label:<28} {records:>7} {:>7} {:>5} {:>9.2} {:>9.1} {:>8} {:>9.1} {:>6.2} {:>10.1} {:>7.1} {:>10.1} {:>8.1}",
        m.calls,
        m.refused,
        per(m.calls as f64 * 1000.0),
        floor_s,
        floor.bound_by,
        wall,
        if floor_s > 0.0 { wall / floor_s } else { 0.0 },
        per(m.cpu.as_secs_f64() * 1e6),
        per(m.db_statements as f64),
        per(m.db_time.as_secs_f64() * 1e6),
        m.memory as f64 / (1 << 20) as f64,
    );
}

/// The plugin's platform traits on the host's own building blocks, to run the sync core
/// natively in this process.
struct Native {
    db: Box<dyn Database>,
    agent: ureq::Agent,
    clock: Arc<FastForwardClock>,
}

impl p::Http for Native {
    fn send(&mut self, r: p::Request) -> Result<p::Response, p::HttpError> {
        let mut b = ureq::http::Request::builder()
            .method(r.method.as_str())
            .uri(&r.url);
        for (k, v) in &r.headers {
            b = b.header(k, v);
        }
        if r.credential.is_some() {
            b = b.header("authorization", format!("Bearer {TOKEN}"));
        }
        let req = b
            .body(r.body.unwrap_or_default())
            .map_err(|e| p::HttpError::Invalid(e.to_string()))?;
        let mut resp = self
            .agent
            .run(req)
            .map_err(|e| p::HttpError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| p::HttpError::Transport(e.to_string()))?;
        Ok(p::Response {
            status,
            headers,
            body,
        })
    }
}

fn to_erp(v: &p::Value) -> xentral_erp::Value {
    match v {
        p::Value::Null => xentral_erp::Value::Null,
        p::Value::Integer(i) => xentral_erp::Value::Integer(*i),
        p::Value::Real(r) => xentral_erp::Value::Real(*r),
        p::Value::Text(t) => xentral_erp::Value::Text(t.clone()),
        p::Value::Blob(b) => xentral_erp::Value::Blob(b.clone()),
    }
}

fn from_erp(v: xentral_erp::Value) -> p::Value {
    match v {
        xentral_erp::Value::Null => p::Value::Null,
        xentral_erp::Value::Integer(i) => p::Value::Integer(i),
        xentral_erp::Value::Real(r) => p::Value::Real(r),
        xentral_erp::Value::Text(t) => p::Value::Text(t),
        xentral_erp::Value::Blob(b) => p::Value::Blob(b),
    }
}

fn db_err(e: xentral_erp::DbError) -> p::DbError {
    p::DbError::Io(e.to_string())
}

impl p::Db for Native {
    fn query(&mut self, sql: &str, params: &[p::Value]) -> Result<p::Rows, p::DbError> {
        let params: Vec<_> = params.iter().map(to_erp).collect();
        let r = self.db.query(sql, &params).map_err(db_err)?;
        Ok(p::Rows {
            columns: r.columns,
            rows: r
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(from_erp).collect())
                .collect(),
        })
    }
    fn execute(&mut self, sql: &str, params: &[p::Value]) -> Result<p::ExecResult, p::DbError> {
        let params: Vec<_> = params.iter().map(to_erp).collect();
        let r = self.db.execute(sql, &params).map_err(db_err)?;
        Ok(p::ExecResult {
            rows_affected: r.rows_affected,
            last_insert_id: r.last_insert_id,
        })
    }
    fn begin(&mut self) -> Result<(), p::DbError> {
        self.db.begin().map_err(db_err)
    }
    fn commit(&mut self) -> Result<(), p::DbError> {
        self.db.commit().map_err(db_err)
    }
    fn rollback(&mut self) -> Result<(), p::DbError> {
        self.db.rollback().map_err(db_err)
    }
    fn dialect(&self) -> p::Dialect {
        match self.db.dialect() {
            xentral_erp::Dialect::Sqlite => p::Dialect::Sqlite,
            xentral_erp::Dialect::Mysql => p::Dialect::Mysql,
        }
    }
}

struct NativeClock(Arc<FastForwardClock>);

impl p::Clock for NativeClock {
    fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
    fn sleep_ms(&self, ms: u64) {
        self.0.sleep_ms(ms);
    }
    fn time_zone(&self) -> String {
        "Europe/Berlin".into()
    }
}

struct Quiet;

impl p::Log for Quiet {
    fn log(&self, _: p::Level, _: &str, _: &[(&str, &str)]) {}
}

impl p::Secrets for Quiet {
    fn exists(&self, _: &str) -> bool {
        true
    }
}

/// A native client trusting the emulator's CA, as the host's is.
fn native_agent(hubspot: &Emulator) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder().http_status_as_error(false);
    if let Some(pem) = hubspot.ca_pem() {
        let certs = xentral_host::outbound::parse_ca_pem(pem).expect("the emulator's CA");
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        );
    }
    config.build().into()
}

fn run_native(w: &World, job: xentral_hubspot_plugin::api::Job) -> Measured {
    let tenant = w.host.tenant("bench").expect("tenant");
    let mut native = Native {
        db: tenant.open_admin_db(w.host.clock()).expect("db"),
        agent: native_agent(&w.hubspot),
        clock: Arc::clone(&w.clock),
    };
    let clock = NativeClock(Arc::clone(&native.clock));
    let mut http = Native {
        db: tenant.open_admin_db(w.host.clock()).expect("db"),
        agent: native.agent.clone(),
        clock: Arc::clone(&w.clock),
    };
    w.clock.advance_ms(60_000);
    w.hubspot.reset_stats();
    let t0 = w.clock.now_ms();
    let (real0, cpu0) = (Instant::now(), thread_cpu());
    let mut platform = p::Platform {
        http: &mut http,
        db: &mut native,
        clock: &clock,
        log: &Quiet,
        secrets: &Quiet,
    };
    let r = xentral_hubspot_plugin::exports::run(&mut platform, job, Default::default())
        .expect("native job");
    let (real, cpu) = (real0.elapsed(), thread_cpu() - cpu0);
    let report = JobReport {
        job: Job::SyncContacts,
        xentral: Default::default(),
        hubspot: Default::default(),
        api_calls: r
            .api_calls
            .into_iter()
            .map(|(reason, count)| ReasonCount { reason, count })
            .collect(),
        pending: r.pending,
        messages: r.messages,
        planned: Vec::new(),
    };
    Measured {
        calls: w.hubspot.stats().total,
        refused: w.hubspot.stats().count_status(429),
        wall_ms: w.clock.now_ms() - t0,
        report,
        real,
        cpu,
        memory: 0,
        db_statements: 0,
        db_time: Duration::ZERO,
    }
}

/// `n` person addresses, or company addresses with a website each, in the contact group.
fn seed_addresses(w: &World, n: usize, companies: bool) {
    let tenant = w.host.tenant("bench").expect("tenant");
    let mut db = tenant.open_admin_db(w.host.clock()).expect("db");
    let group = xentral_erp::ui::find_group_by_name(db.as_mut(), "Hubspot")
        .unwrap()
        .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    db.begin().unwrap();
    for i in 0..n {
        let c = xentral_erp::ui::add_address(
            db.as_mut(),
            &if companies {
                xentral_erp::ui::NewAddress {
                    typ: "firma".into(),
                    name: format!("Bench {i} GmbH"),
                    email: format!("info@bench{i}.example"),
                    internetseite: format!("https://www.bench{i}.example/"),
                    ort: "Berlin".into(),
                    land: "DE".into(),
                    lead: true,
                    ..Default::default()
                }
            } else {
                xentral_erp::ui::NewAddress {
                    typ: "herr".into(),
                    name: format!("Bench{i} Mark"),
                    vorname: format!("Bench{i}"),
                    nachname: "Mark".into(),
                    email: format!("bench{i}@xentral.example"),
                    ort: "Berlin".into(),
                    land: "DE".into(),
                    lead: true,
                    ..Default::default()
                }
            },
        )
        .unwrap();
        xentral_erp::ui::add_to_group(db.as_mut(), c.id, group, today).unwrap();
    }
    db.commit().unwrap();
}

fn seed_resubmissions(w: &World, n: usize) {
    let tenant = w.host.tenant("bench").expect("tenant");
    let mut db = tenant.open_admin_db(w.host.clock()).expect("db");
    let stage = db
        .query(
            "SELECT wiedervorlage_stage_id FROM hubspot_sync_stage_map ORDER BY id LIMIT 1",
            &[],
        )
        .unwrap()
        .scalar()
        .and_then(xentral_erp::Value::as_i64)
        .unwrap();
    let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    db.begin().unwrap();
    for i in 0..n {
        xentral_erp::ui::add_resubmission(
            db.as_mut(),
            &xentral_erp::ui::NewResubmission {
                bezeichnung: format!("Bench deal {i}"),
                betrag: Some(format!("{}.50", i)),
                stages: stage,
                datum_erinnerung: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
                ..Default::default()
            },
            now,
        )
        .unwrap();
    }
    db.commit().unwrap();
}

/// Runs `job` again with nothing changed on either side and prints its calls by endpoint.
fn no_change(w: &World, job: Job) -> u64 {
    let m = run(w, job);
    let reasons: Vec<String> = m
        .report
        .api_calls
        .iter()
        .map(|c| format!("{} × {}", c.count, c.reason))
        .collect();
    println!(
        "no-change {job:?}: {} calls ({}); xentral {:?}, HubSpot {:?}",
        m.calls,
        reasons.join(", "),
        m.report.xentral,
        m.report.hubspot
    );
    m.calls
}

/// A scheduler pass over `n` tenants sharing one portal (the emulator's limit raised so that
/// each tenant sees a portal of its own): once with nothing due, once with every starter due
/// and nothing changed. Prints process CPU, wall time and resident memory per tenant.
fn tenants_pass(o: &Options, n: usize) {
    let clock = Arc::new(FastForwardClock::new(START_MS));
    let c = Arc::clone(&clock);
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        clock: Some(Arc::new(move || c.now_ms())),
        daily_limit: u64::MAX / 2,
        rate_limit_per_10s: u32::MAX / 2,
        search_per_second: u32::MAX / 2,
        tls: true,
        latency: hubspot_emulator::Latency {
            fixed_ms: o.latency_ms,
            jitter_ms: 0,
        },
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    hubspot.seed(SeedSpec {
        associations: false,
        companies: 3,
        ..SeedSpec::new(1, 20, 5)
    });
    let dir = tempfile::tempdir().expect("tmp");
    let host = XentralHost::new(dir.path(), HostKey::ephemeral(), clock.clone()).expect("host");
    let rss0 = resident_bytes();
    let created = Instant::now();
    for i in 0..n {
        let name = format!("t{i:05}");
        host.create_tenant(&name).expect("tenant");
        configure(&host, &name, &hubspot, true);
    }
    let created = created.elapsed();
    let workers = xentral_host::scheduler::default_workers();
    let scheduler = xentral_host::scheduler::Scheduler::new(&host, workers);
    // The first pass runs every starter's first (initial) sync.
    clock.advance_ms(24 * 3_600_000);
    let first = scheduler.pass();
    assert_eq!(first.failed(), 0, "{:?}", first.failures);
    let pass = |label: &str, advance_ms: i64| {
        clock.advance_ms(advance_ms);
        hubspot.reset_stats();
        let (real0, cpu0, rss_before) = (Instant::now(), process_cpu(), resident_bytes());
        let pass = scheduler.pass();
        let (real, cpu) = (real0.elapsed(), process_cpu() - cpu0);
        assert_eq!(pass.failed(), 0, "{:?}", pass.failures);
        assert!(pass.failures.is_empty(), "{:?}", pass.failures);
        let ran = pass.runs.iter().filter(|r| r.ran()).count();
        let calls = hubspot.stats().total;
        println!(
            "{label:<34} {n:>5} tenants ({:>5} left closed), {workers} workers: {ran:>5} jobs, {calls:>6} calls ({:.1}/tenant), wall {:>7.3} s, CPU {:>7.3} s ({:>6.3} ms/tenant, incl. the emulator), resident {:>6.1} → {:>6.1} MiB",
            pass.quiet,
            calls as f64 / n as f64,
            real.as_secs_f64(),
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e3 / n as f64,
            rss_before as f64 / (1 << 20) as f64,
            resident_bytes() as f64 / (1 << 20) as f64,
        );
    };
    // The first idle pass opens every tenant (the last one wrote them); later ones need not.
    pass("pass, nothing due (first)", 0);
    pass("pass, nothing due", 60_000);
    pass("pass, all due, nothing changed", 61 * 60_000);
    pass("pass, nothing due (first)", 0);
    pass("pass, nothing due", 60_000);
    let rss = resident_bytes();
    println!(
        "{n} tenants created and configured in {:.1} s; host resident memory {:.1} MiB → {:.1} MiB: {:.1} KiB per tenant",
        created.as_secs_f64(),
        rss0 as f64 / (1 << 20) as f64,
        rss as f64 / (1 << 20) as f64,
        rss.saturating_sub(rss0) as f64 / 1024.0 / n as f64,
    );
}

fn main() {
    let o = Options::parse();
    header(&o);

    // Pull: HubSpot → xentral, each kind on its own tenant.
    let portal = Portal {
        contacts: o.contacts,
        ..Portal::default()
    };
    let w = world(&o, portal, false);
    let m = run(&w, Job::SyncContacts);
    assert_eq!(
        m.report.xentral.created as usize, o.contacts,
        "{:?}",
        m.report
    );
    line(&o, "pull contacts (wasm)", o.contacts, &m);
    no_change(&w, Job::SyncContacts);
    drop(w);

    if o.companies > 0 {
        let w = world(
            &o,
            Portal {
                companies: o.companies,
                ..Portal::default()
            },
            true,
        );
        let m = run(&w, Job::SyncContacts);
        assert_eq!(
            m.report.xentral.created as usize, o.companies,
            "{:?}",
            m.report
        );
        line(&o, "pull companies (wasm)", o.companies, &m);
        no_change(&w, Job::SyncContacts);
    }

    let w = world(
        &o,
        Portal {
            deals: o.deals,
            ..Portal::default()
        },
        false,
    );
    let m = run(&w, Job::SyncDeals);
    assert_eq!(m.report.xentral.created as usize, o.deals, "{:?}", m.report);
    line(&o, "pull deals (wasm)", o.deals, &m);
    no_change(&w, Job::SyncDeals);
    drop(w);

    // The same contact pull with the core compiled natively, on a fresh tenant.
    if o.native {
        let n = world(&o, portal, false);
        let m = run_native(&n, xentral_hubspot_plugin::api::Job::SyncContacts);
        line(&o, "pull contacts (native core)", o.contacts, &m);
    }

    // Push: xentral → HubSpot.
    let w = world(&o, Portal::default(), false);
    seed_addresses(&w, o.contacts, false);
    let m = run(&w, Job::SyncContacts);
    assert_eq!(
        m.report.hubspot.created as usize, o.contacts,
        "{:?}",
        m.report
    );
    line(&o, "push contacts (wasm)", o.contacts, &m);
    seed_resubmissions(&w, o.deals);
    let m = run(&w, Job::SyncDeals);
    assert_eq!(m.report.hubspot.created as usize, o.deals, "{:?}", m.report);
    line(&o, "push deals (wasm)", o.deals, &m);
    // The first pull after a push reads the pushed records back (their modified time is past
    // the cursor) and writes nothing; the run after it is the real no-change run.
    for _ in 0..2 {
        no_change(&w, Job::SyncContacts);
        no_change(&w, Job::SyncDeals);
        no_change(&w, Job::ProcessQueue);
    }
    if o.companies > 0 {
        let w = world(&o, Portal::default(), true);
        seed_addresses(&w, o.companies, true);
        let m = run(&w, Job::SyncContacts);
        assert_eq!(
            m.report.hubspot.created as usize, o.companies,
            "{:?}",
            m.report
        );
        line(&o, "push companies (wasm)", o.companies, &m);
    }

    // The cost of TLS: the same pull over plain HTTP and over HTTPS, requests per real second.
    for tls in [false, true].into_iter().filter(|_| o.tls_cost) {
        let w = world_over(&o, portal, false, tls);
        let m = run(&w, Job::SyncContacts);
        println!(
            "pull contacts over {:<5}  {:>6} calls in {:>6.2} s real: {:>7.0} requests/s, {:>6.1} µs CPU/record",
            if tls { "HTTPS" } else { "HTTP" },
            m.calls,
            m.real.as_secs_f64(),
            m.calls as f64 / m.real.as_secs_f64(),
            m.cpu.as_secs_f64() * 1e6 / o.contacts.max(1) as f64,
        );
    }

    // Instantiation and a trivial call.
    let mut inst = Duration::ZERO;
    let mut call = Duration::ZERO;
    for _ in 0..50 {
        let inv = w
            .host
            .record_changed("bench", xentral_host::report::Entity::Address, 1)
            .unwrap();
        inst += inv.instantiate;
        call += inv.elapsed;
    }
    println!(
        "instantiate from InstancePre {:>6.0} µs; trivial export call incl. store and db open {:>6.0} µs (mean of 50)",
        inst.as_secs_f64() * 1e6 / 50.0,
        call.as_secs_f64() * 1e6 / 50.0
    );
    println!(
        "plugin component: {} bytes",
        xentral_host::sandbox::PLUGIN_WASM.len()
    );

    if o.tenants > 0 {
        tenants_pass(&o, o.tenants);
    }
}
