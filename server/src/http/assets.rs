//! The browser's files (`<site root>/pkg`: the islands' JS and wasm, the stylesheet), under URLs
//! that name their content.
//!
//! At start-up each file's SHA-256 becomes its version; pages link `/pkg/{version}/{file}`,
//! served with `Cache-Control: public, max-age=31536000, immutable`, so a browser asks for each
//! build's files once and a deploy changes the URL of exactly the files that changed. A version
//! that is not this build's answers 404 (`no-store`), never another build's bytes under a name
//! that promises them forever. The plain names (`/pkg/{file}`) still answer, with `no-cache`.
//! Files are sent as the `.br` or `.gz` written beside them at build time when the browser
//! accepts it (`.ci/precompress.mjs`).

use app::AssetUrls;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The files pages link to, as named in `pkg/`.
const SCRIPT: &str = "backlot.js";
const WASM: &str = "backlot_bg.wasm";
const STYLESHEET: &str = "backlot.css";

/// A year, the longest `max-age` browsers keep.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Debug)]
pub struct Assets {
    dir: PathBuf,
    /// (file name, version) for each file that exists.
    versions: Vec<(&'static str, String)>,
}

impl Assets {
    /// Reads and hashes the files in `<site_root>/pkg` (those missing keep their plain URL).
    pub fn load(site_root: &std::path::Path) -> Assets {
        let dir = site_root.join("pkg");
        let versions = [SCRIPT, WASM, STYLESHEET]
            .into_iter()
            .filter_map(|file| {
                let bytes = std::fs::read(dir.join(file)).ok()?;
                let digest = Sha256::digest(&bytes);
                let version: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
                Some((file, version))
            })
            .collect();
        Assets { dir, versions }
    }

    fn version(&self, file: &str) -> Option<&str> {
        self.versions
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, v)| v.as_str())
    }

    fn url(&self, file: &str) -> String {
        match self.version(file) {
            Some(v) => format!("/pkg/{v}/{file}"),
            None => format!("/pkg/{file}"),
        }
    }

    /// The URLs pages link to.
    pub fn urls(&self) -> AssetUrls {
        AssetUrls {
            script: self.url(SCRIPT),
            wasm: self.url(WASM),
            stylesheet: self.url(STYLESHEET),
        }
    }

    /// `/pkg/{version}/{file}` and `/pkg/{file}`.
    pub fn router<S: Clone + Send + Sync + 'static>(self: Arc<Self>) -> Router<S> {
        Router::new()
            .route("/pkg/{version}/{file}", get(versioned))
            .route("/pkg/{file}", get(plain))
            .with_state(self)
    }

    async fn serve(&self, file: &str, mut req: Request) -> Response {
        let Ok(uri) = format!("/{file}").parse() else {
            return StatusCode::NOT_FOUND.into_response();
        };
        *req.uri_mut() = uri;
        let files = ServeDir::new(&self.dir)
            .precompressed_br()
            .precompressed_gzip();
        match files.oneshot(req).await {
            Ok(res) => res.map(axum::body::Body::new),
            Err(never) => match never {},
        }
    }
}

async fn versioned(
    State(assets): State<Arc<Assets>>,
    Path((version, file)): Path<(String, String)>,
    req: Request,
) -> Response {
    if assets.version(&file) != Some(version.as_str()) {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "No such file in this build: reload the page.",
        )
            .into_response();
    }
    let mut res = assets.serve(&file, req).await;
    if res.status().is_success() {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
    res
}

async fn plain(
    State(assets): State<Arc<Assets>>,
    Path(file): Path<String>,
    req: Request,
) -> Response {
    let mut res = assets.serve(&file, req).await;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
