//! The sync health page of one tenant: per object kind what is in sync, what was left out and
//! why, what is failing (by error, with the records and their next retry), the recent
//! conflicts; the export queue; and a dry run of any job as a table of what would change.

use std::collections::BTreeMap;

use maud::{Markup, html};

use crate::actions::status::StatusReport;
use crate::console::notice::{Details, Notice, Section};
use crate::report::Job;
use crate::report::{Conflict, EndedRecords, FailingRecords};
use crate::sync_health::{ObjectStatus, SyncHealth};

use super::layout::{Chrome, Current, page};
use super::widgets::{csrf_field, notice, paged, pager, when_ms};

/// Failing groups and conflicts shown per page.
pub const PER_PAGE: usize = 10;

/// Everything the health page shows.
#[derive(Debug)]
pub struct HealthPage<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// The status report (its health section).
    pub report: &'a StatusReport,
    /// The outcome of the last dry run.
    pub notice: Option<Notice>,
    /// The query of this request (which page of each list).
    pub query: BTreeMap<String, String>,
}

/// `contact` → `Contacts`, as the plugin names its object kinds.
fn kind_title(object: &str) -> String {
    match object {
        "contact" => "Contacts".into(),
        "company" => "Companies".into(),
        "contact-person" => "Contact persons".into(),
        "deal" => "Deals".into(),
        other => other.to_owned(),
    }
}

/// The page.
pub fn health(p: &HealthPage<'_>) -> Markup {
    page(
        &format!("Sync health · {}", p.tenant),
        Chrome {
            tenant: Some(p.tenant),
            current: Current::Health,
            csrf: Some(p.csrf),
        },
        html! {
            h1 { "Sync health " span.tenant { (p.tenant) } }
            p.muted { "As of " (super::widgets::when(p.report.now)) "." }
            @match &p.report.sync {
                Err(why) => { p.notice.failed role="alert" { "The plugin cannot report its sync health: " (why) } }
                Ok(h) if !h.connected => {
                    p { "Not connected: save the access token on the " a href={ "/t/" (p.tenant) } { "HubSpot module page" } " first." }
                }
                Ok(h) => { (overview(p, h)) @for o in &h.objects { (kind(p, o)) } }
            }
            (dry_run(p))
        },
    )
}

fn overview(p: &HealthPage<'_>, h: &SyncHealth) -> Markup {
    let failing: u32 = h
        .objects
        .iter()
        .flat_map(|o| &o.failing)
        .map(|f| f.count)
        .sum();
    html! {
        section #overview {
            h2 { "Overview" }
            @if let Some(n) = p.notice.as_ref().filter(|n| n.section == Section::Retry) {
                (notice(n))
            }
            @if failing > 0 {
                (retry_form(p, None, None, "Retry every failing record now"))
            }
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Kind" }
                        th.num scope="col" { "In sync" }
                        th.num scope="col" { "Excluded" }
                        th.num scope="col" { "Failing" }
                        th.num scope="col" { "Ended" }
                        th.num scope="col" { "Conflicts" }
                    } }
                    tbody {
                        @for o in &h.objects {
                            @let failing: u32 = o.failing.iter().map(|f| f.count).sum();
                            tr {
                                th scope="row" { a href={ "#" (o.object) } { (kind_title(&o.object)) } }
                                td.num { (o.in_sync) }
                                td.num { (o.excluded.values().sum::<u32>()) }
                                td.num.bad[failing > 0] { (failing) }
                                td.num { (o.ended.iter().map(|e| e.count).sum::<u32>()) }
                                td.num { (o.conflicts_kept) }
                            }
                        }
                    }
                }
            }
            p #queue { "Export queue: " strong { (h.queue.pending) } " pending (" (h.queue.retrying) " waiting for a retry)." }
        }
    }
}

fn kind(p: &HealthPage<'_>, o: &ObjectStatus) -> Markup {
    let base = format!("/t/{}/health", p.tenant);
    let failing_param: &'static str = page_param(&o.object, "failing");
    let conflicts_param: &'static str = page_param(&o.object, "conflicts");
    let number = |param: &str| p.query.get(param).and_then(|v| v.parse().ok());
    let failing = paged(&o.failing, number(failing_param), PER_PAGE, failing_param);
    let conflicts = paged(
        &o.recent_conflicts,
        number(conflicts_param),
        PER_PAGE,
        conflicts_param,
    );
    html! {
        section id=(o.object) {
            h2 { (kind_title(&o.object)) }
            p { strong { (o.in_sync) } " in sync." }
            @if !o.excluded.is_empty() {
                div.scroll {
                    table {
                        caption { "Left out in the last run, by reason" }
                        thead { tr { th scope="col" { "Reason" } th.num scope="col" { "Records" } } }
                        tbody { @for (reason, n) in &o.excluded { tr { td { (reason) } td.num { (n) } } } }
                    }
                }
            }
            div id={ (o.object) "-failing" } {
                @if o.failing.is_empty() {
                    p.good { "Nothing is failing." }
                } @else {
                    h3 { "Failing, by error" }
                    (retry_form(p, Some(&o.object), None, "Retry all of them now"))
                    ul.failures {
                        @for f in failing.items { (failure(p, &o.object, f)) }
                    }
                    (pager(&failing, &base, &p.query, &format!("{}-failing", o.object)))
                }
            }
            @if !o.ended.is_empty() {
                div id={ (o.object) "-ended" } {
                    h3 { "Links that ended" }
                    ul.failures { @for e in &o.ended { (ended(e)) } }
                }
            }
            @if !o.recent_conflicts.is_empty() {
                div id={ (o.object) "-conflicts" } {
                    div.scroll {
                        table {
                            caption { "Recent conflicts, newest first (" (o.conflicts_kept) " kept)" }
                            thead { tr {
                                th scope="col" { "When" }
                                th scope="col" { "xentral" }
                                th scope="col" { "HubSpot" }
                                th scope="col" { "Field" }
                                th scope="col" { "xentral value" }
                                th scope="col" { "HubSpot value" }
                                th scope="col" { "Won" }
                            } }
                            tbody { @for c in conflicts.items { (conflict_row(c)) } }
                        }
                    }
                    (pager(&conflicts, &base, &p.query, &format!("{}-conflicts", o.object)))
                }
            }
        }
    }
}

/// The query parameter of a kind's list: `contact_failing`, `deal_conflicts`, … (a static
/// name per kind and list; kinds the host does not name share `other_…`).
fn page_param(object: &str, list: &str) -> &'static str {
    match (object, list) {
        ("contact", "failing") => "contact_failing",
        ("contact", _) => "contact_conflicts",
        ("company", "failing") => "company_failing",
        ("company", _) => "company_conflicts",
        ("contact-person", "failing") => "contact_person_failing",
        ("contact-person", _) => "contact_person_conflicts",
        ("deal", "failing") => "deal_failing",
        ("deal", _) => "deal_conflicts",
        (_, "failing") => "other_failing",
        _ => "other_conflicts",
    }
}

/// A form that makes failing records due now (`retry-now`): one record, every record of a
/// kind, or every failing record.
fn retry_form(
    p: &HealthPage<'_>,
    object: Option<&str>,
    record: Option<&str>,
    label: &str,
) -> Markup {
    html! {
        form.inline method="post" action={ "/t/" (p.tenant) "/retry" } {
            (csrf_field(p.csrf))
            @if let Some(o) = object { input type="hidden" name="object" value=(o); }
            @if let Some(r) = record { input type="hidden" name="record" value=(r); }
            button type="submit" { (label) }
        }
    }
}

fn ended(e: &EndedRecords) -> Markup {
    html! {
        li.failure {
            p.headline {
                strong { (e.count) " record(s)" } ": " (e.reason)
                @if e.needs_action { " " span.bad { "needs you" } }
            }
            p.records {
                "xentral ⇄ HubSpot: "
                (e.records.iter().map(|l| format!("{} ⇄ {}", l.xentral_id, l.hubspot_id)).collect::<Vec<_>>().join(", "))
                @if (e.count as usize) > e.records.len() {
                    " " span.muted { "(the first " (e.records.len()) " of " (e.count) ")" }
                }
            }
        }
    }
}

fn failure(p: &HealthPage<'_>, object: &str, f: &FailingRecords) -> Markup {
    let direction = match f.direction.as_str() {
        "push" => "xentral → HubSpot",
        "pull" => "HubSpot → xentral",
        other => other,
    };
    html! {
        li.failure {
            p.headline {
                strong { (f.count) " record(s)" } ", " (direction) ", " (f.attempts) " attempt(s); "
                @if f.needs_change {
                    span.bad { "needs a change" } ": HubSpot refused them as they are; they are sent again once they change in xentral or HubSpot"
                } @else {
                    "next retry " (when_ms(f.next_retry_ms))
                }
            }
            p.error { (f.error) }
            p.records {
                "Records: "
                @for r in &f.records {
                    span.record { (r) " " (retry_form(p, Some(object), Some(r), "retry now")) }
                }
                @if (f.count as usize) > f.records.len() {
                    " " span.muted { "(the first " (f.records.len()) " of " (f.count) ")" }
                }
            }
        }
    }
}

fn conflict_row(c: &Conflict) -> Markup {
    html! {
        tr {
            td { (when_ms(c.at_ms)) }
            td { (c.xentral_id) }
            td { (c.hubspot_id) }
            td { (c.field) }
            td { (c.xentral_value) }
            td { (c.hubspot_value) }
            td { (c.winner) }
        }
    }
}

fn dry_run(p: &HealthPage<'_>) -> Markup {
    let last_job = match p.notice.as_ref().map(|n| &n.details) {
        Some(Details::Job { report, .. }) => Some(report.job),
        _ => None,
    };
    html! {
        section #dry-run {
            h2 { "Dry run" }
            p { "Runs a job without writing anything (xentral, HubSpot or the sync's state) and shows what it would change. Its requests count against the portal's rate limit." }
            @if let Some(n) = p.notice.as_ref().filter(|n| n.section == Section::DryRun) {
                (notice(n))
            }
            form method="post" action={ "/t/" (p.tenant) "/dry-run" } {
                (csrf_field(p.csrf))
                div.field {
                    label for="job" { "Job" }
                    select #job name="job" {
                        @for job in Job::ALL {
                            option value=(job) selected[last_job == Some(job)] { (job) }
                        }
                    }
                }
                button type="submit" { "Dry run" }
            }
        }
    }
}
