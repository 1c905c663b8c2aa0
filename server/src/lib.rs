//! Backlot's server: the `backlot` binary's implementation.
//!
//! - [`config`]: the YAML file and environment overrides
//! - [`storage`]: SQLite and PostgreSQL
//! - [`catalog`]: descriptor processing, stitching, queries, the catalog service
//! - [`audit`]: the audit log: who did what, when, how it went (batched writer, retention)
//! - [`auth`]: sign-in (OpenID Connect), sessions, who a signed-in identity is
//! - [`policy`]: permissions: the policy file, roles, decisions that name their rule
//! - [`api`]: the public REST API (Backstage's catalog API shapes)
//! - [`http`]: the axum router with the UI, API, health and metrics
//! - [`files`]: file locations: descriptor files on this machine, inside the allowed roots
//! - [`git`]: Git locations: mirrors, reading from the object store, webhooks, discovery
//! - [`k8s`]: deployment health from Kubernetes clusters: watchers, health rules, views
//! - [`observability`]: links from configuration templates (dashboards, logs, on-call, CI…)
//! - [`scorecards`]: checks over catalog facts in levels (bronze, silver, gold), per entity
//! - [`docs`]: TechDocs: mkdocs.yml, Markdown rendered and sanitized on the server
//! - [`scaffolder`]: Backstage software templates: the template engine and skeleton rendering
//! - [`demo`]: the demo organisation shipped in the binary
//! - [`cli`]: `serve`, `validate`, `migrate`
//! - [`error`]: domain errors into the app's one error

pub mod api;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod docs;
pub mod error;
pub mod files;
pub mod git;
pub mod home;
pub mod http;
pub mod k8s;
pub mod metrics;
pub mod observability;
pub mod policy;
pub mod scaffolder;
pub mod scorecards;
pub mod secret;
pub mod storage;
pub mod util;

#[cfg(test)]
pub mod test_support;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<catalog::CatalogService>,
    /// Git locations: the webhook's secret and push routing.
    pub git: Arc<git::GitSource>,
    /// TechDocs of the catalog's entities.
    pub docs: Arc<docs::service::DocsService>,
    pub metrics: Arc<metrics::Metrics>,
    /// Deployment health from the clusters (none configured: empty views that say so).
    pub kube: Arc<k8s::KubeService>,
    /// Behind an `Arc`: every middleware layer clones the state per request.
    pub leptos: Arc<leptos::config::LeptosOptions>,
    /// Set once the first refresh of every location has finished.
    pub ready: Arc<AtomicBool>,
    /// Sign-in; `None`: every request is the guest.
    pub auth: Option<Arc<auth::Auth>>,
    /// Who may read and do what (`policy/`), reloaded when its file changes.
    pub policy: Arc<policy::PolicyStore>,
    /// The audit log's handle: writes and refusals are recorded through it.
    pub audit: audit::Audit,
    /// Software templates' tasks (created, run by this process's worker, reported).
    pub scaffolder: scaffolder::tasks::TaskService,
    /// The Git host Backlot manages (its repositories served read-only under `/git`).
    pub managed_git: Arc<scaffolder::managed_git::ManagedGit>,
    /// The observability link templates in force (`observability.links`, or the demo's).
    pub observability: Arc<observability::LinkTemplates>,
    /// Golden signals and alerts from Prometheus (`observability.prometheus`), with the shared
    /// query cache.
    pub prometheus: Arc<observability::prometheus::PromService>,
    /// The scorecards in force and their latest results.
    pub scorecards: Arc<scorecards::ScorecardService>,
}

impl AppState {
    /// The catalog as requests read and write it (what each caller may see is decided there).
    pub fn facade(&self) -> catalog::facade::Facade {
        catalog::facade::Facade::new(self.catalog.clone(), self.policy.clone())
            .with_audit(self.audit.clone())
    }

    /// The observability links as requests read them.
    pub fn observability_views(&self) -> observability::views::ObservabilityViews {
        observability::views::ObservabilityViews {
            links: self.observability.clone(),
            kube: self.kube.clone(),
            facade: self.facade(),
        }
    }

    /// The golden signals as requests read them.
    pub fn signals_views(&self) -> observability::prometheus::signals::SignalsViews {
        observability::prometheus::signals::SignalsViews {
            prom: self.prometheus.clone(),
            kube: self.kube.clone(),
            facade: self.facade(),
        }
    }
}

impl axum::extract::FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos).clone()
    }
}
