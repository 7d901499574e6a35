//! `GET/POST /login`, `POST /logout`: the administrator's session.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::console::form::FormFields;
use crate::console::session::SessionView;
use crate::console::throttle::Admission;
use crate::console::views::login::login;
use crate::console::web::{
    Admin, AdminForm, Console, FROM_ELSEWHERE, client_ip, forbidden, from_this_console,
};

/// The login page with `problem`, under `status`, for the anonymous session `id` (a cookie
/// is set when it is new).
fn login_page(
    console: &Console,
    status: StatusCode,
    session: (String, SessionView, bool),
    problem: Option<&str>,
) -> Response {
    let (id, view, new) = session;
    let mut response = (status, login(&view.csrf, problem)).into_response();
    if new {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, console.session_cookie(&id));
    }
    response
}

/// The request's anonymous session, or a new one (`true` when new).
fn anonymous(console: &Console, headers: &HeaderMap) -> (String, SessionView, bool) {
    if let Some(id) = console.session_id(headers)
        && let Some(view) = console.sessions.get(&id)
        && view.admin.is_none()
    {
        return (id, view, false);
    }
    let (id, view) = console.sessions.start();
    (id, view, true)
}

pub async fn form(State(console): State<Arc<Console>>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    if Admin::from_request_parts(&mut parts, &console)
        .await
        .is_ok()
    {
        return Redirect::to("/").into_response();
    }
    let session = anonymous(&console, &parts.headers);
    login_page(&console, StatusCode::OK, session, None)
}

/// `Retry-After` in whole seconds, rounded up.
fn retry_after(ms: i64) -> (i64, HeaderValue) {
    let secs = (ms + 999) / 1000;
    (secs, HeaderValue::from(secs.max(1)))
}

pub async fn submit(State(console): State<Arc<Console>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match Bytes::from_request(Request::from_parts(parts.clone(), body), &console).await {
        Ok(b) => b,
        Err(rejection) => return rejection.into_response(),
    };
    if !from_this_console(&parts, &console) {
        return forbidden(FROM_ELSEWHERE);
    }
    let ip = client_ip(&parts.extensions);
    let session = anonymous(&console, &parts.headers);
    if let Admission::Refused { retry_after_ms } = console.throttle.admit(ip, console.now_ms()) {
        let (secs, header_value) = retry_after(retry_after_ms);
        let minutes = (secs + 59) / 60;
        let mut response = login_page(
            &console,
            StatusCode::TOO_MANY_REQUESTS,
            session,
            Some(&format!(
                "Too many wrong passwords from this address: logins from it are refused for {minutes} more minute(s)."
            )),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header_value);
        return response;
    }
    let fields = FormFields::parse(&body);
    if session.2
        || !fields
            .one("csrf")
            .is_some_and(|t| session.1.csrf_matches(t))
    {
        return login_page(
            &console,
            StatusCode::FORBIDDEN,
            session,
            Some(
                "The login form was out of date or did not come from this console: enter the password again.",
            ),
        );
    }
    let stored = match console.password.load() {
        Ok(stored) => stored,
        Err(e) => {
            return login_page(
                &console,
                StatusCode::SERVICE_UNAVAILABLE,
                session,
                Some(&e.to_string()),
            );
        }
    };
    let password = fields.one("password").unwrap_or("").to_owned();
    let matches = {
        let Ok(_permit) = console.password_checks.acquire().await else {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        };
        let stored = stored.clone();
        tokio::task::spawn_blocking(move || stored.matches(&password))
            .await
            .unwrap_or(false)
    };
    let now = console.now_ms();
    if !matches {
        console.throttle.failed(ip, now);
        tracing::warn!(client = %ip, "console login refused: wrong password");
        return login_page(
            &console,
            StatusCode::UNAUTHORIZED,
            session,
            Some("The password is wrong."),
        );
    }
    console.throttle.succeeded(ip);
    tracing::info!(client = %ip, "console login");
    let (id, _) = console
        .sessions
        .log_in(Some(&session.0), stored.fingerprint());
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, console.session_cookie(&id));
    response
}

pub async fn logout(State(console): State<Arc<Console>>, form: AdminForm) -> Response {
    console.sessions.end(&form.admin.session);
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, console.removed_cookie());
    response
}
