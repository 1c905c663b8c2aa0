//! The software templates pages through the real router, on both databases: the list and its
//! filters, a two-step wizard (an error shown then fixed, a conditional field, the review
//! masking a secret, "Create" redirecting to the task), the task page after the worker ran it,
//! cancelling, and a template that cannot run.

use crate::both_databases;
use crate::storage::testing::TestDb;
use crate::test_support::{group, Harness};
use app::query::encode_component;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use std::time::Duration;
use tower::ServiceExt;

const SERVICE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: svc
  title: New service
  description: Makes a service with its pipeline
  tags: [java, web]
spec:
  owner: team-a
  type: service
  parameters:
    - title: About
      required: [name]
      properties:
        name:
          title: Name
          type: string
          pattern: '^[a-z-]+$'
          ui:help: Lower-case letters and dashes
          ui:autofocus: true
        storage:
          title: Storage
          type: string
          enum: [none, db]
          enumNames: [No storage, A database]
          default: none
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
          ui:options:
            catalogFilter:
              kind: Group
      dependencies:
        storage:
          oneOf:
            - properties:
                storage: {const: none}
            - properties:
                storage: {const: db}
                engine:
                  title: Engine
                  type: string
                  enum: [postgres, mysql]
              required: [engine]
    - title: Access
      properties:
        token:
          title: Token
          type: string
          ui:field: Secret
        flavours:
          title: Flavours
          type: array
          items: {type: string, enum: [a, b]}
          uniqueItems: true
  steps:
    - id: hello
      name: Say hello
      action: debug:log
      input:
        message: 'hello ${{ parameters.name }} ${{ secrets.token }}'
  output:
    links:
      - title: The team
        entityRef: group:default/team-a
      - title: Docs
        url: https://example.com/docs
    text:
      - title: Next steps
        content: "**Done** for ${{ parameters.name }} <script>alert(1)</script>"
"#;

const SITE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: site
  title: Docs site
  tags: [docs]
spec:
  owner: team-b
  type: website
  parameters:
    properties:
      title: {title: Title, type: string}
      private: {title: Private, type: boolean, default: false}
    allOf:
      - if:
          properties:
            private: {const: true}
        then:
          properties:
            audience: {title: Audience, type: string}
          required: [audience]
  steps:
    - id: wait
      name: Wait
      action: debug:wait
      input:
        milliseconds: 10
"#;

const BROKEN: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: broken
  title: Broken
spec:
  owner: team-b
  type: service
  steps:
    - id: nope
      action: nope:nothing
"#;

async fn setup(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    for (dir, text) in [("svc", SERVICE), ("site", SITE), ("broken", BROKEN)] {
        let path = h.write(&format!("templates/{dir}/template.yaml"), text);
        h.register_file(&path).await;
    }
    let path = h.write(
        "org.yaml",
        &[group("team-a"), group("team-b")].join("---\n"),
    );
    h.register_file(&path).await;
    h
}

const FORM: [(&str, &str); 2] = [
    ("content-type", "application/x-www-form-urlencoded"),
    ("host", "portal"),
];

async fn send(
    router: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn page(router: &axum::Router, uri: &str) -> String {
    let (s, _, body) = send(router, "GET", uri, &[], "").await;
    assert_eq!(s, StatusCode::OK, "{uri}: {body}");
    body
}

/// Posts a wizard step: the hidden fields of `page` and `fields`.
async fn post_step(
    router: &axum::Router,
    uri: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut pairs = vec![
        (":step".to_string(), hidden(page, ":step")),
        (":values".to_string(), hidden(page, ":values")),
    ];
    pairs.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    send(router, "POST", uri, &FORM, &body).await
}

/// The value of the hidden input `name` in a page, unescaped.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = start + page[start..].find('"').expect("end of value");
    page[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The review's rows: the text between the review's `<dl` and its end.
fn review_rows(page: &str) -> String {
    let start = page.find("class=\"kv review\"").expect("a review");
    let end = start + page[start..].find("</form>").expect("end of form");
    page[start..end].to_string()
}

/// The task once it has ended with its last event written.
async fn ended(h: &Harness, id: &str) -> crate::scaffolder::tasks::Task {
    let anyone = app::model::Caller::default();
    for _ in 0..200 {
        let task = h.scaffolder.get(&anyone, id).await.expect("task");
        let events = h
            .scaffolder
            .events(&anyone, id, None)
            .await
            .expect("events");
        let last = events
            .last()
            .is_some_and(|e| e.event_type == "completion" || e.event_type == "cancelled");
        if last && !matches!(task.status.as_str(), "open" | "processing") {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never ended");
}

both_databases!(
    templates_are_listed_as_cards_and_filtered,
    setup = setup,
    |h| {
        let router = crate::http::router(h.state());
        let all = page(&router, "/create").await;
        assert!(
            all.contains("href=\"/create\""),
            "Create is in the navigation"
        );
        for title in ["New service", "Docs site", "Broken"] {
            assert!(all.contains(title), "{title}");
        }
        assert!(all.contains("Makes a service with its pipeline"));
        assert!(all.contains("href=\"/create/templates/default/svc\""));
        assert!(
            all.contains("href=\"/catalog/default/group/team-a\""),
            "the owner links"
        );
        assert!(all.contains("3 templates"));

        let cases = [
            ("/create?tag=java", "New service", "Docs site"),
            ("/create?type=website", "Docs site", "New service"),
            (
                "/create?owner=group%3Adefault%2Fteam-b&type=website",
                "Docs site",
                "New service",
            ),
            ("/create?q=pipeline", "New service", "Docs site"),
        ];
        for (uri, shown, hidden) in cases {
            let p = page(&router, uri).await;
            assert!(p.contains(shown), "{uri} shows {shown}");
            assert!(!p.contains(hidden), "{uri} hides {hidden}");
        }
        // The filters keep what was chosen.
        let p = page(&router, "/create?tag=java").await;
        assert!(p.contains("<option value=\"java\" selected"), "{p}");
        let none = page(&router, "/create?q=nothing-like-this").await;
        assert!(none.contains("No templates match these filters."));
    }
);

both_databases!(
    the_wizard_validates_each_step_then_starts_the_task,
    setup = setup,
    |h| {
        let _worker = h.scaffolder.spawn();
        let router = crate::http::router(h.state());
        let uri = "/create/templates/default/svc";

        // The first step, with its defaults and the owner picker's choices from the catalog.
        let first = page(&router, uri).await;
        assert_eq!(hidden(&first, ":step"), "0");
        assert!(first.contains("name=\"name\"") && first.contains("autofocus"));
        assert!(first.contains("Lower-case letters and dashes"), "ui:help");
        assert!(
            first.contains("<option value=\"none\" selected"),
            "the default is chosen"
        );
        assert!(
            first.contains("<option value=\"group:default/team-a\""),
            "{first}"
        );
        assert!(
            !first.contains("name=\"engine\""),
            "the engine only shows for a database"
        );
        assert!(
            !first.contains("value=\"template:default/site\""),
            "the picker's catalogFilter keeps other kinds out"
        );
        assert!(first.contains("aria-current=\"step\""));

        // A bad name: the same step, the error next to the field, what was typed kept.
        let (s, _, bad) = post_step(
            &router,
            uri,
            &first,
            &[
                ("name", "Bad Name"),
                ("storage", "none"),
                (":action", "next"),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(hidden(&bad, ":step"), "0");
        assert!(bad.contains("id=\"field-name-error\""), "{bad}");
        assert!(bad.contains("value=\"Bad Name\""));

        // Choosing a database shows its engine (without JavaScript: the Update button).
        let (_, _, db) = post_step(
            &router,
            uri,
            &bad,
            &[("name", "my-svc"), ("storage", "db"), (":action", "update")],
        )
        .await;
        assert!(db.contains("name=\"engine\""), "{db}");
        assert!(!db.contains("field-invalid"), "updating shows no errors");
        assert!(
            db.contains("value=\"update\""),
            "the storage field has its Update button"
        );

        // The engine is now required.
        let (_, _, missing) = post_step(
            &router,
            uri,
            &db,
            &[("name", "my-svc"), ("storage", "db"), (":action", "next")],
        )
        .await;
        assert_eq!(hidden(&missing, ":step"), "0");
        assert!(missing.contains("id=\"field-engine-error\""), "{missing}");

        // Fixed: on to the second step.
        let (_, _, second) = post_step(
            &router,
            uri,
            &missing,
            &[
                ("name", "my-svc"),
                ("storage", "db"),
                ("engine", "postgres"),
                (":action", "next"),
            ],
        )
        .await;
        assert_eq!(hidden(&second, ":step"), "1", "{second}");
        assert!(second.contains("type=\"password\"") && second.contains("name=\"token\""));
        assert!(second.contains("type=\"checkbox\"") && second.contains("name=\"flavours\""));

        // Back keeps the first step's values.
        let (_, _, back) =
            post_step(&router, uri, &second, &[("token", ""), (":action", "back")]).await;
        assert_eq!(hidden(&back, ":step"), "0");
        assert!(back.contains("value=\"my-svc\""));
        let (_, _, second) = post_step(
            &router,
            uri,
            &back,
            &[
                ("name", "my-svc"),
                ("storage", "db"),
                ("engine", "postgres"),
                (":action", "next"),
            ],
        )
        .await;

        // The review: the choices by their labels, the secret masked.
        let (_, _, review) = post_step(
            &router,
            uri,
            &second,
            &[("token", "s3cret"), ("flavours", "a"), (":action", "next")],
        )
        .await;
        assert_eq!(hidden(&review, ":step"), "2");
        let rows = review_rows(&review);
        assert!(
            rows.contains("A database") && rows.contains("my-svc"),
            "{rows}"
        );
        assert!(rows.contains("******"), "{rows}");
        assert!(!rows.contains("s3cret"), "{rows}");
        assert!(
            !review.contains("value=\"s3cret\""),
            "the secret is not shown in an input"
        );

        // Create: a redirect to the task's page.
        let (s, hd, _) = post_step(&router, uri, &review, &[(":action", "create")]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to = hd
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let id = to
            .strip_prefix("/create/tasks/")
            .expect("the task's page")
            .to_string();
        assert!(!to.contains("s3cret"));

        let task = ended(&h, &id).await;
        assert_eq!(task.status, "completed");
        let shown = page(&router, &to).await;
        assert!(shown.contains("Run of New service"));
        assert!(
            shown.contains("Say hello") && shown.contains("task-step-completed"),
            "{shown}"
        );
        assert!(shown.contains("hello my-svc ***"), "the log: {shown}");
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("href=\"/catalog/default/group/team-a\""));
        assert!(shown.contains("href=\"https://example.com/docs\""));
        assert!(
            shown.contains("<strong>Done</strong> for my-svc"),
            "{shown}"
        );
        assert!(
            !shown.contains("<script>alert"),
            "the output text is sanitised"
        );
        assert!(
            !shown.contains("class=\"live-marker\""),
            "an ended task is not followed"
        );
        // An ended task's updates tell the browser to stop.
        let (s, _, _) = send(&router, "GET", &format!("{to}/stream"), &[], "").await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        // A page that shows fewer events than there are (its island woke after the task ended)
        // hears one last update, whose id its reconnection sends back: then it stops.
        let (s, _, missed) = send(&router, "GET", &format!("{to}/stream?after=0"), &[], "").await;
        assert_eq!(s, StatusCode::OK);
        assert!(missed.contains("event: update"), "{missed}");
        let heard = missed
            .lines()
            .find_map(|l| l.strip_prefix("id: "))
            .expect("the update's id")
            .to_string();
        let (s, _, _) = send(
            &router,
            "GET",
            &format!("{to}/stream?after=0"),
            &[("last-event-id", heard.as_str())],
            "",
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);

        let tasks = page(&router, "/create/tasks").await;
        assert!(
            tasks.contains(&format!("href=\"/create/tasks/{id}\"")),
            "{tasks}"
        );
    }
);

both_databases!(a_task_is_cancelled_from_its_page, setup = setup, |h| {
    // No worker: the task stays open until cancelled.
    let router = crate::http::router(h.state());
    let uri = "/create/templates/default/site";
    let first = page(&router, uri).await;
    let (_, _, review) = post_step(
        &router,
        uri,
        &first,
        &[("title", "Handbook"), (":action", "next")],
    )
    .await;
    assert!(review_rows(&review).contains("Handbook"));
    let (s, hd, _) = post_step(&router, uri, &review, &[(":action", "create")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let to = hd
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let id = to.trim_start_matches("/create/tasks/").to_string();

    let open = page(&router, &to).await;
    assert!(
        open.contains("data-status=\"open\"") && open.contains("class=\"live-marker\""),
        "{open}"
    );
    assert!(open.contains(&format!("data-stream=\"/create/tasks/{id}/stream")));
    assert!(open.contains("action=\"/create/tasks/cancel\""));

    // The page follows the open task: its stream tells it when something changed.
    let follow = Request::builder()
        .uri(format!("{to}/stream"))
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(follow).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let updates = tokio::spawn(axum::body::to_bytes(res.into_body(), usize::MAX));

    // From another site: refused.
    let evil = [FORM[0], FORM[1], ("origin", "https://evil.example")];
    let (s, _, _) = send(
        &router,
        "POST",
        "/create/tasks/cancel",
        &evil,
        &format!("id={id}"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, hd, _) = send(
        &router,
        "POST",
        "/create/tasks/cancel",
        &FORM,
        &format!("id={id}"),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(hd.get(header::LOCATION).unwrap(), to.as_str());
    let updates = tokio::time::timeout(Duration::from_secs(10), updates)
        .await
        .expect("the stream ends once the task has ended")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&updates).contains("event: update"),
        "{updates:?}"
    );
    let cancelled = page(&router, &to).await;
    assert!(
        cancelled.contains("data-status=\"cancelled\""),
        "{cancelled}"
    );
    assert!(
        cancelled.contains("action=\"/create/tasks/retry\""),
        "a cancelled task can be retried"
    );
    // Cancelling again: back with the reason.
    let (_, hd, _) = send(
        &router,
        "POST",
        "/create/tasks/cancel",
        &FORM,
        &format!("id={id}"),
    )
    .await;
    let again = hd
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(again.contains("?error="), "{again}");
    assert!(page(&router, &again).await.contains("cannot be cancelled"));

    // A template with secrets: its run cannot be retried (they are never kept).
    let anyone = app::model::Caller::default();
    let values = serde_json::json!({"name": "quiet", "storage": "none"});
    let id = h
        .scaffolder
        .create(&anyone, "template:default/svc", values, Default::default())
        .await
        .expect("created");
    h.scaffolder.cancel(&anyone, &id).await.expect("cancelled");
    let shown = page(&router, &format!("/create/tasks/{id}")).await;
    assert!(shown.contains("data-testid=\"needs-secrets\""), "{shown}");
    assert!(!shown.contains("action=\"/create/tasks/retry\""));
});

both_databases!(
    wizard_posts_from_elsewhere_and_broken_templates_are_refused,
    setup = setup,
    |h| {
        let router = crate::http::router(h.state());
        let evil = [FORM[0], FORM[1], ("origin", "https://evil.example")];
        let (s, _, _) = send(
            &router,
            "POST",
            "/create/templates/default/site",
            &evil,
            ":step=0&:values=%7B%7D&title=x&:action=create",
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // allOf with if/then: ticking "Private" asks for an audience.
        let uri = "/create/templates/default/site";
        let first = page(&router, uri).await;
        assert!(first.contains("type=\"checkbox\"") && first.contains("name=\"private\""));
        assert!(!first.contains("name=\"audience\""));
        let ticked = [
            ("title", "Handbook"),
            ("private", "false"),
            ("private", "true"),
        ];
        let with = |more: &[(&'static str, &'static str)]| {
            let mut all = ticked.to_vec();
            all.extend_from_slice(more);
            all
        };
        let (_, _, private) =
            post_step(&router, uri, &first, &with(&[(":action", "update")])).await;
        assert!(private.contains("name=\"audience\""), "{private}");
        let (_, _, missing) =
            post_step(&router, uri, &private, &with(&[(":action", "next")])).await;
        assert!(missing.contains("id=\"field-audience-error\""), "{missing}");
        let (_, _, review) = post_step(
            &router,
            uri,
            &missing,
            &with(&[("audience", "staff"), (":action", "next")]),
        )
        .await;
        let rows = review_rows(&review);
        assert!(rows.contains("staff") && rows.contains("Yes"), "{rows}");

        let broken = page(&router, "/create/templates/default/broken").await;
        assert!(
            broken.contains("data-testid=\"template-problem\""),
            "{broken}"
        );
        assert!(broken.contains("spec.steps[0].action"), "{broken}");
        assert!(!broken.contains("class=\"card wizard-form\""));

        let (s, _, _) = send(&router, "GET", "/create/templates/default/nothing", &[], "").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let actions = page(&router, "/create/actions").await;
        assert!(actions.contains("data-action=\"debug:log\""), "{actions}");
        assert!(
            actions.contains("properties-table") && actions.contains("<code>message</code>"),
            "{actions}"
        );
    }
);

fn member(name: &str) -> app::model::Caller {
    app::model::Caller {
        user: Some(app::model::EntityRef::new("User", "default", name)),
        groups: Vec::new(),
        token: None,
    }
}

both_databases!(members_see_and_stop_their_own_tasks, setup = setup, |h| {
    // The default policy with sign-in: members run templates and stop their own tasks only.
    let state = crate::test_support::with_sign_in(h.state(), "[]", |_| None);
    let as_ = |caller| {
        crate::http::router(state.clone())
            .layer(axum::Extension(crate::http::caller::TestCaller(caller)))
    };
    let (alice, bob) = (as_(member("alice")), as_(member("bob")));
    let uri = "/create/templates/default/site";
    let first = page(&alice, uri).await;
    let (_, _, review) = post_step(
        &alice,
        uri,
        &first,
        &[("title", "Handbook"), (":action", "next")],
    )
    .await;
    let (s, hd, _) = post_step(&alice, uri, &review, &[(":action", "create")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let to = hd
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let id = to.trim_start_matches("/create/tasks/").to_string();

    let mine = page(&alice, "/create/tasks").await;
    assert!(mine.contains(&format!("data-task=\"{id}\"")), "{mine}");
    assert!(
        !mine.contains("?all=1"),
        "members cannot list everyone's tasks"
    );
    for uri in ["/create/tasks", "/create/tasks?all=1"] {
        let theirs = page(&bob, uri).await;
        assert!(
            !theirs.contains(&format!("data-task=\"{id}\"")),
            "{uri}: {theirs}"
        );
    }
    assert!(page(&alice, &to)
        .await
        .contains("action=\"/create/tasks/cancel\""));
    assert!(!page(&bob, &to)
        .await
        .contains("action=\"/create/tasks/cancel\""));
    let (s, hd, _) = send(
        &bob,
        "POST",
        "/create/tasks/cancel",
        &FORM,
        &format!("id={id}"),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let refused = hd
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(refused.contains("?error="), "{refused}");
    assert!(page(&bob, &to).await.contains("data-status=\"open\""));
});

/// The harness with the demo organisation (its templates publish to the managed Git host).
async fn demo(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let root = crate::demo::install(&h.root.join("data")).expect("demo installed");
    h.register_file(&root.to_string_lossy()).await;
    h
}

both_databases!(
    the_demo_template_runs_through_the_wizard_to_its_review,
    setup = demo,
    |h| {
        let router = crate::http::router(h.state());
        let list = page(&router, "/create").await;
        assert!(
            list.contains("Rust HTTP service") && list.contains("recommended"),
            "{list}"
        );

        // Its steps use the actions this server adds (publish:git, catalog:register): no problem.
        let uri = "/create/templates/default/rust-service";
        let first = page(&router, uri).await;
        assert!(!first.contains("template-problem"), "{first}");
        assert!(
            first.contains("<option value=\"group:default/team-checkout\""),
            "{first}"
        );
        assert!(
            first.contains("<option value=\"system:default/checkout\""),
            "the system picker"
        );
        // A description that would close its text box is shown as text, escaped.
        let (_, _, unnamed) = post_step(
            &router,
            uri,
            &first,
            &[
                ("name", ""),
                ("description", "</textarea><i>x"),
                ("owner", "group:default/team-checkout"),
                (":action", "next"),
            ],
        )
        .await;
        assert_eq!(hidden(&unnamed, ":step"), "0");
        assert!(
            unnamed.contains("&lt;/textarea&gt;&lt;i&gt;x</textarea>"),
            "{unnamed}"
        );
        assert!(!unnamed.contains("</textarea><i>x"));
        let (_, _, second) = post_step(
            &router,
            uri,
            &first,
            &[
                ("name", "orders"),
                ("description", "Takes orders"),
                ("owner", "group:default/team-checkout"),
                ("system", ""),
                (":action", "next"),
            ],
        )
        .await;
        assert_eq!(hidden(&second, ":step"), "1", "{second}");
        assert!(
            second.contains("name=\"repoUrl:host\"")
                && second.contains("<option value=\"backlot\"")
        );
        assert!(second.contains("value=\"8080\""), "the port's default");
        // The repository without an owner: refused next to the picker.
        let (_, _, missing) = post_step(
            &router,
            uri,
            &second,
            &[
                ("repoUrl:host", "backlot"),
                ("repoUrl:repo", "orders"),
                ("port", "8080"),
                ("environments", "staging"),
                ("ingress", "false"),
                (":action", "next"),
            ],
        )
        .await;
        assert_eq!(hidden(&missing, ":step"), "1");
        assert!(missing.contains("id=\"field-repoUrl-error\""), "{missing}");
        let (_, _, review) = post_step(
            &router,
            uri,
            &missing,
            &[
                ("repoUrl:host", "backlot"),
                ("repoUrl:owner", "checkout"),
                ("repoUrl:repo", "orders"),
                ("port", "8080"),
                ("environments", "staging"),
                ("ingress", "false"),
                (":action", "next"),
            ],
        )
        .await;
        let rows = review_rows(&review);
        assert!(
            rows.contains("backlot?owner=checkout&amp;repo=orders"),
            "{rows}"
        );

        // "Preview the files": the demo's skeleton rendered with these values, publishing
        // and registering skipped, nothing made on the Git host.
        assert!(
            review.contains("value=\"preview\""),
            "the review offers a preview"
        );
        assert!(!review.contains("data-testid=\"preview\""));
        let (s, _, preview) = post_step(&router, uri, &review, &[(":action", "preview")]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(hidden(&preview, ":step"), "2", "still the review");
        assert!(preview.contains("data-testid=\"preview\""), "{preview}");
        assert!(
            preview.contains("data-path=\"catalog-info.yaml\"")
                && preview.contains("data-path=\"src/main.rs\"")
                && preview.contains("data-path=\".github/workflows/ci.yaml\""),
            "{preview}"
        );
        assert!(
            preview.contains("class=\"file-tree-folder\""),
            "folders in the tree"
        );
        assert!(
            preview.contains("name: orders"),
            "the catalog entry is rendered with the values"
        );
        assert!(
            preview.contains("data-step=\"publish\"") && preview.contains("reaches outside"),
            "publishing is skipped and said so: {preview}"
        );
        assert!(!preview.contains("data-testid=\"preview-error\""));
        assert!(
            preview.contains("What the skipped steps would give is an example here"),
            "{preview}"
        );
        assert!(
            !h.root.join("data/repos/checkout").exists(),
            "a preview publishes nothing"
        );

        let actions = page(&router, "/create/actions").await;
        assert!(actions.contains("data-action=\"publish:git\""), "{actions}");
    }
);

const GATED: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gated
spec:
  owner: team-a
  type: service
  parameters:
    - properties:
        name: {type: string}
  steps:
    - id: approve
      name: Approval
      action: backlot:approval
      input:
        approvers: [group:default/team-a]
        message: Create ${{ parameters.name }}?
    - id: after
      name: After
      action: debug:log
      input:
        message: approved by ${{ steps.approve.output.approvedBy }}
"#;

both_databases!(
    a_waiting_task_is_approved_from_its_page,
    setup = setup,
    |h| {
        let path = h.write("templates/gated/template.yaml", GATED);
        h.register_file(&path).await;
        let _worker = h.scaffolder.spawn();
        let id = h
            .scaffolder
            .create(
                &member("carol"),
                "gated",
                serde_json::json!({"name": "x"}),
                Default::default(),
            )
            .await
            .expect("created");
        let state = crate::test_support::with_sign_in(h.state(), "[]", |_| None);
        let as_ = |name: &str, groups: &[&str]| {
            let caller = app::model::Caller {
                groups: groups
                    .iter()
                    .map(|g| app::model::EntityRef::new("Group", "default", *g))
                    .collect(),
                ..member(name)
            };
            crate::http::router(state.clone())
                .layer(axum::Extension(crate::http::caller::TestCaller(caller)))
        };
        let (approver, outsider) = (as_("dana", &["team-a"]), as_("erin", &["team-b"]));
        let to = format!("/create/tasks/{id}");
        let mut waiting = String::new();
        for _ in 0..200 {
            waiting = page(&approver, &to).await;
            if waiting.contains("Waiting for approval") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(waiting.contains("Create x?"), "{waiting}");
        assert!(waiting.contains("group:default/team-a"));
        assert!(
            waiting.contains("action=\"/create/tasks/decide\""),
            "the approver decides"
        );
        let seen = page(&outsider, &to).await;
        assert!(seen.contains("Waiting for approval"));
        assert!(
            !seen.contains("action=\"/create/tasks/decide\""),
            "an outsider does not"
        );

        // Rejecting needs a reason: back to the page with the error.
        let (s, hd, _) = send(
            &approver,
            "POST",
            "/create/tasks/decide",
            &FORM,
            &format!("id={id}&reason=&decision=reject"),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(hd[header::LOCATION].to_str().unwrap().contains("?error="));
        let (s, hd, _) = send(
            &approver,
            "POST",
            "/create/tasks/decide",
            &FORM,
            &format!("id={id}&reason=ok&decision=approve"),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(hd[header::LOCATION], to.as_str());
        let task = ended(&h, &id).await;
        assert_eq!(task.status, "completed");
        let done = page(&approver, &to).await;
        assert!(done.contains("Approved by user:default/dana"), "{done}");
        assert!(
            done.contains("approved by user:default/dana"),
            "the next step read the output"
        );
    }
);

/// A template with a skeleton: a text file, a binary file, a long file; a secret; a step that
/// fails when asked to.
const GEN: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gen
  title: Generator
spec:
  owner: team-a
  type: service
  parameters:
    - title: About
      required: [name]
      properties:
        name: {title: Name, type: string}
        token: {title: Token, type: string, 'ui:field': Secret}
        fail: {title: Fail, type: boolean, default: false}
  steps:
    - id: fetch
      name: Render the skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: hello
      name: Say hello
      action: debug:log
      input:
        message: 'hello ${{ parameters.name }} ${{ secrets.token }}'
    - id: broken
      name: Break on purpose
      if: ${{ parameters.fail }}
      action: fs:rename
      input:
        files:
          - from: nothing-here
            to: elsewhere
  output:
    text:
      - title: Done
        content: Made ${{ parameters.name }}
"#;

async fn generator(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    h.write(
        "templates/gen/skeleton/${{ values.name }}/README.md",
        "# ${{ values.name }} <b>bold</b>\n",
    );
    h.write(
        "templates/gen/skeleton/long.txt",
        &"0123456789\n".repeat(10_000),
    );
    let png = h.root.join("templates/gen/skeleton/logo.png");
    std::fs::write(&png, [0x89, b'P', b'N', b'G', 0, 0, 0, 13]).unwrap();
    let path = h.write("templates/gen/template.yaml", GEN);
    h.register_file(&path).await;
    h
}

both_databases!(
    the_review_previews_the_files_without_creating_anything,
    setup = generator,
    |h| {
        let router = crate::http::router(h.state());
        let uri = "/create/templates/default/gen";
        let first = page(&router, uri).await;
        let (_, _, review) = post_step(
            &router,
            uri,
            &first,
            &[("name", "orders"), ("token", "s3cret"), (":action", "next")],
        )
        .await;
        assert_eq!(hidden(&review, ":step"), "1", "{review}");
        let (s, _, preview) = post_step(&router, uri, &review, &[(":action", "preview")]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(hidden(&preview, ":step"), "1", "still the review");
        assert!(preview.contains("data-testid=\"preview\""), "{preview}");
        // The tree: the folder once, then its file, linked to its contents.
        let tree_at = preview.find("data-testid=\"file-tree\"").expect("a tree");
        let tree = &preview[tree_at..];
        assert!(tree.contains("orders/</li>"), "{tree}");
        assert!(tree.contains("href=\"#preview-file-"), "{tree}");
        // A text file, escaped, in <pre>.
        assert!(
            preview.contains("data-path=\"orders/README.md\""),
            "{preview}"
        );
        assert!(
            preview.contains("# orders &lt;b&gt;bold&lt;/b&gt;"),
            "text is escaped: {preview}"
        );
        // A binary file by its size; a long file cut, saying so.
        assert!(preview.contains("A binary file of 8 bytes"), "{preview}");
        assert!(
            preview.contains("Only the start of the file is shown: it has 107.4 KiB."),
            "{preview}"
        );
        // Steps: the one whose `if` is false is skipped and said so; the log and output.
        assert!(preview.contains("its if condition was false"), "{preview}");
        assert!(
            preview.contains("hello orders ***"),
            "the log, secret masked"
        );
        assert!(!preview.contains("hello orders s3cret"));
        assert!(preview.contains("Made orders"), "the output");
        assert!(
            !preview.contains("would give is an example"),
            "no step was left out here"
        );
        // Nothing stored: no task.
        let anyone = app::model::Caller::default();
        let tasks = h.scaffolder.list(&anyone, None, None, 10, 0).await.unwrap();
        assert_eq!(tasks.total_tasks, 0);

        // A failing step: named, in words, with the files so far.
        let (_, _, back) = post_step(&router, uri, &review, &[(":action", "back")]).await;
        let (_, _, review) = post_step(
            &router,
            uri,
            &back,
            &[("name", "orders"), ("fail", "true"), (":action", "next")],
        )
        .await;
        let (_, _, failed) = post_step(&router, uri, &review, &[(":action", "preview")]).await;
        assert!(failed.contains("data-testid=\"preview-error\""), "{failed}");
        assert!(
            failed.contains("Step “Break on purpose” (broken) failed")
                && failed.contains("nothing-here"),
            "{failed}"
        );
        assert!(failed.contains("data-path=\"orders/README.md\""));

        // A forged post with a missing value: the step with its error, no preview.
        let (_, _, forged) = send(
            &router,
            "POST",
            uri,
            &FORM,
            ":step=1&:values=%7B%7D&:action=preview",
        )
        .await;
        assert_eq!(hidden(&forged, ":step"), "0");
        assert!(!forged.contains("data-testid=\"preview\""));
    }
);

/// The editor's form, URL-encoded.
fn edit_form(template: &str, files: &str, values: &str) -> String {
    format!(
        "template={}&files={}&values={}",
        encode_component(template),
        encode_component(files),
        encode_component(values)
    )
}

both_databases!(
    the_template_editor_dry_runs_a_pasted_template,
    setup = setup,
    |h| {
        let router = crate::http::router(h.state());
        // Linked from /create; an example to start from.
        assert!(page(&router, "/create")
            .await
            .contains("href=\"/create/edit\""));
        let empty = page(&router, "/create/edit").await;
        assert!(
            empty.contains("name=\"template\"")
                && empty.contains("==&gt; skeleton/README.md &lt;=="),
            "{empty}"
        );
        assert!(!empty.contains("data-testid=\"preview\""));

        let template = "apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: pasted
spec:
  owner: team-a
  type: service
  parameters:
    - title: About
      required: [name]
      properties:
        name: {type: string}
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
  output:
    links:
      - title: Docs
        url: https://example.com/${{ parameters.name }}
";
        let files = "==> skeleton/README.md <==\n# ${{ values.name }} & co\n\n==> skeleton/src/lib.rs <==\npub fn x() {}\n";
        let (s, _, ran) = send(
            &router,
            "POST",
            "/create/edit",
            &FORM,
            &edit_form(template, files, "name: payments"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{ran}");
        assert!(ran.contains("data-testid=\"template-valid\""), "{ran}");
        assert!(ran.contains("data-path=\"README.md\""), "{ran}");
        assert!(ran.contains("# payments &amp; co"), "{ran}");
        assert!(ran.contains("data-path=\"src/lib.rs\""), "{ran}");
        assert!(ran.contains("https://example.com/payments"), "the output");
        assert!(ran.contains("Beginning step Fetch"), "the log");
        // What was posted is kept in the form, escaped.
        assert!(ran.contains("name: payments</textarea>"), "{ran}");
        let (_, _, escaped) = send(
            &router,
            "POST",
            "/create/edit",
            &FORM,
            &edit_form(template, files, "name: '</textarea><b>x'"),
        )
        .await;
        assert!(!escaped.contains("</textarea><b>x"), "{escaped}");
        assert!(
            escaped.contains("name: '&lt;/textarea&gt;&lt;b&gt;x'</textarea>"),
            "{escaped}"
        );

        // Values that do not fit: said per field.
        let (_, _, invalid) = send(
            &router,
            "POST",
            "/create/edit",
            &FORM,
            &edit_form(template, files, "{}"),
        )
        .await;
        assert!(
            invalid.contains("data-testid=\"preview-error\""),
            "{invalid}"
        );
        assert!(invalid.contains("<li>name: "), "{invalid}");

        // An invalid template: its problems with their lines, no dry-run.
        let broken = "apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: Not A Name!
spec:
  type: service
  steps:
    - id: one
      action: debug:log
      input:
        message: ${{ steps['later'].output.x }}
    - id: two
      action: nope:nothing
";
        let (s, _, problems) = send(
            &router,
            "POST",
            "/create/edit",
            &FORM,
            &edit_form(broken, "", ""),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            problems.contains("data-testid=\"template-problems\""),
            "{problems}"
        );
        assert!(
            problems.contains("line 13: spec.steps[1].action: unknown action"),
            "{problems}"
        );
        assert!(
            problems.contains("line 11: spec.steps[0].input.message"),
            "{problems}"
        );
        assert!(problems.contains("line 4: metadata.name"), "{problems}");
        assert!(!problems.contains("data-testid=\"preview\""));

        // From another site: refused.
        let evil = [FORM[0], FORM[1], ("origin", "https://evil.example")];
        let (s, _, _) = send(
            &router,
            "POST",
            "/create/edit",
            &evil,
            &edit_form(template, files, ""),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
);

both_databases!(
    the_template_editor_is_for_those_who_may_run_templates,
    setup = setup,
    |h| {
        // The default policy with sign-in: a guest reads templates but may not run them.
        let state = crate::test_support::with_sign_in(h.state(), "[]", |_| None);
        let guest = crate::http::router(state.clone());
        let refused = page(&guest, "/create/edit").await;
        assert!(!refused.contains("name=\"template\""), "{refused}");
        assert!(refused.contains("scaffolder.task.create"), "{refused}");
        let (_, _, posted) = send(
            &guest,
            "POST",
            "/create/edit",
            &FORM,
            &edit_form(SITE, "", "title: x"),
        )
        .await;
        assert!(!posted.contains("data-testid=\"preview\""), "{posted}");
        let alice = crate::http::router(state).layer(axum::Extension(
            crate::http::caller::TestCaller(member("alice")),
        ));
        let (_, _, ran) = send(
            &alice,
            "POST",
            "/create/edit",
            &FORM,
            &edit_form(SITE, "", "title: x"),
        )
        .await;
        assert!(ran.contains("data-testid=\"preview\""), "{ran}");
    }
);

both_databases!(
    a_picker_with_more_entities_than_the_page_holds_suggests_what_is_typed,
    setup = setup,
    |h| {
        let many: Vec<String> = (0..130).map(|i| group(&format!("crowd-{i:03}"))).collect();
        let path = h.write("crowd.yaml", &many.join("---\n"));
        h.register_file(&path).await;
        let router = crate::http::router(h.state());
        let wizard = page(&router, "/create/templates/default/svc").await;
        // The first hundred (by name) are in the page; the rest are asked for.
        let options = wizard.matches("<option value=\"group:default/").count();
        assert_eq!(options, 100, "{wizard}");
        assert!(wizard.contains("group:default/crowd-000"));
        assert!(!wizard.contains("group:default/crowd-120"));
        let start = wizard.find("data-suggest=\"").expect("data-suggest") + 14;
        let url = wizard[start..start + wizard[start..].find('"').unwrap()].replace("&amp;", "&");
        assert_eq!(url, "/create/suggest?owned=false&filter=kind%3DGroup");

        let (s, headers, body) = send(&router, "GET", &format!("{url}&q=Crowd-12"), &[], "").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let found: Vec<&str> = body
            .split("<option value=\"")
            .skip(1)
            .map(|o| &o[..o.find('"').unwrap()])
            .collect();
        let expected: Vec<String> = (120..130)
            .map(|i| format!("group:default/crowd-{i:03}"))
            .collect();
        assert_eq!(found, expected, "{body}");
        // Only what the filter allows: no users, nothing for a text nothing holds.
        let (_, _, none) = send(&router, "GET", &format!("{url}&q=zzz"), &[], "").await;
        assert!(!none.contains("<option"), "{none}");
        assert!(wizard.contains("WizardChecks"), "the island is on the step");
    }
);

both_databases!(a_step_is_checked_without_moving_on, setup = setup, |h| {
    let router = crate::http::router(h.state());
    let uri = "/create/templates/default/svc";
    let first = page(&router, uri).await;
    let check = |fields: &[(&str, &str)]| {
        let mut pairs = vec![
            (":step".to_string(), hidden(&first, ":step")),
            (":values".to_string(), hidden(&first, ":values")),
        ];
        pairs.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let url = format!("{uri}/check");
    let (s, headers, body) = send(
        &router,
        "POST",
        &url,
        &FORM,
        &check(&[("name", "Bad Name"), ("storage", "db")]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("name\tName must match")),
        "{body}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("engine\tEngine is required")),
        "the field the choice reveals is checked too: {body}"
    );
    let (_, _, ok) = send(
        &router,
        "POST",
        &url,
        &FORM,
        &check(&[("name", "good-name"), ("storage", "none")]),
    )
    .await;
    assert_eq!(ok, "", "a right step has no errors");
    // From another site, it is refused like every post; an unknown template is a 404.
    let (s, _, _) = send(
        &router,
        "POST",
        &url,
        &[
            FORM[0],
            ("host", "portal"),
            ("origin", "https://evil.example"),
        ],
        &check(&[]),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = send(
        &router,
        "POST",
        "/create/templates/default/nope/check",
        &FORM,
        &check(&[]),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
});
