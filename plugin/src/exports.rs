//! The plugin's four exported operations, written against [`Platform`] only.

use serde_json::Value as Json;

use crate::api::{
    Budget, ConfigureReport, Entity, Job, JobReport, MetadataReport, PluginError, Settings,
};
use crate::hubspot::{ApiError, Client};
use crate::platform::{Level, Method, Platform, Value};
use crate::{settings, state, xentral};

/// The message xentral users know from the old module.
pub const CONFIGURED_MESSAGE: &str = "Api key for Hubspot has been updated.";

/// Maps a failure of the credential check to the error the user sees.
fn credential_error(e: ApiError) -> PluginError {
    match e {
        ApiError::Unauthorized(detail) => PluginError::Unauthorized(format!(
            "HubSpot rejected the access token ({detail}); create a private-app access token in HubSpot (Settings → Integrations → Private Apps) and save it again"
        )),
        ApiError::MissingScopes(detail) => PluginError::Unauthorized(format!(
            "the access token lacks a scope HubSpot requires ({detail}); grant crm.objects.contacts.read/write, crm.objects.deals.read/write, crm.objects.owners.read and crm.schemas.deals.write"
        )),
        other => PluginError::Hubspot(format!("could not check the access token: {other}")),
    }
}

/// Applies settings: checks the credential, migrates the plugin's tables, stores the settings,
/// and creates what xentral needs. Idempotent.
pub fn configure(p: &mut Platform<'_>, s: Settings) -> Result<ConfigureReport, PluginError> {
    settings::validate(&s)?;
    if !p.secrets.exists(&s.credential) {
        return Err(PluginError::NotConfigured(format!(
            "the host holds no credential named '{}'; pass --token to `xentral-host settings`",
            s.credential
        )));
    }
    let mut client = Client::new(p.http, &s.hubspot_url, &s.credential);
    client
        .call(
            Method::Get,
            "/crm/v3/objects/contacts?limit=1",
            "/crm/v3/objects/contacts",
            None,
        )
        .map_err(credential_error)?;

    let mut changes = Vec::new();
    for v in state::migrate(p.db)? {
        changes.push(format!("created the plugin's tables (schema version {v})"));
    }
    if settings::store(p.db, &settings::StoredSettings::from(&s))? {
        changes.push("stored the settings".into());
    }
    let (group_id, created) = xentral::ensure_group(p.db, &s.group)?;
    if created {
        changes.push(format!(
            "created the contact group '{}' (id {group_id})",
            s.group
        ));
    }
    for starter in &xentral::STARTERS {
        if xentral::ensure_starter(p.db, starter)? {
            changes.push(format!("created the process starter '{}'", starter.name));
        }
    }
    p.log.log(
        Level::Info,
        "configured",
        &[("changes", &changes.len().to_string())],
    );
    Ok(ConfigureReport {
        message: CONFIGURED_MESSAGE.into(),
        changes,
        warnings: Vec::new(),
    })
}

/// Reads lead statuses and lifecycle stages from HubSpot into the option table.
pub fn refresh_metadata(p: &mut Platform<'_>) -> Result<MetadataReport, PluginError> {
    let stored = settings::load(p.db)?;
    let mut client = Client::new(p.http, &stored.hubspot_url, &stored.hubspot_credential);
    let mut report = MetadataReport::default();
    for (property, kind) in [
        ("hs_lead_status", "lead_status"),
        ("lifecyclestage", "lifecycle_stage"),
    ] {
        let path = format!("/crm/v3/properties/contacts/{property}");
        let json = client
            .call(
                Method::Get,
                &path,
                "/crm/v3/properties/contacts/{name}",
                None,
            )
            .map_err(|e| PluginError::Hubspot(format!("reading {property}: {e}")))?;
        let options = json
            .get("options")
            .and_then(Json::as_array)
            .ok_or_else(|| PluginError::Hubspot(format!("{property} has no options list")))?;
        for (i, o) in options.iter().enumerate() {
            let value = o.get("value").and_then(Json::as_str).unwrap_or_default();
            let label = o.get("label").and_then(Json::as_str).unwrap_or(value);
            if value.is_empty() {
                continue;
            }
            if xentral::upsert_option(p.db, kind, "", value, label, i as i64)? {
                report.changes.push(format!("{kind} {value} ({label})"));
            }
        }
        let n = options.len() as u32;
        match kind {
            "lead_status" => report.lead_statuses = n,
            _ => report.lifecycle_stages = n,
        }
    }
    Ok(report)
}

/// Runs one job.
pub fn run(p: &mut Platform<'_>, job: Job, budget: Budget) -> Result<JobReport, PluginError> {
    let stored = settings::load(p.db)?;
    let mut report = JobReport::new(job);
    let mut client = Client::new(p.http, &stored.hubspot_url, &stored.hubspot_credential);
    let (path, endpoint) = match job {
        Job::ProcessQueue => {
            let open = xentral::open_queue_entries(p.db)?;
            report.pending = open > 0;
            report
                .messages
                .push(format!("{open} queued xentral change(s)"));
            return Ok(report);
        }
        Job::SyncContacts => (
            "/crm/v3/objects/contacts?limit=100",
            "/crm/v3/objects/contacts",
        ),
        Job::SyncDeals => ("/crm/v3/objects/deals?limit=100", "/crm/v3/objects/deals"),
    };
    if budget.max_requests == Some(0) {
        report.pending = true;
        report.messages.push("request budget is zero".into());
        return Ok(report);
    }
    let page = client
        .call(Method::Get, path, endpoint, None)
        .map_err(|e| PluginError::Hubspot(e.to_string()))?;
    let seen = page
        .get("results")
        .and_then(Json::as_array)
        .map_or(0, Vec::len);
    report.xentral.unchanged = seen as u32;
    report.pending = page.pointer("/paging/next/after").is_some();
    report.api_calls = client.calls().clone();
    p.log.log(
        Level::Info,
        "read a page",
        &[("job", job.name()), ("records", &seen.to_string())],
    );
    Ok(report)
}

/// xentral's save hook: enqueues the record for export (once while it is still open).
pub fn record_changed(p: &mut Platform<'_>, entity: Entity, id: i64) -> Result<(), PluginError> {
    state::migrate(p.db)?;
    let now = p.clock.now_ms();
    let open = p.db.query(
        "SELECT id FROM hubspot_request_queues WHERE entity = ? AND record_id = ? AND completed = 0",
        &[Value::from(entity.name()), Value::Integer(id)],
    )?;
    if open.rows.is_empty() {
        p.db.execute(
            "INSERT INTO hubspot_request_queues (entity, record_id, enqueued_ms, next_attempt_ms) VALUES (?, ?, ?, ?)",
            &[
                Value::from(entity.name()),
                Value::Integer(id),
                Value::Integer(now),
                Value::Integer(now),
            ],
        )?;
    }
    Ok(())
}
