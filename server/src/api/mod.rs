//! The public REST API: Backstage's catalog API shapes under `/api/catalog`, so that its
//! clients and scripts work unchanged, described by the OpenAPI document at `/api/openapi.json`.

mod audit;
pub(crate) mod auth;
mod catalog;
pub mod error;
mod kubernetes;
mod observability;
mod scaffolder;
mod scorecards;
mod tokens;
mod webhooks;

use crate::AppState;
use axum::handler::Handler;
use axum::http::{header, Method};
use axum::response::IntoResponse;
use axum::routing::{any, delete, get, post, MethodRouter};
use axum::Router;

pub use auth::safe_redirect as auth_redirect;
pub use error::ApiError;

/// The OpenAPI document (hand-written; a test checks it describes exactly [`routes`], and
/// schemathesis, `.ci/api-fuzz.sh`, that the server answers as it says).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// One operation of the API: its method, path template and handler. [`routes`] is the single
/// list the router is built from and the OpenAPI document is checked against.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    endpoint: MethodRouter<AppState>,
}

impl Route {
    fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self {
            method: Method::GET,
            path,
            endpoint: get(handler),
        }
    }

    fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self {
            method: Method::POST,
            path,
            endpoint: post(handler),
        }
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self {
            method: Method::DELETE,
            path,
            endpoint: delete(handler),
        }
    }

    fn body_limit(mut self, bytes: usize) -> Self {
        self.endpoint = self
            .endpoint
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }
}

/// Every operation of the API.
pub fn routes() -> Vec<Route> {
    use catalog::*;
    vec![
        Route::get("/api/catalog/entities", list_entities),
        Route::get("/api/catalog/entities/by-query", query_entities_get),
        Route::post("/api/catalog/entities/by-query", query_entities_post),
        Route::get(
            "/api/catalog/entities/by-name/{kind}/{namespace}/{name}",
            entity_by_name,
        ),
        Route::get("/api/catalog/entities/by-uid/{uid}", entity_by_uid),
        Route::post("/api/catalog/entities/by-refs", entities_by_refs),
        Route::get("/api/catalog/entity-facets", entity_facets),
        Route::get("/api/catalog/locations", list_locations),
        Route::post("/api/catalog/locations", add_location),
        Route::get("/api/catalog/locations/{id}", get_location),
        Route::delete("/api/catalog/locations/{id}", delete_location),
        Route::post("/api/catalog/locations/{id}/refresh", refresh_location),
        Route::get(
            "/api/catalog/locations/by-entity/{kind}/{namespace}/{name}",
            location_by_entity,
        ),
        Route::post("/api/catalog/refresh", refresh),
        Route::post("/api/catalog/validate-entity", validate_entity),
        Route::post("/api/webhooks/git", webhooks::git_webhook).body_limit(webhooks::MAX_BODY),
        Route::get("/api/kubernetes/clusters", kubernetes::clusters),
        Route::get(
            "/api/kubernetes/clusters/stream",
            kubernetes::clusters_stream,
        ),
        Route::get("/api/kubernetes/clusters/{name}", kubernetes::cluster),
        Route::get(
            "/api/kubernetes/clusters/{name}/stream",
            kubernetes::cluster_stream,
        ),
        Route::get(
            "/api/kubernetes/entities/{namespace}/{kind}/{name}",
            kubernetes::entity,
        ),
        Route::get(
            "/api/kubernetes/entities/{namespace}/{kind}/{name}/stream",
            kubernetes::entity_stream,
        ),
        Route::get(
            "/api/kubernetes/groups/{namespace}/{name}",
            kubernetes::group,
        ),
        Route::get(
            "/api/kubernetes/groups/{namespace}/{name}/stream",
            kubernetes::group_stream,
        ),
        Route::get(
            "/api/observability/entities/{namespace}/{kind}/{name}",
            observability::entity,
        ),
        Route::get(
            "/api/observability/entities/{namespace}/{kind}/{name}/signals",
            observability::signals,
        ),
        Route::get("/api/scorecards", scorecards::list),
        Route::get("/api/scorecards/{name}/entities", scorecards::by_level),
        Route::get(
            "/api/scorecards/entities/{namespace}/{kind}/{name}",
            scorecards::entity,
        ),
        Route::get("/api/auth/{provider}/start", auth::start),
        Route::get("/api/auth/{provider}/handler/frame", auth::handler_frame),
        Route::get("/api/auth/v1/userinfo", auth::userinfo),
        Route::post("/api/auth/logout", auth::logout),
        Route::get("/api/audit", audit::list),
        Route::get("/api/auth/tokens", tokens::list),
        Route::post("/api/auth/tokens", tokens::create),
        Route::delete("/api/auth/tokens/{id}", tokens::revoke),
        Route::get("/api/scaffolder/v2/actions", scaffolder::actions),
        Route::get(
            "/api/scaffolder/v2/templates/{namespace}/{kind}/{name}/parameter-schema",
            scaffolder::parameter_schema,
        ),
        Route::post("/api/scaffolder/v2/dry-run", scaffolder::dry_run)
            .body_limit(scaffolder::MAX_DRY_RUN_BODY),
        Route::get("/api/scaffolder/v2/tasks", scaffolder::list_tasks),
        Route::post("/api/scaffolder/v2/tasks", scaffolder::create_task),
        Route::get("/api/scaffolder/v2/tasks/{id}", scaffolder::get_task),
        Route::get(
            "/api/scaffolder/v2/tasks/{id}/events",
            scaffolder::task_events,
        ),
        Route::get(
            "/api/scaffolder/v2/tasks/{id}/eventstream",
            scaffolder::task_event_stream,
        ),
        Route::post(
            "/api/scaffolder/v2/tasks/{id}/cancel",
            scaffolder::cancel_task,
        ),
        Route::post(
            "/api/scaffolder/v2/tasks/{id}/retry",
            scaffolder::retry_task,
        ),
        Route::get(
            "/api/scaffolder/v2/tasks/{id}/approvals",
            scaffolder::task_approvals,
        ),
        Route::post(
            "/api/scaffolder/v2/tasks/{id}/approve",
            scaffolder::approve_task,
        ),
        Route::post(
            "/api/scaffolder/v2/tasks/{id}/reject",
            scaffolder::reject_task,
        ),
        Route::get(
            "/api/scaffolder/v2/approvals",
            scaffolder::pending_approvals,
        ),
        Route::get("/api/openapi.json", openapi),
    ]
}

/// The API's router: [`routes`], unknown `/api` paths in the envelope, every error as the
/// envelope.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for route in routes() {
        // Operations on one path are merged into one method router by axum.
        router = router.route(route.path, route.endpoint);
    }
    router
        // Unknown API paths answer in the envelope, not with the UI's 404 page.
        .route(
            "/api/{*rest}",
            any(|| async { ApiError::not_found("no such API endpoint; see /api/openapi.json") }),
        )
        .layer(axum::middleware::from_fn(error::envelope))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

#[cfg(test)]
mod tests;
