//! Owners (HubSpot users a record can be assigned to through `hubspot_owner_id`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dates::iso_ms;

/// An owner as `GET /crm/v3/owners` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The value stored in `hubspot_owner_id`.
    pub id: String,
    /// Login e-mail.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// The owner's user id (a different number from `id`).
    pub user_id: u64,
    /// Creation time, epoch ms.
    pub created_ms: i64,
    /// Deactivated users stay as archived owners.
    pub archived: bool,
}

impl Owner {
    /// The `n`-th owner of a portal (0-based): ids are numbered as HubSpot's look.
    pub(crate) fn numbered(
        n: usize,
        email: &str,
        first_name: &str,
        last_name: &str,
        created_ms: i64,
    ) -> Owner {
        Owner {
            id: (41_629_771 + n as u64).to_string(),
            email: email.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
            user_id: 9_000_001 + n as u64,
            created_ms,
            archived: false,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id, "email": self.email, "type": "PERSON", "firstName": self.first_name,
            "lastName": self.last_name, "userId": self.user_id,
            "userIdIncludingInactive": self.user_id, "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.created_ms), "archived": self.archived,
        })
    }
}

/// The owners every emulated portal starts with.
pub(crate) fn default_owners() -> Vec<Owner> {
    let people = [
        ("jürgen.weiß@example.com", "Jürgen", "Weiß"),
        ("anna.schmidt@example.com", "Anna", "Schmidt"),
        ("li.wei@example.com", "Wei", "Li"),
        ("sofia.oere@example.com", "Sofia", "Øre"),
        ("max.mustermann@example.com", "Max", "Mustermann"),
    ];
    people
        .iter()
        .enumerate()
        .map(|(i, (email, first, last))| {
            Owner::numbered(
                i,
                email,
                first,
                last,
                1_672_531_200_000 + i as i64 * 86_400_000,
            )
        })
        .collect()
}
