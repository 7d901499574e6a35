//! A tenant's secrets at rest: `secrets.enc.json` in the tenant's directory, each value sealed
//! with XChaCha20-Poly1305 under the host key ([`super::HostKey`]), a random nonce, and the
//! tenant, the secret's name and its origin as associated data — so a value copied to another
//! tenant or name, or an origin edited in the file, no longer opens. The file names no key, only
//! the id of the key each value was sealed with.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, AeadCore, OsRng, Payload};
use serde::{Deserialize, Serialize};

use super::key::{HostKey, KeyError, open_private};

/// The file a tenant's secrets are kept in.
pub const STORE_FILE: &str = "secrets.enc.json";

/// The plaintext file earlier versions kept; migrated and removed on first use.
const LEGACY_FILE: &str = "secrets.json";

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
    /// Some secrets do not open with the host key: it is missing or another one.
    #[error(
        "the secrets {} of tenant '{tenant}' cannot be decrypted with the host key from {key} (the key is missing or not the one they were saved with); restore that key, or enter them again",
        names.join(", ")
    )]
    Undecryptable {
        /// The tenant.
        tenant: String,
        /// The secrets that do not open.
        names: Vec<String>,
        /// Where the host key came from.
        key: String,
    },
    /// The host key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// One secret: its value and the origin (`scheme://host:port`) it was validated for, which is
/// the only place the host will ever send it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The value.
    pub value: String,
    /// The origin it is bound to, if any.
    pub origin: Option<String>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("value", &super::REDACTED)
            .field("origin", &self.origin)
            .finish()
    }
}

#[derive(Serialize, Deserialize, Default)]
struct StoreFile {
    version: u32,
    secrets: BTreeMap<String, Sealed>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Sealed {
    /// Id of the host key it was sealed with.
    key: String,
    nonce: String,
    ciphertext: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
}

/// One tenant's secret store.
#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: PathBuf,
    tenant: String,
    key: Arc<HostKey>,
}

impl SecretStore {
    /// The store of `tenant` in its directory `dir`, sealed under `key`.
    pub fn new(dir: impl Into<PathBuf>, tenant: &str, key: Arc<HostKey>) -> Self {
        SecretStore {
            dir: dir.into(),
            tenant: tenant.to_owned(),
            key,
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }

    /// All secrets; empty when there are none. Fails, naming them, when any does not open.
    pub fn load(&self) -> Result<BTreeMap<String, Secret>, SecretError> {
        let file = self.read()?;
        let mut out = BTreeMap::new();
        let mut closed = Vec::new();
        for (name, sealed) in &file.secrets {
            match self.open(name, sealed)? {
                Some(secret) => {
                    out.insert(name.clone(), secret);
                }
                None => closed.push(name.clone()),
            }
        }
        if closed.is_empty() {
            Ok(out)
        } else {
            Err(self.undecryptable(closed))
        }
    }

    /// One secret, if stored; fails when it does not open.
    pub fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let file = self.read()?;
        let Some(sealed) = file.secrets.get(name) else {
            return Ok(None);
        };
        match self.open(name, sealed)? {
            Some(secret) => Ok(Some(secret)),
            None => Err(self.undecryptable(vec![name.to_owned()])),
        }
    }

    /// Stores or replaces one secret under the current host key (created on first use); the
    /// file is replaced atomically and readable only by its owner. Other entries stay as they
    /// are, even those that do not open: re-entering one secret never loses another.
    pub fn put(&self, name: &str, value: &str, origin: Option<&str>) -> Result<(), SecretError> {
        let mut file = self.read()?;
        let sealed = self.seal(name, value, origin)?;
        file.secrets.insert(name.to_owned(), sealed);
        self.write(&file)
    }

    /// Removes one secret.
    pub fn remove(&self, name: &str) -> Result<(), SecretError> {
        let mut file = self.read()?;
        if file.secrets.remove(name).is_some() {
            self.write(&file)?;
        }
        Ok(())
    }

    /// Seals every secret again under the current host key (key rotation).
    pub fn reseal(&self) -> Result<usize, SecretError> {
        let all = self.load()?;
        let mut file = StoreFile {
            version: 1,
            secrets: BTreeMap::new(),
        };
        for (name, secret) in &all {
            let sealed = self.seal(name, &secret.value, secret.origin.as_deref())?;
            file.secrets.insert(name.clone(), sealed);
        }
        self.write(&file)?;
        Ok(all.len())
    }

    /// Moves secrets from the plaintext `secrets.json` of earlier versions into this store and
    /// deletes that file; `origin_of` names the origin each one was used with. Returns how many
    /// were moved (0 when there was no such file).
    pub fn migrate_plaintext(
        &self,
        origin_of: impl Fn(&str) -> Option<String>,
    ) -> Result<usize, SecretError> {
        let legacy = self.dir.join(LEGACY_FILE);
        let bytes = match fs::read(&legacy) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(source) => {
                return Err(SecretError::Io {
                    path: legacy,
                    source,
                });
            }
        };
        let plain: BTreeMap<String, String> =
            serde_json::from_slice(&bytes).map_err(|e| SecretError::Corrupt {
                path: legacy.clone(),
                message: e.to_string(),
            })?;
        let mut file = self.read()?;
        for (name, value) in &plain {
            let origin = origin_of(name);
            let sealed = self.seal(name, value, origin.as_deref())?;
            file.secrets.insert(name.clone(), sealed);
        }
        self.write(&file)?;
        fs::remove_file(&legacy).map_err(|source| SecretError::Io {
            path: legacy,
            source,
        })?;
        Ok(plain.len())
    }

    fn undecryptable(&self, names: Vec<String>) -> SecretError {
        SecretError::Undecryptable {
            tenant: self.tenant.clone(),
            names,
            key: self.key.source().describe(),
        }
    }

    /// What the secret is bound to: nothing can be moved between tenants, names or origins.
    fn associated_data(&self, name: &str, origin: Option<&str>) -> Vec<u8> {
        format!(
            "xentral-host secret v1\0{}\0{name}\0{}",
            self.tenant,
            origin.unwrap_or("")
        )
        .into_bytes()
    }

    fn seal(&self, name: &str, value: &str, origin: Option<&str>) -> Result<Sealed, SecretError> {
        let key = self.key.current()?;
        let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = self.associated_data(name, origin);
        let ciphertext = key
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory value cannot fail");
        Ok(Sealed {
            key: key.id,
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
            origin: origin.map(str::to_owned),
        })
    }

    /// Opens one value; `None` when the key is missing or another one (or the record was
    /// tampered with).
    fn open(&self, name: &str, sealed: &Sealed) -> Result<Option<Secret>, SecretError> {
        let Some(key) = self.key.find(&sealed.key)? else {
            return Ok(None);
        };
        let corrupt = |message: &str| SecretError::Corrupt {
            path: self.path(),
            message: format!("secret '{name}': {message}"),
        };
        let nonce = B64
            .decode(&sealed.nonce)
            .map_err(|_| corrupt("the nonce is not base64"))?;
        if nonce.len() != 24 {
            return Err(corrupt("the nonce is not 24 bytes"));
        }
        let ciphertext = B64
            .decode(&sealed.ciphertext)
            .map_err(|_| corrupt("the value is not base64"))?;
        let aad = self.associated_data(name, sealed.origin.as_deref());
        let Ok(plain) = key.cipher().decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        ) else {
            return Ok(None);
        };
        let value = String::from_utf8(plain).map_err(|_| corrupt("the value is not UTF-8"))?;
        Ok(Some(Secret {
            value,
            origin: sealed.origin.clone(),
        }))
    }

    fn read(&self) -> Result<StoreFile, SecretError> {
        let path = self.path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SecretError::Corrupt {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoreFile {
                version: 1,
                secrets: BTreeMap::new(),
            }),
            Err(source) => Err(SecretError::Io { path, source }),
        }
    }

    fn write(&self, file: &StoreFile) -> Result<(), SecretError> {
        let path = self.path();
        let io = |source| SecretError::Io {
            path: path.clone(),
            source,
        };
        let tmp = self
            .dir
            .join(format!("{STORE_FILE}.tmp{}", std::process::id()));
        let mut out = open_private(&tmp, false).map_err(io)?;
        let json = serde_json::to_vec_pretty(file).expect("the store serialises");
        out.write_all(&json)
            .and_then(|()| out.sync_all())
            .map_err(io)?;
        fs::rename(&tmp, &path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &std::path::Path, tenant: &str, key: &Arc<HostKey>) -> SecretStore {
        SecretStore::new(dir, tenant, Arc::clone(key))
    }

    fn key_in(dir: &tempfile::TempDir) -> Arc<HostKey> {
        Arc::new(HostKey::file(dir.path().join("host.key")))
    }

    #[test]
    fn round_trips_and_the_file_holds_no_plaintext() {
        let (data, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let s = store(data.path(), "acme", &key_in(&keys));
        s.put(
            "hubspot",
            "pat-eu1-very-secret",
            Some("https://api.hubapi.com:443"),
        )
        .unwrap();
        let got = s.get("hubspot").unwrap().unwrap();
        assert_eq!(got.value, "pat-eu1-very-secret");
        assert_eq!(got.origin.as_deref(), Some("https://api.hubapi.com:443"));
        let raw = fs::read_to_string(data.path().join(STORE_FILE)).unwrap();
        assert!(!raw.contains("pat-eu1"), "{raw}");
        assert!(!raw.contains(&hex::encode("pat-eu1-very-secret")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.path().join(STORE_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
    }

    #[test]
    fn a_wrong_key_is_a_clear_error_naming_the_secrets_and_loses_nothing() {
        let (data, keys, other) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        store(data.path(), "acme", &key_in(&keys))
            .put("hubspot", "pat-1", None)
            .unwrap();
        let before = fs::read(data.path().join(STORE_FILE)).unwrap();
        let wrong = store(data.path(), "acme", &key_in(&other));
        match wrong.load() {
            Err(SecretError::Undecryptable { names, tenant, .. }) => {
                assert_eq!(names, vec!["hubspot"]);
                assert_eq!(tenant, "acme");
            }
            other => panic!("expected Undecryptable, got {other:?}"),
        }
        assert_eq!(fs::read(data.path().join(STORE_FILE)).unwrap(), before);
        // Re-entering one secret under the new key keeps the other entry as it was.
        wrong.put("xentral_db_password", "pw", None).unwrap();
        let right = store(data.path(), "acme", &key_in(&keys));
        assert_eq!(right.get("hubspot").unwrap().unwrap().value, "pat-1");
    }

    #[test]
    fn a_missing_key_file_is_not_silently_replaced() {
        let (data, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        store(data.path(), "acme", &key_in(&keys))
            .put("hubspot", "pat-1", None)
            .unwrap();
        fs::remove_file(keys.path().join("host.key")).unwrap();
        let s = store(data.path(), "acme", &key_in(&keys));
        assert!(matches!(s.load(), Err(SecretError::Undecryptable { .. })));
        assert!(
            !keys.path().join("host.key").exists(),
            "reading must not create a key"
        );
    }

    #[test]
    fn a_value_moved_to_another_tenant_or_origin_does_not_open() {
        let (a, b, keys) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let key = key_in(&keys);
        store(a.path(), "acme", &key)
            .put("hubspot", "pat-1", Some("https://api.hubapi.com:443"))
            .unwrap();
        fs::copy(a.path().join(STORE_FILE), b.path().join(STORE_FILE)).unwrap();
        assert!(matches!(
            store(b.path(), "other", &key).load(),
            Err(SecretError::Undecryptable { .. })
        ));
        let text = fs::read_to_string(a.path().join(STORE_FILE))
            .unwrap()
            .replace("https://api.hubapi.com:443", "https://evil.example:443");
        fs::write(a.path().join(STORE_FILE), text).unwrap();
        assert!(matches!(
            store(a.path(), "acme", &key).load(),
            Err(SecretError::Undecryptable { .. })
        ));
    }

    #[test]
    fn plaintext_secrets_of_earlier_versions_are_sealed_and_removed() {
        let (data, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fs::write(data.path().join(LEGACY_FILE), r#"{"hubspot":"pat-old"}"#).unwrap();
        let s = store(data.path(), "acme", &key_in(&keys));
        let moved = s
            .migrate_plaintext(|_| Some("https://api.hubapi.com:443".into()))
            .unwrap();
        assert_eq!(moved, 1);
        assert!(!data.path().join(LEGACY_FILE).exists());
        let got = s.get("hubspot").unwrap().unwrap();
        assert_eq!(got.value, "pat-old");
        assert_eq!(s.migrate_plaintext(|_| None).unwrap(), 0);
    }

    #[test]
    fn reseal_moves_every_secret_to_the_current_key() {
        let (data, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let key = key_in(&keys);
        let s = store(data.path(), "acme", &key);
        s.put("hubspot", "pat-1", None).unwrap();
        let new = key.begin_rotation().unwrap();
        assert_eq!(s.reseal().unwrap(), 1);
        key.finish_rotation().unwrap();
        let raw = fs::read_to_string(data.path().join(STORE_FILE)).unwrap();
        assert!(raw.contains(&new), "{raw}");
        assert_eq!(s.get("hubspot").unwrap().unwrap().value, "pat-1");
    }
}
