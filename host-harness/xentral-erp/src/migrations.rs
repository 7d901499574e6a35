//! Versioned creation and in-place upgrade of the xentral schema on SQLite.
//!
//! The version lives in `PRAGMA user_version`, not in a table: real xentral has no such table, so
//! the emulated database lists exactly xentral's tables; the header field is written in the same
//! transaction as the migration's DDL, so a crash never leaves a half-recorded step; and a
//! granted (plugin) connection can neither read nor change it, since PRAGMA is denied there, so
//! the plugin's own `hubspot_*` migrations cannot collide with ours.

use rusqlite::Connection;

use crate::database::DbError;
use crate::laender;
use crate::schema::{self, ColumnKind};
use crate::sqlite::map_error;

/// One step of the schema history.
struct Migration {
    version: u32,
    apply: fn(&Connection) -> rusqlite::Result<()>,
}

/// The steps, oldest first. Append new ones; never edit a released step's meaning.
const MIGRATIONS: &[Migration] = &[
    // 1: the reference tables with all columns and indexes.
    Migration {
        version: 1,
        apply: reconcile_tables,
    },
    // 2: `ON UPDATE current_timestamp()` emulation.
    Migration {
        version: 2,
        apply: create_on_update_triggers,
    },
    // 3: the `laender` seed.
    Migration {
        version: 3,
        apply: seed_laender,
    },
    // 4: MySQL's conversion between date, time and datetime on write.
    Migration {
        version: 4,
        apply: create_temporal_triggers,
    },
];

/// The schema version this crate creates.
pub const CURRENT_VERSION: u32 = 4;

/// Creates the xentral tables, or upgrades an older database in place, and returns the version.
///
/// Idempotent: on a current database it changes nothing. A database written by a newer version of
/// this crate is left alone and its version returned. Safe when several processes open the same
/// file at once: each step runs in its own `BEGIN IMMEDIATE` transaction and re-checks the version.
pub fn migrate(conn: &Connection) -> Result<u32, DbError> {
    migrate_to(conn, CURRENT_VERSION)
}

/// Migrates up to `target` only; lets tests build an old-version database.
pub fn migrate_to(conn: &Connection, target: u32) -> Result<u32, DbError> {
    for m in MIGRATIONS.iter().filter(|m| m.version <= target) {
        if schema_version(conn)? >= m.version {
            continue;
        }
        run_step(conn, m).map_err(|e| map_error(e, None))?;
    }
    schema_version(conn)
}

/// The version recorded in the database (0 for a fresh file).
pub fn schema_version(conn: &Connection) -> Result<u32, DbError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| map_error(e, None))
}

fn run_step(conn: &Connection, m: &Migration) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current < m.version {
            tracing::info!(version = m.version, "migrating the xentral schema");
            (m.apply)(conn)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", m.version))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            conn.execute_batch("ROLLBACK").ok();
            Err(e)
        }
    }
}

/// Creates missing tables, rebuilds tables that lack columns, creates missing indexes.
/// Written to be re-runnable, so a later step can call it again when the reference grows; a
/// rebuild drops the table's triggers, so such a step must re-create them afterwards.
fn reconcile_tables(conn: &Connection) -> rusqlite::Result<()> {
    for t in schema::tables() {
        let existing = existing_columns(conn, &t.name)?;
        if existing.is_empty() {
            conn.execute_batch(&schema::create_table_sql(t))?;
        } else if t
            .columns
            .iter()
            .any(|c| !existing.iter().any(|e| e.eq_ignore_ascii_case(&c.name)))
        {
            rebuild_table(conn, t, &existing)?;
        }
        for sql in schema::create_indexes_sql(t) {
            conn.execute_batch(&sql)?;
        }
    }
    Ok(())
}

/// SQLite's recipe for changing a table: create the full new table, copy the shared columns,
/// drop the old one, rename. (`ALTER TABLE ADD COLUMN` cannot add `DEFAULT CURRENT_TIMESTAMP`.)
fn rebuild_table(
    conn: &Connection,
    t: &schema::Table,
    existing: &[String],
) -> rusqlite::Result<()> {
    let staging = format!("{}__rebuild", t.name);
    let shared: Vec<String> = t
        .columns
        .iter()
        .filter(|c| existing.iter().any(|e| e.eq_ignore_ascii_case(&c.name)))
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let shared = shared.join(", ");
    conn.execute_batch(&format!(
        "{create};\n\
         INSERT INTO \"{staging}\" ({shared}) SELECT {shared} FROM \"{table}\";\n\
         DROP TABLE \"{table}\";\n\
         ALTER TABLE \"{staging}\" RENAME TO \"{table}\";",
        create = schema::create_table_named_sql(t, &staging),
        table = t.name,
    ))
}

fn existing_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map([table], |r| r.get(0))?;
    names.collect()
}

fn create_on_update_triggers(conn: &Connection) -> rusqlite::Result<()> {
    for t in schema::tables() {
        for c in t.columns.iter().filter(|c| c.on_update_now) {
            debug_assert_eq!(c.kind, ColumnKind::DateTime);
            conn.execute_batch(&schema::on_update_trigger_sql(t, c))?;
        }
    }
    Ok(())
}

fn create_temporal_triggers(conn: &Connection) -> rusqlite::Result<()> {
    for t in schema::tables() {
        for sql in schema::temporal_trigger_sql(t) {
            conn.execute_batch(&sql)?;
        }
    }
    Ok(())
}

fn seed_laender(conn: &Connection) -> rusqlite::Result<()> {
    laender::seed(conn).map(drop)
}
