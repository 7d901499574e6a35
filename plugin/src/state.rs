//! The plugin's own tables (`hubspot_*`): created and upgraded by versioned migrations.
//!
//! Every statement here runs unchanged on SQLite and MariaDB except the id column, whose
//! auto-increment syntax differs by dialect.

use crate::platform::{Db, DbError, Dialect, Value};

/// The schema version this plugin build expects.
pub const SCHEMA_VERSION: i64 = 1;

/// One migration: its version and statements (`{id}` is replaced by the dialect's id column).
struct Migration {
    version: i64,
    statements: &'static [&'static str],
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    statements: &[
        // Id map and last synced snapshot, contacts ⇄ addresses (the old module's name).
        "CREATE TABLE IF NOT EXISTS hubspot_contacts (
            {id},
            hs_contact_id VARCHAR(32) NOT NULL,
            address_id BIGINT NOT NULL,
            type VARCHAR(32) NOT NULL DEFAULT 'contact',
            snapshot TEXT NOT NULL,
            xentral_hash VARCHAR(64) NOT NULL DEFAULT '',
            hubspot_modified_ms BIGINT NOT NULL DEFAULT 0,
            synced_at_ms BIGINT NOT NULL DEFAULT 0
        )",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_contacts_hs ON hubspot_contacts (hs_contact_id)",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_contacts_address ON hubspot_contacts (address_id)",
        // Id map and snapshot, deals ⇄ resubmissions.
        "CREATE TABLE IF NOT EXISTS hubspot_deals (
            {id},
            hs_deal_id VARCHAR(32) NOT NULL,
            wiedervorlage_id BIGINT NOT NULL,
            snapshot TEXT NOT NULL,
            xentral_hash VARCHAR(64) NOT NULL DEFAULT '',
            hubspot_modified_ms BIGINT NOT NULL DEFAULT 0,
            synced_at_ms BIGINT NOT NULL DEFAULT 0
        )",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_deals_hs ON hubspot_deals (hs_deal_id)",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_deals_wv ON hubspot_deals (wiedervorlage_id)",
        // Options read from HubSpot: lead statuses, lifecycle stages, pipelines and stages.
        "CREATE TABLE IF NOT EXISTS hubspot_options (
            {id},
            type VARCHAR(32) NOT NULL,
            value VARCHAR(255) NOT NULL,
            label VARCHAR(255) NOT NULL,
            parent VARCHAR(255) NOT NULL DEFAULT '',
            sort BIGINT NOT NULL DEFAULT 0,
            archived BIGINT NOT NULL DEFAULT 0,
            extra TEXT
        )",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_options_key ON hubspot_options (type, parent, value)",
        // Stage map: xentral stage ⇄ (pipeline id, stage id).
        "CREATE TABLE IF NOT EXISTS hubspot_stage_map (
            {id},
            wiedervorlage_stage_id BIGINT NOT NULL,
            wiedervorlage_view_id BIGINT NOT NULL,
            pipeline_id VARCHAR(64) NOT NULL,
            stage_id VARCHAR(64) NOT NULL,
            is_system BIGINT NOT NULL DEFAULT 0
        )",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_stage_map_wv ON hubspot_stage_map (wiedervorlage_stage_id)",
        // Outbound queue of xentral changes (the old module's name).
        "CREATE TABLE IF NOT EXISTS hubspot_request_queues (
            {id},
            entity VARCHAR(32) NOT NULL,
            record_id BIGINT NOT NULL,
            enqueued_ms BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_attempt_ms BIGINT NOT NULL DEFAULT 0,
            last_error TEXT,
            completed BIGINT NOT NULL DEFAULT 0
        )",
        "CREATE INDEX IF NOT EXISTS hubspot_request_queues_open ON hubspot_request_queues (completed, next_attempt_ms)",
        // Incremental cursors per object type.
        "CREATE TABLE IF NOT EXISTS hubspot_cursors (
            name VARCHAR(64) NOT NULL PRIMARY KEY,
            modified_ms BIGINT NOT NULL DEFAULT 0,
            last_id VARCHAR(32) NOT NULL DEFAULT '',
            updated_ms BIGINT NOT NULL DEFAULT 0
        )",
        // Per-record failures with back-off.
        "CREATE TABLE IF NOT EXISTS hubspot_failures (
            {id},
            object VARCHAR(32) NOT NULL,
            direction VARCHAR(16) NOT NULL,
            record_key VARCHAR(64) NOT NULL,
            error TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 1,
            next_retry_ms BIGINT NOT NULL DEFAULT 0,
            first_failed_ms BIGINT NOT NULL DEFAULT 0
        )",
        "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_failures_key ON hubspot_failures (object, direction, record_key)",
        // Free-text event log (the old module's name).
        "CREATE TABLE IF NOT EXISTS hubspot_events (
            {id},
            at_ms BIGINT NOT NULL,
            level VARCHAR(16) NOT NULL,
            message TEXT NOT NULL
        )",
    ],
}];

fn id_column(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Mysql => "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
    }
}

/// The schema version currently installed (0 when none).
pub fn installed_version(db: &mut dyn Db) -> Result<i64, DbError> {
    db.execute(
        "CREATE TABLE IF NOT EXISTS hubspot_schema_version (version BIGINT NOT NULL)",
        &[],
    )?;
    let rows = db.query("SELECT MAX(version) FROM hubspot_schema_version", &[])?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0))
}

/// Applies every migration newer than the installed version, each in its own transaction.
/// Returns the versions applied.
pub fn migrate(db: &mut dyn Db) -> Result<Vec<i64>, DbError> {
    let installed = installed_version(db)?;
    let dialect = db.dialect();
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > installed) {
        db.begin()?;
        let result = (|| {
            for stmt in m.statements {
                db.execute(&stmt.replace("{id}", id_column(dialect)), &[])?;
            }
            db.execute(
                "INSERT INTO hubspot_schema_version (version) VALUES (?)",
                &[Value::Integer(m.version)],
            )
        })();
        match result {
            Ok(_) => db.commit()?,
            Err(e) => {
                db.rollback()?;
                return Err(e);
            }
        }
        applied.push(m.version);
    }
    Ok(applied)
}
