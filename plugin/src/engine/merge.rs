//! Three-way merge of one record's mapped fields against the last synced snapshot of each side.
//!
//! Pure functions over canonical field values; no I/O. The rules (DESIGN.md, "Merge"):
//! a field changed on one side flows to the other; changed on both to different values → the
//! configured winner, recorded as a conflict; a blank never overwrites a value; fields marked
//! *keep-xentral* (the e-mail of an existing address) are never overwritten in xentral.

use std::collections::BTreeMap;

use crate::engine::rules::SyncRule;

/// Canonical field values of one record (missing = blank).
pub type Fields = BTreeMap<String, String>;

/// Which side wins a conflict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Winner {
    /// xentral's value wins (the default).
    #[default]
    Xentral,
    /// HubSpot's value wins.
    Hubspot,
}

impl Winner {
    /// `xentral` or `hubspot`, as settings and conflict records name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::Xentral => "xentral",
            Winner::Hubspot => "hubspot",
        }
    }
}

/// The last synced values of both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// xentral's values after the last sync.
    #[serde(default)]
    pub x: Fields,
    /// HubSpot's values after the last sync.
    #[serde(default)]
    pub h: Fields,
}

/// One field changed on both sides to different values (or, on a first link, set to
/// different values on both sides): both values, so the loser's is never silently lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The canonical field.
    pub field: String,
    /// xentral's value.
    pub xentral: String,
    /// HubSpot's value.
    pub hubspot: String,
}

/// What a merge decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Values to write to xentral.
    pub to_xentral: Fields,
    /// Values to write to HubSpot.
    pub to_hubspot: Fields,
    /// Fields changed on both sides to different values, with both values.
    pub conflicts: Vec<Conflict>,
    /// The snapshot once both writes are done.
    pub snapshot: Snapshot,
}

impl Outcome {
    /// The snapshot to store once only `to_xentral` is written (a pull): values that must
    /// still go to HubSpot are recorded as "changed in xentral" (both sides at HubSpot's
    /// value), so the push sends them and a failed push is retried rather than forgotten.
    /// `stored` are the xentral values as written.
    pub fn snapshot_after_pull(&self, h: &Fields, stored: Fields) -> Snapshot {
        let mut snapshot = self.snapshot.clone();
        snapshot.x.extend(stored);
        for f in self.to_hubspot.keys() {
            match h.get(f) {
                Some(v) => {
                    snapshot.x.insert(f.clone(), v.clone());
                    snapshot.h.insert(f.clone(), v.clone());
                }
                None => {
                    snapshot.x.remove(f);
                    snapshot.h.remove(f);
                }
            }
        }
        snapshot
    }
}

impl Outcome {
    /// The snapshot to store once only `to_hubspot` is written (a push that links a record
    /// met for the first time): values that must still come to xentral are recorded as
    /// "changed in HubSpot" (both sides at xentral's value `x`), so the next pull brings
    /// them and nothing sends xentral's old values back.
    pub fn snapshot_after_push(&self, x: &Fields) -> Snapshot {
        let mut snapshot = self.snapshot.clone();
        for f in self.to_xentral.keys() {
            match x.get(f) {
                Some(v) => {
                    snapshot.x.insert(f.clone(), v.clone());
                    snapshot.h.insert(f.clone(), v.clone());
                }
                None => {
                    snapshot.x.remove(f);
                    snapshot.h.remove(f);
                }
            }
        }
        snapshot
    }
}

impl Snapshot {
    /// Takes xentral's values of `fields` from what the database stored (`stored`), not from
    /// what was written: xentral's MariaDB tables are utf8mb3, and an emoji written there
    /// reads back as `?`; taking the stored value as "last synced" keeps the mangled copy
    /// from ever being pushed back.
    pub fn take_stored<'f>(
        &mut self,
        fields: impl IntoIterator<Item = &'f String>,
        stored: &Fields,
    ) {
        for f in fields {
            match stored.get(f) {
                Some(v) => self.x.insert(f.clone(), v.clone()),
                None => self.x.remove(f),
            };
        }
    }
}

fn get<'a>(m: &'a Fields, f: &str) -> &'a str {
    m.get(f).map_or("", String::as_str)
}

fn is_blank(v: &str) -> bool {
    v.trim().is_empty()
}

/// Merges the current values of both sides against the snapshot.
///
/// `rule` says per field which way values flow: a one-way field takes its source's change
/// and never writes the source (a change on the other side stays there, and is no conflict:
/// the user chose the source); two-way fields go to the rule's winner when both changed.
///
/// `keep_xentral` lists fields xentral never takes from HubSpot once it has a value.
/// With no snapshot, or an empty one (a first link, or one taken over from the old module),
/// both sides count as changed: differing non-blank values go to the winner and are a
/// conflict too (the loser's value is overwritten, so it is recorded, never silently lost).
pub fn merge(
    fields: &[&str],
    x: &Fields,
    h: &Fields,
    snapshot: Option<&Snapshot>,
    rule: &SyncRule,
    keep_xentral: &[&str],
) -> Outcome {
    let mut out = Outcome::default();
    let empty = Snapshot::default();
    let first_link = snapshot.is_none_or(|s| s.x.is_empty() && s.h.is_empty());
    let snap = snapshot.unwrap_or(&empty);
    for &f in fields {
        let (xv, hv) = (get(x, f), get(h, f));
        let (sx, sh) = (get(&snap.x, f), get(&snap.h, f));
        let direction = rule.field(f);
        // A side whose values do not flow counts as unchanged: its edits stay on its side.
        let x_changed = direction.writes_hubspot() && (first_link || xv != sx);
        let h_changed = direction.writes_xentral() && (first_link || hv != sh);
        let keep = keep_xentral.contains(&f) && !is_blank(xv);
        // The value each side ends up with.
        let (mut new_x, mut new_h) = (xv.to_owned(), hv.to_owned());
        if xv != hv {
            let take_from_x = match (x_changed, h_changed) {
                (false, false) => None,
                (true, false) => Some(true),
                (false, true) => Some(false),
                (true, true) => {
                    let both_set = !is_blank(xv) && !is_blank(hv);
                    if both_set {
                        out.conflicts.push(Conflict {
                            field: f.to_owned(),
                            xentral: xv.to_owned(),
                            hubspot: hv.to_owned(),
                        });
                    }
                    // The winner's value, unless it is blank (a blank never overwrites).
                    Some(match rule.winner {
                        Winner::Xentral => !is_blank(xv),
                        Winner::Hubspot => is_blank(hv),
                    })
                }
            };
            match take_from_x {
                Some(true) if !is_blank(xv) => new_h = xv.to_owned(),
                Some(false) if !is_blank(hv) && !keep => new_x = hv.to_owned(),
                _ => {}
            }
        }
        if new_x != xv {
            out.to_xentral.insert(f.to_owned(), new_x.clone());
        }
        if new_h != hv {
            out.to_hubspot.insert(f.to_owned(), new_h.clone());
        }
        if !is_blank(&new_x) {
            out.snapshot.x.insert(f.to_owned(), new_x);
        }
        if !is_blank(&new_h) {
            out.snapshot.h.insert(f.to_owned(), new_h);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const F: &[&str] = &["email", "firstname", "city"];

    fn two_way(winner: Winner) -> SyncRule {
        SyncRule {
            winner,
            ..SyncRule::default()
        }
    }

    fn city_only(direction: crate::engine::rules::Direction) -> SyncRule {
        SyncRule {
            fields: [("city".to_owned(), direction)].into(),
            ..SyncRule::default()
        }
    }

    #[test]
    fn a_field_synced_to_xentral_only_takes_hubspots_change_and_keeps_xentrals_edit_in_xentral() {
        let rule = city_only(crate::engine::rules::Direction::ToXentral);
        let s = snap(&[("city", "Berlin")], &[("city", "Berlin")]);
        let edited_in_xentral = merge(
            F,
            &m(&[("city", "Bonn")]),
            &m(&[("city", "Berlin")]),
            Some(&s),
            &rule,
            &[],
        );
        assert!(edited_in_xentral.to_hubspot.is_empty() && edited_in_xentral.to_xentral.is_empty());
        let both = merge(
            F,
            &m(&[("city", "Bonn")]),
            &m(&[("city", "Köln")]),
            Some(&s),
            &rule,
            &[],
        );
        assert_eq!(both.to_xentral, m(&[("city", "Köln")]));
        assert!(both.to_hubspot.is_empty());
        assert!(
            both.conflicts.is_empty(),
            "a one-way field has no conflict: the source stands"
        );
    }

    #[test]
    fn a_field_synced_to_hubspot_only_never_takes_hubspots_value_even_on_a_first_link() {
        let rule = city_only(crate::engine::rules::Direction::ToHubspot);
        let first = merge(
            F,
            &m(&[("city", "Bonn")]),
            &m(&[("city", "Köln")]),
            None,
            &rule,
            &[],
        );
        assert_eq!(first.to_hubspot, m(&[("city", "Bonn")]));
        assert!(first.to_xentral.is_empty() && first.conflicts.is_empty());
        let s = snap(&[("city", "Bonn")], &[("city", "Bonn")]);
        let edited_in_hubspot = merge(
            F,
            &m(&[("city", "Bonn")]),
            &m(&[("city", "Köln")]),
            Some(&s),
            &rule,
            &[],
        );
        assert!(edited_in_hubspot.to_xentral.is_empty() && edited_in_hubspot.to_hubspot.is_empty());
        // The next xentral edit still goes out, over HubSpot's own value.
        let again = merge(
            F,
            &m(&[("city", "Ulm")]),
            &m(&[("city", "Köln")]),
            Some(&edited_in_hubspot.snapshot),
            &rule,
            &[],
        );
        assert_eq!(again.to_hubspot, m(&[("city", "Ulm")]));
    }

    fn m(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn snap(x: &[(&str, &str)], h: &[(&str, &str)]) -> Snapshot {
        Snapshot { x: m(x), h: m(h) }
    }

    #[test]
    fn hubspot_change_flows_to_xentral() {
        let s = snap(&[("city", "Berlin")], &[("city", "Berlin")]);
        let o = merge(
            F,
            &m(&[("city", "Berlin")]),
            &m(&[("city", "Köln")]),
            Some(&s),
            &two_way(Winner::Xentral),
            &[],
        );
        assert_eq!(o.to_xentral, m(&[("city", "Köln")]));
        assert!(o.to_hubspot.is_empty());
        assert!(o.conflicts.is_empty());
    }

    #[test]
    fn an_empty_snapshot_merges_as_a_first_link() {
        let o = merge(
            F,
            &m(&[("city", "Berlin"), ("firstname", "Ada")]),
            &m(&[("city", "Köln"), ("email", "ada@example.com")]),
            Some(&Snapshot::default()),
            &two_way(Winner::Xentral),
            &[],
        );
        assert_eq!(o.to_hubspot, m(&[("city", "Berlin"), ("firstname", "Ada")]));
        assert_eq!(o.to_xentral, m(&[("email", "ada@example.com")]));
        assert_eq!(
            o.conflicts,
            vec![Conflict {
                field: "city".into(),
                xentral: "Berlin".into(),
                hubspot: "Köln".into()
            }],
            "both set, differing: recorded, though the winner takes it"
        );
    }

    #[test]
    fn xentral_change_flows_to_hubspot() {
        let s = snap(&[("city", "Berlin")], &[("city", "Berlin")]);
        let o = merge(
            F,
            &m(&[("city", "Hamburg")]),
            &m(&[("city", "Berlin")]),
            Some(&s),
            &two_way(Winner::Xentral),
            &[],
        );
        assert_eq!(o.to_hubspot, m(&[("city", "Hamburg")]));
        assert!(o.to_xentral.is_empty());
    }

    #[test]
    fn both_changed_xentral_wins_by_default_and_counts_a_conflict() {
        let s = snap(&[("city", "Berlin")], &[("city", "Berlin")]);
        let o = merge(
            F,
            &m(&[("city", "Hamburg")]),
            &m(&[("city", "Köln")]),
            Some(&s),
            &two_way(Winner::Xentral),
            &[],
        );
        assert_eq!(o.to_hubspot, m(&[("city", "Hamburg")]));
        assert!(o.to_xentral.is_empty());
        assert_eq!(
            o.conflicts,
            vec![Conflict {
                field: "city".into(),
                xentral: "Hamburg".into(),
                hubspot: "Köln".into()
            }]
        );
    }

    #[test]
    fn both_changed_hubspot_wins_when_configured() {
        let s = snap(&[("city", "Berlin")], &[("city", "Berlin")]);
        let o = merge(
            F,
            &m(&[("city", "Hamburg")]),
            &m(&[("city", "Köln")]),
            Some(&s),
            &two_way(Winner::Hubspot),
            &[],
        );
        assert_eq!(o.to_xentral, m(&[("city", "Köln")]));
        assert_eq!(o.conflicts.len(), 1);
    }

    #[test]
    fn blank_in_hubspot_never_clears_xentral() {
        let s = snap(&[("city", "Berlin")], &[("city", "Berlin")]);
        let o = merge(
            F,
            &m(&[("city", "Berlin")]),
            &m(&[]),
            Some(&s),
            &two_way(Winner::Xentral),
            &[],
        );
        assert!(o.to_xentral.is_empty());
        assert_eq!(o.snapshot.h, m(&[]), "the blank is remembered as seen");
    }

    #[test]
    fn blank_in_xentral_never_clears_hubspot() {
        let s = snap(&[("city", "Berlin")], &[("city", "Berlin")]);
        let o = merge(
            F,
            &m(&[]),
            &m(&[("city", "Berlin")]),
            Some(&s),
            &two_way(Winner::Xentral),
            &[],
        );
        assert!(o.to_hubspot.is_empty());
    }

    #[test]
    fn xentral_email_is_kept_when_hubspot_changes_it() {
        let s = snap(&[("email", "a@x.de")], &[("email", "a@x.de")]);
        let o = merge(
            F,
            &m(&[("email", "a@x.de")]),
            &m(&[("email", "b@x.de")]),
            Some(&s),
            &two_way(Winner::Hubspot),
            &["email"],
        );
        assert!(o.to_xentral.is_empty());
        assert_eq!(o.snapshot.h, m(&[("email", "b@x.de")]));
    }

    #[test]
    fn first_link_fills_blanks_both_ways_and_differing_values_are_a_conflict() {
        let o = merge(
            F,
            &m(&[("email", "a@x.de"), ("city", "Berlin")]),
            &m(&[("email", "a@x.de"), ("firstname", "Ann"), ("city", "Köln")]),
            None,
            &two_way(Winner::Xentral),
            &["email"],
        );
        assert_eq!(o.to_xentral, m(&[("firstname", "Ann")]));
        assert_eq!(o.to_hubspot, m(&[("city", "Berlin")]));
        assert_eq!(
            o.conflicts
                .iter()
                .map(|c| c.field.as_str())
                .collect::<Vec<_>>(),
            ["city"]
        );
    }

    #[test]
    fn unchanged_sides_that_differ_stay_as_they_are() {
        let s = snap(&[("email", "a@x.de")], &[("email", "b@x.de")]);
        let o = merge(
            F,
            &m(&[("email", "a@x.de")]),
            &m(&[("email", "b@x.de")]),
            Some(&s),
            &two_way(Winner::Xentral),
            &["email"],
        );
        assert_eq!(
            o,
            Outcome {
                snapshot: s,
                ..Outcome::default()
            }
        );
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[a-c]{1,2}"]
    }

    fn fields() -> impl Strategy<Value = Fields> {
        proptest::collection::vec(value(), 3).prop_map(|v| {
            F.iter()
                .zip(v)
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| ((*k).to_owned(), v))
                .collect()
        })
    }

    proptest! {
        /// Applying a merge's writes and merging again changes nothing (echo suppression).
        #[test]
        fn merge_is_stable_after_its_own_writes(
            x in fields(), h in fields(), sx in fields(), sh in fields(), first in any::<bool>()
        ) {
            let s = Snapshot { x: sx, h: sh };
            let o = merge(F, &x, &h, if first { None } else { Some(&s) }, &two_way(Winner::Xentral), &["email"]);
            let mut x2 = x.clone();
            x2.extend(o.to_xentral.clone());
            let mut h2 = h.clone();
            h2.extend(o.to_hubspot.clone());
            let again = merge(F, &x2, &h2, Some(&o.snapshot), &two_way(Winner::Xentral), &["email"]);
            prop_assert!(again.to_xentral.is_empty());
            prop_assert!(again.to_hubspot.is_empty());
            prop_assert!(again.conflicts.is_empty());
        }

        /// No value is ever replaced by a blank.
        #[test]
        fn merge_never_writes_a_blank_over_a_value(
            x in fields(), h in fields(), sx in fields(), sh in fields()
        ) {
            let s = Snapshot { x: sx, h: sh };
            let o = merge(F, &x, &h, Some(&s), &two_way(Winner::Xentral), &[]);
            for (f, v) in o.to_xentral.iter() {
                prop_assert!(!v.is_empty() || x.get(f).is_none_or(|c| c.is_empty()));
            }
            for (f, v) in o.to_hubspot.iter() {
                prop_assert!(!v.is_empty() || h.get(f).is_none_or(|c| c.is_empty()));
            }
        }
    }
}
