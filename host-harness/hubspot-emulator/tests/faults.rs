//! Injected faults and the admin API.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, START_MS, agent, assert_error};
use hubspot_emulator::{
    FaultFilter, FaultKind, FaultPlan, ObjectType, RandomFaults, ScriptedFault,
};
use serde_json::{Value, json};

fn upsert(h: &Harness, email: &str) -> Result<common::Reply, ureq::Error> {
    let body =
        json!({"inputs": [{"idProperty": "email", "id": email, "properties": {"firstname": "X"}}]});
    h.try_call(
        "POST",
        "/crm/v3/objects/contacts/batch/upsert",
        Some(&body),
        Some(common::TOKEN),
    )
}

#[test]
fn scripted_status_fault_hits_only_matching_requests_and_applies_nothing() {
    let h = Harness::with(|c| {
        c.faults = FaultPlan::scripted(vec![
            ScriptedFault::new(FaultKind::Status(503))
                .method("POST")
                .path("batch/upsert"),
        ])
    });
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 200);
    let failed = upsert(&h, "a@example.com").unwrap();
    assert_error(&failed, 503, "INTERNAL_ERROR");
    assert!(h.emu.objects(ObjectType::Contacts).is_empty());
    assert_eq!(upsert(&h, "a@example.com").unwrap().status, 200);
    assert_eq!(h.emu.objects(ObjectType::Contacts).len(), 1);
}

#[test]
fn pass_entries_let_requests_through_so_a_later_one_fails() {
    let h = Harness::new();
    h.emu.set_faults(FaultPlan::scripted(vec![
        ScriptedFault::new(FaultKind::Pass).path("batch/upsert"),
        ScriptedFault::new(FaultKind::Status(502)).path("batch/upsert"),
    ]));
    assert_eq!(upsert(&h, "a@example.com").unwrap().status, 200);
    assert_eq!(upsert(&h, "b@example.com").unwrap().status, 502);
    assert_eq!(upsert(&h, "c@example.com").unwrap().status, 200);
}

#[test]
fn a_429_fault_sends_the_rate_limit_body() {
    let h = Harness::new();
    h.emu
        .set_faults(FaultPlan::scripted(vec![ScriptedFault::new(
            FaultKind::Status(429),
        )]));
    let reply = h.get("/crm/v3/objects/contacts");
    assert_eq!(reply.status, 429);
    assert_eq!(reply.body["errorType"], "RATE_LIMIT");
    assert_eq!(reply.body["policyName"], "TEN_SECONDLY_ROLLING");
}

fn random_statuses(seed: u64) -> Vec<u16> {
    let h = Harness::with(|c| {
        c.rate_limit_per_10s = 1_000;
        c.faults = FaultPlan {
            random: Some(RandomFaults {
                probability: 0.5,
                statuses: vec![500, 502, 503, 504, 429],
                seed,
                filter: FaultFilter::default(),
            }),
            script: Vec::new(),
        };
    });
    (0..40)
        .map(|_| h.get("/crm/v3/objects/contacts").status)
        .collect()
}

#[test]
fn random_faults_are_reproducible_from_the_seed() {
    let first = random_statuses(7);
    assert_eq!(first, random_statuses(7));
    let failures = first.iter().filter(|s| **s != 200).count();
    assert!((5..35).contains(&failures), "{failures} of 40 failed");
    assert!(
        first
            .iter()
            .all(|s| [200, 500, 502, 503, 504, 429].contains(s))
    );
    assert_ne!(first, random_statuses(8));
}

#[test]
fn latency_fault_delays_the_response() {
    let h = Harness::new();
    h.emu
        .set_faults(FaultPlan::scripted(vec![ScriptedFault::new(
            FaultKind::LatencyMs(40),
        )]));
    let started = Instant::now();
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(40));
}

#[test]
fn dropped_connection_after_apply_is_a_transport_error_but_the_write_happened() {
    let h = Harness::new();
    h.emu.set_faults(FaultPlan::scripted(vec![
        ScriptedFault::new(FaultKind::DropAfterApply).path("batch/upsert"),
    ]));
    let outcome = upsert(&h, "dropped@example.com");
    assert!(
        outcome.is_err(),
        "expected a transport error, got {outcome:?}"
    );
    let contacts = h.emu.objects(ObjectType::Contacts);
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        contacts[0].properties["email"].as_deref(),
        Some("dropped@example.com")
    );
    assert_eq!(
        upsert(&h, "dropped@example.com").unwrap().body["results"][0]["new"],
        false
    );
}

#[test]
fn malformed_json_fault_applies_the_write_and_sends_an_unparseable_body() {
    let h = Harness::new();
    h.emu.set_faults(FaultPlan::scripted(vec![
        ScriptedFault::new(FaultKind::MalformedJson).method("POST"),
    ]));
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "m@example.com"}}),
    );
    assert_eq!(reply.status, 201);
    assert!(
        serde_json::from_str::<Value>(&reply.raw).is_err(),
        "{}",
        reply.raw
    );
    assert!(!reply.raw.is_empty());
    assert_eq!(h.emu.objects(ObjectType::Contacts).len(), 1);
}

#[test]
fn fault_plan_can_be_replaced_through_the_admin_api() {
    let h = Harness::new();
    let plan =
        json!({"script": [{"kind": {"status": 504}, "method": "GET", "path_contains": "/owners"}]});
    let reply = agent()
        .post(h.url("/__emulator/faults"))
        .send_json(&plan)
        .unwrap();
    assert_eq!(reply.status(), 204);
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 200);
    assert_eq!(h.get("/crm/v3/owners").status, 504);
    assert_eq!(h.get("/crm/v3/owners").status, 200);
}

fn admin(h: &Harness, method: &str, path: &str, body: Option<Value>) -> common::Reply {
    h.call_as(method, path, body.as_ref(), None)
}

#[test]
fn stats_count_per_normalised_endpoint_and_status() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com"}));
    h.get(&format!("/crm/v3/objects/0-1/{id}"));
    h.get(&format!("/crm/v3/objects/contacts/{id}"));
    h.get("/crm/v3/objects/contacts/999");
    for _ in 0..3 {
        upsert(&h, "b@example.com").unwrap();
    }
    let stats = admin(&h, "GET", "/__emulator/stats", None).body;
    assert_eq!(stats["total"], 7);
    let calls = stats["calls"].as_array().unwrap();
    let find = |method: &str, endpoint: &str, status: u64| {
        calls
            .iter()
            .find(|c| c["method"] == method && c["endpoint"] == endpoint && c["status"] == status)
            .map(|c| c["count"].as_u64().unwrap())
    };
    assert_eq!(find("GET", "/crm/v3/objects/contacts/{id}", 200), Some(2));
    assert_eq!(find("GET", "/crm/v3/objects/contacts/{id}", 404), Some(1));
    assert_eq!(
        find("POST", "/crm/v3/objects/contacts/batch/upsert", 200),
        Some(3)
    );
    assert_eq!(find("POST", "/crm/v3/objects/contacts", 201), Some(1));
}

#[test]
fn admin_requests_need_no_auth_and_are_not_counted() {
    let h = Harness::with(|c| c.rate_limit_per_10s = 1);
    for _ in 0..5 {
        assert_eq!(admin(&h, "GET", "/__emulator/stats", None).status, 200);
    }
    assert_eq!(h.emu.stats().total, 0);
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 200);
}

#[test]
fn reset_clears_stats_only_or_everything_with_the_flag() {
    let h = Harness::new();
    h.contact(json!({"email": "a@example.com"}));
    assert_eq!(admin(&h, "POST", "/__emulator/reset", None).status, 204);
    assert_eq!(h.emu.stats().total, 0);
    assert_eq!(h.emu.objects(ObjectType::Contacts).len(), 1);
    assert_eq!(
        admin(&h, "POST", "/__emulator/reset", Some(json!({"all": true}))).status,
        204
    );
    assert!(h.emu.objects(ObjectType::Contacts).is_empty());
}

#[test]
fn seed_through_the_admin_api() {
    let h = Harness::new();
    let reply = admin(
        &h,
        "POST",
        "/__emulator/seed",
        Some(json!({"seed": 5, "contacts": 30, "deals": 10})),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body["contacts"], 30);
    assert_eq!(reply.body["deals"], 10);
    assert_eq!(h.emu.objects(ObjectType::Contacts).len(), 30);
}

#[test]
fn clock_can_be_set_and_advanced_through_the_admin_api() {
    let h = Harness::new();
    let reply = admin(
        &h,
        "POST",
        "/__emulator/clock",
        Some(json!({"advance_ms": 1500})),
    );
    assert_eq!(reply.body["now_ms"], START_MS + 1_500);
    let reply = admin(
        &h,
        "POST",
        "/__emulator/clock",
        Some(json!({"set_ms": 1_700_000_000_000i64})),
    );
    assert_eq!(reply.body["now_ms"], 1_700_000_000_000i64);
    h.advance(10);
    assert_eq!(h.emu.now_ms(), 1_700_000_000_010);
    let id = h.contact(json!({"email": "a@example.com"}));
    assert_eq!(
        h.emu
            .get_object(ObjectType::Contacts, &id)
            .unwrap()
            .created_at_ms,
        1_700_000_000_010
    );
}

#[test]
fn touch_gives_records_one_identical_modified_time() {
    let h = Harness::new();
    h.emu.seed(hubspot_emulator::SeedSpec::new(9, 20, 0));
    let at = START_MS - 60_000;
    let reply = admin(
        &h,
        "POST",
        "/__emulator/touch",
        Some(json!({"object": "contacts", "count": 12, "at_ms": at})),
    );
    assert_eq!(reply.body["touched"], 12);
    let same = h
        .emu
        .objects(ObjectType::Contacts)
        .iter()
        .filter(|r| r.updated_at_ms == at)
        .count();
    assert_eq!(same, 12);
    let search = h.post(
        "/crm/v3/objects/contacts/search",
        json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "EQ", "value": at.to_string()}]}]}),
    );
    assert_eq!(search.body["total"], 12);
}
