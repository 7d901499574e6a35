//! Saving a tenant's settings (the module's Save button, `xentral-host settings`): what the
//! operator gave over what was saved before, checked and applied by the plugin.

use crate::host::{Connection, HostError, XentralHost};
use crate::report::{
    ArchiveAction, ConfigureReport, ContactMode, DeleteAction, FieldDirection, Settings, Side,
    StageMode, SyncDirection, SyncRule,
};
use crate::sandbox::Invocation;

/// What the operator changes on Save; `None` keeps the saved value (the first time: the old
/// HubSpot module's, else the built-in one; see [`crate::settings_defaults`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    /// Contacts on or off.
    pub contacts: Option<bool>,
    /// The contacts start time (RFC 3339); an empty text clears it.
    pub contacts_since: Option<String>,
    /// The lead statuses that take part; blank entries are dropped, so an empty list (or one
    /// of blanks) clears the filter.
    pub lead_statuses: Option<Vec<String>>,
    /// The contact group's name.
    pub group: Option<String>,
    /// Deals on or off.
    pub deals: Option<bool>,
    /// How deal stages map to resubmission stages.
    pub stage_mode: Option<StageMode>,
    /// The HubSpot API version (`2026-03`, `legacy`).
    pub api_version: Option<String>,
    /// Companies on or off.
    pub companies: Option<bool>,
    /// Where a synced company's contacts live in xentral.
    pub contact_mode: Option<ContactMode>,
    /// How contacts sync.
    pub contact_rule: RuleChange,
    /// How companies sync.
    pub company_rule: RuleChange,
    /// How deals sync.
    pub deal_rule: RuleChange,
}

/// What changes in one object kind's Data Sync rule; `None` keeps the saved value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleChange {
    /// The kind's direction.
    pub direction: Option<SyncDirection>,
    /// Whose value stands when a field changed on both sides.
    pub conflict_winner: Option<Side>,
    /// Fields given a direction of their own; [`SyncDirection::TwoWay`] takes a field's own
    /// direction away (it follows the kind again).
    pub fields: Vec<(String, SyncDirection)>,
    /// What xentral does when HubSpot archives a linked record.
    pub on_hubspot_archive: Option<ArchiveAction>,
    /// What HubSpot gets when xentral deletes a linked record.
    pub on_xentral_delete: Option<DeleteAction>,
}

impl RuleChange {
    /// The saved rule with this change applied.
    pub fn apply(&self, mut rule: SyncRule) -> SyncRule {
        if let Some(d) = self.direction {
            rule.direction = d;
        }
        if let Some(w) = self.conflict_winner {
            rule.conflict_winner = w;
        }
        for (field, d) in &self.fields {
            rule.fields.retain(|f| f.field != *field);
            if *d != SyncDirection::TwoWay {
                rule.fields.push(FieldDirection {
                    field: field.clone(),
                    direction: *d,
                });
            }
        }
        rule.fields.sort_by(|a, b| a.field.cmp(&b.field));
        if let Some(a) = self.on_hubspot_archive {
            rule.on_hubspot_archive = a;
        }
        if let Some(d) = self.on_xentral_delete {
            rule.on_xentral_delete = d;
        }
        rule
    }
}

impl SettingsChange {
    /// The settings `saved` with this change applied (the URL and credential are the host's
    /// to fill in).
    pub fn apply(&self, saved: Settings) -> Settings {
        Settings {
            hubspot_url: String::new(),
            credential: crate::HUBSPOT_CREDENTIAL.into(),
            contacts: self.contacts.unwrap_or(saved.contacts),
            contacts_since: match &self.contacts_since {
                Some(since) if since.trim().is_empty() => None,
                Some(since) => Some(since.clone()),
                None => saved.contacts_since,
            },
            lead_statuses: match &self.lead_statuses {
                Some(statuses) => statuses
                    .iter()
                    .filter(|s| !s.trim().is_empty())
                    .cloned()
                    .collect(),
                None => saved.lead_statuses,
            },
            group: self.group.clone().unwrap_or(saved.group),
            deals: self.deals.unwrap_or(saved.deals),
            stage_mode: self.stage_mode.unwrap_or(saved.stage_mode),
            api_version: self.api_version.clone().unwrap_or(saved.api_version),
            companies: self.companies.unwrap_or(saved.companies),
            contact_mode: self.contact_mode.unwrap_or(saved.contact_mode),
            contact_rule: self.contact_rule.apply(saved.contact_rule),
            company_rule: self.company_rule.apply(saved.company_rule),
            deal_rule: self.deal_rule.apply(saved.deal_rule),
        }
    }

    /// Whether the setting the `settings` flag `flag` stands for is given (the old module's
    /// values are reported only for settings not given).
    fn gives(&self, flag: &str) -> bool {
        match flag {
            "contacts" => self.contacts.is_some(),
            "contacts-since" => self.contacts_since.is_some(),
            "lead-status" => self.lead_statuses.is_some(),
            "deals" => self.deals.is_some(),
            "group" => self.group.is_some(),
            _ => false,
        }
    }
}

/// What the operator would save if Save were pressed now with `change`: the saved settings
/// (or the old module's, or the built-in ones) with the change applied. The console shows
/// this back when a save was refused, so nothing the operator entered is lost.
pub fn settings_with(
    host: &XentralHost,
    tenant: &str,
    change: &SettingsChange,
) -> Result<Settings, HostError> {
    Ok(change.apply(host.settings_defaults(tenant)?.settings))
}

/// Saves `change` over the tenant's saved settings through the plugin's `configure`, with
/// `connection` (a new URL, token or CA; `None`s keep the saved ones). The first save of a
/// tenant that ran the old HubSpot module says which of its settings were taken over.
pub fn save_settings(
    host: &XentralHost,
    tenant: &str,
    connection: &Connection<'_>,
    change: &SettingsChange,
) -> Result<Invocation<ConfigureReport>, HostError> {
    let defaults = host.settings_defaults(tenant)?;
    let from_old_module: Vec<String> = defaults
        .from_old_module
        .iter()
        .filter(|(flag, _)| !change.gives(flag))
        .map(|(flag, value)| format!("{flag} {value}"))
        .collect();
    let settings = change.apply(defaults.settings);
    let mut invocation = host.configure(tenant, connection, &settings)?;
    if let Ok(report) = &mut invocation.result
        && !from_old_module.is_empty()
    {
        report.changes.insert(
            0,
            format!(
                "took over the old HubSpot module's settings: {}",
                from_old_module.join("; ")
            ),
        );
    }
    Ok(invocation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_given_keeps_every_saved_setting() {
        let saved = Settings {
            contacts_since: Some("2024-01-01T00:00:00Z".into()),
            lead_statuses: vec!["NEW".into()],
            group: "Kunden".into(),
            ..crate::settings_defaults::built_in(crate::bindings::CONTRACT_VERSION)
        };
        assert_eq!(SettingsChange::default().apply(saved.clone()), saved);
    }

    #[test]
    fn blanks_clear_the_start_time_and_the_lead_statuses() {
        let saved = Settings {
            contacts_since: Some("2024-01-01T00:00:00Z".into()),
            lead_statuses: vec!["NEW".into()],
            ..crate::settings_defaults::built_in(crate::bindings::CONTRACT_VERSION)
        };
        let change = SettingsChange {
            contacts_since: Some(" ".into()),
            lead_statuses: Some(vec![String::new()]),
            ..SettingsChange::default()
        };
        let s = change.apply(saved);
        assert_eq!((s.contacts_since, s.lead_statuses), (None, Vec::new()));
    }

    #[test]
    fn a_field_set_two_way_follows_its_kind_again() {
        let mut rule = SyncRule::default();
        rule.fields.push(FieldDirection {
            field: "phone".into(),
            direction: SyncDirection::ToHubspot,
        });
        let change = RuleChange {
            conflict_winner: Some(Side::Hubspot),
            fields: vec![
                ("phone".into(), SyncDirection::TwoWay),
                ("city".into(), SyncDirection::ToXentral),
            ],
            on_hubspot_archive: Some(ArchiveAction::Mark),
            ..RuleChange::default()
        };
        let rule = change.apply(rule);
        assert_eq!(rule.conflict_winner, Side::Hubspot);
        assert_eq!(
            rule.fields,
            [FieldDirection {
                field: "city".to_owned(),
                direction: SyncDirection::ToXentral
            }]
        );
        assert_eq!(rule.on_hubspot_archive, ArchiveAction::Mark);
        assert_eq!(rule.on_xentral_delete, DeleteAction::Keep);
    }
}
