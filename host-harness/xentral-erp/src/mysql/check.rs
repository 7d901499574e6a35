//! The table grant on MariaDB, enforced by the host: every statement of a granted connection is
//! parsed (sqlparser, MySQL dialect) and checked before it reaches the server.
//!
//! Why not a database user with exactly the grant's privileges: MariaDB has no table-name
//! wildcards (`GRANT … ON db.hubspot\_%` matches *database* names), so the plugin's own
//! `hubspot_*` namespace, whose tables it creates at run time, cannot be granted ahead of time
//! without also granting `CREATE` on the whole database. The host check works the same for any
//! connection URL, including one that may do everything.
//!
//! The rules mirror the SQLite authorizer ([`crate::grant`]):
//! - one statement per call, without comments (MariaDB runs `/*! … */` comments, a parser
//!   would skip them);
//! - `SELECT`, `INSERT`/`REPLACE`, `UPDATE`, `DELETE`: every table named must be granted
//!   ([`TableGrant::allows`]), or be a CTE of the statement;
//! - `CREATE TABLE`, `CREATE INDEX`, `ALTER TABLE`, `DROP TABLE`/`DROP INDEX`, `RENAME TABLE`,
//!   `TRUNCATE`: the target must lie in a granted prefix ([`TableGrant::owns`]);
//! - a qualified name (`db.table`) must qualify with the connection's own database;
//! - functions from a list of MariaDB built-ins only (no `LOAD_FILE`, `SLEEP`, `GET_LOCK`,
//!   user-defined functions); no `SELECT … INTO`;
//! - everything else is denied by its kind: `SET`, `GRANT`, `BEGIN` (transactions go through
//!   [`crate::Database::begin`]), `LOCK`, `CALL`, `SHOW`, `LOAD`, …
//!
//! A verdict depends only on the statement text, so it is cached per text.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, ObjectName, ObjectNamePart, ObjectType, Query, RenameTableNameKind, SetExpr, Statement,
    Visit, Visitor,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::database::DbError;
use crate::grant::TableGrant;

/// Verdicts kept before the cache is cleared; the plugin uses far fewer distinct texts.
const CACHE_LIMIT: usize = 4096;

/// MariaDB built-in functions a granted statement may call: aggregates, control flow, strings,
/// numbers, dates, JSON and hashing. Nothing that reads files, sleeps, locks, or reaches the
/// server's state.
const ALLOWED_FUNCTIONS: &[&str] = &[
    // aggregates
    "avg",
    "count",
    "group_concat",
    "max",
    "min",
    "sum",
    "bit_and",
    "bit_or",
    "bit_xor",
    "std",
    "stddev",
    "variance",
    // control flow and NULL handling
    "coalesce",
    "greatest",
    "if",
    "ifnull",
    "isnull",
    "least",
    "nullif",
    "nvl",
    // strings
    "ascii",
    "bin",
    "bit_length",
    "char",
    "char_length",
    "character_length",
    "concat",
    "concat_ws",
    "elt",
    "field",
    "find_in_set",
    "format",
    "hex",
    "insert",
    "instr",
    "lcase",
    "left",
    "length",
    "locate",
    "lower",
    "lpad",
    "ltrim",
    "mid",
    "octet_length",
    "ord",
    "position",
    "quote",
    "regexp_instr",
    "regexp_replace",
    "regexp_substr",
    "repeat",
    "replace",
    "reverse",
    "right",
    "rpad",
    "rtrim",
    "soundex",
    "space",
    "strcmp",
    "substr",
    "substring",
    "substring_index",
    "trim",
    "ucase",
    "unhex",
    "upper",
    "collate",
    "convert",
    "cast",
    // numbers
    "abs",
    "ceil",
    "ceiling",
    "conv",
    "crc32",
    "div",
    "exp",
    "floor",
    "ln",
    "log",
    "log10",
    "log2",
    "mod",
    "pi",
    "pow",
    "power",
    "rand",
    "round",
    "sign",
    "sqrt",
    "truncate",
    // dates and times
    "adddate",
    "addtime",
    "convert_tz",
    "curdate",
    "current_date",
    "current_time",
    "current_timestamp",
    "curtime",
    "date",
    "date_add",
    "date_format",
    "date_sub",
    "datediff",
    "day",
    "dayname",
    "dayofmonth",
    "dayofweek",
    "dayofyear",
    "extract",
    "from_days",
    "from_unixtime",
    "hour",
    "last_day",
    "localtime",
    "localtimestamp",
    "makedate",
    "maketime",
    "microsecond",
    "minute",
    "month",
    "monthname",
    "now",
    "period_add",
    "period_diff",
    "quarter",
    "sec_to_time",
    "second",
    "str_to_date",
    "subdate",
    "subtime",
    "sysdate",
    "time",
    "time_format",
    "time_to_sec",
    "timediff",
    "timestamp",
    "timestampadd",
    "timestampdiff",
    "to_days",
    "to_seconds",
    "unix_timestamp",
    "utc_date",
    "utc_time",
    "utc_timestamp",
    "week",
    "weekday",
    "weekofyear",
    "year",
    "yearweek",
    // JSON
    "json_array",
    "json_array_append",
    "json_arrayagg",
    "json_contains",
    "json_extract",
    "json_length",
    "json_object",
    "json_objectagg",
    "json_quote",
    "json_remove",
    "json_replace",
    "json_set",
    "json_unquote",
    "json_valid",
    "json_value",
    // hashing and ids
    "md5",
    "sha1",
    "sha2",
    "uuid",
    "last_insert_id",
    "row_count",
    // `ON DUPLICATE KEY UPDATE c = VALUES(c)`
    "values",
    "value",
];

/// The grant check of one connection, with its verdict cache.
#[derive(Debug)]
pub struct StatementCheck {
    grant: TableGrant,
    database: Option<String>,
    verdicts: HashMap<String, Result<(), DbError>>,
}

impl StatementCheck {
    /// A check of `grant` for a connection to `database` (the only qualifier allowed).
    pub fn new(grant: TableGrant, database: Option<String>) -> Self {
        StatementCheck {
            grant,
            database,
            verdicts: HashMap::new(),
        }
    }

    /// Whether `sql` may run: `Err(Denied(what))` for a statement the grant does not allow,
    /// `Err(Invalid)` for one that cannot be parsed.
    pub fn check(&mut self, sql: &str) -> Result<(), DbError> {
        if let Some(verdict) = self.verdicts.get(sql) {
            return verdict.clone();
        }
        let verdict = self.decide(sql);
        if self.verdicts.len() >= CACHE_LIMIT {
            self.verdicts.clear();
        }
        self.verdicts.insert(sql.to_owned(), verdict.clone());
        verdict
    }

    fn decide(&self, sql: &str) -> Result<(), DbError> {
        let dialect = MySqlDialect {};
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize()
            .map_err(|e| DbError::Invalid(format!("cannot parse statement: {e}")))?;
        if tokens.iter().any(|t| {
            matches!(
                t,
                Token::Whitespace(
                    Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)
                )
            )
        }) {
            return Err(DbError::Denied("comment".into()));
        }
        let statements = Parser::new(&dialect)
            .with_tokens(tokens)
            .parse_statements()
            .map_err(|e| DbError::Invalid(format!("cannot parse statement: {e}")))?;
        let [stmt] = statements.as_slice() else {
            return Err(DbError::Invalid(
                "exactly one statement per call is allowed".into(),
            ));
        };
        self.check_kind(stmt, sql)?;
        let mut walker = Walker {
            check: self,
            ctes: BTreeSet::new(),
        };
        match stmt.visit(&mut walker) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(denied) => Err(DbError::Denied(denied)),
        }
    }

    /// Allows the statement kinds of the grant and checks DDL targets against its prefixes.
    fn check_kind(&self, stmt: &Statement, sql: &str) -> Result<(), DbError> {
        let own = |name: &ObjectName| self.table_name(name).and_then(|t| self.owned(&t));
        match stmt {
            Statement::Query(_)
            | Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_) => Ok(()),
            Statement::CreateTable(ct) => own(&ct.name),
            Statement::CreateIndex(ci) => own(&ci.table_name),
            Statement::AlterTable(at) => {
                own(&at.name)?;
                at.operations.iter().try_for_each(|op| match op {
                    sqlparser::ast::AlterTableOperation::RenameTable { table_name } => {
                        match table_name {
                            RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => own(n),
                        }
                    }
                    _ => Ok(()),
                })
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => names.iter().try_for_each(own),
            Statement::Drop {
                object_type: ObjectType::Index,
                table: Some(table),
                ..
            } => own(table),
            Statement::RenameTable(renames) => renames
                .iter()
                .try_for_each(|r| own(&r.old_name).and_then(|()| own(&r.new_name))),
            Statement::Truncate(t) => t.table_names.iter().try_for_each(|t| own(&t.name)),
            Statement::StartTransaction { .. } => Err(DbError::Denied("BEGIN".into())),
            Statement::Commit { .. } => Err(DbError::Denied("COMMIT".into())),
            Statement::Rollback { .. } => Err(DbError::Denied("ROLLBACK".into())),
            Statement::Savepoint { .. } | Statement::ReleaseSavepoint { .. } => {
                Err(DbError::Denied("SAVEPOINT".into()))
            }
            _ => Err(DbError::Denied(first_word(sql))),
        }
    }

    /// The unqualified table name, or `Denied(name)` for a name qualified with another database.
    fn table_name(&self, name: &ObjectName) -> Result<String, DbError> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
                ObjectNamePart::Function(_) => Err(DbError::Denied(name.to_string())),
            })
            .collect::<Result<_, _>>()?;
        match parts.as_slice() {
            [table] => Ok(table.clone()),
            [db, table]
                if self
                    .database
                    .as_deref()
                    .is_some_and(|own| own.eq_ignore_ascii_case(db)) =>
            {
                Ok(table.clone())
            }
            _ => Err(DbError::Denied(parts.join("."))),
        }
    }

    fn owned(&self, table: &str) -> Result<(), DbError> {
        if self.grant.owns(table, true) {
            Ok(())
        } else {
            Err(DbError::Denied(table.to_owned()))
        }
    }
}

/// The first word of a statement, upper-cased: the kind a denial names.
fn first_word(sql: &str) -> String {
    sql.split_whitespace()
        .next()
        .unwrap_or("statement")
        .trim_end_matches(';')
        .to_ascii_uppercase()
}

/// Walks one statement: every table it reads or writes, every function it calls, every query.
struct Walker<'c> {
    check: &'c StatementCheck,
    /// Names of the common table expressions seen so far (they shadow tables).
    ctes: BTreeSet<String>,
}

impl Visitor for Walker<'_> {
    type Break = String;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if let Some(with) = &query.with {
            self.ctes.extend(
                with.cte_tables
                    .iter()
                    .map(|c| c.alias.name.value.to_ascii_lowercase()),
            );
        }
        if selects_into(&query.body) {
            return ControlFlow::Break("SELECT INTO".into());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<String> {
        let table = match self.check.table_name(relation) {
            Ok(t) => t,
            Err(DbError::Denied(what)) => return ControlFlow::Break(what),
            Err(e) => return ControlFlow::Break(e.to_string()),
        };
        let is_cte = relation.0.len() == 1 && self.ctes.contains(&table.to_ascii_lowercase());
        if is_cte || self.check.grant.names(&table, true) {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(table)
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        if let Expr::Function(f) = expr {
            let name = match f.name.0.as_slice() {
                [ObjectNamePart::Identifier(i)] => i.value.to_ascii_lowercase(),
                _ => return ControlFlow::Break(format!("function {}", f.name)),
            };
            if !ALLOWED_FUNCTIONS.contains(&name.as_str()) {
                return ControlFlow::Break(format!("function {name}"));
            }
        }
        ControlFlow::Continue(())
    }
}

fn selects_into(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(s) => s.into.is_some(),
        SetExpr::SetOperation { left, right, .. } => selects_into(left) || selects_into(right),
        SetExpr::Query(q) => selects_into(&q.body),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str) -> Result<(), DbError> {
        StatementCheck::new(TableGrant::plugin_default(), Some("xt".into())).check(sql)
    }

    fn denied(sql: &str) -> String {
        match check(sql) {
            Err(DbError::Denied(what)) => what,
            other => panic!("{sql}: expected a denial, got {other:?}"),
        }
    }

    #[test]
    fn granted_data_statements_pass() {
        for sql in [
            "SELECT a.id FROM adresse a JOIN adresse_rolle r ON r.adresse = a.id WHERE a.id = ? LIMIT ?",
            "SELECT COUNT(*) FROM hubspot_request_queues WHERE completed = 0",
            "INSERT INTO adresse (name, email) VALUES (?, ?)",
            "UPDATE hubspot_cursors SET modified_ms = ? WHERE name = ?",
            "DELETE FROM hubspot_failures WHERE object = ?",
            "SELECT a.id, CASE WHEN EXISTS (SELECT 1 FROM adresse_rolle r WHERE r.adresse = a.id) THEN 0 ELSE 1 END AS outside FROM adresse a WHERE NOT EXISTS (SELECT 1 FROM hubspot_contacts c WHERE c.address_id = a.id) ORDER BY outside, a.id LIMIT 1",
            "INSERT INTO hubspot_options (type, value, label) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE label = VALUES(label)",
            "WITH recent AS (SELECT id FROM adresse) SELECT COUNT(*) FROM recent",
            "SELECT id FROM xt.adresse WHERE logdatei > DATE_SUB(NOW(), INTERVAL 1 DAY)",
        ] {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn plugin_ddl_passes_on_its_own_prefix() {
        for sql in [
            "CREATE TABLE IF NOT EXISTS hubspot_contacts (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, snapshot TEXT NOT NULL)",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_contacts_hs ON hubspot_contacts (hs_contact_id)",
            "ALTER TABLE hubspot_contacts ADD COLUMN extra TEXT",
            "DROP TABLE hubspot_events",
            "DROP INDEX hubspot_x ON hubspot_contacts",
        ] {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn ungranted_tables_are_denied_by_name() {
        assert_eq!(denied("SELECT * FROM user"), "user");
        assert_eq!(
            denied("SELECT id FROM adresse WHERE id IN (SELECT id FROM user)"),
            "user"
        );
        assert_eq!(
            denied("UPDATE adresse a JOIN user u ON u.id = a.id SET a.name = u.passwort"),
            "user"
        );
        assert_eq!(
            denied("INSERT INTO user (username) SELECT name FROM adresse"),
            "user"
        );
        assert_eq!(denied("SELECT * FROM mysql.user"), "mysql.user");
        assert_eq!(
            denied("SELECT * FROM information_schema.TABLES"),
            "information_schema.TABLES"
        );
    }

    #[test]
    fn ddl_on_xentral_tables_is_denied() {
        assert_eq!(denied("DROP TABLE adresse"), "adresse");
        assert_eq!(denied("ALTER TABLE adresse ADD COLUMN x INT"), "adresse");
        assert_eq!(
            denied("CREATE INDEX hubspot_i ON adresse (email)"),
            "adresse"
        );
        assert_eq!(denied("CREATE TABLE evil (id INT)"), "evil");
        assert_eq!(
            denied("ALTER TABLE hubspot_contacts RENAME TO evil"),
            "evil"
        );
        assert_eq!(denied("TRUNCATE TABLE adresse"), "adresse");
    }

    #[test]
    fn other_statement_kinds_are_denied_by_kind() {
        assert_eq!(denied("SET SESSION sql_mode = ''"), "SET");
        assert_eq!(denied("START TRANSACTION"), "BEGIN");
        assert_eq!(denied("COMMIT"), "COMMIT");
        assert_eq!(denied("GRANT ALL ON *.* TO 'x'@'%'"), "GRANT");
        assert_eq!(denied("LOCK TABLES adresse WRITE"), "LOCK");
        assert_eq!(denied("SHOW TABLES"), "SHOW");
    }

    #[test]
    fn dangerous_functions_and_comments_are_denied() {
        assert_eq!(
            denied("SELECT LOAD_FILE('/etc/passwd')"),
            "function load_file"
        );
        assert_eq!(denied("SELECT SLEEP(100)"), "function sleep");
        // MariaDB runs the body of a versioned comment; so does the parser.
        assert_eq!(
            denied("SELECT 1 /*!50000 , LOAD_FILE('/etc/passwd') */"),
            "function load_file"
        );
        assert_eq!(denied("SELECT 1 /*M!100000 , 2 */"), "comment");
        assert_eq!(denied("SELECT 1 -- \n"), "comment");
    }

    #[test]
    fn several_statements_are_invalid() {
        assert!(matches!(
            check("SELECT 1; SELECT * FROM user"),
            Err(DbError::Invalid(_))
        ));
    }
}
