//! Records as HubSpot's JSON: string-or-null properties, ISO times, optional associations.

use serde_json::{Map, Value, json};

use crate::association::{kinds, legacy_name};
use crate::dates::iso_ms;
use crate::object_type::ObjectType;
use crate::schema::default_properties;
use crate::store::{ObjectStore, StoredRecord};

/// Which properties a response carries.
pub(crate) enum Selection {
    /// The object type's default set.
    Default,
    /// These names (HubSpot always adds `hs_object_id`, `createdate` and the modified time).
    Named(Vec<String>),
}

impl Selection {
    pub(crate) fn from(names: Option<Vec<String>>) -> Selection {
        match names {
            Some(names) if !names.is_empty() => Selection::Named(names),
            _ => Selection::Default,
        }
    }
}

/// One record; `associations` lists the types whose associations to include.
pub(crate) fn record_json(
    store: &ObjectStore,
    id: u64,
    rec: &StoredRecord,
    selection: &Selection,
    associations: &[ObjectType],
) -> Value {
    let object = store.object;
    let mut properties = Map::new();
    let mut put = |name: &str| {
        if store.schema.slot(name).is_some() && !properties.contains_key(name) {
            let value = store
                .value_by_name(id, rec, name)
                .map(|v| Value::String(v.into_owned()));
            properties.insert(name.to_string(), value.unwrap_or(Value::Null));
        }
    };
    match selection {
        Selection::Default => default_properties(object).iter().for_each(|p| put(p)),
        Selection::Named(names) => {
            names.iter().for_each(|p| put(p));
            ["createdate", "hs_object_id", object.modified_property()]
                .iter()
                .for_each(|p| put(p));
        }
    }
    let mut out = json!({
        "id": id.to_string(),
        "properties": properties,
        "createdAt": iso_ms(rec.created_ms),
        "updatedAt": iso_ms(rec.updated_ms),
        "archived": rec.archived_ms.is_some(),
    });
    if let Some(at) = rec.archived_ms {
        out["archivedAt"] = Value::String(iso_ms(at));
    }
    let mut linked = Map::new();
    for to in associations {
        let results: Vec<Value> = rec
            .links_of(*to)
            .flat_map(|link| {
                kinds(link.primary).iter().map(move |kind| {
                    json!({"id": link.id.to_string(), "type": legacy_name(object, *to, *kind)})
                })
            })
            .collect();
        if !results.is_empty() {
            linked.insert(to.name().to_string(), json!({ "results": results }));
        }
    }
    if !linked.is_empty() {
        out["associations"] = Value::Object(linked);
    }
    out
}
