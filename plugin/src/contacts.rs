//! Contacts ⇄ addresses: the pull (HubSpot → xentral, incremental by `lastmodifieddate`) and
//! the push (xentral → HubSpot, batch upserts by e-mail), both merging three-way.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value as Json, json};

use crate::api::PluginError;
use crate::hubspot::{ApiError, Record};
use crate::mapping::{
    self, AddressRow, Countries, FreeFields, KEEP_IN_XENTRAL, from_hubspot, from_xentral,
    to_hubspot_properties, to_xentral_columns,
};
use crate::merge::{self, Fields, Outcome, Snapshot, Winner};
use crate::session::Session;
use crate::state::{self, Cursor, Link, LinkTable};
use crate::xentral;

/// The cursor's name in `hubspot_cursors`.
pub const CURSOR: &str = "contacts";
/// Records per search page (HubSpot's maximum).
const PAGE: usize = 200;
/// Records per batch write (HubSpot's maximum).
const BATCH: usize = 100;
/// Search lags writes; records modified this close to the run start are left for the next run.
pub const SEARCH_LAG_MS: i64 = 30_000;
/// `object` in `hubspot_failures`.
const OBJECT: &str = "contact";

/// What one run needs to know about the tenant.
pub struct Ctx {
    /// The contact group's id.
    pub group_id: i64,
    /// The lead-status and lifecycle free fields.
    pub ff: FreeFields,
    /// The fields synchronised.
    pub fields: Vec<&'static str>,
    /// Country names.
    pub countries: Countries,
    /// Contacts created before this are left out.
    pub since_ms: Option<i64>,
    /// Lead statuses that take part (empty: all).
    pub statuses: HashSet<String>,
    /// Today in the tenant's time zone.
    pub today: String,
    /// Who wins a conflict.
    pub winner: Winner,
}

impl Ctx {
    /// Loads what the run needs.
    pub fn load(s: &mut Session<'_>) -> Result<Ctx, PluginError> {
        let group = s.settings.hs_contact_grp.clone();
        let group_id = xentral::group_id(s.db, &group)?.ok_or_else(|| {
            PluginError::NotConfigured(format!(
                "the contact group '{group}' does not exist; save the HubSpot settings again to create it"
            ))
        })?;
        let ff = crate::freefields::configured(s.db)?;
        let since_ms = s
            .settings
            .hs_sync_addresses_from
            .parse::<chrono::DateTime<chrono::FixedOffset>>()
            .ok()
            .map(|d| d.timestamp_millis());
        Ok(Ctx {
            group_id,
            fields: ff.fields(),
            ff,
            countries: Countries::load(s.db)?,
            since_ms,
            statuses: s.settings.hs_sync_address_status.iter().cloned().collect(),
            today: xentral::local_date(s.clock.now_ms(), &s.clock.time_zone()),
            winner: s.settings.winner(),
        })
    }
}

fn api(e: ApiError) -> PluginError {
    match e {
        ApiError::Unauthorized(_) | ApiError::MissingScopes(_) => {
            PluginError::Unauthorized(e.to_string())
        }
        ApiError::RateLimited { .. } => PluginError::RateLimited(e.to_string()),
        other => PluginError::Hubspot(other.to_string()),
    }
}

/// The sync-contacts job: retry due failures, pull changes, then reconcile and push.
pub fn sync(s: &mut Session<'_>) -> Result<(), PluginError> {
    if !s.settings.hs_sync_addresses {
        s.report.messages.push("contacts are switched off".into());
        return Ok(());
    }
    let ctx = Ctx::load(s)?;
    if !retry_failed_pulls(s, &ctx)? || !pull(s, &ctx)? {
        return Ok(());
    }
    push(s, &ctx, None)?;
    Ok(())
}

/// Re-reads contacts whose pull failed and whose retry is due. Returns false when the job
/// must stop (budget, daily limit).
fn retry_failed_pulls(s: &mut Session<'_>, ctx: &Ctx) -> Result<bool, PluginError> {
    let now = s.clock.now_ms();
    let due: Vec<String> = state::failures(s.db, OBJECT, "pull")?
        .into_iter()
        .filter(|(_, next)| *next <= now)
        .map(|(k, _)| k)
        .collect();
    for chunk in due.chunks(BATCH) {
        let inputs: Vec<Json> = chunk.iter().map(|id| json!({ "id": id })).collect();
        let props = json!(mapping::contact_properties());
        let outcome = match s
            .client
            .batch("contacts", "read", inputs, Some(("properties", props)))
        {
            Ok(o) => o,
            Err(e) if e.stops_job() => {
                s.stop_early(&e);
                return Ok(false);
            }
            Err(e) => return Err(api(e)),
        };
        let found: HashSet<String> = outcome.results.iter().map(|(r, _)| r.id.clone()).collect();
        let records: Vec<Record> = outcome.results.into_iter().map(|(r, _)| r).collect();
        apply_page(s, ctx, &records, None)?;
        for gone in chunk.iter().filter(|id| !found.contains(*id)) {
            s.transaction(|s| {
                Ok(state::clear_failure(s.db, OBJECT, "pull", gone)?)
            })?;
            s.report.xentral.exclude("contact no longer exists in HubSpot");
        }
    }
    Ok(true)
}

fn search_body(filters: Vec<Json>, sort: &str) -> Json {
    json!({
        "filterGroups": [{ "filters": filters }],
        "sorts": [{ "propertyName": sort, "direction": "ASCENDING" }],
        "properties": mapping::contact_properties(),
        "limit": PAGE,
    })
}

fn modified(r: &Record) -> Result<i64, PluginError> {
    mapping::parse_instant_ms(r.prop("lastmodifieddate")).ok_or_else(|| {
        PluginError::Hubspot(format!(
            "contact {} has no readable lastmodifieddate ('{}')",
            r.id,
            r.prop("lastmodifieddate")
        ))
    })
}

/// Pulls every contact modified since the cursor, keyset-paged on (modified, id) so no query
/// ever pages towards HubSpot's 10,000-result cap and nothing is skipped when records change
/// while we page. Returns false when the job must stop.
fn pull(s: &mut Session<'_>, ctx: &Ctx) -> Result<bool, PluginError> {
    let upper = s.started_ms - SEARCH_LAG_MS;
    let mut cur = state::cursor(s.db, CURSOR)?;
    loop {
        if !cur.last_id.is_empty() {
            match walk_tie(s, ctx, cur.modified_ms, cur.last_id.clone())? {
                Some(c) => cur = c,
                None => return Ok(false),
            }
        }
        if cur.modified_ms >= upper {
            return Ok(true);
        }
        let body = search_body(
            vec![
                json!({"propertyName": "lastmodifieddate", "operator": "GT", "value": cur.modified_ms.to_string()}),
                json!({"propertyName": "lastmodifieddate", "operator": "LTE", "value": upper.to_string()}),
            ],
            "lastmodifieddate",
        );
        let page = match s.client.search("contacts", &body) {
            Ok(p) => p,
            Err(e) if e.stops_job() => {
                s.stop_early(&e);
                return Ok(false);
            }
            Err(e) => return Err(api(e)),
        };
        if page.next_after.is_none() {
            // The whole rest of the window is in this page.
            let done = Cursor {
                modified_ms: upper,
                last_id: String::new(),
            };
            apply_page(s, ctx, &page.results, Some(&done))?;
            return Ok(true);
        }
        let stamps = page
            .results
            .iter()
            .map(modified)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(&newest) = stamps.iter().max() else {
            return Err(PluginError::Hubspot(
                "HubSpot announced another page after an empty one".into(),
            ));
        };
        match stamps.iter().copied().filter(|t| *t < newest).max() {
            Some(complete) => {
                // Everything up to `complete` is in this page; the newest stamp may continue.
                let records: Vec<Record> = page
                    .results
                    .iter()
                    .zip(&stamps)
                    .filter(|(_, t)| **t <= complete)
                    .map(|(r, _)| r.clone())
                    .collect();
                cur = Cursor {
                    modified_ms: complete,
                    last_id: String::new(),
                };
                apply_page(s, ctx, &records, Some(&cur))?;
            }
            None => {
                // A whole page shares one timestamp (bulk updates do this): walk it by id.
                match walk_tie(s, ctx, newest, String::new())? {
                    Some(c) => cur = c,
                    None => return Ok(false),
                }
            }
        }
    }
}

/// Reads every contact modified exactly at `at` with an id above `last_id`, in id order.
/// Returns the cursor after the tie, or `None` when the job must stop.
fn walk_tie(
    s: &mut Session<'_>,
    ctx: &Ctx,
    at: i64,
    mut last_id: String,
) -> Result<Option<Cursor>, PluginError> {
    loop {
        let mut filters = vec![json!({"propertyName": "lastmodifieddate", "operator": "EQ", "value": at.to_string()})];
        if !last_id.is_empty() {
            filters.push(json!({"propertyName": "hs_object_id", "operator": "GT", "value": last_id}));
        }
        let page = match s.client.search("contacts", &search_body(filters, "hs_object_id")) {
            Ok(p) => p,
            Err(e) if e.stops_job() => {
                s.stop_early(&e);
                return Ok(None);
            }
            Err(e) => return Err(api(e)),
        };
        let max_id = page
            .results
            .iter()
            .filter_map(|r| r.id.parse::<u64>().ok())
            .max();
        let finished = page.next_after.is_none() || max_id.is_none();
        let cur = Cursor {
            modified_ms: at,
            last_id: if finished {
                String::new()
            } else {
                max_id.map(|m| m.to_string()).unwrap_or_default()
            },
        };
        apply_page(s, ctx, &page.results, Some(&cur))?;
        if finished {
            return Ok(Some(cur));
        }
        last_id = cur.last_id;
    }
}

/// Applies one page in one transaction together with the cursor. If a record fails, the page
/// is rolled back and applied record by record, so the failing record is stored for retry
/// and never blocks the others.
fn apply_page(
    s: &mut Session<'_>,
    ctx: &Ctx,
    records: &[Record],
    cursor: Option<&Cursor>,
) -> Result<(), PluginError> {
    let before = s.report.clone();
    let whole = s.transaction(|s| {
        for r in records {
            pull_one(s, ctx, r)?;
            state::clear_failure(s.db, OBJECT, "pull", &r.id)?;
        }
        save_cursor(s, cursor)
    });
    if whole.is_ok() {
        return Ok(());
    }
    s.report = before;
    for r in records {
        let one = s.transaction(|s| {
            pull_one(s, ctx, r)?;
            Ok(state::clear_failure(s.db, OBJECT, "pull", &r.id)?)
        });
        if let Err(e) = one {
            s.report.xentral.failed += 1;
            s.warn("contact failed", &[("contact", &r.id), ("error", &e.to_string())]);
            let now = s.clock.now_ms();
            s.transaction(|s| {
                Ok(state::record_failure(s.db, OBJECT, "pull", &r.id, &e.to_string(), now)?)
            })?;
        }
    }
    s.transaction(|s| save_cursor(s, cursor))
}

fn save_cursor(s: &mut Session<'_>, cursor: Option<&Cursor>) -> Result<(), PluginError> {
    if let Some(c) = cursor
        && !s.dry_run
    {
        let now = s.clock.now_ms();
        state::save_cursor(s.db, CURSOR, c, now)?;
    }
    Ok(())
}

/// Why a pulled contact is left out, if it is.
fn pull_filter(ctx: &Ctx, r: &Record) -> Option<&'static str> {
    if let Some(since) = ctx.since_ms {
        let created = mapping::parse_instant_ms(r.prop("createdate")).unwrap_or(i64::MIN);
        if created < since {
            return Some("created before the start time");
        }
    }
    if !ctx.statuses.is_empty() && !ctx.statuses.contains(r.prop("hs_lead_status")) {
        return Some("lead status not selected");
    }
    None
}

/// Merges one HubSpot contact into xentral.
fn pull_one(s: &mut Session<'_>, ctx: &Ctx, r: &Record) -> Result<(), PluginError> {
    if let Some(reason) = pull_filter(ctx, r) {
        s.report.xentral.exclude(reason);
        return Ok(());
    }
    let h = from_hubspot(r, &ctx.countries);
    if let Some(link) = state::link_by_hubspot_id(s.db, LinkTable::Contacts, &r.id)? {
        let Some(address) = xentral::addresses_by_id(s.db, &ctx.ff, &[link.xentral_id])?.pop()
        else {
            s.report.xentral.exclude("address no longer exists in xentral");
            return Ok(());
        };
        if address.deleted {
            s.report.xentral.exclude("address deleted in xentral");
            return Ok(());
        }
        let x = from_xentral(&address, &ctx.ff, &ctx.countries);
        let out = merge::merge(&ctx.fields, &x, &h, Some(&link.snapshot), ctx.winner, KEEP_IN_XENTRAL);
        return apply_merge(s, ctx, &address, &h, out, &r.id, false);
    }
    let email = h.get("email").cloned().unwrap_or_default();
    if !email.is_empty()
        && let Some(id) = xentral::unlinked_address_by_email(s.db, &email, ctx.group_id, &ctx.today)?
    {
        let address = xentral::addresses_by_id(s.db, &ctx.ff, &[id])?
            .pop()
            .ok_or_else(|| PluginError::Database(format!("address {id} vanished")))?;
        let x = from_xentral(&address, &ctx.ff, &ctx.countries);
        let out = merge::merge(&ctx.fields, &x, &h, None, ctx.winner, KEEP_IN_XENTRAL);
        if !s.dry_run && !xentral::is_group_member(s.db, id, ctx.group_id, &ctx.today)? {
            xentral::add_to_group(s.db, id, ctx.group_id, &ctx.today)?;
        }
        return apply_merge(s, ctx, &address, &h, out, &r.id, true);
    }
    create_address(s, ctx, &h, &r.id)
}

/// Writes a merge outcome to xentral and stores the link. Values that must still go to
/// HubSpot are left "changed" in the snapshot, so the push sends them and a failed push is
/// retried rather than forgotten.
fn apply_merge(
    s: &mut Session<'_>,
    ctx: &Ctx,
    address: &AddressRow,
    h: &Fields,
    out: Outcome,
    hubspot_id: &str,
    newly_linked: bool,
) -> Result<(), PluginError> {
    let (mut columns, stored) = to_xentral_columns(&out.to_xentral, &ctx.ff);
    if out.to_xentral.contains_key("firstname") || out.to_xentral.contains_key("lastname") {
        let col = |c: &str| address.columns.get(c).map_or("", String::as_str);
        let old_display = mapping::display_name(col("vorname"), col("nachname"), "", "");
        let current = col("name");
        if current.trim().is_empty() || current == old_display {
            let first = out.to_xentral.get("firstname").map_or(col("vorname"), String::as_str);
            let last = out.to_xentral.get("lastname").map_or(col("nachname"), String::as_str);
            columns.push((
                "name".into(),
                mapping::display_name(first, last, col("email"), hubspot_id),
            ));
        }
    }
    let mut snapshot = out.snapshot.clone();
    snapshot.x.extend(stored);
    for f in out.to_hubspot.keys() {
        match h.get(f) {
            Some(v) => {
                snapshot.x.insert(f.clone(), v.clone());
                snapshot.h.insert(f.clone(), v.clone());
            }
            None => {
                snapshot.x.remove(f);
                snapshot.h.remove(f);
            }
        }
    }
    if !out.conflicts.is_empty() {
        let side = match ctx.winner {
            Winner::Xentral => &mut s.report.hubspot,
            Winner::Hubspot => &mut s.report.xentral,
        };
        side.conflicts += 1;
        let fields = out.conflicts.join(", ");
        s.warn(
            "changed on both sides",
            &[("contact", hubspot_id), ("address", &address.id.to_string()), ("fields", &fields)],
        );
    }
    if columns.is_empty() && !newly_linked {
        s.report.xentral.unchanged += 1;
    } else {
        s.report.xentral.updated += 1;
    }
    if s.dry_run {
        return Ok(());
    }
    xentral::update_address(s.db, address.id, &columns)?;
    let now = s.clock.now_ms();
    state::save_link(
        s.db,
        LinkTable::Contacts,
        &Link {
            hubspot_id: hubspot_id.to_owned(),
            xentral_id: address.id,
            snapshot,
        },
        now,
    )?;
    Ok(())
}

/// Creates a lead address in the group for a contact new to xentral.
fn create_address(
    s: &mut Session<'_>,
    ctx: &Ctx,
    h: &Fields,
    hubspot_id: &str,
) -> Result<(), PluginError> {
    let values: Fields = h
        .iter()
        .filter(|(f, _)| ctx.fields.contains(&f.as_str()))
        .map(|(f, v)| (f.clone(), v.clone()))
        .collect();
    let (mut columns, stored) = to_xentral_columns(&values, &ctx.ff);
    let get = |f: &str| h.get(f).map_or("", String::as_str);
    columns.push((
        "name".into(),
        mapping::display_name(get("firstname"), get("lastname"), get("email"), hubspot_id),
    ));
    s.report.xentral.created += 1;
    if s.dry_run {
        return Ok(());
    }
    let id = xentral::insert_lead_address(s.db, &columns)?;
    xentral::add_to_group(s.db, id, ctx.group_id, &ctx.today)?;
    let now = s.clock.now_ms();
    state::save_link(
        s.db,
        LinkTable::Contacts,
        &Link {
            hubspot_id: hubspot_id.to_owned(),
            xentral_id: id,
            snapshot: Snapshot {
                x: stored,
                h: values,
            },
        },
        now,
    )?;
    Ok(())
}

/// What became of one address in a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// HubSpot has it (or nothing needed sending).
    Done,
    /// Left out, with the reason.
    Excluded(String),
    /// Failed; retried at this time.
    Failed(i64),
    /// Not attempted (budget or daily limit reached).
    NotAttempted,
}

/// One pending write to HubSpot.
struct Pending {
    address_id: i64,
    hubspot_id: Option<String>,
    email: String,
    values: Fields,
    snapshot: Snapshot,
}

/// Pushes addresses to HubSpot: the whole group (reconciliation) or the given ids (queue).
/// Returns the outcome per address id.
pub fn push(
    s: &mut Session<'_>,
    ctx: &Ctx,
    only: Option<&[i64]>,
) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
    let mut outcomes = BTreeMap::new();
    let candidates = match only {
        None => xentral::group_addresses(s.db, &ctx.ff, ctx.group_id, &ctx.today)?,
        Some(ids) => xentral::addresses_by_id(s.db, &ctx.ff, ids)?,
    };
    if let Some(ids) = only {
        for id in ids {
            if !candidates.iter().any(|a| a.id == *id) {
                outcomes.insert(*id, PushOutcome::Excluded("address does not exist".into()));
            }
        }
    }
    let links = state::links_by_xentral_id(s.db, LinkTable::Contacts)?;
    let mut linked_emails = state::linked_emails(s.db)?;
    let failures = state::failures(s.db, OBJECT, "push")?;
    let now = s.clock.now_ms();
    let mut updates = Vec::new();
    let mut upserts = Vec::new();
    for a in candidates {
        let exclude = |s: &mut Session<'_>, outcomes: &mut BTreeMap<i64, PushOutcome>, reason: &str| {
            s.report.hubspot.exclude(reason);
            outcomes.insert(a.id, PushOutcome::Excluded(reason.to_owned()));
        };
        if only.is_some() {
            if a.deleted {
                exclude(s, &mut outcomes, "address deleted");
                continue;
            }
            if !xentral::is_group_member(s.db, a.id, ctx.group_id, &ctx.today)? {
                exclude(s, &mut outcomes, "not in the contact group");
                continue;
            }
        }
        if let Some(next) = failures.get(&a.id.to_string())
            && *next > now
        {
            s.report.pending = true;
            outcomes.insert(a.id, PushOutcome::Failed(*next));
            continue;
        }
        let x = from_xentral(&a, &ctx.ff, &ctx.countries);
        if !ctx.statuses.is_empty()
            && !ctx
                .statuses
                .contains(x.get("lead_status").map_or("", String::as_str))
        {
            exclude(s, &mut outcomes, "lead status not selected");
            continue;
        }
        match links.get(&a.id) {
            Some(link) => {
                let out = merge::merge(
                    &ctx.fields,
                    &x,
                    &link.snapshot.h,
                    Some(&link.snapshot),
                    ctx.winner,
                    KEEP_IN_XENTRAL,
                );
                if out.to_hubspot.is_empty() {
                    s.report.hubspot.unchanged += 1;
                    outcomes.insert(a.id, PushOutcome::Done);
                } else {
                    updates.push(Pending {
                        address_id: a.id,
                        hubspot_id: Some(link.hubspot_id.clone()),
                        email: String::new(),
                        values: out.to_hubspot,
                        snapshot: out.snapshot,
                    });
                }
            }
            None => {
                let email = x.get("email").cloned().unwrap_or_default();
                if email.is_empty() {
                    // Without an e-mail there is no key HubSpot could upsert by, and a plain
                    // create is not safe to retry; such addresses stay in xentral only.
                    exclude(s, &mut outcomes, "no e-mail address");
                    continue;
                }
                if linked_emails.get(&email).is_some_and(|owner| *owner != a.id) {
                    exclude(s, &mut outcomes, "e-mail shared with another address");
                    continue;
                }
                linked_emails.insert(email.clone(), a.id);
                let values: Fields = x
                    .iter()
                    .filter(|(f, _)| ctx.fields.contains(&f.as_str()))
                    .map(|(f, v)| (f.clone(), v.clone()))
                    .collect();
                upserts.push(Pending {
                    address_id: a.id,
                    hubspot_id: None,
                    email,
                    snapshot: Snapshot {
                        x: values.clone(),
                        h: values.clone(),
                    },
                    values,
                });
            }
        }
    }
    let mut stopped = false;
    for chunk in updates.chunks(BATCH) {
        if stopped {
            outcomes.extend(chunk.iter().map(|p| (p.address_id, PushOutcome::NotAttempted)));
            continue;
        }
        stopped = write_batch(s, ctx, chunk, false, &mut outcomes)?;
    }
    for chunk in upserts.chunks(BATCH) {
        if stopped {
            outcomes.extend(chunk.iter().map(|p| (p.address_id, PushOutcome::NotAttempted)));
            continue;
        }
        stopped = write_batch(s, ctx, chunk, true, &mut outcomes)?;
    }
    Ok(outcomes)
}

/// Sends one batch (update by id, or upsert by e-mail), splitting it when HubSpot refuses the
/// whole batch for one bad input. Returns true when the job must stop.
fn write_batch(
    s: &mut Session<'_>,
    ctx: &Ctx,
    chunk: &[Pending],
    upsert: bool,
    outcomes: &mut BTreeMap<i64, PushOutcome>,
) -> Result<bool, PluginError> {
    let side_count = |s: &mut Session<'_>, created: bool| {
        if created {
            s.report.hubspot.created += 1;
        } else {
            s.report.hubspot.updated += 1;
        }
    };
    if s.dry_run {
        for p in chunk {
            side_count(s, upsert);
            outcomes.insert(p.address_id, PushOutcome::Done);
        }
        return Ok(false);
    }
    let inputs: Vec<Json> = chunk
        .iter()
        .map(|p| {
            let props = Json::Object(to_hubspot_properties(&p.values, &ctx.countries));
            match &p.hubspot_id {
                Some(id) => json!({ "id": id, "properties": props }),
                None => json!({ "idProperty": "email", "id": p.email, "properties": props }),
            }
        })
        .collect();
    let result = s
        .client
        .batch("contacts", if upsert { "upsert" } else { "update" }, inputs, None);
    let outcome = match result {
        Ok(o) => o,
        Err(e) if e.stops_job() => {
            s.stop_early(&e);
            outcomes.extend(chunk.iter().map(|p| (p.address_id, PushOutcome::NotAttempted)));
            return Ok(true);
        }
        Err(ApiError::Client { status, .. }) if status == 400 && chunk.len() > 1 => {
            let (a, b) = chunk.split_at(chunk.len() / 2);
            if write_batch(s, ctx, a, upsert, outcomes)? {
                outcomes.extend(b.iter().map(|p| (p.address_id, PushOutcome::NotAttempted)));
                return Ok(true);
            }
            return write_batch(s, ctx, b, upsert, outcomes);
        }
        Err(e) => {
            if matches!(e, ApiError::Unauthorized(_)) {
                return Err(api(e));
            }
            let ids: Vec<i64> = chunk.iter().map(|p| p.address_id).collect();
            fail_all(s, &ids, &e.to_string(), outcomes)?;
            return Ok(false);
        }
    };
    let by_id: HashMap<String, (Record, Option<bool>)> = outcome
        .results
        .into_iter()
        .map(|(r, new)| {
            let key = if upsert {
                r.prop("email").trim().to_lowercase()
            } else {
                r.id.clone()
            };
            (key, (r, new))
        })
        .collect();
    let errors = outcome.errors.join("; ");
    let now = s.clock.now_ms();
    let mut missing = Vec::new();
    s.transaction(|s| {
        for p in chunk {
            let key = if upsert {
                p.email.clone()
            } else {
                p.hubspot_id.clone().unwrap_or_default()
            };
            let Some((record, new)) = by_id.get(&key) else {
                missing.push(p);
                continue;
            };
            let snapshot = if upsert {
                Snapshot {
                    x: p.snapshot.x.clone(),
                    h: p.values.clone(),
                }
            } else {
                p.snapshot.clone()
            };
            state::save_link(
                s.db,
                LinkTable::Contacts,
                &Link {
                    hubspot_id: record.id.clone(),
                    xentral_id: p.address_id,
                    snapshot,
                },
                now,
            )?;
            state::clear_failure(s.db, OBJECT, "push", &p.address_id.to_string())?;
            side_count(s, upsert && new.unwrap_or(true));
            outcomes.insert(p.address_id, PushOutcome::Done);
        }
        Ok(())
    })?;
    if !missing.is_empty() {
        let message = if errors.is_empty() {
            "HubSpot did not return this record".to_owned()
        } else {
            errors
        };
        let missing: Vec<i64> = missing.iter().map(|p| p.address_id).collect();
        fail_all(s, &missing, &message, outcomes)?;
    }
    Ok(false)
}

/// Stores a failure (with back-off) for every address of a batch.
fn fail_all(
    s: &mut Session<'_>,
    address_ids: &[i64],
    error: &str,
    outcomes: &mut BTreeMap<i64, PushOutcome>,
) -> Result<(), PluginError> {
    let now = s.clock.now_ms();
    s.warn(
        "contacts not written to HubSpot",
        &[("count", &address_ids.len().to_string()), ("error", error)],
    );
    s.transaction(|s| {
        for id in address_ids {
            let next = state::record_failure(s.db, OBJECT, "push", &id.to_string(), error, now)?;
            s.report.hubspot.failed += 1;
            outcomes.insert(*id, PushOutcome::Failed(next));
        }
        Ok(())
    })?;
    s.report.pending = true;
    Ok(())
}
