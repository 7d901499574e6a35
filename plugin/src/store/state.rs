//! The plugin's own tables (`hubspot_sync_*`, a namespace apart from the old HubSpot module's
//! `hubspot_contacts`, `hubspot_deals`, … which a xentral that ran it still has): created and
//! upgraded by versioned migrations.
//!
//! Every statement here runs unchanged on SQLite and MariaDB except the id column, whose
//! auto-increment syntax differs by dialect.

use std::collections::{HashMap, HashSet};

use crate::engine::merge::Snapshot;
use crate::platform::{Db, DbError, Dialect, Value};

/// The namespace of the plugin's own tables, apart from xentral's and the old module's.
pub const OWN_TABLE_PREFIX: &str = "hubspot_sync_";

/// Every table the migrations create: the plugin's state store.
pub const OWN_TABLES: &[&str] = &[
    "hubspot_sync_contact_links",
    "hubspot_sync_deal_links",
    "hubspot_sync_options",
    "hubspot_sync_stage_map",
    "hubspot_sync_pipeline_map",
    "hubspot_sync_queue",
    "hubspot_sync_cursors",
    "hubspot_sync_failures",
    "hubspot_sync_conflicts",
    "hubspot_sync_backfills",
    "hubspot_sync_company_links",
    "hubspot_sync_person_links",
    "hubspot_sync_owners",
    "hubspot_sync_ended",
    "hubspot_sync_schema_version",
];

/// The table of applied migration versions, created before the first migration runs.
const CREATE_SCHEMA_VERSION: &str =
    "CREATE TABLE IF NOT EXISTS hubspot_sync_schema_version (version BIGINT NOT NULL)";

/// One migration: its version and statements (`{id}` is replaced by the dialect's id column).
struct Migration {
    version: i64,
    statements: &'static [&'static str],
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        statements: &[
            // Id map and last synced snapshot, contacts ⇄ addresses; `email` (lower case) lets an
            // e-mail shared by two addresses be recognised before anything is written to HubSpot.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_contact_links (
            {id},
            hs_contact_id VARCHAR(32) NOT NULL,
            address_id BIGINT NOT NULL,
            email VARCHAR(255) NOT NULL DEFAULT '',
            snapshot TEXT NOT NULL,
            synced_at_ms BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_contact_links_hs ON hubspot_sync_contact_links (hs_contact_id)",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_contact_links_address ON hubspot_sync_contact_links (address_id)",
            "CREATE INDEX IF NOT EXISTS hubspot_sync_contact_links_email ON hubspot_sync_contact_links (email)",
            // Id map and snapshot, deals ⇄ resubmissions.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_deal_links (
            {id},
            hs_deal_id VARCHAR(32) NOT NULL,
            wiedervorlage_id BIGINT NOT NULL,
            snapshot TEXT NOT NULL,
            synced_at_ms BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_deal_links_hs ON hubspot_sync_deal_links (hs_deal_id)",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_deal_links_wv ON hubspot_sync_deal_links (wiedervorlage_id)",
            // Options read from HubSpot: lead statuses, lifecycle stages, pipelines and stages.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_options (
            {id},
            type VARCHAR(32) NOT NULL,
            value VARCHAR(255) NOT NULL,
            label VARCHAR(255) NOT NULL,
            parent VARCHAR(255) NOT NULL DEFAULT '',
            sort BIGINT NOT NULL DEFAULT 0,
            archived BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_options_key ON hubspot_sync_options (type, parent, value)",
            // Stage map: xentral stage ⇄ (pipeline id, stage id).
            "CREATE TABLE IF NOT EXISTS hubspot_sync_stage_map (
            {id},
            wiedervorlage_stage_id BIGINT NOT NULL,
            wiedervorlage_view_id BIGINT NOT NULL,
            pipeline_id VARCHAR(64) NOT NULL,
            stage_id VARCHAR(64) NOT NULL,
            is_system BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_stage_map_wv ON hubspot_sync_stage_map (wiedervorlage_stage_id)",
            // Which xentral view shows which HubSpot pipeline.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_pipeline_map (
            {id},
            pipeline_id VARCHAR(64) NOT NULL,
            wiedervorlage_view_id BIGINT NOT NULL,
            is_system BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_pipeline_map_pipeline ON hubspot_sync_pipeline_map (pipeline_id)",
            // Outbound queue of xentral changes.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_queue (
            {id},
            entity VARCHAR(32) NOT NULL,
            record_id BIGINT NOT NULL,
            enqueued_ms BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_attempt_ms BIGINT NOT NULL DEFAULT 0,
            last_error TEXT,
            completed BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE INDEX IF NOT EXISTS hubspot_sync_queue_open ON hubspot_sync_queue (completed, next_attempt_ms)",
            // Incremental cursors per object type, and one-off steps done (`takeover:…`).
            "CREATE TABLE IF NOT EXISTS hubspot_sync_cursors (
            name VARCHAR(64) NOT NULL PRIMARY KEY,
            modified_ms BIGINT NOT NULL DEFAULT 0,
            last_id VARCHAR(32) NOT NULL DEFAULT '',
            updated_ms BIGINT NOT NULL DEFAULT 0
        )",
            // Per-record failures with back-off.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_failures (
            {id},
            object VARCHAR(32) NOT NULL,
            direction VARCHAR(16) NOT NULL,
            record_key VARCHAR(64) NOT NULL,
            error TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 1,
            next_retry_ms BIGINT NOT NULL DEFAULT 0,
            first_failed_ms BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_failures_key ON hubspot_sync_failures (object, direction, record_key)",
        ],
    },
    Migration {
        version: 2,
        statements: &[
            // Fields changed on both sides: which record, both values, who won (newest kept,
            // bounded by MAX_CONFLICTS).
            "CREATE TABLE IF NOT EXISTS hubspot_sync_conflicts (
            {id},
            object VARCHAR(32) NOT NULL,
            hubspot_id VARCHAR(32) NOT NULL,
            xentral_id BIGINT NOT NULL,
            field VARCHAR(64) NOT NULL,
            xentral_value TEXT NOT NULL,
            hubspot_value TEXT NOT NULL,
            winner VARCHAR(16) NOT NULL,
            at_ms BIGINT NOT NULL
        )",
            // Each HubSpot stage has at most one xentral stage, by construction (the map's
            // other direction is unique by its stage id index already).
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_stage_map_hs ON hubspot_sync_stage_map (pipeline_id, stage_id)",
            // Pending backfills: what a widened filter newly includes, read behind the cursor.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_backfills (
            name VARCHAR(64) NOT NULL PRIMARY KEY,
            spec TEXT NOT NULL,
            updated_ms BIGINT NOT NULL DEFAULT 0
        )",
        ],
    },
    Migration {
        version: 3,
        statements: &[
            // A record HubSpot refused for a reason retrying cannot cure (a validation rule):
            // the properties it was refused with. It is not retried on the back-off schedule,
            // only once what would be sent differs or HubSpot's record changed.
            "ALTER TABLE hubspot_sync_failures ADD COLUMN refused_properties TEXT NULL",
        ],
    },
    Migration {
        version: 4,
        statements: &[
            // Id map and snapshot, companies ⇄ company addresses; `domain` (canonical) is the
            // HubSpot company's as last synced.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_company_links (
            {id},
            hs_company_id VARCHAR(32) NOT NULL,
            address_id BIGINT NOT NULL,
            snapshot TEXT NOT NULL,
            synced_at_ms BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_company_links_hs ON hubspot_sync_company_links (hs_company_id)",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_company_links_address ON hubspot_sync_company_links (address_id)",
            // Id map and snapshot, contacts ⇄ contact persons (`ansprechpartner`) of synced
            // companies; a HubSpot contact is linked here or in the contact links, never both.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_person_links (
            {id},
            hs_contact_id VARCHAR(32) NOT NULL,
            person_id BIGINT NOT NULL,
            email VARCHAR(255) NOT NULL DEFAULT '',
            snapshot TEXT NOT NULL,
            synced_at_ms BIGINT NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_person_links_hs ON hubspot_sync_person_links (hs_contact_id)",
            "CREATE UNIQUE INDEX IF NOT EXISTS hubspot_sync_person_links_person ON hubspot_sync_person_links (person_id)",
            "CREATE INDEX IF NOT EXISTS hubspot_sync_person_links_email ON hubspot_sync_person_links (email)",
            // HubSpot's owners as last read (they change rarely: read again after an hour).
            "CREATE TABLE IF NOT EXISTS hubspot_sync_owners (
            owner_id VARCHAR(32) NOT NULL PRIMARY KEY,
            email VARCHAR(255) NOT NULL DEFAULT '',
            name VARCHAR(255) NOT NULL DEFAULT '',
            read_ms BIGINT NOT NULL DEFAULT 0
        )",
            // Links that ended (an archive, a merge, a delete on either side), with why and
            // whether the user must act; what sync health lists as ended.
            "CREATE TABLE IF NOT EXISTS hubspot_sync_ended (
            {id},
            object VARCHAR(32) NOT NULL,
            hubspot_id VARCHAR(32) NOT NULL,
            xentral_id BIGINT NOT NULL,
            reason VARCHAR(255) NOT NULL,
            needs_action BIGINT NOT NULL DEFAULT 0,
            at_ms BIGINT NOT NULL
        )",
            "CREATE INDEX IF NOT EXISTS hubspot_sync_ended_record ON hubspot_sync_ended (object, hubspot_id)",
        ],
    },
];

/// The spec of a pending backfill, if one is (`name`: the object's cursor name).
pub fn backfill(db: &mut dyn Db, name: &str) -> Result<Option<String>, DbError> {
    let rows = db.query(
        "SELECT spec FROM hubspot_sync_backfills WHERE name = ?",
        &[Value::from(name)],
    )?;
    Ok(rows.rows.first().and_then(|r| r.first()?.as_text()))
}

/// Stores a backfill's spec and restarts it from the beginning (its cursor is dropped).
pub fn start_backfill(
    db: &mut dyn Db,
    name: &str,
    cursor: &str,
    spec: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    finish_backfill(db, name, cursor)?;
    db.execute(
        "INSERT INTO hubspot_sync_backfills (name, spec, updated_ms) VALUES (?, ?, ?)",
        &[Value::from(name), Value::from(spec), Value::Integer(now_ms)],
    )?;
    Ok(())
}

/// Forgets a backfill and its cursor with its lanes (done, or nothing left to include).
pub fn finish_backfill(db: &mut dyn Db, name: &str, cursor: &str) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM hubspot_sync_backfills WHERE name = ?",
        &[Value::from(name)],
    )?;
    for (start, _) in cursor_lanes(db, cursor)? {
        delete_cursor(db, &lane_cursor_name(cursor, start))?;
    }
    delete_cursor(db, cursor)
}

/// How many conflicts are kept; older ones are pruned as new ones are recorded.
pub const MAX_CONFLICTS: i64 = 1_000;

/// Stored values of a conflict are cut to this many characters.
const CONFLICT_VALUE_CHARS: usize = 1_000;

/// A field both sides changed, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRecord<'a> {
    /// `contact` or `deal`.
    pub object: &'a str,
    /// The HubSpot record.
    pub hubspot_id: &'a str,
    /// The xentral record.
    pub xentral_id: i64,
    /// The field and both values.
    pub conflict: &'a crate::engine::merge::Conflict,
    /// `xentral` or `hubspot`.
    pub winner: &'a str,
}

/// Stores a conflict and prunes the oldest beyond [`MAX_CONFLICTS`].
pub fn record_conflict(
    db: &mut dyn Db,
    c: &ConflictRecord<'_>,
    now_ms: i64,
) -> Result<(), DbError> {
    let cut = |v: &str| crate::mapping::truncate(v, CONFLICT_VALUE_CHARS);
    let inserted = db.execute(
        "INSERT INTO hubspot_sync_conflicts (object, hubspot_id, xentral_id, field, xentral_value, hubspot_value, winner, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::from(c.object),
            Value::from(c.hubspot_id),
            Value::Integer(c.xentral_id),
            Value::from(c.conflict.field.as_str()),
            Value::from(cut(&c.conflict.xentral)),
            Value::from(cut(&c.conflict.hubspot)),
            Value::from(c.winner),
            Value::Integer(now_ms),
        ],
    )?;
    let oldest_kept = inserted.last_insert_id - MAX_CONFLICTS;
    if oldest_kept > 0 {
        db.execute(
            "DELETE FROM hubspot_sync_conflicts WHERE id <= ?",
            &[Value::Integer(oldest_kept)],
        )?;
    }
    Ok(())
}

fn id_column(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Mysql => "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
    }
}

/// Whether `e` says the statement's table does not exist (SQLite's "no such table",
/// MariaDB's 1146 "doesn't exist").
pub fn is_missing_table(e: &DbError) -> bool {
    matches!(e, DbError::Invalid(m) if m.contains("no such table") || m.contains("doesn't exist"))
}

/// The schema version currently installed (0 when none). Only reads, so an up-to-date
/// schema costs no write (a dry run's connection refuses every write).
pub fn installed_version(db: &mut dyn Db) -> Result<i64, DbError> {
    match db.query("SELECT MAX(version) FROM hubspot_sync_schema_version", &[]) {
        Ok(rows) => Ok(rows
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_i64)
            .unwrap_or(0)),
        Err(e) if is_missing_table(&e) => Ok(0),
        Err(e) => Err(e),
    }
}

/// Applies every migration newer than the installed version, each in its own transaction.
/// Returns the versions applied.
pub fn migrate(db: &mut dyn Db) -> Result<Vec<i64>, DbError> {
    let installed = installed_version(db)?;
    let dialect = db.dialect();
    let mut applied = Vec::new();
    let pending: Vec<&Migration> = MIGRATIONS
        .iter()
        .filter(|m| m.version > installed)
        .collect();
    if !pending.is_empty() {
        db.execute(CREATE_SCHEMA_VERSION, &[])?;
    }
    for m in pending {
        db.begin()?;
        let result = (|| {
            for stmt in m.statements {
                db.execute(&stmt.replace("{id}", id_column(dialect)), &[])?;
            }
            db.execute(
                "INSERT INTO hubspot_sync_schema_version (version) VALUES (?)",
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

/// A link between a xentral record and a HubSpot record, with the last synced snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The HubSpot id.
    pub hubspot_id: String,
    /// The xentral id.
    pub xentral_id: i64,
    /// Values of both sides after the last sync.
    pub snapshot: Snapshot,
}

/// The id-map tables, one per object kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTable {
    /// `hubspot_sync_contact_links`: contacts ⇄ person addresses.
    Contacts,
    /// `hubspot_sync_company_links`: companies ⇄ company addresses.
    Companies,
    /// `hubspot_sync_person_links`: contacts ⇄ contact persons of synced companies.
    Persons,
    /// `hubspot_sync_deal_links`: deals ⇄ resubmissions.
    Deals,
}

impl LinkTable {
    /// The kind of xentral record the table links.
    pub fn entity(self) -> crate::api::Entity {
        match self {
            LinkTable::Contacts | LinkTable::Companies => crate::api::Entity::Address,
            LinkTable::Persons => crate::api::Entity::ContactPerson,
            LinkTable::Deals => crate::api::Entity::Resubmission,
        }
    }

    /// The object kind's name in the failure and conflict tables and in sync health.
    pub const fn object(self) -> &'static str {
        match self {
            LinkTable::Contacts => "contact",
            LinkTable::Companies => "company",
            LinkTable::Persons => "contact-person",
            LinkTable::Deals => "deal",
        }
    }

    /// Every link table.
    pub const ALL: [LinkTable; 4] = [
        LinkTable::Contacts,
        LinkTable::Companies,
        LinkTable::Persons,
        LinkTable::Deals,
    ];

    /// Whether the table keeps the linked e-mail beside the link (contacts, as addresses or
    /// as contact persons).
    fn keeps_email(self) -> bool {
        matches!(self, LinkTable::Contacts | LinkTable::Persons)
    }

    /// The table of an object kind by its name (`contact`, `deal`).
    pub fn of_object(object: &str) -> Option<LinkTable> {
        LinkTable::ALL.into_iter().find(|t| t.object() == object)
    }

    /// The table's name.
    pub fn table(self) -> &'static str {
        self.names().0
    }

    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            LinkTable::Contacts => ("hubspot_sync_contact_links", "hs_contact_id", "address_id"),
            LinkTable::Companies => ("hubspot_sync_company_links", "hs_company_id", "address_id"),
            LinkTable::Persons => ("hubspot_sync_person_links", "hs_contact_id", "person_id"),
            LinkTable::Deals => ("hubspot_sync_deal_links", "hs_deal_id", "wiedervorlage_id"),
        }
    }
}

fn parse_snapshot(v: Option<&Value>) -> Snapshot {
    v.and_then(Value::as_text)
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn link_from_row(r: &[Value]) -> Option<Link> {
    Some(Link {
        hubspot_id: r.first()?.as_text()?,
        xentral_id: r.get(1)?.as_i64()?,
        snapshot: parse_snapshot(r.get(2)),
    })
}

/// The links of `table` whose xentral record is gone: removed, or marked deleted
/// (`geloescht = 1` on addresses and contact persons; a closed resubmission is not gone).
pub fn gone_in_xentral(db: &mut dyn Db, table: LinkTable) -> Result<Vec<Link>, DbError> {
    let (t, hs, x) = table.names();
    let (xentral, deleted) = match table {
        LinkTable::Contacts | LinkTable::Companies => ("adresse", "OR r.geloescht = 1"),
        LinkTable::Persons => ("ansprechpartner", "OR r.geloescht = 1"),
        LinkTable::Deals => ("wiedervorlage", ""),
    };
    let rows = db.query(
        &format!(
            "SELECT l.{hs}, l.{x}, l.snapshot FROM {t} l LEFT JOIN {xentral} r ON r.id = l.{x} WHERE r.id IS NULL {deleted} ORDER BY l.{x}"
        ),
        &[],
    )?;
    Ok(rows.rows.iter().filter_map(|r| link_from_row(r)).collect())
}

/// Forgets the merges waiting for the user whose xentral record is gone (the user merged it
/// in xentral).
pub fn forget_settled_merges(db: &mut dyn Db, table: LinkTable) -> Result<(), DbError> {
    let (xentral, deleted) = match table {
        LinkTable::Contacts | LinkTable::Companies => ("adresse", "geloescht = 0"),
        LinkTable::Persons => ("ansprechpartner", "geloescht = 0"),
        LinkTable::Deals => ("wiedervorlage", "1 = 1"),
    };
    db.execute(
        &format!(
            "DELETE FROM hubspot_sync_ended WHERE object = ? AND needs_action = 1 AND xentral_id NOT IN (SELECT id FROM {xentral} WHERE {deleted})"
        ),
        &[Value::from(table.object())],
    )?;
    Ok(())
}

/// Every link of a table, keyed by xentral id.
pub fn links_by_xentral_id(
    db: &mut dyn Db,
    table: LinkTable,
) -> Result<HashMap<i64, Link>, DbError> {
    let (t, hs, x) = table.names();
    let rows = db.query(&format!("SELECT {hs}, {x}, snapshot FROM {t}"), &[])?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| link_from_row(r))
        .map(|l| (l.xentral_id, l))
        .collect())
}

/// The links of the xentral records `ids` (those that have one), by xentral id: what a pass
/// over a page of records needs, without every link of the table in memory.
pub fn links_by_xentral_ids(
    db: &mut dyn Db,
    table: LinkTable,
    ids: &[i64],
) -> Result<HashMap<i64, Link>, DbError> {
    let keys: Vec<Value> = ids.iter().map(|i| Value::Integer(*i)).collect();
    Ok(links_where(db, table, LinkSide::Xentral, &keys)?
        .into_iter()
        .map(|l| (l.xentral_id, l))
        .collect())
}

/// Which id of a link a lookup goes by.
enum LinkSide {
    Hubspot,
    Xentral,
}

/// The links of `table` whose id on `side` is one of `keys`.
fn links_where(
    db: &mut dyn Db,
    table: LinkTable,
    side: LinkSide,
    keys: &[Value],
) -> Result<Vec<Link>, DbError> {
    let (t, hs, x) = table.names();
    let column = match side {
        LinkSide::Hubspot => hs,
        LinkSide::Xentral => x,
    };
    let rows = rows_for_keys(
        db,
        |marks| format!("SELECT {hs}, {x}, snapshot FROM {t} WHERE {column} IN ({marks})"),
        &[],
        keys,
    )?;
    Ok(rows.iter().filter_map(|r| link_from_row(r)).collect())
}

/// The rows of a query over a list of keys, one statement per [`IN_LIST_CHUNK`] keys: `sql`
/// gets the placeholders of one chunk (`?, ?, …`), `leading` the parameters before them.
fn rows_for_keys(
    db: &mut dyn Db,
    sql: impl Fn(&str) -> String,
    leading: &[Value],
    keys: &[Value],
) -> Result<Vec<Vec<Value>>, DbError> {
    let mut out = Vec::new();
    for chunk in keys.chunks(IN_LIST_CHUNK) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value> = leading.iter().chain(chunk).cloned().collect();
        out.extend(db.query(&sql(&marks), &params)?.rows);
    }
    Ok(out)
}

/// Which of the xentral records `ids` have a link in `table`: one statement per
/// [`IN_LIST_CHUNK`] ids, without reading the snapshots.
pub fn linked_xentral_ids(
    db: &mut dyn Db,
    table: LinkTable,
    ids: &[i64],
) -> Result<HashSet<i64>, DbError> {
    let (t, _, x) = table.names();
    let keys: Vec<Value> = ids.iter().map(|i| Value::Integer(*i)).collect();
    let rows = rows_for_keys(
        db,
        |marks| format!("SELECT {x} FROM {t} WHERE {x} IN ({marks})"),
        &[],
        &keys,
    )?;
    Ok(rows.iter().filter_map(|r| r.first()?.as_i64()).collect())
}

/// A page of a table's links ordered by xentral id: (HubSpot id, xentral id) from after
/// `after`, at most `limit`.
pub fn links_page(
    db: &mut dyn Db,
    table: LinkTable,
    after: i64,
    limit: u32,
) -> Result<Vec<(String, i64)>, DbError> {
    let (t, hs, x) = table.names();
    let rows = db.query(
        &format!("SELECT {hs}, {x} FROM {t} WHERE {x} > ? ORDER BY {x} LIMIT ?"),
        &[Value::Integer(after), Value::Integer(i64::from(limit))],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_text()?, r.get(1)?.as_i64()?)))
        .collect())
}

/// The link of a HubSpot record, if any.
pub fn link_by_hubspot_id(
    db: &mut dyn Db,
    table: LinkTable,
    hubspot_id: &str,
) -> Result<Option<Link>, DbError> {
    let (t, hs, x) = table.names();
    let rows = db.query(
        &format!("SELECT {hs}, {x}, snapshot FROM {t} WHERE {hs} = ?"),
        &[Value::from(hubspot_id)],
    )?;
    Ok(rows.rows.first().and_then(|r| link_from_row(r)))
}

/// The link of a xentral record, if any.
pub fn link_by_xentral_id(
    db: &mut dyn Db,
    table: LinkTable,
    xentral_id: i64,
) -> Result<Option<Link>, DbError> {
    let (t, hs, x) = table.names();
    let rows = db.query(
        &format!("SELECT {hs}, {x}, snapshot FROM {t} WHERE {x} = ?"),
        &[Value::Integer(xentral_id)],
    )?;
    Ok(rows.rows.first().and_then(|r| link_from_row(r)))
}

/// The links of those of these HubSpot ids that are linked, by HubSpot id (one query per
/// [`IN_LIST_CHUNK`] ids).
pub fn links_by_hubspot_ids(
    db: &mut dyn Db,
    table: LinkTable,
    hubspot_ids: &[&str],
) -> Result<HashMap<String, Link>, DbError> {
    let keys: Vec<Value> = hubspot_ids.iter().map(|id| Value::from(*id)).collect();
    Ok(links_where(db, table, LinkSide::Hubspot, &keys)?
        .into_iter()
        .map(|l| (l.hubspot_id.clone(), l))
        .collect())
}

/// Removes the link of a HubSpot record (before its xentral record is linked to another).
pub fn drop_link(db: &mut dyn Db, table: LinkTable, hubspot_id: &str) -> Result<(), DbError> {
    let (t, hs, _) = table.names();
    db.execute(
        &format!("DELETE FROM {t} WHERE {hs} = ?"),
        &[Value::from(hubspot_id)],
    )?;
    Ok(())
}

/// Creates or updates a link with its snapshot. `email` is kept for contacts (addresses and
/// contact persons) so an e-mail shared by two records is recognised before anything is
/// written to HubSpot. An update that finds the link, else an insert: one statement when the
/// link exists.
pub fn save_link(
    db: &mut dyn Db,
    table: LinkTable,
    link: &Link,
    now_ms: i64,
) -> Result<(), DbError> {
    LinkRow::of(table, link, now_ms).save(db)
}

/// Saves the link of a record just created on one side, which is most likely new: an insert,
/// else (the HubSpot id is linked already) the update of [`save_link`]. One statement where
/// `save_link` would take two.
pub fn save_new_link(
    db: &mut dyn Db,
    table: LinkTable,
    link: &Link,
    now_ms: i64,
) -> Result<(), DbError> {
    let row = LinkRow::of(table, link, now_ms);
    match row.insert(db) {
        // Linked already, or the insert hit the xentral record's unique key, which the
        // update-or-insert then reports.
        Err(DbError::Constraint(_)) => row.save(db),
        other => other,
    }
}

/// A link as its table's columns hold it.
struct LinkRow<'a> {
    table: LinkTable,
    link: &'a Link,
    snapshot: String,
    /// The linked e-mail, kept for contacts only (companies and deals have no such column).
    email: Option<String>,
    now_ms: i64,
}

impl<'a> LinkRow<'a> {
    fn of(table: LinkTable, link: &'a Link, now_ms: i64) -> LinkRow<'a> {
        let email = table.keeps_email().then(|| {
            link.snapshot
                .h
                .get("email")
                .or_else(|| link.snapshot.x.get("email"))
                .cloned()
                .unwrap_or_default()
        });
        LinkRow {
            table,
            link,
            snapshot: serde_json::to_string(&link.snapshot).expect("snapshots serialise"),
            email,
            now_ms,
        }
    }

    /// Updates the link of the HubSpot id, else inserts it.
    fn save(&self, db: &mut dyn Db) -> Result<(), DbError> {
        if self.update(db)? == 0 {
            self.insert(db)?;
        }
        Ok(())
    }

    /// Updates the link of the HubSpot id; returns the rows changed (0: there is none).
    fn update(&self, db: &mut dyn Db) -> Result<u64, DbError> {
        let (t, hs, x) = self.table.names();
        let email_set = if self.email.is_some() {
            ", email = ?"
        } else {
            ""
        };
        let mut params = vec![
            Value::Integer(self.link.xentral_id),
            Value::from(self.snapshot.as_str()),
            Value::Integer(self.now_ms),
        ];
        params.extend(self.email.as_deref().map(Value::from));
        params.push(Value::from(&self.link.hubspot_id));
        Ok(db
            .execute(
                &format!(
                    "UPDATE {t} SET {x} = ?, snapshot = ?, synced_at_ms = ?{email_set} WHERE {hs} = ?"
                ),
                &params,
            )?
            .rows_affected)
    }

    fn insert(&self, db: &mut dyn Db) -> Result<(), DbError> {
        let (t, hs, x) = self.table.names();
        let (email_column, email_mark) = if self.email.is_some() {
            (", email", ", ?")
        } else {
            ("", "")
        };
        let mut params = vec![
            Value::from(&self.link.hubspot_id),
            Value::Integer(self.link.xentral_id),
            Value::from(self.snapshot.as_str()),
            Value::Integer(self.now_ms),
        ];
        params.extend(self.email.as_deref().map(Value::from));
        db.execute(
            &format!(
                "INSERT INTO {t} ({hs}, {x}, snapshot, synced_at_ms{email_column}) VALUES (?, ?, ?, ?{email_mark})"
            ),
            &params,
        )?;
        Ok(())
    }
}

/// Records the e-mail of a contact link (see [`linked_emails`]).
pub fn set_link_email(db: &mut dyn Db, hubspot_id: &str, email: &str) -> Result<(), DbError> {
    db.execute(
        "UPDATE hubspot_sync_contact_links SET email = ? WHERE hs_contact_id = ?",
        &[Value::from(email), Value::from(hubspot_id)],
    )?;
    Ok(())
}

/// E-mails (canonical) linked to a live address or contact person, with the record each
/// belongs to (its link table and id). A link of a deleted record claims no e-mail: deleted
/// records take no part in matching.
pub fn linked_emails(db: &mut dyn Db) -> Result<HashMap<String, (LinkTable, i64)>, DbError> {
    let mut out = HashMap::new();
    for (table, sql) in [
        (
            LinkTable::Contacts,
            "SELECT c.email, c.address_id FROM hubspot_sync_contact_links c JOIN adresse a ON a.id = c.address_id WHERE c.email <> '' AND a.geloescht = 0",
        ),
        (
            LinkTable::Persons,
            "SELECT c.email, c.person_id FROM hubspot_sync_person_links c JOIN ansprechpartner p ON p.id = c.person_id WHERE c.email <> '' AND p.geloescht = 0",
        ),
    ] {
        let rows = db.query(sql, &[])?;
        out.extend(rows.rows.iter().filter_map(|r| {
            Some((
                crate::mapping::canonical_email(&r.first()?.as_text()?),
                (table, r.get(1)?.as_i64()?),
            ))
        }));
    }
    Ok(out)
}

/// An incremental-read position: everything modified before `modified_ms`, and at
/// `modified_ms` every id up to `last_id`, is done (`last_id` empty: all of `modified_ms`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Modified-time boundary (ms).
    pub modified_ms: i64,
    /// Tie-break: the last id done at `modified_ms` while walking a tie.
    pub last_id: String,
}

/// Reads a cursor (default: the beginning).
pub fn cursor(db: &mut dyn Db, name: &str) -> Result<Cursor, DbError> {
    let rows = db.query(
        "SELECT modified_ms, last_id FROM hubspot_sync_cursors WHERE name = ?",
        &[Value::from(name)],
    )?;
    Ok(rows
        .rows
        .first()
        .map(|r| Cursor {
            modified_ms: r.first().and_then(Value::as_i64).unwrap_or(0),
            last_id: r.get(1).and_then(Value::as_text).unwrap_or_default(),
        })
        .unwrap_or_default())
}

/// Whether the cursor `name` was ever stored.
pub fn cursor_exists(db: &mut dyn Db, name: &str) -> Result<bool, DbError> {
    let rows = db.query(
        "SELECT 1 FROM hubspot_sync_cursors WHERE name = ?",
        &[Value::from(name)],
    )?;
    Ok(!rows.rows.is_empty())
}

/// The cursor row of a read's lane beginning at `start_ms` (see
/// [`cursor_lanes`]): the read's cursor name, `@`, the start.
pub fn lane_cursor_name(cursor: &str, start_ms: i64) -> String {
    format!("{cursor}@{start_ms}")
}

/// The further lanes of the read kept by cursor `name`, by start: (where each begins,
/// exclusive; its position). A read split into ranges keeps its first range in `name`
/// and each further one in the row [`lane_cursor_name`].
pub fn cursor_lanes(db: &mut dyn Db, name: &str) -> Result<Vec<(i64, Cursor)>, DbError> {
    let prefix = lane_cursor_name(name, 0);
    let prefix = &prefix[..prefix.len() - 1];
    let rows = db.query(
        "SELECT name, modified_ms, last_id FROM hubspot_sync_cursors WHERE name LIKE ?",
        &[Value::from(format!("{prefix}%"))],
    )?;
    let mut lanes: Vec<(i64, Cursor)> = rows
        .rows
        .iter()
        .filter_map(|r| {
            let start = r.first()?.as_text()?.strip_prefix(prefix)?.parse().ok()?;
            Some((
                start,
                Cursor {
                    modified_ms: r.get(1).and_then(Value::as_i64).unwrap_or(0),
                    last_id: r.get(2).and_then(Value::as_text).unwrap_or_default(),
                },
            ))
        })
        .collect();
    lanes.sort_by_key(|(start, _)| *start);
    Ok(lanes)
}

/// Forgets a cursor row.
pub fn delete_cursor(db: &mut dyn Db, name: &str) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM hubspot_sync_cursors WHERE name = ?",
        &[Value::from(name)],
    )?;
    Ok(())
}

/// Stores a cursor.
pub fn save_cursor(db: &mut dyn Db, name: &str, c: &Cursor, now_ms: i64) -> Result<(), DbError> {
    let params = [
        Value::Integer(c.modified_ms),
        Value::from(&c.last_id),
        Value::Integer(now_ms),
        Value::from(name),
    ];
    let r = db.execute(
        "UPDATE hubspot_sync_cursors SET modified_ms = ?, last_id = ?, updated_ms = ? WHERE name = ?",
        &params,
    )?;
    if r.rows_affected == 0 && !cursor_exists(db, name)? {
        db.execute(
            "INSERT INTO hubspot_sync_cursors (modified_ms, last_id, updated_ms, name) VALUES (?, ?, ?, ?)",
            &params,
        )?;
    }
    Ok(())
}

/// Back-off before the n-th retry of a failed record: 1, 5, 15, 60 minutes, then 4 h.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    const MINUTE: i64 = 60_000;
    match attempts {
        ..=1 => MINUTE,
        2 => 5 * MINUTE,
        3 => 15 * MINUTE,
        4 => 60 * MINUTE,
        _ => 240 * MINUTE,
    }
}

/// Records a failed record; returns the next retry time.
pub fn record_failure(
    db: &mut dyn Db,
    object: &str,
    direction: &str,
    key: &str,
    error: &str,
    now_ms: i64,
) -> Result<i64, DbError> {
    let rows = db.query(
        "SELECT attempts FROM hubspot_sync_failures WHERE object = ? AND direction = ? AND record_key = ?",
        &[Value::from(object), Value::from(direction), Value::from(key)],
    )?;
    let attempts = rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0)
        + 1;
    let next = now_ms + retry_delay_ms(attempts);
    let error: String = error.chars().take(2000).collect();
    if attempts == 1 {
        db.execute(
            "INSERT INTO hubspot_sync_failures (object, direction, record_key, error, attempts, next_retry_ms, first_failed_ms) VALUES (?, ?, ?, ?, 1, ?, ?)",
            &[
                Value::from(object),
                Value::from(direction),
                Value::from(key),
                Value::from(error),
                Value::Integer(next),
                Value::Integer(now_ms),
            ],
        )?;
    } else {
        db.execute(
            "UPDATE hubspot_sync_failures SET error = ?, attempts = ?, next_retry_ms = ?, refused_properties = NULL WHERE object = ? AND direction = ? AND record_key = ?",
            &[
                Value::from(error),
                Value::Integer(attempts),
                Value::Integer(next),
                Value::from(object),
                Value::from(direction),
                Value::from(key),
            ],
        )?;
    }
    Ok(next)
}

/// Records a record HubSpot refused as it is (`properties`, as they would be sent): not
/// retried on the back-off schedule, only once [`refused_as`] no longer matches.
pub fn record_refusal(
    db: &mut dyn Db,
    object: &str,
    key: &str,
    error: &str,
    properties: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    record_failure(db, object, "push", key, error, now_ms)?;
    db.execute(
        "UPDATE hubspot_sync_failures SET refused_properties = ?, next_retry_ms = 0 WHERE object = ? AND direction = 'push' AND record_key = ?",
        &[Value::from(properties), Value::from(object), Value::from(key)],
    )?;
    Ok(())
}

/// Refused records of one kind: xentral id → (the properties refused, HubSpot's reason).
pub fn refusals(db: &mut dyn Db, object: &str) -> Result<HashMap<i64, (String, String)>, DbError> {
    let rows = db.query(
        "SELECT record_key, refused_properties, error FROM hubspot_sync_failures WHERE object = ? AND direction = 'push' AND refused_properties IS NOT NULL",
        &[Value::from(object)],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| {
            let id = r.first()?.as_text()?.parse().ok()?;
            Some((id, (r.get(1)?.as_text()?, r.get(2)?.as_text()?)))
        })
        .collect())
}

/// Forgets the refusal of a record whose HubSpot side changed; returns whether there was one
/// (the record is then worth sending again).
pub fn clear_refusal(db: &mut dyn Db, object: &str, xentral_id: i64) -> Result<bool, DbError> {
    let r = db.execute(
        "DELETE FROM hubspot_sync_failures WHERE object = ? AND direction = 'push' AND record_key = ? AND refused_properties IS NOT NULL",
        &[Value::from(object), Value::from(xentral_id.to_string())],
    )?;
    Ok(r.rows_affected > 0)
}

/// Forgets the failures of many records at once (a page that went through): one statement per
/// [`IN_LIST_CHUNK`] keys instead of one per record.
pub fn clear_failures(
    db: &mut dyn Db,
    object: &str,
    direction: &str,
    keys: &[&str],
) -> Result<(), DbError> {
    for chunk in keys.chunks(IN_LIST_CHUNK) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut params = vec![Value::from(object), Value::from(direction)];
        params.extend(chunk.iter().map(|k| Value::from(*k)));
        db.execute(
            &format!(
                "DELETE FROM hubspot_sync_failures WHERE object = ? AND direction = ? AND record_key IN ({marks})"
            ),
            &params,
        )?;
    }
    Ok(())
}

/// Keys per statement of the queries and deletes over a list of keys ([`rows_for_keys`],
/// [`clear_failures`]): a page of HubSpot records (search answers up to 200) in one, well under
/// SQLite's and MariaDB's parameter limits.
const IN_LIST_CHUNK: usize = 500;

/// Failed records of one kind: key → next retry time.
pub fn failures(
    db: &mut dyn Db,
    object: &str,
    direction: &str,
) -> Result<HashMap<String, i64>, DbError> {
    let rows = db.query(
        "SELECT record_key, next_retry_ms FROM hubspot_sync_failures WHERE object = ? AND direction = ?",
        &[Value::from(object), Value::from(direction)],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_text()?, r.get(1)?.as_i64()?)))
        .collect())
}

/// A link that ended: the records it paired, why, and whether the user must act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The HubSpot record as it was linked.
    pub hubspot_id: String,
    /// The xentral record.
    pub xentral_id: i64,
    /// Why it ended (`archived in HubSpot`, …).
    pub reason: String,
    /// The record stays unsynced until the user acts (a merge to do by hand).
    pub needs_action: bool,
}

/// Records that a link of `table` ended (replacing an earlier end of the same HubSpot
/// record).
pub fn record_ended(
    db: &mut dyn Db,
    table: LinkTable,
    ended: &Ended,
    now_ms: i64,
) -> Result<(), DbError> {
    forget_ended(db, table, &ended.hubspot_id)?;
    let inserted = db.execute(
        "INSERT INTO hubspot_sync_ended (object, hubspot_id, xentral_id, reason, needs_action, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
        &[
            Value::from(table.object()),
            Value::from(ended.hubspot_id.as_str()),
            Value::Integer(ended.xentral_id),
            Value::from(ended.reason.as_str()),
            Value::Integer(i64::from(ended.needs_action)),
            Value::Integer(now_ms),
        ],
    )?;
    // Bounded: the oldest ends beyond MAX_ENDED are forgotten, never one waiting for the user.
    let oldest_kept = inserted.last_insert_id - MAX_ENDED;
    if oldest_kept > 0 {
        db.execute(
            "DELETE FROM hubspot_sync_ended WHERE needs_action = 0 AND id <= ?",
            &[Value::Integer(oldest_kept)],
        )?;
    }
    Ok(())
}

/// How many ended links are kept (the newest; those waiting for the user always).
pub const MAX_ENDED: i64 = 10_000;

/// How the links of these HubSpot records of `table` ended, by HubSpot id (those that did;
/// one query per [`IN_LIST_CHUNK`] ids).
pub fn ended_of(
    db: &mut dyn Db,
    table: LinkTable,
    hubspot_ids: &[&str],
) -> Result<HashMap<String, Ended>, DbError> {
    let keys: Vec<Value> = hubspot_ids.iter().map(|id| Value::from(*id)).collect();
    let rows = rows_for_keys(
        db,
        |marks| {
            format!(
                "SELECT hubspot_id, xentral_id, reason, needs_action FROM hubspot_sync_ended WHERE object = ? AND hubspot_id IN ({marks})"
            )
        },
        &[Value::from(table.object())],
        &keys,
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let ended = Ended {
                hubspot_id: r.first()?.as_text()?,
                xentral_id: r.get(1)?.as_i64()?,
                reason: r.get(2)?.as_text()?,
                needs_action: r.get(3)?.as_i64()? != 0,
            };
            Some((ended.hubspot_id.clone(), ended))
        })
        .collect())
}

/// Forgets how the links of xentral record `xentral_id` ended (it is linked again, to
/// another HubSpot record).
pub fn forget_ended_of(db: &mut dyn Db, table: LinkTable, xentral_id: i64) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM hubspot_sync_ended WHERE object = ? AND xentral_id = ?",
        &[Value::from(table.object()), Value::Integer(xentral_id)],
    )?;
    Ok(())
}

/// Forgets how the link of a HubSpot record ended (it is linked again).
pub fn forget_ended(db: &mut dyn Db, table: LinkTable, hubspot_id: &str) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM hubspot_sync_ended WHERE object = ? AND hubspot_id = ?",
        &[Value::from(table.object()), Value::from(hubspot_id)],
    )?;
    Ok(())
}

/// The xentral records of `table` whose link ended, with the reason (the newest end of
/// each).
pub fn ended_records(db: &mut dyn Db, table: LinkTable) -> Result<HashMap<i64, String>, DbError> {
    let rows = db.query(
        "SELECT xentral_id, reason FROM hubspot_sync_ended WHERE object = ? ORDER BY id",
        &[Value::from(table.object())],
    )?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_i64()?, r.get(1)?.as_text()?)))
        .collect())
}

/// One failing record: its object kind, direction (`push`, `pull`) and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureKey {
    /// The object kind.
    pub object: String,
    /// `push` or `pull`.
    pub direction: String,
    /// The xentral id (push) or HubSpot id (pull).
    pub key: String,
}

/// Makes failing records due now and forgets HubSpot's refusal of them, so the next run
/// sends them again: of `object` (every kind when `None`), those keyed `keys` (all when
/// empty). Returns the records made due.
pub fn make_failures_due(
    db: &mut dyn Db,
    object: Option<&str>,
    keys: &[String],
) -> Result<Vec<FailureKey>, DbError> {
    let rows = match object {
        Some(o) => db.query(
            "SELECT object, direction, record_key FROM hubspot_sync_failures WHERE object = ?",
            &[Value::from(o)],
        )?,
        None => db.query(
            "SELECT object, direction, record_key FROM hubspot_sync_failures",
            &[],
        )?,
    };
    let due: Vec<FailureKey> = rows
        .rows
        .iter()
        .filter_map(|r| {
            Some(FailureKey {
                object: r.first()?.as_text()?,
                direction: r.get(1)?.as_text()?,
                key: r.get(2)?.as_text()?,
            })
        })
        .filter(|f| keys.is_empty() || keys.contains(&f.key))
        .collect();
    for f in &due {
        db.execute(
            "UPDATE hubspot_sync_failures SET next_retry_ms = 0, refused_properties = NULL WHERE object = ? AND direction = ? AND record_key = ?",
            &[
                Value::from(f.object.as_str()),
                Value::from(f.direction.as_str()),
                Value::from(f.key.as_str()),
            ],
        )?;
    }
    Ok(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table each `CREATE TABLE` of the migrations names.
    fn created_tables() -> Vec<String> {
        let mut tables: Vec<String> = MIGRATIONS
            .iter()
            .flat_map(|m| m.statements.iter())
            .chain(std::iter::once(&CREATE_SCHEMA_VERSION))
            .filter_map(|s| s.trim().strip_prefix("CREATE TABLE IF NOT EXISTS "))
            .filter_map(|rest| rest.split([' ', '(']).next())
            .map(str::to_owned)
            .collect();
        tables.sort();
        tables.dedup();
        tables
    }

    #[test]
    fn migrating_creates_exactly_the_own_tables_and_again_changes_nothing() {
        let mut db = crate::testing::MemoryDb::new(0);
        let before = db.tables();
        assert_eq!(
            migrate(&mut db).unwrap(),
            MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
        );
        let mut created: Vec<String> = db
            .tables()
            .into_iter()
            .filter(|t| !before.contains(t) && t != "sqlite_sequence")
            .collect();
        created.sort();
        let mut own: Vec<String> = OWN_TABLES.iter().map(|t| (*t).to_owned()).collect();
        own.sort();
        assert_eq!(created, own);
        assert_eq!(migrate(&mut db).unwrap(), Vec::<i64>::new());
        assert_eq!(
            installed_version(&mut db).unwrap(),
            MIGRATIONS.last().unwrap().version
        );
    }

    #[test]
    fn own_tables_are_exactly_the_tables_the_migrations_create_all_in_the_namespace() {
        let mut own: Vec<String> = OWN_TABLES.iter().map(|t| (*t).to_owned()).collect();
        own.sort();
        assert_eq!(own, created_tables());
        assert!(OWN_TABLES.iter().all(|t| t.starts_with(OWN_TABLE_PREFIX)));
    }

    #[test]
    fn clearing_failures_forgets_exactly_the_keys_given_of_that_object_and_direction() {
        let mut db = crate::testing::MemoryDb::new(0);
        migrate(&mut db).unwrap();
        let keys: Vec<String> = (0..IN_LIST_CHUNK + 3).map(|i| format!("k{i}")).collect();
        for k in &keys {
            record_failure(&mut db, "contact", "pull", k, "boom", 0).unwrap();
        }
        record_failure(&mut db, "contact", "push", "k0", "boom", 0).unwrap();
        record_failure(&mut db, "deal", "pull", "k1", "boom", 0).unwrap();
        // More keys than one statement takes, all but the last.
        let cleared: Vec<&str> = keys[..keys.len() - 1].iter().map(String::as_str).collect();
        clear_failures(&mut db, "contact", "pull", &cleared).unwrap();
        let left: Vec<String> = failures(&mut db, "contact", "pull")
            .unwrap()
            .into_keys()
            .collect();
        assert_eq!(left, vec![keys.last().unwrap().clone()]);
        assert_eq!(failures(&mut db, "contact", "push").unwrap().len(), 1);
        assert_eq!(failures(&mut db, "deal", "pull").unwrap().len(), 1);
        clear_failures(&mut db, "contact", "pull", &[]).unwrap();
        assert_eq!(failures(&mut db, "contact", "pull").unwrap().len(), 1);
    }

    /// Counts the statements run on the database it wraps.
    struct Counting<'a> {
        db: &'a mut crate::testing::MemoryDb,
        statements: usize,
    }

    impl Db for Counting<'_> {
        fn query(&mut self, sql: &str, params: &[Value]) -> Result<crate::platform::Rows, DbError> {
            self.statements += 1;
            self.db.query(sql, params)
        }
        fn execute(
            &mut self,
            sql: &str,
            params: &[Value],
        ) -> Result<crate::platform::ExecResult, DbError> {
            self.statements += 1;
            self.db.execute(sql, params)
        }
        fn begin(&mut self) -> Result<(), DbError> {
            self.db.begin()
        }
        fn commit(&mut self) -> Result<(), DbError> {
            self.db.commit()
        }
        fn rollback(&mut self) -> Result<(), DbError> {
            self.db.rollback()
        }
        fn dialect(&self) -> crate::platform::Dialect {
            self.db.dialect()
        }
    }

    fn link(hubspot_id: &str, xentral_id: i64, email: &str) -> Link {
        let mut snapshot = Snapshot::default();
        snapshot.h.insert("email".into(), email.into());
        Link {
            hubspot_id: hubspot_id.into(),
            xentral_id,
            snapshot,
        }
    }

    #[test]
    fn a_new_link_is_saved_in_one_statement_and_an_existing_one_is_updated() {
        let mut memory = crate::testing::MemoryDb::new(0);
        migrate(&mut memory).unwrap();
        let mut db = Counting {
            db: &mut memory,
            statements: 0,
        };
        save_new_link(
            &mut db,
            LinkTable::Contacts,
            &link("h1", 1, "a@x.example"),
            5,
        )
        .unwrap();
        assert_eq!(db.statements, 1);
        // The HubSpot id is linked already: the link is updated, not refused or doubled.
        save_new_link(
            &mut db,
            LinkTable::Contacts,
            &link("h1", 2, "b@x.example"),
            6,
        )
        .unwrap();
        let saved = link_by_hubspot_id(&mut db, LinkTable::Contacts, "h1")
            .unwrap()
            .unwrap();
        assert_eq!(saved.xentral_id, 2);
        assert_eq!(saved.snapshot.h["email"], "b@x.example");
        let email = db
            .query(
                "SELECT email FROM hubspot_sync_contact_links WHERE hs_contact_id = 'h1'",
                &[],
            )
            .unwrap();
        assert_eq!(email.rows, vec![vec![Value::from("b@x.example")]]);
    }

    #[test]
    fn a_new_link_to_a_record_linked_elsewhere_is_refused_as_save_link_refuses_it() {
        let mut db = crate::testing::MemoryDb::new(0);
        migrate(&mut db).unwrap();
        save_link(&mut db, LinkTable::Deals, &link("d1", 7, ""), 5).unwrap();
        for save in [save_new_link, save_link] {
            assert!(matches!(
                save(&mut db, LinkTable::Deals, &link("d2", 7, ""), 6),
                Err(DbError::Constraint(_))
            ));
        }
        assert!(
            link_by_hubspot_id(&mut db, LinkTable::Deals, "d2")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn linked_ids_and_links_are_read_for_exactly_the_ids_asked_over_several_statements() {
        let mut db = crate::testing::MemoryDb::new(0);
        migrate(&mut db).unwrap();
        let linked: Vec<i64> = (1..=(IN_LIST_CHUNK as i64 + 10))
            .filter(|i| i % 3 == 0)
            .collect();
        for id in &linked {
            save_link(
                &mut db,
                LinkTable::Companies,
                &link(&format!("c{id}"), *id, ""),
                1,
            )
            .unwrap();
        }
        let asked: Vec<i64> = (1..=(IN_LIST_CHUNK as i64 + 10)).collect();
        let found = linked_xentral_ids(&mut db, LinkTable::Companies, &asked).unwrap();
        assert_eq!(found, linked.iter().copied().collect::<HashSet<_>>());
        assert!(
            linked_xentral_ids(&mut db, LinkTable::Contacts, &asked)
                .unwrap()
                .is_empty()
        );
        let links = links_by_xentral_ids(&mut db, LinkTable::Companies, &asked).unwrap();
        assert_eq!(links.len(), linked.len());
        assert_eq!(links[&3].hubspot_id, "c3");
    }
}
