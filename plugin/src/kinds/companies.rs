//! Companies ⇄ company addresses (`adresse` with `typ = 'firma'`): the pull (incremental by
//! `hs_lastmodifieddate`) and the push (batch upsert by the unique company property
//! `xentral_id`, so a retried create never makes a second company), both merging three-way.
//!
//! A company new to one side is matched first by its normalised domain, HubSpot's own dedupe
//! key ([`canonical_domain`]), never by its name alone: a HubSpot company meets an unlinked
//! xentral company address with that domain, a new xentral company is looked for in HubSpot by
//! its domain before it is created. Several candidates with one domain are left for the user
//! (reported), never guessed between. Companies take part as contacts do: in the contact group,
//! within the start time and lead-status filter.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value as Json, json};

use crate::api::{Entity, PluginError};
use crate::engine::incremental::{self, Feed, Flow, PrepareError, PulledUpdate, Sink};
use crate::engine::kind::ObjectKind;
use crate::engine::lifecycle::{self, Ending};
use crate::engine::merge::{self, Fields, Outcome, Snapshot};
use crate::engine::push::{self, FreshnessCheck, Pending, PushOutcome, Target};
use crate::engine::rules::SyncRule;
use crate::engine::session::Session;
use crate::hubspot::{ApiError, Record};
use crate::kinds::contacts::{ContactFilter, creation_values};
use crate::kinds::unique;
use crate::mapping::{
    Column, Countries, FieldMap, FieldSpec, ValueKind, address_fields, canonical_domain,
    cut_fields, parse_instant_ms,
};
use crate::settings::StoredSettings;
use crate::store::state::{self, LinkTable};
use crate::xentral::{self, AddressRow, CompanyDomains};

/// The cursor's name.
const CURSOR: &str = "companies";
/// `object` in `hubspot_sync_failures`.
const OBJECT: &str = LinkTable::Companies.object();

/// A company's fields: HubSpot company properties ⇄ a company address's columns.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        field: "name",
        property: "name",
        column: Column::Fixed("name", 255),
        kind: ValueKind::Text,
    },
    FieldSpec {
        field: "website",
        property: "website",
        column: Column::Fixed("internetseite", 1000),
        kind: ValueKind::Website,
    },
    address_fields::PHONE,
    address_fields::STREET,
    address_fields::ZIP,
    address_fields::CITY,
    address_fields::COUNTRY,
    address_fields::STATE,
    address_fields::LEAD_STATUS,
    address_fields::LIFECYCLE_STAGE,
    address_fields::OWNER,
];

/// Properties read besides the fields.
const READ_ALSO: &[&str] = &[
    "createdate",
    "hs_lastmodifieddate",
    "hs_object_id",
    lifecycle::MERGED_IDS,
    unique::PROPERTY,
];

/// How companies are written to HubSpot.
const TARGET: Target = Target {
    object: "companies",
    failure_object: OBJECT,
    id_property: unique::PROPERTY,
    key: |v| v.trim().to_owned(),
    links: LinkTable::Companies,
};

/// What one company run needs.
pub struct Ctx {
    group_id: i64,
    map: FieldMap,
    fields: Vec<&'static str>,
    filter: ContactFilter,
    today: String,
    rule: SyncRule,
    /// Whether the unique property exists (else companies are imported, never exported).
    unique: bool,
}

impl Ctx {
    fn load(s: &mut Session<'_>) -> Result<Ctx, PluginError> {
        let group = s.settings.hs_contact_grp.clone();
        let group_id = xentral::group_id(s.db, &group)?.ok_or_else(|| {
            PluginError::NotConfigured(format!(
                "the contact group '{group}' does not exist; save the HubSpot settings again to create it"
            ))
        })?;
        let ff = crate::kinds::freefields::configured(s.db)?;
        let countries = Countries::load(s.db)?;
        let owners = crate::kinds::owners::load(s)?;
        let map = FieldMap::new(FIELDS, ff, countries, owners);
        Ok(Ctx {
            group_id,
            fields: map.fields(),
            map,
            filter: ContactFilter::of(&s.settings),
            today: xentral::local_date(s.clock.now_ms(), crate::platform::time_zone(s.clock)?),
            rule: s.settings.hs_company_rule.clone(),
            unique: unique::usable(s.db, "companies")?,
        })
    }

    fn columns(&self) -> Vec<String> {
        self.map.columns()
    }

    /// Why a pulled company is left out (the contacts' start time and lead statuses).
    fn excludes(&self, r: &Record) -> Option<&'static str> {
        if let Some(since) = self.filter.since_ms {
            let created = parse_instant_ms(r.prop("createdate")).unwrap_or(i64::MIN);
            if created < since {
                return Some("created before the start time");
            }
        }
        if let Some(statuses) = &self.filter.statuses
            && !statuses.contains(r.prop("hs_lead_status"))
        {
            return Some("lead status not selected");
        }
        None
    }
}

/// Companies ⇄ company addresses, as the engine syncs them.
pub struct Companies;

impl ObjectKind for Companies {
    const ENTITY: Entity = Entity::Address;
    const SWITCHED_OFF: &'static str = "companies are switched off";
    type Ctx = Ctx;

    fn switched_on(settings: &StoredSettings) -> bool {
        settings.hs_sync_companies
    }

    fn load(s: &mut Session<'_>) -> Result<Ctx, PluginError> {
        Ctx::load(s)
    }

    fn endings(ctx: &Ctx) -> Vec<Ending<'_>> {
        vec![Ending {
            table: LinkTable::Companies,
            object: "companies",
            rule: &ctx.rule,
        }]
    }

    fn pull(s: &mut Session<'_>, ctx: &Ctx) -> Result<Flow, PluginError> {
        let feed = Feed {
            object: "companies",
            failure_object: OBJECT,
            modified_property: "hs_lastmodifieddate",
            properties: ctx.map.properties(READ_ALSO),
            cursor: CURSOR,
        };
        let mut sink = CompanySink {
            ctx,
            domains: None,
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

/// Applies pulled companies to xentral.
struct CompanySink<'c> {
    ctx: &'c Ctx,
    /// xentral's company addresses by domain, read when the first company needs matching.
    domains: Option<CompanyDomains>,
    /// The links of the page's companies, read in one query; each taken once.
    links: HashMap<String, Option<state::Link>>,
    /// The page's companies whose link ended because their company address was deleted in
    /// xentral: never given a new one.
    deleted: HashSet<String>,
}

impl CompanySink<'_> {
    fn domains(&mut self, s: &mut Session<'_>) -> Result<&mut CompanyDomains, PluginError> {
        if self.domains.is_none() {
            self.domains = Some(CompanyDomains::load(s.db)?);
        }
        Ok(self.domains.as_mut().expect("loaded above"))
    }
}

impl Sink for CompanySink<'_> {
    fn prepare(&mut self, s: &mut Session<'_>, records: &[Record]) -> Result<(), PrepareError> {
        self.links.clear();
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let mut linked = state::links_by_hubspot_ids(s.db, LinkTable::Companies, &ids)?;
        for r in records {
            let link = linked.remove(&r.id);
            self.links.insert(r.id.clone(), link);
        }
        self.deleted = lifecycle::prepare_page(s, LinkTable::Companies, records, &mut self.links)?;
        Ok(())
    }

    fn apply(&mut self, s: &mut Session<'_>, r: &Record) -> Result<(), PluginError> {
        let ctx = self.ctx;
        if let Some(reason) = ctx.excludes(r) {
            s.report.xentral.exclude(reason);
            return Ok(());
        }
        let h = ctx.map.from_hubspot(r);
        let link = match self.links.remove(&r.id) {
            Some(link) => link,
            None => state::link_by_hubspot_id(s.db, LinkTable::Companies, &r.id)?,
        };
        if link.is_none() && self.deleted.contains(&r.id) {
            s.report
                .xentral
                .exclude("company address deleted in xentral");
            return Ok(());
        }
        if let Some(link) = link {
            return match xentral::addresses_by_id(s.db, &ctx.columns(), &[link.xentral_id])?.pop() {
                Some(row) if !row.deleted => {
                    let x = ctx.map.from_xentral(&row.columns);
                    let out =
                        merge::merge(&ctx.fields, &x, &h, Some(&link.snapshot), &ctx.rule, &[]);
                    apply_merge(s, ctx, &row, &h, out, &r.id, false)
                }
                Some(_) => {
                    s.report
                        .xentral
                        .exclude("company address deleted in xentral");
                    Ok(())
                }
                None => {
                    s.report
                        .xentral
                        .exclude("company address no longer exists in xentral");
                    Ok(())
                }
            };
        }
        // A company this plugin created whose reply was lost: adopt it, never import a copy.
        let ours = r
            .prop(unique::PROPERTY)
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|_| ctx.unique);
        if let Some(id) = ours
            && state::link_by_xentral_id(s.db, LinkTable::Companies, id)?.is_none()
            && let Some(row) = xentral::addresses_by_id(s.db, &ctx.columns(), &[id])?
                .pop()
                .filter(|a| !a.deleted && a.is_company())
        {
            return link_first(s, ctx, &row, &h, &r.id);
        }
        let domain = canonical_domain(h.get("website").map_or("", String::as_str));
        if !domain.is_empty() {
            let candidates = self.domains(s)?.get(&domain).to_vec();
            // Two statements however many addresses share the domain.
            let mut linked = HashSet::new();
            if !candidates.is_empty() {
                for table in [LinkTable::Companies, LinkTable::Contacts] {
                    linked.extend(state::linked_xentral_ids(s.db, table, &candidates)?);
                }
            }
            let unlinked: Vec<i64> = candidates
                .into_iter()
                .filter(|id| !linked.contains(id))
                .collect();
            match unlinked.as_slice() {
                [] => {}
                [id] => {
                    let row = xentral::addresses_by_id(s.db, &ctx.columns(), &[*id])?
                        .pop()
                        .ok_or_else(|| PluginError::Database(format!("address {id} vanished")))?;
                    return link_first(s, ctx, &row, &h, &r.id);
                }
                _ => {
                    s.report.xentral.exclude(
                        "domain matches several xentral company addresses (link one by hand: give the others another web site)",
                    );
                    return Ok(());
                }
            }
        }
        if !ctx.rule.creates_in_xentral() {
            s.report.xentral.exclude(
                "companies sync to HubSpot only: new companies are not created in xentral",
            );
            return Ok(());
        }
        create(s, ctx, self, &h, &r.id)
    }

    fn rolled_back(&mut self) {
        self.domains = None;
        self.links.clear();
    }
}

/// Links a HubSpot company to a xentral company address met for the first time (by domain,
/// or by the unique property), merging both sides, and puts the address in the group.
fn link_first(
    s: &mut Session<'_>,
    ctx: &Ctx,
    row: &AddressRow,
    h: &Fields,
    hubspot_id: &str,
) -> Result<(), PluginError> {
    let x = ctx.map.from_xentral(&row.columns);
    let out = merge::merge(&ctx.fields, &x, h, None, &ctx.rule, &[]);
    if !s.dry_run && !xentral::is_group_member(s.db, row.id, ctx.group_id, &ctx.today)? {
        xentral::add_to_group(s.db, row.id, ctx.group_id, &ctx.today)?;
    }
    apply_merge(s, ctx, row, h, out, hubspot_id, true)
}

/// Writes a merge outcome to the company address and stores the link.
fn apply_merge(
    s: &mut Session<'_>,
    ctx: &Ctx,
    row: &AddressRow,
    h: &Fields,
    out: Outcome,
    hubspot_id: &str,
    newly_linked: bool,
) -> Result<(), PluginError> {
    let w = ctx.map.to_xentral(&out.to_xentral);
    let record = format!("company {hubspot_id} (address {})", row.id);
    s.note_cut(&record, &cut_fields(&out.to_xentral, &w.stored));
    s.note_refused(&record, &w.refused);
    let snapshot = out.snapshot_after_pull(h, w.stored);
    let columns = w.columns;
    let id = row.id;
    incremental::finish_update(
        s,
        ctx.rule.winner,
        PulledUpdate {
            links: LinkTable::Companies,
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

fn stored_fields(s: &mut Session<'_>, ctx: &Ctx, id: i64) -> Result<Option<Fields>, PluginError> {
    Ok(xentral::addresses_by_id(s.db, &ctx.columns(), &[id])?
        .pop()
        .map(|row| ctx.map.from_xentral(&row.columns)))
}

/// Creates a company address in the group for a company new to xentral.
fn create(
    s: &mut Session<'_>,
    ctx: &Ctx,
    sink: &mut CompanySink<'_>,
    h: &Fields,
    hubspot_id: &str,
) -> Result<(), PluginError> {
    let values = creation_values(&ctx.fields, h, &ctx.rule, true, &["name"]);
    let w = ctx.map.to_xentral(&values);
    let read_back = w.may_change_when_stored();
    let record = format!("company {hubspot_id} (new company address)");
    s.note_cut(&record, &cut_fields(&values, &w.stored));
    s.note_refused(&record, &w.refused);
    let mut columns = w.columns;
    if !values.contains_key("name") {
        // xentral requires a name; HubSpot does not.
        columns.push(("name".into(), format!("HubSpot company {hubspot_id}")));
    }
    let written: Vec<String> = w.stored.keys().cloned().collect();
    let website = values.get("website").cloned().unwrap_or_default();
    let snapshot = Snapshot {
        x: w.stored,
        h: values,
    };
    incremental::finish_create(
        s,
        LinkTable::Companies,
        hubspot_id,
        snapshot,
        &written,
        |s| {
            let id = xentral::insert_lead_address(s.db, &columns, true)?;
            xentral::add_to_group(s.db, id, ctx.group_id, &ctx.today)?;
            sink.domains(s)?.insert(&website, id);
            Ok(id)
        },
        read_back.then_some(|s: &mut Session<'_>, id| stored_fields(s, ctx, id)),
    )
}

/// The group's company addresses not linked as contacts, read a page of the group at a time
/// (a group of 100,000 persons is never in memory whole for its few companies).
fn group_companies(s: &mut Session<'_>, ctx: &Ctx) -> Result<Vec<AddressRow>, PluginError> {
    let mut out = Vec::new();
    push::group_in_pages(s, &ctx.columns(), ctx.group_id, &ctx.today, |s, page| {
        let companies: Vec<AddressRow> = page.into_iter().filter(|a| a.is_company()).collect();
        let ids: Vec<i64> = companies.iter().map(|a| a.id).collect();
        let as_contacts = state::linked_xentral_ids(s.db, LinkTable::Contacts, &ids)?;
        out.extend(
            companies
                .into_iter()
                .filter(|a| !as_contacts.contains(&a.id)),
        );
        Ok(())
    })?;
    Ok(out)
}

/// Pushes company addresses to HubSpot: the group's company addresses not linked as contacts
/// (reconciliation) or the given ids (queue). Returns the outcome per address id.
pub fn push(
    s: &mut Session<'_>,
    ctx: &Ctx,
    only: Option<&[i64]>,
) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
    let mut outcomes = BTreeMap::new();
    let candidates: Vec<AddressRow> = match only {
        None => group_companies(s, ctx)?,
        Some(ids) => {
            let rows = xentral::addresses_by_id(s.db, &ctx.columns(), ids)?;
            for id in ids {
                if !rows.iter().any(|a| a.id == *id) {
                    outcomes.insert(*id, PushOutcome::Excluded("address does not exist".into()));
                }
            }
            rows
        }
    };
    let ids: Vec<i64> = candidates.iter().map(|a| a.id).collect();
    let links = state::links_by_xentral_ids(s.db, LinkTable::Companies, &ids)?;
    let failures = state::failures(s.db, OBJECT, "push")?;
    let not_exported = lifecycle::not_exported(s, LinkTable::Companies)?;
    let now = s.clock.now_ms();
    let mut updates = Vec::new();
    let mut new: Vec<(AddressRow, Fields)> = Vec::new();
    for a in candidates {
        let mut exclude = |s: &mut Session<'_>, reason: &str| {
            s.report.hubspot.exclude(reason);
            outcomes.insert(a.id, PushOutcome::Excluded(reason.to_owned()));
        };
        if let Some(reason) = not_exported.get(&a.id) {
            exclude(s, reason);
            continue;
        }
        if only.is_some() {
            if a.deleted {
                exclude(s, "address deleted");
                continue;
            }
            if !xentral::is_group_member(s.db, a.id, ctx.group_id, &ctx.today)? {
                exclude(s, "not in the contact group");
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
        let x = ctx.map.from_xentral(&a.columns);
        if let Some(statuses) = &ctx.filter.statuses
            && !statuses.contains(x.get("lead_status").map_or("", String::as_str))
        {
            exclude(s, "lead status not selected");
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
                    &[],
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
            None if !ctx.unique => {
                exclude(
                    s,
                    "company export needs the crm.schemas.companies.write scope",
                );
            }
            None if !ctx.rule.creates_in_hubspot() => {
                exclude(
                    s,
                    "companies sync to xentral only: new company addresses are not created in HubSpot",
                );
            }
            None if !x.contains_key("name") => exclude(s, "company address without a name"),
            None => new.push((a, x)),
        }
    }
    let (matched, upserts) = match_by_domain(s, ctx, new, &mut outcomes)?;
    let pending: Vec<Pending> = updates.into_iter().chain(matched).chain(upserts).collect();
    let canonical = |r: &Record| ctx.map.from_hubspot(r);
    let check = FreshnessCheck {
        properties: ctx.map.properties(READ_ALSO),
        fields: &ctx.fields,
        canonical: &canonical,
    };
    TARGET.write(s, &pending, &check, &mut outcomes)?;
    Ok(outcomes)
}

/// HubSpot companies per search page of a domain lookup.
const DOMAIN_PAGE: usize = 100;

/// Looks the new companies' domains up in HubSpot (one search per hundred domains) before
/// any is created: a company HubSpot has with that domain, not linked to another address, is
/// linked and merged (an update, as a first link); several with one domain are left for the
/// user; the rest are upserted by `xentral_id`. Returns (first links, upserts).
fn match_by_domain(
    s: &mut Session<'_>,
    ctx: &Ctx,
    new: Vec<(AddressRow, Fields)>,
    outcomes: &mut BTreeMap<i64, PushOutcome>,
) -> Result<(Vec<Pending>, Vec<Pending>), PluginError> {
    let domains: Vec<String> = new
        .iter()
        .map(|(_, x)| canonical_domain(x.get("website").map_or("", String::as_str)))
        .filter(|d| !d.is_empty())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut by_domain: HashMap<String, Vec<Record>> = HashMap::new();
    let mut searched = true;
    for chunk in domains.chunks(DOMAIN_PAGE) {
        match companies_with_domains(s, ctx, chunk) {
            Ok(found) => {
                for r in found {
                    let d = canonical_domain(r.prop("domain"));
                    by_domain.entry(d).or_default().push(r);
                }
            }
            Err(e) if e.stops_job() => {
                s.stop_early(&e);
                searched = false;
                break;
            }
            Err(e) => return Err(incremental::api_error_reading("companies by domain", e)),
        }
    }
    let linked: HashSet<String> = state::links_page(s.db, LinkTable::Companies, 0, u32::MAX)?
        .into_iter()
        .map(|(hubspot_id, _)| hubspot_id)
        .collect();
    let mut sharing: HashMap<String, usize> = HashMap::new();
    for (_, x) in &new {
        *sharing
            .entry(canonical_domain(
                x.get("website").map_or("", String::as_str),
            ))
            .or_default() += 1;
    }
    let (mut matched, mut upserts) = (Vec::new(), Vec::new());
    for (a, x) in new {
        let domain = canonical_domain(x.get("website").map_or("", String::as_str));
        if !searched && !domain.is_empty() {
            // Not looked up: not created either (it might exist in HubSpot).
            outcomes.insert(a.id, PushOutcome::NotAttempted);
            continue;
        }
        let free: Vec<&Record> = by_domain
            .get(&domain)
            .map(|rs| rs.iter().filter(|r| !linked.contains(&r.id)).collect())
            .unwrap_or_default();
        match free.as_slice() {
            [_] if sharing.get(&domain).copied().unwrap_or(0) > 1 => {
                let reason = "domain matches several xentral company addresses (link one by hand: give the others another web site)";
                s.report.hubspot.exclude(reason);
                outcomes.insert(a.id, PushOutcome::Excluded(reason.into()));
            }
            [r] => {
                let h = ctx.map.from_hubspot(r);
                let out = merge::merge(&ctx.fields, &x, &h, None, &ctx.rule, &[]);
                if !out.conflicts.is_empty() {
                    s.conflict(ctx.rule.winner, OBJECT, &r.id, a.id, &out.conflicts)?;
                }
                let mut properties = ctx.map.to_hubspot(&out.to_hubspot, false);
                properties.insert(unique::PROPERTY.into(), Json::String(a.id.to_string()));
                matched.push(Pending {
                    xentral_id: a.id,
                    hubspot_id: Some(r.id.clone()),
                    upsert_key: String::new(),
                    properties,
                    snapshot: out.snapshot_after_push(&x),
                    seen: Some(h),
                });
            }
            [] => {
                let values = creation_values(&ctx.fields, &x, &ctx.rule, false, &["name"]);
                let mut properties = ctx.map.to_hubspot(&values, true);
                properties.insert(unique::PROPERTY.into(), Json::String(a.id.to_string()));
                upserts.push(Pending {
                    xentral_id: a.id,
                    hubspot_id: None,
                    upsert_key: a.id.to_string(),
                    properties,
                    snapshot: Snapshot {
                        x: values.clone(),
                        h: values,
                    },
                    seen: None,
                });
            }
            _ => {
                let reason = "domain matches several HubSpot companies (merge them in HubSpot, or give the address another web site)";
                s.report.hubspot.exclude(reason);
                outcomes.insert(a.id, PushOutcome::Excluded(reason.into()));
            }
        }
    }
    Ok((matched, upserts))
}

/// Every HubSpot company with one of `domains`, page by page.
fn companies_with_domains(
    s: &mut Session<'_>,
    ctx: &Ctx,
    domains: &[String],
) -> Result<Vec<Record>, ApiError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut body = json!({
            "filterGroups": [{ "filters": [{ "propertyName": "domain", "operator": "IN", "values": domains }] }],
            "properties": ctx.map.properties(READ_ALSO),
            "limit": DOMAIN_PAGE,
        });
        if let Some(a) = &after {
            body["after"] = Json::String(a.clone());
        }
        let page = s.client.search("companies", &body)?;
        out.extend(page.results);
        match page.next_after {
            Some(a) => after = Some(a),
            None => return Ok(out),
        }
    }
}
