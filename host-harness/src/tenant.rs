//! Tenants on disk: one directory per tenant under the data directory, holding its settings
//! (`tenant.json`), its xentral database (`xentral.sqlite`, the embedded default) and its secrets
//! (`secrets.enc.json`, sealed under the host key, which lives elsewhere).
//!
//! A tenant may instead keep its xentral database on MariaDB/MySQL (`tenant create NAME --db
//! mysql://…`). Two accounts are used there, never mixed: the host's own (the URL given, as
//! xentral itself connects: migrations, the scheduler's claims, status, the emulated UI) and the
//! tenant's **plugin account**, the only one the plugin's SQL ever runs on, holding privileges on
//! exactly the tables of the tenant's grant (see [`xentral_erp::mysql::account`]). Both
//! passwords are secrets of the host ([`DB_PASSWORD_SECRET`], [`PLUGIN_DB_PASSWORD_SECRET`]);
//! guests never see either.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use xentral_erp::mysql::account::{self, AccountError};
use xentral_erp::{Database, MysqlDatabase, MysqlUrl, SqliteDatabase, TableGrant};

use crate::clock::{SharedClock, now_fn};
use crate::limits::TenantLimits;
use crate::outbound::{Origin, OriginError};
use crate::secrets::{HostKey, Secret, SecretError, SecretStore};

/// The default time zone of a xentral tenant.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Berlin";

/// The secret holding the password of the host's own MariaDB account. Never handed to guests.
pub const DB_PASSWORD_SECRET: &str = "xentral_db_password";

/// The secret holding the password of the tenant's MariaDB plugin account. Never handed to
/// guests either: the host opens the plugin's connection itself.
pub const PLUGIN_DB_PASSWORD_SECRET: &str = "xentral_db_plugin_password";

/// Secrets that are the host's own (the guest may use every other by name).
const HOST_SECRETS: &[&str] = &[DB_PASSWORD_SECRET, PLUGIN_DB_PASSWORD_SECRET];

/// Errors about tenants.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// No such tenant.
    #[error("unknown tenant '{0}'")]
    Unknown(String),
    /// It exists already.
    #[error("tenant '{0}' exists already")]
    Exists(String),
    /// The name is not usable.
    #[error(
        "invalid tenant name '{0}': use 1-64 characters from a-z, 0-9, '-' and '_', starting with a letter or digit"
    )]
    InvalidName(String),
    /// Files could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `tenant.json` is not valid.
    #[error("{path} is not a valid tenant file: {message}")]
    Corrupt {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The tenant database failed.
    #[error("tenant database: {0}")]
    Database(#[from] xentral_erp::DbError),
    /// The secret store failed.
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// A limit or origin setting is invalid.
    #[error("invalid limits: {0}")]
    Limits(String),
    /// An origin may not be used.
    #[error(transparent)]
    Origin(#[from] OriginError),
    /// The database URL is not usable.
    #[error(transparent)]
    DatabaseUrl(#[from] xentral_erp::MysqlUrlError),
    /// The plugin account could not be set up, or was refused.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The plugin account is on another server or database than the tenant's.
    #[error(
        "the plugin account {plugin} is not on the tenant's database {database}: give an account of the same server, port and database"
    )]
    AccountElsewhere {
        /// The plugin account's URL (no password).
        plugin: String,
        /// The tenant's database (no password).
        database: String,
    },
    /// A MariaDB tenant from before plugin accounts.
    #[error(
        "tenant '{0}' has no MariaDB plugin account yet, and the plugin's SQL never runs on the host's account"
    )]
    NoPluginAccount(String),
}

/// A tenant's stored configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TenantConfig {
    /// The tenant's name.
    pub name: String,
    /// The HubSpot base URL the plugin was configured with (the default allow-list).
    #[serde(default)]
    pub hubspot_url: Option<String>,
    /// A CA certificate (PEM) the tenant trusts besides Mozilla's roots, for a local trial or
    /// test portal; set only by the operator (`settings --ca-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_ca_pem: Option<String>,
    /// IANA time zone for xentral's local date/time columns.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Sandbox limits.
    #[serde(default)]
    pub limits: TenantLimits,
    /// The MariaDB/MySQL database with the host's own account (`mysql://USER@HOST:PORT/DB`,
    /// never with a password); `None`: the SQLite file in the tenant's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// The user name of the tenant's MariaDB plugin account (same server and database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_db_user: Option<String>,
    /// The settings last saved (the operator's, no secret): what `settings` keeps for each
    /// flag not given again.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::settings_defaults::saved_settings"
    )]
    pub settings: Option<crate::report::Settings>,
}

fn default_time_zone() -> String {
    DEFAULT_TIME_ZONE.into()
}

/// Where a MariaDB tenant's databases come from.
#[derive(Debug, Clone)]
pub struct MysqlSetup<'a> {
    /// The host's own account and the tenant's database.
    pub database: &'a str,
    /// A plugin account a DBA prepared (checked, never widened); `None`: the host creates one
    /// through the host's account.
    pub plugin_account: Option<&'a str>,
}

/// The data directory holding all tenants and the compiled-component cache.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
    key: Arc<HostKey>,
}

impl DataDir {
    /// A data directory at `root` (created on first write) whose secrets `key` seals.
    pub fn new(root: impl Into<PathBuf>, key: Arc<HostKey>) -> Self {
        DataDir {
            root: root.into(),
            key,
        }
    }

    /// The root path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host key.
    pub fn key(&self) -> &Arc<HostKey> {
        &self.key
    }

    /// Where compiled components are cached.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    fn tenants_dir(&self) -> PathBuf {
        self.root.join("tenants")
    }

    /// Creates a tenant with the xentral schema in its own SQLite file.
    pub fn create_tenant(&self, name: &str, clock: &SharedClock) -> Result<Tenant, TenantError> {
        self.create_tenant_on(name, None, &TableGrant::new(), clock)
    }

    /// Creates a tenant whose xentral database is on MariaDB (`Some`) or SQLite (`None`).
    ///
    /// On MariaDB the database is created if missing (when the host's account may), the
    /// reference tables that do not exist yet are loaded, `laender` is seeded (a real xentral
    /// database is left as it is), and the plugin account is set up (see
    /// [`Tenant::connect_mysql`]). Nothing is left behind when a step fails.
    pub fn create_tenant_on(
        &self,
        name: &str,
        mysql: Option<MysqlSetup<'_>>,
        requested: &TableGrant,
        clock: &SharedClock,
    ) -> Result<Tenant, TenantError> {
        validate_name(name)?;
        let dir = self.tenants_dir().join(name);
        if dir.join("tenant.json").exists() {
            return Err(TenantError::Exists(name.into()));
        }
        fs::create_dir_all(&dir).map_err(|source| TenantError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut tenant = Tenant {
            dir: dir.clone(),
            key: Arc::clone(&self.key),
            config: TenantConfig {
                name: name.into(),
                hubspot_url: None,
                extra_ca_pem: None,
                time_zone: default_time_zone(),
                limits: TenantLimits::default(),
                database_url: None,
                plugin_db_user: None,
                settings: None,
            },
        };
        let created = match mysql {
            Some(setup) => tenant.connect_mysql(&setup, requested, clock),
            None => tenant.migrate(clock).map(|_| ()),
        }
        .and_then(|()| tenant.save());
        if let Err(e) = created {
            let _ = fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(tenant)
    }

    /// Opens an existing tenant; plaintext secrets of earlier versions are sealed on the way.
    pub fn tenant(&self, name: &str) -> Result<Tenant, TenantError> {
        validate_name(name)?;
        let dir = self.tenants_dir().join(name);
        let path = dir.join("tenant.json");
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(TenantError::Unknown(name.into()));
            }
            Err(source) => return Err(TenantError::Io { path, source }),
        };
        let config: TenantConfig =
            serde_json::from_slice(&bytes).map_err(|e| TenantError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let tenant = Tenant {
            dir,
            key: Arc::clone(&self.key),
            config,
        };
        let hubspot = tenant.hubspot_origin()?.map(|o| o.to_string());
        tenant.secrets().migrate_plaintext(|name| match name {
            crate::host::HUBSPOT_CREDENTIAL => hubspot.clone(),
            _ => None,
        })?;
        Ok(tenant)
    }

    /// Replaces the host key: a new key goes in front of the key file, every tenant's secrets
    /// are sealed again under it, then the old keys are dropped. A crash in between leaves
    /// every secret readable (the file still holds both keys); running it again finishes.
    /// Returns the new key's id and how many secrets were sealed again.
    pub fn rotate_key(&self) -> Result<(String, usize), TenantError> {
        let names = self.tenant_names()?;
        // Every secret must open before anything changes.
        for name in &names {
            self.tenant(name)?.secrets().load()?;
        }
        let id = self.key.begin_rotation().map_err(SecretError::from)?;
        let mut sealed = 0;
        for name in &names {
            sealed += self.tenant(name)?.secrets().reseal()?;
        }
        self.key.finish_rotation().map_err(SecretError::from)?;
        Ok((id, sealed))
    }

    /// Names of all tenants, sorted.
    pub fn tenant_names(&self) -> Result<Vec<String>, TenantError> {
        let dir = self.tenants_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(TenantError::Io { path: dir, source }),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("tenant.json").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }
}

/// Creates the database `url` names unless it exists. An account without the right to create
/// databases may still use an existing one, so a refusal is not an error here; connecting to it
/// afterwards tells.
fn create_mysql_database(url: &MysqlUrl, clock: &SharedClock) -> Result<(), TenantError> {
    let Some(name) = url.database.as_deref() else {
        return Ok(());
    };
    let mut server = MysqlDatabase::connect(&url.with_database(None), now_fn(clock))?;
    match server.create_database(name) {
        Ok(()) | Err(xentral_erp::DbError::Denied(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A password for a generated account: 32 random letters and digits (190 bits).
fn generate_password() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Six random characters from `a-z 0-9` naming this data directory's plugin account.
fn installation_id() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .filter(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        .take(6)
        .map(char::from)
        .collect()
}

fn validate_name(name: &str) -> Result<(), TenantError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(TenantError::InvalidName(name.into()))
    }
}

/// One tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    dir: PathBuf,
    key: Arc<HostKey>,
    /// Its configuration.
    pub config: TenantConfig,
}

impl Tenant {
    /// The tenant's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The tenant's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The SQLite file (used only when the tenant has no [`TenantConfig::database_url`]).
    pub fn db_path(&self) -> PathBuf {
        self.dir.join("xentral.sqlite")
    }

    /// Where the tenant's database is, for people: the SQLite path or the MariaDB URL (without
    /// password) and the plugin account.
    pub fn database_location(&self) -> String {
        match (&self.config.database_url, &self.config.plugin_db_user) {
            (Some(url), Some(user)) => format!("{url}, plugin account {user}"),
            (Some(url), None) => url.clone(),
            (None, _) => self.db_path().display().to_string(),
        }
    }

    /// The host's own MariaDB URL with its password, or `None` for SQLite.
    pub fn mysql_url(&self) -> Result<Option<MysqlUrl>, TenantError> {
        let Some(stored) = &self.config.database_url else {
            return Ok(None);
        };
        let mut url = MysqlUrl::parse(stored)?;
        url.password = self.secrets().get(DB_PASSWORD_SECRET)?.map(|s| s.value);
        Ok(Some(url))
    }

    /// The plugin account's URL with its password, or `None` for SQLite.
    pub fn plugin_mysql_url(&self) -> Result<Option<MysqlUrl>, TenantError> {
        let Some(stored) = &self.config.database_url else {
            return Ok(None);
        };
        let user = self
            .config
            .plugin_db_user
            .clone()
            .ok_or_else(|| TenantError::NoPluginAccount(self.name().to_owned()))?;
        let mut url = MysqlUrl::parse(stored)?;
        url.user = user;
        url.password = self
            .secrets()
            .get(PLUGIN_DB_PASSWORD_SECRET)?
            .map(|s| s.value);
        Ok(Some(url))
    }

    /// Connects the tenant to its MariaDB database: keeps the host's account, prepares the
    /// database (see [`DataDir::create_tenant_on`]) and sets up the plugin account — the one a
    /// DBA prepared, after [`account::verify`] found exactly the grant's rights, or one the
    /// host creates through its own account with a generated password. Both passwords are
    /// sealed in the secret store; the tenant file is saved by the caller.
    pub fn connect_mysql(
        &mut self,
        setup: &MysqlSetup<'_>,
        requested: &TableGrant,
        clock: &SharedClock,
    ) -> Result<(), TenantError> {
        let url = MysqlUrl::parse(setup.database)?;
        if url.database.is_none() {
            return Err(xentral_erp::MysqlUrlError(
                "the URL names no database (mysql://USER@HOST:PORT/DATABASE)".into(),
            )
            .into());
        }
        create_mysql_database(&url, clock)?;
        let mut admin = MysqlDatabase::connect(&url, now_fn(clock))?;
        admin.migrate()?;
        let grant = self.config.limits.grant(requested);
        let plugin = match setup.plugin_account {
            Some(given) => {
                let plugin = MysqlUrl::parse(given)?;
                let same_place = plugin.host == url.host
                    && plugin.port == url.port
                    && plugin.database == url.database;
                if !same_place {
                    return Err(TenantError::AccountElsewhere {
                        plugin: plugin.without_password().to_string(),
                        database: url.without_password().to_string(),
                    });
                }
                // The account holds rights on what exists (the old module's tables may not).
                let grant = grant.existing_only(&admin.table_names()?);
                account::verify(&plugin, &grant, &self.config.limits.account())?;
                plugin
            }
            None => {
                let database = url.database.as_deref().unwrap_or_default();
                // One account per data directory: connecting again reuses (and resets) it.
                let user = self
                    .config
                    .plugin_db_user
                    .clone()
                    .filter(|u| u.starts_with(&account::account_prefix(database)))
                    .unwrap_or_else(|| account::account_user(database, &installation_id()));
                // Leaves out the tables that do not exist itself.
                account::provision(
                    &url,
                    &user,
                    &grant,
                    &generate_password(),
                    &self.config.limits.account(),
                )?
            }
        };
        let secrets = self.secrets();
        match &url.password {
            Some(p) => secrets.put(DB_PASSWORD_SECRET, p, None)?,
            None => secrets.remove(DB_PASSWORD_SECRET)?,
        }
        match &plugin.password {
            Some(p) => secrets.put(PLUGIN_DB_PASSWORD_SECRET, p, None)?,
            None => secrets.remove(PLUGIN_DB_PASSWORD_SECRET)?,
        }
        self.config.database_url = Some(url.without_password().to_string());
        self.config.plugin_db_user = Some(plugin.user);
        Ok(())
    }

    /// Writes `tenant.json`.
    pub fn save(&self) -> Result<(), TenantError> {
        let path = self.dir.join("tenant.json");
        let json = serde_json::to_vec_pretty(&self.config).expect("config serialises");
        let tmp = path.with_extension("json.tmp");
        fs::write(&tmp, json)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|source| TenantError::Io { path, source })
    }

    /// Creates or upgrades the xentral schema (SQLite), or loads the reference tables that are
    /// missing and seeds `laender` (MariaDB). Returns the SQLite schema version, or on MariaDB
    /// the number of tables created.
    pub fn migrate(&self, clock: &SharedClock) -> Result<u32, TenantError> {
        match self.mysql_url()? {
            None => {
                let db = SqliteDatabase::open(&self.db_path(), now_fn(clock))?;
                Ok(xentral_erp::migrate(db.connection())?)
            }
            Some(url) => {
                let created = MysqlDatabase::connect(&url, now_fn(clock))?.migrate()?;
                Ok(u32::try_from(created).unwrap_or(u32::MAX))
            }
        }
    }

    /// The database on the host's own account, for the host's own use (UI operations,
    /// scheduler). Never handed to a guest.
    pub fn open_admin_db(&self, clock: &SharedClock) -> Result<Box<dyn Database>, TenantError> {
        Ok(match self.mysql_url()? {
            None => Box::new(SqliteDatabase::open(&self.db_path(), now_fn(clock))?),
            Some(url) => Box::new(MysqlDatabase::connect(&url, now_fn(clock))?),
        })
    }

    /// The database for guests: on MariaDB the plugin account's connection (the server
    /// enforces the grant), on SQLite the authorizer; both with the statement check or
    /// authorizer and the tenant's statement limits.
    pub fn open_guest_db(
        &self,
        clock: &SharedClock,
        requested: &TableGrant,
    ) -> Result<Box<dyn Database>, TenantError> {
        let grant = self.config.limits.grant(requested);
        let limits = self.config.limits.statements();
        Ok(match self.plugin_mysql_url()? {
            None => Box::new(
                SqliteDatabase::open(&self.db_path(), now_fn(clock))?
                    .with_grant(grant)
                    .with_limits(limits),
            ),
            Some(url) => Box::new(
                MysqlDatabase::connect(&url, now_fn(clock))?
                    .with_limits(limits)?
                    .with_grant(grant),
            ),
        })
    }

    /// The tenant's secret store.
    pub fn secrets(&self) -> SecretStore {
        SecretStore::new(&self.dir, self.name(), Arc::clone(&self.key))
    }

    /// The secrets a guest may use by name: all but the host's own.
    pub fn guest_secrets(&self) -> Result<BTreeMap<String, Secret>, TenantError> {
        let mut secrets = self.secrets().load()?;
        secrets.retain(|name, _| !HOST_SECRETS.contains(&name.as_str()));
        Ok(secrets)
    }

    /// The origin of the saved HubSpot URL.
    pub fn hubspot_origin(&self) -> Result<Option<Origin>, TenantError> {
        Ok(self
            .config
            .hubspot_url
            .as_deref()
            .map(Origin::parse)
            .transpose()?)
    }

    /// The origins the guest may reach: the configured list, or else the HubSpot base URL.
    pub fn allowed_origins(&self) -> Result<Vec<Origin>, TenantError> {
        let list: Vec<String> = if self.config.limits.allowed_origins.is_empty() {
            self.config.hubspot_url.iter().cloned().collect()
        } else {
            self.config.limits.allowed_origins.clone()
        };
        Ok(list
            .iter()
            .map(|s| Origin::parse(s))
            .collect::<Result<_, _>>()?)
    }
}
