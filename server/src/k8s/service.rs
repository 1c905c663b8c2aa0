//! The Kubernetes service: starts one watcher set per cluster, matches workloads to catalog
//! entities the Backstage way, and builds the views (entity tab, clusters, team health).
//!
//! Matching: `backstage.io/kubernetes-label-selector` (kubectl syntax) when present, else
//! `backstage.io/kubernetes-id` as the label `backstage.io/kubernetes-id=<id>`; either is
//! checked against a workload's own labels and its pod template's. `backstage.io/kubernetes-namespace`
//! restricts the namespace.
//!
//! GitOps objects (ArgoCD Applications, Flux Kustomizations and HelmReleases) belong to an entity
//! when its `argocd/app-name` (Backstage's ArgoCD plugin) names the Application, when their own
//! labels match as a workload's would (in the namespace, theirs or their destination's), or when
//! they manage a workload matched to it (ArgoCD's `status.resources`, Flux's inventory).
//!
//! Platform resources (Crossplane claims and composite resources, KubeVela Applications,
//! ExternalSecrets, SealedSecrets) belong to an entity when their own labels match as a
//! workload's would, in their namespace. A legacy composite resource bound to a claim is shown
//! through its claim, whose health says what the composite's conditions say.

use super::cluster::{source_of, Cluster, Data, Sources};
use super::config::KubeSettings;
use super::facts::{
    ClusterNote, ContainerFact, EntityWorkloads, PodFact, WorkloadFact, WorkloadFacts,
};
use super::gitops::{self, GitOpsObj, Tool};
use super::health;
use super::model::{Meta, PodObj, Workload};
use super::platform::{self, PlatformObj};
use super::selector::Selector;
use super::sources;
use crate::catalog::annotations::SOURCE_LOCATION;
use crate::catalog::snapshot::Snapshot;
use crate::catalog::CatalogService;
use crate::git::spec::GitSpec;
use app::kube::*;
use app::model::{Caller, EntityRef};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub const ID_ANNOTATION: &str = "backstage.io/kubernetes-id";
pub const SELECTOR_ANNOTATION: &str = "backstage.io/kubernetes-label-selector";
pub const NAMESPACE_ANNOTATION: &str = "backstage.io/kubernetes-namespace";
/// Backstage's ArgoCD plugin: the Application's name.
pub const ARGOCD_APP_ANNOTATION: &str = "argocd/app-name";

/// Kinds whose objects are workloads (what a GitOps object's managed resources are matched on).
const WORKLOAD_KINDS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// Whether a caller may see an entity's workloads (`http::guarded` decides; `|_| true` for
/// everyone).
pub type Shows<'a> = &'a dyn Fn(&EntityRef) -> bool;

/// An entity that asks for workloads.
#[derive(Debug)]
pub struct Target {
    pub entity: EntityRef,
    id: Option<String>,
    selector: Option<Selector>,
    namespace: Option<String>,
    /// `argocd/app-name`.
    argocd_app: Option<String>,
    /// Its repository (`backstage.io/source-location`), for links to commits.
    repo: Option<GitSpec>,
    /// How it matches, in words; or why its annotation cannot be used.
    pub matched_by: String,
    /// How it matches, as a label selector (`backstage.io/kubernetes-id=web`, or the selector
    /// annotation as written).
    pub label_selector: String,
}

/// A place an entity's workloads run: a cluster and a namespace there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub cluster: String,
    pub environment: String,
    pub namespace: String,
    /// How the workloads were matched, as a label selector.
    pub selector: String,
}

impl Target {
    /// Whether an object's own labels say it is this entity's, `in_namespace` telling whether
    /// it is about a namespace.
    fn labelled(&self, meta: &Meta, in_namespace: impl Fn(&str) -> bool) -> bool {
        if self.namespace.as_ref().is_some_and(|n| !in_namespace(n)) {
            return false;
        }
        if let Some(s) = &self.selector {
            return s.matches(&meta.labels);
        }
        self.id
            .as_ref()
            .is_some_and(|id| meta.labels.get(ID_ANNOTATION) == Some(id))
    }

    /// Whether a GitOps object's own labels or name say it is this entity's (not counting what
    /// it manages).
    fn names(&self, o: &GitOpsObj) -> bool {
        if o.tool == Tool::ArgoApplication && self.argocd_app.as_deref() == Some(&o.meta.name) {
            return true;
        }
        self.labelled(&o.meta, |n| o.in_namespace(n))
    }

    /// Whether a platform object is this entity's (a claimed composite never is: its claim is).
    fn uses(&self, o: &PlatformObj) -> bool {
        !o.claimed && self.labelled(&o.meta, |n| o.meta.namespace == n)
    }

    /// Whether a GitOps object is this entity's: by name or labels, or because it manages one of
    /// `workloads` (this entity's, in its cluster).
    fn delivers(&self, o: &GitOpsObj, workloads: &[&Workload]) -> bool {
        self.names(o)
            || o.resources.iter().any(|r| {
                workloads.iter().any(|w| {
                    w.kind == r.kind.as_ref()
                        && w.meta.name == r.name.as_ref()
                        && w.meta.namespace == r.namespace.as_ref()
                })
            })
    }

    fn matches(&self, w: &Workload) -> bool {
        if self
            .namespace
            .as_ref()
            .is_some_and(|n| *n != w.meta.namespace)
        {
            return false;
        }
        let labels = [&w.meta.labels, &w.template_labels];
        if let Some(s) = &self.selector {
            return labels.iter().any(|l| s.matches(l));
        }
        match &self.id {
            Some(id) => labels
                .iter()
                .any(|l| l.get(ID_ANNOTATION).is_some_and(|v| v == id)),
            None => false,
        }
    }
}

/// The targets of one catalog snapshot.
#[derive(Default)]
pub struct Targets {
    pub all: Vec<Target>,
    by_key: HashMap<String, usize>,
    /// `kubernetes-id` → targets using it (the common case, matched without a scan).
    by_id: HashMap<String, Vec<usize>>,
    /// Targets with a selector (scanned).
    with_selector: Vec<usize>,
    /// `argocd/app-name` → targets naming it.
    by_argocd_app: HashMap<String, Vec<usize>>,
}

impl Targets {
    fn of(snapshot: &Snapshot) -> Targets {
        let mut t = Targets::default();
        for r in snapshot.records.iter() {
            // Cheap test first: most entities have no Kubernetes annotation.
            if !r.stored.body.contains("backstage.io/kubernetes-")
                && !r.stored.body.contains(ARGOCD_APP_ANNOTATION)
            {
                continue;
            }
            let body = r.stored.value();
            let a = &body["metadata"]["annotations"];
            let id = a[ID_ANNOTATION].as_str().map(str::to_string);
            let sel_text = a[SELECTOR_ANNOTATION].as_str();
            let namespace = a[NAMESPACE_ANNOTATION].as_str().map(str::to_string);
            let argocd_app = a[ARGOCD_APP_ANNOTATION].as_str().map(str::to_string);
            let repo = a[SOURCE_LOCATION]
                .as_str()
                .and_then(GitSpec::of_source_location);
            if id.is_none() && sel_text.is_none() && argocd_app.is_none() {
                continue;
            }
            let (selector, mut matched_by) = match sel_text.map(Selector::parse) {
                Some(Ok(s)) => (
                    Some(s),
                    format!("label selector {}", sel_text.unwrap_or_default()),
                ),
                Some(Err(e)) => (None, format!("{SELECTOR_ANNOTATION} cannot be used: {e}")),
                None => (
                    None,
                    id.as_ref()
                        .map(|id| format!("label {ID_ANNOTATION}={id}"))
                        .unwrap_or_default(),
                ),
            };
            if let Some(ns) = &namespace {
                matched_by.push_str(&format!(" in namespace {ns}"));
            }
            if let Some(app) = &argocd_app {
                if !matched_by.is_empty() {
                    matched_by.push_str(", and ");
                }
                matched_by.push_str(&format!("ArgoCD Application {app}"));
                t.by_argocd_app
                    .entry(app.clone())
                    .or_default()
                    .push(t.all.len());
            }
            let i = t.all.len();
            if selector.is_some() {
                t.with_selector.push(i);
            } else if let Some(id) = &id {
                if sel_text.is_none() {
                    t.by_id.entry(id.clone()).or_default().push(i);
                }
            }
            t.by_key.insert(r.stored.key.as_str().to_string(), i);
            let label_selector = match (sel_text, &id) {
                (Some(s), _) => s.to_string(),
                (None, Some(id)) => format!("{ID_ANNOTATION}={id}"),
                (None, None) => String::new(),
            };
            t.all.push(Target {
                entity: r.entity_ref().clone(),
                label_selector,
                id,
                selector,
                namespace,
                argocd_app,
                repo,
                matched_by,
            });
        }
        t
    }

    /// The target of an entity, by its key.
    fn get(&self, key: &str) -> Option<&Target> {
        self.by_key.get(key).map(|&i| &self.all[i])
    }

    /// The first target a GitOps object belongs to: by `argocd/app-name`, its labels, then the
    /// owner of a workload it manages (`workload_owner`).
    fn owner_of_gitops(
        &self,
        o: &GitOpsObj,
        workload_owner: &dyn Fn(&gitops::Managed) -> Option<usize>,
    ) -> Option<usize> {
        if o.tool == Tool::ArgoApplication {
            if let Some(&i) = self.by_argocd_app.get(&o.meta.name).and_then(|v| v.first()) {
                return Some(i);
            }
        }
        if let Some(ids) = o
            .meta
            .labels
            .get(ID_ANNOTATION)
            .and_then(|id| self.by_id.get(id))
        {
            if let Some(&i) = ids.iter().find(|&&i| self.all[i].names(o)) {
                return Some(i);
            }
        }
        if let Some(&i) = self.with_selector.iter().find(|&&i| self.all[i].names(o)) {
            return Some(i);
        }
        o.resources
            .iter()
            .filter(|r| WORKLOAD_KINDS.contains(&r.kind.as_ref()))
            .find_map(workload_owner)
    }

    /// The first target a platform object belongs to, by its labels.
    fn owner_of_platform(&self, o: &PlatformObj) -> Option<usize> {
        if o.claimed {
            return None;
        }
        if let Some(ids) = o
            .meta
            .labels
            .get(ID_ANNOTATION)
            .and_then(|id| self.by_id.get(id))
        {
            if let Some(&i) = ids.iter().find(|&&i| self.all[i].uses(o)) {
                return Some(i);
            }
        }
        self.with_selector
            .iter()
            .find(|&&i| self.all[i].uses(o))
            .copied()
    }

    /// Every target a workload belongs to (a workload may match several entities), in order.
    fn owners_of(&self, w: &Workload) -> Vec<usize> {
        let mut out: Vec<usize> = [&w.meta.labels, &w.template_labels]
            .into_iter()
            .filter_map(|labels| labels.get(ID_ANNOTATION).and_then(|id| self.by_id.get(id)))
            .flatten()
            .chain(&self.with_selector)
            .copied()
            .filter(|&i| self.all[i].matches(w))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The first target a workload belongs to.
    fn owner_of(&self, w: &Workload) -> Option<usize> {
        for labels in [&w.meta.labels, &w.template_labels] {
            if let Some(ids) = labels.get(ID_ANNOTATION).and_then(|id| self.by_id.get(id)) {
                if let Some(i) = ids.iter().find(|&&i| self.all[i].matches(w)) {
                    return Some(*i);
                }
            }
        }
        self.with_selector
            .iter()
            .find(|&&i| self.all[i].matches(w))
            .copied()
    }
}

/// A workload as the scorecards read it, with its pods and its autoscaler.
fn workload_fact(
    cluster: usize,
    w: &Workload,
    pods: &[&PodObj],
    hpa: Option<&super::model::HpaObj>,
) -> WorkloadFact {
    let mut pods: Vec<PodFact> = pods
        .iter()
        .map(|p| PodFact {
            name: p.meta.name.clone(),
            containers: p
                .containers
                .iter()
                .map(|c| ContainerFact {
                    name: c.name.clone(),
                    restarts: c.restarts,
                    crash_looping: matches!(&c.state, super::model::Run::Waiting { reason, .. } if reason == "CrashLoopBackOff"),
                    last_finished: c.last_finished,
                })
                .collect(),
        })
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    WorkloadFact {
        cluster: u16::try_from(cluster).unwrap_or(u16::MAX),
        kind: w.kind,
        namespace: w.meta.namespace.clone(),
        name: w.meta.name.clone(),
        desired: w.desired,
        autoscaler_min: hpa.map(|h| h.min),
        containers: w.images.iter().map(|c| (c.name.clone(), c.set)).collect(),
        pods,
    }
}

/// Owner maps of one cluster's data, built per view.
struct Owners<'a> {
    replica_sets: HashMap<&'a str, Vec<&'a super::model::ReplicaSetObj>>,
    pods: HashMap<&'a str, Vec<&'a PodObj>>,
    events: HashMap<&'a str, Vec<&'a super::model::EventObj>>,
}

impl<'a> Owners<'a> {
    fn of(d: &'a Data, with_events: bool) -> Owners<'a> {
        let mut o = Owners {
            replica_sets: HashMap::new(),
            pods: HashMap::new(),
            events: HashMap::new(),
        };
        for r in d.replica_sets.values() {
            if let Some(owner) = &r.meta.owner {
                o.replica_sets.entry(owner.as_str()).or_default().push(r);
            }
        }
        for p in d.pods.values() {
            if let Some(owner) = &p.meta.owner {
                o.pods.entry(owner.as_str()).or_default().push(p);
            }
        }
        if with_events {
            for e in d.events.values() {
                o.events.entry(e.involved_uid.as_str()).or_default().push(e);
            }
        }
        o
    }

    /// Replica sets of a Deployment, newest revision first (none for other kinds).
    fn replica_sets_of(&self, w: &Workload) -> Vec<&'a super::model::ReplicaSetObj> {
        let mut rs = self
            .replica_sets
            .get(w.meta.uid.as_str())
            .cloned()
            .unwrap_or_default();
        let rev = |r: &super::model::ReplicaSetObj| {
            r.revision
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        rs.sort_by(|a, b| {
            rev(b)
                .cmp(&rev(a))
                .then(b.meta.created.cmp(&a.meta.created))
        });
        rs
    }

    fn pods_of(&self, w: &Workload) -> Vec<&'a PodObj> {
        if w.kind == "Deployment" {
            self.replica_sets_of(w)
                .iter()
                .flat_map(|r| {
                    self.pods
                        .get(r.meta.uid.as_str())
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        } else {
            self.pods
                .get(w.meta.uid.as_str())
                .cloned()
                .unwrap_or_default()
        }
    }
}

/// A cluster's summary, its workloads, its GitOps objects and its platform objects, each with
/// its target.
type Summary<'a> = (
    ClusterSummary,
    Vec<(&'a Workload, Option<usize>)>,
    Vec<(&'a GitOpsObj, Option<usize>)>,
    Vec<(&'a PlatformObj, Option<usize>)>,
);

/// One cluster as read for a set of views.
struct ClusterRead<'a> {
    cluster: &'a Cluster,
    data: &'a Data,
    sources: Sources<'a>,
    owners: &'a Owners<'a>,
    state: ClusterState,
}

pub struct KubeService {
    clusters: Vec<Arc<Cluster>>,
    catalog: Arc<CatalogService>,
    notify: Arc<tokio::sync::watch::Sender<u64>>,
    targets: Mutex<(usize, Arc<Targets>)>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Set at shutdown: live views end.
    closing: std::sync::atomic::AtomicBool,
}

impl Drop for KubeService {
    fn drop(&mut self) {
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

/// Events shown per workload.
const EVENTS_SHOWN: usize = 10;

impl KubeService {
    /// Resolves the configured clusters and starts watching them. A cluster that cannot be
    /// reached is retried in the background; a config entry that cannot be used is an error.
    pub async fn start(
        settings: &KubeSettings,
        catalog: Arc<CatalogService>,
    ) -> Result<Arc<KubeService>, super::KubeError> {
        let resolved = settings.resolve().await?;
        let notify = Arc::new(tokio::sync::watch::channel(0u64).0);
        let mut clusters = Vec::new();
        let mut tasks = Vec::new();
        for r in resolved {
            let client =
                kube::Client::try_from(r.config).map_err(|e| super::KubeError::Config {
                    cluster: r.name.clone(),
                    message: e.to_string(),
                })?;
            let cluster = Arc::new(
                Cluster::new(
                    r.name,
                    r.environment,
                    notify.clone(),
                    settings.events_per_object.max(1) * 2000,
                )
                .with_argocd_url(r.argocd_url),
            );
            tasks.push(tokio::spawn(cluster.clone().run(client)));
            clusters.push(cluster);
        }
        Ok(Arc::new(KubeService {
            clusters,
            catalog,
            notify,
            targets: Mutex::new((0, Arc::new(Targets::default()))),
            tasks: Mutex::new(tasks),
            closing: Default::default(),
        }))
    }

    /// No clusters: every view says how to connect one.
    pub fn without_clusters(catalog: Arc<CatalogService>) -> Arc<KubeService> {
        Arc::new(KubeService {
            clusters: Vec::new(),
            catalog,
            notify: Arc::new(tokio::sync::watch::channel(0u64).0),
            targets: Mutex::new((0, Arc::new(Targets::default()))),
            tasks: Mutex::new(Vec::new()),
            closing: Default::default(),
        })
    }

    pub fn clusters(&self) -> &[Arc<Cluster>] {
        &self.clusters
    }

    /// Ends every live view (at shutdown).
    pub fn close(&self) {
        self.closing
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.notify.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A receiver that changes whenever any cluster's data or state does.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.notify.subscribe()
    }

    /// The targets of the current catalog snapshot (rebuilt when the snapshot changes).
    fn targets(&self) -> (Arc<Snapshot>, Arc<Targets>) {
        let snapshot = self.catalog.snapshot();
        let targets = self.targets_of(&snapshot);
        (snapshot, targets)
    }

    /// The targets of `snapshot` (kept until another snapshot asks).
    fn targets_of(&self, snapshot: &Arc<Snapshot>) -> Arc<Targets> {
        let ptr = Arc::as_ptr(snapshot) as usize;
        let mut cached = self.targets.lock().unwrap_or_else(|e| e.into_inner());
        if cached.0 != ptr {
            *cached = (ptr, Arc::new(Targets::of(snapshot)));
        }
        cached.1.clone()
    }

    /// What the scorecards' cluster rules read ([`WorkloadFacts`]) of every entity of
    /// `snapshot` that asks for workloads, or (`only`: an entity's key) of that one.
    pub fn workload_facts(&self, snapshot: &Arc<Snapshot>, only: Option<&str>) -> WorkloadFacts {
        let targets = self.targets_of(snapshot);
        let only = only.map(|key| targets.by_key.get(key).copied());
        let mut found: Vec<Vec<WorkloadFact>> = vec![Vec::new(); targets.all.len()];
        let mut clusters = Vec::with_capacity(self.clusters.len());
        for (c, cluster) in self.clusters.iter().enumerate() {
            let state = cluster.state();
            clusters.push(ClusterNote {
                name: cluster.name.clone(),
                environment: cluster.environment.clone(),
                stale: state.stale.then(|| {
                    format!(
                        "since {}{}",
                        state.since.as_deref().unwrap_or("start-up"),
                        state.error.map(|e| format!(": {e}")).unwrap_or_default()
                    )
                }),
            });
            if only == Some(None) {
                continue;
            }
            let data = cluster.read();
            let owners = Owners::of(&data, false);
            for w in data.workloads() {
                let owned = match only {
                    Some(Some(i)) => {
                        if targets.all[i].matches(w) {
                            vec![i]
                        } else {
                            continue;
                        }
                    }
                    _ => targets.owners_of(w),
                };
                if owned.is_empty() {
                    continue;
                }
                let fact = workload_fact(c, w, &owners.pods_of(w), data.hpa_of(w));
                for i in owned {
                    found[i].push(fact.clone());
                }
            }
        }
        let entities = targets
            .by_key
            .iter()
            .filter(|(_, i)| only.is_none_or(|o| o == Some(**i)))
            .map(|(key, &i)| {
                let mut workloads = std::mem::take(&mut found[i]);
                workloads.sort_by(|a, b| {
                    (a.cluster, &a.namespace, a.kind, &a.name).cmp(&(
                        b.cluster,
                        &b.namespace,
                        b.kind,
                        &b.name,
                    ))
                });
                (
                    key.clone(),
                    EntityWorkloads {
                        matched_by: targets.all[i].matched_by.clone(),
                        workloads,
                    },
                )
            })
            .collect();
        WorkloadFacts {
            clusters,
            entities,
            now: crate::util::now_ms() / 1000,
        }
    }

    fn workload_view(
        cluster: &Cluster,
        d: &Data,
        owners: &Owners<'_>,
        w: &Workload,
        entity: Option<EntityRef>,
        detail: bool,
    ) -> WorkloadView {
        let pods = owners.pods_of(w);
        let hpa = d.hpa_of(w);
        let (health, reasons) = health::workload(w, &pods, hpa);
        let pod_view = |p: &PodObj| {
            let (health, reasons) = health::pod(p);
            PodView {
                name: p.meta.name.clone(),
                phase: p.phase.clone(),
                ready: p.ready(),
                restarts: p.restarts(),
                created: p.meta.created.clone(),
                node: p.node.clone(),
                containers: p
                    .containers
                    .iter()
                    .map(|c| ContainerView {
                        name: c.name.clone(),
                        image: c.image.clone(),
                        ready: c.ready,
                        restarts: c.restarts,
                        state: match &c.state {
                            super::model::Run::Running => "running".into(),
                            super::model::Run::Waiting { reason, .. } => {
                                format!("waiting: {reason}")
                            }
                            super::model::Run::Terminated { reason, exit_code } => {
                                format!("terminated: {reason} (exit {exit_code})")
                            }
                            super::model::Run::Unknown => "not started".into(),
                        },
                        last_termination: c.last_termination.clone(),
                    })
                    .collect(),
                conditions: p
                    .conditions
                    .iter()
                    .filter(|c| c.status != "True")
                    .map(|c| format!("{}: {}", c.kind, c.reason.as_deref().unwrap_or(&c.status)))
                    .collect(),
                health,
                reasons,
            }
        };
        let mut replica_sets = Vec::new();
        let mut events = Vec::new();
        if detail {
            if w.kind == "Deployment" {
                for r in owners.replica_sets_of(w) {
                    let mut pods: Vec<&PodObj> = owners
                        .pods
                        .get(r.meta.uid.as_str())
                        .cloned()
                        .unwrap_or_default();
                    // An old, scaled-down replica set with nothing left is history, not state.
                    if pods.is_empty() && r.desired == 0 {
                        continue;
                    }
                    pods.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
                    replica_sets.push(ReplicaSetView {
                        name: r.meta.name.clone(),
                        revision: r.revision.clone(),
                        desired: r.desired,
                        ready: r.ready,
                        images: r.images.iter().map(|c| c.image.clone()).collect(),
                        created: r.meta.created.clone(),
                        pods: pods.into_iter().map(pod_view).collect(),
                    });
                }
            } else {
                let mut pods = pods.clone();
                pods.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
                replica_sets.push(ReplicaSetView {
                    name: w.meta.name.clone(),
                    revision: None,
                    desired: w.desired,
                    ready: w.ready,
                    images: w.images.iter().map(|c| c.image.clone()).collect(),
                    created: w.meta.created.clone(),
                    pods: pods.into_iter().map(pod_view).collect(),
                });
            }
            let mut uids: Vec<&str> = vec![w.meta.uid.as_str()];
            uids.extend(
                owners
                    .replica_sets_of(w)
                    .iter()
                    .map(|r| r.meta.uid.as_str()),
            );
            uids.extend(pods.iter().map(|p| p.meta.uid.as_str()));
            if let Some(h) = hpa {
                uids.push(h.meta.uid.as_str());
            }
            let mut all: Vec<&super::model::EventObj> = uids
                .iter()
                .flat_map(|u| owners.events.get(u).cloned().unwrap_or_default())
                .collect();
            all.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
            events = all
                .into_iter()
                .take(EVENTS_SHOWN)
                .map(|e| EventView {
                    event_type: e.event_type.clone(),
                    reason: e.reason.clone(),
                    message: e.message.clone(),
                    object: e.involved.clone(),
                    count: e.count,
                    last_seen: e.last_seen.clone(),
                })
                .collect();
        }
        let services: Vec<&super::model::ServiceObj> = d
            .services
            .values()
            .filter(|s| {
                s.meta.namespace == w.meta.namespace
                    && !s.selector.is_empty()
                    && Selector::from_map(&s.selector).matches(&w.template_labels)
            })
            .collect();
        let ingresses = d
            .ingresses
            .values()
            .filter(|i| {
                i.meta.namespace == w.meta.namespace
                    && i.services
                        .iter()
                        .any(|n| services.iter().any(|s| &s.meta.name == n))
            })
            .flat_map(|i| {
                i.routes
                    .iter()
                    .map(move |r| format!("{} ({r})", i.meta.name))
            })
            .collect();
        WorkloadView {
            cluster: cluster.name.clone(),
            kind: w.kind.into(),
            namespace: w.meta.namespace.clone(),
            name: w.meta.name.clone(),
            health,
            reasons,
            desired: w.desired,
            ready: w.ready,
            available: w.available,
            updated: w.updated,
            images: w.images.iter().map(|c| c.image.clone()).collect(),
            created: w.meta.created.clone(),
            conditions: w
                .conditions
                .iter()
                .map(|c| match &c.reason {
                    Some(r) => format!("{}={} ({r})", c.kind, c.status),
                    None => format!("{}={}", c.kind, c.status),
                })
                .collect(),
            replica_sets,
            hpa: hpa.map(|h| HpaView {
                name: h.meta.name.clone(),
                min: h.min,
                max: h.max,
                current: h.current,
                desired: h.desired,
            }),
            services: services.iter().map(|s| s.meta.name.clone()).collect(),
            ingresses,
            events,
            entity,
        }
    }

    /// A GitOps object as the views show it, its health read against this cluster's workloads
    /// and (Flux) its source; `owner`: the entity it belongs to.
    fn delivery_view(
        cluster: &Cluster,
        d: &Data,
        sources: &Sources<'_>,
        o: &GitOpsObj,
        owner: Option<&Target>,
    ) -> DeliveryView {
        let words = |r: &gitops::Managed| {
            if !WORKLOAD_KINDS.contains(&r.kind.as_ref()) {
                return None;
            }
            d.workloads()
                .find(|w| {
                    w.kind == r.kind.as_ref()
                        && w.meta.name == r.name.as_ref()
                        && w.meta.namespace == r.namespace.as_ref()
                })
                .map(|w| {
                    format!(
                        "{} {} has {}/{} available",
                        w.kind, w.meta.name, w.available, w.desired
                    )
                })
        };
        let source = source_of(sources, o);
        let (health, reasons) = sources::with_source(o, source, &words);
        const RESOURCES_SHOWN: usize = 20;
        let mut resources: Vec<String> = o
            .resources
            .iter()
            .take(RESOURCES_SHOWN)
            .map(|r| {
                let place = if r.namespace.is_empty() {
                    r.name.to_string()
                } else {
                    format!("{}/{}", r.namespace, r.name)
                };
                match &r.health {
                    Some(h) => format!("{} {place} ({h})", r.kind),
                    None => format!("{} {place}", r.kind),
                }
            })
            .collect();
        if o.resources.len() > RESOURCES_SHOWN {
            resources.push(format!(
                "… and {} more",
                o.resources.len() - RESOURCES_SHOWN
            ));
        }
        let (last_sync, message) = match o.tool {
            Tool::ArgoApplication => (
                o.operation.as_ref().and_then(|(_, _, at)| at.clone()),
                o.operation.as_ref().and_then(|(_, m, _)| m.clone()),
            ),
            _ => (
                o.ready_since.clone(),
                o.condition("Ready").and_then(|c| c.message.clone()),
            ),
        };
        DeliveryView {
            cluster: cluster.name.clone(),
            tool: o.tool.label().into(),
            namespace: o.meta.namespace.clone(),
            name: o.meta.name.clone(),
            state: o.state(),
            tool_health: o.health.clone(),
            health,
            reasons,
            source: o.source.clone(),
            target_revision: o
                .git_revision
                .as_deref()
                .map(gitops::short)
                .or_else(|| o.wanted.clone()),
            synced_revision: o.applied_revision.as_deref().map(gitops::short),
            last_sync,
            message,
            resources,
            link: match (o.tool, &cluster.argocd_url) {
                (Tool::ArgoApplication, Some(base)) => Some(format!(
                    "{base}/applications/{}/{}",
                    o.meta.namespace, o.meta.name
                )),
                _ => None,
            },
            source_state: source.map(|s| {
                format!(
                    "{}{}: {}",
                    s.title(),
                    s.url
                        .as_deref()
                        .map(|u| format!(" ({})", crate::git::url::redact_url(u)))
                        .unwrap_or_default(),
                    s.state()
                )
            }),
            commit_url: commit_url(o, source, owner.and_then(|t| t.repo.as_ref())),
            entity: owner.map(|t| t.entity.clone()),
        }
    }

    /// A platform object as the views show it; a claim's health read with its composite's
    /// conditions (`composites`: [`Data::composites`]).
    fn resource_view(
        cluster: &Cluster,
        composites: &HashMap<(&str, &str), &PlatformObj>,
        o: &PlatformObj,
        entity: Option<EntityRef>,
    ) -> ResourceView {
        let composite = o
            .composite_ref()
            .and_then(|r| composites.get(&(r.kind.as_ref(), r.name.as_ref())).copied());
        let (health, reasons) = platform::health(o, composite);
        const REFS_SHOWN: usize = 20;
        let mut refs: Vec<String> = o
            .refs
            .iter()
            .take(REFS_SHOWN)
            .map(|r| format!("{} {}", r.kind, r.name))
            .collect();
        if o.refs.len() > REFS_SHOWN {
            refs.push(format!("… and {} more", o.refs.len() - REFS_SHOWN));
        }
        // A claim shows what its composite composes, too.
        if let Some(x) = composite {
            refs.extend(
                x.refs
                    .iter()
                    .take(REFS_SHOWN)
                    .map(|r| format!("{} {} (composed)", r.kind, r.name)),
            );
        }
        ResourceView {
            cluster: cluster.name.clone(),
            tool: o.kind.label().into(),
            kind: o.type_name.to_string(),
            namespace: o.meta.namespace.clone(),
            name: o.meta.name.clone(),
            state: o.state(),
            health,
            reasons,
            source: o.source.clone(),
            secret: o.secret.clone(),
            secret_state: o.secret_state(),
            refs,
            components: o
                .components
                .iter()
                .map(|c| match (&c.message, c.healthy) {
                    (Some(m), _) => format!("{}: {m}", c.name),
                    (None, true) => format!("{}: healthy", c.name),
                    (None, false) => format!("{}: unhealthy", c.name),
                })
                .collect(),
            since: o.since.clone(),
            entity,
        }
    }

    fn stale_reason(state: &ClusterState) -> Option<Reason> {
        state.stale.then(|| Reason {
            code: "Stale".into(),
            message: format!(
                "Cluster {} has not answered since {}: what is shown may be out of date{}",
                state.name,
                state.since.as_deref().unwrap_or("start-up"),
                state.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            ),
            next_step: "Backlot reconnects by itself; if this lasts, check the cluster's API server and Backlot's credentials.".into(),
            health: Health::Unknown,
        })
    }

    /// Each cluster's data (read-locked), owner maps and state, built once for one or more
    /// entity views.
    fn with_reads<T>(&self, f: impl FnOnce(&[ClusterRead<'_>]) -> T) -> T {
        let guards: Vec<_> = self.clusters.iter().map(|c| c.read()).collect();
        let owners: Vec<Owners<'_>> = guards.iter().map(|d| Owners::of(d, true)).collect();
        let reads: Vec<ClusterRead<'_>> = self
            .clusters
            .iter()
            .zip(&guards)
            .zip(&owners)
            .map(|((cluster, data), owners)| ClusterRead {
                cluster,
                data,
                sources: data.sources(),
                owners,
                state: cluster.state(),
            })
            .collect();
        f(&reads)
    }

    /// Where an entity's workloads run: each cluster (in the configured order) and namespace
    /// with at least one of its workloads. Empty for entities that ask for none, or unknown.
    pub fn placements(&self, kind: &str, namespace: &str, name: &str) -> Vec<Placement> {
        let (snapshot, targets) = self.targets();
        let Some(target) = snapshot
            .get(kind, namespace, name)
            .and_then(|r| targets.get(r.stored.key.as_str()))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for cluster in &self.clusters {
            let data = cluster.read();
            let mut namespaces: Vec<&str> = data
                .workloads()
                .filter(|w| target.matches(w))
                .map(|w| w.meta.namespace.as_str())
                .collect();
            namespaces.sort_unstable();
            namespaces.dedup();
            out.extend(namespaces.into_iter().map(|ns| Placement {
                cluster: cluster.name.clone(),
                environment: cluster.environment.clone(),
                namespace: ns.to_string(),
                selector: target.label_selector.clone(),
            }));
        }
        out
    }

    /// An entity's Kubernetes tab; `None` when there is no such entity.
    pub fn entity_view(&self, kind: &str, namespace: &str, name: &str) -> Option<EntityKube> {
        let (snapshot, targets) = self.targets();
        let record = snapshot.get(kind, namespace, name)?;
        let entity = record.entity_ref();
        Some(match targets.get(record.stored.key.as_str()) {
            // Only entities that ask for workloads cost a look at the clusters.
            Some(t) => self.with_reads(|reads| self.entity_kube(entity, Some(t), reads)),
            None => self.entity_kube(entity, None, &[]),
        })
    }

    fn entity_kube(
        &self,
        entity: &EntityRef,
        target: Option<&Target>,
        reads: &[ClusterRead<'_>],
    ) -> EntityKube {
        let mut clusters = Vec::new();
        if let Some(t) = target {
            for r in reads {
                let matched: Vec<&Workload> = r.data.workloads().filter(|w| t.matches(w)).collect();
                let mut delivery: Vec<DeliveryView> = r
                    .data
                    .gitops()
                    .filter(|o| t.delivers(o, &matched))
                    .map(|o| Self::delivery_view(r.cluster, r.data, &r.sources, o, Some(t)))
                    .collect();
                delivery.sort_by(|a, b| {
                    b.health
                        .cmp(&a.health)
                        .then(a.tool.cmp(&b.tool))
                        .then(a.name.cmp(&b.name))
                });
                let composites = r.data.composites();
                let mut resources: Vec<ResourceView> = r
                    .data
                    .platform()
                    .filter(|o| t.uses(o))
                    .map(|o| Self::resource_view(r.cluster, &composites, o, Some(t.entity.clone())))
                    .collect();
                resources.sort_by(|a, b| {
                    b.health
                        .cmp(&a.health)
                        .then(a.tool.cmp(&b.tool))
                        .then(a.name.cmp(&b.name))
                });
                let mut workloads: Vec<WorkloadView> = matched
                    .into_iter()
                    .map(|w| {
                        Self::workload_view(
                            r.cluster,
                            r.data,
                            r.owners,
                            w,
                            Some(t.entity.clone()),
                            true,
                        )
                    })
                    .collect();
                let state = r.state.clone();
                if workloads.is_empty()
                    && delivery.is_empty()
                    && resources.is_empty()
                    && !state.stale
                {
                    continue;
                }
                workloads.sort_by(|a, b| b.health.cmp(&a.health).then(a.name.cmp(&b.name)));
                let health = Health::worst(
                    workloads
                        .iter()
                        .map(|w| w.health)
                        .chain(delivery.iter().map(|d| d.health))
                        .chain(resources.iter().map(|r| r.health)),
                );
                clusters.push(ClusterWorkloads {
                    health: if state.stale {
                        health.max(Health::Unknown)
                    } else {
                        health
                    },
                    cluster: state,
                    workloads,
                    delivery,
                    resources,
                });
            }
        }
        let mut reasons: Vec<Reason> = Vec::new();
        for c in &clusters {
            if let Some(r) = Self::stale_reason(&c.cluster) {
                reasons.push(r);
            }
            for w in &c.workloads {
                for r in &w.reasons {
                    let mut r = r.clone();
                    r.message = format!("[{}] {}", c.cluster.name, r.message);
                    reasons.push(r);
                }
            }
            for r in c
                .delivery
                .iter()
                .flat_map(|d| &d.reasons)
                .chain(c.resources.iter().flat_map(|p| &p.reasons))
            {
                let mut r = r.clone();
                r.message = format!("[{}] {}", c.cluster.name, r.message);
                reasons.push(r);
            }
        }
        let found = clusters
            .iter()
            .any(|c| !c.workloads.is_empty() || !c.delivery.is_empty() || !c.resources.is_empty());
        if target.is_some() && !found && !self.clusters.is_empty() {
            let t = target.map(|t| t.matched_by.clone()).unwrap_or_default();
            reasons.push(Reason {
                code: "NotFound".into(),
                message: format!("No workload matching {t} runs in any cluster"),
                next_step: "Check that the Deployment carries that label (on itself or its pod template) and that its cluster is configured.".into(),
                health: Health::Unknown,
            });
        }
        reasons.sort_by_key(|r| std::cmp::Reverse(r.health));
        let health = if target.is_none() {
            Health::Unknown
        } else {
            Health::worst(
                clusters
                    .iter()
                    .map(|c| c.health)
                    .chain(reasons.iter().map(|r| r.health)),
            )
        };
        let versions = versions(&clusters);
        let revisions = revisions(&clusters);
        EntityKube {
            entity: entity.clone(),
            matched_by: target.map(|t| t.matched_by.clone()).unwrap_or_default(),
            expected: target.is_some(),
            no_clusters: self.clusters.is_empty(),
            health,
            reasons,
            clusters,
            versions,
            revisions,
        }
    }

    /// A cluster's summary, its workloads and its GitOps objects with the target each belongs
    /// to, leaving out (from the rows, the counts, the pods and the health) those of entities
    /// `shows` refuses.
    fn summary<'a>(
        &self,
        c: &Cluster,
        d: &'a Data,
        owners: &Owners<'_>,
        targets: &Targets,
        shows: Shows<'_>,
    ) -> Summary<'a> {
        let mut counts = HealthCounts::default();
        let mut rows = Vec::new();
        let mut worst = Health::Healthy;
        let mut unmatched = 0;
        let mut hidden_pods = 0;
        // (kind, namespace, name) → its target, for GitOps objects' managed workloads.
        let mut workload_owners: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for w in d.workloads() {
            let pods = owners.pods_of(w);
            let owner = targets.owner_of(w);
            if let Some(i) = owner {
                workload_owners
                    .insert((w.kind, w.meta.namespace.as_str(), w.meta.name.as_str()), i);
            }
            if owner.is_some_and(|i| !shows(&targets.all[i].entity)) {
                hidden_pods += pods.len();
                continue;
            }
            let hpa = d.hpa_of(w);
            let (h, _) = health::workload(w, &pods, hpa);
            counts.add(h);
            worst = worst.max(h);
            if owner.is_none() {
                unmatched += 1;
            }
            rows.push((w, owner));
        }
        let mut delivery = Vec::new();
        let sources = d.sources();
        for o in d.gitops() {
            let owner = targets.owner_of_gitops(o, &|r| {
                workload_owners
                    .get(&(r.kind.as_ref(), r.namespace.as_ref(), r.name.as_ref()))
                    .copied()
            });
            if owner.is_some_and(|i| !shows(&targets.all[i].entity)) {
                continue;
            }
            worst = worst.max(sources::with_source(o, source_of(&sources, o), &|_| None).0);
            delivery.push((o, owner));
        }
        let composites = d.composites();
        let mut resources = Vec::new();
        for o in d.platform().filter(|o| !o.claimed) {
            let owner = targets.owner_of_platform(o);
            if owner.is_some_and(|i| !shows(&targets.all[i].entity)) {
                continue;
            }
            let composite = o
                .composite_ref()
                .and_then(|r| composites.get(&(r.kind.as_ref(), r.name.as_ref())).copied());
            worst = worst.max(platform::health(o, composite).0);
            resources.push((o, owner));
        }
        let state = c.state();
        let health = if state.stale {
            worst.max(Health::Unknown)
        } else {
            worst
        };
        (
            ClusterSummary {
                state,
                health,
                counts,
                pods: d.pods.len().saturating_sub(hidden_pods),
                unmatched,
            },
            rows,
            delivery,
            resources,
        )
    }

    pub fn overview(&self) -> ClustersOverview {
        self.overview_for(&|_| true)
    }

    /// The overview as a caller sees it: workloads of entities `shows` refuses are left out of
    /// every count, and such entities out of the missing list.
    pub fn overview_for(&self, shows: Shows<'_>) -> ClustersOverview {
        let (_, targets) = self.targets();
        let mut found = vec![false; targets.all.len()];
        let mut clusters = Vec::new();
        let mut delivery = Vec::new();
        let mut resources = Vec::new();
        for c in &self.clusters {
            let d = c.read();
            let owners = Owners::of(&d, false);
            let (summary, rows, gitops_rows, platform_rows) =
                self.summary(c, &d, &owners, &targets, shows);
            for i in rows
                .iter()
                .map(|(_, o)| o)
                .chain(gitops_rows.iter().map(|(_, o)| o))
                .chain(platform_rows.iter().map(|(_, o)| o))
                .flatten()
            {
                found[*i] = true;
            }
            let composites = d.composites();
            resources.extend(
                platform_rows
                    .iter()
                    .map(|(o, owner)| {
                        Self::resource_view(
                            c,
                            &composites,
                            o,
                            owner.map(|i| targets.all[i].entity.clone()),
                        )
                    })
                    .filter(ResourceView::needs_attention),
            );
            let sources = d.sources();
            delivery.extend(
                gitops_rows
                    .iter()
                    .map(|(o, owner)| {
                        Self::delivery_view(c, &d, &sources, o, owner.map(|i| &targets.all[i]))
                    })
                    .filter(DeliveryView::needs_attention),
            );
            clusters.push(summary);
        }
        sort_delivery(&mut delivery);
        sort_resources(&mut resources);
        let missing = if self.clusters.is_empty() {
            Vec::new()
        } else {
            targets
                .all
                .iter()
                .zip(found)
                .filter(|(t, f)| !f && shows(&t.entity))
                .map(|(t, _)| t.entity.clone())
                .collect()
        };
        ClustersOverview {
            clusters,
            missing,
            delivery,
            resources,
        }
    }

    pub fn cluster_view(&self, name: &str) -> Option<ClusterDetail> {
        self.cluster_view_for(name, &|_| true)
    }

    /// A cluster page as a caller sees it: without the workloads of entities `shows` refuses,
    /// and counted without them.
    pub fn cluster_view_for(&self, name: &str, shows: Shows<'_>) -> Option<ClusterDetail> {
        let c = self.clusters.iter().find(|c| c.name == name)?;
        let (_, targets) = self.targets();
        let d = c.read();
        let owners = Owners::of(&d, false);
        let (summary, rows, gitops_rows, platform_rows) =
            self.summary(c, &d, &owners, &targets, shows);
        let composites = d.composites();
        let mut resources: Vec<ResourceView> = platform_rows
            .iter()
            .map(|(o, owner)| {
                Self::resource_view(
                    c,
                    &composites,
                    o,
                    owner.map(|i| targets.all[i].entity.clone()),
                )
            })
            .collect();
        sort_resources(&mut resources);
        let sources = d.sources();
        let mut delivery: Vec<DeliveryView> = gitops_rows
            .iter()
            .map(|(o, owner)| {
                Self::delivery_view(c, &d, &sources, o, owner.map(|i| &targets.all[i]))
            })
            .collect();
        sort_delivery(&mut delivery);
        let mut workloads: Vec<WorkloadView> = rows
            .iter()
            .map(|(w, owner)| {
                Self::workload_view(
                    c,
                    &d,
                    &owners,
                    w,
                    owner.map(|i| targets.all[i].entity.clone()),
                    false,
                )
            })
            .collect();
        workloads.sort_by(|a, b| {
            b.health
                .cmp(&a.health)
                .then(a.namespace.cmp(&b.namespace))
                .then(a.name.cmp(&b.name))
        });
        Some(ClusterDetail {
            summary,
            workloads,
            delivery,
            resources,
        })
    }

    /// Everything a group owns that has (or should have) workloads, worst first.
    pub fn team_view(&self, namespace: &str, name: &str) -> Option<TeamKube> {
        let (snapshot, targets) = self.targets();
        let group = snapshot.get("group", namespace, name)?;
        let owned: Vec<&Target> = group
            .related("ownerOf")
            .filter_map(|r| r.target_index)
            .filter_map(|i| snapshot.records.get(i))
            .filter_map(|r| targets.get(r.stored.key.as_str()))
            .collect();
        let mut delivery = Vec::new();
        let mut resources = Vec::new();
        let mut entities: Vec<EntityHealth> = self.with_reads(|reads| {
            owned
                .iter()
                .map(|t| self.entity_kube(&t.entity, Some(t), reads))
                .inspect(|v| {
                    delivery.extend(
                        v.clusters
                            .iter()
                            .flat_map(|c| &c.delivery)
                            .filter(|d| d.needs_attention())
                            .cloned(),
                    );
                    resources.extend(
                        v.clusters
                            .iter()
                            .flat_map(|c| &c.resources)
                            .filter(|r| r.needs_attention())
                            .cloned(),
                    );
                })
                .map(|v| EntityHealth {
                    entity: v.entity,
                    health: v.health,
                    reasons: v.reasons,
                    clusters: v
                        .clusters
                        .iter()
                        .map(|c| (c.cluster.name.clone(), c.health))
                        .collect(),
                    expected: v.expected,
                })
                .collect()
        });
        entities.sort_by(|a, b| {
            b.health
                .cmp(&a.health)
                .then(a.entity.name.cmp(&b.entity.name))
        });
        sort_delivery(&mut delivery);
        sort_resources(&mut resources);
        Some(TeamKube {
            no_clusters: self.clusters.is_empty(),
            health: Health::worst(entities.iter().map(|e| e.health)),
            entities,
            delivery,
            resources,
        })
    }
}

/// Worst first, then by cluster, namespace and name.
fn sort_delivery(list: &mut [DeliveryView]) {
    list.sort_by(|a, b| {
        b.health
            .cmp(&a.health)
            .then(a.cluster.cmp(&b.cluster))
            .then(a.namespace.cmp(&b.namespace))
            .then(a.name.cmp(&b.name))
    });
}

/// Worst first, then by cluster, namespace and name.
fn sort_resources(list: &mut [ResourceView]) {
    list.sort_by(|a, b| {
        b.health
            .cmp(&a.health)
            .then(a.cluster.cmp(&b.cluster))
            .then(a.namespace.cmp(&b.namespace))
            .then(a.name.cmp(&b.name))
    });
}

/// The web address of the commit a GitOps object's cluster has: in its own repository (ArgoCD's
/// `repoURL`, its Flux GitRepository's URL) when that is known, else in the entity's (`repo`).
fn commit_url(
    o: &GitOpsObj,
    source: Option<&sources::FluxSource>,
    repo: Option<&GitSpec>,
) -> Option<String> {
    let revision = o.applied_revision.as_deref()?;
    // Flux: `main@sha1:<commit>`; ArgoCD: the commit.
    let commit = revision.rsplit_once(':').map_or(revision, |(_, c)| c);
    let own = match (o.tool, source) {
        (Tool::ArgoApplication, _) => o.repo.as_deref(),
        (_, Some(s)) if s.kind == sources::SourceKind::GitRepository => s.url.as_deref(),
        _ => None,
    };
    match own {
        Some(url) => GitSpec::new(url, None, None).ok()?.commit_url(commit),
        None => repo?.commit_url(commit),
    }
}

/// Which GitOps revision runs where: each cluster's GitOps objects, those of one source (else
/// one name) together in the clusters' order, flagged where the source's revisions differ.
fn revisions(clusters: &[ClusterWorkloads]) -> Vec<RevisionRow> {
    let mut groups: BTreeMap<(&str, &str), Vec<RevisionRow>> = BTreeMap::new();
    for c in clusters {
        for d in &c.delivery {
            let key = (d.tool.as_str(), d.source.as_deref().unwrap_or(&d.name));
            groups.entry(key).or_default().push(RevisionRow {
                cluster: c.cluster.name.clone(),
                environment: c.cluster.environment.clone(),
                tool: d.tool.clone(),
                namespace: d.namespace.clone(),
                name: d.name.clone(),
                revision: d.synced_revision.clone(),
                state: d.state.clone(),
                health: d.health,
                commit_url: d.commit_url.clone(),
                link: d.link.clone(),
                differs: false,
            });
        }
    }
    groups
        .into_values()
        .flat_map(|mut rows| {
            let mut seen: Vec<&str> = rows.iter().filter_map(|r| r.revision.as_deref()).collect();
            seen.sort_unstable();
            seen.dedup();
            let differs = seen.len() > 1;
            for r in &mut rows {
                r.differs = differs;
            }
            rows
        })
        .collect()
}

/// Images per container name across the clusters, with differences flagged.
fn versions(clusters: &[ClusterWorkloads]) -> Vec<VersionRow> {
    let mut rows: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for (i, c) in clusters.iter().enumerate() {
        for w in &c.workloads {
            for rs in &w.replica_sets {
                for p in &rs.pods {
                    for ct in &p.containers {
                        let cells = rows
                            .entry(ct.name.clone())
                            .or_insert_with(|| vec![Vec::new(); clusters.len()]);
                        if !cells[i].contains(&ct.image) {
                            cells[i].push(ct.image.clone());
                        }
                    }
                }
            }
        }
    }
    rows.into_iter()
        .map(|(container, mut cells)| {
            for c in &mut cells {
                c.sort();
            }
            let present: Vec<&Vec<String>> = cells.iter().filter(|c| !c.is_empty()).collect();
            let differs = present.windows(2).any(|w| w[0] != w[1]);
            VersionRow {
                container,
                cells,
                differs,
            }
        })
        .collect()
}

/// The caller is not consulted yet: the views name only entities of the catalog, and what a
/// caller may see of clusters is for sign-in to decide.
impl app::services::KubeReader for KubeService {
    fn entity(&self, _: &Caller, kind: &str, namespace: &str, name: &str) -> Option<EntityKube> {
        self.entity_view(kind, namespace, name)
    }
    fn overview(&self, _: &Caller) -> ClustersOverview {
        KubeService::overview(self)
    }
    fn cluster(&self, _: &Caller, name: &str) -> Option<ClusterDetail> {
        self.cluster_view(name)
    }
    fn team(&self, _: &Caller, namespace: &str, name: &str) -> Option<TeamKube> {
        self.team_view(namespace, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(name: &str, images: &[(&str, &str)]) -> ClusterWorkloads {
        let pod = PodView {
            name: "p".into(),
            phase: "Running".into(),
            ready: true,
            restarts: 0,
            created: None,
            node: None,
            containers: images
                .iter()
                .map(|(c, i)| ContainerView {
                    name: c.to_string(),
                    image: i.to_string(),
                    ready: true,
                    restarts: 0,
                    state: "running".into(),
                    last_termination: None,
                })
                .collect(),
            conditions: vec![],
            health: Health::Healthy,
            reasons: vec![],
        };
        ClusterWorkloads {
            cluster: ClusterState {
                name: name.into(),
                ..Default::default()
            },
            health: Health::Healthy,
            workloads: vec![WorkloadView {
                cluster: name.into(),
                kind: "Deployment".into(),
                namespace: "n".into(),
                name: "w".into(),
                health: Health::Healthy,
                reasons: vec![],
                desired: 1,
                ready: 1,
                available: 1,
                updated: 1,
                images: vec![],
                created: None,
                conditions: vec![],
                replica_sets: vec![ReplicaSetView {
                    name: "rs".into(),
                    revision: None,
                    desired: 1,
                    ready: 1,
                    images: vec![],
                    created: None,
                    pods: vec![pod],
                }],
                hpa: None,
                services: vec![],
                ingresses: vec![],
                events: vec![],
                entity: None,
            }],
            delivery: vec![],
            resources: vec![],
        }
    }

    fn target(id: Option<&str>, namespace: Option<&str>, argocd_app: Option<&str>) -> Target {
        Target {
            entity: EntityRef {
                kind: "Component".into(),
                namespace: "default".into(),
                name: "web".into(),
            },
            id: id.map(Into::into),
            selector: None,
            namespace: namespace.map(Into::into),
            argocd_app: argocd_app.map(Into::into),
            repo: None,
            matched_by: String::new(),
            label_selector: String::new(),
        }
    }

    fn app(name: &str, labels: serde_json::Value, resources: serde_json::Value) -> GitOpsObj {
        GitOpsObj::argo(
            serde_json::from_value(serde_json::json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": {"name": name, "namespace": "argocd", "uid": name, "labels": labels},
                "spec": {"destination": {"namespace": "team-a"}},
                "status": {"resources": resources}
            }))
            .expect("app"),
        )
    }

    fn deployment(name: &str) -> Workload {
        serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(serde_json::json!({
            "metadata": {"name": name, "namespace": "team-a", "uid": name},
            "spec": {"selector": {}, "template": {}}
        }))
        .expect("deployment")
        .into()
    }

    #[test]
    fn gitops_objects_belong_by_name_label_namespace_or_what_they_manage() {
        let none = serde_json::json!({});
        let web_deploy =
            serde_json::json!([{"kind": "Deployment", "namespace": "team-a", "name": "web"}]);
        // argocd/app-name: whatever its labels or namespace.
        let named = target(None, Some("elsewhere"), Some("shop-web"));
        assert!(named.names(&app("shop-web", none.clone(), none.clone())));
        assert!(!named.names(&app("other", none.clone(), none.clone())));
        // The id label, in the object's namespace or its destination's.
        let labelled = app("x", serde_json::json!({ID_ANNOTATION: "web"}), none.clone());
        assert!(target(Some("web"), None, None).names(&labelled));
        assert!(target(Some("web"), Some("team-a"), None).names(&labelled));
        assert!(target(Some("web"), Some("argocd"), None).names(&labelled));
        assert!(!target(Some("web"), Some("team-b"), None).names(&labelled));
        assert!(!target(Some("api"), None, None).names(&labelled));
        // Managing one of the entity's workloads.
        let manages = app("y", none.clone(), web_deploy);
        let web = deployment("web");
        let t = target(Some("web"), None, None);
        assert!(!t.names(&manages));
        assert!(t.delivers(&manages, &[&web]));
        assert!(!t.delivers(&manages, &[&deployment("api")]));

        // The owner of an object in a cluster's lists: name, then labels, then managed workloads.
        let targets = Targets {
            all: vec![
                target(Some("web"), None, None),
                target(None, None, Some("billing")),
            ],
            by_id: HashMap::from([("web".to_string(), vec![0])]),
            by_argocd_app: HashMap::from([("billing".to_string(), vec![1])]),
            ..Default::default()
        };
        let owner_of_web = |r: &gitops::Managed| (r.name.as_ref() == "web").then_some(0);
        assert_eq!(
            targets.owner_of_gitops(&app("billing", none.clone(), none.clone()), &owner_of_web),
            Some(1)
        );
        assert_eq!(targets.owner_of_gitops(&labelled, &|_| None), Some(0));
        assert_eq!(targets.owner_of_gitops(&manages, &owner_of_web), Some(0));
        assert_eq!(targets.owner_of_gitops(&manages, &|_| None), None);
    }

    fn platform_obj(kind: &str, namespace: &str, labels: serde_json::Value) -> PlatformObj {
        let o = serde_json::from_value(serde_json::json!({
            "apiVersion": "database.example.org/v1alpha1", "kind": kind,
            "metadata": {"name": "orders-db", "namespace": namespace, "uid": kind, "labels": labels},
            "spec": if kind.starts_with('X') {
                serde_json::json!({"claimRef": {"apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance", "namespace": "team-a", "name": "orders-db"}})
            } else {
                serde_json::json!({})
            }
        }))
        .expect("object");
        if kind.starts_with('X') {
            PlatformObj::composite(o)
        } else {
            PlatformObj::claim(o)
        }
    }

    #[test]
    fn platform_objects_belong_by_label_in_their_namespace_and_claimed_composites_through_their_claim(
    ) {
        let labels = serde_json::json!({ID_ANNOTATION: "web"});
        let claim = platform_obj("PostgreSQLInstance", "team-a", labels.clone());
        assert!(target(Some("web"), None, None).uses(&claim));
        assert!(target(Some("web"), Some("team-a"), None).uses(&claim));
        assert!(!target(Some("web"), Some("team-b"), None).uses(&claim));
        assert!(!target(Some("api"), None, None).uses(&claim));
        // A composite bound to a claim carries the claim's labels, but is shown through it.
        let composite = platform_obj("XPostgreSQLInstance", "", labels);
        assert!(composite.claimed);
        assert!(!target(Some("web"), None, None).uses(&composite));
        let targets = Targets {
            all: vec![target(Some("web"), None, None)],
            by_id: HashMap::from([("web".to_string(), vec![0])]),
            ..Default::default()
        };
        assert_eq!(targets.owner_of_platform(&claim), Some(0));
        assert_eq!(targets.owner_of_platform(&composite), None);
    }

    #[test]
    fn versions_line_up_clusters_and_flag_differences() {
        let rows = versions(&[
            cluster("staging", &[("app", "web:2.0"), ("proxy", "envoy:1.30")]),
            cluster("production", &[("app", "web:1.9"), ("proxy", "envoy:1.30")]),
            cluster("dev", &[("proxy", "envoy:1.30")]),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].container, "app");
        assert_eq!(
            rows[0].cells,
            vec![
                vec!["web:2.0".to_string()],
                vec!["web:1.9".to_string()],
                vec![]
            ]
        );
        assert!(rows[0].differs);
        assert_eq!(rows[1].container, "proxy");
        assert!(!rows[1].differs, "the same image everywhere it runs");
    }

    fn delivered(name: &str, source: &str, revision: Option<&str>) -> DeliveryView {
        DeliveryView {
            cluster: String::new(),
            tool: "ArgoCD Application".into(),
            namespace: "argocd".into(),
            name: name.into(),
            state: "Synced".into(),
            tool_health: None,
            health: Health::Healthy,
            reasons: vec![],
            source: Some(source.into()),
            target_revision: revision.map(Into::into),
            synced_revision: revision.map(Into::into),
            last_sync: None,
            message: None,
            resources: vec![],
            link: None,
            source_state: None,
            commit_url: revision.map(|r| format!("https://github.com/acme/web/commit/{r}")),
            entity: None,
        }
    }

    #[test]
    fn revisions_line_up_places_and_flag_a_source_whose_revisions_differ() {
        let mut staging = cluster("staging", &[]);
        staging.cluster.environment = "staging".into();
        staging.delivery = vec![
            delivered(
                "web-staging",
                "https://github.com/acme/web.git (deploy)",
                Some("abc1234"),
            ),
            delivered(
                "worker",
                "https://github.com/acme/worker.git",
                Some("1111111"),
            ),
        ];
        let mut production = cluster("production", &[]);
        production.cluster.environment = "production".into();
        production.delivery = vec![
            delivered(
                "web-prod",
                "https://github.com/acme/web.git (deploy)",
                Some("9f8e7d6"),
            ),
            delivered(
                "worker",
                "https://github.com/acme/worker.git",
                Some("1111111"),
            ),
        ];
        let mut dev = cluster("dev", &[]);
        dev.delivery = vec![delivered(
            "worker",
            "https://github.com/acme/worker.git",
            None,
        )];
        let rows = revisions(&[staging, production, dev]);
        let seen: Vec<(&str, &str, Option<&str>, bool)> = rows
            .iter()
            .map(|r| {
                (
                    r.cluster.as_str(),
                    r.name.as_str(),
                    r.revision.as_deref(),
                    r.differs,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("staging", "web-staging", Some("abc1234"), true),
                ("production", "web-prod", Some("9f8e7d6"), true),
                ("staging", "worker", Some("1111111"), false),
                ("production", "worker", Some("1111111"), false),
                ("dev", "worker", None, false),
            ]
        );
        assert_eq!(rows[0].environment, "staging");
        assert_eq!(
            rows[1].commit_url.as_deref(),
            Some("https://github.com/acme/web/commit/9f8e7d6")
        );
    }

    #[test]
    fn commits_link_in_the_objects_repository_else_the_entitys() {
        let sha = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";
        let argo = |repo: &str| {
            GitOpsObj::argo(
                serde_json::from_value(serde_json::json!({
                    "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": {"name": "web", "namespace": "argocd", "uid": "a"},
                    "spec": {"source": {"repoURL": repo, "path": "deploy"}},
                    "status": {"operationState": {"phase": "Succeeded", "syncResult": {"revision": sha}}}
                }))
                .expect("app"),
            )
        };
        let entity_repo =
            GitSpec::of_source_location("url:https://gitlab.example.com/shop/web/-/tree/main/");
        assert_eq!(
            commit_url(
                &argo("git@github.com:acme/deploy.git"),
                None,
                entity_repo.as_ref()
            )
            .as_deref(),
            Some(format!("https://github.com/acme/deploy/commit/{sha}").as_str()),
            "its own repository first"
        );
        assert_eq!(
            commit_url(
                &argo("https://git.example.com/shop/web.git"),
                None,
                entity_repo.as_ref()
            ),
            None,
            "an unknown host: never a guess in another repository"
        );
        let flux = GitOpsObj::flux_kustomization(
            serde_json::from_value(serde_json::json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "web", "namespace": "flux-system", "uid": "k"},
                "spec": {"sourceRef": {"kind": "GitRepository", "name": "shop"}},
                "status": {"lastAppliedRevision": format!("main@sha1:{sha}")}
            }))
            .expect("kustomization"),
        );
        assert_eq!(
            commit_url(&flux, None, entity_repo.as_ref()).as_deref(),
            Some(format!("https://gitlab.example.com/shop/web/-/commit/{sha}").as_str()),
            "its source unseen: the entity's repository"
        );
        assert_eq!(commit_url(&flux, None, None), None);
    }
}
