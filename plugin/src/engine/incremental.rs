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
use crate::hubspot::{ApiError, Record, SearchPage};
use crate::mapping;
use crate::store::state::{self, Cursor, Link, LinkTable};

/// Records per search page (HubSpot's maximum).
const PAGE: usize = 200;
/// Records per batch read.
const BATCH: usize = 100;
/// Search lags writes; records modified this close to the run start are left for the next run.
pub const SEARCH_LAG_MS: i64 = 30_000;
/// Ranges a read keeps going at once (see [`Feed::read`]): with a page taking a reply of
/// 100–300 ms plus its writes, three keep up with HubSpot's 5 searches a second.
const LANES: usize = 3;

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

/// One range of a read's key space, keyset-paged by its own position. A read's lanes are
/// contiguous: each ends where the next begins, the last at the read's upper bound. The
/// first is kept in the window's cursor, each further one in its own cursor row
/// ([`state::lane_cursor_name`]), stored with its first page.
#[derive(Debug, Clone)]
struct Lane {
    /// Where the lane begins (exclusive); `None`: the first lane.
    start: Option<i64>,
    /// Everything of the lane's range up to here is applied.
    pos: Cursor,
    /// A stamp a whole page shared, walked in id order from `pos` before the range goes on.
    tie: Option<i64>,
    /// Records the lane's range still held at its last reply (`None`: not known).
    left: Option<u64>,
    /// The round of the read in which the lane's latest search went out (0: none yet).
    sent_in_round: u64,
}

impl Lane {
    /// The cursor row that keeps the lane.
    fn row(&self, cursor: &str) -> String {
        match self.start {
            None => cursor.to_owned(),
            Some(start) => state::lane_cursor_name(cursor, start),
        }
    }

    /// Whether the lane has read its whole range (its `end` known and reached).
    fn done(&self, end: Option<i64>) -> bool {
        self.tie.is_none() && end.is_some_and(|e| self.pos.modified_ms >= e)
    }
}

/// What the latest round of a read cost, to choose how many lanes go out together: the
/// search limit's rolling window (5 a second) lets a group go when its last member fits,
/// so sending one whenever one fits falls back to one page per reply plus its writes, and
/// sending all at once wastes room the window had.
#[derive(Debug, Default)]
struct RoundCost {
    /// How long the replies took (ms).
    reply_ms: i64,
    /// How long applying a page took (ms).
    page_ms: i64,
}

impl RoundCost {
    /// Notes a round: its replies took `reply_ms`, applying its `pages` pages `applying_ms`.
    fn learn(&mut self, reply_ms: i64, applying_ms: i64, pages: usize) {
        self.reply_ms = reply_ms.max(0);
        self.page_ms = applying_ms.max(0) / pages.max(1) as i64;
    }

    /// How many of `lanes` waiting lanes to send now: the group with the most pages per
    /// unit of time, its wait for room (`wait_ms` of a group's size) included (the fewest
    /// of equals).
    fn best_group(&self, lanes: usize, mut wait_ms: impl FnMut(usize) -> i64) -> usize {
        let mut best = (0.0, 1);
        for k in 1..=lanes {
            let took = wait_ms(k) + self.reply_ms + self.page_ms * k as i64;
            let rate = k as f64 / took.max(1) as f64;
            if rate > best.0 {
                best = (rate, k);
            }
        }
        best.1
    }
}

/// A read's lanes, in key order (the first is the window's cursor).
struct Lanes(Vec<Lane>);

impl Lanes {
    /// The lanes of the read kept by `cursor`, as stored.
    fn load(s: &mut Session<'_>, cursor: &str) -> Result<Self, PluginError> {
        let first = state::cursor(s.db, cursor)?;
        let further = state::cursor_lanes(s.db, cursor)?;
        let lane = |start, pos: Cursor| Lane {
            start,
            tie: (!pos.last_id.is_empty()).then_some(pos.modified_ms),
            pos,
            left: None,
            sent_in_round: 0,
        };
        Ok(Lanes(
            std::iter::once(lane(None, first))
                .chain(
                    further
                        .into_iter()
                        .map(|(start, pos)| lane(Some(start), pos)),
                )
                .collect(),
        ))
    }

    /// Where lane `i` ends: where the next begins, the last at `upper`.
    fn end(&self, i: usize, upper: Option<i64>) -> Option<i64> {
        match self.0.get(i + 1) {
            Some(next) => next.start,
            None => upper,
        }
    }

    /// Whether the whole read is done (one lane left, at the upper bound).
    fn finished(&self, upper: Option<i64>) -> bool {
        self.0.len() == 1 && self.0[0].done(upper)
    }

    /// The lanes with something left to read.
    fn active(&self, upper: Option<i64>) -> Vec<usize> {
        (0..self.0.len())
            .filter(|&i| !self.0[i].done(self.end(i, upper)))
            .collect()
    }

    /// A lane that has read its range takes over the next lane's position (and its range),
    /// stored in one transaction.
    fn join_finished(
        &mut self,
        s: &mut Session<'_>,
        cursor: &str,
        upper: Option<i64>,
    ) -> Result<(), PluginError> {
        let mut i = 0;
        while i + 1 < self.0.len() {
            if !self.0[i].done(self.end(i, upper)) {
                i += 1;
                continue;
            }
            let next = self.0.remove(i + 1);
            let lane = &mut self.0[i];
            lane.pos = next.pos.clone();
            lane.tie = next.tie;
            lane.left = next.left;
            if !s.dry_run {
                let (row, gone) = (lane.row(cursor), next.row(cursor));
                let pos = lane.pos.clone();
                let now = s.clock.now_ms();
                s.transaction(|s| {
                    state::save_cursor(s.db, &row, &pos, now)?;
                    Ok(state::delete_cursor(s.db, &gone)?)
                })?;
            }
        }
        Ok(())
    }

    /// Splits the lane with the most records left at the middle of its time range, while
    /// fewer than [`LANES`] are active and one has more than a page left.
    fn split(&mut self, upper: Option<i64>) {
        while self.active(upper).len() < LANES {
            let widest = (0..self.0.len())
                .filter_map(|i| {
                    let lane = &self.0[i];
                    let end = self.end(i, upper)?;
                    let left = lane.left?;
                    let splittable =
                        lane.tie.is_none() && left > PAGE as u64 && end - lane.pos.modified_ms >= 2;
                    splittable.then_some((
                        left,
                        i,
                        lane.pos.modified_ms + (end - lane.pos.modified_ms) / 2,
                    ))
                })
                .max();
            let Some((_, i, middle)) = widest else {
                return;
            };
            self.0[i].left = None;
            self.0.insert(
                i + 1,
                Lane {
                    start: Some(middle),
                    pos: Cursor {
                        modified_ms: middle,
                        last_id: String::new(),
                    },
                    tie: None,
                    left: None,
                    sent_in_round: 0,
                },
            );
        }
    }
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
/// the record; `None` where storing cannot have changed a value, so the snapshot holds what
/// was written) and the link is saved.
pub fn finish_create(
    s: &mut Session<'_>,
    links: LinkTable,
    hubspot_id: &str,
    mut snapshot: Snapshot,
    written: &[String],
    insert: impl FnOnce(&mut Session<'_>) -> Result<i64, PluginError>,
    stored: Option<impl FnOnce(&mut Session<'_>, i64) -> Result<Option<Fields>, PluginError>>,
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
    if let Some(stored) = stored
        && let Some(kept) = stored(s, id)?
    {
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
            if self.apply_page(s, sink, records, None)? == Flow::Stop {
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

    /// Reads the window from its cursor, in lanes: once the remaining range holds more
    /// than a page or two, it is split by modified time into up to [`LANES`] contiguous
    /// ranges, each keyset-paged by its own position, whose searches go out together, as
    /// many as the search limit has room for (keyset pages of one range must follow each
    /// other, so at a portal's latency one range alone cannot keep up with the limit). A
    /// lane that reaches its end takes over the next one's position; the window's cursor
    /// moves on only over what is applied.
    fn read(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        w: &Window<'_>,
    ) -> Result<Flow, PluginError> {
        let mut lanes = Lanes::load(s, w.cursor)?;
        let mut upper = w.upper.or_else(|| self.upper(s));
        let mut round = 0;
        let mut cost = RoundCost::default();
        loop {
            lanes.join_finished(s, w.cursor, upper)?;
            if lanes.finished(upper) {
                return Ok(Flow::Continue);
            }
            lanes.split(upper);
            // The lanes that waited longest go first, as many as pages a second are most
            // then (see `RoundCost::best_group`).
            let mut active = lanes.active(upper);
            active.sort_by_key(|&i| (lanes.0[i].sent_in_round, i));
            active.truncate(cost.best_group(active.len(), |k| s.client.search_wait_ms(k)));
            active.sort_unstable();
            round += 1;
            for &i in &active {
                lanes.0[i].sent_in_round = round;
            }
            let sending = s.clock.now_ms() + s.client.search_wait_ms(active.len());
            let bodies: Vec<Json> = active
                .iter()
                .map(|&i| self.lane_search(&lanes.0[i], lanes.end(i, upper), w))
                .collect();
            let replies = s.client.search_all(self.object, &bodies);
            let replied = s.clock.now_ms();
            let mut records = Vec::new();
            let mut pages = Vec::new();
            let mut stopped = false;
            for (&i, reply) in active.iter().zip(replies) {
                let Some(page) = step(s, reply)? else {
                    stopped = true;
                    break;
                };
                let end = lanes.end(i, upper);
                if let Some(taken) = self.advance(s, &mut lanes.0[i], end, page, &mut upper)? {
                    let from = records.len();
                    records.extend(self.fresh(s, taken));
                    pages.push((i, from..records.len()));
                }
            }
            if !pages.is_empty() && self.prepare(s, sink, &records)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            for (i, range) in pages {
                let lane = &lanes.0[i];
                let row = lane.row(w.cursor);
                self.apply_prepared(s, sink, &records[range], Some((&row, &lane.pos)))?;
            }
            cost.learn(replied - sending, s.clock.now_ms() - replied, active.len());
            if stopped {
                return Ok(Flow::Stop);
            }
        }
    }

    /// The search of a lane's next page: its tie in id order, or its range up to `end`
    /// (`None`: not known yet, asked without an upper bound).
    fn lane_search(&self, lane: &Lane, end: Option<i64>, w: &Window<'_>) -> Json {
        let prop = self.modified_property;
        if let Some(at) = lane.tie {
            let mut filters =
                vec![json!({"propertyName": prop, "operator": "EQ", "value": at.to_string()})];
            if lane.pos.modified_ms == at && !lane.pos.last_id.is_empty() {
                filters.push(json!({"propertyName": "hs_object_id", "operator": "GT", "value": lane.pos.last_id}));
            }
            return self.search_body(filters, w, "hs_object_id");
        }
        let mut filters = vec![
            json!({"propertyName": prop, "operator": "GT", "value": lane.pos.modified_ms.to_string()}),
        ];
        if let Some(u) = end {
            filters.push(json!({"propertyName": prop, "operator": "LTE", "value": u.to_string()}));
        }
        self.search_body(filters, w, prop)
    }

    /// Moves a lane past its reply: the records to apply with its new position, or `None`
    /// when there is nothing to apply or store (a tie to walk first, or nothing up to the
    /// bound). A lane whose end was not known learns it from the reply (HubSpot's time less
    /// the search lag, into `upper`) and leaves what lies beyond.
    fn advance(
        &self,
        s: &Session<'_>,
        lane: &mut Lane,
        end: Option<i64>,
        mut page: SearchPage,
        upper: &mut Option<i64>,
    ) -> Result<Option<Vec<Record>>, PluginError> {
        if let Some(at) = lane.tie {
            let max_id = page
                .results
                .iter()
                .filter_map(|r| r.id.parse::<u64>().ok())
                .max();
            let finished = page.next_after.is_none() || max_id.is_none();
            lane.pos = Cursor {
                modified_ms: at,
                last_id: match (finished, max_id) {
                    (false, Some(m)) => m.to_string(),
                    _ => String::new(),
                },
            };
            if finished {
                lane.tie = None;
            }
            lane.left = None;
            return Ok(Some(page.results));
        }
        let bound = match end {
            Some(u) => u,
            None => {
                let u = self.upper(s).ok_or_else(|| {
                    PluginError::Hubspot(
                        "HubSpot's reply has no readable Date header, so the read position cannot be kept in HubSpot's time".into(),
                    )
                })?;
                *upper = Some(u);
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
                if lane.pos.modified_ms >= u {
                    return Ok(None);
                }
                u
            }
        };
        if page.next_after.is_none() {
            // The rest of the lane is in this page.
            lane.pos = Cursor {
                modified_ms: bound,
                last_id: String::new(),
            };
            lane.left = Some(0);
            return Ok(Some(page.results));
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
                    .into_iter()
                    .zip(&stamps)
                    .filter(|(_, t)| **t <= complete)
                    .map(|(r, _)| r)
                    .collect();
                lane.pos = Cursor {
                    modified_ms: complete,
                    last_id: String::new(),
                };
                lane.left = Some(page.total.saturating_sub(records.len() as u64));
                Ok(Some(records))
            }
            None => {
                // A whole page shares one timestamp (bulk updates do this): walk it by id.
                lane.tie = Some(newest);
                lane.left = None;
                Ok(None)
            }
        }
    }

    /// Applies one page (see [`Feed::apply_prepared`]), prepared on its own.
    fn apply_page(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        records: Vec<Record>,
        cursor: Option<(&str, &Cursor)>,
    ) -> Result<Flow, PluginError> {
        let records = self.fresh(s, records);
        if self.prepare(s, sink, &records)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
        self.apply_prepared(s, sink, &records, cursor)?;
        Ok(Flow::Continue)
    }

    /// The records of `records` this run has not pulled yet, now counted as pulled.
    fn fresh(&self, s: &mut Session<'_>, mut records: Vec<Record>) -> Vec<Record> {
        let pulled = s.pulled.entry(self.failure_object).or_default();
        records.retain(|r| pulled.insert(r.id.clone()));
        records
    }

    /// Lets the sink prepare the records of one or more pages at once (its HubSpot reads
    /// for all of them in one go). `Stop` when a budget stopped it.
    fn prepare(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        records: &[Record],
    ) -> Result<Flow, PluginError> {
        match sink.prepare(s, records) {
            Ok(()) => Ok(Flow::Continue),
            Err(PrepareError::Api(e)) => match step::<()>(s, Err(e))? {
                Some(()) => Ok(Flow::Continue),
                None => Ok(Flow::Stop),
            },
            Err(PrepareError::Plugin(e)) => Err(e),
        }
    }

    /// Applies one prepared page in one transaction together with the cursor. If a record
    /// fails, the page is rolled back and applied record by record, so the failing record is
    /// stored for retry and never blocks the others.
    fn apply_prepared(
        &self,
        s: &mut Session<'_>,
        sink: &mut dyn Sink,
        records: &[Record],
        cursor: Option<(&str, &Cursor)>,
    ) -> Result<(), PluginError> {
        let object = self.failure_object;
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
            return Ok(());
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
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_room_for_all_and_no_cost_known_every_lane_goes() {
        let cost = RoundCost::default();
        assert_eq!(cost.best_group(3, |_| 0), 3);
    }

    #[test]
    fn one_page_per_reply_is_left_for_a_pair_that_waits_a_little() {
        // One search a reply of 180 ms plus 45 ms of writes fills four of the window's
        // five: one goes at once, a second after 126 ms. The pair reads more per second.
        let cost = RoundCost {
            reply_ms: 180,
            page_ms: 45,
        };
        assert_eq!(cost.best_group(3, |k| [0, 0, 126, 700][k]), 2);
    }

    #[test]
    fn a_group_that_would_wait_most_of_a_window_is_not_sent() {
        let cost = RoundCost {
            reply_ms: 180,
            page_ms: 45,
        };
        assert_eq!(cost.best_group(3, |k| [0, 0, 900, 950][k]), 1);
    }

    #[test]
    fn equal_rates_send_the_fewest() {
        let cost = RoundCost {
            reply_ms: 0,
            page_ms: 100,
        };
        assert_eq!(cost.best_group(3, |_| 0), 1);
    }
}
