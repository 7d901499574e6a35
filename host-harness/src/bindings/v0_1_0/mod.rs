//! Bindings for `xentral:hubspot@0.1.0` (bound to its frozen folder): one module per host
//! interface (`http_ctx`, `db_ctx`, `log_ctx`, `clock_ctx`, `secrets_ctx`), each implementing its
//! interface over a context of its own that [`HostState`] holds, linked by [`add_to_linker`];
//! and the conversions of the export types into the host's [`crate::report`] types.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use xentral_erp::Database;

use crate::clock::SharedClock;
use crate::joblog::JobLog;
use crate::outbound::Outbound;
use crate::report;
use crate::sandbox::MemoryLimiter;

/// The generated bindings; their items are documented in the WIT.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        world: "hubspot-sync",
        path: "../wit/deps/xentral-hubspot@0.1.0",
    });
}

pub use generated::*;

pub use exports::xentral::hubspot::plugin as plugin_exports;
use xentral::hubspot::{clock, db, http, log, secrets, types};

/// Everything one job's store holds: WASI, the memory limiter, and one context per host
/// interface (as wasmtime-wasi keeps one view per interface), each holding only what that
/// interface needs.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) http: http_ctx::HttpCtx,
    pub(crate) db: db_ctx::DbCtx,
    pub(crate) log: log_ctx::LogCtx,
    pub(crate) clock: clock_ctx::ClockCtx,
    pub(crate) secrets: secrets_ctx::SecretsCtx,
}

impl HostState {
    /// The state of one job's store.
    pub(crate) fn new(
        wasi: WasiCtx,
        limiter: MemoryLimiter,
        db: Box<dyn Database>,
        outbound: Outbound,
        clock: SharedClock,
        log: JobLog,
        time_zone: String,
    ) -> Self {
        let secrets = outbound.secrets().clone();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter,
            http: http_ctx::HttpCtx {
                outbound,
                log: log.clone(),
                clock: Arc::clone(&clock),
            },
            db: db_ctx::DbCtx { db },
            log: log_ctx::LogCtx {
                log,
                secrets: secrets.clone(),
                clock: Arc::clone(&clock),
            },
            clock: clock_ctx::ClockCtx { clock, time_zone },
            secrets: secrets_ctx::SecretsCtx { secrets },
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

/// Links the host interfaces of 0.1.0, each to its own context.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    http::add_to_linker::<HostState, HasSelf<http_ctx::HttpCtx>>(linker, |s| &mut s.http)?;
    db::add_to_linker::<HostState, HasSelf<db_ctx::DbCtx>>(linker, |s| &mut s.db)?;
    log::add_to_linker::<HostState, HasSelf<log_ctx::LogCtx>>(linker, |s| &mut s.log)?;
    clock::add_to_linker::<HostState, HasSelf<clock_ctx::ClockCtx>>(linker, |s| &mut s.clock)?;
    secrets::add_to_linker::<HostState, HasSelf<secrets_ctx::SecretsCtx>>(linker, |s| {
        &mut s.secrets
    })?;
    types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}

mod clock_ctx;
mod db_ctx;
mod http_ctx;
mod log_ctx;
mod secrets_ctx;

/// Converts host settings into the WIT record.
pub fn settings_to_wit(s: &report::Settings) -> types::Settings {
    types::Settings {
        hubspot_url: s.hubspot_url.clone(),
        credential: s.credential.clone(),
        contacts: s.contacts,
        contacts_since: s.contacts_since.clone(),
        lead_statuses: s.lead_statuses.clone(),
        group: s.group.clone(),
        deals: s.deals,
        stage_mode: match s.stage_mode {
            report::StageMode::Automatic => types::StageMode::Automatic,
            report::StageMode::UserDefined => types::StageMode::UserDefined,
        },
    }
}

/// Converts a host job into the WIT enum.
pub fn job_to_wit(j: report::Job) -> types::Job {
    match j {
        report::Job::ProcessQueue => types::Job::ProcessQueue,
        report::Job::SyncContacts => types::Job::SyncContacts,
        report::Job::SyncDeals => types::Job::SyncDeals,
    }
}

/// Converts a host budget into the WIT record.
pub fn budget_to_wit(b: report::Budget) -> types::Budget {
    types::Budget {
        deadline_ms: b.deadline_ms,
        max_requests: b.max_requests,
        dry_run: b.dry_run,
    }
}

/// Converts a host entity into the WIT enum.
pub fn entity_to_wit(e: report::Entity) -> types::Entity {
    match e {
        report::Entity::Address => types::Entity::Address,
        report::Entity::Resubmission => types::Entity::Resubmission,
    }
}

/// Converts the plugin's error.
pub fn error_from_wit(e: types::PluginError) -> report::PluginError {
    match e {
        types::PluginError::NotConfigured(m) => report::PluginError::NotConfigured(m),
        types::PluginError::InvalidSettings(m) => report::PluginError::InvalidSettings(m),
        types::PluginError::Unauthorized(m) => report::PluginError::Unauthorized(m),
        types::PluginError::Hubspot(m) => report::PluginError::Hubspot(m),
        types::PluginError::Database(m) => report::PluginError::Database(m),
        types::PluginError::RateLimited(m) => report::PluginError::RateLimited(m),
    }
}

fn side_from_wit(s: types::SideReport) -> report::SideReport {
    report::SideReport {
        created: s.created,
        updated: s.updated,
        unchanged: s.unchanged,
        conflicts: s.conflicts,
        failed: s.failed,
        excluded: s
            .excluded
            .into_iter()
            .map(|c| (c.reason, c.count))
            .collect(),
    }
}

/// Converts the job report.
pub fn job_report_from_wit(r: types::JobReport) -> report::JobReport {
    report::JobReport {
        job: match r.job {
            types::Job::ProcessQueue => report::Job::ProcessQueue,
            types::Job::SyncContacts => report::Job::SyncContacts,
            types::Job::SyncDeals => report::Job::SyncDeals,
        },
        xentral: side_from_wit(r.xentral),
        hubspot: side_from_wit(r.hubspot),
        api_calls: r
            .api_calls
            .into_iter()
            .map(|c| (c.reason, c.count))
            .collect(),
        pending: r.pending,
        messages: r.messages,
    }
}

/// Converts the configure report.
pub fn configure_report_from_wit(r: types::ConfigureReport) -> report::ConfigureReport {
    report::ConfigureReport {
        message: r.message,
        changes: r.changes,
        warnings: r.warnings,
    }
}

/// Converts the metadata report.
pub fn metadata_report_from_wit(r: types::MetadataReport) -> report::MetadataReport {
    report::MetadataReport {
        lead_statuses: r.lead_statuses,
        lifecycle_stages: r.lifecycle_stages,
        pipelines: r.pipelines,
        stages: r.stages,
        changes: r.changes,
    }
}

/// Converts the stage overview.
pub fn stage_overview_from_wit(o: types::StageOverview) -> report::StageOverview {
    report::StageOverview {
        mode: match o.mode {
            types::StageMode::Automatic => report::StageMode::Automatic,
            types::StageMode::UserDefined => report::StageMode::UserDefined,
        },
        xentral: o
            .xentral
            .into_iter()
            .map(|s| report::XentralStage {
                id: s.id,
                view_id: s.view_id,
                view_name: s.view_name,
                name: s.name,
                hidden: s.hidden,
                mapped_to: s.mapped_to.map(|(p, st)| format!("{p}:{st}")),
                automatic: s.automatic,
            })
            .collect(),
        hubspot: o
            .hubspot
            .into_iter()
            .map(|s| report::HubspotStage {
                pipeline_id: s.pipeline_id,
                pipeline_label: s.pipeline_label,
                stage_id: s.stage_id,
                label: s.label,
                archived: s.archived,
                mapped_to: s.mapped_to,
            })
            .collect(),
    }
}
