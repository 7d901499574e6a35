//! The plugin's four exported operations, written against [`Platform`] only.

use serde_json::Value as Json;

use crate::api::{
    Budget, ConfigureReport, Entity, Job, JobReport, MetadataReport, PluginError, Settings,
};
use crate::engine::incremental::Flow;
use crate::engine::session::Session;
use crate::engine::{kind, queue};
use crate::hubspot::{ApiError, Client, wire};
use crate::kinds::{companies, contacts, deals, freefields, persons, stages, unique};
use crate::platform::{Level, Platform};
use crate::store::{state, takeover};
use crate::{settings, xentral};

/// The message xentral users know from the old module.
pub const CONFIGURED_MESSAGE: &str = "Api key for Hubspot has been updated.";

/// Maps a failure of the credential check to the error the user sees.
fn credential_error(e: ApiError) -> PluginError {
    match e {
        ApiError::Unauthorized(detail) => PluginError::Unauthorized(format!(
            "HubSpot rejected the access token ({detail}); create a private-app access token in HubSpot (Settings → Integrations → Private Apps) and save it again"
        )),
        ApiError::MissingScopes(detail) => PluginError::Unauthorized(format!(
            "the access token lacks a scope HubSpot requires ({detail}); grant crm.objects.contacts.read/write, crm.objects.companies.read/write, crm.objects.deals.read/write, crm.objects.owners.read, crm.schemas.companies.write and crm.schemas.deals.write"
        )),
        ApiError::Transport(t) => PluginError::Hubspot(format!(
            "could not reach HubSpot at the configured URL to check the access token: {t}"
        )),
        other => PluginError::Hubspot(format!("could not check the access token: {other}")),
    }
}

/// Reads the options of an enumeration property of contacts: (value, label) in display order.
fn property_options(
    client: &mut Client<'_>,
    property: &str,
) -> Result<Vec<(String, String)>, PluginError> {
    let version = client.version();
    let definition: wire::Property = client
        .get(
            &version.property("contacts", property),
            &version.property("contacts", "{name}"),
        )
        .map_err(|e| crate::engine::incremental::api_error_reading(property, e))?;
    let options = definition
        .options
        .ok_or_else(|| PluginError::Hubspot(format!("{property} has no options list")))?;
    Ok(options
        .into_iter()
        .filter(|o| !o.hidden && !o.value.is_empty())
        .map(|o| {
            let label = if o.label.is_empty() {
                o.value.clone()
            } else {
                o.label
            };
            (o.value, label)
        })
        .collect())
}

/// Stores lead-status and lifecycle options, and writes them into the free fields.
fn store_options(
    db: &mut dyn crate::platform::Db,
    client: &mut Client<'_>,
) -> Result<(MetadataReport, freefields::Setup), PluginError> {
    let mut report = MetadataReport::default();
    let mut lists = Vec::new();
    for (property, kind) in [
        ("hs_lead_status", "lead_status"),
        ("lifecyclestage", "lifecycle_stage"),
    ] {
        let options = property_options(client, property)?;
        for (i, (value, label)) in options.iter().enumerate() {
            if xentral::upsert_option(db, kind, "", value, label, i as i64)? {
                report.changes.push(format!("{kind} {value} ({label})"));
            }
        }
        lists.push(options.into_iter().map(|(v, _)| v).collect::<Vec<_>>());
    }
    report.lead_statuses = lists[0].len() as u32;
    report.lifecycle_stages = lists[1].len() as u32;
    let setup = freefields::ensure(db, &lists[0], &lists[1])?;
    report.changes.extend(setup.changes.iter().cloned());
    Ok((report, setup))
}

/// On a change of the contact group: the addresses already linked in the old group become
/// members of the new one too, so they keep syncing both ways (the old membership is left as
/// xentral users made it). Returns what it did.
fn carry_over_group(
    p: &mut Platform<'_>,
    old_group: i64,
    new_group: i64,
    old_name: &str,
    new_name: &str,
) -> Result<Option<String>, PluginError> {
    let today = xentral::local_date(p.clock.now_ms(), crate::platform::time_zone(p.clock)?);
    let mut added = 0;
    for id in xentral::linked_members(p.db, old_group, &today)? {
        if !xentral::is_group_member(p.db, id, new_group, &today)? {
            xentral::add_to_group(p.db, id, new_group, &today)?;
            added += 1;
        }
    }
    Ok((added > 0).then(|| {
        format!(
            "the contact group is now '{new_name}': its {added} linked address(es) from '{old_name}' were added to it and keep syncing both ways; their membership of '{old_name}' is left as it is"
        )
    }))
}

/// Applies settings: checks the credential, migrates the plugin's tables, stores the settings,
/// and creates what xentral needs. Idempotent; a rejected token changes nothing.
pub fn configure(p: &mut Platform<'_>, s: Settings) -> Result<ConfigureReport, PluginError> {
    let version = settings::validate(&s)?;
    if !p.secrets.exists(&s.credential) {
        return Err(PluginError::NotConfigured(format!(
            "the host holds no credential named '{}'; pass --token to `xentral-host settings`",
            s.credential
        )));
    }
    let mut client = Client::new(
        &mut *p.http,
        p.clock,
        p.log,
        &s.hubspot_url,
        &s.credential,
        version,
        Budget::default(),
    );
    let contacts = client.version().objects("contacts");
    client
        .get::<Json>(&format!("{contacts}?limit=1"), &contacts)
        .map_err(credential_error)?;
    let lead_statuses = property_options(&mut client, "hs_lead_status")?;
    if let Some(unknown) = s
        .lead_statuses
        .iter()
        .find(|v| !lead_statuses.iter().any(|(o, _)| o == *v))
    {
        return Err(PluginError::InvalidSettings(format!(
            "'{unknown}' is not a lead status of this HubSpot portal; choose from {}",
            lead_statuses
                .iter()
                .map(|(v, _)| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }

    let mut changes = Vec::new();
    for v in state::migrate(p.db)? {
        changes.push(format!("created the plugin's tables (schema version {v})"));
    }
    if let Some(t) = takeover::take_over(p.db, p.clock.now_ms())? {
        changes.push(format!(
            "took over {} contact, {} company and {} deal links from the old HubSpot module ({} of its rows point at deleted or already linked records; its tables are left untouched)",
            t.contacts, t.companies, t.deals, t.skipped
        ));
    }
    let previous = settings::load(p.db).ok();
    let next = settings::StoredSettings::new(&s, version);
    if settings::store(p.db, &next)? {
        changes.push("stored the settings".into());
    }
    match previous.as_ref().map(|p| p.hs_api_version) {
        Some(before) if before == version => {}
        Some(before) => changes.push(format!(
            "calls HubSpot's API version {version} (was {before})"
        )),
        None => changes.push(format!("calls HubSpot's API version {version}")),
    }
    for (kinds, before, after) in [
        (
            "contacts",
            previous.as_ref().map(|p| &p.hs_contact_rule),
            &next.hs_contact_rule,
        ),
        (
            "companies",
            previous.as_ref().map(|p| &p.hs_company_rule),
            &next.hs_company_rule,
        ),
        (
            "deals",
            previous.as_ref().map(|p| &p.hs_deal_rule),
            &next.hs_deal_rule,
        ),
    ] {
        match before {
            Some(before) if before == after => {}
            Some(before) => changes.push(format!(
                "{} (was: {})",
                after.describe(kinds),
                before.describe(kinds)
            )),
            None => changes.push(after.describe(kinds)),
        }
    }
    let companies_before = previous
        .as_ref()
        .map(|p| (p.hs_sync_companies, p.hs_contact_mode));
    if companies_before != Some((next.hs_sync_companies, next.hs_contact_mode)) {
        changes.push(match (next.hs_sync_companies, next.hs_contact_mode) {
            (false, _) => "companies are not synchronised".into(),
            (true, crate::api::ContactMode::ContactPersons) => "companies ⇄ company addresses; a new contact of a synced company becomes its contact person (contacts already linked to an address stay addresses)".into(),
            (true, crate::api::ContactMode::Addresses) => "companies ⇄ company addresses; every new contact becomes an address of its own (contact persons already linked stay contact persons)".into(),
        });
    }
    if let Some(previous) = &previous {
        changes.extend(contacts::plan_backfill(
            p.db,
            previous,
            &next,
            p.clock.now_ms(),
        )?);
    }
    let (group_id, created) = xentral::ensure_group(p.db, &s.group)?;
    if created {
        changes.push(format!(
            "created the contact group '{}' (id {group_id})",
            s.group
        ));
    }
    if let Some(previous) = &previous
        && previous.hs_contact_grp != s.group
        && let Some(old_group) = xentral::group_id(p.db, &previous.hs_contact_grp)?
    {
        changes.extend(carry_over_group(
            p,
            old_group,
            group_id,
            &previous.hs_contact_grp,
            &s.group,
        )?);
    }
    for starter in &xentral::STARTERS {
        if xentral::ensure_starter(p.db, starter)? {
            changes.push(format!("created the process starter '{}'", starter.name));
        }
    }
    let mut client = Client::new(
        &mut *p.http,
        p.clock,
        p.log,
        &s.hubspot_url,
        &s.credential,
        version,
        Budget::default(),
    );
    let (metadata, setup) = store_options(&mut *p.db, &mut client)?;
    changes.extend(setup.changes);
    let mut warnings = setup.warnings;
    warnings.extend(settings::future_start_warning(&s, p.clock.now_ms()));
    if s.companies {
        if let Some(w) = unique::ensure(p.db, &mut client, "companies")? {
            warnings.push(w);
        }
        changes.extend(persons::detect_department(p.db, &mut client)?);
    }
    if s.deals {
        if let Some(w) = unique::ensure(p.db, &mut client, "deals")? {
            warnings.push(w);
        }
        let pipelines = stages::read_pipelines(&mut client)?;
        changes.extend(stages::sync_metadata(p.db, &pipelines, s.stage_mode)?);
    }
    if !metadata.changes.is_empty() {
        changes.push(format!(
            "stored {} lead statuses and {} lifecycle stages",
            metadata.lead_statuses, metadata.lifecycle_stages
        ));
    }
    p.log.log(
        Level::Info,
        "configured",
        &[("changes", &changes.len().to_string())],
    );
    Ok(ConfigureReport {
        message: CONFIGURED_MESSAGE.into(),
        changes,
        warnings,
    })
}

/// The Refresh button: lead statuses and lifecycle stages into the option table and the free
/// fields.
pub fn refresh_metadata(p: &mut Platform<'_>) -> Result<MetadataReport, PluginError> {
    state::migrate(p.db)?;
    let stored = settings::load(p.db)?;
    let mut client = Client::new(
        &mut *p.http,
        p.clock,
        p.log,
        &stored.hubspot_url,
        &stored.hubspot_credential,
        stored.hs_api_version,
        Budget::default(),
    );
    let (mut report, _) = store_options(&mut *p.db, &mut client)?;
    let pipelines = stages::read_pipelines(&mut client)?;
    report.pipelines = pipelines
        .iter()
        .map(|s| s.pipeline_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u32;
    report.stages = pipelines.len() as u32;
    report.changes.extend(stages::sync_metadata(
        p.db,
        &pipelines,
        stored.hs_stage_mode,
    )?);
    Ok(report)
}

/// Runs one job.
pub fn run(p: &mut Platform<'_>, job: Job, budget: Budget) -> Result<JobReport, PluginError> {
    state::migrate(p.db)?;
    let stored = settings::load(p.db)?;
    let mut session = Session::new(p, stored, job, budget);
    match job {
        Job::ProcessQueue => queue::process(&mut session)?,
        Job::SyncContacts => {
            // Companies first: a contact's company must be linked before the contact can
            // become its contact person.
            if kind::sync::<companies::Companies>(&mut session)? == Flow::Continue {
                kind::sync::<contacts::Contacts>(&mut session)?;
            }
        }
        Job::SyncDeals => {
            kind::sync::<deals::Deals>(&mut session)?;
        }
    }
    let report = session.finish();
    p.log.log(
        Level::Info,
        "job finished",
        &[
            ("job", job.name()),
            (
                "api_calls",
                &report.api_calls.values().sum::<u32>().to_string(),
            ),
        ],
    );
    Ok(report)
}

/// xentral's save hook: enqueues the record for export (once while it is still open).
pub fn record_changed(p: &mut Platform<'_>, entity: Entity, id: i64) -> Result<(), PluginError> {
    state::migrate(p.db)?;
    let now = p.clock.now_ms();
    queue::enqueue(p.db, entity, id, now)?;
    Ok(())
}

/// Both sides of the stage mapping.
pub fn list_stages(p: &mut Platform<'_>) -> Result<crate::api::StageOverview, PluginError> {
    state::migrate(p.db)?;
    let stored = settings::load(p.db)?;
    stages::overview(p.db, stored.hs_stage_mode)
}

/// Maps a xentral stage by hand.
pub fn map_stage(
    p: &mut Platform<'_>,
    wv_stage: i64,
    pipeline_id: &str,
    stage_id: &str,
) -> Result<String, PluginError> {
    state::migrate(p.db)?;
    settings::load(p.db)?;
    stages::map_by_user(p.db, wv_stage, pipeline_id, stage_id)
}

/// What the plugin's state says of each object kind and of the queue; reads only.
pub fn sync_health(p: &mut Platform<'_>) -> Result<crate::api::SyncHealth, PluginError> {
    Ok(crate::store::health::read(p.db)?)
}

/// Makes failing records due now (see [`state::make_failures_due`]); a record failing to
/// reach HubSpot is queued as well, so the next queue run sends it. Returns how many.
pub fn retry_now(
    p: &mut Platform<'_>,
    object: Option<&str>,
    records: &[String],
) -> Result<u32, PluginError> {
    if let Some(o) = object {
        state::LinkTable::of_object(o).ok_or_else(|| unknown_object(o))?;
    }
    if state::installed_version(p.db)? == 0 {
        return Ok(0);
    }
    let now = p.clock.now_ms();
    p.db.begin()?;
    let result = (|| -> Result<u32, PluginError> {
        let due = state::make_failures_due(p.db, object, records)?;
        for f in due.iter().filter(|f| f.direction == "push") {
            if let (Some(table), Ok(id)) = (state::LinkTable::of_object(&f.object), f.key.parse()) {
                queue::enqueue(p.db, table.entity(), id, now)?;
            }
        }
        Ok(due.len() as u32)
    })();
    match result {
        Ok(n) => {
            p.db.commit()?;
            p.log.log(
                Level::Info,
                "retry requested",
                &[("records", &n.to_string())],
            );
            Ok(n)
        }
        Err(e) => {
            p.db.rollback()?;
            Err(e)
        }
    }
}

/// The lead statuses and lifecycle stages the last Refresh stored; reads only.
pub fn list_options(p: &mut Platform<'_>) -> Result<crate::api::HubspotOptions, PluginError> {
    if state::installed_version(p.db)? == 0 {
        return Ok(crate::api::HubspotOptions::default());
    }
    Ok(crate::api::HubspotOptions {
        lead_statuses: xentral::options(p.db, "lead_status")?,
        lifecycle_stages: xentral::options(p.db, "lifecycle_stage")?,
    })
}

fn unknown_object(object: &str) -> PluginError {
    let known: Vec<&str> = state::LinkTable::ALL.iter().map(|t| t.object()).collect();
    PluginError::InvalidSettings(format!(
        "'{object}' is not an object kind this plugin syncs ({})",
        known.join(", ")
    ))
}

/// The most links one `links` call returns.
pub const MAX_LINKS_PAGE: u32 = 1_000;

/// The linked pairs of one object kind, a page at a time; reads only.
pub fn links(
    p: &mut Platform<'_>,
    object: &str,
    after_xentral_id: i64,
    limit: u32,
) -> Result<Vec<(String, i64)>, PluginError> {
    let table = state::LinkTable::of_object(object).ok_or_else(|| unknown_object(object))?;
    if state::installed_version(p.db)? == 0 {
        return Ok(Vec::new());
    }
    Ok(state::links_page(
        p.db,
        table,
        after_xentral_id,
        limit.min(MAX_LINKS_PAGE),
    )?)
}
