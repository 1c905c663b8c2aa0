//! Compact copies of the Kubernetes objects Backlot watches: only what the views and the health
//! rules read. A watched object is converted as it arrives and the full object dropped, so memory
//! is bounded by what is kept here (no managed fields, no annotations but the revision, no specs
//! but the pod template's labels, images and four bits per container: readiness and liveness
//! probes, CPU and memory limits set, which the scorecards' cluster rules read).

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{ContainerState, ContainerStatus, Event, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::DynamicObject;
use std::collections::BTreeMap;
use std::num::NonZeroU32;

/// Conditions of any kind (pod, deployment, stateful set…: same fields, different types).
macro_rules! conds {
    ($list:expr) => {
        $list
            .unwrap_or_default()
            .into_iter()
            .map(|c| Cond {
                kind: c.type_,
                status: c.status,
                reason: c.reason,
                message: c.message,
            })
            .collect()
    };
}

/// RFC 3339 text of a Kubernetes time (whatever its Rust type).
fn time<T: serde::Serialize>(t: &Option<T>) -> Option<String> {
    t.as_ref()
        .and_then(|t| serde_json::to_value(t).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Uid of the controlling owner (a ReplicaSet of a pod, a Deployment of a ReplicaSet).
    pub owner: Option<String>,
    pub created: Option<String>,
    pub generation: Option<i64>,
}

impl Meta {
    pub(crate) fn of(m: &ObjectMeta) -> Meta {
        Meta {
            uid: m.uid.clone().unwrap_or_default(),
            name: m.name.clone().unwrap_or_default(),
            namespace: m.namespace.clone().unwrap_or_default(),
            labels: m.labels.clone().unwrap_or_default(),
            owner: m.owner_references.as_ref().and_then(|refs| {
                refs.iter()
                    .find(|r| r.controller == Some(true))
                    .map(|r| r.uid.clone())
            }),
            created: time(&m.creation_timestamp),
            generation: m.generation,
        }
    }
}

/// A condition: `type`, `status`, `reason`, `message`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cond {
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    Running,
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Terminated {
        reason: String,
        exit_code: i32,
    },
    Unknown,
}

impl Run {
    fn of(s: &Option<ContainerState>) -> Run {
        let Some(s) = s else { return Run::Unknown };
        if let Some(w) = &s.waiting {
            Run::Waiting {
                reason: w.reason.clone().unwrap_or_else(|| "Waiting".into()),
                message: w.message.clone(),
            }
        } else if let Some(t) = &s.terminated {
            Run::Terminated {
                reason: t.reason.clone().unwrap_or_else(|| "Terminated".into()),
                exit_code: t.exit_code,
            }
        } else if s.running.is_some() {
            Run::Running
        } else {
            Run::Unknown
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: u32,
    pub state: Run,
    /// Why the previous run ended.
    pub last_termination: Option<String>,
    /// When the previous run ended (`lastState.terminated.finishedAt`), in seconds since the
    /// Unix epoch: what tells a restart's age (4 bytes, inside the struct's padding).
    pub last_finished: Option<NonZeroU32>,
}

/// Seconds since the Unix epoch of a Kubernetes time, while they fit in a `u32` (until 2106).
fn epoch_seconds(t: &Time) -> Option<NonZeroU32> {
    u32::try_from(t.0.as_second())
        .ok()
        .and_then(NonZeroU32::new)
}

impl Container {
    fn of(c: &ContainerStatus) -> Container {
        Container {
            name: c.name.clone(),
            image: c.image.clone(),
            ready: c.ready,
            restarts: c.restart_count.max(0) as u32,
            state: Run::of(&c.state),
            last_termination: c
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .and_then(|t| t.reason.clone()),
            last_finished: c
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .and_then(|t| t.finished_at.as_ref())
                .and_then(epoch_seconds),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodObj {
    pub meta: Meta,
    pub phase: String,
    pub node: Option<String>,
    pub conditions: Vec<Cond>,
    /// Statuses when reported, else the spec's containers (not started yet).
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    /// The pod's own reason and message (`Evicted`…).
    pub reason: Option<String>,
    pub message: Option<String>,
}

impl From<Pod> for PodObj {
    fn from(p: Pod) -> PodObj {
        let status = p.status.unwrap_or_default();
        let spec = p.spec.unwrap_or_default();
        let mut containers: Vec<Container> = status
            .container_statuses
            .unwrap_or_default()
            .iter()
            .map(Container::of)
            .collect();
        for c in &spec.containers {
            if !containers.iter().any(|s| s.name == c.name) {
                containers.push(Container {
                    name: c.name.clone(),
                    image: c.image.clone().unwrap_or_default(),
                    ready: false,
                    restarts: 0,
                    state: Run::Unknown,
                    last_termination: None,
                    last_finished: None,
                });
            }
        }
        PodObj {
            meta: Meta::of(&p.metadata),
            phase: status.phase.unwrap_or_else(|| "Pending".into()),
            node: spec.node_name,
            conditions: conds!(status.conditions),
            containers,
            init_containers: status
                .init_container_statuses
                .unwrap_or_default()
                .iter()
                .map(Container::of)
                .collect(),
            reason: status.reason,
            message: status.message,
        }
    }
}

impl PodObj {
    pub fn ready(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.kind == "Ready" && c.status == "True")
    }

    pub fn restarts(&self) -> u32 {
        self.containers.iter().map(|c| c.restarts).sum()
    }
}

/// A Deployment, StatefulSet or DaemonSet.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub meta: Meta,
    pub kind: &'static str,
    pub desired: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: i32,
    /// The controller has seen the latest spec (`observedGeneration >= generation`).
    pub observed: bool,
    /// A status was ever written.
    pub has_status: bool,
    /// A StatefulSet between revisions.
    pub revisions_differ: bool,
    pub conditions: Vec<Cond>,
    pub template_labels: BTreeMap<String, String>,
    /// The pod template's containers.
    pub images: Vec<TemplateContainer>,
}

/// A pod template's container: its name, image, and what its spec sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateContainer {
    pub name: String,
    pub image: String,
    pub set: SpecSet,
}

/// What a container's spec sets, a bit each: readiness and liveness probes, CPU and memory
/// limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SpecSet(pub u8);

impl SpecSet {
    pub const READINESS: u8 = 1;
    pub const LIVENESS: u8 = 2;
    pub const CPU_LIMIT: u8 = 4;
    pub const MEMORY_LIMIT: u8 = 8;

    fn of(c: &k8s_openapi::api::core::v1::Container) -> SpecSet {
        let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        let limit = |k: &str| limits.is_some_and(|l| l.contains_key(k));
        let mut bits = 0;
        for (set, bit) in [
            (c.readiness_probe.is_some(), Self::READINESS),
            (c.liveness_probe.is_some(), Self::LIVENESS),
            (limit("cpu"), Self::CPU_LIMIT),
            (limit("memory"), Self::MEMORY_LIMIT),
        ] {
            if set {
                bits |= bit;
            }
        }
        SpecSet(bits)
    }

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit == bit
    }
}

fn template(
    t: Option<&k8s_openapi::api::core::v1::PodTemplateSpec>,
) -> (BTreeMap<String, String>, Vec<TemplateContainer>) {
    let labels = t
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let images = t
        .and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .map(|c| TemplateContainer {
                    name: c.name.clone(),
                    image: c.image.clone().unwrap_or_default(),
                    set: SpecSet::of(c),
                })
                .collect()
        })
        .unwrap_or_default();
    (labels, images)
}

fn observed(meta: &Meta, observed: Option<i64>) -> bool {
    match (meta.generation, observed) {
        (Some(g), Some(o)) => o >= g,
        (None, Some(_)) => true,
        _ => false,
    }
}

impl From<Deployment> for Workload {
    fn from(d: Deployment) -> Workload {
        let meta = Meta::of(&d.metadata);
        let spec = d.spec.unwrap_or_default();
        let has_status = d.status.is_some();
        let s = d.status.unwrap_or_default();
        let (template_labels, images) = template(Some(&spec.template));
        Workload {
            observed: observed(&meta, s.observed_generation),
            meta,
            kind: "Deployment",
            desired: spec.replicas.unwrap_or(1),
            ready: s.ready_replicas.unwrap_or(0),
            available: s.available_replicas.unwrap_or(0),
            updated: s.updated_replicas.unwrap_or(0),
            has_status,
            revisions_differ: false,
            conditions: conds!(s.conditions),
            template_labels,
            images,
        }
    }
}

impl From<StatefulSet> for Workload {
    fn from(d: StatefulSet) -> Workload {
        let meta = Meta::of(&d.metadata);
        let spec = d.spec.unwrap_or_default();
        let has_status = d.status.is_some();
        let s = d.status.unwrap_or_default();
        let (template_labels, images) = template(Some(&spec.template));
        Workload {
            observed: observed(&meta, s.observed_generation),
            meta,
            kind: "StatefulSet",
            desired: spec.replicas.unwrap_or(1),
            ready: s.ready_replicas.unwrap_or(0),
            available: s.available_replicas.unwrap_or(0),
            updated: s.updated_replicas.unwrap_or(0),
            has_status,
            revisions_differ: s.update_revision.is_some()
                && s.current_revision.is_some()
                && s.update_revision != s.current_revision,
            conditions: conds!(s.conditions),
            template_labels,
            images,
        }
    }
}

impl From<DaemonSet> for Workload {
    fn from(d: DaemonSet) -> Workload {
        let meta = Meta::of(&d.metadata);
        let spec = d.spec.unwrap_or_default();
        let has_status = d.status.is_some();
        let s = d.status.unwrap_or_default();
        let (template_labels, images) = template(Some(&spec.template));
        Workload {
            observed: observed(&meta, s.observed_generation),
            meta,
            kind: "DaemonSet",
            desired: s.desired_number_scheduled,
            ready: s.number_ready,
            available: s.number_available.unwrap_or(0),
            updated: s.updated_number_scheduled.unwrap_or(0),
            has_status,
            revisions_differ: false,
            conditions: conds!(s.conditions),
            template_labels,
            images,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSetObj {
    pub meta: Meta,
    pub revision: Option<String>,
    pub desired: i32,
    pub ready: i32,
    pub images: Vec<TemplateContainer>,
}

impl From<ReplicaSet> for ReplicaSetObj {
    fn from(r: ReplicaSet) -> ReplicaSetObj {
        let revision = r
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision").cloned());
        let spec = r.spec.unwrap_or_default();
        let (_, images) = template(spec.template.as_ref());
        ReplicaSetObj {
            meta: Meta::of(&r.metadata),
            revision,
            desired: spec.replicas.unwrap_or(1),
            ready: r.status.and_then(|s| s.ready_replicas).unwrap_or(0),
            images,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceObj {
    pub meta: Meta,
    pub selector: BTreeMap<String, String>,
}

impl From<Service> for ServiceObj {
    fn from(s: Service) -> ServiceObj {
        ServiceObj {
            meta: Meta::of(&s.metadata),
            selector: s.spec.and_then(|s| s.selector).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IngressObj {
    pub meta: Meta,
    /// `host/path` of each rule.
    pub routes: Vec<String>,
    /// Services it sends traffic to.
    pub services: Vec<String>,
}

impl From<Ingress> for IngressObj {
    fn from(i: Ingress) -> IngressObj {
        let spec = i.spec.unwrap_or_default();
        let mut routes = Vec::new();
        let mut services = Vec::new();
        if let Some(s) = spec
            .default_backend
            .as_ref()
            .and_then(|b| b.service.as_ref())
        {
            services.push(s.name.clone());
        }
        for rule in spec.rules.unwrap_or_default() {
            let host = rule.host.clone().unwrap_or_else(|| "*".into());
            for p in rule.http.map(|h| h.paths).unwrap_or_default() {
                routes.push(format!("{host}{}", p.path.as_deref().unwrap_or("/")));
                if let Some(s) = p.backend.service {
                    services.push(s.name);
                }
            }
        }
        services.sort();
        services.dedup();
        IngressObj {
            meta: Meta::of(&i.metadata),
            routes,
            services,
        }
    }
}

/// A HorizontalPodAutoscaler (autoscaling/v2 or v2beta2: the fields read are the same).
#[derive(Debug, Clone, PartialEq)]
pub struct HpaObj {
    pub meta: Meta,
    pub target_kind: String,
    pub target_name: String,
    pub min: i32,
    pub max: i32,
    pub current: i32,
    pub desired: i32,
}

impl From<DynamicObject> for HpaObj {
    fn from(o: DynamicObject) -> HpaObj {
        let int = |v: &serde_json::Value| v.as_i64().unwrap_or(0) as i32;
        let d = &o.data;
        HpaObj {
            meta: Meta::of(&o.metadata),
            target_kind: d["spec"]["scaleTargetRef"]["kind"]
                .as_str()
                .unwrap_or_default()
                .into(),
            target_name: d["spec"]["scaleTargetRef"]["name"]
                .as_str()
                .unwrap_or_default()
                .into(),
            min: d["spec"]["minReplicas"].as_i64().unwrap_or(1) as i32,
            max: int(&d["spec"]["maxReplicas"]),
            current: int(&d["status"]["currentReplicas"]),
            desired: int(&d["status"]["desiredReplicas"]),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventObj {
    pub uid: String,
    pub involved_uid: String,
    /// `Pod/web-1`.
    pub involved: String,
    pub event_type: String,
    pub reason: String,
    pub message: String,
    pub count: i32,
    pub last_seen: Option<String>,
}

impl From<Event> for EventObj {
    fn from(e: Event) -> EventObj {
        let last_seen = time(&e.last_timestamp)
            .or_else(|| time(&e.event_time))
            .or_else(|| time(&e.metadata.creation_timestamp));
        EventObj {
            uid: e.metadata.uid.unwrap_or_default(),
            involved_uid: e.involved_object.uid.unwrap_or_default(),
            involved: format!(
                "{}/{}",
                e.involved_object.kind.unwrap_or_default(),
                e.involved_object.name.unwrap_or_default()
            ),
            event_type: e.type_.unwrap_or_else(|| "Normal".into()),
            reason: e.reason.unwrap_or_default(),
            message: e.message.unwrap_or_default(),
            count: e.count.unwrap_or(1),
            last_seen,
        }
    }
}
