//! The secrets one job may use, by name, and the redaction of their values from everything a
//! guest or an operator can read.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Secret;

/// The text that replaces a secret value wherever it would otherwise appear.
pub const REDACTED: &str = "[REDACTED]";

/// The secrets one job may use, by name; cheap to clone.
#[derive(Clone, Default)]
pub struct JobSecrets {
    values: Arc<BTreeMap<String, Secret>>,
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
    pub fn new(values: BTreeMap<String, Secret>) -> Self {
        JobSecrets {
            values: Arc::new(values),
        }
    }

    /// Whether a secret of this name exists.
    pub fn exists(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A secret (only the HTTP layer asks, to inject it).
    pub(crate) fn get(&self, name: &str) -> Option<&Secret> {
        self.values.get(name)
    }

    /// Replaces every secret value in `text`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in self
            .values
            .values()
            .map(|s| &s.value)
            .filter(|v| v.len() >= 4)
        {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }

    /// Replaces every secret value in a byte buffer.
    pub fn redact_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut out = bytes;
        for v in self
            .values
            .values()
            .map(|s| &s.value)
            .filter(|v| v.len() >= 4)
        {
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
            Secret {
                value: "pat-na1-secret".into(),
                origin: None,
            },
        )]));
        assert_eq!(s.redact("token pat-na1-secret!"), "token [REDACTED]!");
        assert_eq!(
            s.redact_bytes(b"xpat-na1-secretx".to_vec()),
            b"x[REDACTED]x".to_vec()
        );
    }
}
