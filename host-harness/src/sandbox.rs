//! The sandbox: one wasmtime [`Engine`] per process, components compiled once (and cached on
//! disk), an [`InstancePre`](wasmtime::component::InstancePre) reused for every job, and a fresh
//! [`Store`] per job with the tenant's limits. This module is the only place that sets engine
//! knobs; the rest of the host speaks in [`TenantLimits`] and [`JobError`]s.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use xentral_erp::Database;

use crate::bindings::{
    CONTRACT_VERSION, HostState, plugin_export, v0_1_0 as v1, v0_2_0 as v2, v0_3_0 as v3,
};
use crate::clock::{SharedClock, WasiWallClock};
use crate::joblog::{JobLog, LogEntry, LogLevel};
use crate::limits::TenantLimits;
use crate::outbound::{Origin, Outbound, OutboundPolicy};
use crate::report::{
    Budget, ConfigureReport, Entity, HubspotOptions, Job, JobReport, Manifest, MetadataReport,
    PluginError, Settings, StageOverview,
};
use crate::secrets::JobSecrets;
use crate::sync_health::SyncHealth;

/// How often the epoch advances: a running guest looks at the clock this often, so a job's
/// wall-time limit is enforced to this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The plugin component built by this crate's build script.
pub static PLUGIN_WASM: &[u8] = include_bytes!(env!("XENTRAL_PLUGIN_WASM"));

/// The misbehaving test guest built by this crate's build script (for sandbox tests), of
/// contract 0.1.0.
pub static TEST_GUEST_WASM: &[u8] = include_bytes!(env!("XENTRAL_TEST_GUEST_WASM"));

/// A plugin of contract 0.2.0 built by this crate's build script (for contract tests).
pub static COMPAT_GUEST_WASM: &[u8] = include_bytes!(env!("XENTRAL_COMPAT_GUEST_WASM"));

/// Failures to set up the sandbox (not failures of a job).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The engine could not be configured.
    #[error("could not start the wasm engine: {0}")]
    Engine(String),
    /// The component could not be compiled or linked.
    #[error("could not load the plugin component: {0}")]
    Component(String),
    /// The plugin was built for another contract.
    #[error(
        "the plugin is not compatible with this host: it exports {found}, this host implements xentral:hubspot@{CONTRACT_VERSION}; rebuild the plugin or upgrade the host"
    )]
    Incompatible {
        /// What the plugin exports instead.
        found: String,
    },
    /// The plugin names a contract version this host does not implement, or none.
    #[error(
        "the plugin was built against contract {found}; this host supports {supported}: rebuild the plugin against one of them or use a host that supports it"
    )]
    UnknownContract {
        /// The version it names (`no version` when it carries none).
        found: String,
        /// The versions this host loads.
        supported: String,
    },
}

/// Why one job call failed.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum JobError {
    /// The guest tried to grow its memory past the tenant's cap.
    #[error("the plugin exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// The cap.
        limit_bytes: usize,
    },
    /// The guest used up its fuel (CPU limit).
    #[error("the plugin exceeded its CPU budget ({fuel} fuel)")]
    OutOfFuel {
        /// The fuel it had.
        fuel: u64,
    },
    /// The guest ran past its wall-time deadline.
    #[error("the plugin exceeded its wall-time limit of {wall_time_ms} ms")]
    Deadline {
        /// The limit.
        wall_time_ms: u64,
    },
    /// The guest trapped (a panic, an unreachable, …).
    #[error("the plugin crashed: {message}")]
    Trap {
        /// What happened, including the panic message when there was one.
        message: String,
    },
    /// The plugin returned an error.
    #[error("{0}")]
    Plugin(PluginError),
    /// The host could not run the job.
    #[error("the host could not run the job: {0}")]
    Host(String),
}

/// The outcome of one call into a guest, with what the job logged.
#[derive(Debug)]
pub struct Invocation<T> {
    /// The export's result, or why the job failed.
    pub result: Result<T, JobError>,
    /// The job log (plugin log, stdout/stderr, host notes), secrets redacted.
    pub log: Vec<LogEntry>,
    /// Fuel burnt.
    pub fuel_used: u64,
    /// Wall time of the call including instantiation.
    pub elapsed: Duration,
    /// Time to instantiate from the pre-instance.
    pub instantiate: Duration,
    /// The largest linear memory the guest grew to, in bytes.
    pub memory_peak_bytes: usize,
    /// SQL statements the guest ran.
    pub db_statements: u64,
    /// The time those statements took.
    pub db_time: Duration,
}

impl<T> Invocation<T> {
    /// A call the host refused to make: nothing ran, nothing was logged.
    fn not_run(error: JobError) -> Self {
        Self::without_call(Err(error))
    }

    /// A call there was no need to make (the plugin has nothing to do with it): nothing ran.
    fn not_run_ok(value: T) -> Self {
        Self::without_call(Ok(value))
    }

    fn without_call(result: Result<T, JobError>) -> Self {
        Invocation {
            result,
            log: Vec::new(),
            fuel_used: 0,
            elapsed: Duration::ZERO,
            instantiate: Duration::ZERO,
            memory_peak_bytes: 0,
            db_statements: 0,
            db_time: Duration::ZERO,
        }
    }
}

/// What a job runs with: the tenant's database, limits, network and secrets.
pub struct JobContext {
    /// The tenant database (already restricted to the grant and its statement limits).
    pub db: Box<dyn Database>,
    /// The tenant's limits.
    pub limits: TenantLimits,
    /// Origins the guest may reach.
    pub allowed_origins: Vec<Origin>,
    /// A CA the tenant trusts besides Mozilla's roots (PEM).
    pub extra_ca_pem: Option<String>,
    /// Requests the job may send (the budget's `max-requests`), enforced by the host.
    pub max_requests: Option<u32>,
    /// Secrets the guest may use by name.
    pub secrets: JobSecrets,
    /// Time.
    pub clock: SharedClock,
    /// The tenant's time zone.
    pub time_zone: String,
    /// The HubSpot portal's shared rate budget and the origin it governs.
    pub portal_budget: Option<(
        crate::outbound::Origin,
        Arc<crate::portal_budget::PortalBudget>,
    )>,
}

/// The process-wide engine and the epoch ticker behind wall-time limits.
pub struct Runtime {
    engine: Engine,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Runtime {
    /// Builds the engine with fuel and epoch interruption on.
    pub fn new() -> Result<Arc<Runtime>, SandboxError> {
        let mut config = Config::new();
        // Fuel: a deterministic CPU cap, so tests of runaway guests do not depend on timing.
        config.consume_fuel(true);
        // Epochs: the wall-clock kill switch for guests that block in cheap loops.
        config.epoch_interruption(true);
        // Components are what we load; nothing else of the proposal zoo is needed.
        config.wasm_component_model(true);
        let engine = Engine::new(&config).map_err(|e| SandboxError::Engine(format!("{e:#}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("epoch-ticker".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| SandboxError::Engine(e.to_string()))?
        };
        Ok(Arc::new(Runtime {
            engine,
            stop,
            ticker: Some(ticker),
        }))
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A key that changes whenever compiled artefacts of this engine become unusable.
    fn compatibility_key(&self) -> String {
        let mut h = DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        format!("{:016x}", h.finish())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

/// A guest component ready to instantiate: compiled once, linked once.
pub struct PluginComponent {
    runtime: Arc<Runtime>,
    pre: Pre,
    content_hash: String,
    from_cache: bool,
    manifest: Manifest,
}

impl PluginComponent {
    /// The plugin this host was built with.
    pub fn plugin(runtime: &Arc<Runtime>, cache_dir: Option<&Path>) -> Result<Self, SandboxError> {
        Self::load(runtime, PLUGIN_WASM, cache_dir)
    }

    /// Compiles (or loads from the disk cache) and links a component.
    pub fn load(
        runtime: &Arc<Runtime>,
        wasm: &[u8],
        cache_dir: Option<&Path>,
    ) -> Result<Self, SandboxError> {
        let version = check_contract_version(wasm)?;
        let content_hash = hex::encode(Sha256::digest(wasm));
        let (component, from_cache) = match cache_dir {
            Some(dir) => load_cached(runtime, wasm, &content_hash, dir)?,
            None => (
                Component::new(runtime.engine(), wasm)
                    .map_err(|e| SandboxError::Component(format!("{e:#}")))?,
                false,
            ),
        };
        tracing::debug!(
            hash = &content_hash[..16],
            from_cache,
            "plugin component compiled"
        );
        check_contract(runtime.engine(), &component, version)?;
        let mut linker: Linker<HostState> = Linker::new(runtime.engine());
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| SandboxError::Component(format!("{e:#}")))?;
        let linked = match version {
            "0.1.0" => v1::add_to_linker(&mut linker),
            "0.2.0" => v2::add_to_linker(&mut linker),
            _ => v3::add_to_linker(&mut linker),
        };
        linked.map_err(|e| SandboxError::Component(format!("{e:#}")))?;
        let pre = linker.instantiate_pre(&component).and_then(|pre| {
            Ok(match version {
                "0.1.0" => Pre::V0_1_0(v1::HubspotSyncPre::new(pre)?),
                "0.2.0" => Pre::V0_2_0(v2::HubspotSyncPre::new(pre)?),
                _ => Pre::V0_3_0(v3::HubspotSyncPre::new(pre)?),
            })
        });
        let pre = pre.map_err(|e| SandboxError::Component(format!("{e:#}")))?;
        let mut component = PluginComponent {
            runtime: Arc::clone(runtime),
            pre,
            content_hash,
            from_cache,
            manifest: v1::manifest(),
        };
        if version != "0.1.0" {
            component.manifest = component.read_manifest()?;
        }
        Ok(component)
    }

    /// Asks a 0.2.0 or later component for its manifest, giving it no capability: a private empty
    /// database it may not touch, no origin, no secret.
    fn read_manifest(&self) -> Result<Manifest, SandboxError> {
        let clock: SharedClock = Arc::new(crate::clock::SystemClock);
        let db = xentral_erp::SqliteDatabase::open_in_memory(crate::clock::now_fn(&clock))
            .map_err(|e| SandboxError::Component(format!("a database for the manifest: {e}")))?
            .with_grant(xentral_erp::TableGrant::new());
        let ctx = JobContext {
            db: Box::new(db),
            limits: TenantLimits::default(),
            allowed_origins: Vec::new(),
            extra_ca_pem: None,
            max_requests: Some(0),
            secrets: JobSecrets::new(Default::default()),
            clock,
            time_zone: "UTC".into(),
            portal_budget: None,
        };
        let asked = self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(_) => Ok(Ok(Ok(v1::manifest()))),
            Instance::V0_2_0(b) => b
                .xentral_hubspot_plugin()
                .call_manifest(store)
                .map(|m| Ok(Manifest::from_plugin(v2::manifest_from_wit(m)))),
            Instance::V0_3_0(b) => b
                .xentral_hubspot_plugin()
                .call_manifest(store)
                .map(|m| Ok(Manifest::from_plugin(m))),
        });
        let unusable =
            |e: String| SandboxError::Component(format!("the component's manifest: {e}"));
        let manifest = asked
            .result
            .map_err(|e| unusable(e.to_string()))?
            .map_err(unusable)?;
        if manifest.contract_version != self.contract_version() {
            return Err(SandboxError::Component(format!(
                "the component's manifest names contract {} but the component is built against {}",
                manifest.contract_version,
                self.contract_version()
            )));
        }
        Ok(manifest)
    }

    /// What the component is: its jobs and the tables it asks for (for a 0.1.0 component,
    /// what that release ran and used).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// SHA-256 of the component's bytes.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// Whether the compiled code came from the disk cache (checked intact) rather than a
    /// fresh compile: a cold start costs seconds per process.
    pub fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    /// The contract version the component was built against.
    pub fn contract_version(&self) -> &'static str {
        match self.pre {
            Pre::V0_1_0(_) => "0.1.0",
            Pre::V0_2_0(_) => "0.2.0",
            Pre::V0_3_0(_) => "0.3.0",
        }
    }

    /// `configure(settings)`.
    pub fn configure(&self, ctx: JobContext, s: &Settings) -> Invocation<ConfigureReport> {
        self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(b) => b
                .xentral_hubspot_plugin()
                .call_configure(store, &v1::settings_to_wit(s))
                .map(|r| {
                    r.map(v1::configure_report_from_wit)
                        .map_err(v1::error_from_wit)
                }),
            Instance::V0_2_0(b) => b
                .xentral_hubspot_plugin()
                .call_configure(store, &v2::settings_to_wit(s))
                .map(|r| {
                    r.map(v2::configure_report_from_wit)
                        .map_err(v2::error_from_wit)
                }),
            Instance::V0_3_0(b) => b.xentral_hubspot_plugin().call_configure(store, s),
        })
    }

    /// `refresh-metadata()`.
    pub fn refresh_metadata(&self, ctx: JobContext) -> Invocation<MetadataReport> {
        self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(b) => {
                b.xentral_hubspot_plugin()
                    .call_refresh_metadata(store)
                    .map(|r| {
                        r.map(v1::metadata_report_from_wit)
                            .map_err(v1::error_from_wit)
                    })
            }
            Instance::V0_2_0(b) => {
                b.xentral_hubspot_plugin()
                    .call_refresh_metadata(store)
                    .map(|r| {
                        r.map(v2::metadata_report_from_wit)
                            .map_err(v2::error_from_wit)
                    })
            }
            Instance::V0_3_0(b) => b.xentral_hubspot_plugin().call_refresh_metadata(store),
        })
    }

    /// `run(job, budget)`. The host enforces the budget's `max-requests` itself.
    pub fn run(&self, mut ctx: JobContext, job: Job, budget: Budget) -> Invocation<JobReport> {
        ctx.max_requests = match (ctx.max_requests, budget.max_requests) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(b) => b
                .xentral_hubspot_plugin()
                .call_run(store, v1::job_to_wit(job), v1::budget_to_wit(budget))
                .map(|r| r.map(v1::job_report_from_wit).map_err(v1::error_from_wit)),
            Instance::V0_2_0(b) => b
                .xentral_hubspot_plugin()
                .call_run(store, v2::job_to_wit(job), v2::budget_to_wit(budget))
                .map(|r| r.map(v2::job_report_from_wit).map_err(v2::error_from_wit)),
            Instance::V0_3_0(b) => b.xentral_hubspot_plugin().call_run(store, job, budget),
        })
    }

    /// `record-changed(entity, id)`. A plugin of a version that does not know the entity
    /// (a contact person before 0.3.0) syncs no such records: nothing to tell it.
    pub fn record_changed(&self, ctx: JobContext, entity: Entity, id: i64) -> Invocation<()> {
        let unknown = match self.pre {
            Pre::V0_1_0(_) => v1::entity_to_wit(entity).is_none(),
            Pre::V0_2_0(_) => v2::entity_to_wit(entity).is_none(),
            Pre::V0_3_0(_) => false,
        };
        if unknown {
            return Invocation::not_run_ok(());
        }
        self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(b) => b
                .xentral_hubspot_plugin()
                .call_record_changed(store, v1::entity_to_wit(entity).expect("checked"), id)
                .map(|r| r.map_err(v1::error_from_wit)),
            Instance::V0_2_0(b) => b
                .xentral_hubspot_plugin()
                .call_record_changed(store, v2::entity_to_wit(entity).expect("checked"), id)
                .map(|r| r.map_err(v2::error_from_wit)),
            Instance::V0_3_0(b) => b
                .xentral_hubspot_plugin()
                .call_record_changed(store, entity, id),
        })
    }

    /// `list-stages()`.
    pub fn list_stages(&self, ctx: JobContext) -> Invocation<StageOverview> {
        self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(b) => b.xentral_hubspot_plugin().call_list_stages(store).map(|r| {
                r.map(v1::stage_overview_from_wit)
                    .map_err(v1::error_from_wit)
            }),
            Instance::V0_2_0(b) => b.xentral_hubspot_plugin().call_list_stages(store).map(|r| {
                r.map(v2::stage_overview_from_wit)
                    .map_err(v2::error_from_wit)
            }),
            Instance::V0_3_0(b) => b.xentral_hubspot_plugin().call_list_stages(store),
        })
    }

    /// `map-stage(…)`.
    pub fn map_stage(
        &self,
        ctx: JobContext,
        xentral_stage: i64,
        pipeline_id: &str,
        stage_id: &str,
    ) -> Invocation<String> {
        self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(b) => b
                .xentral_hubspot_plugin()
                .call_map_stage(store, xentral_stage, pipeline_id, stage_id)
                .map(|r| r.map_err(v1::error_from_wit)),
            Instance::V0_2_0(b) => b
                .xentral_hubspot_plugin()
                .call_map_stage(store, xentral_stage, pipeline_id, stage_id)
                .map(|r| r.map_err(v2::error_from_wit)),
            Instance::V0_3_0(b) => b.xentral_hubspot_plugin().call_map_stage(
                store,
                xentral_stage,
                pipeline_id,
                stage_id,
            ),
        })
    }

    /// `sync-health()`: what the plugin's state says of each object kind and of the queue.
    /// A 0.1.0 component has no such export: the host says so and reads nothing.
    pub fn sync_health(&self, ctx: JobContext) -> Invocation<SyncHealth> {
        if matches!(self.pre, Pre::V0_1_0(_)) {
            return Invocation::not_run(JobError::Host(
                "a plugin of contract 0.1.0 reports no sync health; 0.2.0 or later does".into(),
            ));
        }
        self.invoke(ctx, |b, store| match b {
            Instance::V0_1_0(_) => unreachable!("checked above"),
            Instance::V0_2_0(b) => b.xentral_hubspot_plugin().call_sync_health(store).map(|r| {
                r.map(|h| v2::health_from_wit(h).into())
                    .map_err(v2::error_from_wit)
            }),
            Instance::V0_3_0(b) => b
                .xentral_hubspot_plugin()
                .call_sync_health(store)
                .map(|r| r.map(SyncHealth::from)),
        })
    }

    /// `retry-now(object, records)`: makes failing records due now; returns how many. A
    /// plugin before 0.3.0 has no such export.
    pub fn retry_now(
        &self,
        ctx: JobContext,
        object: Option<&str>,
        records: &[String],
    ) -> Invocation<u32> {
        self.invoke(ctx, |b, store| match b {
            Instance::V0_3_0(b) => b
                .xentral_hubspot_plugin()
                .call_retry_now(store, object, records),
            _ => Ok(Err(PluginError::NotConfigured(format!(
                "a plugin of contract {} cannot retry records on request; 0.3.0 or later can",
                self.contract_version()
            )))),
        })
    }

    /// `list-options()`: the lead statuses and lifecycle stages the last Refresh read. A
    /// plugin before 0.3.0 has no such export.
    pub fn list_options(&self, ctx: JobContext) -> Invocation<HubspotOptions> {
        self.invoke(ctx, |b, store| match b {
            Instance::V0_3_0(b) => b.xentral_hubspot_plugin().call_list_options(store),
            _ => Ok(Err(PluginError::NotConfigured(format!(
                "a plugin of contract {} does not list HubSpot's options; 0.3.0 or later does",
                self.contract_version()
            )))),
        })
    }

    /// Every pair of one object kind the plugin keeps in sync, as (HubSpot id, xentral id):
    /// `links(object, after, page)` called page after page in one instance (one store, one
    /// connection) until a page comes back empty. A 0.1.0 component has no such export.
    pub fn links(
        &self,
        ctx: JobContext,
        object: &str,
        page: u32,
    ) -> Invocation<Vec<(String, i64)>> {
        if matches!(self.pre, Pre::V0_1_0(_)) {
            return Invocation::not_run(JobError::Host(
                "a plugin of contract 0.1.0 does not list its links; 0.2.0 or later does".into(),
            ));
        }
        self.invoke(ctx, |b, store| {
            let mut all: Vec<(String, i64)> = Vec::new();
            loop {
                let after = all.last().map_or(0, |(_, x)| *x);
                let links: Result<Vec<(String, i64)>, PluginError> = match b {
                    Instance::V0_1_0(_) => unreachable!("checked above"),
                    Instance::V0_2_0(b) => b
                        .xentral_hubspot_plugin()
                        .call_links(&mut *store, object, after, page)?
                        .map(|l| {
                            l.into_iter()
                                .map(|l| (l.hubspot_id, l.xentral_id))
                                .collect()
                        })
                        .map_err(v2::error_from_wit),
                    Instance::V0_3_0(b) => b
                        .xentral_hubspot_plugin()
                        .call_links(&mut *store, object, after, page)?
                        .map(|l| {
                            l.into_iter()
                                .map(|l| (l.hubspot_id, l.xentral_id))
                                .collect()
                        }),
                };
                match links {
                    Ok(links) if links.is_empty() => return Ok(Ok(all)),
                    Ok(links) => all.extend(links),
                    Err(e) => return Ok(Err(e)),
                }
            }
        })
    }

    /// Runs one export in a fresh store under the context's limits.
    fn invoke<T>(
        &self,
        ctx: JobContext,
        call: impl FnOnce(&Instance, &mut Store<HostState>) -> wasmtime::Result<Result<T, PluginError>>,
    ) -> Invocation<T> {
        let started = Instant::now();
        let deadline = started + ctx.limits.wall_time();
        let limits = ctx.limits.clone();
        let log = JobLog::with_caps(limits.max_log_entries, limits.max_log_bytes);
        let stdout = MemoryOutputPipe::new(limits.max_output_bytes);
        let stderr = MemoryOutputPipe::new(limits.max_output_bytes);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(WasiWallClock(Arc::clone(&ctx.clock)))
            .build();
        let secrets = ctx.secrets.clone();
        let outbound = Outbound::new(
            OutboundPolicy {
                allowed: ctx.allowed_origins,
                max_response_bytes: limits.max_response_bytes,
                timeout_cap: limits.request_timeout(),
                max_requests: ctx.max_requests,
                deadline: Some(deadline),
                extra_ca_pem: ctx.extra_ca_pem,
                portal_budget: ctx.portal_budget,
                max_in_flight: limits.max_requests_in_flight,
            },
            ctx.secrets,
        );
        let outbound = match outbound {
            Ok(o) => o,
            Err(e) => {
                return Invocation::not_run(JobError::Host(format!("the tenant's CA file: {e}")));
            }
        };
        let mut db = ctx.db;
        db.set_deadline(Some(deadline));
        let state = HostState::new(
            wasi,
            MemoryLimiter::new(&limits),
            db,
            outbound,
            Arc::clone(&ctx.clock),
            log.clone(),
            ctx.time_zone,
        );
        let mut store = Store::new(self.runtime.engine(), state);
        store.limiter(|s| &mut s.limiter);
        let fuel = limits.fuel;
        let fuel_set = store.set_fuel(fuel);
        // The wall-time limit is the same instant the host's own deadline (statements, requests)
        // uses: every tick the guest is running, the callback compares the clock with it, so
        // a guest returning from a host call that was stopped at the deadline traps at once.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(Trap::Interrupt.into())
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });

        let inst_started = Instant::now();
        let result = fuel_set
            .and_then(|()| self.pre.instantiate(&mut store))
            .map_err(|e| (e, true));
        let instantiate = inst_started.elapsed();
        let result =
            result.and_then(|bindings| call(&bindings, &mut store).map_err(|e| (e, false)));
        let fuel_used = fuel.saturating_sub(store.get_fuel().unwrap_or(0));

        let state = store.data_mut();
        if state.db.db.in_transaction() {
            let _ = state.db.db.rollback();
            state.log_rollback();
        }
        let clock = Arc::clone(&state.clock.clock);
        let memory_hit = state.limiter.exceeded;
        let memory_peak_bytes = state.limiter.peak;
        let (db_statements, db_time) = (state.db.statements, state.db.time);
        for (source, pipe) in [("stdout", &stdout), ("stderr", &stderr)] {
            let text = String::from_utf8_lossy(&pipe.contents()).into_owned();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                log.push(LogEntry {
                    at_ms: clock.now_ms(),
                    level: if source == "stderr" {
                        LogLevel::Warn
                    } else {
                        LogLevel::Info
                    },
                    source: source.into(),
                    message: secrets.redact(line),
                    fields: Vec::new(),
                });
            }
        }
        let result = match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(JobError::Plugin(e)),
            Err((e, _)) => Err(classify_trap(&e, &limits, memory_hit, &log, &secrets)),
        };
        if let Err(e) = &result {
            log.push(LogEntry {
                at_ms: clock.now_ms(),
                level: LogLevel::Error,
                source: "host".into(),
                message: secrets.redact(&e.to_string()),
                fields: Vec::new(),
            });
        }
        Invocation {
            result,
            log: log.entries(),
            fuel_used,
            elapsed: started.elapsed(),
            instantiate,
            memory_peak_bytes,
            db_statements,
            db_time,
        }
    }
}

/// A linked component of one contract version.
enum Pre {
    V0_1_0(v1::HubspotSyncPre<HostState>),
    V0_2_0(v2::HubspotSyncPre<HostState>),
    V0_3_0(v3::HubspotSyncPre<HostState>),
}

/// One instance of a component, of its contract version.
enum Instance {
    V0_1_0(v1::HubspotSync),
    V0_2_0(v2::HubspotSync),
    V0_3_0(v3::HubspotSync),
}

impl Pre {
    fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::V0_1_0(pre) => Instance::V0_1_0(pre.instantiate(&mut *store)?),
            Pre::V0_2_0(pre) => Instance::V0_2_0(pre.instantiate(&mut *store)?),
            Pre::V0_3_0(pre) => Instance::V0_3_0(pre.instantiate(&mut *store)?),
        })
    }
}

impl HostState {
    fn log_rollback(&self) {
        self.log.log.push(LogEntry {
            at_ms: self.clock.clock.now_ms(),
            level: LogLevel::Warn,
            source: "host".into(),
            message: "rolled back the transaction the job left open".into(),
            fields: Vec::new(),
        });
    }
}

/// Turns a wasmtime error into the job error an operator can act on.
fn classify_trap(
    e: &wasmtime::Error,
    limits: &TenantLimits,
    memory_hit: bool,
    log: &JobLog,
    secrets: &JobSecrets,
) -> JobError {
    if memory_hit || e.downcast_ref::<MemoryLimitExceeded>().is_some() {
        return JobError::MemoryLimit {
            limit_bytes: limits.memory_bytes,
        };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            return JobError::OutOfFuel { fuel: limits.fuel };
        }
        Some(Trap::Interrupt) => {
            return JobError::Deadline {
                wall_time_ms: limits.wall_time_ms,
            };
        }
        _ => {}
    }
    let panic = log
        .entries()
        .iter()
        .filter(|e| e.source == "stderr")
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("\n");
    let trap = e
        .downcast_ref::<Trap>()
        .map_or_else(|| format!("{e:#}"), |t| t.to_string());
    let message = if panic.is_empty() {
        trap
    } else {
        format!("{panic} ({trap})")
    };
    JobError::Trap {
        message: secrets.redact(&message),
    }
}

/// The error a denied memory growth raises inside the guest.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded (all memories together would be {desired})")]
pub struct MemoryLimitExceeded {
    limit: usize,
    desired: usize,
}

/// Caps a store's linear memories *together* (wasmtime 48 enables multi-memory, so a
/// component may have several, each under a per-memory cap), the number of memories, tables
/// and instances, and remembers whether the memory cap was hit and the peak.
pub struct MemoryLimiter {
    limit: usize,
    memories: usize,
    tables: usize,
    instances: usize,
    total: usize,
    exceeded: bool,
    peak: usize,
}

impl MemoryLimiter {
    /// A limiter with the tenant's caps.
    pub fn new(limits: &TenantLimits) -> Self {
        MemoryLimiter {
            limit: limits.memory_bytes,
            memories: limits.max_memories,
            tables: limits.max_tables,
            instances: limits.max_instances,
            total: 0,
            exceeded: false,
            peak: 0,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total.saturating_sub(current).saturating_add(desired);
        if total > self.limit {
            self.exceeded = true;
            return Err(MemoryLimitExceeded {
                limit: self.limit,
                desired: total,
            }
            .into());
        }
        self.total = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// Loads a compiled component from the cache or compiles and stores it. The file name carries
/// the component's content hash and the engine's compatibility key; a sidecar holds the
/// SHA-256 of the compiled bytes, checked before they are trusted. Returns the component and
/// whether it came from the cache.
fn load_cached(
    runtime: &Runtime,
    wasm: &[u8],
    content_hash: &str,
    dir: &Path,
) -> Result<(Component, bool), SandboxError> {
    let base = dir.join(format!(
        "{}-{}",
        &content_hash[..16],
        runtime.compatibility_key()
    ));
    let artefact = base.with_extension("cwasm");
    let checksum = base.with_extension("sha256");
    if let (Ok(bytes), Ok(sum)) = (fs::read(&artefact), fs::read_to_string(&checksum))
        && hex::encode(Sha256::digest(&bytes)) == sum.trim()
    {
        // SAFETY: the bytes were produced by `precompile_component` of an engine with the
        // same compatibility key (part of the file name) and are unchanged since (checksum).
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize(runtime.engine(), &bytes) };
        if let Ok(c) = loaded {
            return Ok((c, true));
        }
    }
    let compiled = runtime
        .engine()
        .precompile_component(wasm)
        .map_err(|e| SandboxError::Component(format!("{e:#}")))?;
    if fs::create_dir_all(dir).is_ok() {
        let tmp: PathBuf = base.with_extension(format!("tmp{}", std::process::id()));
        if fs::write(&tmp, &compiled).is_ok() && fs::rename(&tmp, &artefact).is_ok() {
            let _ = fs::write(&checksum, hex::encode(Sha256::digest(&compiled)));
        }
    }
    // SAFETY: `compiled` was just produced by this engine.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(runtime.engine(), &compiled) };
    component
        .map(|c| (c, false))
        .map_err(|e| SandboxError::Component(format!("{e:#}")))
}

/// Refuses, before compiling it, a component whose contract version (its custom section)
/// this host does not implement.
fn check_contract_version(wasm: &[u8]) -> Result<&'static str, SandboxError> {
    let found = crate::bindings::contract_version(wasm).map_err(SandboxError::Component)?;
    let supported = found.as_deref().and_then(|v| {
        crate::bindings::SUPPORTED_CONTRACTS
            .iter()
            .copied()
            .find(|s| *s == v)
    });
    match (supported, found) {
        (Some(v), _) => Ok(v),
        (None, other) => Err(SandboxError::UnknownContract {
            found: other.map_or_else(
                || "no version".to_owned(),
                |v| format!("xentral:hubspot@{v}"),
            ),
            supported: crate::bindings::SUPPORTED_CONTRACTS
                .iter()
                .map(|v| format!("xentral:hubspot@{v}"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Refuses a component that does not export this host's contract version.
fn check_contract(
    engine: &Engine,
    component: &Component,
    version: &str,
) -> Result<(), SandboxError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
    let expected = plugin_export(version);
    if exports.contains(&expected) {
        return Ok(());
    }
    Err(SandboxError::Incompatible {
        found: if exports.is_empty() {
            "nothing".into()
        } else {
            exports.join(", ")
        },
    })
}
