//! Taking over from the old HubSpot module: a xentral that ran it still has its id maps
//! (`hubspot_contacts (hs_contact_id, address_id, type, hidden, …)` with `type` `address` or
//! `company`, `hubspot_deals (hs_deal_id, wiedervorlage_id, hidden, …)`). Their live rows
//! (`hidden = 0`) become our links once, before the first sync, so that sync matches instead
//! of creating a second address, company, contact, resubmission or deal. The old tables are
//! only read, never changed. Companies are taken over in a step of their own (with its own
//! marker), so a tenant that switched to us before companies synced gets them too.
//!
//! A taken-over link has an empty snapshot: the first sync merges it as a first link (see
//! [`crate::engine::merge::merge`]), the configured winner deciding where values differ.

use std::collections::HashSet;

use crate::engine::merge::Snapshot;
use crate::mapping;
use crate::platform::{Db, DbError, Value};
use crate::store::state::{self, Cursor, Link, LinkTable};

/// The marker (a row of `hubspot_sync_cursors`) that the takeover ran.
const DONE: &str = "takeover:old-module";

/// The marker that the old module's company links were taken over.
const COMPANIES_DONE: &str = "takeover:old-module-companies";

/// What one takeover found and linked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Takeover {
    /// Contact ⇄ address links taken over.
    pub contacts: usize,
    /// Company ⇄ company address links taken over.
    pub companies: usize,
    /// Deal ⇄ resubmission links taken over.
    pub deals: usize,
    /// Old rows left out: unlinked (`hidden = 1`) rows are not read at all; these point at
    /// a deleted or missing record, or at a record or HubSpot id already linked.
    pub skipped: usize,
}

/// Takes the old module's links over, once: later calls (and a tenant that never had the
/// old module) do nothing and return `None`. Runs in one transaction with its marker, so
/// a failure leaves nothing half taken.
pub fn take_over(db: &mut dyn Db, now_ms: i64) -> Result<Option<Takeover>, DbError> {
    let mut found = None;
    if !state::cursor_exists(db, DONE)? {
        found = in_transaction(db, |db| link_old_rows(db, now_ms))?;
    }
    if !state::cursor_exists(db, COMPANIES_DONE)? {
        let companies = in_transaction(db, |db| link_old_companies(db, now_ms))?;
        if let Some((linked, skipped)) = companies {
            let t = found.get_or_insert_with(Takeover::default);
            t.companies = linked;
            t.skipped += skipped;
        }
    }
    Ok(found)
}

fn in_transaction<T>(
    db: &mut dyn Db,
    f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>,
) -> Result<T, DbError> {
    db.begin()?;
    match f(db) {
        Ok(v) => {
            db.commit()?;
            Ok(v)
        }
        Err(e) => {
            db.rollback()?;
            Err(e)
        }
    }
}

/// The old module's company links (its `type = 'company'` rows) to not deleted company
/// addresses: (linked, skipped), `None` without the old table.
fn link_old_companies(db: &mut dyn Db, now_ms: i64) -> Result<Option<(usize, usize)>, DbError> {
    let companies = old_rows(
        db,
        "SELECT o.hs_contact_id, o.address_id, '' FROM hubspot_contacts o \
         JOIN adresse a ON a.id = o.address_id \
         WHERE o.hidden = 0 AND o.type = 'company' AND a.geloescht = 0 AND a.typ = 'firma' ORDER BY o.id DESC",
        "SELECT COUNT(*) FROM hubspot_contacts WHERE hidden = 0 AND type = 'company'",
    )?;
    let result = match companies {
        Some((rows, live)) => {
            let linked = link_all(db, LinkTable::Companies, &rows, now_ms)?;
            Some((linked, live - linked))
        }
        None => None,
    };
    state::save_cursor(db, COMPANIES_DONE, &Cursor::default(), now_ms)?;
    Ok(result)
}

fn link_old_rows(db: &mut dyn Db, now_ms: i64) -> Result<Option<Takeover>, DbError> {
    // Newest mapping first: the old module added a row when it linked a record again.
    let contacts = old_rows(
        db,
        "SELECT o.hs_contact_id, o.address_id, a.email FROM hubspot_contacts o \
         JOIN adresse a ON a.id = o.address_id \
         WHERE o.hidden = 0 AND o.type = 'address' AND a.geloescht = 0 ORDER BY o.id DESC",
        "SELECT COUNT(*) FROM hubspot_contacts WHERE hidden = 0 AND type = 'address'",
    )?;
    let deals = old_rows(
        db,
        "SELECT o.hs_deal_id, o.wiedervorlage_id, '' FROM hubspot_deals o \
         JOIN wiedervorlage w ON w.id = o.wiedervorlage_id \
         WHERE o.hidden = 0 ORDER BY o.id DESC",
        "SELECT COUNT(*) FROM hubspot_deals WHERE hidden = 0",
    )?;
    let found = if contacts.is_none() && deals.is_none() {
        None
    } else {
        let mut t = Takeover::default();
        if let Some((rows, live)) = contacts {
            t.contacts = link_all(db, LinkTable::Contacts, &rows, now_ms)?;
            t.skipped += live - t.contacts;
        }
        if let Some((rows, live)) = deals {
            t.deals = link_all(db, LinkTable::Deals, &rows, now_ms)?;
            t.skipped += live - t.deals;
        }
        Some(t)
    };
    state::save_cursor(db, DONE, &Cursor::default(), now_ms)?;
    Ok(found)
}

/// An old row: HubSpot id, xentral id, and the address's e-mail (contacts).
type OldRow = (String, i64, String);

/// The rows `sql` reads from an old table and how many live rows `count` finds there;
/// `None` when the table does not exist. A missing table reads as denied (MariaDB grants
/// only on tables that exist, so the plugin's account holds nothing there) or as "no such
/// table" (SQLite); any other error fails the takeover.
fn old_rows(
    db: &mut dyn Db,
    sql: &str,
    count: &str,
) -> Result<Option<(Vec<OldRow>, usize)>, DbError> {
    let live = match db.query(count, &[]) {
        Ok(rows) => rows
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_i64)
            .unwrap_or(0),
        Err(DbError::Denied(_)) => return Ok(None),
        Err(e) if state::is_missing_table(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let rows = db.query(sql, &[])?;
    let rows = rows
        .rows
        .iter()
        .filter_map(|r| {
            let hubspot_id = r.first()?.as_text()?.trim().to_owned();
            let xentral_id = r.get(1)?.as_i64()?;
            let email = r.get(2).and_then(Value::as_text).unwrap_or_default();
            (!hubspot_id.is_empty() && xentral_id > 0).then_some((hubspot_id, xentral_id, email))
        })
        .collect();
    Ok(Some((rows, usize::try_from(live).unwrap_or(0))))
}

/// Links every row whose HubSpot id and xentral id are both still free; returns how many.
fn link_all(
    db: &mut dyn Db,
    table: LinkTable,
    rows: &[OldRow],
    now_ms: i64,
) -> Result<usize, DbError> {
    let existing = state::links_by_xentral_id(db, table)?;
    let mut hubspot_ids: HashSet<String> =
        existing.values().map(|l| l.hubspot_id.clone()).collect();
    let mut xentral_ids: HashSet<i64> = existing.keys().copied().collect();
    let mut linked = 0;
    for (hubspot_id, xentral_id, email) in rows {
        if !hubspot_ids.insert(hubspot_id.clone()) || !xentral_ids.insert(*xentral_id) {
            continue;
        }
        let link = Link {
            hubspot_id: hubspot_id.clone(),
            xentral_id: *xentral_id,
            snapshot: Snapshot::default(),
        };
        state::save_link(db, table, &link, now_ms)?;
        if table == LinkTable::Contacts {
            state::set_link_email(db, hubspot_id, &mapping::canonical_email(email))?;
        }
        linked += 1;
    }
    Ok(linked)
}
