//! Records that end, on either side, written once for every object kind: an archive in
//! HubSpot, its restore, a merge in HubSpot, and a delete in xentral. Each ends (or moves) a
//! link as the kind's rule says, and records the end with its reason so sync health lists
//! it; nothing is deleted without a setting saying so.
//!
//! - **Archive** does not change a record's modified time and search hides archived
//!   records, so the incremental pull never sees one. A *sweep* reads the links' HubSpot
//!   records in batches of a hundred instead, after the pull: one starts at most every
//!   [`SWEEP_EVERY_MS`] (the first one interval after the kind's first run) and reads at
//!   most [`SWEEP_READS`] batches per run, going on in the next runs until every link was
//!   read. A record missing from the read is asked for once more as archived
//!   (`archived=true`): archived (restorable for 90 days) or deleted for good (a GDPR delete).
//!   The link ends; with `on-hubspot-archive = mark` the xentral record is marked deleted (a
//!   resubmission closed).
//! - **Restore** brings the record back with a new modified time: the pull meets it, and a
//!   record whose link ended by an archive is linked to the same xentral record again (marked
//!   records unmarked), merged as a first link: never a second record.
//! - **Merge** creates a record with a new id that lists the merged ids in
//!   `hs_merged_object_ids`, and a read of an old id answers the new record. The pull (or the
//!   sweep) moves the link of a merged id to the new id; the values are merged against the
//!   link's snapshot as an ordinary change. When both merged ids were linked to two xentral
//!   records, the one linked to the lower xentral id keeps the link; the other stops syncing
//!   and waits for the user to merge it in xentral (health says so).
//! - **Delete in xentral** (an address or contact person marked deleted, a resubmission
//!   removed): the link ends; with `on-xentral-delete = archive` the HubSpot record is
//!   archived (a hundred per request). Checked every run, from the database alone.

use std::collections::{HashMap, HashSet};

use serde_json::{Value as Json, json};

use crate::api::{PlannedChange, PluginError};
use crate::engine::incremental::{Flow, PrepareError, api_error};
use crate::engine::merge::Snapshot;
use crate::engine::rules::{OnArchive, OnDelete, SyncRule};
use crate::engine::session::Session;
use crate::hubspot::{ApiError, Record};
use crate::store::state::{self, Cursor, Ended, Link, LinkTable};
use crate::xentral;

/// A new archive sweep starts at most this often (per object kind).
pub const SWEEP_EVERY_MS: i64 = 6 * 60 * 60 * 1000;

/// At most this many batch reads of a sweep per run (per object kind): a hundred links each.
pub const SWEEP_READS: usize = 10;

/// Links read per batch.
const BATCH: u32 = 100;

/// Why a link ended.
pub mod reason {
    /// The HubSpot record was archived; the xentral record was left as it is.
    pub const ARCHIVED: &str = "archived in HubSpot";
    /// The HubSpot record was archived; the xentral record was marked deleted (closed).
    pub const ARCHIVED_MARKED: &str = "archived in HubSpot (marked deleted in xentral)";
    /// The HubSpot record is gone for good (a GDPR delete).
    pub const DELETED_IN_HUBSPOT: &str = "deleted in HubSpot for good";
    /// Gone for good in HubSpot; the xentral record was marked deleted (closed).
    pub const DELETED_IN_HUBSPOT_MARKED: &str =
        "deleted in HubSpot for good (marked deleted in xentral)";
    /// The xentral record was deleted; HubSpot was left alone.
    pub const DELETED: &str = "deleted in xentral";
    /// The xentral record was deleted; the HubSpot record was archived.
    pub const DELETED_ARCHIVED: &str = "deleted in xentral (archived in HubSpot)";
    /// Two linked HubSpot records were merged; this xentral record waits for the user.
    pub const MERGE_BY_HAND: &str = "merged in HubSpot — merge in xentral by hand";
}

/// The HubSpot property naming the ids a record was merged from.
pub const MERGED_IDS: &str = "hs_merged_object_ids";

/// One object kind's records that end: its link table, its HubSpot object and its rule.
#[derive(Debug, Clone, Copy)]
pub struct Ending<'r> {
    /// Where its links are kept.
    pub table: LinkTable,
    /// The HubSpot object (`contacts`, `companies`, `deals`).
    pub object: &'static str,
    /// What happens on an archive and a delete.
    pub rule: &'r SyncRule,
}

impl Ending<'_> {
    fn sweep_cursor(self) -> String {
        format!("sweep:{}", self.table.object())
    }

    /// Ends `link` for `reason`; `mark` marks the xentral record deleted (closes a
    /// resubmission) first.
    fn end(
        self,
        s: &mut Session<'_>,
        link: &Link,
        reason: &str,
        mark: bool,
        needs_action: bool,
    ) -> Result<(), PluginError> {
        s.plan(PlannedChange {
            object: self.table.object().into(),
            in_xentral: true,
            kind: if mark { "mark-deleted" } else { "unlink" },
            xentral_id: Some(link.xentral_id),
            hubspot_id: Some(link.hubspot_id.clone()),
            fields: Vec::new(),
            reason: reason.into(),
        });
        let line = format!(
            "{} {} ⇄ {} {}: {reason}",
            self.table.object(),
            link.hubspot_id,
            self.table.entity().name(),
            link.xentral_id
        );
        s.info("link ended", &[("link", &line)]);
        s.note(line);
        if s.dry_run {
            return Ok(());
        }
        let now = s.clock.now_ms();
        s.transaction(|s| {
            if mark {
                set_ended(s, self.table, link.xentral_id, true)?;
                s.report.xentral.updated += 1;
            }
            state::drop_link(s.db, self.table, &link.hubspot_id)?;
            state::record_ended(
                s.db,
                self.table,
                &Ended {
                    hubspot_id: link.hubspot_id.clone(),
                    xentral_id: link.xentral_id,
                    reason: reason.into(),
                    needs_action,
                },
                now,
            )?;
            Ok(())
        })
    }

    /// Whether an archive (or a delete for good) in HubSpot marks the xentral record.
    fn marks(self) -> bool {
        self.rule.on_archive == OnArchive::Mark
    }
}

/// Marks a xentral record deleted (closes a resubmission), or not any more.
fn set_ended(
    s: &mut Session<'_>,
    table: LinkTable,
    id: i64,
    ended: bool,
) -> Result<(), PluginError> {
    match table {
        LinkTable::Contacts | LinkTable::Companies => {
            xentral::set_address_deleted(s.db, id, ended)?
        }
        LinkTable::Persons => xentral::set_person_deleted(s.db, id, ended)?,
        LinkTable::Deals => xentral::set_resubmission_closed(s.db, id, ended)?,
    }
    Ok(())
}

/// Before a pulled page is applied: the links its records restore (an archived record back
/// in HubSpot) or take over (a record merged from linked ones), put into `links` (HubSpot id
/// → its link; `None` when not linked), as the page's links read. Returns the page's
/// unlinked records whose xentral record was deleted: the kind leaves them out (never
/// re-creates what the user deleted).
pub fn prepare_page(
    s: &mut Session<'_>,
    table: LinkTable,
    records: &[Record],
    links: &mut HashMap<String, Option<Link>>,
) -> Result<HashSet<String>, PrepareError> {
    let unlinked: Vec<&Record> = records
        .iter()
        .filter(|r| links.get(&r.id).is_none_or(Option::is_none))
        .collect();
    let mut deleted = HashSet::new();
    if unlinked.is_empty() {
        return Ok(deleted);
    }
    let ids: Vec<&str> = unlinked.iter().map(|r| r.id.as_str()).collect();
    let mut ended = state::ended_of(s.db, table, &ids)?;
    for r in unlinked {
        let found = match take_over_merged(s, table, r)? {
            Some(link) => Some(link),
            None => match ended.remove(&r.id) {
                Some(e) if e.reason == reason::ARCHIVED || e.reason == reason::ARCHIVED_MARKED => {
                    restore(s, table, e)?
                }
                Some(e) if e.reason.starts_with(reason::DELETED) => {
                    deleted.insert(e.hubspot_id);
                    None
                }
                _ => None,
            },
        };
        if found.is_some() {
            links.insert(r.id.clone(), found);
        }
    }
    Ok(deleted)
}

/// The link of a record restored in HubSpot whose link ended by an archive (`ended`): the
/// same xentral record (unmarked if the archive marked it), with an empty snapshot, so the
/// pull merges both sides as a first link. `None` when the xentral record was linked again
/// since (to another HubSpot record).
fn restore(
    s: &mut Session<'_>,
    table: LinkTable,
    ended: Ended,
) -> Result<Option<Link>, PluginError> {
    let hubspot_id = ended.hubspot_id.as_str();
    let link = Link {
        hubspot_id: hubspot_id.to_owned(),
        xentral_id: ended.xentral_id,
        snapshot: Snapshot::default(),
    };
    if state::link_by_xentral_id(s.db, table, ended.xentral_id)?.is_some() {
        return Ok(None);
    }
    s.info(
        "restored in HubSpot: linked to its xentral record again",
        &[
            ("object", table.object()),
            ("hubspot_id", hubspot_id),
            ("xentral_id", &ended.xentral_id.to_string()),
        ],
    );
    s.plan(PlannedChange {
        object: table.object().into(),
        in_xentral: true,
        kind: "link",
        xentral_id: Some(ended.xentral_id),
        hubspot_id: Some(hubspot_id.to_owned()),
        fields: Vec::new(),
        reason: "restored in HubSpot".into(),
    });
    if !s.dry_run {
        let now = s.clock.now_ms();
        s.transaction(|s| {
            if ended.reason == reason::ARCHIVED_MARKED {
                set_ended(s, table, ended.xentral_id, false)?;
            }
            state::save_link(s.db, table, &link, now)?;
            Ok(state::forget_ended(s.db, table, hubspot_id)?)
        })?;
    }
    Ok(Some(link))
}

/// The ids a record was merged from (its own id left out).
fn merged_ids(r: &Record) -> Vec<String> {
    r.prop(MERGED_IDS)
        .split(';')
        .map(str::trim)
        .filter(|id| !id.is_empty() && *id != r.id)
        .map(str::to_owned)
        .collect()
}

/// The link a merged record takes over from the ids it was merged from: the link of the
/// lower xentral id moves to the new id (its snapshot kept, so the merged values are pulled
/// as an ordinary change); any other linked one ends and waits for the user. `None` when no
/// merged id was linked.
fn take_over_merged(
    s: &mut Session<'_>,
    table: LinkTable,
    r: &Record,
) -> Result<Option<Link>, PluginError> {
    let merged = merged_ids(r);
    if merged.is_empty() {
        return Ok(None);
    }
    let ids: Vec<&str> = merged.iter().map(String::as_str).collect();
    let mut linked: Vec<Link> = state::links_by_hubspot_ids(s.db, table, &ids)?
        .into_values()
        .collect();
    if linked.is_empty() {
        return Ok(None);
    }
    linked.sort_by_key(|l| l.xentral_id);
    let keeper = linked.remove(0);
    let link = Link {
        hubspot_id: r.id.clone(),
        ..keeper.clone()
    };
    s.info(
        "merged in HubSpot: the link moves to the new record",
        &[
            ("object", table.object()),
            ("from", &keeper.hubspot_id),
            ("to", &r.id),
        ],
    );
    s.plan(PlannedChange {
        object: table.object().into(),
        in_xentral: true,
        kind: "relink",
        xentral_id: Some(keeper.xentral_id),
        hubspot_id: Some(r.id.clone()),
        fields: Vec::new(),
        reason: format!("merged in HubSpot from {}", merged.join(", ")),
    });
    let ending = Ending {
        table,
        object: "",
        rule: &SyncRule::default(),
    };
    for other in &linked {
        let reason = format!(
            "{} into {} (with {} {})",
            reason::MERGE_BY_HAND,
            r.id,
            table.entity().name(),
            keeper.xentral_id
        );
        ending.end(s, other, &reason, false, true)?;
    }
    if !s.dry_run {
        let now = s.clock.now_ms();
        s.transaction(|s| {
            state::drop_link(s.db, table, &keeper.hubspot_id)?;
            state::save_link(s.db, table, &link, now)?;
            Ok(())
        })?;
    }
    Ok(Some(link))
}

/// The xentral records of `table` a push leaves out, with the reason: those whose HubSpot
/// record was archived or deleted there (exporting them again would undo what was done in
/// HubSpot; a restore there links them again), and those waiting for a merge by hand.
pub fn not_exported(
    s: &mut Session<'_>,
    table: LinkTable,
) -> Result<HashMap<i64, &'static str>, PluginError> {
    Ok(state::ended_records(s.db, table)?
        .into_iter()
        .filter_map(|(id, why)| {
            let reason = if why.starts_with(reason::MERGE_BY_HAND) {
                reason::MERGE_BY_HAND
            } else if why.starts_with(reason::ARCHIVED)
                || why.starts_with(reason::DELETED_IN_HUBSPOT)
            {
                "archived or deleted in HubSpot (restore it there to sync it again)"
            } else {
                return None;
            };
            Some((id, reason))
        })
        .collect())
}

/// Ends the links whose xentral record is gone (see the module doc): HubSpot's record is
/// archived where the rule says so. Also forgets a merge waiting for the user once its
/// xentral record is gone (the user merged it). `Stop` when a budget stopped it.
pub fn end_deleted_in_xentral(s: &mut Session<'_>, e: Ending<'_>) -> Result<Flow, PluginError> {
    if !s.dry_run {
        state::forget_settled_merges(s.db, e.table)?;
    }
    let gone = state::gone_in_xentral(s.db, e.table)?;
    if gone.is_empty() {
        return Ok(Flow::Continue);
    }
    if e.rule.on_delete == OnDelete::Keep {
        for link in &gone {
            e.end(s, link, reason::DELETED, false, false)?;
        }
        return Ok(Flow::Continue);
    }
    for chunk in gone.chunks(BATCH as usize) {
        if !s.dry_run {
            let inputs: Vec<Json> = chunk
                .iter()
                .map(|l| json!({ "id": l.hubspot_id }))
                .collect();
            match s.client.batch(e.object, "archive", inputs, None) {
                Ok(_) => {}
                Err(err) if err.stops_job() => {
                    s.stop_early(&err);
                    return Ok(Flow::Stop);
                }
                Err(err @ (ApiError::Unauthorized(_) | ApiError::MissingScopes(_))) => {
                    return Err(api_error(err));
                }
                Err(err) => {
                    // The links stay: the next run archives them again (archiving an archived
                    // record changes nothing).
                    s.warn(
                        "could not archive records deleted in xentral",
                        &[("object", e.object), ("error", &err.to_string())],
                    );
                    s.report.pending = true;
                    continue;
                }
            }
        }
        for link in chunk {
            s.plan(PlannedChange {
                object: e.table.object().into(),
                in_xentral: false,
                kind: "archive",
                xentral_id: Some(link.xentral_id),
                hubspot_id: Some(link.hubspot_id.clone()),
                fields: Vec::new(),
                reason: reason::DELETED.into(),
            });
            s.report.hubspot.updated += 1;
            e.end(s, link, reason::DELETED_ARCHIVED, false, false)?;
        }
    }
    Ok(Flow::Continue)
}

/// One step of the archive sweep (see the module doc): at most [`SWEEP_READS`] batch reads of
/// the kind's links, going on from where the last run stopped. `properties` are read with
/// each record (the merged ids among them). `Stop` when a budget stopped it.
pub fn sweep(s: &mut Session<'_>, e: Ending<'_>) -> Result<Flow, PluginError> {
    let name = e.sweep_cursor();
    let at = state::cursor(s.db, &name)?;
    let now = s.clock.now_ms();
    let running = !at.last_id.is_empty();
    if at.modified_ms == 0 {
        // The first run: its links were all just read or made; the first sweep comes one
        // interval later.
        save_sweep(s, &name, now, "")?;
        return Ok(Flow::Continue);
    }
    if !running && now - at.modified_ms < SWEEP_EVERY_MS {
        return Ok(Flow::Continue);
    }
    let started = if running { at.modified_ms } else { now };
    let mut after: i64 = at.last_id.parse().unwrap_or(0);
    for _ in 0..SWEEP_READS {
        let page = state::links_page(s.db, e.table, after, BATCH)?;
        let Some(&(_, last)) = page.last() else {
            save_sweep(s, &name, started, "")?;
            return Ok(Flow::Continue);
        };
        if check(s, e, &page)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
        after = last;
        save_sweep(s, &name, started, &after.to_string())?;
    }
    Ok(Flow::Continue)
}

fn save_sweep(
    s: &mut Session<'_>,
    name: &str,
    started: i64,
    last: &str,
) -> Result<(), PluginError> {
    if s.dry_run {
        return Ok(());
    }
    let now = s.clock.now_ms();
    let at = Cursor {
        modified_ms: started,
        last_id: last.to_owned(),
    };
    Ok(state::save_cursor(s.db, name, &at, now)?)
}

/// Reads a page of links' HubSpot records: a record answered under another id was merged
/// (its link moves); one not answered is archived, or deleted for good.
fn check(s: &mut Session<'_>, e: Ending<'_>, page: &[(String, i64)]) -> Result<Flow, PluginError> {
    let inputs: Vec<Json> = page.iter().map(|(h, _)| json!({ "id": h })).collect();
    let read = match s.client.batch(
        e.object,
        "read",
        inputs,
        Some(("properties", json!([MERGED_IDS]))),
    ) {
        Ok(read) => read,
        Err(err) if err.stops_job() => {
            s.stop_early(&err);
            return Ok(Flow::Stop);
        }
        Err(err) => return Err(api_error(err)),
    };
    let mut answered: HashSet<String> = HashSet::new();
    let mut merges = Vec::new();
    for (record, _) in read.results {
        answered.insert(record.id.clone());
        for old in merged_ids(&record) {
            if page.iter().any(|(h, _)| *h == old) {
                answered.insert(old);
                merges.push(record.clone());
            }
        }
    }
    for record in merges {
        take_over_merged(s, e.table, &record)?;
    }
    let missing: Vec<String> = page
        .iter()
        .filter(|(h, _)| !answered.contains(h))
        .map(|(h, _)| h.clone())
        .collect();
    if missing.is_empty() {
        return Ok(Flow::Continue);
    }
    let archived: HashSet<String> = match s.client.batch_read_archived(e.object, &missing, &[]) {
        Ok(read) => read.results.into_iter().map(|(r, _)| r.id).collect(),
        Err(err) if err.stops_job() => {
            s.stop_early(&err);
            return Ok(Flow::Stop);
        }
        Err(err) => return Err(api_error(err)),
    };
    for (hubspot_id, xentral_id) in page.iter().filter(|(h, _)| missing.contains(h)) {
        let link = Link {
            hubspot_id: hubspot_id.clone(),
            xentral_id: *xentral_id,
            snapshot: Snapshot::default(),
        };
        let reason = match (archived.contains(hubspot_id), e.marks()) {
            (true, false) => reason::ARCHIVED,
            (true, true) => reason::ARCHIVED_MARKED,
            (false, false) => reason::DELETED_IN_HUBSPOT,
            (false, true) => reason::DELETED_IN_HUBSPOT_MARKED,
        };
        e.end(s, &link, reason, e.marks(), false)?;
    }
    Ok(Flow::Continue)
}
