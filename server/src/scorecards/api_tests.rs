//! The scorecards through the full router, on SQLite and PostgreSQL: the list (configured and
//! from the catalog), an entity's results, the error envelope, the read permission.

use super::tests::compiled;
use super::ScorecardService;
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

const CONFIG: &str = r#"
- name: basics
  title: Basics
  filter: {kind: component}
  levels: [bronze, silver]
  checks:
    - {id: owner, title: Owner exists, level: bronze, rule: ownerExists, fix: Set spec.owner to a group in the catalog.}
    - {id: on-call, title: On call, level: silver, rule: {annotation: pagerduty.com/service-id}, fix: Add the PagerDuty annotation.}
"#;

fn catalog() -> String {
    [
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  description: The shop.\n  annotations:\n    pagerduty.com/service-id: PWEB\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: orphan\nspec:\n  type: service\n  lifecycle: production\n  owner: team-gone\n",
        "apiVersion: backlot.io/v1alpha1\nkind: Scorecard\nmetadata:\n  name: docs\n  title: Documented\nspec:\n  filter:\n    type: service\n  levels: [ok]\n  checks:\n    - id: description\n      title: Has a description\n      level: ok\n      rule: description\n      fix: Write metadata.description.\n",
    ]
    .join("---\n")
}

async fn seeded(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("catalog-info.yaml", &catalog());
    h.register_file(&path).await;
    h
}

fn service() -> Arc<ScorecardService> {
    Arc::new(ScorecardService::new(compiled(CONFIG)))
}

async fn get_json(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let res = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("{uri}: not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

both_databases!(the_api_serves_scorecards_and_results, setup = seeded, |h| {
    let mut state = h.state();
    state.scorecards = service();
    let router = crate::http::router(state);
    let (s, b) = get_json(&router, "/api/scorecards").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let items = b["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{b}");
    assert_eq!(items[0]["name"], "basics");
    assert_eq!(items[0]["source"], "config");
    assert_eq!(items[0]["filter"], json!(["kind=component"]));
    assert_eq!(
        items[0]["checks"][1]["rule"],
        "annotation pagerduty.com/service-id"
    );
    assert_eq!(items[1]["name"], "docs");
    assert_eq!(items[1]["source"], "scorecard:default/docs");

    let (s, b) = get_json(&router, "/api/scorecards/entities/default/component/web").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["entity"],
        json!({"kind": "Component", "namespace": "default", "name": "web"})
    );
    assert_eq!(b["scorecards"][0]["level"], "silver");
    assert!(b["scorecards"][0].get("next_level").is_none(), "{b}");
    assert_eq!(b["scorecards"][1]["name"], "docs");
    assert_eq!(b["scorecards"][1]["level"], "ok");

    let (s, b) = get_json(&router, "/api/scorecards/entities/DEFAULT/Component/orphan").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let basics = &b["scorecards"][0];
    assert!(basics.get("level").is_none(), "{b}");
    assert_eq!(basics["next_level"], "bronze");
    assert_eq!(
        basics["checks"][0],
        json!({"id": "owner", "title": "Owner exists", "level": "bronze", "passed": false,
               "reason": "owner group:default/team-gone is not in the catalog",
               "fix": "Set spec.owner to a group in the catalog."})
    );
    assert_eq!(
        b["scorecards"][1]["checks"][0]["reason"],
        "metadata.description is empty"
    );

    // A group: no scorecard applies.
    let (s, b) = get_json(&router, "/api/scorecards/entities/default/group/team-a").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["scorecards"], json!([]));

    let (s, b) = get_json(&router, "/api/scorecards/entities/default/component/nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error"]["name"], "NotFoundError");
    assert_eq!(
        b["error"]["message"],
        "no entity named component:default/nope"
    );
});

/// Who may not read an entity gets a 404 for its results, and does not see a catalog
/// scorecard they may not read.
#[tokio::test]
async fn results_follow_the_catalog_s_read_permission() {
    const READ_OWN: &str = "roles:\n  r:\n    rules:\n      - allow: [catalog.entity.read]\n        when: {is_owner: true}\nbindings:\n  - {role: r, signed_in: true}\n";
    let h = seeded(TestDb::sqlite().await).await;
    let mut state = h.state();
    state.scorecards = service();
    state.policy = Arc::new(PolicyStore::fixed(
        file::parse(READ_OWN, "p").expect("policy"),
    ));
    let alice = Caller {
        user: Some(EntityRef::new("User", "default", "alice")),
        groups: vec![EntityRef::new("Group", "default", "team-a")],
        ..Default::default()
    };
    let router = crate::http::router(state).layer(axum::Extension(TestCaller(alice)));
    let (s, _) = get_json(&router, "/api/scorecards/entities/default/component/web").await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = get_json(&router, "/api/scorecards/entities/default/component/orphan").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (_, b) = get_json(&router, "/api/scorecards").await;
    let names: Vec<&str> = b["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["basics"]);
    h.cleanup().await;
}

/// The entity page's Scorecards section: the level badge, ✓/✗, the reason and how to fix.
#[tokio::test]
async fn the_entity_page_shows_the_results() {
    let h = seeded(TestDb::sqlite().await).await;
    let mut state = h.state();
    state.scorecards = service();
    let router = crate::http::router(state);
    let get = |uri: &'static str| {
        let router = router.clone();
        async move {
            let res = router
                .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
                .await
                .expect("response");
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    let (s, page) = get("/catalog/default/component/orphan").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"scorecards-heading\""), "{page}");
    assert!(page.contains(">no level</span>"), "{page}");
    assert!(page.contains("✗"), "{page}");
    assert!(
        page.contains("owner group:default/team-gone is not in the catalog"),
        "{page}"
    );
    assert!(
        page.contains("How to fix: <!>Set spec.owner to a group in the catalog."),
        "{page}"
    );
    let (_, page) = get("/catalog/default/component/web").await;
    assert!(page.contains("data-level=\"silver\""), "{page}");
    assert!(page.contains("✓"), "{page}");
    // No scorecard applies to a group: no section of its own (the team rollup is another).
    let (_, page) = get("/catalog/default/group/team-a").await;
    assert!(!page.contains("id=\"scorecards-heading\""));
    h.cleanup().await;
}

/// The group page's rollup: what the team owns, worst first, with the failing checks.
#[tokio::test]
async fn the_group_page_rolls_up_what_the_team_owns() {
    let h = seeded(TestDb::sqlite().await).await;
    let mut state = h.state();
    state.scorecards = service();
    let views = super::service::Views {
        scorecards: state.scorecards.clone(),
        facade: state.facade(),
    };
    let team =
        app::services::ScorecardReader::team(&views, &Caller::default(), "default", "team-a")
            .expect("team-a");
    let shown: Vec<(&str, &str, Option<&str>)> = team
        .entities
        .iter()
        .map(|e| {
            (
                e.entity.name.as_str(),
                e.scorecard.as_str(),
                e.level.as_deref(),
            )
        })
        .collect();
    // web: silver of 2 on Basics (everything), ok of 1 on Documented.
    assert_eq!(
        shown,
        [
            ("web", "Basics", Some("silver")),
            ("web", "Documented", Some("ok"))
        ]
    );
    let router = crate::http::router(state);
    let res = router
        .oneshot(
            Request::get("/catalog/default/group/team-a")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    let page = String::from_utf8_lossy(&bytes);
    assert!(page.contains("id=\"team-scorecards-heading\""), "{page}");
    assert!(
        page.contains("href=\"/catalog/default/component/web#scorecards\""),
        "{page}"
    );
    h.cleanup().await;
}

/// Waits until the service's latest results are the catalog's current snapshot's.
async fn evaluated(s: &ScorecardService, catalog: &crate::catalog::service::CatalogService) {
    let mut done = s.subscribe();
    for _ in 0..100 {
        if s.settled(&catalog.snapshot()) {
            return;
        }
        let _ = tokio::time::timeout(std::time::Duration::from_millis(100), done.changed()).await;
    }
    panic!("the scorecards were not evaluated after the catalog published");
}

// The loop evaluates each published snapshot without any request asking, carries over what
// did not change, and writes a team's day only when its counts change; the group page then
// draws the trend.
both_databases!(
    published_snapshots_are_evaluated_and_kept_as_history,
    setup = seeded,
    |h| {
        let scorecards = service();
        let task = scorecards.spawn(h.catalog.clone(), h.db.store.clone());
        evaluated(&scorecards, &h.catalog).await;
        let first = scorecards.latest().expect("evaluated");
        assert_eq!(first.evaluated, h.catalog.snapshot().records.len());
        let today = crate::scorecards::history::today();
        // Basics has two levels (no level, bronze, silver), Documented one (no level, ok).
        let mut rows = h.db.store.scorecard_history(0).await.unwrap();
        rows.sort_by(|a, b| (&a.scorecard, &a.owner_ref).cmp(&(&b.scorecard, &b.owner_ref)));
        let shown: Vec<(&str, &str, i64, Vec<u32>)> = rows
            .iter()
            .map(|r| {
                (
                    r.scorecard.as_str(),
                    r.owner_ref.as_str(),
                    r.day,
                    r.counts.clone(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("basics", "group:default/team-a", today, vec![0, 0, 1]),
                ("basics", "group:default/team-gone", today, vec![1, 0, 0]),
                ("docs", "group:default/team-a", today, vec![0, 1]),
                ("docs", "group:default/team-gone", today, vec![1, 0]),
            ]
        );

        // web loses its on-call annotation: only web (and what relates to it) is evaluated again,
        // and team-a's Basics day is rewritten; nothing else.
        let changed = catalog().replace("  annotations:\n    pagerduty.com/service-id: PWEB\n", "");
        h.write("catalog-info.yaml", &changed);
        let id = h.catalog.snapshot().locations[0].id.clone();
        h.catalog.refresh_location(&id).await.unwrap();
        evaluated(&scorecards, &h.catalog).await;
        let second = scorecards.latest().expect("evaluated");
        assert!(
            second.evaluated < h.catalog.snapshot().records.len(),
            "{} of {}",
            second.evaluated,
            h.catalog.snapshot().records.len()
        );
        let rows = h.db.store.scorecard_history(0).await.unwrap();
        assert_eq!(rows.len(), 4, "{rows:?}");
        let basics_a = rows
            .iter()
            .find(|r| r.scorecard == "basics" && r.owner_ref == "group:default/team-a")
            .expect("team-a's basics");
        assert_eq!(basics_a.counts, vec![0, 1, 0]);

        let mut state = h.state();
        state.scorecards = scorecards.clone();
        let views = crate::scorecards::service::Views {
            scorecards: state.scorecards.clone(),
            facade: state.facade(),
        };
        let team =
            app::services::ScorecardReader::team(&views, &Caller::default(), "default", "team-a")
                .expect("team-a");
        let basics = team
            .trend
            .iter()
            .find(|t| t.name == "basics")
            .expect("a trend");
        assert_eq!(basics.days.len(), 30);
        assert_eq!(basics.counts.last(), Some(&vec![0, 1, 0]));
        assert_eq!(
            basics.reaching(),
            vec![
                vec![0; 29].into_iter().chain([1]).collect::<Vec<u32>>(),
                vec![0; 30]
            ]
        );
        let router = crate::http::router(state);
        let res = router
            .oneshot(
                Request::get("/catalog/default/group/team-a")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let page = String::from_utf8_lossy(&bytes);
        assert!(page.contains("data-trend=\"basics\""), "{page}");
        assert!(page.contains("<svg"), "{page}");
        assert!(
            page.contains("data-level=\"bronze\" class=\"trend-level-0\""),
            "{page}"
        );
        assert!(page.contains("or above: "), "{page}");
        task.abort();
    }
);

const OPERATED: &str = r#"
- name: operated
  title: Operated
  filter: {kind: component}
  levels: [bronze, silver]
  checks:
    - {id: fresh, title: Committed to in the last 30 days, level: bronze, rule: {lastCommit: {withinDays: 30}}, fix: Merge the pending work or archive the repository.}
    - {id: docs, title: Has TechDocs, level: bronze, rule: techdocs, fix: Add docs/ and backstage.io/techdocs-ref.}
    - {id: pages, title: Two docs pages, level: silver, rule: {docsPages: {min: 2}}, fix: Write more docs.}
    - {id: dashboard, title: Dashboard link, level: silver, rule: dashboardLink, fix: Link a dashboard.}
    - {id: on-call, title: On-call link, level: silver, rule: onCallLink, fix: Add a PagerDuty id.}
"#;

fn documented(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n{extra}spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

// The Git, docs and link rules over a real repository (its commit's time, its docs built as the
// Docs tab builds them) and a folder on disk (no commit), through the API.
both_databases!(
    git_docs_and_link_rules_through_the_api,
    setup = Harness::new,
    |h| {
        let server = crate::git::testing::GitServer::start();
        let repo = server.create("shop");
        let links = "  links:\n    - {url: 'https://grafana.example.com/d/shop', title: Shop dashboard, type: dashboard}\n";
        repo.commit(
            &[
                ("catalog-info.yaml", Some(&documented("shop", links))),
                ("docs/index.md", Some("# Shop\n")),
                ("docs/operations.md", Some("# Operations\n")),
            ],
            "first",
        );
        let (status, out) = h
            .call(
                "POST",
                "/api/catalog/locations",
                Some(json!({"type": "git", "target": server.url("shop")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{out}");
        let pager = "    pagerduty.com/service-id: PLOCAL\n";
        let path = h.write("local/catalog-info.yaml", &documented("local", pager));
        h.write("local/README.md", "# Local\n");
        h.register_file(&path).await;

        let settings: crate::observability::ObservabilitySettings = yaml_serde::from_str(
            "links:\n  - {title: PagerDuty, type: oncall, url: 'https://pd.example.com/{{ entity.annotations[\"pagerduty.com/service-id\"] }}'}\n",
        )
        .expect("yaml");
        let templates =
            crate::observability::LinkTemplates::compile(&settings.links.unwrap_or_default())
                .expect("templates");
        let mut state = h.state();
        state.scorecards =
            Arc::new(ScorecardService::new(compiled(OPERATED)).with_links(Arc::new(templates)));
        let router = crate::http::router(state);
        let checks = |b: &Value| -> Vec<(String, bool, String)> {
            b["scorecards"][0]["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap_or_default().to_string(),
                        c["passed"].as_bool().unwrap_or_default(),
                        c["reason"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        };

        let (s, b) = get_json(&router, "/api/scorecards/entities/default/component/shop").await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let shop = checks(&b);
        let today = crate::util::format_rfc3339(crate::util::now_ms() / 1000, 0);
        assert_eq!(
            shop[0],
            (
                "fresh".into(),
                true,
                format!("the last commit is 0 days old ({})", &today[..10])
            ),
            "{b}"
        );
        assert_eq!(
            shop[1],
            ("docs".into(), true, "TechDocs with 2 pages".into())
        );
        assert_eq!(
            shop[2],
            ("pages".into(), true, "TechDocs with 2 pages".into())
        );
        assert_eq!(
            shop[3],
            (
                "dashboard".into(),
                true,
                "dashboard link \"Shop dashboard\" in metadata.links".into()
            )
        );
        assert!(!shop[4].1, "{b}");
        assert_eq!(b["scorecards"][0]["level"], "bronze");

        let (s, b) = get_json(&router, "/api/scorecards/entities/default/component/local").await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let local = checks(&b);
        assert_eq!(
            local[0],
            (
                "fresh".into(),
                false,
                "read from files on disk, not from Git: there is no commit to date".into()
            )
        );
        assert_eq!(
            local[1],
            ("docs".into(), true, "TechDocs with 1 page".into())
        );
        assert_eq!(
            local[2],
            (
                "pages".into(),
                false,
                "TechDocs with 1 page, fewer than 2".into()
            )
        );
        assert_eq!(
            local[4],
            (
                "on-call".into(),
                true,
                "on-call link \"PagerDuty\" in the observability links".into()
            )
        );
        assert_eq!(
            b["scorecards"][0]["checks"][0]["fix"],
            "Merge the pending work or archive the repository."
        );
    }
);
