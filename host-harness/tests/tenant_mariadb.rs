//! A tenant on MariaDB from the command line: `tenant create NAME --db mysql://…` loads the
//! reference schema into the named database, keeps the URL's password in the secret store (not
//! in `tenant.json`, never handed to guests), and the host reaches the database with it.
//! Skipped, with a hint, without `XENTRAL_TEST_MYSQL_URL`.

mod common;

use common::cli;
use std::sync::Arc;

use xentral_erp::mysql::scratch::{ScratchDatabase, report_skip};
use xentral_erp::{Dialect, MysqlDatabase, system_clock};
use xentral_host::tenant::{DB_PASSWORD_SECRET, DataDir};
use xentral_host::{SharedClock, SystemClock};

const PASSWORD: &str = "s3cret-Pa55";

#[test]
fn cli_creates_a_mariadb_tenant_and_keeps_the_password_out_of_tenant_json() {
    let Some(scratch) = ScratchDatabase::on_test_server() else {
        report_skip("cli_creates_a_mariadb_tenant_and_keeps_the_password_out_of_tenant_json");
        return;
    };
    let user = format!(
        "u{}",
        &scratch.name()[scratch.name().len().saturating_sub(20)..]
    );
    let mut admin = MysqlDatabase::connect(&scratch.url(), system_clock()).unwrap();
    let mut sql = |s: String| {
        use xentral_erp::Database;
        admin.execute(&s, &[]).unwrap();
    };
    sql(format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'"
    ));
    sql(format!(
        "GRANT ALL ON `{}`.* TO '{user}'@'%'",
        scratch.name()
    ));

    let mut url = scratch.url();
    url.user = user.clone();
    let with_password = format!(
        "mysql://{user}:{PASSWORD}@{}:{}/{}",
        url.host,
        url.port,
        scratch.name()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &["tenant", "create", "acme", "--db", &with_password],
    );
    assert!(out.contains(&url.to_string()), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");

    let tenant = DataDir::new(dir.path()).tenant("acme").unwrap();
    let json = std::fs::read_to_string(dir.path().join("tenants/acme/tenant.json")).unwrap();
    assert!(!json.contains(PASSWORD), "{json}");
    assert_eq!(tenant.config.database_url, Some(url.to_string()));
    assert_eq!(
        tenant
            .secrets()
            .load()
            .unwrap()
            .get(DB_PASSWORD_SECRET)
            .map(String::as_str),
        Some(PASSWORD)
    );
    assert!(
        !tenant
            .guest_secrets()
            .unwrap()
            .contains_key(DB_PASSWORD_SECRET)
    );

    let clock: SharedClock = Arc::new(SystemClock);
    let mut db = tenant.open_admin_db(&clock).unwrap();
    assert_eq!(db.dialect(), Dialect::Mysql);
    let laender = db.query("SELECT COUNT(*) FROM laender", &[]).unwrap();
    assert!(laender.scalar().and_then(|v| v.as_i64()).unwrap_or(0) > 20);
    drop(db);

    sql(format!("DROP USER '{user}'@'%'"));
}
