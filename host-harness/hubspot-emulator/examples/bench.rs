//! Throughput and seeding benchmark of the emulator on loopback.
//!
//! Run with `cargo run --release -p hubspot-emulator --example bench`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hubspot_emulator::{Emulator, EmulatorConfig, SeedSpec};
use serde_json::{Value, json};

const CLIENTS: usize = 4;
const RUN: Duration = Duration::from_secs(3);
const SEEDED: usize = 100_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Runs `work` on `CLIENTS` threads for `RUN`; returns completed calls per second.
fn hammer(work: impl Fn(&ureq::Agent, u64) + Send + Sync + 'static) -> f64 {
    let work = Arc::new(work);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (work, done) = (work.clone(), done.clone());
            thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().build().new_agent();
                let mut i = t as u64 * 1_000_000_007;
                while started.elapsed() < RUN {
                    work(&agent, i);
                    i += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let emulator = Emulator::start(EmulatorConfig {
        rate_limit_per_10s: u32::MAX,
        daily_limit: u64::MAX,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts");

    let before = rss_kib();
    let started = Instant::now();
    let summary = emulator.seed(SeedSpec::new(42, SEEDED, 0));
    let seed_time = started.elapsed();
    let after = rss_kib();
    println!(
        "seed {SEEDED} contacts: {:.0} ms",
        seed_time.as_secs_f64() * 1000.0
    );
    println!(
        "memory held by them (VmRSS delta): {:.1} MiB ({} bytes per contact)",
        (after - before) as f64 / 1024.0,
        (after - before) * 1024 / SEEDED as u64
    );

    let (first, _) = summary.contact_ids.expect("contacts seeded");
    let first: u64 = first.parse().expect("numeric id");
    let base = emulator.base_url();
    let url = base.clone();
    let gets = hammer(move |agent, i| {
        let id = first + (i * 7_919) % SEEDED as u64;
        let mut reply = agent
            .get(format!("{url}/crm/v3/objects/contacts/{id}"))
            .header("Authorization", "Bearer test-token")
            .call()
            .expect("get");
        let _: Value = reply.body_mut().read_json().expect("json");
    });
    println!("single GET: {gets:.0} requests/s ({CLIENTS} client threads)");

    let url = base.clone();
    let upserts = hammer(move |agent, i| {
        let inputs: Vec<Value> = (0..100)
            .map(|k| {
                json!({"idProperty": "email", "id": format!("bench{}@example.com", (i * 100 + k) % 50_000),
                       "properties": {"firstname": format!("Run {i}"), "city": "Berlin"}})
            })
            .collect();
        let mut reply = agent
            .post(format!("{url}/crm/v3/objects/contacts/batch/upsert"))
            .header("Authorization", "Bearer test-token")
            .send_json(json!({ "inputs": inputs }))
            .expect("upsert");
        let _: Value = reply.body_mut().read_json().expect("json");
    });
    println!(
        "batch upsert (100 inputs): {upserts:.0} requests/s = {:.0} records/s",
        upserts * 100.0
    );
    emulator.shutdown();
}
