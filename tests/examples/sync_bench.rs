//! Benchmark of the initial sync, each way, against the emulator at 100 requests / 10 s:
//! API calls per 1,000 records, wall time against the rate-limit floor, plugin CPU per record
//! in wasm, and the same sync core compiled natively for comparison.
//!
//! `cargo run --release -p xentral-e2e --example sync_bench -- [CONTACTS] [DEALS] [LATENCY_MS]`
//! (defaults 10000 10000 0; LATENCY_MS is each reply's real delay, as HubSpot's 100–300 ms). Everything runs over HTTPS, as against HubSpot (one connection per
//! job); one extra pull over plain HTTP gives the cost of TLS in requests per second. Time
//! spent waiting for rate limits runs on a virtual clock, so the "wall time" is the virtual
//! waiting time plus the real processing time — what a real run against HubSpot would take,
//! without spending it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hubspot_emulator::{Emulator, EmulatorConfig, SeedSpec, TokenConfig};
use xentral_erp::Database;
use xentral_host::report::{Budget, Job, JobReport, ReasonCount, Settings};
use xentral_host::{Connection, HostClock, HostKey, VirtualClock, XentralHost};
use xentral_hubspot_plugin::platform as p;

const TOKEN: &str = "pat-bench";
const START_MS: i64 = 1_768_471_200_000;

/// Each reply's real delay, from the command line.
static LATENCY_MS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// CPU time of the calling thread (user + system), from /proc.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

struct World {
    _dir: tempfile::TempDir,
    clock: Arc<VirtualClock>,
    hubspot: Emulator,
    host: XentralHost,
}

fn world(contacts: usize, deals: usize) -> World {
    world_over(contacts, deals, true)
}

fn world_over(contacts: usize, deals: usize, tls: bool) -> World {
    let clock = Arc::new(VirtualClock::new(START_MS));
    let c = Arc::clone(&clock);
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        clock: Some(Arc::new(move || c.now_ms())),
        daily_limit: 10_000_000,
        tls,
        latency: hubspot_emulator::Latency {
            fixed_ms: LATENCY_MS.get().copied().unwrap_or(0),
            jitter_ms: 0,
        },
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    hubspot.seed(SeedSpec {
        associations: false,
        ..SeedSpec::new(1, contacts, deals)
    });
    let dir = tempfile::tempdir().expect("tmp");
    let host = XentralHost::new(dir.path(), HostKey::ephemeral(), clock.clone()).expect("host");
    host.create_tenant("bench").expect("tenant");
    let settings = Settings {
        hubspot_url: hubspot.base_url(),
        companies: false,
        contact_mode: xentral_host::report::ContactMode::Addresses,
        ..xentral_host::settings_defaults::built_in(xentral_host::bindings::CONTRACT_VERSION)
    };
    let connection = Connection {
        hubspot_url: Some(&settings.hubspot_url),
        token: Some(TOKEN),
        extra_ca_pem: hubspot.ca_pem(),
    };
    host.configure("bench", &connection, &settings)
        .expect("host")
        .result
        .expect("configured");
    World {
        _dir: dir,
        clock,
        hubspot,
        host,
    }
}

struct Measured {
    report: JobReport,
    calls: u64,
    waited_ms: i64,
    real: Duration,
    cpu: Duration,
    memory: usize,
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
        waited_ms: w.clock.now_ms() - t0,
        report,
        real,
        cpu,
        memory: inv.memory_peak_bytes,
        db_statements: inv.db_statements,
        db_time: inv.db_time,
    }
}

fn floor_seconds(stats_calls: &[ReasonCount]) -> f64 {
    let search: u32 = stats_calls
        .iter()
        .filter(|c| c.reason.ends_with("/search"))
        .map(|c| c.count)
        .sum();
    let other: u32 = stats_calls.iter().map(|c| c.count).sum::<u32>() - search;
    (f64::from(search) / 5.0).max(f64::from(other) / 10.0)
}

fn line(label: &str, records: usize, m: &Measured) {
    let floor = floor_seconds(&m.report.api_calls);
    let wall = m.waited_ms as f64 / 1000.0 + m.real.as_secs_f64();
    println!(
        "{label:<32} {records:>7} records  {:>6} calls ({:>5.2}/1000)  floor {:>7.1} s  wall {:>7.1} s (ratio {:>4.2})  CPU {:>6.1} µs/record  DB {:>4.1} statements {:>6.1} µs/record  peak memory {:>5.1} MiB",
        m.calls,
        m.calls as f64 * 1000.0 / records as f64,
        floor,
        wall,
        if floor > 0.0 { wall / floor } else { 0.0 },
        m.cpu.as_secs_f64() * 1e6 / records as f64,
        m.db_statements as f64 / records as f64,
        m.db_time.as_secs_f64() * 1e6 / records as f64,
        m.memory as f64 / (1 << 20) as f64,
    );
}

/// The plugin's platform traits on the host's own building blocks, to run the sync core
/// natively in this process.
struct Native {
    db: Box<dyn Database>,
    agent: ureq::Agent,
    clock: Arc<VirtualClock>,
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
        p::Dialect::Sqlite
    }
}

struct NativeClock(Arc<VirtualClock>);

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
        waited_ms: w.clock.now_ms() - t0,
        report,
        real,
        cpu,
        memory: 0,
        db_statements: 0,
        db_time: Duration::ZERO,
    }
}

fn seed_addresses(w: &World, n: usize) {
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
            &xentral_erp::ui::NewAddress {
                name: format!("Bench {i}"),
                vorname: format!("Bench{i}"),
                nachname: "Mark".into(),
                email: format!("bench{i}@xentral.example"),
                ort: "Berlin".into(),
                land: "DE".into(),
                lead: true,
                ..Default::default()
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

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let contacts = args.first().copied().unwrap_or(10_000);
    let deals = args.get(1).copied().unwrap_or(10_000);
    let latency = args.get(2).copied().unwrap_or(0);
    LATENCY_MS.set(latency as u64).expect("set once");
    println!("reply latency {latency} ms");

    // Pull: HubSpot → xentral.
    let w = world(contacts, deals);
    let m = run(&w, Job::SyncContacts);
    assert_eq!(
        m.report.xentral.created as usize, contacts,
        "{:?}",
        m.report
    );
    line("pull contacts (wasm)", contacts, &m);
    let m = run(&w, Job::SyncDeals);
    assert_eq!(m.report.xentral.created as usize, deals);
    line("pull deals (wasm)", deals, &m);

    // The same pull with the core compiled natively, on a fresh tenant.
    let n = world(contacts, 0);
    let m = run_native(&n, xentral_hubspot_plugin::api::Job::SyncContacts);
    line("pull contacts (native core)", contacts, &m);

    // Push: xentral → HubSpot.
    let w = world(0, 0);
    seed_addresses(&w, contacts);
    let m = run(&w, Job::SyncContacts);
    assert_eq!(
        m.report.hubspot.created as usize, contacts,
        "{:?}",
        m.report
    );
    line("push contacts (wasm)", contacts, &m);
    seed_resubmissions(&w, deals);
    let m = run(&w, Job::SyncDeals);
    assert_eq!(m.report.hubspot.created as usize, deals, "{:?}", m.report);
    line("push deals (wasm)", deals, &m);

    // The cost of TLS: the same pull over plain HTTP and over HTTPS, requests per real second.
    for tls in [false, true] {
        let w = world_over(contacts, 0, tls);
        let m = run(&w, Job::SyncContacts);
        println!(
            "pull contacts over {:<5}  {:>6} calls in {:>6.2} s real: {:>7.0} requests/s, {:>6.1} µs CPU/record",
            if tls { "HTTPS" } else { "HTTP" },
            m.calls,
            m.real.as_secs_f64(),
            m.calls as f64 / m.real.as_secs_f64(),
            m.cpu.as_secs_f64() * 1e6 / contacts as f64,
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
}
