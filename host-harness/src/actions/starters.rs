//! A process starter's schedule (`xentral-host starter`, the console's process starters):
//! its period and whether it is switched on, as xentral's process-starter page saves them.
//! Only the plugin's own starters are changed here; their lock and last run stay as they are.

use serde::Serialize;
use xentral_erp::scheduler as starters;

use crate::host::{HostError, XentralHost};
use crate::tenant::TenantError;

/// The longest period a starter may have: a week.
pub const MAX_PERIOD_MINUTES: u32 = 7 * 24 * 60;

/// What changes in a starter's schedule; `None` keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StarterChange {
    /// Minutes between runs, 1 to [`MAX_PERIOD_MINUTES`].
    pub period_minutes: Option<u32>,
    /// Switched on.
    pub active: Option<bool>,
}

/// Why a starter's schedule was not changed.
#[derive(Debug, thiserror::Error)]
pub enum StarterError {
    /// The tenant could not be opened.
    #[error(transparent)]
    Host(#[from] HostError),
    /// No starter has this id.
    #[error("tenant '{tenant}' has no process starter {id}")]
    Unknown {
        /// The tenant.
        tenant: String,
        /// The id asked for.
        id: i64,
    },
    /// The starter is not one of the plugin's.
    #[error(
        "process starter {id} ('{name}', parameter '{parameter}') is not one of the HubSpot plugin's; change it in xentral"
    )]
    NotThePlugins {
        /// Its id.
        id: i64,
        /// Its name.
        name: String,
        /// Its parameter.
        parameter: String,
    },
    /// The period is out of range.
    #[error("the period must be 1 to {MAX_PERIOD_MINUTES} minutes (a week), not {0}")]
    Period(u32),
}

/// A starter's schedule before and after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleChanged {
    /// `prozessstarter.id`.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Minutes between runs now.
    pub period_minutes: u32,
    /// Switched on now.
    pub active: bool,
    /// Minutes between runs before.
    pub was_period_minutes: u32,
    /// Switched on before.
    pub was_active: bool,
}

impl ScheduleChanged {
    /// One line for people, e.g. `process starter 2 'Hubspot Synchronize Contacts': every 30
    /// min, off (was every 60 min, on)`.
    pub fn message(&self) -> String {
        let on = |a: bool| if a { "on" } else { "off" };
        let now = format!("every {} min, {}", self.period_minutes, on(self.active));
        let was = format!(
            "every {} min, {}",
            self.was_period_minutes,
            on(self.was_active)
        );
        if now == was {
            format!(
                "process starter {} '{}': unchanged ({now})",
                self.id, self.name
            )
        } else {
            format!(
                "process starter {} '{}': {now} (was {was})",
                self.id, self.name
            )
        }
    }
}

/// Changes the schedule of the plugin's starter `id`.
pub fn change_schedule(
    host: &XentralHost,
    tenant: &str,
    id: i64,
    change: StarterChange,
) -> Result<ScheduleChanged, StarterError> {
    if let Some(p) = change.period_minutes
        && !(1..=MAX_PERIOD_MINUTES).contains(&p)
    {
        return Err(StarterError::Period(p));
    }
    let t = host.tenant(tenant)?;
    let db_error = |e: xentral_erp::DbError| StarterError::Host(TenantError::from(e).into());
    let mut db = t.open_admin_db(host.clock()).map_err(HostError::from)?;
    let starter = starters::get(db.as_mut(), id)
        .map_err(db_error)?
        .ok_or_else(|| StarterError::Unknown {
            tenant: tenant.to_owned(),
            id,
        })?;
    if host
        .component()
        .manifest()
        .job_of_starter(&starter.parameter)
        .is_none()
    {
        return Err(StarterError::NotThePlugins {
            id,
            name: starter.bezeichnung,
            parameter: starter.parameter,
        });
    }
    let was_period = u32::try_from(starter.period_minutes()).unwrap_or(u32::MAX);
    let period = change.period_minutes.unwrap_or(was_period);
    let active = change.active.unwrap_or(starter.aktiv);
    starters::set_schedule(db.as_mut(), id, period, active).map_err(db_error)?;
    Ok(ScheduleChanged {
        id,
        name: starter.bezeichnung,
        period_minutes: period,
        active,
        was_period_minutes: was_period,
        was_active: starter.aktiv,
    })
}
