//! A HubSpot API client over the host's HTTP: request building, credential by name, call
//! accounting, and classification of HubSpot's error replies.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use crate::platform::{Http, HttpError, Method, Request, Response};

/// A failed HubSpot call, classified by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 401: the token was rejected.
    Unauthorized(String),
    /// 403: a scope is missing (the message names it when HubSpot does).
    MissingScopes(String),
    /// 429 with its policy (`TEN_SECONDLY_ROLLING`, `SECONDLY`, `DAILY`).
    RateLimited {
        /// The policy HubSpot named.
        policy: String,
    },
    /// 5xx: transient; retry with back-off.
    Server(u16),
    /// Another 4xx: the request itself is wrong (validation, conflict, not found).
    Client {
        /// Status code.
        status: u16,
        /// HubSpot's `category`.
        category: String,
        /// HubSpot's `message`.
        message: String,
    },
    /// No usable response; the request may have been applied.
    Transport(HttpError),
    /// A 2xx reply whose body is not the JSON expected.
    Malformed(String),
}

impl ApiError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Server(_) | ApiError::Malformed(_) => true,
            ApiError::RateLimited { policy } => policy != "DAILY",
            ApiError::Transport(e) => {
                matches!(e, HttpError::Timeout | HttpError::Transport(_))
            }
            _ => false,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unauthorized(m) => write!(f, "HubSpot rejected the access token: {m}"),
            ApiError::MissingScopes(m) => write!(f, "the access token lacks a scope: {m}"),
            ApiError::RateLimited { policy } => write!(f, "HubSpot rate limit reached ({policy})"),
            ApiError::Server(s) => write!(f, "HubSpot server error {s}"),
            ApiError::Client {
                status,
                category,
                message,
            } => write!(
                f,
                "HubSpot refused the request ({status} {category}): {message}"
            ),
            ApiError::Transport(e) => write!(f, "HubSpot unreachable: {e}"),
            ApiError::Malformed(m) => write!(f, "HubSpot sent an unreadable reply: {m}"),
        }
    }
}

/// Calls HubSpot for one job, counting calls by endpoint.
pub struct Client<'a> {
    http: &'a mut dyn Http,
    base_url: String,
    credential: String,
    calls: BTreeMap<String, u32>,
    total_calls: u32,
}

impl<'a> Client<'a> {
    /// A client for `base_url` (no trailing slash needed) authenticating with the named secret.
    pub fn new(http: &'a mut dyn Http, base_url: &str, credential: &str) -> Self {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            credential: credential.to_owned(),
            calls: BTreeMap::new(),
            total_calls: 0,
        }
    }

    /// Calls made so far, by endpoint.
    pub fn calls(&self) -> &BTreeMap<String, u32> {
        &self.calls
    }

    /// Total calls made so far.
    pub fn total_calls(&self) -> u32 {
        self.total_calls
    }

    /// Sends one request and parses a JSON reply. `endpoint` is the path template used for
    /// accounting (ids replaced by `{id}`).
    pub fn call(
        &mut self,
        method: Method,
        path: &str,
        endpoint: &str,
        body: Option<&Json>,
    ) -> Result<Json, ApiError> {
        let url = format!("{}{}", self.base_url, path);
        let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let request = Request {
            method,
            url,
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
            credential: Some(self.credential.clone()),
            timeout_ms: Some(30_000),
        };
        *self
            .calls
            .entry(format!("{} {}", method.as_str(), endpoint))
            .or_default() += 1;
        self.total_calls += 1;
        let response = self.http.send(request).map_err(ApiError::Transport)?;
        classify(response)
    }
}

/// Turns a response into parsed JSON or a classified error.
fn classify(response: Response) -> Result<Json, ApiError> {
    let status = response.status;
    if (200..300).contains(&status) {
        if response.body.is_empty() {
            return Ok(Json::Null);
        }
        return serde_json::from_slice(&response.body)
            .map_err(|e| ApiError::Malformed(format!("status {status}: {e}")));
    }
    let body: Json = serde_json::from_slice(&response.body).unwrap_or(Json::Null);
    let text = |key: &str| {
        body.get(key)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    match status {
        401 => Err(ApiError::Unauthorized(format!(
            "401 {}",
            non_empty(text("category"), "INVALID_AUTHENTICATION")
        ))),
        403 => Err(ApiError::MissingScopes(non_empty(text("message"), "403"))),
        429 => Err(ApiError::RateLimited {
            policy: non_empty(text("policyName"), "TEN_SECONDLY_ROLLING"),
        }),
        500..=599 => Err(ApiError::Server(status)),
        _ => Err(ApiError::Client {
            status,
            category: text("category"),
            message: text("message"),
        }),
    }
}

fn non_empty(s: String, default: &str) -> String {
    if s.is_empty() { default.to_owned() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn daily_limit_is_not_transient() {
        let e = classify(response(429, r#"{"policyName":"DAILY"}"#)).unwrap_err();
        assert_eq!(
            e,
            ApiError::RateLimited {
                policy: "DAILY".into()
            }
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn ten_secondly_limit_is_transient() {
        let e = classify(response(429, r#"{"policyName":"TEN_SECONDLY_ROLLING"}"#)).unwrap_err();
        assert!(e.is_transient());
    }

    #[test]
    fn malformed_success_body_is_an_error_not_an_empty_result() {
        let e = classify(response(200, r#"{"results":[{"id":"1""#)).unwrap_err();
        assert!(matches!(e, ApiError::Malformed(_)));
    }

    #[test]
    fn conflict_keeps_hubspot_message() {
        let e = classify(response(
            409,
            r#"{"status":"error","message":"Contact already exists. Existing ID: 42","category":"CONFLICT"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e,
            ApiError::Client {
                status: 409,
                category: "CONFLICT".into(),
                message: "Contact already exists. Existing ID: 42".into()
            }
        );
    }
}
