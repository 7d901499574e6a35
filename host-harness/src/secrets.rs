//! Secrets the host keeps for tenants: stored outside the tenant database, handed to guests
//! only by name, and redacted from everything a guest or an operator can read.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The text that replaces a secret value wherever it would otherwise appear.
pub const REDACTED: &str = "[REDACTED]";

/// Errors of the secret store.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file could not be read or written.
    #[error("secret store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("secret store {path} is corrupt: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A tenant's secrets on disk (`secrets.json`, mode 0600, beside the tenant database but never
/// in it).
#[derive(Debug, Clone)]
pub struct SecretStore {
    path: PathBuf,
}

impl SecretStore {
    /// The store in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        SecretStore {
            path: dir.join("secrets.json"),
        }
    }

    /// All secrets (empty when the file does not exist).
    pub fn load(&self) -> Result<BTreeMap<String, String>, SecretError> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SecretError::Corrupt {
                path: self.path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(SecretError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Stores or replaces one secret (written atomically, readable only by the owner).
    pub fn put(&self, name: &str, value: &str) -> Result<(), SecretError> {
        let mut all = self.load()?;
        all.insert(name.to_owned(), value.to_owned());
        let io = |source| SecretError::Io {
            path: self.path.clone(),
            source,
        };
        let tmp = self.path.with_extension("json.tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        let json = serde_json::to_vec_pretty(&all).expect("a string map always serialises");
        file.write_all(&json).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, &self.path).map_err(io)
    }
}

/// The secrets one job may use, by name; cheap to clone.
#[derive(Clone, Default)]
pub struct JobSecrets {
    values: Arc<BTreeMap<String, String>>,
}

impl std::fmt::Debug for JobSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSecrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl JobSecrets {
    /// Secrets from a map.
    pub fn new(values: BTreeMap<String, String>) -> Self {
        JobSecrets {
            values: Arc::new(values),
        }
    }

    /// Whether a secret of this name exists.
    pub fn exists(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A secret's value (only the HTTP layer asks).
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Replaces every secret value in `text`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in self.values.values().filter(|v| v.len() >= 4) {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }

    /// Replaces every secret value in a byte buffer.
    pub fn redact_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut out = bytes;
        for v in self.values.values().filter(|v| v.len() >= 4) {
            let needle = v.as_bytes();
            if out.windows(needle.len()).any(|w| w == needle) {
                let mut replaced = Vec::with_capacity(out.len());
                let mut i = 0;
                while i < out.len() {
                    if out[i..].starts_with(needle) {
                        replaced.extend_from_slice(REDACTED.as_bytes());
                        i += needle.len();
                    } else {
                        replaced.push(out[i]);
                        i += 1;
                    }
                }
                out = replaced;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_text_and_bytes() {
        let s = JobSecrets::new(BTreeMap::from([(
            "hubspot".into(),
            "pat-na1-secret".into(),
        )]));
        assert_eq!(s.redact("token pat-na1-secret!"), "token [REDACTED]!");
        assert_eq!(
            s.redact_bytes(b"xpat-na1-secretx".to_vec()),
            b"x[REDACTED]x".to_vec()
        );
    }

    #[test]
    fn store_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::in_dir(dir.path());
        store.put("hubspot", "pat-1").unwrap();
        assert_eq!(store.load().unwrap()["hubspot"], "pat-1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("secrets.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
    }
}
