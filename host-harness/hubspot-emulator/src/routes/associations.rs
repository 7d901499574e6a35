//! Associations v4 (and their 2026-03 twins) between contacts, companies and deals: default and
//! labelled association of one pair, listing, removal, and the batch create, default, read,
//! archive and label-archive endpoints, all with HubSpot's type ids.

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
use crate::association::{Kind, kind_of, kinds, labels, pairable, spec_json, type_json};
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

/// `{"from": {"id"}, "to": [{"id"}, …]}` of a batch archive.
#[derive(Deserialize)]
struct ArchiveInput {
    from: IdRef,
    #[serde(default)]
    to: Vec<IdRef>,
}

/// `{"associationCategory", "associationTypeId"}` as writes name a type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TypeSpec {
    pub association_category: String,
    pub association_type_id: u32,
}

impl TypeSpec {
    /// The kind this spec names from `from` to `to`, or HubSpot's 400.
    fn kind(&self, from: ObjectType, to: ObjectType) -> Result<Kind, ApiError> {
        kind_of(
            from,
            to,
            &self.association_category,
            self.association_type_id,
        )
        .ok_or_else(|| {
            ApiError::validation(format!(
                "Association type {} {} is not valid from {} to {}",
                self.association_category,
                self.association_type_id,
                from.name(),
                to.name()
            ))
        })
    }

    /// 400 for a type id that names no association from `from`.
    pub(crate) fn invalid_from(&self, from: ObjectType) -> ApiError {
        ApiError::validation(format!(
            "Association type {} {} is not valid from {}",
            self.association_category,
            self.association_type_id,
            from.name()
        ))
    }
}

/// The two types of an association path; any two different types of the three associate.
fn pair_types(from: &str, to: &str) -> Result<(ObjectType, ObjectType), ApiError> {
    let (from, to) = (object_type(from)?, object_type(to)?);
    if !pairable(from, to) {
        return Err(ApiError::validation(format!(
            "{} cannot be associated with {}",
            from.name(),
            to.name()
        )));
    }
    Ok((from, to))
}

fn live(store: &Store, object: ObjectType, raw: &str) -> Option<u64> {
    raw.parse().ok().filter(|id| store.is_live(object, *id))
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

/// How a family of paths spells record ids in association replies: v4 sends numbers, date
/// versions strings.
fn legacy_ids(route: &MatchedPath) -> bool {
    route.as_str().starts_with("/crm/v4/")
}

fn id_json(id: u64, legacy: bool) -> Value {
    if legacy {
        json!(id)
    } else {
        json!(id.to_string())
    }
}

/// `{"fromObjectTypeId", "fromObjectId", "toObjectTypeId", "toObjectId", "labels"}` of a pair
/// after a labelled create.
fn labels_json(store: &Store, a: (ObjectType, u64), b: (ObjectType, u64), legacy: bool) -> Value {
    let primary = store.objects(a.0).records[&a.1]
        .link_to(b.0, b.1)
        .is_some_and(|l| l.primary);
    json!({"fromObjectTypeId": a.0.type_id(), "fromObjectId": id_json(a.1, legacy),
           "toObjectTypeId": b.0.type_id(), "toObjectId": id_json(b.1, legacy),
           "labels": labels(primary)})
}

/// The associations of one record to records of type `to`, each with its types.
fn targets_json(
    store: &Store,
    from: ObjectType,
    id: u64,
    to: ObjectType,
    legacy: bool,
) -> Vec<Value> {
    store.objects(from).records[&id]
        .links_of(to)
        .map(|link| {
            let types: Vec<Value> = kinds(link.primary)
                .iter()
                .map(|kind| type_json(from, to, *kind))
                .collect();
            json!({"toObjectId": id_json(link.id, legacy), "associationTypes": types})
        })
        .collect()
}

pub(crate) async fn associate_default(
    State(app): State<Arc<App>>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let now = app.now();
    let mut store = app.store();
    let a = live(&store, from, &from_id).ok_or_else(|| ApiError::not_found(&from_id))?;
    let b = live(&store, to, &to_id).ok_or_else(|| ApiError::not_found(&to_id))?;
    store.link((from, a), (to, b), Kind::Unlabelled, Some(now));
    let results = vec![
        json!({"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec_json(from, to, Kind::Unlabelled)}),
        json!({"from": {"id": to_id}, "to": {"id": from_id}, "associationSpec": spec_json(to, from, Kind::Unlabelled)}),
    ];
    Ok(complete(StatusCode::OK, results, Vec::new(), now))
}

/// `PUT …/{from}/{id}/associations/{to}/{toId}` with a list of types: adds them to the pair.
pub(crate) async fn create_labelled(
    State(app): State<Arc<App>>,
    route: MatchedPath,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let specs: Vec<TypeSpec> = parse_json(&body)?;
    let kinds = specs
        .iter()
        .map(|spec| spec.kind(from, to))
        .collect::<Result<Vec<_>, _>>()?;
    let now = app.now();
    let mut store = app.store();
    let a = live(&store, from, &from_id).ok_or_else(|| ApiError::not_found(&from_id))?;
    let b = live(&store, to, &to_id).ok_or_else(|| ApiError::not_found(&to_id))?;
    for kind in kinds {
        store.link((from, a), (to, b), kind, Some(now));
    }
    let body = labels_json(&store, (from, a), (to, b), legacy_ids(&route));
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

pub(crate) async fn list(
    State(app): State<Arc<App>>,
    route: MatchedPath,
    Path((from, from_id, to)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let params = Params::parse(query.as_deref());
    let limit = limit_param(&params, 500, 500)?;
    let after: usize = params
        .get("after")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let store = app.store();
    let id = live(&store, from, &from_id).ok_or_else(|| ApiError::not_found(&from_id))?;
    let all = targets_json(&store, from, id, to, legacy_ids(&route));
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(after).take(limit).collect();
    let mut body = json!({ "results": page });
    if after + limit < total {
        body["paging"] = json!({"next": {"after": (after + limit).to_string()}});
    }
    Ok(axum::Json(body).into_response())
}

/// `DELETE …/{from}/{id}/associations/{to}/{toId}`: every type between the pair.
pub(crate) async fn remove(
    State(app): State<Arc<App>>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let (Ok(a), Ok(b)) = (from_id.parse(), to_id.parse()) else {
        return Err(ApiError::not_found(&from_id));
    };
    let now = app.now();
    app.store().unlink((from, a), (to, b), Some(now));
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn batch_create(
    State(app): State<Arc<App>>,
    route: MatchedPath,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let batch: Batch<Pair> = parse_json(&body)?;
    check_batch_size(batch.inputs.len(), V4_BATCH_LIMIT)?;
    let kinds = batch
        .inputs
        .iter()
        .map(|pair| {
            pair.types
                .iter()
                .map(|spec| spec.kind(from, to))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let legacy = legacy_ids(&route);
    let now = app.now();
    let mut store = app.store();
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for (pair, kinds) in batch.inputs.iter().zip(kinds) {
        let (raw_a, raw_b) = (pair.from.text(), pair.to.text());
        match (live(&store, from, &raw_a), live(&store, to, &raw_b)) {
            (Some(a), Some(b)) => {
                for kind in kinds {
                    store.link((from, a), (to, b), kind, Some(now));
                }
                results.push(labels_json(&store, (from, a), (to, b), legacy));
            }
            (None, _) => errors.push(missing_error(from, &raw_a)),
            (_, None) => errors.push(missing_error(to, &raw_b)),
        }
    }
    Ok(complete(StatusCode::CREATED, results, errors, now))
}

pub(crate) async fn batch_default(
    State(app): State<Arc<App>>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let batch: Batch<Pair> = parse_json(&body)?;
    check_batch_size(batch.inputs.len(), V4_BATCH_LIMIT)?;
    let now = app.now();
    let mut store = app.store();
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for pair in &batch.inputs {
        let (raw_a, raw_b) = (pair.from.text(), pair.to.text());
        match (live(&store, from, &raw_a), live(&store, to, &raw_b)) {
            (Some(a), Some(b)) => {
                store.link((from, a), (to, b), Kind::Unlabelled, Some(now));
                results.push(
                    json!({"from": {"id": a.to_string()}, "to": {"id": b.to_string()},
                                    "associationSpec": spec_json(from, to, Kind::Unlabelled)}),
                );
            }
            (None, _) => errors.push(missing_error(from, &raw_a)),
            (_, None) => errors.push(missing_error(to, &raw_b)),
        }
    }
    Ok(complete(StatusCode::OK, results, errors, now))
}

/// Reads the associations of each input. An input without any, or whose record is unknown,
/// archived or merged away, gets HubSpot's `NO_ASSOCIATIONS_FOUND` error entry.
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
        let targets = live(&store, from, &raw)
            .map(|id| targets_json(&store, from, id, to, legacy_ids(&route)))
            .unwrap_or_default();
        if targets.is_empty() {
            errors.push(json!({
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": format!("No {} is associated with {} {raw}.", to.singular(), from.singular()),
                "context": {"fromObjectId": [raw]},
            }));
        } else {
            results.push(json!({"from": {"id": raw}, "to": targets}));
        }
    }
    Ok(complete(StatusCode::OK, results, errors, app.now()))
}

/// `…/batch/archive`: removes every type between each pair (unknown pairs are ignored).
pub(crate) async fn batch_archive(
    State(app): State<Arc<App>>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let batch: Batch<ArchiveInput> = parse_json(&body)?;
    check_batch_size(batch.inputs.len(), V4_BATCH_LIMIT)?;
    let now = app.now();
    let mut store = app.store();
    for input in &batch.inputs {
        let Ok(a) = input.from.text().parse::<u64>() else {
            continue;
        };
        for target in &input.to {
            if let Ok(b) = target.text().parse::<u64>() {
                store.unlink((from, a), (to, b), Some(now));
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `…/batch/labels/archive`: removes the given types of each pair. Removing the primary label
/// keeps the pair associated; removing the unlabelled type removes the association entirely.
pub(crate) async fn batch_archive_labels(
    State(app): State<Arc<App>>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = pair_types(&from, &to)?;
    let batch: Batch<Pair> = parse_json(&body)?;
    check_batch_size(batch.inputs.len(), V4_BATCH_LIMIT)?;
    let kinds = batch
        .inputs
        .iter()
        .map(|pair| {
            pair.types
                .iter()
                .map(|spec| spec.kind(from, to))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = app.now();
    let mut store = app.store();
    for (pair, kinds) in batch.inputs.iter().zip(kinds) {
        let (Ok(a), Ok(b)) = (
            pair.from.text().parse::<u64>(),
            pair.to.text().parse::<u64>(),
        ) else {
            continue;
        };
        for kind in kinds {
            match kind {
                Kind::Primary => store.unlabel_primary((from, a), (to, b), Some(now)),
                Kind::Unlabelled => store.unlink((from, a), (to, b), Some(now)),
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
