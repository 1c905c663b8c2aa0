//! Backstage's sign-in routes: `GET /api/auth/{provider}/start`,
//! `GET /api/auth/{provider}/handler/frame` (the callback, so a redirect URI registered for
//! Backstage works unchanged; an unknown provider is a 404),
//! `GET /api/auth/v1/userinfo` and `POST /api/auth/logout`. Without `auth:` configured each
//! answers 409 `NotConfiguredError`.

use super::ApiError;
use crate::audit::{Action, Event, Outcome};
use crate::auth::oidc::Pending;
use crate::auth::{resolve, Auth, AuthError, Provider, SignedIn, PENDING, SEEN, SIGNED_IN};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tower_sessions::Session;

fn configured(state: &AppState) -> Result<Arc<Auth>, ApiError> {
    state.auth.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "NotConfiguredError",
            "sign-in is not configured (set auth: in the config)",
        )
    })
}

/// The provider named in the path.
fn find_provider<'a>(
    auth: &'a Auth,
    id: &str,
) -> Result<(&'a crate::auth::config::ProviderSettings, &'a Provider), ApiError> {
    auth.provider(id)
        .ok_or_else(|| ApiError::not_found(format!("no sign-in provider \"{id}\" is configured")))
}

fn session_error(e: tower_sessions::session::Error) -> ApiError {
    tracing::error!(error = %e, "session store failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "sessions are unavailable",
    )
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match &e {
            AuthError::Config(_) | AuthError::Provider(_) => {
                tracing::error!(error = %e, "sign-in failed");
                ApiError::new(StatusCode::BAD_GATEWAY, "SourceError", e.to_string())
            }
            AuthError::BadRequest(m) => ApiError::bad_request(m.clone()),
            AuthError::Refused(_) => {
                tracing::warn!(error = %e, "sign-in refused");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "AuthenticationError",
                    e.to_string(),
                )
            }
            AuthError::UnknownUser(m) => {
                tracing::warn!("sign-in refused: no matching User entity");
                ApiError::new(StatusCode::FORBIDDEN, "NotAllowedError", m.clone())
            }
        }
    }
}

/// A same-site path to return to: `/…`, never `//host`, `/\host` or a URL.
pub fn safe_redirect(to: Option<&str>) -> Result<String, ApiError> {
    let to = to.unwrap_or("/");
    let ok = to.starts_with('/')
        && !to.starts_with("//")
        && !to.starts_with("/\\")
        && !to.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        Ok(to.to_string())
    } else {
        Err(ApiError::bad_request(
            "redirect must be a path on this site, starting with a single /",
        ))
    }
}

fn found(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

#[derive(Deserialize)]
pub struct StartQuery {
    redirect: Option<String>,
}

/// Sends the browser to the provider; the session keeps state, nonce and PKCE verifier.
pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Session,
    Query(q): Query<StartQuery>,
) -> Result<Response, ApiError> {
    let auth = configured(&state)?;
    let (_, provider) = find_provider(&auth, &id)?;
    let redirect = safe_redirect(q.redirect.as_deref())?;
    let (url, pending) = provider.start(redirect).await?;
    session
        .insert(PENDING, pending)
        .await
        .map_err(session_error)?;
    Ok(found(&url))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider's callback ([`callback`]), recorded in the audit log: `auth.signin` (signed
/// in; `failed` when the provider or the sessions could not be used) or `auth.signin.refused`
/// (wrong state, code refused by the provider, unknown user…), with the reason; the target is
/// the provider's id.
pub async fn handler_frame(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Session,
    query: Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let result = callback(
        State(state.clone()),
        Path(id.clone()),
        session.clone(),
        query,
    )
    .await;
    if state.auth.is_some() {
        let event = match &result {
            Ok(_) => {
                let user = session.get::<SignedIn>(SIGNED_IN).await.ok().flatten();
                let actor = user.map_or_else(|| "guest".to_string(), |s| s.user);
                Event::new(actor, Action::AuthSignin, Outcome::Allowed)
            }
            Err(e) if e.status.is_server_error() => {
                Event::new("guest", Action::AuthSignin, Outcome::Failed).detail(e.message.clone())
            }
            Err(e) => Event::new("guest", Action::AuthSigninRefused, Outcome::Refused)
                .detail(e.message.clone()),
        };
        state.audit.record(event.target(id));
    }
    result
}

/// The provider's callback: the state checked against the session, the code exchanged (and,
/// for OIDC, the ID token verified), the user resolved; a new session id, then back where the
/// user started.
async fn callback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let auth = configured(&state)?;
    let (settings, provider) = find_provider(&auth, &id)?;
    // Taken out at once: a callback is accepted once per start.
    let pending: Option<Pending> = session.remove(PENDING).await.map_err(session_error)?;
    let pending = pending.ok_or(AuthError::BadRequest(
        "no sign-in is in progress in this browser; start again at /signin".into(),
    ))?;
    if pending.provider != id {
        return Err(AuthError::BadRequest(
            "the sign-in in progress in this browser was started with another provider".into(),
        )
        .into());
    }
    let given = q.state.unwrap_or_default();
    // The state is single-use and bound to this browser's session, so a plain comparison
    // leaks nothing worth timing.
    if given != pending.state {
        return Err(AuthError::BadRequest(
            "the sign-in answer does not belong to this browser's sign-in (state differs)".into(),
        )
        .into());
    }
    if let Some(error) = q.error {
        return Err(AuthError::Refused(format!("the identity provider answered {error}")).into());
    }
    let code = q
        .code
        .ok_or(AuthError::BadRequest("the callback has no code".into()))?;
    let identity = provider.finish(&pending, code).await?;
    let annotation = settings.annotation_match();
    let mut signed_in = resolve::resolve(
        &identity,
        &state.facade().read_unfiltered(),
        resolve::Resolvers {
            order: &settings.resolvers,
            annotation: annotation.as_ref(),
        },
        auth.settings.unknown_users,
    )?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    signed_in.since = now;
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SIGNED_IN, &signed_in)
        .await
        .map_err(session_error)?;
    session.insert(SEEN, now).await.map_err(session_error)?;
    tracing::info!(user = %signed_in.user, provider = %id, "signed in");
    Ok(found(&pending.redirect))
}

/// Backstage's `{"claims":{"sub":…,"ent":[…]}}` for the signed-in caller.
pub async fn userinfo(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
) -> Result<Response, ApiError> {
    configured(&state)?;
    let Some(Extension(s)) = signed_in else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationError",
            "not signed in",
        ));
    };
    Ok(Json(json!({"claims": {"sub": s.user, "ent": s.ent}})).into_response())
}

/// Ends the session (deleted from the database, cookie cleared), then back to the home page.
/// A signed-in user's sign-out is recorded (`auth.signout`).
pub async fn logout(State(state): State<AppState>, session: Session) -> Result<Response, ApiError> {
    let auth = configured(&state)?;
    if let Some(id) = session.id() {
        auth.recent.forget(&id);
    }
    if let Some(s) = session
        .get::<SignedIn>(SIGNED_IN)
        .await
        .map_err(session_error)?
    {
        tracing::info!(user = %s.user, "signed out");
        state.audit.record(Event::new(
            s.user.clone(),
            Action::AuthSignout,
            Outcome::Allowed,
        ));
    }
    session.flush().await.map_err(session_error)?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response())
}
