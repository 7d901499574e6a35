//! Batch endpoints: read, create, update, upsert, archive, at most 100 inputs, 207 on partial failure.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::objects::{AssociationInput, association_targets};
use super::{
    BATCH_LIMIT, Selection, check_batch_size, input_of, object_type, parse_json, record_json,
};
use crate::app::App;
use crate::dates::iso_ms;
use crate::error::ApiError;
use crate::object_type::ObjectType;
use crate::query::Params;

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned", rename_all = "camelCase")]
struct BatchBody<T> {
    #[serde(default = "Vec::new")]
    inputs: Vec<T>,
    #[serde(default)]
    properties: Vec<String>,
    id_property: Option<String>,
    #[serde(default)]
    archived: bool,
}

#[derive(Deserialize)]
struct IdInput {
    id: Value,
}

#[derive(Deserialize)]
struct CreateInput {
    properties: Option<Map<String, Value>>,
    #[serde(default)]
    associations: Vec<AssociationInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyedInput {
    id: Value,
    id_property: Option<String>,
    properties: Option<Map<String, Value>>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_batch<T: DeserializeOwned>(body: &Bytes) -> Result<BatchBody<T>, ApiError> {
    let batch: BatchBody<T> = parse_json(body)?;
    check_batch_size(batch.inputs.len(), BATCH_LIMIT)?;
    Ok(batch)
}

/// `{"status":"COMPLETE",…}` or, with errors, a 207 with `numErrors` and `errors`.
fn envelope(ok: StatusCode, results: Vec<Value>, errors: Vec<Value>, now: i64) -> Response {
    let mut body = json!({"status": "COMPLETE", "results": results, "startedAt": iso_ms(now), "completedAt": iso_ms(now)});
    if errors.is_empty() {
        return (ok, axum::Json(body)).into_response();
    }
    body["numErrors"] = json!(errors.len());
    body["errors"] = Value::Array(errors);
    (StatusCode::MULTI_STATUS, axum::Json(body)).into_response()
}

fn not_found_error(object: ObjectType, ids: &[String]) -> Value {
    json!({
        "status": "error", "category": "OBJECT_NOT_FOUND",
        "message": format!("Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
            object.singular().to_uppercase()),
        "context": {"ids": ids}, "errors": [],
    })
}

pub(crate) async fn read(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let batch: BatchBody<IdInput> = parse_batch(&body)?;
    // HubSpot documents `archived` as a query parameter; the emulator also takes it from the
    // body, where some clients put it.
    let archived = batch.archived || Params::parse(query.as_deref()).flag("archived");
    let selection = Selection::from(Some(batch.properties));
    let store = app.store();
    let objects = store.objects(object);
    if let Some(name) = batch
        .id_property
        .as_deref()
        .filter(|n| *n != "hs_object_id" && !objects.is_id_property(n))
    {
        return Err(ApiError::validation(format!(
            "{name} is not a unique property and cannot be used as idProperty"
        )));
    }
    let (mut results, mut missing) = (Vec::new(), Vec::new());
    for input in &batch.inputs {
        let raw = text(&input.id);
        let found = objects
            .resolve(&raw, batch.id_property.as_deref())
            .filter(|id| {
                objects
                    .records
                    .get(id)
                    .is_some_and(|r| r.archived_ms.is_some() == archived)
            });
        match found {
            Some(id) => results.push(record_json(
                objects,
                id,
                &objects.records[&id],
                &selection,
                &[],
            )),
            None => missing.push(raw),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![not_found_error(object, &missing)]
    };
    Ok(envelope(StatusCode::OK, results, errors, app.now()))
}

pub(crate) async fn create(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let batch: BatchBody<CreateInput> = parse_batch(&body)?;
    let inputs: Vec<_> = batch
        .inputs
        .iter()
        .map(|i| input_of(i.properties.as_ref()))
        .collect();
    let now = app.now();
    let mut store = app.store();
    let targets = batch
        .inputs
        .iter()
        .map(|i| association_targets(&store, object, &i.associations))
        .collect::<Result<Vec<_>, _>>()?;
    let ids = store.create_batch(object, &inputs, now)?;
    for (id, to) in ids.iter().zip(targets) {
        for (target, kind) in to {
            store.link((object, *id), target, kind, Some(now));
        }
    }
    let objects = store.objects(object);
    let results = ids
        .iter()
        .zip(&inputs)
        .map(|(id, input)| {
            let selection = Selection::Named(input.keys().cloned().collect());
            record_json(objects, *id, &objects.records[id], &selection, &[])
        })
        .collect();
    Ok(envelope(StatusCode::CREATED, results, Vec::new(), now))
}

pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let batch: BatchBody<KeyedInput> = parse_batch(&body)?;
    let now = app.now();
    let mut store = app.store();
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    {
        let objects = store.objects(object);
        for input in &batch.inputs {
            let raw = text(&input.id);
            let id_property = input
                .id_property
                .as_deref()
                .or(batch.id_property.as_deref());
            let id = objects.resolve(&raw, id_property).filter(|id| {
                objects
                    .records
                    .get(id)
                    .is_some_and(|r| r.archived_ms.is_none())
            });
            match id {
                Some(id) => found.push((id, input_of(input.properties.as_ref()))),
                None => missing.push(raw),
            }
        }
    }
    let ids = store.update_batch(object, &found, now)?;
    let objects = store.objects(object);
    let results = ids
        .iter()
        .zip(&found)
        .map(|(id, (_, input))| {
            let selection = Selection::Named(input.keys().cloned().collect());
            record_json(objects, *id, &objects.records[id], &selection, &[])
        })
        .collect();
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![not_found_error(object, &missing)]
    };
    Ok(envelope(StatusCode::OK, results, errors, now))
}

pub(crate) async fn upsert(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let batch: BatchBody<KeyedInput> = parse_batch(&body)?;
    let inputs = batch
        .inputs
        .iter()
        .map(|input| {
            let id_property = input
                .id_property
                .clone()
                .or(batch.id_property.clone())
                .ok_or_else(|| {
                    ApiError::validation("idProperty is required for every upsert input")
                })?;
            Ok((
                id_property,
                text(&input.id),
                input_of(input.properties.as_ref()),
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let now = app.now();
    let mut store = app.store();
    let outcome = store.upsert_batch(object, &inputs, now)?;
    let objects = store.objects(object);
    let results = outcome
        .iter()
        .zip(&inputs)
        .map(|((id, new), (id_property, _, input))| {
            let mut names: Vec<String> = input.keys().cloned().collect();
            names.push(id_property.clone());
            let mut json = record_json(
                objects,
                *id,
                &objects.records[id],
                &Selection::Named(names),
                &[],
            );
            json["new"] = Value::Bool(*new);
            json
        })
        .collect();
    Ok(envelope(StatusCode::OK, results, Vec::new(), now))
}

pub(crate) async fn archive(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let batch: BatchBody<IdInput> = parse_batch(&body)?;
    let now = app.now();
    let mut store = app.store();
    for input in &batch.inputs {
        if let Some(id) = store.objects(object).resolve(&text(&input.id), None) {
            // Unknown or already archived ids are ignored, as HubSpot's batch archive does.
            let _ = store.archive(object, id, now);
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
