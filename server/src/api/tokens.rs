//! API tokens over REST: `GET /api/auth/tokens` (the caller's tokens, never a token or its
//! hash), `POST /api/auth/tokens` (`{name, scopes, expires_in_days}` → 201 with the token, the
//! only time it is shown) and `DELETE /api/auth/tokens/{id}` (one's own). Making and revoking
//! take a signed-in browser session: a token cannot make tokens (403). Without `auth:`
//! configured each answers 409 `NotConfiguredError`.

use super::catalog::JsonObject;
use super::ApiError;
use crate::auth::tokens::TokenError;
use crate::auth::Auth;
use crate::http::caller::RequestCaller;
use crate::storage::ApiTokenRow;
use crate::util::format_rfc3339;
use crate::AppState;
use app::model::Caller;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

fn configured(state: &AppState) -> Result<Arc<Auth>, ApiError> {
    state.auth.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "NotConfiguredError",
            "sign-in is not configured (set auth: in the config); API tokens need it",
        )
    })
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> ApiError {
        match &e {
            // A bearer token that was refused (`http::caller`).
            TokenError::Unauthenticated(why) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "AuthenticationError",
                format!("{why}: send a valid token as Authorization: Bearer <token>"),
            ),
            TokenError::Invalid(m) => ApiError::bad_request(m.clone()),
            TokenError::NotFound(_) => ApiError::not_found(e.to_string()),
            TokenError::Storage(_) => {
                tracing::error!(error = %e, "API tokens could not be read or written");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "API tokens are unavailable",
                )
            }
        }
    }
}

fn not_signed_in() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "AuthenticationError",
        "not signed in: sign in to manage API tokens",
    )
}

/// The user whose tokens a caller manages: only a signed-in browser session.
fn session_owner(caller: &Caller) -> Result<String, ApiError> {
    if caller.token.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NotAllowedError",
            "API tokens are made and revoked by a signed-in user in the browser, not with a token",
        ));
    }
    caller
        .user
        .as_ref()
        .map(|u| u.to_ref_string())
        .ok_or_else(not_signed_in)
}

/// A token as listed: never the token or its hash.
fn describe(row: &ApiTokenRow) -> Value {
    let mut v = json!({
        "id": row.id,
        "name": row.name,
        "scopes": row.scopes.split_whitespace().collect::<Vec<_>>(),
        "created_at": format_rfc3339(row.created_at, 0),
        "expires_at": format_rfc3339(row.expires_at, 0),
    });
    if let Some(t) = row.last_used_at {
        v["last_used_at"] = json!(format_rfc3339(t, 0));
    }
    v
}

/// The caller's tokens that are not revoked, newest first. A token asks for its owner's; a
/// service token without an entity has none.
pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
) -> Result<Response, ApiError> {
    let auth = configured(&state)?;
    if caller.is_guest() {
        return Err(not_signed_in());
    }
    let rows = match &caller.user {
        Some(user) => {
            auth.tokens
                .list(state.catalog.store(), &user.to_ref_string())
                .await?
        }
        None => Vec::new(),
    };
    let items: Vec<Value> = rows.iter().map(describe).collect();
    Ok(Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    scopes: Vec<String>,
    /// Any JSON number with an integral value (`30`, `30.0`).
    expires_in_days: serde_json::Number,
}

/// Makes a token; the answer (201) is the only place its value is ever shown.
pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonObject(new): JsonObject<NewToken>,
) -> Result<Response, ApiError> {
    let auth = configured(&state)?;
    let owner = session_owner(&caller)?;
    let days = new
        .expires_in_days
        .as_f64()
        .filter(|d| d.fract() == 0.0 && (1.0..=crate::auth::tokens::MAX_DAYS as f64).contains(d))
        .map(|d| d as i64)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "expires_in_days: a whole number of days from 1 to {}",
                crate::auth::tokens::MAX_DAYS
            ))
        })?;
    let created = auth
        .tokens
        .create(
            state.catalog.store(),
            &state.audit,
            &owner,
            &new.name,
            &new.scopes,
            days,
        )
        .await?;
    let mut body = describe(&created.row);
    body["token"] = json!(created.token.expose());
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

/// Revokes one of the caller's tokens.
pub async fn revoke(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let auth = configured(&state)?;
    let owner = session_owner(&caller)?;
    auth.tokens
        .revoke(state.catalog.store(), &state.audit, &owner, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests;
