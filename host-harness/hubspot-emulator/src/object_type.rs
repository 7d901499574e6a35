//! The two CRM object types the emulator serves, and their path aliases.

use serde::{Deserialize, Serialize};

/// A CRM object type; HubSpot names each by a word and by an object-type id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    /// `contacts`, object-type id `0-1`.
    Contacts,
    /// `deals`, object-type id `0-3`.
    Deals,
}

impl ObjectType {
    /// Parses a path segment: `contacts`/`0-1` or `deals`/`0-3`.
    pub fn parse(segment: &str) -> Option<ObjectType> {
        match segment.to_ascii_lowercase().as_str() {
            "contacts" | "contact" | "0-1" => Some(ObjectType::Contacts),
            "deals" | "deal" | "0-3" => Some(ObjectType::Deals),
            _ => None,
        }
    }

    /// The plural name used in paths and association keys.
    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contacts",
            ObjectType::Deals => "deals",
        }
    }

    /// HubSpot's object-type id.
    pub fn type_id(self) -> &'static str {
        match self {
            ObjectType::Contacts => "0-1",
            ObjectType::Deals => "0-3",
        }
    }

    /// The singular used in association type names (`contact_to_deal`).
    pub(crate) fn singular(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contact",
            ObjectType::Deals => "deal",
        }
    }

    /// The other object type: contacts and deals associate with each other.
    pub(crate) fn other(self) -> ObjectType {
        match self {
            ObjectType::Contacts => ObjectType::Deals,
            ObjectType::Deals => ObjectType::Contacts,
        }
    }

    /// The name of the HubSpot-maintained modified-time property.
    pub fn modified_property(self) -> &'static str {
        match self {
            ObjectType::Contacts => "lastmodifieddate",
            ObjectType::Deals => "hs_lastmodifieddate",
        }
    }

    /// The default association type id from this type to the other (deal→contact 3, contact→deal 4).
    pub(crate) fn association_type_id(self) -> u32 {
        match self {
            ObjectType::Contacts => 4,
            ObjectType::Deals => 3,
        }
    }
}
