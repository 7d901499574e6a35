//! HubSpot's replies as typed values. Each type accepts what every API version sends: ids as
//! strings (date versions, and v3 records) or numbers (v4 associations), property values as
//! strings, numbers, booleans or null.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// An id HubSpot sends as a string or as a number; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(pub String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        let id = match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Number(n) => n.to_string(),
        };
        if id.trim().is_empty() {
            return Err(serde::de::Error::custom("an empty id"));
        }
        Ok(Id(id))
    }
}

/// A property value as text (`None` for null); numbers and booleans keep their JSON spelling.
fn property_values<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(serde_json::Number),
        Flag(bool),
    }
    let raw: BTreeMap<String, Option<Raw>> = Option::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let text = v.map(|v| match v {
                Raw::Text(s) => s,
                Raw::Number(n) => n.to_string(),
                Raw::Flag(b) => b.to_string(),
            });
            (k, text)
        })
        .collect())
}

/// One CRM record (`results[]` of search and batch replies).
#[derive(Debug, Clone, Deserialize)]
pub struct RecordReply {
    /// The record's id.
    pub id: Id,
    /// Its properties.
    #[serde(default, deserialize_with = "property_values")]
    pub properties: BTreeMap<String, Option<String>>,
    /// Upserts only: whether the record was created.
    #[serde(default)]
    pub new: Option<bool>,
}

/// The cursor of the next page.
#[derive(Debug, Clone, Deserialize)]
pub struct Paging {
    /// The next page, absent on the last.
    pub next: Option<NextPage>,
}

/// Where the next page starts.
#[derive(Debug, Clone, Deserialize)]
pub struct NextPage {
    /// The opaque cursor.
    pub after: Id,
}

/// A search reply.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchReply {
    /// Total matches.
    #[serde(default)]
    pub total: u64,
    /// This page.
    pub results: Vec<RecordReply>,
    /// The next page.
    #[serde(default)]
    pub paging: Option<Paging>,
}

/// One per-input error of a batch (a 207's `errors[]`).
#[derive(Debug, Clone, Deserialize)]
pub struct BatchError {
    /// HubSpot's category (`VALIDATION_ERROR`, `OBJECT_NOT_FOUND`, …).
    #[serde(default)]
    pub category: String,
    /// HubSpot's message.
    #[serde(default)]
    pub message: String,
}

/// A batch reply (`results` may be absent when every input failed).
#[derive(Debug, Clone, Deserialize)]
pub struct BatchReply<T> {
    /// What was applied.
    pub results: Option<Vec<T>>,
    /// What was not.
    #[serde(default)]
    pub errors: Vec<BatchError>,
}

/// An object reference `{"id": …}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ObjectRef {
    /// The object's id.
    pub id: Id,
}

/// One type of an association (`associationTypes[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationType {
    /// `HUBSPOT_DEFINED`, `USER_DEFINED`, …
    #[serde(default)]
    pub category: String,
    /// HubSpot's type id (contact→company primary is 1, …).
    #[serde(default)]
    pub type_id: u32,
}

/// One associated record of a batch association read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedRecord {
    /// A number in v4, a string in date versions.
    pub to_object_id: Id,
    /// The association's types (a primary one among them, if it is the primary).
    #[serde(default)]
    pub association_types: Vec<AssociationType>,
}

impl AssociatedRecord {
    /// Whether one of its types is HubSpot's `type_id`.
    pub fn has_type(&self, type_id: u32) -> bool {
        self.association_types.iter().any(|t| t.type_id == type_id)
    }
}

/// One owner (`results[]` of the owners list).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReply {
    /// The value `hubspot_owner_id` holds.
    pub id: Id,
    /// The owner's login e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
}

/// A page of a plain list (owners).
#[derive(Debug, Clone, Deserialize)]
pub struct ListReply<T> {
    /// This page.
    pub results: Vec<T>,
    /// The next page.
    #[serde(default)]
    pub paging: Option<Paging>,
}

/// The associations of one record (`results[]` of a batch association read).
#[derive(Debug, Clone, Deserialize)]
pub struct Associations {
    /// The record read.
    pub from: ObjectRef,
    /// What it is associated with.
    #[serde(default)]
    pub to: Vec<AssociatedRecord>,
}

/// One option of an enumeration property.
#[derive(Debug, Clone, Deserialize)]
pub struct PropertyOption {
    /// The stored value.
    #[serde(default)]
    pub value: String,
    /// What users see.
    #[serde(default)]
    pub label: String,
    /// Hidden options are not offered.
    #[serde(default)]
    pub hidden: bool,
}

/// A property definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    /// Options of an enumeration (absent otherwise).
    #[serde(default)]
    pub options: Option<Vec<PropertyOption>>,
    /// Whether values are unique across records (usable as an upsert key).
    #[serde(default)]
    pub has_unique_value: bool,
}

/// A number HubSpot sends as a number or a numeric string (`displayOrder`, `probability`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Number(pub Option<f64>);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        Ok(Number(match Option::<Raw>::deserialize(d)? {
            Some(Raw::Number(n)) => Some(n),
            Some(Raw::Text(s)) => s.trim().parse().ok(),
            None => None,
        }))
    }
}

/// A boolean HubSpot sends as `true` or as `"true"` (stage metadata).
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Flag(bool),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Flag(b)) => b,
        Some(Raw::Text(s)) => s.eq_ignore_ascii_case("true"),
        None => false,
    })
}

/// A deal stage's metadata.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StageMetadata {
    /// The win probability, 0 to 1.
    #[serde(default)]
    pub probability: Number,
}

/// One stage of a pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStage {
    /// The stage id.
    pub id: Id,
    /// Its label.
    #[serde(default)]
    pub label: String,
    /// Its position.
    #[serde(default)]
    pub display_order: Number,
    /// Archived stages keep their deals but take no new ones.
    #[serde(default, deserialize_with = "flag")]
    pub archived: bool,
    /// Probability and more.
    #[serde(default)]
    pub metadata: StageMetadata,
}

/// One pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    /// The pipeline id.
    pub id: Id,
    /// Its label.
    #[serde(default)]
    pub label: String,
    /// Its position.
    #[serde(default)]
    pub display_order: Number,
    /// Archived pipelines.
    #[serde(default, deserialize_with = "flag")]
    pub archived: bool,
    /// Its stages.
    #[serde(default)]
    pub stages: Vec<PipelineStage>,
}

/// A collection reply (`{"results": […]}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Collection<T> {
    /// The items.
    pub results: Vec<T>,
}

/// HubSpot's error body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReply {
    /// The category (`VALIDATION_ERROR`, `CONFLICT`, …).
    #[serde(default)]
    pub category: String,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// The rate-limit policy of a 429.
    #[serde(default)]
    pub policy_name: String,
    /// Details per property (validation errors).
    #[serde(default)]
    pub errors: Vec<ErrorDetail>,
}

/// One detail of an error (which property, which rule).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorDetail {
    /// What is wrong.
    #[serde(default)]
    pub message: String,
    /// A code such as `REQUIRED` or `INVALID_OPTION`.
    #[serde(default)]
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_accepted_as_strings_and_as_numbers() {
        let v4: Associations =
            serde_json::from_str(r#"{"from":{"id":"7"},"to":[{"toObjectId":12}]}"#).unwrap();
        let dated: Associations =
            serde_json::from_str(r#"{"from":{"id":7},"to":[{"toObjectId":"12"}]}"#).unwrap();
        for a in [v4, dated] {
            assert_eq!(
                (a.from.id.0.as_str(), a.to[0].to_object_id.0.as_str()),
                ("7", "12")
            );
        }
    }

    #[test]
    fn an_empty_id_is_refused() {
        assert!(serde_json::from_str::<RecordReply>(r#"{"id":""}"#).is_err());
        assert!(serde_json::from_str::<RecordReply>(r#"{"properties":{}}"#).is_err());
    }

    #[test]
    fn property_values_keep_their_text_and_null() {
        let r: RecordReply =
            serde_json::from_str(r#"{"id":"1","properties":{"a":"x","b":null,"c":4.5,"d":true}}"#)
                .unwrap();
        let p = |k: &str| r.properties[k].clone();
        assert_eq!(p("a").as_deref(), Some("x"));
        assert_eq!(p("b"), None);
        assert_eq!(p("c").as_deref(), Some("4.5"));
        assert_eq!(p("d").as_deref(), Some("true"));
    }

    #[test]
    fn stage_metadata_strings_are_read_as_numbers_and_flags() {
        let p: Pipeline = serde_json::from_str(
            r#"{"id":"default","label":"Sales","displayOrder":0,"archived":"false",
                "stages":[{"id":"s","label":"S","displayOrder":"2","archived":false,
                           "metadata":{"isClosed":"false","probability":"0.4"}}]}"#,
        )
        .unwrap();
        assert_eq!(p.stages[0].metadata.probability, Number(Some(0.4)));
        assert_eq!(p.stages[0].display_order, Number(Some(2.0)));
        assert!(!p.archived);
    }
}
