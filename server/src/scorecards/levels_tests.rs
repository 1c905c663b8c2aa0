//! The scorecards' levels in the catalog table and `GET /api/scorecards/{name}/entities`, on
//! SQLite and PostgreSQL: the facet's counts given the other filters, the filter combined with
//! them, another scorecard chosen, results read as last evaluated (never evaluated by a read),
//! the page's column and facet, and the API's filter and errors.

use super::tests::compiled;
use super::ScorecardService;
use crate::both_databases;
use crate::catalog::views::Reader;
use crate::test_support::{send, Harness};
use app::model::{Caller, CatalogPage, CatalogQuery, FacetCount};
use app::services::CatalogReader;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const CONFIG: &str = r#"
- name: basics
  title: Basics
  filter: {kind: component}
  levels: [bronze, silver]
  checks:
    - {id: owner, title: Owner exists, level: bronze, rule: ownerExists}
    - {id: on-call, title: On call, level: silver, rule: {annotation: pagerduty.com/service-id}}
- name: docs
  title: Documented
  filter: {type: service}
  levels: [ok]
  checks:
    - {id: description, title: Has a description, level: ok, rule: description}
"#;

fn component(name: &str, spec_type: &str, owner: &str, extra: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n{extra}spec:\n  type: {spec_type}\n  lifecycle: production\n  owner: {owner}\n"
    )
}

/// On `basics`: web and lib silver, api bronze, orphan none; on `docs` (services only): web
/// ok, api and orphan none. The group has no level (no scorecard applies).
fn catalog() -> String {
    let on_call = "  annotations:\n    pagerduty.com/service-id: P1\n";
    [
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n".to_string(),
        component("web", "service", "team-a", &format!("  description: The shop.\n{on_call}")),
        component("api", "service", "team-a", ""),
        component("orphan", "service", "team-gone", ""),
        component("lib", "library", "team-a", &format!("  description: Shared code.\n{on_call}")),
    ]
    .join("---\n")
}

async fn seeded(db: crate::storage::testing::TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("catalog-info.yaml", &catalog());
    h.register_file(&path).await;
    h
}

/// The scorecards, evaluated over the harness's current snapshot.
fn evaluated(h: &Harness) -> Arc<ScorecardService> {
    let s = Arc::new(ScorecardService::new(compiled(CONFIG)));
    s.evaluate_now(&h.catalog.snapshot(), h.catalog.sources());
    s
}

fn counts(facets: &[FacetCount]) -> Vec<(String, usize, bool)> {
    facets
        .iter()
        .map(|f| (f.value.clone(), f.count, f.selected))
        .collect()
}

fn names(page: &CatalogPage) -> Vec<&str> {
    page.items
        .iter()
        .map(|s| s.entity_ref.name.as_str())
        .collect()
}

fn c(v: &str, n: usize, selected: bool) -> (String, usize, bool) {
    (v.to_string(), n, selected)
}

both_databases!(
    the_catalog_table_filters_and_counts_levels,
    setup = seeded,
    |h| {
        let scorecards = evaluated(&h);
        let reader = Reader {
            facade: h.state().facade(),
            levels: Some(scorecards.clone()),
        };
        let guest = Caller::guest();
        let list = |q: CatalogQuery| reader.list(&guest, &q);

        // The first scorecard by default: a level per row (none where it does not apply).
        let page = list(CatalogQuery::default());
        assert_eq!(names(&page), ["api", "lib", "orphan", "team-a", "web"]);
        let levels = page.levels.clone().expect("a level column");
        assert_eq!(levels.scorecard, "basics");
        assert_eq!(
            levels.scorecards,
            [
                ("basics".to_string(), "Basics".to_string()),
                ("docs".to_string(), "Documented".to_string())
            ]
        );
        assert_eq!(levels.items, [Some(1), Some(2), Some(0), None, Some(2)]);
        assert_eq!(
            levels
                .items
                .iter()
                .map(|k| k.and_then(|k| levels.name(k)))
                .collect::<Vec<_>>(),
            [
                Some("bronze".to_string()),
                Some("silver".into()),
                None,
                None,
                Some("silver".into())
            ]
        );
        // Highest first, then no level.
        assert_eq!(
            counts(&levels.facet),
            [
                c("silver", 2, false),
                c("bronze", 1, false),
                c("none", 1, false)
            ]
        );

        // Filtered by a level: the level's own counts ignore it, the other facets count with it.
        let page = list(CatalogQuery {
            levels: vec!["silver".into()],
            ..Default::default()
        });
        assert_eq!(names(&page), ["lib", "web"]);
        assert_eq!(page.total, 2);
        let levels = page.levels.clone().expect("a level column");
        assert_eq!(
            counts(&levels.facet),
            [
                c("silver", 2, true),
                c("bronze", 1, false),
                c("none", 1, false)
            ]
        );
        assert_eq!(
            counts(&page.facets.types),
            [c("library", 1, false), c("service", 1, false)]
        );

        // Combined with another filter, and a level in any case plus `none`.
        let page = list(CatalogQuery {
            levels: vec!["SILVER".into(), "none".into()],
            types: vec!["service".into()],
            ..Default::default()
        });
        assert_eq!(names(&page), ["orphan", "web"]);
        let levels = page.levels.clone().expect("a level column");
        assert_eq!(
            counts(&levels.facet),
            [
                c("silver", 1, true),
                c("bronze", 1, false),
                c("none", 1, true)
            ]
        );
        assert_eq!(
            counts(&page.facets.types),
            [c("service", 2, true), c("library", 1, false)]
        );
        // And with the text filter and the kind tab.
        let page = list(CatalogQuery {
            kind: Some("component".into()),
            levels: vec!["bronze".into()],
            text: Some("api".into()),
            ..Default::default()
        });
        assert_eq!(names(&page), ["api"]);

        // Another scorecard: its levels, its own rows.
        let page = list(CatalogQuery {
            scorecard: Some("DOCS".into()),
            ..Default::default()
        });
        let levels = page.levels.clone().expect("a level column");
        assert_eq!(levels.scorecard, "docs");
        assert_eq!(levels.items, [Some(0), None, Some(0), None, Some(1)]);
        assert_eq!(
            counts(&levels.facet),
            [c("ok", 1, false), c("none", 2, false)]
        );

        // A level the scorecard does not have matches nothing and stays listed, to be unticked.
        let page = list(CatalogQuery {
            levels: vec!["platinum".into()],
            ..Default::default()
        });
        assert_eq!(page.total, 0);
        let levels = page.levels.clone().expect("a level column");
        assert_eq!(
            levels
                .facet
                .last()
                .map(|f| (f.value.as_str(), f.count, f.selected)),
            Some(("platinum", 0, true))
        );

        // No scorecards: no column, and a level in the URL filters nothing.
        let plain = Reader::new(h.state().facade()).list(
            &guest,
            &CatalogQuery {
                levels: vec!["silver".into()],
                ..Default::default()
            },
        );
        assert_eq!(plain.levels, None);
        assert_eq!(plain.total, 5);

        // A newer snapshot than the results: rows show what was last evaluated; nothing is
        // evaluated by the read (the new service has no level until the loop's next pass).
        let path = h.write("more.yaml", &component("new-svc", "service", "team-a", ""));
        h.register_file(&path).await;
        let page = list(CatalogQuery::default());
        assert_eq!(
            names(&page),
            ["api", "lib", "new-svc", "orphan", "team-a", "web"]
        );
        let levels = page.levels.clone().expect("a level column");
        assert_eq!(
            levels.items,
            [Some(1), Some(2), None, Some(0), None, Some(2)]
        );
        scorecards.evaluate_now(&h.catalog.snapshot(), h.catalog.sources());
        let levels = list(CatalogQuery::default())
            .levels
            .expect("a level column");
        assert_eq!(
            levels.items,
            [Some(1), Some(2), Some(1), Some(0), None, Some(2)]
        );
    }
);

async fn get_json(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let a = send(router, None, "GET", uri, &[], "").await;
    let json =
        serde_json::from_str(&a.text).unwrap_or_else(|_| panic!("{uri}: not JSON: {}", a.text));
    (a.status, json)
}

both_databases!(the_api_and_the_page_read_levels, setup = seeded, |h| {
    let mut state = h.state();
    state.scorecards = evaluated(&h);
    let router = crate::http::router(state);

    let (s, b) = get_json(&router, "/api/scorecards/basics/entities").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["name"], "basics");
    assert_eq!(b["levels"], json!(["bronze", "silver"]));
    assert_eq!(
        b["counts"],
        json!([{"level": "silver", "count": 2}, {"level": "bronze", "count": 1}, {"level": "none", "count": 1}])
    );
    assert_eq!(b["items"].as_array().map(Vec::len), Some(4), "{b}");
    let (s, b) = get_json(
        &router,
        "/api/scorecards/Basics/entities?level=none&level=bronze",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["items"],
        json!([{"entity": "component:default/api", "level": "bronze"}, {"entity": "component:default/orphan"}])
    );
    assert_eq!(
        b["counts"][0],
        json!({"level": "silver", "count": 2}),
        "counts ignore the filter"
    );
    let (s, b) = get_json(&router, "/api/scorecards/basics/entities?level=platinum").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["error"]["name"], "InputError");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("bronze, silver"),
        "{b}"
    );
    let (s, b) = get_json(&router, "/api/scorecards/nope/entities").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error"]["name"], "NotFoundError");

    // The page: the column, the facet (a GET form's checkboxes), the filter applied.
    let page = send(&router, None, "GET", "/catalog?level=silver", &[], "").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.text;
    assert!(html.contains(">Level</th>"), "{html}");
    assert!(
        html.contains("data-scorecard=\"basics\" class=\"level-facet\""),
        "{html}"
    );
    assert!(
        html.contains("name=\"level\" value=\"silver\" checked"),
        "{html}"
    );
    assert!(
        html.contains("data-scorecard=\"docs\">Documented</a>"),
        "{html}"
    );
    assert!(html.contains("/catalog/default/component/web"), "{html}");
    assert!(!html.contains("/catalog/default/component/api\""), "{html}");
    assert_eq!(
        html.matches("data-level=\"silver\" class=\"badge level-badge\"")
            .count(),
        2,
        "{html}"
    );

    // Without scorecards: neither column nor facet.
    let plain = crate::http::router(h.state());
    let page = send(&plain, None, "GET", "/catalog", &[], "").await;
    assert!(!page.text.contains("level-facet"), "{}", page.text);
    assert!(!page.text.contains(">Level</th>"), "{}", page.text);
});

/// `none` is the facet's "no level reached", so no scorecard may name a level so.
#[test]
fn a_level_may_not_be_named_none() {
    let err = crate::config::Config::from_yaml(
        "scorecards:\n  - name: m\n    levels: [None, gold]\n    checks:\n      - {id: a, title: A, level: gold, rule: description}\n",
    )
    .expect_err("reserved level");
    assert_eq!(
        err,
        "scorecard \"m\": levels[0]: \"None\" is reserved: it means no level reached (in the catalog's level filter)"
    );
}
