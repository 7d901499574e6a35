//! Authentication, scopes and rate limits (on the shared manual clock).

mod common;

use common::{Harness, START_MS, TOKEN, assert_error};
use hubspot_emulator::{ObjectType, TokenConfig};
use serde_json::json;

const AUTH_MESSAGE: &str = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview";

#[test]
fn missing_token_is_401_with_the_auth_failure_header() {
    let h = Harness::new();
    let reply = h.call_as("GET", "/crm/v3/objects/contacts", None, None);
    assert_error(&reply, 401, "INVALID_AUTHENTICATION");
    assert_eq!(reply.body["message"], AUTH_MESSAGE);
    assert!(reply.header("X-HubSpot-Auth-Failure").is_some());
}

#[test]
fn unknown_token_is_401() {
    let h = Harness::new();
    assert_error(
        &h.call_as("GET", "/crm/v3/objects/contacts", None, Some("pat-wrong")),
        401,
        "INVALID_AUTHENTICATION",
    );
}

#[test]
fn hapikey_query_parameter_is_not_accepted() {
    let h = Harness::new();
    let reply = h.call_as(
        "GET",
        &format!("/crm/v3/objects/contacts?hapikey={TOKEN}"),
        None,
        None,
    );
    assert_error(&reply, 401, "INVALID_AUTHENTICATION");
}

#[test]
fn every_configured_token_is_accepted() {
    let h = Harness::with(|c| c.tokens.push(TokenConfig::all_scopes("second")));
    assert_eq!(
        h.call_as("GET", "/crm/v3/objects/contacts", None, Some("second"))
            .status,
        200
    );
    assert_eq!(
        h.call_as("GET", "/crm/v3/objects/contacts", None, Some(TOKEN))
            .status,
        200
    );
}

#[test]
fn missing_scope_is_403_missing_scopes() {
    let h = Harness::with(|c| {
        c.tokens.push(TokenConfig::with_scopes(
            "reader",
            &["crm.objects.contacts.read"],
        ))
    });
    assert_eq!(
        h.call_as("GET", "/crm/v3/objects/contacts", None, Some("reader"))
            .status,
        200
    );
    let search = json!({});
    assert_eq!(
        h.call_as(
            "POST",
            "/crm/v3/objects/contacts/search",
            Some(&search),
            Some("reader")
        )
        .status,
        200
    );
    let create = json!({"properties": {"email": "a@example.com"}});
    let reply = h.call_as(
        "POST",
        "/crm/v3/objects/contacts",
        Some(&create),
        Some("reader"),
    );
    assert_error(&reply, 403, "MISSING_SCOPES");
    assert_eq!(
        reply.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.contacts.write"])
    );
    assert_error(
        &h.call_as("GET", "/crm/v3/objects/deals", None, Some("reader")),
        403,
        "MISSING_SCOPES",
    );
    assert_error(
        &h.call_as("GET", "/crm/v3/owners", None, Some("reader")),
        403,
        "MISSING_SCOPES",
    );
    assert_error(
        &h.call_as("GET", "/crm/v3/pipelines/deals", None, Some("reader")),
        403,
        "MISSING_SCOPES",
    );
    assert_eq!(
        h.call_as("GET", "/crm/v3/properties/contacts", None, Some("reader"))
            .status,
        200
    );
    assert!(h.emu.objects(ObjectType::Contacts).is_empty());
}

#[test]
fn responses_carry_rate_limit_headers() {
    let h = Harness::new();
    let reply = h.get("/crm/v3/objects/contacts");
    assert_eq!(reply.header("X-HubSpot-RateLimit-Max"), Some("100"));
    assert_eq!(reply.header("X-HubSpot-RateLimit-Remaining"), Some("99"));
    assert_eq!(
        reply.header("X-HubSpot-RateLimit-Interval-Milliseconds"),
        Some("10000")
    );
    assert_eq!(reply.header("X-HubSpot-RateLimit-Daily"), Some("250000"));
    assert_eq!(
        reply.header("X-HubSpot-RateLimit-Daily-Remaining"),
        Some("249999")
    );
    assert_eq!(
        h.get("/crm/v3/objects/contacts")
            .header("X-HubSpot-RateLimit-Remaining"),
        Some("98")
    );
}

#[test]
fn ten_second_window_refuses_with_429_and_does_not_apply_the_request() {
    let h = Harness::with(|c| c.rate_limit_per_10s = 3);
    for i in 0..3 {
        h.contact(json!({"email": format!("c{i}@example.com")}));
    }
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "late@example.com"}}),
    );
    assert_eq!(reply.status, 429);
    assert_eq!(reply.body["status"], "error");
    assert_eq!(
        reply.body["message"],
        "You have reached your ten_secondly_rolling limit."
    );
    assert_eq!(reply.body["errorType"], "RATE_LIMIT");
    assert_eq!(reply.body["policyName"], "TEN_SECONDLY_ROLLING");
    assert!(reply.body["correlationId"].is_string());
    assert_eq!(reply.header("X-HubSpot-RateLimit-Remaining"), Some("0"));
    assert_eq!(h.emu.objects(ObjectType::Contacts).len(), 3);
    h.advance(9_999);
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 429);
    h.advance(1);
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 200);
}

#[test]
fn search_has_its_own_per_second_bucket() {
    let h = Harness::with(|c| c.rate_limit_per_10s = 3);
    for _ in 0..5 {
        assert_eq!(
            h.post("/crm/v3/objects/contacts/search", json!({})).status,
            200
        );
    }
    let refused = h.post("/crm/v3/objects/contacts/search", json!({}));
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["policyName"], "SECONDLY");
    assert!(refused.header("X-HubSpot-RateLimit-Remaining").is_none());
    let plain = h.get("/crm/v3/objects/contacts");
    assert_eq!(
        plain.header("X-HubSpot-RateLimit-Remaining"),
        Some("2"),
        "searches are not in the 10 s window"
    );
    h.advance(1_000);
    assert_eq!(
        h.post("/crm/v3/objects/contacts/search", json!({})).status,
        200
    );
}

#[test]
fn search_responses_have_no_rate_limit_headers() {
    let h = Harness::new();
    let reply = h.post("/crm/v3/objects/contacts/search", json!({}));
    assert_eq!(reply.status, 200);
    assert!(reply.header("X-HubSpot-RateLimit-Max").is_none());
}

#[test]
fn daily_cap_refuses_until_utc_midnight_of_the_emulator_clock() {
    let h = Harness::with(|c| c.daily_limit = 2);
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 200);
    assert_eq!(
        h.get("/crm/v3/objects/contacts")
            .header("X-HubSpot-RateLimit-Daily-Remaining"),
        Some("0")
    );
    let refused = h.get("/crm/v3/objects/contacts");
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["policyName"], "DAILY");
    assert_eq!(
        refused.body["message"],
        "You have reached your daily limit."
    );
    let midnight = START_MS - START_MS % 86_400_000 + 86_400_000;
    h.clock.set(midnight - 1);
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 429);
    h.clock.set(midnight);
    assert_eq!(h.get("/crm/v3/objects/contacts").status, 200);
}

#[test]
fn refused_requests_are_counted_in_stats() {
    let h = Harness::with(|c| c.rate_limit_per_10s = 1);
    h.get("/crm/v3/objects/contacts");
    h.get("/crm/v3/objects/contacts");
    h.call_as("GET", "/crm/v3/objects/contacts", None, None);
    let stats = h.emu.stats();
    assert_eq!(stats.total, 3);
    assert_eq!(stats.count_status(429), 1);
    assert_eq!(stats.count_status(401), 1);
    assert_eq!(stats.count("GET", "/crm/v3/objects/contacts"), 3);
}
