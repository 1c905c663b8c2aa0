//! The policy through the real router, on SQLite and PostgreSQL: what a signed-in caller
//! without rights is refused (403 naming the permission and the rule), and what reads hide.

use super::{file, PolicyStore};
use crate::both_databases;
use crate::http::caller::TestCaller;
use crate::storage::testing::TestDb;
use crate::test_support::{component, thirty_components, Harness};
use app::model::{Caller, EntityRef};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

/// Members read what their groups own and every group; they register and remove locations
/// whose entities they own; nobody deletes the `keep` location.
const OWNER_POLICY: &str = r#"
roles:
  member:
    rules:
      - name: read-own
        allow: [catalog.entity.read]
        when: { is_owner: true }
      - name: read-groups
        allow: [catalog.entity.read]
        when: { kind: group }
      - name: own-locations
        allow: [catalog.location.*]
        when: { is_owner: true }
      - name: never-websites
        deny: [catalog.location.delete]
        when: { type: website }
bindings:
  - role: member
    signed_in: true
"#;

/// 30 components (c00…c29, c0/3/6… owned by team-a, the rest by team-b; even ones are
/// websites) and the two groups, registered as the guest under the allow-all policy.
async fn seeded(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("catalog-info.yaml", &thirty_components());
    h.register_file(&path).await;
    h
}

fn alice() -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", "alice")),
        groups: vec![EntityRef::new("Group", "default", "team-a")],
        ..Default::default()
    }
}

/// Sends a request as `caller` under `policy`, through the full router.
async fn call_as(
    h: &Harness,
    policy: &str,
    caller: &Caller,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut state = h.state();
    state.policy = Arc::new(PolicyStore::fixed(
        file::parse(policy, "test.yaml").expect("policy"),
    ));
    let router = crate::http::router(state).layer(axum::Extension(TestCaller(caller.clone())));
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let res = router.oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 26)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap_or("null").to_string())
        .collect()
}

both_databases!(
    reads_show_only_what_the_policy_allows,
    setup = seeded,
    |h| {
        let me = alice();
        let get = |uri: String| {
            let h = &h;
            let me = &me;
            async move { call_as(h, OWNER_POLICY, me, "GET", &uri, None).await }
        };
        let own: Vec<String> = (0..30).step_by(3).map(|i| format!("c{i:02}")).collect();

        // by-query: items, totalItems and every page of the cursors.
        let (s, b) =
            get("/api/catalog/entities/by-query?filter=kind=component&limit=4".into()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["totalItems"], 10);
        let mut seen = names(&b["items"]);
        let mut next = b["pageInfo"]["nextCursor"].as_str().map(str::to_string);
        while let Some(cursor) = next {
            let (_, b) = get(format!(
                "/api/catalog/entities/by-query?cursor={cursor}&limit=4"
            ))
            .await;
            assert_eq!(b["totalItems"], 10);
            seen.extend(names(&b["items"]));
            next = b["pageInfo"]["nextCursor"].as_str().map(str::to_string);
        }
        assert_eq!(seen, own);
        let (_, b) = get("/api/catalog/entities/by-query".into()).await;
        assert_eq!(b["totalItems"], 12, "ten components and the two groups");

        // by-name and by-uid: what is hidden is not found, with the same message as nothing.
        let (s, _) = get("/api/catalog/entities/by-name/component/default/c00".into()).await;
        assert_eq!(s, StatusCode::OK);
        let (s, b) = get("/api/catalog/entities/by-name/component/default/c01".into()).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(
            b["error"]["message"],
            "no entity named component:default/c01"
        );

        // by-refs: a null where the caller may not read.
        let (s, b) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "POST",
            "/api/catalog/entities/by-refs",
            Some(json!({"entityRefs": ["component:default/c03", "component:default/c04"]})),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(b["items"][0]["metadata"]["name"], "c03");
        assert_eq!(b["items"][1], Value::Null);

        // Facets and their counts.
        let (_, b) = get(
            "/api/catalog/entity-facets?facet=spec.type&facet=spec.owner&facet=relations.ownerOf"
                .into(),
        )
        .await;
        let facet = |f: &str| b["facets"][f].clone();
        assert_eq!(
            facet("spec.type"),
            json!([{"value": "service", "count": 5}, {"value": "website", "count": 5},
               {"value": "team", "count": 2}])
        );
        assert_eq!(
            facet("spec.owner"),
            json!([{"value": "team-a", "count": 10}])
        );
        // team-b's group is readable, but what it owns is not: its ownerOf targets are not named.
        let owned_of = facet("relations.ownerOf");
        let owned: Vec<&str> = owned_of
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["value"].as_str().unwrap())
            .collect();
        assert_eq!(owned.len(), 10, "{owned:?}");
        assert!(owned
            .iter()
            .all(|r| own.iter().any(|o| r.ends_with(o.as_str()))));

        // The group's own relations: only those to entities the caller reads.
        let (_, b) = get("/api/catalog/entities/by-name/group/default/team-b".into()).await;
        assert_eq!(
            b["relations"],
            json!([]),
            "team-b owns only hidden entities"
        );
        let (_, b) = get("/api/catalog/entities/by-name/group/default/team-a".into()).await;
        assert_eq!(b["relations"].as_array().unwrap().len(), 10);

        // Under the allow-all policy the same caller sees everything (the filter is the policy's).
        let (_, b) = call_as(
            &h,
            "roles: {all: {rules: [{allow: [\"*\"]}]}}\nbindings: [{role: all, signed_in: true}]",
            &me,
            "GET",
            "/api/catalog/entities/by-query",
            None,
        )
        .await;
        assert_eq!(b["totalItems"], 32);
    }
);

both_databases!(
    refusals_name_the_permission_and_the_rule,
    setup = seeded,
    |h| {
        let me = alice();
        // Registering a location of someone else's entities: no rule allows it.
        let theirs = h.write("theirs/catalog-info.yaml", &component("x1", "team-b"));
        let (s, b) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": theirs})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        assert_eq!(b["error"]["name"], "NotAllowedError");
        assert_eq!(
            b["error"]["message"],
            "not allowed: DENY catalog.location.create: no rule allows it (roles: member)"
        );
        // Nothing was registered, and the guest is refused too.
        let (_, b) = h
            .call(
                "GET",
                "/api/catalog/entities/by-name/component/default/x1",
                None,
            )
            .await;
        assert_eq!(b["error"]["name"], "NotFoundError");
        let (s, _) = call_as(
            &h,
            OWNER_POLICY,
            &Caller::guest(),
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": theirs})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Her own: registered; and removed again.
        let mine = h.write("mine/catalog-info.yaml", &component("y1", "team-a"));
        let (s, b) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": mine})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["location"]["id"].as_str().unwrap().to_string();
        // A location of websites is never removed: the deny rule decides, and is named.
        let site = h.write(
            "site/catalog-info.yaml",
            &component("z1", "team-a").replace("type: service", "type: website"),
        );
        let (s, b) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": site})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let site_id = b["location"]["id"].as_str().unwrap().to_string();
        let (s, b) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "DELETE",
            &format!("/api/catalog/locations/{site_id}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        assert_eq!(
            b["error"]["message"],
            "not allowed: DENY catalog.location.delete by role member rule 4 (never-websites)"
        );
        let (s, b) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "DELETE",
            &format!("/api/catalog/locations/{id}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");

        // She lists only the locations whose entities she owns (catalog.location.read).
        let (_, b) = call_as(&h, OWNER_POLICY, &me, "GET", "/api/catalog/locations", None).await;
        let ids: Vec<&str> = b
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["data"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![site_id.as_str()]);

        // The seeded location provides team-b's entities too: hidden from her, so not found
        // (a refusal would say it exists).
        let (_, b) = h.call("GET", "/api/catalog/locations", None).await;
        let seeded_id = b
            .as_array()
            .unwrap()
            .iter()
            .find(|l| {
                l["data"]["target"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/catalog-info.yaml")
                    && !l["data"]["target"]
                        .as_str()
                        .unwrap_or("")
                        .contains("/mine/")
                    && !l["data"]["target"]
                        .as_str()
                        .unwrap_or("")
                        .contains("/site/")
            })
            .map(|l| l["data"]["id"].as_str().unwrap().to_string())
            .expect("the seeded location");
        let (s, _) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "DELETE",
            &format!("/api/catalog/locations/{seeded_id}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Refreshing an entity she cannot read: not found; one she can read but may not refresh:
        // refused, naming the permission.
        let (s, _) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "POST",
            "/api/catalog/refresh",
            Some(json!({"entityRef": "component:default/c01"})),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, b) = call_as(
            &h,
            OWNER_POLICY,
            &me,
            "POST",
            "/api/catalog/refresh",
            Some(json!({"entityRef": "component:default/c00"})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(
            b["error"]["message"],
            "not allowed: DENY catalog.entity.refresh: no rule allows it (roles: member)"
        );
    }
);

both_databases!(kubernetes_views_follow_the_policy, setup = seeded, |h| {
    let me = alice();
    let k8s_policy = OWNER_POLICY.replace(
        "bindings:",
        "  reader:\n    rules:\n      - name: k8s-services\n        allow: [kubernetes.resources.read]\n        when: { type: service }\nbindings:\n  - role: reader\n    signed_in: true",
    );
    let get = |uri: &'static str| {
        let (h, me, p) = (&h, &me, k8s_policy.as_str());
        async move { call_as(h, p, me, "GET", uri, None).await.0 }
    };
    // c03: hers, a service. c00: hers, a website (no rule lets her read its resources).
    // c01: not readable at all.
    assert_eq!(
        get("/api/kubernetes/entities/default/component/c03").await,
        StatusCode::OK
    );
    assert_eq!(
        get("/api/kubernetes/entities/default/component/c00").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/api/kubernetes/entities/default/component/c01").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/api/kubernetes/entities/default/component/c01/stream").await,
        StatusCode::NOT_FOUND
    );
    // The same caller under allow-all reads every view.
    let (s, _) = call_as(
        &h,
        "roles: {all: {rules: [{allow: [\"*\"]}]}}\nbindings: [{role: all, signed_in: true}]",
        &me,
        "GET",
        "/api/kubernetes/entities/default/component/c01",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
});

both_databases!(
    a_reloaded_policy_reaches_readers_made_at_start,
    setup = seeded,
    |h| {
        use app::services::CatalogReader;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.yaml");
        std::fs::write(&path, OWNER_POLICY).unwrap();
        let store = Arc::new(
            PolicyStore::from_settings(
                &crate::policy::PolicySettings {
                    file: Some(path.clone()),
                    admins: vec![],
                },
                true,
            )
            .unwrap(),
        );
        let mut state = h.state();
        state.policy = store.clone();
        // The UI's reader is made once, as `http::router` makes it.
        let reader = crate::catalog::views::Reader::new(state.facade());
        let total = |reader: &crate::catalog::views::Reader| {
            reader
                .list(&alice(), &app::model::CatalogQuery::default())
                .total
        };
        assert_eq!(total(&reader), 12);
        std::fs::write(
            &path,
            "roles: {all: {rules: [{allow: [\"*\"]}]}}\nbindings: [{role: all, signed_in: true}]",
        )
        .unwrap();
        assert!(store.reload());
        assert_eq!(total(&reader), 32);
    }
);

both_databases!(
    entity_pages_say_what_the_caller_may_do,
    setup = seeded,
    |h| {
        use app::services::CatalogReader;
        let with_policy = |policy: &str| {
            let mut state = h.state();
            state.policy = Arc::new(PolicyStore::fixed(
                file::parse(policy, "test.yaml").expect("policy"),
            ));
            crate::catalog::views::Reader::new(state.facade())
        };
        let access = |reader: &crate::catalog::views::Reader, name: &str| {
            reader
                .entity(&alice(), "component", "default", name)
                .expect("readable")
                .access
                .into_iter()
                .map(|a| (a.permission, a.allowed, a.decision))
                .collect::<Vec<_>>()
        };
        // Under the owner policy Alice reads c00 (team-a's) but may not refresh it or see its
        // resources; its location (which also provides team-b's components) is not hers to read,
        // so removing it is not offered at all.
        let owner = with_policy(OWNER_POLICY);
        let got = access(&owner, "c00");
        let permissions: Vec<&str> = got.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            permissions,
            ["catalog.entity.refresh", "kubernetes.resources.read"]
        );
        assert!(got.iter().all(|(_, allowed, _)| !allowed), "{got:?}");
        assert_eq!(
            got[0].2,
            "DENY catalog.entity.refresh: no rule allows it (roles: member)"
        );
        // A policy that lets her do everything says so, naming the rule.
        let all = with_policy(
        "roles: {all: {rules: [{name: everything, allow: [\"*\"]}]}}\nbindings: [{role: all, signed_in: true}]",
    );
        let got = access(&all, "c00");
        assert_eq!(got.len(), 3);
        assert!(
            got.iter()
                .all(|(_, allowed, d)| *allowed && d.contains("everything")),
            "{got:?}"
        );
    }
);
