//! Writing xentral records to HubSpot in batches of 100: updates by HubSpot id, upserts by a
//! unique property (e-mail for contacts, `xentral_id` for deals). Shared by contacts and deals.
//!
//! The link and snapshot of every record HubSpot confirmed are stored in one transaction. A
//! batch HubSpot refuses as a whole (one bad input) is split until the bad input stands alone;
//! inputs HubSpot did not apply are stored as failures with back-off and never marked done.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value as Json, json};

use crate::api::{PlannedChange, PluginError};
use crate::engine::incremental::api_error;
use crate::engine::merge::{Fields, Snapshot};
use crate::engine::session::Session;
use crate::hubspot::{ApiError, BatchOutcome, Record};
use crate::store::state::{self, Link, LinkTable};

/// Records per batch write (HubSpot's maximum).
pub const BATCH: usize = 100;

/// How many batches are sent together: a real portal's latency (100–300 ms a reply) is paid
/// once per group instead of once per batch. The host caps what is really in flight.
pub const IN_FLIGHT: usize = 4;

/// xentral records a reconciliation reads and pushes at once: 100 batches of 100, whole groups
/// of batches in flight, at a few MiB of plugin memory.
pub const PUSH_PAGE: usize = 10_000;

/// [`in_pages`] over the current, not deleted members of a group, read with `columns`.
pub fn group_in_pages(
    s: &mut Session<'_>,
    columns: &[String],
    group_id: i64,
    today: &str,
    page: impl FnMut(&mut Session<'_>, Vec<crate::xentral::AddressRow>) -> Result<(), PluginError>,
) -> Result<(), PluginError> {
    in_pages(
        s,
        |s, after, limit| {
            Ok(crate::xentral::group_addresses_after(
                s.db, columns, group_id, today, after, limit,
            )?)
        },
        |a| a.id,
        page,
    )
}

/// A pass over xentral records in id order, [`PUSH_PAGE`] at a time, so they are never in
/// memory all at once: `read(s, after, limit)` gives the records with an id above `after`,
/// `page(s, records)` handles them.
pub fn in_pages<T>(
    s: &mut Session<'_>,
    mut read: impl FnMut(&mut Session<'_>, i64, i64) -> Result<Vec<T>, PluginError>,
    id: impl Fn(&T) -> i64,
    mut page: impl FnMut(&mut Session<'_>, Vec<T>) -> Result<(), PluginError>,
) -> Result<(), PluginError> {
    let mut after = 0;
    loop {
        let records = read(s, after, PUSH_PAGE as i64)?;
        let Some(last) = records.last().map(&id) else {
            return Ok(());
        };
        let full = records.len() == PUSH_PAGE;
        after = last;
        page(s, records)?;
        if !full {
            return Ok(());
        }
    }
}

/// Marks records as not attempted (the job stopped before them).
fn not_attempted<'p>(
    pending: impl IntoIterator<Item = &'p &'p Pending>,
    outcomes: &mut BTreeMap<i64, PushOutcome>,
) {
    outcomes.extend(
        pending
            .into_iter()
            .map(|p| (p.xentral_id, PushOutcome::NotAttempted)),
    );
}

/// What became of one xentral record in a push.
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
    /// HubSpot changed the record too since the last sync: the next pull merges both sides
    /// (and counts the conflict) instead of this push overwriting HubSpot blindly.
    Deferred,
    /// HubSpot refused the record as it is (its reason): sent again only once it changes in
    /// xentral or in HubSpot.
    NeedsChange(String),
}

/// One pending write.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The xentral record's id.
    pub xentral_id: i64,
    /// The HubSpot id when linked (update), `None` to upsert.
    pub hubspot_id: Option<String>,
    /// The unique property's value for an upsert (lower-case e-mail, `xentral_id`).
    pub upsert_key: String,
    /// Properties to send.
    pub properties: Map<String, Json>,
    /// The snapshot to store once HubSpot confirmed the write.
    pub snapshot: Snapshot,
    /// For an update: HubSpot's values as of the last sync, to detect a concurrent change.
    pub seen: Option<Fields>,
}

/// How to read HubSpot's current values before updating, to catch concurrent changes.
pub struct FreshnessCheck<'c> {
    /// Properties to read.
    pub properties: Vec<String>,
    /// The merged fields.
    pub fields: &'c [&'c str],
    /// A record's canonical values.
    pub canonical: &'c dyn Fn(&Record) -> Fields,
}

/// How one object type is written.
pub struct Target {
    /// The object type in API paths.
    pub object: &'static str,
    /// The name in `hubspot_sync_failures`.
    pub failure_object: &'static str,
    /// The unique property upserts go by.
    pub id_property: &'static str,
    /// That property's values as compared (HubSpot may return them in another form than
    /// sent, e.g. an e-mail lower-cased).
    pub key: fn(&str) -> String,
    /// Where links are stored.
    pub links: LinkTable,
}

/// A record HubSpot confirmed, with whether it was created.
pub struct Written<'p> {
    /// The pending write.
    pub pending: &'p Pending,
    /// HubSpot's record.
    pub record: Record,
    /// Created (true) or updated (false).
    pub created: bool,
}

impl Target {
    /// Sends `pending` in batches; returns the outcome per xentral id and the records
    /// written. Stops early (leaving the rest `NotAttempted`) on budget or daily limit.
    pub fn write<'p>(
        &self,
        s: &mut Session<'_>,
        pending: &'p [Pending],
        check: &FreshnessCheck<'_>,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
    ) -> Result<Vec<Written<'p>>, PluginError> {
        let refused = state::refusals(s.db, self.failure_object)?;
        let (updates, upserts): (Vec<&Pending>, Vec<&Pending>) = pending
            .iter()
            .filter(|p| match refused.get(&p.xentral_id) {
                Some((properties, reason)) if *properties == sent_as(p) => {
                    s.report.hubspot.exclude(&format!(
                        "{} refused by HubSpot, waiting for a change",
                        self.failure_object
                    ));
                    outcomes.insert(p.xentral_id, PushOutcome::NeedsChange(reason.clone()));
                    false
                }
                _ => true,
            })
            .partition(|p| p.hubspot_id.is_some());
        let mut written = Vec::new();
        let mut stopped = false;
        for (list, upsert) in [(updates, false), (upserts, true)] {
            let chunks: Vec<&[&Pending]> = list.chunks(BATCH).collect();
            for group in chunks.chunks(IN_FLIGHT) {
                if stopped {
                    not_attempted(group.iter().flat_map(|c| c.iter()), outcomes);
                    continue;
                }
                let group: Vec<Vec<&Pending>> = if upsert || s.dry_run {
                    group.iter().map(|c| c.to_vec()).collect()
                } else {
                    let (fresh, stop) = self.unchanged_in_hubspot(s, group, check, outcomes)?;
                    stopped = stop;
                    fresh
                };
                let group: Vec<Vec<&Pending>> =
                    group.into_iter().filter(|c| !c.is_empty()).collect();
                if !group.is_empty() {
                    stopped |= self.batches(s, &group, upsert, outcomes, &mut written)?;
                }
            }
        }
        Ok(written)
    }

    /// Reads the records of a group of chunks about to be updated (one read per chunk, sent
    /// together) and keeps per chunk those HubSpot has not changed since the last sync; the
    /// others are deferred to the pull, which merges both sides. `true` when the job must
    /// stop (the chunks from the one that stopped it on are not attempted).
    fn unchanged_in_hubspot<'p>(
        &self,
        s: &mut Session<'_>,
        group: &[&[&'p Pending]],
        check: &FreshnessCheck<'_>,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
    ) -> Result<(Vec<Vec<&'p Pending>>, bool), PluginError> {
        let inputs: Vec<Vec<Json>> = group
            .iter()
            .map(|chunk| {
                chunk
                    .iter()
                    .filter_map(|p| p.hubspot_id.as_ref())
                    .map(|id| json!({ "id": id }))
                    .collect()
            })
            .collect();
        let reads = s.client.batch_all(
            self.object,
            "read",
            inputs,
            Some(("properties", json!(check.properties))),
        );
        let mut fresh = Vec::new();
        for (chunk, read) in group.iter().zip(reads) {
            match self.unchanged_of(s, chunk, read, check, outcomes)? {
                Some(f) => fresh.push(f),
                None => {
                    let at = fresh.len();
                    not_attempted(group[at..].iter().flat_map(|c| c.iter()), outcomes);
                    return Ok((fresh, true));
                }
            }
        }
        Ok((fresh, false))
    }

    /// Of one chunk, the records HubSpot has not changed since the last sync, by what its
    /// read answered; `None` when the job must stop.
    fn unchanged_of<'p>(
        &self,
        s: &mut Session<'_>,
        chunk: &[&'p Pending],
        read: Result<BatchOutcome, ApiError>,
        check: &FreshnessCheck<'_>,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
    ) -> Result<Option<Vec<&'p Pending>>, PluginError> {
        let current = match read {
            Ok(o) => o,
            Err(e) if e.stops_job() => {
                s.stop_early(&e);
                return Ok(None);
            }
            Err(e @ (ApiError::Unauthorized(_) | ApiError::MissingScopes(_))) => {
                return Err(api_error(e));
            }
            Err(e) => {
                let ids: Vec<i64> = chunk.iter().map(|p| p.xentral_id).collect();
                self.fail(s, &ids, &e.to_string(), outcomes)?;
                return Ok(Some(Vec::new()));
            }
        };
        let by_id: HashMap<String, Record> = current
            .results
            .into_iter()
            .map(|(r, _)| (r.id.clone(), r))
            .collect();
        let mut fresh = Vec::new();
        let mut deferred = 0;
        for p in chunk {
            let id = p.hubspot_id.clone().unwrap_or_default();
            let Some(record) = by_id.get(&id) else {
                let reason = format!("{} no longer exists in HubSpot", self.failure_object);
                s.report.hubspot.exclude(&reason);
                outcomes.insert(p.xentral_id, PushOutcome::Excluded(reason));
                continue;
            };
            let now = (check.canonical)(record);
            let seen = p.seen.clone().unwrap_or_default();
            if check.fields.iter().any(|f| now.get(*f) != seen.get(*f)) {
                deferred += 1;
                outcomes.insert(p.xentral_id, PushOutcome::Deferred);
            } else {
                fresh.push(*p);
            }
        }
        if deferred > 0 {
            s.report.pending = true;
            s.report.messages.push(format!(
                "{deferred} {}(s) changed in HubSpot too: the next pull merges both sides",
                self.failure_object
            ));
        }
        Ok(Some(fresh))
    }

    /// The batch inputs of a chunk: updates by id, upserts by the unique property.
    fn inputs(&self, chunk: &[&Pending]) -> Vec<Json> {
        chunk
            .iter()
            .map(|p| match &p.hubspot_id {
                Some(id) => json!({ "id": id, "properties": p.properties }),
                None => json!({ "idProperty": self.id_property, "id": p.upsert_key, "properties": p.properties }),
            })
            .collect()
    }

    /// A group of batches sent together, each settled in order (a batch after one that
    /// stopped the job was sent all the same: what it wrote is recorded). Returns true when
    /// the job must stop.
    fn batches<'p>(
        &self,
        s: &mut Session<'_>,
        group: &[Vec<&'p Pending>],
        upsert: bool,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
        written: &mut Vec<Written<'p>>,
    ) -> Result<bool, PluginError> {
        if s.dry_run {
            for p in group.iter().flatten() {
                count(s, upsert);
                s.plan(PlannedChange {
                    object: self.failure_object.into(),
                    in_xentral: false,
                    kind: if upsert { "create" } else { "update" },
                    xentral_id: Some(p.xentral_id),
                    hubspot_id: p.hubspot_id.clone(),
                    fields: p.properties.keys().cloned().collect(),
                    reason: if upsert {
                        format!("upsert by {}", self.id_property)
                    } else {
                        String::new()
                    },
                });
                outcomes.insert(p.xentral_id, PushOutcome::Done);
            }
            return Ok(false);
        }
        let operation = if upsert { "upsert" } else { "update" };
        let inputs = group.iter().map(|chunk| self.inputs(chunk)).collect();
        let results = s.client.batch_all(self.object, operation, inputs, None);
        let mut stopped = false;
        for (chunk, result) in group.iter().zip(results) {
            stopped |= self.settle(s, chunk, upsert, result, outcomes, written)?;
        }
        Ok(stopped)
    }

    /// One batch sent on its own (after a whole-batch 400, each half). Returns true when the
    /// job must stop.
    fn batch<'p>(
        &self,
        s: &mut Session<'_>,
        chunk: &[&'p Pending],
        upsert: bool,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
        written: &mut Vec<Written<'p>>,
    ) -> Result<bool, PluginError> {
        let operation = if upsert { "upsert" } else { "update" };
        let result = s
            .client
            .batch(self.object, operation, self.inputs(chunk), None);
        self.settle(s, chunk, upsert, result, outcomes, written)
    }

    /// Records what a batch's reply says: links and outcomes of the records written,
    /// failures and refusals of the others; splits on a whole-batch 400. Returns true when
    /// the job must stop.
    fn settle<'p>(
        &self,
        s: &mut Session<'_>,
        chunk: &[&'p Pending],
        upsert: bool,
        result: Result<BatchOutcome, ApiError>,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
        written: &mut Vec<Written<'p>>,
    ) -> Result<bool, PluginError> {
        let outcome = match result {
            Ok(o) => o,
            Err(e) if e.stops_job() => {
                s.stop_early(&e);
                outcomes.extend(
                    chunk
                        .iter()
                        .map(|p| (p.xentral_id, PushOutcome::NotAttempted)),
                );
                return Ok(true);
            }
            Err(ApiError::Client { status: 400, .. }) if chunk.len() > 1 => {
                let (a, b) = chunk.split_at(chunk.len() / 2);
                if self.batch(s, a, upsert, outcomes, written)? {
                    outcomes.extend(b.iter().map(|p| (p.xentral_id, PushOutcome::NotAttempted)));
                    return Ok(true);
                }
                return self.batch(s, b, upsert, outcomes, written);
            }
            Err(e @ (ApiError::Unauthorized(_) | ApiError::MissingScopes(_))) => {
                return Err(api_error(e));
            }
            Err(e) if e.refuses_record() && chunk.len() == 1 => {
                self.refuse(s, chunk[0], &e.to_string(), outcomes)?;
                return Ok(false);
            }
            Err(e) => {
                let ids: Vec<i64> = chunk.iter().map(|p| p.xentral_id).collect();
                self.fail(s, &ids, &e.to_string(), outcomes)?;
                return Ok(false);
            }
        };
        let mut by_key: HashMap<String, (Record, Option<bool>)> = outcome
            .results
            .into_iter()
            .map(|(r, new)| {
                let key = if upsert {
                    (self.key)(r.prop(self.id_property))
                } else {
                    r.id.clone()
                };
                (key, (r, new))
            })
            .collect();
        let now = s.clock.now_ms();
        let mut missing: Vec<&Pending> = Vec::new();
        let mut confirmed = Vec::new();
        for p in chunk {
            let key = match &p.hubspot_id {
                Some(id) => id.clone(),
                None => (self.key)(&p.upsert_key),
            };
            match by_key.remove(&key) {
                Some((record, new)) => confirmed.push((*p, record, upsert && new.unwrap_or(true))),
                None => missing.push(p),
            }
        }
        s.transaction(|s| {
            for (p, record, _) in &confirmed {
                let link = Link {
                    hubspot_id: record.id.clone(),
                    xentral_id: p.xentral_id,
                    snapshot: p.snapshot.clone(),
                };
                // A record not linked before gets its first link.
                let save = if p.hubspot_id.is_none() {
                    state::save_new_link
                } else {
                    state::save_link
                };
                save(s.db, self.links, &link, now)?;
            }
            let keys: Vec<String> = confirmed
                .iter()
                .map(|(p, _, _)| p.xentral_id.to_string())
                .collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            state::clear_failures(s.db, self.failure_object, "push", &keys)?;
            Ok(())
        })?;
        for (p, record, created) in confirmed {
            count(s, created);
            outcomes.insert(p.xentral_id, PushOutcome::Done);
            written.push(Written {
                pending: p,
                record,
                created,
            });
        }
        let refused = !outcome.errors.is_empty()
            && outcome
                .errors
                .iter()
                .all(|e| e.category == "VALIDATION_ERROR");
        if refused && missing.len() == 1 {
            let e = &outcome.errors[0];
            let reason = format!("HubSpot refused the record ({}): {}", e.category, e.message);
            self.refuse(s, missing[0], &reason, outcomes)?;
        } else if !missing.is_empty() {
            let missing: Vec<i64> = missing.iter().map(|p| p.xentral_id).collect();
            let message = if outcome.errors.is_empty() {
                "HubSpot did not return this record".to_owned()
            } else {
                outcome
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", e.category, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            self.fail(s, &missing, &message, outcomes)?;
        }
        Ok(false)
    }

    /// Stores a refusal: the record is not retried until what would be sent differs (a
    /// change in xentral) or its HubSpot record changed (the pull clears it).
    fn refuse(
        &self,
        s: &mut Session<'_>,
        p: &Pending,
        reason: &str,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
    ) -> Result<(), PluginError> {
        let now = s.clock.now_ms();
        s.warn(
            "HubSpot refused a record; it is sent again once it changes",
            &[
                ("object", self.failure_object),
                ("id", &p.xentral_id.to_string()),
                ("error", reason),
            ],
        );
        let object = self.failure_object;
        s.transaction(|s| {
            state::record_refusal(
                s.db,
                object,
                &p.xentral_id.to_string(),
                reason,
                &sent_as(p),
                now,
            )?;
            Ok(())
        })?;
        s.report.hubspot.failed += 1;
        s.report.messages.push(format!(
            "{object} {} needs a change in xentral or HubSpot: {reason}",
            p.xentral_id
        ));
        outcomes.insert(p.xentral_id, PushOutcome::NeedsChange(reason.to_owned()));
        Ok(())
    }

    /// Stores a failure (with back-off) for each record.
    pub fn fail(
        &self,
        s: &mut Session<'_>,
        ids: &[i64],
        error: &str,
        outcomes: &mut BTreeMap<i64, PushOutcome>,
    ) -> Result<(), PluginError> {
        let now = s.clock.now_ms();
        s.warn(
            "records not written to HubSpot",
            &[
                ("object", self.failure_object),
                ("count", &ids.len().to_string()),
                ("error", error),
            ],
        );
        let object = self.failure_object;
        s.transaction(|s| {
            for id in ids {
                let next =
                    state::record_failure(s.db, object, "push", &id.to_string(), error, now)?;
                s.report.hubspot.failed += 1;
                outcomes.insert(*id, PushOutcome::Failed(next));
            }
            Ok(())
        })?;
        s.report.pending = true;
        Ok(())
    }
}

/// What a pending write sends, as compared with what HubSpot refused.
fn sent_as(p: &Pending) -> String {
    json!({ "id": p.hubspot_id, "properties": p.properties }).to_string()
}

fn count(s: &mut Session<'_>, created: bool) {
    if created {
        s.report.hubspot.created += 1;
    } else {
        s.report.hubspot.updated += 1;
    }
}
