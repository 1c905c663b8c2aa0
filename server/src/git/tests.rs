//! Git locations against real repositories served by `git daemon` and `git http-backend`.

use super::testing::{GitServer, Repo};
use super::webhook::hmac_sha256_hex;
use crate::both_databases;
use crate::test_support::{component, Captured, Harness, WEBHOOK_SECRET};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const API: &str = "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: payments-api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n    $text: ./openapi.yaml\n";

fn seed(repo: &Repo) -> String {
    repo.commit(
        &[
            ("catalog-info.yaml", Some(API)),
            (
                "openapi.yaml",
                Some("openapi: 3.0.0\ninfo:\n  title: Payments\n"),
            ),
            (
                "services/web/catalog-info.yaml",
                Some(&component("web", "team-a")),
            ),
            ("README.md", Some("# Payments\n")),
            ("team.yaml", Some(&crate::test_support::group("team-a"))),
            (
                "services/db/catalog-info.yaml",
                Some(&component("db", "team-a")),
            ),
        ],
        "first",
    )
}

async fn entity(h: &Harness, kind: &str, name: &str) -> Option<Value> {
    let (status, body) = h
        .call(
            "GET",
            &format!("/api/catalog/entities/by-name/{kind}/default/{name}"),
            None,
        )
        .await;
    (status == StatusCode::OK).then_some(body)
}

async fn register(h: &Harness, body: Value) -> String {
    let (status, out) = h.call("POST", "/api/catalog/locations", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    out["location"]["id"].as_str().expect("id").to_string()
}

async fn location(h: &Harness, id: &str) -> Value {
    let (status, body) = h
        .call("GET", &format!("/api/catalog/locations/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// GitHub's push payload, signed with the harness's secret.
async fn github_push(
    h: &Harness,
    clone_url: &str,
    branch: &str,
    secret: &str,
) -> (StatusCode, Value) {
    let body = json!({
        "ref": format!("refs/heads/{branch}"),
        "before": "0".repeat(40),
        "after": "1".repeat(40),
        "deleted": false,
        "repository": {
            "full_name": "acme/payments",
            "clone_url": clone_url,
            "html_url": "https://github.example.com/acme/payments",
            "ssh_url": "git@github.example.com:acme/payments.git",
        },
    })
    .to_string();
    let signature = format!("sha256={}", hmac_sha256_hex(secret, body.as_bytes()));
    let (status, text) = h
        .call_bytes(
            "POST",
            "/api/webhooks/git",
            &[
                ("content-type", "application/json"),
                ("x-github-event", "push"),
                ("x-hub-signature-256", &signature),
            ],
            body.into_bytes(),
        )
        .await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

both_databases!(
    a_repository_is_imported_and_a_push_shows_within_two_seconds,
    setup = Harness::new,
    |h| {
        let server = GitServer::start();
        let repo = server.create("payments");
        let first = seed(&repo);
        let url = server.url("payments");
        let id = register(&h, json!({"type": "git", "target": url})).await;
        // Only `**/catalog-info.yaml` by default: team.yaml is not read.
        assert!(entity(&h, "group", "team-a").await.is_none());

        // Both descriptors (the top one too: `**/` matches no folder as well), the
        // placeholder read from the same commit, the annotations.
        let api = entity(&h, "api", "payments-api").await.expect("api");
        assert_eq!(
            api["spec"]["definition"],
            "openapi: 3.0.0\ninfo:\n  title: Payments\n"
        );
        let ann = &api["metadata"]["annotations"];
        assert_eq!(
            ann["backstage.io/managed-by-location"],
            format!("git:{url}?ref=main&path=catalog-info.yaml")
        );
        assert_eq!(ann["backlot.dev/source-commit"], first.as_str());
        assert!(ann["backlot.dev/source-changed-at"].is_string());
        let web = entity(&h, "component", "web").await.expect("web");
        assert_eq!(web["metadata"]["description"], "The web service");
        let loc = location(&h, &id).await;
        assert_eq!(loc["status"]["commit"], first.as_str());
        assert_eq!(loc["status"]["stale"], false);

        // A push, then the webhook: visible within 2 s.
        let second = repo.commit(
            &[(
                "services/web/catalog-info.yaml",
                Some(&component("web", "team-b")),
            )],
            "web moves to team-b",
        );
        let sent = Instant::now();
        let (status, out) = github_push(&h, &url, "main", WEBHOOK_SECRET).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{out}");
        assert_eq!(out["refreshing"], json!([id]));
        loop {
            let web = entity(&h, "component", "web").await.expect("web");
            if web["spec"]["owner"] == "team-b" {
                assert_eq!(
                    web["metadata"]["annotations"]["backlot.dev/source-commit"],
                    second.as_str()
                );
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(2),
                "the push did not show within 2 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A file that did not change was not read again: it still names the first commit.
        // (The API's placeholder may have changed with any commit: its file is read again.)
        let db = entity(&h, "component", "db").await.expect("db");
        assert_eq!(
            db["metadata"]["annotations"]["backlot.dev/source-commit"],
            first.as_str()
        );
        let api = entity(&h, "api", "payments-api").await.expect("api");
        assert_eq!(
            api["metadata"]["annotations"]["backlot.dev/source-commit"],
            second.as_str()
        );

        // A push to another branch or another repository refreshes nothing.
        let (status, out) = github_push(&h, &url, "feature", WEBHOOK_SECRET).await;
        assert_eq!(
            (status, &out["refreshing"]),
            (StatusCode::ACCEPTED, &json!([]))
        );
        let other = server.url("elsewhere");
        let (_, out) = github_push(&h, &other, "main", WEBHOOK_SECRET).await;
        assert_eq!(out["refreshing"], json!([]));

        // A wrong signature is refused and changes nothing.
        let (status, out) = github_push(&h, &url, "main", "not-the-secret").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{out}");
        assert!(!out.to_string().contains(WEBHOOK_SECRET));
    }
);

async fn refresh(h: &Harness, id: &str) -> (StatusCode, Value) {
    h.call(
        "POST",
        &format!("/api/catalog/locations/{id}/refresh"),
        None,
    )
    .await
}

both_databases!(
    broken_and_deleted_files_in_a_repository,
    setup = Harness::new,
    |h| {
        let server = GitServer::start();
        let repo = server.create("svc");
        seed(&repo);
        let id = register(&h, json!({"type": "git", "target": server.url("svc")})).await;

        // A broken descriptor: the last good entity stays, with the error on it and the location.
        repo.commit(
            &[("services/web/catalog-info.yaml", Some("kind: [oops\n"))],
            "broken",
        );
        let (status, loc) = refresh(&h, &id).await;
        assert_eq!(status, StatusCode::OK, "{loc}");
        assert!(loc["status"]["problems"].as_u64().unwrap_or(0) > 0, "{loc}");
        let web = entity(&h, "component", "web").await.expect("kept");
        assert_eq!(web["spec"]["owner"], "team-a");
        let status_items = web["status"]["items"].to_string();
        assert!(
            status_items.contains("Showing the last good version: invalid YAML"),
            "{status_items}"
        );

        // Fixed again, then deleted: its entity goes, the others stay.
        repo.commit(
            &[(
                "services/web/catalog-info.yaml",
                Some(&component("web", "team-a")),
            )],
            "fixed",
        );
        refresh(&h, &id).await;
        let web = entity(&h, "component", "web").await.expect("web");
        assert!(!web["status"]["items"].to_string().contains("last good"));
        repo.commit(&[("services/web/catalog-info.yaml", None)], "gone");
        refresh(&h, &id).await;
        assert!(entity(&h, "component", "web").await.is_none());
        assert!(entity(&h, "api", "payments-api").await.is_some());

        // A descriptor over the size limit is an error on the location, not a crash.
        let big = format!(
            "{}# {}\n",
            component("big", "t"),
            "x".repeat(2 * 1024 * 1024)
        );
        repo.commit(&[("big/catalog-info.yaml", Some(&big))], "big");
        let (_, loc) = refresh(&h, &id).await;
        assert!(loc["status"]["problems"].as_u64().unwrap_or(0) > 0, "{loc}");
        let snap = h.catalog.snapshot();
        let problems = &snap
            .locations
            .iter()
            .find(|l| l.id == id)
            .expect("loc")
            .problems;
        assert!(
            problems.iter().any(|p| p.message.contains("more than the")),
            "{problems:?}"
        );
    }
);

both_databases!(
    an_unreachable_repository_goes_stale_and_recovers,
    setup = Harness::new,
    |h| {
        let mut server = GitServer::start();
        let repo = server.create("svc");
        seed(&repo);
        let id = register(&h, json!({"type": "git", "target": server.url("svc")})).await;
        server.stop_daemon();
        let (status, out) = h
            .call(
                "POST",
                &format!("/api/catalog/locations/{id}/refresh"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{out}");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("cannot be reached"),
            "{out}"
        );
        let loc = location(&h, &id).await;
        assert_eq!(loc["status"]["stale"], true);
        assert_eq!(loc["status"]["failures"], 1);
        assert!(loc["status"]["lastSuccessAt"].is_string());
        // What it had stays.
        assert!(entity(&h, "component", "web").await.is_some());

        server.start_daemon();
        let (status, loc) = h
            .call(
                "POST",
                &format!("/api/catalog/locations/{id}/refresh"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{loc}");
        assert_eq!(loc["status"]["stale"], false);
        assert_eq!(loc["status"]["failures"], 0);
    }
);

/// A failed read is logged once, where it is recorded, with the location's fields: not again
/// by the API call, the push handler or the registration that ran it.
#[tokio::test]
async fn a_failed_read_is_logged_once_with_its_fields() {
    let logs = Captured::process();

    let h = Harness::new(crate::storage::testing::TestDb::sqlite().await).await;
    let mut server = GitServer::start();
    let repo = server.create("svc");
    seed(&repo);
    let id = register(&h, json!({"type": "git", "target": server.url("svc")})).await;
    server.stop_daemon();
    let (status, _) = h
        .call(
            "POST",
            &format!("/api/catalog/locations/{id}/refresh"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(h.catalog.refresh_pushed(&id).await.is_err());

    // Other tests log too: this test's lines name its location or its server.
    let url = server.url("svc");
    let lines: Vec<Value> = logs
        .lines()
        .into_iter()
        .filter(|l| {
            let text = l.to_string();
            text.contains(id.as_str()) || text.contains(&url)
        })
        .collect();
    let failed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "location could not be read")
        .collect();
    assert_eq!(failed.len(), 2, "one line per failed read: {lines:#?}");
    assert_eq!(failed[0]["level"], "WARN");
    assert_eq!(failed[0]["location.id"], id.as_str());
    assert_eq!(failed[0]["location.type"], "git");
    assert_eq!(failed[0]["failures"], 1);
    assert_eq!(failed[0]["pushed"], false);
    assert_eq!(
        (failed[1]["failures"].clone(), failed[1]["pushed"].clone()),
        (json!(2), json!(true))
    );
    assert!(failed[0]["error"]
        .as_str()
        .unwrap_or_default()
        .contains("cannot be reached"));
    let others: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["message"] != "location could not be read"
                && l.to_string().contains("cannot be reached")
        })
        .collect();
    assert!(others.is_empty(), "logged again: {others:#?}");
    h.cleanup().await;
}

#[tokio::test]
async fn smart_http_url_targets_and_dry_runs() {
    let h = Harness::new(crate::storage::testing::TestDb::sqlite().await).await;
    let mut server = GitServer::start();
    let repo = server.create("web");
    repo.commit(
        &[
            ("catalog-info.yaml", Some(&component("top", "t"))),
            (
                "deploy/catalog-info.yaml",
                Some(&component("deployed", "t")),
            ),
        ],
        "first",
    );
    repo.commit_to(
        "release",
        &[(
            "deploy/catalog-info.yaml",
            Some(&component("released", "t")),
        )],
        "release",
    );
    let base = server.start_http();
    let url = format!("{base}/web.git");

    // A dry run reads, shows, stores nothing.
    let (status, out) = h
        .call(
            "POST",
            "/api/catalog/locations?dryRun=true",
            Some(
                json!({"type": "git", "target": url, "branch": "release", "path": "deploy/*.yaml"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let names: Vec<&str> = out["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .filter_map(|e| e["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["released"]);
    assert!(h.catalog.snapshot().locations.is_empty());

    // The same, registered, over smart HTTP.
    register(
        &h,
        json!({"type": "git", "target": url, "branch": "release", "path": "deploy/*.yaml"}),
    )
    .await;
    assert!(entity(&h, "component", "released").await.is_some());
    assert!(entity(&h, "component", "top").await.is_none());

    // A branch that does not exist: said in words.
    let (status, out) = h
        .call(
            "POST",
            "/api/catalog/locations?dryRun=true",
            Some(json!({"type": "git", "target": url, "branch": "nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("branch \"nope\" does not exist"),
        "{out}"
    );
    // Not a repository URL.
    let (status, _) = h
        .call(
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "git", "target": "/etc"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    drop(server);
    h.cleanup().await;
}

/// Several processes share a PostgreSQL database (SQLite is one process's own).
#[tokio::test]
async fn two_processes_on_one_postgresql_database_share_the_work() {
    let h = Harness::new(crate::storage::testing::TestDb::postgres().await).await;
    {
        let server = GitServer::start();
        let mut repos = Vec::new();
        let mut ids = Vec::new();
        for i in 0..6 {
            let name = format!("svc{i}");
            let repo = server.create(&name);
            repo.commit(
                &[("catalog-info.yaml", Some(&component(&name, "t")))],
                "first",
            );
            ids.push(register(&h, json!({"type": "git", "target": server.url(&name)})).await);
            repos.push(repo);
        }
        let (a, a_git) = (h.catalog.clone(), h.git.clone());
        let (b, b_git) = h.second_process().await;
        assert_eq!(
            b.snapshot().records.len(),
            6,
            "B starts from what storage holds"
        );
        for (i, repo) in repos.iter().enumerate() {
            let name = format!("svc{i}");
            repo.commit(
                &[("catalog-info.yaml", Some(&component(&name, "moved")))],
                "moved",
            );
        }
        // Past the interval (1 s in tests): every location is due in both processes at once.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let before = a_git.fetch_count() + b_git.fetch_count();
        let mut tasks = tokio::task::JoinSet::new();
        for id in &ids {
            for p in [a.clone(), b.clone()] {
                let id = id.clone();
                tasks.spawn(async move { p.refresh_scheduled(&id).await.expect("refresh") });
            }
        }
        let mut ran = 0;
        while let Some(r) = tasks.join_next().await {
            ran += usize::from(r.expect("task"));
        }
        assert_eq!(ran, ids.len(), "each location refreshed once, not twice");
        assert_eq!(
            a_git.fetch_count() + b_git.fetch_count() - before,
            ids.len() as u64
        );
        // Each process loads what the other wrote.
        a.sync_from_storage(true).await.expect("sync a");
        b.sync_from_storage(true).await.expect("sync b");
        for p in [&a, &b] {
            let snap = p.snapshot();
            assert_eq!(snap.records.len(), 6);
            for i in 0..6 {
                let r = snap
                    .get("component", "default", &format!("svc{i}"))
                    .expect("entity");
                assert_eq!(r.stored.value()["spec"]["owner"], "moved");
            }
        }
    }
    h.cleanup().await;
}

both_databases!(
    discovered_repositories_become_locations_and_go_away_with_them,
    setup = Harness::new,
    |h| {
        let server = GitServer::start();
        for name in ["alpha", "beta"] {
            server.create(name).commit(
                &[("catalog-info.yaml", Some(&component(name, "t")))],
                "first",
            );
        }
        let yaml = format!(
            "- name: local\n  type: bare-dir\n  dir: {}\n",
            server.root.display()
        );
        let discovery = yaml_serde::from_str(&yaml).expect("discovery config");
        let settings = crate::git::GitSettings {
            discovery,
            ..crate::test_support::git_settings()
        };
        let (catalog, git) = h.process(&h.root.join(".backlot"), settings).await;
        git.discover(&catalog).await;
        catalog.refresh_all().await.expect("refresh");
        let snap = catalog.snapshot();
        assert_eq!(snap.locations.len(), 2);
        assert!(snap
            .locations
            .iter()
            .all(|l| l.origin == crate::catalog::Origin::Discovery("local".into())));
        assert!(snap.get("component", "default", "alpha").is_some());
        assert!(snap.get("component", "default", "beta").is_some());

        // A repository that is gone is no longer a location, and its entities go with it.
        std::fs::remove_dir_all(server.root.join("beta.git")).expect("remove");
        git.discover(&catalog).await;
        let snap = catalog.snapshot();
        assert_eq!(snap.locations.len(), 1);
        assert!(snap.get("component", "default", "beta").is_none());
        assert!(snap.get("component", "default", "alpha").is_some());
    }
);

both_databases!(
    a_branch_that_disappears_and_a_repository_over_the_limit_are_said_plainly,
    setup = Harness::new,
    |h| {
        let server = GitServer::start();
        let repo = server.create("svc");
        seed(&repo);
        repo.commit_to(
            "release",
            &[(
                "extra/catalog-info.yaml",
                Some(&component("extra", "team-a")),
            )],
            "release",
        );
        let id = register(
            &h,
            json!({"type": "git", "target": server.url("svc"), "branch": "release"}),
        )
        .await;
        assert!(entity(&h, "component", "extra").await.is_some());
        crate::git::testing::git(&repo.work, &["push", "--quiet", "origin", ":release"]);
        let (status, out) = refresh(&h, &id).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{out}");
        let message = out["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("branch \"release\" does not exist"),
            "{message}"
        );
        assert!(
            entity(&h, "component", "extra").await.is_some(),
            "kept, stale"
        );
        assert_eq!(location(&h, &id).await["status"]["stale"], true);

        // A process whose limit is smaller than the repository refuses it and says why.
        let settings = crate::git::GitSettings {
            max_repo_mib: 0,
            ..crate::test_support::git_settings()
        };
        let (small, _) = h.process(&h.root.join(".small"), settings).await;
        let other = server.create("other");
        seed(&other);
        let new = crate::catalog::NewLocation::new(
            crate::catalog::LocationType::Git,
            &server.url("other"),
        );
        let e = small.register(new, true).await.expect_err("too large");
        assert!(e.to_string().contains("more than the 0 MiB allowed"), "{e}");
    }
);

/// The in-process "where does the branch point?" over git:// (v2) and smart HTTP (v0 and v2),
/// against the real servers: the answer a scheduled visit relies on to spawn nothing.
#[tokio::test]
async fn remotes_are_asked_in_process_in_every_dialect() {
    use super::remote::{agent, lookup, Lookup};
    let mut server = GitServer::start();
    let repo = server.create("asked");
    let head = seed(&repo);
    repo.commit_to("main-old", &[], "a branch whose name starts like main's");
    let http = server.start_http();
    let agent = agent(Duration::from_secs(5));
    let wait = Duration::from_secs(5);
    for url in [
        server.url("asked"),
        format!("{http}/asked.git"),
        format!("{}2/asked.git", http),
    ] {
        assert_eq!(
            lookup(&agent, &url, "refs/heads/main", None, wait).await,
            Lookup::Head(Some(head.clone())),
            "{url}"
        );
        assert_eq!(
            lookup(&agent, &url, "refs/heads/gone", None, wait).await,
            Lookup::Head(None),
            "{url}"
        );
    }
    // No such repository: left to git, whose message the owner then reads.
    let missing = format!("{http}2/missing.git");
    assert_eq!(
        lookup(&agent, &missing, "refs/heads/main", None, wait).await,
        Lookup::Unsupported
    );
}
