//! The HubSpot module page of one tenant, as xentral's module has it: the connection (the
//! access token, write-only), Refresh, the sync settings, the deal phases in user-defined
//! mode, and the three process starters.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::actions::starters::MAX_PERIOD_MINUTES;
use crate::console::notice::{Notice, Section};
use crate::console::settings_form::{Field, Group, Input};
use crate::report::{StageOverview, XentralStage};
use crate::runlog::RunResult;
use crate::scheduler::StarterStatus;

use super::layout::{Chrome, Current, page};
use super::widgets::{Paged, csrf_field, notice, pager, when};

/// What the page shows about the saved access token (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// None is saved.
    Missing,
    /// One is saved for this origin.
    Saved(String),
    /// One is saved but does not open (the host key changed).
    Unreadable(String),
}

/// Everything the module page shows.
#[derive(Debug)]
pub struct ModulePage<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// The HubSpot URL in the connection form.
    pub hubspot_url: String,
    /// The saved token's state.
    pub token: TokenState,
    /// The settings form's groups, or why the settings could not be read.
    pub settings: Result<Vec<Group>, String>,
    /// Where the form's values come from, for a line above it.
    pub settings_source: &'static str,
    /// The deal phases: `None` in automatic mode; the overview or why it is missing.
    pub stages: Option<Result<StageOverview, String>>,
    /// The page of xentral stages shown.
    pub stages_page: Option<usize>,
    /// The process starters, or why they could not be read.
    pub starters: Result<Vec<StarterStatus>, String>,
    /// Now, for "due now".
    pub now: DateTime<Utc>,
    /// The outcome of the last action, shown in its section.
    pub notice: Option<Notice>,
    /// The query of this request (kept by the pagers).
    pub query: BTreeMap<String, String>,
}

impl ModulePage<'_> {
    fn notice_for(&self, section: Section) -> Markup {
        html! {
            @if let Some(n) = self.notice.as_ref().filter(|n| n.section == section) {
                (notice(n))
            }
        }
    }

    fn base(&self) -> String {
        format!("/t/{}", self.tenant)
    }
}

/// The xentral stages shown per page of the deal phases.
pub const STAGES_PER_PAGE: usize = 20;

/// The page.
pub fn module(p: &ModulePage<'_>) -> Markup {
    page(
        &format!("HubSpot · {}", p.tenant),
        Chrome {
            tenant: Some(p.tenant),
            current: Current::Module,
            csrf: Some(p.csrf),
        },
        html! {
            h1 { "HubSpot " span.tenant { (p.tenant) } }
            (connection(p))
            (refresh(p))
            (settings(p))
            @if let Some(stages) = &p.stages { (deal_phases(p, stages)) }
            (starters(p))
        },
    )
}

fn connection(p: &ModulePage<'_>) -> Markup {
    html! {
        section #connection {
            h2 { "Connection" }
            p {
                @match &p.token {
                    TokenState::Missing => { "No access token is saved: this tenant is not connected to HubSpot yet." }
                    TokenState::Saved(origin) => { "An access token is saved for " strong { (origin) } ". It is never shown again; enter a new one to replace it." }
                    TokenState::Unreadable(why) => { span.bad { "The saved access token cannot be opened: " (why) } }
                }
            }
            (p.notice_for(Section::Connection))
            form method="post" action={ (p.base()) "/connection" } {
                (csrf_field(p.csrf))
                div.field {
                    label for="hubspot_url" { "HubSpot URL" }
                    input #hubspot_url type="url" name="hubspot_url" value=(p.hubspot_url) required;
                    small { "https://api.hubapi.com for a real portal. A new URL needs the token again." }
                }
                div.field {
                    label for="token" { "Access token" }
                    input #token type="password" name="token" autocomplete="new-password" placeholder="pat-…" required;
                    small { "A private-app access token (HubSpot: Settings → Integrations → Private Apps). HubSpot checks it before it is saved." }
                }
                button type="submit" { "Save" }
            }
        }
    }
}

fn refresh(p: &ModulePage<'_>) -> Markup {
    html! {
        section #refresh {
            h2 { "Refresh" }
            p { "Fetches HubSpot's lead statuses, lifecycle stages, deal pipelines and stages." }
            (p.notice_for(Section::Refresh))
            form method="post" action={ (p.base()) "/refresh" } {
                (csrf_field(p.csrf))
                button type="submit" { "Refresh" }
            }
        }
    }
}

fn input(f: &Field) -> Markup {
    html! {
        @match &f.input {
            Input::Switch(on) => {
                div.field.switch {
                    input id=(f.name) type="checkbox" name=(f.name) value="on" checked[*on];
                    label for=(f.name) { (f.label) }
                    @if !f.help.is_empty() { small { (f.help) } }
                }
            }
            Input::Text { value, placeholder } => {
                div.field {
                    label for=(f.name) { (f.label) }
                    input id=(f.name) type="text" name=(f.name) value=(value) placeholder=(placeholder);
                    @if !f.help.is_empty() { small { (f.help) } }
                }
            }
            Input::Choice { options, selected } => {
                div.field {
                    label for=(f.name) { (f.label) }
                    select id=(f.name) name=(f.name) {
                        @for (value, label) in options {
                            option value=(value) selected[value == selected] { (label) }
                        }
                    }
                    @if !f.help.is_empty() { small { (f.help) } }
                }
            }
            Input::Many { options, selected } => {
                div.field {
                    label for=(f.name) { (f.label) }
                    @if options.is_empty() {
                        p.muted { "No lead statuses known yet: save the access token, or press Refresh." }
                    } @else {
                        select id=(f.name) name=(f.name) multiple size=(options.len().clamp(2, 8)) {
                            @for (value, label) in options {
                                option value=(value) selected[selected.contains(value)] { (label) }
                            }
                        }
                    }
                    @if !f.help.is_empty() { small { (f.help) } }
                }
            }
        }
    }
}

fn settings(p: &ModulePage<'_>) -> Markup {
    html! {
        section #settings {
            h2 { "Sync settings" }
            (p.notice_for(Section::Settings))
            @match &p.settings {
                Err(why) => { p.notice.failed { (why) } }
                Ok(groups) => {
                    p.muted { (p.settings_source) }
                    form method="post" action={ (p.base()) "/settings" } {
                        (csrf_field(p.csrf))
                        @for g in groups {
                            fieldset {
                                legend { (g.title) }
                                @for f in &g.fields { (input(f)) }
                                @if let Some(more) = &g.more {
                                    details open[more.open] {
                                        summary { (more.summary) }
                                        @for f in &more.fields { (input(f)) }
                                    }
                                }
                            }
                        }
                        button type="submit" { "Save settings" }
                    }
                }
            }
        }
    }
}

fn stage_name(s: &XentralStage) -> String {
    format!("{} / {}", s.view_name, s.name)
}

fn deal_phases(p: &ModulePage<'_>, stages: &Result<StageOverview, String>) -> Markup {
    html! {
        section #stages {
            h2 { "Deal phases" }
            p { "Each xentral resubmission stage and the HubSpot deal stage it stands for. A deal in an unmapped stage is left out." }
            (p.notice_for(Section::Stages))
            @match stages {
                Err(why) => { p.notice.failed { (why) } }
                Ok(o) => {
                    @let shown: Paged<'_, XentralStage> = super::widgets::paged(&o.xentral, p.stages_page, STAGES_PER_PAGE, "stages_page");
                    @if o.xentral.is_empty() {
                        p.muted { "xentral has no resubmission stages yet." }
                    } @else {
                        form method="post" action={ (p.base()) "/stages" } {
                            (csrf_field(p.csrf))
                            div.scroll {
                                table {
                                    thead { tr { th scope="col" { "xentral stage" } th scope="col" { "HubSpot pipeline and stage" } } }
                                    tbody {
                                        @for s in shown.items {
                                            tr {
                                                th scope="row" {
                                                    label for={ "stage-" (s.id) } { (stage_name(s)) }
                                                    @if s.hidden { " " span.muted { "(hidden)" } }
                                                }
                                                td {
                                                    select id={ "stage-" (s.id) } name={ "stage." (s.id) } {
                                                        @if s.mapped_to.is_none() {
                                                            option value="" selected { "— not mapped —" }
                                                        }
                                                        @for (pipeline, label) in pipelines(o) {
                                                            optgroup label=(label) {
                                                                @for h in o.hubspot.iter().filter(|h| h.pipeline_id == pipeline) {
                                                                    @let value = format!("{}:{}", h.pipeline_id, h.stage_id);
                                                                    option value=(value) selected[s.mapped_to.as_ref().is_some_and(|m| crate::report::stage_name(m) == value)] {
                                                                        (h.label) @if h.archived { " (archived)" }
                                                                    }
                                                                }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            button type="submit" { "Save deal phases" }
                        }
                        (pager(&shown, &p.base(), &p.query, "stages"))
                    }
                }
            }
        }
    }
}

/// The pipelines of the overview in order, id and label.
fn pipelines(o: &StageOverview) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for h in &o.hubspot {
        if !out.iter().any(|(id, _)| *id == h.pipeline_id) {
            out.push((h.pipeline_id.clone(), h.pipeline_label.clone()));
        }
    }
    out
}

fn starters(p: &ModulePage<'_>) -> Markup {
    html! {
        section #starters {
            h2 { "Process starters" }
            p { "xentral's scheduler runs these jobs; " code { "xentral-host scheduler" } " is its cron." }
            (p.notice_for(Section::Starters))
            @match &p.starters {
                Err(why) => { p.notice.failed { (why) } }
                Ok(list) if list.is_empty() => {
                    p.muted { "None yet: saving the access token creates them." }
                }
                Ok(list) => {
                    div.cards {
                        @for s in list { (starter(p, s)) }
                    }
                }
            }
        }
    }
}

fn starter(p: &ModulePage<'_>, s: &StarterStatus) -> Markup {
    let lock = match (s.locked, s.lock_stale) {
        (false, _) => "free".to_owned(),
        (true, false) => format!("held ({} attempts found it held)", s.lock_counter),
        (true, true) => format!("stale ({} attempts found it held)", s.lock_counter),
    };
    let next = match s.next_due {
        Some(t) if t <= p.now => "now".to_owned(),
        Some(t) => when(t),
        None => "not scheduled".to_owned(),
    };
    html! {
        article.card id={ "starter-" (s.id) } {
            h3 { (s.bezeichnung) }
            p.muted { "#" (s.id) " · " code { (s.parameter) } }
            dl {
                dt { "Last run" }
                dd {
                    @match &s.last_run {
                        Some(r) => { (when(r.started)) @if r.manual { " (by hand)" } }
                        None => { "never" }
                    }
                }
                dt { "Duration" }
                dd { @match &s.last_run { Some(r) => { (r.duration_ms) " ms" } None => { "–" } } }
                dt { "Outcome" }
                dd {
                    @match &s.last_run {
                        Some(r) => {
                            @match r.outcome {
                                RunResult::Ok => { span.good { "ok" } }
                                RunResult::Failed => { span.bad { "failed" } }
                            }
                            ": " (r.message)
                        }
                        None => { "–" }
                    }
                }
                dt { "Lock" }
                dd { (lock) }
                dt { "Next due" }
                dd { (next) }
            }
            form.schedule method="post" action={ (p.base()) "/starters/" (s.id) } {
                (csrf_field(p.csrf))
                div.field {
                    label for={ "period-" (s.id) } { "Period (minutes)" }
                    input id={ "period-" (s.id) } type="number" name="period" min="1" max=(MAX_PERIOD_MINUTES) value=(s.period_minutes) required;
                }
                div.field.switch {
                    input id={ "active-" (s.id) } type="checkbox" name="active" value="on" checked[s.aktiv];
                    label for={ "active-" (s.id) } { "Active" }
                }
                button type="submit" { "Save schedule" }
            }
            @if let Some(job) = s.job {
                form method="post" action={ (p.base()) "/run" } {
                    (csrf_field(p.csrf))
                    input type="hidden" name="job" value=(job);
                    button.secondary type="submit" { "Run now" }
                }
            }
        }
    }
}
