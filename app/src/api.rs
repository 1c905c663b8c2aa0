//! Server functions: the UI's private calls to the server, under `/_app/…`.
//!
//! Each one is thin: it takes the service the server provides as context
//! ([`CatalogReader`](crate::services::CatalogReader)…), the [`Caller`] of the request, and
//! calls one method. They fail with [`AppError`], which crosses the wire typed: a missing entity
//! is [`AppError::NotFound`], so pages show a real 404. `/api/…` is the public REST API and is
//! not used here.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A service the server provides through `leptos_routes_with_context`.
#[cfg(feature = "ssr")]
fn service<T: ?Sized + Send + Sync + 'static>(what: &str) -> Result<std::sync::Arc<T>, AppError> {
    use_context::<std::sync::Arc<T>>()
        .ok_or_else(|| AppError::Internal(format!("{what} is not available on this server")))
}

#[cfg(feature = "ssr")]
fn reader() -> Result<std::sync::Arc<dyn crate::services::CatalogReader>, AppError> {
    service("the catalog")
}

/// Who is asking: what the server put on the request when it identified the caller; the guest
/// when nobody did (the least one may see).
#[cfg(feature = "ssr")]
fn caller() -> Caller {
    use leptos::server_fn::http_export::request::Parts;
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<Caller>().cloned())
        .unwrap_or_else(Caller::guest)
}

#[cfg(feature = "ssr")]
fn found<T>(value: Option<T>, what: impl FnOnce() -> String) -> Result<T, AppError> {
    value.ok_or_else(|| AppError::NotFound(format!("no {}", what())))
}

/// Largest search result list a caller may ask for.
pub const MAX_SEARCH_LIMIT: usize = 50;

/// The catalog table: one page of entities with facet counts.
#[server(prefix = "/_app", input = Json)]
pub async fn list_catalog(query: CatalogQuery) -> Result<CatalogPage, AppError> {
    let mut page = reader()?.list(&caller(), &query);
    // Firing alerts per row from the server's map, when Prometheus is configured.
    if let Ok(alerts) = service::<dyn crate::services::AlertCountReader>("alert counts") {
        let refs: Vec<EntityRef> = page.items.iter().map(|s| s.entity_ref.clone()).collect();
        page.alert_counts = alerts.counts(&refs);
    }
    Ok(page)
}

/// One entity; [`AppError::NotFound`] when there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_entity(
    kind: String,
    namespace: String,
    name: String,
) -> Result<EntityDetail, AppError> {
    let detail = reader()?.entity(&caller(), &kind, &namespace, &name);
    found(detail, || format!("entity named {kind}:{namespace}/{name}"))
}

/// The group page; [`AppError::NotFound`] when there is no such group.
#[server(prefix = "/_app")]
pub async fn get_group(namespace: String, name: String) -> Result<GroupDetail, AppError> {
    let detail = reader()?.group(&caller(), &namespace, &name);
    found(detail, || format!("group named {namespace}/{name}"))
}

/// The user page; [`AppError::NotFound`] when there is no such user.
#[server(prefix = "/_app")]
pub async fn get_user(namespace: String, name: String) -> Result<UserDetail, AppError> {
    let detail = reader()?.user(&caller(), &namespace, &name);
    found(detail, || format!("user named {namespace}/{name}"))
}

/// The relations graph around an entity, `depth` hops out (clamped to 1..=2).
#[server(prefix = "/_app")]
pub async fn get_graph(
    kind: String,
    namespace: String,
    name: String,
    depth: usize,
) -> Result<RelationGraph, AppError> {
    Ok(reader()?.graph(&caller(), &kind, &namespace, &name, depth.clamp(1, 2)))
}

/// Search as you type; at most `limit` hits (capped at [`MAX_SEARCH_LIMIT`]).
#[server(prefix = "/_app")]
pub async fn search(text: String, limit: usize) -> Result<Vec<EntitySummary>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(reader()?.search(&caller(), text, limit.clamp(1, MAX_SEARCH_LIMIT)))
}

/// Every location and entity with problems.
#[server(prefix = "/_app")]
pub async fn get_problems() -> Result<ProblemsReport, AppError> {
    Ok(reader()?.problems(&caller()))
}

#[cfg(feature = "ssr")]
fn admin() -> Result<std::sync::Arc<dyn crate::services::LocationAdmin>, AppError> {
    service("location administration")
}

#[cfg(feature = "ssr")]
fn docs() -> Result<std::sync::Arc<dyn crate::services::DocsReader>, AppError> {
    service("docs")
}

/// Every location with its status.
#[server(prefix = "/_app")]
pub async fn get_locations() -> Result<Vec<LocationStatus>, AppError> {
    Ok(admin()?.locations(&caller()))
}

/// What registering a location would import (a dry run: nothing is stored).
#[server(prefix = "/_app")]
pub async fn preview_location(
    location_type: String,
    target: String,
    branch: Option<String>,
    path: Option<String>,
) -> Result<ImportResult, AppError> {
    let request = ImportRequest {
        location_type,
        target,
        branch: branch.filter(|b| !b.trim().is_empty()),
        path: path.filter(|p| !p.trim().is_empty()),
    };
    admin()?.import(caller(), request, true).await
}

/// A page of an entity's docs; [`AppError::NotFound`] when there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_docs_page(
    kind: String,
    namespace: String,
    name: String,
    page: String,
) -> Result<DocsPage, AppError> {
    let entity = EntityRef::new(&kind, &namespace, &name);
    let page = docs()?.page(caller(), entity, page).await;
    found(page, || format!("entity named {kind}:{namespace}/{name}"))
}

/// Every entity with docs.
#[server(prefix = "/_app")]
pub async fn get_docs_index() -> Result<Vec<DocsEntry>, AppError> {
    Ok(docs()?.index(caller()).await)
}

/// Docs pages matching a search.
#[server(prefix = "/_app")]
pub async fn search_docs(text: String, limit: usize) -> Result<Vec<DocsHit>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let (text, limit) = (text.to_string(), limit.clamp(1, MAX_SEARCH_LIMIT));
    Ok(docs()?.search(caller(), text, limit).await)
}

/// The Kubernetes view server functions take the [`KubeReader`](crate::services::KubeReader)
/// the server provides.
#[cfg(feature = "ssr")]
fn kube() -> Result<std::sync::Arc<dyn crate::services::KubeReader>, AppError> {
    service("the Kubernetes views")
}

/// An entity's workloads and health; [`AppError::NotFound`] when there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_entity_kube(
    kind: String,
    namespace: String,
    name: String,
) -> Result<crate::kube::EntityKube, AppError> {
    let view = kube()?.entity(&caller(), &kind, &namespace, &name);
    found(view, || format!("entity named {kind}:{namespace}/{name}"))
}

/// Every cluster with its state and health counts.
#[server(prefix = "/_app")]
pub async fn get_clusters() -> Result<crate::kube::ClustersOverview, AppError> {
    Ok(kube()?.overview(&caller()))
}

/// One cluster's workloads; [`AppError::NotFound`] when there is no such cluster.
#[server(prefix = "/_app")]
pub async fn get_cluster(name: String) -> Result<crate::kube::ClusterDetail, AppError> {
    let view = kube()?.cluster(&caller(), &name);
    found(view, || format!("cluster named {name}"))
}

/// A team's health; [`AppError::NotFound`] when there is no such group.
#[server(prefix = "/_app")]
pub async fn get_team_kube(
    namespace: String,
    name: String,
) -> Result<crate::kube::TeamKube, AppError> {
    let view = kube()?.team(&caller(), &namespace, &name);
    found(view, || format!("group named {namespace}/{name}"))
}

#[cfg(feature = "ssr")]
fn observability() -> Result<std::sync::Arc<dyn crate::services::ObservabilityReader>, AppError> {
    service("the observability links")
}

/// An entity's observability links (its own and per environment); [`AppError::NotFound`] when
/// there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_entity_links(
    kind: String,
    namespace: String,
    name: String,
) -> Result<crate::observability::EntityLinks, AppError> {
    let links = observability()?.entity(&caller(), &kind, &namespace, &name);
    found(links, || format!("entity named {kind}:{namespace}/{name}"))
}

/// A team's links and its services' on-call links; [`AppError::NotFound`] when there is no
/// such group.
#[server(prefix = "/_app")]
pub async fn get_team_links(
    namespace: String,
    name: String,
) -> Result<crate::observability::TeamLinks, AppError> {
    let links = observability()?.team(&caller(), &namespace, &name);
    found(links, || format!("group named {namespace}/{name}"))
}

#[cfg(feature = "ssr")]
fn signals() -> Result<std::sync::Arc<dyn crate::services::SignalsReader>, AppError> {
    service("the golden signals")
}

/// An entity's golden signals and firing alerts over `range` (`1h`, `6h`, `24h`, `7d`);
/// [`AppError::NotFound`] when there is no such entity.
#[server(prefix = "/_app")]
pub async fn get_entity_signals(
    kind: String,
    namespace: String,
    name: String,
    range: String,
) -> Result<crate::observability::EntitySignals, AppError> {
    let what = format!("entity named {kind}:{namespace}/{name}");
    let view = signals()?
        .entity(caller(), kind, namespace, name, range)
        .await;
    found(view, || what)
}

/// A team's services' golden signals, worst first; [`AppError::NotFound`] when there is no such
/// group.
#[server(prefix = "/_app")]
pub async fn get_team_signals(
    namespace: String,
    name: String,
) -> Result<crate::observability::TeamSignals, AppError> {
    let what = format!("group named {namespace}/{name}");
    let view = signals()?.team(caller(), namespace, name).await;
    found(view, || what)
}

#[cfg(feature = "ssr")]
fn scorecards() -> Result<std::sync::Arc<dyn crate::services::ScorecardReader>, AppError> {
    service("the scorecards")
}

/// The scorecards that apply to an entity, evaluated; [`AppError::NotFound`] when there is no
/// such entity.
#[server(prefix = "/_app")]
pub async fn get_entity_scorecards(
    kind: String,
    namespace: String,
    name: String,
) -> Result<crate::scorecards::EntityScorecards, AppError> {
    let results = scorecards()?.entity(&caller(), &kind, &namespace, &name);
    found(results, || {
        format!("entity named {kind}:{namespace}/{name}")
    })
}

/// The levels of what a group owns, worst first; [`AppError::NotFound`] when there is no such
/// group.
#[server(prefix = "/_app")]
pub async fn get_team_scorecards(
    namespace: String,
    name: String,
) -> Result<crate::scorecards::TeamScorecards, AppError> {
    let results = scorecards()?.team(&caller(), &namespace, &name);
    found(results, || format!("group named {namespace}/{name}"))
}

#[cfg(feature = "ssr")]
fn home() -> Result<std::sync::Arc<dyn crate::services::HomeReader>, AppError> {
    service("the home page")
}

/// The home page: the signed-in user's, or the organisation's overview.
#[server(prefix = "/_app")]
pub async fn get_home() -> Result<crate::home::HomeView, AppError> {
    home()?.home(caller()).await
}

/// The organisation view, teams sorted by `sort`.
#[server(prefix = "/_app")]
pub async fn get_organisation(sort: String) -> Result<crate::home::OrgView, AppError> {
    Ok(home()?.organisation(&caller(), &sort))
}

/// A group's sub-groups with their rollups, worst first.
#[server(prefix = "/_app")]
pub async fn get_subteams(
    namespace: String,
    name: String,
) -> Result<Vec<crate::home::TeamRow>, AppError> {
    let rows = home()?.subteams(&caller(), &namespace, &name);
    found(rows, || format!("group named {namespace}/{name}"))
}

/// The entity page's star; records the signed-in user's visit.
#[server(prefix = "/_app")]
pub async fn visit_entity(
    kind: String,
    namespace: String,
    name: String,
) -> Result<crate::home::StarState, AppError> {
    Ok(home()?
        .visit(caller(), EntityRef::new(kind, namespace, name))
        .await)
}

#[cfg(feature = "ssr")]
fn audit_admin() -> Result<std::sync::Arc<dyn crate::services::AuditAdmin>, AppError> {
    service("the audit log")
}

/// One page of the audit log (needs `audit.read`).
#[server(prefix = "/_app", input = Json)]
pub async fn get_audit(
    query: crate::audit::AuditQuery,
) -> Result<crate::audit::AuditPage, AppError> {
    audit_admin()?.events(caller(), query).await
}

/// A user's effective permissions (needs `policy.read`).
#[server(prefix = "/_app")]
pub async fn get_permissions(user: String) -> Result<crate::audit::EffectivePermissions, AppError> {
    audit_admin()?.permissions(&caller(), &user)
}

/// The caller's API tokens and the one just made (shown once).
#[server(prefix = "/_app")]
pub async fn get_api_tokens() -> Result<TokenSettings, AppError> {
    use leptos::server_fn::http_export::request::Parts;
    let extensions = use_context::<Parts>()
        .map(|p| p.extensions.clone())
        .unwrap_or_default();
    service::<dyn crate::services::TokenAdmin>("API tokens")?
        .page(caller(), extensions)
        .await
}

#[cfg(feature = "ssr")]
fn scaffolder() -> Result<std::sync::Arc<dyn crate::services::Scaffolder>, AppError> {
    service("software templates")
}

/// A wizard step's post, put on the request by the server's handler of the wizard's form
/// posts (`server/src/http/wizard.rs`) before it renders the page.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct WizardPost {
    /// The posted fields, in order (secrets too: never logged).
    pub fields: Vec<(String, String)>,
    /// Why "Create" did not start the task.
    pub failure: Option<String>,
    /// The dry-run "Preview the files" asked for.
    pub preview: Option<crate::templates::PreviewView>,
}

/// `/create/edit`'s post as the server's handler computed it (the dry-run is async; the page
/// only shows it).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct EditPost(pub crate::templates::EditView);

/// The templates the caller can see that match the filters.
#[server(prefix = "/_app", input = Json)]
pub async fn list_templates(
    query: crate::templates::TemplateQuery,
) -> Result<crate::templates::TemplateList, AppError> {
    Ok(scaffolder()?.templates(&caller(), &query))
}

/// A template's wizard at the step this request's post leads to (the first without a post).
#[server(prefix = "/_app")]
pub async fn get_wizard(
    namespace: String,
    name: String,
) -> Result<crate::templates::WizardView, AppError> {
    use leptos::server_fn::http_export::request::Parts;
    let post = use_context::<Parts>().and_then(|p| p.extensions.get::<WizardPost>().cloned());
    let (fields, failure, preview) = match post {
        Some(p) => (Some(p.fields), p.failure, p.preview),
        None => (None, None, None),
    };
    let mut view =
        scaffolder()?.wizard(&caller(), &namespace, &name, fields.as_deref(), failure)?;
    if view.on_review() {
        view.preview = preview;
    }
    Ok(view)
}

/// `/create/edit`: the form with what was posted and its dry-run, or an example to start from.
/// Only for callers who may run templates.
#[server(prefix = "/_app")]
pub async fn get_template_edit() -> Result<crate::templates::EditView, AppError> {
    use leptos::server_fn::http_export::request::Parts;
    let post = use_context::<Parts>().and_then(|p| p.extensions.get::<EditPost>().cloned());
    scaffolder()?.editor(&caller(), post.map(|p| p.0))
}

/// A task with its steps, log and output.
#[server(prefix = "/_app")]
pub async fn get_task(id: String) -> Result<crate::templates::TaskView, AppError> {
    scaffolder()?.task(caller(), id).await
}

/// The caller's tasks (everyone's with `all`, when allowed).
#[server(prefix = "/_app")]
pub async fn list_tasks(all: bool) -> Result<crate::templates::TaskListView, AppError> {
    scaffolder()?.tasks(caller(), all).await
}

/// Every action the templates' steps may use.
#[server(prefix = "/_app")]
pub async fn get_actions() -> Result<Vec<crate::templates::ActionView>, AppError> {
    Ok(scaffolder()?.actions(&caller()))
}
