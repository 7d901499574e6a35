//! `POST /crm/v3/objects/{object}/search`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Selection, object_type, parse_json, record_json};
use crate::app::App;
use crate::error::ApiError;
use crate::search::{SearchRequest, run};

pub(crate) async fn search(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let request: SearchRequest = if body.is_empty() {
        SearchRequest::default()
    } else {
        parse_json(&body)?
    };
    let indexed_before = app.now() - app.search_lag_ms;
    let store = app.store();
    let objects = store.objects(object);
    let page = run(objects, &request, indexed_before)?;
    let selection = Selection::from(Some(request.properties.clone()));
    let results: Vec<_> = page
        .ids
        .iter()
        .map(|id| record_json(objects, *id, &objects.records[id], &selection, &[]))
        .collect();
    let mut body = json!({"total": page.total, "results": results});
    if let Some(after) = page.next_after {
        body["paging"] = json!({"next": {"after": after}});
    }
    Ok(axum::Json(body).into_response())
}
