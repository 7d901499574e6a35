//! Sandbox limits and traps, one behaviour per test, each through the misbehaving test guest
//! (`host-harness/test-guest`) and one shared helper, as Spin's core tests do.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use xentral_erp::{Privilege, TableGrant, Value};
use xentral_host::outbound::Origin;
use xentral_host::report::{Budget, Job, JobReport};
use xentral_host::sandbox::TEST_GUEST_WASM;
use xentral_host::{Invocation, JobError, TenantLimits, VirtualClock, XentralHost};

const TOKEN: &str = "pat-eu1-0123456789-very-secret";

struct Harness {
    _dir: tempfile::TempDir,
    host: XentralHost,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(VirtualClock::new(1_767_225_600_000));
        let host =
            XentralHost::with_component(dir.path(), common::test_key(), clock, TEST_GUEST_WASM)
                .unwrap();
        Harness { _dir: dir, host }
    }

    /// Creates `tenant` with `limits` (and the test token) and makes the guest do `command`.
    fn tenant(&self, tenant: &str, command: &str, limits: impl FnOnce(&mut TenantLimits)) {
        let mut t = self.host.create_tenant(tenant).unwrap();
        limits(&mut t.config.limits);
        t.save().unwrap();
        // The token is bound to the first allowed origin, as `settings` binds it to the URL.
        let origin = t
            .config
            .limits
            .allowed_origins
            .first()
            .map(|o| Origin::parse(o).unwrap().to_string());
        t.secrets()
            .put("hubspot", TOKEN, origin.as_deref())
            .unwrap();
        let mut db = t.open_admin_db(self.host.clock()).unwrap();
        db.execute(
            "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('test_guest_command', ?, 0, 0)",
            &[Value::Text(command.into())],
        )
        .unwrap();
    }

    fn run(&self, tenant: &str) -> Invocation<JobReport> {
        self.host
            .run_job(tenant, Job::SyncContacts, Budget::default())
            .unwrap()
    }
}

/// Runs `command` in a fresh tenant under `limits`.
fn run_test(
    command: &str,
    limits: impl FnOnce(&mut TenantLimits),
) -> (Harness, Invocation<JobReport>) {
    let h = Harness::new();
    h.tenant("t", command, limits);
    let inv = h.run("t");
    (h, inv)
}

fn message(inv: &Invocation<JobReport>) -> String {
    inv.result.as_ref().expect("job succeeded").messages[0].clone()
}

/// A loopback HTTP server answering every request with `body`; counts connections.
fn serve(body: Vec<u8>, echo: bool) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                request.push_str(&line);
            }
            let payload = if echo {
                request.into_bytes()
            } else {
                body.clone()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nx-echo: {}\r\nconnection: close\r\n\r\n",
                payload.len(),
                if echo { TOKEN } else { "none" }
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&payload);
            let _ = stream.flush();
            let _ = stream.read(&mut [0u8; 1]);
        }
    });
    (url, accepted)
}

#[test]
fn test_max_memory_size_obeyed() {
    let (_h, inv) = run_test("alloc 8", |l| l.memory_bytes = 64 << 20);
    assert_eq!(message(&inv), "allocated 8 MiB");
}

#[test]
fn test_max_memory_size_violated() {
    let (h, inv) = run_test("alloc 1024", |l| l.memory_bytes = 64 << 20);
    assert_eq!(
        inv.result.unwrap_err(),
        JobError::MemoryLimit {
            limit_bytes: 64 << 20
        }
    );
    // The host is unharmed: the same tenant runs a sane job afterwards.
    let mut db = h
        .host
        .tenant("t")
        .unwrap()
        .open_admin_db(h.host.clock())
        .unwrap();
    db.execute(
        "UPDATE konfiguration SET wert = 'alloc 1' WHERE name = 'test_guest_command'",
        &[],
    )
    .unwrap();
    assert_eq!(message(&h.run("t")), "allocated 1 MiB");
}

#[test]
fn test_fuel_obeyed() {
    let (_h, inv) = run_test("ok", |l| l.fuel = 50_000_000);
    assert!(inv.result.is_ok());
    assert!(inv.fuel_used > 0 && inv.fuel_used < 50_000_000);
}

#[test]
fn test_fuel_violated_by_infinite_loop() {
    let (_h, inv) = run_test("loop", |l| {
        l.fuel = 50_000_000;
        l.wall_time_ms = 600_000;
    });
    assert_eq!(
        inv.result.unwrap_err(),
        JobError::OutOfFuel { fuel: 50_000_000 }
    );
}

#[test]
fn test_deadline_violated_by_infinite_loop() {
    let (_h, inv) = run_test("loop", |l| {
        l.fuel = u64::MAX;
        l.wall_time_ms = 200;
    });
    assert_eq!(
        inv.result.unwrap_err(),
        JobError::Deadline { wall_time_ms: 200 }
    );
    assert!(
        inv.elapsed.as_secs() < 10,
        "stopped promptly: {:?}",
        inv.elapsed
    );
}

#[test]
fn test_panic_is_a_trap_with_its_message_in_the_job_log() {
    let (_h, inv) = run_test("panic the ledger is on fire", |_| {});
    let err = inv.result.unwrap_err();
    let JobError::Trap { message } = &err else {
        panic!("expected a trap, got {err:?}")
    };
    assert!(message.contains("the ledger is on fire"), "{message}");
    assert!(
        inv.log
            .iter()
            .any(|e| e.source == "stderr" && e.message.contains("the ledger is on fire"))
    );
}

#[test]
fn test_stdout_and_stderr_are_captured_into_the_job_log() {
    let (_h, inv) = run_test("print hello", |_| {});
    assert!(
        inv.log
            .iter()
            .any(|e| e.source == "stdout" && e.message == "stdout: hello")
    );
    assert!(
        inv.log
            .iter()
            .any(|e| e.source == "stderr" && e.message == "stderr: hello")
    );
}

#[test]
fn test_request_to_allowed_origin_reaches_it() {
    let (url, accepted) = serve(b"fine".to_vec(), false);
    let (_h, inv) = run_test(&format!("http {url}/x"), |l| {
        l.allowed_origins = vec![url.clone()];
    });
    let m = message(&inv);
    assert!(
        m.starts_with("status 200") && m.ends_with("body fine"),
        "{m}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn test_request_to_origin_not_on_allow_list_is_denied_without_connecting() {
    let (allowed, _) = serve(b"allowed".to_vec(), false);
    let (other, accepted) = serve(b"other".to_vec(), false);
    let (_h, inv) = run_test(&format!("http {other}/steal"), |l| {
        l.allowed_origins = vec![allowed.clone()];
    });
    let origin = other.clone();
    assert_eq!(
        message(&inv),
        format!("error HttpError::Denied(\"{origin}\")")
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "no connection was attempted"
    );
}

#[test]
fn test_same_host_other_port_is_denied() {
    let (allowed, _) = serve(b"allowed".to_vec(), false);
    let (other, accepted) = serve(b"other".to_vec(), false);
    assert_ne!(allowed, other);
    let (_h, inv) = run_test(&format!("http {other}/"), |l| {
        l.allowed_origins = vec![allowed.clone()];
    });
    assert!(message(&inv).starts_with("error HttpError::Denied"));
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

#[test]
fn test_oversized_response_is_too_large() {
    let (url, _) = serve(vec![b'x'; 2 << 20], false);
    let (_h, inv) = run_test(&format!("http {url}/big"), |l| {
        l.allowed_origins = vec![url.clone()];
        l.max_response_bytes = 1 << 20;
    });
    assert_eq!(
        message(&inv),
        format!("error HttpError::TooLarge({})", 1 << 20)
    );
}

#[test]
fn test_query_on_table_outside_grant_is_denied() {
    let (_h, inv) = run_test("query SELECT * FROM adresse", |l| {
        l.table_grant = Some(TableGrant::new().with_table("konfiguration", &[Privilege::Select]));
    });
    assert_eq!(message(&inv), "error DbError::Denied(\"adresse\")");
}

#[test]
fn test_query_on_granted_table_works() {
    let (_h, inv) = run_test("query SELECT * FROM adresse", |l| {
        l.table_grant = Some(
            TableGrant::new()
                .with_table("konfiguration", &[Privilege::Select])
                .with_table("adresse", &[Privilege::Select]),
        );
    });
    assert_eq!(message(&inv), "rows 0");
}

#[test]
fn test_attach_of_another_database_is_denied() {
    let (_h, inv) = run_test(
        "execute ATTACH DATABASE '/tmp/other.sqlite' AS other",
        |_| {},
    );
    assert!(
        message(&inv).starts_with("error DbError::Denied"),
        "{}",
        message(&inv)
    );
}

#[test]
fn test_open_transaction_is_rolled_back_when_the_guest_crashes() {
    let (h, inv) = run_test(
        "tx-panic INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('half', 'done', 0, 0)",
        |_| {},
    );
    assert!(matches!(inv.result, Err(JobError::Trap { .. })));
    let mut db = h
        .host
        .tenant("t")
        .unwrap()
        .open_admin_db(h.host.clock())
        .unwrap();
    let rows = db
        .query(
            "SELECT COUNT(*) FROM konfiguration WHERE name = 'half'",
            &[],
        )
        .unwrap();
    assert_eq!(rows.rows[0][0], Value::Integer(0));
    assert!(inv.log.iter().any(|e| e.message.contains("rolled back")));
}

#[test]
fn test_trap_in_one_tenant_leaves_another_tenant_working() {
    let h = Harness::new();
    h.tenant("a", "panic tenant a is broken", |_| {});
    h.tenant("b", "alloc 1", |_| {});
    assert!(matches!(h.run("a").result, Err(JobError::Trap { .. })));
    assert_eq!(message(&h.run("b")), "allocated 1 MiB");
    assert!(matches!(h.run("a").result, Err(JobError::Trap { .. })));
}

#[test]
fn test_credential_value_never_reaches_guest_log_or_report() {
    let (url, _) = serve(Vec::new(), true);
    let (h, inv) = run_test(&format!("http-credential hubspot {url}/echo"), |l| {
        l.allowed_origins = vec![url.clone()];
    });
    let m = message(&inv);
    // The server saw the token (it echoes the request); the guest sees it redacted.
    assert!(m.contains("authorization: Bearer [REDACTED]"), "{m}");
    assert!(m.contains("[REDACTED]"));
    assert!(!m.contains(TOKEN));
    let log = format!("{:?}", inv.log);
    assert!(!log.contains(TOKEN));
    let report = format!("{:?}", inv.result);
    assert!(!report.contains(TOKEN));
    let db_bytes = std::fs::read(h.host.tenant("t").unwrap().db_path()).unwrap();
    assert!(!db_bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
}

#[test]
fn test_unknown_credential_is_refused_without_sending() {
    let (url, accepted) = serve(b"x".to_vec(), false);
    let (_h, inv) = run_test(&format!("http-credential salesforce {url}/"), |l| {
        l.allowed_origins = vec![url.clone()];
    });
    assert_eq!(
        message(&inv),
        "error HttpError::UnknownCredential(\"salesforce\")"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

#[test]
fn test_compiled_component_is_cached_on_disk_and_reused() {
    let h = Harness::new();
    let cache = h.host.data().cache_dir();
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(files.len(), 1);
    let modified = files[0].metadata().unwrap().modified().unwrap();
    let again = XentralHost::with_component(
        h.host.data().root(),
        common::test_key(),
        h.host.clock().clone(),
        TEST_GUEST_WASM,
    )
    .unwrap();
    assert!(
        again.component().loaded_from_cache(),
        "the second host loads the compiled code, it does not compile again"
    );
    assert_eq!(files[0].metadata().unwrap().modified().unwrap(), modified);
}

#[test]
fn test_corrupt_cache_entry_is_recompiled_not_trusted() {
    let h = Harness::new();
    let cache = h.host.data().cache_dir();
    // One flipped byte deep in the compiled code: it still looks like a compiled component,
    // only the checksum can tell.
    let mut flipped = 0;
    for e in std::fs::read_dir(&cache).unwrap().filter_map(Result::ok) {
        if e.path().extension().is_some_and(|x| x == "cwasm") {
            let mut bytes = std::fs::read(e.path()).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
            std::fs::write(e.path(), &bytes).unwrap();
            flipped += 1;
        }
    }
    assert_eq!(flipped, 1);
    let again = XentralHost::with_component(
        h.host.data().root(),
        common::test_key(),
        h.host.clock().clone(),
        TEST_GUEST_WASM,
    )
    .unwrap();
    assert!(
        !again.component().loaded_from_cache(),
        "a changed artefact is compiled again, never trusted"
    );
    again.create_tenant("x").unwrap();
    let mut db = again
        .tenant("x")
        .unwrap()
        .open_admin_db(again.clock())
        .unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('test_guest_command', 'ok', 0, 0)",
        &[],
    )
    .unwrap();
    assert!(
        again
            .run_job("x", Job::SyncContacts, Budget::default())
            .unwrap()
            .result
            .is_ok()
    );
}

/// A store as the sandbox builds one, holding only the tenant's limiter: the real engine and
/// the real limiter, for modules the guest toolchain cannot produce (several memories).
fn instantiate_core(wat: &str, limits: &TenantLimits) -> wasmtime::Result<()> {
    let runtime = xentral_host::Runtime::new().unwrap();
    let module = wasmtime::Module::new(runtime.engine(), wat::parse_str(wat).unwrap())?;
    let mut store = wasmtime::Store::new(
        runtime.engine(),
        xentral_host::sandbox::MemoryLimiter::new(limits),
    );
    store.limiter(|l| l);
    store.set_fuel(1_000_000)?;
    store.set_epoch_deadline(1_000);
    wasmtime::Instance::new(&mut store, &module, &[]).map(|_| ())
}

/// Two memories of `pages` 64 KiB pages each.
fn two_memories(pages: u32) -> String {
    format!("(module (memory {pages}) (memory {pages}))")
}

#[test]
fn test_memories_together_obeyed() {
    let limits = TenantLimits {
        memory_bytes: 64 << 20,
        ..TenantLimits::default()
    };
    // 2 × 20 MiB.
    assert!(instantiate_core(&two_memories(320), &limits).is_ok());
}

/// Each memory is under the cap, together they are not: the cap counts all memories.
#[test]
fn test_memories_together_violated() {
    let limits = TenantLimits {
        memory_bytes: 64 << 20,
        ..TenantLimits::default()
    };
    // 2 × 40 MiB.
    let err = instantiate_core(&two_memories(640), &limits).unwrap_err();
    let limit = err
        .chain()
        .find_map(|e| e.downcast_ref::<xentral_host::sandbox::MemoryLimitExceeded>());
    assert!(limit.is_some(), "{err:#}");
    assert_eq!(
        limit.unwrap().to_string(),
        format!(
            "memory limit of {} bytes exceeded (all memories together would be {})",
            64 << 20,
            80 << 20
        )
    );
}

#[test]
fn test_number_of_memories_violated() {
    let limits = TenantLimits::default();
    let err = instantiate_core("(module (memory 1) (memory 1) (memory 1))", &limits).unwrap_err();
    assert!(format!("{err:#}").contains("memory count"), "{err:#}");
}

#[test]
fn test_log_flood_obeyed() {
    let (_h, inv) = run_test("log 50", |l| l.max_log_entries = 100);
    assert_eq!(message(&inv), "logged 50");
    assert_eq!(
        inv.log
            .iter()
            .filter(|e| e.message.starts_with("flood line"))
            .count(),
        50
    );
    assert!(
        !inv.log
            .iter()
            .any(|e| e.message.contains("more lines dropped"))
    );
}

#[test]
fn test_log_flood_violated() {
    let (_h, inv) = run_test("log 100000", |l| l.max_log_entries = 100);
    assert_eq!(message(&inv), "logged 100000");
    assert_eq!(inv.log.len(), 101);
    assert_eq!(
        inv.log.last().unwrap().message,
        format!(
            "99900 more lines dropped (the job log keeps 100 entries of {} bytes at most)",
            TenantLimits::default().max_log_bytes
        )
    );
}

#[test]
fn test_max_requests_obeyed_by_the_host() {
    let (url, accepted) = serve(b"ok".to_vec(), false);
    let h = Harness::new();
    h.tenant("t", &format!("http-many 3 {url}/"), |l| {
        l.allowed_origins = vec![url.clone()];
    });
    let inv = h
        .host
        .run_job(
            "t",
            Job::SyncContacts,
            Budget {
                max_requests: Some(3),
                ..Budget::default()
            },
        )
        .unwrap();
    assert_eq!(message(&inv), "status 200; status 200; status 200");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

/// The guest ignores its budget; the host does not.
#[test]
fn test_max_requests_violated() {
    let (url, accepted) = serve(b"ok".to_vec(), false);
    let h = Harness::new();
    h.tenant("t", &format!("http-many 5 {url}/"), |l| {
        l.allowed_origins = vec![url.clone()];
    });
    let inv = h
        .host
        .run_job(
            "t",
            Job::SyncContacts,
            Budget {
                max_requests: Some(3),
                ..Budget::default()
            },
        )
        .unwrap();
    let refused =
        "error HttpError::Invalid(\"the job's limit of 3 requests is used up; nothing was sent\")";
    assert_eq!(
        message(&inv),
        format!("status 200; status 200; status 200; {refused}; {refused}")
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[test]
fn test_guest_host_header_is_refused_without_sending() {
    let (url, accepted) = serve(b"ok".to_vec(), false);
    for header in [
        "Host:internal.example",
        "transfer-encoding:chunked",
        "Connection:upgrade",
        "content-length:5",
    ] {
        let (_h, inv) = run_test(&format!("http-header {header} {url}/"), |l| {
            l.allowed_origins = vec![url.clone()];
        });
        let name = header.split(':').next().unwrap();
        assert_eq!(
            message(&inv),
            format!(
                "error HttpError::Invalid(\"the header '{name}' is set by the host, not the plugin\")"
            )
        );
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

#[test]
fn test_credential_is_only_sent_to_its_origin() {
    let (bound, _) = serve(b"bound".to_vec(), false);
    let (other, accepted) = serve(b"other".to_vec(), true);
    // Both origins are allowed; the token is bound to the first.
    let (_h, inv) = run_test(&format!("http-credential hubspot {other}/steal"), |l| {
        l.allowed_origins = vec![bound.clone(), other.clone()];
    });
    let origin = Origin::parse(&other).unwrap().to_string();
    assert_eq!(
        message(&inv),
        format!("error HttpError::Denied(\"{origin}\")")
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    assert!(
        inv.log
            .iter()
            .any(|e| e.message.contains("is only ever sent to")),
        "{:?}",
        inv.log
    );
}

#[test]
fn test_plain_http_to_a_non_loopback_origin_is_refused() {
    let (_h, inv) = run_test("http http://192.0.2.10/", |l| {
        l.allowed_origins = vec!["https://192.0.2.10".into()];
    });
    assert_eq!(
        message(&inv),
        "error HttpError::Denied(\"http://192.0.2.10:80\")"
    );
    // Configured as an allowed origin, it is refused when the job starts.
    let h = Harness::new();
    let mut t = h.host.create_tenant("u").unwrap();
    t.config.limits.allowed_origins = vec!["http://192.0.2.10".into()];
    t.save().unwrap();
    let err = h
        .host
        .run_job("u", Job::SyncContacts, Budget::default())
        .expect_err("refused");
    assert!(
        err.to_string()
            .contains("the access token would travel in clear"),
        "{err}"
    );
}

#[test]
fn test_value_length_limit_violated_through_the_guest() {
    let (_h, inv) = run_test("query SELECT zeroblob(300000000)", |_| {});
    let m = message(&inv);
    assert!(
        m.starts_with("error DbError::Io(\"stopped by a host limit: a text or blob value exceeds the host's length limit"),
        "{m}"
    );
}

#[test]
fn test_result_rows_limit_violated_through_the_guest() {
    let (_h, inv) = run_test(
        "query WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) SELECT i FROM n",
        |l| l.max_result_rows = 1_000,
    );
    assert_eq!(
        message(&inv),
        "error DbError::Io(\"stopped by a host limit: the result has more than 1000 rows; the query was stopped\")"
    );
}

/// A guest waiting inside a host call cannot be interrupted by the epoch deadline; the host
/// stops the statement itself when the job's time is up.
#[test]
fn test_deadline_stops_a_statement_the_guest_waits_on() {
    let started = std::time::Instant::now();
    let (_h, inv) = run_test(
        "query WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT COUNT(*) FROM n",
        |l| {
            l.wall_time_ms = 500;
            l.statement_time_ms = 600_000;
        },
    );
    assert_eq!(
        inv.result.unwrap_err(),
        JobError::Deadline { wall_time_ms: 500 }
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// The same for a request to a server that never answers.
#[test]
fn test_deadline_stops_a_request_the_guest_waits_on() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _silent = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(std::time::Duration::from_secs(30));
        drop(held);
    });
    let started = std::time::Instant::now();
    let (_h, inv) = run_test(&format!("http {url}/hang"), |l| {
        l.allowed_origins = vec![url.clone()];
        l.wall_time_ms = 500;
        l.request_timeout_ms = 600_000;
    });
    assert_eq!(
        inv.result.unwrap_err(),
        JobError::Deadline { wall_time_ms: 500 }
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
