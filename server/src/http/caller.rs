//! Who is asking, decided once per request: [`identify`] puts the [`Caller`] on the request,
//! the REST handlers take it with [`RequestCaller`], and the UI's server functions read the
//! same value from the request (`app::api`). Without `auth:` configured every request is the
//! guest; with it, the caller is the user the session signed in (`auth::SignedIn`), else the
//! guest.

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
        signed_in_as: None,
        providers: state.auth.as_ref().map(|a| a.choices()).unwrap_or_default(),
    };
    if let Some(auth) = &state.auth {
        if let Some(session) = req.extensions().get::<tower_sessions::Session>() {
            match session
                .get::<crate::auth::SignedIn>(crate::auth::SIGNED_IN)
                .await
            {
                // Past its absolute lifetime: ended, the request goes on as the guest.
                Ok(Some(signed_in)) if !auth.keep_session(session, &signed_in).await => {}
                Ok(Some(signed_in)) => {
                    caller = signed_in.caller();
                    sign_in.signed_in_as = Some(signed_in.display_name.clone());
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
    }
    req.extensions_mut().insert(caller);
    req.extensions_mut().insert(sign_in);
    next.run(req).await
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
/// identity provider.
#[cfg(test)]
#[derive(Clone)]
pub struct TestCaller(pub Caller);
