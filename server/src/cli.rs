//! The command line: `backlot [serve]`, `backlot validate <files…>`, `backlot migrate`.

use crate::catalog::source::Sources;
use crate::catalog::{CatalogService, CatalogSettings, LocationType, NewLocation, Origin};
use crate::config::Config;
use crate::files::parse_file;
use crate::files::{FileSettings, FileSource};
use crate::git::{GitSettings, GitSource};
use crate::metrics::Metrics;
use crate::storage::Store;
use crate::AppState;
use anyhow::Context;
use app::model::{ProblemView, Severity};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "backlot",
    version,
    about = "Backlot: the developer portal in one binary"
)]
struct Cli {
    /// Config file (default: ./backlot.yaml if present).
    #[arg(long, global = true, env = "BACKLOT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal (the default).
    Serve,
    /// Check descriptor files with the server's rules; exit code 1 when anything is invalid.
    Validate {
        /// Descriptor files (multi-document YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Permissions: check a policy file, or ask the policy in force for a decision.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check a policy file; prints `file:line: message` and exits 1 when it is invalid.
    Validate { file: PathBuf },
    /// What the policy in force (the config's, else the built-in default) decides for a user:
    /// prints ALLOW or DENY and the rule; exit 0 allow, 1 deny, 2 error. The user's groups are
    /// read from the catalog in the server's database.
    Check {
        /// `user:default/alice`; `guest` for someone not signed in.
        #[arg(long)]
        user: String,
        /// e.g. `catalog.location.create`.
        #[arg(long)]
        permission: String,
        /// The entity the permission is about, e.g. `component:default/x`.
        #[arg(long)]
        entity: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Validate { files, format } => validate(&files, format),
        Command::Policy(PolicyCommand::Validate { file }) => policy_validate(&file),
        command => {
            let config = match Config::load(cli.config.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("backlot: {e}");
                    return ExitCode::from(2);
                }
            };
            init_tracing(&config);
            limit_malloc_arenas();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("backlot: could not start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Command::Policy(PolicyCommand::Check {
                user,
                permission,
                entity,
            }) = command
            {
                return runtime.block_on(policy_check(&config, &user, &permission, entity));
            }
            let result = runtime.block_on(async {
                match command {
                    Command::Migrate => migrate(&config).await,
                    _ => serve(config).await,
                }
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "backlot stopped");
                    eprintln!("backlot: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// glibc gives each thread that allocates its own arena and rarely returns their memory: with
/// the blocking threads of a refresh that doubles the resident size for nothing. Two arenas are
/// plenty for this server (one makes request threads wait on each other). Blocks of 1 MiB and
/// more (the tables of a large refresh, very large responses) are mapped on their own and given back when
/// freed: a fixed threshold stops glibc from raising it and keeping them in the heap.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "could not create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let url = config.database_url();
    let store = Store::connect(url.expose())
        .await
        .with_context(|| format!("could not open the database ({})", url))?;
    store
        .migrate()
        .await
        .context("could not apply database migrations")?;
    Ok(store)
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    println!("database schema is up to date ({})", store.backend());
    Ok(())
}

/// The directories that file locations registered through the API may read: the configured
/// ones, or the data directory. Locations from the config file and the demo are trusted and not
/// confined (see [`FileSettings::may_read`]).
fn file_roots(config: &Config) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if config.catalog.file_roots.is_empty() {
        vec![config.data_dir.clone()]
    } else {
        config.catalog.file_roots.clone()
    };
    roots
        .into_iter()
        .filter_map(|r| r.canonicalize().ok())
        .collect()
}

/// Every kind of entity source this build reads: files on this machine and Git repositories.
/// A new kind of location is added here. `file://` Git repositories registered through the API
/// may be read inside the file roots and inside `git_roots` (the managed Git host's folder:
/// Git may read it, file locations may not).
pub fn entity_sources(
    data_dir: &Path,
    files: FileSettings,
    git: GitSettings,
    git_roots: Vec<PathBuf>,
) -> (Sources, Arc<GitSource>) {
    let mut roots = files.roots.clone();
    roots.extend(git_roots);
    let git = Arc::new(GitSource::new(data_dir, git, roots));
    let sources = Sources::new(vec![Arc::new(FileSource::new(files)), git.clone()]);
    (sources, git)
}

/// The Git host Backlot manages (`scaffolder.managed_git`), its folder made when missing. Its
/// clone URLs are served by this process: `base_url`, else `auth.base_url`, else the address it
/// listens on.
fn managed_git(config: &Config) -> anyhow::Result<crate::scaffolder::managed_git::ManagedGit> {
    let mut managed = crate::scaffolder::managed_git::ManagedGit::new(
        &config.scaffolder,
        &config.data_dir,
        Duration::from_secs(config.git.fetch_timeout_secs.max(1)),
    );
    if managed.http_base.is_none() {
        let base = match &config.auth {
            Some(auth) => auth.base_url.clone(),
            None => format!("http://{}", config.addr),
        };
        managed.http_base = Some(base.trim_end_matches('/').to_string());
    }
    std::fs::create_dir_all(&managed.repos_dir).with_context(|| {
        format!(
            "could not create the managed Git host's folder {} (scaffolder.managed_git.dir)",
            managed.repos_dir.display()
        )
    })?;
    Ok(managed)
}

/// Where `file://` Git locations registered through the API may read besides the file roots:
/// the managed Git host's repositories.
fn git_roots(managed: &crate::scaffolder::managed_git::ManagedGit) -> Vec<PathBuf> {
    managed.repos_dir.canonicalize().into_iter().collect()
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let metrics = Arc::new(Metrics::default());
    let files = FileSettings {
        roots: file_roots(&config),
        refresh_interval: Duration::from_secs(config.catalog.refresh_interval_secs.max(1)),
        max_docs_bytes: config.git.max_file_kib.saturating_mul(1024),
    };
    let managed = managed_git(&config)?;
    let (sources, git) = entity_sources(
        &config.data_dir,
        files,
        config.git.clone(),
        git_roots(&managed),
    );
    let settings = CatalogSettings {
        orphans: config.catalog.orphans,
    };
    let catalog = CatalogService::open(store.clone(), settings, sources, metrics.clone()).await?;

    let configured: Vec<NewLocation> = config
        .catalog
        .locations
        .iter()
        .map(|l| {
            NewLocation::parse(
                &l.location_type,
                &l.target,
                l.branch.clone(),
                l.path.clone(),
            )
            .map_err(|e| anyhow::anyhow!("location {}: {e}", l.target))
        })
        .collect::<anyhow::Result<_>>()?;
    catalog
        .sync_locations(&Origin::Config, &configured)
        .await
        .context("catalog.locations in the config")?;
    let demo: Vec<NewLocation> = if config.load_demo() {
        let root =
            crate::demo::install(&config.data_dir).context("could not write the demo files")?;
        vec![NewLocation::new(
            LocationType::File,
            &root.to_string_lossy(),
        )]
    } else {
        vec![]
    };
    catalog.sync_locations(&Origin::Demo, &demo).await?;

    // Discovered repositories are known before the first refresh, so readiness includes them.
    git.discover(&catalog).await;
    git.spawn_discovery_loop(catalog.clone());

    let ready = Arc::new(AtomicBool::new(false));
    catalog.spawn_refresh_loop(ready.clone());
    if store.backend() == "postgres" {
        // Other processes may share this database: load what they write.
        catalog.spawn_sync_loop();
    }

    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("backlot")
        .site_root(site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(
            config
                .addr
                .parse::<std::net::SocketAddr>()
                .unwrap_or_else(|_| ([127, 0, 0, 1], 3000).into()),
        )
        .build();
    if !Path::new(&site_root).join("pkg").exists() {
        tracing::warn!(site_root = %site_root, "no built front end found (pkg/ missing): pages render but do not hydrate; build it with `bash .ci/build-site.sh release` or set LEPTOS_SITE_ROOT");
    }
    let kube = crate::k8s::KubeService::start(&config.kubernetes, catalog.clone()).await?;
    let docs = crate::docs::service::DocsService::new(catalog.clone());
    let auth = match config.auth.clone() {
        Some(settings) => {
            tracing::info!(base_url = %settings.base_url, "sign-in configured (OpenID Connect)");
            Some(std::sync::Arc::new(crate::auth::Auth::new(settings)?))
        }
        None => None,
    };
    let policy = Arc::new(
        crate::policy::PolicyStore::from_settings(&config.policy, config.auth.is_some())
            .context("policy")?,
    );
    tracing::info!(policy = %policy.current().source, "permissions");
    let audit = crate::audit::Audit::start(store.clone(), config.audit.clone());
    policy.audit_to(audit.clone());
    policy.spawn_reload_loop(Duration::from_secs(2));
    let scaffolder = crate::scaffolder::tasks::TaskService::new(
        crate::scaffolder::tasks::TaskDeps {
            store: store.clone(),
            catalog: catalog.clone(),
            policy: policy.clone(),
            audit: audit.clone(),
            checkpoints: config.data_dir.join("scaffolder").join("checkpoints"),
        },
        crate::scaffolder::actions::Actions::for_server(managed.clone(), Some(git.clone())),
        crate::scaffolder::Renderer::new(),
        config.scaffolder.task_settings(store.backend() == "sqlite"),
    );
    let scaffolder_worker = scaffolder.spawn();
    let observability = config
        .observability
        .in_force(config.load_demo())
        .context("observability")?;
    tracing::info!(
        links = observability.len(),
        demo = config.observability.links.is_none() && config.load_demo(),
        "observability link templates"
    );
    let prometheus = crate::observability::prometheus::PromService::new(
        &config.observability.prometheus,
        &|k| std::env::var(k).ok(),
    )
    .context("observability.prometheus")?;
    tracing::info!(
        servers = prometheus.servers(),
        alertmanager = prometheus.uses_alertmanager(),
        "Prometheus servers for golden signals"
    );
    let scorecards =
        crate::scorecards::compile_config(config.scorecards.as_deref(), config.load_demo())
            .context("scorecards")?;
    tracing::info!(
        scorecards = scorecards.len(),
        demo = config.scorecards.is_none() && config.load_demo(),
        "scorecards"
    );
    let observability = Arc::new(observability);
    let scorecards = Arc::new(
        crate::scorecards::ScorecardService::new(scorecards)
            .with_kube(kube.clone())
            .with_links(observability.clone()),
    );
    // Evaluated as the catalog publishes each snapshot, not by the first request to read.
    let scorecards_loop = scorecards.spawn(catalog.clone(), store.clone());
    let state = AppState {
        observability,
        prometheus: Arc::new(prometheus),
        scorecards,
        scaffolder,
        managed_git: Arc::new(managed),
        kube: kube.clone(),
        git,
        docs,
        catalog,
        metrics,
        leptos: Arc::new(leptos),
        ready,
        auth,
        policy,
        audit: audit.clone(),
    };
    // Firing alerts per entity for the catalog table, refreshed once per step.
    let alert_counts = tokio::spawn(crate::observability::prometheus::counts::run(
        state.prometheus.clone(),
        state.facade(),
        state.kube.clone(),
    ));
    let app = crate::http::router(state);
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .with_context(|| {
            format!(
                "could not listen on {} (set BACKLOT_ADDR to use another address)",
                config.addr
            )
        })?;
    tracing::info!(addr = %config.addr, database = store.backend(), "Backlot is up: http://{}", config.addr);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown().await;
            // Live views never end by themselves: end them, or shutdown waits for every browser.
            kube.close();
        })
        .await?;
    // The worker stops claiming tasks before the database closes (a task still running is
    // found interrupted at the next start); what was recorded until the end is written.
    scaffolder_worker.abort();
    alert_counts.abort();
    scorecards_loop.abort();
    audit.flush().await;
    store.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// `backlot policy validate FILE`.
fn policy_validate(file: &Path) -> ExitCode {
    match crate::policy::load(file) {
        Ok(p) => {
            println!("{}: valid ({})", file.display(), p.summary());
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `backlot policy check`: the decision of the policy in force, on the catalog in the database.
async fn policy_check(
    config: &Config,
    user: &str,
    permission: &str,
    entity: Option<String>,
) -> ExitCode {
    match decide_for(config, user, permission, entity.as_deref()).await {
        Ok((decision, policy, conditional)) => {
            println!("{decision}");
            println!("policy: {policy}; roles: {}", decision.roles.join(", "));
            if conditional {
                println!(
                    "note: some of these rules have conditions; they apply only with --entity"
                );
            }
            if decision.allowed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("backlot: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn decide_for(
    config: &Config,
    user: &str,
    permission: &str,
    entity: Option<&str>,
) -> anyhow::Result<(crate::policy::Decision, String, bool)> {
    use crate::policy::{Entity, Permission, PolicyStore, Resource};
    let permission = Permission::parse(permission).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown permission {permission}; known: {}",
            Permission::ALL.map(|p| p.as_str()).join(", ")
        )
    })?;
    let policy = PolicyStore::from_settings(&config.policy, config.auth.is_some())?.current();
    let store = open_store(config).await?;
    let files = FileSettings {
        roots: file_roots(config),
        refresh_interval: Duration::from_secs(3600),
        max_docs_bytes: 0,
    };
    let managed = crate::scaffolder::managed_git::ManagedGit::new(
        &config.scaffolder,
        &config.data_dir,
        Duration::from_secs(1),
    );
    let (sources, _) = entity_sources(
        &config.data_dir,
        files,
        config.git.clone(),
        git_roots(&managed),
    );
    let settings = CatalogSettings {
        orphans: config.catalog.orphans,
    };
    let catalog = CatalogService::open(
        store.clone(),
        settings,
        sources,
        Arc::new(Metrics::default()),
    )
    .await?;
    let v = crate::catalog::facade::Facade::new(
        catalog,
        Arc::new(PolicyStore::fixed_arc(policy.clone())),
    )
    .read_unfiltered();
    let caller = caller_of(&v, user)?;
    let decision = match entity {
        None => policy.decide(&caller, permission, &Resource::None),
        Some(e) => {
            let r = app::model::EntityRef::from_ref_string(e)
                .ok_or_else(|| anyhow::anyhow!("--entity must be kind:namespace/name"))?;
            let rec = v
                .get(&r.kind, &r.namespace, &r.name)
                .ok_or_else(|| anyhow::anyhow!("no entity {e} in the catalog"))?;
            let location_type = v.location(&rec.stored.location_id).map(|l| l.location_type);
            let entity = Entity::new(&rec.stored, location_type);
            // A location permission about an entity: a location that provides it.
            let resource = match location_type {
                Some(location_type) if permission.is_location() => Resource::Location {
                    location_type,
                    entities: vec![entity],
                },
                _ => Resource::Entity(entity),
            };
            policy.decide(&caller, permission, &resource)
        }
    };
    store.close().await;
    let conditional = entity.is_none() && policy.is_conditional(&caller, permission);
    Ok((decision, policy.source.clone(), conditional))
}

/// The caller `user` names (`guest`, or a user reference) with their groups as sign-in finds
/// them (`policy::explain`, which the permissions page uses too).
fn caller_of(
    v: &crate::catalog::facade::Visible,
    user: &str,
) -> anyhow::Result<app::model::Caller> {
    crate::policy::explain::caller_of(v, user)
        .map(|(caller, _)| caller)
        .map_err(|e| anyhow::anyhow!("--user: {e}"))
}

/// `backlot validate`: the server's rules on local files.
fn validate(files: &[PathBuf], format: Format) -> ExitCode {
    let mut all: Vec<ProblemView> = Vec::new();
    let mut entities = 0;
    for f in files {
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        let name = abs.to_string_lossy().into_owned();
        match std::fs::read_to_string(&abs) {
            Ok(text) => {
                let out = parse_file(&text, &name, &format!("file:{name}"), &|_| true);
                entities += out.entities.len();
                all.extend(out.problems);
                // Every action the server runs (only their names and inputs are looked at).
                let (actions, renderer) = (
                    crate::scaffolder::actions::Actions::for_server(
                        crate::scaffolder::managed_git::ManagedGit::new(
                            &Default::default(),
                            Path::new("data"),
                            Duration::from_secs(1),
                        ),
                        None,
                    ),
                    crate::scaffolder::Renderer::new(),
                );
                for e in out.entities {
                    let data = e.stored.into_data();
                    all.extend(template_problems(&data, &name, &actions, &renderer));
                    all.extend(scorecard_problems(&data, &name));
                    all.extend(data.problems);
                }
            }
            Err(e) => all.push(ProblemView {
                severity: Severity::Error,
                message: format!("could not read {}: {e}", f.display()),
                file: Some(name),
                document: None,
                line: None,
                field: None,
            }),
        }
    }
    let errors = all.iter().filter(|p| p.severity == Severity::Error).count();
    match format {
        Format::Json => {
            let out =
                serde_json::json!({"valid": errors == 0, "entities": entities, "problems": all});
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Format::Text => {
            for p in &all {
                println!("{}", describe(p));
            }
            if errors == 0 {
                println!("{entities} entities in {} file(s): valid", files.len());
            } else {
                println!("{errors} problem(s) in {} file(s)", files.len());
            }
        }
    }
    if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A Template's problems beyond its schema (`scaffolder::check`): unknown actions, expressions
/// that do not parse, references to missing steps, parameters that are not JSON Schema pages.
fn template_problems(
    data: &crate::catalog::snapshot::StoredData,
    file: &str,
    actions: &crate::scaffolder::actions::Actions,
    renderer: &crate::scaffolder::Renderer,
) -> Vec<ProblemView> {
    if !data.entity_ref.kind.eq_ignore_ascii_case("template") {
        return Vec::new();
    }
    let Ok(entity) = serde_json::from_str::<serde_json::Value>(&data.body) else {
        return Vec::new();
    };
    if entity["apiVersion"] != "scaffolder.backstage.io/v1beta3" {
        return Vec::new();
    }
    crate::scaffolder::check::template_problems(&entity, actions, renderer)
        .into_iter()
        .map(|p| ProblemView {
            severity: Severity::Error,
            message: p.message,
            file: Some(file.to_string()),
            document: Some(data.document),
            line: Some(data.line),
            field: Some(p.field),
        })
        .collect()
}

/// What makes a `Scorecard` entity unusable (its spec as the server checks it).
fn scorecard_problems(data: &crate::catalog::snapshot::StoredData, file: &str) -> Vec<ProblemView> {
    if !data.entity_ref.kind.eq_ignore_ascii_case("scorecard") {
        return Vec::new();
    }
    let Ok(entity) = serde_json::from_str::<serde_json::Value>(&data.body) else {
        return Vec::new();
    };
    let problem = |field: Option<String>, message: String| ProblemView {
        severity: Severity::Error,
        message,
        file: Some(file.to_string()),
        document: Some(data.document),
        line: Some(data.line),
        field,
    };
    match crate::scorecards::service::from_entity(&entity) {
        Err(message) => vec![problem(None, message)],
        Ok(config) => match config.compile(&data.entity_ref.to_ref_string()) {
            Ok(_) => Vec::new(),
            Err(crate::scorecards::ScorecardError::Invalid {
                check,
                field,
                message,
                ..
            }) => vec![problem(
                Some(format!("spec.{field}")),
                match check {
                    Some(c) => format!("check {c:?}: {message}"),
                    None => message,
                },
            )],
            Err(e) => vec![problem(None, e.to_string())],
        },
    }
}

/// `file:line: document N: field: message`, the shape editors and CI logs link from.
pub fn describe(p: &ProblemView) -> String {
    let mut s = String::new();
    if let Some(f) = &p.file {
        s.push_str(f);
        if let Some(l) = p.line {
            s.push_str(&format!(":{l}"));
        }
        s.push_str(": ");
    }
    if let Some(d) = p.document {
        s.push_str(&format!("document {d}: "));
    }
    if let Some(f) = &p.field {
        s.push_str(&format!("{f}: "));
    }
    s.push_str(&p.message);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `backlot validate` checks a `Scorecard` entity's spec as the server would use it.
    #[test]
    fn validate_checks_scorecard_entities() {
        let text = "apiVersion: backlot.io/v1alpha1\nkind: Scorecard\nmetadata:\n  name: docs\nspec:\n  levels: [ok]\n  checks:\n    - {id: d, title: D, level: ok, rule: {any: [description, {relation: ownsApi}]}}\n";
        let out = parse_file(text, "/s.yaml", "file:/s.yaml", &|_| true);
        assert_eq!(out.entities.len(), 1, "{:?}", out.problems);
        let problems: Vec<String> = out
            .entities
            .into_iter()
            .flat_map(|e| scorecard_problems(&e.stored.into_data(), "/s.yaml"))
            .map(|p| describe(&p))
            .collect();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("/s.yaml:1: document 0: spec.checks[0].rule.any[1].relation: check \"d\": unknown relation \"ownsApi\""),
            "{problems:?}"
        );
    }

    crate::both_databases!(
        policy_check_finds_the_users_groups,
        setup = crate::test_support::Harness::new,
        |h| {
            let user = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  memberOf: [team-a]\n";
            let docs = [crate::test_support::group("team-a"), user.to_string()];
            let path = h.write("org.yaml", &docs.join("---\n"));
            h.register_file(&path).await;
            let v = h.state().facade().read_unfiltered();
            let alice = caller_of(&v, "user:default/alice").unwrap();
            let groups: Vec<String> = alice.groups.iter().map(|g| g.to_ref_string()).collect();
            assert_eq!(groups, vec!["group:default/team-a"]);
            assert!(caller_of(&v, "guest").unwrap().is_guest());
            assert!(caller_of(&v, "alice").is_err());
            let nobody = caller_of(&v, "user:default/nobody").unwrap();
            assert!(nobody.groups.is_empty() && nobody.user.is_some());
        }
    );

    #[test]
    fn git_reads_the_managed_repositories_and_files_do_not() {
        let (files_root, repos, elsewhere) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let canonical = |d: &tempfile::TempDir| d.path().canonicalize().unwrap();
        let files = FileSettings {
            roots: vec![canonical(&files_root)],
            refresh_interval: Duration::from_secs(60),
            max_docs_bytes: 0,
        };
        let (sources, _) = entity_sources(
            &canonical(&files_root).join(".data"),
            files,
            GitSettings::default(),
            vec![canonical(&repos)],
        );
        let git = |dir: &Path| {
            let target = format!("file://{}", dir.join("team/svc.git").display());
            sources
                .of(LocationType::Git)
                .unwrap()
                .check(NewLocation::new(LocationType::Git, &target), &Origin::Api)
        };
        assert!(git(&canonical(&repos)).is_ok());
        assert!(git(&canonical(&files_root)).is_ok());
        let refused = git(&canonical(&elsewhere)).unwrap_err().to_string();
        assert!(refused.contains("outside"), "{refused}");
        // A climb out of the managed folder is refused too.
        std::fs::create_dir_all(elsewhere.path().join("team/svc.git")).unwrap();
        let climb = canonical(&repos)
            .join("..")
            .join(canonical(&elsewhere).file_name().unwrap());
        assert!(git(&climb).is_err());
        // File locations keep their own roots.
        let file = canonical(&repos).join("team/catalog-info.yaml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "").unwrap();
        let refused = sources
            .of(LocationType::File)
            .unwrap()
            .check(
                NewLocation::new(LocationType::File, &file.to_string_lossy()),
                &Origin::Api,
            )
            .unwrap_err()
            .to_string();
        assert!(refused.contains("outside"), "{refused}");
    }

    #[test]
    fn describes_problems_with_position() {
        let p = ProblemView {
            severity: Severity::Error,
            message: "is required".into(),
            file: Some("/a.yaml".into()),
            document: Some(1),
            line: Some(12),
            field: Some("spec.owner".into()),
        };
        assert_eq!(
            describe(&p),
            "/a.yaml:12: document 1: spec.owner: is required"
        );
    }
}
