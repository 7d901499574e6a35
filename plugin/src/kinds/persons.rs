//! Contact persons (`ansprechpartner`) of synced companies ⇄ HubSpot contacts whose primary
//! company is that company (the contact mode `contact-persons`).
//!
//! They share the contacts' feed and rule (a contact person is a contact in HubSpot): the
//! contacts' sink hands a contact linked to a contact person here, and a new contact of a
//! synced company (see [`crate::kinds::contacts`]). Moving a contact to another synced
//! company in HubSpot moves the contact person; moving a contact person to another company
//! address in xentral makes that company the contact's primary company. The company is kept
//! in the snapshot as the pseudo-field [`COMPANY`] (its HubSpot id), so a move is told from
//! what was synced.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value as Json, json};

use crate::api::{Entity, PlannedChange, PluginError};
use crate::engine::incremental::{self, Flow, PulledUpdate};
use crate::engine::kind::ObjectKind;
use crate::engine::merge::{self, Fields, Snapshot};
use crate::engine::push::{FreshnessCheck, Pending, PushOutcome, Target};
use crate::engine::session::Session;
use crate::hubspot::Record;
use crate::kinds::contacts::{self, KEEP_IN_XENTRAL, creation_values, unwritable_contact};
use crate::mapping::{
    Column, Countries, FieldMap, FieldSpec, FreeFields, OwnerMap, ValueKind, canonical_email,
    cut_fields,
};
use crate::settings::{StoredSettings, read_konfiguration};
use crate::store::state::{self, Link, LinkTable};
use crate::xentral::{self, PERSON_LAST_NAME, PersonRow};

/// `object` in `hubspot_sync_failures`.
const OBJECT: &str = LinkTable::Persons.object();

/// Snapshot pseudo-field: the HubSpot id of the person's company as last synced.
pub const COMPANY: &str = "company";

/// `konfiguration` row: the HubSpot contact property holding the department, when the
/// portal has one (`configure` looks; HubSpot has no such default property).
pub const DEPARTMENT_KEY: &str = "hubspot_contact_department_property";

/// Looks whether the portal has a `department` contact property (HubSpot has no such default
/// property; portals often add one) and records it: a contact person's department
/// (`abteilung`) syncs only where it has somewhere to go. Returns what changed.
pub fn detect_department(
    db: &mut dyn crate::platform::Db,
    client: &mut crate::hubspot::Client<'_>,
) -> Result<Option<String>, PluginError> {
    let version = client.version();
    let found: Result<crate::hubspot::wire::Property, _> = client.get(
        &version.property("contacts", "department"),
        &version.property("contacts", "{name}"),
    );
    let property = match found {
        Ok(_) => "department",
        Err(crate::hubspot::ApiError::Client { status: 404, .. }) => "",
        Err(e) => {
            return Err(incremental::api_error_reading(
                "the contact property department",
                e,
            ));
        }
    };
    let changed = crate::settings::write_konfiguration(db, DEPARTMENT_KEY, property)?;
    Ok(changed.then(|| {
        if property.is_empty() {
            "contact persons' departments stay in xentral: the portal has no contact property 'department'".into()
        } else {
            "contact persons' departments sync with the contact property 'department'".into()
        }
    }))
}

/// HubSpot's association type of a contact's primary company.
pub const PRIMARY_COMPANY: u32 = 1;

/// A contact person's fields: HubSpot contact properties ⇄ `ansprechpartner` columns.
const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        field: "email",
        property: "email",
        column: Column::Fixed("email", 255),
        kind: ValueKind::Email,
    },
    FieldSpec {
        field: "firstname",
        property: "firstname",
        column: Column::Fixed("vorname", 1024),
        kind: ValueKind::Text,
    },
    FieldSpec {
        field: "lastname",
        property: "lastname",
        column: Column::Fixed(PERSON_LAST_NAME, 255),
        kind: ValueKind::Text,
    },
    FieldSpec {
        field: "phone",
        property: "phone",
        column: Column::Fixed("telefon", 255),
        kind: ValueKind::Text,
    },
    FieldSpec {
        field: "mobilephone",
        property: "mobilephone",
        column: Column::Fixed("mobil", 64),
        kind: ValueKind::Text,
    },
    FieldSpec {
        field: "jobtitle",
        property: "jobtitle",
        column: Column::Fixed("bereich", 255),
        kind: ValueKind::Text,
    },
];

/// [`FIELDS`] and the department, for a portal with a `department` contact property.
const FIELDS_WITH_DEPARTMENT: &[FieldSpec] = &[
    FIELDS[0],
    FIELDS[1],
    FIELDS[2],
    FIELDS[3],
    FIELDS[4],
    FIELDS[5],
    FieldSpec {
        field: "department",
        property: "department",
        column: Column::Fixed("abteilung", 255),
        kind: ValueKind::Text,
    },
];

/// Every field a contact person can have (what a rule may name).
pub const ALL_FIELDS: &[FieldSpec] = FIELDS_WITH_DEPARTMENT;

/// How contact persons are written to HubSpot: as contacts, upserted by e-mail.
const TARGET: Target = Target {
    object: "contacts",
    failure_object: OBJECT,
    id_property: "email",
    key: canonical_email,
    links: LinkTable::Persons,
};

/// What a run knows of contact persons: their fields and the synced companies.
pub struct PersonCtx {
    /// The fields and how to read and write them.
    pub map: FieldMap,
    /// The fields synchronised.
    pub fields: Vec<&'static str>,
    /// HubSpot company id → its company address.
    address_of_company: HashMap<String, i64>,
    /// Company address → its HubSpot company id.
    company_of_address: HashMap<i64, String>,
}

impl PersonCtx {
    /// Loads the fields (with the department where the portal has it) and the company links.
    pub fn load(s: &mut Session<'_>, countries: Countries) -> Result<PersonCtx, PluginError> {
        let department = read_konfiguration(s.db, DEPARTMENT_KEY)?.is_some_and(|p| !p.is_empty());
        let specs = if department {
            FIELDS_WITH_DEPARTMENT
        } else {
            FIELDS
        };
        let map = FieldMap::new(specs, FreeFields::default(), countries, OwnerMap::default());
        let companies = state::links_by_xentral_id(s.db, LinkTable::Companies)?;
        Ok(PersonCtx {
            fields: map.fields(),
            map,
            address_of_company: companies
                .values()
                .map(|l| (l.hubspot_id.clone(), l.xentral_id))
                .collect(),
            company_of_address: companies
                .into_values()
                .map(|l| (l.xentral_id, l.hubspot_id))
                .collect(),
        })
    }

    /// The company address of a linked HubSpot company.
    pub fn company_address(&self, hubspot_company: &str) -> Option<i64> {
        self.address_of_company.get(hubspot_company.trim()).copied()
    }

    /// The HubSpot company a company address is linked to.
    pub fn company_of(&self, address: i64) -> Option<&str> {
        self.company_of_address.get(&address).map(String::as_str)
    }

    fn columns(&self) -> Vec<String> {
        self.map.columns()
    }

    fn companies(&self) -> Vec<i64> {
        let mut all: Vec<i64> = self.company_of_address.keys().copied().collect();
        all.sort_unstable();
        all
    }
}

/// The canonical fields of contact person `id` as the database holds them.
fn stored_fields(
    s: &mut Session<'_>,
    p: &PersonCtx,
    id: i64,
) -> Result<Option<Fields>, PluginError> {
    Ok(xentral::persons_by_id(s.db, &p.columns(), &[id])?
        .pop()
        .map(|row| p.map.from_xentral(&row.columns)))
}

/// Merges a pulled contact into the contact person it is linked to (and moves it with its
/// primary company).
pub fn pull_linked(
    s: &mut Session<'_>,
    ctx: &contacts::Ctx,
    link: &Link,
    r: &Record,
) -> Result<(), PluginError> {
    let p = &ctx.persons;
    let row = match xentral::persons_by_id(s.db, &p.columns(), &[link.xentral_id])?.pop() {
        Some(row) if !row.deleted => row,
        Some(_) => {
            s.report
                .xentral
                .exclude("contact person deleted in xentral");
            return Ok(());
        }
        None => {
            s.report
                .xentral
                .exclude("contact person no longer exists in xentral");
            return Ok(());
        }
    };
    apply(s, ctx, &row, Some(&link.snapshot), r, false)
}

/// Links a new contact to the not deleted, not yet linked contact person of `company` with
/// its e-mail, if there is one (what the old module checked before adding one). Returns
/// whether it did.
pub fn link_existing(
    s: &mut Session<'_>,
    ctx: &contacts::Ctx,
    company: i64,
    email: &str,
    r: &Record,
) -> Result<bool, PluginError> {
    if email.is_empty() {
        return Ok(false);
    }
    let p = &ctx.persons;
    let mut found = None;
    for row in xentral::persons_of_companies(s.db, &p.columns(), &[company])? {
        if canonical_email(row.col("email")) == email
            && state::link_by_xentral_id(s.db, LinkTable::Persons, row.id)?.is_none()
        {
            found = Some(row);
            break;
        }
    }
    let Some(row) = found else {
        return Ok(false);
    };
    apply(s, ctx, &row, None, r, true)?;
    Ok(true)
}

/// Merges a contact into a contact person (`snapshot`: the link's, `None` for a first
/// link) and moves it to the company address of the contact's new primary company.
fn apply(
    s: &mut Session<'_>,
    ctx: &contacts::Ctx,
    row: &PersonRow,
    snapshot: Option<&Snapshot>,
    r: &Record,
    newly_linked: bool,
) -> Result<(), PluginError> {
    let p = &ctx.persons;
    let h = p.map.from_hubspot(r);
    let x = p.map.from_xentral(&row.columns);
    let out = merge::merge(&p.fields, &x, &h, snapshot, &ctx.rule, KEEP_IN_XENTRAL);
    let record = format!("contact {} (contact person {})", r.id, row.id);
    let w = p.map.to_xentral(&out.to_xentral);
    s.note_cut(&record, &cut_fields(&out.to_xentral, &w.stored));
    s.note_refused(&record, &w.refused);
    let company = r.prop("associatedcompanyid").trim().to_owned();
    let seen = snapshot
        .and_then(|sn| sn.h.get(COMPANY))
        .cloned()
        .unwrap_or_default();
    let mut moved_to = None;
    if !company.is_empty() && company != seen {
        match p.company_address(&company) {
            Some(address) if address != row.company => moved_to = Some(address),
            Some(_) => {}
            None => s.note_refused(
                &record,
                &[(
                    COMPANY.to_owned(),
                    format!("its primary company {company} is not synced with xentral; the contact person stays with company address {}", row.company),
                )],
            ),
        }
    }
    let mut snapshot = out.snapshot_after_pull(&h, w.stored);
    if !company.is_empty() {
        snapshot.h.insert(COMPANY.into(), company);
    }
    if let Some(hs) = p.company_of(moved_to.unwrap_or(row.company)) {
        snapshot.x.insert(COMPANY.into(), hs.to_owned());
    }
    let columns = w.columns;
    let (id, current) = (row.id, row.clone());
    incremental::finish_update(
        s,
        ctx.rule.winner,
        PulledUpdate {
            links: LinkTable::Persons,
            hubspot_id: &r.id,
            xentral_id: id,
            outcome: &out,
            newly_linked,
            has_columns: !columns.is_empty() || moved_to.is_some(),
        },
        snapshot,
        |s| {
            xentral::update_person(s.db, &current, &columns)?;
            if let Some(company) = moved_to {
                xentral::move_person(s.db, id, company)?;
            }
            Ok(())
        },
        |s| stored_fields(s, p, id),
    )
}

/// Creates a contact person of `company` for a contact new to xentral.
pub fn create(
    s: &mut Session<'_>,
    ctx: &contacts::Ctx,
    company: i64,
    r: &Record,
) -> Result<(), PluginError> {
    let p = &ctx.persons;
    let h = p.map.from_hubspot(r);
    let values = creation_values(&p.fields, &h, &ctx.rule, true, &["email"]);
    let w = p.map.to_xentral(&values);
    let read_back = w.may_change_when_stored();
    let record = format!("contact {} (new contact person)", r.id);
    s.note_cut(&record, &cut_fields(&values, &w.stored));
    s.note_refused(&record, &w.refused);
    let written: Vec<String> = w.stored.keys().cloned().collect();
    let hs_company = r.prop("associatedcompanyid").trim().to_owned();
    let mut snapshot = Snapshot {
        x: w.stored,
        h: values,
    };
    snapshot.h.insert(COMPANY.into(), hs_company.clone());
    snapshot.x.insert(COMPANY.into(), hs_company);
    let columns = w.columns;
    incremental::finish_create(
        s,
        LinkTable::Persons,
        &r.id,
        snapshot,
        &written,
        |s| Ok(xentral::insert_person(s.db, company, &columns)?),
        read_back.then_some(|s: &mut Session<'_>, id| stored_fields(s, p, id)),
    )
}

/// A contact person whose company in xentral is not the contact's company in HubSpot: the
/// contact is to get that company as its primary one.
struct Move {
    person: i64,
    contact: String,
    company: String,
}

/// Pushes contact persons to HubSpot: those of every synced company (reconciliation) or the
/// given ids (queue); then makes each one's company its contact's primary company where that
/// changed. Returns the outcome per contact person id.
pub fn push(
    s: &mut Session<'_>,
    ctx: &contacts::Ctx,
    only: Option<&[i64]>,
) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
    let p = &ctx.persons;
    let mut outcomes = BTreeMap::new();
    let candidates = match only {
        Some(ids) => {
            let rows = xentral::persons_by_id(s.db, &p.columns(), ids)?;
            for id in ids {
                if !rows.iter().any(|r| r.id == *id) {
                    outcomes.insert(
                        *id,
                        PushOutcome::Excluded("contact person does not exist".into()),
                    );
                }
            }
            rows
        }
        None => xentral::persons_of_companies(s.db, &p.columns(), &p.companies())?,
    };
    let ids: Vec<i64> = candidates.iter().map(|r| r.id).collect();
    let links = state::links_by_xentral_ids(s.db, LinkTable::Persons, &ids)?;
    let mut linked_emails = state::linked_emails(s.db)?;
    let failures = state::failures(s.db, OBJECT, "push")?;
    let not_exported = crate::engine::lifecycle::not_exported(s, LinkTable::Persons)?;
    let now = s.clock.now_ms();
    let mut pending = Vec::new();
    let mut moves = Vec::new();
    let mut new_companies: HashMap<i64, String> = HashMap::new();
    for row in candidates {
        let mut exclude = |s: &mut Session<'_>, reason: &str| {
            s.report.hubspot.exclude(reason);
            outcomes.insert(row.id, PushOutcome::Excluded(reason.to_owned()));
        };
        if let Some(reason) = not_exported.get(&row.id) {
            exclude(s, reason);
            continue;
        }
        if row.deleted {
            exclude(s, "contact person deleted");
            continue;
        }
        let Some(company) = p.company_of(row.company).map(str::to_owned) else {
            exclude(s, "its company is not synced with HubSpot");
            continue;
        };
        if let Some(next) = failures.get(&row.id.to_string())
            && *next > now
        {
            s.report.pending = true;
            outcomes.insert(row.id, PushOutcome::Failed(*next));
            continue;
        }
        let x = p.map.from_xentral(&row.columns);
        match links.get(&row.id) {
            Some(link) => {
                let out = merge::merge(
                    &p.fields,
                    &x,
                    &link.snapshot.h,
                    Some(&link.snapshot),
                    &ctx.rule,
                    KEEP_IN_XENTRAL,
                );
                let mut snapshot = out.snapshot;
                for (side, seen) in [
                    (&mut snapshot.h, &link.snapshot.h),
                    (&mut snapshot.x, &link.snapshot.x),
                ] {
                    if let Some(c) = seen.get(COMPANY) {
                        side.insert(COMPANY.into(), c.clone());
                    }
                }
                // Moved to another company address in xentral since the last sync (a move
                // in HubSpot to a company xentral does not have leaves xentral's side as it
                // was, and is not undone here).
                if link.snapshot.x.get(COMPANY) != Some(&company) {
                    moves.push(Move {
                        person: row.id,
                        contact: link.hubspot_id.clone(),
                        company: company.clone(),
                    });
                }
                if out.to_hubspot.is_empty() {
                    s.report.hubspot.unchanged += 1;
                    outcomes.insert(row.id, PushOutcome::Done);
                } else {
                    pending.push(Pending {
                        xentral_id: row.id,
                        hubspot_id: Some(link.hubspot_id.clone()),
                        upsert_key: String::new(),
                        properties: p.map.to_hubspot(&out.to_hubspot, false),
                        snapshot,
                        seen: Some(link.snapshot.h.clone()),
                    });
                }
            }
            None => {
                let email = x.get("email").cloned().unwrap_or_default();
                let mine = (LinkTable::Persons, row.id);
                if let Some(reason) = unwritable_contact(&ctx.rule, &email, mine, &linked_emails) {
                    exclude(s, reason);
                    continue;
                }
                linked_emails.insert(email.clone(), mine);
                new_companies.insert(row.id, company);
                let values = creation_values(&p.fields, &x, &ctx.rule, false, &["email"]);
                pending.push(Pending {
                    xentral_id: row.id,
                    hubspot_id: None,
                    upsert_key: email,
                    properties: p.map.to_hubspot(&values, true),
                    snapshot: Snapshot {
                        x: values.clone(),
                        h: values,
                    },
                    seen: None,
                });
            }
        }
    }
    let canonical = |r: &Record| p.map.from_hubspot(r);
    let check = FreshnessCheck {
        properties: p.map.properties(&[]),
        fields: &p.fields,
        canonical: &canonical,
    };
    let written = TARGET.write(s, &pending, &check, &mut outcomes)?;
    for w in written.iter().filter(|w| w.pending.hubspot_id.is_none()) {
        if let Some(company) = new_companies.get(&w.pending.xentral_id) {
            moves.push(Move {
                person: w.pending.xentral_id,
                contact: w.record.id.clone(),
                company: company.clone(),
            });
        }
    }
    // A contact person whose write did not go through is moved by a later run.
    moves.retain(|m| matches!(outcomes.get(&m.person), Some(PushOutcome::Done)));
    associate(s, &moves)?;
    Ok(outcomes)
}

/// Makes each moved or new contact person's company its contact's primary company, a
/// hundred associations per request, and records the company in the link's snapshot (a
/// failed request is retried by the next run: the snapshot still names the old company).
fn associate(s: &mut Session<'_>, moves: &[Move]) -> Result<(), PluginError> {
    for m in moves {
        s.plan(PlannedChange {
            object: OBJECT.into(),
            in_xentral: false,
            kind: "update",
            xentral_id: Some(m.person),
            hubspot_id: Some(m.contact.clone()),
            fields: vec![COMPANY.into()],
            reason: format!("primary company {}", m.company),
        });
    }
    if s.dry_run {
        return Ok(());
    }
    for chunk in moves.chunks(100) {
        let inputs: Vec<Json> = chunk
            .iter()
            .map(|m| {
                json!({
                    "from": { "id": m.contact },
                    "to": { "id": m.company },
                    "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": PRIMARY_COMPANY }],
                })
            })
            .collect();
        let path = s
            .client
            .version()
            .associations("contacts", "companies", "create");
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
                    "could not make companies their contacts' primary company",
                    &[("error", &e.to_string())],
                );
                s.report.pending = true;
                continue;
            }
        }
        let now = s.clock.now_ms();
        s.transaction(|s| {
            for m in chunk {
                if let Some(mut link) =
                    state::link_by_hubspot_id(s.db, LinkTable::Persons, &m.contact)?
                {
                    link.snapshot.h.insert(COMPANY.into(), m.company.clone());
                    link.snapshot.x.insert(COMPANY.into(), m.company.clone());
                    state::save_link(s.db, LinkTable::Persons, &link, now)?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Contact persons, as the queue exports them (they are pulled with the contacts: one
/// HubSpot object, one feed).
pub struct ContactPersons;

impl ObjectKind for ContactPersons {
    const ENTITY: Entity = Entity::ContactPerson;
    const SWITCHED_OFF: &'static str = "contacts are switched off";
    type Ctx = contacts::Ctx;

    fn switched_on(settings: &StoredSettings) -> bool {
        settings.hs_sync_addresses
    }

    fn load(s: &mut Session<'_>) -> Result<contacts::Ctx, PluginError> {
        contacts::Ctx::load(s)
    }

    /// Ended with the contacts (see [`contacts::Contacts`]).
    fn endings(_: &contacts::Ctx) -> Vec<crate::engine::lifecycle::Ending<'_>> {
        Vec::new()
    }

    /// Nothing of its own: the contacts' pull applies contact persons.
    fn pull(_: &mut Session<'_>, _: &contacts::Ctx) -> Result<Flow, PluginError> {
        Ok(Flow::Continue)
    }

    fn push(
        s: &mut Session<'_>,
        ctx: &contacts::Ctx,
        only: Option<&[i64]>,
    ) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
        push(s, ctx, only)
    }
}
