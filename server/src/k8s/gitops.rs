//! GitOps objects: ArgoCD `Application`s (argoproj.io), Flux `Kustomization`s
//! (kustomize.toolkit.fluxcd.io) and `HelmRelease`s (helm.toolkit.fluxcd.io), read as dynamic
//! objects and kept as compact copies ([`GitOpsObj`]: what the views and the health rules read,
//! nothing of the spec but its source); and their health with reasons in words and the next step
//! ([`health`], pure).
//!
//! Field names follow the projects' CRDs (server/src/k8s/testdata/crds/): ArgoCD's
//! `status.sync`, `status.health`, `status.operationState`, `status.resources`,
//! `status.conditions`; Flux's `Ready`/`Stalled`/`Reconciling` conditions,
//! `lastAppliedRevision`/`lastAttemptedRevision` (HelmRelease v2: `history[0].chartVersion`),
//! `status.inventory.entries` (`<namespace>_<name>_<group>_<kind>`) and `spec.suspend`.
//!
//! The helpers that read dynamic objects' conditions and word reasons ([`conditions`], [`since`],
//! [`text`], [`clock`], [`reason`]) are shared with the platform resources (`super::platform`).

use super::model::{Cond, Meta};
use app::kube::{Health, Reason};
use kube::api::DynamicObject;
use serde_json::Value;

/// Which project's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    ArgoApplication,
    FluxKustomization,
    FluxHelmRelease,
}

impl Tool {
    pub fn label(self) -> &'static str {
        match self {
            Tool::ArgoApplication => "ArgoCD Application",
            Tool::FluxKustomization => "Flux Kustomization",
            Tool::FluxHelmRelease => "Flux HelmRelease",
        }
    }

    /// The kind as Kubernetes and the tools' CLIs name it.
    pub fn kind(self) -> &'static str {
        match self {
            Tool::ArgoApplication => "Application",
            Tool::FluxKustomization => "Kustomization",
            Tool::FluxHelmRelease => "HelmRelease",
        }
    }
}

/// A resource a GitOps object manages (ArgoCD's `status.resources`, Flux's inventory).
#[derive(Debug, Clone, PartialEq)]
pub struct Managed {
    pub kind: Box<str>,
    pub namespace: Box<str>,
    pub name: Box<str>,
    /// ArgoCD's health of it (`Healthy`, `Degraded`…) and its message.
    pub health: Option<Box<str>>,
    pub message: Option<Box<str>>,
}

/// A Flux object's source: `spec.sourceRef` (Kustomization), `spec.chart.spec.sourceRef`
/// (HelmRelease); the namespace is the object's own when the reference names none.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRef {
    pub kind: Box<str>,
    pub namespace: Box<str>,
    pub name: Box<str>,
}

impl SourceRef {
    fn of(r: &Value, own_namespace: &str) -> Option<SourceRef> {
        Some(SourceRef {
            kind: r["kind"].as_str()?.into(),
            namespace: r["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(own_namespace)
                .into(),
            name: r["name"].as_str()?.into(),
        })
    }
}

/// One GitOps object, compact.
#[derive(Debug, Clone, PartialEq)]
pub struct GitOpsObj {
    pub meta: Meta,
    pub tool: Tool,
    /// ArgoCD: `spec.destination.namespace`; Flux: `spec.targetNamespace`.
    pub destination_namespace: Option<String>,
    /// Repository URL (+ path), or Flux's source reference `Kind/name`.
    pub source: Option<String>,
    /// ArgoCD: the repository's URL as written (`spec.source.repoURL`).
    pub repo: Option<Box<str>>,
    /// Flux: the source object it reads.
    pub source_ref: Option<SourceRef>,
    /// ArgoCD: `spec.source.targetRevision` (a branch, tag or commit as written).
    pub wanted: Option<String>,
    /// What Git says now: ArgoCD `status.sync.revision`, Flux `lastAttemptedRevision`.
    pub git_revision: Option<String>,
    /// What the cluster has: ArgoCD's last sync's revision, Flux `lastAppliedRevision` (HelmRelease:
    /// the chart version of its newest release).
    pub applied_revision: Option<String>,
    /// ArgoCD `status.sync.status`.
    pub sync: Option<String>,
    /// ArgoCD `status.health.status` and `.message`.
    pub health: Option<String>,
    pub health_message: Option<String>,
    /// ArgoCD `status.operationState`: phase, message, end (else start) time.
    pub operation: Option<(String, Option<String>, Option<String>)>,
    /// Flux: Ready, Stalled, Reconciling; ArgoCD: its error and warning conditions (`type`,
    /// `message`, status "True").
    pub conditions: Vec<Cond>,
    /// Flux: when Ready last changed.
    pub ready_since: Option<String>,
    pub suspended: bool,
    /// Flux: `observedGeneration >= generation`.
    pub observed: bool,
    pub resources: Vec<Managed>,
}

pub(super) fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// The conditions of `kinds` (`type`, `status`, `reason`, `message`) in a status, as the
/// controllers of Flux, Crossplane, KubeVela, External Secrets and Sealed Secrets all write them.
pub(super) fn conditions(status: &Value, kinds: &[&str]) -> Vec<Cond> {
    status["conditions"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|c| c["type"].as_str().is_some_and(|t| kinds.contains(&t)))
                .map(|c| Cond {
                    kind: text(&c["type"]).unwrap_or_default(),
                    status: text(&c["status"]).unwrap_or_default(),
                    reason: text(&c["reason"]),
                    message: text(&c["message"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// When the condition `kind` last changed.
pub(super) fn since(status: &Value, kind: &str) -> Option<String> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| text(&c["lastTransitionTime"]))
}

/// Flux inventory ids: `<namespace>_<name>_<group>_<kind>` (names cannot hold `_`).
fn inventory(status: &Value) -> Vec<Managed> {
    status["inventory"]["entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| {
                    let id = e["id"].as_str()?;
                    let mut parts = id.splitn(4, '_');
                    let (ns, name, _group, kind) =
                        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
                    Some(Managed {
                        kind: kind.into(),
                        namespace: ns.into(),
                        name: name.into(),
                        health: None,
                        message: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn observed(meta: &Meta, status: &Value) -> bool {
    match (meta.generation, status["observedGeneration"].as_i64()) {
        (Some(g), Some(o)) => o >= g,
        (None, Some(_)) => true,
        _ => false,
    }
}

impl GitOpsObj {
    pub fn argo(o: DynamicObject) -> GitOpsObj {
        let d = &o.data;
        let (spec, status) = (&d["spec"], &d["status"]);
        // A single source, or the first of `sources`.
        let source = if spec["source"].is_object() {
            &spec["source"]
        } else {
            &spec["sources"][0]
        };
        let op = &status["operationState"];
        let conditions = status["conditions"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| Cond {
                        kind: text(&c["type"]).unwrap_or_default(),
                        status: "True".into(),
                        reason: None,
                        message: text(&c["message"]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let resources = status["resources"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|r| Managed {
                        kind: r["kind"].as_str().unwrap_or_default().into(),
                        namespace: r["namespace"].as_str().unwrap_or_default().into(),
                        name: r["name"].as_str().unwrap_or_default().into(),
                        health: r["health"]["status"].as_str().map(Into::into),
                        message: r["health"]["message"].as_str().map(Into::into),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let last_synced = text(&op["syncResult"]["revision"]).or_else(|| {
            status["history"]
                .as_array()
                .and_then(|h| h.last())
                .and_then(|h| text(&h["revision"]))
        });
        GitOpsObj {
            meta: Meta::of(&o.metadata),
            tool: Tool::ArgoApplication,
            destination_namespace: text(&spec["destination"]["namespace"]),
            source: text(&source["repoURL"]).map(|url| match text(&source["path"]) {
                Some(p) => format!("{url} ({p})"),
                None => match text(&source["chart"]) {
                    Some(c) => format!("{url} (chart {c})"),
                    None => url,
                },
            }),
            repo: text(&source["repoURL"]).map(String::into_boxed_str),
            source_ref: None,
            wanted: text(&source["targetRevision"]),
            git_revision: text(&status["sync"]["revision"])
                .or_else(|| text(&status["sync"]["revisions"][0])),
            applied_revision: last_synced,
            sync: text(&status["sync"]["status"]),
            health: text(&status["health"]["status"]),
            health_message: text(&status["health"]["message"]),
            operation: text(&op["phase"]).map(|phase| {
                (
                    phase,
                    text(&op["message"]),
                    text(&op["finishedAt"]).or_else(|| text(&op["startedAt"])),
                )
            }),
            conditions,
            ready_since: None,
            suspended: false,
            observed: true,
            resources,
        }
    }

    pub fn flux_kustomization(o: DynamicObject) -> GitOpsObj {
        Self::flux(o, Tool::FluxKustomization)
    }

    pub fn flux_helm_release(o: DynamicObject) -> GitOpsObj {
        Self::flux(o, Tool::FluxHelmRelease)
    }

    fn flux(o: DynamicObject, tool: Tool) -> GitOpsObj {
        let d = &o.data;
        let (spec, status) = (&d["spec"], &d["status"]);
        let meta = Meta::of(&o.metadata);
        let conditions = conditions(status, &["Ready", "Stalled", "Reconciling"]);
        let ready_since = since(status, "Ready");
        let source = match tool {
            Tool::FluxHelmRelease => {
                let chart = &spec["chart"]["spec"];
                match text(&chart["chart"]) {
                    Some(c) => Some(format!(
                        "chart {c} from {}/{}",
                        chart["sourceRef"]["kind"].as_str().unwrap_or("source"),
                        chart["sourceRef"]["name"].as_str().unwrap_or_default()
                    )),
                    None => text(&spec["chartRef"]["name"]).map(|n| {
                        format!(
                            "{}/{n}",
                            spec["chartRef"]["kind"].as_str().unwrap_or("source")
                        )
                    }),
                }
            }
            _ => text(&spec["sourceRef"]["name"]).map(|n| {
                let base = format!(
                    "{}/{n}",
                    spec["sourceRef"]["kind"].as_str().unwrap_or("source")
                );
                match text(&spec["path"]) {
                    Some(p) => format!("{base} ({p})"),
                    None => base,
                }
            }),
        };
        let applied = text(&status["lastAppliedRevision"]).or_else(|| {
            // HelmRelease v2: the newest release snapshot first.
            status["history"][0]["chartVersion"]
                .as_str()
                .filter(|_| status["history"][0]["status"] == "deployed")
                .map(str::to_string)
        });
        let source_ref = match tool {
            Tool::FluxHelmRelease => {
                SourceRef::of(&spec["chart"]["spec"]["sourceRef"], &meta.namespace)
            }
            _ => SourceRef::of(&spec["sourceRef"], &meta.namespace),
        };
        GitOpsObj {
            observed: observed(&meta, status),
            meta,
            tool,
            destination_namespace: text(&spec["targetNamespace"]),
            source,
            repo: None,
            source_ref,
            wanted: None,
            git_revision: text(&status["lastAttemptedRevision"]),
            applied_revision: applied,
            sync: None,
            health: None,
            health_message: None,
            operation: None,
            conditions,
            ready_since,
            suspended: spec["suspend"].as_bool().unwrap_or(false),
            resources: inventory(status),
        }
    }

    pub fn condition(&self, kind: &str) -> Option<&Cond> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// The state in a word, for the views.
    pub fn state(&self) -> String {
        if self.suspended {
            return "Suspended".into();
        }
        match self.tool {
            Tool::ArgoApplication => self.sync.clone().unwrap_or_else(|| "Unknown".into()),
            _ => match self.condition("Ready").map(|c| c.status.as_str()) {
                Some("True") => "Ready".into(),
                Some("False") => "Not ready".into(),
                _ => "Reconciling".into(),
            },
        }
    }

    /// The namespaces it is about: its own and its destination's.
    pub fn in_namespace(&self, ns: &str) -> bool {
        self.meta.namespace == ns || self.destination_namespace.as_deref() == Some(ns)
    }
}

/// A revision as people read it: a 40-character commit as its first 7, `main@sha1:abc…` as
/// `main@abc1234`, anything else as written.
pub fn short(rev: &str) -> String {
    let (prefix, hash) = match rev.rsplit_once(':') {
        Some((p, h)) => (p.strip_suffix("@sha1").or(p.strip_suffix("@sha256")), h),
        None => (None, rev),
    };
    let hex = hash.len() >= 12 && hash.chars().all(|c| c.is_ascii_hexdigit());
    let hash = if hex { &hash[..7] } else { hash };
    match prefix {
        Some(p) => format!("{p}@{hash}"),
        None if hex => hash.to_string(),
        None => rev.to_string(),
    }
}

/// `HH:MM` (UTC) of an RFC 3339 time, else the text.
pub(super) fn clock(t: &str) -> String {
    t.get(11..16)
        .map(str::to_string)
        .unwrap_or_else(|| t.into())
}

pub(super) fn reason(code: &str, health: Health, message: String, next_step: String) -> Reason {
    Reason {
        code: code.into(),
        message,
        next_step,
        health,
    }
}

/// What the GitOps object's health says of a managed workload, in our words, when we see it:
/// `Deployment web has 0/3 available`.
pub type WorkloadWords<'a> = &'a dyn Fn(&Managed) -> Option<String>;

/// An object's health and why. `workload` describes a managed workload this cluster holds.
pub fn health(o: &GitOpsObj, workload: WorkloadWords<'_>) -> (Health, Vec<Reason>) {
    let mut reasons = match o.tool {
        Tool::ArgoApplication => argo(o, workload),
        Tool::FluxKustomization | Tool::FluxHelmRelease => flux(o),
    };
    reasons.sort_by_key(|r| std::cmp::Reverse(r.health));
    (Health::worst(reasons.iter().map(|r| r.health)), reasons)
}

fn argo(o: &GitOpsObj, workload: WorkloadWords<'_>) -> Vec<Reason> {
    let name = &o.meta.name;
    let ns = &o.meta.namespace;
    let mut reasons = Vec::new();
    let running = o.operation.as_ref().is_some_and(|(p, _, _)| p == "Running");
    if let Some((phase, message, at)) = &o.operation {
        if phase == "Failed" || phase == "Error" {
            reasons.push(reason(
                "SyncFailed",
                Health::Degraded,
                format!(
                    "The last sync of Application {name} failed{}{}",
                    at.as_deref()
                        .map(|t| format!(" at {}", clock(t)))
                        .unwrap_or_default(),
                    message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
                format!("Fix what the message names in Git, then sync again: argocd app sync {ns}/{name}"),
            ));
        }
    }
    for c in &o.conditions {
        if c.kind.ends_with("Error") {
            reasons.push(reason(
                &c.kind,
                Health::Degraded,
                format!(
                    "Application {name}: {}{}",
                    c.kind,
                    c.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
                "ArgoCD cannot compare or apply it: check the repository URL, path and revision, and that the manifests render (argocd app manifests).".into(),
            ));
        }
    }
    match o.sync.as_deref() {
        Some("OutOfSync") => {
            let git = o.git_revision.as_deref().map(short);
            let cluster = o.applied_revision.as_deref().map(short);
            let since = o
                .operation
                .as_ref()
                .and_then(|(_, _, at)| at.as_deref())
                .map(|t| format!(" since {}", clock(t)))
                .unwrap_or_default();
            let detail = match (git, cluster) {
                (Some(g), Some(c)) if g != c => format!(": Git at {g}, cluster at {c}{since}"),
                (Some(g), _) => format!(": the cluster differs from Git at {g}"),
                _ => String::new(),
            };
            reasons.push(reason(
                "OutOfSync",
                if running {
                    Health::Progressing
                } else {
                    Health::Degraded
                },
                format!("Application {name} is out of sync{detail}"),
                if running {
                    "A sync is under way: wait for it.".into()
                } else {
                    format!("See what differs (argocd app diff {ns}/{name}), then sync (argocd app sync {ns}/{name}) or enable automated sync.")
                },
            ));
        }
        Some("Unknown") => reasons.push(reason(
            "SyncUnknown",
            Health::Unknown,
            format!("ArgoCD cannot tell whether Application {name} is in sync"),
            "Look at its conditions: usually the repository cannot be read.".into(),
        )),
        _ => {}
    }
    match o.health.as_deref() {
        Some("Degraded") | Some("Missing") => {
            let missing = o.health.as_deref() == Some("Missing");
            let bad: Vec<String> = o
                .resources
                .iter()
                .filter(|r| matches!(r.health.as_deref(), Some("Degraded" | "Missing")))
                .map(|r| {
                    workload(r).unwrap_or_else(|| {
                        format!(
                            "{} {} is {}{}",
                            r.kind,
                            r.name,
                            r.health.as_deref().unwrap_or_default().to_lowercase(),
                            r.message
                                .as_deref()
                                .map(|m| format!(" ({m})"))
                                .unwrap_or_default()
                        )
                    })
                })
                .collect();
            let what = if bad.is_empty() {
                o.health_message
                    .clone()
                    .unwrap_or_else(|| format!("Application {name} is degraded"))
            } else {
                bad.join("; ")
            };
            reasons.push(reason(
                if missing { "Missing" } else { "Degraded" },
                Health::Degraded,
                format!("{}: {what}", if missing { "Missing" } else { "Degraded" }),
                if missing {
                    format!("Resources in Git do not exist in the cluster: sync it (argocd app sync {ns}/{name}).")
                } else {
                    "Look at the workload's reasons on this tab; ArgoCD reports what Kubernetes says.".into()
                },
            ));
        }
        Some("Progressing") => reasons.push(reason(
            "Progressing",
            Health::Progressing,
            format!(
                "Application {name} is progressing{}",
                o.health_message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            "A rollout is under way: wait for it.".into(),
        )),
        Some("Unknown") => reasons.push(reason(
            "HealthUnknown",
            Health::Unknown,
            format!("ArgoCD does not know the health of Application {name}"),
            "Wait for its next refresh (argocd app get --refresh).".into(),
        )),
        _ => {}
    }
    if o.sync.is_none() && o.health.is_none() {
        reasons.push(reason(
            "NoStatus",
            Health::Unknown,
            format!("Application {name} has no status yet"),
            "The ArgoCD application controller has not looked at it: check that it runs and watches this namespace.".into(),
        ));
    }
    reasons
}

fn flux(o: &GitOpsObj) -> Vec<Reason> {
    let name = &o.meta.name;
    let ns = o.meta.namespace.as_str();
    let kind = o.tool.kind();
    let cli = kind.to_ascii_lowercase();
    if o.suspended {
        return vec![reason(
            "Suspended",
            Health::Unknown,
            format!("{kind} {name} is suspended: changes in Git are not applied"),
            format!("Resume it when ready: flux resume {cli} {name} -n {ns}"),
        )];
    }
    let ready = o.condition("Ready");
    match ready.map(|c| c.status.as_str()) {
        Some("True") if o.observed => Vec::new(),
        Some("False") => {
            let c = ready.cloned().unwrap_or_default();
            let why = c.reason.clone().unwrap_or_else(|| "NotReady".into());
            let stalled = o.condition("Stalled").is_some_and(|s| s.status == "True");
            let revisions = match (
                o.git_revision.as_deref().map(short),
                o.applied_revision.as_deref().map(short),
            ) {
                (Some(g), Some(a)) if g != a && o.tool == Tool::FluxHelmRelease => {
                    format!(" (chart {g} attempted, {a} released)")
                }
                (Some(g), Some(a)) if g != a => format!(" (Git at {g}, cluster at {a})"),
                _ => String::new(),
            };
            let next = match why.as_str() {
                "BuildFailed" => format!("The manifests do not build at that revision: run flux build {cli} {name} -n {ns} --path … and fix them in Git."),
                "HealthCheckFailed" => "What it applied is not healthy: look at the workloads' reasons on this tab.".into(),
                "ArtifactFailed" | "DependencyNotReady" | "SourceNotReady" => format!("Its source or a dependency is not ready: flux get sources all -n {ns}"),
                "InstallFailed" | "UpgradeFailed" | "RollbackFailed" | "TestFailed" => format!("Helm could not release it: helm history {name} -n {}; flux logs --kind=HelmRelease --name={name}", o.destination_namespace.as_deref().unwrap_or(ns)),
                _ => format!("kubectl -n {ns} describe {cli} {name}; retry with flux reconcile {cli} {name} -n {ns} --with-source"),
            };
            vec![reason(
                &why,
                Health::Degraded,
                format!(
                    "{kind} {name} not Ready: {why}{}{revisions}{}",
                    c.message.map(|m| format!(": {m}")).unwrap_or_default(),
                    if stalled {
                        " (stalled: no retry until it changes)"
                    } else {
                        ""
                    }
                ),
                next,
            )]
        }
        _ => vec![reason(
            "Reconciling",
            Health::Progressing,
            format!(
                "{kind} {name} is being reconciled{}",
                o.condition("Reconciling")
                    .and_then(|c| c.message.clone())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            format!("Wait for it; if it lasts: flux get {cli} {name} -n {ns}"),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> DynamicObject {
        serde_json::from_value(v).expect("object")
    }

    fn none(_: &Managed) -> Option<String> {
        None
    }

    fn argo_app(status: Value) -> GitOpsObj {
        GitOpsObj::argo(obj(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd", "uid": "u1"},
            "spec": {"source": {"repoURL": "https://git.example.com/shop/web.git", "path": "deploy", "targetRevision": "main"},
                     "destination": {"namespace": "team-a", "server": "https://kubernetes.default.svc"}},
            "status": status
        })))
    }

    #[test]
    fn argo_out_of_sync_names_both_revisions_and_when() {
        let o = argo_app(json!({
            "sync": {"status": "OutOfSync", "revision": "abc1234567890abcdef1234567890abcdef12345"},
            "health": {"status": "Healthy"},
            "operationState": {"phase": "Succeeded", "startedAt": "2026-12-07T14:01:00Z", "finishedAt": "2026-12-07T14:02:00Z",
                "syncResult": {"revision": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"}}
        }));
        assert_eq!(
            o.source.as_deref(),
            Some("https://git.example.com/shop/web.git (deploy)")
        );
        assert!(o.in_namespace("team-a") && o.in_namespace("argocd"));
        let (h, r) = health(&o, &none);
        assert_eq!(h, Health::Degraded);
        assert_eq!(r[0].code, "OutOfSync");
        assert_eq!(
            r[0].message,
            "Application web is out of sync: Git at abc1234, cluster at 9f8e7d6 since 14:02"
        );
        assert!(r[0].next_step.contains("argocd app sync argocd/web"));
    }

    #[test]
    fn argo_synced_and_healthy_is_healthy_and_a_running_sync_progresses() {
        let o = argo_app(
            json!({"sync": {"status": "Synced", "revision": "abc"}, "health": {"status": "Healthy"}}),
        );
        assert_eq!(health(&o, &none), (Health::Healthy, vec![]));
        let o = argo_app(
            json!({"sync": {"status": "OutOfSync", "revision": "b"}, "health": {"status": "Healthy"},
            "operationState": {"phase": "Running", "startedAt": "2026-12-07T14:02:00Z"}}),
        );
        assert_eq!(health(&o, &none).0, Health::Progressing);
    }

    #[test]
    fn argo_degraded_names_the_workload_in_our_words() {
        let o = argo_app(json!({
            "sync": {"status": "Synced", "revision": "abc"},
            "health": {"status": "Degraded", "message": "one resource is degraded"},
            "resources": [
                {"kind": "Deployment", "namespace": "team-a", "name": "web", "version": "v1", "group": "apps",
                 "health": {"status": "Degraded", "message": "Deployment \"web\" exceeded its progress deadline"}},
                {"kind": "Service", "namespace": "team-a", "name": "web", "version": "v1", "health": {"status": "Healthy"}}
            ]
        }));
        assert_eq!(o.resources.len(), 2);
        let words = |m: &Managed| {
            (m.kind.as_ref() == "Deployment")
                .then(|| format!("Deployment {} has 0/3 available", m.name))
        };
        let (h, r) = health(&o, &words);
        assert_eq!(h, Health::Degraded);
        assert_eq!(r[0].message, "Degraded: Deployment web has 0/3 available");
        // Without our own view of it, ArgoCD's message.
        let (_, r) = health(&o, &none);
        assert!(
            r[0].message.contains("exceeded its progress deadline"),
            "{}",
            r[0].message
        );
    }

    #[test]
    fn argo_failed_sync_and_comparison_errors_are_said() {
        let o = argo_app(json!({
            "sync": {"status": "Unknown"},
            "health": {"status": "Healthy"},
            "conditions": [{"type": "ComparisonError", "message": "repository not accessible"}],
            "operationState": {"phase": "Failed", "message": "one or more objects failed to apply", "startedAt": "2026-12-07T09:00:00Z", "finishedAt": "2026-12-07T09:01:00Z"}
        }));
        let (h, r) = health(&o, &none);
        assert_eq!(h, Health::Degraded);
        let codes: Vec<&str> = r.iter().map(|r| r.code.as_str()).collect();
        assert!(
            codes.contains(&"SyncFailed")
                && codes.contains(&"ComparisonError")
                && codes.contains(&"SyncUnknown"),
            "{codes:?}"
        );
        assert!(r.iter().any(|r| r
            .message
            .contains("failed at 09:01: one or more objects failed to apply")));
    }

    fn kustomization(spec: Value, status: Value) -> GitOpsObj {
        GitOpsObj::flux_kustomization(obj(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "web", "namespace": "flux-system", "uid": "k1", "generation": 2},
            "spec": spec, "status": status
        })))
    }

    #[test]
    fn flux_not_ready_gives_reason_message_revisions_and_next_step() {
        let o = kustomization(
            json!({"sourceRef": {"kind": "GitRepository", "name": "shop"}, "path": "./web", "interval": "1m", "prune": true}),
            json!({"observedGeneration": 2,
                "lastAttemptedRevision": "main@sha1:1111111111111111111111111111111111111111",
                "lastAppliedRevision": "main@sha1:2222222222222222222222222222222222222222",
                "conditions": [{"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomization.yaml: accumulating resources", "lastTransitionTime": "2026-12-07T14:02:00Z"}],
                "inventory": {"entries": [{"id": "team-a_web_apps_Deployment", "v": "v1"}, {"id": "team-a_web__Service", "v": "v1"}]}}),
        );
        assert_eq!(o.source.as_deref(), Some("GitRepository/shop (./web)"));
        let r = o.source_ref.as_ref().expect("source ref");
        assert_eq!(
            (&*r.kind, &*r.namespace, &*r.name),
            ("GitRepository", "flux-system", "shop")
        );
        assert_eq!(o.resources[0].kind.as_ref(), "Deployment");
        assert_eq!(o.resources[1].kind.as_ref(), "Service");
        assert_eq!(o.state(), "Not ready");
        let (h, r) = health(&o, &none);
        assert_eq!(h, Health::Degraded);
        assert_eq!(
            r[0].message,
            "Kustomization web not Ready: BuildFailed: kustomization.yaml: accumulating resources (Git at main@1111111, cluster at main@2222222)"
        );
        assert!(r[0].next_step.contains("flux build kustomization web"));
    }

    #[test]
    fn flux_ready_suspended_and_not_yet_observed() {
        let ready = json!({"observedGeneration": 2, "lastAppliedRevision": "main@sha1:2222222222222222222222222222222222222222",
            "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": "Applied"}]});
        let o = kustomization(
            json!({"sourceRef": {"kind": "GitRepository", "name": "shop"}}),
            ready.clone(),
        );
        assert_eq!(health(&o, &none), (Health::Healthy, vec![]));
        let o = kustomization(json!({"suspend": true}), ready);
        let (h, r) = health(&o, &none);
        assert_eq!((h, r[0].code.as_str()), (Health::Unknown, "Suspended"));
        assert!(r[0]
            .next_step
            .contains("flux resume kustomization web -n flux-system"));
        let o = kustomization(json!({}), json!({}));
        assert_eq!(health(&o, &none).0, Health::Progressing);
    }

    #[test]
    fn helm_release_reads_its_chart_and_release() {
        let o = GitOpsObj::flux_helm_release(obj(json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "redis", "namespace": "team-a", "uid": "h1", "generation": 1},
            "spec": {"chart": {"spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}}}},
            "status": {"observedGeneration": 1, "lastAttemptedRevision": "19.0.1",
                "history": [{"chartVersion": "19.0.0", "status": "deployed", "name": "redis", "namespace": "team-a", "version": 3, "chartName": "redis", "digest": "d", "firstDeployed": "2026-12-07T10:00:00Z", "lastDeployed": "2026-12-07T10:00:00Z", "configDigest": "c"}],
                "conditions": [{"type": "Ready", "status": "False", "reason": "UpgradeFailed", "message": "context deadline exceeded"}]}
        })));
        assert_eq!(
            o.source.as_deref(),
            Some("chart redis from HelmRepository/bitnami")
        );
        assert_eq!(o.applied_revision.as_deref(), Some("19.0.0"));
        let r = o.source_ref.as_ref().expect("source ref");
        assert_eq!(
            (&*r.kind, &*r.namespace, &*r.name),
            ("HelmRepository", "team-a", "bitnami")
        );
        let (_, r) = health(&o, &none);
        assert_eq!(r[0].message, "HelmRelease redis not Ready: UpgradeFailed: context deadline exceeded (chart 19.0.1 attempted, 19.0.0 released)");
        assert!(r[0].next_step.contains("helm history redis"));
    }

    #[test]
    fn revisions_are_shortened_as_people_read_them() {
        assert_eq!(short("abc1234567890abcdef1234567890abcdef12345"), "abc1234");
        assert_eq!(
            short("main@sha1:abc1234567890abcdef1234567890abcdef12345"),
            "main@abc1234"
        );
        assert_eq!(short("v1.2.3"), "v1.2.3");
        assert_eq!(short("19.0.0"), "19.0.0");
    }
}
