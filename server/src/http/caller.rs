//! Who is asking, decided once per request: [`identify`] puts the [`Caller`] on the request,
//! the REST handlers take it with [`RequestCaller`], and the UI's server functions read the
//! same value from the request (`app::api`). Without `auth:` configured every request is the
//! guest; with it, the caller is the token of an `Authorization: Bearer` header
//! (`auth::tokens`: a bad one is a 401, never the guest), else the user the session signed in
//! (`auth::SignedIn`), else the guest.

use crate::AppState;
use app::model::Caller;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

/// Identifies the caller of every request.
pub async fn identify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut caller = Caller::guest();
    let mut sign_in = app::model::SignInState {
        enabled: state.auth.is_some(),
        providers: state.auth.as_ref().map(|a| a.choices()).unwrap_or_default(),
        ..Default::default()
    };
    if let Some(token) = state
        .auth
        .as_ref()
        .and(crate::auth::tokens::bearer(req.headers()))
    {
        match bearer_caller(&state, token).await {
            Ok(token_caller) => caller = token_caller,
            Err(e) => return e.envelope(req.method().as_str(), &req.uri().to_string()),
        }
    } else if let Some(auth) = &state.auth {
        let session = req.extensions().get::<tower_sessions::Session>().cloned();
        let recent = session
            .as_ref()
            .and_then(|s| s.id())
            .and_then(|id| auth.recent.get(&id))
            .filter(|r| auth.within_lifetime(&r.0));
        if let Some(recent) = recent {
            caller = recent.1.clone();
            sign_in.signed_in_as = Some(recent.0.display_name.clone());
            sign_in.user = caller.user.clone();
            req.extensions_mut().insert(recent.0.clone());
        } else if let Some(session) = &session {
            match session
                .get::<crate::auth::SignedIn>(crate::auth::SIGNED_IN)
                .await
            {
                // Past its absolute lifetime: ended, the request goes on as the guest.
                Ok(Some(signed_in)) if !auth.keep_session(session, &signed_in).await => {}
                Ok(Some(signed_in)) => {
                    caller = signed_in.caller();
                    sign_in.signed_in_as = Some(signed_in.display_name.clone());
                    sign_in.user = caller.user.clone();
                    if let Some(id) = session.id() {
                        auth.recent.put(id, signed_in.clone());
                    }
                    req.extensions_mut().insert(signed_in);
                }
                Ok(None) => {}
                // The session is unreadable (database down…): the request goes on as the guest.
                Err(e) => tracing::warn!(error = %e, "session could not be read"),
            }
        }
    }
    #[cfg(test)]
    if let Some(TestCaller(test_caller)) = req.extensions().get::<TestCaller>() {
        caller = test_caller.clone();
        if caller.is_session() {
            sign_in.signed_in_as = caller.user.as_ref().map(|u| u.name.clone());
            sign_in.user = caller.user.clone();
        }
    }
    req.extensions_mut().insert(caller);
    req.extensions_mut().insert(sign_in);
    next.run(req).await
}

/// The caller an `Authorization: Bearer` token stands for (`auth::tokens`); unknown, expired
/// and revoked tokens are a 401 `AuthenticationError`, never the guest.
async fn bearer_caller(state: &AppState, token: &str) -> Result<Caller, crate::api::ApiError> {
    let Some(auth) = &state.auth else {
        return Ok(Caller::guest());
    };
    let facade = state.facade();
    let verified = auth
        .tokens
        .verify(
            state.catalog.store(),
            || facade.read_unfiltered(),
            &auth.settings.service_tokens,
            token,
        )
        .await;
    verified.map_err(crate::api::ApiError::from)
}

/// The caller of a request, as [`identify`] found it; the guest when nothing identified it.
pub struct RequestCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for RequestCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestCaller(
            parts
                .extensions
                .get::<Caller>()
                .cloned()
                .unwrap_or_else(Caller::guest),
        ))
    }
}

/// Tests only: a caller put on the request from outside the router (an `Extension` layer)
/// replaces the one [`identify`] found, so API tests can ask as a signed-in user without an
/// identity provider (the header then shows that user as signed in).
#[cfg(test)]
#[derive(Clone)]
pub struct TestCaller(pub Caller);
