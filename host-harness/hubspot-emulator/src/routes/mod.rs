//! HTTP handlers of the CRM API, one module per resource, plus shared parsing and rendering.

pub(crate) mod associations;
pub(crate) mod batch;
pub(crate) mod objects;
pub(crate) mod owners;
pub(crate) mod pipelines;
pub(crate) mod properties;
mod render;
pub(crate) mod schemas;
pub(crate) mod search;

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::object_type::ObjectType;
use crate::store::Input;

pub(crate) use render::{Selection, record_json};

/// The object type named by a path segment, or HubSpot's 400 for types the emulator does not serve.
pub(crate) fn object_type(segment: &str) -> Result<ObjectType, ApiError> {
    ObjectType::parse(segment)
        .ok_or_else(|| ApiError::validation(format!("Unable to infer object type from: {segment}")))
}

/// Parses a JSON body, answering malformed input like HubSpot.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_json(&e))
}

/// Property values of a write: strings, numbers and booleans become strings; `""`/`null` clear.
pub(crate) fn input_of(properties: Option<&Map<String, Value>>) -> Input {
    properties
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let value = match value {
                Value::Null => None,
                Value::String(s) if s.is_empty() => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            (name.clone(), value)
        })
        .collect()
}

/// The most inputs a v3 batch accepts.
pub(crate) const BATCH_LIMIT: usize = 100;

/// 400 when a batch is over `limit` inputs.
pub(crate) fn check_batch_size(len: usize, limit: usize) -> Result<(), ApiError> {
    if len > limit {
        return Err(ApiError::validation(format!(
            "Batch input size {len} exceeds the limit of {limit} inputs per request"
        )));
    }
    Ok(())
}
