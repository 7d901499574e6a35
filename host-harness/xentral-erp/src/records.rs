//! Row access by table and id, with table and column names checked against the reference schema
//! so nothing caller-supplied is ever spliced into SQL unchecked.

use std::collections::BTreeMap;

use crate::database::{Database, DbError};
use crate::schema::{self, Table};
use crate::value::Value;

/// A row as column name → value.
pub type Record = BTreeMap<String, Value>;

/// The reference table `name`, or [`DbError::Invalid`].
pub fn known_table(name: &str) -> Result<&'static Table, DbError> {
    schema::table(name).ok_or_else(|| DbError::Invalid(format!("unknown xentral table `{name}`")))
}

/// Checks that `column` is a column of `table` other than its auto-increment id.
fn writable_column<'t>(table: &'t Table, column: &str) -> Result<&'t str, DbError> {
    match table.column(column) {
        Some(c) if !c.auto_increment => Ok(&c.name),
        Some(_) => Err(DbError::Invalid(format!(
            "`{}.{column}` is the id and cannot be written",
            table.name
        ))),
        None => Err(DbError::Invalid(format!(
            "unknown column `{}.{column}`",
            table.name
        ))),
    }
}

/// Inserts one row into `table` with the given columns; returns the new id.
pub fn insert_row(
    db: &mut dyn Database,
    table: &str,
    values: &[(&str, Value)],
) -> Result<i64, DbError> {
    let t = known_table(table)?;
    if values.is_empty() {
        return Err(DbError::Invalid(format!(
            "no columns to insert into `{table}`"
        )));
    }
    let columns = values
        .iter()
        .map(|(c, _)| writable_column(t, c))
        .collect::<Result<Vec<_>, _>>()?;
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        t.name,
        columns.join(", "),
        vec!["?"; columns.len()].join(", ")
    );
    let params: Vec<Value> = values.iter().map(|(_, v)| v.clone()).collect();
    Ok(db.execute(&sql, &params)?.last_insert_id)
}

/// Updates columns of the row with `id` in `table`; [`DbError::Invalid`] if there is no such row.
pub fn update_row(
    db: &mut dyn Database,
    table: &str,
    id: i64,
    changes: &BTreeMap<String, Value>,
) -> Result<(), DbError> {
    let t = known_table(table)?;
    if changes.is_empty() {
        return Err(DbError::Invalid(format!(
            "no columns to update in `{table}`"
        )));
    }
    let assignments = changes
        .keys()
        .map(|c| writable_column(t, c).map(|c| format!("{c} = ?")))
        .collect::<Result<Vec<_>, _>>()?;
    let sql = format!(
        "UPDATE {} SET {} WHERE id = ?",
        t.name,
        assignments.join(", ")
    );
    let mut params: Vec<Value> = changes.values().cloned().collect();
    params.push(id.into());
    // MariaDB counts only rows that really changed, so 0 is not yet "no such row".
    if db.execute(&sql, &params)?.rows_affected == 0 && !exists(db, table, id)? {
        return Err(DbError::Invalid(format!("no `{table}` row with id {id}")));
    }
    Ok(())
}

/// The row with `id` in `table`, every column, or `None`.
pub fn get_row(db: &mut dyn Database, table: &str, id: i64) -> Result<Option<Record>, DbError> {
    let t = known_table(table)?;
    let rows = db.query(
        &format!("SELECT * FROM {} WHERE id = ?", t.name),
        &[id.into()],
    )?;
    Ok(rows.row_map(0))
}

/// Number of rows in `table`.
pub fn count_rows(db: &mut dyn Database, table: &str) -> Result<i64, DbError> {
    let t = known_table(table)?;
    let rows = db.query(&format!("SELECT COUNT(*) FROM {}", t.name), &[])?;
    Ok(rows.scalar().and_then(Value::as_i64).unwrap_or(0))
}

/// Whether a row with `id` exists in `table`.
pub fn exists(db: &mut dyn Database, table: &str, id: i64) -> Result<bool, DbError> {
    let t = known_table(table)?;
    let rows = db.query(
        &format!("SELECT id FROM {} WHERE id = ?", t.name),
        &[id.into()],
    )?;
    Ok(!rows.is_empty())
}
