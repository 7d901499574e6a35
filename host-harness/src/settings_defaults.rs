//! What `settings` starts from when a flag is not given: the settings last saved for the
//! tenant, else the old HubSpot module's (xentral's `konfiguration` row `hubspot_settings`, for
//! installs that switch to us), else the built-in defaults. A flag given always wins, so
//! `settings acme --group Kunden` changes the group and nothing else.

use serde_json::Value as Json;
use xentral_erp::{Database, DbError, Value};

use crate::host::HUBSPOT_CREDENTIAL;
use crate::report::{Settings, StageMode, SyncRule};

/// Where the defaults came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The settings saved last time.
    Saved,
    /// The old HubSpot module's settings (some fields; the rest built in).
    OldModule,
    /// Nothing saved anywhere.
    BuiltIn,
}

/// The defaults for `settings`, and which fields the old module supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    /// The settings to start from.
    pub settings: Settings,
    /// Where they came from.
    pub source: Source,
    /// The settings the old module supplied: the command-line flag each stands for
    /// (`group`, `lead-status`, …) and its value, for `settings` to say so.
    pub from_old_module: Vec<(&'static str, String)>,
}

/// The built-in settings (the old module's defaults too: contacts and deals on, group
/// `Hubspot`, automatic stages, every contact).
pub fn built_in() -> Settings {
    Settings {
        hubspot_url: String::new(),
        credential: HUBSPOT_CREDENTIAL.into(),
        contacts: true,
        contacts_since: None,
        lead_statuses: Vec::new(),
        group: "Hubspot".into(),
        deals: true,
        stage_mode: StageMode::Automatic,
        api_version: String::new(),
        contact_rule: SyncRule::default(),
        deal_rule: SyncRule::default(),
    }
}

/// The defaults: `saved` if there are saved settings, else the old module's read from `db`
/// (an admin connection of the tenant database), else [`built_in`].
pub fn resolve(db: &mut dyn Database, saved: Option<&Settings>) -> Result<Defaults, DbError> {
    if let Some(saved) = saved {
        return Ok(Defaults {
            settings: saved.clone(),
            source: Source::Saved,
            from_old_module: Vec::new(),
        });
    }
    let raw = db
        .query(
            "SELECT wert FROM konfiguration WHERE name = 'hubspot_settings' LIMIT 1",
            &[],
        )?
        .scalar()
        .and_then(Value::to_text);
    let Some(old) = raw.and_then(|r| serde_json::from_str::<Json>(&r).ok()) else {
        return Ok(Defaults {
            settings: built_in(),
            source: Source::BuiltIn,
            from_old_module: Vec::new(),
        });
    };
    let mut settings = built_in();
    let mut taken = Vec::new();
    if let Some(on) = old.get("hs_sync_addresses").and_then(flag) {
        settings.contacts = on;
        taken.push(("contacts", on_off(on)));
    }
    if let Some(since) = old.get("hs_sync_addresses_from").and_then(instant) {
        taken.push(("contacts-since", since.clone()));
        settings.contacts_since = Some(since);
    }
    if let Some(statuses) = old.get("hs_sync_address_status").map(statuses)
        && !statuses.is_empty()
    {
        taken.push(("lead-status", statuses.join(", ")));
        settings.lead_statuses = statuses;
    }
    if let Some(on) = old.get("hs_sync_deals").and_then(flag) {
        settings.deals = on;
        taken.push(("deals", on_off(on)));
    }
    if let Some(group) = old.get("hs_contact_grp").and_then(scalar_text) {
        let name = match group.parse::<i64>() {
            Ok(id) => db
                .query(
                    "SELECT name FROM gruppen WHERE id = ?",
                    &[Value::Integer(id)],
                )?
                .scalar()
                .and_then(Value::to_text),
            Err(_) => Some(group),
        };
        if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
            taken.push(("group", name.clone()));
            settings.group = name;
        }
    }
    Ok(Defaults {
        settings,
        source: Source::OldModule,
        from_old_module: taken,
    })
}

fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.to_owned()
}

fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// PHP's ways of saying yes or no: `true`, `1`, `"1"`, `"on"`, `"true"`, `"yes"`, and their
/// opposites.
fn flag(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => n.as_i64().map(|n| n != 0),
        Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "on" | "true" | "yes" => Some(true),
            "0" | "off" | "false" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The start time as RFC 3339: Unix seconds (a number or digits), or a date `YYYY-MM-DD` /
/// `DD.MM.YYYY` at midnight UTC.
fn instant(v: &Json) -> Option<String> {
    let text = scalar_text(v)?;
    let at = match text.parse::<i64>() {
        Ok(0) => return None,
        Ok(secs) => chrono::DateTime::from_timestamp(secs, 0)?,
        Err(_) => {
            let date = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .or_else(|_| chrono::NaiveDate::parse_from_str(&text, "%d.%m.%Y"))
                .ok()?;
            date.and_hms_opt(0, 0, 0)?.and_utc()
        }
    };
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Lead statuses: a list, or one comma-separated text.
fn statuses(v: &Json) -> Vec<String> {
    let items: Vec<String> = match v {
        Json::Array(a) => a.iter().filter_map(scalar_text).collect(),
        other => scalar_text(other)
            .map(|s| s.split(',').map(|p| p.trim().to_owned()).collect())
            .unwrap_or_default(),
    };
    items.into_iter().filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn php_flags_read_as_xentral_wrote_them() {
        for yes in [json!(true), json!(1), json!("1"), json!("on"), json!("Yes")] {
            assert_eq!(flag(&yes), Some(true), "{yes}");
        }
        for no in [json!(false), json!(0), json!("0"), json!(""), json!("off")] {
            assert_eq!(flag(&no), Some(false), "{no}");
        }
        assert_eq!(flag(&json!("maybe")), None);
    }

    #[test]
    fn start_times_in_seconds_or_dates_become_rfc3339() {
        assert_eq!(
            instant(&json!(1_704_067_200)).as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            instant(&json!("1704067200")).as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            instant(&json!("2024-03-05")).as_deref(),
            Some("2024-03-05T00:00:00Z")
        );
        assert_eq!(
            instant(&json!("05.03.2024")).as_deref(),
            Some("2024-03-05T00:00:00Z")
        );
        assert_eq!(instant(&json!(0)), None);
        assert_eq!(instant(&json!("soon")), None);
    }

    #[test]
    fn statuses_as_a_list_or_a_comma_separated_text() {
        assert_eq!(statuses(&json!(["NEW", "OPEN"])), ["NEW", "OPEN"]);
        assert_eq!(statuses(&json!("NEW, OPEN,")), ["NEW", "OPEN"]);
        assert!(statuses(&json!(null)).is_empty());
    }
}
