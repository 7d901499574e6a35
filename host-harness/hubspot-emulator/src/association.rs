//! HubSpot-defined association types between contacts, companies and deals: their ids, their
//! labels, and which pairs can be primary.
//!
//! Every associated pair carries the unlabelled type; a contact or a deal may in addition mark
//! one of its companies as primary. Type ids are unidirectional (HubSpot's `AssociationType`
//! enum of its official clients): contact→company primary 1 / unlabelled 279, company→contact
//! 2 / 280, deal→company 5 / 341, company→deal 6 / 342, deal→contact 3, contact→deal 4.

use serde_json::{Value, json};

use crate::object_type::ObjectType;

/// The HubSpot-defined label of one association between a pair of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The plain association every associated pair has.
    Unlabelled,
    /// The company is the contact's or the deal's primary company.
    Primary,
}

/// The only category the emulator serves (no custom labels).
pub(crate) const HUBSPOT_DEFINED: &str = "HUBSPOT_DEFINED";

/// The label HubSpot shows for the primary types; unlabelled types have none.
const PRIMARY_LABEL: &str = "Primary";

/// HubSpot's type id for an association `from` → `to`, if that pair has such a type.
pub(crate) fn type_id(from: ObjectType, to: ObjectType, kind: Kind) -> Option<u32> {
    use Kind::{Primary, Unlabelled};
    use ObjectType::{Companies, Contacts, Deals};
    Some(match (from, to, kind) {
        (Contacts, Companies, Primary) => 1,
        (Companies, Contacts, Primary) => 2,
        (Deals, Contacts, Unlabelled) => 3,
        (Contacts, Deals, Unlabelled) => 4,
        (Deals, Companies, Primary) => 5,
        (Companies, Deals, Primary) => 6,
        (Contacts, Companies, Unlabelled) => 279,
        (Companies, Contacts, Unlabelled) => 280,
        (Deals, Companies, Unlabelled) => 341,
        (Companies, Deals, Unlabelled) => 342,
        _ => return None,
    })
}

/// The kind a `(category, typeId)` names for `from` → `to`; `None` for anything HubSpot would
/// not accept between these types.
pub(crate) fn kind_of(from: ObjectType, to: ObjectType, category: &str, id: u32) -> Option<Kind> {
    if category != HUBSPOT_DEFINED {
        return None;
    }
    [Kind::Unlabelled, Kind::Primary]
        .into_iter()
        .find(|kind| type_id(from, to, *kind) == Some(id))
}

/// The target type and kind a type id names from `from` (type ids are unique per source type),
/// as inline associations of a create give only the id.
pub(crate) fn target_of(from: ObjectType, category: &str, id: u32) -> Option<(ObjectType, Kind)> {
    ObjectType::ALL
        .into_iter()
        .find_map(|to| kind_of(from, to, category, id).map(|kind| (to, kind)))
}

/// Whether records of the two types can be associated at all.
pub(crate) fn pairable(a: ObjectType, b: ObjectType) -> bool {
    type_id(a, b, Kind::Unlabelled).is_some()
}

/// `(holder, company)` when the pair can carry a primary label: the side whose primary company
/// it is, and the company.
pub(crate) fn primary_sides<T>(a: (ObjectType, T), b: (ObjectType, T)) -> Option<(T, T)> {
    match (a.0, b.0) {
        (ObjectType::Contacts | ObjectType::Deals, ObjectType::Companies) => Some((a.1, b.1)),
        (ObjectType::Companies, ObjectType::Contacts | ObjectType::Deals) => Some((b.1, a.1)),
        _ => None,
    }
}

/// The kinds a pair carries, unlabelled first.
pub(crate) fn kinds(primary: bool) -> &'static [Kind] {
    if primary {
        &[Kind::Primary, Kind::Unlabelled]
    } else {
        &[Kind::Unlabelled]
    }
}

/// `{"category","typeId","label"}` as association reads list a type.
pub(crate) fn type_json(from: ObjectType, to: ObjectType, kind: Kind) -> Value {
    let label = match kind {
        Kind::Primary => Value::String(PRIMARY_LABEL.into()),
        Kind::Unlabelled => Value::Null,
    };
    json!({"category": HUBSPOT_DEFINED, "typeId": type_id(from, to, kind), "label": label})
}

/// The labels of a pair as a create reports them (`[]` for an unlabelled pair).
pub(crate) fn labels(primary: bool) -> Vec<&'static str> {
    if primary {
        vec![PRIMARY_LABEL]
    } else {
        Vec::new()
    }
}

/// `{"associationCategory","associationTypeId"}` as default-association replies spell a type.
pub(crate) fn spec_json(from: ObjectType, to: ObjectType, kind: Kind) -> Value {
    json!({"associationCategory": HUBSPOT_DEFINED, "associationTypeId": type_id(from, to, kind)})
}

/// The v3 name of a type in `?associations=` reads: `contact_to_deal`, and for pairs that can
/// be primary `contact_to_company` (primary) and `contact_to_company_unlabeled`.
pub(crate) fn legacy_name(from: ObjectType, to: ObjectType, kind: Kind) -> String {
    let base = format!("{}_to_{}", from.singular(), to.singular());
    let can_be_primary = type_id(from, to, Kind::Primary).is_some();
    match kind {
        Kind::Unlabelled if can_be_primary => format!("{base}_unlabeled"),
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_id_names_one_direction_and_kind() {
        use ObjectType::{Companies, Contacts, Deals};
        let pairs = [
            (Contacts, Companies),
            (Companies, Contacts),
            (Deals, Companies),
            (Companies, Deals),
            (Deals, Contacts),
            (Contacts, Deals),
        ];
        let mut seen = Vec::new();
        for (from, to) in pairs {
            for kind in [Kind::Unlabelled, Kind::Primary] {
                if let Some(id) = type_id(from, to, kind) {
                    assert_eq!(target_of(from, HUBSPOT_DEFINED, id), Some((to, kind)));
                    seen.push(id);
                }
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 3, 4, 5, 6, 279, 280, 341, 342]);
        assert_eq!(kind_of(Contacts, Companies, "USER_DEFINED", 1), None);
        assert!(!pairable(Contacts, Contacts));
    }

    #[test]
    fn legacy_names_mark_unlabelled_company_links() {
        use ObjectType::{Companies, Contacts, Deals};
        assert_eq!(
            legacy_name(Contacts, Deals, Kind::Unlabelled),
            "contact_to_deal"
        );
        assert_eq!(
            legacy_name(Contacts, Companies, Kind::Unlabelled),
            "contact_to_company_unlabeled"
        );
        assert_eq!(
            legacy_name(Deals, Companies, Kind::Primary),
            "deal_to_company"
        );
    }
}
