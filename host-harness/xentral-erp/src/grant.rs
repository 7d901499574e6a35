//! Which tables a connection may touch, and the authorizer decision built on it.
//!
//! A grant lists exact table names (`adresse`) and name prefixes (`hubspot_*`). Like the MariaDB
//! grants it stands for (`GRANT SELECT, INSERT, UPDATE, DELETE ON xentral.adresse` versus
//! `GRANT ALL ON xentral.hubspot\_%`), an exact name allows reading and writing rows, while a
//! prefix also allows DDL: the plugin creates, alters and drops its own `hubspot_*` tables,
//! indexes and triggers, but can neither change xentral's schema nor hang a trigger on a xentral
//! table (which would later run with xentral's rights).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use rusqlite::hooks::{AuthAction, AuthContext};

/// The tables a granted connection may use. Names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableGrant {
    tables: BTreeSet<String>,
    prefixes: BTreeSet<String>,
}

/// The xentral tables the HubSpot plugin reads or writes.
const PLUGIN_TABLES: &[&str] = &[
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
    "laender",
];

/// A grant list could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid table grant entry `{0}`: expected a table name or a prefix ending in `*`")]
pub struct GrantParseError(pub String);

impl TableGrant {
    /// A grant that allows nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The xentral tables the HubSpot plugin needs, plus its own `hubspot_*` namespace.
    pub fn plugin_default() -> Self {
        PLUGIN_TABLES
            .iter()
            .fold(Self::new(), |g, t| g.with_table(t))
            .with_prefix("hubspot_")
    }

    /// Adds one exact table name (row access only).
    pub fn with_table(mut self, table: &str) -> Self {
        self.tables.insert(table.to_ascii_lowercase());
        self
    }

    /// Adds a name prefix (row access and DDL on every name starting with it).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefixes.insert(prefix.to_ascii_lowercase());
        self
    }

    /// Whether rows of `table` may be read and written.
    pub fn allows(&self, table: &str) -> bool {
        let t = table.to_ascii_lowercase();
        self.tables.contains(&t) || self.owns(&t)
    }

    /// Whether `name` lies in a granted prefix, so DDL on it is allowed.
    pub fn owns(&self, name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        self.prefixes.iter().any(|p| n.starts_with(p.as_str()))
    }

    /// The authorizer's verdict on one action: `Err(what)` names the table (or statement kind)
    /// that was denied. `state` carries what the authorizer saw earlier in the same statement.
    pub(crate) fn check(&self, ctx: &AuthContext<'_>, state: &mut AuthState) -> Result<(), String> {
        let data = |table: &str| {
            (self.allows(table) || is_table_function(table))
                .then_some(())
                .ok_or(table.to_owned())
        };
        let ddl = |table: &str| self.owns(table).then_some(()).ok_or(table.to_owned());
        match ctx.action {
            AuthAction::Select
            | AuthAction::Recursive
            | AuthAction::Function { .. }
            | AuthAction::Reindex { .. } => Ok(()),
            // SQLite's own bookkeeping during DDL on granted names. Direct writes to the schema
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
            // same statement drops a table of the grant's own namespace.
            AuthAction::Read { table_name, .. } if is_sequence_table(table_name) => Ok(()),
            AuthAction::Delete { table_name }
                if is_sequence_table(table_name) && state.dropped_owned_table =>
            {
                Ok(())
            }
            AuthAction::Read { table_name, .. }
            | AuthAction::Insert { table_name }
            | AuthAction::Update { table_name, .. }
            | AuthAction::Delete { table_name } => data(table_name),
            AuthAction::DropTable { table_name } | AuthAction::DropTempTable { table_name } => {
                ddl(table_name)?;
                state.dropped_owned_table = true;
                Ok(())
            }
            AuthAction::CreateTable { table_name }
            | AuthAction::CreateTempTable { table_name }
            | AuthAction::AlterTable { table_name, .. }
            | AuthAction::CreateIndex { table_name, .. }
            | AuthAction::CreateTempIndex { table_name, .. }
            | AuthAction::DropIndex { table_name, .. }
            | AuthAction::DropTempIndex { table_name, .. }
            | AuthAction::CreateTrigger { table_name, .. }
            | AuthAction::CreateTempTrigger { table_name, .. }
            | AuthAction::DropTrigger { table_name, .. }
            | AuthAction::DropTempTrigger { table_name, .. } => ddl(table_name),
            AuthAction::CreateView { view_name }
            | AuthAction::CreateTempView { view_name }
            | AuthAction::DropView { view_name }
            | AuthAction::DropTempView { view_name } => ddl(view_name),
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
            Some(table) if introspection && self.allows(table) => Ok(()),
            _ => Err(format!("PRAGMA {name}")),
        }
    }
}

/// What the authorizer remembers while one statement is prepared.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    /// The backend runs its own BEGIN/COMMIT/ROLLBACK.
    pub internal: bool,
    /// The statement drops a table of a granted prefix.
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

impl FromStr for TableGrant {
    type Err = GrantParseError;

    /// Parses a comma list such as `adresse,konfiguration,hubspot_*`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid =
            |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        s.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .try_fold(Self::new(), |g, entry| match entry.strip_suffix('*') {
                Some(prefix) if valid(prefix) => Ok(g.with_prefix(prefix)),
                None if valid(entry) => Ok(g.with_table(entry)),
                _ => Err(GrantParseError(entry.to_owned())),
            })
    }
}

impl fmt::Display for TableGrant {
    /// Prints the comma list [`FromStr`] reads: tables first, then prefixes with `*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .tables
            .iter()
            .cloned()
            .chain(self.prefixes.iter().map(|p| format!("{p}*")))
            .collect();
        f.write_str(&entries.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tables_and_prefixes() {
        let g: TableGrant = "adresse, Konfiguration,hubspot_*".parse().unwrap();
        assert!(g.allows("ADRESSE"));
        assert!(g.allows("konfiguration"));
        assert!(g.allows("hubspot_contacts"));
        assert!(!g.allows("user"));
        assert!(g.owns("hubspot_deals"));
        assert!(!g.owns("adresse"));
    }

    #[test]
    fn prints_what_it_parses() {
        let g: TableGrant = "laender,adresse,hubspot_*".parse().unwrap();
        assert_eq!(g.to_string(), "adresse,laender,hubspot_*");
        assert_eq!(g.to_string().parse::<TableGrant>().unwrap(), g);
    }

    #[test]
    fn rejects_malformed_entries() {
        assert!("adresse;drop".parse::<TableGrant>().is_err());
        assert!("*".parse::<TableGrant>().is_err());
        assert!("a*b".parse::<TableGrant>().is_err());
    }

    #[test]
    fn plugin_default_covers_the_plugin_tables() {
        let g = TableGrant::plugin_default();
        for t in PLUGIN_TABLES {
            assert!(g.allows(t), "{t}");
        }
        assert!(g.owns("hubspot_request_queues"));
        assert!(!g.allows("user"));
    }
}
