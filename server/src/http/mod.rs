//! The HTTP server: the UI (Leptos SSR, islands, server functions, the forms' posts), the REST
//! API, health, readiness and metrics, and the static assets, on one axum router. Answers above
//! a few KiB are compressed (brotli or gzip, as the client asks), except event streams; pages
//! carry an ETag and are revalidated (`cache`); the browser's files are content-addressed
//! (`assets`). The managed Git host's repositories are served read-only to git clients under
//! `/git` (`git_http`).

pub mod assets;
pub mod cache;
pub mod caller;
pub mod csrf;
pub mod forms;
pub mod git_http;
pub mod guarded;
pub mod guest;
pub mod settings;
#[cfg(test)]
mod tests;
pub mod wizard;
#[cfg(test)]
mod wizard_tests;

use crate::AppState;
use app::services::{
    AuditAdmin, CatalogReader, DocsReader, KubeReader, LocationAdmin, ObservabilityReader,
    Scaffolder, TokenAdmin,
};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

pub fn router(state: AppState) -> Router {
    let reader: Arc<dyn CatalogReader> = Arc::new(crate::catalog::views::Reader {
        facade: state.facade(),
        levels: Some(state.scorecards.clone()),
    });
    let admin: Arc<dyn LocationAdmin> = Arc::new(crate::catalog::admin::Admin(state.facade()));
    let docs = state.docs.clone();
    let docs_reader: Arc<dyn DocsReader> = Arc::new(guarded::GuardedDocs {
        docs: docs.clone(),
        facade: state.facade(),
    });
    let kube: Arc<dyn KubeReader> = Arc::new(guarded::GuardedKube {
        kube: state.kube.clone(),
        facade: state.facade(),
    });
    let observability: Arc<dyn ObservabilityReader> = Arc::new(state.observability_views());
    let signals: Arc<dyn app::services::SignalsReader> = Arc::new(state.signals_views());
    let alert_counts: Arc<dyn app::services::AlertCountReader> = state.prometheus.clone();
    let scorecards: Arc<dyn app::services::ScorecardReader> =
        Arc::new(crate::scorecards::service::Views {
            scorecards: state.scorecards.clone(),
            facade: state.facade(),
        });
    let audit: Arc<dyn AuditAdmin> = Arc::new(crate::audit::views::AuditViews {
        facade: state.facade(),
        store: state.catalog.store().clone(),
        audit: state.audit.clone(),
    });
    let tokens: Arc<dyn TokenAdmin> = Arc::new(settings::TokenPages(state.clone()));
    let scaffolder: Arc<dyn Scaffolder> = Arc::new(crate::scaffolder::views::ScaffolderViews {
        facade: state.facade(),
        tasks: state.scaffolder.clone(),
    });
    let home: Arc<dyn app::services::HomeReader> = Arc::new(crate::home::HomeViews {
        facade: state.facade(),
        store: state.catalog.store().clone(),
        kube: kube.clone(),
        scorecards: scorecards.clone(),
        scaffolder: scaffolder.clone(),
        alerts: alert_counts.clone(),
        sign_in: state.auth.is_some(),
        visits: Default::default(),
    });
    let assets = Arc::new(assets::Assets::load(std::path::Path::new(
        state.leptos.site_root.as_ref(),
    )));
    let asset_urls = assets.urls();
    let provide = move || {
        provide_context(asset_urls.clone());
        provide_context(kube.clone());
        provide_context(observability.clone());
        provide_context(signals.clone());
        provide_context(alert_counts.clone());
        provide_context(scorecards.clone());
        provide_context(reader.clone());
        provide_context(admin.clone());
        provide_context(docs_reader.clone());
        provide_context(audit.clone());
        provide_context(tokens.clone());
        provide_context(scaffolder.clone());
        provide_context(home.clone());
    };
    let pages = wizard::PageRenderer {
        contexts: Arc::new(provide.clone()),
        options: state.leptos.clone(),
    };
    let options = (*state.leptos).clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/docs/{namespace}/{kind}/{name}", get(backstage_docs))
        .route(
            "/docs/{namespace}/{kind}/{name}/{*page}",
            get(backstage_docs),
        )
        .merge(crate::api::router())
        .merge(git_http::router())
        .merge(crate::docs::handlers::router())
        .merge(forms::router())
        .merge(settings::router())
        .merge(crate::home::stars::router())
        .merge(wizard::router())
        .merge(crate::observability::prometheus::stream::router())
        .merge(assets.router())
        .leptos_routes_with_context(&state, routes(), provide.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide, app::shell))
        .layer(axum::Extension(docs))
        .layer(axum::Extension(pages))
        .layer(axum::middleware::from_fn(cache::revalidate_pages))
        .layer(axum::middleware::from_fn(old_catalog_links))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guest::require_sign_in,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            caller::identify,
        ))
        .layer(crate::auth::session_layer(
            state.catalog.store().clone(),
            state.auth.as_ref().map(|a| &a.settings),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::refuse_cross_origin,
        ))
        .layer(compression())
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// The catalog table was at `/`: a link to `/?kind=…` (any of the catalog page's query keys) is
/// sent to `/catalog` with the same query, so bookmarks and shared links keep working.
async fn old_catalog_links(req: axum::extract::Request, next: Next) -> Response {
    if req.uri().path() == "/" {
        if let Some(query) = req.uri().query() {
            let catalog = query.split('&').any(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                app::pages::catalog::QUERY_KEYS.contains(&key)
            });
            if catalog {
                return axum::response::Redirect::permanent(&format!("/catalog?{query}"))
                    .into_response();
            }
        }
    }
    next.run(req).await
}

/// The app's routes, listed once per process. Listing runs the whole app with resource loading
/// suppressed by a process-wide flag (leptos_server's `SuppressResourceLoad`), and a page whose
/// resource was first polled while another router was being built never finished
/// (leptos-rs/leptos#4773; it hung the tests, which build a router per test). Listed once, before
/// the first router exists, no page can be rendering meanwhile.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: LazyLock<Vec<AxumRouteListing>> =
        LazyLock::new(|| generate_route_list(app::App));
    ROUTES.clone()
}

/// Smallest answer worth compressing: below it the saving does not pay for the CPU.
const COMPRESS_ABOVE: u16 = 8 * 1024;

/// Brotli or gzip for answers above [`COMPRESS_ABOVE`], at the fastest level: a 144 KB by-query
/// page still shrinks about 7×, and the CPU per request stays within the API's bars (level 4
/// cost 2.6 ms per such page, ten times the query itself; BENCHMARKS.md). Never event streams
/// (each event must go out as it happens), images, answers already encoded (the precompressed
/// files) or Git's answers (packs are compressed already, and stream).
fn compression(
) -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    let predicate = SizeAbove::new(COMPRESS_ABOVE)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(NotForContentType::const_new("application/x-git-"));
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .quality(CompressionLevel::Fastest)
        .compress_when(predicate)
}

/// Backstage's TechDocs URLs (`/docs/{namespace}/{kind}/{name}/{page…}`) lead to the entity's
/// Docs tab.
async fn backstage_docs(
    axum::extract::Path(parts): axum::extract::Path<Vec<(String, String)>>,
) -> axum::response::Redirect {
    let get = |k: &str| {
        parts
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim_matches('/').to_string())
            .unwrap_or_default()
    };
    let enc = |s: String| s.replace(['/', '?', '#'], "");
    let mut to = format!(
        "/catalog/{}/{}/{}/docs",
        enc(get("namespace")),
        enc(get("kind").to_ascii_lowercase()),
        enc(get("name"))
    );
    let page = get("page");
    if !page.is_empty() {
        let page: Vec<&str> = page
            .split('/')
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .collect();
        to.push('/');
        to.push_str(&page.join("/"));
    }
    axum::response::Redirect::permanent(&to)
}

/// Ready when the database answers and the first refresh of every location has run.
async fn readyz(State(state): State<AppState>) -> Response {
    if !state.ready.load(std::sync::atomic::Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: first catalog refresh not finished",
        )
            .into_response();
    }
    match state.catalog.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    text.push_str(&state.audit.render_metrics());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// Records request latency by route template (never the raw path, to bound label values).
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| {
            if req.uri().path().starts_with("/pkg/") {
                "/pkg/*".into()
            } else {
                "other".into()
            }
        });
    let res = next.run(req).await;
    state
        .metrics
        .record_request(&method, &route, res.status().as_u16(), started.elapsed());
    res
}
