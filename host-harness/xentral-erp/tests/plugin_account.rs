//! The plugin's MariaDB account: isolation the server enforces, with the statement check
//! switched off (a raw connection as the plugin account), on two tenant databases of one
//! server — and the limits on what one statement may cost. Each test uses its own scratch
//! databases and accounts; without `XENTRAL_TEST_MYSQL_URL` each test prints why it skipped.

use std::time::{Duration, Instant};

use xentral_erp::mysql::account::{self, AccountError, AccountLimits};
use xentral_erp::mysql::check::StatementCheck;
use xentral_erp::mysql::scratch::{ScratchDatabase, report_skip};
use xentral_erp::{
    Database, DbError, MysqlDatabase, MysqlUrl, StatementLimits, TableGrant, Value, system_clock,
};

const PASSWORD: &str = "Pw4pluginAccountTests0123";

/// Two tenant databases with the reference schema; tenant A has its plugin account. B holds
/// xentral's password hashes in `user` and one address.
struct Tenants {
    a: ScratchDatabase,
    b: ScratchDatabase,
    plugin: MysqlUrl,
}

impl Tenants {
    fn new() -> Option<Self> {
        let Some(a) = ScratchDatabase::on_test_server() else {
            report_skip(std::thread::current().name().unwrap_or("plugin_account"));
            return None;
        };
        let b = ScratchDatabase::on_test_server().expect("second scratch database");
        for db in [&a, &b] {
            let mut admin = MysqlDatabase::connect(&db.url(), system_clock()).unwrap();
            admin.migrate().unwrap();
            admin
                .execute(
                    "CREATE TABLE user (id INT PRIMARY KEY AUTO_INCREMENT, username VARCHAR(64), passwort VARCHAR(255))",
                    &[],
                )
                .unwrap();
            admin
                .execute(
                    "INSERT INTO user (username, passwort) VALUES ('admin', '$2y$10$secret-hash')",
                    &[],
                )
                .unwrap();
            admin
                .execute("INSERT INTO adresse (name) VALUES ('Tenant address')", &[])
                .unwrap();
        }
        let plugin = account::provision(
            &a.url(),
            &account::account_user(a.name(), "test01"),
            &TableGrant::hubspot_plugin_for_tests(),
            PASSWORD,
            &AccountLimits::default(),
        )
        .expect("provision the plugin account");
        Some(Tenants { a, b, plugin })
    }

    /// The plugin's grant on A as the host gives it: without the old module's tables,
    /// which A does not have.
    fn grant(&self) -> TableGrant {
        let mut admin = MysqlDatabase::connect(&self.a.url(), system_clock()).unwrap();
        TableGrant::hubspot_plugin_for_tests().existing_only(&admin.table_names().unwrap())
    }

    /// A raw connection as the plugin account: no statement check, only the server's rules.
    fn plugin_raw(&self) -> MysqlDatabase {
        MysqlDatabase::connect(&self.plugin, system_clock()).unwrap()
    }

    /// What B holds, to compare before and after an attack.
    fn b_state(&self) -> Vec<Vec<Value>> {
        let mut admin = MysqlDatabase::connect(&self.b.url(), system_clock()).unwrap();
        let mut rows = admin
            .query("SELECT username, passwort FROM user ORDER BY id", &[])
            .unwrap()
            .rows;
        rows.extend(
            admin
                .query("SELECT id, name FROM adresse ORDER BY id", &[])
                .unwrap()
                .rows,
        );
        rows.extend(
            admin
                .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME", &[])
                .unwrap()
                .rows,
        );
        rows
    }

    /// The attacks of the security review, for tenant A's plugin against B (`{b}`) and A's own
    /// password hashes.
    fn attacks(&self) -> Vec<String> {
        let b = self.b.name();
        [
            format!("SELECT username, passwort FROM {b}.user"),
            format!("SELECT name FROM {b}.adresse"),
            "SELECT username, passwort FROM user".to_owned(),
            "WITH user AS (SELECT * FROM user) SELECT username, passwort FROM user".to_owned(),
            "SELECT (WITH u AS (SELECT passwort FROM user) SELECT MAX(passwort) FROM u) AS p FROM adresse".to_owned(),
            format!("UPDATE {b}.adresse SET name = 'owned'"),
            format!("INSERT INTO {b}.adresse (name) VALUES ('owned')"),
            format!("DELETE FROM {b}.adresse"),
            "UPDATE adresse a JOIN user u ON u.id = a.id SET a.name = u.passwort".to_owned(),
            "INSERT INTO adresse (name) SELECT passwort FROM user".to_owned(),
            "DELETE a FROM adresse a JOIN user u ON u.id = a.id".to_owned(),
            format!("DROP DATABASE {b}"),
            format!("DROP TABLE {b}.adresse"),
            "DROP TABLE adresse".to_owned(),
            "ALTER TABLE adresse ADD COLUMN evil INT".to_owned(),
            "SET GLOBAL max_connections = 10".to_owned(),
            "SELECT 1 INTO OUTFILE '/tmp/xentral-plugin-outfile'".to_owned(),
            "SELECT 1 INTO DUMPFILE '/tmp/xentral-plugin-dumpfile'".to_owned(),
            format!("CREATE TABLE hubspot_sync_cursors LIKE {b}.user"),
            format!("CREATE TABLE hubspot_sync_cursors (id INT PRIMARY KEY, r INT, FOREIGN KEY (r) REFERENCES {b}.user (id))"),
            "CREATE TABLE evil (id INT)".to_owned(),
            "GRANT SELECT ON *.* TO CURRENT_USER".to_owned(),
            "CREATE USER 'evil'@'%'".to_owned(),
            "SELECT user, password FROM mysql.user".to_owned(),
        ]
        .into_iter()
        .collect()
    }
}

#[test]
fn provisioned_account_passes_verification_and_holds_only_its_grant() {
    let Some(t) = Tenants::new() else { return };
    assert_eq!(
        account::verify(&t.plugin, &t.grant(), &AccountLimits::default()),
        Ok(())
    );
    let mut db = t.plugin_raw();
    let grants = db.query("SHOW GRANTS", &[]).unwrap();
    for row in &grants.rows {
        let line = row[0].as_str().unwrap();
        assert!(
            line.starts_with("GRANT USAGE ON *.*")
                || line.contains(&format!("ON `{}`.`", t.a.name())),
            "unexpected grant: {line}"
        );
    }
}

#[test]
fn provisioning_again_resets_the_password_and_the_grants() {
    let Some(t) = Tenants::new() else { return };
    let mut admin = MysqlDatabase::connect(&t.a.url(), system_clock()).unwrap();
    let user = account::account_user(t.a.name(), "test01");
    let hosts = admin
        .query(
            "SELECT host FROM mysql.user WHERE user = ?",
            &[user.as_str().into()],
        )
        .unwrap();
    let account_host = hosts.rows[0][0].as_str().unwrap().to_owned();
    admin
        .execute(
            &format!("GRANT FILE ON *.* TO '{user}'@'{account_host}'"),
            &[],
        )
        .unwrap();
    let again = account::provision(
        &t.a.url(),
        &account::account_user(t.a.name(), "test01"),
        &TableGrant::hubspot_plugin_for_tests(),
        "AnotherPassword0123456789",
        &AccountLimits::default(),
    )
    .unwrap();
    assert_eq!(
        account::verify(&again, &t.grant(), &AccountLimits::default()),
        Ok(())
    );
    assert!(matches!(
        MysqlDatabase::connect(&t.plugin, system_clock()),
        Err(DbError::Denied(_))
    ));
}

#[test]
fn an_account_with_more_rights_is_refused_with_the_list() {
    let Some(t) = Tenants::new() else { return };
    let mut admin = MysqlDatabase::connect(&t.a.url(), system_clock()).unwrap();
    let user = account::account_user(t.a.name(), "test01");
    let hosts = admin
        .query(
            "SELECT host FROM mysql.user WHERE user = ?",
            &[user.as_str().into()],
        )
        .unwrap();
    let host = hosts.rows[0][0].as_str().unwrap().to_owned();
    for sql in [
        format!("GRANT FILE, PROCESS ON *.* TO '{user}'@'{host}'"),
        format!(
            "GRANT SELECT ON `{}`.`user` TO '{user}'@'{host}'",
            t.a.name()
        ),
        format!(
            "GRANT DELETE ON `{}`.`laender` TO '{user}'@'{host}'",
            t.a.name()
        ),
    ] {
        admin.execute(&sql, &[]).unwrap();
    }
    match account::verify(&t.plugin, &t.grant(), &AccountLimits::default()) {
        Err(AccountError::TooMuch { mut excess, .. }) => {
            excess.sort();
            assert_eq!(
                excess,
                vec![
                    "DELETE on laender".to_owned(),
                    "FILE on *.*".to_owned(),
                    "PROCESS on *.*".to_owned(),
                    format!("SELECT on `{}`.`user`", t.a.name()),
                ]
            )
        }
        other => panic!("expected TooMuch, got {other:?}"),
    }
}

#[test]
fn an_account_lacking_a_right_is_refused_with_the_list() {
    let Some(t) = Tenants::new() else { return };
    let mut admin = MysqlDatabase::connect(&t.a.url(), system_clock()).unwrap();
    let user = account::account_user(t.a.name(), "test01");
    let hosts = admin
        .query(
            "SELECT host FROM mysql.user WHERE user = ?",
            &[user.as_str().into()],
        )
        .unwrap();
    let host = hosts.rows[0][0].as_str().unwrap().to_owned();
    admin
        .execute(
            &format!(
                "REVOKE UPDATE ON `{}`.`adresse` FROM '{user}'@'{host}'",
                t.a.name()
            ),
            &[],
        )
        .unwrap();
    match account::verify(&t.plugin, &t.grant(), &AccountLimits::default()) {
        Err(AccountError::Missing {
            account,
            missing,
            statements,
        }) => {
            assert_eq!(account, format!("{user}@{host}"));
            assert_eq!(missing, vec!["UPDATE on adresse".to_owned()]);
            assert!(
                statements.contains(&format!(
                    "GRANT SELECT, INSERT, UPDATE ON `{}`.`adresse` TO '{user}'@'{host}'",
                    t.a.name()
                )),
                "{statements}"
            );
        }
        other => panic!("expected Missing, got {other:?}"),
    }
}

#[test]
fn an_account_holding_nothing_yet_is_told_what_to_grant() {
    let Some(t) = Tenants::new() else { return };
    let mut admin = MysqlDatabase::connect(&t.a.url(), system_clock()).unwrap();
    let user = account::account_user(t.a.name(), "bare01");
    admin
        .execute(
            &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'"),
            &[],
        )
        .unwrap();
    let bare = MysqlUrl {
        user: user.clone(),
        password: Some(PASSWORD.into()),
        ..t.a.url()
    };
    let text = match account::verify(&bare, &t.grant(), &AccountLimits::default()) {
        Err(e @ AccountError::Missing { .. }) => e.to_string(),
        other => panic!("expected Missing, got {other:?}"),
    };
    assert!(
        text.contains("lacks rights the plugin needs on ") && text.contains("SELECT on laender"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "GRANT SELECT ON `{}`.`laender` TO '{user}'@'%';",
            t.a.name()
        )),
        "{text}"
    );
}

#[test]
fn an_account_that_cannot_create_users_gets_the_statements_for_a_dba() {
    let Some(t) = Tenants::new() else { return };
    // The plugin account itself cannot create users.
    let mut weak = t.plugin.clone();
    weak.database = Some(t.a.name().to_owned());
    match account::provision(
        &weak,
        &account::account_user(t.a.name(), "test02"),
        &TableGrant::hubspot_plugin_for_tests(),
        PASSWORD,
        &AccountLimits::default(),
    ) {
        Err(e @ AccountError::CannotCreate { .. }) => {
            let text = e.to_string();
            assert!(text.contains("CREATE USER 'xhp_"), "{text}");
            assert!(
                text.contains(&format!("GRANT SELECT ON `{}`.`laender`", t.a.name())),
                "{text}"
            );
            assert!(text.contains("--plugin-db"), "{text}");
            assert!(!text.contains(PASSWORD), "{text}");
        }
        other => panic!("expected CannotCreate, got {other:?}"),
    }
}

#[test]
fn every_attack_is_refused_by_the_check_before_the_server_sees_it() {
    let Some(t) = Tenants::new() else { return };
    let mut check = StatementCheck::new(
        TableGrant::hubspot_plugin_for_tests(),
        Some(t.a.name().into()),
    );
    for sql in t.attacks() {
        // Denied by a rule, or not parseable (never sent either); the exact verdict of each
        // is asserted by the check's own tests.
        match check.check(&sql) {
            Err(DbError::Denied(_) | DbError::Invalid(_)) => {}
            other => panic!("{sql}: the check let it pass: {other:?}"),
        }
    }
}

#[test]
fn every_attack_is_refused_by_the_server_with_the_check_off() {
    let Some(t) = Tenants::new() else { return };
    let before = t.b_state();
    let mut db = t.plugin_raw();
    for sql in t.attacks() {
        let r = db.query(&sql, &[]).map(|_| ());
        assert!(
            matches!(r, Err(DbError::Denied(_))),
            "{sql}: the server did not refuse it: {r:?}"
        );
    }
    assert_eq!(t.b_state(), before, "the other tenant's database changed");
    assert!(!std::path::Path::new("/tmp/xentral-plugin-outfile").exists());
}

/// MariaDB lets any account read system variables; only the check refuses `@@`. This pins
/// that fact down, so the check's rule is known to be the only line here.
#[test]
fn system_variables_are_readable_by_the_server_so_the_check_refuses_them() {
    let Some(t) = Tenants::new() else { return };
    let mut db = t.plugin_raw();
    assert!(db.query("SELECT @@datadir", &[]).is_ok());
    let mut check = StatementCheck::new(
        TableGrant::hubspot_plugin_for_tests(),
        Some(t.a.name().into()),
    );
    assert!(matches!(
        check.check("SELECT @@datadir"),
        Err(DbError::Denied(_))
    ));
}

fn limited(t: &Tenants, limits: StatementLimits) -> MysqlDatabase {
    MysqlDatabase::connect(&t.plugin, system_clock())
        .unwrap()
        .with_limits(limits)
        .unwrap()
}

#[test]
fn result_bytes_limit_obeyed() {
    let Some(t) = Tenants::new() else { return };
    let mut db = limited(&t, StatementLimits::default());
    let rows = db
        .query(
            "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT REPEAT('x', 1000000) FROM n",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 3);
}

/// The review's 640 MB query: forty rows of 16 MB each. It is stopped once the result passes
/// the cap; the host holds at most the cap plus one row.
#[test]
fn result_bytes_limit_violated() {
    let Some(t) = Tenants::new() else { return };
    let mut db = limited(
        &t,
        StatementLimits {
            max_bytes: 32 << 20,
            ..StatementLimits::default()
        },
    );
    let started = Instant::now();
    let r = db.query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) SELECT REPEAT('x', 16000000) FROM n",
        &[],
    );
    assert_eq!(
        r,
        Err(DbError::Limit(format!(
            "the result is larger than {} bytes; the query was stopped",
            32 << 20
        )))
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // The connection stays usable.
    assert_eq!(
        db.query("SELECT COUNT(*) FROM laender", &[]).unwrap().len(),
        1
    );
}

#[test]
fn result_rows_limit_violated() {
    let Some(t) = Tenants::new() else { return };
    let mut db = limited(
        &t,
        StatementLimits {
            max_rows: 1_000,
            ..StatementLimits::default()
        },
    );
    let r = db.query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) SELECT i FROM n",
        &[],
    );
    assert_eq!(
        r,
        Err(DbError::Limit(
            "the result has more than 1000 rows; the query was stopped".into()
        ))
    );
}

#[test]
fn statement_time_limit_violated() {
    let Some(t) = Tenants::new() else { return };
    let mut db = limited(
        &t,
        StatementLimits {
            statement_time: Duration::from_millis(300),
            ..StatementLimits::default()
        },
    );
    let r = db.query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT COUNT(*) FROM n a, n b, n c, n d",
        &[],
    );
    assert!(
        matches!(&r, Err(DbError::Limit(m)) if m.starts_with("the statement ran past its time limit")),
        "{r:?}"
    );
}

/// The review's cross join kept the server busy after the client was gone. With the job's
/// deadline the watchdog stops it on the server, from a second connection.
#[test]
fn job_deadline_stops_a_running_statement_on_the_server() {
    let Some(t) = Tenants::new() else { return };
    let mut db = limited(
        &t,
        StatementLimits {
            statement_time: Duration::from_secs(600),
            ..StatementLimits::default()
        },
    );
    let id = db.connection_id();
    db.set_deadline(Some(Instant::now() + Duration::from_millis(500)));
    let started = Instant::now();
    let r = db.query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT COUNT(*) FROM n a, n b, n c, n d",
        &[],
    );
    assert_eq!(
        r,
        Err(DbError::Limit(
            "the job's deadline passed; the statement was stopped".into()
        ))
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let mut admin = MysqlDatabase::connect(&t.a.url(), system_clock()).unwrap();
    let running = admin
        .query(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND COMMAND = 'Query'",
            &[Value::Integer(i64::from(id))],
        )
        .unwrap();
    assert_eq!(running.scalar().and_then(Value::as_i64), Some(0));
    // Nothing starts after the deadline.
    assert_eq!(
        db.query("SELECT 1", &[]),
        Err(DbError::Limit(
            "the job's deadline passed; the statement was stopped".into()
        ))
    );
}

#[test]
fn job_deadline_obeyed() {
    let Some(t) = Tenants::new() else { return };
    let mut db = limited(&t, StatementLimits::default());
    db.set_deadline(Some(Instant::now() + Duration::from_secs(60)));
    assert_eq!(db.query("SELECT 1", &[]).unwrap().len(), 1);
}

#[test]
fn an_account_without_server_side_bounds_is_refused_with_the_statement() {
    let Some(t) = Tenants::new() else { return };
    let mut admin = MysqlDatabase::connect(&t.a.url(), system_clock()).unwrap();
    let user = account::account_user(t.a.name(), "test01");
    let host = admin
        .query(
            "SELECT host FROM mysql.user WHERE user = ?",
            &[user.as_str().into()],
        )
        .unwrap()
        .rows[0][0]
        .as_str()
        .unwrap()
        .to_owned();
    admin
        .execute(
            &format!(
                "ALTER USER '{user}'@'{host}' WITH MAX_USER_CONNECTIONS 0 MAX_STATEMENT_TIME 0"
            ),
            &[],
        )
        .unwrap();
    let limits = AccountLimits::default();
    let statement = match account::verify(&t.plugin, &t.grant(), &limits) {
        Err(AccountError::Unbounded {
            problems,
            statement,
            ..
        }) => {
            assert_eq!(
                problems,
                vec![
                    "MAX_USER_CONNECTIONS unset (at most 10)",
                    "MAX_STATEMENT_TIME unset (at most 30 s)"
                ]
            );
            statement
        }
        other => panic!("expected Unbounded, got {other:?}"),
    };
    // What the error tells the DBA to run is what it takes.
    admin.execute(statement.trim_end_matches(';'), &[]).unwrap();
    assert_eq!(account::verify(&t.plugin, &t.grant(), &limits), Ok(()));
}
