//! GitOps objects against a real kube-apiserver (v1.20) with the projects' real CRDs installed
//! (testdata/crds/): discovery, matching to entities, health reasons as the status changes the
//! way ArgoCD's and Flux's controllers write it, RBAC refusals, and a cluster without the CRDs.

use super::testing::{create_gitops, gitops_status, install_gitops_crds, ApiServer, Objects};
use super::{KubeService, KubeSettings};
use crate::storage::testing::TestDb;
use crate::test_support::Harness;
use app::kube::{DeliveryView, EntityKube, Health};
use axum::http::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn component(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n{annotations}spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

async fn catalog(h: &Harness) {
    let file = h.write(
        "catalog-info.yaml",
        &[
            crate::test_support::group("team-a"),
            // Owns the Application that manages its Deployment.
            component("web", "    backstage.io/kubernetes-id: web\n"),
            // Named by Backstage's ArgoCD annotation only.
            component("billing", "    argocd/app-name: billing\n"),
            // A Flux Kustomization labelled with its id.
            component("cart", "    backstage.io/kubernetes-id: cart\n"),
        ]
        .join("---\n"),
    );
    let (status, body) = h
        .call(
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": file})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn start(h: &Harness, server: &ApiServer, extra: &str) -> Arc<KubeService> {
    let settings: KubeSettings = yaml_serde::from_str(&format!(
        "clusters:\n- kubeconfig: {}\n  name: test\n  environment: dev\n{extra}",
        server.kubeconfig().display()
    ))
    .expect("settings");
    let kube = KubeService::start(&settings, h.catalog.clone())
        .await
        .expect("start");
    wait(&kube, Duration::from_secs(30), "the first sync", |k| {
        k.clusters()[0].state().synced
    })
    .await;
    kube
}

async fn wait(
    kube: &KubeService,
    limit: Duration,
    what: &str,
    done: impl Fn(&KubeService) -> bool,
) -> Duration {
    let start = Instant::now();
    while !done(kube) {
        assert!(
            start.elapsed() < limit,
            "{what} did not happen within {limit:?}; cluster state: {:?}",
            kube.clusters().first().map(|c| c.state())
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

fn entity(kube: &KubeService, name: &str) -> EntityKube {
    kube.entity_view("component", "default", name)
        .expect("entity")
}

fn delivery(v: &EntityKube) -> Vec<&DeliveryView> {
    v.clusters.iter().flat_map(|c| &c.delivery).collect()
}

fn codes(v: &EntityKube) -> Vec<String> {
    v.reasons.iter().map(|r| r.code.clone()).collect()
}

const GIT: &str = "abc1234567890abcdef1234567890abcdef12345";
const CLUSTER: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";

fn application(name: &str, resources: serde_json::Value) -> serde_json::Value {
    json!({
        "metadata": {"name": name},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://git.example.com/shop/web.git", "path": "deploy", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "team-a"}
        },
        "status": {"resources": resources}
    })
}

/// Kustomization `Ready` as kustomize-controller writes it (metav1.Condition: every field).
fn ready(status: &str, reason: &str, message: &str) -> serde_json::Value {
    json!({"type": "Ready", "status": status, "reason": reason, "message": message,
        "lastTransitionTime": "2026-12-07T14:02:00Z", "observedGeneration": 1})
}

#[tokio::test]
async fn gitops_objects_are_discovered_matched_and_explained() {
    let server = ApiServer::start();
    let h = Harness::new(TestDb::sqlite().await).await;
    catalog(&h).await;
    let client = server.client().await;
    let objects = Objects::new(client.clone(), "team-a").await;
    objects
        .deployment(
            "web",
            json!({"backstage.io/kubernetes-id": "web"}),
            "nginx:1.25",
            1,
        )
        .await;

    // Without the CRDs: nothing of GitOps is watched, shown or said.
    let kube = start(&h, &server, "").await;
    let state = kube.clusters()[0].state();
    assert!(
        state
            .skipped
            .iter()
            .all(|s| !s.contains("Argo") && !s.contains("Flux")),
        "{:?}",
        state.skipped
    );
    let web = entity(&kube, "web");
    assert_eq!(web.health, Health::Healthy, "{:?}", web.reasons);
    assert!(delivery(&web).is_empty());
    assert!(kube.overview().delivery.is_empty());
    assert!(kube
        .cluster_view("test")
        .expect("cluster")
        .delivery
        .is_empty());
    drop(kube);

    // With the projects' CRDs.
    install_gitops_crds(&client).await;
    for ns in ["argocd", "flux-system"] {
        Objects::new(client.clone(), ns).await;
    }
    // Web's Application has no label: it is web's because it manages web's Deployment.
    create_gitops(
        &client,
        "argocd",
        "Application",
        application(
            "shop-web",
            json!([{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "team-a", "name": "web",
                "status": "OutOfSync", "health": {"status": "Healthy"}}]),
        ),
    )
    .await;
    gitops_status(
        &client,
        "argocd",
        "Application",
        "shop-web",
        json!({
            "sync": {"status": "OutOfSync", "revision": GIT},
            "health": {"status": "Healthy"},
            "operationState": {"phase": "Succeeded", "startedAt": "2026-12-07T14:01:00Z", "finishedAt": "2026-12-07T14:02:00Z",
                "operation": {"sync": {"revision": CLUSTER}}, "syncResult": {"revision": CLUSTER}}
        }),
    )
    .await;
    // Billing's is named by its argocd/app-name.
    create_gitops(
        &client,
        "argocd",
        "Application",
        application("billing", json!([])),
    )
    .await;
    gitops_status(
        &client,
        "argocd",
        "Application",
        "billing",
        json!({"sync": {"status": "Synced", "revision": GIT}, "health": {"status": "Healthy"}}),
    )
    .await;
    create_gitops(
        &client,
        "flux-system",
        "Kustomization",
        json!({
            "metadata": {"name": "cart", "labels": {"backstage.io/kubernetes-id": "cart"}},
            "spec": {"interval": "5m", "prune": true, "path": "./cart", "targetNamespace": "team-a",
                "sourceRef": {"kind": "GitRepository", "name": "shop"}}
        }),
    )
    .await;
    gitops_status(
        &client,
        "flux-system",
        "Kustomization",
        "cart",
        json!({"observedGeneration": 1, "lastAppliedRevision": format!("main@sha1:{CLUSTER}"),
            "lastAttemptedRevision": format!("main@sha1:{CLUSTER}"),
            "conditions": [ready("True", "ReconciliationSucceeded", "Applied revision: main@sha1:9f8e7d6")]}),
    )
    .await;
    create_gitops(
        &client,
        "team-a",
        "HelmRelease",
        json!({
            "metadata": {"name": "redis"},
            "spec": {"interval": "5m", "chart": {"spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}}}}
        }),
    )
    .await;

    let kube = start(&h, &server, "  argocd_url: https://argocd.example.com/\n").await;
    wait(&kube, Duration::from_secs(5), "the GitOps objects", |k| {
        k.cluster_view("test").expect("cluster").delivery.len() == 4
    })
    .await;

    // Out of sync, in words, with both revisions and the last sync's time.
    let web = entity(&kube, "web");
    let d = delivery(&web);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (d[0].name.as_str(), d[0].state.as_str()),
        ("shop-web", "OutOfSync")
    );
    assert_eq!(d[0].tool, "ArgoCD Application");
    assert_eq!(d[0].target_revision.as_deref(), Some("abc1234"));
    assert_eq!(d[0].synced_revision.as_deref(), Some("9f8e7d6"));
    assert_eq!(d[0].last_sync.as_deref(), Some("2026-12-07T14:02:00Z"));
    assert_eq!(
        d[0].link.as_deref(),
        Some("https://argocd.example.com/applications/argocd/shop-web")
    );
    assert_eq!(web.health, Health::Degraded);
    let out = web
        .reasons
        .iter()
        .find(|r| r.code == "OutOfSync")
        .expect("reason");
    assert_eq!(
        out.message,
        "[test] Application shop-web is out of sync: Git at abc1234, cluster at 9f8e7d6 since 14:02"
    );
    assert!(out.next_step.contains("argocd app sync argocd/shop-web"));

    // By argocd/app-name; by label; and the cluster's list.
    let billing = entity(&kube, "billing");
    assert_eq!(delivery(&billing)[0].name, "billing");
    assert_eq!(billing.health, Health::Healthy, "{:?}", billing.reasons);
    assert!(billing.matched_by.contains("ArgoCD Application billing"));
    let cart = entity(&kube, "cart");
    assert_eq!(delivery(&cart)[0].state, "Ready");
    assert_eq!(cart.health, Health::Healthy, "{:?}", cart.reasons);
    let cluster = kube.cluster_view("test").expect("cluster");
    let redis = cluster
        .delivery
        .iter()
        .find(|d| d.name == "redis")
        .expect("redis");
    assert!(redis.entity.is_none());
    assert_eq!(
        redis.health,
        Health::Progressing,
        "no status yet: {redis:?}"
    );
    let overview = kube.overview();
    let attention: Vec<&str> = overview.delivery.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(attention, vec!["shop-web", "redis"]);
    assert!(
        overview.missing.is_empty(),
        "billing is found by its Application"
    );

    // Synced: the reason goes, live.
    gitops_status(
        &client,
        "argocd",
        "Application",
        "shop-web",
        json!({
            "sync": {"status": "Synced", "revision": GIT},
            "operationState": {"phase": "Succeeded", "startedAt": "2026-12-07T14:05:00Z", "finishedAt": "2026-12-07T14:06:00Z",
                "operation": {"sync": {"revision": GIT}}, "syncResult": {"revision": GIT}}
        }),
    )
    .await;
    let took = wait(&kube, Duration::from_secs(2), "the sync to show", |k| {
        entity(k, "web").health == Health::Healthy
    })
    .await;
    eprintln!("synced visible after {took:?}");
    let web = entity(&kube, "web");
    assert_eq!(
        delivery(&web)[0].synced_revision.as_deref(),
        Some("abc1234")
    );

    // Degraded: ArgoCD says so of the Deployment, and Backlot says how, in its own words.
    objects.deployment_status("web", 1, 0).await;
    gitops_status(
        &client,
        "argocd",
        "Application",
        "shop-web",
        json!({
            "health": {"status": "Degraded", "message": "one or more resources are degraded"},
            "resources": [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "team-a", "name": "web",
                "status": "Synced", "health": {"status": "Degraded", "message": "Deployment \"web\" exceeded its progress deadline"}}]
        }),
    )
    .await;
    wait(
        &kube,
        Duration::from_secs(2),
        "the degraded app to show",
        |k| codes(&entity(k, "web")).contains(&"Degraded".to_string()),
    )
    .await;
    let web = entity(&kube, "web");
    let degraded = web
        .reasons
        .iter()
        .find(|r| r.code == "Degraded")
        .expect("reason");
    assert_eq!(
        degraded.message,
        "[test] Degraded: Deployment web has 0/1 available"
    );

    // Recovery, so that what follows is Flux's alone.
    objects.deployment_status("web", 1, 1).await;
    gitops_status(
        &client,
        "argocd",
        "Application",
        "shop-web",
        json!({
            "health": {"status": "Healthy", "message": null},
            "resources": [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "team-a", "name": "web",
                "status": "Synced", "health": {"status": "Healthy"}}]
        }),
    )
    .await;
    wait(&kube, Duration::from_secs(2), "web's recovery", |k| {
        entity(k, "web").health == Health::Healthy
    })
    .await;

    // Flux failing with its reason: on the entity, the team and the overview.
    gitops_status(
        &client,
        "flux-system",
        "Kustomization",
        "cart",
        json!({"lastAttemptedRevision": format!("main@sha1:{GIT}"),
            "conditions": [ready("False", "BuildFailed", "kustomize build failed: accumulating resources from 'deploy.yaml': no such file")]}),
    )
    .await;
    wait(
        &kube,
        Duration::from_secs(2),
        "the failing Kustomization",
        |k| entity(k, "cart").health == Health::Degraded,
    )
    .await;
    let cart = entity(&kube, "cart");
    assert_eq!(
        cart.reasons[0].message,
        "[test] Kustomization cart not Ready: BuildFailed: kustomize build failed: accumulating resources from 'deploy.yaml': no such file (Git at main@abc1234, cluster at main@9f8e7d6)"
    );
    assert!(cart.reasons[0]
        .next_step
        .contains("flux build kustomization cart"));
    let team = kube.team_view("default", "team-a").expect("team");
    let listed: Vec<&str> = team.delivery.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(listed, vec!["cart"]);
    assert!(!listed.contains(&"billing"));
    assert_eq!(team.health, Health::Degraded);
    assert!(kube.overview().delivery.iter().any(|d| d.name == "cart"));
    assert_eq!(
        kube.overview().clusters[0].health,
        Health::Degraded,
        "GitOps health feeds the cluster's"
    );
    h.cleanup().await;
}

/// A GitOps kind RBAC does not grant is skipped and said; the rest is watched.
#[tokio::test]
async fn a_refused_gitops_kind_is_skipped_and_said() {
    let server = ApiServer::start();
    let h = Harness::new(TestDb::sqlite().await).await;
    catalog(&h).await;
    let client = server.client().await;
    install_gitops_crds(&client).await;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let rules = json!([
        {"apiGroups": [""], "resources": ["pods", "services", "events", "namespaces"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["kustomize.toolkit.fluxcd.io"], "resources": ["kustomizations"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["helm.toolkit.fluxcd.io"], "resources": ["helmreleases"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["source.toolkit.fluxcd.io"], "resources": ["gitrepositories", "helmrepositories"], "verbs": ["get", "list", "watch"]}
    ]);
    kube::Api::<ClusterRole>::all(client.clone())
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "no-argo"}, "rules": rules}))
                .expect("role"),
        )
        .await
        .expect("role");
    kube::Api::<ClusterRoleBinding>::all(client.clone())
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "no-argo"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "no-argo"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "viewer"}]}))
            .expect("binding"),
        )
        .await
        .expect("binding");
    let kube = start(&h, &server, "  context: viewer\n").await;
    wait(
        &kube,
        Duration::from_secs(10),
        "the refusal to be said",
        |k| {
            k.clusters()[0]
                .state()
                .skipped
                .iter()
                .any(|s| s.starts_with("ArgoCD Applications: forbidden"))
        },
    )
    .await;
    let state = kube.clusters()[0].state();
    assert!(state.synced && !state.stale, "{state:?}");
    assert!(
        state.skipped.iter().all(|s| !s.contains("Flux")),
        "{:?}",
        state.skipped
    );
    h.cleanup().await;
}

/// A Flux source as source-controller writes its status: `Ready` and, once fetched, the artifact.
fn source_status(ready: serde_json::Value, revision: &str) -> serde_json::Value {
    json!({"observedGeneration": 1, "conditions": [ready],
        "artifact": {"revision": revision, "digest": "sha256:0", "lastUpdateTime": "2026-12-07T14:00:00Z",
            "path": "gitrepository/flux-system/shop/artifact.tar.gz", "url": "http://source-controller/artifact.tar.gz"}})
}

/// A Kustomization whose GitRepository cannot fetch says so, in the source's words, and recovers
/// when the source does; its source's state and the commit's link are on its Delivery row, and
/// the revision on the entity's "which revision runs where".
#[tokio::test]
async fn a_kustomization_says_why_its_source_fails_and_recovers() {
    let server = ApiServer::start();
    let h = Harness::new(TestDb::sqlite().await).await;
    catalog(&h).await;
    let client = server.client().await;
    install_gitops_crds(&client).await;
    for ns in ["flux-system", "team-a"] {
        Objects::new(client.clone(), ns).await;
    }
    let applied = format!("main@sha1:{CLUSTER}");
    create_gitops(
        &client,
        "flux-system",
        "GitRepository",
        json!({"metadata": {"name": "shop"},
            "spec": {"url": "ssh://git@github.com/acme/shop", "interval": "1m", "ref": {"branch": "main"},
                "secretRef": {"name": "shop-deploy-key"}}}),
    )
    .await;
    let fetched = ready(
        "True",
        "Succeeded",
        "stored artifact for revision 'main@sha1:9f8e7d6'",
    );
    gitops_status(
        &client,
        "flux-system",
        "GitRepository",
        "shop",
        source_status(fetched.clone(), &applied),
    )
    .await;
    create_gitops(
        &client,
        "flux-system",
        "Kustomization",
        json!({
            "metadata": {"name": "cart", "labels": {"backstage.io/kubernetes-id": "cart"}},
            "spec": {"interval": "5m", "prune": true, "path": "./cart", "targetNamespace": "team-a",
                "sourceRef": {"kind": "GitRepository", "name": "shop"}}
        }),
    )
    .await;
    gitops_status(
        &client,
        "flux-system",
        "Kustomization",
        "cart",
        json!({"observedGeneration": 1, "lastAppliedRevision": applied, "lastAttemptedRevision": applied,
            "conditions": [ready("True", "ReconciliationSucceeded", "Applied revision: main@sha1:9f8e7d6")]}),
    )
    .await;
    // A HelmRelease and its HelmRepository, not yet fetched.
    create_gitops(
        &client,
        "team-a",
        "HelmRepository",
        json!({"metadata": {"name": "bitnami"}, "spec": {"url": "https://charts.bitnami.com/bitnami", "interval": "1h"}}),
    )
    .await;
    create_gitops(
        &client,
        "team-a",
        "HelmRelease",
        json!({"metadata": {"name": "redis"},
            "spec": {"interval": "5m", "chart": {"spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}}}}}),
    )
    .await;

    let kube = start(&h, &server, "").await;
    let state = kube.clusters()[0].state();
    assert!(
        state.skipped.iter().all(|s| !s.contains("Flux")),
        "{:?}",
        state.skipped
    );
    wait(&kube, Duration::from_secs(5), "the Flux objects", |k| {
        k.cluster_view("test")
            .expect("cluster")
            .delivery
            .iter()
            .all(|d| d.source_state.is_some())
            && k.cluster_view("test").expect("cluster").delivery.len() == 2
    })
    .await;
    let cart = entity(&kube, "cart");
    assert_eq!(cart.health, Health::Healthy, "{:?}", cart.reasons);
    let d = delivery(&cart);
    assert_eq!(
        d[0].source_state.as_deref(),
        Some("GitRepository flux-system/shop (ssh://git@github.com/acme/shop): Ready at main@9f8e7d6")
    );
    let commit = format!("https://github.com/acme/shop/commit/{CLUSTER}");
    assert_eq!(d[0].commit_url.as_deref(), Some(commit.as_str()));
    assert_eq!(cart.revisions.len(), 1);
    assert_eq!(
        (
            cart.revisions[0].revision.as_deref(),
            cart.revisions[0].state.as_str(),
            cart.revisions[0].environment.as_str()
        ),
        (Some("main@9f8e7d6"), "Ready", "dev")
    );
    assert!(!cart.revisions[0].differs);
    let redis = kube
        .cluster_view("test")
        .expect("cluster")
        .delivery
        .into_iter()
        .find(|d| d.name == "redis")
        .expect("redis");
    assert_eq!(
        redis.source_state.as_deref(),
        Some("HelmRepository team-a/bitnami (https://charts.bitnami.com/bitnami): Fetching")
    );

    // The deploy key stops working: source-controller says so on the GitRepository, the
    // Kustomization stays Ready at what it last applied, and the entity says why nothing new
    // arrives.
    gitops_status(
        &client,
        "flux-system",
        "GitRepository",
        "shop",
        source_status(
            ready("False", "GitOperationFailed", "failed to checkout and determine revision: unable to clone 'ssh://git@github.com/acme/shop': authentication required"),
            &applied,
        ),
    )
    .await;
    let took = wait(
        &kube,
        Duration::from_secs(2),
        "the failing source to show",
        |k| entity(k, "cart").health == Health::Degraded,
    )
    .await;
    eprintln!("failing source visible after {took:?}");
    let cart = entity(&kube, "cart");
    assert_eq!(
        cart.reasons[0].message,
        "[test] GitRepository flux-system/shop not Ready: failed to checkout and determine revision: unable to clone 'ssh://git@github.com/acme/shop': authentication required (check the deploy key secret shop-deploy-key)"
    );
    assert_eq!(cart.reasons[0].code, "GitOperationFailed");
    assert!(cart.reasons[0]
        .next_step
        .contains("kubectl -n flux-system get secret shop-deploy-key"));
    let d = delivery(&cart);
    assert_eq!(
        d[0].state, "Ready",
        "the Kustomization itself still applies what it has"
    );
    assert!(
        d[0].source_state
            .as_deref()
            .is_some_and(|s| s.ends_with(": Not ready")),
        "{:?}",
        d[0].source_state
    );
    assert!(kube.overview().delivery.iter().any(|d| d.name == "cart"));
    assert_eq!(kube.overview().clusters[0].health, Health::Degraded);

    // Fetched again: the reason goes, live.
    gitops_status(
        &client,
        "flux-system",
        "GitRepository",
        "shop",
        source_status(fetched, &applied),
    )
    .await;
    wait(
        &kube,
        Duration::from_secs(2),
        "the source's recovery",
        |k| entity(k, "cart").health == Health::Healthy,
    )
    .await;
    assert!(entity(&kube, "cart").reasons.is_empty());
    h.cleanup().await;
}
