//! HubSpot-like latency: every reply waits at least the configured time, and requests in
//! flight together wait together (the wait holds no lock).

mod common;

use std::time::{Duration, Instant};

use common::Harness;
use hubspot_emulator::Latency;

#[test]
fn every_reply_waits_and_concurrent_requests_wait_together() {
    let fixed = Duration::from_millis(200);
    let h = Harness::with(|c| {
        c.latency = Latency {
            fixed_ms: 200,
            jitter_ms: 0,
        }
    });
    let started = Instant::now();
    let reply = h.get("/crm/v3/objects/contacts");
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= fixed, "{:?}", started.elapsed());

    let started = Instant::now();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let t = Instant::now();
                    let reply = h.get("/crm/v3/objects/contacts");
                    (reply.status, t.elapsed())
                })
            })
            .collect();
        for t in threads {
            let (status, took) = t.join().unwrap();
            assert_eq!(status, 200);
            assert!(took >= fixed, "{took:?}");
        }
    });
    assert_eq!(h.emu.max_in_flight(), 4, "four were answered at once");
    // One after the other they would need 800 ms; together they need about 200.
    assert!(
        started.elapsed() < fixed * 3,
        "the waits ran one after the other: {:?}",
        started.elapsed()
    );
}
