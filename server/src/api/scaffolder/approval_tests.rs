//! Approvals through the real router, under the default policy with sign-in: a task waits at
//! its `backlot:approval` step holding no worker; the requester may not approve it, someone
//! not named may not either; a named approver approves with a reason and the task resumes at
//! that step (the earlier steps are not run again) or rejects it and it fails; an approval not
//! decided in time fails the task; a waiting task can be cancelled. All of it in the audit log.

use super::send;
use crate::both_databases;
use crate::http::caller::TestCaller;
use crate::test_support::Harness;
use app::model::{Caller, EntityRef};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gated
spec:
  owner: leads
  type: service
  parameters:
    - properties:
        name: {type: string}
        hours: {type: number}
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input:
        url: ./skeleton
        values: {name: '${{ parameters.name }}'}
    - id: approve
      name: Approval
      action: backlot:approval
      input:
        approvers: [group:default/leads]
        message: Create ${{ parameters.name }}?
        expiresInHours: ${{ parameters.hours }}
    - id: after
      name: After
      action: debug:log
      input:
        message: approved by ${{ steps.approve.output.approvedBy }} (${{ steps.approve.output.reason }})
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: leads}
spec: {type: team, children: [], members: [alice, bob]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [leads]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: [leads]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: carol}
spec: {memberOf: []}
"#;

async fn setup(db: crate::storage::testing::TestDb) -> Harness {
    let h = Harness::new(db).await;
    h.write("gated/skeleton/README.md", "# ${{ values.name }}\n");
    let path = h.write("gated/template.yaml", TEMPLATE);
    h.register_file(&path).await;
    h
}

fn user(name: &str, groups: &[&str]) -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", name)),
        groups: groups
            .iter()
            .map(|g| EntityRef::new("Group", "default", *g))
            .collect(),
        token: None,
    }
}

async fn events(router: &axum::Router, id: &str) -> Vec<Value> {
    let (status, events) = send(
        router,
        "GET",
        &format!("/api/scaffolder/v2/tasks/{id}/events"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    events.as_array().cloned().unwrap_or_default()
}

/// The task once its status is `status` (and, for an ended task, its last event written).
async fn until(router: &axum::Router, id: &str, status: &str) -> Value {
    for _ in 0..300 {
        let (_, task) = send(
            router,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}"),
            None,
        )
        .await;
        if task["status"] == status {
            let ended = ["completed", "failed", "cancelled"].contains(&status);
            let last = events(router, id).await.last().cloned().unwrap_or_default();
            if !ended || last["type"] == "completion" || last["type"] == "cancelled" {
                return task;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "task {id} never became {status}: {:#?}",
        events(router, id).await
    );
}

fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["body"]["message"].as_str().map(str::to_string))
        .collect()
}

both_databases!(
    approvals_gate_a_task_until_a_named_approver_decides,
    setup = setup,
    |h| {
        let _worker = h.scaffolder.spawn();
        let state = crate::test_support::with_sign_in(h.state(), "[]", |_| None);
        let as_ = |caller: Caller| {
            crate::http::router(state.clone()).layer(axum::Extension(TestCaller(caller)))
        };
        let alice = as_(user("alice", &["leads"]));
        let bob = as_(user("bob", &["leads"]));
        let carol = as_(user("carol", &[]));
        let create = |name: &str, hours: Value| {
            let alice = alice.clone();
            let body = json!({"templateRef": "gated", "values": {"name": name, "hours": hours}});
            async move {
                let (status, created) =
                    send(&alice, "POST", "/api/scaffolder/v2/tasks", Some(body)).await;
                assert_eq!(status, StatusCode::CREATED, "{created}");
                created["id"].as_str().expect("id").to_string()
            }
        };

        let id = create("orders", json!(24)).await;
        let task = until(&alice, &id, "waiting").await;
        assert!(task.get("lastHeartbeatAt").is_some());
        let said = messages(&events(&alice, &id).await);
        assert!(
            said.iter()
                .any(|m| m == "Waiting for approval from group:default/leads: Create orders?"),
            "{said:#?}"
        );
        let (_, approvals) = send(
            &alice,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}/approvals"),
            None,
        )
        .await;
        assert_eq!(approvals[0]["status"], "pending", "{approvals}");
        assert_eq!(approvals[0]["approvers"], json!(["group:default/leads"]));
        assert_eq!(approvals[0]["requestedBy"], "user:default/alice");
        assert!(approvals[0]["expiresAt"].is_string());
        assert_eq!(approvals[0]["mayDecide"], false, "the requester");
        let (_, mine) = send(&bob, "GET", "/api/scaffolder/v2/approvals", None).await;
        assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
        assert_eq!(mine[0]["mayDecide"], true);
        let (_, none) = send(&carol, "GET", "/api/scaffolder/v2/approvals", None).await;
        assert_eq!(none, json!([]));

        // Refusals: the requester, someone not named, a rejection without a reason.
        let approve = format!("/api/scaffolder/v2/tasks/{id}/approve");
        let reject = format!("/api/scaffolder/v2/tasks/{id}/reject");
        let (status, err) = send(&alice, "POST", &approve, Some(json!({"reason": "mine"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("your own"),
            "{err}"
        );
        let (status, err) = send(&carol, "POST", &approve, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("group:default/leads"),
            "{err}"
        );
        let (status, err) = send(&bob, "POST", &reject, Some(json!({"reason": " "}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(until(&alice, &id, "waiting").await["status"], "waiting");

        // Approved by a named approver: it resumes at the approval step.
        let (status, ok) = send(&bob, "POST", &approve, Some(json!({"reason": "fine"}))).await;
        assert_eq!(status, StatusCode::OK, "{ok}");
        until(&alice, &id, "completed").await;
        let said = messages(&events(&alice, &id).await);
        assert!(
            said.iter()
                .any(|m| m == "approved by user:default/bob (fine)"),
            "{said:#?}"
        );
        assert_eq!(
            said.iter().filter(|m| *m == "Beginning step Fetch").count(),
            1,
            "the step before the approval ran once: {said:#?}"
        );
        assert!(
            said.iter()
                .any(|m| m == "Step Fetch was done by an earlier run"),
            "{said:#?}"
        );
        let (status, err) = send(&bob, "POST", &approve, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "decided already: {err}");
        let (_, approvals) = send(
            &alice,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}/approvals"),
            None,
        )
        .await;
        assert_eq!(approvals[0]["status"], "approved");
        assert_eq!(approvals[0]["decidedBy"], "user:default/bob");
        assert_eq!(approvals[0]["reason"], "fine");

        // Rejected: the task fails with the reason.
        let id = create("payments", json!(24)).await;
        until(&alice, &id, "waiting").await;
        let (status, _) = send(
            &bob,
            "POST",
            &format!("/api/scaffolder/v2/tasks/{id}/reject"),
            Some(json!({"reason": "use the payments template"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        until(&alice, &id, "failed").await;
        let last = events(&alice, &id)
            .await
            .last()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            last["body"]["error"]["message"],
            "Rejected by user:default/bob: use the payments template"
        );
        assert_eq!(last["body"]["stepId"], "approve");

        // Not decided in time: failed as expired.
        let id = create("late", json!(0.0002)).await;
        until(&alice, &id, "failed").await;
        let last = events(&alice, &id)
            .await
            .last()
            .cloned()
            .unwrap_or_default();
        assert_eq!(last["body"]["error"]["name"], "ExpiredError", "{last}");

        // Cancelled while waiting: at once, its approval with it.
        let id = create("never", json!(24)).await;
        until(&alice, &id, "waiting").await;
        let (status, _) = send(
            &alice,
            "POST",
            &format!("/api/scaffolder/v2/tasks/{id}/cancel"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        until(&alice, &id, "cancelled").await;
        let (_, mine) = send(&bob, "GET", "/api/scaffolder/v2/approvals", None).await;
        assert_eq!(mine, json!([]));

        h.audit.flush().await;
        let rows =
            h.db.store
                .audit_events(&crate::storage::AuditFilter {
                    action: Some("scaffolder.approval.decide".into()),
                    limit: 100,
                    ..Default::default()
                })
                .await
                .expect("audit");
        let seen: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.actor.clone(), r.outcome.clone()))
            .collect();
        for want in [
            ("user:default/alice", "refused"),
            ("user:default/carol", "refused"),
            ("user:default/bob", "allowed"),
        ] {
            assert!(
                seen.iter().any(|(a, o)| (a.as_str(), o.as_str()) == want),
                "{want:?} in {seen:?}"
            );
        }
    }
);
