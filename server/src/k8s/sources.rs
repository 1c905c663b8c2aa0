//! Flux sources: `GitRepository`s and `HelmRepository`s (source.toolkit.fluxcd.io, in the version
//! the group prefers: v1, or v1beta2 on older Flux), kept as compact copies ([`FluxSource`]: the
//! Ready condition, the artifact's revision, the URL, suspended, the credentials secret's name);
//! their health in words with the next step ([`health`], pure); and a Kustomization's or
//! HelmRelease's health read together with its source's ([`with_source`]): a source that cannot
//! fetch is the usual reason a Kustomization is stuck at an old revision.
//!
//! Field names follow source-controller's CRDs (server/src/k8s/testdata/crds/):
//! `spec.url`, `spec.suspend`, `spec.secretRef.name`, `spec.type` (`oci` HelmRepositories are
//! static: no status), `status.artifact.revision`, `status.conditions`, `status.observedGeneration`.

use super::gitops::{self, conditions, reason, short, text, GitOpsObj, WorkloadWords};
use super::model::Cond;
use app::kube::{Health, Reason};
use kube::api::DynamicObject;

/// Which kind of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    GitRepository,
    HelmRepository,
}

impl SourceKind {
    /// The kind as Kubernetes and a `sourceRef` name it.
    pub fn kind(self) -> &'static str {
        match self {
            SourceKind::GitRepository => "GitRepository",
            SourceKind::HelmRepository => "HelmRepository",
        }
    }

    /// Its word in `flux reconcile source <word>`.
    fn cli(self) -> &'static str {
        match self {
            SourceKind::GitRepository => "git",
            SourceKind::HelmRepository => "helm",
        }
    }

    /// The watcher's name.
    pub fn what(self) -> &'static str {
        match self {
            SourceKind::GitRepository => "Flux GitRepositories",
            SourceKind::HelmRepository => "Flux HelmRepositories",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            SourceKind::GitRepository => "gitrepositories",
            SourceKind::HelmRepository => "helmrepositories",
        }
    }
}

/// One source, compact: what a Delivery row says of it, nothing of its spec but the URL and the
/// secret's name (never its content).
#[derive(Debug, Clone, PartialEq)]
pub struct FluxSource {
    pub kind: SourceKind,
    pub namespace: Box<str>,
    pub name: Box<str>,
    pub url: Option<Box<str>>,
    /// `status.artifact.revision`: `main@sha1:<commit>` (Git), the index digest (Helm).
    pub revision: Option<Box<str>>,
    pub ready: Option<Cond>,
    pub suspended: bool,
    /// `observedGeneration >= generation`.
    pub observed: bool,
    /// `spec.secretRef.name`: the deploy key or credentials.
    pub secret: Option<Box<str>>,
    /// An OCI HelmRepository: static, source-controller writes no status for it.
    pub oci: bool,
}

impl FluxSource {
    pub fn git_repository(o: DynamicObject) -> FluxSource {
        Self::of(o, SourceKind::GitRepository)
    }

    pub fn helm_repository(o: DynamicObject) -> FluxSource {
        Self::of(o, SourceKind::HelmRepository)
    }

    fn of(o: DynamicObject, kind: SourceKind) -> FluxSource {
        let (spec, status) = (&o.data["spec"], &o.data["status"]);
        let observed = match (o.metadata.generation, status["observedGeneration"].as_i64()) {
            (Some(g), Some(s)) => s >= g,
            (None, Some(_)) => true,
            _ => false,
        };
        let boxed = |v: &serde_json::Value| text(v).map(String::into_boxed_str);
        FluxSource {
            kind,
            namespace: o.metadata.namespace.clone().unwrap_or_default().into(),
            name: o.metadata.name.clone().unwrap_or_default().into(),
            url: boxed(&spec["url"]),
            revision: boxed(&status["artifact"]["revision"]),
            ready: conditions(status, &["Ready"]).into_iter().next(),
            suspended: spec["suspend"].as_bool().unwrap_or(false),
            observed,
            secret: boxed(&spec["secretRef"]["name"]),
            oci: kind == SourceKind::HelmRepository && spec["type"] == "oci",
        }
    }

    /// `GitRepository flux-system/app`.
    pub fn title(&self) -> String {
        format!("{} {}/{}", self.kind.kind(), self.namespace, self.name)
    }

    /// Its state in a few words for a Delivery row: `Ready at main@abc1234`, `Not ready`,
    /// `Suspended`, `Fetching`.
    pub fn state(&self) -> String {
        if self.suspended {
            return "Suspended".into();
        }
        match self.ready.as_ref().map(|c| c.status.as_str()) {
            Some("True") => match self.revision.as_deref() {
                Some(r) => format!("Ready at {}", short(r)),
                None => "Ready".into(),
            },
            Some("False") => "Not ready".into(),
            None if self.oci => "Ready (OCI: fetched when used)".into(),
            _ => "Fetching".into(),
        }
    }
}

/// What to look at for a fetch that failed, from the controller's reason and message.
fn hint(s: &FluxSource, why: &str, message: &str) -> (Option<String>, String) {
    let m = message.to_ascii_lowercase();
    let ns = &s.namespace;
    let retry = format!("flux reconcile source {} {} -n {ns}", s.kind.cli(), s.name);
    let any = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if why == "AuthenticationFailed"
        || any(&[
            "authentication required",
            "unable to authenticate",
            "authorization failed",
            "permission denied",
            "401 unauthorized",
            "403 forbidden",
            "invalid credentials",
        ])
    {
        let what = match s.kind {
            SourceKind::GitRepository => "the deploy key secret",
            SourceKind::HelmRepository => "the credentials secret",
        };
        return match &s.secret {
            Some(secret) => (
                Some(format!("check {what} {secret}")),
                format!("Check that secret {ns}/{secret} holds a key or token the host accepts (kubectl -n {ns} get secret {secret}), then {retry}"),
            ),
            None => (
                Some("no secretRef is set: a private repository needs one".into()),
                format!("Create one (flux create secret git …) and set spec.secretRef, then {retry}"),
            ),
        };
    }
    if any(&[
        "couldn't find remote ref",
        "reference not found",
        "unable to resolve",
        "not found in remote",
    ]) {
        return (
            Some("check spec.ref: the branch, tag or commit does not exist".into()),
            format!(
                "Fix spec.ref in {} (kubectl -n {ns} edit {} {}), then {retry}",
                s.title(),
                s.kind.kind().to_ascii_lowercase(),
                s.name
            ),
        );
    }
    if any(&[
        "no such host",
        "i/o timeout",
        "connection refused",
        "context deadline exceeded",
        "network is unreachable",
    ]) {
        return (
            Some("the host cannot be reached from the cluster".into()),
            format!(
                "Check the URL and the cluster's network path to it (DNS, egress, proxy), then {retry}"
            ),
        );
    }
    let cli = s.kind.kind().to_ascii_lowercase();
    (
        None,
        format!(
            "kubectl -n {ns} describe {cli} {}; retry with {retry}",
            s.name
        ),
    )
}

/// A source's health and why (no reason when it is Ready).
pub fn health(s: &FluxSource) -> (Health, Option<Reason>) {
    let title = s.title();
    let cli = s.kind.cli();
    let (ns, name) = (&s.namespace, &s.name);
    if s.suspended {
        return (
            Health::Unknown,
            Some(reason(
                "Suspended",
                Health::Unknown,
                format!("{title} is suspended: new revisions are not fetched"),
                format!("Resume it when ready: flux resume source {cli} {name} -n {ns}"),
            )),
        );
    }
    match s.ready.as_ref().map(|c| c.status.as_str()) {
        Some("True") if s.observed => (Health::Healthy, None),
        None if s.oci => (Health::Healthy, None),
        Some("False") => {
            let c = s.ready.clone().unwrap_or_default();
            let why = c.reason.unwrap_or_else(|| "NotReady".into());
            let message = c.message.unwrap_or_else(|| why.clone());
            let (hint, next) = hint(s, &why, &message);
            (
                Health::Degraded,
                Some(reason(
                    &why,
                    Health::Degraded,
                    format!(
                        "{title} not Ready: {message}{}",
                        hint.map(|h| format!(" ({h})")).unwrap_or_default()
                    ),
                    next,
                )),
            )
        }
        _ => (
            Health::Progressing,
            Some(reason(
                "Fetching",
                Health::Progressing,
                format!("{title} is being fetched"),
                format!("Wait for it; if it lasts: flux get sources {cli} {name} -n {ns}"),
            )),
        ),
    }
}

/// A GitOps object's health (as [`gitops::health`] says it) and, for a Flux object, its
/// source's: a source that is not Ready makes the object degraded, said first, since nothing new
/// reaches the cluster until it fetches again.
pub fn with_source(
    o: &GitOpsObj,
    source: Option<&FluxSource>,
    workload: WorkloadWords<'_>,
) -> (Health, Vec<Reason>) {
    let (own, mut reasons) = gitops::health(o, workload);
    let Some((h, Some(r))) = source.filter(|_| !o.suspended).map(health) else {
        return (own, reasons);
    };
    reasons.insert(0, r);
    reasons.sort_by_key(|r| std::cmp::Reverse(r.health));
    (own.max(h), reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn source(kind: &str, spec: Value, status: Value) -> FluxSource {
        let o: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": kind,
            "metadata": {"name": "app", "namespace": "flux-system", "uid": "s1", "generation": 3},
            "spec": spec, "status": status
        }))
        .expect("object");
        if kind == "GitRepository" {
            FluxSource::git_repository(o)
        } else {
            FluxSource::helm_repository(o)
        }
    }

    fn ready(status: &str, reason: &str, message: &str) -> Value {
        json!({"observedGeneration": 3,
            "artifact": {"revision": "main@sha1:abc1234567890abcdef1234567890abcdef12345", "digest": "sha256:0",
                "lastUpdateTime": "2026-12-07T14:00:00Z", "path": "p", "url": "http://x"},
            "conditions": [{"type": "Ready", "status": status, "reason": reason, "message": message,
                "lastTransitionTime": "2026-12-07T14:02:00Z", "observedGeneration": 3}]})
    }

    const GIT: &str = "ssh://git@github.com/acme/app";

    #[test]
    fn a_ready_source_is_healthy_and_says_its_revision() {
        let s = source(
            "GitRepository",
            json!({"url": GIT, "interval": "1m", "ref": {"branch": "main"}}),
            ready(
                "True",
                "Succeeded",
                "stored artifact for revision 'main@sha1:abc…'",
            ),
        );
        assert_eq!(s.url.as_deref(), Some(GIT));
        assert_eq!(s.state(), "Ready at main@abc1234");
        assert_eq!(health(&s), (Health::Healthy, None));
        // Ready, but for an older generation: not yet looked at.
        let mut older = ready("True", "Succeeded", "stored");
        older["observedGeneration"] = json!(2);
        let s = source("GitRepository", json!({"url": GIT}), older);
        assert_eq!(health(&s).0, Health::Progressing);
    }

    #[test]
    fn failing_fetches_name_the_likely_cause() {
        let s = source(
            "GitRepository",
            json!({"url": GIT, "secretRef": {"name": "app-deploy-key"}}),
            ready("False", "GitOperationFailed", "failed to checkout and determine revision: unable to clone 'ssh://git@github.com/acme/app': authentication required"),
        );
        let (h, r) = health(&s);
        let r = r.expect("reason");
        assert_eq!(
            (h, r.code.as_str()),
            (Health::Degraded, "GitOperationFailed")
        );
        assert_eq!(
            r.message,
            "GitRepository flux-system/app not Ready: failed to checkout and determine revision: unable to clone 'ssh://git@github.com/acme/app': authentication required (check the deploy key secret app-deploy-key)"
        );
        assert!(r
            .next_step
            .contains("kubectl -n flux-system get secret app-deploy-key"));
        assert!(r
            .next_step
            .contains("flux reconcile source git app -n flux-system"));
        assert_eq!(s.state(), "Not ready");

        let s = source(
            "GitRepository",
            json!({"url": GIT}),
            ready(
                "False",
                "GitOperationFailed",
                "unable to clone: couldn't find remote ref \"refs/heads/mian\"",
            ),
        );
        let r = health(&s).1.expect("reason");
        assert!(
            r.message
                .ends_with("(check spec.ref: the branch, tag or commit does not exist)"),
            "{}",
            r.message
        );

        let s = source(
            "HelmRepository",
            json!({"url": "https://charts.example.com"}),
            ready("False", "FailedIndexDownload", "failed to fetch https://charts.example.com/index.yaml : dial tcp: lookup charts.example.com: no such host"),
        );
        let r = health(&s).1.expect("reason");
        assert!(r
            .message
            .starts_with("HelmRepository flux-system/app not Ready: failed to fetch"));
        assert!(r
            .message
            .ends_with("(the host cannot be reached from the cluster)"));
        assert!(r.next_step.contains("flux reconcile source helm app"));

        // Unknown causes: the message as written, and how to look closer.
        let s = source(
            "GitRepository",
            json!({}),
            ready("False", "StorageOperationFailed", "disk full"),
        );
        let r = health(&s).1.expect("reason");
        assert_eq!(
            r.message,
            "GitRepository flux-system/app not Ready: disk full"
        );
        assert!(r
            .next_step
            .starts_with("kubectl -n flux-system describe gitrepository app"));
    }

    #[test]
    fn suspended_fetching_and_static_oci_sources() {
        let s = source(
            "GitRepository",
            json!({"suspend": true}),
            ready("True", "Succeeded", "ok"),
        );
        let (h, r) = health(&s);
        assert_eq!((h, s.state().as_str()), (Health::Unknown, "Suspended"));
        assert!(r
            .expect("reason")
            .next_step
            .contains("flux resume source git app -n flux-system"));
        let s = source("GitRepository", json!({"url": GIT}), json!({}));
        assert_eq!(
            (health(&s).0, s.state().as_str()),
            (Health::Progressing, "Fetching")
        );
        let s = source(
            "HelmRepository",
            json!({"type": "oci", "url": "oci://ghcr.io/acme"}),
            json!({}),
        );
        assert_eq!(health(&s), (Health::Healthy, None));
    }

    #[test]
    fn a_failing_source_is_the_first_reason_of_its_kustomization() {
        let k: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "web", "namespace": "flux-system", "uid": "k1", "generation": 1},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "app"}},
            "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": "Applied"}]}
        }))
        .expect("object");
        let k = GitOpsObj::flux_kustomization(k);
        let none = |_: &gitops::Managed| None;
        let failing = source(
            "GitRepository",
            json!({"url": GIT, "secretRef": {"name": "key"}}),
            ready("False", "GitOperationFailed", "authentication required"),
        );
        let (h, r) = with_source(&k, Some(&failing), &none);
        assert_eq!(h, Health::Degraded);
        assert_eq!(
            r[0].message,
            "GitRepository flux-system/app not Ready: authentication required (check the deploy key secret key)"
        );
        let fine = source(
            "GitRepository",
            json!({"url": GIT}),
            ready("True", "Succeeded", "ok"),
        );
        assert_eq!(
            with_source(&k, Some(&fine), &none),
            (Health::Healthy, vec![])
        );
        assert_eq!(with_source(&k, None, &none), (Health::Healthy, vec![]));
    }
}
