//! What `settings` starts from when a flag is not given: the settings last saved for the
//! tenant, else the old HubSpot module's (xentral's `konfiguration` row `hubspot_settings`, for
//! installs that switch to us), else the built-in defaults. A flag given always wins, so
//! `settings acme --group Kunden` changes the group and nothing else.
//!
//! The saved settings live in the tenant's `tenant.json` in the contract's form; settings
//! saved by a host before contract 0.3.0 (format 1) are read through [`upgrade_format_1`].

use serde::Deserialize;
use serde_json::Value as Json;
use xentral_erp::{Database, DbError, Value};

use crate::host::HUBSPOT_CREDENTIAL;
use crate::report::{ContactMode, Settings, StageMode, SyncRule};

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
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// The settings to start from.
    pub settings: Settings,
    /// Where they came from.
    pub source: Source,
    /// The settings the old module supplied: the command-line flag each stands for
    /// (`group`, `lead-status`, …) and its value, for `settings` to say so.
    pub from_old_module: Vec<(&'static str, String)>,
}

/// The built-in settings (the old module's defaults too: contacts, companies and deals on, a
/// synced company's contacts as its contact persons, group `Hubspot`, automatic stages, every
/// contact, both ways with xentral winning, records that end kept). A plugin of a contract
/// before 0.3.0 (`contract`) syncs no companies: for it they are off.
pub fn built_in(contract: &str) -> Settings {
    let companies = !matches!(contract, "0.1.0" | "0.2.0");
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
        companies,
        contact_mode: if companies {
            ContactMode::ContactPersons
        } else {
            ContactMode::Addresses
        },
        contact_rule: SyncRule::two_way(),
        company_rule: SyncRule::two_way(),
        deal_rule: SyncRule::two_way(),
    }
}

/// Reads the settings saved in `tenant.json`: the contract's form, or format 1 (a host before
/// contract 0.3.0) upgraded.
pub fn saved_settings<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Settings>, D::Error> {
    let Some(raw) = Option::<Json>::deserialize(d)? else {
        return Ok(None);
    };
    match serde_json::from_value::<Settings>(raw.clone()) {
        Ok(s) => Ok(Some(s)),
        Err(current) => serde_json::from_value(upgrade_format_1(raw)).map(Some).map_err(|old| {
            serde::de::Error::custom(format!(
                "the saved settings are unreadable ({current}; as saved by an earlier host: {old})"
            ))
        }),
    }
}

/// Settings as a host before contract 0.3.0 saved them, in the contract's form: enum values
/// were spelt as the command line spells them (`user-defined`, `to-xentral`), a rule's fields
/// were a map, and what 0.3.0 added is missing. What 0.3.0 added takes the values that change
/// nothing for the tenant: companies off, contacts as addresses, records that end kept.
pub fn upgrade_format_1(mut raw: Json) -> Json {
    fn pascal(kebab: &str) -> String {
        kebab
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect()
    }
    fn upgrade_enum(v: &mut Json) {
        if let Json::String(s) = v {
            *s = pascal(s);
        }
    }
    fn upgrade_rule(rule: Option<&mut Json>) -> Json {
        let Some(rule) = rule else {
            return serde_json::to_value(SyncRule::two_way()).expect("a rule serialises");
        };
        let mut rule = rule.take();
        if let Some(d) = rule.get_mut("direction") {
            upgrade_enum(d);
        }
        if let Some(w) = rule.get_mut("conflict_winner") {
            upgrade_enum(w);
        }
        let fields: Vec<Json> = match rule.get("fields") {
            Some(Json::Object(map)) => map
                .iter()
                .map(|(field, d)| {
                    let mut d = d.clone();
                    upgrade_enum(&mut d);
                    serde_json::json!({ "field": field, "direction": d })
                })
                .collect(),
            _ => Vec::new(),
        };
        let two_way = serde_json::to_value(SyncRule::two_way()).expect("a rule serialises");
        let mut out = two_way.clone();
        for key in ["direction", "conflict_winner"] {
            if let Some(v) = rule.get(key) {
                out[key] = v.clone();
            }
        }
        out["fields"] = Json::Array(fields);
        out
    }
    if let Some(m) = raw.get_mut("stage_mode") {
        upgrade_enum(m);
    }
    let contact_rule = upgrade_rule(raw.get_mut("contact_rule"));
    let deal_rule = upgrade_rule(raw.get_mut("deal_rule"));
    if let Json::Object(map) = &mut raw {
        map.entry("api_version").or_insert_with(|| Json::from(""));
        map.insert("contact_rule".into(), contact_rule);
        map.insert("deal_rule".into(), deal_rule);
        map.entry("company_rule")
            .or_insert_with(|| serde_json::to_value(SyncRule::two_way()).expect("serialises"));
        map.entry("companies").or_insert(Json::Bool(false));
        map.entry("contact_mode")
            .or_insert_with(|| serde_json::to_value(ContactMode::Addresses).expect("serialises"));
    }
    raw
}

/// The defaults: `saved` if there are saved settings, else the old module's read from `db`
/// (an admin connection of the tenant database), else [`built_in`] for a plugin of
/// `contract`.
pub fn resolve(
    db: &mut dyn Database,
    saved: Option<&Settings>,
    contract: &str,
) -> Result<Defaults, DbError> {
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
            settings: built_in(contract),
            source: Source::BuiltIn,
            from_old_module: Vec::new(),
        });
    };
    let mut settings = built_in(contract);
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
    fn settings_a_host_before_0_3_0_saved_read_as_they_were() {
        let old = json!({
            "hubspot_url": "https://api.hubapi.com",
            "credential": "hubspot",
            "contacts": true,
            "contacts_since": null,
            "lead_statuses": ["NEW"],
            "group": "Kunden",
            "deals": false,
            "stage_mode": "user-defined",
            "api_version": "legacy",
            "contact_rule": {
                "direction": "two-way",
                "conflict_winner": "hubspot",
                "fields": { "city": "to-xentral", "phone": "to-hubspot" }
            }
        });
        #[derive(Deserialize)]
        struct Saved {
            #[serde(deserialize_with = "saved_settings")]
            settings: Option<Settings>,
        }
        let s: Saved = serde_json::from_value(json!({ "settings": old })).unwrap();
        let s = s.settings.unwrap();
        assert_eq!(s.group, "Kunden");
        assert_eq!(s.stage_mode, StageMode::UserDefined);
        assert_eq!(s.api_version, "legacy");
        assert_eq!(s.contact_rule.conflict_winner, crate::report::Side::Hubspot);
        assert_eq!(
            s.contact_rule.field_direction("city"),
            crate::report::SyncDirection::ToXentral
        );
        assert_eq!(
            s.contact_rule.field_direction("phone"),
            crate::report::SyncDirection::ToHubspot
        );
        assert_eq!(s.deal_rule, SyncRule::two_way());
        assert!(!s.companies, "an upgrade changes nothing the tenant syncs");
        assert_eq!(s.contact_mode, ContactMode::Addresses);
        let again: Settings = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(again, s, "the contract's form reads back as written");
        let unreadable = serde_json::from_value::<Saved>(json!({ "settings": { "group": 7 } }));
        assert!(unreadable.is_err());
    }

    #[test]
    fn statuses_as_a_list_or_a_comma_separated_text() {
        assert_eq!(statuses(&json!(["NEW", "OPEN"])), ["NEW", "OPEN"]);
        assert_eq!(statuses(&json!("NEW, OPEN,")), ["NEW", "OPEN"]);
        assert!(statuses(&json!(null)).is_empty());
    }
}
