//! Deals ⇄ resubmissions (`wiedervorlage`): the pull (incremental by `hs_lastmodifieddate`,
//! associations read per page), the push (batch upsert by the unique `xentral_id` property, so
//! a retried create can never make a second deal), and the associations to the contact and
//! the company.
//!
//! Name, amount, stage, close date and owner (⇄ `adresse_mitarbeiter`) are merged ("deals
//! work in parallel"): nothing else of a resubmission is touched, except that an unset
//! `adresse` is filled from the deal's associated company (which wins) or contact once that
//! is linked (never guessed), and an unset `ansprechpartner_id` from an associated contact
//! that is a contact person of that company.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value as Json, json};

use crate::api::{Entity, PluginError};
use crate::engine::incremental::{self, Feed, Flow, PrepareError, PulledUpdate, Sink};
use crate::engine::kind::ObjectKind;
use crate::engine::lifecycle::{self, Ending};
use crate::engine::merge::{self, Fields, Outcome, Snapshot};
use crate::engine::push::{self, FreshnessCheck, Pending, PushOutcome, Target};
use crate::engine::rules::SyncRule;
use crate::engine::session::Session;
use crate::hubspot::{ApiError, Record, wire};
use crate::kinds::stages::StageMap;
use crate::kinds::unique;
use crate::mapping::{OwnerMap, canonical_amount, close_date_local, truncate, xentral_amount};
use crate::platform::Value;
use crate::settings::StoredSettings;
use crate::store::state::{self, Link, LinkTable};
use crate::xentral::{self, ResubmissionRow};

/// The merged deal fields.
pub const DEAL_FIELDS: &[&str] = &["name", "amount", "closedate", "stage", "owner"];
/// The unique deal property that makes writes idempotent.
const UNIQUE_PROPERTY: &str = unique::PROPERTY;
/// The cursor's name.
const CURSOR: &str = "deals";
/// `object` in `hubspot_sync_failures`.
const OBJECT: &str = crate::store::state::LinkTable::Deals.object();
/// Snapshot pseudo-field: the associated contact's HubSpot id.
const CONTACT: &str = crate::store::state::LinkTable::Contacts.object();
/// Snapshot pseudo-field: the associated company's HubSpot id.
const COMPANY: &str = crate::store::state::LinkTable::Companies.object();
/// HubSpot's association type of a deal's primary company.
const PRIMARY_COMPANY: u32 = 5;

const TARGET: Target = Target {
    object: "deals",
    failure_object: OBJECT,
    id_property: UNIQUE_PROPERTY,
    key: |v| v.trim().to_owned(),
    links: LinkTable::Deals,
};

/// One kind of record a deal is associated with, linked both ways: HubSpot id ⇄ xentral id.
#[derive(Default)]
struct Linked {
    xentral_of: HashMap<String, i64>,
    hubspot_of: HashMap<i64, String>,
}

impl Linked {
    /// Reads the ids of every link of `table` (not their snapshots: a tenant's 100,000 contact
    /// links with snapshots are 100 MiB of plugin memory, their ids 10).
    fn load(s: &mut Session<'_>, table: LinkTable) -> Result<Linked, PluginError> {
        let pairs = all_link_ids(s, table)?;
        Ok(Linked {
            xentral_of: pairs.iter().map(|(h, x)| (h.clone(), *x)).collect(),
            hubspot_of: pairs.into_iter().map(|(h, x)| (x, h)).collect(),
        })
    }
}

/// Every link of `table` as (HubSpot id, xentral id).
fn all_link_ids(s: &mut Session<'_>, table: LinkTable) -> Result<Vec<(String, i64)>, PluginError> {
    Ok(state::links_page(s.db, table, 0, u32::MAX)?)
}

/// What one deal run needs.
pub struct Ctx {
    stages: StageMap,
    time_zone: chrono_tz::Tz,
    unique: bool,
    /// Contacts linked to person addresses.
    contacts: Linked,
    /// Companies linked to company addresses (empty when companies are switched off).
    companies: Linked,
    /// Contacts linked to contact persons, and each person's company address.
    persons: HashMap<String, (i64, i64)>,
    owners: OwnerMap,
    rule: SyncRule,
}

impl Ctx {
    /// Loads what the run needs.
    pub fn load(s: &mut Session<'_>) -> Result<Ctx, PluginError> {
        let companies = if s.settings.hs_sync_companies {
            Linked::load(s, LinkTable::Companies)?
        } else {
            Linked::default()
        };
        let person_links = all_link_ids(s, LinkTable::Persons)?;
        let ids: Vec<i64> = person_links.iter().map(|(_, x)| *x).collect();
        let company_of: HashMap<i64, i64> = xentral::persons_by_id(s.db, &[], &ids)?
            .into_iter()
            .filter(|p| !p.deleted)
            .map(|p| (p.id, p.company))
            .collect();
        Ok(Ctx {
            stages: StageMap::load(s.db)?,
            time_zone: crate::platform::time_zone(s.clock)?,
            unique: unique::usable(s.db, "deals")?,
            contacts: Linked::load(s, LinkTable::Contacts)?,
            companies,
            persons: person_links
                .into_iter()
                .filter_map(|(hubspot_id, person)| {
                    Some((hubspot_id, (person, *company_of.get(&person)?)))
                })
                .collect(),
            owners: crate::kinds::owners::load(s)?,
            rule: s.settings.hs_deal_rule.clone(),
        })
    }

    fn stage_key(pipeline: &str, stage: &str) -> String {
        format!("{pipeline}|{stage}")
    }
}

/// The canonical fields of a deal, with its close time when HubSpot gave one.
fn from_hubspot(r: &Record, tz: chrono_tz::Tz) -> (Fields, Option<String>) {
    let mut f = Fields::new();
    let name = r.prop("dealname").trim();
    if !name.is_empty() {
        f.insert("name".into(), name.to_owned());
    }
    if let Some(a) = canonical_amount(r.prop("amount")) {
        f.insert("amount".into(), a);
    }
    let mut time = None;
    if let Some((date, t)) = close_date_local(r.prop("closedate"), tz) {
        f.insert("closedate".into(), date);
        time = t;
    }
    if !r.prop("pipeline").is_empty() && !r.prop("dealstage").is_empty() {
        f.insert(
            "stage".into(),
            Ctx::stage_key(r.prop("pipeline"), r.prop("dealstage")),
        );
    }
    let owner = r.prop("hubspot_owner_id").trim();
    if !owner.is_empty() {
        f.insert("owner".into(), owner.to_owned());
    }
    (f, time)
}

/// The canonical fields of a resubmission.
fn from_xentral(w: &ResubmissionRow, ctx: &Ctx) -> Fields {
    let mut f = Fields::new();
    if !w.name.trim().is_empty() {
        f.insert("name".into(), w.name.trim().to_owned());
    }
    if let Ok(Some(a)) = xentral_amount(&w.amount) {
        f.insert("amount".into(), a);
    }
    if !w.date.is_empty() {
        f.insert("closedate".into(), w.date.clone());
    }
    if let Some((p, s)) = ctx.stages.to_hubspot.get(&w.stage) {
        f.insert("stage".into(), Ctx::stage_key(p, s));
    }
    if let Some(owner) = ctx.owners.owner_of(w.employee) {
        f.insert("owner".into(), owner.to_owned());
    }
    f
}

/// HubSpot properties for canonical values.
fn to_hubspot_properties(values: &Fields) -> Map<String, Json> {
    let mut props = Map::new();
    for (f, v) in values {
        match f.as_str() {
            "name" => {
                props.insert("dealname".into(), Json::String(v.clone()));
            }
            "amount" => {
                props.insert("amount".into(), Json::String(v.clone()));
            }
            // A date property must be midnight UTC: send the calendar day.
            "closedate" => {
                props.insert("closedate".into(), Json::String(v.clone()));
            }
            "stage" => {
                if let Some((p, s)) = v.split_once('|') {
                    props.insert("pipeline".into(), Json::String(p.into()));
                    props.insert("dealstage".into(), Json::String(s.into()));
                }
            }
            "owner" => {
                props.insert("hubspot_owner_id".into(), Json::String(v.clone()));
            }
            _ => {}
        }
    }
    props
}

/// What writing canonical values into a resubmission comes to.
struct ResubmissionWrite {
    /// Column → value.
    columns: Vec<(&'static str, Value)>,
    /// The canonical values as written.
    stored: Fields,
    /// Values xentral cannot hold (an owner no address matches), with the reason.
    refused: Vec<(String, String)>,
}

/// xentral columns for canonical values (and the close time HubSpot gave).
fn to_xentral_columns(values: &Fields, time: Option<&str>, ctx: &Ctx) -> ResubmissionWrite {
    let mut cols = Vec::new();
    let mut stored = Fields::new();
    let mut refused = Vec::new();
    for (f, v) in values {
        match f.as_str() {
            "name" => {
                let name = truncate(v, 255);
                cols.push(("bezeichnung", Value::from(name.clone())));
                stored.insert(f.clone(), name.trim().to_owned());
            }
            "amount" => {
                cols.push(("betrag", Value::from(v.clone())));
                stored.insert(f.clone(), v.clone());
            }
            "closedate" => {
                cols.push(("datum_erinnerung", Value::from(v.clone())));
                cols.push(("zeit_erinnerung", Value::from(time.unwrap_or("00:00:00"))));
                stored.insert(f.clone(), v.clone());
            }
            "stage" => {
                if let Some((p, s)) = v.split_once('|')
                    && let Some(id) = ctx.stages.to_xentral.get(&(p.to_owned(), s.to_owned()))
                {
                    cols.push(("stages", Value::Integer(*id)));
                    stored.insert(f.clone(), v.clone());
                }
            }
            "owner" => match ctx.owners.address_of(v) {
                Ok(address) => {
                    cols.push(("adresse_mitarbeiter", Value::Integer(address)));
                    stored.insert(f.clone(), v.clone());
                }
                Err(why) => refused.push((f.clone(), why)),
            },
            _ => {}
        }
    }
    ResubmissionWrite {
        columns: cols,
        stored,
        refused,
    }
}

/// Deals as an incremental feed.
fn feed() -> Feed {
    Feed {
        object: "deals",
        failure_object: OBJECT,
        modified_property: "hs_lastmodifieddate",
        properties: [
            "dealname",
            "amount",
            "closedate",
            "pipeline",
            "dealstage",
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hubspot_owner_id",
            lifecycle::MERGED_IDS,
            UNIQUE_PROPERTY,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        cursor: CURSOR,
    }
}

/// Deals ⇄ resubmissions, as the engine syncs them.
pub struct Deals;

impl ObjectKind for Deals {
    const ENTITY: Entity = Entity::Resubmission;
    const SWITCHED_OFF: &'static str = "deals are switched off";
    type Ctx = Ctx;

    fn switched_on(settings: &StoredSettings) -> bool {
        settings.hs_sync_deals
    }

    /// Also says when no stage is mapped yet (nothing can arrive until one is).
    fn load(s: &mut Session<'_>) -> Result<Ctx, PluginError> {
        let ctx = Ctx::load(s)?;
        if ctx.stages.to_xentral.is_empty() {
            s.report.messages.push(
                "no deal stage is mapped to a xentral stage yet: press Refresh (automatic mode) or map stages with `xentral-host stages`".into(),
            );
        }
        Ok(ctx)
    }

    fn endings(ctx: &Ctx) -> Vec<Ending<'_>> {
        vec![Ending {
            table: LinkTable::Deals,
            object: "deals",
            rule: &ctx.rule,
        }]
    }

    fn pull(s: &mut Session<'_>, ctx: &Ctx) -> Result<Flow, PluginError> {
        let feed = feed();
        let mut sink = DealSink {
            ctx,
            contacts: HashMap::new(),
            companies: HashMap::new(),
            links: HashMap::new(),
            deleted: HashSet::new(),
        };
        feed.retry_and_pull(s, &mut sink)
    }

    fn push(
        s: &mut Session<'_>,
        ctx: &Ctx,
        only: Option<&[i64]>,
    ) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
        push(s, ctx, only)
    }
}

/// Applies pulled deals to xentral.
struct DealSink<'c> {
    ctx: &'c Ctx,
    /// Deal id → associated contact ids, read once per page.
    contacts: HashMap<String, Vec<String>>,
    /// Deal id → associated company ids (the primary first), read once per page when
    /// companies sync.
    companies: HashMap<String, Vec<String>>,
    /// The links of the page's deals (`None`: not linked), read in one query; each taken
    /// once.
    links: HashMap<String, Option<Link>>,
    /// The page's deals whose link ended because their resubmission was removed in
    /// xentral: never given a new one.
    deleted: HashSet<String>,
}

/// Each record's associated records of each target of `to` (object, primary association
/// type put first), read in batches of a thousand (one request per page of deals and
/// target), all sent together.
fn associated(
    s: &mut Session<'_>,
    records: &[Record],
    to: &[(&str, Option<u32>)],
) -> Result<Vec<HashMap<String, Vec<String>>>, ApiError> {
    let mut calls = Vec::new();
    for chunk in records.chunks(1_000) {
        let inputs: Vec<Json> = chunk.iter().map(|r| json!({ "id": r.id })).collect();
        for (target, _) in to {
            let path = s.client.version().associations("deals", target, "read");
            calls.push((path, json!({ "inputs": inputs })));
        }
    }
    let mut out: Vec<HashMap<String, Vec<String>>> = to.iter().map(|_| HashMap::new()).collect();
    for (i, reply) in s.client.post_all(&calls).into_iter().enumerate() {
        let target = i % to.len();
        let reply: wire::BatchReply<wire::Associations> = crate::hubspot::decode(reply?)?;
        for r in reply.results.into_iter().flatten() {
            let mut ids = r.to;
            if let Some(t) = to[target].1 {
                ids.sort_by_key(|a| !a.has_type(t));
            }
            out[target].insert(
                r.from.id.0,
                ids.into_iter().map(|t| t.to_object_id.0).collect(),
            );
        }
    }
    Ok(out)
}

impl Sink for DealSink<'_> {
    fn prepare(&mut self, s: &mut Session<'_>, records: &[Record]) -> Result<(), PrepareError> {
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let mut linked = state::links_by_hubspot_ids(s.db, LinkTable::Deals, &ids)?;
        self.links = records
            .iter()
            .map(|r| (r.id.clone(), linked.remove(&r.id)))
            .collect();
        self.deleted = lifecycle::prepare_page(s, LinkTable::Deals, records, &mut self.links)?;
        let mut targets = vec![("contacts", None)];
        if !self.ctx.companies.xentral_of.is_empty() {
            targets.push(("companies", Some(PRIMARY_COMPANY)));
        }
        let mut read = associated(s, records, &targets)?.into_iter();
        self.contacts = read.next().unwrap_or_default();
        self.companies = read.next().unwrap_or_default();
        Ok(())
    }

    fn apply(&mut self, s: &mut Session<'_>, r: &Record) -> Result<(), PluginError> {
        let ctx = self.ctx;
        let key = (
            r.prop("pipeline").to_owned(),
            r.prop("dealstage").to_owned(),
        );
        if !ctx.stages.to_xentral.contains_key(&key) {
            s.report
                .xentral
                .exclude("deal stage not mapped to a xentral stage");
            return Ok(());
        }
        let (h, time) = from_hubspot(r, ctx.time_zone);
        let pick = |all: &HashMap<String, Vec<String>>, linked: &dyn Fn(&str) -> bool| {
            all.get(&r.id)
                .and_then(|c| c.iter().find(|id| linked(id)).or(c.first()))
                .cloned()
        };
        let contact = pick(&self.contacts, &|id| {
            ctx.contacts.xentral_of.contains_key(id) || ctx.persons.contains_key(id)
        });
        let company = pick(&self.companies, &|id| {
            ctx.companies.xentral_of.contains_key(id)
        });
        let associated = Associated { contact, company };
        let link = match self.links.remove(&r.id) {
            Some(link) => link,
            None => state::link_by_hubspot_id(s.db, LinkTable::Deals, &r.id)?,
        };
        if link.is_none() && self.deleted.contains(&r.id) {
            s.report.xentral.exclude("resubmission deleted in xentral");
            return Ok(());
        }
        if let Some(link) = link {
            let Some(row) = xentral::resubmissions_by_id(s.db, &[link.xentral_id])?.pop() else {
                s.report
                    .xentral
                    .exclude("resubmission no longer exists in xentral");
                return Ok(());
            };
            let x = from_xentral(&row, ctx);
            let out = merge::merge(DEAL_FIELDS, &x, &h, Some(&link.snapshot), &ctx.rule, &[]);
            return apply_merge(
                s,
                ctx,
                &row,
                &h,
                time.as_deref(),
                out,
                &r.id,
                &associated,
                false,
            );
        }
        let adopt = r
            .prop(UNIQUE_PROPERTY)
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|_| ctx.unique);
        if let Some(id) = adopt
            && state::link_by_xentral_id(s.db, LinkTable::Deals, id)?.is_none()
            && let Some(row) = xentral::resubmissions_by_id(s.db, &[id])?.pop()
        {
            // A deal we created whose reply was lost: adopt it instead of importing a copy.
            let x = from_xentral(&row, ctx);
            let out = merge::merge(DEAL_FIELDS, &x, &h, None, &ctx.rule, &[]);
            return apply_merge(
                s,
                ctx,
                &row,
                &h,
                time.as_deref(),
                out,
                &r.id,
                &associated,
                true,
            );
        }
        if !ctx.rule.creates_in_xentral() {
            s.report
                .xentral
                .exclude("deals sync to HubSpot only: new deals are not created in xentral");
            return Ok(());
        }
        let h = ctx.rule.creation_values(&h, true, &["stage"]);
        create_resubmission(s, ctx, &h, time.as_deref(), &r.id, &associated)
    }
}

/// The contact and company a pulled deal is associated with (a linked one first).
struct Associated {
    contact: Option<String>,
    company: Option<String>,
}

impl Associated {
    /// Records the associations in the snapshot and fills an unset `adresse` (the company's
    /// address wins over the contact's) and `ansprechpartner_id` (a contact person of that
    /// company). `row`: the resubmission's address and contact person (0: unset).
    fn apply(
        &self,
        ctx: &Ctx,
        row: (i64, i64),
        snapshot: &mut Snapshot,
        columns: &mut Vec<(&'static str, Value)>,
    ) {
        let (mut address, person) = row;
        if let Some(company) = &self.company {
            snapshot.h.insert(COMPANY.into(), company.clone());
            match ctx.companies.xentral_of.get(company) {
                Some(a) if address == 0 => {
                    columns.push(("adresse", Value::Integer(*a)));
                    address = *a;
                    snapshot.x.insert(COMPANY.into(), company.clone());
                }
                Some(a) if *a == address => {
                    snapshot.x.insert(COMPANY.into(), company.clone());
                }
                _ => {}
            }
        }
        if let Some(contact) = &self.contact {
            snapshot.h.insert(CONTACT.into(), contact.clone());
            if let Some((p, company)) = ctx.persons.get(contact) {
                if person == 0 && (address == 0 || address == *company) {
                    if address == 0 {
                        columns.push(("adresse", Value::Integer(*company)));
                    }
                    columns.push(("ansprechpartner_id", Value::Integer(*p)));
                    snapshot.x.insert(CONTACT.into(), contact.clone());
                } else if person == *p {
                    snapshot.x.insert(CONTACT.into(), contact.clone());
                }
            } else if let Some(a) = ctx.contacts.xentral_of.get(contact) {
                if address == 0 {
                    columns.push(("adresse", Value::Integer(*a)));
                    snapshot.x.insert(CONTACT.into(), contact.clone());
                } else if *a == address {
                    snapshot.x.insert(CONTACT.into(), contact.clone());
                }
            }
        }
    }
}

/// Writes a merge outcome to xentral and stores the link (see contacts: values still to be
/// sent to HubSpot stay "changed" in the snapshot).
#[allow(clippy::too_many_arguments)]
fn apply_merge(
    s: &mut Session<'_>,
    ctx: &Ctx,
    row: &ResubmissionRow,
    h: &Fields,
    time: Option<&str>,
    out: Outcome,
    deal_id: &str,
    associated: &Associated,
    newly_linked: bool,
) -> Result<(), PluginError> {
    let ResubmissionWrite {
        mut columns,
        stored,
        refused,
    } = to_xentral_columns(&out.to_xentral, time, ctx);
    let record = format!("deal {deal_id} (resubmission {})", row.id);
    s.note_cut(
        &record,
        &crate::mapping::cut_fields(&out.to_xentral, &stored),
    );
    s.note_refused(&record, &refused);
    let mut snapshot = out.snapshot_after_pull(h, stored);
    associated.apply(ctx, (row.address, row.person), &mut snapshot, &mut columns);
    let id = row.id;
    incremental::finish_update(
        s,
        ctx.rule.winner,
        PulledUpdate {
            links: LinkTable::Deals,
            hubspot_id: deal_id,
            xentral_id: id,
            outcome: &out,
            newly_linked,
            has_columns: !columns.is_empty(),
        },
        snapshot,
        |s| Ok(xentral::update_resubmission(s.db, id, &columns)?),
        |s| stored_fields(s, ctx, id),
    )
}

/// The canonical fields of resubmission `id` as the database holds them.
fn stored_fields(s: &mut Session<'_>, ctx: &Ctx, id: i64) -> Result<Option<Fields>, PluginError> {
    Ok(xentral::resubmissions_by_id(s.db, &[id])?
        .pop()
        .map(|row| from_xentral(&row, ctx)))
}

/// Creates a resubmission for a deal new to xentral, in the mapped stage (and its view).
fn create_resubmission(
    s: &mut Session<'_>,
    ctx: &Ctx,
    h: &Fields,
    time: Option<&str>,
    deal_id: &str,
    associated: &Associated,
) -> Result<(), PluginError> {
    let ResubmissionWrite {
        mut columns,
        stored,
        refused,
    } = to_xentral_columns(h, time, ctx);
    let record = format!("deal {deal_id} (new resubmission)");
    s.note_cut(&record, &crate::mapping::cut_fields(h, &stored));
    s.note_refused(&record, &refused);
    let mut snapshot = Snapshot {
        x: stored,
        h: h.clone(),
    };
    if !h.contains_key("name") {
        columns.push((
            "bezeichnung",
            Value::from(format!("HubSpot deal {deal_id}")),
        ));
    }
    associated.apply(ctx, (0, 0), &mut snapshot, &mut columns);
    let written: Vec<String> = DEAL_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    incremental::finish_create(
        s,
        LinkTable::Deals,
        deal_id,
        snapshot,
        &written,
        |s| {
            let (date, time_now) = xentral::local_date_time(s.clock.now_ms(), ctx.time_zone);
            Ok(xentral::insert_resubmission(
                s.db, &columns, &date, &time_now,
            )?)
        },
        // Every deal field is taken as stored: defaults, dates and amounts as the columns
        // hold them.
        Some(|s: &mut Session<'_>, id| stored_fields(s, ctx, id)),
    )
}

/// Pushes resubmissions to HubSpot: every one in a mapped stage (reconciliation, a page at a
/// time: [`push::in_pages`]) or the given ids (queue).
/// Returns the outcome per resubmission id.
pub fn push(
    s: &mut Session<'_>,
    ctx: &Ctx,
    only: Option<&[i64]>,
) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
    let mut outcomes = BTreeMap::new();
    let known = Known {
        failures: state::failures(s.db, OBJECT, "push")?,
        not_exported: lifecycle::not_exported(s, LinkTable::Deals)?,
    };
    match only {
        Some(ids) => {
            let rows = xentral::resubmissions_by_id(s.db, ids)?;
            for id in ids {
                if !rows.iter().any(|r| r.id == *id) {
                    outcomes.insert(
                        *id,
                        PushOutcome::Excluded("resubmission does not exist".into()),
                    );
                }
            }
            push_rows(s, ctx, rows, &known, &mut outcomes)?;
        }
        None => {
            let stages: Vec<i64> = ctx.stages.to_hubspot.keys().copied().collect();
            push::in_pages(
                s,
                |s, after, limit| {
                    Ok(xentral::resubmissions_in_stages_after(
                        s.db, &stages, after, limit,
                    )?)
                },
                |r| r.id,
                |s, page| push_rows(s, ctx, page, &known, &mut outcomes),
            )?;
        }
    }
    Ok(outcomes)
}

/// What a push reads once for all its pages.
struct Known {
    failures: HashMap<String, i64>,
    not_exported: HashMap<i64, &'static str>,
}

/// Pushes `rows` (a page, or the queued ones) with their links.
fn push_rows(
    s: &mut Session<'_>,
    ctx: &Ctx,
    rows: Vec<ResubmissionRow>,
    known: &Known,
    outcomes: &mut BTreeMap<i64, PushOutcome>,
) -> Result<(), PluginError> {
    let Known {
        failures,
        not_exported,
    } = known;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut links = state::links_by_xentral_ids(s.db, LinkTable::Deals, &ids)?;
    link_late_contacts(s, ctx, &rows, &mut links)?;
    let now = s.clock.now_ms();
    let mut pending = Vec::new();
    let mut rows_by_id = HashMap::new();
    for row in rows {
        let mut exclude = |s: &mut Session<'_>, reason: &str| {
            s.report.hubspot.exclude(reason);
            outcomes.insert(row.id, PushOutcome::Excluded(reason.to_owned()));
        };
        if let Some(reason) = not_exported.get(&row.id) {
            exclude(s, reason);
            continue;
        }
        if !ctx.stages.to_hubspot.contains_key(&row.stage) {
            // Moved out of the HubSpot views or onto an unmapped stage: it stops syncing;
            // nothing is deleted.
            let reason = crate::kinds::stages::unmapped_reason(s.db, row.stage)?;
            exclude(s, reason);
            continue;
        }
        if let Some(next) = failures.get(&row.id.to_string())
            && *next > now
        {
            s.report.pending = true;
            outcomes.insert(row.id, PushOutcome::Failed(*next));
            continue;
        }
        if let Err(problem) = xentral_amount(&row.amount) {
            // Sent without its amount (HubSpot's is kept): said per record, every run, until
            // the amount is corrected in xentral.
            s.warn(
                "unreadable amount",
                &[("resubmission", &row.id.to_string()), ("error", &problem)],
            );
            s.report.messages.push(format!(
                "resubmission {}: {problem}; sent without it",
                row.id
            ));
        }
        let x = from_xentral(&row, ctx);
        match links.get(&row.id) {
            Some(link) => {
                let out = merge::merge(
                    DEAL_FIELDS,
                    &x,
                    &link.snapshot.h,
                    Some(&link.snapshot),
                    &ctx.rule,
                    &[],
                );
                if out.to_hubspot.is_empty() {
                    s.report.hubspot.unchanged += 1;
                    outcomes.insert(row.id, PushOutcome::Done);
                } else {
                    let mut snapshot = out.snapshot;
                    for pseudo in [CONTACT, COMPANY] {
                        if let Some(v) = link.snapshot.h.get(pseudo) {
                            snapshot.h.insert(pseudo.into(), v.clone());
                        }
                        if let Some(v) = link.snapshot.x.get(pseudo) {
                            snapshot.x.insert(pseudo.into(), v.clone());
                        }
                    }
                    pending.push(Pending {
                        xentral_id: row.id,
                        hubspot_id: Some(link.hubspot_id.clone()),
                        upsert_key: String::new(),
                        properties: to_hubspot_properties(&out.to_hubspot),
                        snapshot,
                        seen: Some(link.snapshot.h.clone()),
                    });
                }
            }
            None if !ctx.unique => {
                exclude(s, "deal export needs the crm.schemas.deals.write scope");
                continue;
            }
            None if !ctx.rule.creates_in_hubspot() => {
                exclude(
                    s,
                    "deals sync to xentral only: new resubmissions are not created in HubSpot",
                );
                continue;
            }
            None => {
                let mut values = ctx.rule.creation_values(&x, false, &["name", "stage"]);
                values
                    .entry("name".into())
                    .or_insert_with(|| format!("Wiedervorlage {}", row.id));
                let mut properties = to_hubspot_properties(&values);
                properties.insert(UNIQUE_PROPERTY.into(), Json::String(row.id.to_string()));
                pending.push(Pending {
                    xentral_id: row.id,
                    hubspot_id: None,
                    upsert_key: row.id.to_string(),
                    properties,
                    snapshot: Snapshot {
                        x: x.clone(),
                        h: values,
                    },
                    seen: None,
                });
            }
        }
        rows_by_id.insert(row.id, row);
    }
    let canonical = |r: &Record| from_hubspot(r, ctx.time_zone).0;
    let check = FreshnessCheck {
        properties: feed().properties,
        fields: DEAL_FIELDS,
        canonical: &canonical,
    };
    let written = TARGET.write(s, &pending, &check, outcomes)?;
    if !s.dry_run {
        associate(s, ctx, &rows_by_id, &links, &written)?;
    }
    Ok(())
}

/// Fills an unset `adresse` (and `ansprechpartner_id`) of resubmissions whose deal is
/// associated with a company or contact that has been linked since the deal was pulled.
fn link_late_contacts(
    s: &mut Session<'_>,
    ctx: &Ctx,
    rows: &[ResubmissionRow],
    links: &mut HashMap<i64, Link>,
) -> Result<(), PluginError> {
    let now = s.clock.now_ms();
    for row in rows.iter().filter(|r| r.address == 0 || r.person == 0) {
        let Some(link) = links.get_mut(&row.id) else {
            continue;
        };
        let associated = Associated {
            contact: link.snapshot.h.get(CONTACT).cloned(),
            company: link.snapshot.h.get(COMPANY).cloned(),
        };
        let mut snapshot = link.snapshot.clone();
        let mut columns = Vec::new();
        associated.apply(ctx, (row.address, row.person), &mut snapshot, &mut columns);
        if columns.is_empty() {
            continue;
        }
        s.report.xentral.updated += 1;
        if s.dry_run {
            continue;
        }
        link.snapshot = snapshot;
        let link = link.clone();
        s.transaction(|s| {
            xentral::update_resubmission(s.db, row.id, &columns)?;
            Ok(state::save_link(s.db, LinkTable::Deals, &link, now)?)
        })?;
    }
    Ok(())
}

/// The HubSpot records a resubmission is to be associated with: its address's contact or
/// company, and its contact person's contact.
fn targets(ctx: &Ctx, row: &ResubmissionRow) -> [(&'static str, Option<String>); 2] {
    let contact = ctx
        .contacts
        .hubspot_of
        .get(&row.address)
        .cloned()
        .or_else(|| {
            (row.person != 0)
                .then(|| {
                    ctx.persons
                        .iter()
                        .find(|(_, (p, _))| *p == row.person)
                        .map(|(hs, _)| hs.clone())
                })
                .flatten()
        });
    [
        (CONTACT, contact),
        (COMPANY, ctx.companies.hubspot_of.get(&row.address).cloned()),
    ]
}

/// Associates written deals with their resubmission's contact (the default association) and
/// company (as its primary company) where that changed since the last sync; a failed request
/// is retried by the next run (the snapshot does not record it).
fn associate(
    s: &mut Session<'_>,
    ctx: &Ctx,
    rows: &HashMap<i64, ResubmissionRow>,
    links: &HashMap<i64, Link>,
    written: &[crate::engine::push::Written<'_>],
) -> Result<(), PluginError> {
    let mut pairs: Vec<(&'static str, String, String, &Pending)> = Vec::new();
    for w in written {
        let Some(row) = rows.get(&w.pending.xentral_id) else {
            continue;
        };
        for (pseudo, target) in targets(ctx, row) {
            let Some(target) = target else {
                continue;
            };
            let known = links
                .get(&row.id)
                .and_then(|l| l.snapshot.h.get(pseudo))
                .or(w.pending.snapshot.h.get(pseudo));
            if known != Some(&target) {
                pairs.push((pseudo, w.record.id.clone(), target, w.pending));
            }
        }
    }
    for pseudo in [CONTACT, COMPANY] {
        let of_kind: Vec<_> = pairs.iter().filter(|p| p.0 == pseudo).collect();
        for chunk in of_kind.chunks(100) {
            let (to, operation, types) = if pseudo == COMPANY {
                (
                    "companies",
                    "create",
                    json!([{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": PRIMARY_COMPANY }]),
                )
            } else {
                ("contacts", "associate/default", Json::Null)
            };
            let inputs: Vec<Json> = chunk
                .iter()
                .map(|(_, deal, target, _)| {
                    let mut input = json!({ "from": { "id": deal }, "to": { "id": target } });
                    if !types.is_null() {
                        input["types"] = types.clone();
                    }
                    input
                })
                .collect();
            let path = s.client.version().associations("deals", to, operation);
            match s
                .client
                .post::<Json>(&path, &path, &json!({ "inputs": inputs }))
            {
                Ok(_) => {}
                Err(e) if e.stops_job() => {
                    s.stop_early(&e);
                    return Ok(());
                }
                Err(e) => {
                    s.warn(
                        &format!("could not associate deals with {to}"),
                        &[("error", &e.to_string())],
                    );
                    s.report.pending = true;
                    continue;
                }
            }
            let now = s.clock.now_ms();
            s.transaction(|s| {
                for (pseudo, deal, target, p) in chunk {
                    let mut link = state::link_by_hubspot_id(s.db, LinkTable::Deals, deal)?
                        .unwrap_or_else(|| Link {
                            hubspot_id: deal.clone(),
                            xentral_id: p.xentral_id,
                            snapshot: p.snapshot.clone(),
                        });
                    link.snapshot.h.insert((*pseudo).into(), target.clone());
                    link.snapshot.x.insert((*pseudo).into(), target.clone());
                    state::save_link(s.db, LinkTable::Deals, &link, now)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}
