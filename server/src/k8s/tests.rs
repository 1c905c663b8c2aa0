//! The Kubernetes views against a real kube-apiserver (v1.20: no kubelet, no controllers; pod
//! and workload status is written through the status subresource, as they would write it).

use super::testing::{ApiServer, Objects};
use super::{KubeService, KubeSettings};
use crate::storage::testing::TestDb;
use crate::test_support::Harness;
use app::kube::{EntityKube, Health};
use app::model::EntityRef;
use axum::http::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn annotated(name: &str, owner: &str, annotations: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n{annotations}spec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    )
}

async fn catalog(h: &Harness) {
    let file = h.write(
        "catalog-info.yaml",
        &[
            crate::test_support::group("team-a"),
            annotated("web", "team-a", "    backstage.io/kubernetes-id: web\n"),
            annotated(
                "api",
                "team-a",
                "    backstage.io/kubernetes-label-selector: 'app=api,tier in (backend)'\n    backstage.io/kubernetes-namespace: shop\n",
            ),
            annotated("ghost", "team-a", "    backstage.io/kubernetes-id: ghost\n"),
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

async fn start(h: &Harness, server: &ApiServer) -> Arc<KubeService> {
    let settings: KubeSettings = yaml_serde::from_str(&format!(
        "clusters:\n- kubeconfig: {}\n  name: test\n  environment: dev\n",
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

fn web(kube: &KubeService) -> EntityKube {
    kube.entity_view("component", "default", "web")
        .expect("web")
}

fn codes(v: &EntityKube) -> Vec<String> {
    v.reasons.iter().map(|r| r.code.clone()).collect()
}

/// A fresh API server, the catalog above, namespace team-a with Deployment `web`
/// (kubernetes-id web, `pods` pods, all running).
async fn web_setup(pods: usize) -> (ApiServer, Harness, Objects, Vec<String>) {
    let server = ApiServer::start();
    let h = Harness::new(TestDb::sqlite().await).await;
    catalog(&h).await;
    let objects = Objects::new(server.client().await, "team-a").await;
    let names = objects
        .deployment(
            "web",
            json!({"backstage.io/kubernetes-id": "web"}),
            "nginx:1.25",
            pods,
        )
        .await;
    (server, h, objects, names)
}

#[tokio::test]
async fn health_matching_and_live_changes_from_a_real_api_server() {
    let (server, h, objects, pods) = web_setup(2).await;
    let shop = Objects::new(server.client().await, "shop").await;
    shop.deployment(
        "api",
        json!({"app": "api", "tier": "backend"}),
        "api:2.0",
        1,
    )
    .await;
    objects
        .deployment("stray", json!({"app": "stray"}), "busybox:1", 1)
        .await;
    let kube = start(&h, &server).await;

    // Matched by kubernetes-id, healthy, with its replica set and pods.
    let v = web(&kube);
    assert_eq!(v.health, Health::Healthy, "{:?}", v.reasons);
    assert_eq!(v.clusters.len(), 1);
    let w = &v.clusters[0].workloads[0];
    assert_eq!(
        (w.kind.as_str(), w.name.as_str(), w.ready, w.desired),
        ("Deployment", "web", 2, 2)
    );
    assert_eq!(w.replica_sets[0].pods.len(), 2);
    assert_eq!(v.versions[0].cells, vec![vec!["nginx:1.25".to_string()]]);
    assert!(v.clusters[0].cluster.environment == "dev");

    // Matched by label selector within its namespace.
    let api = kube
        .entity_view("component", "default", "api")
        .expect("api");
    assert_eq!(api.clusters[0].workloads[0].name, "api");
    assert!(api
        .matched_by
        .contains("label selector app=api,tier in (backend) in namespace shop"));

    // Expected but absent; running but not in the catalog.
    let ghost = kube
        .entity_view("component", "default", "ghost")
        .expect("ghost");
    assert!(ghost.expected && ghost.clusters.is_empty());
    assert_eq!(codes(&ghost), vec!["NotFound"]);
    let overview = kube.overview();
    assert_eq!(
        overview
            .missing
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        vec!["ghost"]
    );
    assert_eq!(overview.clusters[0].unmatched, 1);
    assert_eq!(overview.clusters[0].pods, 4);
    let cluster = kube.cluster_view("test").expect("cluster");
    let stray = cluster
        .workloads
        .iter()
        .find(|w| w.name == "stray")
        .expect("stray");
    assert!(stray.entity.is_none());
    assert_eq!(
        cluster
            .workloads
            .iter()
            .find(|w| w.name == "web")
            .and_then(|w| w.entity.clone())
            .map(|e| e.name),
        Some("web".to_string())
    );
    // As a caller who may not see web's workloads: web is gone from the cluster page and from
    // every count (its two pods too); the stray workload of no entity stays; ghost is not
    // listed as missing when the caller may not see it.
    let not_web = |e: &EntityRef| e.name != "web";
    let seen = kube.cluster_view_for("test", &not_web).expect("cluster");
    assert!(seen.workloads.iter().all(|w| w.name != "web"));
    assert!(seen.workloads.iter().any(|w| w.name == "stray"));
    assert_eq!(seen.workloads.len(), cluster.workloads.len() - 1);
    assert_eq!(seen.summary.pods, cluster.summary.pods - 2);
    assert_eq!(
        seen.summary.counts.healthy,
        cluster.summary.counts.healthy - 1
    );
    assert_eq!(seen.summary.unmatched, 1);
    let seen = kube.overview_for(&|e: &EntityRef| e.name != "web" && e.name != "ghost");
    assert_eq!(seen.clusters[0].pods, 2);
    assert!(seen.missing.is_empty());
    // Kubernetes 1.20 has no autoscaling/v2: read through v2beta2, and said.
    assert!(
        cluster
            .summary
            .state
            .skipped
            .iter()
            .any(|s| s.contains("autoscaling/v2beta2")),
        "{:?}",
        cluster.summary.state.skipped
    );

    // A crash loop: the view changes by itself, with the reason and the next step.
    objects
        .pod_waiting(&pods[1], "nginx:1.25", "CrashLoopBackOff", 7, Some("Error"))
        .await;
    objects.deployment_status("web", 2, 1).await;
    let took = wait(
        &kube,
        Duration::from_secs(2),
        "the crash loop to show",
        |k| codes(&web(k)).contains(&"CrashLoopBackOff".to_string()),
    )
    .await;
    let v = web(&kube);
    assert_eq!(v.health, Health::Degraded);
    let crash = v
        .reasons
        .iter()
        .find(|r| r.code == "CrashLoopBackOff")
        .expect("reason");
    assert!(
        crash.message.contains("restarted 7 times"),
        "{}",
        crash.message
    );
    assert!(crash.next_step.contains("--previous"));
    assert!(
        codes(&v).contains(&"ReplicasShort".to_string()),
        "{:?}",
        codes(&v)
    );
    eprintln!("crash loop visible after {took:?}");

    // An image that cannot be pulled, then memory: both explained.
    objects
        .pod_waiting(&pods[0], "nginx:9.99", "ImagePullBackOff", 0, None)
        .await;
    objects.deployment_status("web", 2, 0).await;
    wait(
        &kube,
        Duration::from_secs(2),
        "the pull failure to show",
        |k| {
            let v = web(k);
            v.health == Health::Down && codes(&v).contains(&"ImagePullBackOff".to_string())
        },
    )
    .await;
    objects
        .pod_waiting(
            &pods[1],
            "nginx:1.25",
            "CrashLoopBackOff",
            8,
            Some("OOMKilled"),
        )
        .await;
    wait(&kube, Duration::from_secs(2), "the OOM kill to show", |k| {
        web(k)
            .reasons
            .iter()
            .any(|r| r.code == "CrashLoopBackOff" && r.message.contains("OOMKilled"))
    })
    .await;

    // Team health: worst first.
    let team = kube.team_view("default", "team-a").expect("team");
    let names: Vec<&str> = team
        .entities
        .iter()
        .map(|e| e.entity.name.as_str())
        .collect();
    assert_eq!(names[0], "web", "{names:?}");
    assert_eq!(team.health, Health::Down);

    // An autoscaler (autoscaling/v2beta2 on this server) pinned at its maximum.
    objects.hpa("web", 1, 2, 2).await;
    wait(
        &kube,
        Duration::from_secs(2),
        "the autoscaler to show",
        |k| codes(&web(k)).contains(&"HpaAtMax".to_string()),
    )
    .await;
    let v = web(&kube);
    let hpa = v.clusters[0].workloads[0].hpa.clone().expect("hpa");
    assert_eq!((hpa.min, hpa.max, hpa.current), (1, 2, 2));

    // Recovery.
    objects.pod_running(&pods[0], "nginx:1.25").await;
    objects.pod_running(&pods[1], "nginx:1.25").await;
    objects.deployment_status("web", 2, 2).await;
    wait(&kube, Duration::from_secs(2), "recovery", |k| {
        !codes(&web(k)).contains(&"CrashLoopBackOff".to_string())
    })
    .await;
    // Still capped by its autoscaler.
    assert_eq!(web(&kube).health, Health::Degraded);
    assert_eq!(codes(&web(&kube)), vec!["HpaAtMax"]);
    h.cleanup().await;
}

#[tokio::test]
async fn a_stopped_api_server_marks_the_data_stale_and_recovery_clears_it() {
    let (server, h, _objects, _) = web_setup(1).await;
    let kube = start(&h, &server).await;
    assert_eq!(web(&kube).health, Health::Healthy);

    server.stop_apiserver();
    wait(&kube, Duration::from_secs(60), "the stale marker", |k| {
        k.clusters()[0].state().stale
    })
    .await;
    let state = kube.clusters()[0].state();
    assert!(state.since.is_some() && state.error.is_some(), "{state:?}");
    // The data stays, marked.
    let v = web(&kube);
    assert_eq!(v.clusters[0].workloads[0].health, Health::Healthy);
    assert_eq!(v.health, Health::Unknown);
    assert_eq!(codes(&v), vec!["Stale"]);
    assert!(!format!("{v:?}").contains("admin-token"));

    server.start_apiserver();
    wait(&kube, Duration::from_secs(60), "recovery", |k| {
        let s = k.clusters()[0].state();
        s.synced && !s.stale
    })
    .await;
    assert_eq!(web(&kube).health, Health::Healthy);
    h.cleanup().await;
}

async fn next_update<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
) -> EntityKube {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .expect("an event within 5 s")
            .expect("read")
            .expect("open");
        if let Some(data) = line.strip_prefix("data: ") {
            return serde_json::from_str::<EntityKube>(data).expect("view");
        }
    }
}

/// The live stream: an open connection receives the new view within 2 s of a status change.
#[tokio::test]
async fn the_entity_stream_pushes_changes() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (server, h, objects, pods) = web_setup(1).await;
    let kube = start(&h, &server).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = crate::http::router(h.state_with(kube.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        // HTTP/1.0: the body is not chunked, so an event's line is never split by chunk sizes.
        .write_all(b"GET /api/kubernetes/entities/default/component/web/stream HTTP/1.0\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .expect("request");
    let mut lines = tokio::io::BufReader::new(stream).lines();
    assert_eq!(next_update(&mut lines).await.health, Health::Healthy);
    let changed = Instant::now();
    objects
        .pod_waiting(&pods[0], "nginx:1.25", "CrashLoopBackOff", 3, None)
        .await;
    let view = next_update(&mut lines).await;
    let took = changed.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(
        codes(&view).contains(&"CrashLoopBackOff".to_string()),
        "{:?}",
        codes(&view)
    );
    h.cleanup().await;
}

/// Credentials the server refuses, and reads RBAC does not grant: said on the cluster, never a
/// crash, never the token.
#[tokio::test]
async fn refused_credentials_and_forbidden_reads_are_said() {
    let server = ApiServer::start();
    let h = Harness::new(TestDb::sqlite().await).await;
    catalog(&h).await;
    // The viewer context: a valid token with no RBAC grants.
    let viewer: KubeSettings = yaml_serde::from_str(&format!(
        "clusters:\n- kubeconfig: {}\n  context: viewer\n",
        server.kubeconfig().display()
    ))
    .expect("settings");
    let kube = KubeService::start(&viewer, h.catalog.clone())
        .await
        .expect("start");
    wait(
        &kube,
        Duration::from_secs(30),
        "the refusal to be said",
        |k| {
            k.clusters()[0]
                .state()
                .skipped
                .iter()
                .any(|s| s.contains("forbidden"))
        },
    )
    .await;
    let state = kube.clusters()[0].state();
    assert!(!state.synced && !state.stale, "{state:?}");
    let said = state.skipped.join("\n");
    assert!(
        said.contains("Pods: forbidden: Backlot may not list and watch them"),
        "{said}"
    );
    assert!(said.contains("rbac.yaml"), "{said}");
    drop(kube);

    // A token the server does not know.
    std::env::set_var("BACKLOT_TEST_BAD_TOKEN", "not-a-token");
    let port = std::fs::read_to_string(server.dir.path().join("api_port")).expect("port");
    let bad: KubeSettings = yaml_serde::from_str(&format!(
        "clusters:\n- url: https://127.0.0.1:{}\n  token_env: BACKLOT_TEST_BAD_TOKEN\n  insecure_skip_tls_verify: true\n  name: bad\n",
        port.trim()
    ))
    .expect("settings");
    let kube = KubeService::start(&bad, h.catalog.clone())
        .await
        .expect("start");
    wait(&kube, Duration::from_secs(30), "the 401 to be said", |k| {
        k.clusters()[0].state().error.is_some()
    })
    .await;
    let state = kube.clusters()[0].state();
    let error = state.error.clone().unwrap_or_default();
    assert!(error.contains("refused the credentials"), "{error}");
    assert!(!format!("{state:?}").contains("not-a-token"));
    h.cleanup().await;
}
