//! Owners: e-mails, paging, deactivated owners under `archived=true`, lookup by id or user id,
//! the 2026-03 paths, and owners added by a test.

mod common;

use common::{Harness, assert_error};
use serde_json::json;

#[test]
fn every_owner_has_an_email_and_a_type() {
    let h = Harness::new();
    let reply = h.get("/crm/v3/owners");
    for owner in reply.body["results"].as_array().unwrap() {
        assert!(owner["email"].as_str().unwrap().contains('@'), "{owner}");
        assert_eq!(owner["type"], "PERSON");
        assert_eq!(owner["userIdIncludingInactive"], owner["userId"]);
    }
}

#[test]
fn added_owners_are_listed_and_assignable() {
    let h = Harness::new();
    let owner = h.emu.add_owner("zoe@example.com", "Zoë", "Ångström");
    let listed = h.get("/crm/v3/owners?email=ZOE@example.com");
    assert_eq!(listed.body["results"][0]["id"], owner.id.as_str());
    assert_eq!(listed.body["results"][0]["firstName"], "Zoë");
    let company = h.company(json!({"name": "Acme", "hubspot_owner_id": owner.id}));
    assert!(!company.is_empty());
}

#[test]
fn deactivated_owners_are_listed_only_with_archived_true() {
    let h = Harness::new();
    let owner = h.emu.add_owner("gone@example.com", "Gone", "User");
    assert!(h.emu.deactivate_owner(&owner.id));
    let active = h.get("/crm/v3/owners?limit=100");
    assert!(
        active.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["id"] != owner.id.as_str())
    );
    let archived = h.get("/crm/v3/owners?archived=true");
    assert_eq!(archived.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(archived.body["results"][0]["id"], owner.id.as_str());
    assert_eq!(archived.body["results"][0]["archived"], true);
    let refused = h.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"hubspot_owner_id": owner.id}}),
    );
    assert_error(&refused, 400, "VALIDATION_ERROR");
}

#[test]
fn owner_by_id_and_by_user_id() {
    let h = Harness::new();
    let owner = h.emu.owners()[1].clone();
    let by_id = h.get(&format!("/crm/v3/owners/{}", owner.id));
    assert_eq!(by_id.status, 200, "{}", by_id.raw);
    assert_eq!(by_id.body["email"], owner.email.as_str());
    let by_user = h.get(&format!(
        "/crm/v3/owners/{}?idProperty=userId",
        owner.user_id
    ));
    assert_eq!(by_user.body["id"], owner.id.as_str());
    assert_error(
        &h.get(&format!("/crm/v3/owners/{}", owner.user_id)),
        404,
        "OBJECT_NOT_FOUND",
    );
    assert_error(
        &h.get(&format!("/crm/v3/owners/{}?idProperty=email", owner.id)),
        400,
        "VALIDATION_ERROR",
    );
}

#[test]
fn a_deactivated_owner_is_read_only_with_archived_true() {
    let h = Harness::new();
    let owner = h.emu.add_owner("gone@example.com", "Gone", "User");
    h.emu.deactivate_owner(&owner.id);
    assert_error(
        &h.get(&format!("/crm/v3/owners/{}", owner.id)),
        404,
        "OBJECT_NOT_FOUND",
    );
    let archived = h.get(&format!("/crm/v3/owners/{}?archived=true", owner.id));
    assert_eq!(archived.body["id"], owner.id.as_str());
}

#[test]
fn owners_are_served_under_the_2026_03_path() {
    let h = Harness::new();
    let page = h.get("/crm/owners/2026-03?limit=2");
    assert_eq!(page.status, 200, "{}", page.raw);
    assert_eq!(page.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["paging"]["next"]["after"], "2");
    let id = page.body["results"][0]["id"].as_str().unwrap();
    assert_eq!(h.get(&format!("/crm/owners/2026-03/{id}")).body["id"], id);
}

#[test]
fn owners_need_the_owners_scope() {
    let h = Harness::with(|c| {
        c.tokens.push(hubspot_emulator::TokenConfig::with_scopes(
            "contacts",
            &["crm.objects.contacts.read"],
        ));
    });
    let reply = h.call_as("GET", "/crm/owners/2026-03", None, Some("contacts"));
    assert_error(&reply, 403, "MISSING_SCOPES");
}
