//! HubSpot's owners, read once an hour and matched by e-mail to xentral person addresses (the
//! sales reps), so `hubspot_owner_id` ⇄ `adresse.vertrieb` and
//! `wiedervorlage.adresse_mitarbeiter` (see [`crate::mapping::owners`]). An owner no person
//! address has the e-mail of is reported where it would be written, never invented.

use std::collections::HashMap;

use crate::api::PluginError;
use crate::engine::incremental::api_error_reading;
use crate::engine::session::Session;
use crate::hubspot::{ApiError, wire};
use crate::mapping::{Owner, OwnerMap, canonical_email};
use crate::platform::Value;
use crate::store::state;

/// How long the owners read from HubSpot are trusted before they are read again.
const FRESH_MS: i64 = 60 * 60 * 1000;

/// The cursor row that records when the owners were last read.
const READ_AT: &str = "owners:read";

/// Owners per page (HubSpot's maximum is 500).
const PAGE: u32 = 500;

/// The owners, read from HubSpot when the stored ones are older than an hour (not in a dry
/// run, which reads them but stores nothing), each matched to the oldest not deleted person
/// address with its e-mail. A token without the owners scope syncs no owner, and the report
/// says so.
pub fn load(s: &mut Session<'_>) -> Result<OwnerMap, PluginError> {
    let now = s.clock.now_ms();
    let read_at = state::cursor(s.db, READ_AT)?.modified_ms;
    let owners = if read_at > 0 && now - read_at < FRESH_MS {
        stored(s)?
    } else {
        let owners = match read(s) {
            Err(ApiError::MissingScopes(detail)) => {
                let note = format!(
                    "owners are not synchronised: the access token lacks the scope crm.objects.owners.read ({detail})"
                );
                if !s.report.messages.contains(&note) {
                    s.report.messages.push(note);
                }
                return Ok(OwnerMap::default());
            }
            // The budget is used up: the owners last read serve this run.
            Err(e) if e.stops_job() => return from_stored(s),
            read => read.map_err(|e| api_error_reading("the portal's owners", e))?,
        };
        if !s.dry_run {
            s.transaction(|s| {
                s.db.execute("DELETE FROM hubspot_sync_owners", &[])?;
                for (id, email, name) in &owners {
                    s.db.execute(
                        "INSERT INTO hubspot_sync_owners (owner_id, email, name, read_ms) VALUES (?, ?, ?, ?)",
                        &[
                            Value::from(id.as_str()),
                            Value::from(email.as_str()),
                            Value::from(name.as_str()),
                            Value::Integer(now),
                        ],
                    )?;
                }
                let at = state::Cursor {
                    modified_ms: now,
                    last_id: String::new(),
                };
                Ok(state::save_cursor(s.db, READ_AT, &at, now)?)
            })?;
        }
        owners
    };
    matched(s, owners)
}

/// The owners as last stored, matched.
fn from_stored(s: &mut Session<'_>) -> Result<OwnerMap, PluginError> {
    let owners = stored(s)?;
    matched(s, owners)
}

/// Each owner with the person address it is matched to.
fn matched(
    s: &mut Session<'_>,
    owners: Vec<(String, String, String)>,
) -> Result<OwnerMap, PluginError> {
    let addresses = person_addresses(s, owners.iter().map(|(_, e, _)| e.as_str()))?;
    Ok(OwnerMap::new(owners.into_iter().map(|(id, email, _)| {
        let address = addresses.get(&canonical_email(&email)).copied();
        (id, Owner { email, address })
    })))
}

/// (id, e-mail, name) of every active owner, page by page.
fn read(s: &mut Session<'_>) -> Result<Vec<(String, String, String)>, ApiError> {
    let path = s.client.version().owners();
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(a) => format!("{path}?limit={PAGE}&archived=false&after={a}"),
            None => format!("{path}?limit={PAGE}&archived=false"),
        };
        let page: wire::ListReply<wire::OwnerReply> = s.client.get(&url, &path)?;
        for o in page.results {
            let name = format!(
                "{} {}",
                o.first_name.unwrap_or_default(),
                o.last_name.unwrap_or_default()
            );
            out.push((o.id.0, o.email.unwrap_or_default(), name.trim().to_owned()));
        }
        match page.paging.and_then(|p| p.next) {
            Some(next) => after = Some(next.after.0),
            None => return Ok(out),
        }
    }
}

/// The owners as last stored.
fn stored(s: &mut Session<'_>) -> Result<Vec<(String, String, String)>, PluginError> {
    let rows = s.db.query(
        "SELECT owner_id, email, name FROM hubspot_sync_owners ORDER BY owner_id",
        &[],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| {
            Some((
                r.first()?.as_text()?,
                r.get(1)?.as_text()?,
                r.get(2)?.as_text()?,
            ))
        })
        .collect())
}

/// The oldest not deleted person address (not a company) of each of these e-mails, by
/// canonical e-mail. Candidates are found by SQL on the lower-cased e-mail; the match itself
/// is [`canonical_email`]'s.
fn person_addresses<'e>(
    s: &mut Session<'_>,
    emails: impl Iterator<Item = &'e str>,
) -> Result<HashMap<String, i64>, PluginError> {
    let wanted: Vec<String> = emails
        .map(canonical_email)
        .filter(|e| !e.is_empty())
        .collect();
    let mut out = HashMap::new();
    for chunk in wanted.chunks(200) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk.iter().map(|e| Value::from(e.as_str())).collect();
        let rows = s.db.query(
            &format!(
                "SELECT id, email FROM adresse WHERE geloescht = 0 AND NOT {} AND LOWER(TRIM(email)) IN ({marks}) ORDER BY id",
                crate::xentral::COMPANY_ADDRESS
            ),
            &params,
        )?;
        for r in &rows.rows {
            if let (Some(id), Some(email)) = (
                r.first().and_then(Value::as_i64),
                r.get(1).and_then(Value::as_text),
            ) {
                out.entry(canonical_email(&email)).or_insert(id);
            }
        }
    }
    Ok(out)
}
