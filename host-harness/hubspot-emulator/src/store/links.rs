//! Associations between records: creating and removing them under HubSpot's primary-company
//! rules, keeping a contact's `associatedcompanyid` in step with its primary company, and taking
//! an archived record's associations out of (and back into) its partners' reads.

use super::{Store, StoredRecord};
use crate::association::{Kind, pairable, primary_sides};
use crate::object_type::ObjectType;

/// One association as a record stores it; the partner stores the mirror image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    /// The partner's type.
    pub object: ObjectType,
    /// The partner's id.
    pub id: u64,
    /// Whether the pair carries the primary label besides the unlabelled one.
    pub primary: bool,
}

/// The contact property that holds the id of the contact's primary company.
const PRIMARY_COMPANY_PROPERTY: &str = "associatedcompanyid";

impl StoredRecord {
    fn link_pos(&self, object: ObjectType, id: u64) -> Result<usize, usize> {
        self.links
            .binary_search_by(|l| (l.object, l.id).cmp(&(object, id)))
    }

    /// The association with one partner, if any.
    pub(crate) fn link_to(&self, object: ObjectType, id: u64) -> Option<&Link> {
        self.link_pos(object, id).ok().map(|i| &self.links[i])
    }

    /// The associations with records of one type, in id order.
    pub(crate) fn links_of(&self, object: ObjectType) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(move |l| l.object == object)
    }

    /// Adds or replaces the association with `link`'s partner.
    pub(crate) fn set_link(&mut self, link: Link) {
        match self.link_pos(link.object, link.id) {
            Ok(i) => self.links[i] = link,
            Err(i) => self.links.insert(i, link),
        }
    }

    /// Removes the association with one partner.
    pub(crate) fn drop_link(&mut self, object: ObjectType, id: u64) -> Option<Link> {
        self.link_pos(object, id).ok().map(|i| self.links.remove(i))
    }
}

impl Store {
    /// Associates two live records. The pair always carries the unlabelled type; `Primary` adds
    /// the primary label, which makes the company the holder's (contact's or deal's) only
    /// primary company: a previous one is demoted to unlabelled. False when either record is
    /// missing or archived, or the types cannot carry `kind`. `stamp` is the time a changed
    /// `associatedcompanyid` is written at (`None` keeps modified times, for seeding).
    pub(crate) fn link(
        &mut self,
        a: (ObjectType, u64),
        b: (ObjectType, u64),
        kind: Kind,
        stamp: Option<i64>,
    ) -> bool {
        if !pairable(a.0, b.0) || !self.is_live(a.0, a.1) || !self.is_live(b.0, b.1) {
            return false;
        }
        let sides = primary_sides((a.0, a), (b.0, b));
        if kind == Kind::Primary && sides.is_none() {
            return false;
        }
        let was_primary = self.objects(a.0).records[&a.1]
            .link_to(b.0, b.1)
            .is_some_and(|l| l.primary);
        let primary = was_primary || kind == Kind::Primary;
        if primary
            && !was_primary
            && let Some((holder, company)) = sides
        {
            self.demote_primary(holder, company.1);
        }
        self.set_pair(a, b, primary);
        self.refresh_pair(a, b, stamp);
        true
    }

    /// Removes every association between two records (both directions).
    pub(crate) fn unlink(
        &mut self,
        a: (ObjectType, u64),
        b: (ObjectType, u64),
        stamp: Option<i64>,
    ) {
        for (this, other) in [(a, b), (b, a)] {
            if let Some(rec) = self.objects_mut(this.0).records.get_mut(&this.1) {
                rec.drop_link(other.0, other.1);
            }
        }
        self.refresh_pair(a, b, stamp);
    }

    /// Removes only the primary label of a pair; the records stay associated.
    pub(crate) fn unlabel_primary(
        &mut self,
        a: (ObjectType, u64),
        b: (ObjectType, u64),
        stamp: Option<i64>,
    ) {
        let linked = self
            .objects(a.0)
            .records
            .get(&a.1)
            .and_then(|r| r.link_to(b.0, b.1))
            .is_some();
        if linked {
            self.set_pair(a, b, false);
            self.refresh_pair(a, b, stamp);
        }
    }

    /// Takes an archived record out of its partners' associations; the record keeps its own
    /// list so that a restore can put them back.
    pub(crate) fn detach(&mut self, object: ObjectType, id: u64, stamp: Option<i64>) {
        let links = self.objects(object).records[&id].links.clone();
        for link in links {
            if let Some(rec) = self.objects_mut(link.object).records.get_mut(&link.id) {
                rec.drop_link(object, id);
            }
            self.refresh_primary_company(link.object, link.id, stamp);
        }
    }

    /// Puts a restored record back into the associations of its live partners (a partner merged
    /// meanwhile is found under its new id; a partner that found another primary company keeps
    /// it, and this pair comes back unlabelled). A partner that is archived itself gets the pair
    /// into its own list instead, so that whichever is restored last finds the other live.
    pub(crate) fn reattach(&mut self, object: ObjectType, id: u64, stamp: Option<i64>) {
        let links = self.objects(object).records[&id].links.clone();
        for link in links {
            let me = (object, id);
            let partner = (link.object, self.objects(link.object).canonical(link.id));
            if let Some(rec) = self.objects_mut(object).records.get_mut(&id) {
                rec.drop_link(link.object, link.id);
            }
            if !self.is_live(partner.0, partner.1) {
                // An archived partner keeps the pair in its own list, for its own restore.
                if let Some(rec) = self.objects_mut(partner.0).records.get_mut(&partner.1) {
                    rec.set_link(Link {
                        object,
                        id,
                        primary: link.primary,
                    });
                }
                continue;
            }
            let taken = link.primary
                && primary_sides((object, me), (partner.0, partner)).is_some_and(
                    |(holder, company)| {
                        holder != me
                            && self.objects(holder.0).records[&holder.1]
                                .links_of(ObjectType::Companies)
                                .any(|l| l.primary && l.id != company.1)
                    },
                );
            self.set_pair(me, partner, link.primary && !taken);
            self.refresh_pair(me, partner, stamp);
        }
    }

    /// Rewrites `associatedcompanyid` of a contact from its primary company, moving its modified
    /// time to `stamp` when the value changes; no-op for other types.
    pub(crate) fn refresh_primary_company(
        &mut self,
        object: ObjectType,
        id: u64,
        stamp: Option<i64>,
    ) {
        if object != ObjectType::Contacts {
            return;
        }
        let contacts = &mut self.contacts;
        let Some(slot) = contacts.schema.slot(PRIMARY_COMPANY_PROPERTY) else {
            return;
        };
        let Some(rec) = contacts.records.get_mut(&id) else {
            return;
        };
        let primary = rec
            .links_of(ObjectType::Companies)
            .find(|l| l.primary)
            .map(|l| l.id.to_string());
        if rec.put(slot, primary.as_deref())
            && let Some(now) = stamp
        {
            rec.updated_ms = now;
            rec.written_ms = now;
        }
    }

    /// Writes the pair's link on both sides with the given primary flag.
    fn set_pair(&mut self, a: (ObjectType, u64), b: (ObjectType, u64), primary: bool) {
        for (this, other) in [(a, b), (b, a)] {
            if let Some(rec) = self.objects_mut(this.0).records.get_mut(&this.1) {
                rec.set_link(Link {
                    object: other.0,
                    id: other.1,
                    primary,
                });
            }
        }
    }

    /// Demotes the holder's primary company, unless it is `keep`, to an unlabelled association
    /// (the caller refreshes `associatedcompanyid` once the new primary is in place).
    fn demote_primary(&mut self, holder: (ObjectType, u64), keep: u64) {
        let previous: Vec<u64> = self.objects(holder.0).records[&holder.1]
            .links_of(ObjectType::Companies)
            .filter(|l| l.primary && l.id != keep)
            .map(|l| l.id)
            .collect();
        for company in previous {
            self.set_pair(holder, (ObjectType::Companies, company), false);
        }
    }

    fn refresh_pair(&mut self, a: (ObjectType, u64), b: (ObjectType, u64), stamp: Option<i64>) {
        self.refresh_primary_company(a.0, a.1, stamp);
        self.refresh_primary_company(b.0, b.1, stamp);
    }
}
