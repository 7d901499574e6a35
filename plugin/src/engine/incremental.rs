//! Incremental reading of a HubSpot object type by its modified-time property, shared by
//! contacts and deals.
//!
//! Pages are keyset-paged on (modified time, id): every query starts at its first page, so no
//! query ever pages towards HubSpot's 10,000-result cap, a short page never ends the read
//! early, and a record changed while we page is read in a later run instead of being skipped.
//! Records modified less than [`SEARCH_LAG_MS`] before the run started are left for the next
//! run (search lags writes). Each page is written in one transaction together with the cursor.

use std::collections::HashSet;

use serde_json::{Value as Json, json};

use crate::api::{PlannedChange, PluginError};
use crate::engine::merge::{Fields, Outcome, Snapshot, Winner};
use crate::engine::session::Session;
use crate::hubspot::{ApiError, Record};
use crate::mapping;
use crate::store::state::{self, Cursor, Link, LinkTable};

/// Records per search page (HubSpot's maximum).
const PAGE: usize = 200;
/// Records per batch read.
const BATCH: usize = 100;
/// Search lags writes; records modified this close to the run start are left for the next run.
pub const SEARCH_LAG_MS: i64 = 30_000;

/// One HubSpot object type read incrementally.
pub struct Feed {
    /// The object type in API paths (`contacts`, `deals`).
    pub object: &'static str,
    /// The name used in `hubspot_sync_failures` (`contact`, `deal`).
    pub failure_object: &'static str,
    /// The modified-time property (`lastmodifieddate`, `hs_lastmodifieddate`).
    pub modified_property: &'static str,
    /// Properties to read.
    pub properties: Vec<String>,
    /// The cursor's name in `hubspot_sync_cursors`.
    pub cursor: &'static str,
}

/// What one read covers: its cursor, filter groups (each ANDed with the modified-time range,
/// the groups ORed; none: every record) and a fixed upper bound (a backfill; `None`: HubSpot's
/// time less the search lag).
struct Window<'w> {
    cursor: &'w str,
    groups: &'w [Vec<Json>],
    upper: Option<i64>,
}

/// Whether a job goes on after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop now (budget or daily limit); the rest is pending.
    Stop,
}

/// Why a sink could not prepare a page.
#[derive(Debug)]
pub enum PrepareError {
    /// A HubSpot call failed (a budget or daily-limit stop ends the job gracefully).
    Api(ApiError),
    /// Anything else (the database).
    Plugin(PluginError),
}

impl From<ApiError> for PrepareError {
    fn from(e: ApiError) -> Self {
        PrepareError::Api(e)
    }
}

impl From<PluginError> for PrepareError {
    fn from(e: PluginError) -> Self {
        PrepareError::Plugin(e)
    }
}

impl From<crate::platform::DbError> for PrepareError {
    fn from(e: crate::platform::DbError) -> Self {
        PrepareError::Plugin(e.into())
    }
}

/// Where pulled records go.
pub trait Sink {
    /// Called once per page before its records are applied, outside the transaction (e.g. to
    /// read associations in one call).
    fn prepare(&mut self, _s: &mut Session<'_>, _records: &[Record]) -> Result<(), PrepareError> {
        Ok(())
    }

    /// Merges one record into xentral, inside the page's transaction.
    fn apply(&mut self, s: &mut Session<'_>, record: &Record) -> Result<(), PluginError>;

    /// Called after a transaction of applied records was rolled back, so a sink that keeps
    /// what it wrote in memory forgets it.
    fn rolled_back(&mut self) {}
}

/// One pulled record merged into an existing xentral record, as every object kind ends it.
pub struct PulledUpdate<'a> {
    /// Where its link is kept (and the object kind it names in conflict and failure records).
    pub links: LinkTable,
    /// The HubSpot record.
    pub hubspot_id: &'a str,
    /// The xentral record.
    pub xentral_id: i64,
    /// What the merge decided.
    pub outcome: &'a Outcome,
    /// The link is new (a first match), so the record counts as updated.
    pub newly_linked: bool,
    /// Whether any xentral column is to be written.
    pub has_columns: bool,
}

/// Ends one pulled update, the same for every object kind: its conflicts are recorded and
/// the outcome counted; then, not in a dry run, `write` writes the columns, the values the
/// database kept are taken into the snapshot (`stored` re-reads the record) and the link is
/// saved with it.
pub fn finish_update(
    s: &mut Session<'_>,
    winner: Winner,
    u: PulledUpdate<'_>,
    mut snapshot: Snapshot,
    write: impl FnOnce(&mut Session<'_>) -> Result<(), PluginError>,
    stored: impl FnOnce(&mut Session<'_>) -> Result<Option<Fields>, PluginError>,
) -> Result<(), PluginError> {
    if !u.outcome.conflicts.is_empty() {
        s.conflict(
            winner,
            u.links.object(),
            u.hubspot_id,
            u.xentral_id,
            &u.outcome.conflicts,
        )?;
    }
    if u.has_columns || u.newly_linked {
        s.report.xentral.updated += 1;
        s.plan(PlannedChange {
            object: u.links.object().into(),
            in_xentral: true,
            kind: if u.newly_linked { "link" } else { "update" },
            xentral_id: Some(u.xentral_id),
            hubspot_id: Some(u.hubspot_id.to_owned()),
            fields: u.outcome.to_xentral.keys().cloned().collect(),
            reason: String::new(),
        });
    } else {
        s.report.xentral.unchanged += 1;
    }
    if s.dry_run {
        return Ok(());
    }
    write(s)?;
    // Re-read whatever was to be written, also when xentral could hold none of it (a value
    // refused is then kept as xentral has it, so it is not sent back to HubSpot).
    if !u.outcome.to_xentral.is_empty()
        && let Some(kept) = stored(s)?
    {
        snapshot.take_stored(u.outcome.to_xentral.keys(), &kept);
    }
    let now = s.clock.now_ms();
    state::save_link(
        s.db,
        u.links,
        &Link {
            hubspot_id: u.hubspot_id.to_owned(),
            xentral_id: u.xentral_id,
            snapshot,
        },
        now,
    )?;
    if u.newly_linked {
        // Linked again (e.g. a contact re-created with the address's e-mail, or moved to
        // the live twin of its deleted address): the old ends no longer hold either back.
        state::forget_ended_of(s.db, u.links, u.xentral_id)?;
        state::forget_ended(s.db, u.links, u.hubspot_id)?;
    }
    // HubSpot's record changed: one HubSpot refused is worth sending again.
    if state::clear_refusal(s.db, u.links.object(), u.xentral_id)? {
        crate::engine::queue::enqueue(s.db, u.links.entity(), u.xentral_id, now)?;
    }
    Ok(())
}

/// Ends one pulled record new to xentral, the same for every object kind: counted as
/// created; then, not in a dry run, `insert` creates the xentral record (returning its id),
/// the values the database kept of `written` are taken into the snapshot (`stored` re-reads
/// the record) and the link is saved.
pub fn finish_create(
    s: &mut Session<'_>,
    links: LinkTable,
    hubspot_id: &str,
    mut snapshot: Snapshot,
    written: &[String],
    insert: impl FnOnce(&mut Session<'_>) -> Result<i64, PluginError>,
    stored: impl FnOnce(&mut Session<'_>, i64) -> Result<Option<Fields>, PluginError>,
) -> Result<(), PluginError> {
    s.report.xentral.created += 1;
    s.plan(PlannedChange {
        object: links.object().into(),
        in_xentral: true,
        kind: "create",
        xentral_id: None,
        hubspot_id: Some(hubspot_id.to_owned()),
        fields: written.to_vec(),
        reason: String::new(),
    });
    if s.dry_run {
        return Ok(());
    }
    let id = insert(s)?;
    if let Some(kept) = stored(s, id)? {
        snapshot.take_stored(written, &kept);
    }
    let now = s.clock.now_ms();
    state::save_new_link(
        s.db,
        links,
        &Link {
            hubspot_id: hubspot_id.to_owned(),
            xentral_id: id,
            snapshot,
        },
        now,
    )?;
    Ok(())
}

/// The job-level error for a HubSpot failure that retries did not cure.
pub fn api_error(e: ApiError) -> PluginError {
    match e {
        ApiError::Unauthorized(_) | ApiError::MissingScopes(_) => {
            PluginError::Unauthorized(e.to_string())
        }
        ApiError::RateLimited { ref policy } if policy == "DAILY" => {
            PluginError::RateLimited(e.to_string())
        }
        other => PluginError::Hubspot(other.to_string()),
    }
}

/// [`api_error`] for a failure while reading `what`: the class (credential, rate limit,
/// HubSpot) is kept, so a revoked token is reported as one whatever call met it first.
pub fn api_error_reading(what: &str, e: ApiError) -> PluginError {
    match api_error(e) {
        PluginError::Hubspot(m) => PluginError::Hubspot(format!("reading {what}: {m}")),
        PluginError::Unauthorized(m) => PluginError::Unauthorized(format!("reading {what}: {m}")),
        other => other,
    }
}

/// Runs an API step; a budget or daily-limit stop becomes [`Flow::Stop`].
fn step<T>(s: &mut Session<'_>, r: Result<T, ApiError>) -> Result<Option<T>, PluginError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.stops_job() => {
            s.stop_early(&e);
            Ok(None)
        }
        Err(e) => Err(api_error(e)),
    }
}

impl Feed {
    /// A search for `range` (the modified-time filters) within the window's groups: each
    /// group is ANDed with the range, the groups ORed (no groups: the range alone).
    fn search_body(&self, range: Vec<Json>, w: &Window<'_>, sort: &str) -> Json {
        let groups: Vec<Json> = if w.groups.is_empty() {
            vec![json!({ "filters": range })]
        } else {
            w.groups
                .iter()
                .map(|g| json!({ "filters": range.iter().chain(g).cloned().collect::<Vec<_>>() }))
                .collect()
        };
        json!({
            "filterGroups": groups,
            "sorts": [{ "propertyName": sort, "direction": "ASCENDING" }],
            "properties": self.properties,
            "limit": PAGE,
        })
    }

    /// HubSpot's time less the search lag, if a reply has told it.
    fn upper(&self, s: &Session<'_>) -> Option<i64> {
        s.client.hubspot_now_ms().map(|t| t - SEARCH_LAG_MS)
    }

    fn modified(&self, r: &Record) -> Result<i64, PluginError> {
        mapping::parse_instant_ms(r.prop(self.modified_property)).ok_or_else(|| {
            PluginError::Hubspot(format!(
                "{} {} has no readable {} ('{}')",
                self.failure_object,
                r.id,
                self.modified_property,
                r.prop(self.modified_property)
            ))
        })
    }

    /// A kind's pull: the failed records whose retry is due, then the changes behind the
    /// cursor. `Stop` when a budget stopped it.
    pub fn retry_and_pull(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
    ) -> Result<Flow, PluginError> {
        if self.retry_failed(s, sink)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
        self.pull(s, sink)
    }

    /// Re-reads records whose pull failed and whose retry is due.
    fn retry_failed(&self, s: &mut Session<'_>, sink: &mut dyn Sink) -> Result<Flow, PluginError> {
        let now = s.clock.now_ms();
        let due: Vec<String> = state::failures(s.db, self.failure_object, "pull")?
            .into_iter()
            .filter(|(_, next)| *next <= now)
            .map(|(k, _)| k)
            .collect();
        for chunk in due.chunks(BATCH) {
            let inputs: Vec<Json> = chunk.iter().map(|id| json!({ "id": id })).collect();
            let props = json!(self.properties);
            let read = s
                .client
                .batch(self.object, "read", inputs, Some(("properties", props)));
            let Some(outcome) = step(s, read)? else {
                return Ok(Flow::Stop);
            };
            let found: HashSet<String> =
                outcome.results.iter().map(|(r, _)| r.id.clone()).collect();
            let records: Vec<Record> = outcome.results.into_iter().map(|(r, _)| r).collect();
            if self.apply_page(s, sink, &records, None)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            for gone in chunk.iter().filter(|id| !found.contains(*id)) {
                s.transaction(|s| self.clear_failures(s, &[gone.as_str()]))?;
                s.report.xentral.exclude(&format!(
                    "{} no longer exists in HubSpot",
                    self.failure_object
                ));
            }
        }
        Ok(Flow::Continue)
    }

    /// Pulls every record modified since the cursor, up to HubSpot's time at the read less
    /// [`SEARCH_LAG_MS`]. That bound is HubSpot's own (its `Date` header), never the host's:
    /// with HubSpot's clock behind ours a bound from our clock would pass over edits made
    /// after the run for good. When no reply has told HubSpot's time yet, the first search
    /// asks without an upper bound and what lies beyond the bound its reply gives is left.
    pub fn pull(&self, s: &mut Session<'_>, sink: &mut dyn Sink) -> Result<Flow, PluginError> {
        let window = Window {
            cursor: self.cursor,
            groups: &[],
            upper: None,
        };
        self.read(s, sink, &window)
    }

    /// Reads the records of `groups` (see [`Window`]) modified up to `upper`, from its own
    /// cursor: the backfill of what a widened filter newly includes, behind the main cursor.
    /// Returns whether it is complete (false: stopped by the budget, pending).
    pub fn backfill(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        cursor: &str,
        groups: &[Vec<Json>],
        upper: i64,
    ) -> Result<bool, PluginError> {
        let window = Window {
            cursor,
            groups,
            upper: Some(upper),
        };
        if self.read(s, sink, &window)? == Flow::Stop {
            return Ok(false);
        }
        let at = state::cursor(s.db, cursor)?;
        Ok(s.dry_run || (at.modified_ms >= upper && at.last_id.is_empty()))
    }

    fn read(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        w: &Window<'_>,
    ) -> Result<Flow, PluginError> {
        let mut cur = state::cursor(s.db, w.cursor)?;
        let mut upper = w.upper.or_else(|| self.upper(s));
        loop {
            if !cur.last_id.is_empty() {
                match self.walk_tie(s, sink, w, cur.modified_ms, cur.last_id.clone())? {
                    Some(c) => cur = c,
                    None => return Ok(Flow::Stop),
                }
                upper = upper.or_else(|| self.upper(s));
            }
            if upper.is_some_and(|u| cur.modified_ms >= u) {
                return Ok(Flow::Continue);
            }
            let prop = self.modified_property;
            let mut filters = vec![
                json!({"propertyName": prop, "operator": "GT", "value": cur.modified_ms.to_string()}),
            ];
            if let Some(u) = upper {
                filters
                    .push(json!({"propertyName": prop, "operator": "LTE", "value": u.to_string()}));
            }
            let body = self.search_body(filters, w, prop);
            let searched = s.client.search(self.object, &body);
            let Some(mut page) = step(s, searched)? else {
                return Ok(Flow::Stop);
            };
            let bound = match upper {
                Some(u) => u,
                None => {
                    let u = self.upper(s).ok_or_else(|| {
                        PluginError::Hubspot(
                            "HubSpot's reply has no readable Date header, so the read position cannot be kept in HubSpot's time".into(),
                        )
                    })?;
                    upper = Some(u);
                    let stamps = page
                        .results
                        .iter()
                        .map(|r| self.modified(r))
                        .collect::<Result<Vec<_>, _>>()?;
                    if stamps.iter().any(|t| *t > u) {
                        // Sorted by modified time: everything up to the bound is in this page.
                        let mut keep = stamps.iter().map(|t| *t <= u);
                        page.results.retain(|_| keep.next().unwrap_or(false));
                        page.next_after = None;
                    }
                    if cur.modified_ms >= u {
                        return Ok(Flow::Continue);
                    }
                    u
                }
            };
            if page.next_after.is_none() {
                // The rest of the window is in this page.
                let done = Cursor {
                    modified_ms: bound,
                    last_id: String::new(),
                };
                return self.apply_page(s, sink, &page.results, Some((w.cursor, &done)));
            }
            let stamps = page
                .results
                .iter()
                .map(|r| self.modified(r))
                .collect::<Result<Vec<_>, _>>()?;
            let Some(&newest) = stamps.iter().max() else {
                return Err(PluginError::Hubspot(
                    "HubSpot announced another page after an empty one".into(),
                ));
            };
            match stamps.iter().copied().filter(|t| *t < newest).max() {
                Some(complete) => {
                    // Everything up to `complete` is in this page; the newest stamp may go on.
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
                    if self.apply_page(s, sink, &records, Some((w.cursor, &cur)))? == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
                None => {
                    // A whole page shares one timestamp (bulk updates do this): walk it by id.
                    match self.walk_tie(s, sink, w, newest, String::new())? {
                        Some(c) => cur = c,
                        None => return Ok(Flow::Stop),
                    }
                }
            }
        }
    }

    /// Reads every record modified exactly at `at` with an id above `last_id`, in id order.
    /// Returns the cursor after the tie, or `None` when the job must stop.
    fn walk_tie(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        w: &Window<'_>,
        at: i64,
        mut last_id: String,
    ) -> Result<Option<Cursor>, PluginError> {
        loop {
            let mut filters = vec![
                json!({"propertyName": self.modified_property, "operator": "EQ", "value": at.to_string()}),
            ];
            if !last_id.is_empty() {
                filters.push(
                    json!({"propertyName": "hs_object_id", "operator": "GT", "value": last_id}),
                );
            }
            let searched = s
                .client
                .search(self.object, &self.search_body(filters, w, "hs_object_id"));
            let Some(page) = step(s, searched)? else {
                return Ok(None);
            };
            let max_id = page
                .results
                .iter()
                .filter_map(|r| r.id.parse::<u64>().ok())
                .max();
            let finished = page.next_after.is_none() || max_id.is_none();
            let cur = Cursor {
                modified_ms: at,
                last_id: match (finished, max_id) {
                    (false, Some(m)) => m.to_string(),
                    _ => String::new(),
                },
            };
            if self.apply_page(s, sink, &page.results, Some((w.cursor, &cur)))? == Flow::Stop {
                return Ok(None);
            }
            if finished {
                return Ok(Some(cur));
            }
            last_id = cur.last_id;
        }
    }

    /// Applies one page in one transaction together with the cursor. If a record fails, the
    /// page is rolled back and applied record by record, so the failing record is stored for
    /// retry and never blocks the others.
    fn apply_page(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        records: &[Record],
        cursor: Option<(&str, &Cursor)>,
    ) -> Result<Flow, PluginError> {
        let object = self.failure_object;
        let pulled = s.pulled.entry(object).or_default();
        let fresh: Vec<Record>;
        let records = if records.iter().any(|r| pulled.contains(&r.id)) {
            fresh = records
                .iter()
                .filter(|r| !pulled.contains(&r.id))
                .cloned()
                .collect();
            &fresh[..]
        } else {
            records
        };
        pulled.extend(records.iter().map(|r| r.id.clone()));
        match sink.prepare(s, records) {
            Ok(()) => {}
            Err(PrepareError::Api(e)) => {
                if step::<()>(s, Err(e))?.is_none() {
                    return Ok(Flow::Stop);
                }
            }
            Err(PrepareError::Plugin(e)) => return Err(e),
        }
        let before = s.report.clone();
        let whole = s.transaction(|s| {
            for r in records {
                sink.apply(s, r)?;
            }
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            self.clear_failures(s, &ids)?;
            self.save_cursor(s, cursor)
        });
        if whole.is_ok() {
            return Ok(Flow::Continue);
        }
        sink.rolled_back();
        s.report = before;
        for r in records {
            let one = s.transaction(|s| {
                sink.apply(s, r)?;
                self.clear_failures(s, &[&r.id])
            });
            if let Err(e) = one {
                sink.rolled_back();
                s.report.xentral.failed += 1;
                s.warn(
                    "record failed",
                    &[(object, &r.id), ("error", &e.to_string())],
                );
                if !s.dry_run {
                    let now = s.clock.now_ms();
                    s.transaction(|s| {
                        Ok(state::record_failure(
                            s.db,
                            object,
                            "pull",
                            &r.id,
                            &e.to_string(),
                            now,
                        )?)
                    })?;
                }
            }
        }
        s.transaction(|s| self.save_cursor(s, cursor))?;
        Ok(Flow::Continue)
    }

    /// Forgets the pull failures of `ids` (they went through, or the records are gone), in one
    /// statement for a whole page. A dry run keeps them: the records were not really applied,
    /// and they are behind the cursor, so only their failures bring them back.
    fn clear_failures(&self, s: &mut Session<'_>, ids: &[&str]) -> Result<(), PluginError> {
        if !s.dry_run {
            state::clear_failures(s.db, self.failure_object, "pull", ids)?;
        }
        Ok(())
    }

    fn save_cursor(
        &self,
        s: &mut Session<'_>,
        cursor: Option<(&str, &Cursor)>,
    ) -> Result<(), PluginError> {
        if let Some((name, c)) = cursor
            && !s.dry_run
        {
            let now = s.clock.now_ms();
            state::save_cursor(s.db, name, c, now)?;
        }
        Ok(())
    }
}
