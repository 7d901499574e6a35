//! Reports as tables: a job's (what a run did, or a dry run would do, on each side) and
//! Refresh's. The same fields as `xentral-host run --json` and `refresh --json`.

use maud::{Markup, html};

use crate::report::{JobReport, MetadataReport};

/// What a job did (or, `dry_run`, would do): per side created, updated, unchanged, conflicts,
/// failed and excluded by reason; the API calls by endpoint; what is pending; the notes.
pub fn job(r: &JobReport, dry_run: bool) -> Markup {
    let sides = [("xentral", &r.xentral), ("HubSpot", &r.hubspot)];
    html! {
        div.scroll {
            table.report {
                caption {
                    @if dry_run { "What " (r.job) " would change (a dry run: nothing was written)" }
                    @else { "What " (r.job) " changed" }
                }
                thead { tr {
                    th scope="col" { "Side" }
                    th.num scope="col" { "Created" }
                    th.num scope="col" { "Updated" }
                    th.num scope="col" { "Unchanged" }
                    th.num scope="col" { "Conflicts" }
                    th.num scope="col" { "Failed" }
                } }
                tbody {
                    @for (side, s) in sides {
                        tr {
                            th scope="row" { (side) }
                            td.num { (s.created) }
                            td.num { (s.updated) }
                            td.num { (s.unchanged) }
                            td.num { (s.conflicts) }
                            td.num.bad[s.failed > 0] { (s.failed) }
                        }
                    }
                }
            }
        }
        @if sides.iter().any(|(_, s)| !s.excluded.is_empty()) {
            div.scroll {
                table.report {
                    caption { "Left out, by reason" }
                    thead { tr { th scope="col" { "Side" } th scope="col" { "Reason" } th.num scope="col" { "Records" } } }
                    tbody {
                        @for (side, s) in sides {
                            @for c in &s.excluded {
                                tr { td { (side) } td { (c.reason) } td.num { (c.count) } }
                            }
                        }
                    }
                }
            }
        }
        @if r.api_calls.is_empty() {
            p { "HubSpot API calls: 0" }
        } @else {
            div.scroll {
                table.report {
                    caption { "HubSpot API calls: " (r.total_api_calls()) }
                    thead { tr { th scope="col" { "Endpoint" } th.num scope="col" { "Calls" } } }
                    tbody {
                        @for c in &r.api_calls {
                            tr { td.code { (c.reason) } td.num { (c.count) } }
                        }
                    }
                }
            }
        }
        @if !r.planned.is_empty() {
            div.scroll {
                table.report #planned {
                    caption { "Record by record (" (r.planned.len()) ")" }
                    thead { tr {
                        th scope="col" { "Kind" }
                        th scope="col" { "Change" }
                        th scope="col" { "Where" }
                        th scope="col" { "xentral" }
                        th scope="col" { "HubSpot" }
                        th scope="col" { "Fields" }
                        th scope="col" { "Why" }
                    } }
                    tbody {
                        @for c in &r.planned {
                            tr {
                                td { (c.object) }
                                td { (c.kind) }
                                td { (c.side) }
                                td.num { (c.xentral_id.map(|id| id.to_string()).unwrap_or_else(|| "new".into())) }
                                td.code { (c.hubspot_id.clone().unwrap_or_else(|| "new".into())) }
                                td { (c.fields.join(", ")) }
                                td { (c.reason) }
                            }
                        }
                    }
                }
            }
        }
        @if r.pending {
            p { "More work is pending for the next run." }
        }
        @if !r.messages.is_empty() {
            ul.messages { @for m in &r.messages { li { (m) } } }
        }
    }
}

/// What Refresh found: the counts, and each option or stage it added or changed.
pub fn metadata(m: &MetadataReport) -> Markup {
    html! {
        p {
            (m.lead_statuses) " lead statuses, " (m.lifecycle_stages) " lifecycle stages, "
            (m.pipelines) " pipelines with " (m.stages) " stages; " (m.changes.len()) " change(s)"
        }
        @if !m.changes.is_empty() {
            ul { @for c in &m.changes { li { (c) } } }
        }
    }
}
