//! Running one of a tenant's jobs by hand (`xentral-host run`, the console's Run now and Dry
//! run): under its process starter's lock, or as a dry run that writes nothing.

use crate::host::{HostError, XentralHost};
use crate::report::{Budget, Job, JobReport};
use crate::sandbox::Invocation;

/// A run by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRequest {
    /// The job.
    pub job: Job,
    /// Stop after this many HubSpot requests.
    pub max_requests: Option<u32>,
    /// Report what would change and write nothing anywhere (takes no lock).
    pub dry_run: bool,
    /// Take over the job's lock even if its holder may still run.
    pub force: bool,
}

impl RunRequest {
    /// A plain run of `job`: no request cap, no force.
    pub fn of(job: Job) -> Self {
        RunRequest {
            job,
            max_requests: None,
            dry_run: false,
            force: false,
        }
    }

    /// A dry run of `job`.
    pub fn dry(job: Job) -> Self {
        RunRequest {
            dry_run: true,
            ..RunRequest::of(job)
        }
    }
}

/// Runs the job as asked (see [`XentralHost::run_job_exclusive`]); a held lock is
/// [`HostError::Locked`].
pub fn run_job(
    host: &XentralHost,
    tenant: &str,
    request: &RunRequest,
) -> Result<Invocation<JobReport>, HostError> {
    let budget = Budget {
        deadline_ms: None,
        max_requests: request.max_requests,
        dry_run: request.dry_run,
    };
    host.run_job_exclusive(tenant, request.job, budget, request.force)
}
