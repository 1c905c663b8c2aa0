//! The links through the full router, on SQLite and PostgreSQL: the REST answer and its errors,
//! the policy, the entity and team pages; and the per-environment links from a real
//! kube-apiserver (the Kubernetes tab's cluster sections and the API).

use super::config::ObservabilitySettings;
use crate::both_databases;
use crate::http::caller::TestCaller;
use crate::policy::{file, PolicyStore};
use crate::storage::testing::TestDb;
use crate::test_support::Harness;
use app::model::{Caller, EntityRef};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const LINKS: &str = r#"links:
  - title: On-call (PagerDuty)
    type: oncall
    url: https://acme.pagerduty.com/service-directory/{{ entity.annotations["pagerduty.com/service-id"] }}
  - title: CI (GitHub Actions)
    type: ci
    if: {kind: component}
    url: https://github.com/{{ entity.annotations["github.com/project-slug"] | path }}/actions
  - title: Team schedule
    type: oncall
    if: {kind: group, annotation: opsgenie.com/team}
    url: https://acme.app.opsgenie.com/teams/dashboard?name={{ entity.annotations["opsgenie.com/team"] }}
  - title: Logs
    type: logs
    scope: environment
    url: https://logs.example.com/{{ cluster.environment }}?cluster={{ cluster.name }}&ns={{ cluster.namespace }}&q={{ cluster.selector }}
"#;

fn templates() -> Arc<super::LinkTemplates> {
    let settings: ObservabilitySettings = yaml_serde::from_str(LINKS).expect("yaml");
    Arc::new(settings.compile().expect("templates"))
}

fn catalog() -> String {
    [
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\n  annotations:\n    opsgenie.com/team: Team A & co\nspec:\n  type: team\n  children: []\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-b\nspec:\n  type: team\n  children: []\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  title: Web Shop\n  annotations:\n    pagerduty.com/service-id: P/WEB 1\n    github.com/project-slug: acme/web shop\n    backstage.io/kubernetes-id: web\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: quiet\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: vault\n  annotations:\n    pagerduty.com/service-id: PVAULT\nspec:\n  type: service\n  lifecycle: production\n  owner: team-b\n",
    ]
    .join("---\n")
}

async fn seeded(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("catalog-info.yaml", &catalog());
    h.register_file(&path).await;
    h
}

fn router(h: &Harness, kube: Option<Arc<crate::k8s::KubeService>>) -> axum::Router {
    let mut state = match kube {
        Some(k) => h.state_with(k),
        None => h.state(),
    };
    state.observability = templates();
    crate::http::router(state)
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String) {
    let res = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get_json(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let (status, text) = get(router, uri).await;
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{uri}: not JSON: {text}"));
    (status, json)
}

both_databases!(the_api_serves_an_entity_s_links, setup = seeded, |h| {
    let router = router(&h, None);
    let (s, b) = get_json(&router, "/api/observability/entities/default/component/web").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b,
        json!({
            "entity": {"kind": "Component", "namespace": "default", "name": "web"},
            "links": [
                {"title": "On-call (PagerDuty)", "url": "https://acme.pagerduty.com/service-directory/P%2FWEB%201", "type": "oncall", "icon": "oncall"},
                {"title": "CI (GitHub Actions)", "url": "https://github.com/acme/web%20shop/actions", "type": "ci", "icon": "ci"},
            ],
            // No cluster is configured: it runs nowhere Backlot knows.
            "environments": [],
        })
    );
    // Matched as the catalog's by-name is: any case.
    let (s, b) = get_json(&router, "/api/observability/entities/DEFAULT/COMPONENT/Web").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["links"].as_array().map(Vec::len), Some(2));
    // An entity without the annotations a template reads gets no link from it.
    let (s, b) = get_json(
        &router,
        "/api/observability/entities/default/component/quiet",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["links"], json!([]));
    // A group gets the links whose condition it meets.
    let (_, b) = get_json(&router, "/api/observability/entities/default/group/team-a").await;
    assert_eq!(
        b["links"],
        json!([{"title": "Team schedule", "url": "https://acme.app.opsgenie.com/teams/dashboard?name=Team%20A%20%26%20co", "type": "oncall", "icon": "oncall"}])
    );
    // An unknown entity: 404 in the API's envelope.
    let (s, b) = get_json(
        &router,
        "/api/observability/entities/default/component/nope",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(b["error"]["name"], "NotFoundError");
    assert_eq!(b["response"]["statusCode"], 404);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("component:default/nope"),
        "{b}"
    );
});

both_databases!(
    pages_show_the_links_beside_metadata_links,
    setup = seeded,
    |h| {
        let router = router(&h, None);
        let (s, page) = get(&router, "/catalog/default/component/web").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("id=\"observability-heading\""), "{page}");
        assert!(
            page.contains("href=\"https://acme.pagerduty.com/service-directory/P%2FWEB%201\""),
            "{page}"
        );
        assert!(page.contains("href=\"https://github.com/acme/web%20shop/actions\""));
        // No link, no card.
        let (_, page) = get(&router, "/catalog/default/component/quiet").await;
        assert!(!page.contains("observability-heading"));
        // The team page: its own links, and its services' on-call (web's, not vault's: team-b's).
        let (s, page) = get(&router, "/catalog/default/group/team-a").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("team-observability-heading"), "{page}");
        assert!(page.contains("name=Team%20A%20%26%20co"), "{page}");
        assert!(page.contains("On-call for its services"), "{page}");
        assert!(
            page.contains("href=\"/catalog/default/component/web\">Web Shop</a>"),
            "{page}"
        );
        assert!(!page.contains("PVAULT"), "{page}");
        // The CI link is not an on-call link.
        let on_call = &page[page.find("On-call for its services").unwrap_or(0)..];
        assert!(!on_call.contains("github.com"), "{page}");
    }
);

/// Who may not read an entity gets a 404 for its links, as from the catalog; its team page
/// lists no on-call links of what they may not read.
#[tokio::test]
async fn links_follow_the_catalog_s_read_permission() {
    const READ_OWN: &str = "roles:\n  r:\n    rules:\n      - allow: [catalog.entity.read]\n        when: {is_owner: true}\nbindings:\n  - {role: r, signed_in: true}\n";
    let h = seeded(TestDb::sqlite().await).await;
    let mut state = h.state();
    state.observability = templates();
    state.policy = Arc::new(PolicyStore::fixed(
        file::parse(READ_OWN, "p").expect("policy"),
    ));
    let alice = Caller {
        user: Some(EntityRef::new("User", "default", "alice")),
        groups: vec![EntityRef::new("Group", "default", "team-b")],
        ..Default::default()
    };
    let views = state.observability_views();
    assert!(views
        .entity_links(&alice, "component", "default", "vault")
        .is_some());
    assert!(views
        .entity_links(&alice, "component", "default", "web")
        .is_none());
    let router = crate::http::router(state).layer(axum::Extension(TestCaller(alice)));
    let (s, b) = get_json(&router, "/api/observability/entities/default/component/web").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error"]["name"], "NotFoundError");
    let (s, b) = get_json(
        &router,
        "/api/observability/entities/default/component/vault",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["links"][0]["url"],
        "https://acme.pagerduty.com/service-directory/PVAULT"
    );
    h.cleanup().await;
}

/// With a real cluster: the environment links are made from where the workloads run, in the
/// API and in the Kubernetes tab's cluster section.
#[tokio::test]
async fn environment_links_come_from_where_the_workloads_run() {
    use crate::k8s::testing::{ApiServer, Objects};
    let server = ApiServer::start();
    let h = seeded(TestDb::sqlite().await).await;
    let shop = Objects::new(server.client().await, "shop").await;
    shop.deployment(
        "web",
        json!({"backstage.io/kubernetes-id": "web"}),
        "nginx:1",
        1,
    )
    .await;
    let settings: crate::k8s::KubeSettings = yaml_serde::from_str(&format!(
        "clusters:\n- kubeconfig: {}\n  name: eu-1\n  environment: production\n",
        server.kubeconfig().display()
    ))
    .expect("settings");
    let kube = crate::k8s::KubeService::start(&settings, h.catalog.clone())
        .await
        .expect("start");
    let start = std::time::Instant::now();
    while kube.placements("component", "default", "web").is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no sync"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let router = router(&h, Some(kube.clone()));
    let (s, b) = get_json(&router, "/api/observability/entities/default/component/web").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let logs = "https://logs.example.com/production?cluster=eu-1&ns=shop&q=backstage.io%2Fkubernetes-id%3Dweb";
    assert_eq!(
        b["environments"],
        json!([{
            "cluster": "eu-1",
            "environment": "production",
            "namespace": "shop",
            "selector": "backstage.io/kubernetes-id=web",
            "links": [{"title": "Logs", "url": logs, "type": "logs", "icon": "logs"}],
        }])
    );
    // Runs nowhere: no environment links.
    let (_, b) = get_json(
        &router,
        "/api/observability/entities/default/component/vault",
    )
    .await;
    assert_eq!(b["environments"], json!([]));
    // The overview lists them under the place; the Kubernetes tab in the cluster's section.
    let href = format!("href=\"{}\"", logs.replace('&', "&amp;"));
    let (_, page) = get(&router, "/catalog/default/component/web").await;
    assert!(page.contains("production · eu-1, namespace shop"), "{page}");
    assert!(page.contains(&href), "{page}");
    let (_, page) = get(&router, "/catalog/default/component/web/kubernetes").await;
    let section = page
        .find("data-cluster=\"eu-1\"")
        .map(|at| &page[at..])
        .unwrap_or_else(|| panic!("no eu-1 section: {page}"));
    assert!(section.contains("cluster-links"), "{page}");
    assert!(section.contains(&href), "{page}");
    kube.close();
    h.cleanup().await;
}
