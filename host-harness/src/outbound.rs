//! Outbound HTTP for guests: the allow-list (checked before any connection), credential
//! injection by name, caps on response size and request time, and redaction of secret values
//! from everything a guest or a log can see.

use std::time::Duration;

use url::Url;

use crate::secrets::JobSecrets;

/// One request as the guest asked for it.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// Method name (`GET`, …).
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Headers from the guest.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
    /// Credential name to inject.
    pub credential: Option<String>,
    /// Timeout asked for.
    pub timeout_ms: Option<u32>,
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    /// Status code.
    pub status: u16,
    /// Lower-case header names.
    pub headers: Vec<(String, String)>,
    /// Body (at most the cap).
    pub body: Vec<u8>,
}

/// Why no response came back; mirrors the WIT `http-error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// Not on the allow-list; nothing was sent.
    #[error("origin {0} is not on the allow-list")]
    Denied(String),
    /// No such credential; nothing was sent.
    #[error("no credential named '{0}'")]
    UnknownCredential(String),
    /// Timed out.
    #[error("timed out")]
    Timeout,
    /// Connection-level failure.
    #[error("transport failure: {0}")]
    Transport(String),
    /// Response body over the cap.
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
    /// Malformed request.
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// An origin: scheme, host and port (default ports made explicit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of a URL.
    pub fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// Parses `scheme://host[:port][/…]`.
    pub fn parse(s: &str) -> Result<Origin, String> {
        let url = Url::parse(s).map_err(|e| format!("'{s}' is not a URL: {e}"))?;
        Origin::of(&url).ok_or_else(|| format!("'{s}' has no host or port"))
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// The HTTP client of one job.
pub struct Outbound {
    agent: ureq::Agent,
    allowed: Vec<Origin>,
    max_response_bytes: u64,
    timeout_cap: Duration,
    secrets: JobSecrets,
}

impl Outbound {
    /// A client that may reach only `allowed`.
    pub fn new(
        allowed: Vec<Origin>,
        max_response_bytes: u64,
        timeout_cap: Duration,
        secrets: JobSecrets,
    ) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(timeout_cap))
            .user_agent("xentral-hubspot-plugin/0.1")
            .build();
        Outbound {
            agent: config.into(),
            allowed,
            max_response_bytes,
            timeout_cap,
            secrets,
        }
    }

    /// The secrets this job may use.
    pub fn secrets(&self) -> &JobSecrets {
        &self.secrets
    }

    /// Sends one request under the sandbox rules.
    pub fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let url =
            Url::parse(&req.url).map_err(|e| OutboundError::Invalid(format!("bad URL: {e}")))?;
        let origin =
            Origin::of(&url).ok_or_else(|| OutboundError::Invalid("URL has no host".into()))?;
        if !self.allowed.contains(&origin) {
            return Err(OutboundError::Denied(origin.to_string()));
        }
        let token = match &req.credential {
            Some(name) => Some(
                self.secrets
                    .value(name)
                    .ok_or_else(|| OutboundError::UnknownCredential(name.clone()))?,
            ),
            None => None,
        };
        let mut builder = ureq::http::Request::builder()
            .method(req.method)
            .uri(url.as_str());
        for (name, value) in &req.headers {
            if token.is_some() && name.eq_ignore_ascii_case("authorization") {
                continue;
            }
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let request = builder
            .body(req.body.unwrap_or_default())
            .map_err(|e| OutboundError::Invalid(self.secrets.redact(&e.to_string())))?;
        let timeout = req
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)).min(self.timeout_cap))
            .unwrap_or(self.timeout_cap);
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        let mut response = self.agent.run(request).map_err(|e| self.map_error(e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes());
                (k.as_str().to_ascii_lowercase(), self.secrets.redact(&value))
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_response_bytes)
            .read_to_vec()
            .map_err(|e| self.map_error(e))?;
        Ok(OutboundResponse {
            status,
            headers,
            body: self.secrets.redact_bytes(body),
        })
    }

    fn map_error(&self, e: ureq::Error) -> OutboundError {
        match e {
            ureq::Error::Timeout(_) => OutboundError::Timeout,
            ureq::Error::BodyExceedsLimit(_) => OutboundError::TooLarge(self.max_response_bytes),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                OutboundError::Timeout
            }
            other => OutboundError::Transport(self.secrets.redact(&other.to_string())),
        }
    }
}
