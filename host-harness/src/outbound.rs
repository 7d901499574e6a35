//! Outbound HTTP for guests: HTTPS with certificate verification (rustls; Mozilla's roots, plus
//! a tenant's extra CA only when the operator gave one), the allow-list (checked before any
//! connection), plain HTTP only to loopback, credential injection by name and only into
//! requests to the origin the credential was validated for, headers the host owns, a count of
//! requests the host enforces itself, caps on response size and request time, and redaction of
//! secret values from everything a guest or a log can see. One agent per job, so one connection
//! (one TLS handshake) serves the whole job.

use std::net::IpAddr;
use std::sync::Arc;

use crate::portal_budget::{Bucket, BudgetError, PortalBudget};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
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
    /// The origin may not be reached (with this credential); nothing was sent.
    #[error("{origin} is not allowed: {reason}")]
    Denied {
        /// The origin (`scheme://host:port`), what the guest is told.
        origin: String,
        /// Which rule refused it, for the job log.
        reason: String,
    },
    /// No such credential; nothing was sent.
    #[error("no credential named '{0}'")]
    UnknownCredential(String),
    /// Timed out.
    #[error("timed out")]
    Timeout,
    /// Connection-level failure.
    #[error("transport failure: {0}")]
    Transport(String),
    /// The server could not be verified (certificate, handshake): nothing was sent, and trying
    /// again will not help until the operator changes something.
    #[error("{0}")]
    Tls(String),
    /// Response body over the cap.
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
    /// Malformed request.
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Headers only the host sets: the request's target and framing, and hop-by-hop headers. A
/// guest `Host` could name another virtual host behind the allowed address and receive the
/// injected token there.
const HOST_OWNED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
];

/// An origin: scheme, host and port (default ports made explicit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// Why an origin may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not a URL with a host.
    #[error("'{0}' is not an http(s) URL with a host")]
    NotAUrl(String),
    /// Plain HTTP to a host that is not loopback.
    #[error(
        "{0} uses plain http:// to a host that is not this machine: the access token would travel in clear; use https://"
    )]
    Insecure(String),
}

impl Origin {
    /// The origin of a URL (`http` or `https` only).
    pub fn of(url: &Url) -> Option<Origin> {
        let scheme = url.scheme().to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        Some(Origin {
            scheme,
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// Parses `scheme://host[:port][/…]`, refusing plain HTTP to anything but loopback.
    pub fn parse(s: &str) -> Result<Origin, OriginError> {
        let url = Url::parse(s.trim()).map_err(|_| OriginError::NotAUrl(s.to_owned()))?;
        let origin = Origin::of(&url).ok_or_else(|| OriginError::NotAUrl(s.to_owned()))?;
        origin.check_secure()?;
        Ok(origin)
    }

    /// `Ok` for `https`, and for `http` to a loopback address or `localhost`.
    pub fn check_secure(&self) -> Result<(), OriginError> {
        if self.scheme == "https" || self.is_loopback() {
            Ok(())
        } else {
            Err(OriginError::Insecure(self.to_string()))
        }
    }

    fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Parses the certificates of a PEM file (for a tenant's extra CA).
pub fn parse_ca_pem(pem: &str) -> Result<Vec<Certificate<'static>>, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem.as_bytes()) {
        match item.map_err(|e| format!("not a PEM file: {e}"))? {
            PemItem::Certificate(c) => certs.push(c),
            _ => return Err("the PEM file holds something other than certificates".into()),
        }
    }
    if certs.is_empty() {
        return Err("the PEM file holds no certificate".into());
    }
    Ok(certs)
}

/// What one job's HTTP client may do.
#[derive(Debug, Clone)]
pub struct OutboundPolicy {
    /// Origins the guest may reach.
    pub allowed: Vec<Origin>,
    /// Cap on one response body.
    pub max_response_bytes: u64,
    /// Cap on one request's time.
    pub timeout_cap: Duration,
    /// Requests the job may send, counted by the host.
    pub max_requests: Option<u32>,
    /// No request starts after this instant, and none runs past it.
    pub deadline: Option<Instant>,
    /// A CA to trust besides Mozilla's roots (PEM), for a local trial or test portal.
    pub extra_ca_pem: Option<String>,
    /// The shared rate budget of the HubSpot portal and the origin it governs: every request
    /// to that origin waits for a slot in it (see [`crate::portal_budget`]).
    pub portal_budget: Option<(Origin, Arc<PortalBudget>)>,
    /// How many requests of one `send_all` are sent at the same time.
    pub max_in_flight: usize,
}

/// The HTTP client of one job.
pub struct Outbound {
    agent: ureq::Agent,
    policy: OutboundPolicy,
    secrets: JobSecrets,
    sent: AtomicU32,
}

impl Outbound {
    /// A client under `policy`; fails when the extra CA is not a usable PEM file.
    pub fn new(policy: OutboundPolicy, secrets: JobSecrets) -> Result<Self, String> {
        let roots = match &policy.extra_ca_pem {
            None => RootCerts::WebPki,
            Some(pem) => {
                let mut certs: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                    .iter()
                    .map(|der| Certificate::from_der(der.as_ref()))
                    .collect();
                certs.extend(parse_ca_pem(pem)?);
                RootCerts::Specific(Arc::new(certs))
            }
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(policy.timeout_cap))
            .user_agent("xentral-hubspot-plugin/0.1")
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build();
        Ok(Outbound {
            agent: config.into(),
            policy,
            secrets,
            sent: AtomicU32::new(0),
        })
    }

    /// The secrets this job may use.
    pub fn secrets(&self) -> &JobSecrets {
        &self.secrets
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u32 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Sends one request under the sandbox rules.
    pub fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let url =
            Url::parse(&req.url).map_err(|e| OutboundError::Invalid(format!("bad URL: {e}")))?;
        let origin = Origin::of(&url)
            .ok_or_else(|| OutboundError::Invalid("not an http(s) URL with a host".into()))?;
        let denied = |reason: String| OutboundError::Denied {
            origin: origin.to_string(),
            reason,
        };
        if !self.policy.allowed.contains(&origin) {
            return Err(denied("it is not on the allow-list".into()));
        }
        origin.check_secure().map_err(|e| denied(e.to_string()))?;
        if let Some((name, _)) = req
            .headers
            .iter()
            .find(|(n, _)| HOST_OWNED_HEADERS.iter().any(|h| n.eq_ignore_ascii_case(h)))
        {
            return Err(OutboundError::Invalid(format!(
                "the header '{name}' is set by the host, not the plugin"
            )));
        }
        let token = match &req.credential {
            Some(name) => {
                let secret = self
                    .secrets
                    .get(name)
                    .ok_or_else(|| OutboundError::UnknownCredential(name.clone()))?;
                let bound = secret.origin.as_deref().unwrap_or("no origin");
                if bound != origin.to_string() {
                    return Err(denied(format!(
                        "the credential '{name}' is only ever sent to {bound}"
                    )));
                }
                Some(secret.value.as_str())
            }
            None => None,
        };
        let timeout = self.timeout(req.timeout_ms)?;
        let sent = self.sent.fetch_add(1, Ordering::SeqCst);
        if let Some(max) = self.policy.max_requests
            && sent >= max
        {
            self.sent.fetch_sub(1, Ordering::SeqCst);
            return Err(OutboundError::Invalid(format!(
                "the job's limit of {max} requests is used up; nothing was sent"
            )));
        }
        let budget = self
            .policy
            .portal_budget
            .as_ref()
            .filter(|(governed, _)| *governed == origin)
            .map(|(_, b)| b);
        if let Some(budget) = budget
            && let Err(e) = budget.acquire(Bucket::of_path(url.path()), self.policy.deadline)
        {
            self.sent.fetch_sub(1, Ordering::SeqCst);
            return Err(match e {
                BudgetError::Deadline => OutboundError::Timeout,
                BudgetError::Database(e) => OutboundError::Transport(e.to_string()),
            });
        }
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
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| self.map_error(e, &origin))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes());
                (k.as_str().to_ascii_lowercase(), self.secrets.redact(&value))
            })
            .collect();
        if let Some(budget) = budget {
            budget.learn(&headers);
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(self.policy.max_response_bytes)
            .read_to_vec()
            .map_err(|e| self.map_error(e, &origin))?;
        Ok(OutboundResponse {
            status,
            headers,
            body: self.secrets.redact_bytes(body),
        })
    }

    /// Sends several requests, at most the policy's `max_in_flight` at the same time, each
    /// under the same rules as [`Outbound::send`]; the results are in the order of `reqs`.
    pub fn send_all(
        &self,
        reqs: Vec<OutboundRequest>,
    ) -> Vec<Result<OutboundResponse, OutboundError>> {
        let mut results = Vec::with_capacity(reqs.len());
        let mut reqs = reqs.into_iter().peekable();
        while reqs.peek().is_some() {
            let group: Vec<OutboundRequest> = reqs
                .by_ref()
                .take(self.policy.max_in_flight.max(1))
                .collect();
            std::thread::scope(|scope| {
                let running: Vec<_> = group
                    .into_iter()
                    .map(|req| scope.spawn(move || self.send(req)))
                    .collect();
                for r in running {
                    results.push(r.join().unwrap_or_else(|_| {
                        Err(OutboundError::Transport(
                            "the host's request thread failed".into(),
                        ))
                    }));
                }
            });
        }
        results
    }

    /// The time this request may take: what it asked for, capped by the tenant's limit and by
    /// what is left of the job.
    fn timeout(&self, asked_ms: Option<u32>) -> Result<Duration, OutboundError> {
        let mut timeout = asked_ms
            .map(|ms| Duration::from_millis(u64::from(ms)).min(self.policy.timeout_cap))
            .unwrap_or(self.policy.timeout_cap);
        if let Some(deadline) = self.policy.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Nothing was sent; to the guest it is a request that got no answer in time.
                return Err(OutboundError::Timeout);
            }
            timeout = timeout.min(left);
        }
        Ok(timeout)
    }

    fn map_error(&self, e: ureq::Error, origin: &Origin) -> OutboundError {
        let tls = |detail: String| {
            OutboundError::Tls(format!(
                "TLS with {origin} failed: {detail} (the server's certificate is checked against Mozilla's roots{})",
                if self.policy.extra_ca_pem.is_some() {
                    " and the tenant's extra CA"
                } else {
                    "; for a local test portal give its CA with --ca-file"
                }
            ))
        };
        match e {
            ureq::Error::Timeout(_) => OutboundError::Timeout,
            ureq::Error::BodyExceedsLimit(_) => {
                OutboundError::TooLarge(self.policy.max_response_bytes)
            }
            ureq::Error::Rustls(r) => tls(r.to_string()),
            ureq::Error::Tls(m) => tls(m.to_owned()),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                OutboundError::Timeout
            }
            ureq::Error::Io(io)
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
            {
                tls(io.to_string())
            }
            other => OutboundError::Transport(self.secrets.redact(&other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://api.hubapi.com",
            "http://127.0.0.1:8099",
            "http://localhost:1",
            "http://[::1]:80",
            "http://127.8.9.1",
        ] {
            assert!(Origin::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.hubapi.com",
            "http://10.0.0.1:80",
            "http://localhost.evil.com",
        ] {
            assert!(
                matches!(Origin::parse(bad), Err(OriginError::Insecure(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Origin::parse("ftp://x"),
            Err(OriginError::NotAUrl(_))
        ));
    }

    #[test]
    fn origins_make_default_ports_explicit() {
        assert_eq!(
            Origin::parse("https://API.hubapi.com/crm")
                .unwrap()
                .to_string(),
            "https://api.hubapi.com:443"
        );
    }

    #[test]
    fn a_ca_file_must_hold_certificates() {
        assert!(parse_ca_pem("hello").is_err());
        assert!(parse_ca_pem("").is_err());
    }
}
