//! Compares both sides after a sync: every linked pair field by field, and whatever should
//! be linked but is not. The demo prints the number of mismatching records; 0 is the only
//! correct answer. Values are compared after the same normalisation the sync applies (e-mail
//! case, country names as ISO codes, amounts as two-place decimals, dates as calendar days).

use std::collections::{BTreeMap, HashMap, HashSet};

use hubspot_emulator::{Emulator, ObjectType, Record};
use serde::Serialize;
use xentral_erp::{Database, DbError, Value};
use xentral_hubspot_plugin::mapping;

/// The outcome of a comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Comparison {
    /// Contact ⇄ address pairs compared.
    pub contacts_compared: usize,
    /// Contact ⇄ contact person pairs compared.
    pub persons_compared: usize,
    /// Company ⇄ company address pairs compared.
    pub companies_compared: usize,
    /// Deal ⇄ resubmission pairs compared.
    pub deals_compared: usize,
    /// HubSpot countries xentral's country list does not know, left empty in xentral (the
    /// sync notes each one).
    pub countries_not_written: usize,
    /// Records left out of the comparison because their link ended (health lists them).
    pub ended_skipped: usize,
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

/// Pairs whose link ended: the HubSpot ids and the xentral ids, by object kind.
#[derive(Debug, Clone, Default)]
pub struct Ended {
    hubspot: HashSet<(String, String)>,
    xentral: HashSet<(String, i64)>,
}

impl Ended {
    /// Adds an ended pair of `object`.
    pub fn add(&mut self, object: &str, hubspot_id: &str, xentral_id: i64) {
        self.hubspot
            .insert((object.to_owned(), hubspot_id.to_owned()));
        self.xentral.insert((object.to_owned(), xentral_id));
    }

    fn hubspot(&self, objects: &[&str], id: &str) -> bool {
        objects
            .iter()
            .any(|o| self.hubspot.contains(&((*o).to_owned(), id.to_owned())))
    }

    fn xentral(&self, objects: &[&str], id: i64) -> bool {
        objects
            .iter()
            .any(|o| self.xentral.contains(&((*o).to_owned(), id)))
    }
}

/// What the plugin says it keeps in sync (its `links` and `list-stages` exports).
pub struct Linked {
    /// HubSpot contact id → address id.
    pub contacts: HashMap<String, i64>,
    /// HubSpot contact id → contact person id.
    pub persons: HashMap<String, i64>,
    /// HubSpot company id → company address id.
    pub companies: HashMap<String, i64>,
    /// The pairs whose link ended, by object kind (`contact`, …), as sync health lists them:
    /// the sync stopped keeping them in step on purpose.
    pub ended: Ended,
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
    let countries = mapping::Countries::from_rows(
        rows(
            db,
            "SELECT iso, iso3, bezeichnung_de, bezeichnung_en FROM laender",
        )?
        .into_iter()
        .map(|r| {
            [
                text(r.get("iso")),
                text(r.get("iso3")),
                text(r.get("bezeichnung_de")),
                text(r.get("bezeichnung_en")),
            ]
        }),
    );
    let country = |s: &str| countries.canonical(s);
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
    let persons: BTreeMap<i64, BTreeMap<String, Value>> =
        rows(db, "SELECT * FROM ansprechpartner WHERE geloescht = 0")?
            .into_iter()
            .map(|r| (r.get("id").and_then(Value::as_i64).unwrap_or(0), r))
            .collect();
    let ended = &linked.ended;
    for (id, contact) in &contacts {
        if ended.hubspot(&["contact", "contact-person"], id) {
            c.ended_skipped += 1;
            continue;
        }
        if let Some(person) = linked.persons.get(id).and_then(|p| persons.get(p)) {
            c.persons_compared += 1;
            compare_person(&mut c, &countries, id, contact, person, &linked.companies);
            continue;
        }
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
        first_difference(&mut c, &countries, &format!("contact {id}"), pairs);
    }
    let linked_addresses: HashSet<i64> = links.values().copied().collect();
    let linked_companies: HashSet<i64> = linked.companies.values().copied().collect();
    let members = match xentral_erp::ui::find_group_by_name(db, group)? {
        Some(g) => xentral_erp::ui::group_members(db, g, today)?,
        None => Vec::new(),
    };
    for id in members {
        let Some(a) = addresses.get(&id) else {
            continue;
        };
        if ended.xentral(&["contact", "company"], id) {
            c.ended_skipped += 1;
            continue;
        }
        if is_company(a) {
            if !linked_companies.contains(&id) {
                c.mismatch(format!(
                    "company address {id} ({}) is in the group but not in HubSpot",
                    text(a.get("name"))
                ));
            }
            continue;
        }
        let email = text(a.get("email"));
        if !mapping::canonical_email(&email).is_empty() && !linked_addresses.contains(&id) {
            c.mismatch(format!(
                "address {id} ({email}) is in the group but not in HubSpot"
            ));
        }
    }

    compare_companies(&mut c, hubspot, linked, &addresses, &countries);
    let linked_persons: HashSet<i64> = linked.persons.values().copied().collect();
    for (id, p) in &persons {
        let company = p.get("adresse").and_then(Value::as_i64).unwrap_or(0);
        let email = text(p.get("email"));
        if linked_companies.contains(&company)
            && !mapping::canonical_email(&email).is_empty()
            && !linked_persons.contains(id)
            && !ended.xentral(&["contact-person"], *id)
        {
            c.mismatch(format!(
                "contact person {id} ({email}) of company address {company} is not in HubSpot"
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
        if ended.hubspot(&["deal"], &deal.id) {
            c.ended_skipped += 1;
            continue;
        }
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
        let pairs = vec![
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
        first_difference(&mut c, &countries, &format!("deal {}", deal.id), pairs);
    }
    let linked_wv: HashSet<i64> = deal_links.values().copied().collect();
    for (id, w) in &resubmissions {
        let in_scope = w
            .get("stages")
            .and_then(Value::as_i64)
            .is_some_and(|s| stage_map.contains_key(&s));
        if in_scope && !linked_wv.contains(id) && !ended.xentral(&["deal"], *id) {
            c.mismatch(format!(
                "resubmission {id} is in a HubSpot view but has no deal"
            ));
        }
    }
    Ok(c)
}

/// Whether an address is a company, by the plugin's own rule.
fn is_company(a: &BTreeMap<String, Value>) -> bool {
    text(a.get("typ")).eq_ignore_ascii_case("firma")
        && text(a.get("vorname")).is_empty()
        && text(a.get("nachname")).is_empty()
}

/// Records the first field of a pair list that differs. A HubSpot country xentral's country
/// list does not know is not written (the sync says so in its notes): counted apart, not
/// as a mismatch.
fn first_difference(
    c: &mut Comparison,
    countries: &mapping::Countries,
    what: &str,
    pairs: Vec<(&str, String, String)>,
) {
    for (field, h, x) in pairs {
        if h == x {
            continue;
        }
        if field == "country" && x.is_empty() && !countries.is_code(&h) {
            c.countries_not_written += 1;
            continue;
        }
        c.mismatch(format!("{what} {field}: HubSpot '{h}' ≠ xentral '{x}'"));
        return;
    }
}

/// A contact linked to a contact person: the person's fields, and the person belongs to the
/// company address linked to the contact's primary company.
fn compare_person(
    c: &mut Comparison,
    countries: &mapping::Countries,
    id: &str,
    contact: &Record,
    person: &BTreeMap<String, Value>,
    companies: &HashMap<String, i64>,
) {
    let first = text(person.get("vorname"));
    let company = person.get("adresse").and_then(Value::as_i64).unwrap_or(0);
    let primary = prop(contact, "associatedcompanyid");
    if companies.get(&primary) != Some(&company) {
        c.mismatch(format!(
            "contact {id}: its primary company {primary} is not the company address {company} of its contact person"
        ));
        return;
    }
    first_difference(
        c,
        countries,
        &format!("contact {id} (contact person)"),
        vec![
            (
                "email",
                mapping::canonical_email(&prop(contact, "email")),
                mapping::canonical_email(&text(person.get("email"))),
            ),
            ("firstname", prop(contact, "firstname"), first.clone()),
            (
                "lastname",
                prop(contact, "lastname"),
                xentral_hubspot_plugin::xentral::last_name(&text(person.get("name")), &first),
            ),
            ("phone", prop(contact, "phone"), text(person.get("telefon"))),
            (
                "mobilephone",
                prop(contact, "mobilephone"),
                text(person.get("mobil")),
            ),
            (
                "jobtitle",
                prop(contact, "jobtitle"),
                text(person.get("bereich")),
            ),
            (
                "department",
                prop(contact, "department"),
                text(person.get("abteilung")),
            ),
        ],
    );
}

/// Every live HubSpot company against its company address, field by field.
fn compare_companies(
    c: &mut Comparison,
    hubspot: &Emulator,
    linked: &Linked,
    addresses: &HashMap<i64, BTreeMap<String, Value>>,
    countries: &mapping::Countries,
) {
    for company in hubspot
        .objects(ObjectType::Companies)
        .into_iter()
        .filter(|r| !r.archived)
    {
        let id = &company.id;
        if linked.ended.hubspot(&["company"], id) {
            c.ended_skipped += 1;
            continue;
        }
        let Some(a) = linked.companies.get(id).and_then(|x| addresses.get(x)) else {
            c.mismatch(format!(
                "HubSpot company {id} ({}) has no xentral company address",
                prop(&company, "name")
            ));
            continue;
        };
        c.companies_compared += 1;
        first_difference(
            c,
            countries,
            &format!("company {id}"),
            vec![
                ("name", prop(&company, "name"), text(a.get("name"))),
                (
                    "website",
                    prop(&company, "website"),
                    text(a.get("internetseite")),
                ),
                ("phone", prop(&company, "phone"), text(a.get("telefon"))),
                ("address", prop(&company, "address"), text(a.get("strasse"))),
                ("zip", prop(&company, "zip"), text(a.get("plz"))),
                ("city", prop(&company, "city"), text(a.get("ort"))),
                (
                    "country",
                    countries.canonical(&prop(&company, "country")),
                    countries.canonical(&text(a.get("land"))),
                ),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn germany() -> mapping::Countries {
        mapping::Countries::from_rows([[
            "DE".to_owned(),
            "DEU".to_owned(),
            "Deutschland".to_owned(),
            "Germany".to_owned(),
        ]])
    }

    fn pairs(country: (&str, &str), city: (&str, &str)) -> Vec<(&'static str, String, String)> {
        vec![
            ("country", country.0.to_owned(), country.1.to_owned()),
            ("city", city.0.to_owned(), city.1.to_owned()),
        ]
    }

    #[test]
    fn a_country_xentral_does_not_know_left_empty_is_counted_apart() {
        let mut c = Comparison::default();
        first_difference(
            &mut c,
            &germany(),
            "contact 1",
            pairs(("España", ""), ("Madrid", "Madrid")),
        );
        assert_eq!((c.mismatches, c.countries_not_written), (0, 1));
    }

    #[test]
    fn a_known_country_left_empty_is_a_mismatch() {
        let mut c = Comparison::default();
        first_difference(
            &mut c,
            &germany(),
            "contact 1",
            pairs(("DE", ""), ("Berlin", "Berlin")),
        );
        assert_eq!((c.mismatches, c.countries_not_written), (1, 0));
        assert_eq!(c.examples, ["contact 1 country: HubSpot 'DE' ≠ xentral ''"]);
    }

    #[test]
    fn only_the_first_differing_field_of_a_record_counts() {
        let mut c = Comparison::default();
        first_difference(
            &mut c,
            &germany(),
            "contact 1",
            pairs(("DE", "AT"), ("Berlin", "Wien")),
        );
        assert_eq!(c.mismatches, 1);
    }
}
