//! A tenant on MariaDB from the command line: `tenant create NAME --db mysql://…` loads the
//! reference schema into the named database, keeps the URL's password sealed in the secret
//! store (not in `tenant.json`, never handed to guests), and gives the plugin its own account
//! — created through the host's account, or prepared by a DBA and checked. Skipped, with a
//! hint, without `XENTRAL_TEST_MYSQL_URL`.

mod common;

use common::{cli, cli_output, test_key};
use std::sync::Arc;

use xentral_erp::mysql::account::{self, AccountLimits};
use xentral_erp::mysql::scratch::{ScratchDatabase, report_skip};
use xentral_erp::{Database, Dialect, MysqlDatabase, TableGrant, system_clock};
use xentral_host::limits::TenantLimits;
use xentral_host::tenant::{DB_PASSWORD_SECRET, DataDir, PLUGIN_DB_PASSWORD_SECRET};
use xentral_host::{SharedClock, SystemClock, XentralHost};

const PASSWORD: &str = "s3cret-Pa55";

/// The grant the built-in plugin holds under default limits: the host's policy intersected
/// with the plugin's manifest.
fn plugin_grant() -> TableGrant {
    let dir = tempfile::tempdir().unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    XentralHost::new(dir.path(), test_key(), clock)
        .unwrap()
        .plugin_grant(&TenantLimits::default())
}

/// A host account with a password on the scratch database that may create the plugin account.
struct HostAccount {
    user: String,
    admin: MysqlDatabase,
}

impl HostAccount {
    fn new(scratch: &ScratchDatabase, may_create_users: bool) -> Self {
        let user = format!(
            "u{}",
            &scratch.name()[scratch.name().len().saturating_sub(20)..]
        );
        let mut admin = MysqlDatabase::connect(&scratch.url(), system_clock()).unwrap();
        let host = client_host(&mut admin);
        let mut statements = vec![
            format!("CREATE USER '{user}'@'{host}' IDENTIFIED BY '{PASSWORD}'"),
            format!(
                "GRANT ALL ON `{}`.* TO '{user}'@'{host}' WITH GRANT OPTION",
                scratch.name()
            ),
        ];
        if may_create_users {
            statements.push(format!("GRANT CREATE USER ON *.* TO '{user}'@'{host}'"));
        }
        for sql in statements {
            admin.execute(&sql, &[]).unwrap();
        }
        HostAccount { user, admin }
    }

    fn url(&self, scratch: &ScratchDatabase) -> String {
        let url = scratch.url();
        format!(
            "mysql://{}:{PASSWORD}@{}:{}/{}",
            self.user,
            url.host,
            url.port,
            scratch.name()
        )
    }
}

impl Drop for HostAccount {
    fn drop(&mut self) {
        let _ = self.admin.drop_users(&self.user);
    }
}

fn client_host(db: &mut MysqlDatabase) -> String {
    db.query("SELECT SUBSTRING_INDEX(USER(), '@', -1)", &[])
        .unwrap()
        .scalar()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap()
}

#[test]
fn cli_creates_a_mariadb_tenant_with_its_plugin_account_and_keeps_passwords_sealed() {
    let Some(scratch) = ScratchDatabase::on_test_server() else {
        report_skip(
            "cli_creates_a_mariadb_tenant_with_its_plugin_account_and_keeps_passwords_sealed",
        );
        return;
    };
    let host_account = HostAccount::new(&scratch, true);
    let with_password = host_account.url(&scratch);
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &["tenant", "create", "acme", "--db", &with_password],
    );
    let prefix = account::account_prefix(scratch.name());
    assert!(out.contains(&format!("plugin account {prefix}")), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");

    let tenant = DataDir::new(dir.path(), Arc::new(test_key()))
        .tenant("acme")
        .unwrap();
    for file in ["tenant.json", "secrets.enc.json"] {
        let text = std::fs::read_to_string(dir.path().join("tenants/acme").join(file)).unwrap();
        assert!(!text.contains(PASSWORD), "{file}: {text}");
    }
    let secrets = tenant.secrets().load().unwrap();
    assert_eq!(secrets[DB_PASSWORD_SECRET].value, PASSWORD);
    let plugin_password = secrets[PLUGIN_DB_PASSWORD_SECRET].value.clone();
    assert_eq!(plugin_password.len(), 32);
    let guest = tenant.guest_secrets().unwrap();
    assert!(!guest.contains_key(DB_PASSWORD_SECRET));
    assert!(!guest.contains_key(PLUGIN_DB_PASSWORD_SECRET));

    let clock: SharedClock = Arc::new(SystemClock);
    let mut db = tenant.open_admin_db(&clock).unwrap();
    assert_eq!(db.dialect(), Dialect::Mysql);
    let laender = db.query("SELECT COUNT(*) FROM laender", &[]).unwrap();
    assert!(laender.scalar().and_then(|v| v.as_i64()).unwrap_or(0) > 20);

    // The guest's connection is the plugin account, and the server holds it to its grant.
    let plugin_url = tenant.plugin_mysql_url().unwrap().unwrap();
    assert!(plugin_url.user.starts_with(&prefix), "{}", plugin_url.user);
    assert_eq!(
        account::verify(
            &plugin_url,
            &plugin_grant().existing_only(
                &MysqlDatabase::connect(&scratch.url(), system_clock())
                    .unwrap()
                    .table_names()
                    .unwrap()
            ),
            &AccountLimits::default()
        ),
        Ok(())
    );
    let mut guest_db = tenant.open_guest_db(&clock, &plugin_grant()).unwrap();
    let who = guest_db.query("SELECT COUNT(*) FROM adresse", &[]);
    assert!(who.is_ok(), "{who:?}");
    let mut raw = MysqlDatabase::connect(&plugin_url, system_clock()).unwrap();
    let r = raw.query("SELECT * FROM user", &[]);
    assert!(
        matches!(
            r,
            Err(xentral_erp::DbError::Denied(_)) | Err(xentral_erp::DbError::Invalid(_))
        ),
        "{r:?}"
    );
}

#[test]
fn a_host_account_that_cannot_create_users_gets_the_grants_for_a_dba() {
    let Some(scratch) = ScratchDatabase::on_test_server() else {
        report_skip("a_host_account_that_cannot_create_users_gets_the_grants_for_a_dba");
        return;
    };
    let host_account = HostAccount::new(&scratch, false);
    let dir = tempfile::tempdir().unwrap();
    let out = cli_output(
        dir.path(),
        &[
            "tenant",
            "create",
            "acme",
            "--db",
            &host_account.url(&scratch),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot create the plugin's account"),
        "{stderr}"
    );
    assert!(stderr.contains("CREATE USER 'xhp_"), "{stderr}");
    assert!(stderr.contains("--plugin-db"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(
        !dir.path().join("tenants/acme").exists(),
        "nothing is left behind"
    );
}

#[test]
fn a_dba_prepared_plugin_account_is_checked_and_one_with_more_rights_refused() {
    let Some(scratch) = ScratchDatabase::on_test_server() else {
        report_skip("a_dba_prepared_plugin_account_is_checked_and_one_with_more_rights_refused");
        return;
    };
    let host_account = HostAccount::new(&scratch, false);
    // The DBA creates the account with exactly what `required_statements` lists.
    let mut root = MysqlDatabase::connect(&scratch.url(), system_clock()).unwrap();
    root.migrate().unwrap();
    let host = client_host(&mut root);
    let plugin_user = account::account_user(scratch.name(), "dba");
    for sql in account::required_statements(
        scratch.name(),
        &plugin_user,
        &host,
        &plugin_grant().existing_only(&root.table_names().unwrap()),
        &AccountLimits::default(),
    ) {
        root.execute(&sql.replace("'…'", "'Dba-Chosen-Pw-123'"), &[])
            .unwrap();
    }
    let url = scratch.url();
    let plugin = format!(
        "mysql://{plugin_user}:Dba-Chosen-Pw-123@{}:{}/{}",
        url.host,
        url.port,
        scratch.name()
    );
    // One right too many: refused, with the list.
    root.execute(
        &format!("GRANT FILE ON *.* TO '{plugin_user}'@'{host}'"),
        &[],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = host_account.url(&scratch);
    let args = [
        "tenant",
        "create",
        "acme",
        "--db",
        db.as_str(),
        "--plugin-db",
        plugin.as_str(),
    ];
    let out = cli_output(dir.path(), &args);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has more rights than the plugin needs: FILE on *.*"),
        "{stderr}"
    );
    assert!(!stderr.contains("Dba-Chosen-Pw-123"), "{stderr}");
    // Revoked: accepted.
    root.execute(
        &format!("REVOKE FILE ON *.* FROM '{plugin_user}'@'{host}'"),
        &[],
    )
    .unwrap();
    let out = cli(dir.path(), &args);
    assert!(out.contains(&plugin_user), "{out}");
}
