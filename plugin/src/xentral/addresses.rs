//! xentral addresses (`adresse`), persons and companies alike: reading them with the columns a
//! field map needs, group membership as xentral writes it, the e-mail and domain indexes the
//! first-time matching uses, and writing them.

use std::collections::{BTreeMap, HashMap};

use crate::mapping::{canonical_domain, canonical_email};
use crate::platform::{Db, DbError, Value};

use super::{insert_row, update_row};

/// An address row as read for the sync: its id, whether it is deleted, and the columns read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressRow {
    /// `adresse.id`.
    pub id: i64,
    /// `geloescht`.
    pub deleted: bool,
    /// Column → value as text (NULL as empty).
    pub columns: BTreeMap<String, String>,
}

impl AddressRow {
    /// A column's value, empty when not read or NULL.
    pub fn col(&self, column: &str) -> &str {
        self.columns.get(column).map_or("", String::as_str)
    }

    /// Whether the address is a company: `typ = 'firma'` with no person's name on it (no
    /// first or last name). xentral's address form defaults to `firma`, so an address of that
    /// type with a person's name is a person ([`COMPANY_ADDRESS`] says the same in SQL).
    pub fn is_company(&self) -> bool {
        self.col("typ").trim().eq_ignore_ascii_case("firma")
            && self.col("vorname").trim().is_empty()
            && self.col("nachname").trim().is_empty()
    }
}

/// [`AddressRow::is_company`] as an SQL condition on `adresse`.
pub const COMPANY_ADDRESS: &str =
    "(typ = 'firma' AND COALESCE(vorname, '') = '' AND COALESCE(nachname, '') = '')";

/// The columns every address is read with, besides those of a field map.
const BASE_COLUMNS: &[&str] = &[
    "id",
    "geloescht",
    "name",
    "typ",
    "vorname",
    "nachname",
    "email",
];

/// The condition "is a current member of group ?2 on date ?3" for address `a`, as xentral
/// writes memberships (`adresse_rolle`, ended by setting `bis`).
const MEMBER_OF_GROUP: &str = "EXISTS (SELECT 1 FROM adresse_rolle r WHERE r.adresse = a.id AND r.objekt = 'Gruppe' AND r.subjekt IN ('Mitglied', 'Kunde') AND r.parameter = ? AND (r.bis = '0000-00-00' OR r.bis >= ?))";

fn address_from_row(columns: &[String], row: &[Value]) -> AddressRow {
    let mut a = AddressRow::default();
    for (c, v) in columns.iter().zip(row) {
        match c.as_str() {
            "id" => a.id = v.as_i64().unwrap_or(0),
            "geloescht" => a.deleted = v.as_i64().unwrap_or(0) != 0,
            _ => {
                a.columns.insert(c.clone(), v.as_text().unwrap_or_default());
            }
        }
    }
    a
}

/// The select list of the base columns and `columns` (validated column names only).
fn select_list(columns: &[String]) -> String {
    let mut all: Vec<&str> = BASE_COLUMNS.to_vec();
    for c in columns {
        if !all.contains(&c.as_str()) {
            all.push(c);
        }
    }
    all.iter()
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A page of the current, not deleted members of a group, read with `columns`: those with an
/// id above `after`, in id order, at most `limit` (a pass over a large group never holds it in
/// memory whole).
pub fn group_addresses_after(
    db: &mut dyn Db,
    columns: &[String],
    group_id: i64,
    today: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<AddressRow>, DbError> {
    let sql = format!(
        "SELECT {} FROM adresse a WHERE a.geloescht = 0 AND {MEMBER_OF_GROUP} AND a.id > ? ORDER BY a.id LIMIT ?",
        select_list(columns)
    );
    let rows = db.query(
        &sql,
        &[
            Value::from(group_id.to_string()),
            Value::from(today),
            Value::Integer(after),
            Value::Integer(limit),
        ],
    )?;
    Ok(rows
        .rows
        .iter()
        .map(|r| address_from_row(&rows.columns, r))
        .collect())
}

/// Addresses by id (any state), in id order, read with `columns`.
pub fn addresses_by_id(
    db: &mut dyn Db,
    columns: &[String],
    ids: &[i64],
) -> Result<Vec<AddressRow>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT {} FROM adresse a WHERE a.id IN ({marks}) ORDER BY a.id",
            select_list(columns)
        );
        let params: Vec<Value> = chunk.iter().map(|i| Value::Integer(*i)).collect();
        let rows = db.query(&sql, &params)?;
        out.extend(rows.rows.iter().map(|r| address_from_row(&rows.columns, r)));
    }
    Ok(out)
}

/// The linked (as a contact or a company), not deleted addresses that are current members of
/// group `group_id`.
pub fn linked_members(db: &mut dyn Db, group_id: i64, today: &str) -> Result<Vec<i64>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT a.id FROM adresse a WHERE a.geloescht = 0 AND (a.id IN (SELECT address_id FROM hubspot_sync_contact_links) OR a.id IN (SELECT address_id FROM hubspot_sync_company_links)) AND {MEMBER_OF_GROUP} ORDER BY a.id"
        ),
        &[Value::from(group_id.to_string()), Value::from(today)],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| r.first().and_then(Value::as_i64))
        .collect())
}

/// Whether an address is a current member of the group.
pub fn is_group_member(
    db: &mut dyn Db,
    address_id: i64,
    group_id: i64,
    today: &str,
) -> Result<bool, DbError> {
    let sql = format!("SELECT 1 FROM adresse a WHERE a.id = ? AND {MEMBER_OF_GROUP}");
    Ok(!db
        .query(
            &sql,
            &[
                Value::Integer(address_id),
                Value::from(group_id.to_string()),
                Value::from(today),
            ],
        )?
        .rows
        .is_empty())
}

/// xentral's addresses that are not deleted, by canonical e-mail. E-mails are compared in
/// Rust by [`canonical_email`] only, never by SQL `=` (whose case and whitespace rules differ
/// between SQLite and MariaDB and know nothing of a non-breaking space): the index is read
/// once per run, when the first contact needs matching, and kept up to date by the run.
#[derive(Debug, Default)]
pub struct AddressEmails {
    by_email: HashMap<String, Vec<i64>>,
}

impl AddressEmails {
    /// Reads every not deleted address with an e-mail (`persons_only`: no company address,
    /// whose e-mail is the company's, never a contact's).
    pub fn load(db: &mut dyn Db, persons_only: bool) -> Result<AddressEmails, DbError> {
        let companies = if persons_only {
            format!("AND NOT {COMPANY_ADDRESS}")
        } else {
            String::new()
        };
        let rows = db.query(
            &format!(
                "SELECT id, email FROM adresse WHERE geloescht = 0 AND email <> '' {companies} ORDER BY id"
            ),
            &[],
        )?;
        let mut index = AddressEmails::default();
        for r in &rows.rows {
            if let (Some(id), Some(email)) = (
                r.first().and_then(Value::as_i64),
                r.get(1).and_then(Value::as_text),
            ) {
                index.insert(&email, id);
            }
        }
        Ok(index)
    }

    /// Records an address's e-mail (an address the run created).
    pub fn insert(&mut self, email: &str, id: i64) {
        let key = canonical_email(email);
        if !key.is_empty() {
            self.by_email.entry(key).or_default().push(id);
        }
    }

    /// The addresses with this e-mail, in id order.
    pub fn get(&self, email: &str) -> &[i64] {
        self.by_email
            .get(&canonical_email(email))
            .map_or(&[], Vec::as_slice)
    }
}

/// The address a HubSpot contact's e-mail matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailMatch {
    /// No address has the e-mail.
    None,
    /// An address not linked to any contact (members of the group first, then the oldest).
    Unlinked(i64),
    /// Every address with the e-mail is linked; the first is linked to `hubspot_id`.
    Linked {
        /// The address.
        address: i64,
        /// The contact it is linked to.
        hubspot_id: String,
    },
}

/// Finds the address for `email` among `candidates` (from [`AddressEmails::get`]).
pub fn match_email(
    db: &mut dyn Db,
    candidates: &[i64],
    group_id: i64,
    today: &str,
) -> Result<EmailMatch, DbError> {
    if candidates.is_empty() {
        return Ok(EmailMatch::None);
    }
    let marks = vec!["?"; candidates.len()].join(", ");
    let params: Vec<Value> = candidates.iter().map(|i| Value::Integer(*i)).collect();
    let rows = db.query(
        &format!(
            "SELECT address_id, hs_contact_id FROM hubspot_sync_contact_links WHERE address_id IN ({marks})"
        ),
        &params,
    )?;
    let linked: HashMap<i64, String> = rows
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_i64()?, r.get(1)?.as_text()?)))
        .collect();
    let mut unlinked = candidates.iter().filter(|id| !linked.contains_key(id));
    let first_unlinked = unlinked.clone().next().copied();
    for id in unlinked.by_ref() {
        if is_group_member(db, *id, group_id, today)? {
            return Ok(EmailMatch::Unlinked(*id));
        }
    }
    if let Some(id) = first_unlinked {
        return Ok(EmailMatch::Unlinked(id));
    }
    let address = candidates[0];
    Ok(EmailMatch::Linked {
        address,
        hubspot_id: linked[&address].clone(),
    })
}

/// Updates columns of an address (column names come from the field map, never from input).
pub fn update_address(
    db: &mut dyn Db,
    id: i64,
    columns: &[(String, String)],
) -> Result<(), DbError> {
    update_row(db, "adresse", id, columns)
}

/// Marks an address deleted, as xentral's UI does (`geloescht = 1`; the row stays), or
/// not deleted again (`deleted` false: a record restored in HubSpot).
pub fn set_address_deleted(db: &mut dyn Db, id: i64, deleted: bool) -> Result<(), DbError> {
    update_row(
        db,
        "adresse",
        id,
        &[("geloescht", Value::Integer(i64::from(deleted)))],
    )
}

/// Inserts a lead address with these columns (a person, or a company when `company`: `typ =
/// 'firma'`); returns its id.
pub fn insert_lead_address(
    db: &mut dyn Db,
    columns: &[(String, String)],
    company: bool,
) -> Result<i64, DbError> {
    let mut all = vec![
        ("lead".to_owned(), Value::Integer(1)),
        ("firma".to_owned(), Value::Integer(1)),
    ];
    if company {
        all.push(("typ".to_owned(), Value::from("firma")));
    }
    all.extend(columns.iter().map(|(c, v)| (c.clone(), Value::from(v))));
    insert_row(db, "adresse", all)
}

/// xentral's company addresses that are not deleted, by canonical domain of their web site
/// ([`canonical_domain`]): what a HubSpot company new to xentral is matched by (never by its
/// name). Read once per run, when the first company needs matching.
#[derive(Debug, Default)]
pub struct CompanyDomains {
    by_domain: HashMap<String, Vec<i64>>,
}

impl CompanyDomains {
    /// Reads every not deleted company address with a web site.
    pub fn load(db: &mut dyn Db) -> Result<CompanyDomains, DbError> {
        let rows = db.query(
            &format!("SELECT id, internetseite FROM adresse WHERE geloescht = 0 AND {COMPANY_ADDRESS} AND internetseite IS NOT NULL AND internetseite <> '' ORDER BY id"),
            &[],
        )?;
        let mut index = CompanyDomains::default();
        for r in &rows.rows {
            if let (Some(id), Some(site)) = (
                r.first().and_then(Value::as_i64),
                r.get(1).and_then(Value::as_text),
            ) {
                index.insert(&site, id);
            }
        }
        Ok(index)
    }

    /// Records a company's web site (one the run created).
    pub fn insert(&mut self, website: &str, id: i64) {
        let key = canonical_domain(website);
        if !key.is_empty() {
            self.by_domain.entry(key).or_default().push(id);
        }
    }

    /// The company addresses with this domain, in id order.
    pub fn get(&self, domain: &str) -> &[i64] {
        self.by_domain.get(domain).map_or(&[], Vec::as_slice)
    }
}

/// Puts an address into a group as xentral does (an `adresse_rolle` row from today on).
pub fn add_to_group(
    db: &mut dyn Db,
    address_id: i64,
    group_id: i64,
    today: &str,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO adresse_rolle (adresse, projekt, subjekt, praedikat, objekt, parameter, von, bis) VALUES (?, 0, 'Mitglied', 'von', 'Gruppe', ?, ?, '0000-00-00')",
        &[
            Value::Integer(address_id),
            Value::from(group_id.to_string()),
            Value::from(today),
        ],
    )?;
    Ok(())
}
