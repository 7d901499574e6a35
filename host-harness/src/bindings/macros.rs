//! The code every contract version's module shares, as macros expanded in each (the
//! generated types differ per version, their shapes do not).

/// Implements one contract version's host interfaces over the contexts of [`HostState`] and
/// defines its `add_to_linker`. Invoked inside a version module, where the generated
/// `http`, `db`, `log`, `clock`, `secrets` and `types` modules are in scope; `tls` and `limit`
/// say how that version reports a refused certificate and a host statement limit (0.1.0 has no
/// variants of its own for them); `http` holds the http functions only that version has.
macro_rules! host_interfaces {
    (tls: $tls:expr, limit: $limit:expr, http: { $($http:tt)* } $(,)?) => {
        use wasmtime::component::{HasSelf, Linker};
        use $crate::bindings::host_state::{
            ClockCtx, DbCtx, HostState, HttpCtx, LogCtx, SecretsCtx,
        };
        use $crate::joblog::{LogEntry, LogLevel};
        use $crate::outbound::{OutboundError, OutboundRequest, OutboundResponse};

        /// The guest's request as the host's client takes it.
        fn outbound_request(req: http::Request) -> OutboundRequest {
            OutboundRequest {
                method: match req.method {
                    http::Method::Get => "GET",
                    http::Method::Post => "POST",
                    http::Method::Put => "PUT",
                    http::Method::Patch => "PATCH",
                    http::Method::Delete => "DELETE",
                },
                url: req.url,
                headers: req.headers,
                body: req.body,
                credential: req.credential,
                timeout_ms: req.timeout_ms,
            }
        }

        /// Logs what became of a request (its URL redacted) and gives the guest its form.
        fn answer(
            ctx: &HttpCtx,
            method: &str,
            url: &str,
            result: Result<OutboundResponse, OutboundError>,
        ) -> Result<http::Response, http::HttpError> {
                let url = ctx.outbound.secrets().redact(url);
                match &result {
                    Ok(r) => {
                        ctx.log_host(LogLevel::Trace, format!("{method} {url} → {}", r.status))
                    }
                    Err(e) => ctx.log_host(LogLevel::Warn, format!("{method} {url} failed: {e}")),
                }
                result
                    .map(|r| http::Response {
                        status: r.status,
                        headers: r.headers,
                        body: r.body,
                    })
                    .map_err(|e| match e {
                        OutboundError::Denied { origin, .. } => http::HttpError::Denied(origin),
                        OutboundError::UnknownCredential(n) => {
                            http::HttpError::UnknownCredential(n)
                        }
                        OutboundError::Timeout => http::HttpError::Timeout,
                        OutboundError::Transport(m) => http::HttpError::Transport(m),
                        OutboundError::Tls(m) => ($tls)(m),
                        OutboundError::TooLarge(n) => http::HttpError::TooLarge(n),
                        OutboundError::Invalid(m) => http::HttpError::Invalid(m),
                    })
        }

        impl http::Host for HttpCtx {
            fn send(&mut self, req: http::Request) -> Result<http::Response, http::HttpError> {
                let req = outbound_request(req);
                let (method, url) = (req.method, req.url.clone());
                let result = self.outbound.send(req);
                answer(self, method, &url, result)
            }

            $($http)*
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
                e @ xentral_erp::DbError::Limit(_) => ($limit)(e.to_string()),
            }
        }

        impl db::Host for DbCtx {
            fn query(
                &mut self,
                sql: String,
                params: Vec<db::Value>,
            ) -> Result<db::Rows, db::DbError> {
                let params: Vec<_> = params.into_iter().map(to_erp).collect();
                let started = std::time::Instant::now();
                let rows = self.db.query(&sql, &params);
                self.statements += 1;
                self.time += started.elapsed();
                let rows = rows.map_err(db_error)?;
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
                let started = std::time::Instant::now();
                let r = self.db.execute(&sql, &params);
                self.statements += 1;
                self.time += started.elapsed();
                let r = r.map_err(db_error)?;
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

        impl log::Host for LogCtx {
            fn log(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
                let secrets = &self.secrets;
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

        impl clock::Host for ClockCtx {
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

        impl secrets::Host for SecretsCtx {
            fn exists(&mut self, name: String) -> bool {
                self.secrets.exists(&name)
            }
        }

        impl types::Host for HostState {}

        /// Links this version's host interfaces, each to its own context.
        pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
            http::add_to_linker::<HostState, HasSelf<HttpCtx>>(linker, |s| &mut s.http)?;
            db::add_to_linker::<HostState, HasSelf<DbCtx>>(linker, |s| &mut s.db)?;
            log::add_to_linker::<HostState, HasSelf<LogCtx>>(linker, |s| &mut s.log)?;
            clock::add_to_linker::<HostState, HasSelf<ClockCtx>>(linker, |s| &mut s.clock)?;
            secrets::add_to_linker::<HostState, HasSelf<SecretsCtx>>(linker, |s| &mut s.secrets)?;
            types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
            Ok(())
        }
    };
}

/// `http.send-all` (0.2.0 on): each request under the rules of `send`, up to the tenant's
/// limit in flight, the results in the order of the requests. Expanded inside an
/// `impl http::Host for HttpCtx` of a version's [`host_interfaces`].
macro_rules! send_all_in_flight {
    () => {
        fn send_all(
            &mut self,
            reqs: Vec<http::Request>,
        ) -> Vec<Result<http::Response, http::HttpError>> {
            let reqs: Vec<OutboundRequest> = reqs.into_iter().map(outbound_request).collect();
            let named: Vec<(&'static str, String)> =
                reqs.iter().map(|r| (r.method, r.url.clone())).collect();
            let results = self.outbound.send_all(reqs);
            named
                .into_iter()
                .zip(results)
                .map(|((method, url), result)| answer(self, method, &url, result))
                .collect()
        }
    };
}

/// Converts between one older version's export types and the newest contract's
/// ([`crate::report`]), whose shapes they share (0.1.0 and 0.2.0 alike). Invoked inside a
/// version module with `types` in scope.
macro_rules! export_conversions {
    () => {
        use $crate::bindings::latest::xentral::hubspot::types as latest;

        /// The job in this version's form.
        pub fn job_to_wit(j: latest::Job) -> types::Job {
            match j {
                latest::Job::ProcessQueue => types::Job::ProcessQueue,
                latest::Job::SyncContacts => types::Job::SyncContacts,
                latest::Job::SyncDeals => types::Job::SyncDeals,
            }
        }

        /// The budget in this version's form.
        pub fn budget_to_wit(b: latest::Budget) -> types::Budget {
            types::Budget {
                deadline_ms: b.deadline_ms,
                max_requests: b.max_requests,
                dry_run: b.dry_run,
            }
        }

        /// The entity in this version's form; `None` for one it does not know (a contact
        /// person: versions before 0.3.0 sync none).
        pub fn entity_to_wit(e: latest::Entity) -> Option<types::Entity> {
            match e {
                latest::Entity::Address => Some(types::Entity::Address),
                latest::Entity::Resubmission => Some(types::Entity::Resubmission),
                latest::Entity::ContactPerson => None,
            }
        }

        /// The plugin's error.
        pub fn error_from_wit(e: types::PluginError) -> latest::PluginError {
            match e {
                types::PluginError::NotConfigured(m) => latest::PluginError::NotConfigured(m),
                types::PluginError::InvalidSettings(m) => latest::PluginError::InvalidSettings(m),
                types::PluginError::Unauthorized(m) => latest::PluginError::Unauthorized(m),
                types::PluginError::Hubspot(m) => latest::PluginError::Hubspot(m),
                types::PluginError::Database(m) => latest::PluginError::Database(m),
                types::PluginError::RateLimited(m) => latest::PluginError::RateLimited(m),
            }
        }

        fn counts_from_wit(c: Vec<types::ReasonCount>) -> Vec<latest::ReasonCount> {
            c.into_iter()
                .map(|c| latest::ReasonCount {
                    reason: c.reason,
                    count: c.count,
                })
                .collect()
        }

        fn side_from_wit(s: types::SideReport) -> latest::SideReport {
            latest::SideReport {
                created: s.created,
                updated: s.updated,
                unchanged: s.unchanged,
                conflicts: s.conflicts,
                failed: s.failed,
                excluded: counts_from_wit(s.excluded),
            }
        }

        /// The job.
        pub fn job_from_wit(j: types::Job) -> latest::Job {
            match j {
                types::Job::ProcessQueue => latest::Job::ProcessQueue,
                types::Job::SyncContacts => latest::Job::SyncContacts,
                types::Job::SyncDeals => latest::Job::SyncDeals,
            }
        }

        /// The job report (no version before 0.3.0 plans record by record).
        pub fn job_report_from_wit(r: types::JobReport) -> latest::JobReport {
            latest::JobReport {
                job: job_from_wit(r.job),
                xentral: side_from_wit(r.xentral),
                hubspot: side_from_wit(r.hubspot),
                api_calls: counts_from_wit(r.api_calls),
                pending: r.pending,
                messages: r.messages,
                planned: Vec::new(),
            }
        }

        /// The configure report.
        pub fn configure_report_from_wit(r: types::ConfigureReport) -> latest::ConfigureReport {
            latest::ConfigureReport {
                message: r.message,
                changes: r.changes,
                warnings: r.warnings,
            }
        }

        /// The metadata report.
        pub fn metadata_report_from_wit(r: types::MetadataReport) -> latest::MetadataReport {
            latest::MetadataReport {
                lead_statuses: r.lead_statuses,
                lifecycle_stages: r.lifecycle_stages,
                pipelines: r.pipelines,
                stages: r.stages,
                changes: r.changes,
            }
        }

        /// The stage mode in this version's form.
        pub fn stage_mode_to_wit(m: latest::StageMode) -> types::StageMode {
            match m {
                latest::StageMode::Automatic => types::StageMode::Automatic,
                latest::StageMode::UserDefined => types::StageMode::UserDefined,
            }
        }

        /// The stage overview.
        pub fn stage_overview_from_wit(o: types::StageOverview) -> latest::StageOverview {
            latest::StageOverview {
                mode: match o.mode {
                    types::StageMode::Automatic => latest::StageMode::Automatic,
                    types::StageMode::UserDefined => latest::StageMode::UserDefined,
                },
                xentral: o
                    .xentral
                    .into_iter()
                    .map(|s| latest::XentralStage {
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
                    .map(|s| latest::HubspotStage {
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
    };
}
