//! The three CRM object types the emulator serves, and their path aliases.

use serde::{Deserialize, Serialize};

/// A CRM object type; HubSpot names each by a word and by an object-type id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    /// `contacts`, object-type id `0-1`.
    Contacts,
    /// `companies`, object-type id `0-2`.
    Companies,
    /// `deals`, object-type id `0-3`.
    Deals,
}

impl ObjectType {
    /// Every object type the emulator serves.
    pub const ALL: [ObjectType; 3] = [
        ObjectType::Contacts,
        ObjectType::Companies,
        ObjectType::Deals,
    ];

    /// Parses a path segment: `contacts`/`0-1`, `companies`/`0-2` or `deals`/`0-3`.
    pub fn parse(segment: &str) -> Option<ObjectType> {
        match segment.to_ascii_lowercase().as_str() {
            "contacts" | "contact" | "0-1" => Some(ObjectType::Contacts),
            "companies" | "company" | "0-2" => Some(ObjectType::Companies),
            "deals" | "deal" | "0-3" => Some(ObjectType::Deals),
            _ => None,
        }
    }

    /// The plural name used in paths and association keys.
    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contacts",
            ObjectType::Companies => "companies",
            ObjectType::Deals => "deals",
        }
    }

    /// HubSpot's object-type id.
    pub fn type_id(self) -> &'static str {
        match self {
            ObjectType::Contacts => "0-1",
            ObjectType::Companies => "0-2",
            ObjectType::Deals => "0-3",
        }
    }

    /// The singular used in association type names (`contact_to_deal`).
    pub(crate) fn singular(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contact",
            ObjectType::Companies => "company",
            ObjectType::Deals => "deal",
        }
    }

    /// The singular as HubSpot's messages capitalise it (`Contact already exists…`).
    pub(crate) fn label(self) -> &'static str {
        match self {
            ObjectType::Contacts => "Contact",
            ObjectType::Companies => "Company",
            ObjectType::Deals => "Deal",
        }
    }

    /// The type [`crate::Emulator::associate`] links this one with: contacts and deals with each
    /// other (as the emulator did before it knew companies), companies with contacts.
    pub fn partner(self) -> ObjectType {
        match self {
            ObjectType::Contacts => ObjectType::Deals,
            ObjectType::Companies | ObjectType::Deals => ObjectType::Contacts,
        }
    }

    /// The name of the HubSpot-maintained modified-time property.
    pub fn modified_property(self) -> &'static str {
        match self {
            ObjectType::Contacts => "lastmodifieddate",
            ObjectType::Companies | ObjectType::Deals => "hs_lastmodifieddate",
        }
    }

    /// The properties a free-text search (`"query"`) looks in, HubSpot's default searchable
    /// properties of the type.
    pub(crate) fn searchable(self) -> &'static [&'static str] {
        match self {
            ObjectType::Contacts => &[
                "firstname",
                "lastname",
                "email",
                "hs_additional_emails",
                "phone",
                "company",
            ],
            ObjectType::Companies => &["name", "domain", "website", "phone"],
            ObjectType::Deals => &["dealname"],
        }
    }
}
