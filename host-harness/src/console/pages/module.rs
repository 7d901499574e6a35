//! `/t/{tenant}`: the HubSpot module page and its actions (Save token, Save settings,
//! Refresh, Save deal phases, Save schedule, Run now), each the library action the command
//! line runs too.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::actions;
use crate::actions::run::RunRequest;
use crate::actions::settings::SettingsChange;
use crate::actions::starters::StarterChange;
use crate::console::errors::Failure;
use crate::console::form::FormFields;
use crate::console::notice::{Details, Notice, Section};
use crate::console::session::Flash;
use crate::console::settings_form;
use crate::console::views::module::{ModulePage, TokenState, module};
use crate::console::web::{Admin, AdminForm, Console, on_host};
use crate::host::{Connection, DEFAULT_HUBSPOT_URL, HUBSPOT_CREDENTIAL, XentralHost};
use crate::report::{Job, Settings, StageMode};
use crate::settings_defaults::Source;

/// What the page shows instead of the saved state after a refused action: the operator's
/// input, so nothing entered is lost.
#[derive(Debug, Default)]
struct Entered {
    settings: Option<Settings>,
    hubspot_url: Option<String>,
}

/// Everything the page reads from the host, in one blocking call.
struct Loaded {
    hubspot_url: String,
    token: TokenState,
    settings: Result<(Settings, Source), String>,
    lead_statuses: Vec<String>,
    stages: Option<Result<crate::report::StageOverview, String>>,
    starters: Result<Vec<crate::scheduler::StarterStatus>, String>,
    now: chrono::DateTime<chrono::Utc>,
}

fn load(host: &XentralHost, tenant: &str) -> Result<Loaded, Failure> {
    let t = host.tenant(tenant)?;
    let token = match t.secrets().get(HUBSPOT_CREDENTIAL) {
        Ok(None) => TokenState::Missing,
        Ok(Some(secret)) => TokenState::Saved(secret.origin.unwrap_or_default()),
        Err(e) => TokenState::Unreadable(e.to_string()),
    };
    let stages = t
        .config
        .settings
        .as_ref()
        .is_some_and(|s| s.stage_mode == StageMode::UserDefined)
        .then(|| match host.list_stages(tenant) {
            Ok(inv) => inv.result.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        });
    Ok(Loaded {
        hubspot_url: t
            .config
            .hubspot_url
            .clone()
            .unwrap_or_else(|| DEFAULT_HUBSPOT_URL.to_owned()),
        token,
        settings: host
            .settings_defaults(tenant)
            .map(|d| (d.settings, d.source))
            .map_err(|e| e.to_string()),
        lead_statuses: match host.list_options(tenant).map(|inv| inv.result) {
            Ok(Ok(options)) => options.lead_statuses.into_iter().map(|o| o.value).collect(),
            Ok(Err(e)) => {
                tracing::warn!(tenant, error = %e, "the plugin did not list the lead statuses");
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(tenant, error = %e, "the plugin did not list the lead statuses");
                Vec::new()
            }
        },
        stages,
        starters: crate::scheduler::starter_status(host, tenant)
            .map(|all| all.into_iter().filter(|s| s.job.is_some()).collect())
            .map_err(|e| e.to_string()),
        now: xentral_erp::mysql_compat::instant_from_millis(host.clock().now_ms()),
    })
}

/// Renders the page of `tenant` under `status`, with `notice` in its section and `entered`
/// in place of the saved values.
async fn render(
    console: &Arc<Console>,
    admin: &Admin,
    tenant: String,
    status: StatusCode,
    notice: Option<Notice>,
    entered: Entered,
    query: BTreeMap<String, String>,
) -> Response {
    let name = tenant.clone();
    let loaded = match on_host(console, move |host| load(host, &name))
        .await
        .and_then(|r| r)
    {
        Ok(l) => l,
        Err(f) => return super::problem(&f),
    };
    let source = match &loaded.settings {
        Ok((_, Source::Saved)) => "As saved.",
        Ok((_, Source::OldModule)) => {
            "Not saved yet: these are the old HubSpot module's settings, taken over on the first Save."
        }
        Ok((_, Source::BuiltIn)) => "Not saved yet: these are the defaults.",
        Err(_) => "",
    };
    let source = if entered.settings.is_some() {
        "As you entered them (not saved)."
    } else {
        source
    };
    let settings = loaded.settings.map(|(saved, _)| {
        settings_form::groups(
            entered.settings.as_ref().unwrap_or(&saved),
            &loaded.lead_statuses,
        )
    });
    let page = ModulePage {
        tenant: &tenant,
        csrf: &admin.csrf,
        hubspot_url: entered.hubspot_url.unwrap_or(loaded.hubspot_url),
        token: loaded.token,
        settings,
        settings_source: source,
        stages: loaded.stages,
        stages_page: query.get("stages_page").and_then(|p| p.parse().ok()),
        starters: loaded.starters,
        now: loaded.now,
        notice,
        query,
    };
    (status, module(&page)).into_response()
}

/// After a successful action: the outcome for the page, and the page again (its section in
/// view).
fn done(console: &Console, admin: &Admin, tenant: &str, notice: Notice) -> Response {
    let anchor = notice.section.anchor();
    console.sessions.set_flash(
        &admin.session,
        Flash {
            tenant: tenant.to_owned(),
            content: notice,
        },
    );
    Redirect::to(&format!("/t/{tenant}#{anchor}")).into_response()
}

/// After a failed action: the page with the error in `section`.
async fn failed(
    console: &Arc<Console>,
    admin: &Admin,
    tenant: String,
    section: Section,
    failure: Failure,
    entered: Entered,
) -> Response {
    let notice = Notice::failed(section, failure.message);
    render(
        console,
        admin,
        tenant,
        failure.status,
        Some(notice),
        entered,
        BTreeMap::new(),
    )
    .await
}

pub async fn page(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(tenant): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let notice = console
        .sessions
        .take_flash(&admin.session, &tenant, |n: &Notice| {
            !n.section.on_health_page()
        });
    render(
        &console,
        &admin,
        tenant,
        StatusCode::OK,
        notice,
        Entered::default(),
        query,
    )
    .await
}

pub async fn save_connection(
    State(console): State<Arc<Console>>,
    Path(tenant): Path<String>,
    AdminForm { admin, fields }: AdminForm,
) -> Response {
    let url = fields.one("hubspot_url").map(|u| u.trim().to_owned());
    let token = fields.one("token").unwrap_or("").to_owned();
    let name = tenant.clone();
    let given_url = url.clone().filter(|u| !u.is_empty());
    let outcome = on_host(&console, move |host| {
        let connection = Connection {
            hubspot_url: given_url.as_deref(),
            token: Some(&token),
            extra_ca_pem: None,
        };
        actions::settings::save_settings(host, &name, &connection, &SettingsChange::default())
            .map_err(Failure::from)
            .and_then(|inv| inv.result.map_err(Failure::from))
    })
    .await
    .and_then(|r| r);
    match outcome {
        Ok(report) => done(
            &console,
            &admin,
            &tenant,
            Notice::configured(Section::Connection, report),
        ),
        Err(f) => {
            let entered = Entered {
                hubspot_url: url,
                ..Entered::default()
            };
            failed(&console, &admin, tenant, Section::Connection, f, entered).await
        }
    }
}

pub async fn save_settings(
    State(console): State<Arc<Console>>,
    Path(tenant): Path<String>,
    AdminForm { admin, fields }: AdminForm,
) -> Response {
    let change = match settings_form::change(&fields) {
        Ok(c) => c,
        Err(why) => {
            return failed(
                &console,
                &admin,
                tenant,
                Section::Settings,
                Failure::invalid(why),
                Entered::default(),
            )
            .await;
        }
    };
    let name = tenant.clone();
    let outcome = on_host(&console, move |host| {
        let saved = actions::settings::save_settings(host, &name, &Connection::default(), &change)
            .map_err(Failure::from)
            .and_then(|inv| inv.result.map_err(Failure::from));
        let entered = saved
            .is_err()
            .then(|| actions::settings::settings_with(host, &name, &change).ok())
            .flatten();
        (saved, entered)
    })
    .await;
    match outcome {
        Ok((Ok(report), _)) => done(
            &console,
            &admin,
            &tenant,
            Notice::configured(Section::Settings, report),
        ),
        Ok((Err(f), entered)) => {
            let entered = Entered {
                settings: entered,
                ..Entered::default()
            };
            failed(&console, &admin, tenant, Section::Settings, f, entered).await
        }
        Err(f) => {
            failed(
                &console,
                &admin,
                tenant,
                Section::Settings,
                f,
                Entered::default(),
            )
            .await
        }
    }
}

pub async fn refresh(
    State(console): State<Arc<Console>>,
    Path(tenant): Path<String>,
    AdminForm { admin, .. }: AdminForm,
) -> Response {
    let name = tenant.clone();
    let outcome = on_host(&console, move |host| {
        host.refresh(&name)
            .map_err(Failure::from)
            .and_then(|inv| inv.result.map_err(Failure::from))
    })
    .await
    .and_then(|r| r);
    match outcome {
        Ok(report) => done(
            &console,
            &admin,
            &tenant,
            Notice {
                section: Section::Refresh,
                ok: true,
                message: "Refreshed from HubSpot.".into(),
                details: Details::Metadata(report),
            },
        ),
        Err(f) => {
            failed(
                &console,
                &admin,
                tenant,
                Section::Refresh,
                f,
                Entered::default(),
            )
            .await
        }
    }
}

/// The stages the form maps anew: `stage.ID` fields whose value differs from the mapping.
fn stage_choices(fields: &FormFields) -> Result<Vec<(i64, String)>, Failure> {
    fields
        .with_prefix("stage.")
        .filter(|(_, target)| !target.is_empty())
        .map(|(id, target)| {
            id.parse::<i64>()
                .map(|id| (id, target.to_owned()))
                .map_err(|_| Failure::invalid(format!("'{id}' is not a xentral stage id")))
        })
        .collect()
}

pub async fn map_stages(
    State(console): State<Arc<Console>>,
    Path(tenant): Path<String>,
    AdminForm { admin, fields }: AdminForm,
) -> Response {
    let choices = match stage_choices(&fields) {
        Ok(c) => c,
        Err(f) => {
            return failed(
                &console,
                &admin,
                tenant,
                Section::Stages,
                f,
                Entered::default(),
            )
            .await;
        }
    };
    let name = tenant.clone();
    let outcome = on_host(
        &console,
        move |host| -> Result<Vec<String>, (Failure, Vec<String>)> {
            let overview = host
                .list_stages(&name)
                .map_err(Failure::from)
                .and_then(|inv| inv.result.map_err(Failure::from))
                .map_err(|f| (f, Vec::new()))?;
            let mut done = Vec::new();
            for (id, target) in choices {
                let current = overview
                    .xentral
                    .iter()
                    .find(|s| s.id == id)
                    .and_then(|s| s.mapped_to.as_ref())
                    .map(crate::report::stage_name);
                if current.as_deref() == Some(target.as_str()) {
                    continue;
                }
                match actions::stages::map_stage(host, &name, id, &target)
                    .map_err(Failure::from)
                    .and_then(|inv| inv.result.map_err(Failure::from))
                {
                    Ok(message) => done.push(message),
                    Err(f) => {
                        let f =
                            Failure::new(f.status, format!("xentral stage {id}: {}", f.message));
                        return Err((f, done));
                    }
                }
            }
            Ok(done)
        },
    )
    .await
    .map_err(|f| (f, Vec::new()))
    .and_then(|r| r);
    match outcome {
        Ok(mapped) if mapped.is_empty() => done(
            &console,
            &admin,
            &tenant,
            Notice::done(
                Section::Stages,
                "Nothing to change: every stage is mapped as shown.",
            ),
        ),
        Ok(mapped) => done(
            &console,
            &admin,
            &tenant,
            Notice {
                section: Section::Stages,
                ok: true,
                message: format!("Mapped {} stage(s).", mapped.len()),
                details: Details::Lines {
                    done: mapped,
                    warnings: Vec::new(),
                },
            },
        ),
        Err((f, mapped)) => {
            let notice = Notice {
                section: Section::Stages,
                ok: false,
                message: f.message,
                details: Details::Lines {
                    done: mapped,
                    warnings: Vec::new(),
                },
            };
            render(
                &console,
                &admin,
                tenant,
                f.status,
                Some(notice),
                Entered::default(),
                BTreeMap::new(),
            )
            .await
        }
    }
}

pub async fn save_starter(
    State(console): State<Arc<Console>>,
    Path((tenant, id)): Path<(String, i64)>,
    AdminForm { admin, fields }: AdminForm,
) -> Response {
    let period = fields.one("period").unwrap_or("").trim();
    let period = match period.parse::<u32>() {
        Ok(p) => p,
        Err(_) => {
            let f = Failure::invalid(format!(
                "the period must be a whole number of minutes, not '{period}'"
            ));
            return failed(
                &console,
                &admin,
                tenant,
                Section::Starters,
                f,
                Entered::default(),
            )
            .await;
        }
    };
    let change = StarterChange {
        period_minutes: Some(period),
        active: Some(fields.one("active") == Some("on")),
    };
    let name = tenant.clone();
    let outcome = on_host(&console, move |host| {
        actions::starters::change_schedule(host, &name, id, change).map_err(Failure::from)
    })
    .await
    .and_then(|r| r);
    match outcome {
        Ok(changed) => done(
            &console,
            &admin,
            &tenant,
            Notice::done(Section::Starters, changed.message()),
        ),
        Err(f) => {
            failed(
                &console,
                &admin,
                tenant,
                Section::Starters,
                f,
                Entered::default(),
            )
            .await
        }
    }
}

/// The job a form names.
pub(super) fn job_of(fields: &FormFields) -> Result<Job, Failure> {
    fields
        .one("job")
        .unwrap_or("")
        .parse::<Job>()
        .map_err(Failure::invalid)
}

pub async fn run_now(
    State(console): State<Arc<Console>>,
    Path(tenant): Path<String>,
    AdminForm { admin, fields }: AdminForm,
) -> Response {
    let job = match job_of(&fields) {
        Ok(j) => j,
        Err(f) => {
            return failed(
                &console,
                &admin,
                tenant,
                Section::Starters,
                f,
                Entered::default(),
            )
            .await;
        }
    };
    let name = tenant.clone();
    let outcome = on_host(&console, move |host| {
        actions::run::run_job(host, &name, &RunRequest::of(job))
            .map_err(Failure::from)
            .and_then(|inv| inv.result.map_err(Failure::from))
    })
    .await
    .and_then(|r| r);
    match outcome {
        Ok(report) => done(
            &console,
            &admin,
            &tenant,
            Notice {
                section: Section::Starters,
                ok: true,
                message: format!("Ran {job}."),
                details: Details::Job {
                    report,
                    dry_run: false,
                },
            },
        ),
        Err(f) => {
            let f = Failure::new(f.status, format!("{job}: {}", f.message));
            failed(
                &console,
                &admin,
                tenant,
                Section::Starters,
                f,
                Entered::default(),
            )
            .await
        }
    }
}
