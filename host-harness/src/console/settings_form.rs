//! The sync-settings form, described once: which inputs it has, from the settings to show
//! ([`groups`]), and what a submitted form changes ([`change`]). A new setting is one entry in
//! each (and nothing in the page's markup, which renders any [`Field`]).
//!
//! The choices that only the plugin knows (the HubSpot API versions it speaks, the fields a
//! kind syncs) come from the built-in plugin's own crate, the source the host's component is
//! built from; the lead statuses from what Refresh stored in xentral.

use xentral_hubspot_plugin::hubspot::ApiVersion;

use crate::actions::settings::{RuleChange, SettingsChange};
use crate::report::{
    ArchiveAction, ContactMode, DeleteAction, Settings, Side, StageMode, SyncDirection, SyncRule,
};

use super::form::FormFields;

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// On or off (a checkbox; unchecked is off).
    Switch(bool),
    /// A line of text.
    Text {
        /// Its value.
        value: String,
        /// What an empty field means.
        placeholder: &'static str,
    },
    /// One of several.
    Choice {
        /// Value and label of each.
        options: Vec<(String, String)>,
        /// The chosen value.
        selected: String,
    },
    /// Any of several (a multi-select; none chosen is none).
    Many {
        /// Value and label of each.
        options: Vec<(String, String)>,
        /// The chosen values.
        selected: Vec<String>,
    },
}

/// One labelled input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The form name.
    pub name: String,
    /// What people read.
    pub label: String,
    /// What it does, in a sentence.
    pub help: String,
    /// The input.
    pub input: Input,
}

/// A titled group of inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Its title.
    pub title: &'static str,
    /// Its inputs.
    pub fields: Vec<Field>,
    /// Inputs most operators leave alone, folded away unless one is in use.
    pub more: Option<More>,
}

/// Inputs shown folded under a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct More {
    /// What they are.
    pub summary: String,
    /// Shown unfolded (one of them is in use).
    pub open: bool,
    /// The inputs.
    pub fields: Vec<Field>,
}

fn field(name: &str, label: &str, help: &str, input: Input) -> Field {
    Field {
        name: name.to_owned(),
        label: label.to_owned(),
        help: help.to_owned(),
        input,
    }
}

fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

const DIRECTIONS: &[(&str, &str)] = &[
    ("two-way", "both ways"),
    ("to-xentral", "HubSpot → xentral only"),
    ("to-hubspot", "xentral → HubSpot only"),
];

const FIELD_DIRECTIONS: &[(&str, &str)] = &[
    ("two-way", "as the kind"),
    ("to-xentral", "HubSpot → xentral only"),
    ("to-hubspot", "xentral → HubSpot only"),
];

const WINNERS: &[(&str, &str)] = &[("xentral", "xentral"), ("hubspot", "HubSpot")];

fn direction_name(d: SyncDirection) -> &'static str {
    match d {
        SyncDirection::TwoWay => "two-way",
        SyncDirection::ToXentral => "to-xentral",
        SyncDirection::ToHubspot => "to-hubspot",
    }
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Xentral => "xentral",
        Side::Hubspot => "hubspot",
    }
}

/// The fields of each kind that may have a direction of their own, as the plugin syncs them
/// (a contact's include a contact person's).
fn kind_fields(kind: Kind) -> Vec<&'static str> {
    use xentral_hubspot_plugin::kinds::{companies, contacts, deals, persons};
    use xentral_hubspot_plugin::mapping::field_names;
    match kind {
        Kind::Contacts => {
            let mut all = field_names(contacts::FIELDS);
            for f in field_names(persons::ALL_FIELDS) {
                if !all.contains(&f) {
                    all.push(f);
                }
            }
            all
        }
        Kind::Companies => field_names(companies::FIELDS),
        Kind::Deals => deals::DEAL_FIELDS.to_vec(),
    }
}

/// An object kind with Data Sync rules.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Contacts,
    Companies,
    Deals,
}

impl Kind {
    /// The prefix of its rule's form names (`contacts_direction`, `contact_field.city`),
    /// as the command line's flags spell them.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Kind::Contacts => ("contacts", "contact_field."),
            Kind::Companies => ("companies", "company_field."),
            Kind::Deals => ("deals", "deal_field."),
        }
    }

    /// What its records are called on each side, for the archive and delete choices.
    fn records(self) -> (&'static str, &'static str) {
        match self {
            Kind::Contacts => ("contact", "address or contact person"),
            Kind::Companies => ("company", "company address"),
            Kind::Deals => ("deal", "resubmission"),
        }
    }
}

const ON_ARCHIVE: &[(&str, &str)] = &[
    ("keep", "keep it (the link ends)"),
    ("mark", "mark it deleted (a resubmission: closed)"),
];

const ON_DELETE: &[(&str, &str)] = &[
    ("keep", "leave HubSpot alone (the link ends)"),
    ("archive", "archive it in HubSpot"),
];

fn rule_group(title: &'static str, kind: Kind, rule: &SyncRule) -> Group {
    let (prefix, field_prefix) = kind.names();
    let fields = vec![
        field(
            &format!("{prefix}_direction"),
            "Direction",
            "One way: the other side's edits stay there and records new there are not created.",
            Input::Choice {
                options: options(DIRECTIONS),
                selected: direction_name(rule.direction).into(),
            },
        ),
        field(
            &format!("{prefix}_conflict_winner"),
            "Conflict winner",
            "Whose value stands when a field changed on both sides.",
            Input::Choice {
                options: options(WINNERS),
                selected: side_name(rule.conflict_winner).into(),
            },
        ),
        field(
            &format!("{prefix}_on_archive"),
            &format!("When HubSpot archives a {}", kind.records().0),
            &format!("What becomes of its xentral {}.", kind.records().1),
            Input::Choice {
                options: options(ON_ARCHIVE),
                selected: rule.on_hubspot_archive.to_string(),
            },
        ),
        field(
            &format!("{prefix}_on_delete"),
            &format!("When xentral deletes a {}", kind.records().1),
            &format!("What becomes of its HubSpot {}.", kind.records().0),
            Input::Choice {
                options: options(ON_DELETE),
                selected: rule.on_xentral_delete.to_string(),
            },
        ),
    ];
    let mut per_field = Vec::new();
    let known = kind_fields(kind);
    let mut names: Vec<&str> = known.clone();
    names.extend(
        rule.fields
            .iter()
            .map(|f| f.field.as_str())
            .filter(|f| !known.contains(f)),
    );
    for name in names {
        let d = rule
            .fields
            .iter()
            .find(|f| f.field == name)
            .map_or(SyncDirection::TwoWay, |f| f.direction);
        per_field.push(field(
            &format!("{field_prefix}{name}"),
            name,
            "",
            Input::Choice {
                options: options(FIELD_DIRECTIONS),
                selected: direction_name(d).into(),
            },
        ));
    }
    Group {
        title,
        fields,
        more: Some(More {
            summary: format!(
                "Field directions ({} of {} with a direction of their own)",
                rule.fields.len(),
                per_field.len()
            ),
            open: !rule.fields.is_empty(),
            fields: per_field,
        }),
    }
}

/// The form's groups showing `s`; `lead_statuses` are the portal's (from Refresh).
pub fn groups(s: &Settings, lead_statuses: &[String]) -> Vec<Group> {
    let mut statuses: Vec<(String, String)> = lead_statuses
        .iter()
        .map(|v| (v.clone(), v.clone()))
        .collect();
    for saved in &s.lead_statuses {
        if !lead_statuses.contains(saved) {
            statuses.push((saved.clone(), saved.clone()));
        }
    }
    let api_default = ApiVersion::default();
    let api_selected = ApiVersion::parse(&s.api_version)
        .map_or_else(|_| s.api_version.clone(), |v| v.as_str().to_owned());
    let mut api_versions: Vec<(String, String)> = ApiVersion::ALL
        .iter()
        .map(|v| {
            let label = if *v == api_default {
                format!("{} (the default)", v.as_str())
            } else {
                v.as_str().to_owned()
            };
            (v.as_str().to_owned(), label)
        })
        .collect();
    if !api_versions.iter().any(|(v, _)| *v == api_selected) {
        api_versions.push((api_selected.clone(), api_selected.clone()));
    }
    vec![
        Group {
            title: "Contacts",
            fields: vec![
                field(
                    "contacts",
                    "Synchronise contacts",
                    "HubSpot contacts ⇄ xentral addresses.",
                    Input::Switch(s.contacts),
                ),
                field(
                    "contacts_since",
                    "Start time",
                    "Only contacts created at or after this instant (RFC 3339, e.g. 2024-01-31T00:00:00Z); empty: every contact.",
                    Input::Text {
                        value: s.contacts_since.clone().unwrap_or_default(),
                        placeholder: "every contact",
                    },
                ),
                field(
                    "lead_status",
                    "Lead statuses",
                    "Only contacts with one of these statuses (both ways); none chosen: every status. Refresh lists the portal's.",
                    Input::Many {
                        options: statuses,
                        selected: s.lead_statuses.clone(),
                    },
                ),
                field(
                    "group",
                    "Contact group",
                    "The xentral group whose addresses are HubSpot contacts.",
                    Input::Text {
                        value: s.group.clone(),
                        placeholder: "Hubspot",
                    },
                ),
            ],
            more: None,
        },
        Group {
            title: "Companies",
            fields: vec![
                field(
                    "companies",
                    "Synchronise companies",
                    "HubSpot companies ⇄ xentral company addresses, matched by their domain.",
                    Input::Switch(s.companies),
                ),
                field(
                    "contact_mode",
                    "Contacts of a company",
                    "Contact persons: a new contact of a synced company becomes its contact person. Addresses: every contact an address of its own. A contact already linked stays what it is.",
                    Input::Choice {
                        options: options(&[
                            ("contact-persons", "contact persons of the company"),
                            ("addresses", "addresses of their own"),
                        ]),
                        selected: s.contact_mode.to_string(),
                    },
                ),
            ],
            more: None,
        },
        Group {
            title: "Deals",
            fields: vec![
                field(
                    "deals",
                    "Synchronise deals",
                    "HubSpot deals ⇄ xentral resubmissions.",
                    Input::Switch(s.deals),
                ),
                field(
                    "stage_mode",
                    "Stage mode",
                    "Automatic: one xentral view per pipeline, one stage per HubSpot stage. User defined: map them under Deal phases.",
                    Input::Choice {
                        options: options(&[
                            ("automatic", "automatic"),
                            ("user-defined", "user defined"),
                        ]),
                        selected: s.stage_mode.to_string(),
                    },
                ),
            ],
            more: None,
        },
        rule_group("Data Sync: contacts", Kind::Contacts, &s.contact_rule),
        rule_group("Data Sync: companies", Kind::Companies, &s.company_rule),
        rule_group("Data Sync: deals", Kind::Deals, &s.deal_rule),
        Group {
            title: "HubSpot API",
            fields: vec![field(
                "api_version",
                "API version",
                "The HubSpot API paths the plugin calls.",
                Input::Choice {
                    options: api_versions,
                    selected: api_selected,
                },
            )],
            more: None,
        },
    ]
}

fn direction(name: &str, value: &str) -> Result<SyncDirection, String> {
    match value {
        "two-way" => Ok(SyncDirection::TwoWay),
        "to-xentral" => Ok(SyncDirection::ToXentral),
        "to-hubspot" => Ok(SyncDirection::ToHubspot),
        other => Err(format!(
            "{name}: '{other}' is not a direction: two-way, to-xentral or to-hubspot"
        )),
    }
}

fn rule_change(form: &FormFields, kind: Kind) -> Result<RuleChange, String> {
    let (prefix, field_prefix) = kind.names();
    let direction_field = format!("{prefix}_direction");
    let winner_field = format!("{prefix}_conflict_winner");
    Ok(RuleChange {
        direction: form
            .one(&direction_field)
            .map(|v| direction(&direction_field, v))
            .transpose()?,
        conflict_winner: form
            .one(&winner_field)
            .map(|v| match v {
                "xentral" => Ok(Side::Xentral),
                "hubspot" => Ok(Side::Hubspot),
                other => Err(format!(
                    "{winner_field}: '{other}' is not a side: xentral or hubspot"
                )),
            })
            .transpose()?,
        fields: form
            .with_prefix(field_prefix)
            .map(|(f, v)| direction(&format!("{field_prefix}{f}"), v).map(|d| (f.to_owned(), d)))
            .collect::<Result<_, _>>()?,
        on_hubspot_archive: choice(
            form,
            &format!("{prefix}_on_archive"),
            |v| match v {
                "keep" => Some(ArchiveAction::Keep),
                "mark" => Some(ArchiveAction::Mark),
                _ => None,
            },
            "keep or mark",
        )?,
        on_xentral_delete: choice(
            form,
            &format!("{prefix}_on_delete"),
            |v| match v {
                "keep" => Some(DeleteAction::Keep),
                "archive" => Some(DeleteAction::Archive),
                _ => None,
            },
            "keep or archive",
        )?,
    })
}

/// The choice `name` the form sent, read by `parse`; an unknown value is refused naming the
/// field and the `choices`.
fn choice<T>(
    form: &FormFields,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    choices: &str,
) -> Result<Option<T>, String> {
    form.one(name)
        .map(|v| parse(v).ok_or_else(|| format!("{name}: '{v}' is not one of {choices}")))
        .transpose()
}

/// What a submitted settings form changes. The form shows every setting, so an unchecked
/// switch is off and a multi-select with nothing chosen clears its filter; a text or choice
/// not sent keeps its saved value.
pub fn change(form: &FormFields) -> Result<SettingsChange, String> {
    let text = |name: &str| form.one(name).map(|v| v.trim().to_owned());
    Ok(SettingsChange {
        contacts: Some(form.one("contacts") == Some("on")),
        contacts_since: text("contacts_since"),
        lead_statuses: Some(
            form.all("lead_status")
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ),
        group: text("group"),
        deals: Some(form.one("deals") == Some("on")),
        stage_mode: form
            .one("stage_mode")
            .map(|m| match m {
                "automatic" => Ok(StageMode::Automatic),
                "user-defined" => Ok(StageMode::UserDefined),
                other => Err(format!(
                    "stage_mode: '{other}' is not a stage mode: automatic or user-defined"
                )),
            })
            .transpose()?,
        api_version: text("api_version"),
        companies: Some(form.one("companies") == Some("on")),
        contact_mode: choice(
            form,
            "contact_mode",
            |v| match v {
                "contact-persons" => Some(ContactMode::ContactPersons),
                "addresses" => Some(ContactMode::Addresses),
                _ => None,
            },
            "contact-persons or addresses",
        )?,
        contact_rule: rule_change(form, Kind::Contacts)?,
        company_rule: rule_change(form, Kind::Companies)?,
        deal_rule: rule_change(form, Kind::Deals)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings_defaults::built_in;

    /// Every input of a group, folded or not.
    fn all_fields(g: &Group) -> impl Iterator<Item = &Field> {
        g.fields.iter().chain(g.more.iter().flat_map(|m| &m.fields))
    }

    /// The form as a browser submits it for `groups`: every input with its shown value.
    fn submitted(groups: &[Group]) -> FormFields {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for f in groups.iter().flat_map(all_fields) {
            match &f.input {
                Input::Switch(true) => {
                    body.append_pair(&f.name, "on");
                }
                Input::Switch(false) => {}
                Input::Text { value, .. } => {
                    body.append_pair(&f.name, value);
                }
                Input::Choice { selected, .. } => {
                    body.append_pair(&f.name, selected);
                }
                Input::Many { selected, .. } => {
                    for v in selected {
                        body.append_pair(&f.name, v);
                    }
                }
            }
        }
        FormFields::parse(body.finish().as_bytes())
    }

    #[test]
    fn a_form_submitted_unchanged_saves_the_settings_it_shows() {
        let mut shown = Settings {
            contacts: false,
            contacts_since: Some("2024-01-31T00:00:00Z".into()),
            lead_statuses: vec!["NEW".into(), "OPEN".into()],
            group: "Kunden".into(),
            stage_mode: StageMode::UserDefined,
            api_version: "legacy".into(),
            ..built_in(crate::bindings::CONTRACT_VERSION)
        };
        shown.contact_rule.conflict_winner = Side::Hubspot;
        shown
            .contact_rule
            .fields
            .push(crate::report::FieldDirection {
                field: "city".into(),
                direction: SyncDirection::ToXentral,
            });
        shown.deal_rule.direction = SyncDirection::ToHubspot;
        shown.deal_rule.on_hubspot_archive = ArchiveAction::Mark;
        shown.company_rule.on_xentral_delete = DeleteAction::Archive;
        shown.contact_mode = ContactMode::Addresses;
        let form = submitted(&groups(&shown, &["NEW".into(), "OPEN".into(), "X".into()]));
        let saved = change(&form)
            .unwrap()
            .apply(built_in(crate::bindings::CONTRACT_VERSION));
        assert_eq!(saved, shown);
    }

    #[test]
    fn unchecked_switches_are_off_and_no_status_chosen_clears_the_filter() {
        let saved = Settings {
            lead_statuses: vec!["NEW".into()],
            ..built_in(crate::bindings::CONTRACT_VERSION)
        };
        let s = change(&FormFields::parse(b"group=Hubspot"))
            .unwrap()
            .apply(saved);
        assert!(!s.contacts && !s.deals);
        assert!(s.lead_statuses.is_empty());
    }

    #[test]
    fn an_unknown_choice_is_refused_naming_the_field_and_the_choices() {
        let e = change(&FormFields::parse(b"contact_field.city=sideways")).unwrap_err();
        assert_eq!(
            e,
            "contact_field.city: 'sideways' is not a direction: two-way, to-xentral or to-hubspot"
        );
        let e = change(&FormFields::parse(b"stage_mode=manual")).unwrap_err();
        assert_eq!(
            e,
            "stage_mode: 'manual' is not a stage mode: automatic or user-defined"
        );
    }

    #[test]
    fn every_synced_field_has_a_direction_input() {
        let g = groups(&built_in(crate::bindings::CONTRACT_VERSION), &[]);
        let names: Vec<&str> = g
            .iter()
            .flat_map(all_fields)
            .map(|f| f.name.as_str())
            .collect();
        assert!(names.contains(&"contact_field.email"), "{names:?}");
        assert!(names.contains(&"deal_field.amount"), "{names:?}");
        assert!(names.contains(&"company_field.website"), "{names:?}");
        assert!(names.contains(&"contact_field.jobtitle"), "{names:?}");
        assert!(names.contains(&"companies_on_archive"), "{names:?}");
    }
}
