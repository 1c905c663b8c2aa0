//! REST API through the full router, on SQLite and PostgreSQL.

use crate::both_databases;
use crate::storage::testing::TestDb;
use crate::test_support::{component, group, thirty_components, Harness};
use axum::http::StatusCode;
use serde_json::{json, Value};

/// 30 components (c00…c29; even ones are websites) owned by team-a or team-b, and the groups.
async fn seeded(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("catalog-info.yaml", &thirty_components());
    let (status, body) = h
        .call(
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": path})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["entities"].as_array().unwrap().len(), 32);
    h
}

fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

both_databases!(by_query_filters_pages_and_cursors, setup = seeded, |h| {
    let (s, b) = h.call("GET", "/api/catalog/entities/by-query?filter=kind=component,spec.type=service&limit=4&orderField=metadata.name,desc", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["totalItems"], 15);
    assert_eq!(names(&b["items"]), vec!["c29", "c27", "c25", "c23"]);
    assert!(b["pageInfo"].get("prevCursor").is_none());
    let mut seen = names(&b["items"]);
    let mut cursor = b["pageInfo"]["nextCursor"].as_str().unwrap().to_string();
    loop {
        let (s, b) = h
            .call(
                "GET",
                &format!("/api/catalog/entities/by-query?cursor={cursor}&limit=4"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(b["pageInfo"]["prevCursor"].is_string());
        seen.extend(names(&b["items"]));
        match b["pageInfo"]["nextCursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 15);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted);

    // OR of filters, fields projection, full text.
    let (_, b) = h.call("GET", "/api/catalog/entities/by-query?filter=kind=group&filter=metadata.name=c01&fields=kind,metadata.name", None).await;
    assert_eq!(b["totalItems"], 3);
    assert_eq!(
        b["items"][0],
        json!({"kind": "Component", "metadata": {"name": "c01"}})
    );
    let (_, b) = h
        .call(
            "GET",
            "/api/catalog/entities/by-query?fullTextFilterTerm=C1&filter=kind=component",
            None,
        )
        .await;
    assert_eq!(b["totalItems"], 10);
    let (_, b) = h
        .call(
            "GET",
            "/api/catalog/entities/by-query?filter=relations.ownedBy=group:default/team-a",
            None,
        )
        .await;
    assert_eq!(b["totalItems"], 10);

    // POST with a predicate filter.
    let (s, b) = h.call("POST", "/api/catalog/entities/by-query", Some(json!({
        "filter": {"kind": "component", "$any": [{"metadata.name": "c00"}, {"metadata.name": {"$in": ["c03", "C05"]}}]},
        "orderBy": [{"field": "metadata.name", "order": "asc"}], "limit": 2
    }))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["totalItems"], 3);
    assert_eq!(names(&b["items"]), vec!["c00", "c03"]);
    let (s, b) = h
        .call(
            "POST",
            "/api/catalog/entities/by-query",
            Some(json!({"filter": {"$not": {"kind": "x"}}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["error"]["message"].as_str().unwrap().contains("$not"));
});

both_databases!(
    entity_lookups_and_errors_use_the_envelope,
    setup = seeded,
    |h| {
        let (s, e) = h
            .call(
                "GET",
                "/api/catalog/entities/by-name/Component/default/c01",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(e["metadata"]["name"], "c01");
        assert_eq!(e["metadata"]["namespace"], "default");
        assert!(e["relations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["type"] == "ownedBy" && r["targetRef"] == "group:default/team-b"));
        let uid = e["metadata"]["uid"].as_str().unwrap();
        let (s, by_uid) = h
            .call("GET", &format!("/api/catalog/entities/by-uid/{uid}"), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(by_uid, e);

        let (s, b) = h
            .call(
                "GET",
                "/api/catalog/entities/by-name/component/default/nope",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(b["error"]["name"], "NotFoundError");
        assert_eq!(b["request"]["method"], "GET");
        assert_eq!(
            b["request"]["url"],
            "/api/catalog/entities/by-name/component/default/nope"
        );
        assert_eq!(b["response"]["statusCode"], 404);

        let (s, b) = h.call("GET", "/api/catalog/nothing-here", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(b["error"]["name"], "NotFoundError");
        let (s, b) = h
            .call(
                "POST",
                "/api/catalog/entities/by-refs",
                Some(json!({"wrong": 1})),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(b["error"]["name"], "InputError");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("entityRefs"),
            "{b}"
        );
        let (s, b) = h
            .call("GET", "/api/catalog/entities/by-query?limit=abc", None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(b["error"]["message"].as_str().unwrap().contains("limit"));

        let (s, b) = h.call("POST", "/api/catalog/entities/by-refs", Some(json!({"entityRefs": ["component:c02", "group:default/nope", "group:team-a"], "fields": ["metadata.name"]}))).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            b["items"],
            json!([{"metadata": {"name": "c02"}}, null, {"metadata": {"name": "team-a"}}])
        );

        let (s, b) = h
        .call(
            "GET",
            "/api/catalog/entities?filter=spec.type=website&offset=2&limit=3&fields=metadata.name",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(b.as_array().unwrap().len(), 3);

        let (_, f) = h
            .call(
                "GET",
                "/api/catalog/entity-facets?facet=kind&facet=spec.type",
                None,
            )
            .await;
        assert_eq!(
            f["facets"]["kind"],
            json!([{"value": "Component", "count": 30}, {"value": "Group", "count": 2}])
        );
        assert!(f["facets"]["spec.type"]
            .as_array()
            .unwrap()
            .contains(&json!({"value": "website", "count": 15})));
    }
);

both_databases!(locations_validate_and_refresh, setup = seeded, |h| {
    let (s, b) = h.call("GET", "/api/catalog/locations", None).await;
    assert_eq!(s, StatusCode::OK);
    let id = b[0]["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(b[0]["data"]["type"], "file");
    let (s, l) = h
        .call("GET", &format!("/api/catalog/locations/{id}"), None)
        .await;
    assert_eq!((s, l["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
    let (_, l) = h
        .call(
            "GET",
            "/api/catalog/locations/by-entity/component/default/c05",
            None,
        )
        .await;
    assert_eq!(l["id"], id);

    // Outside the roots: a 403 that names the setting.
    let (s, b) = h
        .call(
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": "/etc/passwd"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("BACKLOT_FILE_ROOTS"));
    // Dry run of a new file.
    let extra = h.write("extra.yaml", &component("extra", "team-a"));
    let (s, b) = h
        .call(
            "POST",
            "/api/catalog/locations?dryRun=true",
            Some(json!({"type": "file", "target": extra})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["exists"], false);
    // Nothing was registered, so no id names it.
    assert!(b["location"].get("id").is_none(), "{b}");
    assert_eq!(b["entities"][0]["metadata"]["name"], "extra");
    let (s, _) = h
        .call(
            "GET",
            "/api/catalog/entities/by-name/component/default/extra",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = h
        .call(
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "url", "target": "https://x"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");

    // Refresh picks up an edit at once.
    h.write(
        "catalog-info.yaml",
        &format!("{}---\n{}", group("team-a"), component("c00", "team-a")),
    );
    let (s, _) = h
        .call(
            "POST",
            "/api/catalog/refresh",
            Some(json!({"entityRef": "component:default/c00"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, b) = h
        .call(
            "GET",
            "/api/catalog/entities/by-query?filter=kind=component",
            None,
        )
        .await;
    assert_eq!(b["totalItems"], 1);

    let (s, b) = h
        .call(
            "POST",
            "/api/catalog/validate-entity",
            Some(json!({"location": "url:x", "entity": {
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "ok"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "me"}}})),
        )
        .await;
    assert_eq!((s, b), (StatusCode::OK, json!({})));
    let (s, b) = h.call("POST", "/api/catalog/validate-entity", Some(json!({"location": "url:x", "entity": {
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "not ok"}, "spec": {"type": "service"}}}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"metadata.name"), "{b}");
    assert!(fields.iter().any(|f| f.starts_with("spec")), "{b}");

    let (s, _) = h
        .call("DELETE", &format!("/api/catalog/locations/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = h
        .call("DELETE", &format!("/api/catalog/locations/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, b) = h.call("GET", "/api/catalog/entities", None).await;
    assert_eq!(b, json!([]));
});

both_databases!(
    what_the_document_refuses_the_server_refuses,
    setup = seeded,
    |h| {
        let q = "/api/catalog/entities/by-query";
        let bad = |s: StatusCode, b: &Value, what: &str| {
            assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {b}");
            assert_eq!(b["error"]["name"], "InputError", "{what}: {b}");
        };
        // A JSON body is an object: `[]` is not "no filter".
        let (s, b) = h.call("POST", q, Some(json!([]))).await;
        bad(s, &b, "array body");
        assert!(b["error"]["message"].as_str().unwrap().contains("object"));
        let (s, b) = h
            .call(
                "POST",
                "/api/catalog/entities/by-refs",
                Some(json!([["x"]])),
            )
            .await;
        bad(s, &b, "array body");
        // No property is nullable: absent says "none".
        for body in [
            json!({"cursor": null}),
            json!({"limit": null}),
            json!({"filter": null}),
        ] {
            let (s, b) = h.call("POST", q, Some(body.clone())).await;
            bad(s, &b, &body.to_string());
        }
        // Entity references: kind:[namespace/]name, every part there.
        for r in [
            "",
            "c01",
            "component:",
            ":c01",
            "component:default/",
            "component:a/b/c",
        ] {
            let (s, b) = h
                .call(
                    "POST",
                    "/api/catalog/entities/by-refs",
                    Some(json!({"entityRefs": [r]})),
                )
                .await;
            bad(s, &b, r);
            let (s, b) = h
                .call(
                    "POST",
                    "/api/catalog/refresh",
                    Some(json!({"entityRef": r})),
                )
                .await;
            bad(s, &b, r);
        }
        // A cursor overrides filter, order and offset, which must still be well-formed.
        let (_, first) = h.call("GET", &format!("{q}?limit=2"), None).await;
        let cursor = first["pageInfo"]["nextCursor"]
            .as_str()
            .unwrap()
            .to_string();
        for extra in [
            "filter==x",
            "orderField=a,sideways",
            "offset=-1",
            "offset=x",
        ] {
            let (s, b) = h
                .call("GET", &format!("{q}?cursor={cursor}&{extra}"), None)
                .await;
            bad(s, &b, extra);
        }
        let (s, b) = h
            .call(
                "POST",
                q,
                Some(json!({"cursor": cursor, "filter": {"$nope": 1}})),
            )
            .await;
        bad(s, &b, "cursor with a bad filter");
        // An operator object holds one operator.
        for filter in [
            json!({"kind": {"$exists": true, "": null}}),
            json!({"kind": {"$in": ["component"], "$exists": true}}),
            json!({"kind": {}}),
            json!({"kind": {"$exists": false}}),
        ] {
            let (s, b) = h.call("POST", q, Some(json!({ "filter": filter }))).await;
            bad(s, &b, &filter.to_string());
        }
        let (s, b) = h
            .call("GET", &format!("{q}?cursor=not-a-cursor"), None)
            .await;
        bad(s, &b, "made-up cursor");
        // One value for single-valued parameters.
        for query in [
            "limit=1&limit=2",
            "offset=0&offset=1",
            "cursor=a&cursor=b",
            "fullTextFilterTerm=a&fullTextFilterTerm=b",
        ] {
            let (s, b) = h.call("GET", &format!("{q}?{query}"), None).await;
            bad(s, &b, query);
            assert!(
                b["error"]["message"].as_str().unwrap().contains("once"),
                "{b}"
            );
        }
        // Integers as JSON writes them.
        let (s, b) = h
            .call("GET", &format!("{q}?limit=2.0&offset=1e0"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["items"].as_array().unwrap().len(), 2);
        let (s, b) = h
            .call("GET", &format!("{q}?limit=1e%2B19&offset=1e%2B19"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            (b["items"].clone(), b["totalItems"].clone()),
            (json!([]), json!(32))
        );
        let (s, b) = h
            .call("POST", q, Some(json!({"limit": 2.0, "offset": 1e0})))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["items"].as_array().unwrap().len(), 2);
        for query in [
            "limit=1.5",
            "limit=0",
            "offset=-0.5",
            "limit=NaN",
            "limit=inf",
            "limit=%202",
        ] {
            let (s, b) = h.call("GET", &format!("{q}?{query}"), None).await;
            bad(s, &b, query);
        }
        let (s, b) = h.call("POST", q, Some(json!({"limit": 1.5}))).await;
        bad(s, &b, "limit 1.5");
        // Strict orders and flags.
        let (s, b) = h
            .call(
                "POST",
                q,
                Some(json!({"orderBy": [{"field": "kind", "order": "ASC"}]})),
            )
            .await;
        bad(s, &b, "order ASC");
        let (s, b) = h
            .call("POST", q, Some(json!({"orderBy": [{"field": ""}]})))
            .await;
        bad(s, &b, "empty order field");
        let (s, b) = h
            .call("GET", "/api/catalog/entities?order=metadata.name", None)
            .await;
        bad(s, &b, "legacy order without direction");
        let (s, b) = h
            .call(
                "GET",
                "/api/catalog/entities?order=desc:metadata.name&limit=1&fields=metadata.name",
                None,
            )
            .await;
        assert_eq!(
            (s, b),
            (StatusCode::OK, json!([{"metadata": {"name": "team-b"}}]))
        );
        let extra = h.write("extra.yaml", &component("extra", "team-a"));
        for flag in ["yes", "1", "TRUE"] {
            let (s, b) = h
                .call(
                    "POST",
                    &format!("/api/catalog/locations?dryRun={flag}"),
                    Some(json!({"type": "file", "target": extra})),
                )
                .await;
            bad(s, &b, flag);
        }
        // Projections keep a key with dots whole.
        let (s, b) = h
            .call(
                "GET",
                "/api/catalog/entities/by-query?filter=metadata.name=c01&fields=metadata.annotations.backstage.io/managed-by-location",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let item = &b["items"][0];
        assert!(
            item["metadata"]["annotations"]["backstage.io/managed-by-location"].is_string(),
            "{item}"
        );
        assert_eq!(
            item["metadata"]["annotations"].as_object().unwrap().len(),
            1
        );
    }
);

/// Without a secret the webhook is refused with a 4xx that says what to set.
#[tokio::test]
async fn a_webhook_without_a_secret_is_not_configured() {
    use tower::ServiceExt;
    let h = Harness::new(TestDb::sqlite().await).await;
    let (_, git) = h
        .process(
            &h.root.join(".unconfigured"),
            crate::git::GitSettings::default(),
        )
        .await;
    let mut state = h.state();
    state.git = git;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/webhooks/git")
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .body(axum::body::Body::from("{}"))
        .expect("request");
    let res = crate::http::router(state)
        .oneshot(req)
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    let b: Value = serde_json::from_slice(&body).expect("envelope");
    assert_eq!(b["error"]["name"], "NotConfiguredError");
    let message = b["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("git.webhook_secret") && message.contains("BACKLOT_WEBHOOK_SECRET"),
        "{message}"
    );
    h.cleanup().await;
}

/// Every (method, path template) the OpenAPI document describes.
fn documented_operations() -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(super::OPENAPI).expect("openapi.json is JSON");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().expect("path item").keys().filter(|m| {
            [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&m.as_str())
        }) {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    documented
}

#[tokio::test]
async fn openapi_describes_exactly_the_routes_the_router_is_built_from() {
    let mut routes: Vec<(String, String)> = super::routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    routes.sort();
    assert_eq!(documented_operations(), routes);
}

/// Each documented operation, sent through the real router, reaches its own route (not the
/// `/api` catch-all, not a 405).
#[tokio::test]
async fn every_documented_operation_is_routed() {
    use axum::extract::{MatchedPath, Request};
    use axum::middleware::Next;
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt;

    let h = Harness::new(TestDb::sqlite().await).await;
    let matched: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = matched.clone();
    let router = crate::http::router(h.state()).layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let seen = seen.clone();
            async move {
                *seen.lock().expect("matched path") = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|m| m.as_str().to_string());
                next.run(req).await
            }
        },
    ));
    let operations = documented_operations();
    assert!(operations.len() > 20, "{operations:?}");
    for (method, template) in operations {
        let uri = template
            .split('/')
            .map(|seg| if seg.starts_with('{') { "sample" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let req = axum::http::Request::builder()
            .method(method.as_str())
            .uri(&uri)
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{}"))
            .expect("request");
        *matched.lock().expect("matched path") = None;
        // Streams are not read: the status and the route are known once the headers are.
        let res = router.clone().oneshot(req).await.expect("response");
        assert_ne!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        assert_eq!(
            matched.lock().expect("matched path").as_deref(),
            Some(template.as_str()),
            "{method} {uri} reached another route (status {})",
            res.status()
        );
    }
    h.cleanup().await;
}

#[tokio::test]
async fn health_metrics_and_the_document_answer() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let (s, body) = h.call_raw("GET", "/healthz", None).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "ok"));
    let (s, _) = h.call_raw("GET", "/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
    h.call_raw("GET", "/api/catalog/entities", None).await;
    let (s, text) = h.call_raw("GET", "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("backlot_catalog_entities"));
    let (s, text) = h.call_raw("GET", "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("\"openapi\""));
    h.cleanup().await;
}

/// A method a path does not have: 405 in the envelope, with the methods it has.
#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    use tower::ServiceExt;
    let h = Harness::new(TestDb::sqlite().await).await;
    let req = axum::http::Request::builder()
        .method("PUT")
        .uri("/api/catalog/locations")
        .body(axum::body::Body::empty())
        .expect("request");
    let res = crate::http::router(h.state())
        .oneshot(req)
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = res
        .headers()
        .get("allow")
        .expect("allow header")
        .to_str()
        .unwrap()
        .to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    let b: Value = serde_json::from_slice(&body).expect("envelope");
    assert_eq!(b["error"]["name"], "MethodNotAllowedError");
    h.cleanup().await;
}
