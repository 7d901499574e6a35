//! `GET /crm/v3/schemas` (and `/crm-object-schemas/{v3|2026-03}/schemas`): the portal's custom
//! object schemas. The emulator models no custom objects, so a portal answers as one without
//! any does; generic clients call this first to discover object types.

use axum::response::{IntoResponse, Response};
use serde_json::json;

pub(crate) async fn list() -> Response {
    axum::Json(json!({ "results": [] })).into_response()
}
