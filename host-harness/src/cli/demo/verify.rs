//! Compares both sides after a sync: every linked pair field by field, and whatever should
//! be linked but is not. The demo prints the number of mismatching records; 0 is the only
//! correct answer. Values are compared after the same normalisation the sync applies (e-mail
//! case, country names as ISO codes, amounts as two-place decimals, dates as calendar days).

use std::collections::{BTreeMap, HashMap};

use hubspot_emulator::{Emulator, ObjectType, Record};
use serde::Serialize;
use xentral_erp::{Database, DbError, Value};
use xentral_hubspot_plugin::mapping;

/// The outcome of a comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Comparison {
    /// Contact ⇄ address pairs compared.
    pub contacts_compared: usize,
    /// Deal ⇄ resubmission pairs compared.
    pub deals_compared: usize,
    /// Records that do not agree (or are not linked though they should be).
    pub mismatches: usize,
    /// The first few mismatches, for people.
    pub examples: Vec<String>,
}

impl Comparison {
    fn mismatch(&mut self, what: String) {
        self.mismatches += 1;
        if self.examples.len() < 10 {
            self.examples.push(what);
        }
    }
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::to_text)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn prop(r: &Record, name: &str) -> String {
    r.properties
        .get(name)
        .cloned()
        .flatten()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// An amount as an exact two-place decimal, by the plugin's own rule (never through a float).
fn amount(s: &str) -> String {
    mapping::canonical_amount(s).unwrap_or_default()
}

fn rows(db: &mut dyn Database, sql: &str) -> Result<Vec<BTreeMap<String, Value>>, DbError> {
    let r = db.query(sql, &[])?;
    Ok((0..r.len()).filter_map(|i| r.row_map(i)).collect())
}

/// What the plugin says it keeps in sync (its `links` and `list-stages` exports).
pub struct Linked {
    /// HubSpot contact id → address id.
    pub contacts: HashMap<String, i64>,
    /// HubSpot deal id → resubmission id.
    pub deals: HashMap<String, i64>,
    /// xentral stage id → the HubSpot stage it maps to.
    pub stages: HashMap<i64, super::scenario::DealStage>,
}

/// Compares the tenant database with the emulated portal: the contact group `group` as
/// xentral counts its members on `today`, dates in the tenant's `time_zone`, the pairs as
/// the plugin reports them (`linked`). Values are compared by the plugin's own canonical
/// rules (e-mail, amount, close date), so a difference found is a real one.
pub fn compare(
    db: &mut dyn Database,
    hubspot: &Emulator,
    linked: &Linked,
    group: &str,
    today: chrono::NaiveDate,
    time_zone: chrono_tz::Tz,
) -> Result<Comparison, DbError> {
    let mut c = Comparison::default();
    let countries: HashMap<String, String> = rows(
        db,
        "SELECT iso, bezeichnung_de, bezeichnung_en FROM laender",
    )?
    .into_iter()
    .flat_map(|r| {
        let iso = text(r.get("iso")).to_uppercase();
        [
            text(r.get("iso")),
            text(r.get("bezeichnung_de")),
            text(r.get("bezeichnung_en")),
        ]
        .into_iter()
        .map(move |n| (n.to_lowercase(), iso.clone()))
    })
    .collect();
    // Names people type that `laender` does not list; the plugin knows the same ones.
    let aliases = [
        ("usa", "US"),
        ("united states of america", "US"),
        ("uk", "GB"),
        ("england", "GB"),
        ("great britain", "GB"),
        ("schweiz", "CH"),
    ];
    let country = |s: &str| {
        let key = s.to_lowercase();
        countries
            .get(&key)
            .cloned()
            .or_else(|| {
                aliases
                    .iter()
                    .find(|(a, _)| *a == key)
                    .map(|(_, iso)| (*iso).to_owned())
            })
            .unwrap_or_else(|| s.to_owned())
    };
    let ff: BTreeMap<String, String> = rows(db, "SELECT name, wert FROM konfiguration WHERE name IN ('hubspot_ls_field', 'hubspot_lr_field')")?
        .into_iter()
        .map(|r| (text(r.get("name")), text(r.get("wert")).replace("adresse", "")))
        .collect();

    let contacts: HashMap<String, Record> = hubspot
        .objects(ObjectType::Contacts)
        .into_iter()
        .filter(|r| !r.archived)
        .map(|r| (r.id.clone(), r))
        .collect();
    let links = &linked.contacts;
    let addresses: HashMap<i64, BTreeMap<String, Value>> =
        rows(db, "SELECT * FROM adresse WHERE geloescht = 0")?
            .into_iter()
            .map(|r| (r.get("id").and_then(Value::as_i64).unwrap_or(0), r))
            .collect();
    for (id, contact) in &contacts {
        let Some(address) = links.get(id).and_then(|a| addresses.get(a)) else {
            c.mismatch(format!(
                "HubSpot contact {id} ({}) has no xentral address",
                prop(contact, "email")
            ));
            continue;
        };
        c.contacts_compared += 1;
        let mut pairs = vec![
            (
                "email",
                mapping::canonical_email(&prop(contact, "email")),
                mapping::canonical_email(&text(address.get("email"))),
            ),
            (
                "firstname",
                prop(contact, "firstname"),
                text(address.get("vorname")),
            ),
            (
                "lastname",
                prop(contact, "lastname"),
                text(address.get("nachname")),
            ),
            (
                "phone",
                prop(contact, "phone"),
                text(address.get("telefon")),
            ),
            ("city", prop(contact, "city"), text(address.get("ort"))),
            ("zip", prop(contact, "zip"), text(address.get("plz"))),
            (
                "address",
                prop(contact, "address"),
                text(address.get("strasse")),
            ),
            (
                "country",
                country(&prop(contact, "country")),
                country(&text(address.get("land"))),
            ),
        ];
        if let Some(col) = ff.get("hubspot_ls_field") {
            pairs.push((
                "hs_lead_status",
                prop(contact, "hs_lead_status"),
                text(address.get(col)),
            ));
        }
        if let Some(col) = ff.get("hubspot_lr_field") {
            pairs.push((
                "lifecyclestage",
                prop(contact, "lifecyclestage"),
                text(address.get(col)),
            ));
        }
        for (field, h, x) in pairs {
            if h != x {
                c.mismatch(format!(
                    "contact {id} {field}: HubSpot '{h}' ≠ xentral '{x}'"
                ));
                break;
            }
        }
    }
    let linked_addresses: std::collections::HashSet<i64> = links.values().copied().collect();
    let members = match xentral_erp::ui::find_group_by_name(db, group)? {
        Some(g) => xentral_erp::ui::group_members(db, g, today)?,
        None => Vec::new(),
    };
    for id in members {
        let Some(a) = addresses.get(&id) else {
            continue;
        };
        let email = text(a.get("email"));
        if !mapping::canonical_email(&email).is_empty() && !linked_addresses.contains(&id) {
            c.mismatch(format!(
                "address {id} ({email}) is in the group but not in HubSpot"
            ));
        }
    }

    let stage_map = &linked.stages;
    let deal_links = &linked.deals;
    let resubmissions: HashMap<i64, BTreeMap<String, Value>> =
        rows(db, "SELECT * FROM wiedervorlage")?
            .into_iter()
            .map(|r| (r.get("id").and_then(Value::as_i64).unwrap_or(0), r))
            .collect();
    for deal in hubspot
        .objects(ObjectType::Deals)
        .into_iter()
        .filter(|d| !d.archived)
    {
        let Some(w) = deal_links
            .get(&deal.id)
            .and_then(|id| resubmissions.get(id))
        else {
            c.mismatch(format!(
                "HubSpot deal {} ({}) has no resubmission",
                deal.id,
                prop(&deal, "dealname")
            ));
            continue;
        };
        c.deals_compared += 1;
        let stage = w
            .get("stages")
            .and_then(Value::as_i64)
            .and_then(|s| stage_map.get(&s));
        let date = text(w.get("datum_erinnerung"));
        let pairs = [
            (
                "dealname",
                prop(&deal, "dealname"),
                text(w.get("bezeichnung")),
            ),
            (
                "amount",
                amount(&prop(&deal, "amount")),
                amount(&text(w.get("betrag"))),
            ),
            (
                "stage",
                format!("{}:{}", prop(&deal, "pipeline"), prop(&deal, "dealstage")),
                stage
                    .map(xentral_host::report::stage_name)
                    .unwrap_or_default(),
            ),
            (
                "closedate",
                mapping::close_date_local(&prop(&deal, "closedate"), time_zone)
                    .map(|(day, _)| day)
                    .unwrap_or_default(),
                if date.starts_with("0000") {
                    String::new()
                } else {
                    date
                },
            ),
        ];
        for (field, h, x) in pairs {
            if h != x {
                c.mismatch(format!(
                    "deal {} {field}: HubSpot '{h}' ≠ xentral '{x}'",
                    deal.id
                ));
                break;
            }
        }
    }
    let linked_wv: std::collections::HashSet<i64> = deal_links.values().copied().collect();
    for (id, w) in &resubmissions {
        let in_scope = w
            .get("stages")
            .and_then(Value::as_i64)
            .is_some_and(|s| stage_map.contains_key(&s));
        if in_scope && !linked_wv.contains(id) {
            c.mismatch(format!(
                "resubmission {id} is in a HubSpot view but has no deal"
            ));
        }
    }
    Ok(c)
}
