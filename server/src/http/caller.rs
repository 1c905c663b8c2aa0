//! Who is asking, decided once per request: [`identify`] puts the [`Caller`] on the request,
//! the REST handlers take it with [`RequestCaller`], and the UI's server functions read the
//! same value from the request (`app::api`). Until sign-in exists every request is the guest;
//! sign-in reads the session here.

use app::model::Caller;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

/// Identifies the caller of every request.
pub async fn identify(mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(Caller::guest());
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
