//! Server functions: the UI's private calls to the server, under `/_app/…`.
//!
//! Each one is thin: it takes the [`CatalogReader`](crate::services::CatalogReader) the server
//! provides as context and calls one of its methods. `/api/…` is the public REST API and is not
//! used here. A missing entity is `Ok(None)`, so pages can show a real 404.

use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The catalog reader the server provides through `leptos_routes_with_context`.
#[cfg(feature = "ssr")]
fn reader() -> Result<std::sync::Arc<dyn crate::services::CatalogReader>, ServerFnError> {
    use_context::<std::sync::Arc<dyn crate::services::CatalogReader>>().ok_or_else(|| {
        ServerFnError::ServerError(
            "the catalog is not available: no CatalogReader was provided to the app".into(),
        )
    })
}

/// Largest search result list a caller may ask for.
pub const MAX_SEARCH_LIMIT: usize = 50;

/// The catalog table: one page of entities with facet counts.
#[server(prefix = "/_app", input = Json)]
pub async fn list_catalog(query: CatalogQuery) -> Result<CatalogPage, ServerFnError> {
    Ok(reader()?.list(&query))
}

/// One entity; `None` when there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_entity(
    kind: String,
    namespace: String,
    name: String,
) -> Result<Option<EntityDetail>, ServerFnError> {
    Ok(reader()?.entity(&kind, &namespace, &name))
}

/// The group page; `None` when there is no such group.
#[server(prefix = "/_app")]
pub async fn get_group(
    namespace: String,
    name: String,
) -> Result<Option<GroupDetail>, ServerFnError> {
    Ok(reader()?.group(&namespace, &name))
}

/// The user page; `None` when there is no such user.
#[server(prefix = "/_app")]
pub async fn get_user(
    namespace: String,
    name: String,
) -> Result<Option<UserDetail>, ServerFnError> {
    Ok(reader()?.user(&namespace, &name))
}

/// The relations graph around an entity, `depth` hops out (clamped to 1..=2).
#[server(prefix = "/_app")]
pub async fn get_graph(
    kind: String,
    namespace: String,
    name: String,
    depth: usize,
) -> Result<RelationGraph, ServerFnError> {
    Ok(reader()?.graph(&kind, &namespace, &name, depth.clamp(1, 2)))
}

/// Search as you type; at most `limit` hits (capped at [`MAX_SEARCH_LIMIT`]).
#[server(prefix = "/_app")]
pub async fn search(text: String, limit: usize) -> Result<Vec<EntitySummary>, ServerFnError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(reader()?.search(text, limit.clamp(1, MAX_SEARCH_LIMIT)))
}

/// Every location and entity with problems.
#[server(prefix = "/_app")]
pub async fn get_problems() -> Result<ProblemsReport, ServerFnError> {
    Ok(reader()?.problems())
}
