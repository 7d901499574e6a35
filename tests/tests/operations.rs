//! What an operator relies on: dry runs that write nothing, and sync health that shows what
//! is failing and why.

mod common;

use common::{World, both_backends};
use hubspot_emulator::{ObjectType, SeedSpec};
use xentral_erp::{Database, DbError, Dialect, READ_ONLY, Value};
use xentral_host::report::{Budget, Job};

/// Every row of every table of the tenant database, table by table.
fn database_snapshot(w: &World) -> Vec<(String, Vec<Vec<Value>>)> {
    let mut db = w.db();
    let tables = match db.dialect() {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        Dialect::Mysql => {
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
        }
    };
    let names: Vec<String> = db
        .query(tables, &[])
        .unwrap()
        .rows
        .into_iter()
        .filter_map(|r| r[0].to_text())
        // The portal's shared rate budget is the host's bookkeeping of requests sent, and a
        // dry run's requests count against HubSpot's limits like any other's.
        .filter(|t| !t.starts_with("xentral_host_rate_"))
        .collect();
    assert!(
        names.iter().any(|n| n == "hubspot_sync_failures"),
        "{names:?}"
    );
    names
        .into_iter()
        .map(|t| {
            let rows = db
                .query(&format!("SELECT * FROM {t} ORDER BY 1"), &[])
                .unwrap();
            (t, rows.rows)
        })
        .collect()
}

/// Every HubSpot contact and deal, archived ones included.
fn hubspot_snapshot(w: &World) -> String {
    format!(
        "{:?}{:?}",
        w.hubspot.objects(ObjectType::Contacts),
        w.hubspot.objects(ObjectType::Deals)
    )
}

both_backends! {
    fn dry_run_reports_what_would_change_and_writes_nothing_anywhere(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec::new(31, 80, 0));
        w.connect();
        for i in 0..20 {
            w.add_address("Dry", &format!("Run{i}"), &format!("dry{i}@x.de"));
        }
        // A pull that failed before and whose retry is due: a dry run must neither retry it
        // for real nor clear it (it is behind the cursor; clearing it loses it for good).
        let failed = w.contacts()[0].id.clone();
        w.db()
            .execute(
                "INSERT INTO hubspot_sync_failures (object, direction, record_key, error, attempts, next_retry_ms, first_failed_ms) \
                 VALUES ('contact', 'pull', ?, 'earlier failure', 1, 0, 0)",
                &[Value::from(failed.as_str())],
            )
            .unwrap();
        let before = (database_snapshot(&w), hubspot_snapshot(&w));
        w.hubspot.reset_stats();
        let dry = Budget {
            dry_run: true,
            ..Budget::default()
        };
        let sync = w.run_raw(Job::SyncContacts, dry).result.unwrap();
        let queue = w.run_raw(Job::ProcessQueue, dry).result.unwrap();
        let deals = w.run_raw(Job::SyncDeals, dry).result.unwrap();
        assert_eq!(sync.xentral.created, 80, "{sync:#?}");
        assert_eq!(sync.hubspot.created, 20, "{sync:#?}");
        assert_eq!(queue.hubspot.created, 20, "{queue:#?}");
        assert_eq!(deals.xentral.failed + deals.hubspot.failed, 0, "{deals:#?}");
        let after = (database_snapshot(&w), hubspot_snapshot(&w));
        assert!(before.0 == after.0, "the database changed in a dry run");
        assert!(before.1 == after.1, "HubSpot changed in a dry run");
        assert_eq!(w.hubspot_writes(), 0, "{:#?}", w.hubspot.stats());
        // A real run afterwards does exactly what the dry run announced, and the failed
        // record is retried.
        let real = w.run(Job::SyncContacts);
        assert_eq!((real.xentral.created, real.hubspot.created), (80, 20));
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_failures"), 0);
    }
}

both_backends! {
    /// An operator's policy may allow more than the plugin asks for (here the resubmission
    /// log `wiedervorlage_protokoll`): the grant is what the manifest asks for within the
    /// policy, so its connection is refused that table, on MariaDB by the server itself,
    /// while what it asked for works.
    fn the_plugin_gets_what_its_manifest_asks_for_within_the_policy_and_no_more(backend) {
        let w = World::on(backend);
        w.connect();
        let manifest = w.host.component().manifest();
        assert!(!manifest.tables.names("wiedervorlage_protokoll", true));
        assert!(manifest.tables.names("ansprechpartner", true));
        let wider = xentral_host::TenantLimits {
            table_grant: Some(
                xentral_erp::TableGrant::hubspot_policy()
                    .with_table("wiedervorlage_protokoll", &[xentral_erp::Privilege::Select]),
            ),
            ..Default::default()
        };
        let grant = w.host.plugin_grant(&wider);
        assert!(!grant.names("wiedervorlage_protokoll", true), "asking never widens");
        let tenant = w.host.tenant(common::TENANT).unwrap();
        let mut db = tenant.open_guest_db(w.host.clock(), &grant).unwrap();
        assert!(db.query("SELECT COUNT(*) FROM ansprechpartner", &[]).is_ok());
        assert_eq!(
            db.query("SELECT COUNT(*) FROM wiedervorlage_protokoll", &[]),
            Err(DbError::Denied("wiedervorlage_protokoll".into()))
        );
        if let Some(url) = tenant.plugin_mysql_url().unwrap() {
            let mut raw =
                xentral_erp::MysqlDatabase::connect(&url, xentral_erp::system_clock()).unwrap();
            assert!(raw.query("SELECT COUNT(*) FROM ansprechpartner", &[]).is_ok());
            let refused = raw.query("SELECT COUNT(*) FROM wiedervorlage_protokoll", &[]);
            assert!(
                matches!(&refused, Err(DbError::Denied(_) | DbError::Invalid(_))),
                "the server refuses it: {refused:?}"
            );
        }
    }

    /// The database itself refuses a write on a dry run's connection, whatever is sent.
    fn a_dry_runs_connection_is_read_only_in_the_database_itself(backend) {
        let w = World::on(backend);
        w.connect();
        let tenant = w.host.tenant(common::TENANT).unwrap();
        let mut db = tenant
            .open_guest_db(w.host.clock(), &w.host.component().manifest().tables)
            .unwrap();
        assert!(db.execute("UPDATE hubspot_sync_cursors SET modified_ms = 1", &[]).is_ok());
        db.set_read_only().unwrap();
        let write = db.execute("UPDATE hubspot_sync_cursors SET modified_ms = 2", &[]);
        assert_eq!(write, Err(DbError::Denied(READ_ONLY.into())));
        let insert = db.execute(
            "INSERT INTO hubspot_sync_failures (object, direction, record_key, error) VALUES ('contact', 'pull', '1', 'x')",
            &[],
        );
        assert_eq!(insert, Err(DbError::Denied(READ_ONLY.into())));
        assert!(db.query("SELECT COUNT(*) FROM adresse", &[]).is_ok());
    }
}

#[test]
fn sync_health_shows_in_sync_excluded_and_failing_records_with_ids() {
    let w = World::new();
    w.connect();
    w.hubspot_contact(&[("email", "ok@x.de")]);
    let bad = w.add_address("Bad", "Status", "bad@x.de");
    w.edit_address(bad, &[("freifeld1", "NOT_AN_OPTION")]);
    w.add_address("No", "Mail", "");
    // Run as `run` on the command line does, so the run log has it.
    w.clock.advance_ms(60_000);
    let run = run_by_hand(&w, Job::SyncContacts).unwrap();
    assert!(run.result.is_ok(), "{:?}", run.result);
    let health = w.health();
    assert!(health.connected);
    assert_eq!(health.contacts().in_sync, 1);
    assert_eq!(
        health.contacts().excluded.get("HubSpot: no e-mail address"),
        Some(&1),
        "the last sync-contacts run's exclusions, from the run log: {health:#?}"
    );
    assert_eq!(health.contacts().failing.len(), 1, "{health:#?}");
    let f = &health.contacts().failing[0];
    assert_eq!((f.direction.as_str(), f.count), ("push", 1));
    assert_eq!(f.records, vec![bad.to_string()]);
    assert!(
        f.error.contains("INVALID_OPTION") || f.error.contains("VALIDATION"),
        "{}",
        f.error
    );
    assert!(
        f.needs_change,
        "HubSpot refused the record as it is: it waits for a change, not for a retry"
    );
    assert_eq!(
        health.queue.pending, 2,
        "the hooks queued both addresses; sync-contacts does not consume the queue"
    );
}

/// Marks the starter of `parameter` as held by a run that `counter` attempts found locked.
fn hold_lock(w: &World, parameter: &str, counter: i64) {
    w.db()
        .execute(
            "UPDATE prozessstarter SET mutex = 1, mutexcounter = ?, status = 'running since 2020-01-01 00:00:00 (run dead)' WHERE parameter = ?",
            &[Value::Integer(counter), Value::from(parameter)],
        )
        .unwrap();
}

/// Runs `job` by hand, as `run` on the CLI does.
fn run_by_hand(
    w: &World,
    job: Job,
) -> Result<xentral_host::Invocation<xentral_host::report::JobReport>, xentral_host::HostError> {
    w.host
        .run_job_exclusive(common::TENANT, job, Budget::default(), false)
}

fn starter(w: &World, parameter: &str) -> xentral_erp::scheduler::Starter {
    xentral_erp::scheduler::find_by_parameter(w.db().as_mut(), parameter)
        .unwrap()
        .unwrap()
}

#[test]
fn a_manual_run_follows_the_scheduler_lock_rules_and_stamps_its_starter() {
    let w = World::new();
    w.connect();
    // Held by a run that three scheduled attempts found locked: stale, taken over.
    hold_lock(&w, "hubspot_pull_contacts", 3);
    let run = run_by_hand(&w, Job::SyncContacts).unwrap();
    assert!(run.result.is_ok(), "{:?}", run.result);
    let s = starter(&w, "hubspot_pull_contacts");
    assert_eq!(
        (s.mutex, s.mutexcounter, s.status.as_str()),
        (false, 0, "OK")
    );
    assert_eq!(
        s.letzteausfuerhung.map(|t| t.timestamp_millis()),
        Some(w.host.clock().now_ms() / 1000 * 1000),
        "a manual run stamps its starter like a scheduled one"
    );
    // Found locked twice only: still respected, and the attempt does not count.
    hold_lock(&w, "hubspot_pull_contacts", 2);
    let err = run_by_hand(&w, Job::SyncContacts).unwrap_err();
    assert!(
        matches!(err, xentral_host::HostError::Locked { .. }),
        "{err}"
    );
    assert_eq!(starter(&w, "hubspot_pull_contacts").mutexcounter, 2);
}

#[test]
fn a_manual_run_never_overlaps_the_running_starter() {
    let w = World::new();
    w.connect();
    hold_lock(&w, "hubspot_pull_contacts", 0);
    let err = run_by_hand(&w, Job::SyncContacts).unwrap_err();
    assert!(
        matches!(err, xentral_host::HostError::Locked { ref starter, .. } if starter == "Hubspot Synchronize Contacts"),
        "{err}"
    );
    // Another job's starter is free, and a finished manual run releases its lock.
    let ok = run_by_hand(&w, Job::ProcessQueue).unwrap();
    assert!(ok.result.is_ok());
    assert!(!starter(&w, "hubspot_process").mutex);
}

#[test]
fn a_manual_run_is_recorded_and_shown_by_status_like_a_scheduled_one() {
    let w = World::new();
    w.connect();
    w.hubspot_contact(&[("email", "hand@example.com")]);
    w.clock.advance_ms(60_000);
    let run = run_by_hand(&w, Job::SyncContacts).unwrap();
    assert!(run.result.is_ok(), "{:?}", run.result);
    let tenant = w.host.tenant(common::TENANT).unwrap();
    let records = xentral_host::runlog::RunLog::for_tenant(&tenant)
        .read()
        .unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert!(r.manual, "{r:?}");
    assert_eq!(r.job, Job::SyncContacts.name());
    assert_eq!(r.parameter, "hubspot_pull_contacts");
    assert!(r.message.contains("xentral: 1 created"), "{}", r.message);
    assert!(
        r.message.contains("0 conflicts"),
        "the summary counts conflicts: {}",
        r.message
    );
    let status = xentral_host::scheduler::starter_status(&w.host, common::TENANT).unwrap();
    let contacts = status
        .iter()
        .find(|s| s.parameter == "hubspot_pull_contacts")
        .unwrap();
    let last = contacts
        .last_run
        .as_ref()
        .expect("the manual run is the last run");
    assert!(last.manual);
    assert_eq!(last.api_calls, r.api_calls);
    // A dry run writes nothing anywhere, the run log included.
    w.host
        .run_job_exclusive(
            common::TENANT,
            Job::SyncContacts,
            Budget {
                dry_run: true,
                ..Budget::default()
            },
            false,
        )
        .unwrap();
    assert_eq!(
        xentral_host::runlog::RunLog::for_tenant(&tenant)
            .read()
            .unwrap()
            .len(),
        1
    );
}

/// Two jobs of one tenant at once, as two `run`s or a `run` beside the scheduler: HubSpot's
/// limits are the portal's, so the host admits their requests through one shared budget, and a
/// per-second 429 is waited out, never reported as the daily limit.
#[test]
fn two_jobs_of_one_tenant_at_once_share_the_portals_budget_and_both_finish() {
    let w = World::new();
    w.hubspot.seed(SeedSpec::new(21, 900, 60));
    w.connect();
    w.clock.advance_ms(60_000);
    let (contacts, deals) = std::thread::scope(|scope| {
        let contacts = scope.spawn(|| {
            w.host
                .run_job(common::TENANT, Job::SyncContacts, Budget::default())
                .unwrap()
        });
        let deals = scope.spawn(|| {
            w.host
                .run_job(common::TENANT, Job::SyncDeals, Budget::default())
                .unwrap()
        });
        (contacts.join().unwrap(), deals.join().unwrap())
    });
    let contacts = contacts.result.expect("sync-contacts finished");
    let deals = deals.result.expect("sync-deals finished");
    assert_eq!(contacts.xentral.created, 900, "{contacts:#?}");
    assert_eq!(
        deals.xentral.created + deals.xentral.excluded_total(),
        60,
        "{deals:#?}"
    );
    // Every request of both went through the one budget of the portal.
    let claims = w.count("SELECT SUM(claims) FROM xentral_host_rate_locks");
    let calls = i64::from(contacts.total_api_calls() + deals.total_api_calls());
    assert!(claims >= calls, "{claims} claims for {calls} requests");
    assert_eq!(
        w.count("SELECT COUNT(DISTINCT portal) FROM xentral_host_rate_locks"),
        1
    );
}

both_backends! {
    /// The plugin lists the pairs it keeps in sync, all of them across pages, as its link
    /// table holds them; an object kind it does not sync is refused.
    fn the_plugin_lists_the_records_it_keeps_in_sync(backend) {
        let w = World::on(backend);
        w.connect();
        assert_eq!(w.host.links(common::TENANT, "contact").unwrap().unwrap(), []);
        w.hubspot.seed(SeedSpec::new(3, 1_250, 0));
        w.run(Job::SyncContacts);
        let listed = w.host.links(common::TENANT, "contact").unwrap().unwrap();
        assert_eq!(listed.len(), 1_250, "every pair, over two pages");
        let mut stored: Vec<(String, i64)> = w
            .db()
            .query(
                "SELECT hs_contact_id, address_id FROM hubspot_sync_contact_links ORDER BY address_id",
                &[],
            )
            .unwrap()
            .rows
            .into_iter()
            .map(|r| (r[0].to_text().unwrap(), r[1].as_i64().unwrap()))
            .collect();
        stored.sort_by_key(|(_, x)| *x);
        assert_eq!(listed, stored);
        let err = w.host.links(common::TENANT, "ticket").unwrap().unwrap_err();
        assert!(err.to_string().contains("'ticket' is not an object kind"), "{err}");
    }
}
