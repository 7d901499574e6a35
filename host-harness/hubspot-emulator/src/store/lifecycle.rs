//! How records end and come back: archive (restorable), restore (as HubSpot's recycle bin does)
//! and merge (since 2024 into a record with a new id that old ids keep pointing at).

use std::collections::BTreeMap;

use super::write::{conflict, lifecycle_rank};
use super::{Store, StoredRecord};
use crate::association::Kind;
use crate::error::WriteError;
use crate::object_type::ObjectType;

/// Where HubSpot lists the ids merged into a record, `;`-separated.
const MERGED_IDS: &str = "hs_merged_object_ids";
/// A contact's further e-mail addresses, `;`-separated; a merge adds the other contact's.
const ADDITIONAL_EMAILS: &str = "hs_additional_emails";

impl Store {
    /// Archives a record: it leaves the unique indexes (its unique values can be taken by a new
    /// record) and its partners' associations; its modified time stays as it was.
    pub(crate) fn archive(
        &mut self,
        object: ObjectType,
        id: u64,
        now: i64,
    ) -> Result<(), WriteError> {
        let store = self.objects_mut(object);
        if !store.is_live(id) {
            return Err(WriteError::NotFound { id: id.to_string() });
        }
        store.unindex(id);
        if let Some(rec) = store.records.get_mut(&id) {
            rec.archived_ms = Some(now);
            rec.written_ms = now;
        }
        self.detach(object, id, Some(now));
        Ok(())
    }

    /// Restores an archived record under its id, with its properties and the associations whose
    /// partners are still live, and a modified time of now. Refused (409) when a live record has
    /// taken one of its unique values meanwhile, as HubSpot refuses to restore a contact whose
    /// e-mail another contact has.
    pub(crate) fn restore(
        &mut self,
        object: ObjectType,
        id: u64,
        now: i64,
    ) -> Result<(), WriteError> {
        let store = self.objects(object);
        let Some(rec) = store.records.get(&id).filter(|r| r.archived_ms.is_some()) else {
            return Err(WriteError::NotFound { id: id.to_string() });
        };
        for slot in store.unique.keys() {
            if let Some(value) = rec.stored(*slot)
                && let Some(holder) = store.find_unique(*slot, value)
            {
                let name = &store.schema.def(*slot).name;
                return Err(conflict(object, name, value, holder));
            }
        }
        let store = self.objects_mut(object);
        if let Some(rec) = store.records.get_mut(&id) {
            rec.archived_ms = None;
            rec.updated_ms = now;
            rec.written_ms = now;
        }
        store.index(id);
        self.reattach(object, id, Some(now));
        self.refresh_primary_company(object, id, Some(now));
        Ok(())
    }

    /// Merges `other` into `primary` the way HubSpot has since 2024: both make way for a new
    /// record with a new id, which both old ids point at from then on. The primary's values win
    /// and the other's fill its blanks, except that the lifecycle stage furthest down the funnel
    /// is kept, the creation time is the older one and a contact keeps the other's e-mail as an
    /// additional one; `hs_merged_object_ids` lists the ids merged into it. Associations are the
    /// union; the primary's primary company wins. Returns the new id.
    pub(crate) fn merge(
        &mut self,
        object: ObjectType,
        primary: u64,
        other: u64,
        now: i64,
    ) -> Result<u64, WriteError> {
        let store = self.objects(object);
        let (primary, other) = (store.canonical(primary), store.canonical(other));
        for id in [primary, other] {
            if !store.is_live(id) {
                return Err(WriteError::NotFound { id: id.to_string() });
            }
        }
        if primary == other {
            return Err(WriteError::invalid(format!(
                "Cannot merge {} {primary} into itself",
                object.singular()
            )));
        }
        let merged = self.merged_record(object, primary, other, now);
        let store = self.objects_mut(object);
        store.unindex(primary);
        store.unindex(other);
        let old_primary = store
            .records
            .remove(&primary)
            .unwrap_or_else(|| StoredRecord::new(now));
        let old_other = store
            .records
            .remove(&other)
            .unwrap_or_else(|| StoredRecord::new(now));
        let id = store.next_id;
        store.next_id += 1;
        for target in store.merged.values_mut() {
            if *target == primary || *target == other {
                *target = id;
            }
        }
        store.merged.insert(primary, id);
        store.merged.insert(other, id);
        store.records.insert(id, merged);
        store.index(id);
        self.move_links(
            object,
            (&old_primary, primary),
            (&old_other, other),
            id,
            now,
        );
        Ok(id)
    }

    /// The properties and times of the record a merge makes (without associations).
    fn merged_record(
        &self,
        object: ObjectType,
        primary: u64,
        other: u64,
        now: i64,
    ) -> StoredRecord {
        let store = self.objects(object);
        let (p, o) = (&store.records[&primary], &store.records[&other]);
        let mut rec = StoredRecord::new(now);
        rec.created_ms = p.created_ms.min(o.created_ms);
        rec.props = p.props.clone();
        for (slot, value) in &o.props {
            if rec.stored(*slot).is_none() {
                rec.put(*slot, Some(value));
            }
        }
        let slot = |name: &str| store.schema.slot(name);
        if let Some(life) = slot("lifecyclestage") {
            let furthest = [p.stored(life), o.stored(life)]
                .into_iter()
                .flatten()
                .max_by_key(|v| lifecycle_rank(v));
            rec.put(life, furthest);
        }
        if let (Some(email), Some(extra)) = (slot("email"), slot(ADDITIONAL_EMAILS)) {
            let kept = rec.stored(email).map(str::to_lowercase);
            let mut emails: Vec<&str> = Vec::new();
            for value in [
                p.stored(extra),
                o.stored(email),
                o.stored(extra),
                p.stored(email),
            ]
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(';'))
            {
                let fresh = !emails.iter().any(|e| e.eq_ignore_ascii_case(value));
                if fresh && kept.as_deref() != Some(&value.to_lowercase()) && !value.is_empty() {
                    emails.push(value);
                }
            }
            rec.put(
                extra,
                (!emails.is_empty()).then(|| emails.join(";")).as_deref(),
            );
        }
        if let Some(ids_slot) = slot(MERGED_IDS) {
            let mut ids: Vec<u64> = [p.stored(ids_slot), o.stored(ids_slot)]
                .into_iter()
                .flatten()
                .flat_map(|v| v.split(';'))
                .filter_map(|v| v.parse().ok())
                .chain([primary, other])
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let joined: Vec<String> = ids.iter().map(u64::to_string).collect();
            rec.put(ids_slot, Some(&joined.join(";")));
        }
        rec
    }

    /// Gives the merged record the union of both old records' associations and points every
    /// partner at it. A contact or deal keeps the primary's primary company (the other's only
    /// when the primary had none); a merged company stays primary for whoever had either.
    fn move_links(
        &mut self,
        object: ObjectType,
        (primary, primary_id): (&StoredRecord, u64),
        (other, other_id): (&StoredRecord, u64),
        id: u64,
        now: i64,
    ) {
        let holder = object != ObjectType::Companies;
        let primary_has_company = primary.links_of(ObjectType::Companies).any(|l| l.primary);
        let mut partners: BTreeMap<(ObjectType, u64), bool> = primary
            .links
            .iter()
            .map(|l| ((l.object, l.id), l.primary))
            .collect();
        for link in &other.links {
            let flag = link.primary && !(holder && primary_has_company);
            partners
                .entry((link.object, link.id))
                .and_modify(|f| *f |= flag)
                .or_insert(flag);
        }
        for ((partner_type, partner), flag) in partners {
            if let Some(rec) = self.objects_mut(partner_type).records.get_mut(&partner) {
                rec.drop_link(object, primary_id);
                rec.drop_link(object, other_id);
            }
            if self.is_live(partner_type, partner) {
                let kind = if flag {
                    Kind::Primary
                } else {
                    Kind::Unlabelled
                };
                self.link((object, id), (partner_type, partner), kind, Some(now));
            }
        }
        self.refresh_primary_company(object, id, Some(now));
    }
}
