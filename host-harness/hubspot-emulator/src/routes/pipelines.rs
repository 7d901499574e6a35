//! `GET /crm/v3/pipelines/{object}` and `/{pipelineId}`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::object_type;
use crate::app::App;
use crate::error::ApiError;
use crate::object_type::ObjectType;
use crate::query::Params;

/// Pipelines carry no creation time of their own here; one fixed instant keeps responses stable.
const PIPELINES_CREATED_MS: i64 = 1_577_836_800_000;

pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let archived = Params::parse(query.as_deref()).flag("archived");
    let store = app.store();
    let results: Vec<_> = if object == ObjectType::Deals {
        store
            .pipelines
            .iter()
            .filter(|p| archived || !p.archived)
            .map(|p| p.to_json(PIPELINES_CREATED_MS, archived))
            .collect()
    } else {
        Vec::new()
    };
    Ok(axum::Json(json!({ "results": results })).into_response())
}

pub(crate) async fn get(
    State(app): State<Arc<App>>,
    Path((object, pipeline_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let store = app.store();
    store
        .pipelines
        .iter()
        .find(|p| object == ObjectType::Deals && p.id == pipeline_id)
        .map(|p| axum::Json(p.to_json(PIPELINES_CREATED_MS, false)).into_response())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                format!("Unable to find pipeline {pipeline_id}"),
            )
        })
}
