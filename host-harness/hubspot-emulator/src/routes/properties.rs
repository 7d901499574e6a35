//! `GET /crm/v3/properties/{object}[/{name}]` and `POST /crm/v3/properties/{object}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{object_type, parse_json};
use crate::app::App;
use crate::dates::iso_ms;
use crate::error::ApiError;
use crate::schema::{OptionSource, PropertyDef, PropertyOption, PropertyType};
use crate::store::Store;

/// The body of a property creation.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewProperty {
    name: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    field_type: Option<String>,
    group_name: Option<String>,
    #[serde(default)]
    options: Vec<NewOption>,
    #[serde(default)]
    has_unique_value: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewOption {
    label: String,
    value: String,
    display_order: Option<i32>,
    #[serde(default)]
    hidden: bool,
}

fn property_json(store: &Store, def: &PropertyDef) -> Value {
    let option = |label: String, value: String, i: usize| json!({"label": label, "value": value, "displayOrder": i, "hidden": false});
    let options: Vec<Value> = match def.option_source {
        OptionSource::Fixed => def
            .options
            .iter()
            .map(|o| serde_json::to_value(o).unwrap_or_default())
            .collect(),
        OptionSource::Pipelines => store
            .pipelines
            .iter()
            .filter(|p| !p.archived)
            .enumerate()
            .map(|(i, p)| option(p.label.clone(), p.id.clone(), i))
            .collect(),
        OptionSource::Stages => store
            .pipelines
            .iter()
            .filter(|p| !p.archived)
            .flat_map(|p| p.stages.iter().filter(|s| !s.archived))
            .enumerate()
            .map(|(i, s)| option(s.label.clone(), s.id.clone(), i))
            .collect(),
        OptionSource::Owners => store
            .owners
            .iter()
            .filter(|o| !o.archived)
            .enumerate()
            .map(|(i, o)| option(format!("{} {}", o.first_name, o.last_name), o.id.clone(), i))
            .collect(),
    };
    json!({
        "name": def.name, "label": def.label, "type": def.kind, "fieldType": def.field_type,
        "description": "", "groupName": def.group, "options": options, "displayOrder": -1,
        "calculated": false, "externalOptions": def.option_source != OptionSource::Fixed,
        "hasUniqueValue": def.unique, "hidden": false, "hubspotDefined": def.hubspot_defined,
        "modificationMetadata": {"archivable": !def.hubspot_defined, "readOnlyDefinition": def.hubspot_defined,
                                 "readOnlyValue": def.read_only},
        "formField": !def.read_only, "createdAt": iso_ms(def.created_ms), "updatedAt": iso_ms(def.created_ms),
        "archived": false,
    })
}

pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let store = app.store();
    let objects = store.objects(object);
    let results: Vec<Value> = objects
        .schema
        .all()
        .iter()
        .map(|d| property_json(&store, d))
        .collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

pub(crate) async fn get(
    State(app): State<Arc<App>>,
    Path((object, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let store = app.store();
    let objects = store.objects(object);
    let def = objects.schema.get(&name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            format!(
                "Unable to find property {name} for object type {}",
                object.type_id()
            ),
        )
    })?;
    Ok(axum::Json(property_json(&store, def)).into_response())
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub(crate) async fn create(
    State(app): State<Arc<App>>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    let new: NewProperty = parse_json(&body)?;
    if !valid_name(&new.name) {
        return Err(ApiError::validation(format!(
            "Property name {} is invalid: use lower-case letters, digits and underscores, starting with a letter",
            new.name
        )));
    }
    let kind = PropertyType::parse(&new.kind)
        .ok_or_else(|| ApiError::validation(format!("Unknown property type {}", new.kind)))?;
    let now = app.now();
    let mut store = app.store();
    let objects = store.objects_mut(object);
    if objects.schema.slot(&new.name).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "OBJECT_ALREADY_EXISTS",
            format!("Property named '{}' already exists.", new.name),
        ));
    }
    let default_field = match kind {
        PropertyType::Number => "number",
        PropertyType::Date | PropertyType::Datetime => "date",
        PropertyType::Enumeration => "select",
        PropertyType::Bool => "booleancheckbox",
        PropertyType::String => "text",
    };
    let def = PropertyDef {
        name: new.name.clone(),
        label: new.label,
        kind,
        field_type: new.field_type.unwrap_or_else(|| default_field.to_string()),
        group: new
            .group_name
            .unwrap_or_else(|| format!("{}information", object.singular())),
        options: new
            .options
            .into_iter()
            .enumerate()
            .map(|(i, o)| PropertyOption {
                label: o.label,
                value: o.value,
                display_order: o.display_order.unwrap_or(i as i32),
                hidden: o.hidden,
            })
            .collect(),
        option_source: OptionSource::Fixed,
        unique: new.has_unique_value,
        read_only: false,
        maintained: None,
        hubspot_defined: false,
        created_ms: now,
    };
    let slot = objects.schema.add(def);
    if new.has_unique_value {
        objects.unique.insert(slot, Default::default());
    }
    let objects = store.objects(object);
    let json = property_json(&store, objects.schema.def(slot));
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}
