//! One cluster: its watchers' compact objects, its connection state, and the watchers
//! themselves (list + watch with kube-runtime, relisting after any failure so that recovery is
//! confirmed by a complete list, with backoff).

use super::gitops::{GitOpsObj, Tool};
use super::model::{EventObj, HpaObj, IngressObj, PodObj, ReplicaSetObj, ServiceObj, Workload};
use super::platform::{Kind, PlatformObj};
use super::sources::{FluxSource, SourceKind};
use app::kube::ClusterState;
use futures_util::StreamExt;
use kube::runtime::watcher;
use kube::Resource;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// What the watchers hold, keyed by uid.
#[derive(Default)]
pub struct Data {
    pub pods: HashMap<String, PodObj>,
    pub deployments: HashMap<String, Workload>,
    pub statefulsets: HashMap<String, Workload>,
    pub daemonsets: HashMap<String, Workload>,
    pub replica_sets: HashMap<String, ReplicaSetObj>,
    pub services: HashMap<String, ServiceObj>,
    pub ingresses: HashMap<String, IngressObj>,
    pub hpas: HashMap<String, HpaObj>,
    pub events: HashMap<String, EventObj>,
    /// GitOps objects, one map per kind (each watcher replaces its own map on a relist).
    pub argo_applications: HashMap<String, GitOpsObj>,
    pub flux_kustomizations: HashMap<String, GitOpsObj>,
    pub flux_helm_releases: HashMap<String, GitOpsObj>,
    /// Flux sources, one map per kind.
    pub flux_git_repositories: HashMap<String, FluxSource>,
    pub flux_helm_repositories: HashMap<String, FluxSource>,
    /// Platform objects (Crossplane claims and composites, KubeVela Applications,
    /// ExternalSecrets, SealedSecrets), one map per watcher (by its name).
    pub platform: BTreeMap<&'static str, HashMap<String, PlatformObj>>,
}

impl Data {
    /// The autoscaler whose target is this workload.
    pub fn hpa_of(&self, w: &Workload) -> Option<&HpaObj> {
        self.hpas.values().find(|h| {
            h.meta.namespace == w.meta.namespace
                && h.target_kind == w.kind
                && h.target_name == w.meta.name
        })
    }

    pub fn gitops(&self) -> impl Iterator<Item = &GitOpsObj> {
        self.argo_applications
            .values()
            .chain(self.flux_kustomizations.values())
            .chain(self.flux_helm_releases.values())
    }

    /// Flux sources by (kind, namespace, name): what Kustomizations' and HelmReleases'
    /// `sourceRef`s name.
    pub fn sources(&self) -> Sources<'_> {
        self.flux_git_repositories
            .values()
            .chain(self.flux_helm_repositories.values())
            .map(|s| ((s.kind.kind(), &*s.namespace, &*s.name), s))
            .collect()
    }

    pub fn platform(&self) -> impl Iterator<Item = &PlatformObj> {
        self.platform.values().flat_map(|m| m.values())
    }

    /// Crossplane composite resources by (kind, name): what claims' `resourceRef`s name.
    pub fn composites(&self) -> HashMap<(&str, &str), &PlatformObj> {
        self.platform()
            .filter(|o| o.kind == Kind::Composite)
            .map(|o| ((o.type_name.as_ref(), o.meta.name.as_str()), o))
            .collect()
    }

    pub fn workloads(&self) -> impl Iterator<Item = &Workload> {
        self.deployments
            .values()
            .chain(self.statefulsets.values())
            .chain(self.daemonsets.values())
    }
}

/// Flux sources by (kind, namespace, name) ([`Data::sources`]).
pub type Sources<'a> = HashMap<(&'static str, &'a str, &'a str), &'a FluxSource>;

/// The source a GitOps object reads, among `sources`.
pub fn source_of<'a>(sources: &Sources<'a>, o: &GitOpsObj) -> Option<&'a FluxSource> {
    let r = o.source_ref.as_ref()?;
    let kind = [SourceKind::GitRepository, SourceKind::HelmRepository]
        .into_iter()
        .find(|k| k.kind() == &*r.kind)?
        .kind();
    // (The keys' borrows may be shorter than the values'.)
    let shorter: &HashMap<(&'static str, &str, &str), &'a FluxSource> = sources;
    shorter.get(&(kind, &*r.namespace, &*r.name)).copied()
}

#[derive(Default)]
struct Status {
    /// Watchers started (what the cluster serves and Backlot may read).
    expected: BTreeSet<&'static str>,
    /// Watchers whose list completed and that are not failing.
    synced: BTreeSet<&'static str>,
    /// Failing watchers (or `"connection"` before discovery): since when, and why.
    failing: HashMap<&'static str, (String, String)>,
    /// Said once each: APIs not served, reads refused.
    skipped: BTreeSet<String>,
    /// When every watcher last completed a list.
    synced_at: Option<String>,
}

pub struct Cluster {
    pub name: String,
    pub environment: String,
    data: RwLock<Data>,
    status: Mutex<Status>,
    version: AtomicU64,
    /// Shared by every cluster: bumped on any change, awaited by live views.
    notify: Arc<tokio::sync::watch::Sender<u64>>,
    /// Events kept, in all.
    max_events: usize,
    /// The ArgoCD UI that manages this cluster's Applications (`argocd_url`), without a final `/`.
    pub argocd_url: Option<String>,
}

fn now() -> String {
    crate::util::now_rfc3339()
}

impl Cluster {
    pub fn new(
        name: String,
        environment: String,
        notify: Arc<tokio::sync::watch::Sender<u64>>,
        max_events: usize,
    ) -> Cluster {
        Cluster {
            name,
            environment,
            data: RwLock::new(Data::default()),
            status: Mutex::new(Status::default()),
            version: AtomicU64::new(0),
            notify,
            max_events,
            argocd_url: None,
        }
    }

    /// Links Applications to this ArgoCD UI.
    pub fn with_argocd_url(mut self, url: Option<String>) -> Cluster {
        self.argocd_url = url.map(|u| u.trim_end_matches('/').to_string());
        self
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self, change: impl FnOnce(&mut Data)) {
        {
            let mut data = self.data.write().unwrap_or_else(|e| e.into_inner());
            change(&mut data);
        }
        self.changed();
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.notify.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Changes seen so far (for tests and the benchmark).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self) -> ClusterState {
        let s = self.status();
        let first_failure = s.failing.values().min_by(|a, b| a.0.cmp(&b.0));
        let synced = !s.expected.is_empty() && s.synced.len() == s.expected.len();
        ClusterState {
            name: self.name.clone(),
            environment: self.environment.clone(),
            synced: synced && first_failure.is_none(),
            stale: first_failure.is_some(),
            since: first_failure
                .map(|f| f.0.clone())
                .or_else(|| s.synced_at.clone()),
            error: first_failure.map(|f| f.1.clone()),
            skipped: s.skipped.iter().cloned().collect(),
        }
    }

    fn fail(&self, what: &'static str, error: String) {
        let changed = {
            let mut s = self.status();
            s.synced.remove(what);
            match s.failing.get_mut(what) {
                Some(f) if f.1 == error => false,
                Some(f) => {
                    f.1 = error;
                    true
                }
                None => {
                    s.failing.insert(what, (now(), error));
                    true
                }
            }
        };
        if changed {
            self.changed();
        }
    }

    /// A kind RBAC does not let Backlot read: skipped and said (true the first time).
    fn forbidden(&self, what: &'static str, message: String) -> bool {
        let added = {
            let mut s = self.status();
            s.expected.remove(what);
            s.failing.remove(what);
            s.synced.remove(what);
            s.skipped.insert(message)
        };
        if added {
            self.changed();
        }
        added
    }

    fn recovered(&self, what: &'static str) {
        {
            let mut s = self.status();
            s.expected.insert(what);
            let refused = format!("{what}: forbidden");
            s.skipped.retain(|m| !m.starts_with(&refused));
            s.failing.remove(what);
            s.synced.insert(what);
            if s.synced.len() == s.expected.len() && s.failing.is_empty() {
                s.synced_at = Some(now());
            }
        }
        self.changed();
    }

    fn skip(&self, message: String) {
        let added = self.status().skipped.insert(message);
        if added {
            self.changed();
        }
    }

    /// Finds what the server offers, then watches it; retries discovery until the server
    /// answers. Runs until aborted.
    pub async fn run(self: Arc<Self>, client: kube::Client) {
        let mut backoff = Backoff::default();
        let apis = loop {
            match super::discovery::discover(&client).await {
                Ok(apis) => {
                    self.status().failing.remove("connection");
                    break apis;
                }
                Err(e) => {
                    let e = explain("API discovery", &e);
                    tracing::warn!(cluster = %self.name, error = %e, "cluster not reachable");
                    self.fail("connection", e);
                    backoff.wait().await;
                }
            }
        };
        for message in &apis.skipped {
            tracing::info!(cluster = %self.name, "{message}");
            self.skip(message.clone());
        }
        type Watch = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
        // (what, its watcher) — the name is said once.
        macro_rules! watch {
            ($what:literal, $kind:ty => $compact:ty, $slot:ident) => {
                watch!($what, $kind => $compact, kube::Api::all(client.clone()), $slot)
            };
            ($what:literal, $kind:ty => $compact:ty, $api:expr, $slot:ident) => {
                watch!($what, $kind => $compact, <$compact>::from, $api, $slot)
            };
            ($what:expr, $kind:ty => $compact:ty, $convert:expr, $api:expr, $slot:ident) => {
                (
                    $what,
                    Box::pin(self.clone().watch::<$kind, $compact>(
                        $what,
                        $api,
                        $convert,
                        |d| &mut d.$slot,
                    )) as Watch,
                )
            };
        }
        use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
        let mut watches: Vec<(&'static str, Watch)> = vec![
            watch!("Pods", core::Pod => PodObj, pods),
            watch!("Deployments", apps::Deployment => Workload, deployments),
            watch!("ReplicaSets", apps::ReplicaSet => ReplicaSetObj, replica_sets),
            watch!("StatefulSets", apps::StatefulSet => Workload, statefulsets),
            watch!("DaemonSets", apps::DaemonSet => Workload, daemonsets),
            watch!("Services", core::Service => ServiceObj, services),
            watch!("Events", core::Event => EventObj, events),
        ];
        if apis.ingresses {
            watches.push(watch!(
                "Ingresses",
                k8s_openapi::api::networking::v1::Ingress => IngressObj,
                ingresses
            ));
        }
        if let Some(resource) = apis.hpa {
            watches.push(watch!(
                "HorizontalPodAutoscalers",
                kube::api::DynamicObject => HpaObj,
                kube::Api::all_with(client.clone(), &resource),
                hpas
            ));
        }
        for (tool, resource) in &apis.gitops {
            let api = kube::Api::all_with(client.clone(), resource);
            tracing::info!(cluster = %self.name, api_version = %resource.api_version, "watching {}s", tool.label());
            use kube::api::DynamicObject;
            watches.push(match tool {
                Tool::ArgoApplication => watch!(
                    "ArgoCD Applications",
                    DynamicObject => GitOpsObj,
                    GitOpsObj::argo,
                    api,
                    argo_applications
                ),
                Tool::FluxKustomization => watch!(
                    "Flux Kustomizations",
                    DynamicObject => GitOpsObj,
                    GitOpsObj::flux_kustomization,
                    api,
                    flux_kustomizations
                ),
                Tool::FluxHelmRelease => watch!(
                    "Flux HelmReleases",
                    DynamicObject => GitOpsObj,
                    GitOpsObj::flux_helm_release,
                    api,
                    flux_helm_releases
                ),
            });
        }
        for (kind, resource) in &apis.sources {
            let api = kube::Api::all_with(client.clone(), resource);
            tracing::info!(cluster = %self.name, api_version = %resource.api_version, "watching {}", kind.what());
            use kube::api::DynamicObject;
            watches.push(match kind {
                SourceKind::GitRepository => watch!(
                    kind.what(),
                    DynamicObject => FluxSource,
                    FluxSource::git_repository,
                    api,
                    flux_git_repositories
                ),
                SourceKind::HelmRepository => watch!(
                    kind.what(),
                    DynamicObject => FluxSource,
                    FluxSource::helm_repository,
                    api,
                    flux_helm_repositories
                ),
            });
        }
        for (kind, what, resource) in &apis.platform {
            let api = kube::Api::all_with(client.clone(), resource);
            tracing::info!(cluster = %self.name, api_version = %resource.api_version, kind = %resource.kind, "watching {}", what);
            let what = *what;
            watches.push((
                what,
                Box::pin(
                    self.clone()
                        .watch(what, api, kind.convert(), move |d: &mut Data| {
                            d.platform.entry(what).or_default()
                        }),
                ) as Watch,
            ));
        }
        // Every watcher is expected before any starts, so "synced" never means "some of them".
        self.status().expected = watches.iter().map(|(what, _)| *what).collect();
        let mut tasks = tokio::task::JoinSet::new();
        for (_, watch) in watches {
            tasks.spawn(watch);
        }
        while tasks.join_next().await.is_some() {}
    }

    /// One watcher: list (paged), then watch; any failure marks the cluster stale and, after a
    /// backoff, starts over with a fresh list whose completion clears the mark.
    async fn watch<K, C>(
        self: Arc<Self>,
        what: &'static str,
        api: kube::Api<K>,
        convert: fn(K) -> C,
        slot: impl Fn(&mut Data) -> &mut HashMap<String, C> + Send + 'static,
    ) where
        K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
        C: Send + Sync + 'static,
    {
        let mut backoff = Backoff::default();
        loop {
            let config = watcher::Config::default().page_size(500);
            let mut stream = std::pin::pin!(watcher::watcher(api.clone(), config));
            let mut listing: Option<HashMap<String, C>> = None;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::Init) => listing = Some(HashMap::new()),
                    Ok(watcher::Event::InitApply(o)) => {
                        let uid = o.meta().uid.clone().unwrap_or_default();
                        if let Some(l) = listing.as_mut() {
                            l.insert(uid, convert(o));
                        }
                    }
                    Ok(watcher::Event::InitDone) => {
                        if let Some(l) = listing.take() {
                            tracing::debug!(cluster = %self.name, what, objects = l.len(), "listed");
                            self.write(|d| {
                                *slot(d) = l;
                                self.bound_events(d);
                            });
                        }
                        self.recovered(what);
                        backoff = Backoff::default();
                    }
                    Ok(watcher::Event::Apply(o)) => {
                        let uid = o.meta().uid.clone().unwrap_or_default();
                        let c = convert(o);
                        self.write(|d| {
                            slot(d).insert(uid, c);
                            self.bound_events(d);
                        });
                    }
                    Ok(watcher::Event::Delete(o)) => {
                        let uid = o.meta().uid.clone().unwrap_or_default();
                        self.write(|d| {
                            slot(d).remove(&uid);
                        });
                    }
                    Err(e) => {
                        let message = explain(what, &e.to_string());
                        if message.contains("forbidden") {
                            // Not stale: never readable. Said once, retried in case it is granted.
                            if self.forbidden(what, message.clone()) {
                                tracing::warn!(cluster = %self.name, what, error = %message, "watch refused");
                            }
                        } else {
                            tracing::warn!(cluster = %self.name, what, error = %message, "watch failed");
                            self.fail(what, message);
                        }
                        break;
                    }
                }
            }
            backoff.wait().await;
        }
    }

    /// Keeps the newest events within the cluster's bound.
    fn bound_events(&self, d: &mut Data) {
        if d.events.len() <= self.max_events {
            return;
        }
        let mut by_age: Vec<(Option<String>, String)> = d
            .events
            .iter()
            .map(|(uid, e)| (e.last_seen.clone(), uid.clone()))
            .collect();
        by_age.sort();
        // Drop a tenth more than needed so this runs rarely.
        let drop = d.events.len() - self.max_events + self.max_events / 10;
        for (_, uid) in by_age.into_iter().take(drop) {
            d.events.remove(&uid);
        }
    }
}

/// A watch error in words, without anything secret (kube's errors carry no token).
fn explain(what: &str, error: &str) -> String {
    if error.contains("forbidden") || error.contains("403") {
        format!("{what}: forbidden: Backlot may not list and watch them (grant get, list and watch; see deploy/kubernetes/rbac.yaml): {error}")
    } else if error.contains("401") || error.contains("Unauthorized") {
        format!(
            "{what}: the API server refused the credentials (401): check the token or certificate"
        )
    } else {
        format!("{what}: {error}")
    }
}

/// 1 s doubling to 30 s.
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Duration::from_secs(1))
    }
}

impl Backoff {
    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_secs(30));
    }
}
