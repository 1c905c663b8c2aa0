//! The API tokens page's server side: [`TokenPages`] gives the page its data (the caller's
//! tokens and the one just made), and the page's plain forms post here:
//!
//! - `POST /settings/tokens/create` (`name`, `scope` repeated, `expires_in_days`): makes a token,
//!   keeps it in the session under [`NEW_TOKEN`] and answers `303` back to `/settings/tokens`,
//!   which shows it once (taking it out of the session). The token is never put in a URL.
//! - `POST /settings/tokens/revoke` (`id`): revokes one of the caller's tokens, then `303` back.
//!
//! Only a signed-in browser session may post them (not a bearer token, not the guest); posts from
//! another site are refused, as on the Locations page.

use super::caller::RequestCaller;
use crate::util::format_rfc3339;
use crate::AppState;
use app::error::AppError;
use app::model::{ApiTokenView, Caller, NewApiToken, TokenSettings};
use app::pages::settings::{CREATE_TOKEN_PATH, REVOKE_TOKEN_PATH, TOKENS_PATH};
use app::query::encode_component;
use app::services::{BoxFuture, TokenAdmin};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use tower_sessions::Session;

/// The session key of a token just made, until the page shows it.
pub const NEW_TOKEN: &str = "new_api_token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(CREATE_TOKEN_PATH, post(create))
        .route(REVOKE_TOKEN_PATH, post(revoke))
}

/// The page's data.
pub struct TokenPages(pub AppState);

impl TokenAdmin for TokenPages {
    fn page(
        &self,
        caller: Caller,
        request: axum::http::Extensions,
    ) -> BoxFuture<Result<TokenSettings, AppError>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Some(auth) = state.auth.clone() else {
                return Ok(TokenSettings::default());
            };
            let (true, Some(user)) = (caller.is_session(), caller.user.as_ref()) else {
                return Ok(TokenSettings {
                    enabled: true,
                    ..Default::default()
                });
            };
            let now = crate::auth::tokens::now();
            let rows = auth
                .tokens
                .list(state.catalog.store(), &user.to_ref_string())
                .await?;
            let tokens = rows
                .into_iter()
                .map(|r| ApiTokenView {
                    expired: r.expires_at <= now,
                    id: r.id,
                    name: r.name,
                    scopes: r.scopes.split_whitespace().map(str::to_string).collect(),
                    created_at: format_rfc3339(r.created_at, 0),
                    expires_at: format_rfc3339(r.expires_at, 0),
                    last_used_at: r.last_used_at.map(|t| format_rfc3339(t, 0)),
                })
                .collect();
            // Taken out: shown this once.
            let created = match request.get::<Session>() {
                Some(session) => match session.remove::<NewApiToken>(NEW_TOKEN).await {
                    Ok(created) => created,
                    Err(e) => {
                        tracing::warn!(error = %e, "session could not be read");
                        None
                    }
                },
                None => None,
            };
            Ok(TokenSettings {
                enabled: true,
                signed_in: true,
                tokens,
                created,
            })
        })
    }
}

/// Back to the page, saying what went wrong.
fn back_with_error(message: &str) -> Response {
    Redirect::to(&format!(
        "{TOKENS_PATH}?error={}",
        encode_component(message)
    ))
    .into_response()
}

/// Why a form post is not taken.
enum Refused {
    CrossSite,
    /// Back to the page with this message.
    Back(&'static str),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::CrossSite => super::forms::cross_site(),
            Refused::Back(message) => back_with_error(message),
        }
    }
}

/// The user a form post acts for: a signed-in browser session from this site.
fn poster(state: &AppState, caller: &Caller, headers: &HeaderMap) -> Result<String, Refused> {
    if !super::csrf::same_origin(headers, super::csrf::expected_origin(state).as_deref()) {
        return Err(Refused::CrossSite);
    }
    if state.auth.is_none() {
        return Err(Refused::Back(
            "sign-in is not configured on this Backlot: API tokens need it",
        ));
    }
    match (&caller.user, caller.token.is_some()) {
        (Some(user), false) => Ok(user.to_ref_string()),
        (_, true) => Err(Refused::Back(
            "API tokens are made and revoked in a signed-in browser session, not with a token",
        )),
        (None, false) => Err(Refused::Back("sign in to make and revoke API tokens")),
    }
}

async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let owner = match poster(&state, &caller, &headers) {
        Ok(owner) => owner,
        Err(refused) => return refused.into_response(),
    };
    let Some(auth) = state.auth.clone() else {
        return back_with_error("sign-in is not configured");
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let value = |k: &str| {
        fields
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let scopes: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let Ok(days) = value("expires_in_days").trim().parse::<i64>() else {
        return back_with_error("expires_in_days: choose how many days the token lasts");
    };
    let created = match auth
        .tokens
        .create(
            state.catalog.store(),
            &state.audit,
            &owner,
            value("name"),
            &scopes,
            days,
        )
        .await
    {
        Ok(created) => created,
        Err(e) => return back_with_error(&AppError::from(e).to_string()),
    };
    let flash = NewApiToken {
        name: created.row.name.clone(),
        token: created.token.expose().to_string(),
    };
    if let Err(e) = session.insert(NEW_TOKEN, flash).await {
        tracing::error!(error = %e, "session could not be written");
        // The token could not be shown: it is of no use, so it goes.
        let _ = auth
            .tokens
            .revoke(state.catalog.store(), &state.audit, &owner, &created.row.id)
            .await;
        return back_with_error(
            "the token could not be shown (sessions are unavailable); try again",
        );
    }
    Redirect::to(&format!("{TOKENS_PATH}?created=1")).into_response()
}

async fn revoke(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let owner = match poster(&state, &caller, &headers) {
        Ok(owner) => owner,
        Err(refused) => return refused.into_response(),
    };
    let Some(auth) = state.auth.clone() else {
        return back_with_error("sign-in is not configured");
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let Some((_, id)) = fields.iter().find(|(k, _)| k == "id") else {
        return back_with_error("the form is incomplete: no token id");
    };
    match auth
        .tokens
        .revoke(state.catalog.store(), &state.audit, &owner, id)
        .await
    {
        Ok(()) => Redirect::to(&format!("{TOKENS_PATH}?revoked=1")).into_response(),
        Err(e) => back_with_error(&AppError::from(e).to_string()),
    }
}

#[cfg(test)]
mod tests;
