//! The lead statuses the settings form offers: the portal's, as Refresh stored them in
//! xentral. xentral keeps them where its own UI reads them: the options of the address free
//! field that holds HubSpot's lead status (`konfiguration` row `hubspot_ls_field` names the
//! field, `firmendaten_werte` holds its label and options, `Label|VALUE|VALUE…`), the old
//! module's convention. These are xentral's tables, not the plugin's.

use xentral_erp::Value;
use xentral_hubspot_plugin::kinds::freefields::LEAD_STATUS_KEY;
use xentral_hubspot_plugin::mapping::FreeFields;

use crate::host::{HostError, XentralHost};
use crate::tenant::TenantError;

/// The lead statuses xentral knows for `tenant`, in HubSpot's order; empty before the first
/// Refresh, or when the lead-status free field has a label of the user's own.
pub fn known(host: &XentralHost, tenant: &str) -> Result<Vec<String>, HostError> {
    let t = host.tenant(tenant)?;
    let mut db = t.open_admin_db(host.clock())?;
    let db_error = |e: xentral_erp::DbError| HostError::from(TenantError::from(e));
    let field = db
        .query(
            "SELECT wert FROM konfiguration WHERE name = ? LIMIT 1",
            &[Value::from(LEAD_STATUS_KEY)],
        )
        .map_err(db_error)?
        .scalar()
        .and_then(Value::to_text);
    let Some(column) = field.as_deref().and_then(FreeFields::column) else {
        return Ok(Vec::new());
    };
    let label = db
        .query(
            "SELECT wert FROM firmendaten_werte WHERE name = ? ORDER BY id LIMIT 1",
            &[Value::from(format!("adresse{column}"))],
        )
        .map_err(db_error)?
        .scalar()
        .and_then(Value::to_text)
        .unwrap_or_default();
    Ok(label
        .split('|')
        .skip(1)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect())
}
