//! What a xentral user does in the UI, with xentral's save events: each edit runs the
//! `xentral_erp::ui` operation on the tenant's database and then fires the plugin's save hook
//! ([`XentralHost::record_changed`]) exactly once, as xentral does after every save.
//!
//! The edit is the user's and stays saved whatever the hook does: a hook that traps or fails is
//! returned next to the change (and logged as a warning), never turned into an error of the
//! edit. The plugin's reconciliation pass catches a change whose hook failed. Dates (group
//! membership from "today", a resubmission's creation time) are the tenant's wall clock in its
//! time zone, read from the host clock.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone};
use xentral_erp::ui::{self, Change, NewAddress, NewResubmission};
use xentral_erp::{Database, DbError, Value};

use crate::host::{HostError, XentralHost};
use crate::report::Entity;
use crate::sandbox::JobError;

/// Why a user's edit could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// The tenant could not be opened.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The database refused the edit (unknown column, missing row, constraint, …).
    #[error("xentral database: {0}")]
    Database(#[from] DbError),
    /// No group has this name.
    #[error("no group named '{0}'")]
    UnknownGroup(String),
    /// No resubmission view has this id, or it has no stages.
    #[error("resubmission view {0} does not exist or has no stages")]
    ViewWithoutStages(i64),
    /// The tenant's time zone is not a valid IANA name.
    #[error("the tenant's time zone '{0}' is not a valid IANA time zone")]
    TimeZone(String),
}

/// Why the save hook did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The plugin's `record-changed` failed or trapped.
    #[error("the plugin's save hook failed: {0}")]
    Job(JobError),
    /// The host could not call the plugin.
    #[error("the save hook could not run: {0}")]
    Host(HostError),
}

/// A saved edit and what its save hook did.
#[derive(Debug)]
pub struct Saved {
    /// The record that was saved.
    pub change: Change,
    /// The save hook's outcome; an error here did not undo the edit.
    pub hook: Result<(), HookError>,
}

/// A xentral user working on one tenant.
pub struct XentralUi<'h> {
    host: &'h XentralHost,
    tenant: String,
    tz: chrono_tz::Tz,
}

impl<'h> XentralUi<'h> {
    /// The UI of `tenant` on `host`; fails if the tenant does not exist.
    pub fn new(host: &'h XentralHost, tenant: &str) -> Result<Self, UiError> {
        let t = host.tenant(tenant)?;
        let tz = t
            .config
            .time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| UiError::TimeZone(t.config.time_zone.clone()))?;
        Ok(XentralUi {
            host,
            tenant: tenant.to_owned(),
            tz,
        })
    }

    /// The tenant's name.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The tenant's database with full rights, as the xentral UI has it.
    pub fn db(&self) -> Result<Box<dyn Database>, UiError> {
        let t = self.host.tenant(&self.tenant)?;
        Ok(t.open_admin_db(self.host.clock())
            .map_err(HostError::from)?)
    }

    /// The tenant's wall-clock time now.
    pub fn local_now(&self) -> NaiveDateTime {
        self.tz
            .timestamp_millis_opt(self.host.clock().now_ms())
            .single()
            .map_or_else(
                || chrono::DateTime::UNIX_EPOCH.naive_utc(),
                |t| t.naive_local(),
            )
    }

    /// Runs `edit` on the tenant's database (in one transaction) and fires the save hook once for
    /// the change it returns.
    fn save(
        &self,
        edit: impl FnOnce(&mut dyn Database) -> Result<Change, UiError>,
    ) -> Result<Saved, UiError> {
        let mut db = self.db()?;
        db.begin()?;
        let change = match edit(&mut *db) {
            Ok(c) => c,
            Err(e) => {
                db.rollback()?;
                return Err(e);
            }
        };
        db.commit()?;
        drop(db);
        let hook = self.fire(change);
        Ok(Saved { change, hook })
    }

    /// Fires the plugin's save hook for one change; a failure is logged and returned.
    fn fire(&self, change: Change) -> Result<(), HookError> {
        let entity = match change.entity {
            ui::Entity::Address => Entity::Address,
            ui::Entity::Resubmission => Entity::Resubmission,
            ui::Entity::ContactPerson => Entity::ContactPerson,
        };
        let outcome = match self.host.record_changed(&self.tenant, entity, change.id) {
            Ok(inv) => inv.result.map_err(HookError::Job),
            Err(e) => Err(HookError::Host(e)),
        };
        if let Err(e) = &outcome {
            tracing::warn!(
                tenant = %self.tenant,
                entity = ?change.entity,
                id = change.id,
                error = %e,
                "save hook failed; the edit is kept"
            );
        }
        outcome
    }

    /// Saves a new address.
    pub fn add_address(&self, address: &NewAddress) -> Result<Saved, UiError> {
        self.add_address_in_groups(address, &[])
    }

    /// Saves a new address and puts it into the groups named `groups`, as one save (one hook).
    /// Every group must exist; nothing is saved otherwise.
    pub fn add_address_in_groups(
        &self,
        address: &NewAddress,
        groups: &[String],
    ) -> Result<Saved, UiError> {
        let today = self.local_now().date();
        self.save(|db| {
            let group_ids = groups
                .iter()
                .map(|g| group_id(db, g))
                .collect::<Result<Vec<_>, _>>()?;
            let change = ui::add_address(db, address)?;
            for group in group_ids {
                ui::add_to_group(db, change.id, group, today)?;
            }
            Ok(change)
        })
    }

    /// Saves edits to address `id`: column → new value.
    pub fn edit_address(
        &self,
        id: i64,
        changes: &BTreeMap<String, Value>,
    ) -> Result<Saved, UiError> {
        self.save(|db| Ok(ui::edit_address(db, id, changes)?))
    }

    /// Deletes address `id` the xentral way (`geloescht = 1`).
    pub fn delete_address(&self, id: i64) -> Result<Saved, UiError> {
        self.save(|db| Ok(ui::delete_address(db, id)?))
    }

    /// Saves a new contact person of a company address.
    pub fn add_contact_person(&self, person: &ui::NewContactPerson) -> Result<Saved, UiError> {
        self.save(|db| Ok(ui::add_contact_person(db, person)?))
    }

    /// Saves edits to contact person `id`: column → new value.
    pub fn edit_contact_person(
        &self,
        id: i64,
        changes: &BTreeMap<String, Value>,
    ) -> Result<Saved, UiError> {
        self.save(|db| Ok(ui::edit_contact_person(db, id, changes)?))
    }

    /// Deletes contact person `id` the xentral way (`geloescht = 1`).
    pub fn delete_contact_person(&self, id: i64) -> Result<Saved, UiError> {
        self.save(|db| Ok(ui::delete_contact_person(db, id)?))
    }

    /// Puts address `id` into the group named `group`.
    pub fn add_to_group(&self, id: i64, group: &str) -> Result<Saved, UiError> {
        let today = self.local_now().date();
        self.save(|db| {
            let group = group_id(db, group)?;
            Ok(ui::add_to_group(db, id, group, today)?)
        })
    }

    /// Ends address `id`'s membership in the group named `group`.
    pub fn remove_from_group(&self, id: i64, group: &str) -> Result<Saved, UiError> {
        let today = self.local_now().date();
        self.save(|db| {
            let group = group_id(db, group)?;
            Ok(ui::remove_from_group(db, id, group, today)?)
        })
    }

    /// Creates an active group (no save hook: groups are not synchronised); returns its id.
    pub fn create_group(&self, name: &str) -> Result<i64, UiError> {
        let mut db = self.db()?;
        Ok(ui::create_group(&mut *db, name, "")?)
    }

    /// Saves a new resubmission, created now on the tenant's wall clock.
    pub fn add_resubmission(&self, resubmission: &NewResubmission) -> Result<Saved, UiError> {
        let now = self.local_now();
        self.save(|db| Ok(ui::add_resubmission(db, resubmission, now)?))
    }

    /// Saves edits to resubmission `id`: column → new value.
    pub fn edit_resubmission(
        &self,
        id: i64,
        changes: &BTreeMap<String, Value>,
    ) -> Result<Saved, UiError> {
        self.save(|db| Ok(ui::edit_resubmission(db, id, changes)?))
    }

    /// Moves resubmission `id` onto stage `stage` (whose view decides the board).
    pub fn move_resubmission(&self, id: i64, stage: i64) -> Result<Saved, UiError> {
        self.save(|db| Ok(ui::move_resubmission(db, id, stage)?))
    }

    /// Moves resubmission `id` onto another board: the first stage (by `sort`, then id) of view
    /// `view`.
    pub fn move_resubmission_to_view(&self, id: i64, view: i64) -> Result<Saved, UiError> {
        self.save(|db| {
            let rows = db.query(
                "SELECT id FROM wiedervorlage_stages WHERE view = ? ORDER BY sort, id LIMIT 1",
                &[view.into()],
            )?;
            let stage = rows
                .scalar()
                .and_then(Value::as_i64)
                .ok_or(UiError::ViewWithoutStages(view))?;
            Ok(ui::move_resubmission(db, id, stage)?)
        })
    }
}

fn group_id(db: &mut dyn Database, name: &str) -> Result<i64, UiError> {
    ui::find_group_by_name(db, name)?.ok_or_else(|| UiError::UnknownGroup(name.to_owned()))
}
