//! Which tables a connection may touch with which verbs, and the SQLite authorizer built on it.
//!
//! A grant names xentral tables with the row verbs allowed on each (`adresse`: `SELECT`, `INSERT`,
//! `UPDATE`) and the plugin's *own* tables, on which every row verb and DDL (create, alter,
//! index, drop) is allowed. It is the same policy on both backends: on MariaDB it becomes the
//! privileges of the tenant's plugin account ([`TableGrant::mysql_grants`], enforced by the
//! server) with the statement check as a second line; on SQLite the authorizer enforces it. The
//! plugin can neither change xentral's schema nor hang a trigger or a view on any table.
//!
//! The grant in force is the host's policy ([`TableGrant::hubspot_policy`], or an operator's
//! own) intersected with what the plugin's manifest asks for ([`TableGrant::admit`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rusqlite::hooks::{AuthAction, AuthContext};
use serde::{Deserialize, Serialize};

/// A row verb on a xentral table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Privilege {
    /// Read rows (also needed to name columns in `WHERE`, `SET x = x + 1`, …).
    Select,
    /// Insert rows.
    Insert,
    /// Change rows.
    Update,
    /// Delete rows.
    Delete,
}

impl Privilege {
    /// All row verbs, in the order SQL lists them.
    pub const ALL: [Privilege; 4] = [
        Privilege::Select,
        Privilege::Insert,
        Privilege::Update,
        Privilege::Delete,
    ];

    /// The SQL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// The MariaDB privileges the plugin holds on each of its own tables: every row verb and the
/// DDL its migrations run. Never `REFERENCES`, `TRIGGER`, `CREATE VIEW` or anything global.
pub const OWN_TABLE_PRIVILEGES: &[&str] = &[
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
];

/// The tables a granted connection may use, and how. Table names are SQL identifiers of
/// `A-Z a-z 0-9 _` (checked when a grant is read from a file), so they can be quoted safely.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedGrant")]
pub struct TableGrant {
    /// xentral tables and the row verbs allowed on each.
    #[serde(default)]
    tables: BTreeMap<String, BTreeSet<Privilege>>,
    /// The plugin's own tables: all row verbs and DDL.
    #[serde(default)]
    own: BTreeSet<String>,
    /// In a policy: the namespace in which a plugin may ask for own tables besides those
    /// listed. A grant in force has none ([`TableGrant::admit`] lists what it admits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    own_prefix: Option<String>,
}

/// A grant as read from a file, before its names are checked.
#[derive(Deserialize)]
struct UncheckedGrant {
    #[serde(default)]
    tables: BTreeMap<String, BTreeSet<Privilege>>,
    #[serde(default)]
    own: BTreeSet<String>,
    #[serde(default)]
    own_prefix: Option<String>,
}

/// A grant names something that is not a plain table name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid table name `{0}` in a grant: use 1-64 characters from A-Z, a-z, 0-9 and _")]
pub struct GrantError(pub String);

impl TryFrom<UncheckedGrant> for TableGrant {
    type Error = GrantError;

    fn try_from(raw: UncheckedGrant) -> Result<Self, GrantError> {
        let bad = raw
            .tables
            .keys()
            .chain(raw.own.iter())
            .chain(raw.own_prefix.iter())
            .find(|t| !is_plain_name(t));
        match bad {
            Some(t) => Err(GrantError(t.clone())),
            None => Ok(TableGrant {
                tables: raw.tables,
                own: raw.own,
                own_prefix: raw.own_prefix,
            }),
        }
    }
}

/// Whether `name` is 1-64 characters from `A-Z a-z 0-9 _`.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The host's policy for a HubSpot plugin: the xentral tables a CRM sync may touch, with the
/// most verbs it may have on each. No plugin gets more; each gets what its manifest asks for
/// within this ([`TableGrant::admit`]).
const HUBSPOT_POLICY_TABLES: &[(&str, &[Privilege])] = {
    use Privilege::{Insert as I, Select as S, Update as U};
    &[
        ("adresse", &[S, I, U]),
        ("adresse_rolle", &[S, I]),
        ("ansprechpartner", &[S, I, U]),
        ("gruppen", &[S, I]),
        ("wiedervorlage", &[S, I, U]),
        ("wiedervorlage_stages", &[S, I, U]),
        ("wiedervorlage_view", &[S, I, U]),
        ("konfiguration", &[S, I, U]),
        ("prozessstarter", &[S, I]),
        ("firmendaten_werte", &[S, I, U]),
        ("laender", &[S]),
        // The old HubSpot module's id maps: read-only, to take its links over.
        ("hubspot_contacts", &[S]),
        ("hubspot_deals", &[S]),
    ]
};

/// The namespace of a HubSpot plugin's own tables under the host's policy: apart from
/// xentral's tables and the old module's (`hubspot_contacts`, …).
pub const HUBSPOT_OWN_PREFIX: &str = "hubspot_sync_";

impl TableGrant {
    /// A grant that allows nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The host's policy for a HubSpot plugin ([`HUBSPOT_POLICY_TABLES`], own tables in
    /// [`HUBSPOT_OWN_PREFIX`]).
    pub fn hubspot_policy() -> Self {
        let policy = HUBSPOT_POLICY_TABLES
            .iter()
            .fold(Self::new(), |g, (t, verbs)| g.with_table(t, verbs));
        TableGrant {
            own_prefix: Some(HUBSPOT_OWN_PREFIX.to_owned()),
            ..policy
        }
    }

    /// For tests of the backends: all the HubSpot policy allows, with the plugin's usual own
    /// tables, as the real plugin's manifest would be admitted.
    #[cfg(any(test, feature = "scratch"))]
    pub fn hubspot_plugin_for_tests() -> Self {
        let policy = Self::hubspot_policy();
        let own = [
            "contact_links",
            "deal_links",
            "options",
            "stage_map",
            "pipeline_map",
            "queue",
            "cursors",
            "failures",
            "conflicts",
            "backfills",
            "schema_version",
        ];
        let request = own.iter().fold(
            TableGrant {
                tables: policy.tables.clone(),
                ..Self::new()
            },
            |g, t| g.with_own_table(&format!("{HUBSPOT_OWN_PREFIX}{t}")),
        );
        policy.admit(&request)
    }

    /// What this policy grants a plugin that asks for `request`: each xentral table both
    /// name, with the verbs both name; each own table the policy lists or that is in its
    /// namespace, unless it is a xentral table of the policy. Asking never widens the policy.
    pub fn admit(&self, request: &TableGrant) -> TableGrant {
        let tables = request
            .tables
            .iter()
            .filter_map(|(t, asked)| {
                let allowed = self.tables.get(t)?;
                let verbs: BTreeSet<Privilege> = asked.intersection(allowed).copied().collect();
                (!verbs.is_empty()).then(|| (t.clone(), verbs))
            })
            .collect();
        let own = request
            .own
            .iter()
            .filter(|t| !self.tables.contains_key(*t))
            .filter(|t| {
                self.own.contains(*t)
                    || self
                        .own_prefix
                        .as_deref()
                        .is_some_and(|prefix| t.starts_with(prefix) && t.len() > prefix.len())
            })
            .cloned()
            .collect();
        TableGrant {
            tables,
            own,
            own_prefix: None,
        }
    }

    /// This grant without the xentral tables missing from `existing` (its own tables stay):
    /// MariaDB refuses a grant on a table that does not exist unless it includes `CREATE`,
    /// and the plugin reads tables such as the old module's only where they exist.
    pub fn existing_only(&self, existing: &BTreeSet<String>) -> Self {
        TableGrant {
            tables: self
                .tables
                .iter()
                .filter(|(t, _)| existing.contains(*t))
                .map(|(t, v)| (t.clone(), v.clone()))
                .collect(),
            own: self.own.clone(),
            own_prefix: self.own_prefix.clone(),
        }
    }

    /// Allows `verbs` on the xentral table `table` (added to what it allowed before).
    ///
    /// # Panics
    /// When `table` is not a plain name ([`is_plain_name`]): grants built in code name tables
    /// literally.
    pub fn with_table(mut self, table: &str, verbs: &[Privilege]) -> Self {
        assert!(is_plain_name(table), "not a table name: {table}");
        self.tables
            .entry(table.to_owned())
            .or_default()
            .extend(verbs.iter().copied());
        self
    }

    /// Adds one of the plugin's own tables (all row verbs and DDL).
    ///
    /// # Panics
    /// When `table` is not a plain name ([`is_plain_name`]).
    pub fn with_own_table(mut self, table: &str) -> Self {
        assert!(is_plain_name(table), "not a table name: {table}");
        self.own.insert(table.to_owned());
        self
    }

    /// Whether `verb` is allowed on `table`. `exact`: names compare as written (MariaDB with
    /// `lower_case_table_names=0`); otherwise case-insensitively (SQLite).
    pub fn allows(&self, table: &str, verb: Privilege, exact: bool) -> bool {
        self.owns(table, exact)
            || self
                .tables
                .iter()
                .any(|(t, verbs)| same_name(t, table, exact) && verbs.contains(&verb))
    }

    /// Whether `table` is granted with any verb at all.
    pub fn names(&self, table: &str, exact: bool) -> bool {
        self.owns(table, exact) || self.tables.keys().any(|t| same_name(t, table, exact))
    }

    /// Whether `table` is one of the plugin's own tables, so DDL on it is allowed.
    pub fn owns(&self, table: &str, exact: bool) -> bool {
        self.own.iter().any(|t| same_name(t, table, exact))
    }

    /// The xentral tables and their verbs.
    pub fn tables(&self) -> impl Iterator<Item = (&str, &BTreeSet<Privilege>)> {
        self.tables.iter().map(|(t, v)| (t.as_str(), v))
    }

    /// The plugin's own tables.
    pub fn own_tables(&self) -> impl Iterator<Item = &str> {
        self.own.iter().map(String::as_str)
    }

    /// Why `verb` on `table` is refused: the table's name when it is not granted at all, or
    /// `VERB on table` when it is granted with other verbs only.
    pub fn denial(&self, table: &str, verb: Privilege, exact: bool) -> String {
        if self.names(table, exact) {
            format!("{verb} on {table}")
        } else {
            table.to_owned()
        }
    }

    /// The `GRANT` statements that give `account` (`'user'@'host'`, quoted) exactly this grant on
    /// `database`, one per table.
    pub fn mysql_grants(&self, database: &str, account: &str) -> Vec<String> {
        let table = |t: &str| format!("`{database}`.`{t}`");
        self.tables
            .iter()
            .filter(|(_, verbs)| !verbs.is_empty())
            .map(|(t, verbs)| {
                let verbs: Vec<&str> = verbs.iter().map(|v| v.keyword()).collect();
                format!("GRANT {} ON {} TO {account}", verbs.join(", "), table(t))
            })
            .chain(self.own.iter().map(|t| {
                format!(
                    "GRANT {} ON {} TO {account}",
                    OWN_TABLE_PRIVILEGES.join(", "),
                    table(t)
                )
            }))
            .collect()
    }

    /// The authorizer's verdict on one action: `Err(what)` names the table (or statement kind)
    /// that was denied. `state` carries what the authorizer saw earlier in the same statement,
    /// `schema` the database's tables and triggers.
    pub(crate) fn check(
        &self,
        ctx: &AuthContext<'_>,
        state: &mut AuthState,
        schema: &SchemaSnapshot,
    ) -> Result<(), String> {
        let data = |table: &str, verb: Privilege| {
            if self.allows(table, verb, false) || is_table_function(table) {
                Ok(())
            } else {
                Err(self.denial(table, verb, false))
            }
        };
        let ddl = |table: &str| {
            self.owns(table, false)
                .then_some(())
                .ok_or(table.to_owned())
        };
        match ctx.action {
            // A trigger's own update of the row being written: only the host's schema has
            // triggers (the plugin may create none), and they emulate MySQL column semantics
            // (`ON UPDATE current_timestamp()`, temporal coercion) on their own table, so what
            // they do is part of the statement the grant already allowed. (The accessor is also
            // set inside a CTE, but a CTE cannot update.)
            AuthAction::Update { table_name, .. }
                if ctx
                    .accessor
                    .is_some_and(|trigger| schema.trigger_on(trigger, table_name)) =>
            {
                Ok(())
            }
            // `COUNT(*)` reads a table without a column; over a CTE the "table" is the CTE.
            AuthAction::Read {
                table_name,
                column_name: "",
            } if !schema.has_table(table_name) => Ok(()),
            AuthAction::Select
            | AuthAction::Recursive
            | AuthAction::Function { .. }
            | AuthAction::Reindex { .. } => Ok(()),
            // SQLite's own bookkeeping during DDL on own tables. Direct writes to the schema
            // table are refused by SQLite itself (`writable_schema` is a denied pragma).
            AuthAction::Read { table_name, .. }
            | AuthAction::Insert { table_name }
            | AuthAction::Update { table_name, .. }
            | AuthAction::Delete { table_name }
                if is_schema_table(table_name) =>
            {
                Ok(())
            }
            // The id counters of AUTOINCREMENT tables: readable; a row is deleted only when the
            // same statement drops one of the plugin's own tables.
            AuthAction::Read { table_name, .. } if is_sequence_table(table_name) => Ok(()),
            AuthAction::Delete { table_name }
                if is_sequence_table(table_name) && state.dropped_owned_table =>
            {
                Ok(())
            }
            AuthAction::Read { table_name, .. } => data(table_name, Privilege::Select),
            AuthAction::Insert { table_name } => data(table_name, Privilege::Insert),
            AuthAction::Update { table_name, .. } => data(table_name, Privilege::Update),
            AuthAction::Delete { table_name } => data(table_name, Privilege::Delete),
            AuthAction::DropTable { table_name } => {
                ddl(table_name)?;
                state.dropped_owned_table = true;
                Ok(())
            }
            AuthAction::CreateTable { table_name }
            | AuthAction::AlterTable { table_name, .. }
            | AuthAction::CreateIndex { table_name, .. }
            | AuthAction::DropIndex { table_name, .. } => ddl(table_name),
            // Temporary objects, triggers and views: the plugin needs none, and a trigger or a
            // view would later run with the rights of whoever fires or reads it.
            AuthAction::CreateTempTable { .. }
            | AuthAction::CreateTempIndex { .. }
            | AuthAction::DropTempTable { .. }
            | AuthAction::DropTempIndex { .. } => Err("TEMPORARY".into()),
            AuthAction::CreateTrigger { .. }
            | AuthAction::CreateTempTrigger { .. }
            | AuthAction::DropTrigger { .. }
            | AuthAction::DropTempTrigger { .. } => Err("TRIGGER".into()),
            AuthAction::CreateView { .. }
            | AuthAction::CreateTempView { .. }
            | AuthAction::DropView { .. }
            | AuthAction::DropTempView { .. } => Err("VIEW".into()),
            // The backend makes a dry run's connection read-only (`set_read_only`).
            AuthAction::Pragma {
                pragma_name: "query_only",
                pragma_value: Some("ON"),
            } if state.internal => Ok(()),
            AuthAction::Pragma {
                pragma_name,
                pragma_value,
            } => self.check_pragma(pragma_name, pragma_value),
            AuthAction::Transaction { .. } if state.internal => Ok(()),
            AuthAction::Transaction { .. } => Err("BEGIN".into()),
            AuthAction::Savepoint { .. } => Err("SAVEPOINT".into()),
            AuthAction::Attach { .. } => Err("ATTACH".into()),
            AuthAction::Detach { .. } => Err("DETACH".into()),
            AuthAction::Analyze { .. } => Err("ANALYZE".into()),
            AuthAction::CreateVtable { table_name, .. }
            | AuthAction::DropVtable { table_name, .. } => Err(table_name.to_owned()),
            _ => Err("unsupported statement".into()),
        }
    }

    /// Only read-only introspection of a granted table passes: `PRAGMA table_info(t)`,
    /// `table_xinfo`, `index_list` (a plugin migration may ask which columns its table has).
    /// SQLite needs no pragma of its own while running statements.
    fn check_pragma(&self, name: &str, value: Option<&str>) -> Result<(), String> {
        let introspection = matches!(
            name.to_ascii_lowercase().as_str(),
            "table_info" | "table_xinfo" | "index_list"
        );
        match value {
            Some(table) if introspection && self.names(table, false) => Ok(()),
            _ => Err(format!("PRAGMA {name}")),
        }
    }
}

fn same_name(granted: &str, used: &str, exact: bool) -> bool {
    if exact {
        granted == used
    } else {
        granted.eq_ignore_ascii_case(used)
    }
}

/// The tables and triggers a database had when its grant was set: what the authorizer needs
/// to tell a CTE from a table and a host trigger from anything else.
#[derive(Debug, Default)]
pub(crate) struct SchemaSnapshot {
    /// Table names, lower-case.
    pub tables: BTreeSet<String>,
    /// Trigger name → its table, lower-case.
    pub triggers: BTreeMap<String, String>,
}

impl SchemaSnapshot {
    fn has_table(&self, name: &str) -> bool {
        self.tables.contains(&name.to_ascii_lowercase())
    }

    fn trigger_on(&self, trigger: &str, table: &str) -> bool {
        self.triggers
            .get(&trigger.to_ascii_lowercase())
            .is_some_and(|t| t.eq_ignore_ascii_case(table))
    }
}

/// What the authorizer remembers while one statement is prepared.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    /// The backend runs its own statement (BEGIN/COMMIT/ROLLBACK, `PRAGMA query_only = ON`).
    pub internal: bool,
    /// The statement drops one of the plugin's own tables.
    pub dropped_owned_table: bool,
}

fn is_schema_table(name: &str) -> bool {
    [
        "sqlite_master",
        "sqlite_schema",
        "sqlite_temp_master",
        "sqlite_temp_schema",
    ]
    .iter()
    .any(|t| t.eq_ignore_ascii_case(name))
}

fn is_sequence_table(name: &str) -> bool {
    name.eq_ignore_ascii_case("sqlite_sequence")
}

/// Table-valued functions: `pragma_*` (the pragma itself is checked separately) and the JSON
/// walkers. Reading them touches no table.
fn is_table_function(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("pragma_") || n == "json_each" || n == "json_tree"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_granted_per_table() {
        let g = TableGrant::new()
            .with_table("laender", &[Privilege::Select])
            .with_own_table("hubspot_sync_contact_links");
        assert!(g.allows("laender", Privilege::Select, true));
        assert!(!g.allows("laender", Privilege::Delete, true));
        assert!(g.allows("hubspot_sync_contact_links", Privilege::Delete, true));
        assert!(!g.allows("user", Privilege::Select, true));
        assert_eq!(
            g.denial("laender", Privilege::Delete, true),
            "DELETE on laender"
        );
        assert_eq!(g.denial("user", Privilege::Select, true), "user");
    }

    #[test]
    fn exact_comparison_is_case_sensitive() {
        let g = TableGrant::new().with_table("adresse", &[Privilege::Select]);
        assert!(g.allows("ADRESSE", Privilege::Select, false));
        assert!(!g.allows("ADRESSE", Privilege::Select, true));
    }

    /// What a plugin might ask for: some of the policy, and more.
    fn request() -> TableGrant {
        TableGrant::new()
            .with_table("adresse", &[Privilege::Select, Privilege::Delete])
            .with_table("laender", &[Privilege::Select])
            .with_table("user", &[Privilege::Select])
            .with_table("artikel", &[Privilege::Update])
            .with_own_table("hubspot_sync_queue")
            .with_own_table("hubspot_sync_")
            .with_own_table("hubspot_contacts")
            .with_own_table("adresse")
            .with_own_table("other_plugin_state")
    }

    #[test]
    fn the_policy_admits_what_is_asked_for_within_it() {
        let g = TableGrant::hubspot_policy().admit(&request());
        assert!(g.allows("adresse", Privilege::Select, true));
        assert!(g.allows("laender", Privilege::Select, true));
        assert!(g.owns("hubspot_sync_queue", true));
        assert_eq!(g.own_prefix, None, "a grant in force names its own tables");
    }

    #[test]
    fn asking_never_widens_the_policy() {
        let g = TableGrant::hubspot_policy().admit(&request());
        // A verb the policy does not allow on a table it does.
        assert!(!g.allows("adresse", Privilege::Delete, true));
        // Tables outside the policy.
        assert!(!g.names("user", true));
        assert!(!g.names("artikel", true));
        // Own tables outside the namespace, the bare prefix, and xentral or old-module tables
        // asked for as own (which would give DDL on them).
        for t in [
            "other_plugin_state",
            "hubspot_sync_",
            "hubspot_contacts",
            "adresse",
        ] {
            assert!(!g.owns(t, true), "{t}");
        }
        // What was not asked for is not granted.
        assert!(!g.names("wiedervorlage", true));
    }

    #[test]
    fn an_operators_narrower_grant_is_the_policy_and_admits_only_within_it() {
        let policy = TableGrant::new()
            .with_table("adresse", &[Privilege::Select])
            .with_own_table("hubspot_sync_queue");
        let g = policy.admit(&request());
        assert_eq!(
            g,
            TableGrant::new()
                .with_table("adresse", &[Privilege::Select])
                .with_own_table("hubspot_sync_queue")
        );
    }

    #[test]
    fn mysql_grants_name_every_table_with_its_verbs() {
        let g = TableGrant::new()
            .with_table("laender", &[Privilege::Select])
            .with_table("adresse", &[Privilege::Update, Privilege::Select])
            .with_own_table("hubspot_x");
        assert_eq!(
            g.mysql_grants("xt_1", "'p'@'localhost'"),
            vec![
                "GRANT SELECT, UPDATE ON `xt_1`.`adresse` TO 'p'@'localhost'",
                "GRANT SELECT ON `xt_1`.`laender` TO 'p'@'localhost'",
                "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX ON `xt_1`.`hubspot_x` TO 'p'@'localhost'",
            ]
        );
    }

    #[test]
    fn names_that_are_not_identifiers_are_refused_when_read() {
        let bad = r#"{"tables": {"adresse` TO x; --": ["select"]}}"#;
        assert!(serde_json::from_str::<TableGrant>(bad).is_err());
        let bad_own = r#"{"own": ["a.b"]}"#;
        assert!(serde_json::from_str::<TableGrant>(bad_own).is_err());
        let bad_prefix = r#"{"own_prefix": "x%"}"#;
        assert!(serde_json::from_str::<TableGrant>(bad_prefix).is_err());
    }

    #[test]
    fn round_trips_through_json() {
        let g = TableGrant::hubspot_policy();
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(serde_json::from_str::<TableGrant>(&json).unwrap(), g);
    }
}
