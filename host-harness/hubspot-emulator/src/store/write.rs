//! Write rules: property validation, HubSpot's deal and lifecycle rules, uniqueness, and applying
//! single and batch writes atomically (a batch is validated in full before anything changes).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{ObjectStore, Store, StoredRecord};
use crate::dates::iso_ms;
use crate::dates::{normalize_date, parse_instant};
use crate::error::{FieldError, WriteError};
use crate::object_type::ObjectType;
use crate::schema::{LIFECYCLE_STAGES, OptionSource, PropertyType};

/// Property values of one write; `None` clears (HubSpot treats `""` and `null` alike).
pub(crate) type Input = BTreeMap<String, Option<String>>;

/// A validated change: schema slot and normalised value.
type Changes = Vec<(u16, Option<String>)>;

/// A batch update or upsert item after resolution.
pub(crate) struct Resolved {
    pub id: Option<u64>,
    pub changes: Changes,
}

impl Store {
    /// Creates one record.
    pub(crate) fn create(
        &mut self,
        object: ObjectType,
        input: &Input,
        now: i64,
    ) -> Result<u64, WriteError> {
        Ok(self.create_batch(object, std::slice::from_ref(input), now)?[0])
    }

    /// Creates several records, all or none.
    pub(crate) fn create_batch(
        &mut self,
        object: ObjectType,
        inputs: &[Input],
        now: i64,
    ) -> Result<Vec<u64>, WriteError> {
        let items = inputs
            .iter()
            .map(|input| {
                Ok(Resolved {
                    id: None,
                    changes: self.prepare(object, input, None)?,
                })
            })
            .collect::<Result<Vec<_>, WriteError>>()?;
        self.check_unique(object, &items)?;
        Ok(items
            .into_iter()
            .map(|item| self.apply(object, item, now).0)
            .collect())
    }

    /// Updates one record by id.
    pub(crate) fn update(
        &mut self,
        object: ObjectType,
        id: u64,
        input: &Input,
        now: i64,
    ) -> Result<(), WriteError> {
        let live = self
            .objects(object)
            .records
            .get(&id)
            .is_some_and(|r| r.archived_ms.is_none());
        if !live {
            return Err(WriteError::NotFound { id: id.to_string() });
        }
        let item = Resolved {
            id: Some(id),
            changes: self.prepare(object, input, Some(id))?,
        };
        self.check_unique(object, std::slice::from_ref(&item))?;
        self.apply(object, item, now);
        Ok(())
    }

    /// Updates several existing records, all or none; returns their ids.
    pub(crate) fn update_batch(
        &mut self,
        object: ObjectType,
        inputs: &[(u64, Input)],
        now: i64,
    ) -> Result<Vec<u64>, WriteError> {
        let mut seen = HashSet::new();
        if let Some((dup, _)) = inputs.iter().find(|(id, _)| !seen.insert(*id)) {
            return Err(WriteError::invalid(format!(
                "Duplicate IDs found in batch input: [{dup}]. IDs must be unique"
            )));
        }
        let items = inputs
            .iter()
            .map(|(id, input)| {
                Ok(Resolved {
                    id: Some(*id),
                    changes: self.prepare(object, input, Some(*id))?,
                })
            })
            .collect::<Result<Vec<_>, WriteError>>()?;
        self.check_unique(object, &items)?;
        Ok(items
            .into_iter()
            .map(|item| self.apply(object, item, now).0)
            .collect())
    }

    /// Creates or updates by a unique property, all or none; returns `(id, new)` per input.
    pub(crate) fn upsert_batch(
        &mut self,
        object: ObjectType,
        inputs: &[(String, String, Input)],
        now: i64,
    ) -> Result<Vec<(u64, bool)>, WriteError> {
        let store = self.objects(object);
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(inputs.len());
        for (id_property, value, input) in inputs {
            let Some(slot) = store
                .schema
                .slot(id_property)
                .filter(|_| store.is_id_property(id_property))
            else {
                return Err(WriteError::invalid(format!(
                    "{id_property} is not a unique property and cannot be used as idProperty"
                )));
            };
            if !seen.insert((slot, store.unique_key(slot, value))) {
                return Err(WriteError::invalid(format!(
                    "Duplicate IDs found in batch input: [{value}]. IDs must be unique"
                )));
            }
            let existing = store.find_unique(slot, value);
            let mut input = input.clone();
            if existing.is_none() {
                input
                    .entry(id_property.clone())
                    .or_insert_with(|| Some(value.clone()));
            }
            items.push(Resolved {
                id: existing,
                changes: self.prepare(object, &input, existing)?,
            });
        }
        self.check_unique(object, &items)?;
        Ok(items
            .into_iter()
            .map(|item| {
                let new = item.id.is_none();
                (self.apply(object, item, now).0, new)
            })
            .collect())
    }

    /// Validates property values against the schema and HubSpot's rules.
    fn prepare(
        &self,
        object: ObjectType,
        input: &Input,
        existing: Option<u64>,
    ) -> Result<Changes, WriteError> {
        let store = self.objects(object);
        let current = existing.and_then(|id| store.records.get(&id));
        let mut changes = Changes::new();
        let mut errors = Vec::new();
        for (name, value) in input {
            let Some(slot) = store.schema.slot(name) else {
                errors.push(FieldError::new(
                    "PROPERTY_DOESNT_EXIST",
                    name,
                    format!("Property \"{name}\" does not exist"),
                ));
                continue;
            };
            let def = store.schema.def(slot);
            if def.read_only {
                errors.push(FieldError::new(
                    "READ_ONLY_VALUE",
                    name,
                    format!("\"{name}\" is a read only property; its value cannot be set."),
                ));
                continue;
            }
            let Some(value) = value else {
                changes.push((slot, None));
                continue;
            };
            match self.normalize(store, slot, value) {
                Ok(v) => changes.push((slot, Some(v))),
                Err(e) => errors.push(e),
            }
        }
        if object == ObjectType::Deals {
            self.check_deal(store, &changes, current, &mut errors);
        }
        for slot in &store.required {
            let after = match changes.iter().find(|(s, _)| s == slot) {
                Some((_, v)) => v.as_deref(),
                None => current.and_then(|r| r.stored(*slot)),
            };
            if after.is_none_or(|v| v.trim().is_empty()) {
                let name = &store.schema.def(*slot).name;
                errors.push(FieldError::new(
                    "REQUIRED",
                    name,
                    format!("\"{name}\" is required by a validation rule of this portal"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(WriteError::properties(errors));
        }
        if let (ObjectType::Contacts | ObjectType::Companies, Some(rec)) = (object, current) {
            drop_backward_lifecycle(store, rec, &mut changes);
        }
        Ok(changes)
    }

    fn normalize(&self, store: &ObjectStore, slot: u16, value: &str) -> Result<String, FieldError> {
        let def = store.schema.def(slot);
        let name = def.name.as_str();
        match def.kind {
            PropertyType::Number if !is_plain_number(value) => Err(FieldError::new(
                "INVALID_INTEGER",
                name,
                format!("{value} was not a valid number."),
            )),
            PropertyType::Date => {
                normalize_date(value).map_err(|m| FieldError::new("INVALID_DATE", name, m))
            }
            PropertyType::Datetime => parse_instant(value).map(iso_ms).ok_or_else(|| {
                FieldError::new(
                    "INVALID_DATETIME",
                    name,
                    format!("{value} is not a valid datetime"),
                )
            }),
            PropertyType::Bool => match value.to_ascii_lowercase().as_str() {
                v @ ("true" | "false") => Ok(v.to_string()),
                _ => Err(FieldError::new(
                    "INVALID_BOOLEAN",
                    name,
                    format!("{value} is not a valid boolean"),
                )),
            },
            PropertyType::Enumeration if def.option_source != OptionSource::Stages => {
                let options = self.options(store, slot);
                if options.iter().any(|o| o == value) {
                    Ok(value.to_string())
                } else {
                    Err(invalid_option(name, value, &options))
                }
            }
            _ if name == "email" && !is_email(value) => Err(FieldError::new(
                "INVALID_EMAIL",
                name,
                format!("Email address {value} is invalid"),
            )),
            _ => Ok(value.to_string()),
        }
    }

    /// The allowed values of an enumeration property, including live portal data.
    pub(crate) fn options(&self, store: &ObjectStore, slot: u16) -> Vec<String> {
        let def = store.schema.def(slot);
        match def.option_source {
            OptionSource::Fixed => def.options.iter().map(|o| o.value.clone()).collect(),
            OptionSource::Pipelines => self
                .pipelines
                .iter()
                .filter(|p| !p.archived)
                .map(|p| p.id.clone())
                .collect(),
            OptionSource::Stages => self
                .pipelines
                .iter()
                .filter(|p| !p.archived)
                .flat_map(|p| {
                    p.stages
                        .iter()
                        .filter(|s| !s.archived)
                        .map(|s| s.id.clone())
                })
                .collect(),
            OptionSource::Owners => self
                .owners
                .iter()
                .filter(|o| !o.archived)
                .map(|o| o.id.clone())
                .collect(),
        }
    }

    /// Deals need a name, a live pipeline and a live stage of that pipeline.
    fn check_deal(
        &self,
        store: &ObjectStore,
        changes: &Changes,
        current: Option<&StoredRecord>,
        errors: &mut Vec<FieldError>,
    ) {
        let effective = |name: &str| -> Option<String> {
            let slot = store.schema.slot(name)?;
            match changes.iter().rev().find(|(s, _)| *s == slot) {
                Some((_, v)) => v.clone(),
                None => current.and_then(|r| r.stored(slot)).map(str::to_string),
            }
        };
        let required: &[&str] = if current.is_none() {
            &["dealname", "pipeline", "dealstage"]
        } else {
            &["pipeline", "dealstage"]
        };
        let mut missing = false;
        for name in required {
            if effective(name).is_none() {
                missing = true;
                errors.push(FieldError::new(
                    "REQUIRED_PROPERTY",
                    name,
                    format!("Property \"{name}\" is required"),
                ));
            }
        }
        if missing || errors.iter().any(|e| e.property == "pipeline") {
            return;
        }
        let (pipeline_id, stage) = (
            effective("pipeline").unwrap_or_default(),
            effective("dealstage").unwrap_or_default(),
        );
        match self
            .pipelines
            .iter()
            .find(|p| p.id == pipeline_id && !p.archived)
        {
            None => {
                let live: Vec<String> = self
                    .pipelines
                    .iter()
                    .filter(|p| !p.archived)
                    .map(|p| p.id.clone())
                    .collect();
                errors.push(invalid_option("pipeline", &pipeline_id, &live));
            }
            Some(p) if !p.has_live_stage(&stage) => {
                let live: Vec<String> = p
                    .stages
                    .iter()
                    .filter(|s| !s.archived)
                    .map(|s| s.id.clone())
                    .collect();
                errors.push(invalid_option("dealstage", &stage, &live));
            }
            Some(_) => {}
        }
    }

    /// Fails on a unique value held by another live record, or twice within the batch.
    fn check_unique(&self, object: ObjectType, items: &[Resolved]) -> Result<(), WriteError> {
        let store = self.objects(object);
        let mut claimed: HashMap<(u16, String), Option<u64>> = HashMap::new();
        for item in items {
            for (slot, value) in &item.changes {
                let Some(value) = value.as_deref().filter(|_| store.unique.contains_key(slot))
                else {
                    continue;
                };
                let key = store.unique_key(*slot, value);
                let name = &store.schema.def(*slot).name;
                if let Some(holder) = store
                    .find_unique(*slot, value)
                    .filter(|h| Some(*h) != item.id)
                {
                    return Err(conflict(object, name, value, holder));
                }
                if let Some(other) = claimed.insert((*slot, key), item.id)
                    && (other.is_none() || other != item.id)
                {
                    return Err(WriteError::invalid(format!(
                        "Duplicate values found in batch input for property {name}: [{value}]. Values must be unique"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Applies validated changes (creating the record when `id` is `None`); returns id and whether it changed.
    fn apply(&mut self, object: ObjectType, item: Resolved, now: i64) -> (u64, bool) {
        let store = self.objects_mut(object);
        let id = match item.id {
            Some(id) => id,
            None => {
                let id = store.next_id;
                store.next_id += 1;
                store.records.insert(id, StoredRecord::new(now));
                id
            }
        };
        store.unindex(id);
        let created_slot = store.schema.slot("createdate");
        let Some(rec) = store.records.get_mut(&id) else {
            return (id, false);
        };
        let mut changed = item.id.is_none();
        for (slot, value) in &item.changes {
            if Some(*slot) == created_slot {
                if let Some(ms) = value.as_deref().and_then(parse_instant) {
                    changed |= rec.created_ms != ms;
                    rec.created_ms = ms;
                }
                continue;
            }
            changed |= rec.put(*slot, value.as_deref());
        }
        if changed {
            rec.updated_ms = now;
            rec.written_ms = now;
        }
        store.index(id);
        (id, changed)
    }
}

/// HubSpot never moves `lifecyclestage` of a contact or company backwards; such a change is
/// silently dropped.
pub(super) fn lifecycle_rank(value: &str) -> Option<usize> {
    LIFECYCLE_STAGES.iter().position(|s| *s == value)
}

fn drop_backward_lifecycle(store: &ObjectStore, rec: &StoredRecord, changes: &mut Changes) {
    let Some(slot) = store.schema.slot("lifecyclestage") else {
        return;
    };
    let Some(current) = rec.stored(slot).and_then(lifecycle_rank) else {
        return;
    };
    changes.retain(|(s, v)| {
        *s != slot
            || v.as_deref()
                .and_then(lifecycle_rank)
                .is_none_or(|new| new >= current)
    });
}

/// 409: a unique value is held by another live record.
pub(super) fn conflict(object: ObjectType, property: &str, value: &str, holder: u64) -> WriteError {
    let message = if property == "email" {
        format!("Contact already exists. Existing ID: {holder}")
    } else {
        format!(
            "{} with {property} '{value}' already exists. Existing ID: {holder}",
            object.label()
        )
    };
    WriteError::Conflict {
        message,
        existing_id: holder.to_string(),
    }
}

fn invalid_option(property: &str, value: &str, options: &[String]) -> FieldError {
    FieldError::new(
        "INVALID_OPTION",
        property,
        format!(
            "{value} was not one of the allowed options: [{}]",
            options.join(", ")
        ),
    )
}

/// Digits with an optional sign and decimal point: no separators, exponents or spaces.
fn is_plain_number(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn is_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_only() {
        assert!(is_plain_number("1200.50"));
        assert!(is_plain_number("-3"));
        assert!(!is_plain_number("1,200"));
        assert!(!is_plain_number("1e3"));
        assert!(!is_plain_number("12."));
        assert!(!is_plain_number(""));
    }
}
