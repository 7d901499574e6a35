//! The portal's data in memory: records per object type, unique-value indexes, associations,
//! merge redirects, pipelines and owners.
//!
//! Records live in a `BTreeMap` by numeric id (so listing pages in id order is a range scan) and keep
//! only the properties that have a value, as `(schema slot, value)` pairs; HubSpot-maintained
//! properties (`hs_object_id`, `createdate`, the modified time) are computed from the record fields.
//! Each record keeps its associations as [`Link`]s, mirrored on the other side while both are live.

mod lifecycle;
mod links;
mod write;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::dates::iso_ms;
use crate::object_type::ObjectType;
use crate::owners::{Owner, default_owners};
use crate::pipelines::{Pipeline, default_pipelines};
use crate::schema::{Maintained, Schema};

pub(crate) use links::Link;
pub(crate) use write::Input;

/// A record as the in-process API hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Numeric id as a string, as HubSpot sends it.
    pub id: String,
    /// All properties with a value, plus the HubSpot-maintained ones.
    pub properties: BTreeMap<String, Option<String>>,
    /// Creation time, epoch ms.
    pub created_at_ms: i64,
    /// Last modification time, epoch ms (what `lastmodifieddate`/`hs_lastmodifieddate` show).
    pub updated_at_ms: i64,
    /// Whether the record is archived (deleted).
    pub archived: bool,
    /// When it was archived, epoch ms.
    pub archived_at_ms: Option<i64>,
    /// Ids of the associated records of the type [`ObjectType::partner`] names (deals of a
    /// contact, contacts of a deal or of a company).
    pub associations: Vec<String>,
    /// Every association of the record, of every type (an archived record keeps the ones it had).
    pub links: Vec<Association>,
}

/// One association of a record, as the in-process API hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Association {
    /// The type of the associated record.
    pub object: ObjectType,
    /// Its id.
    pub id: String,
    /// Whether the pair also carries the primary label (the company is the contact's or the
    /// deal's primary company).
    pub primary: bool,
}

/// One stored record.
#[derive(Debug, Clone)]
pub(crate) struct StoredRecord {
    /// Set properties as `(slot, value)`, sorted by slot.
    pub props: Vec<(u16, Box<str>)>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// When the last write happened on the emulator clock (search indexing lag is measured from it).
    pub written_ms: i64,
    pub archived_ms: Option<i64>,
    /// Associations, sorted by type and id.
    pub links: Vec<Link>,
}

impl StoredRecord {
    pub(crate) fn new(now: i64) -> StoredRecord {
        StoredRecord {
            props: Vec::new(),
            created_ms: now,
            updated_ms: now,
            written_ms: now,
            archived_ms: None,
            links: Vec::new(),
        }
    }

    pub(crate) fn stored(&self, slot: u16) -> Option<&str> {
        self.props
            .binary_search_by_key(&slot, |(s, _)| *s)
            .ok()
            .map(|i| &*self.props[i].1)
    }

    /// Sets or clears a stored value; returns whether anything changed.
    pub(crate) fn put(&mut self, slot: u16, value: Option<&str>) -> bool {
        match (self.props.binary_search_by_key(&slot, |(s, _)| *s), value) {
            (Ok(i), Some(v)) if &*self.props[i].1 == v => false,
            (Ok(i), Some(v)) => {
                self.props[i].1 = v.into();
                true
            }
            (Ok(i), None) => {
                self.props.remove(i);
                true
            }
            (Err(i), Some(v)) => {
                self.props.insert(i, (slot, v.into()));
                true
            }
            (Err(_), None) => false,
        }
    }
}

/// All records of one object type with their schema and unique indexes.
pub(crate) struct ObjectStore {
    pub object: ObjectType,
    pub schema: Schema,
    pub records: BTreeMap<u64, StoredRecord>,
    pub next_id: u64,
    /// Live (unarchived) records by unique value, per unique property slot (e-mail keys lower-cased).
    pub unique: HashMap<u16, HashMap<String, u64>>,
    /// Properties a portal's validation rule requires on every API write (enforced from the
    /// 2026-09 API version on; the emulator enforces them on every version once told to).
    pub required: Vec<u16>,
    /// Ids merged away, each pointing at the record that replaced it (reads of an old id answer
    /// the merged record).
    pub merged: HashMap<u64, u64>,
}

impl ObjectStore {
    fn new(object: ObjectType) -> ObjectStore {
        let schema = Schema::default_for(object);
        let mut unique = HashMap::new();
        if object == ObjectType::Contacts {
            unique.insert(schema.slot("email").unwrap_or_default(), HashMap::new());
        }
        let next_id = match object {
            ObjectType::Contacts => 1_001,
            ObjectType::Deals => 2_000_001,
            ObjectType::Companies => 4_000_001,
        };
        ObjectStore {
            object,
            schema,
            records: BTreeMap::new(),
            next_id,
            unique,
            required: Vec::new(),
            merged: HashMap::new(),
        }
    }

    /// The id a record id stands for now: itself, or the record it was merged into.
    pub(crate) fn canonical(&self, id: u64) -> u64 {
        self.merged.get(&id).copied().unwrap_or(id)
    }

    /// Whether a record exists and is not archived.
    pub(crate) fn is_live(&self, id: u64) -> bool {
        self.records
            .get(&id)
            .is_some_and(|r| r.archived_ms.is_none())
    }

    /// The value of a property on a record, computing HubSpot-maintained ones.
    pub(crate) fn value<'a>(
        &self,
        id: u64,
        rec: &'a StoredRecord,
        slot: u16,
    ) -> Option<Cow<'a, str>> {
        match self.schema.def(slot).maintained {
            Some(Maintained::ObjectId) => Some(Cow::Owned(id.to_string())),
            Some(Maintained::Created) => Some(Cow::Owned(iso_ms(rec.created_ms))),
            Some(Maintained::Modified) => Some(Cow::Owned(iso_ms(rec.updated_ms))),
            None => rec.stored(slot).map(Cow::Borrowed),
        }
    }

    /// The value of a property by name (`None` for unknown names or unset values).
    pub(crate) fn value_by_name<'a>(
        &self,
        id: u64,
        rec: &'a StoredRecord,
        name: &str,
    ) -> Option<Cow<'a, str>> {
        self.schema
            .slot(name)
            .and_then(|slot| self.value(id, rec, slot))
    }

    /// The key under which a unique value is indexed.
    pub(crate) fn unique_key(&self, slot: u16, value: &str) -> String {
        if self.schema.def(slot).name == "email" {
            value.to_lowercase()
        } else {
            value.to_string()
        }
    }

    /// The live record holding a unique value, if any.
    pub(crate) fn find_unique(&self, slot: u16, value: &str) -> Option<u64> {
        self.unique
            .get(&slot)?
            .get(&self.unique_key(slot, value))
            .copied()
    }

    pub(crate) fn index(&mut self, id: u64) {
        let Some(rec) = self.records.get(&id) else {
            return;
        };
        let entries: Vec<(u16, String)> = self
            .unique
            .keys()
            .filter_map(|slot| {
                rec.stored(*slot)
                    .map(|v| (*slot, self.unique_key(*slot, v)))
            })
            .collect();
        for (slot, key) in entries {
            self.unique.entry(slot).or_default().insert(key, id);
        }
    }

    pub(crate) fn unindex(&mut self, id: u64) {
        let Some(rec) = self.records.get(&id) else {
            return;
        };
        let entries: Vec<(u16, String)> = self
            .unique
            .keys()
            .filter_map(|slot| {
                rec.stored(*slot)
                    .map(|v| (*slot, self.unique_key(*slot, v)))
            })
            .collect();
        for (slot, key) in entries {
            if let Some(map) = self.unique.get_mut(&slot)
                && map.get(&key) == Some(&id)
            {
                map.remove(&key);
            }
        }
    }

    pub(crate) fn to_record(&self, id: u64, rec: &StoredRecord) -> Record {
        let mut properties = BTreeMap::new();
        for (slot, def) in self.schema.all().iter().enumerate() {
            if let Some(v) = self.value(id, rec, slot as u16) {
                properties.insert(def.name.clone(), Some(v.into_owned()));
            }
        }
        Record {
            id: id.to_string(),
            properties,
            created_at_ms: rec.created_ms,
            updated_at_ms: rec.updated_ms,
            archived: rec.archived_ms.is_some(),
            archived_at_ms: rec.archived_ms,
            associations: rec
                .links
                .iter()
                .filter(|l| l.object == self.object.partner())
                .map(|l| l.id.to_string())
                .collect(),
            links: rec
                .links
                .iter()
                .map(|l| Association {
                    object: l.object,
                    id: l.id.to_string(),
                    primary: l.primary,
                })
                .collect(),
        }
    }

    /// Resolves a path id: a numeric id (an id merged away stands for the merged record), or a
    /// value of `id_property` (e-mail or a unique property).
    pub(crate) fn resolve(&self, raw: &str, id_property: Option<&str>) -> Option<u64> {
        match id_property {
            None | Some("hs_object_id") => raw
                .parse()
                .ok()
                .map(|id| self.canonical(id))
                .filter(|id| self.records.contains_key(id)),
            Some(name) => self.find_unique(self.schema.slot(name)?, raw),
        }
    }

    /// Whether a property can serve as `idProperty`.
    pub(crate) fn is_id_property(&self, name: &str) -> bool {
        self.schema
            .slot(name)
            .is_some_and(|slot| self.unique.contains_key(&slot))
    }
}

/// Everything one emulated portal holds.
pub(crate) struct Store {
    pub contacts: ObjectStore,
    pub companies: ObjectStore,
    pub deals: ObjectStore,
    pub pipelines: Vec<Pipeline>,
    pub owners: Vec<Owner>,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            contacts: ObjectStore::new(ObjectType::Contacts),
            companies: ObjectStore::new(ObjectType::Companies),
            deals: ObjectStore::new(ObjectType::Deals),
            pipelines: default_pipelines(),
            owners: default_owners(),
        }
    }

    pub(crate) fn objects(&self, object: ObjectType) -> &ObjectStore {
        match object {
            ObjectType::Contacts => &self.contacts,
            ObjectType::Companies => &self.companies,
            ObjectType::Deals => &self.deals,
        }
    }

    pub(crate) fn objects_mut(&mut self, object: ObjectType) -> &mut ObjectStore {
        match object {
            ObjectType::Contacts => &mut self.contacts,
            ObjectType::Companies => &mut self.companies,
            ObjectType::Deals => &mut self.deals,
        }
    }

    /// Whether a record exists and is not archived.
    pub(crate) fn is_live(&self, object: ObjectType, id: u64) -> bool {
        self.objects(object).is_live(id)
    }

    /// Sets the modified time of the first `count` live records (or all) to one timestamp.
    pub(crate) fn touch(
        &mut self,
        object: ObjectType,
        count: Option<usize>,
        at_ms: i64,
        now: i64,
    ) -> usize {
        let store = self.objects_mut(object);
        let mut touched = 0;
        for rec in store
            .records
            .values_mut()
            .filter(|r| r.archived_ms.is_none())
        {
            if count.is_some_and(|c| touched >= c) {
                break;
            }
            rec.updated_ms = at_ms;
            rec.written_ms = now;
            touched += 1;
        }
        touched
    }
}
