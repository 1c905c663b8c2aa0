//! The audit log: the writer (batches, drops under a full channel, retention), the facade's
//! hooks, policy reloads, and `GET /api/audit` through the real router, on SQLite and
//! PostgreSQL.

use super::*;
use crate::both_databases;
use crate::catalog::facade::Facade;
use crate::http::caller::TestCaller;
use crate::policy::{file, PolicyStore};
use crate::storage::testing::TestDb;
use crate::storage::AuditFilter;
use crate::test_support::{component, Harness};
use app::model::EntityRef;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

fn all() -> AuditFilter {
    AuditFilter {
        limit: 1000,
        ..AuditFilter::default()
    }
}

fn event(i: usize) -> Event {
    Event::new(
        format!("user:default/u{i}"),
        Action::CatalogLocationCreate,
        Outcome::Allowed,
    )
    .target(format!("file:/t{i}"))
}

both_databases!(a_full_channel_drops_events_and_counts_them, |db| {
    let (audit, writer) = Audit::channel(db.store.clone(), AuditSettings::default(), 2);
    // The writer is not running: two events wait, three do not fit.
    for i in 0..5 {
        audit.record(event(i));
    }
    assert_eq!(audit.dropped(), 3);
    let metrics = audit.render_metrics();
    assert!(
        metrics.contains("backlot_audit_events_dropped_total{reason=\"full\"} 3\n"),
        "{metrics}"
    );
    assert!(metrics.contains("backlot_audit_events_written_total 0\n"));
    // Once it runs, what fitted is written, in one batch.
    tokio::spawn(writer.run());
    audit.flush().await;
    let rows = db.store.audit_events(&all()).await.unwrap();
    let actors: Vec<&str> = rows.iter().map(|r| r.actor.as_str()).collect();
    assert_eq!(actors, vec!["user:default/u1", "user:default/u0"]);
    assert_eq!(rows[0].action, "catalog.location.create");
    assert_eq!(rows[0].outcome, "allowed");
    assert_eq!(rows[0].target.as_deref(), Some("file:/t1"));
    assert!(audit
        .render_metrics()
        .contains("backlot_audit_events_written_total 2\n"));
    // Recording never waits, even for many events at once.
    let started = std::time::Instant::now();
    for i in 0..10_000 {
        audit.record(event(i));
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    audit.flush().await;
    let written = db.store.audit_events(&all()).await.unwrap().len() as u64;
    assert_eq!(
        written + audit.dropped(),
        10_005,
        "every event written or counted"
    );
});

both_databases!(old_events_are_pruned_at_start_up, |db| {
    let now = crate::util::now_ms();
    let day = 86_400_000;
    let row = |at: i64, actor: &str| AuditRow {
        id: 0,
        at,
        actor: actor.into(),
        action: "auth.signin".into(),
        target: None,
        outcome: "allowed".into(),
        detail: None,
    };
    db.store
        .insert_audit_events(&[row(now - 31 * day, "old"), row(now - 29 * day, "recent")])
        .await
        .unwrap();
    let audit = Audit::start(db.store.clone(), AuditSettings { retention_days: 30 });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        audit.flush().await;
        let actors: Vec<String> = db
            .store
            .audit_events(&all())
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.actor)
            .collect();
        if actors == vec!["recent".to_string()] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not pruned: {actors:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
});

#[test]
fn retention_is_checked_in_the_file_and_the_environment() {
    use crate::config::Config;
    assert_eq!(Config::default().audit.retention_days, 90);
    let c = Config::from_yaml("audit:\n  retention_days: 30\n").unwrap();
    assert_eq!(c.audit.retention_days, 30);
    for bad in ["0", "36501", "-1", "soon"] {
        let err = Config::from_yaml(&format!("audit:\n  retention_days: {bad}\n")).unwrap_err();
        assert!(
            err.contains("retention_days") || err.contains("invalid"),
            "{bad}: {err}"
        );
    }
    let err = Config::from_yaml("audit:\n  retention_days: 0\n").unwrap_err();
    assert!(err.contains("between 1 and 36500"), "{err}");
    assert!(Config::from_yaml("audit:\n  retention: 3\n").is_err());
    let mut c = Config::default();
    c.apply_env(|k| (k == "BACKLOT_AUDIT_RETENTION_DAYS").then(|| "7".to_string()))
        .unwrap();
    assert_eq!(c.audit.retention_days, 7);
    let err = Config::default()
        .apply_env(|k| (k == "BACKLOT_AUDIT_RETENTION_DAYS").then(|| "0".to_string()))
        .unwrap_err();
    assert!(err.to_string().contains("between 1 and"), "{err}");
}

#[test]
fn details_are_cut_and_actions_named() {
    let long = "x".repeat(5000);
    let e = Event::new("guest", Action::AuthSignin, Outcome::Failed).detail(long);
    assert_eq!(e.detail.as_deref().map(|d| d.chars().count()), Some(1001));
    let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    for wanted in [
        "auth.token.create",
        "auth.token.revoke",
        "scaffolder.task.create",
        "policy.reload.refused",
    ] {
        assert!(names.contains(&wanted), "{wanted}");
    }
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
    // The page's list of actions is this one.
    assert_eq!(app::audit::ACTIONS, names.as_slice());
}

fn alice() -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", "alice")),
        groups: vec![EntityRef::new("Group", "default", "team-a")],
        ..Default::default()
    }
}

/// Members may register only what they own, never delete; admins do everything.
const POLICY: &str = r#"
roles:
  admin:
    rules:
      - name: everything
        allow: ["*"]
  member:
    rules:
      - name: read
        allow: [catalog.entity.read, catalog.location.read]
      - name: own-locations
        allow: [catalog.location.create]
        when: { is_owner: true }
      - name: never-delete
        deny: [catalog.location.delete]
bindings:
  - role: admin
    groups: [admins]
  - role: member
    signed_in: true
"#;

fn facade(h: &Harness, policy: &str) -> Facade {
    let policy = PolicyStore::fixed(file::parse(policy, "test.yaml").expect("policy"));
    Facade::new(h.catalog.clone(), Arc::new(policy)).with_audit(h.audit.clone())
}

async fn events(h: &Harness, action: Action) -> Vec<AuditRow> {
    h.audit.flush().await;
    let f = AuditFilter {
        action: Some(action.as_str().into()),
        ..all()
    };
    h.db.store.audit_events(&f).await.unwrap()
}

both_databases!(
    writes_through_the_facade_are_recorded_with_the_rule,
    setup = Harness::new,
    |h| {
        let f = facade(&h, POLICY);
        let mine = h.write("mine/catalog-info.yaml", &component("a", "team-a"));
        let theirs = h.write("theirs/catalog-info.yaml", &component("b", "team-b"));
        let new =
            |path: &str| crate::catalog::NewLocation::new(crate::catalog::LocationType::File, path);

        // Refused: the location provides nothing alice owns; no rule allows it.
        let refused = f.register(&alice(), new(&theirs), false).await;
        assert!(matches!(
            refused,
            Err(crate::catalog::CatalogError::Forbidden(_))
        ));
        // Allowed: hers, by the conditional rule.
        f.register(&alice(), new(&mine), false)
            .await
            .expect("registered");
        // Dry runs are not writes: not recorded.
        f.register(&alice(), new(&mine), true)
            .await
            .expect("preview");

        let rows = events(&h, Action::CatalogLocationCreate).await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        let (allowed, refused) = (&rows[0], &rows[1]);
        assert_eq!(allowed.actor, "user:default/alice");
        assert_eq!(allowed.outcome, "allowed");
        assert_eq!(
            allowed.target.as_deref(),
            Some(format!("file:{mine}").as_str())
        );
        assert_eq!(
            allowed.detail.as_deref(),
            Some("ALLOW catalog.location.create by role member rule 2 (own-locations)")
        );
        assert_eq!(refused.outcome, "refused");
        assert_eq!(
            refused.target.as_deref(),
            Some(format!("file:{theirs}").as_str())
        );
        let detail = refused.detail.as_deref().unwrap_or("");
        assert!(
            detail.starts_with("not allowed: DENY catalog.location.create: no rule allows it"),
            "{detail}"
        );

        // A deny rule is named.
        let id = f
            .read(&alice())
            .locations()
            .find(|l| l.target == mine)
            .map(|l| l.id.clone())
            .expect("her location");
        assert!(f.unregister_location(&alice(), &id).await.is_err());
        // Failed: no such location.
        assert!(f.unregister_location(&alice(), "no-such-id").await.is_err());
        let rows = events(&h, Action::CatalogLocationDelete).await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].outcome, "failed");
        assert_eq!(rows[0].target.as_deref(), Some("no-such-id"));
        assert_eq!(
            rows[0].detail.as_deref(),
            Some("no location with id no-such-id")
        );
        assert_eq!(rows[1].outcome, "refused");
        assert!(
            rows[1]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("by role member rule 3 (never-delete)"),
            "{rows:?}"
        );

        // Refreshes: the location (needs catalog.entity.refresh: no rule) and an entity.
        assert!(f.refresh_location(&alice(), &id).await.is_err());
        let key = crate::catalog::reference::RefKey::of("Component", "default", "a");
        let admin = Caller {
            user: Some(EntityRef::new("User", "default", "root")),
            groups: vec![EntityRef::new("Group", "default", "admins")],
            ..Default::default()
        };
        f.refresh_entity(&admin, &key).await.expect("refreshed");
        let rows = events(&h, Action::CatalogLocationRefresh).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].outcome, "refused");
        let rows = events(&h, Action::CatalogEntityRefresh).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor, "user:default/root");
        assert_eq!(rows[0].target.as_deref(), Some("component:default/a"));
        assert_eq!(
            rows[0].detail.as_deref(),
            Some("ALLOW catalog.entity.refresh by role admin rule 1 (everything)")
        );
    }
);

both_databases!(policy_reloads_are_recorded, |db| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, POLICY).unwrap();
    let settings = crate::policy::PolicySettings {
        file: Some(path.clone()),
        admins: vec![],
    };
    let store = PolicyStore::from_settings(&settings, true).unwrap();
    let audit = Audit::start(db.store.clone(), AuditSettings::default());
    store.audit_to(audit.clone());
    std::fs::write(
        &path,
        "roles:\n  x:\n    rules:\n      - allow: [no.such]\n",
    )
    .unwrap();
    assert!(!store.reload());
    std::fs::write(&path, POLICY).unwrap();
    assert!(store.reload());
    audit.flush().await;
    let rows = db.store.audit_events(&all()).await.unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (
            rows[0].action.as_str(),
            rows[0].outcome.as_str(),
            rows[0].actor.as_str()
        ),
        ("policy.reload", "allowed", "system")
    );
    assert_eq!(
        rows[0].target.as_deref(),
        Some(path.to_string_lossy().as_ref())
    );
    assert_eq!(
        (rows[1].action.as_str(), rows[1].outcome.as_str()),
        ("policy.reload.refused", "refused")
    );
    let detail = rows[1].detail.as_deref().unwrap_or("");
    assert!(
        detail.contains(":4:") && detail.contains("no.such"),
        "{detail}"
    );
});

/// `GET uri` as `caller` under `policy`, through the full router.
async fn get_as(h: &Harness, policy: &str, caller: &Caller, uri: &str) -> (StatusCode, Value) {
    let mut state = h.state();
    state.policy = Arc::new(PolicyStore::fixed(
        file::parse(policy, "test.yaml").unwrap(),
    ));
    let router = crate::http::router(state).layer(axum::Extension(TestCaller(caller.clone())));
    let res = router
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

both_databases!(
    the_api_filters_pages_and_refuses,
    setup = Harness::new,
    |h| {
        let now = crate::util::now_ms();
        let mut rows = Vec::new();
        for i in 0..7i64 {
            rows.push(AuditRow {
                id: 0,
                at: now - 60_000 + i * 1000,
                actor: if i % 2 == 0 {
                    "user:default/alice"
                } else {
                    "guest"
                }
                .into(),
                action: ["auth.signin", "catalog.location.create", "auth.signout"][i as usize % 3]
                    .into(),
                target: Some(format!("file:/t{i}")),
                outcome: if i == 3 { "refused" } else { "allowed" }.into(),
                detail: None,
            });
        }
        h.db.store.insert_audit_events(&rows).await.unwrap();
        let admin = Caller {
            user: Some(EntityRef::new("User", "default", "root")),
            groups: vec![EntityRef::new("Group", "default", "admins")],
            ..Default::default()
        };

        // Newest first, with every field.
        let (s, b) = get_as(&h, POLICY, &admin, "/api/audit").await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let items = b["items"].as_array().unwrap();
        assert_eq!(items.len(), 7);
        assert_eq!(items[0]["target"], "file:/t6");
        assert_eq!(items[0]["actor"], "user:default/alice");
        assert!(items[0]["at"].as_str().unwrap().ends_with('Z'));
        assert!(b.get("nextCursor").is_none(), "{b}");
        assert!(items[0].get("detail").is_none(), "absent, not null");

        // Filters.
        let targets = |b: &Value| -> Vec<String> {
            b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["target"].as_str().unwrap().to_string())
                .collect()
        };
        let (_, b) = get_as(&h, POLICY, &admin, "/api/audit?actor=guest").await;
        assert_eq!(targets(&b), ["file:/t5", "file:/t3", "file:/t1"]);
        let (_, b) = get_as(&h, POLICY, &admin, "/api/audit?outcome=refused").await;
        assert_eq!(targets(&b), ["file:/t3"]);
        let (_, b) = get_as(&h, POLICY, &admin, "/api/audit?action=auth.*").await;
        assert_eq!(targets(&b).len(), 5);
        let (_, b) = get_as(
            &h,
            POLICY,
            &admin,
            "/api/audit?action=auth.signout&actor=user%3Adefault%2Falice",
        )
        .await;
        assert_eq!(targets(&b), ["file:/t2"]);
        let (_, b) = get_as(&h, POLICY, &admin, "/api/audit?target=file%3A%2Ft4").await;
        assert_eq!(targets(&b), ["file:/t4"]);
        let since = crate::util::format_rfc3339(
            (now - 60_000 + 2000).div_euclid(1000),
            ((now - 60_000 + 2000).rem_euclid(1000)) as u32,
        );
        let until = crate::util::format_rfc3339(
            (now - 60_000 + 4000).div_euclid(1000),
            ((now - 60_000 + 4000).rem_euclid(1000)) as u32,
        );
        let (s, b) = get_as(
            &h,
            POLICY,
            &admin,
            &format!("/api/audit?since={since}&until={until}"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(targets(&b), ["file:/t3", "file:/t2"]);

        // Pages of three, by cursor.
        let (_, b) = get_as(&h, POLICY, &admin, "/api/audit?limit=3").await;
        let mut seen = targets(&b);
        let mut next = b["nextCursor"].as_str().map(str::to_string);
        while let Some(cursor) = next {
            let (s, b) = get_as(
                &h,
                POLICY,
                &admin,
                &format!("/api/audit?limit=3&cursor={cursor}"),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            seen.extend(targets(&b));
            next = b["nextCursor"].as_str().map(str::to_string);
        }
        assert_eq!(
            seen,
            (0..7)
                .rev()
                .map(|i| format!("file:/t{i}"))
                .collect::<Vec<_>>()
        );

        // Bad parameters: 400 naming them.
        for (query, parameter) in [
            ("limit=0", "limit"),
            ("limit=x", "limit"),
            ("outcome=maybe", "outcome"),
            ("since=yesterday", "since"),
            ("until=2026-12-06", "until"),
            ("cursor=bad", "cursor"),
            ("actor=a&actor=b", "actor"),
        ] {
            let (s, b) = get_as(&h, POLICY, &admin, &format!("/api/audit?{query}")).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {b}");
            assert_eq!(b["error"]["name"], "InputError");
            let message = b["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("{parameter}: ")),
                "{query}: {message}"
            );
        }

        // Without audit.read: 403 naming the rule, and the refusal is recorded.
        let (s, b) = get_as(&h, POLICY, &alice(), "/api/audit").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        assert_eq!(b["error"]["name"], "NotAllowedError");
        assert_eq!(
            b["error"]["message"],
            "not allowed: DENY audit.read: no rule allows it (roles: member)"
        );
        let rows = events(&h, Action::AuditRead).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].actor.as_str(), rows[0].outcome.as_str()),
            ("user:default/alice", "refused")
        );
        // The built-in default: admins only; allow-all (no auth:) lets the guest read it.
        let default = crate::policy::DEFAULT_POLICY;
        let (s, _) = get_as(&h, default, &alice(), "/api/audit").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = get_as(&h, default, &Caller::guest(), "/api/audit").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = get_as(&h, default, &admin, "/api/audit").await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = h.call("GET", "/api/audit", None).await;
        assert_eq!(s, StatusCode::OK, "allow-all");
    }
);

#[tokio::test]
async fn metrics_show_the_audit_counters() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let (s, text) = h.call_raw("GET", "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        text.contains("backlot_audit_events_dropped_total{reason=\"full\"} 0"),
        "{text}"
    );
    h.cleanup().await;
}

/// A page as `caller` under `policy`: status and HTML.
async fn page_as(h: &Harness, policy: &str, caller: &Caller, uri: &str) -> (StatusCode, String) {
    let mut state = h.state();
    state.policy = Arc::new(PolicyStore::fixed(
        file::parse(policy, "test.yaml").unwrap(),
    ));
    let router = crate::http::router(state).layer(axum::Extension(TestCaller(caller.clone())));
    let res = router
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The audit log and permissions pages, server-rendered, for an admin and for a member.
async fn the_admin_pages_render_without_javascript(h: Harness) {
    let alice_entity = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  memberOf: [team-a]\n";
    let docs = [
        crate::test_support::group("team-a"),
        alice_entity.to_string(),
        component("a", "team-a"),
    ];
    let path = h.write("org.yaml", &docs.join("---\n"));
    h.register_file(&path).await;
    let path2 = h.write("more.yaml", &component("b", "team-a"));
    h.register_file(&path2).await;
    h.audit.flush().await;
    let admin = Caller {
        user: Some(EntityRef::new("User", "default", "root")),
        groups: vec![EntityRef::new("Group", "default", "admins")],
        ..Default::default()
    };

    // The log: newest first, the filters a GET form, linked from the header.
    let (s, html) = page_as(&h, POLICY, &admin, "/admin/audit").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(r#"<form method="get" action="/admin/audit""#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/admin/audit" aria-current="page""#),
        "the header links to it"
    );
    assert!(html.contains(r#"href="/admin/permissions""#));
    assert_eq!(
        html.matches("<code>catalog.location.create</code>").count(),
        2,
        "{html}"
    );
    let (first, second) = (
        html.find(&format!("file:{path2}")),
        html.find(&format!("file:{path}")),
    );
    assert!(first.is_some() && first < second, "newest first");
    assert!(
        html.contains("ALLOW catalog.location.create by role everyone rule 1 (allow-all)"),
        "{html}"
    );
    // Paging by links: one per page, an "Older" link with a cursor, then the last page.
    let (_, html) = page_as(&h, POLICY, &admin, "/admin/audit?limit=1").await;
    let at = html
        .find("/admin/audit?limit=1&amp;cursor=")
        .expect("an older link");
    let end = html[at..].find('"').unwrap();
    let older = html[at..at + end].replace("&amp;", "&");
    let (s, html) = page_as(&h, POLICY, &admin, &older).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("file:{path}")) && !html.contains(&format!("file:{path2}")));
    assert!(html.contains("← Newest</a>"), "{html}");
    // Filters from the form, empty fields and dates included.
    let (_, html) = page_as(
        &h,
        POLICY,
        &admin,
        "/admin/audit?actor=&action=catalog.*&outcome=refused&since=&until=",
    )
    .await;
    assert!(html.contains("No events match."), "{html}");
    let (_, html) = page_as(
        &h,
        POLICY,
        &admin,
        "/admin/audit?actor=guest&outcome=allowed&since=2000-01-01&until=2999-12-31",
    )
    .await;
    assert_eq!(
        html.matches("<code>catalog.location.create</code>").count(),
        2
    );
    let (s, html) = page_as(&h, POLICY, &admin, "/admin/audit?since=someday").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(html.contains("since: must be a date"), "{html}");

    // A member: refused with the rule, no links to the admin pages.
    let (s, html) = page_as(&h, POLICY, &alice(), "/admin/audit").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        html.contains("not allowed: DENY audit.read: no rule allows it (roles: member)"),
        "{html}"
    );
    assert!(
        !html.contains(r#"aria-current="page">Audit"#)
            && !html.contains(r#"href="/admin/permissions""#)
    );

    // One user's permissions: every known one, the rule, groups and ownership.
    let (s, html) = page_as(
        &h,
        POLICY,
        &admin,
        "/admin/permissions?user=user%3Adefault%2Falice",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    for p in crate::policy::Permission::ALL {
        assert!(html.contains(&format!(r#"data-permission="{p}""#)), "{p}");
    }
    assert!(html.contains("role member rule 1 (read)"), "{html}");
    assert!(html.contains("group:default/team-a"), "{html}");
    assert!(html.contains("depends on the entity or location"), "{html}");
    assert!(
        html.contains("DENY audit.read: no rule allows it (roles: member)"),
        "{html}"
    );
    let (s, html) = page_as(&h, POLICY, &admin, "/admin/permissions?user=bob").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("user:default/bob") && html.contains("No User entity"),
        "{html}"
    );
    let (s, html) = page_as(&h, POLICY, &alice(), "/admin/permissions?user=alice").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("DENY policy.read"), "{html}");
    // No user asked for: the form alone.
    let (s, html) = page_as(&h, POLICY, &admin, "/admin/permissions").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(r#"action="/admin/permissions""#) && !html.contains("data-permission"));
    h.cleanup().await;
}

#[tokio::test]
async fn admin_pages_sqlite() {
    the_admin_pages_render_without_javascript(Harness::new(TestDb::sqlite().await).await).await;
}

#[tokio::test]
async fn admin_pages_postgres() {
    the_admin_pages_render_without_javascript(Harness::new(TestDb::postgres().await).await).await;
}
