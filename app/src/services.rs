//! The services the UI's server functions call (server only).
//!
//! `server/` implements them and provides each as Leptos context (`Arc<dyn CatalogReader>`…).
//! Every method takes the [`Caller`]: the catalog's implementations read through the server's
//! one facade (`server/src/catalog/facade.rs`), the same one the REST API reads through, which
//! decides what each caller sees. Reads are synchronous because the snapshot is in memory.

use crate::error::AppError;
use crate::model::*;
use std::sync::Arc;

pub trait CatalogReader: Send + Sync + 'static {
    /// The catalog table: filtered, sorted, paginated, with facet counts.
    fn list(&self, caller: &Caller, query: &CatalogQuery) -> CatalogPage;
    /// One entity by kind (any case), namespace and name.
    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<EntityDetail>;
    fn group(&self, caller: &Caller, namespace: &str, name: &str) -> Option<GroupDetail>;
    fn user(&self, caller: &Caller, namespace: &str, name: &str) -> Option<UserDetail>;
    /// Relations graph around an entity, `depth` hops out (1 or 2).
    fn graph(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
        depth: usize,
    ) -> RelationGraph;
    /// Search as you type over names, titles, descriptions and tags; best hits first.
    fn search(&self, caller: &Caller, text: &str, limit: usize) -> Vec<EntitySummary>;
    /// Every location and entity with problems.
    fn problems(&self, caller: &Caller) -> ProblemsReport;
}

/// TechDocs: docs sites read from the entities' repositories and rendered on the server.
/// Reading and rendering is blocking work (files, Markdown, highlighting, sanitising): the
/// methods hand it to a blocking thread and answer when it is done.
pub trait DocsReader: Send + Sync + 'static {
    /// A page of an entity's docs (`page` is the page id, `""` for the home page). `None`
    /// when there is no such entity; `Some` with `error` set when its docs cannot be shown.
    fn page(
        self: Arc<Self>,
        caller: Caller,
        entity: EntityRef,
        page: String,
    ) -> BoxFuture<Option<DocsPage>>;
    /// Every entity with docs, by name.
    fn index(self: Arc<Self>, caller: Caller) -> BoxFuture<Vec<DocsEntry>>;
    /// Docs pages whose text matches every word of `text`; best first.
    fn search(
        self: Arc<Self>,
        caller: Caller,
        text: String,
        limit: usize,
    ) -> BoxFuture<Vec<DocsHit>>;
}

/// Deployment health from the clusters. `None`: no such entity, cluster or group.
pub trait KubeReader: Send + Sync + 'static {
    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<crate::kube::EntityKube>;
    fn overview(&self, caller: &Caller) -> crate::kube::ClustersOverview;
    fn cluster(&self, caller: &Caller, name: &str) -> Option<crate::kube::ClusterDetail>;
    fn team(&self, caller: &Caller, namespace: &str, name: &str) -> Option<crate::kube::TeamKube>;
}

/// Scorecards evaluated for an entity. `None`: no such entity, or the caller may not read it.
pub trait ScorecardReader: Send + Sync + 'static {
    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<crate::scorecards::EntityScorecards>;
    /// What a group owns (and the caller may read), each entity's level, worst first.
    fn team(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Option<crate::scorecards::TeamScorecards>;
}

/// Observability links made from the configuration's templates. `None`: no such entity or
/// group, or the caller may not read it. Per-environment links need the caller to be allowed to
/// read the entity's Kubernetes resources too.
pub trait ObservabilityReader: Send + Sync + 'static {
    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<crate::observability::EntityLinks>;
    fn team(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Option<crate::observability::TeamLinks>;
}

/// The home page, the organisation view, and what is kept per signed-in user (stars and recent
/// visits).
pub trait HomeReader: Send + Sync + 'static {
    /// A signed-in user's home, or the organisation's overview for anyone else.
    fn home(self: Arc<Self>, caller: Caller) -> BoxFuture<Result<crate::home::HomeView, AppError>>;
    /// Every team the caller sees, sorted by `sort` (`app::home::ORG_SORTS`), and entities
    /// with no owner or an owner missing from the catalog.
    fn organisation(&self, caller: &Caller, sort: &str) -> crate::home::OrgView;
    /// A group's sub-groups with their rollups, worst first; `None`: no such group.
    fn subteams(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Option<Vec<crate::home::TeamRow>>;
    /// The entity page's star for a signed-in user, and their visit recorded (without waiting
    /// for the write). The guest and tokens get the default: no stars.
    fn visit(
        self: Arc<Self>,
        caller: Caller,
        entity: EntityRef,
    ) -> BoxFuture<crate::home::StarState>;
}

/// Golden signals and firing alerts read from Prometheus (`observability.prometheus`). `None`:
/// no such entity or group, or the caller may not read it. Answers come from a shared cache, so
/// a page waits at most the server's timeout.
pub trait SignalsReader: Send + Sync + 'static {
    /// An entity's signals over `range` (one of [`crate::observability::SIGNAL_RANGES`]).
    fn entity(
        self: Arc<Self>,
        caller: Caller,
        kind: String,
        namespace: String,
        name: String,
        range: String,
    ) -> BoxFuture<Option<crate::observability::EntitySignals>>;
    /// A team's services' signals, worst first.
    fn team(
        self: Arc<Self>,
        caller: Caller,
        namespace: String,
        name: String,
    ) -> BoxFuture<Option<crate::observability::TeamSignals>>;
}

/// Firing alerts per entity for the catalog table, read from a map the server keeps (never a
/// query per render). `None`: no Prometheus is configured (the column is not shown).
pub trait AlertCountReader: Send + Sync + 'static {
    /// Whether counts are kept (Prometheus is configured).
    fn enabled(&self) -> bool;
    /// One count per entity, in order.
    fn counts(&self, entities: &[crate::model::EntityRef]) -> Option<Vec<u32>>;
}

/// A boxed future, for the async methods of the traits above.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Locations: list, register (with a dry-run preview) and refresh.
pub trait LocationAdmin: Send + Sync + 'static {
    fn locations(&self, caller: &Caller) -> Vec<LocationStatus>;
    fn refresh(&self, caller: Caller, id: String) -> BoxFuture<Result<LocationStatus, AppError>>;
    fn import(
        &self,
        caller: Caller,
        request: ImportRequest,
        dry_run: bool,
    ) -> BoxFuture<Result<ImportResult, AppError>>;
}

/// The admin pages: the audit log and one user's effective permissions. The audit log needs
/// `audit.read`, the permissions `policy.read` (refused: [`AppError::Forbidden`] naming the
/// rule).
pub trait AuditAdmin: Send + Sync + 'static {
    /// Which admin pages `caller` may open (for links; cheap: two policy decisions).
    fn access(&self, caller: &Caller) -> crate::audit::AdminAccess;
    /// One page of the log, newest first.
    fn events(
        &self,
        caller: Caller,
        query: crate::audit::AuditQuery,
    ) -> BoxFuture<Result<crate::audit::AuditPage, AppError>>;
    /// `user` (`user:default/alice`, or `guest`): every known permission's decision and rule,
    /// with the user's groups and ownership references.
    fn permissions(
        &self,
        caller: &Caller,
        user: &str,
    ) -> Result<crate::audit::EffectivePermissions, AppError>;
}

/// API tokens on the settings page (`/settings/tokens`); made and revoked by plain form posts
/// the server handles.
pub trait TokenAdmin: Send + Sync + 'static {
    /// The caller's tokens, and the one just made (taken out of the request's session, so it is
    /// shown once). `request` is the request's extensions, where the server finds the session.
    fn page(
        &self,
        caller: Caller,
        request: leptos::server_fn::http_export::Extensions,
    ) -> BoxFuture<Result<TokenSettings, AppError>>;
}

/// Software templates (`/create…`): the templates the caller sees, the wizard, tasks and
/// actions. Starting, cancelling and retrying a task are plain form posts the server handles.
pub trait Scaffolder: Send + Sync + 'static {
    /// The Template entities the caller sees that match the filters.
    fn templates(
        &self,
        caller: &Caller,
        query: &crate::templates::TemplateQuery,
    ) -> crate::templates::TemplateList;
    /// The wizard of template `namespace/name`: its first step, or (`post`: the form fields a
    /// step posted, in order) the step the post leads to, with its errors; `failure` says why
    /// "Create" did not start the task. A template the caller may not see is not found.
    fn wizard(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        post: Option<&[(String, String)]>,
        failure: Option<String>,
    ) -> Result<crate::templates::WizardView, AppError>;
    /// A task with its steps, log and output.
    fn task(
        self: Arc<Self>,
        caller: Caller,
        id: String,
    ) -> BoxFuture<Result<crate::templates::TaskView, AppError>>;
    /// The caller's tasks, newest first; everyone's with `all` when the policy lets the caller
    /// cancel anyone's.
    fn tasks(
        self: Arc<Self>,
        caller: Caller,
        all: bool,
    ) -> BoxFuture<Result<crate::templates::TaskListView, AppError>>;
    /// Every action with its schemas.
    fn actions(&self, caller: &Caller) -> Vec<crate::templates::ActionView>;
    /// The template editor (`/create/edit`) for a caller who may run templates: `posted`, or an
    /// example to start from.
    fn editor(
        &self,
        caller: &Caller,
        posted: Option<crate::templates::EditView>,
    ) -> Result<crate::templates::EditView, AppError>;
}
