//! Test harness: a catalog service over a fresh database and a temporary directory of
//! descriptor files, and an HTTP client for the full router.

use crate::catalog::{CatalogService, CatalogSettings, OrphanStrategy};
use crate::files::FileSettings;
use crate::git::{GitSettings, GitSource};
use crate::metrics::Metrics;
use crate::storage::testing::TestDb;
use crate::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// The webhook secret of every harness.
pub const WEBHOOK_SECRET: &str = "test-webhook-secret";

pub struct Harness {
    pub db: TestDb,
    pub catalog: Arc<CatalogService>,
    /// The Git source of `catalog` (webhooks, discovery, fetch counts).
    pub git: Arc<GitSource>,
    /// What file locations may read (the temporary root and the Backstage examples).
    pub files: FileSettings,
    pub orphans: OrphanStrategy,
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    /// The audit log of every state this harness makes (`audit.flush()` before reading it).
    pub audit: crate::audit::Audit,
    /// The scaffolder's tasks of every state this harness makes; its worker runs only once a
    /// test calls `scaffolder.spawn()`.
    pub scaffolder: crate::scaffolder::tasks::TaskService,
    /// The managed Git host of the scaffolder's `publish:git`: its repositories live in a
    /// folder of their own, outside the file roots, as `scaffolder.managed_git.dir` may.
    pub managed: crate::scaffolder::managed_git::ManagedGit,
    /// Holds the managed host's folder.
    pub repos: tempfile::TempDir,
}

/// The Backstage examples shipped with the tests.
pub fn backstage_examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/backstage/packages/catalog-model/examples")
}

impl Harness {
    pub async fn new(db: TestDb) -> Harness {
        Self::with_orphans(db, OrphanStrategy::Delete).await
    }

    pub async fn with_orphans(db: TestDb, orphans: OrphanStrategy) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        let files = FileSettings {
            roots: vec![
                root.clone(),
                backstage_examples().canonicalize().expect("fixtures"),
            ],
            refresh_interval: Duration::from_secs(3600),
            max_docs_bytes: GitSettings::default().max_file_kib * 1024,
        };
        let repos = tempfile::tempdir().expect("temp dir");
        let managed = crate::scaffolder::managed_git::ManagedGit {
            host: "backlot".into(),
            repos_dir: repos.path().canonicalize().expect("canonical temp dir"),
            work_dir: root.join(".backlot/tmp"),
            timeout: Duration::from_secs(20),
            http_base: None,
        };
        let (catalog, git) = open_process(
            &db,
            &files,
            orphans,
            &root.join(".backlot"),
            git_settings(),
            &managed,
        )
        .await;
        let audit = crate::audit::Audit::start(db.store.clone(), Default::default());
        let scaffolder = crate::scaffolder::tasks::TaskService::new(
            crate::scaffolder::tasks::TaskDeps {
                store: db.store.clone(),
                catalog: catalog.clone(),
                policy: Arc::new(crate::policy::PolicyStore::fixed(crate::policy::allow_all())),
                audit: audit.clone(),
                checkpoints: root.join(".backlot").join("checkpoints"),
            },
            crate::scaffolder::actions::Actions::for_server(managed.clone(), Some(git.clone())),
            crate::scaffolder::Renderer::new(),
            crate::scaffolder::tasks::TaskSettings {
                heartbeat: Duration::from_millis(200),
                poll_interval: Duration::from_millis(100),
                ..Default::default()
            },
        );
        Harness {
            db,
            catalog,
            git,
            files,
            orphans,
            dir,
            root,
            audit,
            scaffolder,
            managed,
            repos,
        }
    }

    /// Another Backlot process on the same database, with its own data directory and Git
    /// settings.
    pub async fn process(
        &self,
        data_dir: &Path,
        git: GitSettings,
    ) -> (Arc<CatalogService>, Arc<GitSource>) {
        open_process(
            &self.db,
            &self.files,
            self.orphans,
            data_dir,
            git,
            &self.managed,
        )
        .await
    }

    /// Another Backlot process on the same database, with its own data directory.
    pub async fn second_process(&self) -> (Arc<CatalogService>, Arc<GitSource>) {
        self.process(&self.root.join(".backlot-2"), git_settings())
            .await
    }

    /// Writes a file under the temporary root and returns its absolute path.
    pub fn write(&self, rel: &str, content: &str) -> String {
        let path = self.root.join(rel);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(&path, content).expect("write");
        path.to_string_lossy().into_owned()
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.root.join(rel)).expect("remove");
    }

    /// Registers the file at `path` through the REST API, as a user would.
    pub async fn register_file(&self, path: &str) {
        let (status, body) = self
            .call(
                "POST",
                "/api/catalog/locations",
                Some(serde_json::json!({"type": "file", "target": path})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    pub fn state(&self) -> AppState {
        self.state_with(crate::k8s::KubeService::without_clusters(
            self.catalog.clone(),
        ))
    }

    /// The state with a Kubernetes service of the test's own.
    pub fn state_with(&self, kube: Arc<crate::k8s::KubeService>) -> AppState {
        AppState {
            kube,
            git: self.git.clone(),
            docs: crate::docs::service::DocsService::new(self.catalog.clone()),
            catalog: self.catalog.clone(),
            metrics: Arc::new(Metrics::default()),
            leptos: Arc::new(
                leptos::config::LeptosOptions::builder()
                    .output_name("backlot")
                    .site_root("target/site")
                    .build(),
            ),
            ready: Arc::new(AtomicBool::new(true)),
            auth: None,
            policy: Arc::new(crate::policy::PolicyStore::fixed(crate::policy::allow_all())),
            audit: self.audit.clone(),
            scaffolder: self.scaffolder.clone(),
            managed_git: Arc::new(self.managed.clone()),
            observability: Default::default(),
            prometheus: Default::default(),
            scorecards: Default::default(),
        }
    }

    /// Sends a request through the full router; returns status and JSON body (Null if empty).
    pub async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, text) = self.call_raw(method, uri, body).await;
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn call_raw(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        match body {
            Some(b) => {
                let headers = [("content-type", "application/json")];
                self.call_bytes(method, uri, &headers, b.to_string().into_bytes())
                    .await
            }
            None => self.call_bytes(method, uri, &[], Vec::new()).await,
        }
    }

    /// Sends raw bytes with the given headers through the full router.
    pub async fn call_bytes(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, String) {
        let router = crate::http::router(self.state());
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = Body::from(body);
        let res = router
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("response");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    pub async fn cleanup(self) {
        self.audit.flush().await;
        self.db.cleanup().await;
    }
}

/// The Git settings of every harness: the webhook secret set, fetched at most once a second.
pub fn git_settings() -> GitSettings {
    GitSettings {
        webhook_secret: Some(WEBHOOK_SECRET.into()),
        fetch_timeout_secs: 20,
        refresh_interval_secs: 1,
        ..Default::default()
    }
}

/// A catalog process as `backlot serve` wires it, over the test database: Git may read the
/// managed host's repositories.
async fn open_process(
    db: &TestDb,
    files: &FileSettings,
    orphans: OrphanStrategy,
    data_dir: &Path,
    git: GitSettings,
    managed: &crate::scaffolder::managed_git::ManagedGit,
) -> (Arc<CatalogService>, Arc<GitSource>) {
    let (sources, git) = crate::cli::entity_sources(
        data_dir,
        files.clone(),
        git,
        vec![managed.repos_dir.clone()],
    );
    let catalog = CatalogService::open(
        db.store.clone(),
        CatalogSettings { orphans },
        sources,
        Arc::new(Metrics::default()),
    )
    .await
    .expect("open catalog");
    (catalog, git)
}

/// A valid component descriptor.
pub fn component(name: &str, owner: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  description: The {name} service\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    )
}

/// 30 components (c00…c29; c00, c03, c06… owned by team-a, the rest by team-b; even ones are
/// websites, odd ones services) and the two groups, as one multi-document file.
pub fn thirty_components() -> String {
    let mut docs = vec![group("team-a"), group("team-b")];
    for i in 0..30 {
        let mut c = component(
            &format!("c{i:02}"),
            if i % 3 == 0 { "team-a" } else { "team-b" },
        );
        if i % 2 == 0 {
            c = c.replace("type: service", "type: website");
        }
        docs.push(c);
    }
    docs.join("---\n")
}

pub fn group(name: &str) -> String {
    format!("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {name}\nspec:\n  type: team\n  children: []\n")
}

/// Log lines written by the test process, as JSON objects (the one global subscriber of the
/// tests: every test that reads the log shares it, and filters it to its own lines).
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The process's log from the first call on. The subscriber is global: a thread-local one
    /// (`set_default`) missed events whenever another test's thread registered a callsite while
    /// it was being installed (tracing caches each callsite's interest process-wide).
    pub fn process() -> &'static Captured {
        static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
        LOG.get_or_init(|| {
            let logs = Captured::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .json()
                .flatten_event(true)
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other test installs a global subscriber");
            logs
        })
    }

    /// Everything logged so far, as written.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON log line"))
            .collect()
    }
}

/// `state` with sign-in configured (an OpenID provider that is never asked: these tests sign
/// in through `http::caller::TestCaller` or a bearer token), guests let in (`guest: true`, so
/// what a guest meets is the policy's answer, not the sign-in gate), the built-in default
/// policy with sign-in, and these service tokens (validated, with `env` as their environment).
pub fn with_sign_in(
    mut state: AppState,
    service_tokens: &str,
    env: impl Fn(&str) -> Option<String>,
) -> AppState {
    let mut settings: crate::auth::AuthSettings = yaml_serde::from_str(&format!(
        "base_url: http://127.0.0.1:3000\nproviders:\n  oidc:\n    issuer: http://127.0.0.1:9\n    client_id: backlot\n    client_secret_env: TEST_OIDC_SECRET\nguest: true\nservice_tokens: {service_tokens}\n"
    ))
    .expect("auth settings");
    settings
        .validate(|k| match k {
            "TEST_OIDC_SECRET" => Some("test-secret".into()),
            other => env(other),
        })
        .expect("valid auth settings");
    state.auth = Some(Arc::new(crate::auth::Auth::new(settings).expect("sign-in")));
    state.policy = Arc::new(crate::policy::PolicyStore::fixed(crate::policy::built_in(
        true,
        &[],
    )));
    state.scaffolder = state.scaffolder.with_policy(state.policy.clone());
    state
}

/// An answer of the router, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.text))
    }

    /// `backlot_session=…` from Set-Cookie.
    pub fn cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("backlot_session="))
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
    }
}

/// Sends one request through `router` as `caller` (none: as the request itself says).
pub async fn send(
    router: &axum::Router,
    caller: Option<&app::model::Caller>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let router = match caller {
        Some(c) => router
            .clone()
            .layer(axum::Extension(crate::http::caller::TestCaller(c.clone()))),
        None => router.clone(),
    };
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
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
