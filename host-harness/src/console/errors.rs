//! How a failed action or page shows: the library's error, worded for this page (the command
//! line's flags replaced by what to do here), and the HTTP status it answers with.

use axum::http::StatusCode;

use crate::actions::stages::MapStageError;
use crate::actions::starters::StarterError;
use crate::host::HostError;
use crate::report::PluginError;
use crate::sandbox::JobError;
use crate::scheduler::SchedulerError;
use crate::tenant::TenantError;

/// A failure as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The answer's status.
    pub status: StatusCode,
    /// One line, exact.
    pub message: String,
}

impl Failure {
    /// A failure with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// The form was wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl From<HostError> for Failure {
    fn from(e: HostError) -> Self {
        let status = match &e {
            HostError::Tenant(TenantError::Unknown(_) | TenantError::InvalidName(_)) => {
                StatusCode::NOT_FOUND
            }
            HostError::Locked { .. } => StatusCode::CONFLICT,
            HostError::Invalid(_)
            | HostError::Origin(_)
            | HostError::TokenForOtherOrigin { .. }
            | HostError::NoToken => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &e {
            HostError::NoToken => {
                "no HubSpot access token is saved for this tenant yet: save one under Connection first"
                    .to_owned()
            }
            HostError::TokenForOtherOrigin { saved, new } => format!(
                "the HubSpot URL changes from {saved} to {new}: give the access token again; the saved one is only ever sent to {saved}"
            ),
            other => other.to_string(),
        };
        Failure::new(status, message)
    }
}

impl From<JobError> for Failure {
    fn from(e: JobError) -> Self {
        let status = match &e {
            JobError::Plugin(PluginError::Unauthorized(_))
            | JobError::Plugin(PluginError::InvalidSettings(_))
            | JobError::Plugin(PluginError::NotConfigured(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            JobError::Plugin(PluginError::Hubspot(_))
            | JobError::Plugin(PluginError::RateLimited(_)) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Failure::new(status, e.to_string())
    }
}

impl From<SchedulerError> for Failure {
    fn from(e: SchedulerError) -> Self {
        match e {
            SchedulerError::Host(h) => h.into(),
            other => Failure::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

impl From<StarterError> for Failure {
    fn from(e: StarterError) -> Self {
        match e {
            StarterError::Host(h) => h.into(),
            StarterError::Unknown { .. } => Failure::new(StatusCode::NOT_FOUND, e.to_string()),
            other => Failure::invalid(other.to_string()),
        }
    }
}

impl From<MapStageError> for Failure {
    fn from(e: MapStageError) -> Self {
        match e {
            MapStageError::Host(h) => h.into(),
            target @ MapStageError::Target(_) => Failure::invalid(target.to_string()),
        }
    }
}
