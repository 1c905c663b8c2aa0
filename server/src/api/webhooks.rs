//! `POST /api/webhooks/git`: push events from GitHub, GitLab and Gitea refresh the locations of
//! the pushed repository at once. The request is authenticated with the shared secret
//! (`git.webhook_secret`, or `BACKLOT_WEBHOOK_SECRET`) before anything in it is believed.

use super::ApiError;
use crate::git::webhook::{self, Webhook, WebhookError};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Largest payload accepted (GitHub caps theirs at 25 MB; pushes are far smaller).
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// 202 with the ids of the locations being refreshed; 200 for events that need nothing.
pub async fn git_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let secret = state.git.settings().webhook_secret.as_ref();
    let hook = webhook::parse(&headers, &body, secret).map_err(|e| {
        tracing::warn!(error = %e, "webhook refused");
        match e {
            WebhookError::Unauthorized(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "AuthenticationError", m)
            }
            WebhookError::BadRequest(m) => ApiError::bad_request(m),
            // The server is up and the request may be fine: it is this Backlot's settings
            // that do not allow it yet (the message says what to set).
            WebhookError::NotConfigured(m) => {
                ApiError::new(StatusCode::CONFLICT, "NotConfiguredError", m)
            }
        }
    })?;
    match hook {
        Webhook::Ignored { provider, event } => Ok((
            StatusCode::OK,
            Json(json!({"provider": provider, "ignored": event})),
        )
            .into_response()),
        Webhook::Push(push) => {
            let locations = state.git.on_push(&state.catalog, &push);
            tracing::info!(
                provider = %push.provider,
                branch = push.branch.as_deref().unwrap_or(""),
                locations = locations.len(),
                "push received"
            );
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({
                    "provider": push.provider,
                    "branch": push.branch,
                    "refreshing": locations,
                })),
            )
                .into_response())
        }
    }
}
