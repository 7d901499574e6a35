//! Deals ⇄ resubmissions (`wiedervorlage`): the pull (incremental by `hs_lastmodifieddate`,
//! associations read per page), the push (batch upsert by the unique `xentral_id` property, so
//! a retried create can never make a second deal), and the association to the contact.
//!
//! Only name, amount, stage and close date are merged ("deals work in parallel"): nothing else
//! of a resubmission is touched, except that an unset `adresse` is filled from the deal's
//! associated contact once that contact is linked (never guessed).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value as Json, json};

use crate::api::{Entity, PluginError};
use crate::engine::incremental::{self, Feed, Flow, PrepareError, PulledUpdate, Sink};
use crate::engine::kind::ObjectKind;
use crate::engine::merge::{self, Fields, Outcome, Snapshot};
use crate::engine::push::{FreshnessCheck, Pending, PushOutcome, Target};
use crate::engine::rules::SyncRule;
use crate::engine::session::Session;
use crate::hubspot::{ApiError, Client, Record, wire};
use crate::kinds::stages::StageMap;
use crate::mapping::{canonical_amount, close_date_local, truncate, xentral_amount};
use crate::platform::{Db, Value};
use crate::settings::{StoredSettings, read_konfiguration, write_konfiguration};
use crate::store::state::{self, Link, LinkTable};
use crate::xentral::{self, ResubmissionRow};

/// The merged deal fields.
pub const DEAL_FIELDS: &[&str] = &["name", "amount", "closedate", "stage"];
/// The unique deal property that makes writes idempotent.
pub const UNIQUE_PROPERTY: &str = "xentral_id";
/// `konfiguration` row: the unique property in use (empty: deal export disabled).
const UNIQUE_KEY: &str = "hubspot_deal_unique_property";
/// The cursor's name.
const CURSOR: &str = "deals";
/// `object` in `hubspot_sync_failures`.
const OBJECT: &str = crate::store::state::LinkTable::Deals.object();
/// Snapshot pseudo-field: the associated contact's HubSpot id.
const CONTACT: &str = crate::store::state::LinkTable::Contacts.object();

const TARGET: Target = Target {
    object: "deals",
    failure_object: OBJECT,
    id_property: UNIQUE_PROPERTY,
    key: |v| v.trim().to_owned(),
    links: LinkTable::Deals,
};

/// Makes sure the unique deal property exists. Returns a warning when the token may not
/// create it: deals are then only imported, never exported, so nothing can be duplicated.
pub fn ensure_unique_property(
    db: &mut dyn Db,
    client: &mut Client<'_>,
) -> Result<Option<String>, PluginError> {
    let version = client.version();
    let existing: Result<wire::Property, _> = client.get(
        &version.property("deals", UNIQUE_PROPERTY),
        &version.property("deals", "{name}"),
    );
    let usable = match existing {
        Ok(p) => p.has_unique_value,
        Err(ApiError::Client { status: 404, .. }) => {
            let body = json!({
                "name": UNIQUE_PROPERTY,
                "label": "xentral ID",
                "description": "The id of the xentral resubmission (wiedervorlage) this deal is synchronised with.",
                "groupName": "dealinformation",
                "type": "string",
                "fieldType": "text",
                "hasUniqueValue": true,
            });
            let path = version.properties("deals");
            match client.post::<Json>(&path, &path, &body) {
                Ok(_) | Err(ApiError::Client { status: 409, .. }) => true,
                Err(ApiError::MissingScopes(_)) => false,
                Err(e) => {
                    return Err(PluginError::Hubspot(format!(
                        "creating the deal property {UNIQUE_PROPERTY}: {e}"
                    )));
                }
            }
        }
        Err(ApiError::MissingScopes(_)) => false,
        Err(e) => {
            return Err(PluginError::Hubspot(format!(
                "reading the deal property {UNIQUE_PROPERTY}: {e}"
            )));
        }
    };
    write_konfiguration(db, UNIQUE_KEY, if usable { UNIQUE_PROPERTY } else { "" })?;
    Ok((!usable).then(|| {
        format!(
            "the access token may not create the unique deal property '{UNIQUE_PROPERTY}' (scope crm.schemas.deals.write is missing): \
             deals are imported from HubSpot, but resubmissions are not exported as deals until the scope is granted and the settings are saved again"
        )
    }))
}

/// What one deal run needs.
pub struct Ctx {
    stages: StageMap,
    time_zone: chrono_tz::Tz,
    unique: bool,
    contact_of_address: HashMap<i64, String>,
    address_of_contact: HashMap<String, i64>,
    rule: SyncRule,
}

impl Ctx {
    /// Loads what the run needs.
    pub fn load(s: &mut Session<'_>) -> Result<Ctx, PluginError> {
        let contacts = state::links_by_xentral_id(s.db, LinkTable::Contacts)?;
        Ok(Ctx {
            stages: StageMap::load(s.db)?,
            time_zone: crate::platform::time_zone(s.clock)?,
            unique: read_konfiguration(s.db, UNIQUE_KEY)?.is_some_and(|v| v == UNIQUE_PROPERTY),
            address_of_contact: contacts
                .values()
                .map(|l| (l.hubspot_id.clone(), l.xentral_id))
                .collect(),
            contact_of_address: contacts
                .into_values()
                .map(|l| (l.xentral_id, l.hubspot_id))
                .collect(),
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
            _ => {}
        }
    }
    props
}

/// xentral columns for canonical values (and the close time HubSpot gave).
fn to_xentral_columns(
    values: &Fields,
    time: Option<&str>,
    ctx: &Ctx,
) -> (Vec<(&'static str, Value)>, Fields) {
    let mut cols = Vec::new();
    let mut stored = Fields::new();
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
            _ => {}
        }
    }
    (cols, stored)
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

    fn pull(s: &mut Session<'_>, ctx: &Ctx) -> Result<Flow, PluginError> {
        let feed = feed();
        let mut sink = DealSink {
            ctx,
            associations: HashMap::new(),
        };
        if feed.retry_failed(s, &mut sink)? == Flow::Stop || feed.pull(s, &mut sink)? == Flow::Stop
        {
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
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
    associations: HashMap<String, Vec<String>>,
}

impl Sink for DealSink<'_> {
    fn prepare(&mut self, s: &mut Session<'_>, records: &[Record]) -> Result<(), PrepareError> {
        self.associations.clear();
        for chunk in records.chunks(1_000) {
            if chunk.is_empty() {
                continue;
            }
            let inputs: Vec<Json> = chunk.iter().map(|r| json!({ "id": r.id })).collect();
            let path = s.client.version().associations("deals", "contacts", "read");
            let reply: wire::BatchReply<wire::Associations> =
                s.client.post(&path, &path, &json!({ "inputs": inputs }))?;
            for r in reply.results.into_iter().flatten() {
                let to = r.to.into_iter().map(|t| t.to_object_id.0).collect();
                self.associations.insert(r.from.id.0, to);
            }
        }
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
        let contact = self
            .associations
            .get(&r.id)
            .and_then(|c| {
                c.iter()
                    .find(|id| ctx.address_of_contact.contains_key(*id))
                    .or(c.first())
            })
            .cloned();
        if let Some(link) = state::link_by_hubspot_id(s.db, LinkTable::Deals, &r.id)? {
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
                contact,
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
            return apply_merge(s, ctx, &row, &h, time.as_deref(), out, &r.id, contact, true);
        }
        if !ctx.rule.creates_in_xentral() {
            s.report
                .xentral
                .exclude("deals sync to HubSpot only: new deals are not created in xentral");
            return Ok(());
        }
        let h = ctx.rule.creation_values(&h, true, &["stage"]);
        create_resubmission(s, ctx, &h, time.as_deref(), &r.id, contact)
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
    contact: Option<String>,
    newly_linked: bool,
) -> Result<(), PluginError> {
    let (mut columns, stored) = to_xentral_columns(&out.to_xentral, time, ctx);
    s.note_cut(
        &format!("deal {deal_id} (resubmission {})", row.id),
        &crate::mapping::cut_fields(&out.to_xentral, &stored),
    );
    let mut snapshot = out.snapshot_after_pull(h, stored);
    if let Some(c) = &contact {
        snapshot.h.insert(CONTACT.into(), c.clone());
        if row.address == 0
            && let Some(address) = ctx.address_of_contact.get(c)
        {
            columns.push(("adresse", Value::Integer(*address)));
            snapshot.x.insert(CONTACT.into(), c.clone());
        } else if ctx.contact_of_address.get(&row.address) == Some(c) {
            snapshot.x.insert(CONTACT.into(), c.clone());
        }
    }
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
    contact: Option<String>,
) -> Result<(), PluginError> {
    let (mut columns, stored) = to_xentral_columns(h, time, ctx);
    s.note_cut(
        &format!("deal {deal_id} (new resubmission)"),
        &crate::mapping::cut_fields(h, &stored),
    );
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
    if let Some(c) = contact {
        snapshot.h.insert(CONTACT.into(), c.clone());
        if let Some(address) = ctx.address_of_contact.get(&c) {
            columns.push(("adresse", Value::Integer(*address)));
            snapshot.x.insert(CONTACT.into(), c);
        }
    }
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
        |s, id| stored_fields(s, ctx, id),
    )
}

/// Pushes resubmissions to HubSpot: every one in a mapped stage (reconciliation) or the given
/// ids (queue). Returns the outcome per resubmission id.
pub fn push(
    s: &mut Session<'_>,
    ctx: &Ctx,
    only: Option<&[i64]>,
) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
    let mut outcomes = BTreeMap::new();
    let rows = match only {
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
            rows
        }
        None => {
            let stages: Vec<i64> = ctx.stages.to_hubspot.keys().copied().collect();
            xentral::resubmissions_in_stages(s.db, &stages)?
        }
    };
    let mut links = state::links_by_xentral_id(s.db, LinkTable::Deals)?;
    link_late_contacts(s, ctx, &rows, &mut links)?;
    let failures = state::failures(s.db, OBJECT, "push")?;
    let now = s.clock.now_ms();
    let mut pending = Vec::new();
    let mut rows_by_id = HashMap::new();
    for row in rows {
        let mut exclude = |s: &mut Session<'_>, reason: &str| {
            s.report.hubspot.exclude(reason);
            outcomes.insert(row.id, PushOutcome::Excluded(reason.to_owned()));
        };
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
                    if let Some(v) = link.snapshot.h.get(CONTACT) {
                        snapshot.h.insert(CONTACT.into(), v.clone());
                    }
                    if let Some(v) = link.snapshot.x.get(CONTACT) {
                        snapshot.x.insert(CONTACT.into(), v.clone());
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
    let written = TARGET.write(s, &pending, &check, &mut outcomes)?;
    if !s.dry_run {
        associate(s, ctx, &rows_by_id, &links, &written)?;
    }
    Ok(outcomes)
}

/// Fills `adresse` of resubmissions whose deal is associated with a contact that has been
/// linked to an address since the deal was pulled.
fn link_late_contacts(
    s: &mut Session<'_>,
    ctx: &Ctx,
    rows: &[ResubmissionRow],
    links: &mut HashMap<i64, Link>,
) -> Result<(), PluginError> {
    let now = s.clock.now_ms();
    for row in rows.iter().filter(|r| r.address == 0) {
        let Some(link) = links.get_mut(&row.id) else {
            continue;
        };
        let Some(contact) = link.snapshot.h.get(CONTACT).cloned() else {
            continue;
        };
        let Some(address) = ctx.address_of_contact.get(&contact) else {
            continue;
        };
        s.report.xentral.updated += 1;
        if s.dry_run {
            continue;
        }
        link.snapshot.x.insert(CONTACT.into(), contact);
        let link = link.clone();
        s.transaction(|s| {
            xentral::update_resubmission(s.db, row.id, &[("adresse", Value::Integer(*address))])?;
            Ok(state::save_link(s.db, LinkTable::Deals, &link, now)?)
        })?;
    }
    Ok(())
}

/// Associates written deals with their resubmission's contact where that changed.
fn associate(
    s: &mut Session<'_>,
    ctx: &Ctx,
    rows: &HashMap<i64, ResubmissionRow>,
    links: &HashMap<i64, Link>,
    written: &[crate::engine::push::Written<'_>],
) -> Result<(), PluginError> {
    let mut pairs = Vec::new();
    for w in written {
        let Some(row) = rows.get(&w.pending.xentral_id) else {
            continue;
        };
        let Some(contact) = ctx.contact_of_address.get(&row.address) else {
            continue;
        };
        let known = links
            .get(&row.id)
            .and_then(|l| l.snapshot.h.get(CONTACT))
            .or(w.pending.snapshot.h.get(CONTACT));
        if known != Some(contact) {
            pairs.push((w.record.id.clone(), contact.clone(), w.pending));
        }
    }
    for chunk in pairs.chunks(100) {
        let inputs: Vec<Json> = chunk
            .iter()
            .map(|(deal, contact, _)| json!({ "from": { "id": deal }, "to": { "id": contact } }))
            .collect();
        let path = s
            .client
            .version()
            .associations("deals", "contacts", "associate/default");
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
                // The deal itself is written; the association is retried on the next run
                // because the snapshot does not record it.
                s.warn(
                    "could not associate deals with contacts",
                    &[("error", &e.to_string())],
                );
                s.report.pending = true;
                continue;
            }
        }
        let now = s.clock.now_ms();
        s.transaction(|s| {
            for (deal, contact, p) in chunk {
                let mut snapshot = p.snapshot.clone();
                snapshot.h.insert(CONTACT.into(), contact.clone());
                snapshot.x.insert(CONTACT.into(), contact.clone());
                state::save_link(
                    s.db,
                    LinkTable::Deals,
                    &Link {
                        hubspot_id: deal.clone(),
                        xentral_id: p.xentral_id,
                        snapshot,
                    },
                    now,
                )?;
            }
            Ok(())
        })?;
    }
    Ok(())
}
