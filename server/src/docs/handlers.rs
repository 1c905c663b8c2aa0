//! The docs routes besides the pages: an entity's docs assets (images and files next to its
//! Markdown, served with a strict content security policy) and the highlighting stylesheet.

use super::service::DocsService;
use crate::http::caller::RequestCaller;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use std::sync::{Arc, LazyLock};

/// Where the highlighting stylesheet is served.
pub const HIGHLIGHT_CSS_PATH: &str = "/docs-assets/_highlight.css";
/// Where docs assets are served: `/docs-assets/{namespace}/{kind}/{name}/{*path}`.
pub const ASSET_ROUTE: &str = "/docs-assets/{namespace}/{kind}/{name}/{*path}";
/// Content security policy of docs assets (SVG may carry scripts).
pub(super) const ASSET_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox";

/// The docs routes: [`HIGHLIGHT_CSS_PATH`] and [`ASSET_ROUTE`]. The handlers need an
/// `Extension<Arc<DocsService>>` layer.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(HIGHLIGHT_CSS_PATH, get(highlight_css))
        .route(ASSET_ROUTE, get(asset))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found",
    )
        .into_response()
}

/// `GET /docs-assets/{namespace}/{kind}/{name}/{*path}`: a file of an entity's docs source
/// (images and other files the docs link to), with headers that keep it inert.
pub async fn asset(
    Extension(docs): Extension<Arc<DocsService>>,
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name, path)): Path<(String, String, String, String)>,
) -> Response {
    // An entity the caller may not read has no docs (as one that does not exist).
    if state
        .facade()
        .read(&caller)
        .get(&kind, &namespace, &name)
        .is_none()
    {
        return not_found();
    }
    let read = {
        let (namespace, kind, name, path) =
            (namespace.clone(), kind.clone(), name.clone(), path.clone());
        tokio::task::spawn_blocking(move || docs.asset_bytes(&kind, &namespace, &name, &path))
    };
    match read.await {
        Ok(Some((repo_path, bytes))) => (
            [
                (header::CONTENT_TYPE, super::content_type(&repo_path)),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, ASSET_CSP),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => {
            tracing::debug!(namespace, kind, name, path, "docs: asset not found");
            not_found()
        }
        Err(err) => {
            tracing::warn!(namespace, kind, name, path, error = %err, "docs: asset read failed");
            not_found()
        }
    }
}

static HIGHLIGHT_CSS: LazyLock<String> = LazyLock::new(super::highlight_css);

/// `GET /docs-assets/_highlight.css`: the stylesheet of highlighted code blocks.
pub async fn highlight_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        HIGHLIGHT_CSS.as_str(),
    )
}
