//! CRM search: operators, groups, sorting, paging, limits, archived records and indexing lag.

mod common;

use common::{Harness, START_MS, assert_error};
use serde_json::{Value, json};

fn ids(reply: &common::Reply) -> Vec<String> {
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn search(h: &Harness, object: &str, body: Value) -> common::Reply {
    h.post(&format!("/crm/v3/objects/{object}/search"), body)
}

fn filter(property: &str, operator: &str, value: Value) -> Value {
    json!({"filterGroups": [{"filters": [{"propertyName": property, "operator": operator, "value": value}]}]})
}

fn deal_with_amount(h: &Harness, amount: &str) -> String {
    let reply = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": format!("D {amount}"), "pipeline": "default",
                              "dealstage": "qualifiedtobuy", "amount": amount}}),
    );
    reply.body["id"].as_str().unwrap().to_string()
}

#[test]
fn filters_and_within_a_group_and_or_across_groups() {
    let h = Harness::new();
    let berlin_new = h.contact(json!({"city": "Berlin", "hs_lead_status": "NEW"}));
    h.contact(json!({"city": "Berlin", "hs_lead_status": "OPEN"}));
    let wien = h.contact(json!({"city": "Wien", "hs_lead_status": "OPEN"}));
    let reply = search(
        &h,
        "contacts",
        json!({"filterGroups": [
            {"filters": [{"propertyName": "city", "operator": "EQ", "value": "Berlin"},
                         {"propertyName": "hs_lead_status", "operator": "EQ", "value": "NEW"}]},
            {"filters": [{"propertyName": "city", "operator": "EQ", "value": "Wien"}]}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(ids(&reply), [berlin_new, wien]);
    assert_eq!(reply.body["total"], 2);
}

#[test]
fn eq_on_email_is_case_insensitive() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "Anna@Example.com"}));
    let reply = search(
        &h,
        "contacts",
        filter("email", "EQ", json!("anna@example.COM")),
    );
    assert_eq!(ids(&reply), [id]);
}

#[test]
fn comparisons_are_numeric_when_both_sides_are_numbers() {
    let h = Harness::new();
    let small = deal_with_amount(&h, "900");
    let big = deal_with_amount(&h, "10000");
    assert_eq!(
        ids(&search(&h, "deals", filter("amount", "GT", json!("1000")))),
        [big.as_str()]
    );
    assert_eq!(
        ids(&search(&h, "deals", filter("amount", "LTE", json!(900)))),
        [small.as_str()]
    );
    let between = json!({"filterGroups": [{"filters": [
        {"propertyName": "amount", "operator": "BETWEEN", "value": "500", "highValue": "1000"}]}]});
    assert_eq!(ids(&search(&h, "deals", between)), [small.as_str()]);
    assert_eq!(
        ids(&search(&h, "deals", filter("amount", "NEQ", json!("900")))),
        [big]
    );
    assert_eq!(
        ids(&search(&h, "deals", filter("amount", "LT", json!("1000")))),
        [small]
    );
}

#[test]
fn in_and_not_in_take_values() {
    let h = Harness::new();
    let a = h.contact(json!({"hs_lead_status": "NEW"}));
    let b = h.contact(json!({"hs_lead_status": "OPEN"}));
    let c = h.contact(json!({"hs_lead_status": "CONNECTED"}));
    let in_body = json!({"filterGroups": [{"filters": [
        {"propertyName": "hs_lead_status", "operator": "IN", "values": ["NEW", "OPEN"]}]}]});
    assert_eq!(ids(&search(&h, "contacts", in_body)), [a, b]);
    let not_in = json!({"filterGroups": [{"filters": [
        {"propertyName": "hs_lead_status", "operator": "NOT_IN", "values": ["NEW", "OPEN"]}]}]});
    assert_eq!(ids(&search(&h, "contacts", not_in)), [c]);
}

#[test]
fn has_property_and_not_has_property() {
    let h = Harness::new();
    let with = h.contact(json!({"phone": "+49 30 1"}));
    let without = h.contact(json!({"city": "Bonn"}));
    let has = json!({"filterGroups": [{"filters": [{"propertyName": "phone", "operator": "HAS_PROPERTY"}]}]});
    let has_not = json!({"filterGroups": [{"filters": [{"propertyName": "phone", "operator": "NOT_HAS_PROPERTY"}]}]});
    assert_eq!(ids(&search(&h, "contacts", has)), [with]);
    assert_eq!(ids(&search(&h, "contacts", has_not)), [without]);
}

#[test]
fn contains_token_matches_words_and_wildcards() {
    let h = Harness::new();
    let muller = h.contact(json!({"email": "anna@mueller.de", "lastname": "Schmidt-Müller"}));
    let other = h.contact(json!({"email": "bob@example.com", "lastname": "Fox"}));
    assert_eq!(
        ids(&search(
            &h,
            "contacts",
            filter("lastname", "CONTAINS_TOKEN", json!("müller"))
        )),
        [muller.as_str()]
    );
    assert_eq!(
        ids(&search(
            &h,
            "contacts",
            filter("email", "CONTAINS_TOKEN", json!("*@mueller.de"))
        )),
        [muller]
    );
    assert_eq!(
        ids(&search(
            &h,
            "contacts",
            filter("lastname", "NOT_CONTAINS_TOKEN", json!("müller"))
        )),
        [other]
    );
}

#[test]
fn dates_compare_as_epoch_milliseconds() {
    let h = Harness::new();
    let early = h.contact(json!({"email": "a@example.com"}));
    h.advance(60_000);
    let late = h.contact(json!({"email": "b@example.com"}));
    let cutoff = (START_MS + 30_000).to_string();
    assert_eq!(
        ids(&search(
            &h,
            "contacts",
            filter("lastmodifieddate", "GTE", json!(cutoff))
        )),
        [late.as_str()]
    );
    assert_eq!(
        ids(&search(
            &h,
            "contacts",
            filter("createdate", "LT", json!(cutoff))
        )),
        [early]
    );
    assert_eq!(
        ids(&search(
            &h,
            "contacts",
            filter("lastmodifieddate", "GT", json!("2024-05-01T12:00:30Z"))
        )),
        [late]
    );
    let deal = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": "D", "pipeline": "default", "dealstage": "closedwon", "closedate": "2024-06-30"}}),
    );
    let deal = deal.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&search(
            &h,
            "deals",
            filter("closedate", "EQ", json!("1719705600000"))
        )),
        [deal]
    );
}

#[test]
fn sorts_by_one_property_and_defaults_to_id_order() {
    let h = Harness::new();
    let b = h.contact(json!({"lastname": "B"}));
    let a = h.contact(json!({"lastname": "A"}));
    let c = h.contact(json!({"lastname": "C"}));
    assert_eq!(
        ids(&search(&h, "contacts", json!({}))),
        [b.clone(), a.clone(), c.clone()]
    );
    let sorted = json!({"sorts": [{"propertyName": "lastname", "direction": "DESCENDING"}]});
    assert_eq!(ids(&search(&h, "contacts", sorted)), [c, b, a]);
    let two = json!({"sorts": [{"propertyName": "lastname", "direction": "ASCENDING"},
                               {"propertyName": "email", "direction": "ASCENDING"}]});
    assert_error(&search(&h, "contacts", two), 400, "VALIDATION_ERROR");
}

#[test]
fn pages_with_a_numeric_after_and_reports_the_total() {
    let h = Harness::new();
    for i in 0..7 {
        h.contact(json!({"email": format!("c{i}@example.com")}));
    }
    let first = search(&h, "contacts", json!({"limit": 3}));
    assert_eq!(first.body["total"], 7);
    assert_eq!(first.body["paging"]["next"]["after"], "3");
    let last = search(&h, "contacts", json!({"limit": 3, "after": "6"}));
    assert_eq!(ids(&last).len(), 1);
    assert!(last.body.get("paging").is_none());
}

#[test]
fn limit_above_200_is_rejected() {
    let h = Harness::new();
    assert_error(
        &search(&h, "contacts", json!({"limit": 201})),
        400,
        "VALIDATION_ERROR",
    );
    assert_eq!(search(&h, "contacts", json!({"limit": 200})).status, 200);
}

#[test]
fn paging_past_10000_results_is_rejected() {
    let h = Harness::new();
    h.emu.seed(hubspot_emulator::SeedSpec::new(3, 10_050, 0));
    let at_cap = search(&h, "contacts", json!({"limit": 100, "after": "9900"}));
    assert_eq!(at_cap.status, 200);
    assert_eq!(at_cap.body["paging"]["next"]["after"], "10000");
    h.advance(1_000);
    let past = search(&h, "contacts", json!({"limit": 100, "after": "9950"}));
    assert_error(&past, 400, "VALIDATION_ERROR");
    assert!(
        past.body["message"].as_str().unwrap().contains("10000"),
        "{}",
        past.raw
    );
}

#[test]
fn more_than_five_groups_or_six_filters_is_rejected() {
    let h = Harness::new();
    let f = json!({"propertyName": "email", "operator": "HAS_PROPERTY"});
    let groups: Vec<Value> = (0..6).map(|_| json!({"filters": [f.clone()]})).collect();
    assert_error(
        &search(&h, "contacts", json!({"filterGroups": groups})),
        400,
        "VALIDATION_ERROR",
    );
    let filters: Vec<Value> = (0..7).map(|_| f.clone()).collect();
    h.advance(1_000);
    assert_error(
        &search(
            &h,
            "contacts",
            json!({"filterGroups": [{"filters": filters}]}),
        ),
        400,
        "VALIDATION_ERROR",
    );
    // Five groups are allowed, within 18 filters in total (see the next test).
    let groups: Vec<Value> = (0..5)
        .map(|_| json!({"filters": vec![f.clone(); 3]}))
        .collect();
    assert_eq!(
        search(&h, "contacts", json!({"filterGroups": groups})).status,
        200
    );
}

#[test]
fn archived_records_are_never_returned() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    h.delete(&format!("/crm/v3/objects/contacts/{a}"));
    assert_eq!(ids(&search(&h, "contacts", json!({}))), [b]);
}

#[test]
fn fresh_writes_are_invisible_until_the_indexing_lag_passes() {
    let h = Harness::with(|c| c.search_lag_ms = 3_000);
    let id = h.contact(json!({"email": "a@example.com"}));
    assert_eq!(search(&h, "contacts", json!({})).body["total"], 0);
    h.advance(2_999);
    assert_eq!(search(&h, "contacts", json!({})).body["total"], 0);
    h.advance(1);
    assert_eq!(ids(&search(&h, "contacts", json!({}))), [id]);
}

#[test]
fn search_results_carry_requested_properties() {
    let h = Harness::new();
    h.contact(json!({"email": "a@example.com", "city": "Zürich"}));
    let reply = search(&h, "contacts", json!({"properties": ["city"]}));
    let props = &reply.body["results"][0]["properties"];
    assert_eq!(props["city"], "Zürich");
    assert!(props.get("email").is_none());
    assert!(props.get("hs_object_id").is_some());
}

#[test]
fn unknown_operator_is_rejected() {
    let h = Harness::new();
    assert_error(
        &search(&h, "contacts", filter("email", "LIKE", json!("x"))),
        400,
        "VALIDATION_ERROR",
    );
}

#[test]
fn at_most_eighteen_filters_over_all_groups_as_hubspot_allows() {
    let h = Harness::new();
    let group = |n: usize| json!({"filters": (0..n).map(|i| json!({"propertyName": "city", "operator": "NEQ", "value": format!("x{i}")})).collect::<Vec<_>>()});
    let body = |groups: Vec<Value>| json!({"filterGroups": groups, "limit": 1});
    let within = search(&h, "contacts", body(vec![group(6), group(6), group(6)]));
    assert_eq!(within.status, 200, "{}", within.raw);
    let over = search(
        &h,
        "contacts",
        body(vec![group(6), group(6), group(6), group(1)]),
    );
    assert_error(&over, 400, "VALIDATION_ERROR");
}
