//! The console's request plumbing: its shared state, the session cookie, the extractors that
//! admit a request ([`Admin`] for pages, [`AdminForm`] for every change: logged in, same
//! origin, right CSRF token), the headers every answer carries, and running the host's
//! blocking work off the async threads.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use tokio::sync::Semaphore;

use super::errors::Failure;
use super::form::FormFields;
use super::notice::Notice;
use super::password::AdminPassword;
use super::session::{SessionView, Sessions};
use super::throttle::LoginThrottle;
use super::views;
use crate::host::XentralHost;

/// The session cookie's name over plain HTTP.
pub const COOKIE: &str = "xentral_console";

/// Its name under TLS: the `__Host-` prefix makes browsers keep it only when it is `Secure`,
/// for this host alone and the whole path.
pub const TLS_COOKIE: &str = "__Host-xentral_console";

/// Argon2 checks running at once at most: each takes 19 MiB and a core for tens of
/// milliseconds, so a burst of logins from many clients queues instead of exhausting the host.
const CONCURRENT_PASSWORD_CHECKS: usize = 2;

/// What every request handler shares.
pub struct Console {
    /// The host over the data directory.
    pub host: Arc<XentralHost>,
    /// The administrator password.
    pub password: AdminPassword,
    /// Live sessions; a flash holds a [`Notice`].
    pub sessions: Sessions<Notice>,
    /// Failed logins per client.
    pub throttle: LoginThrottle,
    /// Bounds the Argon2 checks running at once.
    pub password_checks: Semaphore,
    /// Served over TLS.
    pub tls: bool,
    /// The `Host` values answered on plain HTTP (`None`: any, under TLS).
    pub allowed_hosts: Option<Vec<String>>,
}

impl Console {
    /// The state for `host`.
    pub fn new(
        host: Arc<XentralHost>,
        password: AdminPassword,
        throttle: LoginThrottle,
        tls: bool,
        allowed_hosts: Option<Vec<String>>,
    ) -> Self {
        Console {
            sessions: Sessions::new(Arc::clone(host.clock())),
            host,
            password,
            throttle,
            password_checks: Semaphore::new(CONCURRENT_PASSWORD_CHECKS),
            tls,
            allowed_hosts,
        }
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        if self.tls { TLS_COOKIE } else { COOKIE }
    }

    /// `Set-Cookie` for session `id`: `HttpOnly; SameSite=Strict; Path=/`, and `Secure` under
    /// TLS; no expiry, so the browser forgets it when it closes.
    pub fn session_cookie(&self, id: &str) -> HeaderValue {
        let c = Cookie::build((self.cookie_name(), id.to_owned()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.tls)
            .build();
        HeaderValue::from_str(&c.to_string()).expect("hex ids make a valid header")
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn removed_cookie(&self) -> HeaderValue {
        let c = Cookie::build((self.cookie_name(), ""))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.tls)
            .max_age(cookie::time::Duration::ZERO)
            .build();
        HeaderValue::from_str(&c.to_string()).expect("a valid header")
    }

    /// The session id the request's cookie carries.
    pub fn session_id(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == self.cookie_name())
            .map(|c| c.value().to_owned())
    }

    /// The host clock now.
    pub fn now_ms(&self) -> i64 {
        self.host.clock().now_ms()
    }
}

/// A request of the logged-in administrator.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The session id.
    pub session: String,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
}

/// Answers a request that is not logged in: to the login page.
fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

impl FromRequestParts<Arc<Console>> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        let Some(id) = console.session_id(&parts.headers) else {
            return Err(to_login());
        };
        let Some(SessionView {
            csrf,
            admin: Some(fingerprint),
        }) = console.sessions.get(&id)
        else {
            return Err(to_login());
        };
        // A session made with another password than today's has ended.
        match console.password.load() {
            Ok(stored) if stored.fingerprint() == fingerprint => Ok(Admin { session: id, csrf }),
            _ => {
                console.sessions.end(&id);
                Err(to_login())
            }
        }
    }
}

/// Whether a state-changing request may come from the console's own pages: not with an
/// `Origin` that is not this console's, nor when the browser says (`Sec-Fetch-Site`) that it
/// comes from another site or another port of this one. An opaque `Origin: null` says
/// nothing either way. (The session
/// cookie is `SameSite=Strict` and the CSRF token is checked as well; this is the third line.)
pub fn from_this_console(parts: &Parts, console: &Console) -> bool {
    let cross_site = parts
        .headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site" || v.as_bytes() == b"same-site");
    let origin_ok = match (
        parts.headers.get(header::ORIGIN),
        parts.headers.get(header::HOST),
    ) {
        (None, _) => true,
        (Some(origin), _) if origin.as_bytes() == b"null" => true,
        (Some(origin), Some(host)) => {
            let scheme = if console.tls { "https" } else { "http" };
            origin.as_bytes() == format!("{scheme}://{}", host.to_str().unwrap_or("")).as_bytes()
        }
        (Some(_), None) => false,
    };
    !cross_site && origin_ok
}

/// Why a form from elsewhere was refused.
pub const FROM_ELSEWHERE: &str =
    "this form was sent from another site's page; the console only accepts its own forms";

/// A 403 page saying `why`.
pub fn forbidden(why: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        views::layout::problem("Refused", why),
    )
        .into_response()
}

/// A change the logged-in administrator submitted from one of the console's own pages.
#[derive(Debug)]
pub struct AdminForm {
    /// Who sent it.
    pub admin: Admin,
    /// What it holds (the CSRF token was checked).
    pub fields: FormFields,
}

impl FromRequest<Arc<Console>> for AdminForm {
    type Rejection = Response;

    async fn from_request(req: Request, console: &Arc<Console>) -> Result<Self, Self::Rejection> {
        // The body is read first, whatever the answer: one left unread would end the
        // keep-alive connection under a client that already reuses it.
        let (mut parts, body) = req.into_parts();
        let body = Bytes::from_request(Request::from_parts(parts.clone(), body), console)
            .await
            .map_err(IntoResponse::into_response)?;
        let admin = Admin::from_request_parts(&mut parts, console).await?;
        if !from_this_console(&parts, console) {
            return Err(forbidden(FROM_ELSEWHERE));
        }
        let fields = FormFields::parse(&body);
        let view = SessionView {
            csrf: admin.csrf.clone(),
            admin: None,
        };
        if !fields.one("csrf").is_some_and(|t| view.csrf_matches(t)) {
            return Err(forbidden(
                "the form's security token does not match this session (the page was out of date, or the form came from elsewhere); reload the page and try again",
            ));
        }
        Ok(AdminForm { admin, fields })
    }
}

/// The client's address, for the login rate limit.
pub fn client_ip(parts_ext: &axum::http::Extensions) -> std::net::IpAddr {
    parts_ext
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |c| c.0.ip())
}

/// Runs `work` on the host on a blocking thread (a plugin call, the database, files).
pub async fn on_host<T: Send + 'static>(
    console: &Arc<Console>,
    work: impl FnOnce(&XentralHost) -> T + Send + 'static,
) -> Result<T, Failure> {
    let host = Arc::clone(&console.host);
    tokio::task::spawn_blocking(move || work(&host))
        .await
        .map_err(|e| {
            Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the console's worker failed: {e}"),
            )
        })
}

/// The Content-Security-Policy of every answer: nothing but this console's own stylesheet,
/// no script at all, no framing, forms posting only here.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Checks `Host` on plain HTTP and adds the security headers to every answer; pages with data
/// are never stored by a browser or proxy.
pub async fn guard(State(console): State<Arc<Console>>, req: Request, next: Next) -> Response {
    let misdirected = console.allowed_hosts.as_ref().filter(|allowed| {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        !allowed.iter().any(|a| a.eq_ignore_ascii_case(host))
    });
    let mut response = match misdirected {
        Some(allowed) => (
            StatusCode::MISDIRECTED_REQUEST,
            format!("this console answers to {} only\n", allowed.join(" and ")),
        )
            .into_response(),
        None => next.run(req).await,
    };
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, "content-security-policy", CSP);
    set(headers, "x-frame-options", "DENY");
    set(headers, "x-content-type-options", "nosniff");
    // Not `no-referrer`: under it a browser sends `Origin: null` with the console's own forms.
    set(headers, "referrer-policy", "same-origin");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "cross-origin-resource-policy", "same-origin");
    if console.tls {
        set(headers, "strict-transport-security", "max-age=31536000");
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    response
}
