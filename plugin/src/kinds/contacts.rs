//! Contacts ⇄ person addresses, and the contact persons of synced companies: the pull
//! (HubSpot → xentral, incremental by `lastmodifieddate`) and the push (xentral → HubSpot,
//! batch upserts by e-mail), both merging three-way.
//!
//! Where a contact lands in xentral is decided once, when it is first linked: a contact
//! linked to an address stays an address, one linked to a contact person stays a contact
//! person (see [`crate::kinds::persons`]), whatever the contact mode says later. A contact new
//! to xentral becomes a contact person when companies sync, the mode is `contact-persons` and
//! its primary company is linked to a company address; otherwise an address.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Value as Json, json};

use crate::api::{ContactMode, Entity, PluginError};
use crate::engine::incremental::{self, Feed, Flow, PrepareError, PulledUpdate, Sink};
use crate::engine::kind::ObjectKind;
use crate::engine::lifecycle::{self, Ending};
use crate::engine::merge::{self, Fields, Outcome, Snapshot};
use crate::engine::push::{self, FreshnessCheck, Pending, PushOutcome, Target};
use crate::engine::rules::SyncRule;
use crate::engine::session::Session;
use crate::hubspot::Record;
use crate::kinds::persons::{self, PersonCtx};
use crate::mapping::{
    self, Column, Countries, FieldMap, FieldSpec, ValueKind, address_fields, canonical_email,
    cut_fields, display_name,
};
use crate::settings::StoredSettings;
use crate::store::state::{self, LinkTable};
use crate::xentral::{self, AddressRow};

/// The cursor's name in `hubspot_sync_cursors`.
pub const CURSOR: &str = "contacts";
/// `object` in `hubspot_sync_failures`.
const OBJECT: &str = LinkTable::Contacts.object();

/// A contact's fields: HubSpot contact properties ⇄ a person address's columns.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        field: "email",
        property: "email",
        column: Column::Fixed("email", 255),
        kind: ValueKind::Email,
    },
    FieldSpec {
        field: "firstname",
        property: "firstname",
        column: Column::Fixed("vorname", 255),
        kind: ValueKind::Text,
    },
    FieldSpec {
        field: "lastname",
        property: "lastname",
        column: Column::Fixed("nachname", 128),
        kind: ValueKind::Text,
    },
    address_fields::PHONE,
    address_fields::STREET,
    address_fields::ZIP,
    address_fields::CITY,
    address_fields::COUNTRY,
    address_fields::STATE,
    FieldSpec {
        field: "website",
        property: "website",
        column: Column::Fixed("internetseite", 1000),
        kind: ValueKind::Text,
    },
    address_fields::LEAD_STATUS,
    address_fields::LIFECYCLE_STAGE,
    address_fields::OWNER,
];

/// Fields xentral keeps once it has a value (the old module never overwrote the e-mail).
pub const KEEP_IN_XENTRAL: &[&str] = &["email"];

/// Properties read besides the fields: the filters', the read position's and the primary
/// company (which decides where a new contact lands and moves a contact person).
const READ_ALSO: &[&str] = &[
    "createdate",
    "lastmodifieddate",
    "hs_object_id",
    "associatedcompanyid",
    lifecycle::MERGED_IDS,
];

/// How contacts are written to HubSpot.
const TARGET: Target = Target {
    object: "contacts",
    failure_object: OBJECT,
    id_property: "email",
    key: canonical_email,
    links: LinkTable::Contacts,
};

/// What one run needs to know about the tenant.
pub struct Ctx {
    /// The contact group's id.
    pub group_id: i64,
    /// The fields and how to read and write them.
    pub map: FieldMap,
    /// The fields synchronised.
    pub fields: Vec<&'static str>,
    /// Contacts created before this are left out.
    pub since_ms: Option<i64>,
    /// Lead statuses that take part (empty: all).
    pub statuses: HashSet<String>,
    /// Today in the tenant's time zone.
    pub today: String,
    /// Which way contacts and their fields flow, and who wins a conflict.
    pub rule: SyncRule,
    /// The same filter as a whole (for backfills).
    pub filter: ContactFilter,
    /// Contact persons: their fields and the synced companies.
    pub persons: PersonCtx,
    /// Whether a new contact of a synced company becomes its contact person.
    pub creates_persons: bool,
    /// Whether companies sync (a company address is then a company, not a contact).
    pub companies: bool,
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
        let ff = crate::kinds::freefields::configured(s.db)?;
        let countries = Countries::load(s.db)?;
        let owners = crate::kinds::owners::load(s)?;
        let map = FieldMap::new(FIELDS, ff, countries.clone(), owners);
        let filter = ContactFilter::of(&s.settings);
        let companies = s.settings.hs_sync_companies;
        Ok(Ctx {
            group_id,
            fields: map.fields(),
            map,
            since_ms: filter.since_ms,
            statuses: s.settings.hs_sync_address_status.iter().cloned().collect(),
            today: xentral::local_date(s.clock.now_ms(), crate::platform::time_zone(s.clock)?),
            rule: s.settings.hs_contact_rule.clone(),
            filter,
            persons: PersonCtx::load(s, countries)?,
            creates_persons: companies && s.settings.hs_contact_mode == ContactMode::ContactPersons,
            companies,
        })
    }

    /// The columns an address is read with.
    pub fn columns(&self) -> Vec<String> {
        self.map.columns()
    }

    /// Whether a pulled contact is left out, and why.
    pub fn excludes(&self, r: &Record) -> Option<&'static str> {
        if let Some(since) = self.since_ms {
            let created = mapping::parse_instant_ms(r.prop("createdate")).unwrap_or(i64::MIN);
            if created < since {
                return Some("created before the start time");
            }
        }
        if !self.statuses.is_empty() && !self.statuses.contains(r.prop("hs_lead_status")) {
            return Some("lead status not selected");
        }
        None
    }

    /// Whether a xentral record's values are left out by the lead-status filter.
    pub fn excludes_values(&self, x: &Fields) -> bool {
        !self.statuses.is_empty()
            && !self
                .statuses
                .contains(x.get("lead_status").map_or("", String::as_str))
    }
}

/// The cursor of the contacts backfill (and the backfill's name in `hubspot_sync_backfills`).
const BACKFILL: &str = "contacts:backfill";

/// Which contacts take part: lead statuses (`None`: every contact, with a status or without)
/// and the start time (contacts created before it are left out).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContactFilter {
    /// Lead statuses that take part; `None`: all.
    pub statuses: Option<BTreeSet<String>>,
    /// Contacts created before this are left out.
    pub since_ms: Option<i64>,
}

impl ContactFilter {
    /// The filter of stored settings.
    pub fn of(settings: &crate::settings::StoredSettings) -> ContactFilter {
        ContactFilter {
            statuses: (!settings.hs_sync_address_status.is_empty())
                .then(|| settings.hs_sync_address_status.iter().cloned().collect()),
            since_ms: since_ms(&settings.hs_sync_addresses_from),
        }
    }

    /// A filter that includes no contact: what a sync that creates no address in xentral
    /// brought in.
    pub fn nothing() -> ContactFilter {
        ContactFilter {
            statuses: Some(BTreeSet::new()),
            since_ms: None,
        }
    }

    /// What both filters include.
    pub fn and(&self, other: &ContactFilter) -> ContactFilter {
        ContactFilter {
            statuses: match (&self.statuses, &other.statuses) {
                (None, s) | (s, None) => s.clone(),
                (Some(a), Some(b)) => Some(a.intersection(b).cloned().collect()),
            },
            since_ms: self.since_ms.max(other.since_ms),
        }
    }

    /// Search filter groups (ORed) for the contacts this filter includes and `old` did not;
    /// empty when it includes nothing new.
    pub fn newly_included(&self, old: &ContactFilter) -> Vec<Vec<Json>> {
        let mut base = Vec::new();
        if let Some(statuses) = &self.statuses {
            if statuses.is_empty() {
                return Vec::new();
            }
            base.push(
                json!({"propertyName": "hs_lead_status", "operator": "IN", "values": statuses}),
            );
        }
        if let Some(since) = self.since_ms {
            base.push(json!({"propertyName": "createdate", "operator": "GTE", "value": since.to_string()}));
        }
        let mut terms: Vec<Vec<Json>> = Vec::new();
        match &old.statuses {
            Some(old_statuses) if old_statuses.is_empty() => terms.push(Vec::new()),
            Some(old_statuses) => {
                let widened = match &self.statuses {
                    None => true,
                    Some(new) => !new.is_subset(old_statuses),
                };
                if widened {
                    terms.push(vec![json!({"propertyName": "hs_lead_status", "operator": "NOT_IN", "values": old_statuses})]);
                    if self.statuses.is_none() {
                        terms.push(vec![json!({"propertyName": "hs_lead_status", "operator": "NOT_HAS_PROPERTY"})]);
                    }
                }
            }
            None => {}
        }
        if let Some(old_since) = old.since_ms
            && self.since_ms.is_none_or(|new| new < old_since)
        {
            terms.push(vec![json!({"propertyName": "createdate", "operator": "LT", "value": old_since.to_string()})]);
        }
        if terms.iter().any(Vec::is_empty) {
            return vec![base];
        }
        terms
            .into_iter()
            .map(|t| base.iter().cloned().chain(t).collect())
            .collect()
    }
}

/// A pending backfill: the contacts behind the cursor were read under `old`; those the
/// current filter adds are read up to `upper_ms`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct BackfillSpec {
    old: ContactFilter,
    upper_ms: i64,
}

fn since_ms(raw: &str) -> Option<i64> {
    raw.parse::<chrono::DateTime<chrono::FixedOffset>>()
        .ok()
        .map(|d| d.timestamp_millis())
}

fn pending_backfill(db: &mut dyn crate::platform::Db) -> Result<Option<BackfillSpec>, PluginError> {
    Ok(state::backfill(db, BACKFILL)?.and_then(|spec| serde_json::from_str(&spec).ok()))
}

/// On a settings change from `previous` to `next`: when the contact filter now includes
/// contacts the cursor passed over under the old one (or contacts now sync to xentral that
/// did not create addresses before), plans the backfill of exactly those (restarting a
/// pending one over the union) and says so.
pub fn plan_backfill(
    db: &mut dyn crate::platform::Db,
    previous: &crate::settings::StoredSettings,
    next: &crate::settings::StoredSettings,
    now_ms: i64,
) -> Result<Option<String>, PluginError> {
    if !next.hs_sync_addresses
        || !next.hs_contact_rule.creates_in_xentral()
        || !state::cursor_exists(db, CURSOR)?
    {
        return Ok(None);
    }
    // The furthest any range of the read has got (a split read's further ranges run ahead
    // of the cursor; what they passed over under the old filter is to be brought in too).
    let read_up_to = state::cursor_lanes(db, CURSOR)?
        .into_iter()
        .map(|(_, at)| at.modified_ms)
        .fold(state::cursor(db, CURSOR)?.modified_ms, i64::max);
    let pending = pending_backfill(db)?;
    let brought_in = if previous.hs_contact_rule.creates_in_xentral() {
        ContactFilter::of(previous)
    } else {
        ContactFilter::nothing()
    };
    let old = match &pending {
        Some(p) => p.old.and(&brought_in),
        None => brought_in,
    };
    if ContactFilter::of(next).newly_included(&old).is_empty() || read_up_to <= 0 {
        return Ok(None);
    }
    let spec = BackfillSpec {
        old,
        upper_ms: read_up_to.max(pending.map_or(0, |p| p.upper_ms)),
    };
    let text = serde_json::to_string(&spec).expect("a backfill spec serialises");
    state::start_backfill(db, BACKFILL, BACKFILL, &text, now_ms)?;
    let upto = chrono::DateTime::from_timestamp_millis(spec.upper_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    Ok(Some(format!(
        "the contact filter now includes contacts it left out before: those changed in HubSpot up to {upto} are read in by the next contact syncs"
    )))
}

/// Contacts ⇄ addresses (and contact persons), as the engine syncs them.
pub struct Contacts;

impl ObjectKind for Contacts {
    const ENTITY: Entity = Entity::Address;
    const SWITCHED_OFF: &'static str = "contacts are switched off";
    type Ctx = Ctx;

    fn switched_on(settings: &StoredSettings) -> bool {
        settings.hs_sync_addresses
    }

    fn load(s: &mut Session<'_>) -> Result<Ctx, PluginError> {
        Ctx::load(s)
    }

    /// Addresses and contact persons, under the contacts' rule.
    fn endings(ctx: &Ctx) -> Vec<Ending<'_>> {
        [LinkTable::Contacts, LinkTable::Persons]
            .into_iter()
            .map(|table| Ending {
                table,
                object: "contacts",
                rule: &ctx.rule,
            })
            .collect()
    }

    /// Retries, changes behind the cursor, then the backfill a widened filter planned.
    fn pull(s: &mut Session<'_>, ctx: &Ctx) -> Result<Flow, PluginError> {
        let feed = feed(ctx);
        let mut sink = ContactSink {
            ctx,
            emails: None,
            holders_alive: HashMap::new(),
            links: HashMap::new(),
            person_links: HashMap::new(),
            deleted: HashSet::new(),
        };
        if feed.retry_and_pull(s, &mut sink)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
        if let Some(spec) = pending_backfill(s.db)? {
            let groups = ctx.filter.newly_included(&spec.old);
            let done = groups.is_empty()
                || feed.backfill(s, &mut sink, BACKFILL, &groups, spec.upper_ms)?;
            if !done {
                return Ok(Flow::Stop);
            }
            if !s.dry_run {
                state::finish_backfill(s.db, BACKFILL, BACKFILL)?;
            }
            if !groups.is_empty() {
                s.report.messages.push(
                    "read in the contacts the widened filter newly includes (backfill complete)"
                        .into(),
                );
            }
        }
        Ok(Flow::Continue)
    }

    /// Addresses, then the contact persons of synced companies.
    fn push(
        s: &mut Session<'_>,
        ctx: &Ctx,
        only: Option<&[i64]>,
    ) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
        let outcomes = push(s, ctx, only)?;
        if only.is_none() {
            persons::push(s, ctx, None)?;
        }
        Ok(outcomes)
    }
}

/// The properties a contact is read with (its fields', a contact person's, the filters').
fn properties(ctx: &Ctx) -> Vec<String> {
    let mut props = ctx.map.properties(READ_ALSO);
    for p in ctx.persons.map.properties(&[]) {
        if !props.contains(&p) {
            props.push(p);
        }
    }
    props
}

/// Contacts as an incremental feed.
fn feed(ctx: &Ctx) -> Feed {
    Feed {
        object: "contacts",
        failure_object: OBJECT,
        modified_property: "lastmodifieddate",
        properties: properties(ctx),
        cursor: CURSOR,
    }
}

/// Applies pulled contacts to xentral.
struct ContactSink<'c> {
    ctx: &'c Ctx,
    /// xentral's e-mails, read when the first contact needs matching.
    emails: Option<xentral::AddressEmails>,
    /// Contacts other than the pulled ones that hold an e-mail a pulled contact matches,
    /// with whether HubSpot still has them (read per page, in one call, before it is applied).
    holders_alive: HashMap<String, bool>,
    /// The address links of the page's contacts (`None`: not linked), read in one query
    /// before the page is applied; each is taken once.
    links: HashMap<String, Option<state::Link>>,
    /// The contact-person links of the page's contacts, likewise.
    person_links: HashMap<String, Option<state::Link>>,
    /// The page's contacts whose link ended because its address (or contact person) was
    /// deleted in xentral: never given a new one.
    deleted: HashSet<String>,
}

impl Sink for ContactSink<'_> {
    /// Reads the page's links, finds the contacts an unlinked contact of the page would meet
    /// by e-mail, linked to another contact, and asks HubSpot in one batch read whether those
    /// still exist: a contact archived (or merged away) and re-created with the same e-mail
    /// must take over the address, never get a second one.
    fn prepare(&mut self, s: &mut Session<'_>, records: &[Record]) -> Result<(), PrepareError> {
        self.holders_alive.clear();
        self.links.clear();
        self.person_links.clear();
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let mut linked = state::links_by_hubspot_ids(s.db, LinkTable::Contacts, &ids)?;
        let mut persons = state::links_by_hubspot_ids(s.db, LinkTable::Persons, &ids)?;
        for r in records {
            self.links.insert(r.id.clone(), linked.remove(&r.id));
            self.person_links
                .insert(r.id.clone(), persons.remove(&r.id));
        }
        self.deleted =
            lifecycle::prepare_page(s, LinkTable::Persons, records, &mut self.person_links)?;
        let unlinked: Vec<Record> = records
            .iter()
            .filter(|r| self.person_links.get(&r.id).is_none_or(Option::is_none))
            .cloned()
            .collect();
        self.deleted.extend(lifecycle::prepare_page(
            s,
            LinkTable::Contacts,
            &unlinked,
            &mut self.links,
        )?);
        let mut holders = HashSet::new();
        for r in records {
            let is_linked = self.links.get(&r.id).is_some_and(Option::is_some)
                || self.person_links.get(&r.id).is_some_and(Option::is_some);
            if is_linked || self.ctx.excludes(r).is_some() {
                continue;
            }
            let email = canonical_email(r.prop("email"));
            if email.is_empty() {
                continue;
            }
            let candidates = self.emails(s)?.get(&email).to_vec();
            if let xentral::EmailMatch::Linked { hubspot_id, .. } =
                xentral::match_email(s.db, &candidates, self.ctx.group_id, &self.ctx.today)?
                && hubspot_id != r.id
            {
                holders.insert(hubspot_id);
            }
        }
        if holders.is_empty() {
            return Ok(());
        }
        let inputs: Vec<Json> = holders.iter().map(|id| json!({ "id": id })).collect();
        let read = s.client.batch(
            "contacts",
            "read",
            inputs,
            Some(("properties", json!(["email"]))),
        )?;
        let alive: HashSet<String> = read.results.into_iter().map(|(r, _)| r.id).collect();
        for h in holders {
            let is_alive = alive.contains(&h);
            self.holders_alive.insert(h, is_alive);
        }
        Ok(())
    }

    fn apply(&mut self, s: &mut Session<'_>, record: &Record) -> Result<(), PluginError> {
        let ctx = self.ctx;
        pull_one(s, ctx, self, record)
    }

    /// Addresses the run created in the rolled-back transaction are gone again: the index
    /// is read afresh when next needed.
    fn rolled_back(&mut self) {
        self.emails = None;
        self.links.clear();
        self.person_links.clear();
    }
}

impl ContactSink<'_> {
    fn emails(&mut self, s: &mut Session<'_>) -> Result<&mut xentral::AddressEmails, PluginError> {
        if self.emails.is_none() {
            self.emails = Some(xentral::AddressEmails::load(s.db, self.ctx.companies)?);
        }
        Ok(self.emails.as_mut().expect("loaded above"))
    }

    /// The link of `id` in `table` the page read, else read now (a retried record).
    fn link(
        &mut self,
        s: &mut Session<'_>,
        table: LinkTable,
        id: &str,
    ) -> Result<Option<state::Link>, PluginError> {
        let page = match table {
            LinkTable::Persons => &mut self.person_links,
            _ => &mut self.links,
        };
        Ok(match page.remove(id) {
            Some(link) => link,
            None => state::link_by_hubspot_id(s.db, table, id)?,
        })
    }
}

/// Merges one HubSpot contact into xentral.
fn pull_one(
    s: &mut Session<'_>,
    ctx: &Ctx,
    sink: &mut ContactSink<'_>,
    r: &Record,
) -> Result<(), PluginError> {
    if let Some(reason) = ctx.excludes(r) {
        s.report.xentral.exclude(reason);
        return Ok(());
    }
    if let Some(link) = sink.link(s, LinkTable::Persons, &r.id)? {
        return persons::pull_linked(s, ctx, &link, r);
    }
    let h = ctx.map.from_hubspot(r);
    let email = h.get("email").cloned().unwrap_or_default();
    let mut gone_from_xentral = sink
        .deleted
        .contains(&r.id)
        .then_some("address deleted in xentral");
    if let Some(link) = sink.link(s, LinkTable::Contacts, &r.id)? {
        match xentral::addresses_by_id(s.db, &ctx.columns(), &[link.xentral_id])?.pop() {
            Some(address) if !address.deleted => {
                let x = ctx.map.from_xentral(&address.columns);
                let out = merge::merge(
                    &ctx.fields,
                    &x,
                    &h,
                    Some(&link.snapshot),
                    &ctx.rule,
                    KEEP_IN_XENTRAL,
                );
                return apply_merge(s, ctx, &address, &h, out, &r.id, false);
            }
            Some(_) => gone_from_xentral = Some("address deleted in xentral"),
            None => gone_from_xentral = Some("address no longer exists in xentral"),
        }
    }
    let company = ctx
        .creates_persons
        .then(|| ctx.persons.company_address(r.prop("associatedcompanyid")))
        .flatten();
    if gone_from_xentral.is_none()
        && let Some(company) = company
        && persons::link_existing(s, ctx, company, &email, r)?
    {
        return Ok(());
    }
    let found = if email.is_empty() {
        xentral::EmailMatch::None
    } else {
        let candidates = sink.emails(s)?.get(&email).to_vec();
        xentral::match_email(s.db, &candidates, ctx.group_id, &ctx.today)?
    };
    let (id, replaces) = match found {
        xentral::EmailMatch::Unlinked(id) => (id, None),
        xentral::EmailMatch::Linked {
            address,
            hubspot_id,
        } if hubspot_id != r.id => {
            if sink.holders_alive.get(&hubspot_id).copied().unwrap_or(true) {
                s.report
                    .xentral
                    .exclude("e-mail belongs to another HubSpot contact linked to an address");
                return Ok(());
            }
            // HubSpot no longer has the contact the address was linked to (archived or
            // merged, then re-created with the same e-mail): this contact takes it over.
            (address, Some(hubspot_id))
        }
        xentral::EmailMatch::Linked { .. } | xentral::EmailMatch::None => {
            // The address this contact was linked to is deleted: it is not brought back, and
            // no second one is made.
            if let Some(reason) = gone_from_xentral {
                s.report.xentral.exclude(reason);
                return Ok(());
            }
            if !ctx.rule.creates_in_xentral() {
                s.report.xentral.exclude(
                    "contacts sync to HubSpot only: new contacts are not created in xentral",
                );
                return Ok(());
            }
            return match company {
                Some(company) => persons::create(s, ctx, company, r),
                None => create_address(s, ctx, sink, &h, &r.id),
            };
        }
    };
    let address = xentral::addresses_by_id(s.db, &ctx.columns(), &[id])?
        .pop()
        .ok_or_else(|| PluginError::Database(format!("address {id} vanished")))?;
    let x = ctx.map.from_xentral(&address.columns);
    let out = merge::merge(&ctx.fields, &x, &h, None, &ctx.rule, KEEP_IN_XENTRAL);
    if !s.dry_run {
        if let Some(old) = &replaces {
            s.info(
                "address relinked to a re-created contact",
                &[("address", &id.to_string()), ("from", old), ("to", &r.id)],
            );
            state::drop_link(s.db, LinkTable::Contacts, old)?;
        }
        if !xentral::is_group_member(s.db, id, ctx.group_id, &ctx.today)? {
            xentral::add_to_group(s.db, id, ctx.group_id, &ctx.today)?;
        }
    }
    apply_merge(s, ctx, &address, &h, out, &r.id, true)
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
    let w = ctx.map.to_xentral(&out.to_xentral);
    let record = format!("contact {hubspot_id} (address {})", address.id);
    s.note_cut(&record, &cut_fields(&out.to_xentral, &w.stored));
    s.note_refused(&record, &w.refused);
    let mut columns = w.columns;
    if out.to_xentral.contains_key("firstname") || out.to_xentral.contains_key("lastname") {
        let col = |c: &str| address.col(c);
        let old_display = display_name(col("vorname"), col("nachname"), "", "");
        let current = col("name");
        if current.trim().is_empty() || current == old_display {
            let first = out
                .to_xentral
                .get("firstname")
                .map_or(col("vorname"), String::as_str);
            let last = out
                .to_xentral
                .get("lastname")
                .map_or(col("nachname"), String::as_str);
            columns.push((
                "name".into(),
                display_name(first, last, col("email"), hubspot_id),
            ));
        }
    }
    let snapshot = out.snapshot_after_pull(h, w.stored);
    let id = address.id;
    incremental::finish_update(
        s,
        ctx.rule.winner,
        PulledUpdate {
            links: LinkTable::Contacts,
            hubspot_id,
            xentral_id: id,
            outcome: &out,
            newly_linked,
            has_columns: !columns.is_empty(),
        },
        snapshot,
        |s| Ok(xentral::update_address(s.db, id, &columns)?),
        |s| stored_fields(s, ctx, id),
    )
}

/// The canonical fields of address `id` as the database holds them.
fn stored_fields(s: &mut Session<'_>, ctx: &Ctx, id: i64) -> Result<Option<Fields>, PluginError> {
    Ok(xentral::addresses_by_id(s.db, &ctx.columns(), &[id])?
        .pop()
        .map(|row| ctx.map.from_xentral(&row.columns)))
}

/// The values a record new on one side is created with on the other: its synced fields that
/// flow that way, and those the other side requires.
pub fn creation_values(
    fields: &[&str],
    values: &Fields,
    rule: &SyncRule,
    to_xentral: bool,
    required: &[&str],
) -> Fields {
    let synced: Fields = values
        .iter()
        .filter(|(f, _)| fields.contains(&f.as_str()))
        .map(|(f, v)| (f.clone(), v.clone()))
        .collect();
    rule.creation_values(&synced, to_xentral, required)
}

/// Creates a lead address in the group for a contact new to xentral.
fn create_address(
    s: &mut Session<'_>,
    ctx: &Ctx,
    sink: &mut ContactSink<'_>,
    h: &Fields,
    hubspot_id: &str,
) -> Result<(), PluginError> {
    let values = creation_values(&ctx.fields, h, &ctx.rule, true, &["email"]);
    let w = ctx.map.to_xentral(&values);
    let read_back = w.may_change_when_stored();
    let record = format!("contact {hubspot_id} (new address)");
    s.note_cut(&record, &cut_fields(&values, &w.stored));
    s.note_refused(&record, &w.refused);
    let get = |f: &str| h.get(f).map_or("", String::as_str);
    let mut columns = w.columns;
    columns.push((
        "name".into(),
        display_name(get("firstname"), get("lastname"), get("email"), hubspot_id),
    ));
    let written: Vec<String> = w.stored.keys().cloned().collect();
    let snapshot = Snapshot {
        x: w.stored,
        h: values,
    };
    incremental::finish_create(
        s,
        LinkTable::Contacts,
        hubspot_id,
        snapshot,
        &written,
        |s| {
            let id = xentral::insert_lead_address(s.db, &columns, false)?;
            xentral::add_to_group(s.db, id, ctx.group_id, &ctx.today)?;
            if let Some(email) = h.get("email") {
                sink.emails(s)?.insert(email, id);
            }
            Ok(id)
        },
        read_back.then_some(|s: &mut Session<'_>, id| stored_fields(s, ctx, id)),
    )
}

/// Why a record new in xentral cannot be created in HubSpot as a contact, if it cannot:
/// without an e-mail there is no key HubSpot could upsert by (a plain create is not safe to
/// retry), a one-way kind creates nothing there, and an e-mail linked to another record
/// would merge two xentral records into one contact.
pub fn unwritable_contact(
    rule: &SyncRule,
    email: &str,
    mine: (LinkTable, i64),
    linked_emails: &HashMap<String, (LinkTable, i64)>,
) -> Option<&'static str> {
    if email.is_empty() {
        return Some("no e-mail address");
    }
    if !rule.creates_in_hubspot() {
        return Some(match mine.0 {
            LinkTable::Persons => {
                "contacts sync to xentral only: new contact persons are not created in HubSpot"
            }
            _ => "contacts sync to xentral only: new addresses are not created in HubSpot",
        });
    }
    linked_emails
        .get(email)
        .is_some_and(|owner| *owner != mine)
        .then_some("e-mail shared with another address or contact person")
}

/// Pushes addresses to HubSpot: the group's person addresses (reconciliation, a page at a
/// time: [`push::in_pages`]) or the given ids (queue). Returns the outcome per address id.
pub fn push(
    s: &mut Session<'_>,
    ctx: &Ctx,
    only: Option<&[i64]>,
) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
    let mut run = AddressPush {
        outcomes: BTreeMap::new(),
        linked_emails: state::linked_emails(s.db)?,
        failures: state::failures(s.db, OBJECT, "push")?,
        not_exported: lifecycle::not_exported(s, LinkTable::Contacts)?,
    };
    match only {
        Some(ids) => {
            let candidates = xentral::addresses_by_id(s.db, &ctx.columns(), ids)?;
            for id in ids {
                if !candidates.iter().any(|a| a.id == *id) {
                    run.outcomes
                        .insert(*id, PushOutcome::Excluded("address does not exist".into()));
                }
            }
            run.push(s, ctx, candidates, true)?;
        }
        None => push::group_in_pages(s, &ctx.columns(), ctx.group_id, &ctx.today, |s, page| {
            run.push(s, ctx, page, false)
        })?,
    }
    Ok(run.outcomes)
}

/// What a push of addresses keeps from page to page.
struct AddressPush {
    outcomes: BTreeMap<i64, PushOutcome>,
    /// E-mails linked so far, new ones included, so no two addresses claim one contact.
    linked_emails: HashMap<String, (LinkTable, i64)>,
    failures: HashMap<String, i64>,
    not_exported: HashMap<i64, &'static str>,
}

impl AddressPush {
    /// Pushes `candidates`: the queued addresses (`queued`: each is checked for deletion and
    /// group membership) or a page of the group.
    fn push(
        &mut self,
        s: &mut Session<'_>,
        ctx: &Ctx,
        candidates: Vec<AddressRow>,
        queued: bool,
    ) -> Result<(), PluginError> {
        let ids: Vec<i64> = candidates.iter().map(|a| a.id).collect();
        let links = state::links_by_xentral_ids(s.db, LinkTable::Contacts, &ids)?;
        let AddressPush {
            outcomes,
            linked_emails,
            failures,
            not_exported,
        } = self;
        let now = s.clock.now_ms();
        let mut updates = Vec::new();
        let mut upserts = Vec::new();
        // With companies synced, an unlinked company address of the group is a company's
        // business.
        let candidates = candidates
            .into_iter()
            .filter(|a| queued || !(ctx.companies && a.is_company() && !links.contains_key(&a.id)));
        for a in candidates {
            let exclude =
                |s: &mut Session<'_>, outcomes: &mut BTreeMap<i64, PushOutcome>, reason: &str| {
                    s.report.hubspot.exclude(reason);
                    outcomes.insert(a.id, PushOutcome::Excluded(reason.to_owned()));
                };
            if let Some(reason) = not_exported.get(&a.id) {
                exclude(s, outcomes, reason);
                continue;
            }
            if queued {
                if a.deleted {
                    exclude(s, outcomes, "address deleted");
                    continue;
                }
                if !xentral::is_group_member(s.db, a.id, ctx.group_id, &ctx.today)? {
                    exclude(s, outcomes, "not in the contact group");
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
            if !links.contains_key(&a.id) && a.is_company() {
                exclude(
                    s,
                    outcomes,
                    if ctx.companies {
                        "company address (synchronised as a company)"
                    } else {
                        "company address without a contact person's name (companies are switched off)"
                    },
                );
                continue;
            }
            let x = ctx.map.from_xentral(&a.columns);
            if ctx.excludes_values(&x) {
                exclude(s, outcomes, "lead status not selected");
                continue;
            }
            match links.get(&a.id) {
                Some(link) => {
                    let out = merge::merge(
                        &ctx.fields,
                        &x,
                        &link.snapshot.h,
                        Some(&link.snapshot),
                        &ctx.rule,
                        KEEP_IN_XENTRAL,
                    );
                    if out.to_hubspot.is_empty() {
                        s.report.hubspot.unchanged += 1;
                        outcomes.insert(a.id, PushOutcome::Done);
                    } else {
                        updates.push(Pending {
                            xentral_id: a.id,
                            hubspot_id: Some(link.hubspot_id.clone()),
                            upsert_key: String::new(),
                            properties: ctx.map.to_hubspot(&out.to_hubspot, false),
                            snapshot: out.snapshot,
                            seen: Some(link.snapshot.h.clone()),
                        });
                    }
                }
                None => {
                    let email = x.get("email").cloned().unwrap_or_default();
                    let mine = (LinkTable::Contacts, a.id);
                    if let Some(reason) = unwritable_contact(&ctx.rule, &email, mine, linked_emails)
                    {
                        exclude(s, outcomes, reason);
                        continue;
                    }
                    linked_emails.insert(email.clone(), mine);
                    let values = creation_values(&ctx.fields, &x, &ctx.rule, false, &["email"]);
                    upserts.push(Pending {
                        xentral_id: a.id,
                        hubspot_id: None,
                        upsert_key: email,
                        properties: ctx.map.to_hubspot(&values, true),
                        snapshot: Snapshot {
                            x: values.clone(),
                            h: values,
                        },
                        seen: None,
                    });
                }
            }
        }
        let pending: Vec<Pending> = updates.into_iter().chain(upserts).collect();
        let canonical = |r: &Record| ctx.map.from_hubspot(r);
        let check = FreshnessCheck {
            properties: ctx.map.properties(READ_ALSO),
            fields: &ctx.fields,
            canonical: &canonical,
        };
        TARGET.write(s, &pending, &check, outcomes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(statuses: Option<&[&str]>, since_ms: Option<i64>) -> ContactFilter {
        ContactFilter {
            statuses: statuses.map(|s| s.iter().map(|v| (*v).to_owned()).collect()),
            since_ms,
        }
    }

    fn ops(groups: &[Vec<Json>]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|f| {
                        format!(
                            "{} {}",
                            f["propertyName"].as_str().unwrap(),
                            f["operator"].as_str().unwrap()
                        )
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn narrowing_or_keeping_a_filter_includes_nothing_new() {
        let new_only = filter(Some(&["NEW"]), None);
        assert!(new_only.newly_included(&filter(None, None)).is_empty());
        assert!(new_only.newly_included(&new_only).is_empty());
        assert!(
            filter(Some(&["NEW"]), Some(10))
                .newly_included(&filter(Some(&["NEW", "OPEN"]), Some(5)))
                .is_empty()
        );
    }

    #[test]
    fn an_added_lead_status_includes_the_contacts_of_that_status_only() {
        let g = filter(Some(&["NEW", "OPEN"]), None).newly_included(&filter(Some(&["NEW"]), None));
        assert_eq!(ops(&g), [["hs_lead_status IN", "hs_lead_status NOT_IN"]]);
    }

    #[test]
    fn dropping_the_status_filter_includes_contacts_without_a_status_too() {
        let g = filter(None, None).newly_included(&filter(Some(&["NEW"]), None));
        assert_eq!(
            ops(&g),
            [
                vec!["hs_lead_status NOT_IN"],
                vec!["hs_lead_status NOT_HAS_PROPERTY"]
            ]
        );
    }

    #[test]
    fn an_earlier_or_removed_start_time_includes_the_contacts_created_in_between() {
        let g = filter(None, Some(5)).newly_included(&filter(None, Some(10)));
        assert_eq!(ops(&g), [["createdate GTE", "createdate LT"]]);
        let g = filter(None, None).newly_included(&filter(None, Some(10)));
        assert_eq!(ops(&g), [["createdate LT"]]);
    }

    #[test]
    fn filters_combine_by_intersection() {
        let both = filter(Some(&["NEW", "OPEN"]), Some(5)).and(&filter(Some(&["OPEN"]), Some(9)));
        assert_eq!(both, filter(Some(&["OPEN"]), Some(9)));
        assert_eq!(
            filter(None, None).and(&filter(Some(&["NEW"]), None)),
            filter(Some(&["NEW"]), None)
        );
        let none = filter(Some(&["NEW"]), None).and(&filter(Some(&["OPEN"]), None));
        assert_eq!(
            ops(&filter(None, None).newly_included(&none)),
            [Vec::<String>::new()]
        );
    }
}
