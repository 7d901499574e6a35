//! The host façade: what xentral does with the plugin for a tenant — save settings, press
//! Refresh, run a job, fire a save hook — each as one sandboxed call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use xentral_erp::mysql_compat::instant_from_millis;
use xentral_erp::scheduler::ClaimOutcome;

use crate::clock::SharedClock;
use crate::outbound::{Origin, OriginError, parse_ca_pem};
use crate::portal_budget::PortalBudget;
use crate::report::{
    Budget, ConfigureReport, Entity, Job, JobReport, MetadataReport, Settings, StageOverview,
};
use crate::runlog::RunLog;
use crate::sandbox::{Invocation, JobContext, JobError, PluginComponent, Runtime, SandboxError};
use crate::secrets::{HostKey, JobSecrets, KeyError, Secret};
use crate::sync_health::SyncHealth;
use crate::tenant::{DataDir, MysqlSetup, Tenant, TenantError};

/// The name under which the host keeps a tenant's HubSpot access token.
pub const HUBSPOT_CREDENTIAL: &str = "hubspot";

/// The HubSpot API base URL a tenant gets when it never named one.
pub const DEFAULT_HUBSPOT_URL: &str = "https://api.hubapi.com";

/// Errors of host operations (as opposed to a job's own failure).
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A tenant problem.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The sandbox could not be set up.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// A setting is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The job's process starter is running right now.
    #[error("the process starter '{starter}' is running right now{}", holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Locked {
        /// The starter's name.
        starter: String,
        /// Who holds the lock, where its lease says.
        holder: Option<String>,
    },
    /// The HubSpot URL may not be used.
    #[error(transparent)]
    Origin(#[from] OriginError),
    /// The HubSpot URL's origin changed, and no token was given for the new one.
    #[error(
        "the HubSpot URL changes from {saved} to {new}: give the access token again (--token); the saved one is only ever sent to {saved}"
    )]
    TokenForOtherOrigin {
        /// The origin the saved token was validated for.
        saved: String,
        /// The new origin.
        new: String,
    },
    /// There is no token yet.
    #[error("no HubSpot access token is saved for this tenant yet: give one with --token")]
    NoToken,
    /// The host key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// What a Save of the module's settings page changes besides the plugin's settings.
#[derive(Debug, Clone, Default)]
pub struct Connection<'a> {
    /// The HubSpot base URL; `None` keeps the saved one (or [`DEFAULT_HUBSPOT_URL`]).
    pub hubspot_url: Option<&'a str>,
    /// A new access token; `None` keeps the saved one, which is valid only for the saved URL's
    /// origin.
    pub token: Option<&'a str>,
    /// A CA certificate (PEM) to trust besides Mozilla's roots; `None` keeps the saved one.
    pub extra_ca_pem: Option<&'a str>,
}

/// A xentral host: one engine, one plugin, many tenants.
pub struct XentralHost {
    data: DataDir,
    clock: SharedClock,
    runtime: Arc<Runtime>,
    component: PluginComponent,
    cache_dir: PathBuf,
}

/// The environment variable naming the compiled-component cache shared by every data
/// directory of this user (default: `$XDG_CACHE_HOME/xentral-host`, else
/// `~/.cache/xentral-host`).
pub const CACHE_DIR_ENV: &str = "XENTRAL_HOST_CACHE_DIR";

/// Where the built-in plugin's compiled code is cached: shared by every data directory of
/// this user (it is keyed by the component's content hash and the engine, so sharing is
/// safe), so many tenants' hosts and test worlds compile the plugin once. Only a directory
/// no one else may write to is used: compiled code from it is run. Without one, the data
/// directory's own cache.
pub fn shared_cache_dir(data: &DataDir) -> PathBuf {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let chosen = env(CACHE_DIR_ENV).or_else(|| {
        env("XDG_CACHE_HOME")
            .or_else(|| env("HOME").map(|h| h.join(".cache")))
            .map(|c| c.join("xentral-host"))
    });
    let Some(dir) = chosen else {
        return data.cache_dir();
    };
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir);
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() && m.permissions().mode() & 0o022 == 0 => dir,
        _ => {
            tracing::warn!(dir = %dir.display(), "the shared component cache is not a directory only its owner may write to; using the data directory's");
            data.cache_dir()
        }
    }
}

impl XentralHost {
    /// A host running the built-in plugin over `data_dir`, sealing secrets under `key` (which
    /// must not live inside `data_dir`).
    pub fn new(
        data_dir: impl AsRef<Path>,
        key: HostKey,
        clock: SharedClock,
    ) -> Result<Self, HostError> {
        key.check_outside(data_dir.as_ref())?;
        let data = DataDir::new(data_dir.as_ref(), Arc::new(key));
        let runtime = Runtime::new()?;
        let cache_dir = shared_cache_dir(&data);
        let component = PluginComponent::plugin(&runtime, Some(&cache_dir))?;
        Ok(XentralHost {
            data,
            clock,
            runtime,
            component,
            cache_dir,
        })
    }

    /// A host running another component (the sandbox tests' misbehaving guest), cached in
    /// the data directory only.
    pub fn with_component(
        data_dir: impl AsRef<Path>,
        key: HostKey,
        clock: SharedClock,
        wasm: &[u8],
    ) -> Result<Self, HostError> {
        key.check_outside(data_dir.as_ref())?;
        let data = DataDir::new(data_dir.as_ref(), Arc::new(key));
        let runtime = Runtime::new()?;
        let cache_dir = data.cache_dir();
        let component = PluginComponent::load(&runtime, wasm, Some(&cache_dir))?;
        Ok(XentralHost {
            data,
            clock,
            runtime,
            component,
            cache_dir,
        })
    }

    /// The data directory.
    pub fn data(&self) -> &DataDir {
        &self.data
    }

    /// Where this host caches compiled components ([`shared_cache_dir`] for the built-in
    /// plugin; the data directory's own for another component).
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// The host clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The wasm runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The loaded component.
    pub fn component(&self) -> &PluginComponent {
        &self.component
    }

    /// Creates a tenant.
    pub fn create_tenant(&self, name: &str) -> Result<Tenant, HostError> {
        Ok(self.data.create_tenant(name, &self.clock)?)
    }

    /// Creates a tenant whose xentral database is on MariaDB (`Some`; see [`MysqlSetup`]) or
    /// SQLite (`None`).
    pub fn create_tenant_on(
        &self,
        name: &str,
        mysql: Option<MysqlSetup<'_>>,
    ) -> Result<Tenant, HostError> {
        Ok(self.data.create_tenant_on(
            name,
            mysql,
            &self.component.manifest().tables,
            &self.clock,
        )?)
    }

    /// Connects an existing tenant to its MariaDB database again (new host account password,
    /// a new or re-checked plugin account): `tenant set-db`.
    pub fn set_tenant_database(
        &self,
        name: &str,
        mysql: MysqlSetup<'_>,
    ) -> Result<Tenant, HostError> {
        let mut tenant = self.tenant(name)?;
        tenant.connect_mysql(&mysql, &self.component.manifest().tables, &self.clock)?;
        tenant.save()?;
        Ok(tenant)
    }

    /// Opens a tenant.
    pub fn tenant(&self, name: &str) -> Result<Tenant, HostError> {
        Ok(self.data.tenant(name)?)
    }

    fn context(
        &self,
        tenant: &Tenant,
        secrets: JobSecrets,
        origins: Vec<Origin>,
        extra_ca_pem: Option<String>,
    ) -> Result<JobContext, HostError> {
        let portal_budget = match secrets.get(HUBSPOT_CREDENTIAL) {
            Some(Secret {
                value,
                origin: Some(origin),
            }) => {
                let governed = Origin::parse(origin)?;
                let (tenant, clock) = (tenant.clone(), Arc::clone(&self.clock));
                let open: crate::portal_budget::Opener = Box::new(move || {
                    tenant.open_admin_db(&clock).map_err(|e| match e {
                        TenantError::Database(db) => db,
                        other => xentral_erp::DbError::Io(other.to_string()),
                    })
                });
                let budget = PortalBudget::new(open, origin, value, Arc::clone(&self.clock));
                Some((governed, Arc::new(budget)))
            }
            _ => None,
        };
        Ok(JobContext {
            portal_budget,
            db: tenant.open_guest_db(&self.clock, &self.component.manifest().tables)?,
            limits: tenant.config.limits.clone(),
            allowed_origins: origins,
            extra_ca_pem,
            max_requests: None,
            secrets,
            clock: Arc::clone(&self.clock),
            time_zone: tenant.config.time_zone.clone(),
        })
    }

    /// The grant the plugin holds on a database under `limits`: their policy (or the
    /// host's) intersected with what the plugin's manifest asks for.
    pub fn plugin_grant(&self, limits: &crate::limits::TenantLimits) -> xentral_erp::TableGrant {
        limits.grant(&self.component.manifest().tables)
    }

    /// What the plugin's state says of each object kind and of the queue, with the
    /// exclusions of each kind's last run from the run log; on a read-only connection and
    /// without network.
    pub fn sync_health(&self, tenant_name: &str) -> Result<Invocation<SyncHealth>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        let runs = RunLog::for_tenant(&tenant)
            .latest_by_starter()
            .unwrap_or_default();
        let mut inv = self.component.sync_health(self.read_only_context(&tenant)?);
        let manifest = self.component.manifest();
        inv.result = inv.result.map(|h| h.with_exclusions(manifest, &runs));
        Ok(inv)
    }

    /// Every pair of one object kind (`contact`, `deal`) the plugin keeps in sync, as
    /// (HubSpot id, xentral id) by xentral id, read a page at a time in one call on a
    /// read-only connection without network.
    pub fn links(
        &self,
        tenant_name: &str,
        object: &str,
    ) -> Result<Result<Vec<(String, i64)>, JobError>, HostError> {
        const PAGE: u32 = 1_000;
        let tenant = self.tenant(tenant_name)?;
        let ctx = self.read_only_context(&tenant)?;
        Ok(self.component.links(ctx, object, PAGE).result)
    }

    /// The lead statuses and lifecycle stages the last Refresh read (the plugin's
    /// `list-options`), on a read-only connection without network.
    pub fn list_options(
        &self,
        tenant_name: &str,
    ) -> Result<Invocation<crate::report::HubspotOptions>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        Ok(self
            .component
            .list_options(self.read_only_context(&tenant)?))
    }

    /// Makes failing records due now (the plugin's `retry-now`): of one object kind or of
    /// every kind, the given ids or all of them; the next run retries them (and sends again
    /// those HubSpot refused). It writes only the plugin's own state and calls no one.
    pub fn retry_now(
        &self,
        tenant_name: &str,
        object: Option<&str>,
        records: &[String],
    ) -> Result<Invocation<u32>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        let mut ctx = self.job_context(&tenant)?;
        ctx.allowed_origins.clear();
        ctx.max_requests = Some(0);
        Ok(self.component.retry_now(ctx, object, records))
    }

    /// A job context for exports that only read: the database refuses every write on its
    /// connection, and no origin is allowed.
    fn read_only_context(&self, tenant: &Tenant) -> Result<JobContext, HostError> {
        let mut ctx = self.job_context(tenant)?;
        ctx.db
            .set_read_only()
            .map_err(|e| HostError::Tenant(TenantError::from(e)))?;
        ctx.allowed_origins.clear();
        ctx.max_requests = Some(0);
        Ok(ctx)
    }

    /// The job context of a tenant as stored.
    pub fn job_context(&self, tenant: &Tenant) -> Result<JobContext, HostError> {
        let secrets = JobSecrets::new(tenant.guest_secrets()?);
        self.context(
            tenant,
            secrets,
            tenant.allowed_origins()?,
            tenant.config.extra_ca_pem.clone(),
        )
    }

    /// Saves settings (the module's Save button). The HubSpot URL is the one given, else the
    /// saved one, else [`DEFAULT_HUBSPOT_URL`]; plain `http://` is refused unless it is
    /// loopback. A token is bound to the origin it is validated for: a new origin needs the
    /// token again (the saved one is never sent to it). The token, the URL and the CA are only
    /// kept when the plugin accepted them; `settings.hubspot_url` is replaced by the URL used.
    pub fn configure(
        &self,
        tenant_name: &str,
        connection: &Connection<'_>,
        settings: &Settings,
    ) -> Result<Invocation<ConfigureReport>, HostError> {
        if let Some(refused) = beyond_contract(self.component.contract_version(), settings) {
            return Err(HostError::Invalid(refused));
        }
        let mut tenant = self.tenant(tenant_name)?;
        let url = connection
            .hubspot_url
            .map(str::to_owned)
            .or_else(|| tenant.config.hubspot_url.clone())
            .unwrap_or_else(|| DEFAULT_HUBSPOT_URL.to_owned());
        let url = url.trim().trim_end_matches('/').to_owned();
        let origin = Origin::parse(&url)?;
        let mut secrets = tenant.guest_secrets()?;
        let token = connection.token.map(str::trim);
        match token {
            Some("") => return Err(HostError::Invalid("the access token is empty".into())),
            Some(token) => {
                secrets.insert(
                    HUBSPOT_CREDENTIAL.into(),
                    Secret {
                        value: token.to_owned(),
                        origin: Some(origin.to_string()),
                    },
                );
            }
            None => match secrets.get(HUBSPOT_CREDENTIAL) {
                None => return Err(HostError::NoToken),
                Some(saved) if saved.origin.as_deref() != Some(&origin.to_string()) => {
                    return Err(HostError::TokenForOtherOrigin {
                        saved: saved.origin.clone().unwrap_or_else(|| "no origin".into()),
                        new: origin.to_string(),
                    });
                }
                Some(_) => {}
            },
        }
        let extra_ca = match connection.extra_ca_pem {
            Some(pem) => {
                parse_ca_pem(pem).map_err(|e| HostError::Invalid(format!("the CA file: {e}")))?;
                Some(pem.to_owned())
            }
            None => tenant.config.extra_ca_pem.clone(),
        };
        let mut origins = if tenant.config.limits.allowed_origins.is_empty() {
            Vec::new()
        } else {
            tenant.allowed_origins()?
        };
        if !origins.contains(&origin) {
            origins.push(origin.clone());
        }
        let settings = Settings {
            hubspot_url: url.clone(),
            ..settings.clone()
        };
        let ctx = self.context(&tenant, JobSecrets::new(secrets), origins, extra_ca.clone())?;
        let mut invocation = self.component.configure(ctx, &settings);
        if token.is_none()
            && let Ok(report) = &mut invocation.result
        {
            // The old module's message says the token was saved; here it was not given.
            report.message = if report.changes.is_empty() {
                "Nothing to update: the settings are as saved; the saved access token was checked and kept.".into()
            } else {
                "Settings updated; the saved access token was checked and kept.".into()
            };
        }
        if invocation.result.is_ok() {
            if let Some(token) = token {
                tenant
                    .secrets()
                    .put(HUBSPOT_CREDENTIAL, token, Some(&origin.to_string()))
                    .map_err(TenantError::from)?;
            }
            tenant.config.hubspot_url = Some(url);
            tenant.config.extra_ca_pem = extra_ca;
            tenant.config.settings = Some(settings);
            tenant.save()?;
        }
        Ok(invocation)
    }

    /// What `settings` starts from for each flag not given: the settings saved last, else the
    /// old HubSpot module's, else the built-in ones (see [`crate::settings_defaults`]).
    pub fn settings_defaults(
        &self,
        tenant_name: &str,
    ) -> Result<crate::settings_defaults::Defaults, HostError> {
        let tenant = self.tenant(tenant_name)?;
        let mut db = tenant.open_admin_db(&self.clock)?;
        crate::settings_defaults::resolve(
            db.as_mut(),
            tenant.config.settings.as_ref(),
            self.component.contract_version(),
        )
        .map_err(|e| HostError::Tenant(TenantError::from(e)))
    }

    /// The Refresh button.
    pub fn refresh(&self, tenant_name: &str) -> Result<Invocation<MetadataReport>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        Ok(self.component.refresh_metadata(self.job_context(&tenant)?))
    }

    /// Runs one job. A dry run gets a connection the database itself keeps read-only.
    pub fn run_job(
        &self,
        tenant_name: &str,
        job: Job,
        budget: Budget,
    ) -> Result<Invocation<JobReport>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        let mut ctx = self.job_context(&tenant)?;
        if budget.dry_run {
            ctx.db
                .set_read_only()
                .map_err(|e| HostError::Tenant(TenantError::from(e)))?;
        }
        Ok(self.component.run(ctx, job, budget))
    }

    /// Both sides of the deal-stage mapping.
    pub fn list_stages(&self, tenant_name: &str) -> Result<Invocation<StageOverview>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        Ok(self.component.list_stages(self.job_context(&tenant)?))
    }

    /// Maps a xentral stage to a HubSpot `pipeline:stage` by hand.
    pub fn map_stage(
        &self,
        tenant_name: &str,
        xentral_stage: i64,
        pipeline_id: &str,
        stage_id: &str,
    ) -> Result<Invocation<String>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        Ok(self.component.map_stage(
            self.job_context(&tenant)?,
            xentral_stage,
            pipeline_id,
            stage_id,
        ))
    }

    /// Runs one job by hand while holding its process starter's lock (xentral's `mutex`), so a
    /// manual run never overlaps the scheduler's run of the same job. The lock is claimed and
    /// released by the scheduler's own rules ([`xentral_erp::scheduler::claim_manual`]): a
    /// lock whose holder died on this machine is taken over at once, and `force` takes over
    /// any lock; either takeover is logged as a warning and noted in the report. The run
    /// stamps `letzteausfuerhung` and `status` as a scheduled run does. A dry run writes
    /// nothing, xentral's starter included, so it takes no lock.
    pub fn run_job_exclusive(
        &self,
        tenant_name: &str,
        job: Job,
        budget: Budget,
        force: bool,
    ) -> Result<Invocation<JobReport>, HostError> {
        if budget.dry_run {
            return self.run_job(tenant_name, job, budget);
        }
        let tenant = self.tenant(tenant_name)?;
        let mut db = tenant.open_admin_db(&self.clock)?;
        let db_error = |e: xentral_erp::DbError| HostError::Tenant(TenantError::from(e));
        let Some(parameter) = self.component.manifest().starter_of(job) else {
            return self.run_job(tenant_name, job, budget);
        };
        let starter =
            xentral_erp::scheduler::find_by_parameter(db.as_mut(), parameter).map_err(db_error)?;
        let Some(starter) = starter else {
            return self.run_job(tenant_name, job, budget);
        };
        let now = self.clock.now_ms();
        let claim = xentral_erp::scheduler::claim_manual(
            db.as_mut(),
            &starter,
            instant_from_millis(now),
            force,
        )
        .map_err(db_error)?;
        let outcome = claim.outcome();
        let Some(lease) = claim.into_lease() else {
            return Err(HostError::Locked {
                starter: starter.bezeichnung.clone(),
                holder: starter.holder().map(|h| h.to_string()),
            });
        };
        let takeover = match outcome {
            ClaimOutcome::TakenOverFromDead { .. } | ClaimOutcome::Forced => Some(format!(
                "took over the lock of '{}' from {} ({})",
                starter.bezeichnung,
                starter
                    .holder()
                    .map_or_else(|| "a run that left no holder".to_owned(), |h| h.to_string()),
                if outcome == ClaimOutcome::Forced {
                    "forced"
                } else {
                    "that process is gone"
                }
            )),
            _ => None,
        };
        if let Some(note) = &takeover {
            tracing::warn!(tenant = tenant_name, "{note}");
        }
        let mut run =
            crate::scheduler::StarterRun::begun(tenant_name, &starter, job, outcome, now, true);
        let mut result = self.run_job(tenant_name, job, budget);
        run.ended(self.clock.now_ms(), &result);
        crate::scheduler::record(&crate::runlog::RunLog::for_tenant(&tenant), &run);
        let failure = match &result {
            Ok(Invocation { result: Ok(_), .. }) => None,
            Ok(Invocation { result: Err(e), .. }) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        xentral_erp::scheduler::finish(
            db.as_mut(),
            &lease,
            instant_from_millis(self.clock.now_ms()),
            failure
                .as_deref()
                .map_or(Ok(crate::scheduler::STATUS_OK), Err),
        )
        .map_err(db_error)?;
        if let (
            Some(note),
            Ok(Invocation {
                result: Ok(report), ..
            }),
        ) = (takeover, &mut result)
        {
            report.messages.push(note);
        }
        result
    }

    /// xentral's save hook.
    pub fn record_changed(
        &self,
        tenant_name: &str,
        entity: Entity,
        id: i64,
    ) -> Result<Invocation<()>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        Ok(self
            .component
            .record_changed(self.job_context(&tenant)?, entity, id))
    }
}

/// What `settings` asks of a plugin whose contract (`version`) has no way to obey it, said
/// so the operator knows; `None` when the plugin can do all of it. Nothing a plugin cannot
/// do is dropped silently on the way to it.
fn beyond_contract(version: &str, settings: &Settings) -> Option<String> {
    use crate::report::{ContactMode, SyncRule};
    let two_way = SyncRule::two_way();
    let plain = |r: &SyncRule| SyncRule {
        on_hubspot_archive: two_way.on_hubspot_archive,
        on_xentral_delete: two_way.on_xentral_delete,
        ..r.clone()
    };
    if version == "0.1.0"
        && (plain(&settings.contact_rule) != two_way || plain(&settings.deal_rule) != two_way)
    {
        return Some("sync directions and conflict winners need a plugin of contract 0.2.0 or later; this one is 0.1.0 and syncs both ways with xentral winning".into());
    }
    if !matches!(version, "0.1.0" | "0.2.0") {
        return None;
    }
    if settings.companies || settings.contact_mode == ContactMode::ContactPersons {
        return Some(format!(
            "companies and contact persons need a plugin of contract 0.3.0 or later; this one is {version}: save with --companies off --contact-mode addresses"
        ));
    }
    let ended = [
        &settings.contact_rule,
        &settings.deal_rule,
        &settings.company_rule,
    ];
    if ended.iter().any(|r| !r.keeps_ended_records()) {
        return Some(format!(
            "what happens to archived and deleted records needs a plugin of contract 0.3.0 or later; this one is {version} and keeps them"
        ));
    }
    None
}
