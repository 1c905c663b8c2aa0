//! A template that creates a service, through the real router and the worker: its skeleton
//! published as a new repository of the managed Git host (read back with `git`), registered in
//! the catalog through the facade as the task's creator (in the catalog when the task ends),
//! fetched back; the dry-run skipping what reaches outside; refusals (another host, unsafe
//! names, an existing repository, a `sourcePath` that leaves the workspace, the policy
//! refusing `catalog.location.create`, `optional`); the repositories cloned over HTTP with a
//! real `git clone` (protocol v2 and v0), pushes refused.

use super::send;
use crate::both_databases;
use crate::git::testing::git;
use crate::http::caller::TestCaller;
use crate::test_support::Harness;
use app::model::{Caller, EntityRef};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: service
  title: A service
spec:
  owner: team-a
  type: service
  parameters:
    - title: Service
      required: [name, owner, repoUrl]
      properties:
        name:
          type: string
          pattern: '^[a-z][a-z0-9-]*$'
        owner:
          type: string
        repoUrl:
          type: string
        sourcePath:
          type: string
        optional:
          type: boolean
  steps:
    - id: fetch
      name: Fetch the skeleton
      action: fetch:template
      input:
        url: ./skeleton
        targetPath: ./service
        values:
          name: ${{ parameters.name }}
          owner: ${{ parameters.owner }}
    - id: notes
      name: Notes beside the service
      action: fetch:plain:file
      input:
        url: ./NOTES.txt
        targetPath: NOTES.txt
    - id: publish
      name: Publish
      action: publish:git
      input:
        repoUrl: ${{ parameters.repoUrl }}
        sourcePath: ${{ parameters.sourcePath }}
        description: The ${{ parameters.name }} service
        gitCommitMessage: Create ${{ parameters.name }}
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: /catalog-info.yaml
        optional: ${{ parameters.optional }}
    - id: read
      name: Read it back
      if: ${{ steps.register.output.entityRef }}
      action: catalog:fetch
      input:
        entityRef: ${{ steps.register.output.entityRef }}
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
      - title: Open in catalog
        icon: catalog
        entityRef: ${{ steps.register.output.entityRef }}
    text:
      - title: Owner
        content: owned by ${{ steps.read.output.entity.spec.owner }}
"#;

const CATALOG_INFO: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name }}
  description: Made by a template
spec:
  type: service
  lifecycle: experimental
  owner: ${{ values.owner }}
";

/// The harness with the `service` template, its skeleton and an organisation (alice in
/// team-a) registered.
async fn setup(db: crate::storage::testing::TestDb) -> Harness {
    let h = Harness::new(db).await;
    h.write("service/skeleton/catalog-info.yaml", CATALOG_INFO);
    h.write("service/skeleton/README.md", "# ${{ values.name }}\n");
    h.write("service/skeleton/src/main.rs", "fn main() {}\n");
    h.write(
        "service/NOTES.txt",
        "not published with sourcePath: service\n",
    );
    let path = h.write("service/template.yaml", TEMPLATE);
    h.register_file(&path).await;
    let alice = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  memberOf: [team-a]\n";
    let org = [
        crate::test_support::group("team-a"),
        crate::test_support::group("team-b"),
        alice.to_string(),
    ];
    let path = h.write("org.yaml", &org.join("---\n"));
    h.register_file(&path).await;
    h
}

/// Starts a task; its id.
async fn start(router: &axum::Router, values: Value) -> String {
    let (status, created) = send(
        router,
        "POST",
        "/api/scaffolder/v2/tasks",
        Some(json!({"templateRef": "template:default/service", "values": values})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().expect("id").to_string()
}

/// The task once ended, and its last event.
async fn ended(router: &axum::Router, id: &str) -> (Value, Value) {
    for _ in 0..400 {
        let (_, task) = send(
            router,
            "GET",
            &format!("/api/scaffolder/v2/tasks/{id}"),
            None,
        )
        .await;
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
        if ["completed", "failed"].contains(&task["status"].as_str().unwrap_or(""))
            && last["type"] == "completion"
        {
            return (task, last);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never ended");
}

/// Runs a task to its end: its status, its last event's body, and every log message.
async fn run(router: &axum::Router, values: Value) -> (String, Value, Vec<String>) {
    let id = start(router, values).await;
    let (task, last) = ended(router, &id).await;
    let (_, events) = send(
        router,
        "GET",
        &format!("/api/scaffolder/v2/tasks/{id}/events"),
        None,
    )
    .await;
    let log = events
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["body"]["message"].as_str().map(str::to_string))
        .collect();
    (
        task["status"].as_str().unwrap_or_default().to_string(),
        last["body"].clone(),
        log,
    )
}

fn error_of(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// How many repositories the managed host holds.
fn repositories(h: &Harness) -> usize {
    let Ok(owners) = std::fs::read_dir(&h.managed.repos_dir) else {
        return 0;
    };
    owners
        .flatten()
        .map(|o| std::fs::read_dir(o.path()).map(|r| r.count()).unwrap_or(0))
        .sum()
}

both_databases!(
    a_template_publishes_and_registers_a_service,
    setup = setup,
    |h| {
        let _worker = h.scaffolder.spawn();
        let router = crate::http::router(h.state());

        // The actions list is what the server runs.
        let (_, actions) = send(&router, "GET", "/api/scaffolder/v2/actions", None).await;
        let ids: Vec<&str> = actions
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        for id in [
            "publish:git",
            "publish:github",
            "publish:gitlab",
            "catalog:register",
            "catalog:fetch",
            "fetch:template",
        ] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }

        let (status, body, log) = run(
            &router,
            json!({"name": "payments", "owner": "group:default/team-a", "repoUrl": "backlot?owner=team-a&repo=payments", "sourcePath": "service"}),
        )
        .await;
        assert_eq!(status, "completed", "{body}\n{log:#?}");

        // The repository: one commit on main with the skeleton's files, from sourcePath only.
        let repo = h
            .managed
            .repo_path(&crate::scaffolder::managed_git::RepoName {
                owner: "team-a".into(),
                repo: "payments".into(),
            });
        assert!(repo.join("HEAD").exists(), "{}", repo.display());
        let files = git(&repo, &["ls-tree", "-r", "--name-only", "main"]);
        assert_eq!(
            files.lines().collect::<Vec<_>>(),
            ["README.md", "catalog-info.yaml", "src/main.rs"]
        );
        assert_eq!(git(&repo, &["show", "main:README.md"]), "# payments");
        assert!(git(&repo, &["show", "main:catalog-info.yaml"]).contains("name: payments"));
        assert_eq!(
            git(&repo, &["log", "--format=%s|%an|%ae", "main"]),
            "Create payments|Scaffolder|scaffolder@backstage.io"
        );
        assert_eq!(
            std::fs::read_to_string(repo.join("description")).unwrap(),
            "The payments service\n"
        );
        let commit = git(&repo, &["rev-parse", "main"]);

        // In the catalog as soon as the task has ended.
        let (status, entity) = send(
            &router,
            "GET",
            "/api/catalog/entities/by-name/component/default/payments",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{entity}");
        assert_eq!(entity["spec"]["owner"], "group:default/team-a");
        let origin = entity["metadata"]["annotations"]["backstage.io/managed-by-location"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            origin.contains(
                &h.managed
                    .clone_url(&crate::scaffolder::managed_git::RepoName {
                        owner: "team-a".into(),
                        repo: "payments".into(),
                    })
            ),
            "{origin}"
        );

        // The output links, and what catalog:fetch read back.
        let remote = format!("file://{}", repo.display());
        assert_eq!(
            body["output"]["links"],
            json!([
                {"title": "Repository", "url": remote},
                {"title": "Open in catalog", "icon": "catalog", "entityRef": "component:default/payments"},
            ]),
            "{body}"
        );
        assert_eq!(
            body["output"]["text"][0]["content"],
            "owned by group:default/team-a"
        );
        assert!(
            log.iter().any(|l| l.contains(&commit)),
            "the log names the commit: {log:#?}"
        );

        // Registered through the facade: in the audit log, as the task's creator (the guest).
        h.audit.flush().await;
        let rows =
            h.db.store
                .audit_events(&crate::storage::AuditFilter {
                    limit: 100,
                    ..Default::default()
                })
                .await
                .expect("audit");
        assert!(
            rows.iter().any(|r| r.action == "catalog.location.create"
                && r.outcome == "allowed"
                && r.actor == "guest"
                && r.target.as_deref().unwrap_or("").contains("payments.git")),
            "{rows:#?}"
        );

        // The dry-run skips what reaches outside and makes nothing.
        let template: Value = yaml_serde::from_str(TEMPLATE).expect("template");
        let b64 = |s: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(s)
        };
        let (status, dry) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/dry-run",
            Some(json!({
                "template": template,
                "values": {"name": "dry", "owner": "group:default/team-a", "repoUrl": "backlot?owner=team-a&repo=dry"},
                "directoryContents": [
                    {"path": "skeleton/catalog-info.yaml", "base64Content": b64(CATALOG_INFO)},
                    {"path": "NOTES.txt", "base64Content": b64("notes")},
                ],
            })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{dry}");
        let said = dry["log"].to_string();
        for skipped in ["publish:git", "catalog:register"] {
            assert!(
                said.contains(&format!(
                    "Skipping because {skipped} does not support dry-run"
                )),
                "{said}"
            );
        }
        assert_eq!(
            dry["output"]["links"][1]["entityRef"],
            "component:default/example"
        );
        assert_eq!(repositories(&h), 1, "the dry-run published nothing");
    }
);

both_databases!(publishing_refuses_what_it_must_not_do, setup = setup, |h| {
    let _worker = h.scaffolder.spawn();
    let router = crate::http::router(h.state());
    let values = |repo_url: &str| json!({"name": "svc", "owner": "group:default/team-a", "repoUrl": repo_url, "sourcePath": "service"});
    for (repo_url, expected) in [
        ("github.com?owner=team-a&repo=svc", "\"backlot\""),
        ("backlot?owner=..&repo=svc", "'.' or '..'"),
        ("backlot?owner=team-a&repo=svc.git", ".git"),
        ("backlot?owner=team-a&repo=a%2F..%2F..%2Fx", "letters"),
        ("backlot?owner=team-a", "no repo"),
    ] {
        let (status, body, _) = run(&router, values(repo_url)).await;
        assert_eq!(status, "failed", "{repo_url}: {body}");
        assert_eq!(body["stepId"], "publish", "{body}");
        let e = error_of(&body);
        assert!(e.contains(expected), "{repo_url}: {e}");
    }
    let (status, body, _) = run(
            &router,
            json!({"name": "svc", "owner": "group:default/team-a", "repoUrl": "backlot?owner=team-a&repo=svc", "sourcePath": "../outside"}),
        )
        .await;
    assert_eq!(status, "failed");
    assert!(error_of(&body).contains("leave the workspace"), "{body}");
    let (status, body, _) = run(
            &router,
            json!({"name": "svc", "owner": "group:default/team-a", "repoUrl": "backlot?owner=team-a&repo=svc", "sourcePath": "nothing-here"}),
        )
        .await;
    assert_eq!(status, "failed");
    assert!(error_of(&body).contains("no files under"), "{body}");
    assert_eq!(repositories(&h), 0, "nothing was created");

    // Once, then never again: the second run fails and the first repository is untouched.
    let (status, body, _) = run(&router, values("backlot?owner=team-a&repo=svc")).await;
    assert_eq!(status, "completed", "{body}");
    let repo = h.managed.repos_dir.join("team-a/svc.git");
    let first = git(&repo, &["rev-parse", "main"]);
    let (status, body, _) = run(&router, values("backlot?owner=team-a&repo=svc")).await;
    assert_eq!(status, "failed", "{body}");
    assert!(error_of(&body).contains("already exists"), "{body}");
    assert_eq!(git(&repo, &["rev-parse", "main"]), first);
    assert_eq!(git(&repo, &["rev-list", "--count", "main"]), "1");

    // Without sourcePath the whole workspace is published.
    let (status, body, log) = run(
            &router,
            json!({"name": "whole", "owner": "group:default/team-a", "repoUrl": "backlot?owner=team-a&repo=whole", "optional": true}),
        )
        .await;
    assert_eq!(status, "completed", "{body}");
    let repo = h.managed.repos_dir.join("team-a/whole.git");
    let files = git(&repo, &["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "NOTES.txt",
            "service/README.md",
            "service/catalog-info.yaml",
            "service/src/main.rs"
        ]
    );
    // /catalog-info.yaml is not there: the location is registered, with nothing in it.
    assert!(
        log.iter().any(|l| l.contains("provided no entities")),
        "{log:#?}"
    );
    assert_eq!(body["output"]["links"][1].get("entityRef"), None, "{body}");
    assert_eq!(repositories(&h), 2);
});

fn alice() -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", "alice")),
        groups: Vec::new(),
        token: None,
    }
}

both_databases!(
    registration_is_the_policys_decision_for_the_tasks_creator,
    setup = setup,
    |h| {
        // The default policy with sign-in: members register locations of what they own.
        let state = crate::test_support::with_sign_in(h.state(), "[]", |_| None);
        let _worker = state.scaffolder.spawn();
        // Alice's session names no groups: the task finds them in the catalog.
        let router = crate::http::router(state.clone()).layer(axum::Extension(TestCaller(alice())));
        let values = |name: &str, owner: &str, optional: bool| json!({"name": name, "owner": owner, "repoUrl": format!("backlot?owner=team-a&repo={name}"), "sourcePath": "service", "optional": optional});

        let (status, body, log) = run(&router, values("ours", "group:default/team-a", false)).await;
        assert_eq!(status, "completed", "{body}\n{log:#?}");
        let (status, _) = send(
            &router,
            "GET",
            "/api/catalog/entities/by-name/component/default/ours",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);

        let (status, body, _) = run(&router, values("theirs", "group:default/team-b", false)).await;
        assert_eq!(status, "failed", "{body}");
        assert_eq!(body["stepId"], "register");
        let e = error_of(&body);
        assert!(e.contains("catalog.location.create"), "{e}");
        let (status, _) = send(
            &router,
            "GET",
            "/api/catalog/entities/by-name/component/default/theirs",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // optional: the refusal is logged and the task goes on, with no entity.
        let (status, body, log) = run(&router, values("maybe", "group:default/team-b", true)).await;
        assert_eq!(status, "completed", "{body}");
        assert!(
            log.iter()
                .any(|l| l.contains("it is optional") && l.contains("catalog.location.create")),
            "{log:#?}"
        );
        assert_eq!(body["output"]["links"][1].get("entityRef"), None, "{body}");
        let (status, _) = send(
            &router,
            "GET",
            "/api/catalog/entities/by-name/component/default/maybe",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        h.audit.flush().await;
        let rows =
            h.db.store
                .audit_events(&crate::storage::AuditFilter {
                    limit: 200,
                    ..Default::default()
                })
                .await
                .expect("audit");
        let seen = |outcome: &str, repo: &str| {
            rows.iter().any(|r| {
                r.action == "catalog.location.create"
                    && r.actor == "user:default/alice"
                    && r.outcome == outcome
                    && r.target.as_deref().unwrap_or("").contains(repo)
            })
        };
        assert!(seen("allowed", "ours.git"), "{rows:#?}");
        assert!(seen("refused", "theirs.git"), "{rows:#?}");
        assert!(seen("refused", "maybe.git"), "{rows:#?}");
    }
);

/// Runs git in `dir` (no system or global config, no prompt); its success and output.
fn git_in(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

both_databases!(
    published_repositories_clone_over_http_read_only,
    setup = setup,
    |h| {
        // The server on a real port, its clone URLs naming it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listen");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let managed = crate::scaffolder::managed_git::ManagedGit {
            http_base: Some(base.clone()),
            ..h.managed.clone()
        };
        let mut state = h.state();
        state.scaffolder = crate::scaffolder::tasks::TaskService::new(
            crate::scaffolder::tasks::TaskDeps {
                store: h.db.store.clone(),
                catalog: h.catalog.clone(),
                policy: state.policy.clone(),
                audit: h.audit.clone(),
                checkpoints: h.root.join(".backlot").join("checkpoints-http"),
            },
            crate::scaffolder::actions::Actions::for_server(managed.clone(), Some(h.git.clone())),
            crate::scaffolder::Renderer::new(),
            crate::scaffolder::tasks::TaskSettings {
                heartbeat: Duration::from_millis(200),
                poll_interval: Duration::from_millis(100),
                ..Default::default()
            },
        );
        state.managed_git = std::sync::Arc::new(managed);
        let _worker = state.scaffolder.spawn();
        let router = crate::http::router(state);
        let server = tokio::spawn(std::future::IntoFuture::into_future(axum::serve(
            listener,
            router.clone(),
        )));

        let (status, body, log) = run(
            &router,
            json!({"name": "payments", "owner": "group:default/team-a", "repoUrl": "backlot?owner=team-a&repo=payments", "sourcePath": "service"}),
        )
        .await;
        assert_eq!(status, "completed", "{body}\n{log:#?}");
        let url = format!("{base}/git/team-a/payments.git");
        assert_eq!(body["output"]["links"][0]["url"], url.as_str(), "{body}");
        // The HTTP form of repoContentsUrl was registered as the folder it names.
        let (status, _) = send(
            &router,
            "GET",
            "/api/catalog/entities/by-name/component/default/payments",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);

        let work = tempfile::tempdir().expect("temp dir");
        let dir = work.path().to_path_buf();
        let url2 = url.clone();
        let (v2, v0, pushed, missing, readme) = tokio::task::spawn_blocking(move || {
            let v2 = git_in(&dir, &["-c", "protocol.version=2", "clone", &url2, "v2"]);
            let v0 = git_in(&dir, &["-c", "protocol.version=0", "clone", &url2, "v0"]);
            let readme = std::fs::read_to_string(dir.join("v2/README.md")).unwrap_or_default();
            let clone = dir.join("v2");
            std::fs::write(clone.join("more.txt"), "more").expect("write");
            git_in(&clone, &["add", "more.txt"]);
            git_in(&clone, &["commit", "-qm", "more"]);
            let pushed = git_in(&clone, &["push", "origin", "HEAD:main"]);
            let missing = git_in(
                &dir,
                &["clone", &url2.replace("payments", "nothing"), "missing"],
            );
            (v2, v0, pushed, missing, readme)
        })
        .await
        .expect("git");
        assert!(v2.0, "protocol v2 clone: {}", v2.1);
        assert!(v0.0, "protocol v0 clone: {}", v0.1);
        assert_eq!(readme, "# payments\n");
        assert!(!pushed.0, "a push is refused: {}", pushed.1);
        assert!(!missing.0, "{}", missing.1);
        let repo = h.managed.repos_dir.join("team-a/payments.git");
        assert_eq!(
            git(&repo, &["rev-list", "--count", "main"]),
            "1",
            "nothing was pushed"
        );
        let commit = git(&repo, &["rev-parse", "main"]);

        // The client's Git-Protocol header reaches git: v2 answers with its capabilities and
        // no `# service=` line; v0 with the line and the refs.
        let refs = "/git/team-a/payments.git/info/refs?service=git-upload-pack";
        let (status, v2) = h
            .call_bytes("GET", refs, &[("git-protocol", "version=2")], Vec::new())
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(v2.starts_with("000eversion 2\n"), "{v2}");
        assert!(v2.contains("ls-refs") && !v2.contains("# service"), "{v2}");
        let (status, v0) = h.call_bytes("GET", refs, &[], Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            v0.starts_with("001e# service=git-upload-pack\n0000"),
            "{v0}"
        );
        assert!(v0.contains(&format!("{commit} HEAD")), "{v0}");
        // A header that is not protocol parameters is ignored (v0 answers).
        let (status, odd) = h
            .call_bytes(
                "GET",
                refs,
                &[("git-protocol", "version=2 --x")],
                Vec::new(),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(odd.starts_with("001e# service"), "{odd}");

        // What git clients may not ask.
        for (uri, expected) in [
            ("/git/team-a/payments.git/info/refs", StatusCode::FORBIDDEN),
            (
                "/git/team-a/payments.git/info/refs?service=git-receive-pack",
                StatusCode::FORBIDDEN,
            ),
            (
                "/git/team-a/payments/info/refs?service=git-upload-pack",
                StatusCode::NOT_FOUND,
            ),
            (
                "/git/..%2F..%2Fetc/x.git/info/refs?service=git-upload-pack",
                StatusCode::NOT_FOUND,
            ),
            (
                "/git/team-a/nothing.git/info/refs?service=git-upload-pack",
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (status, body) = send(&router, "GET", uri, None).await;
            assert_eq!(status, expected, "{uri}: {body}");
        }
        let (status, _) = send(
            &router,
            "POST",
            "/git/team-a/payments.git/git-upload-pack",
            Some(json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        server.abort();
    }
);

/// The harness with the demo organisation and its templates.
async fn demo(db: crate::storage::testing::TestDb) -> Harness {
    let h = Harness::new(db).await;
    let root = crate::demo::install(&h.root.join("data")).expect("demo installed");
    h.register_file(&root.to_string_lossy()).await;
    h
}

both_databases!(
    the_demo_template_makes_an_entity_that_records_where_it_came_from,
    setup = demo,
    |h| {
        let _worker = h.scaffolder.spawn();
        let router = crate::http::router(h.state());
        let values = json!({"name": "orders", "description": "Takes orders", "owner": "group:default/team-checkout",
                            "system": "system:default/checkout", "repoUrl": "backlot?owner=checkout&repo=orders",
                            "port": 8080, "environments": ["staging"], "ingress": false});
        let (status, created) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/tasks",
            Some(json!({"templateRef": "template:default/rust-service", "values": values})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (task, last) = ended(&router, created["id"].as_str().expect("id")).await;
        assert_eq!(task["status"], "completed", "{last}");

        // The registered entity, read from the published repository, carries the template,
        // and the values it ran with (a template read from files: no commit).
        let (status, entity) = send(
            &router,
            "GET",
            "/api/catalog/entities/by-name/component/default/orders",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{entity}");
        let annotations = &entity["metadata"]["annotations"];
        assert_eq!(
            annotations["backlot.io/template-ref"],
            "template:default/rust-service"
        );
        assert_eq!(
            annotations["backstage.io/source-template"],
            "template:default/rust-service"
        );
        let recorded: Value = serde_json::from_str(
            annotations["backlot.io/template-values"]
                .as_str()
                .expect("values as text"),
        )
        .expect("values as JSON");
        assert_eq!(recorded, values);
        assert_eq!(annotations.get("backlot.io/template-commit"), None);
        assert_eq!(entity["spec"]["system"], "system:default/checkout");
        assert_eq!(annotations["backstage.io/kubernetes-id"], "orders");
    }
);

const GIT_TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: from-git
spec:
  owner: team-a
  type: service
  parameters:
    - properties:
        name:
          type: string
        password:
          type: string
          ui:widget: password
        token:
          type: string
          ui:field: Secret
  steps:
    - id: entry
      name: Catalog entry
      action: catalog:write
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata:
            name: ${{ parameters.name }}
          spec:
            type: service
            lifecycle: experimental
            owner: group:default/team-a
    - id: publish
      name: Publish
      action: publish:git
      input:
        repoUrl: backlot?owner=team-a&repo=${{ parameters.name }}
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: /catalog-info.yaml
"#;

both_databases!(
    a_template_from_git_records_its_commit_and_no_secret,
    setup = Harness::new,
    |h| {
        let server = crate::git::testing::GitServer::start();
        let repo = server.create("templates");
        let commit = repo.commit(
            &[("from-git/template.yaml", Some(GIT_TEMPLATE))],
            "template",
        );
        let (status, body) = h
            .call(
                "POST",
                "/api/catalog/locations",
                Some(json!({"type": "git", "target": server.url("templates"), "branch": "main", "path": "from-git/template.yaml"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let _worker = h.scaffolder.spawn();
        let router = crate::http::router(h.state());
        let (status, created) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/tasks",
            Some(json!({"templateRef": "template:default/from-git",
                        "values": {"name": "billing", "password": "hunter2", "token": "tok-123"}})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (task, last) = ended(&router, created["id"].as_str().expect("id")).await;
        assert_eq!(task["status"], "completed", "{last}");
        let (status, entity) = send(
            &router,
            "GET",
            "/api/catalog/entities/by-name/component/default/billing",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{entity}");
        let annotations = &entity["metadata"]["annotations"];
        assert_eq!(
            annotations["backlot.io/template-ref"],
            "template:default/from-git"
        );
        assert_eq!(annotations["backlot.io/template-commit"], commit.as_str());
        // Neither the masked password nor the secret token.
        assert_eq!(
            annotations["backlot.io/template-values"],
            json!({"name": "billing"}).to_string().as_str()
        );
        assert!(!entity.to_string().contains("hunter2"));
        assert!(!entity.to_string().contains("tok-123"));
    }
);
