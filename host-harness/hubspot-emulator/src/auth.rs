//! Bearer-token authentication and scope checks for one portal.

use std::collections::{HashMap, HashSet};

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A token the portal accepts, optionally limited to a list of scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenConfig {
    /// The bearer token, e.g. `pat-na1-…`.
    pub token: String,
    /// `None` grants every scope; `Some` grants exactly these.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

impl TokenConfig {
    /// A token with every scope.
    pub fn all_scopes(token: &str) -> TokenConfig {
        TokenConfig {
            token: token.into(),
            scopes: None,
        }
    }

    /// A token with exactly these scopes.
    pub fn with_scopes(token: &str, scopes: &[&str]) -> TokenConfig {
        TokenConfig {
            token: token.into(),
            scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
        }
    }
}

/// The tokens of the portal.
pub(crate) struct Auth {
    tokens: HashMap<String, Option<HashSet<String>>>,
}

impl Auth {
    pub(crate) fn new(tokens: &[TokenConfig]) -> Auth {
        Auth {
            tokens: tokens
                .iter()
                .map(|t| {
                    (
                        t.token.clone(),
                        t.scopes.as_ref().map(|s| s.iter().cloned().collect()),
                    )
                })
                .collect(),
        }
    }

    /// 401 without a known bearer token (`hapikey` is not accepted), 403 when scopes are missing.
    pub(crate) fn check(&self, headers: &HeaderMap, required: &[String]) -> Result<(), ApiError> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(granted) = token.and_then(|t| self.tokens.get(t)) else {
            return Err(ApiError::unauthenticated());
        };
        match granted {
            Some(granted) if !required.iter().all(|s| granted.contains(s)) => {
                Err(ApiError::missing_scopes(required))
            }
            _ => Ok(()),
        }
    }
}
