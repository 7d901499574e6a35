//! The xentral tables, read from the reference DDL and translated to SQLite.
//!
//! `sql/xentral-schema.sql` is OpenXE's MariaDB DDL, copied verbatim; this module parses it into
//! [`Table`]s and renders SQLite DDL from them, so every column keeps its name, order, nullability
//! and default. Type mapping (SQLite picks the storage class from the declared type):
//!
//! - `int`, `tinyint` → declared as written (`INT(11)`) → INTEGER affinity; the `AUTO_INCREMENT`
//!   id becomes `INTEGER PRIMARY KEY AUTOINCREMENT` (ids are never reused, as in InnoDB).
//! - `varchar`, `text` → declared as written → TEXT affinity, `COLLATE NOCASE` because xentral's
//!   `utf8mb3_general_ci` compares case-insensitively (`email = 'A@x.de'` finds `a@x.de`).
//! - `decimal(p,s)` → declared as written → NUMERIC affinity: the number is stored as a number,
//!   so comparisons and sums work numerically, and the backend renders it on read as text with
//!   exactly `s` decimals (`1234.56` → `"1234.56"`, `1234.5` → `"1234.50"`), the string MariaDB
//!   returns. Values up to 15 significant digits (all of xentral's `decimal(10,2)`) round-trip
//!   exactly.
//! - `date`, `datetime`, `time`, `timestamp` → `TEXT` in MySQL's formats.
//!
//! Defaults mimic xentral's non-strict SQL mode: a `NOT NULL` column without default gets the
//! implicit MySQL default (`''`, `0`, `'0000-00-00'`, `'0000-00-00 00:00:00'`, `'00:00:00'`), so an
//! INSERT that omits it stores what MySQL would. `DEFAULT current_timestamp()` becomes
//! `DEFAULT CURRENT_TIMESTAMP`, which the [`crate::mysql_compat`] shims route to the database's
//! clock; `ON UPDATE current_timestamp()` becomes a trigger (see [`on_update_trigger_sql`]).

use std::sync::OnceLock;

/// The reference DDL (OpenXE `database/struktur.sql`, the tables the plugin touches), verbatim.
pub const REFERENCE_SQL: &str = include_str!("../sql/xentral-schema.sql");

/// The MySQL column types that occur in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `int`, `tinyint`.
    Integer,
    /// `varchar`, `text`.
    Text,
    /// `decimal(precision, scale)`.
    Decimal {
        /// Number of decimals.
        scale: u32,
    },
    /// `date`.
    Date,
    /// `datetime`, `timestamp`.
    DateTime,
    /// `time`.
    Time,
}

/// One column of a reference table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// The MySQL type as written (`varchar(255)`).
    pub mysql_type: String,
    /// The type family.
    pub kind: ColumnKind,
    /// Whether `NULL` is allowed.
    pub nullable: bool,
    /// The explicit default as written in MySQL (`'#a2d624'`, `0.00`, `current_timestamp()`),
    /// `None` when absent or `DEFAULT NULL`.
    pub default: Option<String>,
    /// `AUTO_INCREMENT`.
    pub auto_increment: bool,
    /// `ON UPDATE current_timestamp()`.
    pub on_update_now: bool,
}

/// One reference table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Columns in definition order.
    pub columns: Vec<Column>,
    /// Primary key columns.
    pub primary_key: Vec<String>,
    /// Secondary indexes: (MySQL key name, columns).
    pub indexes: Vec<(String, Vec<String>)>,
}

impl Table {
    /// The column named `name` (case-insensitive).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// The reference schema could not be parsed (a defect of the embedded file, caught by tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse reference schema line `{0}`")]
pub struct SchemaParseError(pub String);

/// All reference tables, parsed once.
pub fn tables() -> &'static [Table] {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    TABLES
        .get_or_init(|| parse_mysql_ddl(REFERENCE_SQL).expect("embedded xentral-schema.sql parses"))
}

/// The reference table named `name` (case-insensitive).
pub fn table(name: &str) -> Option<&'static Table> {
    tables().iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// Parses the `CREATE TABLE` statements of MariaDB DDL in the reference's layout
/// (one column or key per line).
pub fn parse_mysql_ddl(sql: &str) -> Result<Vec<Table>, SchemaParseError> {
    let mut tables = Vec::new();
    let mut current: Option<Table> = None;
    for raw in sql.lines() {
        let line = raw.trim().trim_end_matches(',');
        if line.is_empty() || line.starts_with("--") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
            let name = unquote(rest.trim_end_matches('(').trim());
            current = Some(Table {
                name,
                columns: Vec::new(),
                primary_key: Vec::new(),
                indexes: Vec::new(),
            });
        } else if line.starts_with(')') {
            tables.extend(current.take());
        } else if let Some(table) = current.as_mut() {
            parse_table_line(table, line).ok_or_else(|| SchemaParseError(raw.to_owned()))?;
        } else {
            return Err(SchemaParseError(raw.to_owned()));
        }
    }
    Ok(tables)
}

fn parse_table_line(table: &mut Table, line: &str) -> Option<()> {
    if let Some(rest) = line.strip_prefix("PRIMARY KEY ") {
        table.primary_key = column_list(rest)?;
    } else if let Some(rest) = line.strip_prefix("KEY ") {
        let (name, cols) = rest.split_once(' ')?;
        table.indexes.push((unquote(name), column_list(cols)?));
    } else if line.starts_with('`') {
        table.columns.push(parse_column(line)?);
    } else {
        return None;
    }
    Some(())
}

fn parse_column(line: &str) -> Option<Column> {
    let (name, rest) = line[1..].split_once('`')?;
    let rest = rest.trim();
    let (mysql_type, attrs) = rest.split_once(' ').unwrap_or((rest, ""));
    let base = mysql_type.split('(').next()?.to_ascii_lowercase();
    let kind = match base.as_str() {
        "int" | "tinyint" | "smallint" | "mediumint" | "bigint" => ColumnKind::Integer,
        "varchar" | "char" | "text" | "mediumtext" | "longtext" => ColumnKind::Text,
        "decimal" => ColumnKind::Decimal {
            scale: mysql_type
                .split_once(',')?
                .1
                .trim_end_matches(')')
                .parse()
                .ok()?,
        },
        "date" => ColumnKind::Date,
        "datetime" | "timestamp" => ColumnKind::DateTime,
        "time" => ColumnKind::Time,
        _ => return None,
    };
    let upper = attrs.to_ascii_uppercase();
    let default = match upper.find("DEFAULT ") {
        Some(at) => {
            let value = default_literal(&attrs[at + "DEFAULT ".len()..])?;
            (!value.eq_ignore_ascii_case("NULL")).then_some(value)
        }
        None => None,
    };
    Some(Column {
        name: name.to_owned(),
        mysql_type: mysql_type.to_owned(),
        kind,
        nullable: !upper.contains("NOT NULL"),
        default,
        auto_increment: upper.contains("AUTO_INCREMENT"),
        on_update_now: upper.contains("ON UPDATE CURRENT_TIMESTAMP"),
    })
}

/// The literal after `DEFAULT`: a quoted string (quotes kept) or one bare token.
fn default_literal(s: &str) -> Option<String> {
    if let Some(body) = s.strip_prefix('\'') {
        let end = body.find('\'')?;
        Some(format!("'{}'", &body[..end]))
    } else {
        Some(s.split_whitespace().next()?.to_owned())
    }
}

fn column_list(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|c| unquote(c.trim())).collect())
}

fn unquote(s: &str) -> String {
    s.trim_matches('`').to_owned()
}

/// The SQLite column definition for one reference column.
fn sqlite_column(c: &Column) -> String {
    if c.auto_increment {
        return format!("\"{}\" INTEGER PRIMARY KEY AUTOINCREMENT", c.name);
    }
    let declared = match c.kind {
        ColumnKind::Date | ColumnKind::DateTime | ColumnKind::Time => "TEXT".to_owned(),
        _ => c.mysql_type.to_ascii_uppercase(),
    };
    let mut def = format!("\"{}\" {declared}", c.name);
    if !c.nullable {
        def.push_str(" NOT NULL");
    }
    if let Some(default) = sqlite_default(c) {
        def.push_str(" DEFAULT ");
        def.push_str(&default);
    }
    if c.kind == ColumnKind::Text {
        def.push_str(" COLLATE NOCASE");
    }
    def
}

/// The SQLite default: the explicit one, or MySQL's implicit default for `NOT NULL` columns.
fn sqlite_default(c: &Column) -> Option<String> {
    match &c.default {
        Some(d) if d.to_ascii_lowercase().starts_with("current_timestamp") => {
            Some("CURRENT_TIMESTAMP".to_owned())
        }
        Some(d) => Some(d.clone()),
        None if c.nullable => None,
        None => Some(
            match c.kind {
                ColumnKind::Integer | ColumnKind::Decimal { .. } => "0",
                ColumnKind::Text => "''",
                ColumnKind::Date => "'0000-00-00'",
                ColumnKind::DateTime => "'0000-00-00 00:00:00'",
                ColumnKind::Time => "'00:00:00'",
            }
            .to_owned(),
        ),
    }
}

/// `CREATE TABLE IF NOT EXISTS` for one reference table.
pub fn create_table_sql(t: &Table) -> String {
    create_table_named_sql(t, &t.name)
}

/// `CREATE TABLE IF NOT EXISTS` with the columns of `t` under another name (for table rebuilds).
pub fn create_table_named_sql(t: &Table, name: &str) -> String {
    let mut parts: Vec<String> = t.columns.iter().map(sqlite_column).collect();
    let has_rowid_pk = t.columns.iter().any(|c| c.auto_increment);
    if !has_rowid_pk && !t.primary_key.is_empty() {
        let cols: Vec<String> = t.primary_key.iter().map(|c| format!("\"{c}\"")).collect();
        parts.push(format!("PRIMARY KEY ({})", cols.join(", ")));
    }
    format!(
        "CREATE TABLE IF NOT EXISTS \"{name}\" (\n  {}\n)",
        parts.join(",\n  ")
    )
}

/// `CREATE INDEX IF NOT EXISTS` for every secondary key; SQLite index names are global, so they
/// are prefixed with the table name (`adresse_email`).
pub fn create_indexes_sql(t: &Table) -> Vec<String> {
    t.indexes
        .iter()
        .map(|(name, cols)| {
            let cols: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
            format!(
                "CREATE INDEX IF NOT EXISTS \"{}_{}\" ON \"{}\" ({})",
                t.name,
                name,
                t.name,
                cols.join(", ")
            )
        })
        .collect()
}

/// The name of the trigger emulating `ON UPDATE current_timestamp()` for `column`.
pub fn on_update_trigger_name(t: &Table, column: &Column) -> String {
    format!("{}_{}_on_update", t.name, column.name)
}

/// A trigger emulating MySQL's `ON UPDATE current_timestamp()` on `column`: when an UPDATE
/// changes any other column and leaves this one as it was, it is set to `CURRENT_TIMESTAMP`
/// (the database clock). An UPDATE that assigns the column a new value keeps that value. The one
/// difference from MySQL: assigning the column its current value while changing others bumps it.
pub fn on_update_trigger_sql(t: &Table, column: &Column) -> String {
    let key = t
        .columns
        .iter()
        .find(|c| c.auto_increment)
        .map_or_else(|| "rowid".to_owned(), |c| format!("\"{}\"", c.name));
    let changed: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.name != column.name)
        .map(|c| format!("NEW.\"{0}\" IS NOT OLD.\"{0}\"", c.name))
        .collect();
    format!(
        "CREATE TRIGGER IF NOT EXISTS \"{trigger}\" AFTER UPDATE ON \"{table}\" FOR EACH ROW\n\
         WHEN NEW.\"{col}\" IS OLD.\"{col}\" AND ({changed})\n\
         BEGIN UPDATE \"{table}\" SET \"{col}\" = CURRENT_TIMESTAMP WHERE {key} = NEW.{key}; END",
        trigger = on_update_trigger_name(t, column),
        table = t.name,
        col = column.name,
        changed = changed.join(" OR "),
    )
}

/// Builds an SQL expression around a column reference.
type SqlOf = fn(&str) -> String;

/// The name of the trigger coercing temporal values of `table` after `event` (`insert`/`update`).
pub fn temporal_trigger_name(t: &Table, event: &str) -> String {
    format!("{}_temporal_on_{event}", t.name)
}

/// Triggers storing temporal values as MySQL does when given another temporal format: a
/// datetime written into a `date` column keeps its date (`NOW()` → `'2024-05-01'`), into a `time`
/// column its time; a bare date written into a `datetime` column gains `' 00:00:00'`. Empty when
/// the table has no `date`/`time`/`datetime` column.
pub fn temporal_trigger_sql(t: &Table) -> Vec<String> {
    // (condition on the new row, assignment) per temporal column.
    let coerced: Vec<(String, String)> = t
        .columns
        .iter()
        .filter_map(|c| {
            let (cond, expr): (SqlOf, SqlOf) = match c.kind {
                ColumnKind::Date => (
                    |v| format!("length({v}) > 10 AND substr({v}, 11, 1) IN (' ', 'T')"),
                    |v| format!("substr({v}, 1, 10)"),
                ),
                ColumnKind::Time => (
                    |v| format!("length({v}) = 19 AND substr({v}, 11, 1) IN (' ', 'T')"),
                    |v| format!("substr({v}, 12)"),
                ),
                ColumnKind::DateTime if !c.on_update_now => (
                    |v| {
                        format!(
                            "length({v}) = 10 AND {v} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
                        )
                    },
                    |v| format!("{v} || ' 00:00:00'"),
                ),
                _ => return None,
            };
            let full = |v: &str| format!("(typeof({v}) = 'text' AND {})", cond(v));
            let col = format!("\"{}\"", c.name);
            let set = format!(
                "{col} = CASE WHEN {} THEN {} ELSE {col} END",
                full(&col),
                expr(&col)
            );
            Some((full(&format!("NEW.{col}")), set))
        })
        .collect();
    if coerced.is_empty() {
        return Vec::new();
    }
    let when: Vec<&str> = coerced.iter().map(|(cond, _)| cond.as_str()).collect();
    let sets: Vec<&str> = coerced.iter().map(|(_, set)| set.as_str()).collect();
    ["insert", "update"]
        .iter()
        .map(|event| {
            format!(
                "CREATE TRIGGER IF NOT EXISTS \"{name}\" AFTER {ev} ON \"{table}\" FOR EACH ROW\n\
                 WHEN {when}\n\
                 BEGIN UPDATE \"{table}\" SET {sets} WHERE rowid = NEW.rowid; END",
                name = temporal_trigger_name(t, event),
                ev = event.to_ascii_uppercase(),
                table = t.name,
                when = when.join(" OR "),
                sets = sets.join(", "),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_parses_into_the_twelve_tables() {
        let names: Vec<&str> = tables().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "adresse",
                "adresse_rolle",
                "gruppen",
                "ansprechpartner",
                "wiedervorlage",
                "wiedervorlage_stages",
                "wiedervorlage_view",
                "wiedervorlage_protokoll",
                "konfiguration",
                "prozessstarter",
                "firmendaten_werte",
                "laender"
            ]
        );
    }

    #[test]
    fn column_attributes_are_read() {
        let w = table("wiedervorlage").unwrap();
        let betrag = w.column("betrag").unwrap();
        assert_eq!(betrag.kind, ColumnKind::Decimal { scale: 2 });
        assert!(betrag.nullable);
        assert_eq!(
            w.column("color").unwrap().default.as_deref(),
            Some("'#a2d624'")
        );
        let a = table("adresse").unwrap();
        assert!(a.column("logdatei").unwrap().on_update_now);
        assert!(a.column("id").unwrap().auto_increment);
        assert_eq!(a.indexes.len(), 7);
        assert_eq!(table("konfiguration").unwrap().primary_key, ["name"]);
    }
}
