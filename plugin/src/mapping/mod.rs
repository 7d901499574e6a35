//! Field maps between HubSpot records and xentral rows, in canonical form.
//!
//! Both sides are reduced to the same canonical values before they are compared (e-mail
//! folded, countries as ISO-2 codes, owners as HubSpot owner ids, whitespace trimmed), so a
//! value we wrote comes back equal and is not mistaken for a change. Each object kind states
//! its fields once, as a table of [`FieldSpec`]s; a [`FieldMap`] reads and writes both sides
//! by that table.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

pub mod amounts;
pub mod countries;
pub mod owners;

pub use amounts::{canonical_amount, close_date_local, xentral_amount};
pub use countries::Countries;
pub use owners::{Owner, OwnerMap};

use crate::engine::merge::Fields;
use crate::hubspot::Record;

/// How a field's values are read, compared and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Text, trimmed.
    Text,
    /// An e-mail ([`canonical_email`]).
    Email,
    /// A country: the ISO-2 code when `laender` knows the name or code; only a known code is
    /// written into xentral's ISO column, never raw text.
    Country,
    /// A HubSpot owner id ⇄ a xentral sales rep (an address id), by [`OwnerMap`].
    Owner,
    /// A company's web site: HubSpot's `website` (else its `domain`) ⇄ `internetseite`; a new
    /// company gets its `domain` from it too.
    Website,
}

/// Where a field lives in xentral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// A fixed column and how many characters it holds.
    Fixed(&'static str, usize),
    /// The address free field the user chose for the lead status.
    LeadStatus,
    /// The address free field the user chose for the lifecycle stage.
    LifecycleStage,
}

/// One canonical field of an object kind: its HubSpot property, its xentral column and how
/// its values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The canonical name (the one settings and conflicts use).
    pub field: &'static str,
    /// The HubSpot property.
    pub property: &'static str,
    /// The xentral column.
    pub column: Column,
    /// How values are read and written.
    pub kind: ValueKind,
}

/// The fields a person address and a company address share (`adresse`'s columns as both
/// HubSpot contacts and companies name them): one spec each, used by both kinds' tables.
pub mod address_fields {
    use super::{Column, FieldSpec, ValueKind};

    const fn text(field: &'static str, column: &'static str, size: usize) -> FieldSpec {
        FieldSpec {
            field,
            property: field,
            column: Column::Fixed(column, size),
            kind: ValueKind::Text,
        }
    }

    /// `phone` ⇄ `telefon`.
    pub const PHONE: FieldSpec = text("phone", "telefon", 64);
    /// `address` ⇄ `strasse`.
    pub const STREET: FieldSpec = text("address", "strasse", 255);
    /// `zip` ⇄ `plz`.
    pub const ZIP: FieldSpec = text("zip", "plz", 64);
    /// `city` ⇄ `ort`.
    pub const CITY: FieldSpec = text("city", "ort", 64);
    /// `state` ⇄ `bundesstaat`.
    pub const STATE: FieldSpec = text("state", "bundesstaat", 32);
    /// `country` ⇄ `land` (an ISO code in xentral).
    pub const COUNTRY: FieldSpec = FieldSpec {
        field: "country",
        property: "country",
        column: Column::Fixed("land", 64),
        kind: ValueKind::Country,
    };
    /// `hs_lead_status` ⇄ the free field the user assigned.
    pub const LEAD_STATUS: FieldSpec = FieldSpec {
        field: "lead_status",
        property: "hs_lead_status",
        column: Column::LeadStatus,
        kind: ValueKind::Text,
    };
    /// `lifecyclestage` ⇄ the free field the user assigned.
    pub const LIFECYCLE_STAGE: FieldSpec = FieldSpec {
        field: "lifecycle_stage",
        property: "lifecyclestage",
        column: Column::LifecycleStage,
        kind: ValueKind::Text,
    };
    /// `hubspot_owner_id` ⇄ `vertrieb` (the sales rep's address).
    pub const OWNER: FieldSpec = FieldSpec {
        field: "owner",
        property: "hubspot_owner_id",
        column: Column::Fixed("vertrieb", 11),
        kind: ValueKind::Owner,
    };
}

/// The names of a table's fields (what a rule may give a direction to).
pub fn field_names(specs: &[FieldSpec]) -> Vec<&'static str> {
    specs.iter().map(|s| s.field).collect()
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

/// What writing canonical values into a xentral row comes to: the columns to set, the
/// canonical values as they will read back (cut to fit), and the values xentral cannot hold
/// (field, why), which are not written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XentralWrite {
    /// Column → value.
    pub columns: Vec<(String, String)>,
    /// The canonical values as written.
    pub stored: Fields,
    /// Values not written, with the reason.
    pub refused: Vec<(String, String)>,
}

impl XentralWrite {
    /// Whether the database may keep a written value other than [`XentralWrite::stored`],
    /// so a new record is to be read back: xentral's text columns are utf8mb3 on MariaDB,
    /// which stores each character beyond the Basic Multilingual Plane (an emoji) as `?`.
    /// Lengths are cut to xentral's columns here already; nothing else changes a text.
    pub fn may_change_when_stored(&self) -> bool {
        self.columns
            .iter()
            .any(|(_, v)| v.chars().any(|c| u32::from(c) > 0xFFFF))
    }
}

/// One object kind's fields with what a run knows to read and write them: the free fields
/// chosen, the countries, the owners.
#[derive(Debug, Clone)]
pub struct FieldMap {
    specs: &'static [FieldSpec],
    ff: FreeFields,
    countries: Countries,
    owners: OwnerMap,
}

impl FieldMap {
    /// The map of a kind's field table.
    pub fn new(
        specs: &'static [FieldSpec],
        ff: FreeFields,
        countries: Countries,
        owners: OwnerMap,
    ) -> FieldMap {
        FieldMap {
            specs,
            ff,
            countries,
            owners,
        }
    }

    /// The free fields chosen (the columns of lead status and lifecycle stage).
    pub fn free_fields(&self) -> &FreeFields {
        &self.ff
    }

    /// The owners.
    pub fn owners(&self) -> &OwnerMap {
        &self.owners
    }

    /// The column of a spec, when it is synchronised (a free field the user has not chosen
    /// is not).
    fn column(&self, spec: &FieldSpec) -> Option<(&str, usize)> {
        match spec.column {
            Column::Fixed(c, max) => Some((c, max)),
            Column::LeadStatus => self.ff.lead_status.as_deref().map(|c| (c, 1000)),
            Column::LifecycleStage => self.ff.lifecycle_stage.as_deref().map(|c| (c, 1000)),
        }
    }

    fn synced(&self) -> impl Iterator<Item = (&FieldSpec, &str, usize)> {
        self.specs
            .iter()
            .filter_map(|s| self.column(s).map(|(c, max)| (s, c, max)))
    }

    /// The fields synchronised, in the table's order.
    pub fn fields(&self) -> Vec<&'static str> {
        self.synced().map(|(s, _, _)| s.field).collect()
    }

    /// The xentral columns to read.
    pub fn columns(&self) -> Vec<String> {
        self.synced().map(|(_, c, _)| c.to_owned()).collect()
    }

    /// The HubSpot properties to read (with `extra`, e.g. the modified time).
    pub fn properties(&self, extra: &[&str]) -> Vec<String> {
        let mut props: Vec<String> = self
            .synced()
            .flat_map(|(s, _, _)| match s.kind {
                ValueKind::Website => vec![s.property, "domain"],
                _ => vec![s.property],
            })
            .map(str::to_owned)
            .collect();
        props.extend(extra.iter().map(|p| (*p).to_owned()));
        let mut seen = std::collections::HashSet::new();
        props.retain(|p| seen.insert(p.clone()));
        props
    }

    /// The canonical values of a HubSpot record.
    pub fn from_hubspot(&self, r: &Record) -> Fields {
        let mut out = Fields::new();
        for (s, _, _) in self.synced() {
            let raw = r.prop(s.property).trim();
            let v = match s.kind {
                ValueKind::Text | ValueKind::Owner => raw.to_owned(),
                ValueKind::Email => canonical_email(raw),
                ValueKind::Country => self.countries.canonical(raw),
                ValueKind::Website if raw.is_empty() => r.prop("domain").trim().to_owned(),
                ValueKind::Website => raw.to_owned(),
            };
            put(&mut out, s.field, v);
        }
        out
    }

    /// The canonical values of a xentral row (column → value as text).
    pub fn from_xentral(&self, row: &BTreeMap<String, String>) -> Fields {
        let mut out = Fields::new();
        for (s, column, _) in self.synced() {
            let raw = row.get(column).map_or("", |v| v.trim());
            let v = match s.kind {
                ValueKind::Text | ValueKind::Website => raw.to_owned(),
                ValueKind::Email => canonical_email(raw),
                ValueKind::Country => self.countries.canonical(raw),
                ValueKind::Owner => raw
                    .parse::<i64>()
                    .ok()
                    .and_then(|a| self.owners.owner_of(a))
                    .unwrap_or_default()
                    .to_owned(),
            };
            put(&mut out, s.field, v);
        }
        out
    }

    /// The columns that write canonical `values` into a xentral row.
    pub fn to_xentral(&self, values: &Fields) -> XentralWrite {
        let mut w = XentralWrite::default();
        for (s, column, max) in self.synced() {
            let Some(v) = values.get(s.field) else {
                continue;
            };
            let written = match s.kind {
                ValueKind::Country if !self.countries.is_code(v) => {
                    w.refused.push((
                        s.field.to_owned(),
                        format!("country '{v}' is not in xentral's country list (laender)"),
                    ));
                    continue;
                }
                ValueKind::Owner => match self.owners.address_of(v) {
                    Ok(address) => {
                        w.columns.push((column.to_owned(), address.to_string()));
                        w.stored.insert(s.field.to_owned(), v.clone());
                        continue;
                    }
                    Err(why) => {
                        w.refused.push((s.field.to_owned(), why));
                        continue;
                    }
                },
                _ => truncate(v, max),
            };
            w.columns.push((column.to_owned(), written.clone()));
            w.stored
                .insert(s.field.to_owned(), written.trim().to_owned());
        }
        w
    }

    /// The HubSpot properties that write canonical `values` (`create`: a new record, which
    /// also gets its company domain from its web site).
    pub fn to_hubspot(&self, values: &Fields, create: bool) -> Map<String, Json> {
        let mut props = Map::new();
        for s in self.specs {
            let Some(v) = values.get(s.field) else {
                continue;
            };
            let value = match s.kind {
                ValueKind::Country => self.countries.for_hubspot(v),
                _ => v.clone(),
            };
            if s.kind == ValueKind::Website && create {
                let domain = canonical_domain(v);
                if !domain.is_empty() {
                    props.insert("domain".into(), Json::String(domain));
                }
            }
            props.insert(s.property.to_owned(), Json::String(value));
        }
        props
    }
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

/// A web address reduced to the domain HubSpot dedupes companies by: lower case, no scheme,
/// no `www.`, no user, port, path, query or trailing dot (`https://www.Acme.de/about` →
/// `acme.de`); empty when nothing like a host name is left.
pub fn canonical_domain(raw: &str) -> String {
    let t = raw.trim().to_lowercase();
    let t = t.split_once("://").map_or(t.as_str(), |(_, rest)| rest);
    let host = t.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    if host.contains('.') && !host.chars().any(char::is_whitespace) {
        host.to_owned()
    } else {
        String::new()
    }
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

    const SPECS: &[FieldSpec] = &[
        FieldSpec {
            field: "email",
            property: "email",
            column: Column::Fixed("email", 255),
            kind: ValueKind::Email,
        },
        FieldSpec {
            field: "city",
            property: "city",
            column: Column::Fixed("ort", 64),
            kind: ValueKind::Text,
        },
        FieldSpec {
            field: "country",
            property: "country",
            column: Column::Fixed("land", 64),
            kind: ValueKind::Country,
        },
        FieldSpec {
            field: "website",
            property: "website",
            column: Column::Fixed("internetseite", 1000),
            kind: ValueKind::Website,
        },
        FieldSpec {
            field: "owner",
            property: "hubspot_owner_id",
            column: Column::Fixed("vertrieb", 11),
            kind: ValueKind::Owner,
        },
        FieldSpec {
            field: "lead_status",
            property: "hs_lead_status",
            column: Column::LeadStatus,
            kind: ValueKind::Text,
        },
    ];

    fn map(lead_status: Option<&str>) -> FieldMap {
        let owners = OwnerMap::new([(
            "7".to_owned(),
            Owner {
                email: "anna@example.com".into(),
                address: Some(40),
            },
        )]);
        FieldMap::new(
            SPECS,
            FreeFields {
                lead_status: lead_status.map(str::to_owned),
                lifecycle_stage: None,
            },
            countries::tests_support::germany(),
            owners,
        )
    }

    fn record(props: &[(&str, &str)]) -> Record {
        Record {
            id: "1".into(),
            properties: props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
                .collect(),
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_a_character_beyond_the_basic_plane_may_come_back_changed() {
        let write = |v: &str| XentralWrite {
            columns: vec![("name".into(), "Jana".into()), ("ort".into(), v.into())],
            ..XentralWrite::default()
        };
        for bmp in ["Köln", "東京", "Ελλάδα", "", "a\u{FFFF}"] {
            assert!(!write(bmp).may_change_when_stored(), "{bmp}");
        }
        for beyond in ["Mia 🌸", "\u{10000}", "𝔘"] {
            assert!(write(beyond).may_change_when_stored(), "{beyond}");
        }
    }

    #[test]
    fn an_unchosen_free_field_is_not_synchronised() {
        assert!(!map(None).fields().contains(&"lead_status"));
        assert!(map(Some("freifeld1")).fields().contains(&"lead_status"));
        assert!(
            map(Some("freifeld1"))
                .columns()
                .contains(&"freifeld1".to_owned())
        );
    }

    #[test]
    fn both_sides_meet_in_canonical_values() {
        let m = map(None);
        let h = m.from_hubspot(&record(&[
            ("email", " Ann@Example.COM "),
            ("country", "Germany"),
            ("domain", "acme.de"),
            ("hubspot_owner_id", "7"),
        ]));
        let x = m.from_xentral(&BTreeMap::from([
            ("email".to_owned(), "ann@example.com".to_owned()),
            ("land".to_owned(), "DE".to_owned()),
            ("internetseite".to_owned(), "acme.de".to_owned()),
            ("vertrieb".to_owned(), "40".to_owned()),
        ]));
        assert_eq!(h, x);
        assert_eq!(
            h["website"], "acme.de",
            "the domain stands in for a missing web site"
        );
        assert_eq!(h["owner"], "7");
    }

    #[test]
    fn an_unknown_country_or_owner_is_refused_never_written_raw() {
        let w = map(None).to_xentral(&fields(&[
            ("country", "中国"),
            ("owner", "99"),
            ("city", "Köln"),
        ]));
        assert_eq!(w.columns, [("ort".to_owned(), "Köln".to_owned())]);
        assert_eq!(w.stored, fields(&[("city", "Köln")]));
        let refused: Vec<&str> = w.refused.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(refused, ["country", "owner"]);
        assert!(w.refused[0].1.contains("中国"));
        let known = map(None).to_xentral(&fields(&[("country", "DE"), ("owner", "7")]));
        assert_eq!(
            known.columns,
            [
                ("land".to_owned(), "DE".to_owned()),
                ("vertrieb".to_owned(), "40".to_owned())
            ]
        );
        assert!(known.refused.is_empty());
    }

    #[test]
    fn a_new_company_gets_its_domain_from_its_web_site() {
        let m = map(None);
        let v = fields(&[("website", "https://www.Acme.de/about"), ("country", "DE")]);
        let create = m.to_hubspot(&v, true);
        assert_eq!(create["domain"], "acme.de");
        assert_eq!(create["website"], "https://www.Acme.de/about");
        assert_eq!(create["country"], "Germany");
        assert!(!m.to_hubspot(&v, false).contains_key("domain"));
    }

    #[test]
    fn domains_are_reduced_to_hubspots_dedupe_key() {
        for (raw, want) in [
            ("https://www.Acme.de/about?x=1", "acme.de"),
            ("acme.de", "acme.de"),
            ("http://user@shop.acme.de:8080/", "shop.acme.de"),
            ("WWW.ACME.DE.", "acme.de"),
            ("", ""),
            ("Müller GmbH", ""),
            ("localhost", ""),
        ] {
            assert_eq!(canonical_domain(raw), want, "{raw}");
        }
    }

    #[test]
    fn email_is_compared_case_insensitively() {
        assert_eq!(canonical_email(" Ann@Example.COM "), "ann@example.com");
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
        let w = map(None).to_xentral(&fields(&[("city", &"ö".repeat(100))]));
        assert_eq!(w.columns[0].1.chars().count(), 64);
        assert_eq!(w.stored["city"], "ö".repeat(64));
        assert_eq!(
            cut_fields(&fields(&[("city", &"ö".repeat(100))]), &w.stored),
            ["city"]
        );
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
