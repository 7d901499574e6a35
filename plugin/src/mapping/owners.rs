//! HubSpot owners ⇄ xentral sales reps (`adresse.vertrieb`, `wiedervorlage.adresse_mitarbeiter`,
//! both an address id): an owner is the person address with the owner's e-mail, as the old
//! module matched them. Pure lookups; [`crate::kinds::owners`] reads both sides.

use std::collections::HashMap;

/// One HubSpot owner and the xentral address it is matched to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The owner's e-mail, as HubSpot has it.
    pub email: String,
    /// The person address with that e-mail (the oldest, when several have it).
    pub address: Option<i64>,
}

/// The owners of a portal with their matched addresses, both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerMap {
    by_owner: HashMap<String, Owner>,
    by_address: HashMap<i64, String>,
}

impl OwnerMap {
    /// The map of these owners (owner id → owner).
    pub fn new(owners: impl IntoIterator<Item = (String, Owner)>) -> OwnerMap {
        let mut map = OwnerMap::default();
        for (id, owner) in owners {
            if let Some(address) = owner.address {
                map.by_address.entry(address).or_insert_with(|| id.clone());
            }
            map.by_owner.insert(id, owner);
        }
        map
    }

    /// The sales rep (address id) of HubSpot owner `owner_id`, or why there is none.
    pub fn address_of(&self, owner_id: &str) -> Result<i64, String> {
        match self.by_owner.get(owner_id) {
            Some(Owner {
                address: Some(a), ..
            }) => Ok(*a),
            Some(o) => Err(format!(
                "HubSpot owner {owner_id} ({}) matches no xentral person address by e-mail",
                o.email
            )),
            None => Err(format!(
                "HubSpot owner {owner_id} is not among the portal's active owners"
            )),
        }
    }

    /// The HubSpot owner whose matched address is `address` (a sales rep), if any.
    pub fn owner_of(&self, address: i64) -> Option<&str> {
        self.by_address.get(&address).map(String::as_str)
    }

    /// Every owner, by id.
    pub fn owners(&self) -> impl Iterator<Item = (&str, &Owner)> {
        self.by_owner.iter().map(|(id, o)| (id.as_str(), o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_map_to_their_addresses_both_ways_and_say_why_not() {
        let map = OwnerMap::new([
            (
                "7".to_owned(),
                Owner {
                    email: "anna@example.com".into(),
                    address: Some(40),
                },
            ),
            (
                "8".to_owned(),
                Owner {
                    email: "ben@example.com".into(),
                    address: None,
                },
            ),
        ]);
        assert_eq!(map.address_of("7"), Ok(40));
        assert_eq!(map.owner_of(40), Some("7"));
        assert_eq!(map.owner_of(41), None);
        assert!(map.address_of("8").unwrap_err().contains("ben@example.com"));
        assert!(map.address_of("9").unwrap_err().contains("not among"));
    }
}
