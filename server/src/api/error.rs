//! The one JSON error envelope of the public API, in Backstage's shape:
//! `{"error": {"name", "message"}, "request": {"method", "url"}, "response": {"statusCode"}}`.
//! Handlers fail with [`ApiError`]; domain errors reach it through the app's one error
//! ([`AppError`]), so the REST API and the UI name the same failure the same way.

use crate::catalog::CatalogError;
use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An API error: its HTTP status, Backstage error name and a message for the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub name: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            name: "InputError",
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            name: "NotFoundError",
            message: message.into(),
        }
    }
}

impl ApiError {
    /// This error as the envelope answering `method url` (for answers made outside the API's
    /// router, such as a refused bearer token).
    pub fn envelope(&self, method: &str, url: &str) -> Response {
        let body = json!({
            "error": {"name": self.name, "message": self.message},
            "request": {"method": method, "url": url},
            "response": {"statusCode": self.status.as_u16()},
        });
        let mut out = Response::new(Body::from(body.to_string()));
        *out.status_mut() = self.status;
        out.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        out
    }
}

/// The app's error in Backstage's names and statuses.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let (status, name) = match &e {
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundError"),
            AppError::InvalidInput { .. } => (StatusCode::BAD_REQUEST, "InputError"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "NotAllowedError"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "ConflictError"),
            // A repository (or another source) that cannot be read: the gateway's fault.
            AppError::Unavailable(_) => (StatusCode::BAD_GATEWAY, "SourceError"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Error"),
        };
        Self::new(status, name, e.to_string())
    }
}

/// Through the app's error, where internal errors are logged (`crate::error`).
impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// Renders every error response under /api as the envelope, with the request it answers.
/// Errors from extractors (bad JSON, bad query) and unknown routes get the same shape.
pub async fn envelope(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let url = req.uri().to_string();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // A 405 says which methods the path has; the envelope keeps that.
    let allow = res.headers().get(header::ALLOW).cloned();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let err = match res.extensions().get::<ApiError>() {
        Some(e) => e.clone(),
        // A handler that answered with its own JSON body (e.g. validate-entity's errors).
        None if is_json => return res,
        None => {
            let (parts, body) = res.into_parts();
            let text = axum::body::to_bytes(body, 64 * 1024)
                .await
                .unwrap_or_default();
            let message = String::from_utf8_lossy(&text).trim().to_string();
            // Body rejections (bad JSON, wrong content type) are plain bad input, as in Backstage.
            let status = match parts.status {
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    StatusCode::BAD_REQUEST
                }
                s => s,
            };
            let name = match status {
                StatusCode::NOT_FOUND => "NotFoundError",
                StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowedError",
                s if s.is_client_error() => "InputError",
                _ => "Error",
            };
            let message = if message.is_empty() {
                parts
                    .status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_string()
            } else {
                message
            };
            ApiError {
                status,
                name,
                message,
            }
        }
    };
    let mut out = err.envelope(&method, &url);
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}
