//! The tenant list: the first page after logging in.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::layout::{Chrome, Current, page};
use super::widgets::{Paged, pager};

/// One tenant as listed.
#[derive(Debug, Clone)]
pub struct TenantRow {
    /// Its name.
    pub name: String,
    /// The HubSpot URL it is connected to, if it is.
    pub hubspot_url: Option<String>,
}

/// The tenants of the data directory, a page at a time.
pub fn tenants(
    csrf: &str,
    rows: &Paged<'_, TenantRow>,
    query: &BTreeMap<String, String>,
) -> Markup {
    page(
        "Tenants",
        Chrome {
            tenant: None,
            current: Current::Other,
            csrf: Some(csrf),
        },
        html! {
            h1 { "Tenants" }
            @if rows.total == 0 {
                p { "This data directory has no tenants yet. Create one with " code { "xentral-host tenant create NAME" } "." }
            } @else {
                div.scroll #tenants {
                    table {
                        thead { tr { th scope="col" { "Tenant" } th scope="col" { "HubSpot" } th scope="col" { "Pages" } } }
                        tbody {
                            @for t in rows.items {
                                tr {
                                    th scope="row" { a href={ "/t/" (t.name) } { (t.name) } }
                                    td { @match &t.hubspot_url { Some(url) => { (url) } None => { span.muted { "not connected" } } } }
                                    td.links {
                                        a href={ "/t/" (t.name) } { "HubSpot module" }
                                        a href={ "/t/" (t.name) "/health" } { "Sync health" }
                                    }
                                }
                            }
                        }
                    }
                }
                (pager(rows, "/", query, "tenants"))
            }
        },
    )
}
