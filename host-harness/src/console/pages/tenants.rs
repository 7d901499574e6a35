//! `GET /`: the tenants of the data directory.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use crate::console::errors::Failure;
use crate::console::views::tenants::{TenantRow, tenants};
use crate::console::views::widgets::paged;
use crate::console::web::{Admin, Console, on_host};
use crate::host::HostError;

/// Tenants listed per page.
const PER_PAGE: usize = 25;

pub async fn index(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let rows = on_host(&console, |host| -> Result<Vec<TenantRow>, Failure> {
        let names = host.data().tenant_names().map_err(HostError::from)?;
        Ok(names
            .into_iter()
            .map(|name| TenantRow {
                hubspot_url: host
                    .tenant(&name)
                    .ok()
                    .and_then(|t| t.config.hubspot_url.clone()),
                name,
            })
            .collect())
    })
    .await
    .and_then(|r| r);
    match rows {
        Ok(rows) => {
            let number = query.get("page").and_then(|p| p.parse().ok());
            tenants(&admin.csrf, &paged(&rows, number, PER_PAGE, "page"), &query).into_response()
        }
        Err(f) => super::problem(&f),
    }
}
