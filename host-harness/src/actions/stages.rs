//! Mapping one xentral resubmission stage to a HubSpot deal stage by hand (`xentral-host
//! stages TENANT map`, the console's Deal phases), in user-defined mode.

use crate::host::{HostError, XentralHost};
use crate::sandbox::Invocation;

/// Why a stage could not be mapped before the plugin was asked.
#[derive(Debug, thiserror::Error)]
pub enum MapStageError {
    /// The HubSpot stage is not written `PIPELINE_ID:STAGE_ID`.
    #[error("'{0}' is not PIPELINE_ID:STAGE_ID")]
    Target(String),
    /// The tenant could not be opened or the plugin not called.
    #[error(transparent)]
    Host(#[from] HostError),
}

/// Maps `xentral_stage` (`wiedervorlage_stages.id`) to `target`, the HubSpot stage as
/// `PIPELINE_ID:STAGE_ID`; the plugin checks both exist and returns its message.
pub fn map_stage(
    host: &XentralHost,
    tenant: &str,
    xentral_stage: i64,
    target: &str,
) -> Result<Invocation<String>, MapStageError> {
    let (pipeline, stage) = target
        .split_once(':')
        .filter(|(p, s)| !p.is_empty() && !s.is_empty())
        .ok_or_else(|| MapStageError::Target(target.to_owned()))?;
    Ok(host.map_stage(tenant, xentral_stage, pipeline, stage)?)
}
