//! The emulator over HTTPS, as HubSpot serves: a client that trusts the emulator's CA gets the
//! usual replies (auth, faults, rate limits unchanged); one that does not is refused by its
//! TLS library; plain HTTP to the TLS port gets no HTTP reply.

mod common;

use std::time::Instant;

use common::{Harness, TOKEN, agent, agent_trusting};
use hubspot_emulator::{
    Emulator, EmulatorConfig, FaultKind, FaultPlan, ObjectType, ScriptedFault, TokenConfig,
};
use serde_json::json;

/// Whether `e` is the client refusing the server's certificate.
fn is_certificate_error(e: &ureq::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    text.contains("certificate")
        || text.contains("unknownissuer")
        || text.contains("unknown issuer")
}

#[test]
fn base_url_is_https_and_the_ca_is_published() {
    let h = Harness::tls();
    assert!(
        h.emu.base_url().starts_with("https://127.0.0.1:"),
        "{}",
        h.emu.base_url()
    );
    let pem = h.emu.ca_pem().expect("a CA");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    h.emu.write_ca(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);
    assert!(Harness::new().emu.ca_pem().is_none());
}

#[test]
fn a_client_trusting_the_ca_gets_the_usual_replies() {
    let h = Harness::tls();
    let created = h.post(
        "/crm/v3/objects/contacts",
        json!({ "properties": { "email": "tls@example.com" } }),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let list = h.get("/crm/v3/objects/contacts");
    assert_eq!(list.status, 200);
    assert_eq!(
        list.body["results"][0]["properties"]["email"],
        "tls@example.com"
    );
    let unauthorized = h.call_as("GET", "/crm/v3/objects/contacts", None, Some("pat-wrong"));
    assert_eq!(unauthorized.status, 401);
    assert_eq!(unauthorized.body["category"], "INVALID_AUTHENTICATION");
}

#[test]
fn a_client_with_only_the_public_roots_refuses_the_emulator() {
    let h = Harness::tls().with_agent(agent());
    let e = h
        .try_call("GET", "/crm/v3/objects/contacts", None, Some(TOKEN))
        .unwrap_err();
    assert!(is_certificate_error(&e), "{e}");
}

#[test]
fn a_client_trusting_another_ca_refuses_the_emulator() {
    let other = Emulator::start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let h = Harness::tls().with_agent(agent_trusting(other.ca_pem().unwrap()));
    let e = h
        .try_call("GET", "/crm/v3/objects/contacts", None, Some(TOKEN))
        .unwrap_err();
    assert!(is_certificate_error(&e), "{e}");
}

#[test]
fn plain_http_to_the_tls_port_gets_no_http_reply() {
    let h = Harness::tls();
    let url = h.emu.base_url().replacen("https://", "http://", 1);
    let reply = agent()
        .get(format!("{url}/crm/v3/objects/contacts"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call();
    match reply {
        Err(_) => {}
        Ok(r) => panic!("got an HTTP reply over plain HTTP: {}", r.status()),
    }
}

#[test]
fn a_dropped_connection_over_tls_is_a_transport_error_after_the_write() {
    let h = Harness::tls();
    h.emu.set_faults(FaultPlan::scripted(vec![
        ScriptedFault::new(FaultKind::DropAfterApply).path("batch/upsert"),
    ]));
    let outcome = h.try_call(
        "POST",
        "/crm/v3/objects/contacts/batch/upsert",
        Some(&json!({ "inputs": [{ "idProperty": "email", "id": "drop@example.com", "properties": { "email": "drop@example.com" } }] })),
        Some(TOKEN),
    );
    assert!(
        outcome.is_err(),
        "expected a transport error, got {outcome:?}"
    );
    assert_eq!(h.emu.objects(ObjectType::Contacts).len(), 1);
}

#[test]
fn rate_limits_over_tls_send_the_same_headers_and_429() {
    let h = Harness::with(|c| {
        c.tls = true;
        c.rate_limit_per_10s = 2;
    });
    let first = h.get("/crm/v3/objects/contacts");
    assert_eq!(first.header("x-hubspot-ratelimit-max"), Some("2"));
    assert_eq!(first.header("x-hubspot-ratelimit-remaining"), Some("1"));
    h.get("/crm/v3/objects/contacts");
    let limited = h.get("/crm/v3/objects/contacts");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["policyName"], "TEN_SECONDLY_ROLLING");
}

#[test]
fn shutdown_is_prompt_with_a_keep_alive_connection_open() {
    let emu = Emulator::start(EmulatorConfig {
        tls: true,
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = agent_trusting(emu.ca_pem().unwrap());
    let url = format!("{}/crm/v3/objects/contacts", emu.base_url());
    let r = client
        .get(&url)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let started = Instant::now();
    emu.shutdown();
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}
