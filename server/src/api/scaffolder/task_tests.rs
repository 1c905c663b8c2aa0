//! Tasks through the real router: created from a registered template, run by the worker,
//! followed by polling and by the event stream, listed and filtered; refusals (bad values,
//! unknown templates, ended tasks); who may create, stop and retry under the default policy
//! with sign-in.

use super::send;
use crate::both_databases;
use crate::http::caller::TestCaller;
use crate::test_support::Harness;
use app::model::{Caller, EntityRef};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tower::ServiceExt;

const TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: hello
  title: Hello
spec:
  owner: team-a
  type: service
  parameters:
    - title: Name
      required: [name]
      properties:
        name:
          type: string
          pattern: '^[a-z]+$'
  steps:
    - id: fetch
      name: Fetch the skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: say
      name: Say
      action: debug:log
      input:
        message: made ${{ parameters.name }}
  output:
    text:
      - title: Made
        content: ${{ parameters.name }} is ready
"#;

async fn setup(db: crate::storage::testing::TestDb) -> Harness {
    let h = Harness::new(db).await;
    h.write("hello/skeleton/README.md", "# ${{ values.name }}\n");
    let path = h.write("hello/template.yaml", TEMPLATE);
    h.register_file(&path).await;
    h
}

/// The task once it has ended (its last event written).
async fn ended(router: &axum::Router, id: &str) -> Value {
    for _ in 0..200 {
        let (status, task) = send(
            router,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{task}");
        if ["completed", "failed", "cancelled"].contains(&task["status"].as_str().unwrap_or("")) {
            let (_, events) = send(
                router,
                "GET",
                &format!("/api/scaffolder/v2/tasks/{id}/events"),
                None,
            )
            .await;
            let last = events
                .as_array()
                .and_then(|e| e.last())
                .cloned()
                .unwrap_or_default();
            if last["type"] == "completion" || last["type"] == "cancelled" {
                return task;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never ended");
}

both_databases!(
    a_task_runs_and_is_followed_through_the_api,
    setup = setup,
    |h| {
        let _worker = h.scaffolder.spawn();
        let router = crate::http::router(h.state());
        let (status, created) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/tasks",
            Some(json!({"templateRef": "template:default/hello", "values": {"name": "alice"}})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().expect("id").to_string();
        let task = ended(&router, &id).await;
        assert_eq!(task["status"], "completed", "{task}");
        assert_eq!(task["spec"]["parameters"], json!({"name": "alice"}));
        assert_eq!(
            task["spec"]["templateInfo"]["entityRef"],
            "template:default/hello"
        );

        // Polling: every event, then only those after one.
        let (status, events) = send(
            &router,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}/events"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let events = events.as_array().expect("events").clone();
        assert!(
            events.iter().any(|e| e["body"]["message"] == "made alice"),
            "{events:#?}"
        );
        let last = events.last().expect("last");
        assert_eq!(last["type"], "completion");
        assert_eq!(
            last["body"]["output"]["text"][0]["content"],
            "alice is ready"
        );
        let first = events[0]["id"].as_i64().expect("id");
        let (_, later) = send(
            &router,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}/events?after={first}"),
            None,
        )
        .await;
        assert_eq!(later.as_array().map(Vec::len), Some(events.len() - 1));

        // The stream: the same events as server-sent events, ending with the completion.
        let res = router
            .clone()
            .oneshot(
                Request::get(format!("/api/scaffolder/v2/tasks/{id}/eventstream"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let body = tokio::time::timeout(
            Duration::from_secs(10),
            axum::body::to_bytes(res.into_body(), 1 << 20),
        )
        .await
        .expect("the stream ends after the completion")
        .expect("body");
        let text = String::from_utf8_lossy(&body);
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(names.len(), events.len(), "{text}");
        assert_eq!(names.last(), Some(&"completion"), "{text}");
        assert!(text.contains("made alice"), "{text}");

        // Listed, filtered by status and creator (the guest's tasks have none).
        let (_, list) = send(
            &router,
            "GET",
            "/api/scaffolder/v2/tasks?status=completed",
            None,
        )
        .await;
        assert_eq!(list["totalTasks"], 1, "{list}");
        assert_eq!(list["tasks"][0]["id"], id.as_str());
        let (_, list) = send(
            &router,
            "GET",
            "/api/scaffolder/v2/tasks?status=failed",
            None,
        )
        .await;
        assert_eq!(list["totalTasks"], 0, "{list}");
        let (_, list) = send(
            &router,
            "GET",
            "/api/scaffolder/v2/tasks?createdBy=user:default/bob",
            None,
        )
        .await;
        assert_eq!(list["totalTasks"], 0, "{list}");
        let (status, err) =
            send(&router, "GET", "/api/scaffolder/v2/tasks?status=done", None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("\"done\""),
            "{err}"
        );

        // An ended task cannot be stopped, nor a completed one retried.
        for action in ["cancel", "retry"] {
            let (status, err) = send(
                &router,
                "POST",
                &format!("/api/scaffolder/v2/tasks/{id}/{action}"),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::CONFLICT, "{action}: {err}");
            assert_eq!(err["error"]["name"], "ConflictError");
        }
    }
);

both_databases!(refusals_name_what_is_wrong, setup = setup, |h| {
    let router = crate::http::router(h.state());
    let post = |body: Value| {
        let router = router.clone();
        async move { send(&router, "POST", "/api/scaffolder/v2/tasks", Some(body)).await }
    };
    let (status, err) =
        post(json!({"templateRef": "template:default/hello", "values": {"name": "Bad Name"}}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["name"], "InputError");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("name"),
        "{err}"
    );
    let (status, err) = post(json!({"templateRef": "template:default/hello", "values": {}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (status, err) = post(json!({"templateRef": "template:default/nope", "values": {}})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("template:default/nope"));
    let (status, err) = post(json!({"values": {}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    for path in ["", "/events", "/eventstream"] {
        let (status, err) = send(
            &router,
            "GET",
            &format!("/api/scaffolder/v2/tasks/nope{path}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {err}");
        assert_eq!(err["error"]["name"], "NotFoundError");
    }
    let (status, _) = send(
        &router,
        "POST",
        "/api/scaffolder/v2/tasks/nope/cancel",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nothing was stored by the refused requests.
    let (_, list) = send(&router, "GET", "/api/scaffolder/v2/tasks", None).await;
    assert_eq!(list["totalTasks"], 0, "{list}");
});

fn user(name: &str) -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", name)),
        groups: Vec::new(),
        token: None,
    }
}

both_databases!(
    members_stop_and_retry_their_own_tasks_only,
    setup = setup,
    |h| {
        // The default policy with sign-in; no worker runs, so tasks stay open.
        let state = crate::test_support::with_sign_in(h.state(), "[]", |_| None);
        let as_ = |caller: Caller| {
            crate::http::router(state.clone()).layer(axum::Extension(TestCaller(caller)))
        };
        let (alice, bob) = (as_(user("alice")), as_(user("bob")));
        let guest = crate::http::router(state.clone());
        let body = json!({"templateRef": "hello", "values": {"name": "alice"}});
        let (status, err) = send(
            &guest,
            "POST",
            "/api/scaffolder/v2/tasks",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("scaffolder.task.create"),
            "{err}"
        );
        let (status, created) = send(&alice, "POST", "/api/scaffolder/v2/tasks", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().expect("id");
        let (_, task) = send(&bob, "GET", &format!("/api/scaffolder/v2/tasks/{id}"), None).await;
        assert_eq!(task["createdBy"], "user:default/alice");
        let (_, mine) = send(
            &bob,
            "GET",
            "/api/scaffolder/v2/tasks?createdBy=user:default/alice",
            None,
        )
        .await;
        assert_eq!(mine["totalTasks"], 1, "{mine}");

        let cancel = format!("/api/scaffolder/v2/tasks/{id}/cancel");
        let (status, err) = send(&bob, "POST", &cancel, None).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "bob stops alice's task: {err}"
        );
        assert!(err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("scaffolder.task.cancel"));
        let (status, done) = send(&alice, "POST", &cancel, None).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        let (_, task) = send(
            &alice,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}"),
            None,
        )
        .await;
        assert_eq!(task["status"], "cancelled");

        let retry = format!("/api/scaffolder/v2/tasks/{id}/retry");
        let (status, _) = send(&bob, "POST", &retry, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, again) = send(&alice, "POST", &retry, Some(json!({}))).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        let (_, task) = send(
            &alice,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}"),
            None,
        )
        .await;
        assert_eq!(task["status"], "open");

        // Each decision is in the audit log.
        h.audit.flush().await;
        let rows =
            h.db.store
                .audit_events(&crate::storage::AuditFilter {
                    limit: 100,
                    ..Default::default()
                })
                .await
                .expect("audit");
        let seen: Vec<(String, String, String)> = rows
            .iter()
            .map(|r| (r.actor.clone(), r.action.clone(), r.outcome.clone()))
            .collect();
        for want in [
            ("guest", "scaffolder.task.create", "refused"),
            ("user:default/alice", "scaffolder.task.create", "allowed"),
            ("user:default/bob", "scaffolder.task.cancel", "refused"),
            ("user:default/alice", "scaffolder.task.cancel", "allowed"),
            ("user:default/bob", "scaffolder.task.retry", "refused"),
            ("user:default/alice", "scaffolder.task.retry", "allowed"),
        ] {
            assert!(
                seen.iter()
                    .any(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()) == want),
                "{want:?} in {seen:?}"
            );
        }
    }
);
