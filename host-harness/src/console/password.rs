//! The console's administrator password: set with `xentral-host console password`, kept only
//! as an Argon2id hash (a PHC string with a random salt from the operating system) in
//! `DATA/console/admin-password`, a file only its owner may read or write. The console serves
//! nothing from the disk, so the web can never read it; a login reads it afresh, so a new
//! password takes effect at once and ends every session made with the old one.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Where a data directory keeps the hash, under its root.
pub const PASSWORD_FILE: &str = "console/admin-password";

/// The password file of the data directory at `data_dir`.
pub fn password_file(data_dir: &Path) -> PathBuf {
    data_dir.join(PASSWORD_FILE)
}

/// Why the password could not be set or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The new password is too short.
    #[error(
        "the password has {0} characters; use at least {MIN_PASSWORD_CHARS} (a passphrase of a few words is easy to type and hard to guess)"
    )]
    TooShort(usize),
    /// No password has been set.
    #[error(
        "no console administrator password is set for this data directory ({0} is missing): set one with `xentral-host console password`"
    )]
    NotSet(PathBuf),
    /// Others may change the file.
    #[error(
        "{path} may be changed by other users (mode {mode:o}): it must be writable by its owner only (chmod 600 {path})"
    )]
    Unsafe {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold an Argon2 hash.
    #[error(
        "{0} does not hold an Argon2 password hash: set the password again with `xentral-host console password`"
    )]
    Corrupt(PathBuf),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Hashing failed (the operating system's random source, most likely).
    #[error("could not hash the password: {0}")]
    Hash(String),
}

/// The stored hash, as one login or request reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPassword {
    phc: String,
    fingerprint: [u8; 32],
}

impl StoredPassword {
    /// Whether `password` is the administrator's. Runs Argon2 with the parameters stored in
    /// the hash (tens of milliseconds, by design).
    pub fn matches(&self, password: &str) -> bool {
        Argon2::default()
            .verify_password(password.as_bytes(), self.phc.as_str())
            .is_ok()
    }

    /// A digest of the stored hash: sessions remember it, so changing the password ends them.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }
}

/// The administrator password file.
#[derive(Debug, Clone)]
pub struct AdminPassword {
    path: PathBuf,
}

impl AdminPassword {
    /// The password kept in `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        AdminPassword { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets the password: hashes it with Argon2id (its default, recommended parameters) and a
    /// fresh random salt, and replaces the file atomically (mode 0600, its directory 0700).
    pub fn set(&self, password: &str) -> Result<(), PasswordError> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort(chars));
        }
        let phc = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| PasswordError::Hash(e.to_string()))?
            .to_string();
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| PasswordError::Io { path, source }
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        let tmp = self.path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        file.write_all(format!("{phc}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io(&tmp))?;
        fs::rename(&tmp, &self.path).map_err(io(&self.path))
    }

    /// Reads the stored hash; refuses a file others may change (they could put in a hash of
    /// their own password).
    pub fn load(&self) -> Result<StoredPassword, PasswordError> {
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PasswordError::NotSet(self.path.clone()));
            }
            Err(source) => {
                return Err(PasswordError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(PasswordError::Unsafe {
                path: self.path.clone(),
                mode,
            });
        }
        let text = fs::read_to_string(&self.path).map_err(|source| PasswordError::Io {
            path: self.path.clone(),
            source,
        })?;
        let phc = text.trim().to_owned();
        if argon2::password_hash::phc::PasswordHash::new(&phc).is_err()
            || !phc.starts_with("$argon2")
        {
            return Err(PasswordError::Corrupt(self.path.clone()));
        }
        let fingerprint = Sha256::digest(phc.as_bytes()).into();
        Ok(StoredPassword { phc, fingerprint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_password_matches_and_another_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let password = AdminPassword::at(password_file(dir.path()));
        password.set("correct horse battery").unwrap();
        let stored = password.load().unwrap();
        assert!(stored.matches("correct horse battery"));
        assert!(!stored.matches("correct horse battery "));
        assert!(stored.phc.starts_with("$argon2id$v=19$"), "{}", stored.phc);
        let mode = fs::metadata(password.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn the_same_password_set_twice_gets_a_new_salt_and_a_new_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let password = AdminPassword::at(password_file(dir.path()));
        password.set("correct horse battery").unwrap();
        let first = password.load().unwrap();
        password.set("correct horse battery").unwrap();
        let second = password.load().unwrap();
        assert_ne!(first.fingerprint(), second.fingerprint());
        assert!(second.matches("correct horse battery"));
    }

    #[test]
    fn a_short_password_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let password = AdminPassword::at(password_file(dir.path()));
        let e = password.set("short").unwrap_err();
        assert!(matches!(e, PasswordError::TooShort(5)), "{e}");
        assert!(!password.path().exists());
        assert!(matches!(password.load(), Err(PasswordError::NotSet(_))));
    }

    #[test]
    fn a_file_others_may_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let password = AdminPassword::at(password_file(dir.path()));
        password.set("correct horse battery").unwrap();
        fs::set_permissions(password.path(), fs::Permissions::from_mode(0o666)).unwrap();
        assert!(matches!(
            password.load(),
            Err(PasswordError::Unsafe { mode: 0o666, .. })
        ));
    }

    #[test]
    fn a_file_without_a_hash_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let password = AdminPassword::at(password_file(dir.path()));
        fs::create_dir_all(password.path().parent().unwrap()).unwrap();
        fs::write(password.path(), "hunter2\n").unwrap();
        fs::set_permissions(password.path(), fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(password.load(), Err(PasswordError::Corrupt(_))));
    }
}
