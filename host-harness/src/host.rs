//! The host façade: what xentral does with the plugin for a tenant — save settings, press
//! Refresh, run a job, fire a save hook — each as one sandboxed call.

use std::path::Path;
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::outbound::Origin;
use crate::report::{
    Budget, ConfigureReport, Entity, Job, JobReport, MetadataReport, Settings, StageOverview,
};
use crate::sandbox::{Invocation, JobContext, PluginComponent, Runtime, SandboxError};
use crate::secrets::JobSecrets;
use crate::tenant::{DataDir, Tenant, TenantError};

/// The name under which the host keeps a tenant's HubSpot access token.
pub const HUBSPOT_CREDENTIAL: &str = "hubspot";

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
    #[error("the process starter '{0}' is running right now")]
    Locked(String),
}

/// A xentral host: one engine, one plugin, many tenants.
pub struct XentralHost {
    data: DataDir,
    clock: SharedClock,
    runtime: Arc<Runtime>,
    component: PluginComponent,
}

impl XentralHost {
    /// A host running the built-in plugin over `data_dir`.
    pub fn new(data_dir: impl AsRef<Path>, clock: SharedClock) -> Result<Self, HostError> {
        let data = DataDir::new(data_dir.as_ref());
        let runtime = Runtime::new()?;
        let component = PluginComponent::plugin(&runtime, Some(&data.cache_dir()))?;
        Ok(XentralHost {
            data,
            clock,
            runtime,
            component,
        })
    }

    /// A host running another component (the sandbox tests' misbehaving guest).
    pub fn with_component(
        data_dir: impl AsRef<Path>,
        clock: SharedClock,
        wasm: &[u8],
    ) -> Result<Self, HostError> {
        let data = DataDir::new(data_dir.as_ref());
        let runtime = Runtime::new()?;
        let component = PluginComponent::load(&runtime, wasm, Some(&data.cache_dir()))?;
        Ok(XentralHost {
            data,
            clock,
            runtime,
            component,
        })
    }

    /// The data directory.
    pub fn data(&self) -> &DataDir {
        &self.data
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

    /// Creates a tenant whose xentral database is `database` (`mysql://…`; `None`: SQLite).
    pub fn create_tenant_on(
        &self,
        name: &str,
        database: Option<&str>,
    ) -> Result<Tenant, HostError> {
        Ok(self.data.create_tenant_on(name, database, &self.clock)?)
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
    ) -> Result<JobContext, HostError> {
        Ok(JobContext {
            db: tenant.open_guest_db(&self.clock)?,
            limits: tenant.config.limits.clone(),
            allowed_origins: origins,
            secrets,
            clock: Arc::clone(&self.clock),
            time_zone: tenant.config.time_zone.clone(),
        })
    }

    /// The job context of a tenant as stored.
    pub fn job_context(&self, tenant: &Tenant) -> Result<JobContext, HostError> {
        let secrets = JobSecrets::new(tenant.guest_secrets()?);
        self.context(tenant, secrets, tenant.allowed_origins()?)
    }

    /// Saves settings (the module's Save button). A new `token` is only kept, and the HubSpot
    /// URL only becomes the tenant's allow-list, when the plugin accepted them.
    pub fn configure(
        &self,
        tenant_name: &str,
        hubspot_url: &str,
        token: Option<&str>,
        settings: &Settings,
    ) -> Result<Invocation<ConfigureReport>, HostError> {
        let mut tenant = self.tenant(tenant_name)?;
        let origin = Origin::parse(hubspot_url).map_err(HostError::Invalid)?;
        let mut secrets = tenant.guest_secrets()?;
        if let Some(token) = token {
            if token.trim().is_empty() {
                return Err(HostError::Invalid("the access token is empty".into()));
            }
            secrets.insert(HUBSPOT_CREDENTIAL.into(), token.trim().to_owned());
        }
        let mut origins = if tenant.config.limits.allowed_origins.is_empty() {
            Vec::new()
        } else {
            tenant.allowed_origins()?
        };
        if !origins.contains(&origin) {
            origins.push(origin);
        }
        let ctx = self.context(&tenant, JobSecrets::new(secrets), origins)?;
        let invocation = self.component.configure(ctx, settings);
        if invocation.result.is_ok() {
            if let Some(token) = token {
                tenant
                    .secrets()
                    .put(HUBSPOT_CREDENTIAL, token.trim())
                    .map_err(TenantError::from)?;
            }
            tenant.config.hubspot_url = Some(hubspot_url.trim_end_matches('/').to_owned());
            tenant.save()?;
        }
        Ok(invocation)
    }

    /// The Refresh button.
    pub fn refresh(&self, tenant_name: &str) -> Result<Invocation<MetadataReport>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        Ok(self.component.refresh_metadata(self.job_context(&tenant)?))
    }

    /// Runs one job.
    pub fn run_job(
        &self,
        tenant_name: &str,
        job: Job,
        budget: Budget,
    ) -> Result<Invocation<JobReport>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        Ok(self.component.run(self.job_context(&tenant)?, job, budget))
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
    /// manual run never overlaps the scheduler's run of the same job. The schedule itself is
    /// left as it is.
    pub fn run_job_exclusive(
        &self,
        tenant_name: &str,
        job: Job,
        budget: Budget,
    ) -> Result<Invocation<JobReport>, HostError> {
        let tenant = self.tenant(tenant_name)?;
        let mut db = tenant.open_admin_db(&self.clock)?;
        let db_error = |e: xentral_erp::DbError| HostError::Tenant(TenantError::from(e));
        let starter =
            xentral_erp::scheduler::find_by_parameter(db.as_mut(), job.starter_parameter())
                .map_err(db_error)?;
        let Some(starter) = starter else {
            return self.run_job(tenant_name, job, budget);
        };
        let claimed = db
            .execute(
                "UPDATE prozessstarter SET mutex = 1, mutexcounter = 0 WHERE id = ? AND (mutex = 0 OR mutexcounter > 2)",
                &[xentral_erp::Value::Integer(starter.id)],
            )
            .map_err(db_error)?;
        if claimed.rows_affected == 0 {
            return Err(HostError::Locked(starter.bezeichnung));
        }
        let result = self.run_job(tenant_name, job, budget);
        db.execute(
            "UPDATE prozessstarter SET mutex = 0 WHERE id = ?",
            &[xentral_erp::Value::Integer(starter.id)],
        )
        .map_err(db_error)?;
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
