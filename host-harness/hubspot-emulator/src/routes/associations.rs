//! Associations v4 between contacts and deals: default association, listing, batch create,
//! batch default association and batch read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::objects::{IdRef, limit_param};
use super::{check_batch_size, object_type, parse_json};
use crate::app::App;
use crate::dates::iso_ms;
use crate::error::ApiError;
use crate::object_type::ObjectType;
use crate::query::Params;
use crate::store::Store;

/// v4 association batches accept up to 1,000 inputs.
const V4_BATCH_LIMIT: usize = 1_000;

#[derive(Deserialize)]
struct Batch<T> {
    #[serde(default = "Vec::new")]
    inputs: Vec<T>,
}

#[derive(Deserialize)]
struct Pair {
    from: IdRef,
    to: IdRef,
    #[serde(default)]
    types: Vec<TypeSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeSpec {
    association_category: String,
    association_type_id: u32,
}

/// The two types of an association path; contacts and deals associate only with each other.
fn pair_types(from: &str, to: &str) -> Result<(ObjectType, ObjectType), ApiError> {
    let (from, to) = (object_type(from)?, object_type(to)?);
    if from == to {
        return Err(ApiError::validation(format!(
            "{} cannot be associated with {}",
            from.name(),
            to.name()
        )));
    }
    Ok((from, to))
}

fn spec(from: ObjectType) -> Value {
    json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": from.association_type_id()})
}

fn live(store: &Store, object: ObjectType, raw: &str) -> Option<u64> {
    let id = raw.parse().ok()?;
    store
        .objects(object)
        .records
        .get(&id)
        .filter(|r| r.archived_ms.is_none())
        .map(|_| id)
}

fn complete(status: StatusCode, results: Vec<Value>, errors: Vec<Value>, now: i64) -> Response {
    let mut body = json!({"status": "COMPLETE", "results": results, "startedAt": iso_ms(now), "completedAt": iso_ms(now)});
    if errors.is_empty() {
        return (status, axum::Json(body)).into_response();
    }
    body["numErrors"] = json!(errors.len());
    body["errors"] = Value::Array(errors);
    (StatusCode::MULTI_STATUS, axum::Json(body)).into_response()
}

fn missing_error(object: ObjectType, id: &str) -> Value {
    json!({"status": "error", "category": "OBJECT_NOT_FOUND",
           "message": format!("No {} with id {id} exists", object.singular()), "context": {"id": [id]}})
}

pub(crate) async fn associate_default(
    State(app): State<Arc<App>>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let mut store = app.store();
    let a = live(&store, from, &from_id).ok_or_else(|| ApiError::not_found(&from_id))?;
    let b = live(&store, to, &to_id).ok_or_else(|| ApiError::not_found(&to_id))?;
    store.associate(from, a, b);
    let results = vec![
        json!({"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec(from)}),
        json!({"from": {"id": to_id}, "to": {"id": from_id}, "associationSpec": spec(to)}),
    ];
    Ok(complete(StatusCode::OK, results, Vec::new(), app.now()))
}

/// How a family of paths spells `toObjectId`: v4 sends a number, date versions a string.
fn legacy_ids(route: &MatchedPath) -> bool {
    route.as_str().starts_with("/crm/v4/")
}

fn targets_json(to_ids: &[u64], from: ObjectType, legacy: bool) -> Vec<Value> {
    to_ids
        .iter()
        .map(|id| {
            let to_object_id = if legacy {
                json!(id)
            } else {
                json!(id.to_string())
            };
            json!({"toObjectId": to_object_id, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": from.association_type_id(), "label": null}]})
        })
        .collect()
}

pub(crate) async fn list(
    State(app): State<Arc<App>>,
    route: MatchedPath,
    Path((from, from_id, to)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (from, _) = pair_types(&from, &to)?;
    let params = Params::parse(query.as_deref());
    let limit = limit_param(&params, 500, 500)?;
    let after: usize = params
        .get("after")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let store = app.store();
    let id = live(&store, from, &from_id).ok_or_else(|| ApiError::not_found(&from_id))?;
    let all = &store.objects(from).records[&id].assoc;
    let page: Vec<u64> = all.iter().skip(after).take(limit).copied().collect();
    let mut body = json!({"results": targets_json(&page, from, legacy_ids(&route))});
    if after + limit < all.len() {
        body["paging"] = json!({"next": {"after": (after + limit).to_string()}});
    }
    Ok(axum::Json(body).into_response())
}

pub(crate) async fn remove(
    State(app): State<Arc<App>>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let (from, _) = pair_types(&from, &to)?;
    let (Ok(a), Ok(b)) = (from_id.parse(), to_id.parse()) else {
        return Err(ApiError::not_found(&from_id));
    };
    app.store().dissociate(from, a, b);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn batch_create(
    State(app): State<Arc<App>>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let batch: Batch<Pair> = parse_json(&body)?;
    check_batch_size(batch.inputs.len(), V4_BATCH_LIMIT)?;
    let wrong = batch.inputs.iter().flat_map(|p| &p.types).find(|t| {
        t.association_category != "HUBSPOT_DEFINED"
            || t.association_type_id != from.association_type_id()
    });
    if let Some(t) = wrong {
        return Err(ApiError::validation(format!(
            "Association type {} {} is not valid from {} to {}",
            t.association_category,
            t.association_type_id,
            from.name(),
            to.name()
        )));
    }
    write_pairs(
        &app,
        from,
        to,
        &batch.inputs,
        StatusCode::CREATED,
        |a, b| {
            json!({"fromObjectTypeId": from.type_id(), "fromObjectId": a, "toObjectTypeId": to.type_id(),
               "toObjectId": b, "labels": []})
        },
    )
}

pub(crate) async fn batch_default(
    State(app): State<Arc<App>>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let batch: Batch<Pair> = parse_json(&body)?;
    check_batch_size(batch.inputs.len(), V4_BATCH_LIMIT)?;
    write_pairs(
        &app,
        from,
        to,
        &batch.inputs,
        StatusCode::OK,
        |a, b| json!({"from": {"id": a.to_string()}, "to": {"id": b.to_string()}, "associationSpec": spec(from)}),
    )
}

fn write_pairs(
    app: &App,
    from: ObjectType,
    to: ObjectType,
    inputs: &[Pair],
    ok: StatusCode,
    result: impl Fn(u64, u64) -> Value,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for pair in inputs {
        let (raw_a, raw_b) = (pair.from.text(), pair.to.text());
        match (live(&store, from, &raw_a), live(&store, to, &raw_b)) {
            (Some(a), Some(b)) => {
                store.associate(from, a, b);
                results.push(result(a, b));
            }
            (None, _) => errors.push(missing_error(from, &raw_a)),
            (_, None) => errors.push(missing_error(to, &raw_b)),
        }
    }
    Ok(complete(ok, results, errors, app.now()))
}

pub(crate) async fn batch_read(
    State(app): State<Arc<App>>,
    route: MatchedPath,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let batch: Batch<IdRef> = parse_json(&body)?;
    check_batch_size(batch.inputs.len(), V4_BATCH_LIMIT)?;
    let store = app.store();
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for input in &batch.inputs {
        let raw = input.text();
        match live(&store, from, &raw).map(|id| &store.objects(from).records[&id].assoc) {
            Some(assoc) if !assoc.is_empty() => {
                results.push(json!({"from": {"id": raw}, "to": targets_json(assoc, from, legacy_ids(&route))}));
            }
            _ => errors.push(json!({
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": format!("No {} is associated with {} {raw}.", to.singular(), from.singular()),
                "context": {"fromObjectId": [raw]},
            })),
        }
    }
    Ok(complete(StatusCode::OK, results, errors, app.now()))
}
