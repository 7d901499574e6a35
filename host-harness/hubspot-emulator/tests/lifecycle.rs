//! Records that end: archive (and the recycle bin's restore) and merge into a new id, as HubSpot
//! has behaved since 2024.

mod common;

use std::collections::BTreeMap;

use common::{Harness, assert_error};
use hubspot_emulator::{ObjectType, WriteError};
use serde_json::{Value, json};

fn ids(reply: &common::Reply) -> Vec<String> {
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn primary_company(h: &Harness, contact: &str, company: &str) {
    h.emu
        .associate_with(
            ObjectType::Contacts,
            contact,
            ObjectType::Companies,
            company,
            1,
        )
        .unwrap();
}

// ---- archive ----

#[test]
fn batch_archive_answers_204_and_archives_companies() {
    let h = Harness::new();
    let a = h.company(json!({"name": "A"}));
    let reply = h.post(
        "/crm/objects/2026-03/companies/batch/archive",
        json!({"inputs": [{"id": a}, {"id": "77"}]}),
    );
    assert_eq!(reply.status, 204, "{}", reply.raw);
    assert!(
        h.emu
            .get_object(ObjectType::Companies, &a)
            .unwrap()
            .archived
    );
}

#[test]
fn archived_records_leave_search_and_plain_reads() {
    let h = Harness::new();
    let a = h.company(json!({"name": "Acme"}));
    h.delete(&format!("/crm/v3/objects/companies/{a}"));
    let found = h.post(
        "/crm/v3/objects/companies/search",
        json!({"filterGroups": [{"filters": [{"propertyName": "name", "operator": "EQ", "value": "Acme"}]}]}),
    );
    assert_eq!(found.body["total"], 0);
    let got = h.get(&format!("/crm/v3/objects/companies/{a}"));
    assert_error(&got, 404, "OBJECT_NOT_FOUND");
    assert_eq!(
        got.body["message"],
        "Object not found.  objectId are usually numeric."
    );
}

#[test]
fn batch_read_of_an_archived_id_is_an_error_entry_unless_archived_is_asked() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    h.delete(&format!("/crm/v3/objects/contacts/{a}"));
    let live = h.post(
        "/crm/v3/objects/contacts/batch/read",
        json!({"inputs": [{"id": a}, {"id": b}], "properties": ["email"]}),
    );
    assert_eq!(live.status, 207, "{}", live.raw);
    assert_eq!(ids(&live), std::slice::from_ref(&b));
    assert_eq!(
        live.body["errors"][0],
        json!({"status": "error", "category": "OBJECT_NOT_FOUND",
               "message": "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
               "context": {"ids": [a]}, "errors": []})
    );
    let archived = h.post(
        "/crm/v3/objects/contacts/batch/read?archived=true",
        json!({"inputs": [{"id": a}], "properties": ["email"]}),
    );
    assert_eq!(archived.status, 200, "{}", archived.raw);
    assert_eq!(archived.body["results"][0]["archived"], true);
    assert_eq!(
        archived.body["results"][0]["properties"]["email"],
        "a@example.com"
    );
}

#[test]
fn archived_true_lists_only_archived_companies_with_archived_at() {
    let h = Harness::new();
    let gone = h.company(json!({"name": "Gone"}));
    h.company(json!({"name": "Here"}));
    h.advance(3_000);
    h.delete(&format!("/crm/v3/objects/companies/{gone}"));
    let listed = h.get("/crm/objects/2026-03/companies?archived=true");
    assert_eq!(ids(&listed), [gone]);
    assert_eq!(listed.body["results"][0]["archived"], true);
    assert_eq!(
        listed.body["results"][0]["archivedAt"],
        "2024-05-01T12:00:03.000Z"
    );
    assert_eq!(
        listed.body["results"][0]["updatedAt"],
        "2024-05-01T12:00:00.000Z"
    );
}

#[test]
fn a_new_contact_can_take_an_archived_contacts_email() {
    let h = Harness::new();
    let old = h.contact(json!({"email": "anna@example.com"}));
    h.delete(&format!("/crm/v3/objects/contacts/{old}"));
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "anna@example.com"}}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert_ne!(reply.body["id"], old.as_str());
}

// ---- restore ----

#[test]
fn restore_brings_back_id_properties_and_search_with_a_new_modified_time() {
    let h = Harness::new();
    let id = h.contact(json!({"email": "anna@example.com", "firstname": "Anna"}));
    h.advance(1_000);
    h.emu.archive_object(ObjectType::Contacts, &id).unwrap();
    h.advance(60_000);
    h.emu.restore_object(ObjectType::Contacts, &id).unwrap();
    let got = h.get(&format!("/crm/v3/objects/contacts/{id}"));
    assert_eq!(got.status, 200, "{}", got.raw);
    assert_eq!(got.body["properties"]["firstname"], "Anna");
    assert_eq!(got.body["archived"], false);
    assert!(got.body.get("archivedAt").is_none());
    assert_eq!(got.body["updatedAt"], "2024-05-01T12:01:01.000Z");
    let found = h.post(
        "/crm/v3/objects/contacts/search",
        json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "anna@example.com"}]}]}),
    );
    assert_eq!(ids(&found), std::slice::from_ref(&id));
    assert!(
        h.get("/crm/v3/objects/contacts?archived=true").body["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn restore_brings_back_associations_and_the_primary_company() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    let deal = h.deal("D");
    primary_company(&h, &contact, &company);
    assert!(h.emu.associate(ObjectType::Contacts, &contact, &deal));
    h.emu
        .archive_object(ObjectType::Companies, &company)
        .unwrap();
    h.emu
        .archive_object(ObjectType::Contacts, &contact)
        .unwrap();
    assert!(h.emu.associations(ObjectType::Deals, &deal).is_empty());
    h.emu
        .restore_object(ObjectType::Companies, &company)
        .unwrap();
    h.emu
        .restore_object(ObjectType::Contacts, &contact)
        .unwrap();
    assert_eq!(
        h.emu.associations(ObjectType::Deals, &deal),
        std::slice::from_ref(&contact)
    );
    assert_eq!(
        h.emu.association_type_ids(
            ObjectType::Contacts,
            &contact,
            ObjectType::Companies,
            &company
        ),
        [1, 279]
    );
    let got = h.get(&format!(
        "/crm/v3/objects/contacts/{contact}?properties=associatedcompanyid"
    ));
    assert_eq!(
        got.body["properties"]["associatedcompanyid"],
        json!(company)
    );
}

#[test]
fn restore_is_refused_when_a_live_contact_took_the_email() {
    let h = Harness::new();
    let old = h.contact(json!({"email": "anna@example.com"}));
    h.delete(&format!("/crm/v3/objects/contacts/{old}"));
    let new = h.contact(json!({"email": "ANNA@example.com"}));
    match h.emu.restore_object(ObjectType::Contacts, &old) {
        Err(WriteError::Conflict { existing_id, .. }) => assert_eq!(existing_id, new),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        h.emu
            .get_object(ObjectType::Contacts, &old)
            .unwrap()
            .archived
    );
}

#[test]
fn restore_of_a_live_record_is_not_found() {
    let h = Harness::new();
    let id = h.company(json!({"name": "Acme"}));
    assert!(matches!(
        h.emu.restore_object(ObjectType::Companies, &id),
        Err(WriteError::NotFound { .. })
    ));
}

// ---- merge ----

#[test]
fn merge_creates_a_record_with_a_new_id_listing_the_old_ones() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    h.advance(9_000);
    let reply = h.post(
        "/crm/v3/objects/contacts/merge",
        json!({"primaryObjectId": a, "objectIdToMerge": b}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    let new = reply.body["id"].as_str().unwrap().to_string();
    assert!(new != a && new != b);
    assert_eq!(reply.body["properties"]["email"], "a@example.com");
    assert_eq!(reply.body["updatedAt"], "2024-05-01T12:00:09.000Z");
    let got = h.get(&format!(
        "/crm/v3/objects/contacts/{new}?properties=hs_merged_object_ids,hs_additional_emails"
    ));
    assert_eq!(
        got.body["properties"]["hs_merged_object_ids"],
        format!("{a};{b}")
    );
    assert_eq!(
        got.body["properties"]["hs_additional_emails"],
        "b@example.com"
    );
}

#[test]
fn merge_keeps_the_primarys_values_and_fills_its_blanks_from_the_other() {
    let h = Harness::new();
    let a = h.company(json!({"name": "Acme", "city": "Berlin", "lifecyclestage": "lead"}));
    h.advance(1_000);
    let b = h.company(
        json!({"name": "ACME Corp", "city": "Wien", "phone": "+43 1",
                             "lifecyclestage": "customer"}),
    );
    let new = h.emu.merge(ObjectType::Companies, &a, &b).unwrap();
    let got = h.get(&format!(
        "/crm/v3/objects/companies/{new}?properties=name,city,phone,lifecyclestage"
    ));
    let p = &got.body["properties"];
    assert_eq!(p["name"], "Acme");
    assert_eq!(p["city"], "Berlin");
    assert_eq!(p["phone"], "+43 1");
    assert_eq!(
        p["lifecyclestage"], "customer",
        "the furthest stage is kept"
    );
    assert_eq!(
        got.body["createdAt"], "2024-05-01T12:00:00.000Z",
        "the older creation time"
    );
}

#[test]
fn reads_of_either_old_id_answer_the_merged_record() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    let new = h.emu.merge(ObjectType::Contacts, &a, &b).unwrap();
    for old in [&a, &b] {
        let got = h.get(&format!("/crm/v3/objects/contacts/{old}"));
        assert_eq!(got.status, 200, "{}", got.raw);
        assert_eq!(got.body["id"], new.as_str());
    }
    let batch = h.post(
        "/crm/v3/objects/contacts/batch/read",
        json!({"inputs": [{"id": b}], "properties": ["email"]}),
    );
    assert_eq!(batch.status, 200, "{}", batch.raw);
    assert_eq!(ids(&batch), [new]);
}

#[test]
fn old_ids_leave_lists_and_search() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    let new = h.emu.merge(ObjectType::Contacts, &a, &b).unwrap();
    assert_eq!(
        ids(&h.get("/crm/v3/objects/contacts")),
        std::slice::from_ref(&new)
    );
    assert!(ids(&h.get("/crm/v3/objects/contacts?archived=true")).is_empty());
    let found = h.post("/crm/v3/objects/contacts/search", json!({}));
    assert_eq!(ids(&found), std::slice::from_ref(&new));
    let since = h.post(
        "/crm/v3/objects/contacts/search",
        json!({"filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": common::START_MS.to_string()}]}]}),
    );
    assert_eq!(
        ids(&since),
        [new],
        "an incremental reader sees the merged record"
    );
}

#[test]
fn merged_associations_are_the_union_and_the_primarys_primary_company_wins() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    let company_a = h.company(json!({"name": "A"}));
    let company_b = h.company(json!({"name": "B"}));
    let deal = h.deal("D");
    primary_company(&h, &a, &company_a);
    primary_company(&h, &b, &company_b);
    assert!(h.emu.associate(ObjectType::Contacts, &b, &deal));
    let new = h.emu.merge(ObjectType::Contacts, &a, &b).unwrap();
    let types = |company: &str| {
        h.emu
            .association_type_ids(ObjectType::Contacts, &new, ObjectType::Companies, company)
    };
    assert_eq!(types(&company_a), [1, 279]);
    assert_eq!(types(&company_b), [279]);
    assert_eq!(
        h.emu.associations(ObjectType::Deals, &deal),
        std::slice::from_ref(&new)
    );
    let got = h.get(&format!(
        "/crm/v3/objects/contacts/{new}?properties=associatedcompanyid"
    ));
    assert_eq!(
        got.body["properties"]["associatedcompanyid"],
        json!(company_a)
    );
}

#[test]
fn merging_companies_moves_their_contacts_primary_company_to_the_new_id() {
    let h = Harness::new();
    let a = h.company(json!({"name": "A"}));
    let b = h.company(json!({"name": "B"}));
    let contact = h.contact(json!({"email": "c@example.com"}));
    primary_company(&h, &contact, &b);
    h.advance(4_000);
    let new = h.emu.merge(ObjectType::Companies, &a, &b).unwrap();
    let got = h.get(&format!(
        "/crm/v3/objects/contacts/{contact}?properties=associatedcompanyid"
    ));
    assert_eq!(got.body["properties"]["associatedcompanyid"], json!(new));
    assert_eq!(got.body["updatedAt"], "2024-05-01T12:00:04.000Z");
}

#[test]
fn associations_of_an_old_id_are_not_found() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    let deal = h.deal("D");
    assert!(h.emu.associate(ObjectType::Contacts, &a, &deal));
    h.emu.merge(ObjectType::Contacts, &a, &b).unwrap();
    let read = h.post(
        "/crm/v4/associations/contacts/deals/batch/read",
        json!({"inputs": [{"id": a}]}),
    );
    assert_eq!(read.status, 207, "{}", read.raw);
}

#[test]
fn merge_by_the_2026_03_path_and_for_deals() {
    let h = Harness::new();
    let a = h.deal("A");
    let b = h.deal("B");
    let reply = h.post(
        "/crm/objects/2026-03/deals/merge",
        json!({"primaryObjectId": a, "objectIdToMerge": b}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body["properties"]["dealname"], "A");
}

#[test]
fn merging_a_record_with_itself_is_a_validation_error() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let reply = h.post(
        "/crm/v3/objects/contacts/merge",
        json!({"primaryObjectId": a, "objectIdToMerge": a}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(
        reply.body["message"],
        format!("Cannot merge contact {a} into itself")
    );
}

#[test]
fn merging_an_unknown_or_archived_record_is_not_found() {
    let h = Harness::new();
    let a = h.company(json!({"name": "A"}));
    let b = h.company(json!({"name": "B"}));
    h.delete(&format!("/crm/v3/objects/companies/{b}"));
    for other in [b.as_str(), "424242"] {
        let reply = h.post(
            "/crm/v3/objects/companies/merge",
            json!({"primaryObjectId": a, "objectIdToMerge": other}),
        );
        assert_error(&reply, 404, "OBJECT_NOT_FOUND");
    }
    assert!(
        !h.emu
            .get_object(ObjectType::Companies, &a)
            .unwrap()
            .archived
    );
}

#[test]
fn merge_without_both_ids_is_a_validation_error() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let reply = h.post(
        "/crm/v3/objects/contacts/merge",
        json!({"primaryObjectId": a}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
}

#[test]
fn a_merged_away_email_can_be_taken_by_a_new_contact() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    h.emu.merge(ObjectType::Contacts, &a, &b).unwrap();
    let created = h
        .emu
        .create_object(ObjectType::Contacts, props(&[("email", "b@example.com")]));
    assert!(created.is_ok(), "{created:?}");
}

#[test]
fn merging_twice_lists_every_merged_id() {
    let h = Harness::new();
    let a = h.contact(json!({"email": "a@example.com"}));
    let b = h.contact(json!({"email": "b@example.com"}));
    let c = h.contact(json!({"email": "c@example.com"}));
    let first = h.emu.merge(ObjectType::Contacts, &a, &b).unwrap();
    let second = h.emu.merge(ObjectType::Contacts, &c, &first).unwrap();
    let got = h.get(&format!(
        "/crm/v3/objects/contacts/{a}?properties=hs_merged_object_ids"
    ));
    assert_eq!(got.body["id"], second.as_str());
    let listed: Vec<&str> = got.body["properties"]["hs_merged_object_ids"]
        .as_str()
        .unwrap()
        .split(';')
        .collect();
    assert_eq!(listed, [a.as_str(), b.as_str(), c.as_str(), first.as_str()]);
    assert_eq!(
        got.body["properties"]["hs_merged_object_ids"],
        Value::String(listed.join(";"))
    );
}
