//! The contract's versions: released ones are frozen, the plugin carries the version it was
//! built against, the host still loads, configures, runs and reads components of every
//! version it supports (the 0.1.0 test guest, the 0.2.0 compat guest, the 0.3.0 plugin), and
//! refuses one it does not implement before compiling it, naming both.

mod common;

use std::sync::Arc;

use sha2::{Digest, Sha256};
use xentral_erp::{Privilege, TableGrant};
use xentral_host::bindings::{CONTRACT_SECTION, SUPPORTED_CONTRACTS, contract_version};
use xentral_host::report::{
    ArchiveAction, Budget, ContactMode, FieldDirection, Job, Settings, Side, SyncDirection,
    SyncRule,
};
use xentral_host::sandbox::{COMPAT_GUEST_WASM, PLUGIN_WASM, TEST_GUEST_WASM};
use xentral_host::{HostError, JobError, TenantLimits, VirtualClock, XentralHost};

/// The released 0.1.0 WIT, byte for byte. It is never edited: a change to the contract is a
/// new version in a new folder, with a new binding module in the host.
const FROZEN_0_1_0: &[u8] = include_bytes!("../../wit/deps/xentral-hubspot@0.1.0/hubspot-sync.wit");
const FROZEN_0_1_0_SHA256: &str =
    "579daf9446e8d0fad8ba567ceaa23c4a228d56d99706511162be8df4a93c7f72";

/// The released 0.2.0 WIT, byte for byte.
const FROZEN_0_2_0: &[u8] = include_bytes!("../../wit/deps/xentral-hubspot@0.2.0/hubspot-sync.wit");
const FROZEN_0_2_0_SHA256: &str =
    "2cdeb3bf34b38de8f6d07baeee274d196fde0dd40380ff1b525636bc2336cc0d";

/// The released 0.3.0 WIT, byte for byte.
const FROZEN_0_3_0: &[u8] = include_bytes!("../../wit/deps/xentral-hubspot@0.3.0/hubspot-sync.wit");
const FROZEN_0_3_0_SHA256: &str =
    "17a39674ef2ef162ad7864a5c5d4746cec4da9c047e1e40df3419573ec4481bf";

#[test]
fn the_released_contracts_are_frozen() {
    for (version, wit, sha) in [
        ("0.1.0", FROZEN_0_1_0, FROZEN_0_1_0_SHA256),
        ("0.2.0", FROZEN_0_2_0, FROZEN_0_2_0_SHA256),
        ("0.3.0", FROZEN_0_3_0, FROZEN_0_3_0_SHA256),
    ] {
        assert_eq!(
            hex::encode(Sha256::digest(wit)),
            sha,
            "wit/deps/xentral-hubspot@{version} was edited; add a new version instead"
        );
    }
}

#[test]
fn the_plugin_carries_0_3_0_and_the_guests_0_1_0_and_0_2_0_and_the_host_supports_all() {
    for (wasm, version) in [
        (PLUGIN_WASM, "0.3.0"),
        (TEST_GUEST_WASM, "0.1.0"),
        (COMPAT_GUEST_WASM, "0.2.0"),
    ] {
        assert_eq!(contract_version(wasm).unwrap().as_deref(), Some(version));
    }
    assert_eq!(SUPPORTED_CONTRACTS, ["0.1.0", "0.2.0", "0.3.0"]);
}

/// The test guest with its contract section's name or version bytes replaced.
fn guest_with(find: &[u8], replace: &[u8]) -> Vec<u8> {
    assert_eq!(find.len(), replace.len());
    let mut wasm = TEST_GUEST_WASM.to_vec();
    let at = wasm
        .windows(find.len())
        .position(|w| w == find)
        .expect("the bytes are in the guest");
    wasm[at..at + find.len()].copy_from_slice(replace);
    wasm
}

/// A host running the 0.1.0 test guest over a fresh data directory (kept while the host is).
fn guest_host() -> (tempfile::TempDir, XentralHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = XentralHost::with_component(
        dir.path(),
        common::test_key(),
        Arc::new(VirtualClock::new(0)),
        TEST_GUEST_WASM,
    )
    .unwrap();
    (dir, host)
}

fn load(wasm: &[u8]) -> Result<XentralHost, HostError> {
    let dir = tempfile::tempdir().unwrap();
    XentralHost::with_component(
        dir.path(),
        common::test_key(),
        Arc::new(VirtualClock::new(0)),
        wasm,
    )
}

#[test]
fn a_component_built_against_0_1_0_loads_and_runs() {
    let (_dir, host) = guest_host();
    host.create_tenant("t").unwrap();
    let mut db = host
        .tenant("t")
        .unwrap()
        .open_admin_db(host.clock())
        .unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('test_guest_command', 'ok', 0, 0)",
        &[],
    )
    .unwrap();
    let run = host
        .run_job("t", Job::SyncContacts, Budget::default())
        .unwrap();
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert!(
        run.db_statements >= 1,
        "the host counts the guest's statements (it read its command)"
    );
}

#[test]
fn a_component_of_an_unknown_contract_version_is_refused_naming_both() {
    let mut versioned = CONTRACT_SECTION.as_bytes().to_vec();
    versioned.extend_from_slice(b"0.1.0");
    let mut future = CONTRACT_SECTION.as_bytes().to_vec();
    future.extend_from_slice(b"9.9.0");
    let err = load(&guest_with(&versioned, &future))
        .err()
        .expect("refused");
    let message = err.to_string();
    assert!(
        message.contains("built against contract xentral:hubspot@9.9.0")
            && message.contains(
                "this host supports xentral:hubspot@0.1.0, xentral:hubspot@0.2.0, xentral:hubspot@0.3.0"
            ),
        "{message}"
    );
}

#[test]
fn a_component_that_names_no_contract_version_is_refused() {
    let hidden = CONTRACT_SECTION.replace('c', "k");
    let err = load(&guest_with(CONTRACT_SECTION.as_bytes(), hidden.as_bytes()))
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("built against contract no version"),
        "{err}"
    );
}

#[test]
fn a_component_whose_exports_are_not_of_the_version_it_names_is_refused() {
    let mut old = CONTRACT_SECTION.as_bytes().to_vec();
    old.extend_from_slice(b"0.1.0");
    let mut claimed = CONTRACT_SECTION.as_bytes().to_vec();
    claimed.extend_from_slice(b"0.2.0");
    let err = load(&guest_with(&old, &claimed)).err().expect("refused");
    assert!(
        err.to_string().contains("xentral:hubspot/plugin@0.1.0"),
        "names what it exports: {err}"
    );
}

#[test]
fn the_plugin_states_its_jobs_and_tables_in_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let host = XentralHost::new(
        dir.path(),
        common::test_key(),
        Arc::new(VirtualClock::new(0)),
    )
    .unwrap();
    let m = host.component().manifest();
    assert_eq!(m.contract_version, "0.3.0");
    let jobs: Vec<_> = m
        .jobs
        .iter()
        .map(|j| (j.job, j.starter_parameter.as_str(), j.period_minutes))
        .collect();
    assert_eq!(
        jobs,
        [
            (Job::ProcessQueue, "hubspot_process", 10),
            (Job::SyncContacts, "hubspot_pull_contacts", 60),
            (Job::SyncDeals, "hubspot_pull_deals", 60),
        ]
    );
    assert!(m.tables.allows("adresse", Privilege::Update, true));
    assert!(!m.tables.allows("adresse", Privilege::Delete, true));
    assert!(m.tables.owns("hubspot_sync_queue", true));
    assert!(!m.tables.owns("hubspot_contacts", true));
    // The grant in force is the manifest within the host's policy: here all of it.
    assert_eq!(host.plugin_grant(&TenantLimits::default()), m.tables);
    // An operator's narrower policy narrows it.
    let narrow = TenantLimits {
        table_grant: Some(TableGrant::new().with_table("adresse", &[Privilege::Select])),
        ..TenantLimits::default()
    };
    assert_eq!(
        host.plugin_grant(&narrow),
        TableGrant::new().with_table("adresse", &[Privilege::Select])
    );
}

#[test]
fn a_0_1_0_component_runs_the_jobs_of_its_release_and_reports_no_sync_health() {
    let (_dir, host) = guest_host();
    let m = host.component().manifest();
    assert_eq!(m.contract_version, "0.1.0");
    assert_eq!(m.job_of_starter("hubspot_pull_deals"), Some(Job::SyncDeals));
    assert_eq!(m.job_of_starter("something_else"), None);
    host.create_tenant("t").unwrap();
    let health = host.sync_health("t").unwrap();
    let err = health.result.expect_err("0.1.0 has no sync-health export");
    assert!(
        matches!(&err, JobError::Host(m) if m.contains("contract 0.1.0")),
        "{err}"
    );
    let links = host.links("t", "contact").unwrap();
    assert!(
        matches!(&links, Err(JobError::Host(m)) if m.contains("contract 0.1.0")),
        "{links:?}"
    );
}

#[test]
fn a_0_1_0_component_is_never_handed_sync_rules_it_cannot_obey() {
    let (_dir, host) = guest_host();
    host.create_tenant("t").unwrap();
    let settings = xentral_host::report::Settings {
        hubspot_url: "http://127.0.0.1:9".into(),
        contact_rule: xentral_host::report::SyncRule {
            direction: xentral_host::report::SyncDirection::ToXentral,
            ..Default::default()
        },
        ..xentral_host::settings_defaults::built_in("0.1.0")
    };
    let err = host
        .configure("t", &xentral_host::Connection::default(), &settings)
        .expect_err("refused before the plugin runs");
    assert!(err.to_string().contains("contract 0.2.0 or later"), "{err}");
}

/// A host running the 0.2.0 compat guest over a fresh data directory, with tenant `t`.
fn compat_host() -> (tempfile::TempDir, XentralHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = XentralHost::with_component(
        dir.path(),
        common::test_key(),
        Arc::new(VirtualClock::new(0)),
        COMPAT_GUEST_WASM,
    )
    .unwrap();
    host.create_tenant("t").unwrap();
    (dir, host)
}

/// The settings a plugin before 0.3.0 can obey: no companies, contacts as addresses.
fn settings_before_0_3_0() -> Settings {
    Settings {
        hubspot_url: "http://127.0.0.1:9".into(),
        ..xentral_host::settings_defaults::built_in("0.2.0")
    }
}

fn konfiguration(host: &XentralHost, name: &str) -> Option<String> {
    let mut db = host
        .tenant("t")
        .unwrap()
        .open_admin_db(host.clock())
        .unwrap();
    db.query(
        "SELECT wert FROM konfiguration WHERE name = ?",
        &[xentral_erp::Value::Text(name.into())],
    )
    .unwrap()
    .scalar()
    .and_then(xentral_erp::Value::to_text)
}

#[test]
fn a_component_built_against_0_2_0_is_configured_run_and_read_through_its_own_binding() {
    let (_dir, host) = compat_host();
    let m = host.component().manifest();
    assert_eq!(m.contract_version, "0.2.0");
    assert_eq!(m.job_of_starter("hubspot_pull_deals"), Some(Job::SyncDeals));
    assert!(m.tables.allows("konfiguration", Privilege::Update, true));
    assert!(!m.tables.allows("adresse", Privilege::Select, true));

    let settings = Settings {
        contact_rule: SyncRule {
            direction: SyncDirection::TwoWay,
            conflict_winner: Side::Hubspot,
            fields: vec![FieldDirection {
                field: "city".into(),
                direction: SyncDirection::ToXentral,
            }],
            ..SyncRule::two_way()
        },
        ..settings_before_0_3_0()
    };
    let connection = xentral_host::Connection {
        token: Some("pat-compat"),
        ..Default::default()
    };
    let configured = host.configure("t", &connection, &settings).unwrap();
    assert!(configured.result.is_ok(), "{:?}", configured.result);
    assert_eq!(
        konfiguration(&host, "compat_guest_settings").as_deref(),
        Some(
            "contacts=true deals=true group=Hubspot stages=automatic api= contact-rule=two-way Side::Hubspot city=to-xentral deal-rule=two-way Side::Xentral"
        ),
        "the 0.2.0 form of the settings carries every value the plugin can obey"
    );

    let run = host
        .run_job("t", Job::SyncDeals, Budget::default())
        .unwrap();
    let report = run.result.expect("the job ran");
    assert_eq!(report.job, Job::SyncDeals);
    assert_eq!(
        report.hubspot.excluded_for("left out by the compat guest"),
        1
    );
    assert!(
        report.planned.is_empty(),
        "0.2.0 plans nothing record by record"
    );
    assert_eq!(
        konfiguration(&host, "compat_guest_run").as_deref(),
        Some("sync-deals dry-run=false"),
        "the job and budget crossed in 0.2.0's form"
    );

    let health = host
        .sync_health("t")
        .unwrap()
        .result
        .expect("0.2.0 reports health");
    assert!(health.connected);
    assert_eq!(health.contacts().in_sync, 1);
    assert!(health.contacts().ended.is_empty());
    assert_eq!(
        host.links("t", "contact").unwrap().unwrap(),
        [("501".to_owned(), 7)]
    );
}

#[test]
fn a_0_2_0_component_sends_requests_together_through_its_binding() {
    let (_dir, host) = compat_host();
    let connection = xentral_host::Connection {
        token: Some("pat-compat"),
        ..Default::default()
    };
    host.configure("t", &connection, &settings_before_0_3_0())
        .unwrap()
        .result
        .unwrap();
    let mut db = host
        .tenant("t")
        .unwrap()
        .open_admin_db(host.clock())
        .unwrap();
    db.execute(
        "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES ('compat_guest_urls', 'http://10.0.0.1:9/a\nhttp://10.0.0.2:9/b', 0, 0)",
        &[],
    )
    .unwrap();
    let report = host
        .run_job("t", Job::SyncContacts, Budget::default())
        .unwrap()
        .result
        .expect("the job ran");
    assert_eq!(report.messages.len(), 2, "{report:?}");
    assert!(
        report
            .messages
            .iter()
            .all(|m| m.starts_with("error HttpError::Denied")),
        "each request of the group went through the allow-list: {report:?}"
    );
}

#[test]
fn a_0_2_0_component_is_never_handed_settings_it_cannot_obey() {
    let (_dir, host) = compat_host();
    let connection = xentral_host::Connection {
        token: Some("pat-compat"),
        ..Default::default()
    };
    for (settings, says) in [
        (
            Settings {
                companies: true,
                ..settings_before_0_3_0()
            },
            "companies and contact persons need a plugin of contract 0.3.0",
        ),
        (
            Settings {
                contact_mode: ContactMode::ContactPersons,
                ..settings_before_0_3_0()
            },
            "companies and contact persons need a plugin of contract 0.3.0",
        ),
        (
            Settings {
                deal_rule: SyncRule {
                    on_hubspot_archive: ArchiveAction::Mark,
                    ..SyncRule::two_way()
                },
                ..settings_before_0_3_0()
            },
            "archived and deleted records needs a plugin of contract 0.3.0",
        ),
    ] {
        let err = host
            .configure("t", &connection, &settings)
            .expect_err("refused before the plugin runs");
        assert!(err.to_string().contains(says), "{err}");
    }
    assert_eq!(konfiguration(&host, "compat_guest_settings"), None);
}
