//! The module's settings, stored as xentral stores a module's settings: JSON in a
//! `konfiguration` row, with the old module's key names. The row is our own
//! (`hubspot_sync_settings`): the old module's `hubspot_settings` row, with its differently
//! typed values, stays as it was (the host offers its values as defaults).

use serde::{Deserialize, Serialize};

use crate::api::{ContactMode, PluginError, Settings, StageMode};
use crate::engine::rules::SyncRule;
use crate::hubspot::ApiVersion;
use crate::platform::{Db, DbError, Value};

/// The `konfiguration` row holding the settings.
pub const SETTINGS_KEY: &str = "hubspot_sync_settings";

/// The stored form of [`Settings`] (old key names `hs_sync_*`, `hs_contact_grp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSettings {
    /// Contacts on/off.
    pub hs_sync_addresses: bool,
    /// Contacts start time (RFC 3339), empty for all.
    #[serde(default)]
    pub hs_sync_addresses_from: String,
    /// Lead statuses that take part (empty: all).
    #[serde(default)]
    pub hs_sync_address_status: Vec<String>,
    /// Deals on/off.
    pub hs_sync_deals: bool,
    /// The contact group's name.
    pub hs_contact_grp: String,
    /// Stage mapping mode.
    #[serde(default)]
    pub hs_stage_mode: StageMode,
    /// HubSpot API base URL.
    pub hubspot_url: String,
    /// Name of the host-held credential (never the token itself).
    pub hubspot_credential: String,
    /// Which HubSpot API paths the client calls (absent in settings stored before there was
    /// a choice: the default).
    #[serde(default)]
    pub hs_api_version: ApiVersion,
    /// How contacts sync (absent in settings stored before there was a choice: two-way,
    /// xentral wins).
    #[serde(default)]
    pub hs_contact_rule: SyncRule,
    /// How deals sync.
    #[serde(default)]
    pub hs_deal_rule: SyncRule,
    /// Companies on/off (absent in settings stored before companies synced: off).
    #[serde(default)]
    pub hs_sync_companies: bool,
    /// Where a synced company's contacts live (absent: as addresses, as before).
    #[serde(default)]
    pub hs_contact_mode: ContactMode,
    /// How companies sync.
    #[serde(default)]
    pub hs_company_rule: SyncRule,
}

impl StoredSettings {
    /// The stored form of settings [`validate`] accepted (with the API version it read).
    pub fn new(s: &Settings, api_version: ApiVersion) -> Self {
        StoredSettings {
            hs_sync_addresses: s.contacts,
            hs_sync_addresses_from: s.contacts_since.clone().unwrap_or_default(),
            hs_sync_address_status: s.lead_statuses.clone(),
            hs_sync_deals: s.deals,
            hs_contact_grp: s.group.clone(),
            hs_stage_mode: s.stage_mode,
            hubspot_url: s.hubspot_url.clone(),
            hubspot_credential: s.credential.clone(),
            hs_api_version: api_version,
            hs_contact_rule: s.contact_rule.clone(),
            hs_deal_rule: s.deal_rule.clone(),
            hs_sync_companies: s.companies,
            hs_contact_mode: s.contact_mode,
            hs_company_rule: s.company_rule.clone(),
        }
    }
}

/// Reads a `konfiguration` value.
pub fn read_konfiguration(db: &mut dyn Db, name: &str) -> Result<Option<String>, DbError> {
    let rows = db.query(
        "SELECT wert FROM konfiguration WHERE name = ?",
        &[Value::from(name)],
    )?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_text))
}

/// Writes a `konfiguration` value; returns whether it changed.
pub fn write_konfiguration(db: &mut dyn Db, name: &str, value: &str) -> Result<bool, DbError> {
    match read_konfiguration(db, name)? {
        Some(current) if current == value => Ok(false),
        Some(_) => {
            db.execute(
                "UPDATE konfiguration SET wert = ? WHERE name = ?",
                &[Value::from(value), Value::from(name)],
            )?;
            Ok(true)
        }
        None => {
            db.execute(
                "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES (?, ?, 0, 0)",
                &[Value::from(name), Value::from(value)],
            )?;
            Ok(true)
        }
    }
}

/// Loads the stored settings, or says that the module is not configured.
pub fn load(db: &mut dyn Db) -> Result<StoredSettings, PluginError> {
    let raw = read_konfiguration(db, SETTINGS_KEY)?.ok_or_else(|| {
        PluginError::NotConfigured(
            "HubSpot is not connected yet: run `xentral-host settings TENANT --hubspot-url URL --token TOKEN` first"
                .into(),
        )
    })?;
    serde_json::from_str(&raw).map_err(|e| {
        PluginError::NotConfigured(format!(
            "the stored HubSpot settings ({SETTINGS_KEY}) are unreadable: {e}; save the settings again"
        ))
    })
}

/// Stores the settings; returns whether they changed.
pub fn store(db: &mut dyn Db, settings: &StoredSettings) -> Result<bool, PluginError> {
    let json =
        serde_json::to_string(settings).map_err(|e| PluginError::InvalidSettings(e.to_string()))?;
    Ok(write_konfiguration(db, SETTINGS_KEY, &json)?)
}

/// Checks settings before anything is written; returns the API version they name.
pub fn validate(s: &Settings) -> Result<ApiVersion, PluginError> {
    if !(s.hubspot_url.starts_with("https://") || s.hubspot_url.starts_with("http://")) {
        return Err(PluginError::InvalidSettings(format!(
            "the HubSpot URL '{}' must start with https:// (or http:// for a local emulator)",
            s.hubspot_url
        )));
    }
    if s.group.trim().is_empty() {
        return Err(PluginError::InvalidSettings(
            "the contact group name must not be empty".into(),
        ));
    }
    if let Some(since) = &s.contacts_since {
        chrono::DateTime::parse_from_rfc3339(since).map_err(|e| {
            PluginError::InvalidSettings(format!(
                "the contacts start time '{since}' is not an RFC 3339 instant ({e}), e.g. 2024-01-31T00:00:00Z"
            ))
        })?;
    }
    use crate::kinds::{companies, contacts, deals, persons};
    let mut contact_fields = crate::mapping::field_names(contacts::FIELDS);
    for f in crate::mapping::field_names(persons::ALL_FIELDS) {
        if !contact_fields.contains(&f) {
            contact_fields.push(f);
        }
    }
    s.contact_rule
        .validate("contact", &contact_fields)
        .and_then(|()| {
            s.company_rule
                .validate("company", &crate::mapping::field_names(companies::FIELDS))
        })
        .and_then(|()| s.deal_rule.validate("deal", deals::DEAL_FIELDS))
        .map_err(PluginError::InvalidSettings)?;
    ApiVersion::parse(&s.api_version).map_err(PluginError::InvalidSettings)
}

/// A warning when the contacts start time lies after `now_ms`: every contact created before
/// it is left out, so nothing that exists today takes part.
pub fn future_start_warning(s: &Settings, now_ms: i64) -> Option<String> {
    let since = chrono::DateTime::parse_from_rfc3339(s.contacts_since.as_deref()?).ok()?;
    (s.contacts && since.timestamp_millis() > now_ms).then(|| {
        format!(
            "the contacts start time {} lies in the future: contacts created before it are left out, so none of the contacts that exist today will sync",
            since.to_rfc3339()
        )
    })
}
