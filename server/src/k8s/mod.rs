//! Deployment health from Kubernetes clusters, live.
//!
//! - [`config`]: the `kubernetes` section: kubeconfig contexts, in-cluster, URL + token + CA;
//!   `$KUBECONFIG` when nothing is configured.
//! - [`discovery`]: which APIs a server offers (HPA v2 or v2beta2, Ingress v1); the rest is skipped
//!   and said.
//! - [`model`]: compact copies of the watched objects (memory bounded, no managed fields).
//! - [`cluster`]: one cluster's data and state, and its kube-runtime watchers (list + watch,
//!   relist after failure, backoff, stale marker with time and error).
//! - [`gitops`]: ArgoCD Applications, Flux Kustomizations and HelmReleases: compact copies and
//!   their health with reasons (pure).
//! - [`sources`]: Flux GitRepositories and HelmRepositories: compact copies, their health with
//!   reasons (pure), and a Kustomization's or HelmRelease's health read with its source's.
//! - [`platform`]: Crossplane claims and composite resources, KubeVela Applications,
//!   ExternalSecrets and SealedSecrets: compact copies and their health with reasons (pure).
//! - [`facts`]: what the scorecards' cluster rules read of an entity's workloads, copied out at
//!   one moment, and its digest (what tells it did not change).
//! - [`health`]: the rules that turn pod and workload state into health with reasons.
//! - [`selector`]: kubectl label selectors (`backstage.io/kubernetes-label-selector`).
//! - [`service`]: matching workloads to entities and the views; live updates wait on
//!   [`service::KubeService::subscribe`].

pub mod cluster;
pub mod config;
pub mod discovery;
pub mod facts;
pub mod gitops;
pub mod health;
pub mod model;
pub mod platform;
pub mod selector;
pub mod service;
pub mod sources;

#[cfg(test)]
mod gitops_tests;
#[cfg(test)]
mod platform_tests;
#[cfg(test)]
pub mod testing;
#[cfg(test)]
mod tests;

pub use config::KubeSettings;
pub use service::KubeService;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// A configured cluster cannot be used as written.
    #[error("kubernetes cluster {cluster}: {message}")]
    Config { cluster: String, message: String },
}
