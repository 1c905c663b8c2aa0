//! Tasks over a real catalog (a Template registered from the harness's folder) on both
//! databases: created, claimed, run, cancelled, retried, recovered, never run twice.

use super::*;
use crate::both_databases;
use crate::storage::TaskFilter;
use crate::test_support::Harness;
use app::model::{EntityRef, TokenLimit};

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
          title: Name
          type: string
          pattern: '^[a-z]+$'
        token:
          title: Token
          type: string
          ui:field: Secret
        wait:
          title: Wait
          type: number
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: wait
      name: Wait
      if: ${{ parameters.wait }}
      action: debug:wait
      input:
        milliseconds: ${{ parameters.wait }}
    - id: log
      name: Log
      action: debug:log
      input:
        message: 'hello ${{ parameters.name }} ${{ secrets.token }}'
  output:
    text:
      - title: Greeting
        content: 'made ${{ parameters.name }}'
"#;

/// The harness with the `hello` template (and its skeleton) registered.
async fn setup(db: crate::storage::testing::TestDb) -> Harness {
    let h = Harness::new(db).await;
    h.write(
        "templates/hello/skeleton/README.md",
        "# ${{ values.name }}\n",
    );
    let path = h.write("templates/hello/template.yaml", TEMPLATE);
    h.register_file(&path).await;
    h
}

fn settings() -> TaskSettings {
    TaskSettings {
        concurrency: 2,
        task_timeout: Duration::from_secs(30),
        heartbeat: Duration::from_millis(50),
        stale_after: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
        exclusive: false,
    }
}

fn deps(h: &Harness) -> TaskDeps {
    TaskDeps {
        store: h.db.store.clone(),
        catalog: h.catalog.clone(),
        policy: Arc::new(crate::policy::PolicyStore::fixed(crate::policy::allow_all())),
        audit: h.audit.clone(),
        checkpoints: h.root.join(".backlot").join("checkpoints"),
    }
}

fn service(h: &Harness) -> TaskService {
    TaskService::new(deps(h), Actions::built_in(), Renderer::new(), settings())
}

/// Whoever reads or stops tasks in these tests (the policy allows everything).
fn anyone() -> Caller {
    Caller::default()
}

fn alice() -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", "alice")),
        groups: Vec::new(),
        token: None,
    }
}

/// Waits (up to 10 s) until the task has `status`.
/// The task once it has `status` and, for an ended task, its last event (the status is
/// written first, then the event that says how it ended).
async fn until(svc: &TaskService, id: &str, status: &str) -> Task {
    let ended = ["completed", "failed", "cancelled"].contains(&status);
    for _ in 0..200 {
        let task = svc.get(&anyone(), id).await.expect("task");
        let last_written = !ended
            || svc
                .events(&anyone(), id, None)
                .await
                .expect("events")
                .last()
                .is_some_and(|e| e.event_type == "completion" || e.event_type == "cancelled");
        if task.status == status && last_written {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = svc.events(&anyone(), id, None).await.expect("events");
    panic!("task {id} never became {status}: {events:#?}");
}

fn messages(events: &[TaskEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.body["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

both_databases!(
    a_task_is_claimed_run_and_completed_with_its_files_and_events,
    setup = setup,
    |h| {
        let svc = service(&h);
        let worker = svc.spawn();
        let id = svc
            .create(
                &alice(),
                "template:default/hello",
                json!({"name": "alice"}),
                Map::new(),
            )
            .await
            .expect("created");
        let task = until(&svc, &id, "completed").await;
        worker.abort();

        // Backstage's task shape.
        let shown = serde_json::to_value(&task).expect("json");
        assert_eq!(shown["createdBy"], "user:default/alice");
        assert!(shown["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
        assert!(shown["lastHeartbeatAt"].is_string());
        let spec = &shown["spec"];
        assert_eq!(spec["apiVersion"], TEMPLATE_API_VERSION);
        assert_eq!(spec["templateInfo"]["entityRef"], "template:default/hello");
        assert_eq!(spec["templateInfo"]["entity"]["metadata"]["name"], "hello");
        assert_eq!(spec["user"]["ref"], "user:default/alice");
        assert_eq!(spec["parameters"], json!({"name": "alice"}));
        assert_eq!(spec["steps"].as_array().map(Vec::len), Some(3));

        // The skeleton rendered into the workspace.
        let files = svc.workspace(&id).expect("workspace kept");
        assert_eq!(
            files.get("README.md").map(|f| f.contents.clone()),
            Some(b"# alice\n".to_vec())
        );

        // Events in order: the log as it was written, then the completion with the output.
        let events = svc.events(&anyone(), &id, None).await.expect("events");
        assert!(events.windows(2).all(|w| w[0].id < w[1].id));
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types.last(), Some(&"completion"));
        assert!(types[..types.len() - 1].iter().all(|t| *t == "log"));
        let said = messages(&events);
        assert_eq!(said[0], "Starting up task with 3 steps");
        let statuses: Vec<(String, String)> = events
            .iter()
            .filter_map(|e| {
                Some((
                    e.body.get("stepId")?.as_str()?.to_string(),
                    e.body.get("status")?.as_str()?.to_string(),
                ))
            })
            .collect();
        let pairs: Vec<(&str, &str)> = statuses
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("fetch", "processing"),
                ("fetch", "completed"),
                ("wait", "processing"),
                ("wait", "skipped"),
                ("log", "processing"),
                ("log", "completed"),
            ]
        );
        assert!(said.contains(&"hello alice ".to_string()), "{said:#?}");
        let last = events.last().expect("completion");
        assert_eq!(last.body["output"]["text"][0]["content"], "made alice");
        let shown = serde_json::to_value(last).expect("json");
        assert_eq!(shown["type"], "completion");
        assert_eq!(shown["taskId"], id.as_str());
        // Events after a cursor.
        let after = svc
            .events(&anyone(), &id, Some(events[0].id))
            .await
            .expect("events");
        assert_eq!(after.len(), events.len() - 1);

        // Lists.
        let mine = svc
            .list(
                &anyone(),
                Some("user:default/alice"),
                Some("completed"),
                10,
                0,
            )
            .await
            .expect("list");
        assert_eq!(mine.total_tasks, 1);
        assert_eq!(mine.tasks[0].id, id);
        let none = svc
            .list(&anyone(), Some("user:default/bob"), None, 10, 0)
            .await
            .expect("list");
        assert_eq!(none.total_tasks, 0);
        let shown = serde_json::to_value(&mine).expect("json");
        assert_eq!(shown["totalTasks"], 1);
    }
);

both_databases!(
    invalid_values_and_unknown_templates_are_refused,
    setup = setup,
    |h| {
        let svc = service(&h);
        let err = svc
            .create(
                &alice(),
                "template:default/hello",
                json!({"name": "Not Valid!"}),
                Map::new(),
            )
            .await
            .expect_err("invalid");
        match err {
            ScaffolderError::Invalid(fields) => {
                assert_eq!(fields.len(), 1, "{fields:?}");
                assert_eq!(fields[0].field, "name");
            }
            other => panic!("{other:?}"),
        }
        let err = svc
            .create(&alice(), "hello", json!({}), Map::new())
            .await
            .expect_err("required");
        assert!(
            matches!(&err, ScaffolderError::Invalid(f) if f.iter().any(|e| e.field == "name")),
            "{err:?}"
        );
        let app_error = app::error::AppError::from(err);
        assert!(
            matches!(app_error, app::error::AppError::InvalidInput { ref fields, .. } if fields[0].field == "name")
        );

        let err = svc
            .create(&alice(), "template:default/nope", json!({}), Map::new())
            .await
            .expect_err("not found");
        assert!(
            matches!(&err, ScaffolderError::NotFound(m) if m.contains("template:default/nope")),
            "{err:?}"
        );
        let robot = Caller {
            token: Some(TokenLimit {
                name: "robot".into(),
                scopes: vec!["read".into()],
            }),
            ..alice()
        };
        let err = svc
            .create(&robot, "hello", json!({"name": "alice"}), Map::new())
            .await
            .expect_err("forbidden");
        assert!(matches!(err, ScaffolderError::Forbidden(_)), "{err:?}");
        let (rows, total) =
            h.db.store
                .tasks(&TaskFilter {
                    limit: 10,
                    ..Default::default()
                })
                .await
                .expect("tasks");
        assert_eq!((rows.len(), total), (0, 0), "nothing stored");
    }
);

both_databases!(
    secrets_run_here_and_never_reach_the_tables,
    setup = setup,
    |h| {
        // No worker: a task with secrets runs in the process that has them.
        let svc = service(&h);
        let mut secrets = Map::new();
        secrets.insert("extra".into(), json!("xyzzy-extra-secret"));
        let id = svc
            .create(
                &alice(),
                "template:default/hello",
                json!({"name": "alice", "token": "s3cr3t-token-value"}),
                secrets,
            )
            .await
            .expect("created");
        until(&svc, &id, "completed").await;
        let events = svc.events(&anyone(), &id, None).await.expect("events");
        assert!(
            messages(&events).contains(&"hello alice ***".to_string()),
            "{:#?}",
            messages(&events)
        );

        let (rows, _) =
            h.db.store
                .tasks(&TaskFilter {
                    limit: 10,
                    ..Default::default()
                })
                .await
                .expect("tasks");
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.claimed_by.as_deref(), Some(svc.worker_id()));
        let stored_events = h.db.store.task_events(&id, None).await.expect("events");
        assert!(!stored_events.is_empty());
        let everything = format!(
            "{} {} {}",
            row.spec,
            row.state.as_deref().unwrap_or_default(),
            stored_events
                .iter()
                .map(|e| e.body.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        for secret in ["s3cr3t-token-value", "xyzzy-extra-secret"] {
            assert!(
                !everything.contains(secret),
                "{secret} stored: {everything}"
            );
        }
        assert!(everything.contains("hello alice"), "the events were read");
    }
);

both_databases!(
    open_and_running_tasks_are_cancelled_and_retried,
    setup = setup,
    |h| {
        let svc = service(&h);
        // An open task (no worker yet) is cancelled at once.
        let open = svc
            .create(&alice(), "hello", json!({"name": "open"}), Map::new())
            .await
            .expect("created");
        assert_eq!(
            svc.get(&anyone(), &open).await.expect("task").status,
            "open"
        );
        svc.cancel(&anyone(), &open).await.expect("cancelled");
        assert_eq!(
            svc.get(&anyone(), &open).await.expect("task").status,
            "cancelled"
        );
        let events = svc.events(&anyone(), &open, None).await.expect("events");
        assert_eq!(
            events
                .iter()
                .map(|e| e.event_type.as_str())
                .collect::<Vec<_>>(),
            ["cancelled"]
        );
        assert!(matches!(
            svc.cancel(&anyone(), &open).await,
            Err(ScaffolderError::Conflict(_))
        ));
        assert!(matches!(
            svc.cancel(&anyone(), "nope").await,
            Err(ScaffolderError::NotFound(_))
        ));

        // Retried: open again, and a worker runs it from its first step.
        svc.retry(&anyone(), &open, Map::new())
            .await
            .expect("retried");
        assert_eq!(
            svc.get(&anyone(), &open).await.expect("task").status,
            "open"
        );
        let worker = svc.spawn();
        until(&svc, &open, "completed").await;
        assert!(matches!(
            svc.retry(&anyone(), &open, Map::new()).await,
            Err(ScaffolderError::Conflict(_))
        ));
        let said = messages(&svc.events(&anyone(), &open, None).await.expect("events"));
        assert_eq!(said[1], "Starting up task with 3 steps");

        // A running task, cancelled from another instance (another replica): its worker sees it
        // through the heartbeat, the waiting step stops early and no later step runs.
        let running = svc
            .create(
                &alice(),
                "hello",
                json!({"name": "slow", "wait": 1500}),
                Map::new(),
            )
            .await
            .expect("created");
        let other = service(&h);
        let mut waiting = false;
        for _ in 0..200 {
            let events = other
                .events(&anyone(), &running, None)
                .await
                .expect("events");
            if events
                .iter()
                .any(|e| e.body["stepId"] == "wait" && e.body["status"] == "processing")
            {
                waiting = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(waiting, "the wait step began");
        other.cancel(&anyone(), &running).await.expect("asked");
        until(&svc, &running, "cancelled").await;
        worker.abort();
        let events = svc.events(&anyone(), &running, None).await.expect("events");
        let last = events.last().expect("event");
        assert_eq!(last.event_type, "cancelled");
        assert_eq!(last.body["stepId"], "wait");
        assert!(
            events
                .iter()
                .any(|e| e.body["stepId"] == "wait" && e.body["status"] == "cancelled"),
            "{events:#?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| e.body["stepId"] == "log" && e.event_type == "log"),
            "the log step never ran: {events:#?}"
        );
    }
);

both_databases!(
    a_stale_task_is_failed_as_interrupted_by_a_new_worker,
    setup = setup,
    |h| {
        let long_ago = now_ms() - 60_000;
        h.db.store
        .insert_task(&TaskRow {
            id: "stale".into(),
            spec: json!({"apiVersion": TEMPLATE_API_VERSION, "steps": []}).to_string(),
            status: "processing".into(),
            created_by: None,
            created_at: long_ago,
            last_heartbeat_at: Some(long_ago),
            claimed_by: Some("worker-gone".into()),
            state: Some(
                json!({"currentStep": "fetch", "steps": {"fetch": {"name": "Fetch", "status": "processing"}}})
                    .to_string(),
            ),
            cancel_requested: false,
        })
        .await
        .expect("insert");
        let svc = service(&h);
        let worker = svc.spawn();
        let task = until(&svc, "stale", "failed").await;
        worker.abort();
        assert!(task.created_by.is_none());
        let events = svc.events(&anyone(), "stale", None).await.expect("events");
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].event_type, "completion");
        assert_eq!(events[0].body["stepId"], "fetch");
        let message = events[0].body["message"].as_str().unwrap_or_default();
        assert!(message.contains("interrupted at step Fetch"), "{message}");
    }
);

both_databases!(
    an_exclusive_worker_fails_what_its_last_run_left_at_once,
    setup = setup,
    |h| {
        // Beating a second ago: another replica's live task for a shared worker, but for the
        // only process on a database, one its own earlier run left behind.
        let recent = now_ms() - 1_000;
        for id in ["left"] {
            h.db.store
                .insert_task(&TaskRow {
                    id: id.into(),
                    spec: json!({"apiVersion": TEMPLATE_API_VERSION, "steps": []}).to_string(),
                    status: "processing".into(),
                    created_by: None,
                    created_at: recent,
                    last_heartbeat_at: Some(recent),
                    claimed_by: Some("worker-before".into()),
                    state: None,
                    cancel_requested: false,
                })
                .await
                .expect("insert");
        }
        let shared = service(&h);
        let worker = shared.spawn();
        tokio::time::sleep(Duration::from_millis(300)).await;
        worker.abort();
        assert_eq!(
            shared.get(&anyone(), "left").await.expect("task").status,
            "processing",
            "a shared worker waits for the lease to expire"
        );
        let only = TaskService::new(
            deps(&h),
            Actions::built_in(),
            Renderer::new(),
            TaskSettings {
                exclusive: true,
                ..settings()
            },
        );
        let worker = only.spawn();
        let task = until(&only, "left", "failed").await;
        worker.abort();
        assert_eq!(task.status, "failed");
        let events = only.events(&anyone(), "left", None).await.expect("events");
        let message = events[0].body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("interrupted before its first step"),
            "{message}"
        );
    }
);

both_databases!(two_workers_never_run_a_task_twice, setup = setup, |h| {
    let a = service(&h);
    let b = service(&h);
    assert_ne!(a.worker_id(), b.worker_id());
    let mut ids = Vec::new();
    for i in 0..8 {
        let name = format!("task{}", char::from(b'a' + i));
        ids.push(
            a.create(&alice(), "hello", json!({"name": name}), Map::new())
                .await
                .expect("created"),
        );
    }
    let (wa, wb) = (a.spawn(), b.spawn());
    for id in &ids {
        until(&a, id, "completed").await;
    }
    wa.abort();
    wb.abort();
    for id in &ids {
        let events = a.events(&anyone(), id, None).await.expect("events");
        let starts = messages(&events)
            .iter()
            .filter(|m| m.starts_with("Starting up task"))
            .count();
        let ends = events
            .iter()
            .filter(|e| e.event_type == "completion")
            .count();
        assert_eq!((starts, ends), (1, 1), "{id}: {events:#?}");
    }
});

both_databases!(
    failing_and_overlong_runs_end_failed_and_can_be_retried,
    setup = setup,
    |h| {
        let svc = TaskService::new(
            deps(&h),
            Actions::built_in(),
            Renderer::new(),
            TaskSettings {
                task_timeout: Duration::from_millis(300),
                ..settings()
            },
        );
        let worker = svc.spawn();
        // debug:wait refuses more than ten minutes: the step fails and names itself.
        let failing = svc
            .create(
                &alice(),
                "hello",
                json!({"name": "x", "wait": 700000}),
                Map::new(),
            )
            .await
            .expect("created");
        until(&svc, &failing, "failed").await;
        let events = svc.events(&anyone(), &failing, None).await.expect("events");
        let last = events.last().expect("event");
        assert_eq!(last.event_type, "completion");
        assert_eq!(last.body["stepId"], "wait");
        assert!(
            last.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("maximum")),
            "{last:?}"
        );
        // A run longer than the timeout is stopped.
        let slow = svc
            .create(
                &alice(),
                "hello",
                json!({"name": "y", "wait": 5000}),
                Map::new(),
            )
            .await
            .expect("created");
        until(&svc, &slow, "failed").await;
        let events = svc.events(&anyone(), &slow, None).await.expect("events");
        let last = events.last().expect("event");
        assert_eq!(last.body["error"]["name"], "TimeoutError", "{last:?}");
        // Retried, it fails the same way again, from its first step.
        svc.retry(&anyone(), &slow, Map::new())
            .await
            .expect("retried");
        until(&svc, &slow, "failed").await;
        worker.abort();
        let starts = messages(&svc.events(&anyone(), &slow, None).await.expect("events"))
            .iter()
            .filter(|m| m.starts_with("Starting up task"))
            .count();
        assert_eq!(starts, 2);
    }
);
