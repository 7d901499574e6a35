//! Contacts and deals: single-record endpoints, batches and HubSpot's validation rules.

mod common;

use common::{Harness, assert_error, error_codes};
use serde_json::{Value, json};

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn create_contact_returns_201_with_maintained_properties() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "anna@example.com", "firstname": "Anna"}}),
    );
    assert_eq!(reply.status, 201);
    let id = reply.body["id"].as_str().unwrap();
    assert!(id.parse::<u64>().is_ok());
    let props = &reply.body["properties"];
    assert_eq!(props["hs_object_id"], id);
    assert_eq!(props["createdate"], "2024-05-01T12:00:00.000Z");
    assert_eq!(props["lastmodifieddate"], "2024-05-01T12:00:00.000Z");
    assert_eq!(reply.body["createdAt"], "2024-05-01T12:00:00.000Z");
    assert_eq!(reply.body["updatedAt"], "2024-05-01T12:00:00.000Z");
    assert_eq!(reply.body["archived"], false);
}

#[test]
fn get_returns_exactly_the_default_properties_when_none_are_asked() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com", "phone": "+49 1"}));
    let reply = h.get(&format!("/crm/v3/objects/contacts/{id}"));
    assert_eq!(reply.status, 200);
    assert_eq!(
        keys(&reply.body["properties"]),
        [
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname"
        ]
    );
    assert_eq!(reply.body["properties"]["firstname"], Value::Null);
    let deal = h.deal("Big one");
    let reply = h.get(&format!("/crm/v3/objects/deals/{deal}"));
    assert_eq!(
        keys(&reply.body["properties"]),
        [
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline"
        ]
    );
}

#[test]
fn get_with_properties_returns_requested_values_and_null_for_unset() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com", "phone": "+49 1"}));
    let reply = h.get(&format!(
        "/crm/v3/objects/contacts/{id}?properties=phone,city"
    ));
    let props = &reply.body["properties"];
    assert_eq!(props["phone"], "+49 1");
    assert_eq!(props["city"], Value::Null);
    assert_eq!(props["hs_object_id"], id.as_str());
    assert!(props.get("email").is_none());
}

#[test]
fn get_by_email_id_property_matches_case_insensitively() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "Anna.Mueller@Example.com"}));
    let reply = h.get("/crm/v3/objects/contacts/anna.mueller%40example.COM?idProperty=email");
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body["id"], id.as_str());
    assert_eq!(
        reply.body["properties"]["email"],
        "Anna.Mueller@Example.com"
    );
}

#[test]
fn object_type_ids_are_aliases_of_names() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let deal = h.deal("D");
    assert_eq!(
        h.get(&format!("/crm/v3/objects/0-1/{contact}")).body["id"],
        contact.as_str()
    );
    assert_eq!(
        h.get(&format!("/crm/v3/objects/0-3/{deal}")).body["id"],
        deal.as_str()
    );
    assert_eq!(
        h.get("/crm/v3/objects/0-1").body["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn unknown_object_type_is_rejected() {
    let h = Harness::new();
    let reply = h.get("/crm/v3/objects/widgets");
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(
        reply.body["message"],
        "Unable to infer object type from: widgets"
    );
}

#[test]
fn list_pages_with_opaque_after_until_it_is_absent() {
    let h = Harness::new();
    for i in 0..25 {
        h.contact(json!({"email": format!("c{i}@example.com")}));
    }
    let mut seen = Vec::new();
    let mut path = "/crm/v3/objects/contacts".to_string();
    let mut pages = 0;
    loop {
        let reply = h.get(&path);
        pages += 1;
        let results = reply.body["results"].as_array().unwrap();
        seen.extend(
            results
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match reply.body["paging"]["next"]["after"].as_str() {
            Some(after) => path = format!("/crm/v3/objects/contacts?after={after}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    seen.dedup();
    assert_eq!(seen.len(), 25);
}

#[test]
fn list_limit_above_100_is_rejected() {
    let h = Harness::new();
    assert_error(
        &h.get("/crm/v3/objects/contacts?limit=101"),
        400,
        "VALIDATION_ERROR",
    );
    assert_eq!(h.get("/crm/v3/objects/contacts?limit=100").status, 200);
}

#[test]
fn patch_updates_and_bumps_the_modified_time() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com"}));
    h.advance(5_000);
    let reply = h.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"firstname": "Zoë"}}),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["properties"]["firstname"], "Zoë");
    assert_eq!(reply.body["updatedAt"], "2024-05-01T12:00:05.000Z");
    assert_eq!(
        reply.body["properties"]["lastmodifieddate"],
        "2024-05-01T12:00:05.000Z"
    );
    assert_eq!(
        reply.body["properties"]["createdate"],
        "2024-05-01T12:00:00.000Z"
    );
}

#[test]
fn patch_that_changes_nothing_keeps_the_modified_time() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com", "firstname": "Anna"}));
    h.advance(5_000);
    let reply = h.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"firstname": "Anna"}}),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["updatedAt"], "2024-05-01T12:00:00.000Z");
}

#[test]
fn patch_by_email_id_property_updates_that_contact() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com"}));
    let reply = h.patch(
        "/crm/v3/objects/contacts/A%40example.com?idProperty=email",
        json!({"properties": {"city": "Köln"}}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body["id"], id.as_str());
}

#[test]
fn empty_string_clears_a_value() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com", "phone": "+49 1"}));
    h.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"phone": ""}}),
    );
    let reply = h.get(&format!("/crm/v3/objects/contacts/{id}?properties=phone"));
    assert_eq!(reply.body["properties"]["phone"], Value::Null);
}

#[test]
fn property_values_are_always_strings() {
    let h = Harness::new();
    let deal = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": "D", "pipeline": "default", "dealstage": "closedwon", "amount": 1200.5}}),
    );
    assert_eq!(deal.status, 201, "{}", deal.raw);
    assert_eq!(deal.body["properties"]["amount"], "1200.5");
    assert_eq!(deal.body["properties"]["hs_object_id"], deal.body["id"]);
}

#[test]
fn delete_archives_and_archived_records_list_only_with_archived_true() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com"}));
    h.contact(json!({"email": "b@example.com"}));
    h.advance(1_000);
    assert_eq!(
        h.delete(&format!("/crm/v3/objects/contacts/{id}")).status,
        204
    );
    assert_error(
        &h.get(&format!("/crm/v3/objects/contacts/{id}")),
        404,
        "OBJECT_NOT_FOUND",
    );
    assert_eq!(
        h.get("/crm/v3/objects/contacts").body["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let archived = h.get("/crm/v3/objects/contacts?archived=true");
    let results = archived.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], id.as_str());
    assert_eq!(results[0]["archived"], true);
    assert_eq!(results[0]["archivedAt"], "2024-05-01T12:00:01.000Z");
    assert_eq!(
        results[0]["updatedAt"], "2024-05-01T12:00:00.000Z",
        "archiving keeps the modified time"
    );
}

#[test]
fn unknown_id_is_404_object_not_found() {
    let h = Harness::new();
    let reply = h.get("/crm/v3/objects/contacts/999999");
    assert_error(&reply, 404, "OBJECT_NOT_FOUND");
    assert_eq!(
        reply.body["message"],
        "Object not found.  objectId are usually numeric."
    );
    assert_error(
        &h.patch("/crm/v3/objects/deals/12", json!({"properties": {}})),
        404,
        "OBJECT_NOT_FOUND",
    );
}

#[test]
fn unknown_property_is_a_validation_error() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"favourite_colour": "blue"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(error_codes(&reply), ["PROPERTY_DOESNT_EXIST"]);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Property values were not valid")
    );
}

#[test]
fn read_only_properties_cannot_be_written() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "a@example.com"}));
    for name in ["hs_object_id", "lastmodifieddate"] {
        let reply = h.patch(
            &format!("/crm/v3/objects/contacts/{id}"),
            json!({"properties": {name: "1"}}),
        );
        assert_error(&reply, 400, "VALIDATION_ERROR");
        assert_eq!(error_codes(&reply), ["READ_ONLY_VALUE"]);
    }
    let deal = h.deal("D");
    let reply = h.patch(
        &format!("/crm/v3/objects/deals/{deal}"),
        json!({"properties": {"hs_lastmodifieddate": "1"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
}

#[test]
fn enumeration_value_outside_the_options_is_invalid_option() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"hs_lead_status": "HOT"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(error_codes(&reply), ["INVALID_OPTION"]);
    assert!(!h.contact(json!({"hs_lead_status": "OPEN_DEAL"})).is_empty());
}

#[test]
fn closedate_not_at_midnight_is_invalid_date() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": "D", "pipeline": "default", "dealstage": "closedwon",
                              "closedate": "2024-05-01T22:18:55.865Z"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(error_codes(&reply), ["INVALID_DATE"]);
    assert!(
        reply.raw.contains("is at 22:18:55.865 UTC, not midnight!"),
        "{}",
        reply.raw
    );
}

#[test]
fn closedate_accepts_day_iso_midnight_and_midnight_epoch_ms() {
    let h = Harness::new();
    for value in ["2024-06-30", "2024-06-30T00:00:00.000Z", "1719705600000"] {
        let reply = h.post(
            "/crm/v3/objects/deals",
            json!({"properties": {"dealname": "D", "pipeline": "default", "dealstage": "closedwon", "closedate": value}}),
        );
        assert_eq!(reply.status, 201, "{value}: {}", reply.raw);
        assert_eq!(reply.body["properties"]["closedate"], "2024-06-30");
    }
}

#[test]
fn number_with_thousands_separator_is_rejected() {
    let h = Harness::new();
    let deal = h.deal("D");
    let reply = h.patch(
        &format!("/crm/v3/objects/deals/{deal}"),
        json!({"properties": {"amount": "1,200.00"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(error_codes(&reply), ["INVALID_INTEGER"]);
}

#[test]
fn deal_without_name_pipeline_or_stage_is_rejected() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"amount": "5"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(
        error_codes(&reply),
        [
            "REQUIRED_PROPERTY",
            "REQUIRED_PROPERTY",
            "REQUIRED_PROPERTY"
        ]
    );
}

#[test]
fn deal_stage_of_another_pipeline_is_rejected() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": "D", "pipeline": "default", "dealstage": "7834562"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(error_codes(&reply), ["INVALID_OPTION"]);
    let ok = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": "D", "pipeline": "7834561", "dealstage": "7834562"}}),
    );
    assert_eq!(ok.status, 201);
}

#[test]
fn duplicate_email_is_409_conflict_naming_the_existing_id() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "anna@example.com"}));
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "ANNA@example.com"}}),
    );
    assert_error(&reply, 409, "CONFLICT");
    assert_eq!(
        reply.body["message"],
        format!("Contact already exists. Existing ID: {id}")
    );
}

#[test]
fn lifecycle_stage_never_moves_backwards() {
    let h = Harness::new();
    let id = h.contact(json!({"lifecyclestage": "customer"}));
    let reply = h.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"lifecyclestage": "lead"}}),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["properties"]["lifecyclestage"], "customer");
    h.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"lifecyclestage": ""}}),
    );
    let reply = h.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"lifecyclestage": "lead"}}),
    );
    assert_eq!(reply.body["properties"]["lifecyclestage"], "lead");
}

#[test]
fn invalid_json_body_is_a_validation_error() {
    let h = Harness::new();
    let reply = h.call(
        "POST",
        "/crm/v3/objects/contacts",
        Some(&json!("not an object")),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid input JSON")
    );
}

#[test]
fn batch_create_returns_201_with_every_record() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/create",
        json!({"inputs": [{"properties": {"email": "a@example.com"}}, {"properties": {"email": "b@example.com"}}]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert_eq!(reply.body["status"], "COMPLETE");
    assert_eq!(reply.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(
        reply.body["results"][1]["properties"]["email"],
        "b@example.com"
    );
}

#[test]
fn batch_with_more_than_100_inputs_is_rejected() {
    let h = Harness::new();
    let inputs: Vec<Value> = (0..101)
        .map(|i| json!({"properties": {"email": format!("c{i}@example.com")}}))
        .collect();
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/create",
        json!({ "inputs": inputs }),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(
        h.emu.objects(hubspot_emulator::ObjectType::Contacts).len(),
        0
    );
}

#[test]
fn duplicate_email_inside_one_batch_create_fails_the_whole_batch() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/create",
        json!({"inputs": [{"properties": {"email": "x@example.com"}}, {"properties": {"email": "y@example.com"}},
                          {"properties": {"email": "X@EXAMPLE.com"}}]}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(
        h.emu.objects(hubspot_emulator::ObjectType::Contacts).len(),
        0
    );
}

#[test]
fn batch_read_reports_missing_ids_with_207() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com", "city": "Wien"}));
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/read",
        json!({"inputs": [{"id": a}, {"id": "424242"}], "properties": ["city"]}),
    );
    assert_eq!(reply.status, 207, "{}", reply.raw);
    assert_eq!(reply.body["numErrors"], 1);
    assert_eq!(reply.body["results"][0]["properties"]["city"], "Wien");
    assert_eq!(reply.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(reply.body["errors"][0]["context"]["ids"], json!(["424242"]));
}

#[test]
fn batch_read_by_email_id_property() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/read",
        json!({"inputs": [{"id": "A@Example.com"}], "idProperty": "email", "properties": []}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body["results"][0]["id"], a.as_str());
}

#[test]
fn batch_update_with_unknown_ids_is_207_and_applies_the_rest() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/update",
        json!({"inputs": [{"id": a, "properties": {"city": "Graz"}}, {"id": "777", "properties": {"city": "Linz"}}]}),
    );
    assert_eq!(reply.status, 207, "{}", reply.raw);
    assert_eq!(reply.body["results"][0]["properties"]["city"], "Graz");
    assert_eq!(reply.body["errors"][0]["context"]["ids"], json!(["777"]));
}

#[test]
fn batch_upsert_by_email_creates_and_updates_with_new_flags() {
    let h = Harness::new();
    let existing = h.contact(json!({"email": "old@example.com", "firstname": "Old"}));
    h.advance(1_000);
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/upsert",
        json!({"inputs": [
            {"idProperty": "email", "id": "OLD@example.com", "properties": {"firstname": "Renamed"}},
            {"idProperty": "email", "id": "new@example.com", "properties": {"firstname": "New"}}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!(results[0]["id"], existing.as_str());
    assert_eq!(results[0]["new"], false);
    assert_eq!(results[0]["properties"]["firstname"], "Renamed");
    assert_eq!(results[1]["new"], true);
    assert_eq!(results[1]["properties"]["email"], "new@example.com");
    assert_eq!(results[1]["createdAt"], "2024-05-01T12:00:01.000Z");
}

#[test]
fn batch_upsert_by_custom_unique_property_for_deals() {
    let h = Harness::new();
    let created = h.post(
        "/crm/v3/properties/deals",
        json!({"name": "erp_order_id", "label": "ERP order", "type": "string", "fieldType": "text",
               "groupName": "dealinformation", "hasUniqueValue": true}),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let input = |name: &str| {
        json!({"inputs": [{"idProperty": "erp_order_id", "id": "SO-1",
            "properties": {"dealname": name, "pipeline": "default", "dealstage": "qualifiedtobuy"}}]})
    };
    let first = h.post("/crm/v3/objects/deals/batch/upsert", input("First"));
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["results"][0]["new"], true);
    let second = h.post("/crm/v3/objects/deals/batch/upsert", input("Second"));
    assert_eq!(second.body["results"][0]["new"], false);
    assert_eq!(
        second.body["results"][0]["id"],
        first.body["results"][0]["id"]
    );
    assert_eq!(h.emu.objects(hubspot_emulator::ObjectType::Deals).len(), 1);
}

#[test]
fn batch_upsert_by_a_non_unique_property_is_rejected() {
    let h = Harness::new();
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/upsert",
        json!({"inputs": [{"idProperty": "firstname", "id": "Anna", "properties": {}}]}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
}

#[test]
fn unique_property_values_are_enforced_on_create_and_update() {
    let h = Harness::new();
    h.post(
        "/crm/v3/properties/contacts",
        json!({"name": "customer_no", "label": "Customer no", "type": "string", "fieldType": "text", "hasUniqueValue": true}),
    );
    let a = h.contact(json!({"customer_no": "K-1"}));
    let b = h.contact(json!({"customer_no": "K-2"}));
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"customer_no": "K-1"}}),
    );
    assert_error(&reply, 409, "CONFLICT");
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("Existing ID: {a}"))
    );
    let reply = h.patch(
        &format!("/crm/v3/objects/contacts/{b}"),
        json!({"properties": {"customer_no": "K-1"}}),
    );
    assert_error(&reply, 409, "CONFLICT");
}

#[test]
fn batch_archive_returns_204_and_archives() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let reply = h.post(
        "/crm/v3/objects/contacts/batch/archive",
        json!({"inputs": [{"id": a}, {"id": "31337"}]}),
    );
    assert_eq!(reply.status, 204);
    assert!(
        h.emu
            .get_object(hubspot_emulator::ObjectType::Contacts, &a)
            .unwrap()
            .archived
    );
}

#[test]
fn archived_contact_frees_its_email() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    h.delete(&format!("/crm/v3/objects/contacts/{a}"));
    let b = h.contact(json!({"email": "a@example.com"}));
    assert_ne!(a, b);
}
