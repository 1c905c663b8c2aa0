//! Scaffolder tasks: a template's run, stored, claimed by a worker, run, cancelled, retried and
//! recovered, as Backstage's task broker does (its task and event JSON shapes, camelCase).
//!
//! - [`TaskService::create`] finds the Template in the catalog, validates the values against its
//!   parameters (`app::scaffolder`), drops what hidden pages hold (as Backstage does), and stores
//!   Backstage's `TaskSpec` (v1beta3). A task without secrets is stored `open`: any worker of any
//!   replica may claim it. A task with secrets is stored already claimed by this process and
//!   starts here at once: secrets live only in this process's memory, never in the database,
//!   the events or the log (the runner writes them as `***`).
//! - The worker ([`TaskService::spawn`]) fails the tasks whose owner stopped beating (a
//!   `completion` event saying at which step they were interrupted), then claims open tasks
//!   while fewer than `concurrency` run. Each run writes its log lines as `log` events as they
//!   come, renews its lease and saves each step's state every `heartbeat`, stops between steps
//!   once a cancel is asked (seen through the heartbeat: any replica may ask), stops at
//!   `task_timeout`, and ends with `finish_task` and a `completion` (or `cancelled`) event.
//!   Its actions reach the catalog as the task's creator (`created_by`, with their groups looked
//!   up as sign-in does) through the facade, with the audit log ([`TaskContext`]).
//!   A worker that lost its lease (its task failed as stale meanwhile) drops the run and
//!   writes nothing more.
//! - Claims are one conditional `UPDATE` (`storage::scaffolder`): two workers never run one
//!   task twice.
//! - After each step the run's checkpoint (steps done, outputs, files) is saved on disk
//!   ([`Checkpoints`]; never one holding a secret), so a retry resumes at the step that did not
//!   finish. A `backlot:approval` step parks the task (`waiting`, no worker, its secrets kept
//!   in this process's memory): [`TaskService::decide`] approves it (it resumes at that step,
//!   here when its secrets are here) or rejects it (it fails); the worker fails requests not
//!   decided in time.

use super::actions::{Actions, Decision, TaskContext, TemplateFiles};
use super::checkpoint::Checkpoints;
use super::run::{prepare_steps, run_with, LogLine, RunControl, RunInput};
use super::workspace::Workspace;
use super::Renderer;
use crate::audit::{Action as Audited, Actor, Audit, Event, Outcome};
use crate::catalog::facade::Facade;
use crate::catalog::reference::{parse_ref, RefKey};
use crate::catalog::{CatalogError, CatalogService};
use crate::policy::{Permission, PolicyStore, Resource};
use crate::storage::{ApprovalRow, TaskEventRow, TaskFilter, TaskRow};
use crate::storage::{StorageError, Store};
use crate::util::{format_rfc3339, now_ms};
use app::error::FieldError;
use app::model::Caller;
use app::scaffolder::{split_secrets, Context, Pages};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// The API version of the templates (and task specs) this runs.
pub const TEMPLATE_API_VERSION: &str = "scaffolder.backstage.io/v1beta3";

/// How many finished runs' workspaces a process keeps in memory.
const KEPT_WORKSPACES: usize = 32;

/// What can go wrong with a task.
#[derive(Debug, thiserror::Error)]
pub enum ScaffolderError {
    /// No such template or task.
    #[error("{0}")]
    NotFound(String),
    /// The values (or the template) are not valid; each error names its field.
    #[error("invalid values: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The caller may not do this (a token without the `templates` scope).
    #[error("{0}")]
    Forbidden(String),
    /// The task is not in a state that allows it (cancel an ended task, retry a running one).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How the worker runs tasks.
#[derive(Debug, Clone)]
pub struct TaskSettings {
    /// Tasks run at once by this process's worker (tasks with secrets run besides).
    pub concurrency: usize,
    /// A run longer than this is stopped and failed.
    pub task_timeout: Duration,
    /// How often a running task renews its lease, saves its state and looks for a cancel.
    pub heartbeat: Duration,
    /// A processing task whose lease is older than this is failed as interrupted.
    pub stale_after: Duration,
    /// How often an idle worker looks for open tasks (tasks created here wake it at once).
    pub poll_interval: Duration,
    /// This process is the only one on its database (SQLite): when the worker starts, every
    /// task still processing was left by an earlier run of this process, so it is failed as
    /// interrupted at once rather than after `stale_after`.
    pub exclusive: bool,
}

impl Default for TaskSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            task_timeout: Duration::from_secs(600),
            heartbeat: Duration::from_secs(5),
            stale_after: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            exclusive: false,
        }
    }
}

/// A task in Backstage's JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    /// Backstage's `TaskSpec` (v1beta3).
    pub spec: Value,
    /// `open`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// ISO-8601.
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_at: Option<String>,
    /// The user's entity reference; absent for the guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// One event of a task in Backstage's JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    pub id: i64,
    pub task_id: String,
    /// `{message, stepId?, status?, output?, error?}`.
    pub body: Value,
    /// `log`, `completion`, `cancelled` or `recovered`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// ISO-8601.
    pub created_at: String,
}

/// A task's approval (`backlot:approval`), as the API and the task page show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub task_id: String,
    pub step_id: String,
    /// Entity references of the users and groups who may decide.
    pub approvers: Vec<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// ISO-8601.
    pub requested_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// `pending`, `approved`, `rejected`, `expired` or `cancelled`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the caller asking may decide it now.
    pub may_decide: bool,
}

/// A page of tasks (`GET /v2/tasks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    pub tasks: Vec<Task>,
    pub total_tasks: i64,
}

/// Each step's state, saved with the heartbeat (the `state` column): which step runs, and each
/// step's name, status and times. No step outputs: they may hold what secrets rendered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskState {
    /// The step that began last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step: Option<String>,
    #[serde(default)]
    pub steps: BTreeMap<String, StepState>,
    /// The run had secrets (kept only in memory): a resumption elsewhere would lack them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_secrets: bool,
}

/// One step's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepState {
    pub name: String,
    /// `open`, `processing`, `completed`, `skipped`, `failed` or `cancelled`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
}

impl TaskState {
    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// The name of the step that began last, if any.
    fn current_name(&self) -> Option<&str> {
        let id = self.current_step.as_deref()?;
        Some(self.steps.get(id).map(|s| s.name.as_str()).unwrap_or(id))
    }

    /// Follows a log line: a step's first and last lines carry its status.
    fn follow(&mut self, line: &LogLine) {
        let (Some(id), Some(status)) = (&line.step_id, &line.status) else {
            return;
        };
        let step = self.steps.entry(id.clone()).or_insert_with(|| StepState {
            name: id.clone(),
            ..Default::default()
        });
        step.status = status.clone();
        if status == "processing" {
            step.started_at = Some(iso(now_ms()));
            self.current_step = Some(id.clone());
        } else {
            step.ended_at = Some(iso(now_ms()));
        }
    }

    /// Marks the current step (if it has not ended) with `status`.
    fn end_current(&mut self, status: &str) {
        if let Some(step) = self
            .current_step
            .as_ref()
            .and_then(|id| self.steps.get_mut(id))
        {
            if step.status == "processing" {
                step.status = status.into();
                step.ended_at = Some(iso(now_ms()));
            }
        }
    }
}

/// A mutex's guard, even after a panic elsewhere poisoned it (what it guards stays usable).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Milliseconds since the epoch as ISO-8601.
fn iso(ms: i64) -> String {
    format_rfc3339(ms.div_euclid(1000), ms.rem_euclid(1000) as u32)
}

impl From<TaskRow> for Task {
    fn from(row: TaskRow) -> Self {
        Task {
            spec: serde_json::from_str(&row.spec).unwrap_or(Value::Null),
            id: row.id,
            status: row.status,
            created_at: iso(row.created_at),
            last_heartbeat_at: row.last_heartbeat_at.map(iso),
            created_by: row.created_by,
        }
    }
}

impl From<TaskEventRow> for TaskEvent {
    fn from(row: TaskEventRow) -> Self {
        TaskEvent {
            id: row.id,
            task_id: row.task_id,
            body: serde_json::from_str(&row.body).unwrap_or(Value::Null),
            event_type: row.event_type,
            created_at: iso(row.created_at),
        }
    }
}

/// Creates, runs and reports on tasks. Cloning it is cheap (an `Arc`).
#[derive(Clone)]
pub struct TaskService(Arc<Inner>);

struct Inner {
    store: Store,
    catalog: Arc<CatalogService>,
    /// Who may run which template, read and stop tasks.
    policy: Arc<PolicyStore>,
    audit: Audit,
    /// Where this process keeps how far its tasks got.
    checkpoints: Checkpoints,
    /// Bumped whenever this process writes an event (streams wait on it).
    events: Arc<tokio::sync::watch::Sender<u64>>,
    actions: Actions,
    renderer: Renderer,
    settings: TaskSettings,
    /// This process's worker id (`claimed_by`).
    worker: String,
    /// One permit per task the worker may run at once.
    slots: Arc<Semaphore>,
    /// Wakes the worker when a task is created or reopened here.
    wake: Arc<Notify>,
    /// The secrets of this process's tasks that wait for an approval (never stored): an
    /// approval decided here resumes them here, with their secrets.
    held: Arc<Mutex<std::collections::HashMap<String, Map<String, Value>>>>,
    /// The workspaces of the last runs that ended here, by task id.
    workspaces: Arc<Mutex<VecDeque<(String, Workspace)>>>,
}

/// What a task service works with besides its actions and settings.
pub struct TaskDeps {
    pub store: Store,
    pub catalog: Arc<CatalogService>,
    pub policy: Arc<PolicyStore>,
    pub audit: Audit,
    /// The folder of the tasks' checkpoints (`<data_dir>/scaffolder/checkpoints`).
    pub checkpoints: PathBuf,
}

impl TaskService {
    pub fn new(
        deps: TaskDeps,
        actions: Actions,
        renderer: Renderer,
        settings: TaskSettings,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
        let TaskDeps {
            store,
            catalog,
            policy,
            audit,
            checkpoints,
        } = deps;
        TaskService(Arc::new(Inner {
            store,
            catalog,
            policy,
            audit,
            checkpoints: Checkpoints::new(checkpoints),
            events: Arc::new(tokio::sync::watch::Sender::new(0)),
            actions,
            renderer,
            settings,
            worker: format!("worker-{}", uuid::Uuid::new_v4()),
            slots,
            wake: Arc::new(Notify::new()),
            held: Arc::new(Mutex::new(Default::default())),
            workspaces: Arc::new(Mutex::new(VecDeque::new())),
        }))
    }

    /// The same service (worker, slots, events, kept workspaces) deciding with another policy:
    /// for tests that give their state another policy.
    pub fn with_policy(&self, policy: Arc<PolicyStore>) -> Self {
        let i = &self.0;
        TaskService(Arc::new(Inner {
            store: i.store.clone(),
            catalog: i.catalog.clone(),
            policy,
            audit: i.audit.clone(),
            checkpoints: i.checkpoints.clone(),
            events: i.events.clone(),
            actions: i.actions.clone(),
            renderer: i.renderer.clone(),
            settings: i.settings.clone(),
            worker: i.worker.clone(),
            slots: i.slots.clone(),
            wake: i.wake.clone(),
            held: i.held.clone(),
            workspaces: i.workspaces.clone(),
        }))
    }

    /// This process's worker id, as tasks' `claimed_by` names it.
    pub fn worker_id(&self) -> &str {
        &self.0.worker
    }

    /// The actions this service's tasks run (what `GET /api/scaffolder/v2/actions` lists).
    pub fn actions(&self) -> &Actions {
        &self.0.actions
    }

    /// What a run of a task created by `created_by` reaches: the catalog's door (with the audit
    /// log) and the creator as a caller, with their groups as sign-in finds them
    /// (`auth::resolve::caller_of`); the guest when nobody signed in created it.
    ///
    /// A task created with an API token runs as the token's owner: the token's scopes are not
    /// stored with the task.
    fn task_context(
        &self,
        task_id: &str,
        created_by: Option<&str>,
        cancel: Arc<AtomicBool>,
        approvals: BTreeMap<String, Decision>,
    ) -> TaskContext {
        let catalog = self.facade().with_audit(self.0.audit.clone());
        let caller = match created_by {
            Some(user) => crate::auth::resolve::caller_of(&catalog.read_unfiltered(), user),
            None => Caller::guest(),
        };
        TaskContext {
            task_id: task_id.to_string(),
            caller,
            catalog,
            cancel,
            approvals,
        }
    }

    /// Starts a task of the template `template_ref` (`[template:][namespace/]name`) with these
    /// values; its id. See the module's doc for where it runs.
    pub async fn create(
        &self,
        caller: &Caller,
        template_ref: &str,
        values: Value,
        secrets: Map<String, Value>,
    ) -> Result<String, ScaffolderError> {
        let result = self
            .create_checked(caller, template_ref, values, secrets)
            .await;
        let event = |outcome| {
            Event::new(Actor::of(caller), Audited::ScaffolderTaskCreate, outcome)
                .target(template_ref.to_string())
        };
        match &result {
            Ok(id) => self
                .0
                .audit
                .record(event(Outcome::Allowed).detail(format!("task {id}"))),
            Err(e @ ScaffolderError::Forbidden(_)) => self
                .0
                .audit
                .record(event(Outcome::Refused).detail(e.to_string())),
            Err(_) => {}
        }
        result
    }

    fn facade(&self) -> Facade {
        Facade::new(self.0.catalog.clone(), self.0.policy.clone())
    }

    /// Asks the policy; a refusal names the permission and the rule.
    fn authorize(&self, caller: &Caller, permission: Permission) -> Result<(), ScaffolderError> {
        self.facade()
            .authorize(caller, permission, &Resource::None)
            .map_err(|e| match e {
                CatalogError::Forbidden(m) => ScaffolderError::Forbidden(m),
                other => ScaffolderError::Forbidden(other.to_string()),
            })
    }

    async fn create_checked(
        &self,
        caller: &Caller,
        template_ref: &str,
        values: Value,
        secrets: Map<String, Value>,
    ) -> Result<String, ScaffolderError> {
        let (key, template) = self.template(caller, template_ref)?;
        self.authorize(caller, Permission::ScaffolderTaskCreate)?;
        let invalid = |field: &str, message: String| {
            ScaffolderError::Invalid(vec![FieldError {
                field: field.into(),
                message,
            }])
        };
        let pages = Pages::from_template(&template)
            .map_err(|e| invalid("spec.parameters", e.to_string()))?;
        let context = Context::default();
        let errors = pages.validate(&values, &context);
        if !errors.is_empty() {
            return Err(ScaffolderError::Invalid(errors));
        }
        let cleaned = pages.without_hidden_pages(&values, &context);
        let (parameters, secret_fields) = split_secrets(&pages, &cleaned, &context);
        let mut secrets = secrets;
        for (name, value) in secret_fields {
            secrets.entry(name).or_insert(value);
        }
        let steps = template["spec"]["steps"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        prepare_steps(&steps, &self.0.actions).map_err(|e| invalid("spec.steps", e.to_string()))?;
        if steps.iter().any(|s| s.get("action").is_some()) {
            self.authorize(caller, Permission::ScaffolderActionExecute)?;
        }

        let mut user = Map::new();
        if let Some(who) = &caller.user {
            if let Some(entity) = self
                .0
                .catalog
                .snapshot()
                .get_key(&RefKey::from_ref(who))
                .map(|r| r.value())
            {
                user.insert("entity".into(), entity);
            }
            user.insert("ref".into(), Value::String(who.to_ref_string()));
        }
        let spec = json!({
            "apiVersion": TEMPLATE_API_VERSION,
            "steps": steps,
            "output": template["spec"].get("output").cloned().unwrap_or_else(|| json!({})),
            "parameters": parameters,
            "user": user,
            "templateInfo": {
                "entityRef": key.as_str(),
                // Which values `catalog:write` leaves out of the entity it writes.
                "maskedFields": super::provenance::masked_paths(&template["spec"]["parameters"]),
                "entity": {"metadata": template.get("metadata").cloned().unwrap_or_else(|| json!({}))},
            },
        });
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let here = !secrets.is_empty();
        let row = TaskRow {
            id: id.clone(),
            spec: spec.to_string(),
            status: if here { "processing" } else { "open" }.into(),
            created_by: caller.user.as_ref().map(|u| u.to_ref_string()),
            created_at: now,
            last_heartbeat_at: here.then_some(now),
            claimed_by: here.then(|| self.0.worker.clone()),
            state: None,
            cancel_requested: false,
        };
        self.0.store.insert_task(&row).await?;
        tracing::info!(task = %id, template = %key, with_secrets = here, "scaffolder task created");
        if here {
            let this = self.clone();
            tokio::spawn(async move { this.execute(row, secrets).await });
        } else {
            self.0.wake.notify_one();
        }
        Ok(id)
    }

    /// The Template entity `template_ref` names, with its key, when the caller may read it and
    /// run templates (`scaffolder.template.read`).
    fn template(
        &self,
        caller: &Caller,
        template_ref: &str,
    ) -> Result<(RefKey, Value), ScaffolderError> {
        let not_found = || ScaffolderError::NotFound(format!("no template {template_ref}"));
        let parsed =
            parse_ref(template_ref, Some("template"), "default").map_err(|_| not_found())?;
        let key = RefKey::from_ref(&parsed);
        let visible = self.facade().read(caller);
        let entity = visible
            .get_key(&key)
            .map(|r| visible.value(r))
            .ok_or_else(not_found)?;
        self.authorize(caller, Permission::ScaffolderTemplateRead)?;
        let is_template = entity["kind"]
            .as_str()
            .is_some_and(|k| k.eq_ignore_ascii_case("Template"))
            && entity["apiVersion"] == TEMPLATE_API_VERSION;
        if !is_template {
            return Err(ScaffolderError::NotFound(format!(
                "{template_ref} is not a {TEMPLATE_API_VERSION} Template"
            )));
        }
        Ok((key, entity))
    }

    /// The files of the template's folder (the folder of its descriptor), as they are now.
    pub async fn template_files(&self, template_ref: &str) -> Result<TemplateFiles, String> {
        let key = RefKey(template_ref.to_ascii_lowercase());
        let files = self
            .0
            .catalog
            .entity_files(&key)
            .ok_or_else(|| format!("the files of {template_ref} cannot be read"))?;
        tokio::task::spawn_blocking(move || {
            let commit = files.revision().map(str::to_string);
            let tree = files.open()?;
            let dir = match files.descriptor().rsplit_once('/') {
                Some((dir, _)) => dir.to_string(),
                None => String::new(),
            };
            let mut read = Vec::new();
            for path in tree.list(&dir) {
                let rel = if dir.is_empty() {
                    path.as_str()
                } else {
                    match path.strip_prefix(&dir).and_then(|p| p.strip_prefix('/')) {
                        Some(rel) => rel,
                        None => continue,
                    }
                };
                if let Some(contents) = tree.read(&path) {
                    read.push((rel.to_string(), contents));
                }
            }
            TemplateFiles::new(read)
                .map(|t| t.with_commit(commit))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Starts the worker: recovers stale tasks, then claims and runs open ones until the
    /// runtime stops (or the handle is aborted; runs already started go on).
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move { this.work().await })
    }

    async fn work(self) {
        let settings = &self.0.settings;
        let mut last_recovery: Option<tokio::time::Instant> = None;
        let mut last_expiry: Option<tokio::time::Instant> = None;
        if settings.exclusive {
            // Before anything runs here: whatever is processing was left by an earlier run.
            if let Err(e) = self.recover_before(now_ms() + 1).await {
                tracing::warn!(error = %e, "interrupted scaffolder tasks could not be recovered");
            }
        }
        loop {
            if last_recovery.is_none_or(|at| at.elapsed() >= settings.stale_after) {
                if let Err(e) = self.recover().await {
                    tracing::warn!(error = %e, "stale scaffolder tasks could not be recovered");
                }

                last_recovery = Some(tokio::time::Instant::now());
            }
            if last_expiry.is_none_or(|at| at.elapsed() >= settings.poll_interval) {
                if let Err(e) = self.expire_approvals().await {
                    tracing::warn!(error = %e, "expired scaffolder approvals could not be ended");
                }
                last_expiry = Some(tokio::time::Instant::now());
            }
            let Ok(permit) = self.0.slots.clone().acquire_owned().await else {
                return;
            };
            match self.0.store.claim_open_task(&self.0.worker, now_ms()).await {
                Ok(Some(row)) => {
                    let this = self.clone();
                    tokio::spawn(async move {
                        this.execute(row, Map::new()).await;
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        _ = self.0.wake.notified() => {}
                        _ = tokio::time::sleep(settings.poll_interval) => {}
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "open scaffolder tasks could not be claimed");
                    tokio::time::sleep(settings.poll_interval).await;
                }
            }
        }
    }

    /// Fails every processing task whose lease is older than `stale_after` (its process
    /// stopped), with a `completion` event naming the step it was interrupted at. How many.
    pub async fn recover(&self) -> Result<usize, ScaffolderError> {
        self.recover_before(now_ms() - self.0.settings.stale_after.as_millis() as i64)
            .await
    }

    /// Fails every processing task whose last heartbeat is before `stale_before` (ms).
    async fn recover_before(&self, stale_before: i64) -> Result<usize, ScaffolderError> {
        let stale = self.0.store.fail_stale_tasks(stale_before).await?;
        for row in &stale {
            let state: TaskState = row
                .state
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            let message = match state.current_name() {
                Some(step) => format!(
                    "The task was interrupted at step {step}: the worker running it stopped"
                ),
                None => {
                    "The task was interrupted before its first step: the worker running it stopped"
                        .to_string()
                }
            };
            let mut body = json!({
                "message": message,
                "status": "failed",
                "error": {"name": "Error", "message": message},
            });
            if let Some(step) = &state.current_step {
                body["stepId"] = Value::String(step.clone());
            }
            self.event(&row.id, "completion", &body).await?;
            tracing::warn!(task = %row.id, worker = row.claimed_by.as_deref().unwrap_or(""), "scaffolder task failed as interrupted");
        }
        Ok(stale.len())
    }

    async fn event(&self, task: &str, event_type: &str, body: &Value) -> Result<i64, StorageError> {
        let id = self
            .0
            .store
            .insert_task_event(task, event_type, &body.to_string(), now_ms())
            .await?;
        self.0.events.send_modify(|n| *n += 1);
        Ok(id)
    }

    /// Changes whenever this process writes a task event (another replica's events are seen
    /// by polling).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.events.subscribe()
    }

    /// Runs a task this worker has claimed, to its end; errors are logged.
    async fn execute(&self, row: TaskRow, secrets: Map<String, Value>) {
        let id = row.id.clone();
        if let Err(e) = self.execute_claimed(row, secrets).await {
            tracing::error!(task = %id, error = %e, "scaffolder task could not be run to its end");
        }
    }

    async fn execute_claimed(
        &self,
        row: TaskRow,
        secrets: Map<String, Value>,
    ) -> Result<(), ScaffolderError> {
        let inner = &self.0;
        let id = row.id.clone();
        let spec: Value = serde_json::from_str(&row.spec).unwrap_or(Value::Null);
        let steps = spec["steps"].as_array().cloned().unwrap_or_default();
        let template_ref = spec["templateInfo"]["entityRef"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut state = TaskState {
            with_secrets: !secrets.is_empty(),
            ..TaskState::default()
        };
        if let Ok(prepared) = prepare_steps(&steps, &inner.actions) {
            for step in prepared {
                let (Some(sid), Some(name)) = (step["id"].as_str(), step["name"].as_str()) else {
                    continue;
                };
                state.steps.insert(
                    sid.to_string(),
                    StepState {
                        name: name.to_string(),
                        status: "open".into(),
                        ..Default::default()
                    },
                );
            }
        }
        // Where an earlier run got to (a retry, or the resumption after an approval).
        let resume = inner.checkpoints.load(&id);
        if let Some(checkpoint) = &resume {
            let previous: TaskState = row
                .state
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            for done in &checkpoint.done {
                if let Some(step) = state.steps.get_mut(done) {
                    *step = previous.steps.get(done).cloned().unwrap_or(StepState {
                        status: "completed".into(),
                        ..step.clone()
                    });
                }
            }
        } else if row.state.is_some() {
            let body = json!({"message": "Starting from the first step: where the earlier run got to is not kept here (it ran on another replica, or its files held a secret)"});
            self.event(&id, "log", &body).await?;
        }
        let approvals = inner
            .store
            .approvals_of(&id)
            .await?
            .into_iter()
            .map(|a| {
                (
                    a.step_id,
                    Decision {
                        status: a.status,
                        by: a.decided_by,
                        reason: a.reason,
                        at: a.decided_at,
                    },
                )
            })
            .collect();
        tracing::info!(task = %id, worker = %inner.worker, resumed = resume.is_some(), "scaffolder task started");
        // The values `catalog:write` records: none for a task made before the masked fields
        // were kept with it.
        let recorded = spec["templateInfo"]["maskedFields"]
            .as_array()
            .map(|masked| {
                let masked: Vec<String> = masked
                    .iter()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect();
                super::provenance::recorded_values(&spec["parameters"], &masked)
            });
        let files = match self.template_files(&template_ref).await {
            Ok(files) => files.with_values(recorded),
            Err(message) => {
                let body = json!({
                    "message": format!("Run failed with Error: {message}"),
                    "error": {"name": "Error", "message": message},
                });
                return self
                    .finish(&id, "failed", &state, "completion", &body)
                    .await;
            }
        };
        let parameters = spec["parameters"].clone();
        let output = spec.get("output").cloned();
        let (lines, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let (saves, mut saved) = tokio::sync::mpsc::unbounded_channel();
        let cancel = Arc::new(AtomicBool::new(row.cancel_requested));
        let task = self.task_context(&id, row.created_by.as_deref(), cancel.clone(), approvals);
        let control = RunControl {
            lines: Some(lines),
            cancel: Some(cancel.clone()),
            checkpoints: Some(saves),
        };
        let running = tokio::time::timeout(
            inner.settings.task_timeout,
            run_with(
                RunInput {
                    steps: &steps,
                    output: output.as_ref(),
                    parameters: &parameters,
                    secrets: &secrets,
                    user: spec["user"].clone(),
                    template: &files,
                    template_ref: &template_ref,
                    dry_run: false,
                    task: Some(&task),
                    resume,
                },
                &inner.actions,
                &inner.renderer,
                control,
            ),
        );
        tokio::pin!(running);
        let mut beat = tokio::time::interval(inner.settings.heartbeat);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.tick().await;
        let result = loop {
            tokio::select! {
                biased;
                Some(line) = receiver.recv() => {
                    // A step that begins is saved at once, so that a process killed during it
                    // leaves the task naming that step.
                    let begins = line.status.as_deref() == Some("processing");
                    self.log(&id, &line, &mut state).await;
                    if begins && !self.beat(&id, &state, &cancel).await {
                        return Ok(());
                    }
                }
                Some(checkpoint) = saved.recv() => self.save_checkpoint(&id, checkpoint, &secrets).await,
                _ = beat.tick() => {
                    if !self.beat(&id, &state, &cancel).await {
                        return Ok(());
                    }
                }
                result = &mut running => break result,
            }
        };
        while let Ok(line) = receiver.try_recv() {
            self.log(&id, &line, &mut state).await;
        }
        while let Ok(checkpoint) = saved.try_recv() {
            self.save_checkpoint(&id, checkpoint, &secrets).await;
        }
        let (status, event_type, body) = match result {
            Err(_) => {
                state.end_current("failed");
                let message = format!(
                    "the task took longer than {} seconds",
                    inner.settings.task_timeout.as_secs_f64()
                );
                (
                    "failed",
                    "completion",
                    json!({
                        "message": format!("Run failed with Error: {message}"),
                        "error": {"name": "TimeoutError", "message": message},
                    }),
                )
            }
            Ok(Err(e)) => (
                "failed",
                "completion",
                json!({
                    "message": format!("Run failed with Error: {e}"),
                    "error": {"name": "Error", "message": e.to_string()},
                }),
            ),
            Ok(Ok(outcome)) => {
                if let Some((step, request)) = outcome.waiting {
                    return self
                        .wait_for_approval(&row, &step, request, &state, secrets.clone())
                        .await;
                }
                let completed = outcome.failed.is_none() && outcome.cancelled.is_none();
                if completed {
                    inner.checkpoints.remove(&id);
                }
                self.keep_workspace(&id, outcome.workspace);
                if let Some(step) = outcome.cancelled {
                    let name = state
                        .steps
                        .get_mut(&step)
                        .map(|s| {
                            s.status = "cancelled".into();
                            s.name.clone()
                        })
                        .unwrap_or_else(|| step.clone());
                    (
                        "cancelled",
                        "cancelled",
                        json!({
                            "message": format!("Step {name} has been cancelled."),
                            "stepId": step,
                            "status": "cancelled",
                        }),
                    )
                } else if let Some((step, error)) = outcome.failed {
                    (
                        "failed",
                        "completion",
                        json!({
                            "message": format!("Run failed with Error: {error}"),
                            "stepId": step,
                            "error": {"name": "Error", "message": error},
                        }),
                    )
                } else {
                    (
                        "completed",
                        "completion",
                        json!({
                            "message": "Run completed with status: completed",
                            "output": outcome.output,
                        }),
                    )
                }
            }
        };
        self.finish(&id, status, &state, event_type, &body).await
    }

    /// Renews this worker's lease on task `id`, saves its step state and hears of a cancel;
    /// false when the task is no longer this worker's (its run must stop).
    async fn beat(&self, id: &str, state: &TaskState, cancel: &AtomicBool) -> bool {
        let inner = &self.0;
        match inner
            .store
            .task_heartbeat(id, &inner.worker, now_ms(), &state.json())
            .await
        {
            Ok(Some(true)) => cancel.store(true, Ordering::SeqCst),
            Ok(Some(false)) => {}
            Ok(None) => {
                tracing::warn!(task = %id, "scaffolder task lost to another worker; its run stops");
                return false;
            }
            Err(e) => tracing::warn!(task = %id, error = %e, "scaffolder task heartbeat failed"),
        }
        true
    }

    /// Saves where the run got to (on a blocking thread: a workspace can be large).
    async fn save_checkpoint(
        &self,
        id: &str,
        checkpoint: super::run::Checkpoint,
        secrets: &Map<String, Value>,
    ) {
        let (store, task, secrets) = (self.0.checkpoints.clone(), id.to_string(), secrets.clone());
        match tokio::task::spawn_blocking(move || store.save(&task, &checkpoint, &secrets)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(task = %id, error = %e, "where a scaffolder task got to could not be saved; a retry starts from the first step")
            }
            Err(e) => {
                tracing::warn!(task = %id, error = %e, "saving a scaffolder task's checkpoint failed")
            }
        }
    }

    /// Parks a task whose step `step` asks for an approval: the request is stored and the task
    /// waits, claimed by no worker; its secrets (never stored) are kept in this process's memory
    /// until the decision.
    async fn wait_for_approval(
        &self,
        row: &TaskRow,
        step: &str,
        request: super::actions::ApprovalRequest,
        state: &TaskState,
        secrets: Map<String, Value>,
    ) -> Result<(), ScaffolderError> {
        let inner = &self.0;
        let now = now_ms();
        let approval = ApprovalRow {
            task_id: row.id.clone(),
            step_id: step.to_string(),
            approvers: serde_json::to_string(&request.approvers).unwrap_or_else(|_| "[]".into()),
            message: request.message,
            requested_by: row.created_by.clone(),
            requested_at: now,
            expires_at: request
                .expires_in
                .map(|d| now.saturating_add(d.as_millis() as i64)),
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            reason: None,
        };
        if !secrets.is_empty() {
            lock(&inner.held).insert(row.id.clone(), secrets);
        }
        if inner
            .store
            .request_approval(&approval, &inner.worker, &state.json())
            .await?
        {
            tracing::info!(task = %row.id, step, approvers = %approval.approvers, "scaffolder task waits for approval");
        } else {
            lock(&inner.held).remove(&row.id);
            tracing::warn!(task = %row.id, "scaffolder task lost to another worker before it could wait for approval");
        }
        Ok(())
    }

    /// Writes a log line as an event and follows it in the state. A line the database refuses
    /// is dropped (the run goes on; the warning says so).
    async fn log(&self, id: &str, line: &LogLine, state: &mut TaskState) {
        state.follow(line);
        let body = serde_json::to_value(line).unwrap_or(Value::Null);
        if let Err(e) = self.event(id, "log", &body).await {
            tracing::warn!(task = %id, error = %e, "a scaffolder task's log line could not be stored");
        }
    }

    /// Ends a task this worker owns, then writes its last event; nothing when it is no longer
    /// this worker's.
    async fn finish(
        &self,
        id: &str,
        status: &str,
        state: &TaskState,
        event_type: &str,
        body: &Value,
    ) -> Result<(), ScaffolderError> {
        let inner = &self.0;
        if inner
            .store
            .finish_task(id, &inner.worker, status, &state.json(), now_ms())
            .await?
        {
            self.event(id, event_type, body).await?;
            tracing::info!(task = %id, status, "scaffolder task ended");
        } else {
            tracing::warn!(task = %id, status, "scaffolder task ended after it was lost to another worker; outcome dropped");
        }
        Ok(())
    }

    fn keep_workspace(&self, id: &str, workspace: Workspace) {
        let mut kept = match self.0.workspaces.lock() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        if kept.len() >= KEPT_WORKSPACES {
            kept.pop_front();
        }
        kept.push_back((id.to_string(), workspace));
    }

    /// The files a run of task `id` left in its workspace, when it ended in this process
    /// recently (the last 32 runs are kept in memory; nothing is stored).
    pub fn workspace(&self, id: &str) -> Option<Workspace> {
        let kept = match self.0.workspaces.lock() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        kept.iter()
            .rev()
            .find(|(task, _)| task == id)
            .map(|(_, w)| w.clone())
    }

    async fn row(&self, id: &str) -> Result<TaskRow, ScaffolderError> {
        self.0
            .store
            .task(id)
            .await?
            .ok_or_else(|| ScaffolderError::NotFound(format!("no task {id}")))
    }

    /// Whether `caller` may stop or retry task `row`: their own task with
    /// `scaffolder.task.create`, anyone's with `scaffolder.task.cancel` (and, to retry,
    /// `scaffolder.task.create`). Recorded in the audit log as `action`.
    fn may_manage(
        &self,
        caller: &Caller,
        row: &TaskRow,
        retry: bool,
        action: Audited,
    ) -> Result<(), ScaffolderError> {
        let own = matches!((&caller.user, &row.created_by), (Some(u), Some(by)) if u.to_ref_string() == *by);
        let result = if own {
            self.authorize(caller, Permission::ScaffolderTaskCreate)
        } else {
            self.authorize(caller, Permission::ScaffolderTaskCancel)
                .and_then(|_| {
                    if retry {
                        self.authorize(caller, Permission::ScaffolderTaskCreate)
                    } else {
                        Ok(())
                    }
                })
        };
        let event = |outcome| {
            Event::new(Actor::of(caller), action, outcome).target(format!("task {}", row.id))
        };
        match &result {
            Ok(()) => self.0.audit.record(event(Outcome::Allowed)),
            Err(e) => self
                .0
                .audit
                .record(event(Outcome::Refused).detail(e.to_string())),
        }
        result
    }

    /// The approvals task `id` asked for, oldest first, each saying whether `caller` may
    /// decide it. Needs `scaffolder.task.read`.
    pub async fn approvals(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<Approval>, ScaffolderError> {
        self.readable_row(caller, id).await?;
        let rows = self.0.store.approvals_of(id).await?;
        Ok(rows.into_iter().map(|r| self.approval(caller, r)).collect())
    }

    /// The pending approvals `caller` may decide (at most 200, oldest first).
    pub async fn pending_approvals(
        &self,
        caller: &Caller,
    ) -> Result<Vec<Approval>, ScaffolderError> {
        self.authorize(caller, Permission::ScaffolderTaskRead)?;
        let rows = self.0.store.approvals(Some("pending"), 200).await?;
        Ok(rows
            .into_iter()
            .map(|r| self.approval(caller, r))
            .filter(|a| a.may_decide)
            .collect())
    }

    fn approval(&self, caller: &Caller, row: ApprovalRow) -> Approval {
        let approvers: Vec<String> = serde_json::from_str(&row.approvers).unwrap_or_default();
        let may_decide =
            row.status == "pending" && self.may_decide(caller, &approvers, &row).is_ok();
        Approval {
            task_id: row.task_id,
            step_id: row.step_id,
            approvers,
            message: row.message,
            requested_by: row.requested_by,
            requested_at: iso(row.requested_at),
            expires_at: row.expires_at.map(iso),
            status: row.status,
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(iso),
            reason: row.reason,
            may_decide,
        }
    }

    /// Whether `caller` may decide an approval: a named approver (their user or one of their
    /// groups) who did not start the task, or anyone with `scaffolder.approval.decide`. A token
    /// needs the `templates` scope either way.
    fn may_decide(
        &self,
        caller: &Caller,
        approvers: &[String],
        row: &ApprovalRow,
    ) -> Result<(), ScaffolderError> {
        let policy = self.0.policy.current();
        if policy
            .decide(
                caller,
                Permission::ScaffolderApprovalDecide,
                &Resource::None,
            )
            .allowed
        {
            return Ok(());
        }
        if let Some(token) = &caller.token {
            if !token.scopes.iter().any(|s| s == "templates") {
                return Err(ScaffolderError::Forbidden(format!(
                    "the token {} may not decide approvals (it lacks the templates scope)",
                    token.name
                )));
            }
        }
        let me = caller.user.as_ref().map(|u| u.to_ref_string());
        let named = me
            .iter()
            .chain(
                caller
                    .groups
                    .iter()
                    .map(|g| g.to_ref_string())
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .any(|r| approvers.iter().any(|a| a.eq_ignore_ascii_case(r)));
        if !named {
            return Err(ScaffolderError::Forbidden(format!(
                "only {} may decide this approval (or whoever has scaffolder.approval.decide)",
                approvers.join(", ")
            )));
        }
        if me.is_some() && me == row.requested_by {
            return Err(ScaffolderError::Forbidden(
                "you started this task: approving your own request needs scaffolder.approval.decide"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Approves (`approve`) or rejects the pending approval of waiting task `id`, with a reason
    /// (required to reject). Approved, the task resumes at the approval step: here at once when
    /// this process holds its secrets, else on any worker. Rejected, it fails. Recorded in the
    /// audit log, refusals included.
    pub async fn decide(
        &self,
        caller: &Caller,
        id: &str,
        approve: bool,
        reason: Option<&str>,
    ) -> Result<(), ScaffolderError> {
        let inner = &self.0;
        let row = self.readable_row(caller, id).await?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let pending = inner
            .store
            .approvals_of(id)
            .await?
            .into_iter()
            .find(|a| a.status == "pending")
            .ok_or_else(|| {
                ScaffolderError::Conflict(format!(
                    "task {id} is {}: it waits for no approval",
                    row.status
                ))
            })?;
        let approvers: Vec<String> = serde_json::from_str(&pending.approvers).unwrap_or_default();
        let verdict = if approve { "approved" } else { "rejected" };
        let event = |outcome| {
            Event::new(
                Actor::of(caller),
                Audited::ScaffolderApprovalDecide,
                outcome,
            )
            .target(format!("task {id}"))
        };
        let allowed = self
            .may_decide(caller, &approvers, &pending)
            .and_then(|()| {
                if !approve && reason.is_none() {
                    return Err(ScaffolderError::Invalid(vec![FieldError {
                        field: "reason".into(),
                        message: "say why the task is rejected".into(),
                    }]));
                }
                Ok(())
            });
        if let Err(e) = allowed {
            if matches!(e, ScaffolderError::Forbidden(_)) {
                inner
                    .audit
                    .record(event(Outcome::Refused).detail(e.to_string()));
            }
            return Err(e);
        }
        let by = caller.user.as_ref().map(|u| u.to_ref_string());
        let held = lock(&inner.held).remove(id);
        let state: TaskState = row
            .state
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        // Resumed here when its secrets are here; claimed here too when they are gone, so that
        // no other worker resumes it without them before it is failed below.
        let claim =
            (approve && (held.is_some() || state.with_secrets)).then_some(inner.worker.as_str());
        if !inner
            .store
            .decide_approval(
                id,
                &pending.step_id,
                verdict,
                by.as_deref(),
                reason,
                now_ms(),
                claim,
            )
            .await?
        {
            if let Some(secrets) = held {
                lock(&inner.held).insert(id.to_string(), secrets);
            }
            return Err(ScaffolderError::Conflict(format!(
                "the approval of task {id} was decided meanwhile"
            )));
        }
        inner.audit.record(event(Outcome::Allowed).detail(format!(
            "{verdict}{}",
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        )));
        let who = by.clone().unwrap_or_else(|| "the guest".into());
        let said = format!(
            "{} by {who}{}",
            if approve { "Approved" } else { "Rejected" },
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
        tracing::info!(task = %id, step = %pending.step_id, verdict, by = %who, "scaffolder approval decided");
        if !approve {
            let body = json!({
                "message": format!("Run failed with Error: {said}"),
                "stepId": pending.step_id,
                "error": {"name": "RejectedError", "message": said},
            });
            self.event(id, "completion", &body).await?;
            return Ok(());
        }
        self.event(
            id,
            "log",
            &json!({"message": said, "stepId": pending.step_id, "status": "approved"}),
        )
        .await?;
        match held {
            Some(secrets) => {
                let row = self.row(id).await?;
                let this = self.clone();
                tokio::spawn(async move { this.execute(row, secrets).await });
            }
            None if state.with_secrets => {
                // Its secrets were only in the memory of a process that is gone.
                let message = "approved, but its secrets are gone (Backlot restarted, or another replica ran it): retry it with its secrets".to_string();
                let body = json!({
                    "message": format!("Run failed with Error: {message}"),
                    "stepId": pending.step_id,
                    "error": {"name": "Error", "message": message},
                });
                self.finish(id, "failed", &state, "completion", &body)
                    .await?;
            }
            None => inner.wake.notify_one(),
        }
        Ok(())
    }

    /// Fails the waiting tasks whose approval was not decided in time.
    async fn expire_approvals(&self) -> Result<(), ScaffolderError> {
        let inner = &self.0;
        let now = now_ms();
        for a in inner.store.expired_approvals(now).await? {
            if inner
                .store
                .decide_approval(&a.task_id, &a.step_id, "expired", None, None, now, None)
                .await?
            {
                lock(&inner.held).remove(&a.task_id);
                let message = format!(
                    "the approval was not decided before {}",
                    iso(a.expires_at.unwrap_or(now))
                );
                let body = json!({
                    "message": format!("Run failed with Error: {message}"),
                    "stepId": a.step_id,
                    "error": {"name": "ExpiredError", "message": message},
                });
                self.event(&a.task_id, "completion", &body).await?;
                tracing::info!(task = %a.task_id, step = %a.step_id, "scaffolder approval expired");
            }
        }
        Ok(())
    }

    /// Asks a task to stop. An open task is cancelled at once (a `cancelled` event); a running
    /// one stops before its next step, wherever it runs (its worker sees the request at its next
    /// heartbeat and writes the event). An ended task is a conflict.
    pub async fn cancel(&self, caller: &Caller, id: &str) -> Result<(), ScaffolderError> {
        let row = self.readable_row(caller, id).await?;
        self.may_manage(caller, &row, false, Audited::ScaffolderTaskCancel)?;
        match self.0.store.request_task_cancel(id).await? {
            Some(true) => {
                let body = json!({"message": "The task was cancelled before it started.", "status": "cancelled"});
                self.event(id, "cancelled", &body).await?;
                tracing::info!(task = %id, "open scaffolder task cancelled");
                Ok(())
            }
            Some(false) => {
                tracing::info!(task = %id, "scaffolder task asked to stop");
                Ok(())
            }
            None => {
                let row = self.row(id).await?;
                Err(ScaffolderError::Conflict(format!(
                    "task {id} is {}: it cannot be cancelled",
                    row.status
                )))
            }
        }
    }

    /// Runs a failed or cancelled task again, from the step that did not finish when this
    /// process kept where it got to ([`Checkpoints`]), else from its first step. The earlier
    /// events stay; the new run's follow. Without `secrets` the task is reopened for any worker;
    /// with them (a task's secrets are never stored, so a retry must bring them again) it runs
    /// here at once.
    pub async fn retry(
        &self,
        caller: &Caller,
        id: &str,
        secrets: Map<String, Value>,
    ) -> Result<(), ScaffolderError> {
        let row = self.readable_row(caller, id).await?;
        self.may_manage(caller, &row, true, Audited::ScaffolderTaskRetry)?;
        let inner = &self.0;
        let here = !secrets.is_empty();
        let worker = here.then_some(inner.worker.as_str());
        if !inner.store.reopen_task(id, worker, now_ms()).await? {
            let row = self.row(id).await?;
            return Err(ScaffolderError::Conflict(format!(
                "task {id} is {}: only failed or cancelled tasks can be retried",
                row.status
            )));
        }
        tracing::info!(task = %id, with_secrets = here, "scaffolder task retried");
        if here {
            let row = self.row(id).await?;
            let this = self.clone();
            tokio::spawn(async move { this.execute(row, secrets).await });
        } else {
            inner.wake.notify_one();
        }
        Ok(())
    }

    /// A task, when the caller may read tasks (`scaffolder.task.read`).
    async fn readable_row(&self, caller: &Caller, id: &str) -> Result<TaskRow, ScaffolderError> {
        self.authorize(caller, Permission::ScaffolderTaskRead)?;
        self.row(id).await
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Task, ScaffolderError> {
        Ok(self.readable_row(caller, id).await?.into())
    }

    /// Tasks newest first, filtered by creator (`user:default/alice`) and status.
    pub async fn list(
        &self,
        caller: &Caller,
        created_by: Option<&str>,
        status: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<TaskList, ScaffolderError> {
        self.authorize(caller, Permission::ScaffolderTaskRead)?;
        let (rows, total) = self
            .0
            .store
            .tasks(&TaskFilter {
                created_by: created_by.map(str::to_string),
                status: status.map(str::to_string),
                limit,
                offset,
            })
            .await?;
        Ok(TaskList {
            tasks: rows.into_iter().map(Task::from).collect(),
            total_tasks: total,
        })
    }

    /// A task's events after the event `after` (all without it), oldest first.
    pub async fn events(
        &self,
        caller: &Caller,
        id: &str,
        after: Option<i64>,
    ) -> Result<Vec<TaskEvent>, ScaffolderError> {
        self.authorize(caller, Permission::ScaffolderTaskRead)?;
        let rows = self.0.store.task_events(id, after).await?;
        if rows.is_empty() {
            self.row(id).await?;
        }
        Ok(rows.into_iter().map(TaskEvent::from).collect())
    }
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;
