//! Cross-site request forgery: the one same-origin check ([`same_origin`]) and the middleware
//! ([`refuse_cross_origin`]) that applies it to every unsafe request (POST, PUT, PATCH, DELETE)
//! carrying the session cookie without a bearer token: server functions (`/_app/…`), the
//! forms' posts, sign-out, the REST API. Such a request passes when the browser says it comes
//! from this site (`Sec-Fetch-Site: same-origin`, or `none` for what the user typed), or, from
//! browsers that do not send that header, when its `Origin` is the public URL's origin (without
//! `auth:`, the request's own `Host`). A request with neither header is not a browser's
//! cross-site request (browsers send `Origin` on every cross-origin POST) and passes. Refused:
//! 403 `NotAllowedError`, "cross-origin request refused". Bearer-token calls carry no ambient
//! credential and are not checked. The session cookie is also `SameSite=Lax`, which stops most
//! of this in the browser already; this check does not rely on it.

use crate::api::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Whether the request comes from a page of this site. `origin` is the public URL's origin
/// (`https://portal.example.com`); `None` compares `Origin` with the request's `Host`.
pub fn same_origin(headers: &HeaderMap, origin: Option<&str>) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (value(header::ORIGIN.as_str()), origin) {
        (None, _) => true,
        (Some(given), Some(expected)) => given.eq_ignore_ascii_case(expected),
        (Some(given), None) => match (given.split_once("://"), value(header::HOST.as_str())) {
            (Some((_, authority)), Some(host)) => authority.eq_ignore_ascii_case(host),
            _ => false,
        },
    }
}

/// The origin a request must come from: the public URL's with `auth:`, else its own host.
pub fn expected_origin(state: &AppState) -> Option<String> {
    state.auth.as_ref().map(|a| a.settings.origin())
}

/// Whether the request carries the session cookie.
fn has_session_cookie(headers: &HeaderMap) -> bool {
    let prefix = format!("{}=", crate::auth::COOKIE);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|c| c.trim_start().starts_with(&prefix))
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
        })
}

/// Refuses a cookie-authenticated unsafe request from another site.
pub async fn refuse_cross_origin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let unsafe_method = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let headers = req.headers();
    if unsafe_method
        && has_session_cookie(headers)
        && !has_bearer(headers)
        && !same_origin(headers, expected_origin(&state).as_deref())
    {
        tracing::warn!(
            method = %req.method(),
            path = %req.uri().path(),
            "cross-origin request refused"
        );
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "NotAllowedError",
            "cross-origin request refused",
        )
        .envelope(req.method().as_str(), &req.uri().to_string());
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn requests_from_other_sites_are_told_apart() {
        // Without a public URL: against the request's host.
        assert!(same_origin(&headers(&[("host", "portal:3000")]), None));
        assert!(same_origin(
            &headers(&[("host", "portal:3000"), ("origin", "http://portal:3000")]),
            None
        ));
        assert!(!same_origin(
            &headers(&[("host", "portal:3000"), ("origin", "https://evil.example")]),
            None
        ));
        assert!(!same_origin(
            &headers(&[("host", "portal:3000"), ("origin", "null")]),
            None
        ));
        // Sec-Fetch-Site decides when the browser sends it.
        for (site, ok) in [
            ("same-origin", true),
            ("none", true),
            ("same-site", false),
            ("cross-site", false),
        ] {
            let h = headers(&[
                ("host", "portal:3000"),
                ("origin", "http://portal:3000"),
                ("sec-fetch-site", site),
            ]);
            assert_eq!(same_origin(&h, None), ok, "{site}");
        }
        // With a public URL: its origin, whatever the Host header says (a proxy in front).
        let public = Some("https://portal.example.com");
        assert!(same_origin(
            &headers(&[
                ("host", "10.0.0.5:3000"),
                ("origin", "https://portal.example.com")
            ]),
            public
        ));
        assert!(!same_origin(
            &headers(&[("host", "evil.example"), ("origin", "https://evil.example")]),
            public
        ));
        assert!(!same_origin(
            &headers(&[("origin", "http://portal.example.com")]),
            public
        ));
    }

    #[test]
    fn cookies_and_bearer_tokens_are_recognised() {
        assert!(has_session_cookie(&headers(&[(
            "cookie",
            "theme=dark; backlot_session=abc"
        )])));
        assert!(!has_session_cookie(&headers(&[(
            "cookie",
            "not_backlot_session=abc"
        )])));
        assert!(has_bearer(&headers(&[("authorization", "Bearer xyz")])));
        assert!(has_bearer(&headers(&[("authorization", "bearer xyz")])));
        assert!(!has_bearer(&headers(&[("authorization", "Basic eHl6")])));
    }
}
