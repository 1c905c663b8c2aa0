//! Domain errors become the app's one error ([`AppError`]) here, and only here: server
//! functions return it, the REST API maps it to its envelope (`api/error.rs`). Internal errors
//! are logged once, at this conversion, and reach the caller as a plain message.

use crate::auth::tokens::TokenError;
use crate::catalog::CatalogError;
use app::error::AppError;

impl From<CatalogError> for AppError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::NotFound(m) => AppError::NotFound(m),
            CatalogError::InvalidInput(m) => AppError::invalid(m),
            CatalogError::Forbidden(m) => AppError::Forbidden(m),
            CatalogError::Conflict(m) => AppError::Conflict(m),
            CatalogError::Source(m) => AppError::Unavailable(m),
            internal @ (CatalogError::Storage(_) | CatalogError::Internal(_)) => {
                tracing::error!(error = %internal, "internal error");
                AppError::internal()
            }
        }
    }
}

impl From<crate::audit::query::AuditError> for AppError {
    fn from(e: crate::audit::query::AuditError) -> Self {
        use crate::audit::query::AuditError;
        match e {
            AuditError::Invalid { parameter, message } => AppError::InvalidInput {
                message: format!("{parameter}: {message}"),
                fields: vec![app::error::FieldError {
                    field: parameter.to_string(),
                    message,
                }],
            },
            AuditError::Storage(e) => CatalogError::Storage(e).into(),
        }
    }
}

impl From<crate::scaffolder::tasks::ScaffolderError> for AppError {
    fn from(e: crate::scaffolder::tasks::ScaffolderError) -> Self {
        use crate::scaffolder::tasks::ScaffolderError;
        match e {
            ScaffolderError::NotFound(m) => AppError::NotFound(m),
            ScaffolderError::Invalid(fields) => AppError::InvalidInput {
                message: ScaffolderError::Invalid(fields.clone()).to_string(),
                fields,
            },
            ScaffolderError::Forbidden(m) => AppError::Forbidden(m),
            ScaffolderError::Conflict(m) => AppError::Conflict(m),
            ScaffolderError::Storage(e) => CatalogError::Storage(e).into(),
        }
    }
}

/// For the API tokens page (the REST API maps tokens' errors itself: `api/tokens.rs`).
impl From<TokenError> for AppError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Unauthenticated(m) => AppError::Forbidden(m.to_string()),
            TokenError::Invalid(m) => AppError::invalid(m),
            TokenError::NotFound(_) => AppError::NotFound(e.to_string()),
            TokenError::Storage(_) => {
                tracing::error!(error = %e, "API tokens could not be read or written");
                AppError::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_on_the_server() {
        let e = AppError::from(CatalogError::Internal("pool timed out at 10.0.0.3".into()));
        assert_eq!(e, AppError::internal());
        assert!(!e.to_string().contains("10.0.0.3"));
        let e = AppError::from(CatalogError::Source("cannot be reached".into()));
        assert_eq!(e, AppError::Unavailable("cannot be reached".into()));
    }
}
