//! The one place that touches generated bindings: it adapts the WIT imports to the
//! [`crate::platform`] traits and the WIT exports to the functions in [`crate::exports`].

#![allow(unsafe_code)] // `wit_bindgen::generate!` emits the component ABI glue.
#![allow(missing_docs)]

use crate::api;
use crate::platform::{self, Platform};

/// The contract version this plugin is built against, in a custom section the host reads
/// before it instantiates the component (as Zed's extensions carry theirs): a host refuses a
/// version it does not implement, naming both.
#[unsafe(link_section = "xentral-hubspot-contract")]
#[used]
static CONTRACT_VERSION: [u8; crate::manifest::CONTRACT_VERSION.len()] = {
    let version = crate::manifest::CONTRACT_VERSION.as_bytes();
    let mut bytes = [0; crate::manifest::CONTRACT_VERSION.len()];
    let mut i = 0;
    while i < bytes.len() {
        bytes[i] = version[i];
        i += 1;
    }
    bytes
};

wit_bindgen::generate!({
    world: "hubspot-sync",
    path: "../wit/deps/xentral-hubspot@0.3.0",
});

use exports::xentral::hubspot::plugin::Guest;
use xentral::hubspot::types as wt;
use xentral::hubspot::{clock, db, http, log, secrets};

/// The component's export implementation.
struct Component;

export!(Component);

/// Adapts the WIT imports to the platform traits.
struct WitHost;

fn to_wit_request(r: platform::Request) -> http::Request {
    http::Request {
        method: match r.method {
            platform::Method::Get => http::Method::Get,
            platform::Method::Post => http::Method::Post,
            platform::Method::Put => http::Method::Put,
            platform::Method::Patch => http::Method::Patch,
            platform::Method::Delete => http::Method::Delete,
        },
        url: r.url,
        headers: r.headers,
        body: r.body,
        credential: r.credential,
        timeout_ms: r.timeout_ms,
    }
}

fn from_wit_reply(
    reply: Result<http::Response, http::HttpError>,
) -> Result<platform::Response, platform::HttpError> {
    match reply {
        Ok(resp) => Ok(platform::Response {
            status: resp.status,
            headers: resp.headers,
            body: resp.body,
        }),
        Err(e) => Err(match e {
            http::HttpError::Denied(o) => platform::HttpError::Denied(o),
            http::HttpError::UnknownCredential(n) => platform::HttpError::UnknownCredential(n),
            http::HttpError::Timeout => platform::HttpError::Timeout,
            http::HttpError::Transport(m) => platform::HttpError::Transport(m),
            http::HttpError::TooLarge(n) => platform::HttpError::TooLarge(n),
            http::HttpError::Invalid(m) => platform::HttpError::Invalid(m),
            http::HttpError::Tls(m) => platform::HttpError::Tls(m),
        }),
    }
}

impl platform::Http for WitHost {
    fn send(&mut self, r: platform::Request) -> Result<platform::Response, platform::HttpError> {
        from_wit_reply(http::send(&to_wit_request(r)))
    }

    fn send_all(
        &mut self,
        requests: Vec<platform::Request>,
    ) -> Vec<Result<platform::Response, platform::HttpError>> {
        let requests: Vec<http::Request> = requests.into_iter().map(to_wit_request).collect();
        http::send_all(&requests)
            .into_iter()
            .map(from_wit_reply)
            .collect()
    }
}

fn to_wit_value(v: &platform::Value) -> db::Value {
    match v {
        platform::Value::Null => db::Value::Null,
        platform::Value::Integer(i) => db::Value::Integer(*i),
        platform::Value::Real(r) => db::Value::Real(*r),
        platform::Value::Text(t) => db::Value::Text(t.clone()),
        platform::Value::Blob(b) => db::Value::Blob(b.clone()),
    }
}

fn from_wit_value(v: db::Value) -> platform::Value {
    match v {
        db::Value::Null => platform::Value::Null,
        db::Value::Integer(i) => platform::Value::Integer(i),
        db::Value::Real(r) => platform::Value::Real(r),
        db::Value::Text(t) => platform::Value::Text(t),
        db::Value::Blob(b) => platform::Value::Blob(b),
    }
}

fn from_wit_db_error(e: db::DbError) -> platform::DbError {
    match e {
        db::DbError::Denied(t) => platform::DbError::Denied(t),
        db::DbError::Constraint(m) => platform::DbError::Constraint(m),
        db::DbError::Invalid(m) => platform::DbError::Invalid(m),
        db::DbError::Busy(m) => platform::DbError::Busy(m),
        db::DbError::Io(m) => platform::DbError::Io(m),
        db::DbError::Limit(m) => platform::DbError::Limit(m),
    }
}

impl platform::Db for WitHost {
    fn query(
        &mut self,
        sql: &str,
        params: &[platform::Value],
    ) -> Result<platform::Rows, platform::DbError> {
        let params: Vec<db::Value> = params.iter().map(to_wit_value).collect();
        let rows = db::query(sql, &params).map_err(from_wit_db_error)?;
        Ok(platform::Rows {
            columns: rows.columns,
            rows: rows
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(from_wit_value).collect())
                .collect(),
        })
    }

    fn execute(
        &mut self,
        sql: &str,
        params: &[platform::Value],
    ) -> Result<platform::ExecResult, platform::DbError> {
        let params: Vec<db::Value> = params.iter().map(to_wit_value).collect();
        let r = db::execute(sql, &params).map_err(from_wit_db_error)?;
        Ok(platform::ExecResult {
            rows_affected: r.rows_affected,
            last_insert_id: r.last_insert_id,
        })
    }

    fn begin(&mut self) -> Result<(), platform::DbError> {
        db::begin().map_err(from_wit_db_error)
    }

    fn commit(&mut self) -> Result<(), platform::DbError> {
        db::commit().map_err(from_wit_db_error)
    }

    fn rollback(&mut self) -> Result<(), platform::DbError> {
        db::rollback().map_err(from_wit_db_error)
    }

    fn dialect(&self) -> platform::Dialect {
        match db::dialect() {
            db::SqlDialect::Sqlite => platform::Dialect::Sqlite,
            db::SqlDialect::Mysql => platform::Dialect::Mysql,
        }
    }
}

impl platform::Clock for WitHost {
    fn now_ms(&self) -> i64 {
        clock::now_ms()
    }
    fn sleep_ms(&self, ms: u64) {
        clock::sleep_ms(ms)
    }
    fn time_zone(&self) -> String {
        clock::time_zone()
    }
}

impl platform::Log for WitHost {
    fn log(&self, level: platform::Level, message: &str, fields: &[(&str, &str)]) {
        let level = match level {
            platform::Level::Trace => log::Level::Trace,
            platform::Level::Debug => log::Level::Debug,
            platform::Level::Info => log::Level::Info,
            platform::Level::Warn => log::Level::Warn,
            platform::Level::Error => log::Level::Error,
        };
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        log::log(level, message, &fields);
    }
}

impl platform::Secrets for WitHost {
    fn exists(&self, name: &str) -> bool {
        secrets::exists(name)
    }
}

/// Runs `f` with the platform backed by the WIT imports.
fn with_platform<R>(f: impl FnOnce(&mut Platform<'_>) -> R) -> R {
    let mut http = WitHost;
    let mut db = WitHost;
    let host = WitHost;
    let mut platform = Platform {
        http: &mut http,
        db: &mut db,
        clock: &host,
        log: &host,
        secrets: &host,
    };
    f(&mut platform)
}

fn to_wit_error(e: api::PluginError) -> wt::PluginError {
    match e {
        api::PluginError::NotConfigured(m) => wt::PluginError::NotConfigured(m),
        api::PluginError::InvalidSettings(m) => wt::PluginError::InvalidSettings(m),
        api::PluginError::Unauthorized(m) => wt::PluginError::Unauthorized(m),
        api::PluginError::Hubspot(m) => wt::PluginError::Hubspot(m),
        api::PluginError::Database(m) => wt::PluginError::Database(m),
        api::PluginError::RateLimited(m) => wt::PluginError::RateLimited(m),
    }
}

fn to_wit_side(s: api::SideReport) -> wt::SideReport {
    wt::SideReport {
        created: s.created,
        updated: s.updated,
        unchanged: s.unchanged,
        conflicts: s.conflicts,
        failed: s.failed,
        excluded: to_wit_counts(s.excluded),
    }
}

fn to_wit_counts(m: std::collections::BTreeMap<String, u32>) -> Vec<wt::ReasonCount> {
    m.into_iter()
        .map(|(reason, count)| wt::ReasonCount { reason, count })
        .collect()
}

fn from_wit_job(j: wt::Job) -> api::Job {
    match j {
        wt::Job::ProcessQueue => api::Job::ProcessQueue,
        wt::Job::SyncContacts => api::Job::SyncContacts,
        wt::Job::SyncDeals => api::Job::SyncDeals,
    }
}

fn to_wit_job(j: api::Job) -> wt::Job {
    match j {
        api::Job::ProcessQueue => wt::Job::ProcessQueue,
        api::Job::SyncContacts => wt::Job::SyncContacts,
        api::Job::SyncDeals => wt::Job::SyncDeals,
    }
}

fn from_wit_direction(d: wt::SyncDirection) -> crate::engine::rules::Direction {
    match d {
        wt::SyncDirection::TwoWay => crate::engine::rules::Direction::TwoWay,
        wt::SyncDirection::ToXentral => crate::engine::rules::Direction::ToXentral,
        wt::SyncDirection::ToHubspot => crate::engine::rules::Direction::ToHubspot,
    }
}

fn from_wit_rule(r: wt::SyncRule) -> crate::engine::rules::SyncRule {
    use crate::engine::rules::{OnArchive, OnDelete};
    crate::engine::rules::SyncRule {
        on_archive: match r.on_hubspot_archive {
            wt::ArchiveAction::Keep => OnArchive::Keep,
            wt::ArchiveAction::Mark => OnArchive::Mark,
        },
        on_delete: match r.on_xentral_delete {
            wt::DeleteAction::Keep => OnDelete::Keep,
            wt::DeleteAction::Archive => OnDelete::Archive,
        },
        direction: from_wit_direction(r.direction),
        winner: match r.conflict_winner {
            wt::Side::Xentral => crate::engine::merge::Winner::Xentral,
            wt::Side::Hubspot => crate::engine::merge::Winner::Hubspot,
        },
        fields: r
            .fields
            .into_iter()
            .map(|f| (f.field, from_wit_direction(f.direction)))
            .collect(),
    }
}

fn to_wit_privilege(p: api::Privilege) -> wt::Privilege {
    match p {
        api::Privilege::Select => wt::Privilege::Select,
        api::Privilege::Insert => wt::Privilege::Insert,
        api::Privilege::Update => wt::Privilege::Update,
        api::Privilege::Delete => wt::Privilege::Delete,
    }
}

fn to_wit_object_health(o: api::ObjectHealth) -> wt::ObjectHealth {
    wt::ObjectHealth {
        object: o.object.into(),
        in_sync: o.in_sync,
        failing: o
            .failing
            .into_iter()
            .map(|f| wt::FailingRecords {
                direction: f.direction,
                error: f.error,
                count: f.count,
                records: f.records,
                next_retry_ms: f.next_retry_ms,
                attempts: f.attempts,
                needs_change: f.needs_change,
            })
            .collect(),
        ended: o
            .ended
            .into_iter()
            .map(|e| wt::EndedRecords {
                reason: e.reason,
                count: e.count,
                records: e
                    .records
                    .into_iter()
                    .map(|(hubspot_id, xentral_id)| wt::RecordLink {
                        hubspot_id,
                        xentral_id,
                    })
                    .collect(),
                needs_action: e.needs_action,
            })
            .collect(),
        conflicts_kept: o.conflicts_kept,
        recent_conflicts: o
            .recent_conflicts
            .into_iter()
            .map(|c| wt::Conflict {
                hubspot_id: c.hubspot_id,
                xentral_id: c.xentral_id,
                field: c.field,
                xentral_value: c.xentral_value,
                hubspot_value: c.hubspot_value,
                winner: c.winner,
                at_ms: c.at_ms,
            })
            .collect(),
    }
}

impl Guest for Component {
    fn manifest() -> wt::PluginManifest {
        let m = crate::manifest::manifest();
        wt::PluginManifest {
            contract_version: m.contract_version.into(),
            jobs: m
                .jobs
                .into_iter()
                .map(|j| wt::JobSpec {
                    job: to_wit_job(j.job),
                    starter_parameter: j.starter_parameter.into(),
                    name: j.name.into(),
                    period_minutes: j.period_minutes,
                    objects: j.objects.iter().map(|o| (*o).to_owned()).collect(),
                })
                .collect(),
            xentral_tables: m
                .xentral_tables
                .into_iter()
                .map(|(table, verbs)| wt::TableUse {
                    table: table.into(),
                    verbs: verbs.iter().copied().map(to_wit_privilege).collect(),
                })
                .collect(),
            own_tables: m.own_tables.into_iter().map(String::from).collect(),
        }
    }

    fn links(
        object: String,
        after_xentral_id: i64,
        limit: u32,
    ) -> Result<Vec<wt::RecordLink>, wt::PluginError> {
        with_platform(|p| crate::exports::links(p, &object, after_xentral_id, limit))
            .map(|links| {
                links
                    .into_iter()
                    .map(|(hubspot_id, xentral_id)| wt::RecordLink {
                        hubspot_id,
                        xentral_id,
                    })
                    .collect()
            })
            .map_err(to_wit_error)
    }

    fn sync_health() -> Result<wt::HealthReport, wt::PluginError> {
        with_platform(crate::exports::sync_health)
            .map(|h| wt::HealthReport {
                connected: h.connected,
                objects: h.objects.into_iter().map(to_wit_object_health).collect(),
                queue: wt::QueueHealth {
                    pending: h.queue.pending,
                    retrying: h.queue.retrying,
                },
            })
            .map_err(to_wit_error)
    }

    fn configure(s: wt::Settings) -> Result<wt::ConfigureReport, wt::PluginError> {
        let settings = api::Settings {
            hubspot_url: s.hubspot_url,
            credential: s.credential,
            contacts: s.contacts,
            contacts_since: s.contacts_since,
            lead_statuses: s.lead_statuses,
            group: s.group,
            deals: s.deals,
            stage_mode: match s.stage_mode {
                wt::StageMode::Automatic => api::StageMode::Automatic,
                wt::StageMode::UserDefined => api::StageMode::UserDefined,
            },
            api_version: s.api_version,
            companies: s.companies,
            contact_mode: match s.contact_mode {
                wt::ContactMode::ContactPersons => api::ContactMode::ContactPersons,
                wt::ContactMode::Addresses => api::ContactMode::Addresses,
            },
            contact_rule: from_wit_rule(s.contact_rule),
            company_rule: from_wit_rule(s.company_rule),
            deal_rule: from_wit_rule(s.deal_rule),
        };
        with_platform(|p| crate::exports::configure(p, settings))
            .map(|r| wt::ConfigureReport {
                message: r.message,
                changes: r.changes,
                warnings: r.warnings,
            })
            .map_err(to_wit_error)
    }

    fn refresh_metadata() -> Result<wt::MetadataReport, wt::PluginError> {
        with_platform(crate::exports::refresh_metadata)
            .map(|r| wt::MetadataReport {
                lead_statuses: r.lead_statuses,
                lifecycle_stages: r.lifecycle_stages,
                pipelines: r.pipelines,
                stages: r.stages,
                changes: r.changes,
            })
            .map_err(to_wit_error)
    }

    fn run(job: wt::Job, budget: wt::Budget) -> Result<wt::JobReport, wt::PluginError> {
        let budget = api::Budget {
            deadline_ms: budget.deadline_ms,
            max_requests: budget.max_requests,
            dry_run: budget.dry_run,
        };
        with_platform(|p| crate::exports::run(p, from_wit_job(job), budget))
            .map(|r| wt::JobReport {
                job: to_wit_job(r.job),
                xentral: to_wit_side(r.xentral),
                hubspot: to_wit_side(r.hubspot),
                api_calls: to_wit_counts(r.api_calls),
                pending: r.pending,
                messages: r.messages,
                planned: r
                    .planned
                    .into_iter()
                    .map(|c| wt::PlannedChange {
                        object: c.object,
                        side: if c.in_xentral {
                            wt::Side::Xentral
                        } else {
                            wt::Side::Hubspot
                        },
                        kind: c.kind.into(),
                        xentral_id: c.xentral_id,
                        hubspot_id: c.hubspot_id,
                        fields: c.fields,
                        reason: c.reason,
                    })
                    .collect(),
            })
            .map_err(to_wit_error)
    }

    fn list_stages() -> Result<wt::StageOverview, wt::PluginError> {
        with_platform(crate::exports::list_stages)
            .map(|o| wt::StageOverview {
                mode: match o.mode {
                    api::StageMode::Automatic => wt::StageMode::Automatic,
                    api::StageMode::UserDefined => wt::StageMode::UserDefined,
                },
                xentral: o
                    .xentral
                    .into_iter()
                    .map(|s| wt::XentralStage {
                        id: s.id,
                        view_id: s.view_id,
                        view_name: s.view_name,
                        name: s.name,
                        hidden: s.hidden,
                        mapped_to: s.mapped_to,
                        automatic: s.automatic,
                    })
                    .collect(),
                hubspot: o
                    .hubspot
                    .into_iter()
                    .map(|s| wt::HubspotStage {
                        pipeline_id: s.pipeline_id,
                        pipeline_label: s.pipeline_label,
                        stage_id: s.stage_id,
                        label: s.label,
                        archived: s.archived,
                        mapped_to: s.mapped_to,
                    })
                    .collect(),
            })
            .map_err(to_wit_error)
    }

    fn map_stage(
        xentral_stage_id: i64,
        pipeline_id: String,
        stage_id: String,
    ) -> Result<String, wt::PluginError> {
        with_platform(|p| crate::exports::map_stage(p, xentral_stage_id, &pipeline_id, &stage_id))
            .map_err(to_wit_error)
    }

    fn record_changed(entity: wt::Entity, id: i64) -> Result<(), wt::PluginError> {
        let entity = match entity {
            wt::Entity::Address => api::Entity::Address,
            wt::Entity::Resubmission => api::Entity::Resubmission,
            wt::Entity::ContactPerson => api::Entity::ContactPerson,
        };
        with_platform(|p| crate::exports::record_changed(p, entity, id)).map_err(to_wit_error)
    }

    fn retry_now(object: Option<String>, records: Vec<String>) -> Result<u32, wt::PluginError> {
        with_platform(|p| crate::exports::retry_now(p, object.as_deref(), &records))
            .map_err(to_wit_error)
    }

    fn list_options() -> Result<wt::HubspotOptions, wt::PluginError> {
        let value = |(value, label)| wt::OptionValue { value, label };
        with_platform(crate::exports::list_options)
            .map(|o| wt::HubspotOptions {
                lead_statuses: o.lead_statuses.into_iter().map(value).collect(),
                lifecycle_stages: o.lifecycle_stages.into_iter().map(value).collect(),
            })
            .map_err(to_wit_error)
    }
}
