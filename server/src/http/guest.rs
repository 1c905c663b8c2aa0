//! Guest access with sign-in configured: off unless `auth.guest: true`. A guest's request for a
//! page is sent to `/signin?redirect=…` (303); a guest's API or server-function call, a git
//! client's request under `/git/` (and any other unsafe request) answers 401
//! `AuthenticationError`. What must stay open does: the
//! sign-in page and routes, health, readiness and metrics, the browser's files, and the Git
//! webhook (it has its own secret). Without `auth:` (the demo) every request is the guest and
//! nothing is refused here.

use crate::api::error::ApiError;
use crate::AppState;
use app::model::Caller;
use app::query::encode_component;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Paths a guest may always reach.
pub fn open_to_guests(path: &str) -> bool {
    matches!(
        path,
        "/signin" | "/healthz" | "/readyz" | "/metrics" | "/favicon.ico" | "/robots.txt"
    ) || path == "/api/webhooks/git"
        || path.starts_with("/api/auth/")
        || path.starts_with("/pkg/")
        || path.starts_with("/style/")
}

/// Refuses the guest when guest access is off (see the module's notes).
pub async fn require_sign_in(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let closed = state.auth.as_ref().is_some_and(|a| !a.settings.guest);
    let guest = req
        .extensions()
        .get::<Caller>()
        .is_none_or(Caller::is_guest);
    let path = req.uri().path();
    if !closed || !guest || open_to_guests(path) {
        return next.run(req).await;
    }
    let page = matches!(*req.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/_app/")
        && !path.starts_with("/git/");
    if page {
        let here = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let to = format!("/signin?redirect={}", encode_component(here));
        return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
    }
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "AuthenticationError",
        "sign in first: guest access is off on this Backlot",
    )
    .envelope(req.method().as_str(), &req.uri().to_string())
}

#[cfg(test)]
mod tests {
    use super::open_to_guests;

    #[test]
    fn only_sign_in_health_files_and_the_webhook_are_open() {
        for open in [
            "/signin",
            "/api/auth/github/start",
            "/api/auth/oidc/handler/frame",
            "/api/auth/logout",
            "/healthz",
            "/readyz",
            "/metrics",
            "/pkg/abc123/backlot.css",
            "/favicon.ico",
            "/api/webhooks/git",
        ] {
            assert!(open_to_guests(open), "{open}");
        }
        for closed in [
            "/",
            "/catalog",
            "/signin/x",
            "/api/catalog/entities",
            "/api/webhooks/git/x",
            "/_app/get_entity",
            "/locations/register",
            "/api/authx",
        ] {
            assert!(!open_to_guests(closed), "{closed}");
        }
    }
}
