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

#[cfg(feature = "ssr")]
fn admin() -> Result<std::sync::Arc<dyn crate::services::LocationAdmin>, ServerFnError> {
    use_context::<std::sync::Arc<dyn crate::services::LocationAdmin>>().ok_or_else(|| {
        ServerFnError::ServerError("location administration is not available".into())
    })
}

#[cfg(feature = "ssr")]
fn docs() -> Result<std::sync::Arc<dyn crate::services::DocsReader>, ServerFnError> {
    use_context::<std::sync::Arc<dyn crate::services::DocsReader>>()
        .ok_or_else(|| ServerFnError::ServerError("docs are not available".into()))
}

/// Every location with its status.
#[server(prefix = "/_app")]
pub async fn get_locations() -> Result<Vec<LocationStatus>, ServerFnError> {
    Ok(admin()?.locations())
}

/// Reads a location now ("refresh now").
#[server(prefix = "/_app")]
pub async fn refresh_location(id: String) -> Result<LocationStatus, ServerFnError> {
    admin()?
        .refresh(id)
        .await
        .map_err(ServerFnError::ServerError)
}

/// Registers a location, or with `dry_run` shows what it would import.
#[server(prefix = "/_app")]
pub async fn import_location(
    location_type: String,
    target: String,
    branch: Option<String>,
    path: Option<String>,
    dry_run: Option<String>,
) -> Result<ImportResult, ServerFnError> {
    let request = ImportRequest {
        location_type,
        target,
        branch: branch.filter(|b| !b.trim().is_empty()),
        path: path.filter(|p| !p.trim().is_empty()),
    };
    admin()?
        .import(
            request,
            dry_run.is_some_and(|d| !d.is_empty() && d != "false"),
        )
        .await
        .map_err(ServerFnError::ServerError)
}

/// A page of an entity's docs; `None` when there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_docs_page(
    kind: String,
    namespace: String,
    name: String,
    page: String,
) -> Result<Option<DocsPage>, ServerFnError> {
    Ok(docs()?.page(&kind, &namespace, &name, &page))
}

/// Every entity with docs.
#[server(prefix = "/_app")]
pub async fn get_docs_index() -> Result<Vec<DocsEntry>, ServerFnError> {
    Ok(docs()?.index())
}

/// Docs pages matching a search.
#[server(prefix = "/_app")]
pub async fn search_docs(text: String, limit: usize) -> Result<Vec<DocsHit>, ServerFnError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(docs()?.search(text, limit.clamp(1, MAX_SEARCH_LIMIT)))
}

/// The Kubernetes view server functions take the [`KubeReader`](crate::services::KubeReader)
/// the server provides.
#[cfg(feature = "ssr")]
fn kube() -> Result<std::sync::Arc<dyn crate::services::KubeReader>, ServerFnError> {
    use_context::<std::sync::Arc<dyn crate::services::KubeReader>>().ok_or_else(|| {
        ServerFnError::ServerError("Kubernetes views are not available: no KubeReader".into())
    })
}

/// An entity's workloads and health; `None` when there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_entity_kube(
    kind: String,
    namespace: String,
    name: String,
) -> Result<Option<crate::kube::EntityKube>, ServerFnError> {
    Ok(kube()?.entity(&kind, &namespace, &name))
}

/// Every cluster with its state and health counts.
#[server(prefix = "/_app")]
pub async fn get_clusters() -> Result<crate::kube::ClustersOverview, ServerFnError> {
    Ok(kube()?.overview())
}

/// One cluster's workloads; `None` when there is no such cluster.
#[server(prefix = "/_app")]
pub async fn get_cluster(
    name: String,
) -> Result<Option<crate::kube::ClusterDetail>, ServerFnError> {
    Ok(kube()?.cluster(&name))
}

/// A team's health; `None` when there is no such group.
#[server(prefix = "/_app")]
pub async fn get_team_kube(
    namespace: String,
    name: String,
) -> Result<Option<crate::kube::TeamKube>, ServerFnError> {
    Ok(kube()?.team(&namespace, &name))
}
