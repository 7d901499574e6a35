//! The shared test helper: an emulator on a manual clock and a ureq agent that reads error bodies.
#![allow(dead_code)]

use std::collections::BTreeMap;

use hubspot_emulator::{Emulator, EmulatorConfig, ManualClock, TokenConfig};
use serde_json::Value;

/// 2024-05-01T12:00:00Z: every test starts here.
pub const START_MS: i64 = 1_714_564_800_000;
/// The all-scopes token of every harness.
pub const TOKEN: &str = "pat-na1-test";

pub struct Harness {
    pub emu: Emulator,
    pub clock: ManualClock,
    agent: ureq::Agent,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub raw: String,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// An agent that trusts only the CA in `ca_pem`.
pub fn agent_trusting(ca_pem: &str) -> ureq::Agent {
    let certs: Vec<_> = ureq::tls::parse_pem(ca_pem.as_bytes())
        .filter_map(|item| match item.unwrap() {
            ureq::tls::PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        )
        .build()
        .new_agent()
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(|_| {})
    }

    pub fn with(configure: impl FnOnce(&mut EmulatorConfig)) -> Harness {
        let clock = ManualClock::new(START_MS);
        let mut config = EmulatorConfig {
            tokens: vec![TokenConfig::all_scopes(TOKEN)],
            clock: Some(clock.now_fn()),
            ..EmulatorConfig::default()
        };
        configure(&mut config);
        let emu = Emulator::start(config).expect("emulator starts");
        let agent = emu.ca_pem().map_or_else(agent, agent_trusting);
        Harness { emu, clock, agent }
    }

    /// An emulator serving HTTPS, and a client trusting its CA.
    pub fn tls() -> Harness {
        Harness::with(|c| c.tls = true)
    }

    /// Replaces the client (to trust another CA, or none).
    pub fn with_agent(mut self, agent: ureq::Agent) -> Harness {
        self.agent = agent;
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url())
    }

    /// Any request; `token: None` sends no Authorization header.
    pub fn call_as(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Reply {
        self.try_call(method, path, body, token)
            .expect("transport ok")
    }

    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<Reply, ureq::Error> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let payload = match body {
            Some(b) => {
                request = request.header("Content-Type", "application/json");
                serde_json::to_vec(b).unwrap()
            }
            None => Vec::new(),
        };
        let mut response = self.agent.run(request.body(payload).unwrap())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let raw = response.body_mut().read_to_string()?;
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            raw,
            body,
        })
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.call_as(method, path, body, Some(TOKEN))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(&body))
    }

    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(&body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None)
    }

    /// Creates a contact over HTTP and returns its id.
    pub fn contact(&self, properties: Value) -> String {
        let reply = self.post(
            "/crm/v3/objects/contacts",
            serde_json::json!({ "properties": properties }),
        );
        assert_eq!(reply.status, 201, "{}", reply.raw);
        reply.body["id"].as_str().unwrap().to_string()
    }

    /// Creates a company over HTTP and returns its id.
    pub fn company(&self, properties: Value) -> String {
        let reply = self.post(
            "/crm/v3/objects/companies",
            serde_json::json!({ "properties": properties }),
        );
        assert_eq!(reply.status, 201, "{}", reply.raw);
        reply.body["id"].as_str().unwrap().to_string()
    }

    /// Creates a deal in the default pipeline and returns its id.
    pub fn deal(&self, name: &str) -> String {
        let reply = self.post(
            "/crm/v3/objects/deals",
            serde_json::json!({"properties": {"dealname": name, "pipeline": "default", "dealstage": "appointmentscheduled"}}),
        );
        assert_eq!(reply.status, 201, "{}", reply.raw);
        reply.body["id"].as_str().unwrap().to_string()
    }

    /// Advances the shared manual clock.
    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }
}

/// The single error entry code of a validation reply.
pub fn error_codes(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts that a body is HubSpot's error shape with this category and a UUID correlation id.
pub fn assert_error(reply: &Reply, status: u16, category: &str) {
    assert_eq!(reply.status, status, "{}", reply.raw);
    assert_eq!(reply.body["status"], "error", "{}", reply.raw);
    assert_eq!(reply.body["category"], category, "{}", reply.raw);
    let correlation = reply.body["correlationId"].as_str().expect("correlationId");
    assert_eq!(correlation.len(), 36, "uuid: {correlation}");
    assert_eq!(correlation.matches('-').count(), 4, "uuid: {correlation}");
}
