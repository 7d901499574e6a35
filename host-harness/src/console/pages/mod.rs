//! The console's routes, one module per page. Every page needs a logged-in administrator
//! ([`Admin`](super::web::Admin)); every change is a POST with the session's CSRF token
//! ([`AdminForm`](super::web::AdminForm)), answered by a redirect to the page (the outcome
//! shown once in its section) or, when it failed, by the page itself with the error and
//! what was entered.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::errors::Failure;
use super::views;
use super::web::{self, Console};

mod health;
mod login;
mod module;
mod tenants;

/// The largest form accepted (the settings form is a few kilobytes).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Every route of the console.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(tenants::index))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/static/console.css", get(stylesheet))
        .route("/t/{tenant}", get(module::page))
        .route("/t/{tenant}/connection", post(module::save_connection))
        .route("/t/{tenant}/settings", post(module::save_settings))
        .route("/t/{tenant}/refresh", post(module::refresh))
        .route("/t/{tenant}/stages", post(module::map_stages))
        .route("/t/{tenant}/starters/{id}", post(module::save_starter))
        .route("/t/{tenant}/run", post(module::run_now))
        .route("/t/{tenant}/health", get(health::page))
        .route("/t/{tenant}/dry-run", post(health::dry_run))
        .route("/t/{tenant}/retry", post(health::retry))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&console),
            web::guard,
        ))
        .with_state(console)
}

/// The console's only stylesheet; it holds no data, so it is served before login and may be
/// cached.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../console.css"),
    )
        .into_response()
}

async fn not_found() -> Response {
    problem(&Failure::new(
        StatusCode::NOT_FOUND,
        "there is no such page in the console",
    ))
}

/// A page that only shows `failure`, with its status.
fn problem(failure: &Failure) -> Response {
    let title = match failure.status {
        StatusCode::NOT_FOUND => "Not found",
        s if s.is_client_error() => "Refused",
        _ => "Something failed",
    };
    (
        failure.status,
        views::layout::problem(title, &failure.message),
    )
        .into_response()
}
