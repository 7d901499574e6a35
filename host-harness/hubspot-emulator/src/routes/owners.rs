//! `GET /crm/v3/owners` (paged; active or, with `archived=true`, deactivated owners) and
//! `/{ownerId}` (by `id` or, with `idProperty=userId`, by user id), and their 2026-03 twins.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::objects::limit_param;
use crate::app::App;
use crate::error::ApiError;
use crate::query::Params;

pub(crate) async fn list(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let limit = limit_param(&params, 100, 500)?;
    let after: usize = match params.get("after") {
        None => 0,
        Some(raw) => raw
            .parse()
            .map_err(|_| ApiError::validation(format!("Invalid paging cursor after={raw}")))?,
    };
    let archived = params.flag("archived");
    let email = params.get("email").map(str::to_lowercase);
    let store = app.store();
    let matching: Vec<_> = store
        .owners
        .iter()
        .filter(|o| {
            o.archived == archived && email.as_ref().is_none_or(|e| o.email.to_lowercase() == *e)
        })
        .collect();
    let page: Vec<_> = matching
        .iter()
        .skip(after)
        .take(limit)
        .map(|o| o.to_json())
        .collect();
    let mut body = json!({ "results": page });
    if after + limit < matching.len() {
        body["paging"] = json!({"next": {"after": (after + limit).to_string()}});
    }
    Ok(axum::Json(body).into_response())
}

pub(crate) async fn get(
    State(app): State<Arc<App>>,
    Path(owner_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let by_user = match params.get("idProperty") {
        None | Some("id") => false,
        Some("userId") => true,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "idProperty must be one of [id, userId], got {other}"
            )));
        }
    };
    let archived = params.flag("archived");
    let store = app.store();
    store
        .owners
        .iter()
        .find(|o| {
            let key = if by_user {
                o.user_id.to_string()
            } else {
                o.id.clone()
            };
            key == owner_id && o.archived == archived
        })
        .map(|o| axum::Json(o.to_json()).into_response())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                format!("Owner {owner_id} not found"),
            )
        })
}
