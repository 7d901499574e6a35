//! Bindings for `xentral:hubspot@0.1.0`: the import implementations over [`HostState`] and
//! conversions of the export types into the host's [`crate::report`] types.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use xentral_erp::Database;

use crate::clock::SharedClock;
use crate::joblog::{JobLog, LogEntry, LogLevel};
use crate::outbound::{Outbound, OutboundError, OutboundRequest};
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

/// Everything one job's store holds: WASI context, limits, and the host capabilities.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) db: Box<dyn Database>,
    pub(crate) outbound: Outbound,
    pub(crate) clock: SharedClock,
    pub(crate) log: JobLog,
    pub(crate) time_zone: String,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    fn log_host(&self, level: LogLevel, message: String) {
        self.log.push(LogEntry {
            at_ms: self.clock.now_ms(),
            level,
            source: "host".into(),
            message,
            fields: Vec::new(),
        });
    }
}

impl http::Host for HostState {
    fn send(&mut self, req: http::Request) -> Result<http::Response, http::HttpError> {
        let method = match req.method {
            http::Method::Get => "GET",
            http::Method::Post => "POST",
            http::Method::Put => "PUT",
            http::Method::Patch => "PATCH",
            http::Method::Delete => "DELETE",
        };
        let url = req.url.clone();
        let result = self.outbound.send(OutboundRequest {
            method,
            url: req.url,
            headers: req.headers,
            body: req.body,
            credential: req.credential,
            timeout_ms: req.timeout_ms,
        });
        let url = self.outbound.secrets().redact(&url);
        match &result {
            Ok(r) => self.log_host(LogLevel::Trace, format!("{method} {url} → {}", r.status)),
            Err(e) => self.log_host(LogLevel::Warn, format!("{method} {url} failed: {e}")),
        }
        result
            .map(|r| http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                OutboundError::Denied { origin, .. } => http::HttpError::Denied(origin),
                OutboundError::UnknownCredential(n) => http::HttpError::UnknownCredential(n),
                OutboundError::Timeout => http::HttpError::Timeout,
                OutboundError::Transport(m) => http::HttpError::Transport(m),
                // 0.1.0 has no variant of its own; `invalid` is not retried, as a certificate
                // that failed verification fails again.
                OutboundError::Tls(m) => http::HttpError::Invalid(m),
                OutboundError::TooLarge(n) => http::HttpError::TooLarge(n),
                OutboundError::Invalid(m) => http::HttpError::Invalid(m),
            })
    }
}

fn to_erp(v: db::Value) -> xentral_erp::Value {
    match v {
        db::Value::Null => xentral_erp::Value::Null,
        db::Value::Integer(i) => xentral_erp::Value::Integer(i),
        db::Value::Real(r) => xentral_erp::Value::Real(r),
        db::Value::Text(t) => xentral_erp::Value::Text(t),
        db::Value::Blob(b) => xentral_erp::Value::Blob(b),
    }
}

fn from_erp(v: xentral_erp::Value) -> db::Value {
    match v {
        xentral_erp::Value::Null => db::Value::Null,
        xentral_erp::Value::Integer(i) => db::Value::Integer(i),
        xentral_erp::Value::Real(r) => db::Value::Real(r),
        xentral_erp::Value::Text(t) => db::Value::Text(t),
        xentral_erp::Value::Blob(b) => db::Value::Blob(b),
    }
}

fn db_error(e: xentral_erp::DbError) -> db::DbError {
    match e {
        xentral_erp::DbError::Denied(t) => db::DbError::Denied(t),
        xentral_erp::DbError::Constraint(m) => db::DbError::Constraint(m),
        xentral_erp::DbError::Invalid(m) => db::DbError::Invalid(m),
        xentral_erp::DbError::Busy(m) => db::DbError::Busy(m),
        xentral_erp::DbError::Io(m) => db::DbError::Io(m),
        // 0.1.0 has no variant of its own for a host limit; its message says which.
        e @ xentral_erp::DbError::Limit(_) => db::DbError::Io(e.to_string()),
    }
}

impl db::Host for HostState {
    fn query(&mut self, sql: String, params: Vec<db::Value>) -> Result<db::Rows, db::DbError> {
        let params: Vec<_> = params.into_iter().map(to_erp).collect();
        let rows = self.db.query(&sql, &params).map_err(db_error)?;
        Ok(db::Rows {
            columns: rows.columns,
            rows: rows
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(from_erp).collect())
                .collect(),
        })
    }

    fn execute(
        &mut self,
        sql: String,
        params: Vec<db::Value>,
    ) -> Result<db::ExecResult, db::DbError> {
        let params: Vec<_> = params.into_iter().map(to_erp).collect();
        let r = self.db.execute(&sql, &params).map_err(db_error)?;
        Ok(db::ExecResult {
            rows_affected: r.rows_affected,
            last_insert_id: r.last_insert_id,
        })
    }

    fn begin(&mut self) -> Result<(), db::DbError> {
        self.db.begin().map_err(db_error)
    }

    fn commit(&mut self) -> Result<(), db::DbError> {
        self.db.commit().map_err(db_error)
    }

    fn rollback(&mut self) -> Result<(), db::DbError> {
        self.db.rollback().map_err(db_error)
    }

    fn dialect(&mut self) -> db::SqlDialect {
        match self.db.dialect() {
            xentral_erp::Dialect::Sqlite => db::SqlDialect::Sqlite,
            xentral_erp::Dialect::Mysql => db::SqlDialect::Mysql,
        }
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let secrets = self.outbound.secrets();
        let entry = LogEntry {
            at_ms: self.clock.now_ms(),
            level: match level {
                log::Level::Trace => LogLevel::Trace,
                log::Level::Debug => LogLevel::Debug,
                log::Level::Info => LogLevel::Info,
                log::Level::Warn => LogLevel::Warn,
                log::Level::Error => LogLevel::Error,
            },
            source: "plugin".into(),
            message: secrets.redact(&message),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k, secrets.redact(&v)))
                .collect(),
        };
        self.log.push(entry);
    }
}

impl clock::Host for HostState {
    fn now_ms(&mut self) -> i64 {
        self.clock.now_ms()
    }

    fn sleep_ms(&mut self, ms: u64) {
        // A single wait longer than ten minutes is a plugin bug; cap it so a job cannot park
        // a scheduler slot for hours.
        self.clock.sleep_ms(ms.min(600_000));
    }

    fn time_zone(&mut self) -> String {
        self.time_zone.clone()
    }
}

impl secrets::Host for HostState {
    fn exists(&mut self, name: String) -> bool {
        self.outbound.secrets().exists(&name)
    }
}

impl types::Host for HostState {}

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
