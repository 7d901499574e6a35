//! Secrets the host keeps for tenants: sealed at rest under a host key that lives outside the
//! data directory ([`key`], [`store`]), bound to the origin they were validated for, handed to
//! guests only by name and injected only into requests to that origin ([`job`]), and redacted
//! from everything a guest or an operator can read.

pub mod job;
pub mod key;
pub mod store;

pub use job::{JobSecrets, REDACTED};
pub use key::{HostKey, KEY_ENV, KEY_FILE_ENV, KeyError, KeySource, default_key_file};
pub use store::{STORE_FILE, Secret, SecretError, SecretStore};
