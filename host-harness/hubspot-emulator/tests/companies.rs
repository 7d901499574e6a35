//! Companies (`0-2`): the same object API as contacts and deals, their properties, search on
//! `hs_lastmodifieddate`, and a unique custom property as the only safe upsert key.

mod common;

use common::{Harness, assert_error, error_codes};
use hubspot_emulator::ObjectType;
use serde_json::{Value, json};

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Creates the unique custom property `xentral_id` on companies.
fn unique_property(h: &Harness) {
    let reply = h.post(
        "/crm/v3/properties/companies",
        json!({"name": "xentral_id", "label": "xentral id", "type": "string", "fieldType": "text",
               "groupName": "companyinformation", "hasUniqueValue": true}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
}

#[test]
fn create_company_returns_201_with_maintained_properties() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/companies",
        json!({"properties": {"name": "Müller GmbH", "domain": "mueller.de"}}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    let id = reply.body["id"].as_str().unwrap();
    assert_eq!(
        reply.body["properties"],
        json!({"name": "Müller GmbH", "domain": "mueller.de", "hs_object_id": id,
               "createdate": "2024-05-01T12:00:00.000Z",
               "hs_lastmodifieddate": "2024-05-01T12:00:00.000Z"})
    );
    assert_eq!(reply.body["archived"], false);
}

#[test]
fn get_company_returns_exactly_the_default_properties() {
    let h = Harness::new();
    let id = h.company(json!({"name": "Acme", "city": "Berlin"}));
    let reply = h.get(&format!("/crm/v3/objects/companies/{id}"));
    assert_eq!(reply.status, 200);
    assert_eq!(
        keys(&reply.body["properties"]),
        [
            "createdate",
            "domain",
            "hs_lastmodifieddate",
            "hs_object_id",
            "name"
        ]
    );
    assert_eq!(reply.body["properties"]["domain"], Value::Null);
}

#[test]
fn object_type_id_0_2_is_an_alias_of_companies() {
    let h = Harness::new();
    let id = h.company(json!({"name": "Acme"}));
    assert_eq!(
        h.get(&format!("/crm/v3/objects/0-2/{id}")).body["id"],
        id.as_str()
    );
}

#[test]
fn company_default_properties_exist_with_their_types() {
    let h = Harness::new();
    let reply = h.get("/crm/v3/properties/companies");
    let names: Vec<&str> = reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "name",
        "domain",
        "website",
        "phone",
        "address",
        "city",
        "zip",
        "state",
        "country",
        "industry",
        "numberofemployees",
        "lifecyclestage",
        "hs_lead_status",
        "hubspot_owner_id",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    let employees = h.get("/crm/v3/properties/companies/numberofemployees");
    assert_eq!(employees.body["type"], "number");
    let industry = h.get("/crm/v3/properties/companies/industry");
    assert_eq!(industry.body["type"], "enumeration");
    assert_eq!(industry.body["options"].as_array().unwrap().len(), 148);
    assert_eq!(
        industry.body["options"][24],
        json!({"label": "Computer Software", "value": "COMPUTER_SOFTWARE", "displayOrder": 24, "hidden": false})
    );
    assert_eq!(
        h.get("/crm/properties/2026-03/companies/domain").body["groupName"],
        "companyinformation"
    );
}

#[test]
fn industry_outside_hubspots_options_is_invalid_option() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/companies",
        json!({"properties": {"name": "Acme", "industry": "Software"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(error_codes(&reply), ["INVALID_OPTION"]);
}

#[test]
fn two_companies_may_share_a_domain() {
    let h = Harness::new();
    let a = h.company(json!({"name": "Acme Berlin", "domain": "acme.com"}));
    let b = h.company(json!({"name": "Acme München", "domain": "acme.com"}));
    assert_ne!(a, b);
    let found = h.post(
        "/crm/v3/objects/companies/search",
        json!({"filterGroups": [{"filters": [{"propertyName": "domain", "operator": "EQ", "value": "acme.com"}]}]}),
    );
    assert_eq!(found.body["total"], 2);
}

#[test]
fn domain_cannot_be_an_upsert_key() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/companies/batch/upsert",
        json!({"inputs": [{"idProperty": "domain", "id": "acme.com", "properties": {"name": "Acme"}}]}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert!(h.emu.objects(ObjectType::Companies).is_empty());
}

#[test]
fn patch_company_bumps_hs_lastmodifieddate() {
    let h = Harness::new();
    let id = h.company(json!({"name": "Acme"}));
    h.advance(7_000);
    let reply = h.patch(
        &format!("/crm/v3/objects/companies/{id}"),
        json!({"properties": {"numberofemployees": "250"}}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body["properties"]["numberofemployees"], "250");
    assert_eq!(
        reply.body["properties"]["hs_lastmodifieddate"],
        "2024-05-01T12:00:07.000Z"
    );
}

#[test]
fn company_lifecycle_stage_never_moves_backwards() {
    let h = Harness::new();
    let id = h.company(json!({"name": "Acme", "lifecyclestage": "customer"}));
    let reply = h.patch(
        &format!("/crm/v3/objects/companies/{id}"),
        json!({"properties": {"lifecyclestage": "lead"}}),
    );
    assert_eq!(reply.body["properties"]["lifecyclestage"], "customer");
}

#[test]
fn companies_list_pages_and_limits_like_other_objects() {
    let h = Harness::new();
    for i in 0..12 {
        h.company(json!({"name": format!("Firma {i}")}));
    }
    let first = h.get("/crm/v3/objects/companies?limit=10&properties=name");
    assert_eq!(first.body["results"].as_array().unwrap().len(), 10);
    assert_eq!(first.body["results"][0]["properties"]["name"], "Firma 0");
    let after = first.body["paging"]["next"]["after"].as_str().unwrap();
    let rest = h.get(&format!("/crm/v3/objects/companies?limit=10&after={after}"));
    assert_eq!(rest.body["results"].as_array().unwrap().len(), 2);
    assert!(rest.body.get("paging").is_none());
    assert_error(
        &h.get("/crm/v3/objects/companies?limit=101"),
        400,
        "VALIDATION_ERROR",
    );
}

#[test]
fn search_on_hs_lastmodifieddate_finds_companies_changed_since() {
    let h = Harness::new();
    let old = h.company(json!({"name": "Old"}));
    h.advance(60_000);
    let fresh = h.company(json!({"name": "Fresh"}));
    h.advance(1_000);
    let since = (common::START_MS + 30_000).to_string();
    let reply = h.post(
        "/crm/objects/2026-03/companies/search",
        json!({"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": since}]}],
               "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
               "properties": ["name"]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body["total"], 1);
    assert_eq!(reply.body["results"][0]["id"], fresh.as_str());
    assert_ne!(fresh, old);
}

#[test]
fn company_search_query_matches_name_and_domain() {
    let h = Harness::new();
    let a = h.company(json!({"name": "Café Zoë & Co.", "domain": "cafe-zoe.de"}));
    h.company(json!({"name": "Nordwind AG", "domain": "nordwind.de"}));
    for query in ["zoë", "cafe-zoe"] {
        let reply = h.post(
            "/crm/v3/objects/companies/search",
            json!({ "query": query }),
        );
        assert_eq!(reply.body["total"], 1, "{query}: {}", reply.raw);
        assert_eq!(reply.body["results"][0]["id"], a.as_str());
    }
}

#[test]
fn company_search_past_10000_results_is_rejected() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/companies/search",
        json!({"after": "9950", "limit": 100}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
}

#[test]
fn company_batch_upsert_by_unique_property_creates_then_updates() {
    let h = Harness::new();
    unique_property(&h);
    let input = |name: &str| json!({"inputs": [{"idProperty": "xentral_id", "id": "A-1", "properties": {"name": name}}]});
    let first = h.post("/crm/v3/objects/companies/batch/upsert", input("First"));
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["results"][0]["new"], true);
    assert_eq!(first.body["results"][0]["properties"]["xentral_id"], "A-1");
    let second = h.post(
        "/crm/objects/2026-03/companies/batch/upsert",
        input("Second"),
    );
    assert_eq!(second.body["results"][0]["new"], false);
    assert_eq!(
        second.body["results"][0]["id"],
        first.body["results"][0]["id"]
    );
    assert_eq!(second.body["results"][0]["properties"]["name"], "Second");
    assert_eq!(h.emu.objects(ObjectType::Companies).len(), 1);
}

#[test]
fn duplicate_unique_company_value_is_409_naming_the_holder() {
    let h = Harness::new();
    unique_property(&h);
    let a = h.company(json!({"name": "A", "xentral_id": "K-1"}));
    let reply = h.post(
        "/crm/v3/objects/companies",
        json!({"properties": {"name": "B", "xentral_id": "K-1"}}),
    );
    assert_error(&reply, 409, "CONFLICT");
    assert_eq!(
        reply.body["message"],
        format!("Company with xentral_id 'K-1' already exists. Existing ID: {a}")
    );
}

#[test]
fn company_by_unique_property_id_property() {
    let h = Harness::new();
    unique_property(&h);
    let a = h.company(json!({"name": "A", "xentral_id": "K-7"}));
    let got = h.get("/crm/v3/objects/companies/K-7?idProperty=xentral_id");
    assert_eq!(got.body["id"], a.as_str());
    let batch = h.post(
        "/crm/v3/objects/companies/batch/read",
        json!({"inputs": [{"id": "K-7"}], "idProperty": "xentral_id", "properties": ["name"]}),
    );
    assert_eq!(batch.body["results"][0]["id"], a.as_str());
}

#[test]
fn company_batch_create_over_100_inputs_is_rejected() {
    let h = Harness::new();
    let inputs: Vec<Value> = (0..101)
        .map(|i| json!({"properties": {"name": format!("F{i}")}}))
        .collect();
    let reply = h.post(
        "/crm/v3/objects/companies/batch/create",
        json!({ "inputs": inputs }),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert!(h.emu.objects(ObjectType::Companies).is_empty());
}

#[test]
fn company_batch_update_with_an_unknown_id_is_207() {
    let h = Harness::new();
    let a = h.company(json!({"name": "A"}));
    let reply = h.post(
        "/crm/v3/objects/companies/batch/update",
        json!({"inputs": [{"id": a, "properties": {"city": "Graz"}}, {"id": "5", "properties": {"city": "Linz"}}]}),
    );
    assert_eq!(reply.status, 207, "{}", reply.raw);
    assert_eq!(reply.body["results"][0]["properties"]["city"], "Graz");
    assert_eq!(
        reply.body["errors"][0]["message"],
        "Could not get some COMPANY objects, they may be deleted or not exist. Check that ids are valid."
    );
}

#[test]
fn company_writes_need_the_companies_scope() {
    let h = Harness::with(|c| {
        c.tokens.push(hubspot_emulator::TokenConfig::with_scopes(
            "read-only",
            &["crm.objects.companies.read"],
        ));
    });
    let reply = h.call_as(
        "POST",
        "/crm/v3/objects/companies",
        Some(&json!({"properties": {"name": "A"}})),
        Some("read-only"),
    );
    assert_error(&reply, 403, "MISSING_SCOPES");
    assert_eq!(
        reply.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.companies.write"])
    );
    let listed = h.call_as("GET", "/crm/v3/objects/companies", None, Some("read-only"));
    assert_eq!(listed.status, 200);
}
