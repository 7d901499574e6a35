//! The host key: what encrypts every tenant's secrets at rest. It lives outside the data
//! directory — in a key file (mode 0600, created on first use, default
//! `~/.config/xentral-host/host.key`, or `--key-file`/[`KEY_FILE_ENV`]) or in the environment
//! ([`KEY_ENV`], 64 hex digits) — so a copy or backup of the data directory reveals no secret.
//!
//! A key file holds a ring of keys, the first one current: secrets are written under the
//! current key and read under whichever key their record names. [`HostKey::rotate`] adds a new
//! current key, re-encrypts, then drops the old ones, so a crash in between loses nothing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chacha20poly1305::aead::{KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The environment variable that may hold the host key itself (64 hex digits).
pub const KEY_ENV: &str = "XENTRAL_HOST_KEY";

/// The environment variable that may name the key file.
pub const KEY_FILE_ENV: &str = "XENTRAL_HOST_KEY_FILE";

/// Problems with the host key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("host key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file or variable does not hold a key.
    #[error("the host key {from} is not valid: {message}")]
    Invalid {
        /// Where it came from.
        from: String,
        /// What is wrong.
        message: String,
    },
    /// The key file is inside the data directory.
    #[error(
        "the host key file {path} is inside the data directory {data_dir}: a copy of the data directory would hand out every secret; keep it elsewhere (--key-file)"
    )]
    InsideDataDir {
        /// The key file.
        path: PathBuf,
        /// The data directory.
        data_dir: PathBuf,
    },
    /// Rotation needs a key file.
    #[error(
        "the host key comes from {KEY_ENV}, which the host cannot rewrite; use a key file (--key-file) to rotate"
    )]
    NotRotatable,
}

/// A 256-bit key and its id (the first 8 hex digits of its SHA-256).
#[derive(Clone)]
pub(crate) struct RingKey {
    pub(crate) id: String,
    pub(crate) key: Key,
}

impl RingKey {
    fn new(key: Key) -> Self {
        let id = hex::encode(&Sha256::digest(key.as_slice())[..4]);
        RingKey { id, key }
    }

    fn generate() -> Self {
        RingKey::new(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    fn parse(hex_key: &str, from: &str) -> Result<Self, KeyError> {
        let invalid = |message: &str| KeyError::Invalid {
            from: from.to_owned(),
            message: message.to_owned(),
        };
        let bytes = hex::decode(hex_key.trim()).map_err(|_| invalid("not hex"))?;
        if bytes.len() != 32 {
            return Err(invalid("a key is 32 bytes (64 hex digits)"));
        }
        Ok(RingKey::new(*Key::from_slice(&bytes)))
    }

    pub(crate) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key)
    }
}

/// The key file's format.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    /// Hex keys, the current one first.
    keys: Vec<String>,
}

/// Where the host key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A key file (created on first use).
    File(PathBuf),
    /// The key itself, from [`KEY_ENV`].
    Env(String),
    /// A random key held in memory only, for tests and throw-away demos: what it encrypts is
    /// unreadable once the process ends.
    Ephemeral,
}

impl KeySource {
    /// The source the CLI uses: [`KEY_ENV`] if set, else `file` (from `--key-file` or
    /// [`KEY_FILE_ENV`]), else [`default_key_file`].
    pub fn from_environment(file: Option<PathBuf>) -> Self {
        match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => KeySource::Env(v),
            _ => KeySource::File(file.unwrap_or_else(default_key_file)),
        }
    }

    /// For people: the file's path, or the variable's name.
    pub fn describe(&self) -> String {
        match self {
            KeySource::File(p) => p.display().to_string(),
            KeySource::Env(_) => format!("${KEY_ENV}"),
            KeySource::Ephemeral => "an in-memory key".into(),
        }
    }
}

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostKey")
            .field("source", &self.source.describe())
            .finish()
    }
}

/// `$XDG_CONFIG_HOME/xentral-host/host.key`, or `~/.config/xentral-host/host.key`.
pub fn default_key_file() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("/etc"));
    base.join("xentral-host").join("host.key")
}

/// The host key ring, loaded on first use.
pub struct HostKey {
    source: KeySource,
    ring: Mutex<Option<Vec<RingKey>>>,
}

impl HostKey {
    /// A host key from `source`; nothing is read or created yet.
    pub fn new(source: KeySource) -> Self {
        let ring = match &source {
            KeySource::Ephemeral => Some(vec![RingKey::generate()]),
            _ => None,
        };
        HostKey {
            source,
            ring: Mutex::new(ring),
        }
    }

    /// A key file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::new(KeySource::File(path.into()))
    }

    /// A random key in memory only (tests, throw-away demos).
    pub fn ephemeral() -> Self {
        Self::new(KeySource::Ephemeral)
    }

    /// Where the key comes from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// Refuses a key file inside `data_dir`.
    pub fn check_outside(&self, data_dir: &Path) -> Result<(), KeyError> {
        let KeySource::File(path) = &self.source else {
            return Ok(());
        };
        let absolute = |p: &Path| {
            let p = if p.is_absolute() {
                p.to_path_buf()
            } else {
                std::env::current_dir().unwrap_or_default().join(p)
            };
            // Resolve what exists (symlinks included), keep the rest as written.
            let mut existing = p.clone();
            let mut rest = Vec::new();
            while !existing.exists() {
                match (existing.parent(), existing.file_name()) {
                    (Some(parent), Some(name)) => {
                        rest.push(name.to_owned());
                        existing = parent.to_path_buf();
                    }
                    _ => break,
                }
            }
            let mut resolved = existing.canonicalize().unwrap_or(existing);
            for part in rest.iter().rev() {
                resolved.push(part);
            }
            resolved
        };
        let (key, data) = (absolute(path), absolute(data_dir));
        if key.starts_with(&data) {
            return Err(KeyError::InsideDataDir {
                path: path.clone(),
                data_dir: data_dir.to_path_buf(),
            });
        }
        Ok(())
    }

    /// The key with this id, if the ring has it (`None` also when there is no key yet).
    pub(crate) fn find(&self, id: &str) -> Result<Option<RingKey>, KeyError> {
        let mut ring = self.lock();
        if ring.is_none() {
            *ring = self.read()?;
        }
        Ok(ring
            .as_ref()
            .and_then(|keys| keys.iter().find(|k| k.id == id).cloned()))
    }

    /// The current key, created (and written with mode 0600) when there is none yet.
    pub(crate) fn current(&self) -> Result<RingKey, KeyError> {
        let mut ring = self.lock();
        if ring.is_none() {
            *ring = self.read()?;
        }
        if ring.is_none() {
            *ring = Some(self.create()?);
        }
        Ok(ring.as_ref().expect("set above")[0].clone())
    }

    /// Starts a rotation: a new current key is added in front of the ring (written before any
    /// secret uses it). Returns its id. [`finish_rotation`](Self::finish_rotation) drops the
    /// old keys once every secret was re-encrypted.
    pub(crate) fn begin_rotation(&self) -> Result<String, KeyError> {
        let KeySource::File(path) = &self.source else {
            return Err(KeyError::NotRotatable);
        };
        let mut ring = self.lock();
        let mut keys = match ring.take() {
            Some(keys) => keys,
            None => self.read()?.unwrap_or_default(),
        };
        let new = RingKey::generate();
        let id = new.id.clone();
        keys.insert(0, new);
        write_key_file(path, &keys)?;
        *ring = Some(keys);
        Ok(id)
    }

    /// Ends a rotation: only the current key stays.
    pub(crate) fn finish_rotation(&self) -> Result<(), KeyError> {
        let KeySource::File(path) = &self.source else {
            return Err(KeyError::NotRotatable);
        };
        let mut ring = self.lock();
        if let Some(keys) = ring.as_mut() {
            keys.truncate(1);
            write_key_file(path, keys)?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<RingKey>>> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the ring; `None` when the key file does not exist yet.
    fn read(&self) -> Result<Option<Vec<RingKey>>, KeyError> {
        match &self.source {
            KeySource::Env(value) => Ok(Some(vec![RingKey::parse(value, &format!("${KEY_ENV}"))?])),
            KeySource::Ephemeral => Ok(None),
            KeySource::File(path) => {
                let text = match fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(source) => {
                        return Err(KeyError::Io {
                            path: path.clone(),
                            source,
                        });
                    }
                };
                let from = path.display().to_string();
                let file: KeyFile = serde_json::from_str(&text).map_err(|e| KeyError::Invalid {
                    from: from.clone(),
                    message: e.to_string(),
                })?;
                if file.keys.is_empty() {
                    return Err(KeyError::Invalid {
                        from,
                        message: "it holds no key".into(),
                    });
                }
                file.keys
                    .iter()
                    .map(|k| RingKey::parse(k, &from))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
        }
    }

    /// Creates the key file with a fresh key; a file another process created meanwhile wins.
    fn create(&self) -> Result<Vec<RingKey>, KeyError> {
        let KeySource::File(path) = &self.source else {
            unreachable!("env and ephemeral keys always read a ring");
        };
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let keys = vec![RingKey::generate()];
        match open_private(path, true) {
            Ok(mut file) => {
                file.write_all(&key_file_bytes(&keys))
                    .and_then(|()| file.sync_all())
                    .map_err(io)?;
                Ok(keys)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok(self.read()?.unwrap_or(keys))
            }
            Err(e) => Err(io(e)),
        }
    }
}

fn key_file_bytes(keys: &[RingKey]) -> Vec<u8> {
    let file = KeyFile {
        keys: keys.iter().map(|k| hex::encode(k.key.as_slice())).collect(),
    };
    serde_json::to_vec_pretty(&file).expect("a key file serialises")
}

/// Replaces the key file atomically (mode 0600).
fn write_key_file(path: &Path, keys: &[RingKey]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("key.tmp");
    let mut file = open_private(&tmp, false).map_err(io)?;
    file.write_all(&key_file_bytes(keys))
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

/// Opens a file for writing that only its owner can read (`create_new`: fail if it exists).
pub(crate) fn open_private(path: &Path, create_new: bool) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_created_on_first_use_readable_only_by_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/host.key");
        let key = HostKey::file(&path);
        assert!(!path.exists());
        let current = key.current().unwrap();
        assert!(path.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o077, 0);
        }
        let again = HostKey::file(&path);
        assert_eq!(again.current().unwrap().id, current.id);
    }

    #[test]
    fn a_key_file_inside_the_data_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = HostKey::file(dir.path().join("data/keys/host.key"));
        assert!(matches!(
            key.check_outside(&dir.path().join("data")),
            Err(KeyError::InsideDataDir { .. })
        ));
        let outside = HostKey::file(dir.path().join("host.key"));
        assert!(outside.check_outside(&dir.path().join("data")).is_ok());
    }

    #[test]
    fn an_env_key_must_be_64_hex_digits() {
        let key = HostKey::new(KeySource::Env("abcd".into()));
        assert!(matches!(key.current(), Err(KeyError::Invalid { .. })));
        let ok = HostKey::new(KeySource::Env("11".repeat(32)));
        assert_eq!(ok.current().unwrap().key.as_slice(), &[0x11; 32]);
    }

    #[test]
    fn rotation_keeps_the_old_key_until_it_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let key = HostKey::file(dir.path().join("host.key"));
        let old = key.current().unwrap().id;
        let new = key.begin_rotation().unwrap();
        assert_ne!(old, new);
        let reread = HostKey::file(dir.path().join("host.key"));
        assert!(reread.find(&old).unwrap().is_some());
        assert_eq!(reread.current().unwrap().id, new);
        key.finish_rotation().unwrap();
        let after = HostKey::file(dir.path().join("host.key"));
        assert!(after.find(&old).unwrap().is_none());
        assert!(after.find(&new).unwrap().is_some());
    }
}
