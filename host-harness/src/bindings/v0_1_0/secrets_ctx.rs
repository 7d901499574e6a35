//! `xentral:hubspot/secrets`: whether a secret exists by name (values never cross).

use crate::secrets::JobSecrets;

use super::xentral::hubspot::secrets;

/// What the secrets interface of one job holds.
pub struct SecretsCtx {
    pub(crate) secrets: JobSecrets,
}

impl secrets::Host for SecretsCtx {
    fn exists(&mut self, name: String) -> bool {
        self.secrets.exists(&name)
    }
}
