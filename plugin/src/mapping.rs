//! Field maps between HubSpot contacts and xentral addresses, in canonical form.
//!
//! Both sides are reduced to the same canonical values before they are compared (e-mail
//! lower-cased, countries as ISO-2 codes, whitespace trimmed), so a value we wrote comes back
//! equal and is not mistaken for a change.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value as Json};

use crate::engine::merge::Fields;
use crate::hubspot::Record;
use crate::platform::{Db, DbError, Value};

/// The canonical contact fields, in the order they are merged.
pub const CONTACT_FIELDS: &[&str] = &[
    "email",
    "firstname",
    "lastname",
    "phone",
    "address",
    "zip",
    "city",
    "country",
    "state",
    "website",
    "lead_status",
    "lifecycle_stage",
];

/// Fields xentral keeps once it has a value (the old module never overwrote the e-mail).
pub const KEEP_IN_XENTRAL: &[&str] = &["email"];

/// The HubSpot property of a canonical field.
pub fn hubspot_property(field: &str) -> &str {
    match field {
        "lead_status" => "hs_lead_status",
        "lifecycle_stage" => "lifecyclestage",
        other => other,
    }
}

/// Properties to request for contacts.
pub fn contact_properties() -> Vec<String> {
    let mut props: Vec<String> = CONTACT_FIELDS
        .iter()
        .map(|f| hubspot_property(f).to_owned())
        .collect();
    props.extend(
        ["createdate", "lastmodifieddate", "hs_object_id"]
            .iter()
            .map(|s| (*s).to_owned()),
    );
    props
}

/// The two address free-field columns that hold lead status and lifecycle stage (`None`
/// while the user has not assigned one: that field is then not synchronised).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreeFields {
    /// Column for the lead status, e.g. `freifeld1`.
    pub lead_status: Option<String>,
    /// Column for the lifecycle stage, e.g. `freifeld2`.
    pub lifecycle_stage: Option<String>,
}

impl FreeFields {
    /// The canonical fields synchronised with these free fields.
    pub fn fields(&self) -> Vec<&'static str> {
        CONTACT_FIELDS
            .iter()
            .copied()
            .filter(|f| match *f {
                "lead_status" => self.lead_status.is_some(),
                "lifecycle_stage" => self.lifecycle_stage.is_some(),
                _ => true,
            })
            .collect()
    }

    /// Parses `adressefreifeldN` / `freifeldN` into the column name, refusing anything else so
    /// nothing can be spliced into SQL.
    pub fn column(name: &str) -> Option<String> {
        let n = name
            .trim()
            .strip_prefix("adresse")
            .unwrap_or(name.trim())
            .strip_prefix("freifeld")?;
        let n: u32 = n.parse().ok()?;
        (1..=20).contains(&n).then(|| format!("freifeld{n}"))
    }
}

/// xentral's column for each canonical field (free fields resolved), with its size.
fn xentral_column<'a>(field: &str, ff: &'a FreeFields) -> Option<(&'a str, usize)> {
    Some(match field {
        "email" => ("email", 255),
        "firstname" => ("vorname", 255),
        "lastname" => ("nachname", 128),
        "phone" => ("telefon", 64),
        "address" => ("strasse", 255),
        "zip" => ("plz", 64),
        "city" => ("ort", 64),
        "country" => ("land", 64),
        "state" => ("bundesstaat", 32),
        "website" => ("internetseite", 1000),
        "lead_status" => (ff.lead_status.as_deref()?, 1000),
        "lifecycle_stage" => (ff.lifecycle_stage.as_deref()?, 1000),
        _ => return None,
    })
}

/// Cuts a value to at most `max` characters (what a MariaDB column of that size holds), on a
/// grapheme boundary: an emoji sequence or a letter with its combining marks is kept whole or
/// left out whole, never cut in the middle (a dangling zero-width joiner).
pub fn truncate(v: &str, max: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    if v.chars().count() <= max {
        return v.to_owned();
    }
    let mut out = String::new();
    let mut chars = 0;
    for g in v.graphemes(true) {
        let n = g.chars().count();
        if chars + n > max {
            break;
        }
        chars += n;
        out.push_str(g);
    }
    out
}

/// The fields of `values` that xentral could not hold whole (`stored` is what was written).
pub fn cut_fields(values: &Fields, stored: &Fields) -> Vec<String> {
    values
        .iter()
        .filter(|(f, v)| stored.get(*f).is_some_and(|s| s != *v))
        .map(|(f, _)| f.clone())
        .collect()
}

/// Country names and codes from xentral's `laender` table.
#[derive(Debug, Clone, Default)]
pub struct Countries {
    by_name: HashMap<String, String>,
    english: HashMap<String, String>,
}

impl Countries {
    /// Loads `laender`.
    pub fn load(db: &mut dyn Db) -> Result<Countries, DbError> {
        let rows = db.query(
            "SELECT iso, iso3, bezeichnung_de, bezeichnung_en FROM laender",
            &[],
        )?;
        let mut c = Countries::default();
        for r in rows.rows {
            let text = |i: usize| r.get(i).and_then(Value::as_text).unwrap_or_default();
            let iso = text(0).trim().to_uppercase();
            if iso.len() != 2 {
                continue;
            }
            for name in [text(0), text(1), text(2), text(3)] {
                let key = name.trim().to_lowercase();
                if !key.is_empty() {
                    c.by_name.entry(key).or_insert_with(|| iso.clone());
                }
            }
            c.english.insert(iso, text(3));
        }
        for (alias, iso) in [
            ("usa", "US"),
            ("united states of america", "US"),
            ("uk", "GB"),
            ("england", "GB"),
            ("great britain", "GB"),
            ("schweiz", "CH"),
        ] {
            if c.english.contains_key(iso) {
                c.by_name.entry(alias.into()).or_insert_with(|| iso.into());
            }
        }
        Ok(c)
    }

    /// The canonical form: the ISO-2 code when the name or code is known, else the text.
    pub fn canonical(&self, raw: &str) -> String {
        let t = raw.trim();
        self.by_name
            .get(&t.to_lowercase())
            .cloned()
            .unwrap_or_else(|| t.to_owned())
    }

    /// What HubSpot's free-text `country` gets: the English name of a known code.
    pub fn for_hubspot(&self, canonical: &str) -> String {
        self.english
            .get(canonical)
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| canonical.to_owned())
    }
}

fn put(out: &mut Fields, field: &str, value: String) {
    if !value.trim().is_empty() {
        out.insert(field.to_owned(), value);
    }
}

/// An e-mail as it is compared and stored in links, the one rule for every comparison of
/// e-mails (matching is done here, in Rust, never by SQL `=` or collations, which differ
/// between SQLite and MariaDB): every whitespace and invisible format character removed
/// (no e-mail contains one: they come from copy and paste), then folded to lower case per
/// character, Unicode-aware, with the final sigma folded like any sigma.
pub fn canonical_email(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && !is_invisible_format(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

/// Characters that show as nothing: soft hyphen, zero-width space and joiners, word joiner,
/// byte order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
    )
}

/// Canonical value of one field.
pub fn canonical(field: &str, raw: &str, countries: &Countries) -> String {
    let t = raw.trim();
    match field {
        "email" => canonical_email(t),
        "country" => countries.canonical(t),
        _ => t.to_owned(),
    }
}

/// The canonical fields of a HubSpot contact.
pub fn from_hubspot(r: &Record, countries: &Countries) -> Fields {
    let mut out = Fields::new();
    for f in CONTACT_FIELDS {
        put(
            &mut out,
            f,
            canonical(f, r.prop(hubspot_property(f)), countries),
        );
    }
    out
}

/// An address row as read for the sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressRow {
    /// `adresse.id`.
    pub id: i64,
    /// `geloescht`.
    pub deleted: bool,
    /// Column → value.
    pub columns: BTreeMap<String, String>,
}

/// The columns to select for an address (free fields validated).
pub fn address_columns(ff: &FreeFields) -> Vec<String> {
    let mut cols: Vec<String> = ["id", "geloescht", "name", "typ"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for f in CONTACT_FIELDS {
        if let Some((c, _)) = xentral_column(f, ff) {
            cols.push(c.to_owned());
        }
    }
    cols
}

/// Whether an address is a company with no person's name (`typ = 'firma'`, no first or last
/// name): it is not a contact, and HubSpot companies are not synchronised yet.
pub fn is_company_without_person(a: &AddressRow) -> bool {
    let col = |c: &str| a.columns.get(c).map_or("", |v| v.trim());
    col("typ").eq_ignore_ascii_case("firma")
        && col("vorname").is_empty()
        && col("nachname").is_empty()
}

/// The canonical fields of an address.
pub fn from_xentral(a: &AddressRow, ff: &FreeFields, countries: &Countries) -> Fields {
    let mut out = Fields::new();
    for f in CONTACT_FIELDS {
        if let Some((col, _)) = xentral_column(f, ff) {
            let raw = a.columns.get(col).map_or("", String::as_str);
            put(&mut out, f, canonical(f, raw, countries));
        }
    }
    out
}

/// Column assignments for writing canonical values into an address; returns the columns and
/// the canonical values as they will read back (after truncation).
pub fn to_xentral_columns(values: &Fields, ff: &FreeFields) -> (Vec<(String, String)>, Fields) {
    let mut cols = Vec::new();
    let mut stored = Fields::new();
    for (f, v) in values {
        if let Some((col, max)) = xentral_column(f, ff) {
            let written = truncate(v, max);
            cols.push((col.to_owned(), written.clone()));
            stored.insert(f.clone(), written.trim().to_owned());
        }
    }
    (cols, stored)
}

/// xentral's display name for a person: "firstname lastname", else the e-mail, else a
/// placeholder naming the HubSpot id (xentral requires a name).
pub fn display_name(first: &str, last: &str, email: &str, hubspot_id: &str) -> String {
    let full = format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_owned();
    if !full.is_empty() {
        truncate(&full, 255)
    } else if !email.trim().is_empty() {
        truncate(email.trim(), 255)
    } else {
        format!("HubSpot contact {hubspot_id}")
    }
}

/// HubSpot properties for canonical values.
pub fn to_hubspot_properties(values: &Fields, countries: &Countries) -> Map<String, Json> {
    let mut props = Map::new();
    for (f, v) in values {
        let value = if f == "country" {
            countries.for_hubspot(v)
        } else {
            v.clone()
        };
        props.insert(hubspot_property(f).to_owned(), Json::String(value));
    }
    props
}

/// Parses HubSpot's timestamps: epoch milliseconds or ISO-8601.
pub fn parse_instant_ms(raw: &str) -> Option<i64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(ms) = t.parse::<i64>() {
        return Some(ms);
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn countries() -> Countries {
        let mut c = Countries::default();
        for (k, v) in [("de", "DE"), ("germany", "DE"), ("deutschland", "DE")] {
            c.by_name.insert(k.into(), v.into());
        }
        c.english.insert("DE".into(), "Germany".into());
        c
    }

    #[test]
    fn country_names_and_codes_meet_in_iso2() {
        let c = countries();
        assert_eq!(c.canonical("Deutschland"), "DE");
        assert_eq!(c.canonical(" germany "), "DE");
        assert_eq!(c.canonical("de"), "DE");
        assert_eq!(c.canonical("Atlantis"), "Atlantis");
        assert_eq!(c.for_hubspot("DE"), "Germany");
    }

    #[test]
    fn email_is_compared_case_insensitively() {
        assert_eq!(
            canonical("email", " Ann@Example.COM ", &countries()),
            "ann@example.com"
        );
    }

    #[test]
    fn every_kind_of_whitespace_and_unicode_case_meet_in_one_email() {
        let key = canonical_email("jürgen.straße@beispiel.de");
        for raw in [
            " Jürgen.Straße@Beispiel.de",
            "\tJÜRGEN.STRAßE@BEISPIEL.DE\r\n",
            "\u{a0}jürgen.straße@beispiel.de\u{2003}",
            "\u{feff}jürgen.straße@beispiel.de\u{200b}",
            "jürgen.straße@beispiel.de\u{3000}",
        ] {
            assert_eq!(canonical_email(raw), key, "{raw:?}");
        }
        assert_eq!(
            canonical_email("σοφίας@x.gr"),
            canonical_email("ΣΟΦΊΑΣ@x.gr")
        );
        assert_ne!(canonical_email("ann@x.de"), canonical_email("anne@x.de"));
        assert_eq!(canonical_email(" \u{a0} "), "");
    }

    #[test]
    fn free_field_names_are_validated() {
        assert_eq!(
            FreeFields::column("adressefreifeld3").as_deref(),
            Some("freifeld3")
        );
        assert_eq!(
            FreeFields::column("freifeld20").as_deref(),
            Some("freifeld20")
        );
        assert_eq!(FreeFields::column("freifeld21"), None);
        assert_eq!(FreeFields::column("name; DROP TABLE adresse"), None);
    }

    #[test]
    fn huge_values_are_cut_on_character_boundaries() {
        let ff = FreeFields {
            lead_status: Some("freifeld1".into()),
            lifecycle_stage: Some("freifeld2".into()),
        };
        let v: Fields = [("city".to_owned(), "ö".repeat(100))].into();
        let (cols, stored) = to_xentral_columns(&v, &ff);
        assert_eq!(cols[0].1.chars().count(), 64);
        assert_eq!(stored["city"], "ö".repeat(64));
    }

    #[test]
    fn values_are_cut_on_grapheme_boundaries() {
        let family = "👩\u{200d}👩\u{200d}👧";
        let v = format!("{}{family}", "a".repeat(60));
        assert_eq!(truncate(&v, 64), "a".repeat(60), "no dangling joiner");
        assert_eq!(truncate(&v, 65), v);
        let accent = format!("{}e\u{301}", "a".repeat(63));
        assert_eq!(truncate(&accent, 64), "a".repeat(63));
        assert_eq!(truncate("kurz", 64), "kurz");
        for max in 0..70 {
            let cut = truncate(&v, max);
            assert!(cut.chars().count() <= max);
            assert!(!cut.ends_with('\u{200d}'));
        }
    }

    #[test]
    fn display_name_falls_back_to_email_then_id() {
        assert_eq!(display_name(" Ann ", "", "a@x", "1"), "Ann");
        assert_eq!(display_name("", "", "a@x", "1"), "a@x");
        assert_eq!(display_name("", "", "", "17"), "HubSpot contact 17");
    }

    #[test]
    fn timestamps_parse_in_both_forms() {
        assert_eq!(parse_instant_ms("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(
            parse_instant_ms("2019-10-30T03:30:17.883Z"),
            Some(1_572_406_217_883)
        );
    }
}

/// An amount as an exact decimal with two places (xentral's `decimal(10,2)`), computed on
/// the digits, never through a float: `"1234.5"` → `"1234.50"`, `"-0.005"` → `"-0.01"`
/// (half away from zero). `None` when the text is not a plain number.
pub fn canonical_amount(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut cents: u128 = 0;
    for b in int
        .bytes()
        .chain(frac.bytes().chain(std::iter::repeat(b'0')).take(2))
    {
        cents = cents.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
    }
    if frac.len() > 2 && frac.as_bytes()[2] >= b'5' {
        cents += 1;
    }
    let sign = if negative && cents > 0 { "-" } else { "" };
    Some(format!("{sign}{}.{:02}", cents / 100, cents % 100))
}

/// An amount as xentral's tables may hold it: a plain decimal (`1234.5`, what xentral itself
/// stores) or German notation as other modules and imports write it, a decimal comma with
/// optional thousands dots (`1.234,56`, `2,5`). `Ok(None)` when empty; `Err` says what could
/// not be read, so the record can be reported rather than its amount silently dropped.
pub fn xentral_amount(raw: &str) -> Result<Option<String>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(a) = canonical_amount(t) {
        return Ok(Some(a));
    }
    if let Some((int, frac)) = t.rsplit_once(',') {
        let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
        let groups: Vec<&str> = digits.split('.').collect();
        let grouped = groups.iter().enumerate().all(|(i, g)| {
            g.bytes().all(|b| b.is_ascii_digit())
                && match (i, groups.len()) {
                    (_, 1) => !g.is_empty(),
                    (0, _) => (1..=3).contains(&g.len()),
                    _ => g.len() == 3,
                }
        });
        if grouped
            && !frac.is_empty()
            && frac.bytes().all(|b| b.is_ascii_digit())
            && let Some(a) = canonical_amount(&format!("{sign}{}.{frac}", groups.concat()))
        {
            return Ok(Some(a));
        }
    }
    Err(format!(
        "amount '{t}' is not a number xentral writes (1234.56, or 1.234,56)"
    ))
}

/// A HubSpot close date as xentral's local date and time: a date-only value (or an instant
/// at exactly midnight UTC, HubSpot's form of a date) is that calendar day; any other instant
/// is converted into the tenant's time zone.
pub fn close_date_local(raw: &str, tz: chrono_tz::Tz) -> Option<(String, Option<String>)> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some((d.format("%Y-%m-%d").to_string(), None));
    }
    let ms = parse_instant_ms(t)?;
    let utc = chrono::DateTime::from_timestamp_millis(ms)?;
    if ms.rem_euclid(86_400_000) == 0 {
        return Some((utc.format("%Y-%m-%d").to_string(), None));
    }
    let local = utc.with_timezone(&tz);
    Some((
        local.format("%Y-%m-%d").to_string(),
        Some(local.format("%H:%M:%S").to_string()),
    ))
}

#[cfg(test)]
mod deal_value_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_are_exact_two_place_decimals() {
        assert_eq!(canonical_amount("1234.5").as_deref(), Some("1234.50"));
        assert_eq!(canonical_amount("1234").as_deref(), Some("1234.00"));
        assert_eq!(canonical_amount("0.105").as_deref(), Some("0.11"));
        assert_eq!(canonical_amount("-7.004").as_deref(), Some("-7.00"));
        assert_eq!(
            canonical_amount("99999999.99").as_deref(),
            Some("99999999.99")
        );
        assert_eq!(canonical_amount("1,234.00"), None);
        assert_eq!(canonical_amount("abc"), None);
        assert_eq!(canonical_amount(""), None);
    }

    #[test]
    fn amounts_in_the_notations_xentral_holds_are_read() {
        for (raw, want) in [
            ("1234.56", "1234.56"),
            ("1.234,56", "1234.56"),
            ("2,5", "2.50"),
            ("-1.000.000,1", "-1000000.10"),
            (" 7,005 ", "7.01"),
        ] {
            assert_eq!(xentral_amount(raw), Ok(Some(want.into())), "{raw}");
        }
        assert_eq!(xentral_amount(""), Ok(None));
        for bad in [
            "1,234.56",
            "12.34,5,6",
            "1.23,45",
            "abc",
            "1.2345,6",
            ",5",
            "5,",
        ] {
            assert!(xentral_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn close_dates_keep_the_calendar_day() {
        assert_eq!(
            close_date_local("2026-03-01", chrono_tz::America::Los_Angeles),
            Some(("2026-03-01".into(), None))
        );
        assert_eq!(
            close_date_local("2026-03-01T00:00:00.000Z", chrono_tz::America::Los_Angeles),
            Some(("2026-03-01".into(), None))
        );
        assert_eq!(
            close_date_local("2026-03-01T23:30:00Z", chrono_tz::Europe::Berlin),
            Some(("2026-03-02".into(), Some("00:30:00".into())))
        );
        assert_eq!(close_date_local("", chrono_tz::Europe::Berlin), None);
    }

    proptest! {
        #[test]
        fn canonical_amounts_are_fixed_points(cents in -10_000_000_000i64..10_000_000_000) {
            let s = format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100);
            prop_assert_eq!(canonical_amount(&s), Some(s.clone()));
        }
    }
}
