//! `publish:github` and `publish:gitlab` against a local stub of the hosts' REST endpoints whose
//! answers point at a real Git server (`git http-backend`, run as CGI by the same stub), which
//! takes the push only with the expected Basic credentials. GitHub and GitLab themselves
//! cannot be reached from the tests.

use super::*;
use crate::scaffolder::actions::TemplateFiles;
use crate::scaffolder::workspace::Workspace;
use crate::scaffolder::Renderer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

const TOKEN: &str = "ghp_S3cretStubToken42";

/// One request the stub received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What the API routes answer: status and JSON body.
type Route = dyn Fn(&Seen, &Stub) -> (u16, Value) + Send + Sync;

/// A REST API stub and a smart-HTTP Git server (`/git/…`, `git http-backend` over the bare
/// repositories in `root`) on one loopback port.
#[derive(Clone)]
struct Stub {
    base: String,
    root: PathBuf,
    /// `Basic base64(user:token)` the Git server requires for every request.
    git_auth: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    fn start(root: &Path, git_user: &str, api: Arc<Route>) -> Stub {
        use base64::Engine;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stub = Stub {
            base: format!("http://{}", listener.local_addr().unwrap()),
            root: root.to_path_buf(),
            git_auth: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{git_user}:{TOKEN}"))
            ),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let served = stub.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (stub, api) = (served.clone(), api.clone());
                std::thread::spawn(move || stub.handle(stream, &*api));
            }
        });
        stub
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Makes a bare repository `<root>/<path>.git`, as the host does on creation.
    fn make_repo(&self, path: &str) {
        let bare = self.root.join(format!("{path}.git"));
        std::fs::create_dir_all(&bare).unwrap();
        crate::git::testing::git(&bare, &["init", "--bare", "--quiet"]);
    }

    fn handle(&self, stream: std::net::TcpStream, api: &Route) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((n, v)) = h.trim_end().split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
            let _ = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let mut body = Vec::new();
        if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                reader.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else if let Some(len) = header("content-length").and_then(|l| l.parse().ok()) {
            body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
        }
        let seen = Seen {
            method,
            target,
            headers: headers.clone(),
            body,
        };
        self.seen.lock().unwrap().push(seen.clone());
        let (status, content_type, extra, out) =
            if let Some(path) = seen.target.strip_prefix("/git/") {
                if seen.header("authorization") != Some(self.git_auth.as_str()) {
                    (
                        401,
                        "text/plain".to_string(),
                        vec![(
                            "WWW-Authenticate".to_string(),
                            "Basic realm=\"git\"".to_string(),
                        )],
                        b"credentials required".to_vec(),
                    )
                } else {
                    self.cgi(&seen, path)
                }
            } else {
                let (status, json) = api(&seen, self);
                (
                    status,
                    "application/json".to_string(),
                    Vec::new(),
                    json.to_string().into_bytes(),
                )
            };
        let mut head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
            out.len()
        );
        for (n, v) in extra {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&out);
        let _ = writer.flush();
    }

    /// Runs `git http-backend` for one request, as a web server runs a CGI program.
    fn cgi(&self, seen: &Seen, path: &str) -> (u16, String, Vec<(String, String)>, Vec<u8>) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut child = Command::new("git")
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GIT_PROJECT_ROOT", &self.root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.root)
            .env("REQUEST_METHOD", &seen.method)
            .env("PATH_INFO", format!("/{path}"))
            .env("QUERY_STRING", query)
            .env(
                "CONTENT_TYPE",
                seen.header("content-type").unwrap_or_default(),
            )
            .env("CONTENT_LENGTH", seen.body.len().to_string())
            .env("REMOTE_USER", "publisher")
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&seen.body).unwrap();
        let output = child.wait_with_output().unwrap();
        let raw = output.stdout;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)))
            .unwrap_or((raw.len(), 0));
        let head = String::from_utf8_lossy(&raw[..split.0]).into_owned();
        let body = raw[split.0 + split.1..].to_vec();
        let (mut status, mut content_type, mut extra) = (200, String::new(), Vec::new());
        for line in head.lines() {
            let Some((n, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim().to_string();
            match n.trim().to_ascii_lowercase().as_str() {
                "status" => status = v[..3].parse().unwrap_or(500),
                "content-type" => content_type = v,
                _ => extra.push((n.trim().to_string(), v)),
            }
        }
        (status, content_type, extra, body)
    }
}

fn host_git(dir: &Path) -> ManagedGit {
    ManagedGit {
        host: "backlot".into(),
        repos_dir: dir.join("managed"),
        work_dir: dir.join("tmp"),
        timeout: Duration::from_secs(20),
        http_base: None,
    }
}

fn credential(host: &str, api: &str) -> Credential {
    Credential {
        host: host.into(),
        token: Some(Secret::new(TOKEN)),
        api_base_url: Some(api.into()),
        ..Default::default()
    }
}

fn workspace() -> Workspace {
    let mut w = Workspace::default();
    w.write("README.md", b"# web\n".to_vec(), false).unwrap();
    w.write("src/main.rs", b"fn main() {}\n".to_vec(), false)
        .unwrap();
    w.write("bin/run", b"#!/bin/sh\n".to_vec(), true).unwrap();
    w.write("docs/index.md", b"docs\n".to_vec(), false).unwrap();
    w
}

/// Runs an action outside any task, as a step does; its output or error, and its log.
async fn run_action(
    action: &dyn Action,
    workspace: &mut Workspace,
    input: Value,
) -> (Result<Map<String, Value>, ActionError>, Vec<String>) {
    let (template, renderer) = (TemplateFiles::default(), Renderer::new());
    let mut log = Vec::new();
    let mut ctx = ActionContext {
        workspace,
        template: &template,
        renderer: &renderer,
        template_ref: "template:default/t",
        log: &mut log,
        task: None,
        step_id: "publish",
    };
    let result = action.run(&mut ctx, &input).await;
    (result, log)
}

/// The files of a branch of a bare repository, with their modes.
fn tree_of(bare: &Path, branch: &str) -> Vec<String> {
    crate::git::testing::git(
        bare,
        &["ls-tree", "-r", "--format=%(objectmode) %(path)", branch],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// A GitHub stub: `acme` is an organisation, `jdoe` a user; `taken` already exists.
fn github_api() -> Arc<Route> {
    Arc::new(|req: &Seen, stub: &Stub| {
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return (401, json!({"message": "Bad credentials"}));
        }
        let created = |owner: &str, name: &str| {
            stub.make_repo(&format!("{owner}/{name}"));
            json!({
                "name": name,
                "full_name": format!("{owner}/{name}"),
                "clone_url": format!("{}/git/{owner}/{name}.git", stub.base),
                "html_url": format!("https://github.example/{owner}/{name}"),
            })
        };
        match (req.method.as_str(), req.target.as_str()) {
            ("GET", "/users/acme") => (200, json!({"login": "acme", "type": "Organization"})),
            ("GET", "/users/jdoe") => (200, json!({"login": "jdoe", "type": "User"})),
            ("POST", "/orgs/acme/repos") | ("POST", "/user/repos") => {
                let body = req.json();
                let name = body["name"].as_str().unwrap_or_default().to_string();
                if name == "taken" {
                    return (
                        422,
                        json!({"message": "Repository creation failed.", "errors": [{"resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account"}], "status": "422"}),
                    );
                }
                let owner = if req.target == "/user/repos" {
                    "jdoe"
                } else {
                    "acme"
                };
                (201, created(owner, &name))
            }
            ("PUT", t) if t.ends_with("/topics") => (200, req.json()),
            _ => (404, json!({"message": "Not Found"})),
        }
    })
}

#[tokio::test]
async fn publish_github_creates_the_repository_and_pushes_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let stub = Stub::start(&dir.path().join("served"), "x-access-token", github_api());
    let creds = Arc::new(vec![credential("github.example", &stub.base)]);
    let action = PublishHosted::new(Provider::Github, creds, host_git(dir.path()));
    let mut ws = workspace();
    let (out, log) = run_action(
        &action,
        &mut ws,
        json!({
            "repoUrl": "github.example?owner=acme&repo=web",
            "description": "The web site",
            "repoVisibility": "internal",
            "topics": ["Rust", "web"],
            "gitCommitMessage": "first",
            "gitAuthorName": "Ada",
            "gitAuthorEmail": "ada@example.com",
        }),
    )
    .await;
    let out = out.unwrap_or_else(|e| panic!("{e}\n{log:#?}"));
    let bare = stub.root.join("acme/web.git");
    assert_eq!(
        out["remoteUrl"],
        format!("{}/git/acme/web.git", stub.base).as_str()
    );
    assert_eq!(
        out["repoContentsUrl"],
        "https://github.example/acme/web/blob/master"
    );
    let head = crate::git::testing::git(&bare, &["rev-parse", "refs/heads/master"]);
    assert_eq!(out["commitHash"], head.as_str());
    assert_eq!(out.get("projectId"), None);
    assert_eq!(
        tree_of(&bare, "master"),
        [
            "100644 README.md",
            "100755 bin/run",
            "100644 docs/index.md",
            "100644 src/main.rs"
        ]
    );
    assert_eq!(
        crate::git::testing::git(&bare, &["log", "-1", "--format=%an <%ae> %s", "master"]),
        "Ada <ada@example.com> first"
    );

    // The requests: the owner looked up, the repository created with Backstage's fields, the
    // topics set in lower case; every API call with the bearer token, every git call with it
    // as Basic credentials.
    let seen = stub.requests();
    let api: Vec<&Seen> = seen
        .iter()
        .filter(|r| !r.target.starts_with("/git/"))
        .collect();
    let calls: Vec<String> = api
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /users/acme",
            "POST /orgs/acme/repos",
            "PUT /repos/acme/web/topics"
        ]
    );
    assert_eq!(
        api[1].json(),
        json!({"name": "web", "private": false, "visibility": "internal", "description": "The web site"})
    );
    assert_eq!(api[2].json(), json!({"names": ["rust", "web"]}));
    for r in &api {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    }
    let git: Vec<&Seen> = seen
        .iter()
        .filter(|r| r.target.starts_with("/git/"))
        .collect();
    assert!(
        git.iter().any(|r| r.target.contains("git-receive-pack")),
        "{git:#?}"
    );
    assert!(git
        .iter()
        .all(|r| r.header("authorization") == Some(stub.git_auth.as_str())));
    // The token is in no log line and no output, and git was not handed it on its command line.
    assert!(!log.join("\n").contains(TOKEN), "{log:#?}");
    assert!(!Value::Object(out).to_string().contains(TOKEN));
    assert!(log
        .iter()
        .any(|l| l.contains("acme/web") && l.contains("github.example")));
}

#[tokio::test]
async fn publish_github_for_a_user_with_a_source_path() {
    let dir = tempfile::tempdir().unwrap();
    let stub = Stub::start(&dir.path().join("served"), "x-access-token", github_api());
    let creds = Arc::new(vec![credential("github.example", &stub.base)]);
    let action = PublishHosted::new(Provider::Github, creds, host_git(dir.path()));
    let mut ws = workspace();
    let (out, log) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "github.example?owner=jdoe&repo=docs", "sourcePath": "docs", "defaultBranch": "main"}),
    )
    .await;
    let out = out.unwrap_or_else(|e| panic!("{e}\n{log:#?}"));
    let bare = stub.root.join("jdoe/docs.git");
    assert_eq!(tree_of(&bare, "main"), ["100644 index.md"]);
    assert_eq!(
        out["repoContentsUrl"],
        "https://github.example/jdoe/docs/blob/main"
    );
    let posted = stub
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(posted.target, "/user/repos");
    // A user's repository has no `visibility`; private is Backstage's default.
    assert_eq!(posted.json(), json!({"name": "docs", "private": true}));
    assert_eq!(
        crate::git::testing::git(&bare, &["log", "-1", "--format=%an <%ae> %s", "main"]),
        "Scaffolder <scaffolder@backstage.io> initial commit"
    );
}

#[tokio::test]
async fn publish_github_names_the_host_the_repository_and_the_api_message() {
    let dir = tempfile::tempdir().unwrap();
    let stub = Stub::start(&dir.path().join("served"), "x-access-token", github_api());
    let creds = Arc::new(vec![credential("github.example", &stub.base)]);
    let action = PublishHosted::new(Provider::Github, creds, host_git(dir.path()));
    let mut ws = workspace();
    let (out, _) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "github.example?owner=acme&repo=taken"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("GitHub github.example"), "{msg}");
    assert!(msg.contains("acme/taken"), "{msg}");
    assert!(msg.contains("HTTP 422"), "{msg}");
    assert!(msg.contains("Repository creation failed."), "{msg}");
    assert!(msg.contains("name already exists on this account"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");

    // An unknown owner.
    let (out, _) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "github.example?owner=nobody&repo=x"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("no user or organisation \"nobody\""), "{msg}");

    // A token the API refuses.
    let wrong = Arc::new(vec![Credential {
        token: Some(Secret::new("ghp_wrong")),
        ..credential("github.example", &stub.base)
    }]);
    let action = PublishHosted::new(Provider::Github, wrong, host_git(dir.path()));
    let (out, _) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "github.example?owner=acme&repo=web"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("HTTP 401: Bad credentials"), "{msg}");
    assert!(!msg.contains("ghp_wrong"), "{msg}");
}

#[tokio::test]
async fn a_push_the_git_server_refuses_is_reported_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    // The Git server expects another user name: the push is refused.
    let stub = Stub::start(&dir.path().join("served"), "someone-else", github_api());
    let creds = Arc::new(vec![credential("github.example", &stub.base)]);
    let action = PublishHosted::new(Provider::Github, creds, host_git(dir.path()));
    let mut ws = workspace();
    let (out, _) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "github.example?owner=acme&repo=web"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("acme/web was created"), "{msg}");
    assert!(msg.contains("the push failed"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
    // Nothing of the push is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("tmp"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn without_a_token_for_the_host_nothing_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let stub = Stub::start(&dir.path().join("served"), "x-access-token", github_api());
    let mut ws = workspace();
    let none = PublishHosted::new(Provider::Github, Arc::new(Vec::new()), host_git(dir.path()));
    let (out, _) = run_action(
        &none,
        &mut ws,
        json!({"repoUrl": "github.example?owner=acme&repo=web"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("no credentials for github.example"), "{msg}");
    assert!(msg.contains("git.credentials"), "{msg}");

    let unset = Arc::new(vec![Credential {
        token: None,
        token_env: Some("BACKLOT_TEST_UNSET_TOKEN_VARIABLE".into()),
        ..credential("github.example", &stub.base)
    }]);
    let action = PublishHosted::new(Provider::Gitlab, unset, host_git(dir.path()));
    let (out, _) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "github.example?owner=acme&repo=web"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("publish:gitlab"), "{msg}");
    assert!(msg.contains("no token for github.example"), "{msg}");
    assert!(msg.contains("BACKLOT_TEST_UNSET_TOKEN_VARIABLE"), "{msg}");
    assert!(stub.requests().is_empty());
}

/// A GitLab stub: the group `platform/tools` has id 42; projects get id 7.
fn gitlab_api() -> Arc<Route> {
    Arc::new(|req: &Seen, stub: &Stub| {
        if req.header("private-token") != Some(TOKEN) {
            return (401, json!({"message": "401 Unauthorized"}));
        }
        match (req.method.as_str(), req.target.as_str()) {
            ("GET", "/namespaces/platform%2Ftools") => (
                200,
                json!({"id": 42, "full_path": "platform/tools", "kind": "group"}),
            ),
            ("POST", "/projects") => {
                let body = req.json();
                let name = body["name"].as_str().unwrap_or_default().to_string();
                if name == "taken" {
                    return (
                        400,
                        json!({"message": {"name": ["has already been taken"], "path": ["has already been taken"]}}),
                    );
                }
                stub.make_repo(&format!("platform/tools/{name}"));
                (
                    201,
                    json!({
                        "id": 7,
                        "path_with_namespace": format!("platform/tools/{name}"),
                        "http_url_to_repo": format!("{}/git/platform/tools/{name}.git", stub.base),
                        "web_url": format!("https://gitlab.example/platform/tools/{name}"),
                    }),
                )
            }
            _ => (404, json!({"message": "404 Namespace Not Found"})),
        }
    })
}

#[tokio::test]
async fn publish_gitlab_creates_the_project_in_the_group_and_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let stub = Stub::start(&dir.path().join("served"), "oauth2", gitlab_api());
    let creds = Arc::new(vec![credential("gitlab.example", &stub.base)]);
    let action = PublishHosted::new(Provider::Gitlab, creds, host_git(dir.path()));
    let mut ws = workspace();
    let (out, log) = run_action(
        &action,
        &mut ws,
        json!({
            "repoUrl": "gitlab.example?owner=platform%2Ftools&repo=api",
            "repoVisibility": "public",
            "topics": ["rust"],
            "settings": {"description": "The API"},
        }),
    )
    .await;
    let out = out.unwrap_or_else(|e| panic!("{e}\n{log:#?}"));
    let bare = stub.root.join("platform/tools/api.git");
    let head = crate::git::testing::git(&bare, &["rev-parse", "refs/heads/master"]);
    assert_eq!(
        Value::Object(out),
        json!({
            "remoteUrl": format!("{}/git/platform/tools/api", stub.base),
            "repoContentsUrl": format!("{}/git/platform/tools/api/-/blob/master", stub.base),
            "projectId": 7,
            "commitHash": head,
        })
    );
    assert_eq!(tree_of(&bare, "master").len(), 4);
    let seen = stub.requests();
    let posted = seen
        .iter()
        .find(|r| r.method == "POST" && r.target == "/projects")
        .unwrap();
    assert_eq!(
        posted.json(),
        json!({"namespace_id": 42, "name": "api", "visibility": "public", "topics": ["rust"], "description": "The API"})
    );
    assert!(seen
        .iter()
        .filter(|r| r.target.starts_with("/git/"))
        .all(|r| r.header("authorization") == Some(stub.git_auth.as_str())));
    assert!(!log.join("\n").contains(TOKEN));

    // A name taken: GitLab's per-field messages.
    let (out, _) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "gitlab.example?owner=platform/tools&repo=taken"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("GitLab gitlab.example"), "{msg}");
    assert!(msg.contains("platform/tools/taken"), "{msg}");
    assert!(msg.contains("HTTP 400"), "{msg}");
    assert!(msg.contains("name has already been taken"), "{msg}");

    // An unknown group.
    let (out, _) = run_action(
        &action,
        &mut ws,
        json!({"repoUrl": "gitlab.example?owner=nobody&repo=x"}),
    )
    .await;
    let msg = out.unwrap_err().to_string();
    assert!(msg.contains("namespace \"nobody\" is not found"), "{msg}");
}

#[test]
fn repo_urls_and_defaults() {
    assert_eq!(
        parse_repo_url(Provider::Github, "github.com?owner=acme&repo=web").unwrap(),
        ("github.com".into(), "acme".into(), "web".into())
    );
    assert_eq!(
        parse_repo_url(Provider::Gitlab, "GitLab.com?repo=api&owner=a%2Fb").unwrap(),
        ("gitlab.com".into(), "a/b".into(), "api".into())
    );
    for (provider, bad, why) in [
        (Provider::Github, "github.com", "host?owner"),
        (Provider::Github, "github.com?owner=acme", "no repo"),
        (Provider::Github, "github.com?owner=a/b&repo=x", "one name"),
        (
            Provider::Gitlab,
            "gitlab.com?owner=a/..&repo=x",
            "'.' or '..'",
        ),
        (
            Provider::Github,
            "github.com?owner=acme&repo=-x",
            "start with '-'",
        ),
        (
            Provider::Github,
            "https://github.com/acme?owner=a&repo=b",
            "host name",
        ),
    ] {
        let msg = parse_repo_url(provider, bad).unwrap_err().to_string();
        assert!(msg.contains("repoUrl"), "{bad}: {msg}");
        assert!(msg.contains(why), "{bad}: {msg}");
    }
    assert_eq!(
        Provider::Github.default_api("github.com"),
        "https://api.github.com"
    );
    assert_eq!(
        Provider::Github.default_api("ghe.example.com"),
        "https://ghe.example.com/api/v3"
    );
    assert_eq!(
        Provider::Gitlab.default_api("gitlab.com"),
        "https://gitlab.com/api/v4"
    );
}

#[test]
fn both_actions_are_listed_with_backstage_s_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let actions = crate::scaffolder::actions::Actions::for_server(host_git(dir.path()), None);
    let listed = actions.describe();
    let find = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not listed"))
    };
    let github = find("publish:github");
    assert_eq!(github["schema"]["input"]["required"], json!(["repoUrl"]));
    for key in [
        "repoUrl",
        "description",
        "defaultBranch",
        "repoVisibility",
        "sourcePath",
        "gitCommitMessage",
        "gitAuthorName",
        "gitAuthorEmail",
        "topics",
    ] {
        assert!(
            github["schema"]["input"]["properties"].get(key).is_some(),
            "{key}"
        );
    }
    let out: Vec<&String> = github["schema"]["output"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(out, ["commitHash", "remoteUrl", "repoContentsUrl"]);
    let gitlab = find("publish:gitlab");
    assert!(gitlab["schema"]["output"]["properties"]["projectId"].is_object());
    assert!(gitlab["schema"]["input"]["properties"]["settings"].is_object());

    // `backlot validate` knows them (it checks with the same list).
    let template = json!({"spec": {"steps": [
        {"id": "gh", "action": "publish:github", "input": {"repoUrl": "github.com?owner=a&repo=b"}},
        {"id": "gl", "action": "publish:gitlab", "input": {"repoUrl": "gitlab.com?owner=a&repo=b"}},
        {"action": "debug:log", "input": {"message": "${{ steps.gl.output.projectId }} ${{ steps.gh.output.remoteUrl }}"}},
    ]}});
    let problems =
        crate::scaffolder::check::template_problems(&template, &actions, &Renderer::new());
    assert_eq!(problems, vec![]);
    let unknown = json!({"spec": {"steps": [{"action": "publish:bitbucket"}]}});
    assert_eq!(
        crate::scaffolder::check::template_problems(&unknown, &actions, &Renderer::new()).len(),
        1
    );
}

// ---- through a task: the token stays out of the task's events, state and output ----

const GITHUB_TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: to-github
spec:
  owner: team-a
  type: service
  parameters:
    - properties:
        name:
          type: string
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: publish
      name: Publish
      action: publish:github
      input:
        repoUrl: github.example?owner=acme&repo=${{ parameters.name }}
        description: made by a task
    - id: log
      name: Log
      action: debug:log
      input:
        message: ${{ steps.publish.output | dump }}
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
"#;

async fn github_task_setup(db: crate::storage::testing::TestDb) -> crate::test_support::Harness {
    let h = crate::test_support::Harness::new(db).await;
    h.write(
        "templates/to-github/skeleton/README.md",
        "# ${{ values.name }}\n",
    );
    let path = h.write("templates/to-github/template.yaml", GITHUB_TEMPLATE);
    h.register_file(&path).await;
    h
}

/// Runs the `to-github` template as a task for `name`; the task and its events once it ended.
async fn github_task(
    h: &crate::test_support::Harness,
    stub: &Stub,
    name: &str,
) -> (
    crate::scaffolder::tasks::Task,
    Vec<crate::scaffolder::tasks::TaskEvent>,
) {
    use crate::scaffolder::tasks::{TaskDeps, TaskService, TaskSettings};
    let creds = Arc::new(vec![credential("github.example", &stub.base)]);
    let actions = crate::scaffolder::actions::Actions::built_in().with(Arc::new(
        PublishHosted::new(Provider::Github, creds, h.managed.clone()),
    ));
    let svc = TaskService::new(
        TaskDeps {
            store: h.db.store.clone(),
            catalog: h.catalog.clone(),
            policy: Arc::new(crate::policy::PolicyStore::fixed(crate::policy::allow_all())),
            audit: h.audit.clone(),
            checkpoints: h.root.join(".backlot").join("checkpoints"),
        },
        actions,
        Renderer::new(),
        TaskSettings {
            heartbeat: Duration::from_millis(50),
            poll_interval: Duration::from_millis(50),
            ..Default::default()
        },
    );
    let worker = svc.spawn();
    let anyone = app::model::Caller::default();
    let id = svc
        .create(
            &anyone,
            "template:default/to-github",
            json!({ "name": name }),
            Map::new(),
        )
        .await
        .expect("created");
    for _ in 0..200 {
        let events = svc.events(&anyone, &id, None).await.expect("events");
        if events.iter().any(|e| e.event_type == "completion") {
            worker.abort();
            let task = svc.get(&anyone, &id).await.expect("task");
            return (task, events);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the task did not end");
}

crate::both_databases!(
    a_task_that_publishes_to_github_keeps_the_token_out_of_its_events,
    setup = github_task_setup,
    |h| {
        let stub = Stub::start(&h.root.join("served"), "x-access-token", github_api());
        let (task, events) = github_task(&h, &stub, "shop").await;
        let everything = format!(
            "{}\n{}",
            serde_json::to_string(&task).unwrap(),
            serde_json::to_string(&events).unwrap()
        );
        assert_eq!(task.status, "completed", "{everything}");
        assert!(!everything.contains(TOKEN), "{everything}");
        let completion = events.last().unwrap();
        assert_eq!(
            completion.body["output"]["links"][0]["url"],
            format!("{}/git/acme/shop.git", stub.base).as_str(),
            "{everything}"
        );
        let bare = stub.root.join("acme/shop.git");
        assert_eq!(tree_of(&bare, "master"), ["100644 README.md"]);
        assert_eq!(
            crate::git::testing::git(&bare, &["show", "master:README.md"]),
            "# shop"
        );

        // A failure names the repository and the API's words, still without the token.
        let (task, events) = github_task(&h, &stub, "taken").await;
        let everything = format!(
            "{}\n{}",
            serde_json::to_string(&task).unwrap(),
            serde_json::to_string(&events).unwrap()
        );
        assert_eq!(task.status, "failed", "{everything}");
        assert!(
            everything.contains("name already exists on this account"),
            "{everything}"
        );
        assert!(!everything.contains(TOKEN), "{everything}");
    }
);
