//! The two address free fields that show a contact's HubSpot lead status and lifecycle stage.
//!
//! xentral keeps free-field labels in `firmendaten_werte` (`adressefreifeldN`, its type in
//! `adressefreifeldNtyp`, its list column in `adressefreifeldNspalte`) and the extra columns of
//! the address table in `adressetabellezusatzN`. A select field's options follow its label,
//! separated by `|`. The old module named the two fields in `konfiguration` rows
//! `hubspot_ls_field` (lead status) and `hubspot_lr_field` (lifecycle stage).

use crate::mapping::FreeFields;
use crate::platform::{Db, DbError, Value};
use crate::settings::{read_konfiguration, write_konfiguration};

/// `konfiguration` row naming the lead-status free field.
pub const LEAD_STATUS_KEY: &str = "hubspot_ls_field";
/// `konfiguration` row naming the lifecycle-stage free field.
pub const LIFECYCLE_KEY: &str = "hubspot_lr_field";
/// Label of the lead-status field.
pub const LEAD_STATUS_LABEL: &str = "HubSpot Lead Status";
/// Label of the lifecycle-stage field.
pub const LIFECYCLE_LABEL: &str = "HubSpot Lifecycle Stage";

/// The free fields configured for HubSpot.
pub fn configured(db: &mut dyn Db) -> Result<FreeFields, DbError> {
    let ls = read_konfiguration(db, LEAD_STATUS_KEY)?;
    let lr = read_konfiguration(db, LIFECYCLE_KEY)?;
    Ok(FreeFields {
        lead_status: ls.as_deref().and_then(FreeFields::column),
        lifecycle_stage: lr.as_deref().and_then(FreeFields::column),
    })
}

fn werte(db: &mut dyn Db, name: &str) -> Result<Option<String>, DbError> {
    let rows = db.query(
        "SELECT wert FROM firmendaten_werte WHERE name = ? ORDER BY id LIMIT 1",
        &[Value::from(name)],
    )?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_text))
}

/// Sets a `firmendaten_werte` row; returns whether it changed.
fn set_werte(db: &mut dyn Db, name: &str, typ: &str, value: &str) -> Result<bool, DbError> {
    match werte(db, name)? {
        Some(v) if v == value => Ok(false),
        Some(_) => {
            db.execute(
                "UPDATE firmendaten_werte SET wert = ? WHERE name = ?",
                &[Value::from(value), Value::from(name)],
            )?;
            Ok(true)
        }
        None => {
            db.execute(
                "INSERT INTO firmendaten_werte (name, typ, typ1, typ2, wert, default_value, default_null, darf_null) VALUES (?, ?, '', '', ?, '', 0, 0)",
                &[Value::from(name), Value::from(typ), Value::from(value)],
            )?;
            Ok(true)
        }
    }
}

/// The label with its select options, as xentral stores a select free field.
fn label_with_options(label: &str, options: &[String]) -> String {
    std::iter::once(label.to_owned())
        .chain(options.iter().cloned())
        .collect::<Vec<_>>()
        .join("|")
}

/// What setting up the free fields did.
#[derive(Debug, Default)]
pub struct Setup {
    /// Changes made.
    pub changes: Vec<String>,
    /// What the user must do.
    pub warnings: Vec<String>,
}

/// Makes sure two free fields hold lead status and lifecycle stage: uses the configured ones,
/// or labels fields 1 and 2 when no free field is labelled yet, or says what to set.
/// Options are written into the labels of fields the plugin owns.
pub fn ensure(
    db: &mut dyn Db,
    lead_statuses: &[String],
    lifecycle_stages: &[String],
) -> Result<Setup, DbError> {
    let mut setup = Setup::default();
    let mut ff = configured(db)?;
    if ff.lead_status.is_none() || ff.lifecycle_stage.is_none() {
        let mut labelled = Vec::new();
        for n in 1..=20 {
            if werte(db, &format!("adressefreifeld{n}"))?.is_some_and(|v| !v.trim().is_empty()) {
                labelled.push(n);
            }
        }
        if labelled.is_empty() {
            write_konfiguration(db, LEAD_STATUS_KEY, "adressefreifeld1")?;
            write_konfiguration(db, LIFECYCLE_KEY, "adressefreifeld2")?;
            ff = configured(db)?;
            setup.changes.push(
                "labelled address free fields 1 and 2 for the HubSpot lead status and lifecycle stage"
                    .into(),
            );
        } else {
            setup.warnings.push(format!(
                "address free fields {} are already in use, so lead status and lifecycle stage are not synchronised yet: \
                 choose two unused free fields and set the konfiguration rows {LEAD_STATUS_KEY} and {LIFECYCLE_KEY} \
                 (e.g. to adressefreifeld{} and adressefreifeld{}), then save the settings again",
                labelled.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
                (1..=20).find(|n| !labelled.contains(n)).unwrap_or(19),
                (1..=20).filter(|n| !labelled.contains(n)).nth(1).unwrap_or(20),
            ));
            return Ok(setup);
        }
    }
    let fields = [
        (
            ff.lead_status.as_deref(),
            LEAD_STATUS_LABEL,
            lead_statuses,
            1,
        ),
        (
            ff.lifecycle_stage.as_deref(),
            LIFECYCLE_LABEL,
            lifecycle_stages,
            2,
        ),
    ];
    for (column, label, options, position) in fields {
        let Some(column) = column else { continue };
        let n = column.trim_start_matches("freifeld");
        let name = format!("adressefreifeld{n}");
        let current = werte(db, &name)?.unwrap_or_default();
        // Only fields labelled by us (or unlabelled) get our label; a user's label is kept.
        let ours = current.is_empty() || current.split('|').next() == Some(label);
        if ours && set_werte(db, &name, "string", &label_with_options(label, options))? {
            setup
                .changes
                .push(format!("{name}: {label} with {} options", options.len()));
        }
        if ours {
            set_werte(db, &format!("{name}typ"), "string", "select")?;
            set_werte(db, &format!("{name}spalte"), "string", "1")?;
        }
        let extra = format!("adressetabellezusatz{position}");
        if werte(db, &extra)?.unwrap_or_default().is_empty()
            && set_werte(db, &extra, "string", column)?
        {
            setup.changes.push(format!(
                "{column} is additional column {position} of the address table"
            ));
        }
    }
    Ok(setup)
}
