//! Tenants on disk: one directory per tenant under the data directory, holding its settings
//! (`tenant.json`), its xentral database (`xentral.sqlite`, the embedded default) and its secrets
//! (`secrets.json`).
//!
//! A tenant may instead keep its xentral database on MariaDB/MySQL (`tenant create NAME --db
//! mysql://…`): `tenant.json` then records the URL without its password, and the password, if
//! any, is kept in the secret store under [`DB_PASSWORD_SECRET`], which guests never see.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xentral_erp::{Database, MysqlDatabase, MysqlUrl, SqliteDatabase};

use crate::clock::{SharedClock, now_fn};
use crate::limits::TenantLimits;
use crate::outbound::Origin;
use crate::secrets::{SecretError, SecretStore};

/// The default time zone of a xentral tenant.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Berlin";

/// The secret under which the host keeps the password of a tenant's MariaDB URL. It is the
/// host's own: never handed to guests (see [`Tenant::guest_secrets`]).
pub const DB_PASSWORD_SECRET: &str = "xentral_db_password";

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
    /// A limit setting is invalid.
    #[error("invalid limits: {0}")]
    Limits(String),
    /// The database URL is not usable.
    #[error(transparent)]
    DatabaseUrl(#[from] xentral_erp::MysqlUrlError),
}

/// A tenant's stored configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TenantConfig {
    /// The tenant's name.
    pub name: String,
    /// The HubSpot base URL the plugin was configured with (the default allow-list).
    #[serde(default)]
    pub hubspot_url: Option<String>,
    /// IANA time zone for xentral's local date/time columns.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Sandbox limits.
    #[serde(default)]
    pub limits: TenantLimits,
    /// The MariaDB/MySQL database (`mysql://USER@HOST:PORT/DB`, never with a password);
    /// `None`: the SQLite file in the tenant's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

fn default_time_zone() -> String {
    DEFAULT_TIME_ZONE.into()
}

/// The data directory holding all tenants and the compiled-component cache.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// A data directory at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    /// The root path.
    pub fn root(&self) -> &Path {
        &self.root
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
        self.create_tenant_on(name, None, clock)
    }

    /// Creates a tenant whose xentral database is `database` (a `mysql://` URL; `None`: SQLite).
    ///
    /// On MariaDB the database is created if missing (when the URL's user may), the reference
    /// tables that do not exist yet are loaded, and `laender` is seeded; a real xentral
    /// database is left as it is. The URL's password goes to the secret store, not into
    /// `tenant.json`.
    pub fn create_tenant_on(
        &self,
        name: &str,
        database: Option<&str>,
        clock: &SharedClock,
    ) -> Result<Tenant, TenantError> {
        validate_name(name)?;
        let url = database.map(MysqlUrl::parse).transpose()?;
        if url.as_ref().is_some_and(|u| u.database.is_none()) {
            return Err(xentral_erp::MysqlUrlError(
                "the URL names no database (mysql://USER@HOST:PORT/DATABASE)".into(),
            )
            .into());
        }
        let dir = self.tenants_dir().join(name);
        if dir.join("tenant.json").exists() {
            return Err(TenantError::Exists(name.into()));
        }
        fs::create_dir_all(&dir).map_err(|source| TenantError::Io {
            path: dir.clone(),
            source,
        })?;
        let tenant = Tenant {
            dir,
            config: TenantConfig {
                name: name.into(),
                hubspot_url: None,
                time_zone: default_time_zone(),
                limits: TenantLimits::default(),
                database_url: url.as_ref().map(|u| u.without_password().to_string()),
            },
        };
        if let Some(url) = &url {
            if let Some(password) = &url.password {
                tenant.secrets().put(DB_PASSWORD_SECRET, password)?;
            }
            create_mysql_database(url, clock)?;
        }
        tenant.migrate(clock)?;
        tenant.save()?;
        Ok(tenant)
    }

    /// Opens an existing tenant.
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
        let config = serde_json::from_slice(&bytes).map_err(|e| TenantError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Tenant { dir, config })
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

/// Creates the database `url` names unless it exists. A user without the right to create
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
    /// password).
    pub fn database_location(&self) -> String {
        self.config
            .database_url
            .clone()
            .unwrap_or_else(|| self.db_path().display().to_string())
    }

    /// The tenant's MariaDB URL with its password from the secret store, or `None` for SQLite.
    pub fn mysql_url(&self) -> Result<Option<MysqlUrl>, TenantError> {
        let Some(stored) = &self.config.database_url else {
            return Ok(None);
        };
        let mut url = MysqlUrl::parse(stored)?;
        url.password = self.secrets().load()?.remove(DB_PASSWORD_SECRET);
        Ok(Some(url))
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

    /// The database with full rights, for the host's own use (UI operations, scheduler).
    pub fn open_admin_db(&self, clock: &SharedClock) -> Result<Box<dyn Database>, TenantError> {
        Ok(match self.mysql_url()? {
            None => Box::new(SqliteDatabase::open(&self.db_path(), now_fn(clock))?),
            Some(url) => Box::new(MysqlDatabase::connect(&url, now_fn(clock))?),
        })
    }

    /// The database restricted to the tenant's table grant, for guests.
    pub fn open_guest_db(&self, clock: &SharedClock) -> Result<Box<dyn Database>, TenantError> {
        let grant = self.config.limits.grant();
        Ok(match self.mysql_url()? {
            None => {
                Box::new(SqliteDatabase::open(&self.db_path(), now_fn(clock))?.with_grant(grant))
            }
            Some(url) => Box::new(MysqlDatabase::connect(&url, now_fn(clock))?.with_grant(grant)),
        })
    }

    /// The tenant's secret store.
    pub fn secrets(&self) -> SecretStore {
        SecretStore::in_dir(&self.dir)
    }

    /// The secrets a guest may use by name: all but the host's own ([`DB_PASSWORD_SECRET`]).
    pub fn guest_secrets(&self) -> Result<std::collections::BTreeMap<String, String>, TenantError> {
        let mut secrets = self.secrets().load()?;
        secrets.remove(DB_PASSWORD_SECRET);
        Ok(secrets)
    }

    /// The origins the guest may reach: the configured list, or else the HubSpot base URL.
    pub fn allowed_origins(&self) -> Result<Vec<Origin>, TenantError> {
        let list: Vec<String> = if self.config.limits.allowed_origins.is_empty() {
            self.config.hubspot_url.iter().cloned().collect()
        } else {
            self.config.limits.allowed_origins.clone()
        };
        list.iter()
            .map(|s| Origin::parse(s).map_err(TenantError::Limits))
            .collect()
    }
}
