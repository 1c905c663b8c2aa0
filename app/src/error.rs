//! The one error of the app: what a server function can fail with, typed so that pages match
//! on it (a missing entity is a 404 page, not a red box), and what the REST API maps to its
//! envelope.
//!
//! Domain errors (`CatalogError`…) become an `AppError` in one place on the server
//! (`server/src/error.rs`), where internal errors are logged once; the message of an
//! [`AppError::Internal`] never carries their details.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A field of the input that is wrong, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Dotted path (`spec.owner`) or the form field's name (`target`).
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No such entity, location, page… (or none the caller may see).
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong; `fields` says where, when known.
    #[error("{message}")]
    InvalidInput {
        message: String,
        fields: Vec<FieldError>,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// It clashes with what is there (e.g. an entity another location provides).
    #[error("{0}")]
    Conflict(String),
    /// Something the answer depends on cannot be read now: a Git repository, the server
    /// itself (the browser could not reach it).
    #[error("{0}")]
    Unavailable(String),
    /// A fault on the server; details are in its log, not here.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// Invalid input without a particular field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The plain message shown for every internal error.
    pub fn internal() -> Self {
        Self::Internal("internal server error; see the server log".into())
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Errors of the call itself (network, encoding, a server function that is not there).
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(m) => {
                Self::Unavailable(format!("the server could not be reached: {m}"))
            }
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => Self::invalid(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_server_fn_encoding() {
        let e = AppError::InvalidInput {
            message: "target is required".into(),
            fields: vec![FieldError {
                field: "target".into(),
                message: "is required".into(),
            }],
        };
        assert_eq!(AppError::de(e.ser()), e);
        assert_eq!(e.to_string(), "target is required");
    }

    #[test]
    fn transport_errors_are_typed() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Request("refused".into()));
        assert!(matches!(e, AppError::Unavailable(m) if m.contains("refused")));
        let e = AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("name".into()));
        assert!(matches!(e, AppError::InvalidInput { .. }));
        assert!(!AppError::internal().is_not_found());
    }
}
