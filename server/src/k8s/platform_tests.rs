//! Platform resources against a real kube-apiserver (v1.20) with the projects' real CRDs
//! installed (testdata/crds/: KubeVela, External Secrets, Sealed Secrets, and the claim and
//! composite CRDs Crossplane generates for its documented XRD): discovery by category, matching
//! to entities, health reasons as the status changes the way the controllers write it (through
//! the status subresource), the team and cluster lists, and RBAC refusals.

use super::testing::{
    create_gitops as create, gitops_status as status, install_crds, ApiServer, PLATFORM_CRDS,
};
use super::{KubeService, KubeSettings};
use crate::storage::testing::TestDb;
use crate::test_support::Harness;
use app::kube::{EntityKube, Health, ResourceView};
use axum::http::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn catalog(h: &Harness) {
    let component = |name: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    backstage.io/kubernetes-id: {name}\n    backstage.io/kubernetes-namespace: team-a\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
        )
    };
    let file = h.write(
        "catalog-info.yaml",
        &[
            crate::test_support::group("team-a"),
            component("orders"),
            component("shop"),
        ]
        .join("---\n"),
    );
    let (code, body) = h
        .call(
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": file})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
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

fn resources(v: &EntityKube) -> Vec<&ResourceView> {
    v.clusters.iter().flat_map(|c| &c.resources).collect()
}

fn resource<'a>(v: &'a EntityKube, name: &str) -> &'a ResourceView {
    resources(v)
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} not among {:?}", resources(v)))
}

/// A condition as Crossplane and External Secrets write them (an empty message is left out, as
/// their `omitempty` does).
fn cond(kind: &str, state: &str, reason: &str, message: &str) -> serde_json::Value {
    let mut c = json!({"type": kind, "status": state, "reason": reason,
        "lastTransitionTime": "2026-12-07T14:02:00Z"});
    if !message.is_empty() {
        c["message"] = json!(message);
    }
    c
}

const RECONCILE_ERROR: &str = "cannot compose resources: cannot apply composed resource \"db\": InvalidClientTokenId: The security token included in the request is invalid";

#[tokio::test]
async fn platform_resources_are_discovered_matched_and_explained() {
    let server = ApiServer::start();
    let h = Harness::new(TestDb::sqlite().await).await;
    catalog(&h).await;
    let client = server.client().await;
    super::testing::Objects::new(client.clone(), "team-a").await;

    // Without the CRDs: no Resources anywhere, nothing said.
    let kube = start(&h, &server, "").await;
    let state = kube.clusters()[0].state();
    assert!(
        state
            .skipped
            .iter()
            .all(|s| !s.contains("Crossplane") && !s.contains("Secret") && !s.contains("KubeVela")),
        "{:?}",
        state.skipped
    );
    assert!(kube.overview().resources.is_empty());
    assert!(resources(&entity(&kube, "orders")).is_empty());
    drop(kube);

    install_crds(&client, &PLATFORM_CRDS).await;
    let label = json!({"backstage.io/kubernetes-id": "orders"});
    // A claim failing to reconcile, and its composite (cluster-scoped, bound to the claim).
    create(
        &client,
        "team-a",
        "PostgreSQLInstance",
        json!({"metadata": {"name": "orders-db", "labels": label},
            "spec": {"parameters": {"storageGB": 20}, "compositionRef": {"name": "aws-postgres"},
                "resourceRef": {"apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance", "name": "orders-db-x7k2p"},
                "writeConnectionSecretToRef": {"name": "orders-db-conn"}}}),
    )
    .await;
    status(
        &client,
        "team-a",
        "PostgreSQLInstance",
        "orders-db",
        json!({"conditions": [cond("Synced", "False", "ReconcileError", RECONCILE_ERROR), cond("Ready", "False", "Creating", "")]}),
    )
    .await;
    create(
        &client,
        "",
        "XPostgreSQLInstance",
        json!({"metadata": {"name": "orders-db-x7k2p", "labels": label},
            "spec": {"parameters": {"storageGB": 20}, "compositionRef": {"name": "aws-postgres"},
                "claimRef": {"apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance", "namespace": "team-a", "name": "orders-db"},
                "resourceRefs": [{"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "Instance", "name": "orders-db-x7k2p-db"}],
                "writeConnectionSecretToRef": {"name": "6f1c9a", "namespace": "crossplane-system"}}}),
    )
    .await;
    status(
        &client,
        "",
        "XPostgreSQLInstance",
        "orders-db-x7k2p",
        json!({"conditions": [cond("Synced", "False", "ReconcileError", RECONCILE_ERROR), cond("Ready", "False", "Creating", "Unready resources: db")]}),
    )
    .await;
    // An ExternalSecret whose store is not ready; a SealedSecret unsealed.
    create(
        &client,
        "team-a",
        "ExternalSecret",
        json!({"metadata": {"name": "db-creds", "labels": label},
            "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "SecretStore", "name": "aws"},
                "target": {"name": "db-creds"}, "data": [{"secretKey": "password", "remoteRef": {"key": "orders/db"}}]}}),
    )
    .await;
    status(
        &client,
        "team-a",
        "ExternalSecret",
        "db-creds",
        json!({"conditions": [cond("Ready", "False", "SecretSyncedError", "SecretStore aws not ready")]}),
    )
    .await;
    create(
        &client,
        "team-a",
        "SealedSecret",
        json!({"metadata": {"name": "api-key", "labels": label},
            "spec": {"encryptedData": {"key": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq"}}}),
    )
    .await;
    status(
        &client,
        "team-a",
        "SealedSecret",
        "api-key",
        json!({"observedGeneration": 1, "conditions": [{"type": "Synced", "status": "True", "lastTransitionTime": "2026-12-07T14:00:00Z", "lastUpdateTime": "2026-12-07T14:00:00Z"}]}),
    )
    .await;
    // A KubeVela Application with an unhealthy component.
    create(
        &client,
        "team-a",
        "OamApplication",
        json!({"metadata": {"name": "shop", "labels": {"backstage.io/kubernetes-id": "shop"}},
            "spec": {"components": [{"name": "web", "type": "webservice", "properties": {"image": "shop:1.2"}},
                {"name": "cache", "type": "worker", "properties": {"image": "redis:7"}}]}}),
    )
    .await;
    status(
        &client,
        "team-a",
        "OamApplication",
        "shop",
        json!({"status": "unhealthy", "observedGeneration": 1,
            "services": [{"name": "web", "namespace": "team-a", "healthy": true, "message": "Ready:1/1"},
                {"name": "cache", "namespace": "team-a", "healthy": false, "message": "Ready:0/1: Back-off pulling image \"redis:7\""}]}),
    )
    .await;

    let kube = start(&h, &server, "").await;
    let took = wait(&kube, Duration::from_secs(5), "the platform objects", |k| {
        k.cluster_view("test").expect("cluster").resources.len() == 4
    })
    .await;
    eprintln!("platform objects listed after {took:?}");
    let cluster = kube.cluster_view("test").expect("cluster");
    assert!(
        cluster
            .resources
            .iter()
            .all(|r| r.name != "orders-db-x7k2p"),
        "a claimed composite is shown through its claim: {:?}",
        cluster.resources
    );

    // The claim, in words, with its composite's view and what to check.
    let orders = entity(&kube, "orders");
    assert_eq!(resources(&orders).len(), 3, "{:?}", resources(&orders));
    assert_eq!(orders.health, Health::Degraded);
    let db = resource(&orders, "orders-db");
    assert_eq!(
        (db.tool.as_str(), db.kind.as_str(), db.state.as_str()),
        ("Crossplane claim", "PostgreSQLInstance", "Not ready")
    );
    assert_eq!(db.source.as_deref(), Some("aws-postgres"));
    assert_eq!(db.secret.as_deref(), Some("orders-db-conn"));
    assert_eq!(
        db.secret_state.as_deref(),
        Some("unknown: Crossplane has not published it yet")
    );
    assert!(db
        .refs
        .contains(&"Instance orders-db-x7k2p-db (composed)".to_string()));
    let failing = orders
        .reasons
        .iter()
        .find(|r| r.code == "ReconcileError")
        .expect("the claim's reason");
    assert_eq!(
        failing.message,
        format!("[test] Crossplane claim orders-db not Ready: ReconcileError: {RECONCILE_ERROR}"),
        "the composite's same error is not said twice"
    );
    assert!(failing.next_step.contains("check the provider credentials"));
    // The ExternalSecret failing with its reason; the SealedSecret fine.
    let es = orders
        .reasons
        .iter()
        .find(|r| r.code == "SecretSyncedError")
        .expect("the ExternalSecret's reason");
    assert_eq!(
        es.message,
        "[test] ExternalSecret db-creds failed to sync: SecretStore aws not ready"
    );
    assert!(es.next_step.contains("SecretStore/aws"));
    let sealed = resource(&orders, "api-key");
    assert_eq!(
        (sealed.state.as_str(), sealed.health),
        ("Unsealed", Health::Healthy)
    );

    // The KubeVela Application's unhealthy component.
    let shop = entity(&kube, "shop");
    assert_eq!(shop.health, Health::Degraded);
    assert_eq!(
        shop.reasons[0].message,
        "[test] KubeVela Application shop has unhealthy components: cache: Ready:0/1: Back-off pulling image \"redis:7\""
    );
    assert_eq!(
        resource(&shop, "shop").components,
        vec![
            "web: Ready:1/1".to_string(),
            "cache: Ready:0/1: Back-off pulling image \"redis:7\"".to_string()
        ]
    );

    // The lists beside the out-of-sync ones.
    let listed = |names: Vec<&str>| {
        let mut n: Vec<String> = names.into_iter().map(str::to_string).collect();
        n.sort();
        n
    };
    let overview = kube.overview();
    assert_eq!(
        listed(overview.resources.iter().map(|r| r.name.as_str()).collect()),
        listed(vec!["db-creds", "orders-db", "shop"])
    );
    assert_eq!(overview.clusters[0].health, Health::Degraded);
    let team = kube.team_view("default", "team-a").expect("team");
    assert_eq!(
        listed(team.resources.iter().map(|r| r.name.as_str()).collect()),
        listed(vec!["db-creds", "orders-db", "shop"])
    );

    // Crossplane reconciles: the claim goes Ready and publishes its connection secret, live.
    for (ns, kind, name) in [
        ("", "XPostgreSQLInstance", "orders-db-x7k2p"),
        ("team-a", "PostgreSQLInstance", "orders-db"),
    ] {
        status(
            &client,
            ns,
            kind,
            name,
            json!({"conditions": [cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "True", "Available", "")],
                "connectionDetails": {"lastPublishedTime": "2026-12-07T14:09:00Z"}}),
        )
        .await;
    }
    let took = wait(
        &kube,
        Duration::from_secs(2),
        "the claim to be Ready",
        |k| resource(&entity(k, "orders"), "orders-db").state == "Ready",
    )
    .await;
    eprintln!("Ready visible after {took:?}");
    let orders = entity(&kube, "orders");
    let db = resource(&orders, "orders-db");
    assert_eq!(db.health, Health::Healthy, "{:?}", db.reasons);
    assert_eq!(
        db.secret_state.as_deref(),
        Some("published by Crossplane at 2026-12-07T14:09:00Z")
    );
    assert!(orders.reasons.iter().all(|r| r.code != "ReconcileError"));
    assert!(kube
        .overview()
        .resources
        .iter()
        .all(|r| r.name != "orders-db"));
    h.cleanup().await;
}

/// A platform kind RBAC does not grant is skipped and said; the rest is watched.
#[tokio::test]
async fn a_refused_platform_kind_is_skipped_and_said() {
    let server = ApiServer::start();
    let h = Harness::new(TestDb::sqlite().await).await;
    catalog(&h).await;
    let client = server.client().await;
    install_crds(&client, &PLATFORM_CRDS).await;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let rules = json!([
        {"apiGroups": [""], "resources": ["pods", "services", "events", "namespaces"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["core.oam.dev"], "resources": ["applications"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["bitnami.com"], "resources": ["sealedsecrets"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["database.example.org"], "resources": ["postgresqlinstances", "xpostgresqlinstances"], "verbs": ["get", "list", "watch"]}
    ]);
    kube::Api::<ClusterRole>::all(client.clone())
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "no-eso"}, "rules": rules}))
                .expect("role"),
        )
        .await
        .expect("role");
    kube::Api::<ClusterRoleBinding>::all(client.clone())
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "no-eso"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "no-eso"},
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
                .any(|s| s.starts_with("ExternalSecrets: forbidden"))
        },
    )
    .await;
    let state = kube.clusters()[0].state();
    assert!(state.synced && !state.stale, "{state:?}");
    assert_eq!(
        state
            .skipped
            .iter()
            .filter(|s| s.contains("forbidden"))
            .count(),
        1,
        "{:?}",
        state.skipped
    );
    h.cleanup().await;
}
