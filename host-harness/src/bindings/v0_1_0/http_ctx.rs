//! `xentral:hubspot/http`: outbound requests through the host's [`Outbound`] client (origin
//! allow-list, credential injection, limits), each logged with its URL redacted.

use crate::clock::SharedClock;
use crate::joblog::{JobLog, LogEntry, LogLevel};
use crate::outbound::{Outbound, OutboundError, OutboundRequest};

use super::xentral::hubspot::http;

/// What the http interface of one job holds.
pub struct HttpCtx {
    pub(crate) outbound: Outbound,
    pub(crate) log: JobLog,
    pub(crate) clock: SharedClock,
}

impl HttpCtx {
    fn log_host(&self, level: LogLevel, message: String) {
        self.log.push(LogEntry {
            at_ms: self.clock.now_ms(),
            level,
            source: "host".into(),
            message,
            fields: Vec::new(),
        });
    }
}

impl http::Host for HttpCtx {
    fn send(&mut self, req: http::Request) -> Result<http::Response, http::HttpError> {
        let method = match req.method {
            http::Method::Get => "GET",
            http::Method::Post => "POST",
            http::Method::Put => "PUT",
            http::Method::Patch => "PATCH",
            http::Method::Delete => "DELETE",
        };
        let url = req.url.clone();
        let result = self.outbound.send(OutboundRequest {
            method,
            url: req.url,
            headers: req.headers,
            body: req.body,
            credential: req.credential,
            timeout_ms: req.timeout_ms,
        });
        let url = self.outbound.secrets().redact(&url);
        match &result {
            Ok(r) => self.log_host(LogLevel::Trace, format!("{method} {url} → {}", r.status)),
            Err(e) => self.log_host(LogLevel::Warn, format!("{method} {url} failed: {e}")),
        }
        result
            .map(|r| http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                OutboundError::Denied { origin, .. } => http::HttpError::Denied(origin),
                OutboundError::UnknownCredential(n) => http::HttpError::UnknownCredential(n),
                OutboundError::Timeout => http::HttpError::Timeout,
                OutboundError::Transport(m) => http::HttpError::Transport(m),
                // 0.1.0 has no variant of its own; `invalid` is not retried, as a certificate
                // that failed verification fails again.
                OutboundError::Tls(m) => http::HttpError::Invalid(m),
                OutboundError::TooLarge(n) => http::HttpError::TooLarge(n),
                OutboundError::Invalid(m) => http::HttpError::Invalid(m),
            })
    }
}
