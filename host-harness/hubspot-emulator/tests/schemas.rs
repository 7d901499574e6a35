//! `GET /crm/v3/schemas`: a portal without custom objects, and the scope it needs.

mod common;

use common::{Harness, assert_error};
use hubspot_emulator::TokenConfig;
use serde_json::json;

#[test]
fn a_portal_without_custom_objects_lists_no_schemas_on_every_path() {
    let h = Harness::new();
    for path in [
        "/crm/v3/schemas",
        "/crm-object-schemas/v3/schemas",
        "/crm-object-schemas/2026-03/schemas",
    ] {
        let reply = h.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.raw);
        assert_eq!(reply.body, json!({"results": []}), "{path}");
    }
}

#[test]
fn schemas_need_the_custom_schemas_read_scope() {
    let h = Harness::with(|c| {
        c.tokens.push(TokenConfig::with_scopes(
            "crm-only",
            &["crm.objects.contacts.read", "crm.objects.companies.read"],
        ));
        c.tokens.push(TokenConfig::with_scopes(
            "schemas",
            &["crm.schemas.custom.read"],
        ));
    });
    let refused = h.call_as("GET", "/crm/v3/schemas", None, Some("crm-only"));
    assert_error(&refused, 403, "MISSING_SCOPES");
    assert_eq!(
        refused.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.schemas.custom.read"])
    );
    let allowed = h.call_as("GET", "/crm/v3/schemas", None, Some("schemas"));
    assert_eq!(allowed.status, 200);
}
