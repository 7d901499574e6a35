//! HubSpot Data Sync's settings per object kind: which way records and their fields flow and
//! who wins a field changed on both sides. One rule per kind; the merge asks it per field, the
//! pull and push ask it whether a record new on one side is created on the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::merge::{Fields, Winner};

/// Which way values flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Both ways; a field changed on both sides goes to the winner.
    #[default]
    TwoWay,
    /// HubSpot → xentral only.
    ToXentral,
    /// xentral → HubSpot only.
    ToHubspot,
}

impl Direction {
    /// The name the settings use.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::TwoWay => "two-way",
            Direction::ToXentral => "to-xentral",
            Direction::ToHubspot => "to-hubspot",
        }
    }

    /// Whether HubSpot's values may be written to xentral.
    pub fn writes_xentral(self) -> bool {
        self != Direction::ToHubspot
    }

    /// Whether xentral's values may be written to HubSpot.
    pub fn writes_hubspot(self) -> bool {
        self != Direction::ToXentral
    }
}

/// What xentral does when HubSpot archives a linked record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnArchive {
    /// The link ends; the xentral record stays.
    #[default]
    Keep,
    /// The link ends; the xentral record is marked deleted (a resubmission closed).
    Mark,
}

/// What HubSpot gets when xentral deletes a linked record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnDelete {
    /// The link ends; HubSpot is left alone.
    #[default]
    Keep,
    /// The link ends; the HubSpot record is archived.
    Archive,
}

/// How one object kind syncs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRule {
    /// The kind's direction.
    #[serde(default)]
    pub direction: Direction,
    /// Who wins a conflict.
    #[serde(default)]
    pub winner: Winner,
    /// Fields whose direction is narrower than the kind's (only in a two-way kind).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, Direction>,
    /// What xentral does when HubSpot archives a linked record (absent in settings stored
    /// before there was a choice: keep).
    #[serde(default)]
    pub on_archive: OnArchive,
    /// What HubSpot gets when xentral deletes a linked record.
    #[serde(default)]
    pub on_delete: OnDelete,
}

impl SyncRule {
    /// The direction of `field`: the kind's when it is one-way, else the field's own.
    pub fn field(&self, field: &str) -> Direction {
        match self.direction {
            Direction::TwoWay => self.fields.get(field).copied().unwrap_or_default(),
            one_way => one_way,
        }
    }

    /// Whether a record new in HubSpot is created in xentral.
    pub fn creates_in_xentral(&self) -> bool {
        self.direction.writes_xentral()
    }

    /// Whether a record new in xentral is created in HubSpot.
    pub fn creates_in_hubspot(&self) -> bool {
        self.direction.writes_hubspot()
    }

    /// The values a record new on one side is created with on the other (`to_xentral`: in
    /// xentral, else in HubSpot): the fields that flow that way, and the `required` ones the
    /// other side cannot create a record without.
    pub fn creation_values(&self, values: &Fields, to_xentral: bool, required: &[&str]) -> Fields {
        values
            .iter()
            .filter(|(f, _)| {
                let d = self.field(f);
                required.contains(&f.as_str())
                    || if to_xentral {
                        d.writes_xentral()
                    } else {
                        d.writes_hubspot()
                    }
            })
            .map(|(f, v)| (f.clone(), v.clone()))
            .collect()
    }

    /// Checks the rule of a kind whose canonical fields are `known`: field directions name
    /// known fields, and a one-way kind has no field directions (its fields all go its way).
    pub fn validate(&self, kind: &str, known: &[&str]) -> Result<(), String> {
        if let Some(field) = self.fields.keys().find(|f| !known.contains(&f.as_str())) {
            return Err(format!(
                "the {kind} field '{field}' is not synchronised; the fields are {}",
                known.join(", ")
            ));
        }
        if self.direction != Direction::TwoWay
            && let Some((field, d)) = self.fields.iter().find(|(_, d)| **d != self.direction)
        {
            return Err(format!(
                "{kind}s sync {} only, so the field '{field}' cannot sync {}",
                self.direction.as_str(),
                d.as_str()
            ));
        }
        Ok(())
    }

    /// One line per setting for the settings page, e.g. `contacts two-way, xentral wins;
    /// city to-xentral`.
    pub fn describe(&self, kinds: &str) -> String {
        let mut out = format!(
            "{kinds} {}, {} wins a conflict",
            self.direction.as_str(),
            self.winner.as_str()
        );
        for (field, d) in &self.fields {
            out.push_str(&format!("; {field} {}", d.as_str()));
        }
        if self.on_archive == OnArchive::Mark {
            out.push_str("; archived in HubSpot: marked deleted in xentral");
        }
        if self.on_delete == OnDelete::Archive {
            out.push_str("; deleted in xentral: archived in HubSpot");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(direction: Direction, fields: &[(&str, Direction)]) -> SyncRule {
        SyncRule {
            direction,
            winner: Winner::Xentral,
            fields: fields.iter().map(|(f, d)| ((*f).to_owned(), *d)).collect(),
            ..SyncRule::default()
        }
    }

    #[test]
    fn a_one_way_kind_syncs_every_field_its_way() {
        let r = rule(Direction::ToXentral, &[]);
        assert_eq!(r.field("city"), Direction::ToXentral);
        assert!(r.creates_in_xentral() && !r.creates_in_hubspot());
    }

    #[test]
    fn a_two_way_kind_takes_each_fields_own_direction() {
        let r = rule(Direction::TwoWay, &[("city", Direction::ToHubspot)]);
        assert_eq!(r.field("city"), Direction::ToHubspot);
        assert_eq!(r.field("phone"), Direction::TwoWay);
        assert!(r.creates_in_xentral() && r.creates_in_hubspot());
    }

    #[test]
    fn unknown_fields_and_fields_against_a_one_way_kind_are_refused() {
        let known = ["city", "phone"];
        let unknown = rule(Direction::TwoWay, &[("colour", Direction::ToHubspot)]);
        assert_eq!(
            unknown.validate("contact", &known).unwrap_err(),
            "the contact field 'colour' is not synchronised; the fields are city, phone"
        );
        let against = rule(Direction::ToXentral, &[("city", Direction::ToHubspot)]);
        assert!(
            against
                .validate("contact", &known)
                .unwrap_err()
                .contains("cannot sync to-hubspot")
        );
        assert!(
            rule(Direction::ToXentral, &[("city", Direction::ToXentral)])
                .validate("contact", &known)
                .is_ok()
        );
    }
}
