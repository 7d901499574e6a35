//! Helpers of the console's tests: a world of an emulated portal, a host with tenants on one
//! virtual clock and a running console, and an HTTP client that keeps the session cookie as a
//! browser does.

#![allow(dead_code)]

use std::cell::RefCell;
use std::sync::Arc;

use hubspot_emulator::{Emulator, EmulatorConfig, ObjectType, TokenConfig};
use xentral_erp::ui::NewAddress;
use xentral_host::console::password::password_file;
use xentral_host::console::{self, AdminPassword, ConsoleConfig, LoginLimits, RunningConsole};
use xentral_host::{Connection, HostClock, HostKey, VirtualClock, XentralHost, XentralUi};

/// The administrator password of every world.
pub const PASSWORD: &str = "correct horse battery staple";

/// The token the emulated portal accepts.
pub const TOKEN: &str = "pat-eu1-c0n501e-0000-0000-0000-000000000000";

/// Where the virtual clock starts: 2026-01-15 10:00 UTC.
pub const START_MS: i64 = 1_768_471_200_000;

/// A portal, a host with tenants, and the console serving them.
pub struct ConsoleWorld {
    /// The shared clock.
    pub clock: Arc<VirtualClock>,
    /// HubSpot, over plain HTTP on loopback.
    pub hubspot: Emulator,
    /// The host the console serves.
    pub host: Arc<XentralHost>,
    /// The console.
    pub console: RunningConsole,
    /// Keeps the data directory alive.
    pub dir: tempfile::TempDir,
    /// Holds the host key, outside the data directory.
    pub keys: tempfile::TempDir,
}

impl ConsoleWorld {
    /// Tenants `names` (not connected), the password set, the default login limits.
    pub fn new(names: &[&str]) -> Self {
        ConsoleWorld::with_limits(names, LoginLimits::default())
    }

    /// The same with `limits`.
    pub fn with_limits(names: &[&str], limits: LoginLimits) -> Self {
        let clock = Arc::new(VirtualClock::new(START_MS));
        let shared = Arc::clone(&clock);
        let hubspot = Emulator::start(EmulatorConfig {
            tokens: vec![TokenConfig::all_scopes(TOKEN)],
            clock: Some(Arc::new(move || shared.now_ms())),
            ..EmulatorConfig::default()
        })
        .expect("the emulator starts");
        let dir = tempfile::tempdir().unwrap();
        let keys = tempfile::tempdir().unwrap();
        let host = Arc::new(
            XentralHost::new(
                dir.path(),
                HostKey::file(keys.path().join("host.key")),
                clock.clone(),
            )
            .expect("the host starts"),
        );
        for name in names {
            host.create_tenant(name).expect("tenant");
        }
        let password = AdminPassword::at(password_file(dir.path()));
        password.set(PASSWORD).unwrap();
        let console = console::start(
            Arc::clone(&host),
            ConsoleConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                tls: None,
                password,
                login_limits: limits,
            },
        )
        .expect("the console starts");
        ConsoleWorld {
            clock,
            hubspot,
            host,
            console,
            dir,
            keys,
        }
    }

    /// Connects `tenant` to the portal through the library (what a Save of the token does).
    pub fn connect(&self, tenant: &str) {
        let url = self.hubspot.base_url();
        let inv = xentral_host::actions::settings::save_settings(
            &self.host,
            tenant,
            &Connection {
                hubspot_url: Some(&url),
                token: Some(TOKEN),
                extra_ca_pem: None,
            },
            &Default::default(),
        )
        .unwrap();
        inv.result
            .unwrap_or_else(|e| panic!("configure failed: {e}"));
    }

    /// A browser-like client of the console, not logged in.
    pub fn client(&self) -> Client {
        Client::new(&self.console.url())
    }

    /// A client logged in as the administrator.
    pub fn admin(&self) -> Client {
        let c = self.client();
        let r = c.login(PASSWORD);
        assert_eq!(r.status, 303, "{}", r.body);
        c
    }

    /// Saves an address in `tenant`'s contact group as a xentral user does (the save hook
    /// queues it for export); `phone` may be empty. Returns its id.
    pub fn add_contact(&self, tenant: &str, vorname: &str, email: &str, phone: &str) -> i64 {
        let group = self
            .host
            .tenant(tenant)
            .unwrap()
            .config
            .settings
            .map_or_else(|| "Hubspot".to_owned(), |s| s.group);
        let ui = XentralUi::new(&self.host, tenant).unwrap();
        let saved = ui
            .add_address_in_groups(
                &NewAddress {
                    typ: "herr".into(),
                    name: format!("{vorname} Tester"),
                    vorname: vorname.into(),
                    nachname: "Tester".into(),
                    email: email.into(),
                    telefon: phone.into(),
                    firma: 1,
                    ..NewAddress::default()
                },
                &[group],
            )
            .unwrap();
        saved.hook.expect("the save hook ran");
        saved.change.id
    }

    /// Makes HubSpot refuse contacts without a phone (a portal validation rule).
    pub fn require_phone(&self) {
        assert!(self.hubspot.require_property(ObjectType::Contacts, "phone"));
    }
}

/// One answer.
#[derive(Debug)]
pub struct Reply {
    /// Its status.
    pub status: u16,
    /// Its headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: String,
}

impl Reply {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let start = self.body.find(marker).expect("the page has a form") + marker.len();
        self.body[start..start + 64].to_owned()
    }
}

/// An HTTP client that keeps the console's session cookie, follows no redirect, and sends
/// nothing a test does not ask for.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    cookie: RefCell<Option<String>>,
}

impl Client {
    /// A client of the console at `base`.
    pub fn new(base: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        Client {
            base: base.to_owned(),
            agent,
            cookie: RefCell::new(None),
        }
    }

    /// The session cookie (`name=value`) the client holds.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.borrow().clone()
    }

    /// Replaces the held cookie (another browser's, a forged one).
    pub fn set_cookie(&self, cookie: Option<String>) {
        *self.cookie.borrow_mut() = cookie;
    }

    fn reply(&self, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("the console answers");
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        for (_, v) in headers.iter().filter(|(n, _)| n == "set-cookie") {
            let pair = v.split(';').next().unwrap_or("").trim().to_owned();
            if v.contains("Max-Age=0") {
                *self.cookie.borrow_mut() = None;
            } else {
                *self.cookie.borrow_mut() = Some(pair);
            }
        }
        Reply {
            status: response.status().as_u16(),
            headers,
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// GET `path` with `extra` headers.
    pub fn get_with(&self, path: &str, extra: &[(&str, &str)]) -> Reply {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = self.cookie() {
            req = req.header("cookie", c);
        }
        for (n, v) in extra {
            req = req.header(*n, *v);
        }
        self.reply(req.call())
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    /// POST the form `fields` to `path` with `extra` headers.
    pub fn post_with(&self, path: &str, fields: &[(&str, &str)], extra: &[(&str, &str)]) -> Reply {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(c) = self.cookie() {
            req = req.header("cookie", c);
        }
        for (n, v) in extra {
            req = req.header(*n, *v);
        }
        self.reply(req.send_form(fields.iter().copied()))
    }

    /// POST the form `fields` to `path`.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(path, fields, &[])
    }

    /// POST `fields` with the CSRF token of the page at `page` (as a browser submits a form
    /// of that page).
    pub fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.get(page).csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all)
    }

    /// Opens the login page and logs in with `password`.
    pub fn login(&self, password: &str) -> Reply {
        let csrf = self.get("/login").csrf();
        self.post("/login", &[("csrf", &csrf), ("password", password)])
    }
}
