//! Portal metadata and links: pipelines, properties, owners and v4 associations.

mod common;

use common::{Harness, assert_error};
use hubspot_emulator::{ObjectType, Pipeline, Stage, TokenConfig};
use serde_json::{Value, json};

#[test]
fn default_pipeline_has_hubspot_stages_with_string_metadata() {
    let h = Harness::new();
    let reply = h.get("/crm/v3/pipelines/deals");
    assert_eq!(reply.status, 200);
    let pipelines = reply.body["results"].as_array().unwrap();
    assert!(pipelines.len() >= 2);
    let default = &pipelines[0];
    assert_eq!(default["id"], "default");
    assert_eq!(default["label"], "Sales Pipeline");
    let stages: Vec<(&str, &str, &str)> = default["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["metadata"]["probability"].as_str().unwrap(),
                s["metadata"]["isClosed"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("appointmentscheduled", "0.2", "false"),
            ("qualifiedtobuy", "0.4", "false"),
            ("presentationscheduled", "0.6", "false"),
            ("decisionmakerboughtin", "0.8", "false"),
            ("contractsent", "0.9", "false"),
            ("closedwon", "1.0", "true"),
            ("closedlost", "0.0", "true"),
        ]
    );
    let numeric = &pipelines[1];
    assert!(
        numeric["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    assert!(
        numeric["stages"][0]["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
}

#[test]
fn pipeline_by_id_and_unknown_pipeline_is_404() {
    let h = Harness::new();
    assert_eq!(
        h.get("/crm/v3/pipelines/deals/7834561").body["label"],
        "Partner Pipeline"
    );
    assert_error(
        &h.get("/crm/v3/pipelines/deals/nope"),
        404,
        "OBJECT_NOT_FOUND",
    );
}

#[test]
fn pipeline_changes_made_in_process_show_up_and_are_enforced() {
    let h = Harness::new();
    let mut partner = h
        .emu
        .pipelines()
        .into_iter()
        .find(|p| p.id == "7834561")
        .unwrap();
    partner.label = "Resellers".into();
    partner
        .stages
        .push(Stage::new("7834567", "On hold", 5, 0.5, false));
    h.emu.upsert_pipeline(partner);
    h.emu.upsert_pipeline(Pipeline {
        id: "9900001".into(),
        label: "Events".into(),
        display_order: 3,
        archived: false,
        stages: vec![Stage::new("9900002", "Booked", 0, 0.5, false)],
    });
    assert!(h.emu.archive_stage("default", "contractsent"));
    let reply = h.get("/crm/v3/pipelines/deals/7834561");
    assert_eq!(reply.body["label"], "Resellers");
    assert_eq!(reply.body["stages"].as_array().unwrap().len(), 6);
    assert_eq!(
        h.get("/crm/v3/pipelines/deals").body["results"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let default = h.get("/crm/v3/pipelines/deals/default");
    assert!(
        default.body["stages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != "contractsent")
    );
    let refused = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": "D", "pipeline": "default", "dealstage": "contractsent"}}),
    );
    assert_error(&refused, 400, "VALIDATION_ERROR");
    assert!(h.emu.archive_pipeline("9900001"));
    assert_eq!(
        h.get("/crm/v3/pipelines/deals").body["results"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn lead_status_property_lists_its_options() {
    let h = Harness::new();
    let reply = h.get("/crm/v3/properties/contacts/hs_lead_status");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["type"], "enumeration");
    assert_eq!(reply.body["hasUniqueValue"], false);
    assert_eq!(reply.body["modificationMetadata"]["readOnlyValue"], false);
    let values: Vec<&str> = reply.body["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        [
            "NEW",
            "OPEN",
            "IN_PROGRESS",
            "OPEN_DEAL",
            "UNQUALIFIED",
            "ATTEMPTED_TO_CONTACT",
            "CONNECTED",
            "BAD_TIMING"
        ]
    );
    let first = &reply.body["options"][0];
    assert_eq!(first["label"], "New");
    assert_eq!(first["displayOrder"], 0);
    assert_eq!(first["hidden"], false);
}

#[test]
fn property_list_covers_contact_and_deal_fields() {
    let h = Harness::new();
    let names = |object: &str| -> Vec<String> {
        h.get(&format!("/crm/v3/properties/{object}")).body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let contacts = names("contacts");
    for name in [
        "phone",
        "mobilephone",
        "address",
        "zip",
        "city",
        "state",
        "country",
        "website",
        "company",
        "jobtitle",
        "hubspot_owner_id",
        "lifecyclestage",
        "lastmodifieddate",
    ] {
        assert!(contacts.contains(&name.to_string()), "{name}");
    }
    let deals = names("deals");
    for name in [
        "dealname",
        "amount",
        "closedate",
        "dealstage",
        "pipeline",
        "hubspot_owner_id",
        "description",
        "hs_lastmodifieddate",
    ] {
        assert!(deals.contains(&name.to_string()), "{name}");
    }
    let closedate = h.get("/crm/v3/properties/deals/closedate");
    assert_eq!(closedate.body["type"], "date");
    let modified = h.get("/crm/v3/properties/deals/hs_lastmodifieddate");
    assert_eq!(modified.body["modificationMetadata"]["readOnlyValue"], true);
}

#[test]
fn property_creation_returns_201_then_409_for_the_same_name() {
    let h = Harness::new();
    let body = json!({"name": "erp_id", "label": "ERP id", "type": "string", "fieldType": "text",
                      "groupName": "contactinformation", "hasUniqueValue": true});
    let created = h.post("/crm/v3/properties/contacts", body.clone());
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(created.body["hasUniqueValue"], true);
    assert_eq!(
        h.get("/crm/v3/properties/contacts/erp_id").body["name"],
        "erp_id"
    );
    assert_eq!(h.post("/crm/v3/properties/contacts", body).status, 409);
}

#[test]
fn deal_property_creation_needs_the_schema_scope() {
    let h = Harness::with(|c| {
        c.tokens.push(TokenConfig::with_scopes(
            "narrow",
            &["crm.objects.deals.read", "crm.objects.deals.write"],
        ));
        c.tokens.push(TokenConfig::with_scopes(
            "schema",
            &["crm.schemas.deals.write"],
        ));
    });
    let body = json!({"name": "order_no", "label": "Order", "type": "string", "fieldType": "text"});
    let refused = h.call_as(
        "POST",
        "/crm/v3/properties/deals",
        Some(&body),
        Some("narrow"),
    );
    assert_error(&refused, 403, "MISSING_SCOPES");
    let created = h.call_as(
        "POST",
        "/crm/v3/properties/deals",
        Some(&body),
        Some("schema"),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
}

#[test]
fn owners_are_listed_and_paged() {
    let h = Harness::new();
    let first = h.get("/crm/v3/owners?limit=2");
    assert_eq!(first.status, 200);
    let results = first.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for key in [
        "id",
        "email",
        "firstName",
        "lastName",
        "userId",
        "createdAt",
        "updatedAt",
        "archived",
    ] {
        assert!(results[0].get(key).is_some(), "{key}");
    }
    assert_eq!(first.body["paging"]["next"]["after"], "2");
    let rest = h.get("/crm/v3/owners?limit=100&after=2");
    assert_eq!(rest.body["results"].as_array().unwrap().len(), 3);
    assert!(rest.body.get("paging").is_none());
}

#[test]
fn owner_id_is_accepted_as_hubspot_owner_id_and_unknown_ids_are_not() {
    let h = Harness::new();
    let owner = h.get("/crm/v3/owners").body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.contact(json!({"hubspot_owner_id": owner}));
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"hubspot_owner_id": "1"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
}

#[test]
fn default_association_is_recorded_in_both_directions() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let deal = h.deal("D");
    let reply = h.call(
        "PUT",
        &format!("/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}"),
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    let from_deal = h.get(&format!(
        "/crm/v4/objects/deals/{deal}/associations/contacts"
    ));
    assert_eq!(
        from_deal.body["results"],
        json!([{"toObjectId": contact.parse::<u64>().unwrap(),
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null}]}])
    );
    let from_contact = h.get(&format!("/crm/v4/objects/0-1/{contact}/associations/deals"));
    assert_eq!(
        from_contact.body["results"][0]["associationTypes"][0]["typeId"],
        4
    );
    assert_eq!(h.emu.associations(ObjectType::Contacts, &contact), [deal]);
}

#[test]
fn list_and_get_include_associations_when_asked() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let deal = h.deal("D");
    h.call(
        "PUT",
        &format!("/crm/v4/objects/contacts/{contact}/associations/default/deals/{deal}"),
        None,
    );
    let listed = h.get("/crm/v3/objects/contacts?associations=deals");
    assert_eq!(
        listed.body["results"][0]["associations"],
        json!({"deals": {"results": [{"id": deal, "type": "contact_to_deal"}]}})
    );
    let got = h.get(&format!(
        "/crm/v3/objects/deals/{deal}?associations=contacts"
    ));
    assert_eq!(
        got.body["associations"]["contacts"]["results"][0]["type"],
        "deal_to_contact"
    );
    assert!(
        h.get(&format!("/crm/v3/objects/deals/{deal}"))
            .body
            .get("associations")
            .is_none()
    );
}

#[test]
fn batch_create_and_batch_read_associations() {
    let h = Harness::new();
    let c1 = h.contact(json!({"email": "a@example.com"}));
    let c2 = h.contact(json!({"email": "b@example.com"}));
    let deal = h.deal("D");
    let lonely = h.deal("E");
    let reply = h.post(
        "/crm/v4/associations/contacts/deals/batch/create",
        json!({"inputs": [
            {"from": {"id": c1}, "to": {"id": deal}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]},
            {"from": {"id": c2}, "to": {"id": deal}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]}]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert_eq!(reply.body["results"].as_array().unwrap().len(), 2);
    let read = h.post(
        "/crm/v4/associations/deals/contacts/batch/read",
        json!({"inputs": [{"id": deal}, {"id": lonely}]}),
    );
    assert_eq!(read.status, 207, "{}", read.raw);
    let to: Vec<u64> = read.body["results"][0]["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toObjectId"].as_u64().unwrap())
        .collect();
    assert_eq!(to, [c1.parse::<u64>().unwrap(), c2.parse::<u64>().unwrap()]);
    assert_eq!(
        read.body["errors"][0]["subCategory"],
        "crm.associations.NO_ASSOCIATIONS_FOUND"
    );
}

#[test]
fn batch_associate_default_links_pairs() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let deal = h.deal("D");
    let reply = h.post(
        "/crm/v4/associations/deals/contacts/batch/associate/default",
        json!({"inputs": [{"from": {"id": deal}, "to": {"id": contact}}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(
        reply.body["results"][0]["associationSpec"]["associationTypeId"],
        3
    );
    assert_eq!(h.emu.associations(ObjectType::Deals, &deal), [contact]);
}

#[test]
fn wrong_association_type_id_is_rejected() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let deal = h.deal("D");
    let reply = h.post(
        "/crm/v4/associations/contacts/deals/batch/create",
        json!({"inputs": [{"from": {"id": contact}, "to": {"id": deal},
                           "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]}]}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
}

#[test]
fn association_batch_read_over_1000_inputs_is_rejected() {
    let h = Harness::new();
    let inputs: Vec<Value> = (0..1001).map(|i| json!({"id": i.to_string()})).collect();
    let reply = h.post(
        "/crm/v4/associations/deals/contacts/batch/read",
        json!({ "inputs": inputs }),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
}

#[test]
fn create_with_inline_associations_links_the_new_record() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let reply = h.post(
        "/crm/v3/objects/deals",
        json!({"properties": {"dealname": "D", "pipeline": "default", "dealstage": "closedwon"},
               "associations": [{"to": {"id": contact},
                                 "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]}]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert_eq!(
        h.emu.associations(ObjectType::Contacts, &contact),
        [reply.body["id"].as_str().unwrap()]
    );
}

#[test]
fn the_2026_03_family_serves_the_same_portal_with_string_association_ids() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let deal = h.deal("D");
    let linked = h.post(
        "/crm/associations/2026-03/deals/contacts/batch/associate/default",
        json!({"inputs": [{"from": {"id": deal}, "to": {"id": contact}}]}),
    );
    assert_eq!(linked.status, 200, "{}", linked.raw);
    let dated = h.post(
        "/crm/associations/2026-03/deals/contacts/batch/read",
        json!({"inputs": [{"id": deal}]}),
    );
    assert_eq!(dated.status, 200, "{}", dated.raw);
    assert_eq!(
        dated.body["results"][0]["to"][0]["toObjectId"],
        json!(contact)
    );
    let legacy = h.post(
        "/crm/v4/associations/deals/contacts/batch/read",
        json!({"inputs": [{"id": deal}]}),
    );
    assert_eq!(
        legacy.body["results"][0]["to"][0]["toObjectId"],
        json!(contact.parse::<u64>().unwrap())
    );
    let found = h.post(
        "/crm/objects/2026-03/contacts/search",
        json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "a@example.com"}]}]}),
    );
    assert_eq!(found.status, 200, "{}", found.raw);
    assert_eq!(found.body["results"][0]["id"], json!(contact));
    assert_eq!(h.get("/crm/pipelines/2026-03/deals").status, 200);
    assert_eq!(
        h.get("/crm/properties/2026-03/contacts/hs_lead_status")
            .body["type"],
        "enumeration"
    );
    assert_eq!(h.get("/crm/objects/2026-04/contacts").status, 404);
}
