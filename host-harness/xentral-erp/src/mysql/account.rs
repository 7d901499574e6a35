//! The tenant's plugin account on MariaDB: the database user the plugin's SQL runs as, holding
//! privileges on exactly the tables of its [`TableGrant`] and nothing else — no global
//! privilege (no `FILE`, `SUPER`, `PROCESS`, `RELOAD`, `CREATE USER`, `GRANT OPTION`), no
//! database-wide one, no role. MariaDB enforces it; the host's statement check
//! ([`super::check`]) is only the second line.
//!
//! Two ways to get one: [`provision`] creates (or resets) it through an account that may
//! create users, with a password the caller generated; or a DBA prepares it and [`verify`]
//! reads its `SHOW GRANTS` and refuses it when it holds more than it needs (or lacks
//! something), listing exactly what. [`required_statements`] prints what the DBA must run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ::mysql::prelude::Queryable;

use super::{MysqlDatabase, MysqlUrl, validate_database_name};
use crate::database::{DbError, system_clock};
use crate::grant::{OWN_TABLE_PRIVILEGES, TableGrant};

/// The per-account bounds the server applies to the plugin account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountLimits {
    /// Connections the account may hold at once (`MAX_USER_CONNECTIONS`): a job holds one, its
    /// watchdog a second, and a tenant's three jobs may run at once.
    pub max_user_connections: u32,
    /// The default `max_statement_time` of the account's sessions (`MAX_STATEMENT_TIME`).
    pub max_statement_time: Duration,
}

impl Default for AccountLimits {
    fn default() -> Self {
        AccountLimits {
            max_user_connections: 10,
            max_statement_time: Duration::from_secs(30),
        }
    }
}

/// Why a plugin account could not be set up or was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccountError {
    /// The given account may not create users.
    #[error(
        "the database account {user} cannot create the plugin's account ({cause}); have a DBA run\n{statements}\nand pass that account with --plugin-db mysql://{account}:PASSWORD@HOST:PORT/DATABASE"
    )]
    CannotCreate {
        /// The account that tried.
        user: String,
        /// What the server said.
        cause: String,
        /// The account name to create.
        account: String,
        /// The statements that would create it, one per line.
        statements: String,
    },
    /// The account holds rights the plugin does not need.
    #[error(
        "the database account {account} has more rights than the plugin needs: {}; revoke them (the plugin's SQL must not reach beyond its tables)",
        excess.join(", ")
    )]
    TooMuch {
        /// `'user'@'host'`.
        account: String,
        /// Each right too many, e.g. `FILE on *.*`.
        excess: Vec<String>,
    },
    /// The account lacks rights the plugin needs.
    #[error(
        "the database account {account} lacks rights the plugin needs on {} tables ({}); have a DBA run\n{statements}",
        missing.len(),
        missing.join("; ")
    )]
    Missing {
        /// `user@host`, as the server names it.
        account: String,
        /// The rights missing per table, e.g. `SELECT, UPDATE on adresse`.
        missing: Vec<String>,
        /// The `GRANT` statements that give the account exactly the plugin's rights.
        statements: String,
    },
    /// The account's server-side bounds are missing or looser than the host's limits.
    #[error(
        "the database account {account} is not bounded as the plugin's account must be: {}; have a DBA run\n{statement}",
        problems.join(", ")
    )]
    Unbounded {
        /// `user@host`, as the server names it.
        account: String,
        /// Each bound missing or too loose, e.g. `MAX_STATEMENT_TIME unset (at most 30 s)`.
        problems: Vec<String>,
        /// The `ALTER USER` statement that sets them.
        statement: String,
    },
    /// The URL names no database.
    #[error("the database URL names no database")]
    NoDatabase,
    /// The server failed.
    #[error(transparent)]
    Database(#[from] DbError),
}

/// The prefix of every plugin account the host creates for `database`.
pub fn account_prefix(database: &str) -> String {
    format!("xhp_{database}_")
}

/// A plugin account name for `database`: the prefix and `installation` (up to 6 characters
/// from `a-z 0-9`, one per data directory, so two hosts sharing a tenant database each have
/// their own account and password). At most 75 characters, under MariaDB's 80.
pub fn account_user(database: &str, installation: &str) -> String {
    format!("{}{installation}", account_prefix(database))
}

/// The statements that create the plugin account `'user'@'host'` with `grant` on `database`;
/// the password is left as a placeholder. What [`AccountError::CannotCreate`] shows a DBA.
pub fn required_statements(
    database: &str,
    user: &str,
    host: &str,
    grant: &TableGrant,
    limits: &AccountLimits,
) -> Vec<String> {
    let account = format!("'{user}'@'{host}'");
    let mut statements = vec![format!(
        "CREATE USER {account} IDENTIFIED BY '…' {}",
        resource_clause(limits)
    )];
    statements.extend(grant.mysql_grants(database, &account));
    statements
}

/// Creates the plugin account `user` for the database `admin` names (or resets an existing one:
/// new password, every privilege revoked, then exactly `grant`), through `admin`, an account
/// that may create users. The account's host is the one the server sees this host connect
/// from. `user` and `password` must be plain (`A-Z a-z 0-9 _`, the password 16-64 letters or
/// digits). xentral tables of `grant` that do not exist are left out (see
/// [`TableGrant::existing_only`]). Returns the account's URL (same server and database, with
/// the password) after [`verify`] accepted it.
pub fn provision(
    admin: &MysqlUrl,
    user: &str,
    grant: &TableGrant,
    password: &str,
    limits: &AccountLimits,
) -> Result<MysqlUrl, AccountError> {
    let database = admin.database.clone().ok_or(AccountError::NoDatabase)?;
    validate_database_name(&database)?;
    let ok_password =
        (16..=64).contains(&password.len()) && password.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok_password {
        return Err(DbError::Invalid(
            "a generated password must be 16-64 letters or digits".into(),
        )
        .into());
    }
    let mut db = MysqlDatabase::connect(admin, system_clock())?;
    let grant = &grant.existing_only(&db.table_names()?);
    let host: String = db
        .conn
        .query_first("SELECT SUBSTRING_INDEX(USER(), '@', -1)")
        .map_err(super::map_error)?
        .unwrap_or_else(|| "localhost".into());
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".:_%-".contains(c))
    {
        return Err(DbError::Invalid(format!("unexpected client host `{host}`")).into());
    }
    let account = format!("'{user}'@'{host}'");
    let resources = resource_clause(limits);
    let setup = [
        format!("CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{password}'"),
        format!("ALTER USER {account} IDENTIFIED BY '{password}' {resources}"),
        format!("REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}"),
    ];
    for sql in setup
        .iter()
        .chain(grant.mysql_grants(&database, &account).iter())
    {
        if let Err(e) = db.raw(sql) {
            return Err(match e {
                DbError::Denied(cause) => AccountError::CannotCreate {
                    user: admin.user.clone(),
                    cause,
                    account: user.to_owned(),
                    statements: required_statements(&database, user, &host, grant, limits)
                        .join(";\n")
                        + ";",
                },
                other => other.into(),
            });
        }
    }
    let url = MysqlUrl {
        user: user.to_owned(),
        password: Some(password.to_owned()),
        ..admin.clone()
    };
    verify(&url, grant, limits)?;
    Ok(url)
}

/// Connects as the account `url` names and reads its `SHOW GRANTS` (and those of `PUBLIC`,
/// which every account inherits): refused when it holds anything beyond `grant` on its own
/// database, or lacks something of it, or when its `MAX_USER_CONNECTIONS` and
/// `MAX_STATEMENT_TIME` are unset or looser than `limits`. It connects without selecting the
/// database, so an account that holds nothing there yet is told what to grant rather than
/// refused entry.
pub fn verify(
    url: &MysqlUrl,
    grant: &TableGrant,
    limits: &AccountLimits,
) -> Result<(), AccountError> {
    let database = url.database.clone().ok_or(AccountError::NoDatabase)?;
    let bare = MysqlUrl {
        database: None,
        ..url.clone()
    };
    let mut db = MysqlDatabase::connect(&bare, system_clock())?;
    let account: String = db
        .conn
        .query_first("SELECT CURRENT_USER()")
        .map_err(super::map_error)?
        .unwrap_or_default();
    let mut lines: Vec<String> = db.conn.query("SHOW GRANTS").map_err(super::map_error)?;
    // MariaDB 10.11 has a PUBLIC role every account inherits; older servers refuse the name.
    if let Ok(public) = db.conn.query::<String, _>("SHOW GRANTS FOR PUBLIC") {
        lines.extend(public.into_iter().map(|l| format!("{l} (via PUBLIC)")));
    }
    let (excess, missing) = compare(&lines, &database, grant);
    if !excess.is_empty() {
        return Err(AccountError::TooMuch { account, excess });
    }
    let quoted = match account.rsplit_once('@') {
        Some((user, host)) => format!("'{user}'@'{host}'"),
        None => format!("'{account}'"),
    };
    if !missing.is_empty() {
        let statements = grant.mysql_grants(&database, &quoted).join(";\n") + ";";
        return Err(AccountError::Missing {
            account,
            missing,
            statements,
        });
    }
    let problems = bound_problems(&lines, limits);
    if !problems.is_empty() {
        return Err(AccountError::Unbounded {
            account,
            problems,
            statement: format!("ALTER USER {quoted} {};", resource_clause(limits)),
        });
    }
    Ok(())
}

/// `WITH MAX_USER_CONNECTIONS … MAX_STATEMENT_TIME …` for `limits`.
fn resource_clause(limits: &AccountLimits) -> String {
    format!(
        "WITH MAX_USER_CONNECTIONS {} MAX_STATEMENT_TIME {:.3}",
        limits.max_user_connections,
        limits.max_statement_time.as_secs_f64()
    )
}

/// How the account's own `SHOW GRANTS` line (`GRANT USAGE ON *.* … WITH MAX_… n`) falls
/// short of `limits`: a bound unset (0 means unlimited to the server) or above the limit.
fn bound_problems(lines: &[String], limits: &AccountLimits) -> Vec<String> {
    let value = |name: &str| -> Option<f64> {
        lines
            .iter()
            .filter(|l| !l.ends_with("(via PUBLIC)"))
            .find_map(|l| {
                let rest = &l[l.find(&format!(" {name} "))? + name.len() + 2..];
                rest.split_whitespace().next()?.parse::<f64>().ok()
            })
            .filter(|v| *v > 0.0)
    };
    let mut problems = Vec::new();
    let most_connections = f64::from(limits.max_user_connections);
    match value("MAX_USER_CONNECTIONS") {
        None => problems.push(format!(
            "MAX_USER_CONNECTIONS unset (at most {most_connections})"
        )),
        Some(v) if v > most_connections => problems.push(format!(
            "MAX_USER_CONNECTIONS {v} (at most {most_connections})"
        )),
        Some(_) => {}
    }
    let most_seconds = limits.max_statement_time.as_secs_f64();
    match value("MAX_STATEMENT_TIME") {
        None => problems.push(format!(
            "MAX_STATEMENT_TIME unset (at most {most_seconds} s)"
        )),
        Some(v) if v > most_seconds + 1e-6 => problems.push(format!(
            "MAX_STATEMENT_TIME {v} s (at most {most_seconds} s)"
        )),
        Some(_) => {}
    }
    problems
}

/// What `SHOW GRANTS` lines hold beyond `grant` on `database`, and what of it they lack.
fn compare(lines: &[String], database: &str, grant: &TableGrant) -> (Vec<String>, Vec<String>) {
    let mut allowed: BTreeMap<&str, BTreeSet<&str>> = grant
        .tables()
        .map(|(t, verbs)| (t, verbs.iter().map(|v| v.keyword()).collect()))
        .collect();
    for t in grant.own_tables() {
        allowed.insert(t, OWN_TABLE_PRIVILEGES.iter().copied().collect());
    }
    let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut excess = Vec::new();
    for line in lines {
        let parsed = parse_grant(line);
        if parsed.grant_option {
            excess.push(format!("GRANT OPTION ({})", parsed.target_text));
        }
        match parsed.target {
            Target::Global => excess.extend(
                parsed
                    .privileges
                    .iter()
                    .filter(|p| p.as_str() != "USAGE")
                    .map(|p| format!("{p} on *.*")),
            ),
            Target::Table(db, table) if db == database && allowed.contains_key(table.as_str()) => {
                let ok = &allowed[table.as_str()];
                for p in parsed.privileges {
                    if ok.contains(p.as_str()) {
                        held.entry(table.clone()).or_default().insert(p);
                    } else {
                        excess.push(format!("{p} on {table}"));
                    }
                }
            }
            Target::Role => excess.extend(parsed.privileges),
            Target::Unknown => excess.push(format!("`{}`", parsed.target_text)),
            _ => excess.extend(
                parsed
                    .privileges
                    .iter()
                    .map(|p| format!("{p} on {}", parsed.target_text)),
            ),
        }
    }
    let missing = allowed
        .iter()
        .filter_map(|(table, needed)| {
            let has = held.get(*table);
            let lacking: Vec<&str> = needed
                .iter()
                .copied()
                .filter(|p| !has.is_some_and(|h| h.contains(*p)))
                .collect();
            (!lacking.is_empty()).then(|| format!("{} on {table}", lacking.join(", ")))
        })
        .collect();
    (excess, missing)
}

/// What a `GRANT … ON … TO …` line grants on.
#[derive(Debug, PartialEq)]
enum Target {
    /// `*.*`.
    Global,
    /// `` `db`.* `` (database-wide).
    Database,
    /// `` `db`.`table` ``.
    Table(String, String),
    /// A routine or a proxy: anything the plugin never holds.
    Other,
    /// A role granted to the account (`GRANT role TO user`).
    Role,
    /// A line of an unknown shape.
    Unknown,
}

#[derive(Debug)]
struct ParsedGrant {
    privileges: Vec<String>,
    target: Target,
    target_text: String,
    grant_option: bool,
}

/// Parses one `SHOW GRANTS` line. Privileges come back upper-case without column lists
/// (`SELECT (a, b)` is `SELECT`); a role grant (`GRANT role TO user`) is [`Target::Other`].
fn parse_grant(line: &str) -> ParsedGrant {
    let unknown = || ParsedGrant {
        privileges: Vec::new(),
        target: Target::Unknown,
        target_text: line.to_owned(),
        grant_option: false,
    };
    let Some(rest) = line.strip_prefix("GRANT ") else {
        return unknown();
    };
    let grant_option = line.contains(" WITH GRANT OPTION") || line.contains("WITH ADMIN OPTION");
    let Some((privs, after_on)) = split_top(rest, " ON ") else {
        // `GRANT role TO user`
        let role = split_top(rest, " TO ").map_or(rest, |(r, _)| r);
        return ParsedGrant {
            privileges: vec![format!("role {role}")],
            target: Target::Role,
            target_text: "role".into(),
            grant_option,
        };
    };
    let target_text = split_top(after_on, " TO ")
        .map_or(after_on, |(t, _)| t)
        .trim();
    let privileges = split_commas(privs)
        .into_iter()
        .map(|p| {
            let name = p.split('(').next().unwrap_or(&p).trim();
            name.to_ascii_uppercase()
        })
        .collect();
    let target = if privs.trim() == "PROXY" {
        Target::Other
    } else {
        parse_target(target_text)
    };
    ParsedGrant {
        privileges,
        target,
        target_text: target_text.to_owned(),
        grant_option,
    }
}

fn parse_target(text: &str) -> Target {
    if text == "*.*" {
        return Target::Global;
    }
    let upper = text.to_ascii_uppercase();
    if ["PROCEDURE ", "FUNCTION ", "PACKAGE "]
        .iter()
        .any(|k| upper.starts_with(k))
    {
        return Target::Other;
    }
    let parts = identifiers(text);
    match parts.as_slice() {
        [db, table] if table != "*" => Target::Table(db.clone(), table.clone()),
        [_, _] => Target::Database,
        _ => Target::Unknown,
    }
}

/// `` `a`.`b` `` → `["a", "b"]` (`*` stays `*`; doubled backticks unescaped).
fn identifiers(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                chars.next();
                parts.last_mut().expect("never empty").push('`');
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(String::new()),
            c => parts.last_mut().expect("never empty").push(c),
        }
    }
    parts
}

/// Splits at the first `sep` outside backticks, quotes and parentheses.
fn split_top<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let bytes = s.as_bytes();
    let (mut depth, mut quote) = (0i32, None::<u8>);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'`' | b'\'' | b'"' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if depth == 0 && s[i..].starts_with(sep) => {
                    return Some((&s[..i], &s[i + sep.len()..]));
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

fn split_commas(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((head, tail)) = split_top(rest, ",") {
        out.push(head.trim().to_owned());
        rest = tail;
    }
    out.push(rest.trim().to_owned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::Privilege;

    fn grant() -> TableGrant {
        TableGrant::new()
            .with_table("adresse", &[Privilege::Select, Privilege::Update])
            .with_own_table("hubspot_x")
    }

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| (*s).to_owned()).collect()
    }

    const USAGE: &str = "GRANT USAGE ON *.* TO `p`@`localhost` IDENTIFIED BY PASSWORD '*0E3F' WITH MAX_USER_CONNECTIONS 4 MAX_STATEMENT_TIME 2.000000";

    #[test]
    fn exactly_the_grant_passes() {
        let l = lines(&[
            USAGE,
            "GRANT SELECT, UPDATE ON `xt`.`adresse` TO `p`@`localhost`",
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER ON `xt`.`hubspot_x` TO `p`@`localhost`",
        ]);
        assert_eq!(compare(&l, "xt", &grant()), (vec![], vec![]));
    }

    #[test]
    fn global_database_and_foreign_rights_are_excess() {
        let l = lines(&[
            "GRANT FILE, PROCESS ON *.* TO `p`@`localhost`",
            "GRANT SELECT ON `xt`.* TO `p`@`localhost`",
            "GRANT SELECT ON `other`.`adresse` TO `p`@`localhost`",
            "GRANT SELECT, UPDATE, DELETE ON `xt`.`adresse` TO `p`@`localhost`",
            "GRANT SELECT (`passwort`) ON `xt`.`user` TO `p`@`localhost`",
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, TRIGGER ON `xt`.`hubspot_x` TO `p`@`localhost` WITH GRANT OPTION",
            "GRANT `dba` TO `p`@`localhost`",
            "GRANT EXECUTE ON PROCEDURE `xt`.`p1` TO `p`@`localhost`",
        ]);
        let (excess, missing) = compare(&l, "xt", &grant());
        assert_eq!(
            excess,
            vec![
                "FILE on *.*",
                "PROCESS on *.*",
                "SELECT on `xt`.*",
                "SELECT on `other`.`adresse`",
                "DELETE on adresse",
                "SELECT on `xt`.`user`",
                "GRANT OPTION (`xt`.`hubspot_x`)",
                "TRIGGER on hubspot_x",
                "role `dba`",
                "EXECUTE on PROCEDURE `xt`.`p1`",
            ]
        );
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn all_privileges_on_a_granted_table_is_excess() {
        let l = lines(&["GRANT ALL PRIVILEGES ON `xt`.`adresse` TO `p`@`%`"]);
        let (excess, missing) = compare(&l, "xt", &grant());
        assert_eq!(excess, vec!["ALL PRIVILEGES on adresse"]);
        assert!(
            missing.contains(&"SELECT, UPDATE on adresse".to_owned()),
            "{missing:?}"
        );
    }

    #[test]
    fn missing_rights_are_listed() {
        let l = lines(&[USAGE, "GRANT SELECT ON `xt`.`adresse` TO `p`@`localhost`"]);
        let (excess, missing) = compare(&l, "xt", &grant());
        assert!(excess.is_empty());
        assert_eq!(
            missing,
            vec![
                "UPDATE on adresse",
                "ALTER, CREATE, DELETE, DROP, INDEX, INSERT, SELECT, UPDATE on hubspot_x"
            ]
        );
    }

    #[test]
    fn database_names_compare_exactly() {
        let l = lines(&["GRANT SELECT, UPDATE ON `XT`.`adresse` TO `p`@`localhost`"]);
        let (excess, _) = compare(&l, "xt", &grant());
        assert_eq!(
            excess,
            vec!["SELECT on `XT`.`adresse`", "UPDATE on `XT`.`adresse`"]
        );
    }

    fn limits() -> AccountLimits {
        AccountLimits {
            max_user_connections: 4,
            max_statement_time: Duration::from_secs(2),
        }
    }

    #[test]
    fn bounds_within_the_limits_pass() {
        assert!(bound_problems(&lines(&[USAGE]), &limits()).is_empty());
    }

    #[test]
    fn unset_bounds_are_problems() {
        let l = lines(&["GRANT USAGE ON *.* TO `p`@`%` IDENTIFIED BY PASSWORD '*0E3F'"]);
        assert_eq!(
            bound_problems(&l, &limits()),
            vec![
                "MAX_USER_CONNECTIONS unset (at most 4)",
                "MAX_STATEMENT_TIME unset (at most 2 s)"
            ]
        );
    }

    #[test]
    fn looser_bounds_are_problems() {
        let l = lines(&[
            "GRANT USAGE ON *.* TO `p`@`%` WITH MAX_USER_CONNECTIONS 50 MAX_STATEMENT_TIME 0.000000",
        ]);
        assert_eq!(
            bound_problems(&l, &limits()),
            vec![
                "MAX_USER_CONNECTIONS 50 (at most 4)",
                "MAX_STATEMENT_TIME unset (at most 2 s)"
            ]
        );
    }

    #[test]
    fn identifiers_unescape_backticks() {
        assert_eq!(identifiers("`a``b`.`c.d`"), vec!["a`b", "c.d"]);
        assert_eq!(identifiers("`db`.*"), vec!["db", "*"]);
    }
}
