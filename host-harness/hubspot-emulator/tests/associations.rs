//! Associations between contacts, companies and deals with HubSpot's type ids: labels in reads,
//! primary companies (one per contact or deal, mirrored in `associatedcompanyid`), default
//! associations, removal of all types or of given labels, in the v4 and 2026-03 families.

mod common;

use common::{Harness, assert_error};
use hubspot_emulator::ObjectType;
use serde_json::{Value, json};

const PRIMARY: u32 = 1;
const UNLABELLED: u32 = 279;

fn spec(id: u32) -> Value {
    json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": id})
}

fn num(id: &str) -> u64 {
    id.parse().unwrap()
}

/// Associates a contact with a company with the given type ids over v4.
fn link_contact(h: &Harness, contact: &str, company: &str, ids: &[u32]) -> common::Reply {
    let types: Vec<Value> = ids.iter().map(|id| spec(*id)).collect();
    h.call(
        "PUT",
        &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"),
        Some(&json!(types)),
    )
}

fn associatedcompanyid(h: &Harness, contact: &str) -> Value {
    h.get(&format!(
        "/crm/v3/objects/contacts/{contact}?properties=associatedcompanyid"
    ))
    .body["properties"]["associatedcompanyid"]
        .clone()
}

#[test]
fn batch_read_lists_type_ids_and_the_primary_label() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    let reply = link_contact(&h, &contact, &company, &[PRIMARY]);
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert_eq!(
        reply.body,
        json!({"fromObjectTypeId": "0-1", "fromObjectId": num(&contact), "toObjectTypeId": "0-2",
               "toObjectId": num(&company), "labels": ["Primary"]})
    );
    let read = h.post(
        "/crm/v4/associations/contacts/companies/batch/read",
        json!({"inputs": [{"id": contact}]}),
    );
    assert_eq!(read.status, 200, "{}", read.raw);
    assert_eq!(
        read.body["results"][0]["to"],
        json!([{"toObjectId": num(&company), "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
            {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": null}]}])
    );
    let back = h.post(
        "/crm/associations/2026-03/companies/contacts/batch/read",
        json!({"inputs": [{"id": company}]}),
    );
    assert_eq!(
        back.body["results"][0]["to"],
        json!([{"toObjectId": contact, "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": 2, "label": "Primary"},
            {"category": "HUBSPOT_DEFINED", "typeId": 280, "label": null}]}])
    );
}

#[test]
fn deal_company_types_are_5_and_341_and_back_6_and_342() {
    let h = Harness::new();
    let deal = h.deal("D");
    let company = h.company(json!({"name": "Acme"}));
    let reply = h.post(
        "/crm/v4/associations/deals/companies/batch/create",
        json!({"inputs": [{"from": {"id": deal}, "to": {"id": company}, "types": [spec(5)]}]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert_eq!(reply.body["results"][0]["labels"], json!(["Primary"]));
    assert_eq!(
        h.emu
            .association_type_ids(ObjectType::Deals, &deal, ObjectType::Companies, &company),
        [5, 341]
    );
    assert_eq!(
        h.emu
            .association_type_ids(ObjectType::Companies, &company, ObjectType::Deals, &deal),
        [6, 342]
    );
}

#[test]
fn default_association_of_each_pair_is_the_unlabelled_type() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    let deal = h.deal("D");
    for (from, from_id, to, to_id, forward, backward) in [
        ("contacts", &contact, "companies", &company, 279, 280),
        ("deals", &deal, "companies", &company, 341, 342),
        ("deals", &deal, "contacts", &contact, 3, 4),
    ] {
        let reply = h.call(
            "PUT",
            &format!("/crm/v4/objects/{from}/{from_id}/associations/default/{to}/{to_id}"),
            None,
        );
        assert_eq!(reply.status, 200, "{}", reply.raw);
        let ids: Vec<&Value> = reply.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["associationSpec"]["associationTypeId"])
            .collect();
        assert_eq!(ids, [&json!(forward), &json!(backward)], "{from}→{to}");
    }
    assert_eq!(associatedcompanyid(&h, &contact), Value::Null);
}

#[test]
fn batch_associate_default_contact_company_creates_no_primary() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    let reply = h.post(
        "/crm/associations/2026-03/contacts/companies/batch/associate/default",
        json!({"inputs": [{"from": {"id": contact}, "to": {"id": company}}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(
        reply.body["results"][0]["associationSpec"],
        json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279})
    );
    assert_eq!(
        h.emu.association_type_ids(
            ObjectType::Contacts,
            &contact,
            ObjectType::Companies,
            &company
        ),
        [279]
    );
}

#[test]
fn a_new_primary_company_demotes_the_previous_one_to_unlabelled() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let first = h.company(json!({"name": "First"}));
    let second = h.company(json!({"name": "Second"}));
    link_contact(&h, &contact, &first, &[PRIMARY]);
    link_contact(&h, &contact, &second, &[PRIMARY]);
    let ids = |company: &str| {
        h.emu.association_type_ids(
            ObjectType::Contacts,
            &contact,
            ObjectType::Companies,
            company,
        )
    };
    assert_eq!(ids(&first), [UNLABELLED]);
    assert_eq!(ids(&second), [PRIMARY, UNLABELLED]);
    assert_eq!(associatedcompanyid(&h, &contact), json!(second));
}

#[test]
fn a_deal_has_at_most_one_primary_company_too() {
    let h = Harness::new();
    let deal = h.deal("D");
    let first = h.company(json!({"name": "First"}));
    let second = h.company(json!({"name": "Second"}));
    for company in [&first, &second] {
        h.emu
            .associate_with(ObjectType::Deals, &deal, ObjectType::Companies, company, 5)
            .unwrap();
    }
    assert_eq!(
        h.emu
            .association_type_ids(ObjectType::Deals, &deal, ObjectType::Companies, &first),
        [341]
    );
    assert_eq!(
        h.emu
            .association_type_ids(ObjectType::Deals, &deal, ObjectType::Companies, &second),
        [5, 341]
    );
}

#[test]
fn primary_company_change_moves_associatedcompanyid_and_lastmodifieddate() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let first = h.company(json!({"name": "First"}));
    let second = h.company(json!({"name": "Second"}));
    h.advance(10_000);
    link_contact(&h, &contact, &first, &[UNLABELLED]);
    let unchanged = h.get(&format!("/crm/v3/objects/contacts/{contact}"));
    assert_eq!(
        unchanged.body["updatedAt"], "2024-05-01T12:00:00.000Z",
        "an unlabelled association changes no property"
    );
    h.advance(10_000);
    link_contact(&h, &contact, &second, &[PRIMARY]);
    let moved = h.get(&format!(
        "/crm/v3/objects/contacts/{contact}?properties=associatedcompanyid"
    ));
    assert_eq!(
        moved.body["properties"]["associatedcompanyid"],
        json!(second)
    );
    assert_eq!(moved.body["updatedAt"], "2024-05-01T12:00:20.000Z");
    let found = h.post(
        "/crm/v3/objects/contacts/search",
        json!({"filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": (common::START_MS + 15_000).to_string()}]}]}),
    );
    assert_eq!(
        found.body["total"], 1,
        "an incremental reader sees the move"
    );
}

#[test]
fn associatedcompanyid_is_read_only() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let reply = h.patch(
        &format!("/crm/v3/objects/contacts/{contact}"),
        json!({"properties": {"associatedcompanyid": "123"}}),
    );
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert_eq!(common::error_codes(&reply), ["READ_ONLY_VALUE"]);
}

#[test]
fn labels_archive_of_primary_keeps_the_pair_unlabelled_and_clears_associatedcompanyid() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    link_contact(&h, &contact, &company, &[PRIMARY]);
    let reply = h.post(
        "/crm/v4/associations/contacts/companies/batch/labels/archive",
        json!({"inputs": [{"from": {"id": contact}, "to": {"id": company}, "types": [spec(PRIMARY)]}]}),
    );
    assert_eq!(reply.status, 204, "{}", reply.raw);
    assert_eq!(
        h.emu.association_type_ids(
            ObjectType::Contacts,
            &contact,
            ObjectType::Companies,
            &company
        ),
        [UNLABELLED]
    );
    assert_eq!(associatedcompanyid(&h, &contact), Value::Null);
}

#[test]
fn labels_archive_of_the_unlabelled_type_removes_the_association() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    link_contact(&h, &contact, &company, &[PRIMARY]);
    let reply = h.post(
        "/crm/associations/2026-03/companies/contacts/batch/labels/archive",
        json!({"inputs": [{"from": {"id": company}, "to": {"id": contact}, "types": [spec(280)]}]}),
    );
    assert_eq!(reply.status, 204, "{}", reply.raw);
    assert!(
        h.emu
            .associations_to(ObjectType::Contacts, &contact, ObjectType::Companies)
            .is_empty()
    );
}

#[test]
fn batch_archive_removes_every_type_between_the_pairs() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let a = h.company(json!({"name": "A"}));
    let b = h.company(json!({"name": "B"}));
    link_contact(&h, &contact, &a, &[PRIMARY]);
    link_contact(&h, &contact, &b, &[UNLABELLED]);
    let reply = h.post(
        "/crm/v4/associations/contacts/companies/batch/archive",
        json!({"inputs": [{"from": {"id": contact}, "to": [{"id": a}]}]}),
    );
    assert_eq!(reply.status, 204, "{}", reply.raw);
    assert_eq!(
        h.emu
            .associations_to(ObjectType::Contacts, &contact, ObjectType::Companies),
        std::slice::from_ref(&b)
    );
    assert_eq!(associatedcompanyid(&h, &contact), Value::Null);
    let dated = h.post(
        "/crm/associations/2026-03/contacts/companies/batch/archive",
        json!({"inputs": [{"from": {"id": contact}, "to": [{"id": b}]}]}),
    );
    assert_eq!(dated.status, 204);
    assert!(
        h.emu
            .associations_to(ObjectType::Contacts, &contact, ObjectType::Companies)
            .is_empty()
    );
}

#[test]
fn a_type_of_another_pair_is_rejected() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    let reply = link_contact(&h, &contact, &company, &[341]);
    assert_error(&reply, 400, "VALIDATION_ERROR");
    assert!(
        h.emu
            .associations_to(ObjectType::Contacts, &contact, ObjectType::Companies)
            .is_empty()
    );
    let custom = h.call(
        "PUT",
        &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"),
        Some(&json!([{"associationCategory": "USER_DEFINED", "associationTypeId": 1}])),
    );
    assert_error(&custom, 400, "VALIDATION_ERROR");
}

#[test]
fn inline_associations_on_create_take_their_target_type_from_the_type_id() {
    let h = Harness::new();
    let company = h.company(json!({"name": "Acme"}));
    let deal = h.deal("D");
    let reply = h.post(
        "/crm/objects/2026-03/contacts",
        json!({"properties": {"email": "a@example.com"},
               "associations": [{"to": {"id": company}, "types": [spec(PRIMARY)]},
                                {"to": {"id": deal}, "types": [spec(4)]}]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    let contact = reply.body["id"].as_str().unwrap();
    assert_eq!(
        h.emu.association_type_ids(
            ObjectType::Contacts,
            contact,
            ObjectType::Companies,
            &company
        ),
        [PRIMARY, UNLABELLED]
    );
    assert_eq!(h.emu.associations(ObjectType::Contacts, contact), [deal]);
    assert_eq!(associatedcompanyid(&h, contact), json!(company));
}

#[test]
fn inline_association_without_types_associates_nothing() {
    let h = Harness::new();
    let company = h.company(json!({"name": "Acme"}));
    let reply = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "a@example.com"}, "associations": [{"to": {"id": company}, "types": []}]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert!(
        h.emu
            .associations(ObjectType::Companies, &company)
            .is_empty()
    );
}

#[test]
fn archiving_a_company_removes_it_from_its_contacts_reads() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    link_contact(&h, &contact, &company, &[PRIMARY]);
    h.advance(5_000);
    assert_eq!(
        h.delete(&format!("/crm/v3/objects/companies/{company}"))
            .status,
        204
    );
    let read = h.post(
        "/crm/v4/associations/contacts/companies/batch/read",
        json!({"inputs": [{"id": contact}]}),
    );
    assert_eq!(read.status, 207, "{}", read.raw);
    assert_eq!(
        read.body["errors"][0]["subCategory"],
        "crm.associations.NO_ASSOCIATIONS_FOUND"
    );
    let got = h.get(&format!(
        "/crm/v3/objects/contacts/{contact}?properties=associatedcompanyid&associations=companies"
    ));
    assert_eq!(got.body["properties"]["associatedcompanyid"], Value::Null);
    assert_eq!(got.body["updatedAt"], "2024-05-01T12:00:05.000Z");
    assert!(got.body.get("associations").is_none());
}

#[test]
fn batch_read_for_an_archived_or_unknown_id_is_an_error_entry() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    link_contact(&h, &contact, &company, &[UNLABELLED]);
    h.delete(&format!("/crm/v3/objects/contacts/{contact}"));
    let read = h.post(
        "/crm/v4/associations/contacts/companies/batch/read",
        json!({"inputs": [{"id": contact}, {"id": "987654"}]}),
    );
    assert_eq!(read.status, 207, "{}", read.raw);
    assert_eq!(read.body["numErrors"], 2);
    assert_eq!(read.body["results"], json!([]));
    assert_eq!(
        read.body["errors"][0],
        json!({"status": "error", "category": "OBJECT_NOT_FOUND",
               "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
               "message": format!("No company is associated with contact {contact}."),
               "context": {"fromObjectId": [contact]}})
    );
}

#[test]
fn v3_reads_name_primary_and_unlabelled_company_associations() {
    let h = Harness::new();
    let contact = h.contact(json!({"email": "a@example.com"}));
    let company = h.company(json!({"name": "Acme"}));
    link_contact(&h, &contact, &company, &[PRIMARY]);
    let got = h.get(&format!(
        "/crm/v3/objects/contacts/{contact}?associations=companies"
    ));
    assert_eq!(
        got.body["associations"],
        json!({"companies": {"results": [
            {"id": company, "type": "contact_to_company"},
            {"id": company, "type": "contact_to_company_unlabeled"}]}})
    );
}

#[test]
fn single_record_listing_and_delete_work_for_companies() {
    let h = Harness::new();
    let company = h.company(json!({"name": "Acme"}));
    let contact = h.contact(json!({"email": "a@example.com"}));
    link_contact(&h, &contact, &company, &[PRIMARY]);
    let listed = h.get(&format!(
        "/crm/objects/2026-03/companies/{company}/associations/contacts"
    ));
    assert_eq!(
        listed.body["results"],
        json!([{"toObjectId": contact, "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": 2, "label": "Primary"},
            {"category": "HUBSPOT_DEFINED", "typeId": 280, "label": null}]}])
    );
    let removed = h.delete(&format!(
        "/crm/v4/objects/companies/{company}/associations/contacts/{contact}"
    ));
    assert_eq!(removed.status, 204);
    assert_eq!(associatedcompanyid(&h, &contact), Value::Null);
}

#[test]
fn associations_need_the_scopes_of_both_types() {
    let h = Harness::with(|c| {
        c.tokens.push(hubspot_emulator::TokenConfig::with_scopes(
            "contacts-only",
            &["crm.objects.contacts.read", "crm.objects.contacts.write"],
        ));
    });
    let reply = h.call_as(
        "POST",
        "/crm/v4/associations/contacts/companies/batch/read",
        Some(&json!({"inputs": []})),
        Some("contacts-only"),
    );
    assert_error(&reply, 403, "MISSING_SCOPES");
}
