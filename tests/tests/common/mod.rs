//! The world every end-to-end test runs in: a HubSpot emulator and a xentral host (with the
//! real plugin component) sharing one virtual clock, and one tenant, whose xentral database is
//! SQLite or MariaDB ([`Backend`]). [`both_backends!`] runs one test body on both.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use hubspot_emulator::{Emulator, EmulatorConfig, ObjectType, Record, TokenConfig};
use xentral_erp::mysql::scratch::{SKIP_HINT, ScratchDatabase, report_skip, test_server_url};
use xentral_erp::{Database, Value};
use xentral_host::bindings::CONTRACT_VERSION;
use xentral_host::report::{
    Budget, ConfigureReport, ContactMode, Entity, Job, JobReport, Settings,
};
use xentral_host::tenant::MysqlSetup;
use xentral_host::{Connection, HostKey, Invocation, VirtualClock, XentralHost};

/// The access token of the emulated portal.
pub const TOKEN: &str = "pat-eu1-4f1c2a9e-7d3b-4c55-9a0e-e2e0c0ffee42";
/// The tenant every test uses.
pub const TENANT: &str = "acme";
/// 2026-01-15 10:00:00 UTC.
pub const START_MS: i64 = 1_768_471_200_000;

/// The database engine of a world's tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the tenant's directory (the embedded default).
    Sqlite,
    /// A scratch database on the MariaDB server of `XENTRAL_TEST_MYSQL_URL`.
    MariaDb,
}

impl Backend {
    /// Whether tests can run on this backend here.
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::MariaDb => test_server_url().is_some(),
        }
    }
}

/// Runs `body(backend)` on `backend`, or reports it skipped when that backend is not available.
/// The report bypasses the test harness's output capture, so a skip is visible in the summary.
pub fn run_on(test: &str, backend: Backend, body: impl FnOnce(Backend)) {
    if backend.available() {
        body(backend);
    } else {
        report_skip(&format!("{test} on {backend:?}"));
    }
}

/// Expands each `fn name(backend) { … }` into a module `name` with two tests, `name::sqlite`
/// and `name::mariadb`, each calling the body with its [`Backend`]; the body builds its world
/// with [`World::on`] or [`World::on_with`]. The MariaDB run is skipped (and says so) without
/// `XENTRAL_TEST_MYSQL_URL`. `ignore_on_mariadb = "why";` before `fn` marks the MariaDB run
/// `#[ignore]` with that reason, for a known defect: it stays listed as ignored in every run.
#[allow(unused_macros)]
macro_rules! both_backends {
    ($(
        $(#[$meta:meta])*
        $(ignore_on_mariadb = $reason:literal;)?
        fn $name:ident($backend:ident) $body:block
    )*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($backend: $crate::common::Backend) $body

            #[test]
            fn sqlite() {
                $crate::common::run_on(stringify!($name), $crate::common::Backend::Sqlite, body);
            }

            #[test]
            $(#[ignore = $reason])?
            fn mariadb() {
                $crate::common::run_on(stringify!($name), $crate::common::Backend::MariaDb, body);
            }
        }
    )*};
}
#[allow(unused_imports)]
pub(crate) use both_backends;

/// Emulator + host + tenant on one virtual clock.
pub struct World {
    /// Keeps the data directory alive.
    pub dir: tempfile::TempDir,
    /// Holds the host key file, outside the data directory.
    pub keys: tempfile::TempDir,
    /// The shared clock.
    pub clock: Arc<VirtualClock>,
    /// HubSpot.
    pub hubspot: Emulator,
    /// xentral.
    pub host: XentralHost,
    /// The tenant's database engine.
    pub backend: Backend,
    /// The tenant's MariaDB database, dropped after the host (fields drop in order).
    pub scratch: Option<ScratchDatabase>,
}

impl World {
    /// A fresh world on SQLite with default emulator settings.
    pub fn new() -> World {
        World::with(|_| {})
    }

    /// A fresh world on SQLite with adjusted emulator settings.
    pub fn with(config: impl FnOnce(&mut EmulatorConfig)) -> World {
        World::on_with(Backend::Sqlite, config)
    }

    /// A fresh world on `backend` with default emulator settings.
    pub fn on(backend: Backend) -> World {
        World::on_with(backend, |_| {})
    }

    /// A fresh world on `backend` with adjusted emulator settings. Panics if the backend is
    /// not available (see [`both_backends!`], which checks first).
    pub fn on_with(backend: Backend, config: impl FnOnce(&mut EmulatorConfig)) -> World {
        let clock = Arc::new(VirtualClock::new(START_MS));
        let shared = Arc::clone(&clock);
        // Over HTTPS, as against the real HubSpot: the tenant trusts the emulator's CA.
        let mut cfg = EmulatorConfig {
            tls: true,
            tokens: vec![TokenConfig::all_scopes(TOKEN)],
            clock: Some(Arc::new(move || {
                use xentral_host::HostClock;
                shared.now_ms()
            })),
            ..EmulatorConfig::default()
        };
        config(&mut cfg);
        let hubspot = Emulator::start(cfg).expect("emulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = tempfile::tempdir().expect("temp dir");
        let host = XentralHost::new(
            dir.path(),
            HostKey::file(keys.path().join("host.key")),
            clock.clone(),
        )
        .expect("host starts");
        let scratch = match backend {
            Backend::Sqlite => None,
            Backend::MariaDb => Some(ScratchDatabase::on_test_server().expect(SKIP_HINT)),
        };
        let url = scratch.as_ref().map(|s| s.url().to_string());
        let setup = url.as_deref().map(|database| MysqlSetup {
            database,
            plugin_account: None,
        });
        host.create_tenant_on(TENANT, setup).expect("tenant");
        World {
            dir,
            keys,
            clock,
            hubspot,
            host,
            backend,
            scratch,
        }
    }

    /// Default settings against the emulator, with companies off and every contact a person
    /// address (what the contact and deal suites test; the company suites switch companies
    /// on with [`World::company_settings`]).
    pub fn settings(&self) -> Settings {
        Settings {
            hubspot_url: self.hubspot.base_url(),
            companies: false,
            contact_mode: ContactMode::Addresses,
            ..xentral_host::settings_defaults::built_in(CONTRACT_VERSION)
        }
    }

    /// The built-in settings against the emulator: companies on, a synced company's contacts
    /// as its contact persons.
    pub fn company_settings(&self) -> Settings {
        Settings {
            hubspot_url: self.hubspot.base_url(),
            ..xentral_host::settings_defaults::built_in(CONTRACT_VERSION)
        }
    }

    /// Saves settings with a token.
    pub fn configure_with(&self, token: &str, settings: &Settings) -> Invocation<ConfigureReport> {
        self.host
            .configure(
                TENANT,
                &Connection {
                    hubspot_url: Some(&settings.hubspot_url),
                    token: Some(token),
                    extra_ca_pem: self.hubspot.ca_pem(),
                },
                settings,
            )
            .expect("host ran configure")
    }

    /// Connects with the default settings; panics unless it works.
    pub fn connect(&self) -> ConfigureReport {
        let s = self.settings();
        self.connect_with(&s)
    }

    /// Connects with these settings; panics unless it works.
    pub fn connect_with(&self, s: &Settings) -> ConfigureReport {
        let inv = self.configure_with(TOKEN, s);
        inv.result
            .unwrap_or_else(|e| panic!("configure failed: {e}\n{:#?}", inv.log))
    }

    /// Lets time pass (beyond HubSpot's search lag), then runs a job; panics unless it works.
    pub fn run(&self, job: Job) -> JobReport {
        let inv = self.run_raw(job, Budget::default());
        inv.result
            .unwrap_or_else(|e| panic!("{job} failed: {e}\n{:#?}", inv.log))
    }

    /// Lets time pass, then runs a job and returns the whole invocation.
    pub fn run_raw(&self, job: Job, budget: Budget) -> Invocation<JobReport> {
        self.clock.advance_ms(60_000);
        self.host
            .run_job(TENANT, job, budget)
            .expect("host ran the job")
    }

    /// The sync health as `status` shows it (the plugin's `sync-health` export).
    pub fn health(&self) -> xentral_host::sync_health::SyncHealth {
        self.host
            .sync_health(TENANT)
            .expect("the host reads the sync health")
            .result
            .expect("the plugin reports its sync health")
    }

    /// The tenant database with full rights.
    pub fn db(&self) -> Box<dyn Database> {
        self.host
            .tenant(TENANT)
            .unwrap()
            .open_admin_db(self.host.clock())
            .unwrap()
    }

    /// One integer from a query.
    pub fn count(&self, sql: &str) -> i64 {
        let rows = self.db().query(sql, &[]).unwrap();
        rows.rows[0][0].as_i64().unwrap_or(0)
    }

    /// The id of the contact group.
    pub fn group_id(&self) -> i64 {
        xentral_erp::ui::find_group_by_name(self.db().as_mut(), "Hubspot")
            .unwrap()
            .expect("group exists")
    }

    /// Today in xentral.
    pub fn today(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
    }

    /// A xentral user adds an address to the group (and the save hook fires).
    pub fn add_address(&self, vorname: &str, nachname: &str, email: &str) -> i64 {
        let mut db = self.db();
        let change = xentral_erp::ui::add_address(
            db.as_mut(),
            &xentral_erp::ui::NewAddress {
                name: format!("{vorname} {nachname}").trim().to_owned(),
                vorname: vorname.into(),
                nachname: nachname.into(),
                email: email.into(),
                lead: true,
                ..Default::default()
            },
        )
        .unwrap();
        xentral_erp::ui::add_to_group(db.as_mut(), change.id, self.group_id(), self.today())
            .unwrap();
        self.hook(change.id);
        change.id
    }

    /// A xentral user edits an address (and the save hook fires).
    pub fn edit_address(&self, id: i64, changes: &[(&str, &str)]) {
        let changes: BTreeMap<String, Value> = changes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::Text((*v).to_owned())))
            .collect();
        xentral_erp::ui::edit_address(self.db().as_mut(), id, &changes).unwrap();
        self.hook(id);
    }

    /// Fires the save hook for an address; panics unless the plugin took the change.
    pub fn hook(&self, id: i64) {
        self.record_changed(Entity::Address, id);
    }

    /// Fires xentral's save hook for a record; panics unless the plugin took the change.
    pub fn record_changed(&self, entity: Entity, id: i64) {
        let inv = self.host.record_changed(TENANT, entity, id).unwrap();
        if let Err(e) = inv.result {
            panic!(
                "the save hook of {entity:?} {id} failed: {e}\n{:#?}",
                inv.log
            );
        }
    }

    /// One column of an address.
    pub fn address(&self, id: i64, column: &str) -> String {
        let row = xentral_erp::ui::get_address(self.db().as_mut(), id)
            .unwrap()
            .expect("address exists");
        row.get(column).and_then(Value::to_text).unwrap_or_default()
    }

    /// The address linked to a HubSpot contact.
    pub fn linked_address(&self, hubspot_id: &str) -> Option<i64> {
        let rows = self
            .db()
            .query(
                "SELECT address_id FROM hubspot_sync_contact_links WHERE hs_contact_id = ?",
                &[Value::Text(hubspot_id.into())],
            )
            .unwrap();
        rows.rows.first().and_then(|r| r[0].as_i64())
    }

    /// The HubSpot contact linked to an address.
    pub fn linked_contact(&self, address_id: i64) -> Option<String> {
        let rows = self
            .db()
            .query(
                "SELECT hs_contact_id FROM hubspot_sync_contact_links WHERE address_id = ?",
                &[Value::Integer(address_id)],
            )
            .unwrap();
        rows.rows.first().and_then(|r| r[0].to_text())
    }

    /// A HubSpot user creates a contact.
    pub fn hubspot_contact(&self, props: &[(&str, &str)]) -> String {
        self.hubspot
            .create_object(ObjectType::Contacts, props_map(props))
            .expect("contact created")
    }

    /// A HubSpot user edits a contact.
    pub fn hubspot_edit(&self, id: &str, props: &[(&str, &str)]) {
        self.hubspot
            .update_object(ObjectType::Contacts, id, props_map(props))
            .expect("contact updated");
    }

    /// A contact's property.
    pub fn hubspot_prop(&self, id: &str, prop: &str) -> String {
        self.hubspot
            .get_object(ObjectType::Contacts, id)
            .expect("contact exists")
            .properties
            .get(prop)
            .cloned()
            .flatten()
            .unwrap_or_default()
    }

    /// All live contacts.
    pub fn contacts(&self) -> Vec<Record> {
        self.hubspot
            .objects(ObjectType::Contacts)
            .into_iter()
            .filter(|r| !r.archived)
            .collect()
    }

    /// Number of addresses in the contact group.
    pub fn group_size(&self) -> i64 {
        self.count(&format!(
            "SELECT COUNT(DISTINCT a.id) FROM adresse a JOIN adresse_rolle r ON r.adresse = a.id \
             WHERE r.objekt = 'Gruppe' AND r.parameter = '{}' AND a.geloescht = 0",
            self.group_id()
        ))
    }

    /// Whether `needle` is stored anywhere in the tenant database: the SQLite file's bytes, or
    /// on MariaDB every text column of every table of the tenant's database.
    pub fn database_contains(&self, needle: &str) -> bool {
        match self.backend {
            Backend::Sqlite => {
                let path = self.host.tenant(TENANT).unwrap().db_path();
                let mut bytes = std::fs::read(&path).unwrap();
                bytes.extend(std::fs::read(path.with_extension("sqlite-wal")).unwrap_or_default());
                bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            }
            Backend::MariaDb => {
                let mut db = self.db();
                let columns = db
                    .query(
                        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
                         WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE IN \
                         ('char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'blob', 'longblob')",
                        &[],
                    )
                    .unwrap();
                assert!(!columns.is_empty(), "no text columns found");
                columns.rows.iter().any(|r| {
                    let (table, column) = (r[0].to_text().unwrap(), r[1].to_text().unwrap());
                    let sql = format!("SELECT COUNT(*) FROM `{table}` WHERE `{column}` LIKE ?");
                    let hits = db
                        .query(&sql, &[Value::Text(format!("%{needle}%"))])
                        .unwrap();
                    hits.scalar().and_then(Value::as_i64).unwrap_or(0) > 0
                })
            }
        }
    }

    /// Connects with companies on and a synced company's contacts as its contact persons.
    pub fn connect_companies(&self) -> ConfigureReport {
        self.connect_with(&self.company_settings())
    }

    /// A xentral user adds a company address (`typ = 'firma'`) to the group (hook fired).
    pub fn add_company_address(&self, name: &str, website: &str) -> i64 {
        let mut db = self.db();
        let change = xentral_erp::ui::add_address(
            db.as_mut(),
            &xentral_erp::ui::NewAddress {
                typ: "firma".into(),
                name: name.into(),
                internetseite: website.into(),
                lead: true,
                ..Default::default()
            },
        )
        .unwrap();
        xentral_erp::ui::add_to_group(db.as_mut(), change.id, self.group_id(), self.today())
            .unwrap();
        self.hook(change.id);
        change.id
    }

    /// A xentral user adds a contact person to a company address (hook fired).
    pub fn add_contact_person(
        &self,
        company: i64,
        vorname: &str,
        nachname: &str,
        email: &str,
    ) -> i64 {
        let change = xentral_erp::ui::add_contact_person(
            self.db().as_mut(),
            &xentral_erp::ui::NewContactPerson {
                adresse: company,
                name: format!("{vorname} {nachname}").trim().to_owned(),
                vorname: vorname.into(),
                email: email.into(),
                ..Default::default()
            },
        )
        .unwrap();
        self.record_changed(Entity::ContactPerson, change.id);
        change.id
    }

    /// A xentral user edits a contact person (hook fired).
    pub fn edit_contact_person(&self, id: i64, changes: &[(&str, &str)]) {
        let changes: BTreeMap<String, Value> = changes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::Text((*v).to_owned())))
            .collect();
        xentral_erp::ui::edit_contact_person(self.db().as_mut(), id, &changes).unwrap();
        self.record_changed(Entity::ContactPerson, id);
    }

    /// One column of a contact person.
    pub fn person(&self, id: i64, column: &str) -> String {
        let row = xentral_erp::ui::get_contact_person(self.db().as_mut(), id)
            .unwrap()
            .expect("contact person exists");
        row.get(column).and_then(Value::to_text).unwrap_or_default()
    }

    /// The xentral record linked to a HubSpot record in one of the plugin's link tables
    /// (`company`, `contact-person`, …), through its `links` export.
    pub fn linked(&self, object: &str, hubspot_id: &str) -> Option<i64> {
        self.links(object)
            .into_iter()
            .find(|(h, _)| h == hubspot_id)
            .map(|(_, x)| x)
    }

    /// The HubSpot record linked to a xentral record of one object kind.
    pub fn linked_hubspot(&self, object: &str, xentral_id: i64) -> Option<String> {
        self.links(object)
            .into_iter()
            .find(|(_, x)| *x == xentral_id)
            .map(|(h, _)| h)
    }

    /// Every pair of one object kind, through the plugin's `links` export.
    pub fn links(&self, object: &str) -> Vec<(String, i64)> {
        self.host.links(TENANT, object).unwrap().unwrap()
    }

    /// A HubSpot user creates a record of `object`.
    pub fn hubspot_create(&self, object: ObjectType, props: &[(&str, &str)]) -> String {
        self.hubspot
            .create_object(object, props_map(props))
            .expect("record created")
    }

    /// A HubSpot user edits a record of `object`.
    pub fn hubspot_update(&self, object: ObjectType, id: &str, props: &[(&str, &str)]) {
        self.hubspot
            .update_object(object, id, props_map(props))
            .expect("record updated");
    }

    /// A property of a record of `object`.
    pub fn hubspot_value(&self, object: ObjectType, id: &str, prop: &str) -> String {
        self.hubspot
            .get_object(object, id)
            .expect("record exists")
            .properties
            .get(prop)
            .cloned()
            .flatten()
            .unwrap_or_default()
    }

    /// The live records of `object`.
    pub fn live(&self, object: ObjectType) -> Vec<Record> {
        self.hubspot
            .objects(object)
            .into_iter()
            .filter(|r| !r.archived)
            .collect()
    }

    /// HubSpot write calls made since the last stats reset.
    pub fn hubspot_writes(&self) -> u64 {
        self.hubspot
            .stats()
            .calls
            .iter()
            .filter(|c| {
                c.method != "GET"
                    && !c.endpoint.ends_with("/search")
                    && !c.endpoint.ends_with("/batch/read")
            })
            .map(|c| c.count)
            .sum()
    }
}

fn props_map(props: &[(&str, &str)]) -> BTreeMap<String, String> {
    props
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Asserts a job report made no writes on either side.
pub fn assert_no_writes(r: &JobReport) {
    for side in [&r.xentral, &r.hubspot] {
        assert_eq!(
            (side.created, side.updated, side.failed),
            (0, 0, 0),
            "expected no writes: {r:#?}"
        );
    }
}
