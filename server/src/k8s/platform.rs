//! Platform resources: Crossplane claims and composite resources (XRs), KubeVela/OAM
//! `Application`s (core.oam.dev), `ExternalSecret`s (external-secrets.io) and `SealedSecret`s
//! (bitnami.com), read as dynamic objects and kept as compact copies ([`PlatformObj`]: what the
//! "Resources" views and the health rules read); and their health with reasons in words and the
//! next step ([`health`], pure).
//!
//! Field names follow the projects' CRDs (testdata/crds/) and the CRDs Crossplane generates from
//! an XRD (crossplane-runtime's `pkg/xcrd`): claims carry `spec.compositionRef`,
//! `spec.resourceRef` (their XR), `spec.writeConnectionSecretToRef` and
//! `status.connectionDetails.lastPublishedTime`; legacy XRs `spec.resourceRefs` (what they
//! compose) and `spec.claimRef`; Crossplane v2's XRs the same refs under `spec.crossplane`. Both
//! carry the `Synced` and `Ready` conditions. KubeVela: `status.status` (the phase),
//! `status.services[]` (per component: `healthy`, `message`, traits), `status.workflow.message`.
//! External Secrets: the `Ready` condition (reason `SecretSynced` or `SecretSyncedError`),
//! `spec.secretStoreRef`, `spec.target.name`, `status.refreshTime`. Sealed Secrets: the `Synced`
//! condition.
//!
//! Secrets are never read: whether a connection secret is there is what its controller says
//! (Crossplane's last publication, the sync conditions), so Backlot needs no access to Secrets.

use super::gitops::{clock, conditions, reason, since, text};
use super::model::{Cond, Meta};
use app::kube::{Health, Reason};
use kube::api::DynamicObject;
use serde_json::Value;

/// Which project's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Crossplane claim (a CRD of the category `claim`).
    Claim,
    /// A Crossplane composite resource (a CRD of the category `composite`).
    Composite,
    OamApplication,
    ExternalSecret,
    SealedSecret,
}

/// The kinds found by group and plural (Crossplane's are found by category instead), with the
/// watcher's name.
pub const FIXED: [(Kind, &str, &str, &str); 3] = [
    (
        Kind::OamApplication,
        "core.oam.dev",
        "applications",
        "KubeVela Applications",
    ),
    (
        Kind::ExternalSecret,
        "external-secrets.io",
        "externalsecrets",
        "ExternalSecrets",
    ),
    (
        Kind::SealedSecret,
        "bitnami.com",
        "sealedsecrets",
        "SealedSecrets",
    ),
];

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Claim => "Crossplane claim",
            Kind::Composite => "Crossplane composite resource",
            Kind::OamApplication => "KubeVela Application",
            Kind::ExternalSecret => "ExternalSecret",
            Kind::SealedSecret => "SealedSecret",
        }
    }

    /// The converter its watcher uses.
    pub fn convert(self) -> fn(DynamicObject) -> PlatformObj {
        match self {
            Kind::Claim => PlatformObj::claim,
            Kind::Composite => PlatformObj::composite,
            Kind::OamApplication => PlatformObj::oam,
            Kind::ExternalSecret => PlatformObj::external_secret,
            Kind::SealedSecret => PlatformObj::sealed_secret,
        }
    }
}

/// An object another refers to: a claim's XR, what an XR composes.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    pub kind: Box<str>,
    pub name: Box<str>,
}

/// A KubeVela component's health.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: Box<str>,
    pub healthy: bool,
    /// Its first unhealthy trait's message (`trait gateway: …`), else its own.
    pub message: Option<Box<str>>,
}

/// One platform object, compact.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformObj {
    pub meta: Meta,
    pub kind: Kind,
    /// The object's own kind (`PostgreSQLInstance`, `Application`…).
    pub type_name: Box<str>,
    /// Crossplane: Synced and Ready; ExternalSecret: Ready; SealedSecret: Synced; KubeVela: those
    /// not True.
    pub conditions: Vec<Cond>,
    /// When Ready (SealedSecret: Synced) last changed.
    pub since: Option<String>,
    /// Crossplane: the composition; ExternalSecret: its store, `Kind/name`.
    pub source: Option<String>,
    /// A claim's XR; what an XR composes; KubeVela's applied resources are not kept.
    pub refs: Vec<Ref>,
    /// A legacy XR bound to a claim: shown through its claim.
    pub claimed: bool,
    /// The Secret it writes: Crossplane's connection secret, ExternalSecret's target, the
    /// SealedSecret's own name.
    pub secret: Option<String>,
    /// When its controller last wrote that Secret, if it says (Crossplane's
    /// `connectionDetails.lastPublishedTime`, ExternalSecret's `refreshTime`).
    pub secret_written: Option<String>,
    /// KubeVela: `status.status`.
    pub phase: Option<String>,
    /// KubeVela: the workflow's message.
    pub message: Option<String>,
    pub components: Vec<Component>,
}

fn refs(v: &Value) -> Vec<Ref> {
    let one = |r: &Value| {
        Some(Ref {
            kind: r["kind"].as_str()?.into(),
            name: r["name"].as_str()?.into(),
        })
    };
    match v {
        Value::Array(list) => list.iter().filter_map(one).collect(),
        Value::Object(_) => one(v).into_iter().collect(),
        _ => Vec::new(),
    }
}

impl PlatformObj {
    fn base(o: &DynamicObject, kind: Kind, kinds: &[&str], since_of: &str) -> PlatformObj {
        let meta = Meta::of(&o.metadata);
        let status = &o.data["status"];
        PlatformObj {
            meta,
            kind,
            type_name: o
                .types
                .as_ref()
                .map(|t| t.kind.as_str())
                .unwrap_or_default()
                .into(),
            conditions: conditions(status, kinds),
            since: since(status, since_of),
            source: None,
            refs: Vec::new(),
            claimed: false,
            secret: None,
            secret_written: None,
            phase: None,
            message: None,
            components: Vec::new(),
        }
    }

    /// A Crossplane claim.
    pub fn claim(o: DynamicObject) -> PlatformObj {
        let spec = &o.data["spec"];
        let mut p = Self::base(&o, Kind::Claim, &["Synced", "Ready"], "Ready");
        p.source = text(&spec["compositionRef"]["name"]);
        p.refs = refs(&spec["resourceRef"]);
        p.secret = text(&spec["writeConnectionSecretToRef"]["name"]);
        p.secret_written = text(&o.data["status"]["connectionDetails"]["lastPublishedTime"]);
        p
    }

    /// A Crossplane composite resource: legacy (refs under `spec`) or v2 (under
    /// `spec.crossplane`).
    pub fn composite(o: DynamicObject) -> PlatformObj {
        let spec = &o.data["spec"];
        let machinery = if spec["crossplane"].is_object() {
            &spec["crossplane"]
        } else {
            spec
        };
        let mut p = Self::base(&o, Kind::Composite, &["Synced", "Ready"], "Ready");
        p.source = text(&machinery["compositionRef"]["name"]);
        p.refs = refs(&machinery["resourceRefs"]);
        p.claimed = spec["claimRef"]["name"].is_string();
        p.secret = text(&spec["writeConnectionSecretToRef"]["name"]);
        p.secret_written = text(&o.data["status"]["connectionDetails"]["lastPublishedTime"]);
        p
    }

    /// A KubeVela/OAM Application.
    pub fn oam(o: DynamicObject) -> PlatformObj {
        let status = &o.data["status"];
        let mut p = Self::base(&o, Kind::OamApplication, &[], "Ready");
        // Its conditions that are not True (Parsed, Revision, Policy, Render, WorkflowFinished…).
        p.conditions = status["conditions"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter(|c| c["status"] != "True")
                    .map(|c| Cond {
                        kind: text(&c["type"]).unwrap_or_default(),
                        status: text(&c["status"]).unwrap_or_default(),
                        reason: text(&c["reason"]),
                        message: text(&c["message"]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        p.phase = text(&status["status"]);
        p.message = text(&status["workflow"]["message"]);
        p.components = status["services"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|s| {
                        let bad_trait = s["traits"].as_array().and_then(|traits| {
                            traits.iter().find(|t| t["healthy"] == false).map(|t| {
                                format!(
                                    "trait {}: {}",
                                    t["type"].as_str().unwrap_or("?"),
                                    t["message"].as_str().unwrap_or("unhealthy")
                                )
                            })
                        });
                        let healthy =
                            s["healthy"].as_bool().unwrap_or(false) && bad_trait.is_none();
                        Component {
                            name: s["name"].as_str().unwrap_or_default().into(),
                            healthy,
                            message: bad_trait.or_else(|| text(&s["message"])).map(Into::into),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        p
    }

    /// An ExternalSecret.
    pub fn external_secret(o: DynamicObject) -> PlatformObj {
        let spec = &o.data["spec"];
        let mut p = Self::base(&o, Kind::ExternalSecret, &["Ready"], "Ready");
        let store = &spec["secretStoreRef"];
        p.source = text(&store["name"])
            .map(|n| format!("{}/{n}", store["kind"].as_str().unwrap_or("SecretStore")));
        // The target defaults to the ExternalSecret's own name.
        p.secret = text(&spec["target"]["name"]).or_else(|| Some(p.meta.name.clone()));
        p.secret_written = text(&o.data["status"]["refreshTime"]);
        p
    }

    /// A SealedSecret: it unseals into the Secret of its own name.
    pub fn sealed_secret(o: DynamicObject) -> PlatformObj {
        let mut p = Self::base(&o, Kind::SealedSecret, &["Synced"], "Synced");
        p.secret = text(&o.data["spec"]["template"]["metadata"]["name"])
            .or_else(|| Some(p.meta.name.clone()));
        p
    }

    pub fn condition(&self, kind: &str) -> Option<&Cond> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// The state in a word, for the views.
    pub fn state(&self) -> String {
        let word = |c: Option<&Cond>, yes: &str, no: &str| match c.map(|c| c.status.as_str()) {
            Some("True") => yes.to_string(),
            Some("False") => no.to_string(),
            _ => "Pending".to_string(),
        };
        match self.kind {
            Kind::OamApplication => self.phase.clone().unwrap_or_else(|| "Pending".into()),
            Kind::SealedSecret => word(self.condition("Synced"), "Unsealed", "Not unsealed"),
            _ => word(self.condition("Ready"), "Ready", "Not ready"),
        }
    }

    /// Whether the Secret it writes is there, as its controller says (never read: Backlot has
    /// no access to Secrets).
    pub fn secret_state(&self) -> Option<String> {
        self.secret.as_ref()?;
        Some(match self.kind {
            Kind::Claim | Kind::Composite => match &self.secret_written {
                Some(t) => format!("published by Crossplane at {t}"),
                None => "unknown: Crossplane has not published it yet".into(),
            },
            Kind::ExternalSecret => match self.condition("Ready").map(|c| c.status.as_str()) {
                Some("True") => match &self.secret_written {
                    Some(t) => format!("written, last refreshed at {t}"),
                    None => "written".into(),
                },
                Some("False") => {
                    "not synced: the last sync failed (an earlier copy may remain)".into()
                }
                _ => "unknown: not synced yet".into(),
            },
            Kind::SealedSecret => match self.condition("Synced").map(|c| c.status.as_str()) {
                Some("True") => "unsealed".into(),
                Some("False") => "not unsealed".into(),
                _ => "unknown: the controller has not reported".into(),
            },
            Kind::OamApplication => return None,
        })
    }

    /// A claim's composite resource, `Kind/name`.
    pub fn composite_ref(&self) -> Option<&Ref> {
        match self.kind {
            Kind::Claim => self.refs.first(),
            _ => None,
        }
    }
}

fn detail(c: &Cond) -> String {
    let reason = c.reason.clone().unwrap_or_else(|| c.kind.clone());
    match &c.message {
        Some(m) => format!("{reason}: {m}"),
        None => reason,
    }
}

/// An object's health and why. `composite`: a claim's XR, when this cluster holds it (its
/// conditions say which composed resource is not ready).
pub fn health(o: &PlatformObj, composite: Option<&PlatformObj>) -> (Health, Vec<Reason>) {
    let mut reasons = match o.kind {
        Kind::Claim | Kind::Composite => crossplane(o, composite),
        Kind::OamApplication => oam(o),
        Kind::ExternalSecret => external_secret(o),
        Kind::SealedSecret => sealed_secret(o),
    };
    reasons.sort_by_key(|r| std::cmp::Reverse(r.health));
    (Health::worst(reasons.iter().map(|r| r.health)), reasons)
}

fn crossplane(o: &PlatformObj, composite: Option<&PlatformObj>) -> Vec<Reason> {
    let name = &o.meta.name;
    let what = format!("{} {name}", o.kind.label());
    let trace = if o.meta.namespace.is_empty() {
        format!(
            "crossplane beta trace {} {name}",
            o.type_name.to_lowercase()
        )
    } else {
        format!(
            "crossplane beta trace {} {name} -n {}",
            o.type_name.to_lowercase(),
            o.meta.namespace
        )
    };
    let synced = o.condition("Synced").filter(|c| c.status == "False");
    let ready = o.condition("Ready");
    let own = synced.or(ready).map(detail);
    // What its XR says, when the claim's own conditions do not say it already.
    let below = composite
        .and_then(|x| {
            let bad = x
                .condition("Synced")
                .filter(|c| c.status == "False")
                .or(x.condition("Ready").filter(|c| c.status != "True"))?;
            let said = detail(bad);
            (own.as_deref() != Some(said.as_str()))
                .then(|| format!(" (composite {}: {said})", x.meta.name))
        })
        .unwrap_or_default();
    let ready_true = ready.is_some_and(|c| c.status == "True");
    if let Some(s) = synced {
        let code = s.reason.clone().unwrap_or_else(|| "ReconcileError".into());
        return vec![reason(
            &code,
            Health::Degraded,
            format!(
                "{what} {}: {}{below}",
                if ready_true { "not synced" } else { "not Ready" },
                detail(s)
            ),
            format!("Crossplane cannot reconcile it: check the provider credentials (its ProviderConfig) and the composition{}; {trace} shows which resource fails.", o.source.as_deref().map(|c| format!(" {c}")).unwrap_or_default()),
        )];
    }
    match ready {
        Some(c) if c.status == "True" => Vec::new(),
        Some(c) if c.status == "False" && c.reason.as_deref() != Some("Creating") => vec![reason(
            c.reason.as_deref().unwrap_or("NotReady"),
            Health::Degraded,
            format!("{what} not Ready: {}{below}", detail(c)),
            format!("A composed resource is not ready: {trace} shows which, and its provider's events say why."),
        )],
        Some(c) => vec![reason(
            "Creating",
            Health::Progressing,
            format!(
                "{what} is being created{}{below}",
                o.since
                    .as_deref()
                    .map(|t| format!(" since {}", clock(t)))
                    .or_else(|| c.message.as_ref().map(|m| format!(": {m}")))
                    .unwrap_or_default()
            ),
            format!("The provider is creating the external resources: wait; if it lasts, {trace}."),
        )],
        None => vec![reason(
            "NoStatus",
            Health::Progressing,
            format!("{what} has no Ready condition yet{below}"),
            "Crossplane has not reconciled it: check that Crossplane runs and that a composition matches it.".into(),
        )],
    }
}

fn oam(o: &PlatformObj) -> Vec<Reason> {
    let name = &o.meta.name;
    let ns = &o.meta.namespace;
    let bad: Vec<String> = o
        .components
        .iter()
        .filter(|c| !c.healthy)
        .map(|c| match &c.message {
            Some(m) => format!("{}: {m}", c.name),
            None => format!("{} is unhealthy", c.name),
        })
        .collect();
    let mut reasons = Vec::new();
    let phase = o.phase.as_deref();
    if phase == Some("unhealthy") || (phase == Some("running") && !bad.is_empty()) {
        reasons.push(reason(
            "Unhealthy",
            Health::Degraded,
            if bad.is_empty() {
                format!("KubeVela Application {name} is unhealthy")
            } else {
                format!("KubeVela Application {name} has unhealthy components: {}", bad.join("; "))
            },
            format!("vela status {name} -n {ns} shows each component's health; the workloads' reasons on this tab say why."),
        ));
    }
    match phase {
        Some("running" | "unhealthy") => {}
        Some(p @ ("workflowFailed" | "workflowTerminated")) => reasons.push(reason(
            if p == "workflowFailed" { "WorkflowFailed" } else { "WorkflowTerminated" },
            Health::Degraded,
            format!(
                "KubeVela Application {name}: its workflow {}{}",
                if p == "workflowFailed" { "failed" } else { "was terminated" },
                o.message
                    .as_deref()
                    .or_else(|| o.conditions.first().and_then(|c| c.message.as_deref()))
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            format!("vela status {name} -n {ns} --detail names the failed step; fix it, then vela workflow restart {name} -n {ns}"),
        )),
        Some("workflowSuspending") => reasons.push(reason(
            "WorkflowSuspended",
            Health::Unknown,
            format!("KubeVela Application {name}: its workflow is suspended, waiting for approval"),
            format!("Resume it when ready: vela workflow resume {name} -n {ns}"),
        )),
        Some(p) => reasons.push(reason(
            "Progressing",
            Health::Progressing,
            format!("KubeVela Application {name} is {p}"),
            format!("Wait for it; if it lasts: vela status {name} -n {ns}"),
        )),
        None => reasons.push(reason(
            "NoStatus",
            Health::Unknown,
            format!("KubeVela Application {name} has no status yet"),
            "KubeVela's controller has not looked at it: check that vela-core runs.".into(),
        )),
    }
    reasons
}

fn external_secret(o: &PlatformObj) -> Vec<Reason> {
    let name = &o.meta.name;
    let ns = &o.meta.namespace;
    match o.condition("Ready") {
        Some(c) if c.status == "True" => Vec::new(),
        Some(c) if c.status == "False" => vec![reason(
            c.reason.as_deref().unwrap_or("SecretSyncedError"),
            Health::Degraded,
            format!(
                "ExternalSecret {name} failed to sync: {}",
                c.message.clone().or(c.reason.clone()).unwrap_or_else(|| "no message".into())
            ),
            format!(
                "Check its store{} and the key it asks for (kubectl -n {ns} describe externalsecret {name}); retry now: kubectl -n {ns} annotate externalsecret {name} force-sync=$(date +%s) --overwrite",
                o.source.as_deref().map(|s| format!(" {s}")).unwrap_or_default()
            ),
        )],
        _ => vec![reason(
            "NotSynced",
            Health::Progressing,
            format!("ExternalSecret {name} has not synced yet"),
            "Wait for External Secrets' controller; if it lasts, check that it runs and watches this namespace.".into(),
        )],
    }
}

fn sealed_secret(o: &PlatformObj) -> Vec<Reason> {
    let name = &o.meta.name;
    match o.condition("Synced") {
        Some(c) if c.status == "True" => Vec::new(),
        Some(c) if c.status == "False" => vec![reason(
            c.reason.as_deref().unwrap_or("UnsealFailed"),
            Health::Degraded,
            format!(
                "SealedSecret {name} could not be unsealed{}",
                c.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
            "It was sealed for another key, name or namespace: seal it again with this cluster's certificate (kubeseal --fetch-cert) and commit it.".into(),
        )],
        _ => vec![reason(
            "NoStatus",
            Health::Unknown,
            format!("SealedSecret {name} has no status"),
            "The sealed-secrets controller has not reported on it: check that it runs (status is written by v0.19 and later).".into(),
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

    fn cond(kind: &str, status: &str, reason: &str, message: &str) -> Value {
        json!({"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": "2026-12-07T14:02:00Z"})
    }

    fn claim(status: Value) -> PlatformObj {
        PlatformObj::claim(obj(json!({
            "apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance",
            "metadata": {"name": "orders-db", "namespace": "team-a", "uid": "c1", "generation": 1},
            "spec": {"parameters": {"storageGB": 20}, "compositionRef": {"name": "aws-postgres"},
                "resourceRef": {"apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance", "name": "orders-db-x7k2p"},
                "writeConnectionSecretToRef": {"name": "orders-db-conn"}},
            "status": status
        })))
    }

    #[test]
    fn a_failing_claim_says_why_and_what_to_check() {
        let c = claim(json!({"conditions": [
            cond("Synced", "False", "ReconcileError", "cannot compose resources: cannot apply composed resource \"db\": InvalidClientTokenId: The security token included in the request is invalid"),
            cond("Ready", "False", "Creating", "")
        ]}));
        assert_eq!(c.source.as_deref(), Some("aws-postgres"));
        assert_eq!(
            c.composite_ref().map(|r| r.name.as_ref()),
            Some("orders-db-x7k2p")
        );
        assert_eq!(c.state(), "Not ready");
        let (h, r) = health(&c, None);
        assert_eq!(h, Health::Degraded);
        assert_eq!(r[0].code, "ReconcileError");
        assert!(
            r[0].message.starts_with(
                "Crossplane claim orders-db not Ready: ReconcileError: cannot compose resources"
            ),
            "{}",
            r[0].message
        );
        assert!(r[0].next_step.contains("check the provider credentials"));
        assert!(r[0]
            .next_step
            .contains("crossplane beta trace postgresqlinstance orders-db -n team-a"));
        assert_eq!(
            c.secret_state().as_deref(),
            Some("unknown: Crossplane has not published it yet")
        );
    }

    #[test]
    fn a_claim_being_created_names_its_composite_and_a_ready_one_is_healthy() {
        let creating = claim(json!({"conditions": [
            cond("Synced", "True", "ReconcileSuccess", ""),
            cond("Ready", "False", "Creating", "")
        ]}));
        let xr = PlatformObj::composite(obj(json!({
            "apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance",
            "metadata": {"name": "orders-db-x7k2p", "uid": "x1"},
            "spec": {"claimRef": {"apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance", "namespace": "team-a", "name": "orders-db"},
                "resourceRefs": [{"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "Instance", "name": "orders-db-x7k2p-db"}]},
            "status": {"conditions": [cond("Synced", "True", "ReconcileSuccess", ""),
                cond("Ready", "False", "Creating", "Unready resources: db")]}
        })));
        assert!(xr.claimed);
        assert_eq!(xr.refs[0].kind.as_ref(), "Instance");
        let (h, r) = health(&creating, Some(&xr));
        assert_eq!(h, Health::Progressing);
        assert_eq!(
            r[0].message,
            "Crossplane claim orders-db is being created since 14:02 (composite orders-db-x7k2p: Creating: Unready resources: db)"
        );
        let ready = claim(json!({"conditions": [
            cond("Synced", "True", "ReconcileSuccess", ""),
            cond("Ready", "True", "Available", "")
        ], "connectionDetails": {"lastPublishedTime": "2026-12-07T14:05:00Z"}}));
        assert_eq!(health(&ready, None), (Health::Healthy, vec![]));
        assert_eq!(ready.state(), "Ready");
        assert_eq!(
            ready.secret_state().as_deref(),
            Some("published by Crossplane at 2026-12-07T14:05:00Z")
        );
        // Crossplane v2: the refs under spec.crossplane, no claim.
        let v2 = PlatformObj::composite(obj(json!({
            "apiVersion": "platform.example.org/v1", "kind": "App",
            "metadata": {"name": "shop", "namespace": "team-a", "uid": "x2"},
            "spec": {"crossplane": {"compositionRef": {"name": "app-k8s"}, "resourceRefs": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"}]}},
            "status": {"conditions": [cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "False", "Unavailable", "Unready resources: shop")]}
        })));
        assert!(!v2.claimed && v2.secret.is_none());
        assert_eq!(v2.source.as_deref(), Some("app-k8s"));
        let (h, r) = health(&v2, None);
        assert_eq!(h, Health::Degraded);
        assert_eq!(
            r[0].message,
            "Crossplane composite resource shop not Ready: Unavailable: Unready resources: shop"
        );
    }

    fn vela(status: Value) -> PlatformObj {
        PlatformObj::oam(obj(json!({
            "apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
            "metadata": {"name": "shop", "namespace": "team-a", "uid": "v1"},
            "spec": {"components": [{"name": "web", "type": "webservice"}]},
            "status": status
        })))
    }

    #[test]
    fn an_oam_application_names_its_unhealthy_components() {
        let o = vela(json!({"status": "unhealthy", "services": [
            {"name": "web", "healthy": true, "message": "Ready:1/1"},
            {"name": "db", "healthy": false, "message": "Ready:0/1"},
            {"name": "api", "healthy": true, "traits": [{"type": "gateway", "healthy": false, "message": "no ingress class"}]}
        ]}));
        assert_eq!(o.state(), "unhealthy");
        let (h, r) = health(&o, None);
        assert_eq!(h, Health::Degraded);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(
            r[0].message,
            "KubeVela Application shop has unhealthy components: db: Ready:0/1; api: trait gateway: no ingress class"
        );
        assert!(r[0].next_step.contains("vela status shop -n team-a"));
        let ok = vela(json!({"status": "running", "services": [{"name": "web", "healthy": true}]}));
        assert_eq!(health(&ok, None), (Health::Healthy, vec![]));
        let failed = vela(
            json!({"status": "workflowFailed", "workflow": {"message": "step deploy: timeout", "mode": "StepByStep", "finished": true, "suspend": false, "terminated": false}}),
        );
        let (h, r) = health(&failed, None);
        assert_eq!(
            (h, r[0].code.as_str()),
            (Health::Degraded, "WorkflowFailed")
        );
        assert!(r[0]
            .message
            .ends_with("its workflow failed: step deploy: timeout"));
        assert_eq!(
            health(&vela(json!({"status": "rendering"})), None).0,
            Health::Progressing
        );
        assert_eq!(health(&vela(json!({})), None).0, Health::Unknown);
    }

    #[test]
    fn secrets_say_whether_they_synced_without_reading_them() {
        let es = |status: Value| {
            PlatformObj::external_secret(obj(json!({
                "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                "metadata": {"name": "db-creds", "namespace": "team-a", "uid": "e1"},
                "spec": {"secretStoreRef": {"kind": "SecretStore", "name": "aws"}, "refreshInterval": "1h"},
                "status": status
            })))
        };
        let failing = es(
            json!({"conditions": [cond("Ready", "False", "SecretSyncedError", "SecretStore aws not ready")]}),
        );
        assert_eq!(failing.secret.as_deref(), Some("db-creds"));
        let (h, r) = health(&failing, None);
        assert_eq!(h, Health::Degraded);
        assert_eq!(r[0].code, "SecretSyncedError");
        assert_eq!(
            r[0].message,
            "ExternalSecret db-creds failed to sync: SecretStore aws not ready"
        );
        assert!(r[0].next_step.contains("store SecretStore/aws"));
        let ok = es(
            json!({"refreshTime": "2026-12-07T14:00:00Z", "conditions": [cond("Ready", "True", "SecretSynced", "Secret was synced")]}),
        );
        assert_eq!(health(&ok, None), (Health::Healthy, vec![]));
        assert_eq!(
            ok.secret_state().as_deref(),
            Some("written, last refreshed at 2026-12-07T14:00:00Z")
        );

        let sealed = |status: Value| {
            PlatformObj::sealed_secret(obj(json!({
                "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                "metadata": {"name": "api-key", "namespace": "team-a", "uid": "s1"},
                "spec": {"encryptedData": {"key": "AgB..."}},
                "status": status
            })))
        };
        let bad = sealed(
            json!({"conditions": [{"type": "Synced", "status": "False", "message": "no key could decrypt secret (key)"}]}),
        );
        let (h, r) = health(&bad, None);
        assert_eq!(h, Health::Degraded);
        assert_eq!(
            r[0].message,
            "SealedSecret api-key could not be unsealed: no key could decrypt secret (key)"
        );
        assert_eq!(bad.state(), "Not unsealed");
        assert_eq!(health(&sealed(json!({})), None).0, Health::Unknown);
    }
}
