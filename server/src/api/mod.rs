//! The public REST API: Backstage's catalog API shapes under `/api/catalog`, so that its
//! clients and scripts work unchanged, described by the OpenAPI document at `/api/openapi.json`.

mod catalog;
pub mod error;
mod kubernetes;
mod webhooks;

use crate::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use axum::Router;

pub use error::ApiError;

/// The OpenAPI document (hand-written; a test checks it lists every route).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Every route of the API, as (method, path template): the source of truth for the OpenAPI test.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/catalog/entities"),
    ("get", "/api/catalog/entities/by-query"),
    ("post", "/api/catalog/entities/by-query"),
    (
        "get",
        "/api/catalog/entities/by-name/{kind}/{namespace}/{name}",
    ),
    ("get", "/api/catalog/entities/by-uid/{uid}"),
    ("post", "/api/catalog/entities/by-refs"),
    ("get", "/api/catalog/entity-facets"),
    ("get", "/api/catalog/locations"),
    ("post", "/api/catalog/locations"),
    ("get", "/api/catalog/locations/{id}"),
    ("delete", "/api/catalog/locations/{id}"),
    ("post", "/api/catalog/locations/{id}/refresh"),
    (
        "get",
        "/api/catalog/locations/by-entity/{kind}/{namespace}/{name}",
    ),
    ("post", "/api/catalog/refresh"),
    ("post", "/api/catalog/validate-entity"),
    ("post", "/api/webhooks/git"),
    ("get", "/api/kubernetes/clusters"),
    ("get", "/api/kubernetes/clusters/stream"),
    ("get", "/api/kubernetes/clusters/{name}"),
    ("get", "/api/kubernetes/clusters/{name}/stream"),
    ("get", "/api/kubernetes/entities/{namespace}/{kind}/{name}"),
    (
        "get",
        "/api/kubernetes/entities/{namespace}/{kind}/{name}/stream",
    ),
    ("get", "/api/kubernetes/groups/{namespace}/{name}"),
    ("get", "/api/kubernetes/groups/{namespace}/{name}/stream"),
    ("get", "/api/openapi.json"),
];

pub fn router() -> Router<AppState> {
    use catalog::*;
    Router::new()
        .route("/api/kubernetes/clusters", get(kubernetes::clusters))
        .route(
            "/api/kubernetes/clusters/stream",
            get(kubernetes::clusters_stream),
        )
        .route("/api/kubernetes/clusters/{name}", get(kubernetes::cluster))
        .route(
            "/api/kubernetes/clusters/{name}/stream",
            get(kubernetes::cluster_stream),
        )
        .route(
            "/api/kubernetes/entities/{namespace}/{kind}/{name}",
            get(kubernetes::entity),
        )
        .route(
            "/api/kubernetes/entities/{namespace}/{kind}/{name}/stream",
            get(kubernetes::entity_stream),
        )
        .route(
            "/api/kubernetes/groups/{namespace}/{name}",
            get(kubernetes::group),
        )
        .route(
            "/api/kubernetes/groups/{namespace}/{name}/stream",
            get(kubernetes::group_stream),
        )
        .route("/api/catalog/entities", get(list_entities))
        .route(
            "/api/catalog/entities/by-query",
            get(query_entities_get).post(query_entities_post),
        )
        .route(
            "/api/catalog/entities/by-name/{kind}/{namespace}/{name}",
            get(entity_by_name),
        )
        .route("/api/catalog/entities/by-uid/{uid}", get(entity_by_uid))
        .route("/api/catalog/entities/by-refs", post(entities_by_refs))
        .route("/api/catalog/entity-facets", get(entity_facets))
        .route(
            "/api/catalog/locations",
            get(list_locations).post(add_location),
        )
        .route(
            "/api/catalog/locations/{id}",
            get(get_location).delete(delete_location),
        )
        .route(
            "/api/catalog/locations/by-entity/{kind}/{namespace}/{name}",
            get(location_by_entity),
        )
        .route(
            "/api/catalog/locations/{id}/refresh",
            post(refresh_location),
        )
        .route("/api/catalog/refresh", post(refresh))
        .route(
            "/api/webhooks/git",
            post(webhooks::git_webhook)
                .layer(axum::extract::DefaultBodyLimit::max(webhooks::MAX_BODY)),
        )
        .route("/api/catalog/validate-entity", post(validate_entity))
        .route("/api/openapi.json", get(openapi))
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
