//! The statement check on MariaDB: every statement of a granted connection is checked against
//! the [`TableGrant`] before it reaches the server.
//!
//! It is the *second* line. The first is the privileges of the MariaDB account the connection
//! logs in with, which are exactly the grant ([`TableGrant::mysql_grants`]). The check refuses
//! what the grant does not allow even on an account that may do everything, and it is the only
//! line for foreign keys: MariaDB does not enforce the `REFERENCES` privilege. It is strict on
//! purpose: whatever the plugin does not need is refused, even where the server would refuse it
//! too.
//!
//! Names compare exactly (as written), as MariaDB does with `lower_case_table_names=0`.
//!
//! # Lexical rules, on the raw text
//!
//! sqlparser and MariaDB must see the same statement, so before sqlparser tokenises anything a
//! hand-written scan of the text, which tracks string literals (`'…'` and `"…"`, with backslash
//! escapes and doubled quotes, as MariaDB reads them without `ANSI_QUOTES` and
//! `NO_BACKSLASH_ESCAPES`) and quoted identifiers (`` `…` ``, with doubled backticks), refuses:
//! - a NUL byte anywhere: `Denied("character U+0000")`;
//! - outside literals and identifiers, `/*` (plain comments and executable comments `/*!…*/`,
//!   `/*M!…*/` of every version: MariaDB runs some of them and skips others, sqlparser runs them
//!   all), `#` and `--` (MariaDB's `-- ` comment; the pair is refused whatever follows):
//!   `Denied("comment")`;
//! - outside literals and identifiers, `@` (user variables `@x`, system variables `@@datadir`):
//!   `Denied("variable")`;
//! - outside literals and identifiers, `;`: `Invalid("exactly one statement per call is
//!   allowed")`;
//! - outside literals (also inside quoted identifiers), a control character other than tab, line
//!   feed and carriage return, DEL, and any non-ASCII character (such as the non-ASCII spaces
//!   U+00A0, U+2028, U+3000): `Denied("character U+XXXX")`, the code point in upper-case hex;
//! - a literal or quoted identifier left open: `Invalid("unterminated string literal")`,
//!   `Invalid("unterminated quoted identifier")`.
//!
//! Inside string literals every character but NUL is allowed (the plugin writes unicode names,
//! usually as bound parameters). The scan reads quotes as the session's `sql_mode` makes MariaDB
//! read them ([`super::SESSION_SETUP`]: neither `ANSI_QUOTES` nor `NO_BACKSLASH_ESCAPES`); the
//! guest cannot change it, `SET` is refused.
//!
//! # Statements
//!
//! A text sqlparser (MySQL dialect) cannot parse is `Invalid("cannot parse statement: …")`, more
//! than one statement `Invalid("exactly one statement per call is allowed")`.
//!
//! Table names: `t`, or `db.t` where `db` is exactly the connection's database; anything else
//! (another database, a different case, three parts) is `Denied("db.t")` as written.
//!
//! Row statements need the grant's verbs ([`TableGrant::allows`]) on every table they name; a
//! refusal is `Denied(grant.denial(table, verb))`: the table's name when it is not granted at
//! all (`"user"`), `"VERB on table"` when it is granted with other verbs (`"DELETE on laender"`):
//! - the target of `INSERT` needs `INSERT`; of `REPLACE` also `DELETE`; with `ON DUPLICATE KEY
//!   UPDATE` also `UPDATE`;
//! - every table of an `UPDATE`'s table list and its joins needs `UPDATE` and `SELECT`;
//! - every table of a `DELETE`'s `FROM`/`USING` list and its joins needs `DELETE` and `SELECT`;
//!   so does a multi-table target (`DELETE t FROM …`) that names none of them nor their aliases;
//! - every other table reference (`FROM`, `JOIN`, sub-queries, derived tables, `INSERT …
//!   SELECT`, `CREATE TABLE … AS SELECT`) needs `SELECT`.
//!
//! A common table expression's name stands for the CTE, not a table, exactly where MariaDB 10.11
//! resolves it to the CTE (names compare exactly; MariaDB compares them case-insensitively, so a
//! differently spelled reference is checked as a table, which is only stricter):
//! - in the body of the query that owns the `WITH`, including its sub-queries and derived
//!   tables, and nested `WITH` queries' bodies;
//! - in the definitions of the *later* CTEs of the same `WITH` (with `WITH RECURSIVE`: of all of
//!   them, including its own);
//! - in the CTE definitions of a `WITH` whose query is itself directly a CTE definition, what is
//!   visible in that outer definition. MariaDB does not resolve an outer CTE in the definitions
//!   of a `WITH` nested anywhere else (a derived table, a sub-query): there the name is a table;
//! - never outside the query that owns the `WITH` (a sibling sub-query, the other side of a
//!   `UNION`, an `INSERT`/`UPDATE`/`DELETE` target).
//!
//! Expressions: functions from a list of MariaDB built-ins only, unqualified
//! (`Denied("function load_file")`, `"function sleep"`, `"function user"`, `"function
//! database"`, `"function version"`, …); `CURRENT_USER`, `CURRENT_ROLE`, `SESSION_USER`,
//! `SYSTEM_USER` as bare, unquoted words are functions to MariaDB and refused the same way
//! (`` `current_user` `` is a column). `SELECT … INTO x` is `Denied("SELECT INTO")` (`INTO @x`
//! is a variable; `INTO OUTFILE`/`DUMPFILE`, and any `INTO` after `FROM`, do not parse:
//! `Invalid`), `WITH … INSERT/UPDATE/DELETE` is `Denied("WITH INSERT")` (`"WITH UPDATE"`, `"WITH
//! DELETE"`), `TABLE t` `Denied("TABLE")`, a table function in `FROM` (`JSON_TABLE`, …)
//! `Denied("table function")`. `FROM DUAL` reads as a table named `DUAL` and is refused.
//!
//! DDL only on the plugin's own tables ([`TableGrant::owns`]), else `Denied(table)`: `CREATE
//! TABLE` (also its `LIKE` source), `CREATE [UNIQUE] INDEX … ON t`, `ALTER TABLE` (also its
//! `RENAME TO` target), `DROP TABLE`, `DROP INDEX … ON t`, `RENAME TABLE` (both names),
//! `TRUNCATE`. What a table may be made of is an allow-list too:
//! - columns of the built-in types (`Denied("column type x")` for any other), with `NULL`, `NOT
//!   NULL`, `DEFAULT`, `AUTO_INCREMENT`, `PRIMARY KEY`, `UNIQUE`, `COMMENT`, `CHARACTER SET`,
//!   `COLLATE`, `ON UPDATE` (`Denied("column option CHECK")`, …); a column named by the bare
//!   word `LIKE` is `CREATE TABLE t (LIKE other)` to MariaDB: `Denied("LIKE")`;
//! - `PRIMARY KEY`, `UNIQUE` and `INDEX`/`KEY` constraints (`Denied("constraint CHECK")`, …);
//! - no foreign key at all, column-level `REFERENCES` included: `Denied("REFERENCES")`;
//! - table options `[DEFAULT] CHARSET`/`CHARACTER SET`, `[DEFAULT] COLLATE`, `COMMENT`,
//!   `AUTO_INCREMENT`, `ROW_FORMAT` only: `Denied("table option ENGINE")`, `"table option DATA
//!   DIRECTORY"`, `"table option UNION"`, …;
//! - `CREATE TEMPORARY TABLE`, `DROP TEMPORARY TABLE`: `Denied("TEMPORARY")`; any other clause
//!   sqlparser can represent (`OR REPLACE`, other dialects' options): `Denied("CREATE TABLE
//!   clause")`;
//! - `ALTER TABLE` adds, changes, renames and drops columns, indexes and constraints (under the
//!   same rules), renames the table, sets `AUTO_INCREMENT`, `ALGORITHM`, `LOCK`; anything else
//!   is `Denied("ALTER TABLE operation")`. sqlparser cannot parse table options or partitioning
//!   in `ALTER TABLE`, nor partitioning in `CREATE TABLE`: those are `Invalid`. It reads an index
//!   prefix length (`INDEX i (c(10))`) as a call: `Denied("function c")`.
//!
//! Everything else is denied by its kind: `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`
//! (transactions go through [`crate::Database::begin`]), and by its first word: `SET`, `GRANT`,
//! `SHOW`, `LOCK`, `KILL`, `CALL`, `EXECUTE`, `DROP` (of anything but a table or an index), …
//! (`LOAD DATA INFILE`, `HANDLER`, `DO`, `PREPARE … FROM` do not parse: `Invalid`).
//!
//! A verdict depends only on the statement text, so it is cached per text.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use sqlparser::ast::helpers::stmt_create_table::CreateTableBuilder;
use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnOption, CreateTable,
    CreateTableLikeKind, CreateTableOptions, DataType, Delete, Expr, FromTable, Ident, Insert,
    ObjectName, ObjectNamePart, ObjectType, Query, RenameTableNameKind, SetExpr, SqlOption,
    Statement, TableConstraint, TableFactor, TableObject, TableWithJoins, Update,
    UpdateTableFromKind, Visit, Visitor,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::database::DbError;
use crate::grant::{Privilege, TableGrant};

/// Verdicts kept before the cache is cleared; the plugin uses far fewer distinct texts.
const CACHE_LIMIT: usize = 4096;

/// The refusal of more than one statement (also of any `;` outside literals).
const ONE_STATEMENT: &str = "exactly one statement per call is allowed";

/// Words MariaDB evaluates as functions even without parentheses; refused as bare identifiers.
const SESSION_WORDS: &[&str] = &[
    "current_user",
    "current_role",
    "session_user",
    "system_user",
];

/// The table options a plugin table may set, as sqlparser names them.
const ALLOWED_TABLE_OPTIONS: &[&str] = &[
    "DEFAULT CHARSET",
    "CHARSET",
    "DEFAULT CHARACTER SET",
    "CHARACTER SET",
    "DEFAULT COLLATE",
    "COLLATE",
    "AUTO_INCREMENT",
    "ROW_FORMAT",
];

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
        scan(sql)?;
        let dialect = MySqlDialect {};
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize()
            .map_err(|e| DbError::Invalid(format!("cannot parse statement: {e}")))?;
        // The scan refused every comment already; a comment token here would mean the two
        // disagree about where a literal ends.
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
            return Err(DbError::Invalid(ONE_STATEMENT.into()));
        };
        let checked = self.check_statement(stmt, sql)?;
        let mut walker = Walker {
            check: self,
            checked: &checked,
            scopes: Vec::new(),
        };
        match stmt.visit(&mut walker) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(denied) => Err(denied),
        }
    }

    /// Checks what depends on the statement's kind: the targets of row statements with their
    /// verbs, and DDL. Returns the table names it checked, so the walk does not check them
    /// again as reads.
    fn check_statement(
        &self,
        stmt: &Statement,
        sql: &str,
    ) -> Result<Vec<*const ObjectName>, DbError> {
        let mut checked = Vec::new();
        match stmt {
            Statement::Query(_) => {}
            Statement::Insert(insert) => self.check_insert(insert, &mut checked)?,
            Statement::Update(update) => self.check_update(update, &mut checked)?,
            Statement::Delete(delete) => self.check_delete(delete, &mut checked)?,
            Statement::CreateTable(ct) => self.check_create_table(ct, &mut checked)?,
            Statement::CreateIndex(ci) => self.own(&ci.table_name, &mut checked)?,
            Statement::AlterTable(at) => self.check_alter_table(at, &mut checked)?,
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                temporary,
                ..
            } => {
                if *temporary {
                    return Err(denied("TEMPORARY"));
                }
                for name in names {
                    self.own(name, &mut checked)?;
                }
            }
            Statement::Drop {
                object_type: ObjectType::Index,
                table: Some(table),
                ..
            } => self.own(table, &mut checked)?,
            Statement::RenameTable(renames) => {
                for r in renames {
                    self.own(&r.old_name, &mut checked)?;
                    self.own(&r.new_name, &mut checked)?;
                }
            }
            Statement::Truncate(t) => {
                for target in &t.table_names {
                    self.own(&target.name, &mut checked)?;
                }
            }
            Statement::StartTransaction { .. } => return Err(denied("BEGIN")),
            Statement::Commit { .. } => return Err(denied("COMMIT")),
            Statement::Rollback { .. } => return Err(denied("ROLLBACK")),
            Statement::Savepoint { .. } | Statement::ReleaseSavepoint { .. } => {
                return Err(denied("SAVEPOINT"));
            }
            _ => return Err(DbError::Denied(first_word(sql))),
        }
        Ok(checked)
    }

    fn check_insert(
        &self,
        insert: &Insert,
        checked: &mut Vec<*const ObjectName>,
    ) -> Result<(), DbError> {
        let TableObject::TableName(name) = &insert.table else {
            return Err(denied("table function"));
        };
        let mut verbs = vec![Privilege::Insert];
        // `REPLACE` deletes the row it replaces (so does SQLite's `INSERT OR REPLACE`).
        if insert.replace_into || insert.or.is_some() {
            verbs.push(Privilege::Delete);
        }
        if insert.on.is_some() || insert.or.is_some() {
            verbs.push(Privilege::Update);
        }
        self.require(name, &verbs)?;
        checked.push(name);
        Ok(())
    }

    fn check_update(
        &self,
        update: &Update,
        checked: &mut Vec<*const ObjectName>,
    ) -> Result<(), DbError> {
        let verbs = [Privilege::Update, Privilege::Select];
        let from = match &update.from {
            Some(UpdateTableFromKind::BeforeSet(t) | UpdateTableFromKind::AfterSet(t)) => {
                t.as_slice()
            }
            None => &[],
        };
        for (name, _) in std::iter::once(&update.table)
            .chain(from)
            .flat_map(direct_tables)
        {
            self.require(name, &verbs)?;
            checked.push(name);
        }
        Ok(())
    }

    fn check_delete(
        &self,
        delete: &Delete,
        checked: &mut Vec<*const ObjectName>,
    ) -> Result<(), DbError> {
        let verbs = [Privilege::Delete, Privilege::Select];
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
        let using = delete.using.as_deref().unwrap_or_default();
        let tables: Vec<_> = from.iter().chain(using).flat_map(direct_tables).collect();
        for (name, _) in &tables {
            self.require(name, &verbs)?;
            checked.push(*name);
        }
        // `DELETE a FROM adresse a JOIN …`: a target names a table of the list or its alias.
        for target in &delete.tables {
            let listed = match target.0.as_slice() {
                [ObjectNamePart::Identifier(t)] => tables.iter().any(|(name, alias)| {
                    alias.is_some_and(|a| a.value == t.value)
                        || matches!(name.0.last(), Some(ObjectNamePart::Identifier(n)) if n.value == t.value)
                }),
                _ => false,
            };
            if !listed {
                self.require(target, &verbs)?;
            }
            checked.push(target);
        }
        Ok(())
    }

    fn check_create_table(
        &self,
        ct: &CreateTable,
        checked: &mut Vec<*const ObjectName>,
    ) -> Result<(), DbError> {
        if ct.temporary {
            return Err(denied("TEMPORARY"));
        }
        self.own(&ct.name, checked)?;
        for column in &ct.columns {
            if column.name.quote_style.is_none() && column.name.value.eq_ignore_ascii_case("like") {
                return Err(denied("LIKE"));
            }
            check_column(&column.data_type, column.options.iter().map(|o| &o.option))?;
        }
        ct.constraints.iter().try_for_each(check_constraint)?;
        check_table_options(&ct.table_options)?;
        if let Some(CreateTableLikeKind::Plain(like) | CreateTableLikeKind::Parenthesized(like)) =
            &ct.like
        {
            if like.defaults.is_some() {
                return Err(denied("CREATE TABLE clause"));
            }
            self.own(&like.name, checked)?;
        }
        // Every other field sqlparser has (other dialects' clauses, `OR REPLACE`) must be unset:
        // compare with a bare `CREATE TABLE name`.
        let mut rest = ct.clone();
        rest.if_not_exists = false;
        rest.columns.clear();
        rest.constraints.clear();
        rest.table_options = CreateTableOptions::None;
        rest.like = None;
        rest.query = None;
        if rest != CreateTableBuilder::new(ct.name.clone()).build() {
            return Err(denied("CREATE TABLE clause"));
        }
        Ok(())
    }

    fn check_alter_table(
        &self,
        at: &AlterTable,
        checked: &mut Vec<*const ObjectName>,
    ) -> Result<(), DbError> {
        self.own(&at.name, checked)?;
        if at.only || at.location.is_some() || at.on_cluster.is_some() || at.table_type.is_some() {
            return Err(denied("ALTER TABLE operation"));
        }
        for op in &at.operations {
            match op {
                AlterTableOperation::AddColumn { column_def, .. } => check_column(
                    &column_def.data_type,
                    column_def.options.iter().map(|o| &o.option),
                )?,
                AlterTableOperation::ChangeColumn {
                    data_type, options, ..
                }
                | AlterTableOperation::ModifyColumn {
                    data_type, options, ..
                } => check_column(data_type, options.iter())?,
                AlterTableOperation::AddConstraint { constraint, .. } => {
                    check_constraint(constraint)?
                }
                AlterTableOperation::AlterColumn {
                    op:
                        AlterColumnOperation::SetNotNull
                        | AlterColumnOperation::DropNotNull
                        | AlterColumnOperation::SetDefault { .. }
                        | AlterColumnOperation::DropDefault,
                    ..
                } => {}
                AlterTableOperation::RenameTable { table_name } => match table_name {
                    RenameTableNameKind::As(name) | RenameTableNameKind::To(name) => {
                        self.own(name, checked)?
                    }
                },
                AlterTableOperation::DropColumn { .. }
                | AlterTableOperation::DropIndex { .. }
                | AlterTableOperation::DropPrimaryKey { .. }
                | AlterTableOperation::DropConstraint { .. }
                | AlterTableOperation::DropForeignKey { .. }
                | AlterTableOperation::RenameColumn { .. }
                | AlterTableOperation::RenameConstraint { .. }
                | AlterTableOperation::AutoIncrement { .. }
                | AlterTableOperation::Algorithm { .. }
                | AlterTableOperation::Lock { .. } => {}
                _ => return Err(denied("ALTER TABLE operation")),
            }
        }
        Ok(())
    }

    /// The unqualified table name, or `Denied(name)` for a name qualified with anything but
    /// exactly the connection's database.
    fn table_name(&self, name: &ObjectName) -> Result<String, DbError> {
        let parts: Vec<&str> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => Ok(i.value.as_str()),
                ObjectNamePart::Function(_) => Err(DbError::Denied(name.to_string())),
            })
            .collect::<Result<_, _>>()?;
        match parts.as_slice() {
            [table] => Ok((*table).to_owned()),
            [db, table] if self.database.as_deref() == Some(*db) => Ok((*table).to_owned()),
            _ => Err(DbError::Denied(parts.join("."))),
        }
    }

    /// `verbs` on the table `name`, or the grant's denial of the first verb it lacks.
    fn require(&self, name: &ObjectName, verbs: &[Privilege]) -> Result<(), DbError> {
        let table = self.table_name(name)?;
        match verbs.iter().find(|v| !self.grant.allows(&table, **v, true)) {
            Some(verb) => Err(DbError::Denied(self.grant.denial(&table, *verb, true))),
            None => Ok(()),
        }
    }

    /// DDL on `name`: one of the plugin's own tables, or `Denied(table)`.
    fn own(&self, name: &ObjectName, checked: &mut Vec<*const ObjectName>) -> Result<(), DbError> {
        let table = self.table_name(name)?;
        if !self.grant.owns(&table, true) {
            return Err(DbError::Denied(table));
        }
        checked.push(name);
        Ok(())
    }
}

fn denied(what: &str) -> DbError {
    DbError::Denied(what.to_owned())
}

/// The lexical rules (see the module doc), on the raw text.
fn scan(sql: &str) -> Result<(), DbError> {
    let bytes = sql.as_bytes();
    if bytes.contains(&0) {
        return Err(bad_character('\0'));
    }
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        match b {
            b'\'' | b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'`' => {
                i = identifier_end(sql, i)?;
                continue;
            }
            b'/' if next == Some(b'*') => return Err(denied("comment")),
            b'-' if next == Some(b'-') => return Err(denied("comment")),
            b'#' => return Err(denied("comment")),
            b'@' => return Err(denied("variable")),
            b';' => return Err(DbError::Invalid(ONE_STATEMENT.into())),
            b'\t' | b'\n' | b'\r' => {}
            _ if !is_plain_ascii(b) => return Err(bad_character_at(sql, i)),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Printable ASCII (space to `~`).
fn is_plain_ascii(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

fn bad_character(c: char) -> DbError {
    DbError::Denied(format!("character U+{:04X}", u32::from(c)))
}

/// The character starting at byte `i`: every byte before it was ASCII or inside a literal that
/// ended with an ASCII quote, so `i` is a character boundary.
fn bad_character_at(sql: &str, i: usize) -> DbError {
    bad_character(sql[i..].chars().next().unwrap_or('\0'))
}

/// The index after the string literal that starts at `start` (`'` or `"`).
fn string_end(bytes: &[u8], start: usize) -> Result<usize, DbError> {
    let quote = bytes[start];
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => return Err(DbError::Invalid("unterminated string literal".into())),
            Some(b'\\') => i += 2,
            Some(&b) if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Ok(i + 1);
                }
            }
            Some(_) => i += 1,
        }
    }
}

/// The index after the quoted identifier that starts at `start`.
fn identifier_end(sql: &str, start: usize) -> Result<usize, DbError> {
    let bytes = sql.as_bytes();
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => return Err(DbError::Invalid("unterminated quoted identifier".into())),
            Some(b'`') if bytes.get(i + 1) == Some(&b'`') => i += 2,
            Some(b'`') => return Ok(i + 1),
            Some(&b) if !is_plain_ascii(b) => return Err(bad_character_at(sql, i)),
            Some(_) => i += 1,
        }
    }
}

/// The tables a statement's table list names directly (not inside derived tables), with their
/// aliases.
fn direct_tables(list: &TableWithJoins) -> Vec<(&ObjectName, Option<&Ident>)> {
    fn walk<'a>(factor: &'a TableFactor, out: &mut Vec<(&'a ObjectName, Option<&'a Ident>)>) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                out.push((name, alias.as_ref().map(|a| &a.name)))
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                walk(&table_with_joins.relation, out);
                for join in &table_with_joins.joins {
                    walk(&join.relation, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&list.relation, &mut out);
    for join in &list.joins {
        walk(&join.relation, &mut out);
    }
    out
}

/// A column of a plugin table: a built-in type and plain options, no foreign key.
fn check_column<'a>(
    data_type: &DataType,
    options: impl Iterator<Item = &'a ColumnOption>,
) -> Result<(), DbError> {
    if let DataType::Custom(name, _) = data_type {
        return Err(DbError::Denied(format!("column type {name}")));
    }
    for option in options {
        match option {
            ColumnOption::Null
            | ColumnOption::NotNull
            | ColumnOption::Default(_)
            | ColumnOption::PrimaryKey(_)
            | ColumnOption::Unique(_)
            | ColumnOption::Comment(_)
            | ColumnOption::CharacterSet(_)
            | ColumnOption::Collation(_)
            | ColumnOption::OnUpdate(_) => {}
            ColumnOption::DialectSpecific(tokens) if matches!(tokens.as_slice(), [Token::Word(w)] if w.keyword == Keyword::AUTO_INCREMENT) =>
                {}
            ColumnOption::ForeignKey(_) => return Err(denied("REFERENCES")),
            other => {
                let text = other.to_string();
                let word = text.split_whitespace().next().unwrap_or_default();
                return Err(DbError::Denied(format!("column option {word}")));
            }
        }
    }
    Ok(())
}

/// A table constraint of a plugin table: keys and indexes only.
fn check_constraint(constraint: &TableConstraint) -> Result<(), DbError> {
    match constraint {
        TableConstraint::PrimaryKey(_) | TableConstraint::Unique(_) | TableConstraint::Index(_) => {
            Ok(())
        }
        TableConstraint::ForeignKey(_) => Err(denied("REFERENCES")),
        TableConstraint::Check(_) => Err(denied("constraint CHECK")),
        TableConstraint::FulltextOrSpatial(_) => Err(denied("constraint FULLTEXT")),
        _ => Err(denied("constraint")),
    }
}

/// The table options of a plugin table: charset, collation, comment, counter, row format.
fn check_table_options(options: &CreateTableOptions) -> Result<(), DbError> {
    let options = match options {
        CreateTableOptions::None => return Ok(()),
        CreateTableOptions::Plain(options) => options,
        _ => return Err(denied("table option")),
    };
    for option in options {
        match option {
            SqlOption::Comment(_) => {}
            SqlOption::KeyValue { key, value }
                if ALLOWED_TABLE_OPTIONS.contains(&key.to_string().as_str())
                    && matches!(value, Expr::Identifier(_) | Expr::Value(_)) => {}
            SqlOption::KeyValue { key, .. } => {
                return Err(DbError::Denied(format!("table option {key}")));
            }
            SqlOption::NamedParenthesizedList(list) => {
                return Err(DbError::Denied(format!("table option {}", list.key)));
            }
            SqlOption::TableSpace(_) => return Err(denied("table option TABLESPACE")),
            SqlOption::Ident(name) => {
                return Err(DbError::Denied(format!("table option {name}")));
            }
            _ => return Err(denied("table option")),
        }
    }
    Ok(())
}

/// The first word of a statement, upper-cased: the kind a denial names.
fn first_word(sql: &str) -> String {
    sql.split_whitespace()
        .next()
        .unwrap_or("statement")
        .to_ascii_uppercase()
}

/// Walks one statement: every table it reads, every function it calls, every query.
struct Walker<'c> {
    check: &'c StatementCheck,
    /// Table names [`StatementCheck::check_statement`] checked already (targets, DDL).
    checked: &'c [*const ObjectName],
    /// One scope per query being walked, innermost last.
    scopes: Vec<Scope>,
}

/// The CTE names visible in one query.
struct Scope {
    /// In the query's body (and the queries nested in it that are no CTE definitions).
    body: BTreeSet<String>,
    /// In the definition of each CTE of the query's `WITH`, by the definition's address.
    definitions: Vec<(*const Query, BTreeSet<String>)>,
}

impl Walker<'_> {
    /// The scope of `query`, which is about to be walked inside the current innermost scope.
    fn scope_of(&self, query: &Query) -> Scope {
        let parent = self.scopes.last();
        let definition = parent.and_then(|p| {
            p.definitions
                .iter()
                .find(|(q, _)| std::ptr::eq(*q, query))
                .map(|(_, names)| names)
        });
        // A CTE definition sees what its WITH allows; any other query what its parent's body
        // sees.
        let base = match (definition, parent) {
            (Some(names), _) => names.clone(),
            (None, Some(p)) => p.body.clone(),
            (None, None) => BTreeSet::new(),
        };
        let mut scope = Scope {
            body: base,
            definitions: Vec::new(),
        };
        if let Some(with) = &query.with {
            let names: Vec<&str> = with
                .cte_tables
                .iter()
                .map(|c| c.alias.name.value.as_str())
                .collect();
            // MariaDB resolves outer CTEs in the definitions of a nested WITH only when the
            // query that owns it is itself a CTE definition.
            let outer = definition.cloned().unwrap_or_default();
            for (i, cte) in with.cte_tables.iter().enumerate() {
                let own = if with.recursive {
                    &names[..]
                } else {
                    &names[..i]
                };
                let mut visible = outer.clone();
                visible.extend(own.iter().map(|n| (*n).to_owned()));
                scope.definitions.push((&*cte.query, visible));
            }
            scope.body.extend(names.iter().map(|n| (*n).to_owned()));
        }
        scope
    }

    fn is_cte(&self, relation: &ObjectName) -> bool {
        match (relation.0.as_slice(), self.scopes.last()) {
            ([ObjectNamePart::Identifier(name)], Some(scope)) => scope.body.contains(&name.value),
            _ => false,
        }
    }
}

impl Visitor for Walker<'_> {
    type Break = DbError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<DbError> {
        if let Err(e) = check_query_body(&query.body) {
            return ControlFlow::Break(e);
        }
        let scope = self.scope_of(query);
        self.scopes.push(scope);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<DbError> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<DbError> {
        match factor {
            TableFactor::Table { args: None, .. }
            | TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. } => ControlFlow::Continue(()),
            _ => ControlFlow::Break(denied("table function")),
        }
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<DbError> {
        if self.checked.iter().any(|c| std::ptr::eq(*c, relation)) || self.is_cte(relation) {
            return ControlFlow::Continue(());
        }
        match self.check.require(relation, &[Privilege::Select]) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<DbError> {
        match expr {
            Expr::Function(f) => {
                let name = match f.name.0.as_slice() {
                    [ObjectNamePart::Identifier(i)] => i.value.to_ascii_lowercase(),
                    _ => {
                        return ControlFlow::Break(DbError::Denied(format!("function {}", f.name)));
                    }
                };
                if !ALLOWED_FUNCTIONS.contains(&name.as_str()) {
                    return ControlFlow::Break(DbError::Denied(format!("function {name}")));
                }
            }
            Expr::Identifier(i) if i.quote_style.is_none() => {
                let name = i.value.to_ascii_lowercase();
                if SESSION_WORDS.contains(&name.as_str()) {
                    return ControlFlow::Break(DbError::Denied(format!("function {name}")));
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// A query's body: selects (without `INTO`), set operations and `VALUES`, no statements.
fn check_query_body(body: &SetExpr) -> Result<(), DbError> {
    match body {
        SetExpr::Select(s) if s.into.is_some() => Err(denied("SELECT INTO")),
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Query(_) => Ok(()),
        SetExpr::SetOperation { left, right, .. } => {
            check_query_body(left)?;
            check_query_body(right)
        }
        SetExpr::Insert(_) => Err(denied("WITH INSERT")),
        SetExpr::Update(_) => Err(denied("WITH UPDATE")),
        SetExpr::Delete(_) => Err(denied("WITH DELETE")),
        SetExpr::Table(_) => Err(denied("TABLE")),
        _ => Err(denied("query")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str) -> Result<(), DbError> {
        StatementCheck::new(TableGrant::hubspot_plugin_for_tests(), Some("xt".into())).check(sql)
    }

    fn denied(what: &str) -> Result<(), DbError> {
        Err(DbError::Denied(what.into()))
    }

    fn invalid(what: &str) -> Result<(), DbError> {
        Err(DbError::Invalid(what.into()))
    }

    /// sqlparser's own error texts are not ours to pin; the kind is.
    fn assert_unparsable(sql: &str) {
        match check(sql) {
            Err(DbError::Invalid(e)) if e.starts_with("cannot parse statement: ") => {}
            other => panic!("{sql}: expected a parse error, got {other:?}"),
        }
    }

    /// The plugin's migrations as they run on MariaDB (`plugin/src/state.rs`).
    const PLUGIN_DDL: &[&str] = &[
        "CREATE TABLE IF NOT EXISTS hubspot_sync_schema_version (version BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS hubspot_sync_contact_links (
            id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
            hs_contact_id VARCHAR(32) NOT NULL,
            address_id BIGINT NOT NULL,
            type VARCHAR(32) NOT NULL DEFAULT 'contact',
            email VARCHAR(255) NOT NULL DEFAULT '',
            snapshot TEXT NOT NULL,
            xentral_hash VARCHAR(64) NOT NULL DEFAULT '',
            hubspot_modified_ms BIGINT NOT NULL DEFAULT 0,
            synced_at_ms BIGINT NOT NULL DEFAULT 0
        )",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_contact_links_hs ON hubspot_sync_contact_links (hs_contact_id)",
        "CREATE INDEX IF NOT EXISTS hubspot_sync_contact_links_email ON hubspot_sync_contact_links (email)",
        "CREATE TABLE IF NOT EXISTS hubspot_sync_options (
            id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
            type VARCHAR(32) NOT NULL,
            value VARCHAR(255) NOT NULL,
            label VARCHAR(255) NOT NULL,
            parent VARCHAR(255) NOT NULL DEFAULT '',
            sort BIGINT NOT NULL DEFAULT 0,
            archived BIGINT NOT NULL DEFAULT 0,
            extra TEXT
        )",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_options_key ON hubspot_sync_options (type, parent, value)",
        "CREATE TABLE IF NOT EXISTS hubspot_sync_cursors (
            name VARCHAR(64) NOT NULL PRIMARY KEY,
            modified_ms BIGINT NOT NULL DEFAULT 0,
            last_id VARCHAR(32) NOT NULL DEFAULT '',
            updated_ms BIGINT NOT NULL DEFAULT 0
        )",
        "CREATE TABLE IF NOT EXISTS hubspot_sync_pipeline_map (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                pipeline_id VARCHAR(64) NOT NULL,
                wiedervorlage_view_id BIGINT NOT NULL,
                is_system BIGINT NOT NULL DEFAULT 0
            )",
    ];

    /// Statements the plugin sends (`plugin/src`), with its parameters as `?`.
    const PLUGIN_STATEMENTS: &[&str] = &[
        "SELECT MAX(version) FROM hubspot_sync_schema_version",
        "INSERT INTO hubspot_sync_schema_version (version) VALUES (?)",
        "SELECT hs_contact_id, address_id, snapshot FROM hubspot_sync_contact_links WHERE hs_contact_id = ?",
        "UPDATE hubspot_sync_contact_links SET address_id = ?, snapshot = ?, synced_at_ms = ? WHERE hs_contact_id = ?",
        "INSERT INTO hubspot_sync_deal_links (hs_deal_id, wiedervorlage_id, snapshot, synced_at_ms) VALUES (?, ?, ?, ?)",
        "SELECT email, address_id FROM hubspot_sync_contact_links WHERE email <> ''",
        "UPDATE hubspot_sync_queue SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE id = ?",
        "SELECT id, record_id FROM hubspot_sync_queue WHERE completed = 0 AND entity = ? AND next_attempt_ms <= ? ORDER BY id LIMIT ?",
        "DELETE FROM hubspot_sync_stage_map WHERE wiedervorlage_stage_id = ? OR (pipeline_id = ? AND stage_id = ?)",
        "DELETE FROM hubspot_sync_failures WHERE object = ? AND direction = ? AND record_key = ?",
        "UPDATE hubspot_sync_options SET archived = 1 WHERE type IN ('pipeline', 'deal_stage')",
        "UPDATE wiedervorlage_view SET name = ? WHERE id = ? AND name <> ?",
        "INSERT INTO wiedervorlage_view (name, shortname, active, project, hide_collection_stage) VALUES (?, ?, 1, 0, 0)",
        "UPDATE wiedervorlage_stages SET kurzbezeichnung = ?, name = ?, sort = ?, chance = ?, stageausblenden = ?, view = ? \
         WHERE id = ? AND (kurzbezeichnung <> ? OR name <> ? OR sort <> ? OR stageausblenden <> ? OR view <> ? OR COALESCE(chance, -1) <> COALESCE(?, -1))",
        "INSERT INTO wiedervorlage_stages (kurzbezeichnung, name, hexcolor, ausblenden, stageausblenden, sort, view, chance) VALUES (?, ?, '#a2d624', 0, ?, ?, ?, ?)",
        "SELECT s.id, s.view, COALESCE(v.name, ''), s.name, s.stageausblenden FROM wiedervorlage_stages s \
         LEFT JOIN wiedervorlage_view v ON v.id = s.view ORDER BY s.view, s.sort, s.id",
        "SELECT wert FROM firmendaten_werte WHERE name = ? ORDER BY id LIMIT 1",
        "INSERT INTO firmendaten_werte (name, typ, typ1, typ2, wert, default_value, default_null, darf_null) VALUES (?, ?, '', '', ?, '', 0, 0)",
        "INSERT INTO gruppen (name, art, kennziffer, aktiv, webid, objektname, objekttyp, parameter, objektname2, objekttyp2, parameter2, objektname3, objekttyp3, parameter3, dta_dateiname, dta_mail, dta_mail_betreff) VALUES (?, 'gruppe', ?, 1, '', '', '', '', '', '', '', '', '', '', '', '', '')",
        "INSERT INTO prozessstarter (bezeichnung, bedingung, art, startzeit, letzteausfuerhung, periode, typ, parameter, aktiv, mutex, mutexcounter, firma, art_filter, status, recommended_period) VALUES (?, '', 'periodisch', '0000-00-00 00:00:00', '0000-00-00 00:00:00', ?, 'cronjob', ?, 1, 0, 0, 1, '', '', ?)",
        "SELECT a.id, a.name, a.email FROM adresse a WHERE a.geloescht = 0 AND EXISTS (SELECT 1 FROM adresse_rolle r WHERE r.adresse = a.id AND r.objekt = 'Gruppe' AND r.subjekt IN ('Mitglied', 'Kunde') AND r.parameter = ? AND (r.bis = '0000-00-00' OR r.bis >= ?)) ORDER BY a.id",
        "SELECT a.id, CASE WHEN EXISTS (SELECT 1 FROM adresse_rolle r WHERE r.adresse = a.id AND r.objekt = 'Gruppe' AND r.subjekt IN ('Mitglied', 'Kunde') AND r.parameter = ? AND (r.bis = '0000-00-00' OR r.bis >= ?)) THEN 0 ELSE 1 END AS outside FROM adresse a WHERE a.email = ? AND a.geloescht = 0 AND NOT EXISTS (SELECT 1 FROM hubspot_sync_contact_links c WHERE c.address_id = a.id) ORDER BY outside, a.id LIMIT 1",
        "UPDATE adresse SET name = ?, email = ? WHERE id = ?",
        "INSERT INTO adresse (name, email) VALUES (?, ?)",
        "INSERT INTO adresse_rolle (adresse, projekt, subjekt, praedikat, objekt, parameter, von, bis) VALUES (?, 0, 'Mitglied', 'von', 'Gruppe', ?, ?, '0000-00-00')",
        "SELECT w.id, w.bezeichnung, w.betrag, w.stages, w.datum_erinnerung, w.adresse FROM wiedervorlage w WHERE w.id IN (?, ?, ?) ORDER BY w.id",
        "UPDATE wiedervorlage SET bezeichnung = ?, betrag = ? WHERE id = ?",
        "SELECT wert FROM konfiguration WHERE name = ?",
        "INSERT INTO konfiguration (name, wert, adresse, firma) VALUES (?, ?, 0, 0)",
        "SELECT iso, iso3, bezeichnung_de, bezeichnung_en FROM laender",
        // Forms the plugin and its tests rely on.
        "INSERT INTO hubspot_sync_options (type, value, label) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE label = VALUES(label)",
        "INSERT INTO prozessstarter (bezeichnung, parameter) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM prozessstarter WHERE parameter = ?)",
        "SELECT id FROM xt.adresse WHERE logdatei > DATE_SUB(NOW(), INTERVAL 1 DAY)",
        "UPDATE xt.adresse SET name = ? WHERE id = ?",
        "UPDATE wiedervorlage w JOIN hubspot_sync_deal_links d ON d.wiedervorlage_id = w.id SET w.stages = ? WHERE d.hs_deal_id = ?",
        "WITH recent AS (SELECT id FROM adresse) SELECT COUNT(*) FROM recent",
        "SELECT id FROM adresse WHERE email LIKE '%@example.com' AND name = 'Müller -- /* # ; 北京'",
    ];

    #[test]
    fn plugin_statements_pass() {
        for sql in PLUGIN_STATEMENTS {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn plugin_ddl_passes_on_its_own_tables() {
        for sql in PLUGIN_DDL.iter().chain(&[
            "ALTER TABLE hubspot_sync_contact_links ADD COLUMN extra TEXT",
            "ALTER TABLE hubspot_sync_contact_links ADD INDEX hubspot_sync_contact_links_x (email), DROP COLUMN xentral_hash",
            "ALTER TABLE hubspot_sync_contact_links MODIFY COLUMN email VARCHAR(320) NOT NULL DEFAULT ''",
            "ALTER TABLE hubspot_sync_contact_links RENAME TO hubspot_sync_deal_links",
            "DROP TABLE hubspot_sync_pipeline_map",
            "DROP INDEX hubspot_x ON hubspot_sync_contact_links",
            "TRUNCATE TABLE hubspot_sync_pipeline_map",
            "RENAME TABLE hubspot_sync_pipeline_map TO hubspot_sync_failures",
            "CREATE TABLE hubspot_sync_pipeline_map LIKE hubspot_sync_failures",
        ]) {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn charset_collation_comment_counter_and_row_format_options_pass() {
        assert_eq!(
            check(
                "CREATE TABLE hubspot_sync_pipeline_map (id INT) DEFAULT CHARSET=utf8mb4 CHARACTER SET utf8mb4 \
                 COLLATE=utf8mb4_unicode_ci COMMENT='log' AUTO_INCREMENT=10 ROW_FORMAT=DYNAMIC"
            ),
            Ok(())
        );
    }

    #[test]
    fn verdicts_are_cached_per_text() {
        let mut c = StatementCheck::new(TableGrant::hubspot_plugin_for_tests(), Some("xt".into()));
        assert_eq!(c.check("SELECT * FROM user"), denied("user"));
        assert_eq!(c.check("SELECT * FROM user"), denied("user"));
        assert_eq!(c.check("SELECT id FROM adresse"), Ok(()));
        assert_eq!(c.verdicts.len(), 2);
    }

    // Lexical rules.

    #[test]
    fn executable_comment_of_any_version_is_denied() {
        for sql in [
            "SELECT username, passwort FROM /*!50700 adresse WHERE 1 = */ other_db.user",
            "SELECT 1 /*!50000 , LOAD_FILE('/etc/passwd') */",
            "SELECT 1 /*!99999 , 2 */",
            "SELECT 1 /*! , 2 */",
            "SELECT 1 /*M!100000 , 2 */",
        ] {
            assert_eq!(check(sql), denied("comment"), "{sql}");
        }
    }

    #[test]
    fn block_comment_is_denied() {
        assert_eq!(check("SELECT id /* x */ FROM adresse"), denied("comment"));
    }

    #[test]
    fn hash_comment_is_denied() {
        assert_eq!(check("SELECT id FROM adresse # x"), denied("comment"));
    }

    #[test]
    fn double_dash_is_denied_whatever_follows() {
        for sql in [
            "SELECT 1 -- \n",
            "SELECT 1 --\tx",
            "SELECT 1 --x",
            "SELECT 2--1",
        ] {
            assert_eq!(check(sql), denied("comment"), "{sql:?}");
        }
    }

    #[test]
    fn comment_markers_inside_literals_and_identifiers_pass() {
        assert_eq!(
            check("SELECT `a/*b`, `c#d`, `e--f` FROM adresse WHERE name = '/*' OR name = \"-- #\""),
            Ok(())
        );
    }

    #[test]
    fn user_variable_is_denied() {
        assert_eq!(check("SELECT @x"), denied("variable"));
        assert_eq!(check("SELECT id INTO @x FROM adresse"), denied("variable"));
    }

    #[test]
    fn system_variable_is_denied() {
        assert_eq!(check("SELECT @@datadir"), denied("variable"));
        assert_eq!(
            check("SELECT @@global.secure_file_priv"),
            denied("variable")
        );
    }

    #[test]
    fn semicolon_outside_literals_is_invalid() {
        assert_eq!(check("SELECT 1;"), invalid(ONE_STATEMENT));
        assert_eq!(
            check("SELECT 1; SELECT * FROM user"),
            invalid(ONE_STATEMENT)
        );
        assert_eq!(check("SELECT ';'"), Ok(()));
    }

    #[test]
    fn control_character_outside_literals_is_denied() {
        assert_eq!(check("SELECT\u{b}1"), denied("character U+000B"));
        assert_eq!(check("SELECT\u{c}1"), denied("character U+000C"));
        assert_eq!(check("SELECT 1\u{7f}"), denied("character U+007F"));
        assert_eq!(check("SELECT 1\u{1b}"), denied("character U+001B"));
    }

    #[test]
    fn tab_line_feed_and_carriage_return_pass() {
        assert_eq!(check("SELECT\tid\r\nFROM\nadresse"), Ok(()));
    }

    #[test]
    fn non_ascii_outside_literals_is_denied() {
        assert_eq!(check("SELECT\u{a0}1"), denied("character U+00A0"));
        assert_eq!(check("SELECT\u{2028}1"), denied("character U+2028"));
        assert_eq!(check("SELECT\u{3000}1"), denied("character U+3000"));
        assert_eq!(check("SELECT ä FROM adresse"), denied("character U+00E4"));
    }

    #[test]
    fn non_ascii_in_a_quoted_identifier_is_denied() {
        assert_eq!(check("SELECT `ä` FROM adresse"), denied("character U+00E4"));
    }

    #[test]
    fn non_ascii_inside_string_literals_passes() {
        assert_eq!(
            check("SELECT id FROM adresse WHERE name = 'Müller\u{a0}北京' OR name = \"Ærø\""),
            Ok(())
        );
    }

    #[test]
    fn nul_byte_is_denied_even_inside_a_literal() {
        assert_eq!(check("SELECT 'a\0b'"), denied("character U+0000"));
    }

    #[test]
    fn unterminated_string_literal_is_invalid() {
        for sql in [
            "SELECT 'abc",
            "SELECT \"abc\\\"",
            "SELECT 'it''s",
            "SELECT 'a\\",
        ] {
            assert_eq!(check(sql), invalid("unterminated string literal"), "{sql}");
        }
    }

    #[test]
    fn unterminated_quoted_identifier_is_invalid() {
        assert_eq!(
            check("SELECT `a`` FROM adresse"),
            invalid("unterminated quoted identifier")
        );
    }

    #[test]
    fn backslash_escaped_quote_does_not_end_a_literal() {
        assert_eq!(
            check("SELECT id FROM adresse WHERE name = 'a\\' /* '"),
            Ok(())
        );
        assert_eq!(
            check("SELECT id FROM adresse WHERE name = 'a\\\\' /* '"),
            denied("comment")
        );
    }

    #[test]
    fn doubled_quote_does_not_end_a_literal() {
        assert_eq!(
            check(
                "SELECT id FROM adresse WHERE name = 'it''s /* #' OR name = \"say \"\"-- hi\"\"\""
            ),
            Ok(())
        );
    }

    #[test]
    fn backslash_does_not_escape_in_a_quoted_identifier() {
        assert_eq!(check("SELECT `a\\` FROM adresse /* `"), denied("comment"));
        assert_eq!(check("SELECT `a``/*b` FROM adresse"), Ok(()));
    }

    // Table names.

    #[test]
    fn ungranted_tables_are_denied_by_name() {
        for sql in [
            "SELECT * FROM user",
            "SELECT id FROM adresse WHERE id IN (SELECT id FROM user)",
            "UPDATE adresse a JOIN user u ON u.id = a.id SET a.name = u.passwort",
            "INSERT INTO user (username) SELECT name FROM adresse",
            "INSERT INTO hubspot_sync_pipeline_map (message) SELECT passwort FROM user",
            "SELECT * FROM adresse, user",
            "SELECT * FROM adresse a LEFT JOIN (laender l JOIN user u ON 1) ON 1",
        ] {
            assert_eq!(check(sql), denied("user"), "{sql}");
        }
    }

    #[test]
    fn other_databases_are_denied_by_qualified_name() {
        assert_eq!(check("SELECT * FROM mysql.user"), denied("mysql.user"));
        assert_eq!(
            check("SELECT * FROM information_schema.TABLES"),
            denied("information_schema.TABLES")
        );
        assert_eq!(
            check("INSERT INTO other_db.adresse (name) VALUES (?)"),
            denied("other_db.adresse")
        );
    }

    #[test]
    fn database_qualifier_compares_exactly() {
        let mut c = StatementCheck::new(
            TableGrant::hubspot_plugin_for_tests(),
            Some("sec_t1".into()),
        );
        assert_eq!(c.check("SELECT * FROM sec_t1.adresse"), Ok(()));
        assert_eq!(
            c.check("SELECT * FROM sec_T1.adresse"),
            denied("sec_T1.adresse")
        );
        assert_eq!(c.check("SELECT * FROM `sec_t1`.`adresse`"), Ok(()));
    }

    #[test]
    fn table_names_compare_exactly() {
        assert_eq!(check("SELECT * FROM Adresse"), denied("Adresse"));
    }

    #[test]
    fn three_part_names_are_denied() {
        assert_eq!(
            check("SELECT * FROM xt.xt.adresse"),
            denied("xt.xt.adresse")
        );
    }

    #[test]
    fn without_a_database_qualified_names_are_denied() {
        let mut c = StatementCheck::new(TableGrant::hubspot_plugin_for_tests(), None);
        assert_eq!(c.check("SELECT * FROM xt.adresse"), denied("xt.adresse"));
    }

    // Verbs.

    #[test]
    fn select_needs_select() {
        let grant = TableGrant::new().with_table("log", &[Privilege::Insert]);
        let mut c = StatementCheck::new(grant, Some("xt".into()));
        assert_eq!(c.check("INSERT INTO log (a) VALUES (1)"), Ok(()));
        assert_eq!(c.check("SELECT a FROM log"), denied("SELECT on log"));
        assert_eq!(
            c.check("INSERT INTO log (a) SELECT a FROM log"),
            denied("SELECT on log")
        );
    }

    #[test]
    fn insert_needs_insert() {
        assert_eq!(
            check("INSERT INTO laender (iso) VALUES ('XX')"),
            denied("INSERT on laender")
        );
    }

    #[test]
    fn replace_needs_delete() {
        assert_eq!(
            check("REPLACE INTO adresse (id, name) VALUES (1, 'x')"),
            denied("DELETE on adresse")
        );
    }

    #[test]
    fn on_duplicate_key_update_needs_update() {
        assert_eq!(
            check(
                "INSERT INTO adresse_rolle (adresse) VALUES (1) ON DUPLICATE KEY UPDATE adresse = 2"
            ),
            denied("UPDATE on adresse_rolle")
        );
    }

    #[test]
    fn update_needs_update() {
        assert_eq!(
            check("UPDATE laender SET bezeichnung_de = 'x'"),
            denied("UPDATE on laender")
        );
    }

    #[test]
    fn update_needs_update_on_every_joined_table() {
        assert_eq!(
            check(
                "UPDATE adresse a JOIN laender l ON l.iso = a.land SET a.name = l.bezeichnung_de"
            ),
            denied("UPDATE on laender")
        );
    }

    #[test]
    fn update_reading_a_sub_query_needs_select_there() {
        assert_eq!(
            check("UPDATE adresse SET land = (SELECT iso FROM laender LIMIT 1) WHERE id = 1"),
            Ok(())
        );
    }

    #[test]
    fn delete_needs_delete() {
        assert_eq!(check("DELETE FROM laender"), denied("DELETE on laender"));
        assert_eq!(
            check("DELETE FROM adresse WHERE id = 1"),
            denied("DELETE on adresse")
        );
    }

    #[test]
    fn multi_table_delete_needs_delete_on_every_listed_table() {
        assert_eq!(
            check(
                "DELETE c FROM hubspot_sync_contact_links c JOIN adresse a ON a.id = c.address_id"
            ),
            denied("DELETE on adresse")
        );
        assert_eq!(
            check(
                "DELETE c FROM hubspot_sync_contact_links c WHERE c.address_id IN (SELECT id FROM adresse)"
            ),
            Ok(())
        );
    }

    #[test]
    fn multi_table_delete_target_outside_the_list_needs_delete() {
        assert_eq!(
            check("DELETE laender FROM hubspot_sync_contact_links"),
            denied("DELETE on laender")
        );
    }

    // Common table expressions.

    #[test]
    fn cte_shadowing_a_table_in_its_own_definition_is_denied() {
        assert_eq!(
            check("WITH user AS (SELECT * FROM user) SELECT username, passwort FROM user"),
            denied("user")
        );
    }

    #[test]
    fn cte_shadowing_in_a_select_list_sub_query_is_denied() {
        assert_eq!(
            check(
                "SELECT (WITH user AS (SELECT * FROM user) SELECT passwort FROM user LIMIT 1) FROM adresse"
            ),
            denied("user")
        );
    }

    #[test]
    fn cte_shadowing_in_a_derived_table_is_denied() {
        assert_eq!(
            check("SELECT * FROM (WITH user AS (SELECT * FROM user) SELECT * FROM user) d"),
            denied("user")
        );
    }

    #[test]
    fn cte_shadowing_in_an_update_join_is_denied() {
        assert_eq!(
            check(
                "UPDATE adresse a JOIN (WITH user AS (SELECT * FROM user) SELECT * FROM user) u \
                 ON u.id = a.id SET a.name = u.passwort"
            ),
            denied("user")
        );
    }

    #[test]
    fn cte_shadowing_in_insert_select_is_denied() {
        assert_eq!(
            check(
                "INSERT INTO adresse (name) WITH user AS (SELECT * FROM user) SELECT passwort FROM user"
            ),
            denied("user")
        );
    }

    #[test]
    fn cte_shadowing_in_a_delete_join_is_denied() {
        assert_eq!(
            check(
                "DELETE c FROM hubspot_sync_contact_links c JOIN (WITH user AS (SELECT * FROM user) \
                 SELECT * FROM user) u ON u.id = c.address_id"
            ),
            denied("user")
        );
    }

    #[test]
    fn cte_of_a_sub_query_is_not_visible_in_a_sibling_sub_query() {
        assert_eq!(
            check(
                "SELECT (WITH user AS (SELECT 1 AS passwort) SELECT passwort FROM user), \
                 (SELECT passwort FROM user LIMIT 1) FROM adresse"
            ),
            denied("user")
        );
    }

    #[test]
    fn cte_of_a_derived_table_is_not_visible_in_the_outer_query() {
        assert_eq!(
            check(
                "SELECT * FROM (WITH user AS (SELECT id FROM adresse) SELECT * FROM user) d JOIN user u ON u.id = d.id"
            ),
            denied("user")
        );
    }

    #[test]
    fn cte_referenced_by_a_later_cte_and_the_body_passes() {
        assert_eq!(
            check(
                "WITH a AS (SELECT id FROM adresse), b AS (SELECT id FROM a) SELECT * FROM b JOIN a ON a.id = b.id"
            ),
            Ok(())
        );
    }

    #[test]
    fn cte_is_not_visible_in_an_earlier_cte() {
        assert_eq!(
            check(
                "WITH a AS (SELECT * FROM user), user AS (SELECT id FROM adresse) SELECT * FROM a"
            ),
            denied("user")
        );
    }

    #[test]
    fn recursive_cte_referring_to_itself_passes() {
        assert_eq!(
            check(
                "WITH RECURSIVE n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n"
            ),
            Ok(())
        );
    }

    #[test]
    fn recursive_cte_is_visible_in_every_definition_of_its_with() {
        assert_eq!(
            check(
                "WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT id FROM adresse) SELECT * FROM a"
            ),
            Ok(())
        );
    }

    #[test]
    fn outer_cte_is_a_table_in_the_definitions_of_a_nested_with() {
        // MariaDB 10.11 reads the table `user` here.
        assert_eq!(
            check(
                "WITH user AS (SELECT id FROM adresse) \
                 SELECT * FROM (WITH d AS (SELECT * FROM user) SELECT * FROM d) x"
            ),
            denied("user")
        );
    }

    #[test]
    fn outer_cte_is_visible_in_a_with_that_is_a_cte_definition() {
        assert_eq!(
            check(
                "WITH c AS (SELECT id FROM adresse), \
                 e AS (WITH d AS (SELECT * FROM c) SELECT * FROM d) SELECT * FROM e"
            ),
            Ok(())
        );
    }

    #[test]
    fn outer_cte_is_visible_in_the_body_of_a_nested_with() {
        assert_eq!(
            check(
                "WITH c AS (SELECT id FROM adresse) SELECT * FROM (WITH d AS (SELECT 1) SELECT * FROM c) x"
            ),
            Ok(())
        );
    }

    #[test]
    fn cte_names_compare_exactly() {
        assert_eq!(
            check("WITH User AS (SELECT id FROM adresse) SELECT * FROM user"),
            denied("user")
        );
    }

    #[test]
    fn qualified_name_is_never_a_cte() {
        assert_eq!(
            check("WITH user AS (SELECT id FROM adresse) SELECT * FROM xt.user"),
            denied("user")
        );
    }

    #[test]
    fn with_before_a_row_statement_is_denied() {
        assert_eq!(
            check("WITH c AS (SELECT 1) INSERT INTO laender SELECT * FROM c"),
            denied("WITH INSERT")
        );
        assert_eq!(
            check("WITH c AS (SELECT 1) UPDATE laender SET iso = 'x'"),
            denied("WITH UPDATE")
        );
        assert_eq!(
            check("WITH c AS (SELECT 1) DELETE FROM laender"),
            denied("WITH DELETE")
        );
    }

    // Expressions and query forms.

    #[test]
    fn functions_off_the_list_are_denied() {
        for (sql, what) in [
            ("SELECT LOAD_FILE('/etc/passwd')", "function load_file"),
            ("SELECT SLEEP(100)", "function sleep"),
            ("SELECT BENCHMARK(1000000, MD5('x'))", "function benchmark"),
            ("SELECT GET_LOCK('x', 10)", "function get_lock"),
            ("SELECT my_udf(1) FROM adresse", "function my_udf"),
            ("SELECT xt.f(1)", "function xt.f"),
        ] {
            assert_eq!(check(sql), denied(what), "{sql}");
        }
    }

    #[test]
    fn session_functions_are_denied() {
        for (sql, what) in [
            ("SELECT CURRENT_USER()", "function current_user"),
            ("SELECT CURRENT_ROLE()", "function current_role"),
            ("SELECT SESSION_USER()", "function session_user"),
            ("SELECT SYSTEM_USER()", "function system_user"),
            ("SELECT USER()", "function user"),
            ("SELECT DATABASE()", "function database"),
            ("SELECT SCHEMA()", "function schema"),
            ("SELECT VERSION()", "function version"),
            ("SELECT CONNECTION_ID()", "function connection_id"),
        ] {
            assert_eq!(check(sql), denied(what), "{sql}");
        }
    }

    #[test]
    fn session_words_without_parentheses_are_denied() {
        for (sql, what) in [
            ("SELECT CURRENT_USER", "function current_user"),
            (
                "SELECT id FROM adresse WHERE name = current_user",
                "function current_user",
            ),
            ("SELECT current_role", "function current_role"),
            ("SELECT session_user", "function session_user"),
            ("SELECT system_user", "function system_user"),
        ] {
            assert_eq!(check(sql), denied(what), "{sql}");
        }
    }

    #[test]
    fn backquoted_current_user_is_a_column() {
        assert_eq!(check("SELECT `current_user` FROM adresse"), Ok(()));
    }

    #[test]
    fn select_into_is_denied() {
        assert_eq!(
            check("SELECT id INTO x FROM adresse"),
            denied("SELECT INTO")
        );
        assert_eq!(
            check("SELECT id FROM adresse WHERE id IN (SELECT id INTO y FROM adresse)"),
            denied("SELECT INTO")
        );
    }

    #[test]
    fn select_into_outfile_or_dumpfile_does_not_parse() {
        assert_unparsable("SELECT id INTO OUTFILE '/tmp/x' FROM adresse");
        assert_unparsable("SELECT id FROM adresse INTO OUTFILE '/tmp/x'");
        assert_unparsable("SELECT id FROM adresse INTO DUMPFILE '/tmp/x'");
        assert_unparsable("SELECT id FROM adresse WHERE 1 INTO x");
    }

    #[test]
    fn table_statement_is_denied() {
        assert_eq!(check("SELECT * FROM (TABLE user) x"), denied("TABLE"));
    }

    #[test]
    fn table_functions_are_denied() {
        assert_eq!(
            check("SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a INT PATH '$')) j"),
            denied("table function")
        );
    }

    // DDL.

    #[test]
    fn ddl_on_xentral_tables_is_denied() {
        for (sql, what) in [
            ("DROP TABLE adresse", "adresse"),
            ("ALTER TABLE adresse ADD COLUMN x INT", "adresse"),
            ("CREATE INDEX hubspot_i ON adresse (email)", "adresse"),
            ("CREATE TABLE evil (id INT)", "evil"),
            ("CREATE TABLE hubspot_evil (id INT)", "hubspot_evil"),
            (
                "ALTER TABLE hubspot_sync_contact_links RENAME TO evil",
                "evil",
            ),
            (
                "RENAME TABLE hubspot_sync_pipeline_map TO adresse_alt",
                "adresse_alt",
            ),
            (
                "RENAME TABLE adresse TO hubspot_sync_pipeline_map",
                "adresse",
            ),
            ("TRUNCATE TABLE adresse", "adresse"),
            ("DROP INDEX x ON laender", "laender"),
            (
                "DROP TABLE other.hubspot_sync_pipeline_map",
                "other.hubspot_sync_pipeline_map",
            ),
        ] {
            assert_eq!(check(sql), denied(what), "{sql}");
        }
    }

    #[test]
    fn create_table_like_another_database_is_denied() {
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map LIKE other.t"),
            denied("other.t")
        );
    }

    #[test]
    fn create_table_like_a_xentral_table_is_denied() {
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map LIKE adresse"),
            denied("adresse")
        );
    }

    #[test]
    fn create_table_with_parenthesized_like_is_denied() {
        // sqlparser reads a column `LIKE` of type `adresse`; MariaDB copies `adresse`.
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map (LIKE adresse)"),
            denied("LIKE")
        );
    }

    #[test]
    fn create_table_as_select_checks_its_reads() {
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map AS SELECT * FROM user"),
            denied("user")
        );
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map SELECT id FROM adresse"),
            Ok(())
        );
    }

    #[test]
    fn foreign_key_in_create_table_is_denied() {
        assert_eq!(
            check(
                "CREATE TABLE hubspot_sync_pipeline_map (id INT, a INT, FOREIGN KEY (a) REFERENCES other.t (id))"
            ),
            denied("REFERENCES")
        );
    }

    #[test]
    fn column_references_in_create_table_is_denied() {
        assert_eq!(
            check(
                "CREATE TABLE hubspot_sync_pipeline_map (a INT REFERENCES hubspot_sync_contact_links (id))"
            ),
            denied("REFERENCES")
        );
    }

    #[test]
    fn foreign_key_in_alter_table_is_denied() {
        assert_eq!(
            check(
                "ALTER TABLE hubspot_sync_pipeline_map ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES adresse (id)"
            ),
            denied("REFERENCES")
        );
        assert_eq!(
            check("ALTER TABLE hubspot_sync_pipeline_map ADD COLUMN a INT REFERENCES adresse (id)"),
            denied("REFERENCES")
        );
    }

    #[test]
    fn data_directory_is_denied() {
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map (id INT) DATA DIRECTORY='/tmp'"),
            denied("table option DATA DIRECTORY")
        );
    }

    #[test]
    fn index_directory_is_denied() {
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map (id INT) INDEX DIRECTORY='/tmp'"),
            denied("table option INDEX DIRECTORY")
        );
    }

    #[test]
    fn engine_is_denied() {
        // The plugin's DDL names no engine, so none is allowed (not even InnoDB).
        for sql in [
            "CREATE TABLE hubspot_sync_pipeline_map (id INT) ENGINE=InnoDB",
            "CREATE TABLE hubspot_sync_pipeline_map (id INT) ENGINE=CONNECT",
        ] {
            assert_eq!(check(sql), denied("table option ENGINE"), "{sql}");
        }
    }

    #[test]
    fn union_is_denied() {
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map (id INT) UNION=(adresse)"),
            denied("table option UNION")
        );
    }

    #[test]
    fn other_table_options_are_denied() {
        for (option, what) in [
            ("CONNECTION='mysql://u@h/db/t'", "table option CONNECTION"),
            ("PASSWORD='x'", "table option PASSWORD"),
            ("INSERT_METHOD=LAST", "table option INSERT_METHOD"),
            ("TABLESPACE ts", "table option TABLESPACE"),
            ("KEY_BLOCK_SIZE=8", "table option KEY_BLOCK_SIZE"),
        ] {
            let sql = format!("CREATE TABLE hubspot_sync_pipeline_map (id INT) {option}");
            assert_eq!(check(&sql), denied(what), "{sql}");
        }
    }

    #[test]
    fn create_temporary_table_is_denied() {
        assert_eq!(
            check("CREATE TEMPORARY TABLE hubspot_sync_pipeline_map (id INT)"),
            denied("TEMPORARY")
        );
        assert_eq!(
            check("DROP TEMPORARY TABLE hubspot_sync_pipeline_map"),
            denied("TEMPORARY")
        );
    }

    #[test]
    fn create_or_replace_table_is_denied() {
        assert_eq!(
            check("CREATE OR REPLACE TABLE hubspot_sync_pipeline_map (id INT)"),
            denied("CREATE TABLE clause")
        );
    }

    #[test]
    fn partitioning_does_not_parse() {
        assert_unparsable(
            "CREATE TABLE hubspot_sync_pipeline_map (id INT) PARTITION BY HASH(id) PARTITIONS 4",
        );
        assert_unparsable("ALTER TABLE hubspot_sync_pipeline_map PARTITION BY HASH(id)");
    }

    #[test]
    fn alter_table_options_do_not_parse() {
        assert_unparsable("ALTER TABLE hubspot_sync_pipeline_map ENGINE=MyISAM");
        assert_unparsable("ALTER TABLE hubspot_sync_pipeline_map DEFAULT CHARSET=latin1");
    }

    #[test]
    fn column_of_an_unknown_type_is_denied() {
        assert_eq!(
            check("CREATE TABLE hubspot_sync_pipeline_map (a adresse)"),
            denied("column type adresse")
        );
    }

    #[test]
    fn check_and_generated_columns_are_denied() {
        for (sql, what) in [
            (
                "CREATE TABLE hubspot_sync_pipeline_map (a INT CHECK (a > 0))",
                "column option CHECK",
            ),
            (
                "CREATE TABLE hubspot_sync_pipeline_map (a INT, b INT GENERATED ALWAYS AS (a) VIRTUAL)",
                "column option GENERATED",
            ),
            (
                "CREATE TABLE hubspot_sync_pipeline_map (a INT, CHECK (a > 0))",
                "constraint CHECK",
            ),
            (
                "CREATE TABLE hubspot_sync_pipeline_map (a TEXT, FULLTEXT KEY f (a))",
                "constraint FULLTEXT",
            ),
        ] {
            assert_eq!(check(sql), denied(what), "{sql}");
        }
    }

    #[test]
    fn alter_table_operations_off_the_list_are_denied() {
        for sql in [
            "ALTER TABLE hubspot_sync_pipeline_map SWAP WITH adresse",
            "ALTER TABLE hubspot_sync_pipeline_map ENABLE TRIGGER x",
            "ALTER TABLE hubspot_sync_pipeline_map ALTER COLUMN a SET DATA TYPE INT",
        ] {
            assert_eq!(check(sql), denied("ALTER TABLE operation"), "{sql}");
        }
        assert_eq!(
            check("ALTER TABLE hubspot_sync_pipeline_map ALTER COLUMN a SET DEFAULT 1"),
            Ok(())
        );
    }

    #[test]
    fn drop_index_without_its_table_is_denied() {
        assert_eq!(check("DROP INDEX hubspot_x"), denied("DROP"));
    }

    // Other statements.

    #[test]
    fn other_statement_kinds_are_denied_by_kind() {
        for (sql, what) in [
            ("SET SESSION sql_mode = ''", "SET"),
            ("SET GLOBAL general_log = 1", "SET"),
            ("START TRANSACTION", "BEGIN"),
            ("BEGIN", "BEGIN"),
            ("COMMIT", "COMMIT"),
            ("ROLLBACK", "ROLLBACK"),
            ("SAVEPOINT s", "SAVEPOINT"),
            ("GRANT ALL ON *.* TO 'x'", "GRANT"),
            ("LOCK TABLES adresse WRITE", "LOCK"),
            ("SHOW TABLES", "SHOW"),
            ("DROP DATABASE xt", "DROP"),
            ("DROP VIEW hubspot_sync_pipeline_map", "DROP"),
            ("KILL 1", "KILL"),
            ("CALL p()", "CALL"),
            ("EXECUTE s", "EXECUTE"),
        ] {
            assert_eq!(check(sql), denied(what), "{sql}");
        }
    }

    #[test]
    fn statements_sqlparser_cannot_read_are_invalid() {
        for sql in [
            "LOAD DATA INFILE '/etc/passwd' INTO TABLE adresse",
            "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE adresse",
            "HANDLER user OPEN",
            "DO SLEEP(1)",
            "PREPARE s FROM 'SELECT 1'",
        ] {
            assert_unparsable(sql);
        }
    }

    /// Time per `check()` of a typical plugin statement, uncached and cached:
    /// `cargo test -p xentral-erp --release check_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn check_timing() {
        let sql = PLUGIN_STATEMENTS
            .iter()
            .find(|s| s.starts_with("SELECT a.id, CASE WHEN EXISTS"))
            .unwrap();
        let mut c = StatementCheck::new(TableGrant::hubspot_plugin_for_tests(), Some("xt".into()));
        let rounds = 2000;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            c.verdicts.clear();
            c.check(sql).unwrap();
        }
        let uncached = start.elapsed() / rounds;
        let start = std::time::Instant::now();
        for _ in 0..rounds * 100 {
            c.check(sql).unwrap();
        }
        let cached = start.elapsed() / (rounds * 100);
        println!(
            "{} bytes: uncached {uncached:?}, cached {cached:?}",
            sql.len()
        );
    }
}
