//! Single-record endpoints: list, get, create, update, archive, merge.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::associations::TypeSpec;
use super::{Selection, input_of, object_type, parse_json, record_json};
use crate::app::App;
use crate::association::{Kind, target_of};
use crate::error::ApiError;
use crate::object_type::ObjectType;
use crate::query::Params;
use crate::store::{ObjectStore, Store};

/// Largest page of a list.
const LIST_MAX: usize = 100;

/// `{"properties": {...}, "associations": [...]}` of a create or update.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct WriteBody {
    pub properties: Option<Map<String, Value>>,
    pub associations: Vec<AssociationInput>,
}

/// An association given inline with a create; its type ids name the target type. Without
/// types nothing is associated, as HubSpot does.
#[derive(Deserialize)]
pub(crate) struct AssociationInput {
    to: IdRef,
    #[serde(default)]
    types: Vec<TypeSpec>,
}

/// An inline association checked against the store: target and label.
pub(crate) type Target = ((ObjectType, u64), Kind);

/// `{"id": "…"}`.
#[derive(Deserialize)]
pub(crate) struct IdRef {
    pub id: Value,
}

impl IdRef {
    pub(crate) fn text(&self) -> String {
        match &self.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// The association types a request asked for with `associations=`.
pub(crate) fn association_types(params: &Params) -> Vec<ObjectType> {
    params
        .list("associations")
        .unwrap_or_default()
        .iter()
        .filter_map(|a| ObjectType::parse(a))
        .collect()
}

/// A numeric `limit` parameter within `1..=max`.
pub(crate) fn limit_param(params: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match params.get("limit") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "limit must be a number between 1 and {max}, got {raw}"
                ))
            }),
    }
}

/// Finds the record a path names, honouring `idProperty` and `archived`.
fn locate(store: &ObjectStore, raw: &str, params: &Params) -> Result<u64, ApiError> {
    let id_property = params.get("idProperty");
    if let Some(name) = id_property.filter(|n| *n != "hs_object_id" && !store.is_id_property(n)) {
        return Err(ApiError::validation(format!(
            "{name} is not a unique property and cannot be used as idProperty"
        )));
    }
    let archived = params.flag("archived");
    store
        .resolve(raw, id_property)
        .filter(|id| {
            store
                .records
                .get(id)
                .is_some_and(|r| r.archived_ms.is_some() == archived)
        })
        .ok_or_else(|| ApiError::not_found(raw))
}

pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let params = Params::parse(query.as_deref());
    let limit = limit_param(&params, 10, LIST_MAX)?;
    let after: u64 = match params.get("after") {
        None => 0,
        Some(raw) => raw
            .parse()
            .map_err(|_| ApiError::validation(format!("Invalid paging cursor after={raw}")))?,
    };
    let archived = params.flag("archived");
    let selection = Selection::from(params.list("properties"));
    let assoc = association_types(&params);
    let store = app.store();
    let objects = store.objects(object);
    let mut results = Vec::with_capacity(limit);
    let mut next = None;
    for (id, rec) in objects
        .records
        .range(after..)
        .filter(|(_, r)| r.archived_ms.is_some() == archived)
    {
        if results.len() == limit {
            next = Some(*id);
            break;
        }
        results.push(record_json(objects, *id, rec, &selection, &assoc));
    }
    let mut body = json!({ "results": results });
    if let Some(next) = next {
        body["paging"] = json!({"next": {"after": next.to_string(),
            "link": format!("/crm/v3/objects/{}?after={next}", object.name())}});
    }
    Ok(axum::Json(body).into_response())
}

pub(crate) async fn get(
    State(app): State<Arc<App>>,
    Path((object, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let params = Params::parse(query.as_deref());
    let store = app.store();
    let objects = store.objects(object);
    let id = locate(objects, &raw_id, &params)?;
    let rec = &objects.records[&id];
    let body = record_json(
        objects,
        id,
        rec,
        &Selection::from(params.list("properties")),
        &association_types(&params),
    );
    Ok(axum::Json(body).into_response())
}

/// Checks inline associations (known type ids, live targets) before anything is written.
pub(crate) fn association_targets(
    store: &Store,
    object: ObjectType,
    inputs: &[AssociationInput],
) -> Result<Vec<Target>, ApiError> {
    let mut targets = Vec::new();
    for input in inputs {
        let raw = input.to.text();
        for spec in &input.types {
            let Some((to, kind)) =
                target_of(object, &spec.association_category, spec.association_type_id)
            else {
                return Err(spec.invalid_from(object));
            };
            let id = raw
                .parse::<u64>()
                .ok()
                .filter(|id| store.is_live(to, *id))
                .ok_or_else(|| {
                    ApiError::validation(format!(
                        "Association target {} {raw} does not exist",
                        to.singular()
                    ))
                })?;
            targets.push(((to, id), kind));
        }
    }
    Ok(targets)
}

pub(crate) async fn create(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let body: WriteBody = parse_json(&body)?;
    let input = input_of(body.properties.as_ref());
    let now = app.now();
    let mut store = app.store();
    let targets = association_targets(&store, object, &body.associations)?;
    let id = store.create(object, &input, now)?;
    for (to, kind) in targets {
        store.link((object, id), to, kind, Some(now));
    }
    let objects = store.objects(object);
    let selection = Selection::Named(input.keys().cloned().collect());
    let json = record_json(objects, id, &objects.records[&id], &selection, &[]);
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}

pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Path((object, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let params = Params::parse(query.as_deref());
    let body: WriteBody = parse_json(&body)?;
    let input = input_of(body.properties.as_ref());
    let now = app.now();
    let mut store = app.store();
    let id = locate(store.objects(object), &raw_id, &params)?;
    store.update(object, id, &input, now)?;
    let objects = store.objects(object);
    let selection = Selection::Named(input.keys().cloned().collect());
    Ok(axum::Json(record_json(
        objects,
        id,
        &objects.records[&id],
        &selection,
        &[],
    ))
    .into_response())
}

pub(crate) async fn archive(
    State(app): State<Arc<App>>,
    Path((object, raw_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let now = app.now();
    let mut store = app.store();
    let id = store
        .objects(object)
        .resolve(&raw_id, None)
        .ok_or_else(|| ApiError::not_found(&raw_id))?;
    if store.is_live(object, id) {
        store.archive(object, id, now)?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `{"primaryObjectId", "objectIdToMerge"}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MergeInput {
    primary_object_id: Option<Value>,
    object_id_to_merge: Option<Value>,
}

/// `POST …/{object}/merge`: the merged record, under its new id.
pub(crate) async fn merge(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let input: MergeInput = parse_json(&body)?;
    let (Some(primary), Some(other)) = (input.primary_object_id, input.object_id_to_merge) else {
        return Err(ApiError::validation(
            "primaryObjectId and objectIdToMerge are required",
        ));
    };
    let id_of = |v: &Value| {
        let raw = IdRef { id: v.clone() }.text();
        raw.parse::<u64>().map_err(|_| ApiError::not_found(&raw))
    };
    let (primary, other) = (id_of(&primary)?, id_of(&other)?);
    let now = app.now();
    let mut store = app.store();
    let id = store.merge(object, primary, other, now)?;
    let objects = store.objects(object);
    let body = record_json(objects, id, &objects.records[&id], &Selection::Default, &[]);
    Ok(axum::Json(body).into_response())
}
