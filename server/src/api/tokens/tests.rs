//! API tokens through the real router, on SQLite and PostgreSQL: made, listed and revoked by a
//! signed-in user; a bearer call allowed, one refused beyond its scopes (naming the scope), one
//! refused by the policy; bad tokens answered 401; and no token in the log.

use crate::both_databases;
use crate::http::caller::TestCaller;
use crate::storage::testing::TestDb;
use crate::test_support::{component, with_sign_in, Captured, Harness};
use app::model::{Caller, EntityRef};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

const PEOPLE: &str = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  memberOf: [team-a]\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-b\nspec:\n  type: team\n  children: []\n";

const SERVICE_TOKEN: &str = "service-token-for-the-api-tests-0123456789";

/// Alice, her team, and a component of her team's, registered as the guest (allow-all).
async fn seeded(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("people.yaml", PEOPLE);
    h.register_file(&path).await;
    let path = h.write("svc-a.yaml", &component("svc-a", "team-a"));
    h.register_file(&path).await;
    h
}

fn alice() -> Caller {
    Caller {
        user: Some(EntityRef::new("user", "default", "alice")),
        groups: vec![EntityRef::new("group", "default", "team-a")],
        ..Default::default()
    }
}

/// The router with sign-in configured and a service token acting as nobody.
fn router(h: &Harness) -> axum::Router {
    let state = with_sign_in(
        h.state(),
        "[{name: deploy, token_env: DEPLOY_TOKEN, scopes: [read, refresh]}]",
        |k| (k == "DEPLOY_TOKEN").then(|| SERVICE_TOKEN.to_string()),
    );
    crate::http::router(state)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// Sends a request: as `caller` (a signed-in session) when given, with a bearer token when given.
async fn send(
    router: &axum::Router,
    caller: Option<&Caller>,
    bearer: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Answer {
    let router = match caller {
        Some(c) => router.clone().layer(axum::Extension(TestCaller(c.clone()))),
        None => router.clone(),
    };
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(token) = bearer {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let res = router.oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn error_of(a: &Answer) -> (String, String) {
    let v = a.json();
    (
        v["error"]["name"].as_str().unwrap_or_default().to_string(),
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn make(router: &axum::Router, name: &str, scopes: &[&str]) -> (String, String) {
    let a = send(
        router,
        Some(&alice()),
        None,
        "POST",
        "/api/auth/tokens",
        Some(json!({"name": name, "scopes": scopes, "expires_in_days": 30})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let v = a.json();
    (
        v["id"].as_str().unwrap().to_string(),
        v["token"].as_str().unwrap().to_string(),
    )
}

both_databases!(
    tokens_are_made_listed_used_and_revoked,
    setup = seeded,
    |h| {
        let logs = Captured::process();
        let r = router(&h);

        // Made by a signed-in user: shown once, with its scopes and dates.
        let a = send(
            &r,
            Some(&alice()),
            None,
            "POST",
            "/api/auth/tokens",
            Some(json!({"name": "ci", "scopes": ["refresh", "read"], "expires_in_days": 30.0})),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        assert_eq!(a.headers["cache-control"], "no-store");
        let made = a.json();
        let token = made["token"].as_str().unwrap().to_string();
        let id = made["id"].as_str().unwrap().to_string();
        assert!(token.starts_with("blt_") && token.len() == 47, "{token}");
        assert_eq!(made["name"], "ci");
        assert_eq!(made["scopes"], json!(["read", "refresh"]));
        assert!(made["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(made.get("last_used_at").is_none());
        let hash = crate::auth::tokens::hash(&token);

        // A bearer call within its scopes: a read and a refresh (the policy allows both).
        let a = send(
            &r,
            None,
            Some(&token),
            "GET",
            "/api/catalog/entities/by-name/component/default/svc-a",
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let a = send(
            &r,
            None,
            Some(&token),
            "POST",
            "/api/catalog/refresh",
            Some(json!({"entityRef": "component:default/svc-a"})),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);

        // Listed without the token or its hash, with its last use.
        let a = send(&r, Some(&alice()), None, "GET", "/api/auth/tokens", None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let items = a.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["id"], id.as_str());
        assert!(items[0]["last_used_at"].is_string(), "{}", a.text);
        assert!(
            !a.text.contains(&token) && !a.text.contains(&hash),
            "{}",
            a.text
        );
        // A bearer token lists its owner's tokens too.
        let a = send(&r, None, Some(&token), "GET", "/api/auth/tokens", None).await;
        assert_eq!(
            a.json()["items"].as_array().map(Vec::len),
            Some(1),
            "{}",
            a.text
        );

        // Beyond its scopes: refused, naming the missing scope, though the policy would allow it.
        let (_, read_only) = make(&r, "read-only", &["read"]).await;
        let a = send(
            &r,
            None,
            Some(&read_only),
            "POST",
            "/api/catalog/refresh",
            Some(json!({"entityRef": "component:default/svc-a"})),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
        let (name, message) = error_of(&a);
        assert_eq!(name, "NotAllowedError");
        assert!(
            message.contains("catalog.entity.refresh")
                && message.contains("lacks the scope refresh"),
            "{message}"
        );
        let path = h.write("team-a-more.yaml", &component("svc-b", "team-a"));
        let a = send(
            &r,
            None,
            Some(&read_only),
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": path})),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
        assert!(
            error_of(&a).1.contains("lacks the scope locations"),
            "{}",
            a.text
        );

        // Within its scopes but not allowed by the policy: the policy's refusal. Owners register
        // their own locations (the default policy): alice's team's, not another team's.
        let (_, registrar) = make(&r, "registrar", &["read", "locations"]).await;
        let a = send(
            &r,
            None,
            Some(&registrar),
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": path})),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        let theirs = h.write("team-b.yaml", &component("svc-c", "team-b"));
        let a = send(
            &r,
            None,
            Some(&registrar),
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": theirs})),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
        let (_, message) = error_of(&a);
        assert!(
            message.contains("catalog.location.create") && !message.contains("scope"),
            "{message}"
        );

        // A token cannot make or revoke tokens.
        let a = send(
            &r,
            None,
            Some(&token),
            "POST",
            "/api/auth/tokens",
            Some(json!({"name": "x", "scopes": ["read"], "expires_in_days": 1})),
        )
        .await;
        assert_eq!(
            (a.status, error_of(&a).0.as_str()),
            (StatusCode::FORBIDDEN, "NotAllowedError"),
            "{}",
            a.text
        );
        let a = send(
            &r,
            None,
            Some(&token),
            "DELETE",
            &format!("/api/auth/tokens/{id}"),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);

        // The service token: signed in with no entity (the policy's signed-in rules), limited to
        // read and refresh.
        let a = send(
            &r,
            None,
            Some(SERVICE_TOKEN),
            "POST",
            "/api/catalog/refresh",
            Some(json!({"entityRef": "component:default/svc-a"})),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let a = send(
            &r,
            None,
            Some(SERVICE_TOKEN),
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "file", "target": theirs})),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
        assert!(
            error_of(&a)
                .1
                .contains("the token \"deploy\" lacks the scope locations"),
            "{}",
            a.text
        );

        // Revoked: refused at once; a second revocation finds nothing.
        let a = send(
            &r,
            Some(&alice()),
            None,
            "DELETE",
            &format!("/api/auth/tokens/{id}"),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
        let a = send(&r, None, Some(&token), "GET", "/api/catalog/entities", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
        assert_eq!(
            error_of(&a),
            (
                "AuthenticationError".into(),
                "the API token was revoked: send a valid token as Authorization: Bearer <token>"
                    .into()
            )
        );
        let a = send(
            &r,
            Some(&alice()),
            None,
            "DELETE",
            &format!("/api/auth/tokens/{id}"),
            None,
        )
        .await;
        assert_eq!(
            (a.status, error_of(&a).0.as_str()),
            (StatusCode::NOT_FOUND, "NotFoundError"),
            "{}",
            a.text
        );

        // No token value or hash in the log.
        let log = logs.text();
        for secret in [
            &token,
            &hash,
            &read_only,
            &registrar,
            &SERVICE_TOKEN.to_string(),
        ] {
            assert!(!log.contains(secret.as_str()), "a token is in the log");
        }
        assert!(log.contains("API token created"), "the log was captured");

        // The audit log has Alice's token made and revoked, naming the token by id, never by
        // its value.
        h.audit.flush().await;
        let events =
            h.db.store
                .audit_events(&crate::storage::AuditFilter {
                    actor: Some("user:default/alice".into()),
                    action: Some("auth.token.".into()),
                    action_prefix: true,
                    limit: 100,
                    ..Default::default()
                })
                .await
                .unwrap();
        let seen: Vec<(&str, &str, Option<&str>)> = events
            .iter()
            .map(|e| (e.action.as_str(), e.outcome.as_str(), e.target.as_deref()))
            .collect();
        let target = format!("token:{id}");
        assert!(
            seen.contains(&("auth.token.create", "allowed", Some(target.as_str()))),
            "{seen:?}"
        );
        assert!(
            seen.contains(&("auth.token.revoke", "allowed", Some(target.as_str()))),
            "{seen:?}"
        );
        for e in &events {
            assert!(
                !format!("{e:?}").contains(&token),
                "a token in the audit log"
            );
        }
    }
);

both_databases!(
    bad_bearer_tokens_and_guests_are_refused,
    setup = seeded,
    |h| {
        let r = router(&h);
        // An unknown token is a 401 in the envelope, on the API and on pages: never the guest.
        for uri in ["/api/catalog/entities", "/catalog"] {
            for token in ["blt_nope", "nope", ""] {
                let a = send(&r, None, Some(token), "GET", uri, None).await;
                assert_eq!(
                    a.status,
                    StatusCode::UNAUTHORIZED,
                    "{uri} {token}: {}",
                    a.text
                );
                let v = a.json();
                assert_eq!(v["error"]["name"], "AuthenticationError");
                assert_eq!(v["response"]["statusCode"], 401);
                assert_eq!(v["request"]["url"], uri);
            }
        }
        // Another scheme is not a token.
        let req = Request::builder()
            .uri("/api/catalog/entities")
            .header("authorization", "Basic dXNlcjpwdw==")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            r.clone().oneshot(req).await.unwrap().status(),
            StatusCode::OK
        );

        // The guest manages no tokens.
        let a = send(&r, None, None, "GET", "/api/auth/tokens", None).await;
        assert_eq!(
            (a.status, error_of(&a).0.as_str()),
            (StatusCode::UNAUTHORIZED, "AuthenticationError")
        );
        let a = send(
            &r,
            None,
            None,
            "POST",
            "/api/auth/tokens",
            Some(json!({"name": "x", "scopes": ["read"], "expires_in_days": 1})),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
        let a = send(&r, None, None, "DELETE", "/api/auth/tokens/x", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);

        // What a token may be made with.
        for body in [
            json!({"name": "x", "scopes": ["write"], "expires_in_days": 1}),
            json!({"name": "x", "scopes": [], "expires_in_days": 1}),
            json!({"name": " ", "scopes": ["read"], "expires_in_days": 1}),
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}),
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 366}),
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 1.5}),
            json!({"name": "x", "scopes": ["read"]}),
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 1, "extra": true}),
            json!([]),
        ] {
            let a = send(
                &r,
                Some(&alice()),
                None,
                "POST",
                "/api/auth/tokens",
                Some(body.clone()),
            )
            .await;
            assert_eq!(
                (a.status, error_of(&a).0.as_str()),
                (StatusCode::BAD_REQUEST, "InputError"),
                "{body}: {}",
                a.text
            );
        }
        let a = send(
            &r,
            Some(&alice()),
            None,
            "DELETE",
            "/api/auth/tokens/no-such-id",
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    }
);

#[tokio::test]
async fn without_sign_in_tokens_are_not_configured_and_the_header_is_ignored() {
    let h = seeded(TestDb::sqlite().await).await;
    let r = crate::http::router(h.state());
    for (method, uri, body) in [
        ("GET", "/api/auth/tokens", None),
        (
            "POST",
            "/api/auth/tokens",
            Some(json!({"name": "x", "scopes": ["read"], "expires_in_days": 1})),
        ),
        ("DELETE", "/api/auth/tokens/x", None),
    ] {
        let a = send(&r, None, None, method, uri, body).await;
        assert_eq!(
            (a.status, error_of(&a).0.as_str()),
            (StatusCode::CONFLICT, "NotConfiguredError"),
            "{method} {uri}"
        );
    }
    let a = send(
        &r,
        None,
        Some("blt_whatever"),
        "GET",
        "/api/catalog/entities",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    h.cleanup().await;
}
