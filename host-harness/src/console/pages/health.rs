//! `/t/{tenant}/health`: the sync health page, its dry run (the library's dry run, as
//! `xentral-host run TENANT JOB --dry-run` runs it) and its retry of failing records (as
//! `xentral-host retry TENANT` does).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::actions;
use crate::actions::run::RunRequest;
use crate::console::errors::Failure;
use crate::console::notice::{Details, Notice, Section};
use crate::console::session::Flash;
use crate::console::views::health::{HealthPage, health};
use crate::console::web::{Admin, AdminForm, Console, on_host};

async fn render(
    console: &Arc<Console>,
    admin: &Admin,
    tenant: String,
    status: StatusCode,
    notice: Option<Notice>,
    query: BTreeMap<String, String>,
) -> Response {
    let name = tenant.clone();
    let report = on_host(console, move |host| {
        actions::status::status(host, &name).map_err(Failure::from)
    })
    .await
    .and_then(|r| r);
    match report {
        Ok(report) => {
            let page = HealthPage {
                tenant: &tenant,
                csrf: &admin.csrf,
                report: &report,
                notice,
                query,
            };
            (status, health(&page)).into_response()
        }
        Err(f) => super::problem(&f),
    }
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
            n.section.on_health_page()
        });
    render(&console, &admin, tenant, StatusCode::OK, notice, query).await
}

pub async fn dry_run(
    State(console): State<Arc<Console>>,
    Path(tenant): Path<String>,
    AdminForm { admin, fields }: AdminForm,
) -> Response {
    let outcome = match super::module::job_of(&fields) {
        Ok(job) => {
            let name = tenant.clone();
            on_host(&console, move |host| {
                actions::run::run_job(host, &name, &RunRequest::dry(job))
                    .map_err(Failure::from)
                    .and_then(|inv| inv.result.map_err(Failure::from))
            })
            .await
            .and_then(|r| r)
            .map(|report| (job, report))
        }
        Err(f) => Err(f),
    };
    match outcome {
        Ok((job, report)) => {
            console.sessions.set_flash(
                &admin.session,
                Flash {
                    tenant: tenant.clone(),
                    content: Notice {
                        section: Section::DryRun,
                        ok: true,
                        message: format!("Dry run of {job}: nothing was written."),
                        details: Details::Job {
                            report,
                            dry_run: true,
                        },
                    },
                },
            );
            Redirect::to(&format!("/t/{tenant}/health#dry-run")).into_response()
        }
        Err(f) => {
            let notice = Notice::failed(Section::DryRun, f.message);
            render(
                &console,
                &admin,
                tenant,
                f.status,
                Some(notice),
                BTreeMap::new(),
            )
            .await
        }
    }
}

/// Makes failing records due now: one record (`record`) of a kind (`object`), every record
/// of a kind, or every failing record (neither given).
pub async fn retry(
    State(console): State<Arc<Console>>,
    Path(tenant): Path<String>,
    AdminForm { admin, fields }: AdminForm,
) -> Response {
    let object = fields.one("object").map(str::to_owned);
    let records: Vec<String> = fields
        .one("record")
        .map(str::to_owned)
        .into_iter()
        .collect();
    let name = tenant.clone();
    let outcome = on_host(&console, move |host| {
        host.retry_now(&name, object.as_deref(), &records)
            .map_err(Failure::from)
            .and_then(|inv| inv.result.map_err(Failure::from))
    })
    .await
    .and_then(|r| r);
    let notice = match outcome {
        Ok(n) => Notice {
            section: Section::Retry,
            ok: true,
            message: format!(
                "{n} failing record(s) will be retried by the next run (the queue runs every 10 minutes; Run now on the module page runs it at once)."
            ),
            details: Details::None,
        },
        Err(f) => Notice::failed(Section::Retry, f.message),
    };
    console.sessions.set_flash(
        &admin.session,
        Flash {
            tenant: tenant.clone(),
            content: notice,
        },
    );
    Redirect::to(&format!("/t/{tenant}/health#overview")).into_response()
}
