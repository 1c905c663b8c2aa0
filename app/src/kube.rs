//! What the Kubernetes views show: health with its reasons, workloads → replica sets → pods, per
//! cluster and environment. Plain data built by the server from its cluster watchers, rendered by
//! the pages, and pushed again over server-sent events when it changes.

use crate::model::EntityRef;
use serde::{Deserialize, Serialize};

/// Health of a pod, workload, component, team or cluster, best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    /// Nothing known yet, or the cluster's data is stale.
    Unknown,
    /// A rollout is under way and nothing is failing.
    Progressing,
    /// Running, but short of what was asked or with failing parts.
    Degraded,
    /// Nothing ready.
    Down,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unknown => "unknown",
            Health::Progressing => "progressing",
            Health::Degraded => "degraded",
            Health::Down => "down",
        }
    }

    /// The worst of several; `Healthy` for none.
    pub fn worst(all: impl IntoIterator<Item = Health>) -> Health {
        all.into_iter().max().unwrap_or(Health::Healthy)
    }
}

/// Why something is not healthy, in plain words, with the likely next step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code, Kubernetes' own where there is one: `CrashLoopBackOff`, `ImagePullBackOff`,
    /// `OOMKilled`, `Restarts`, `NotReady`, `Unavailable`, `ProgressDeadlineExceeded`,
    /// `ReplicasShort`, `Pending`, `HpaAtMax`, `NotFound`, `Stale`…
    pub code: String,
    /// What is wrong, naming the object.
    pub message: String,
    /// What to try next.
    pub next_step: String,
    /// How bad it is on its own.
    pub health: Health,
}

/// A cluster's connection state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    pub name: String,
    pub environment: String,
    /// Every watcher has listed at least once and none is failing.
    pub synced: bool,
    /// The data shown is not current: set when the connection fails.
    pub stale: bool,
    /// RFC 3339: since when the data is stale, or when the last sync completed.
    pub since: Option<String>,
    /// The last error, in words (never a token).
    pub error: Option<String>,
    /// APIs the server does not offer or Backlot may not read, said once each.
    pub skipped: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerView {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: u32,
    /// `running`, `waiting: CrashLoopBackOff`, `terminated: OOMKilled`…
    pub state: String,
    /// Why the previous run ended (`OOMKilled`, `Error`…), if it did.
    pub last_termination: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodView {
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub restarts: u32,
    /// RFC 3339 creation time.
    pub created: Option<String>,
    pub node: Option<String>,
    pub containers: Vec<ContainerView>,
    /// Conditions that are not true, as `Type: Reason`.
    pub conditions: Vec<String>,
    pub health: Health,
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaSetView {
    pub name: String,
    /// `deployment.kubernetes.io/revision`.
    pub revision: Option<String>,
    pub desired: i32,
    pub ready: i32,
    pub images: Vec<String>,
    pub created: Option<String>,
    pub pods: Vec<PodView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpaView {
    pub name: String,
    pub min: i32,
    pub max: i32,
    pub current: i32,
    pub desired: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    /// `Normal` or `Warning`.
    pub event_type: String,
    pub reason: String,
    pub message: String,
    /// `Pod/web-1`.
    pub object: String,
    pub count: i32,
    /// RFC 3339.
    pub last_seen: Option<String>,
}

/// A Deployment, StatefulSet or DaemonSet with what belongs to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadView {
    pub cluster: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub health: Health,
    pub reasons: Vec<Reason>,
    pub desired: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: i32,
    pub images: Vec<String>,
    pub created: Option<String>,
    /// Conditions as `Type=Status (Reason)`.
    pub conditions: Vec<String>,
    /// Deployments: newest first. StatefulSets and DaemonSets own their pods directly: one
    /// entry named after the workload.
    pub replica_sets: Vec<ReplicaSetView>,
    pub hpa: Option<HpaView>,
    pub services: Vec<String>,
    pub ingresses: Vec<String>,
    /// Newest first, bounded.
    pub events: Vec<EventView>,
    /// The catalog entity it belongs to, if any.
    pub entity: Option<EntityRef>,
}

/// One cluster's part of an entity's view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterWorkloads {
    pub cluster: ClusterState,
    pub health: Health,
    pub workloads: Vec<WorkloadView>,
    /// The GitOps objects (ArgoCD Applications, Flux Kustomizations and HelmReleases) that
    /// deliver the entity to this cluster, worst first.
    #[serde(default)]
    pub delivery: Vec<DeliveryView>,
    /// The platform resources (Crossplane claims, KubeVela Applications, ExternalSecrets,
    /// SealedSecrets) the entity uses in this cluster, worst first.
    #[serde(default)]
    pub resources: Vec<ResourceView>,
}

/// A platform resource: a Crossplane claim or composite resource, a KubeVela/OAM `Application`,
/// an `ExternalSecret` or a `SealedSecret`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceView {
    pub cluster: String,
    /// `Crossplane claim`, `Crossplane composite resource`, `KubeVela Application`,
    /// `ExternalSecret`, `SealedSecret`.
    pub tool: String,
    /// The object's own kind (`PostgreSQLInstance`, `Application`…).
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// In a word: `Ready`, `Not ready`, `Pending`; SealedSecrets `Unsealed`/`Not unsealed`;
    /// KubeVela's phase (`running`, `unhealthy`, `workflowFailed`…).
    pub state: String,
    pub health: Health,
    pub reasons: Vec<Reason>,
    /// Crossplane: the composition; ExternalSecret: its store (`SecretStore/aws`).
    pub source: Option<String>,
    /// The Secret it writes (connection secret, target, unsealed Secret), by name only.
    pub secret: Option<String>,
    /// Whether that Secret is there, as its controller says (`published by Crossplane at …`,
    /// `unknown: …`): Backlot never reads Secrets.
    pub secret_state: Option<String>,
    /// A claim's composite resource, what a composite composes (`Kind name`), bounded.
    pub refs: Vec<String>,
    /// KubeVela: per component, `name: healthy` or `name: message`.
    pub components: Vec<String>,
    /// RFC 3339: when Ready (SealedSecret: Synced) last changed.
    pub since: Option<String>,
    /// The catalog entity it belongs to, if any.
    pub entity: Option<EntityRef>,
}

impl ResourceView {
    /// Not ready: listed on team and cluster pages.
    pub fn needs_attention(&self) -> bool {
        self.health > Health::Healthy
    }
}

/// A GitOps object: an ArgoCD `Application`, a Flux `Kustomization` or `HelmRelease`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub cluster: String,
    /// `ArgoCD Application`, `Flux Kustomization`, `Flux HelmRelease`.
    pub tool: String,
    pub namespace: String,
    pub name: String,
    /// In a word: ArgoCD's sync status (`Synced`, `OutOfSync`, `Unknown`), Flux's `Ready`,
    /// `Not ready`, `Reconciling`; `Suspended` for either.
    pub state: String,
    /// ArgoCD's own health (`Healthy`, `Degraded`, `Missing`…), when it says one.
    pub tool_health: Option<String>,
    pub health: Health,
    pub reasons: Vec<Reason>,
    /// Where it comes from: a repository URL and path, or a Flux source (`GitRepository/flux-system`).
    pub source: Option<String>,
    /// What Git asks for: ArgoCD's compared revision (else its target), Flux's last attempted
    /// revision.
    pub target_revision: Option<String>,
    /// What the cluster has: ArgoCD's last synced revision, Flux's last applied revision.
    pub synced_revision: Option<String>,
    /// RFC 3339: the last sync (ArgoCD: the last operation's end) or Ready transition (Flux).
    pub last_sync: Option<String>,
    /// The last operation's or the Ready condition's message.
    pub message: Option<String>,
    /// Resources it manages, as `Kind namespace/name` with their health when known.
    pub resources: Vec<String>,
    /// The ArgoCD UI's page of the application, when the cluster's `argocd_url` is configured.
    pub link: Option<String>,
    /// Flux: its source and the source's state (`GitRepository flux-system/app
    /// (ssh://…): Ready at main@abc1234`).
    pub source_state: Option<String>,
    /// The commit the cluster has, on the repository's web pages (the object's repository, else
    /// the entity's source location), when the revision is a commit and the host a known kind.
    pub commit_url: Option<String>,
    /// The catalog entity it belongs to, if any.
    pub entity: Option<EntityRef>,
}

impl DeliveryView {
    /// Not what Git says, or not healthy: listed on team and cluster pages.
    pub fn needs_attention(&self) -> bool {
        self.health > Health::Healthy
    }
}

/// Which image runs where: one row per container name, one cell per cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    pub container: String,
    /// Per cluster, in the order of `EntityKube::clusters`: the images running there (more than
    /// one during a rollout), empty when it does not run there.
    pub cells: Vec<Vec<String>>,
    /// The clusters do not all run the same images.
    pub differs: bool,
}

/// Which GitOps revision runs where: one row per GitOps object and cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub cluster: String,
    pub environment: String,
    /// `ArgoCD Application`, `Flux Kustomization`, `Flux HelmRelease`.
    pub tool: String,
    pub namespace: String,
    pub name: String,
    /// What the cluster has (short), as [`DeliveryView::synced_revision`].
    pub revision: Option<String>,
    /// Sync state in a word, as [`DeliveryView::state`].
    pub state: String,
    pub health: Health,
    pub commit_url: Option<String>,
    /// The ArgoCD UI's page of the application.
    pub link: Option<String>,
    /// Another cluster runs another revision of the same source.
    pub differs: bool,
}

/// The Kubernetes tab of an entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityKube {
    pub entity: EntityRef,
    /// How workloads are matched, in words (`kubernetes-id "web"`, `label selector app=web`…).
    pub matched_by: String,
    /// The entity asks for workloads (it has a Kubernetes annotation).
    pub expected: bool,
    /// No cluster is configured: say how to connect one.
    pub no_clusters: bool,
    pub health: Health,
    pub reasons: Vec<Reason>,
    pub clusters: Vec<ClusterWorkloads>,
    pub versions: Vec<VersionRow>,
    /// Which GitOps revision runs where, rows of the same source together.
    pub revisions: Vec<RevisionRow>,
}

/// Health counts of workloads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCounts {
    pub healthy: usize,
    pub unknown: usize,
    pub progressing: usize,
    pub degraded: usize,
    pub down: usize,
}

impl HealthCounts {
    pub fn add(&mut self, h: Health) {
        *match h {
            Health::Healthy => &mut self.healthy,
            Health::Unknown => &mut self.unknown,
            Health::Progressing => &mut self.progressing,
            Health::Degraded => &mut self.degraded,
            Health::Down => &mut self.down,
        } += 1;
    }

    pub fn total(&self) -> usize {
        self.healthy + self.unknown + self.progressing + self.degraded + self.down
    }
}

/// One cluster on the clusters overview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub state: ClusterState,
    pub health: Health,
    pub counts: HealthCounts,
    pub pods: usize,
    /// Workloads that match no catalog entity.
    pub unmatched: usize,
}

/// The clusters overview.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClustersOverview {
    pub clusters: Vec<ClusterSummary>,
    /// Entities that expect workloads and have none in any cluster.
    pub missing: Vec<EntityRef>,
    /// GitOps objects of every cluster that are out of sync or not ready, worst first.
    #[serde(default)]
    pub delivery: Vec<DeliveryView>,
    /// Platform resources of every cluster that are not ready, worst first.
    #[serde(default)]
    pub resources: Vec<ResourceView>,
}

/// A cluster page: every workload, worst first, and those running outside the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDetail {
    pub summary: ClusterSummary,
    pub workloads: Vec<WorkloadView>,
    /// The cluster's GitOps objects, worst first.
    #[serde(default)]
    pub delivery: Vec<DeliveryView>,
    /// The cluster's platform resources, worst first.
    #[serde(default)]
    pub resources: Vec<ResourceView>,
}

/// One entity on a team's health view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityHealth {
    pub entity: EntityRef,
    pub health: Health,
    pub reasons: Vec<Reason>,
    /// `cluster: health` per cluster it runs in.
    pub clusters: Vec<(String, Health)>,
    pub expected: bool,
}

/// Everything a team owns that runs (or should run) in a cluster, worst first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamKube {
    pub no_clusters: bool,
    pub health: Health,
    pub entities: Vec<EntityHealth>,
    /// The team's GitOps objects that are out of sync or not ready, worst first.
    #[serde(default)]
    pub delivery: Vec<DeliveryView>,
    /// The team's platform resources that are not ready, worst first.
    #[serde(default)]
    pub resources: Vec<ResourceView>,
}
