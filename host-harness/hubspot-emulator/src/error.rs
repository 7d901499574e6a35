//! Error types: write failures of the store, start-up failures, and HubSpot's HTTP error bodies.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// One rejected property value, as HubSpot lists it inside a validation error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// HubSpot's error code, e.g. `PROPERTY_DOESNT_EXIST`, `INVALID_OPTION`, `INVALID_DATE`.
    pub code: String,
    /// Human-readable reason.
    pub message: String,
    /// The property concerned.
    pub property: String,
}

impl FieldError {
    pub(crate) fn new(code: &str, property: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            code: code.into(),
            message: message.into(),
            property: property.into(),
        }
    }
}

/// Why a write to the store was refused; the same rules apply over HTTP and in process.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// 400 `VALIDATION_ERROR`, with the offending properties when there are any.
    #[error("{message}")]
    Invalid {
        /// The message HubSpot would send.
        message: String,
        /// Per-property details.
        errors: Vec<FieldError>,
    },
    /// 409 `CONFLICT`: a unique value (e-mail or `hasUniqueValue` property) is taken.
    #[error("{message}")]
    Conflict {
        /// The message, which names the existing id as HubSpot does.
        message: String,
        /// The id of the record holding the value.
        existing_id: String,
    },
    /// 404 `OBJECT_NOT_FOUND`.
    #[error("Object not found.  objectId are usually numeric.")]
    NotFound {
        /// The id (or id-property value) that matched nothing.
        id: String,
    },
}

impl WriteError {
    /// A validation error made of property errors, worded like HubSpot's.
    pub(crate) fn properties(errors: Vec<FieldError>) -> WriteError {
        let listed: Vec<Value> = errors
            .iter()
            .map(|e| {
                json!({"isValid": false, "message": e.message, "error": e.code, "name": e.property,
                       "localizedErrorMessage": e.message})
            })
            .collect();
        WriteError::Invalid {
            message: format!("Property values were not valid: {}", Value::Array(listed)),
            errors,
        }
    }

    /// A validation error that is not about one property.
    pub(crate) fn invalid(message: impl Into<String>) -> WriteError {
        WriteError::Invalid {
            message: message.into(),
            errors: Vec::new(),
        }
    }
}

/// Failure to start the emulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server thread or its runtime could not be created.
    #[error("cannot start the server thread: {0}")]
    Runtime(std::io::Error),
    /// The certificates for HTTPS could not be made.
    #[error("cannot set up HTTPS: {0}")]
    Tls(String),
}

/// An HTTP error reply with HubSpot's body shape; a fresh `correlationId` is added on send.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub body: Map<String, Value>,
    pub auth_failure: bool,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, category: &str, message: impl Into<String>) -> ApiError {
        let mut body = Map::new();
        body.insert("status".into(), "error".into());
        body.insert("message".into(), Value::String(message.into()));
        body.insert("category".into(), category.into());
        ApiError {
            status,
            body,
            auth_failure: false,
        }
    }

    pub(crate) fn with(mut self, key: &str, value: Value) -> ApiError {
        self.body.insert(key.into(), value);
        self
    }

    pub(crate) fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    pub(crate) fn not_found(id: &str) -> ApiError {
        ApiError::from(WriteError::NotFound { id: id.into() })
    }

    pub(crate) fn unauthenticated() -> ApiError {
        let mut err = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        );
        err.auth_failure = true;
        err
    }

    pub(crate) fn missing_scopes(required: &[String]) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        )
        .with(
            "errors",
            json!([{"message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": required}}]),
        )
        .with("links", json!({"scopes": "https://developers.hubspot.com/scopes"}))
    }

    /// The 429 body, which has `errorType` and `policyName` instead of `category`.
    pub(crate) fn rate_limited(policy: &str) -> ApiError {
        let mut body = Map::new();
        body.insert("status".into(), "error".into());
        body.insert(
            "message".into(),
            format!(
                "You have reached your {} limit.",
                policy.to_ascii_lowercase()
            )
            .into(),
        );
        body.insert("errorType".into(), "RATE_LIMIT".into());
        body.insert("policyName".into(), policy.into());
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            body,
            auth_failure: false,
        }
    }

    /// A server-side failure for a fault of the given status.
    pub(crate) fn server(status: StatusCode) -> ApiError {
        if status == StatusCode::TOO_MANY_REQUESTS {
            return ApiError::rate_limited("TEN_SECONDLY_ROLLING");
        }
        ApiError::new(status, "INTERNAL_ERROR", "internal error")
    }

    pub(crate) fn bad_json(err: &serde_json::Error) -> ApiError {
        ApiError::validation(format!(
            "Invalid input JSON on line {}, column {}: {err}",
            err.line(),
            err.column()
        ))
    }
}

impl From<WriteError> for ApiError {
    fn from(err: WriteError) -> ApiError {
        match err {
            WriteError::Invalid { message, errors } => {
                let mut api = ApiError::validation(message);
                if !errors.is_empty() {
                    let listed: Vec<Value> = errors
                        .iter()
                        .map(|e| json!({"message": e.message, "code": e.code, "context": {"propertyName": [e.property]}}))
                        .collect();
                    api = api.with("errors", Value::Array(listed));
                }
                api
            }
            WriteError::Conflict { message, .. } => {
                ApiError::new(StatusCode::CONFLICT, "CONFLICT", message)
            }
            WriteError::NotFound { id } => ApiError::new(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
            )
            .with("context", json!({"id": [id]})),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        self.body.insert(
            "correlationId".into(),
            uuid::Uuid::new_v4().to_string().into(),
        );
        let mut response = (self.status, axum::Json(Value::Object(self.body))).into_response();
        if self.auth_failure {
            response.headers_mut().insert(
                "X-HubSpot-Auth-Failure",
                HeaderValue::from_static("Authentication credentials not found"),
            );
        }
        response
    }
}
