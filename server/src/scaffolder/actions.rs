//! The actions steps call, by id, with Backstage's input and output schemas (what
//! `GET /api/scaffolder/v2/actions` lists).
//!
//! [`Actions::built_in`] are the actions that need nothing but the task's [`Workspace`] and the
//! template's own files: `debug:log`, `debug:wait`, `fetch:template`, `fetch:template:file`,
//! `fetch:plain`, `fetch:plain:file`, `fs:delete`, `fs:rename` and `catalog:write`.
//! [`Actions::for_server`] adds those that reach outside, as the server runs them:
//! `publish:git` (the managed Git host, [`super::publish`]), `catalog:register` and
//! `catalog:fetch` ([`super::catalog`]). These read the catalog as the task's creator through a
//! [`TaskContext`], which only a task has: a dry-run skips them (their output made from their
//! schema's examples), and one run without it fails saying so.

use super::provenance;
use super::remote::{FetchUrl, RemoteFiles};
use super::workspace::{join, safe_path, PathError, Workspace};
use super::{RenderError, Renderer, SkeletonFile, SkeletonOptions};
use crate::catalog::facade::Facade;
use app::model::Caller;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The files of the template's own folder (relative paths), where relative `url`s of fetch
/// actions point.
#[derive(Debug, Clone, Default)]
pub struct TemplateFiles {
    files: BTreeMap<String, Vec<u8>>,
    /// The commit the files were read at, when the template came from Git.
    commit: Option<String>,
    /// The values of the run, without secrets, as `catalog:write` records them
    /// ([`super::provenance`]); `None`: not recorded.
    values: Option<Value>,
}

impl TemplateFiles {
    /// From `(path relative to the template's folder, contents)`; paths that would leave the
    /// folder are refused.
    pub fn new(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Result<Self, PathError> {
        let mut out = BTreeMap::new();
        for (path, contents) in files {
            out.insert(safe_path(&path, false)?, contents);
        }
        Ok(Self {
            files: out,
            ..Self::default()
        })
    }

    /// The commit the files were read at (a template from a Git location).
    pub fn with_commit(mut self, commit: Option<String>) -> Self {
        self.commit = commit;
        self
    }

    /// The run's values as they may be recorded (no secret, nothing masked).
    pub fn with_values(mut self, values: Option<Value>) -> Self {
        self.values = values;
        self
    }

    /// The files under folder `dir`, with paths relative to it.
    fn folder(&self, dir: &str) -> Vec<SkeletonFile> {
        self.files
            .iter()
            .filter_map(|(p, c)| {
                let rel = if dir.is_empty() {
                    Some(p.as_str())
                } else {
                    p.strip_prefix(dir).and_then(|r| r.strip_prefix('/'))
                }?;
                Some(SkeletonFile {
                    path: rel.to_string(),
                    contents: c.clone(),
                    executable: false,
                })
            })
            .collect()
    }

    fn file(&self, path: &str) -> Option<&Vec<u8>> {
        self.files.get(path)
    }
}

/// What a task's actions reach besides its files: the catalog, as the person who created the
/// task. Built by the task's worker ([`super::tasks::TaskService`]); a dry-run has none.
#[derive(Clone)]
pub struct TaskContext {
    pub task_id: String,
    /// The task's creator (`created_by`) with their groups found as sign-in finds them; the
    /// guest for a task nobody signed in created. What the catalog actions do is decided for
    /// this caller.
    pub caller: Caller,
    /// The catalog's one door: reads filtered for the caller, writes decided by the policy and
    /// recorded in the audit log.
    pub catalog: Facade,
    /// Set once the task is asked to stop: long actions ([`ActionContext::cancelled`]) end
    /// early.
    pub cancel: Arc<AtomicBool>,
    /// The decided approvals of the task's `backlot:approval` steps, by step id.
    pub approvals: BTreeMap<String, Decision>,
}

/// An approval's decision, as the step that asked for it reads it when the task resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `approved`, `rejected`, `expired` or `cancelled`.
    pub status: String,
    /// Who decided (`user:default/bob`); none for an expiry.
    pub by: Option<String>,
    pub reason: Option<String>,
    /// When (ms since the epoch).
    pub at: Option<i64>,
}

/// What a step waits for: people to approve the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// Entity references of the users and groups who may approve.
    pub approvers: Vec<String>,
    pub message: String,
    /// How long the request stays open; `None`: until decided.
    pub expires_in: Option<std::time::Duration>,
}

/// What an action works with.
pub struct ActionContext<'a> {
    pub workspace: &'a mut Workspace,
    pub template: &'a TemplateFiles,
    pub renderer: &'a Renderer,
    /// The template's entity reference (`template:default/x`).
    pub template_ref: &'a str,
    /// Lines for the task's log (the runner adds the step id).
    pub log: &'a mut Vec<String>,
    /// The task's catalog and caller; `None` in a dry-run.
    pub task: Option<&'a TaskContext>,
    /// The id of the step running the action.
    pub step_id: &'a str,
}

impl ActionContext<'_> {
    /// Whether the task was asked to stop (never, in a dry-run).
    pub fn cancelled(&self) -> bool {
        self.task
            .is_some_and(|t| t.cancel.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// The task's context, or an error saying that `action` needs one.
    pub fn task(&self, action: &str) -> Result<&TaskContext, ActionError> {
        self.task.ok_or_else(|| {
            ActionError::Failed(format!(
                "{action} needs the catalog and the task's creator, which only a task run by the server has (not a dry-run)"
            ))
        })
    }
}

/// Why an action failed, in words for the task's log.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The action ran and failed (git, the catalog, the policy); the message says why.
    #[error("{0}")]
    Failed(String),
    /// The step waits for an approval: the run stops here, and resumes at this step once the
    /// approval is decided.
    #[error("waiting for approval")]
    Waiting(ApprovalRequest),
    /// The task was asked to stop while the action ran.
    #[error("cancelled")]
    Cancelled,
}

/// One action.
#[async_trait]
pub trait Action: Send + Sync {
    fn id(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// JSON Schema of the input.
    fn input_schema(&self) -> Value;
    /// JSON Schema of the output (`{}` when it has none).
    fn output_schema(&self) -> Value {
        json!({})
    }
    /// Whether a dry-run runs it (otherwise it is skipped, and its output made from the
    /// output schema's examples, as Backstage does).
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError>;
}

/// The actions by id.
#[derive(Clone)]
pub struct Actions(BTreeMap<&'static str, Arc<dyn Action>>);

impl Actions {
    /// Every built-in action.
    pub fn built_in() -> Self {
        let list: Vec<Arc<dyn Action>> = vec![
            Arc::new(DebugLog),
            Arc::new(DebugWait),
            Arc::new(FetchTemplate::default()),
            Arc::new(FetchTemplateFile::default()),
            Arc::new(FetchPlain::default()),
            Arc::new(FetchPlainFile::default()),
            Arc::new(FsDelete),
            Arc::new(FsRename),
            Arc::new(CatalogWrite),
        ];
        Self(list.into_iter().map(|a| (a.id(), a)).collect())
    }

    /// The built-in actions and those of the server: `publish:git` to the managed Git host,
    /// `publish:github` and `publish:gitlab` (with the tokens of `git.credentials`),
    /// `catalog:register` (which also knows the managed host's URLs) and `catalog:fetch`.
    /// With the server's Git support (`git`), fetch actions also read remote URLs
    /// ([`super::remote`]); without it (`backlot validate`), only the actions' names and inputs
    /// matter.
    pub fn for_server(
        managed: super::managed_git::ManagedGit,
        git: Option<Arc<crate::git::GitSource>>,
    ) -> Self {
        use super::publish_hosted::{Provider, PublishHosted};
        let credentials = Arc::new(
            git.as_ref()
                .map(|g| g.settings().credentials.clone())
                .unwrap_or_default(),
        );
        let mut actions = Self::built_in();
        if let Some(git) = &git {
            let remote = Some(RemoteFiles::new(git.clone()));
            actions = actions
                .with(Arc::new(FetchTemplate {
                    remote: remote.clone(),
                }))
                .with(Arc::new(FetchTemplateFile {
                    remote: remote.clone(),
                }))
                .with(Arc::new(FetchPlain {
                    remote: remote.clone(),
                }))
                .with(Arc::new(FetchPlainFile { remote }));
        }
        actions
            .with(Arc::new(super::publish::PublishGit::new(managed.clone())))
            .with(Arc::new(PublishHosted::new(
                Provider::Github,
                credentials.clone(),
                managed.clone(),
            )))
            .with(Arc::new(PublishHosted::new(
                Provider::Gitlab,
                credentials,
                managed.clone(),
            )))
            .with(Arc::new(super::catalog::CatalogRegister::new(Some(
                managed,
            ))))
            .with(Arc::new(super::catalog::CatalogFetch))
            .with(Arc::new(super::approval::Approval))
    }

    /// Adds (or replaces) an action.
    pub fn with(mut self, action: Arc<dyn Action>) -> Self {
        self.0.insert(action.id(), action);
        self
    }

    pub fn get(&self, id: &str) -> Option<&Arc<dyn Action>> {
        self.0.get(id)
    }

    /// Every action in Backstage's list shape: `{id, description, schema: {input, output}}`.
    pub fn describe(&self) -> Value {
        Value::Array(
            self.0
                .values()
                .map(|a| {
                    json!({
                        "id": a.id(),
                        "description": a.description(),
                        "schema": {"input": a.input_schema(), "output": a.output_schema()},
                    })
                })
                .collect(),
        )
    }
}

/// The output a skipped action gives in a dry-run: each output property's first example, or a
/// placeholder of its type (`"<example>"`, `0`, `false`), objects property by property.
pub fn example_output(schema: &Value) -> Map<String, Value> {
    fn example(s: &Value) -> Value {
        if let Some(first) = s
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        match s.get("type").and_then(Value::as_str) {
            Some("number" | "integer") => json!(0),
            Some("boolean") => json!(false),
            Some("object") => Value::Object(object(s)),
            Some("array") => json!([]),
            _ => json!("<example>"),
        }
    }
    fn object(s: &Value) -> Map<String, Value> {
        s.get("properties")
            .and_then(Value::as_object)
            .map(|props| props.iter().map(|(k, v)| (k.clone(), example(v))).collect())
            .unwrap_or_default()
    }
    object(schema)
}

pub(super) fn string<'a>(input: &'a Value, key: &str) -> Result<Option<&'a str>, ActionError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ActionError::Input(format!("{key}: must be a string"))),
    }
}

pub(super) fn required<'a>(input: &'a Value, key: &str) -> Result<&'a str, ActionError> {
    string(input, key)?.ok_or_else(|| ActionError::Input(format!("{key}: is required")))
}

/// The files of a fetch action's folder `url`: the template's own folder, or a remote one
/// (with `remote`, the server's Git support). Paths relative to the folder.
async fn folder_of(
    remote: Option<&RemoteFiles>,
    ctx: &mut ActionContext<'_>,
    url: &str,
) -> Result<Vec<SkeletonFile>, ActionError> {
    match FetchUrl::parse(url)? {
        FetchUrl::Local(dir) => {
            let files = ctx.template.folder(&dir);
            ctx.log.push(format!(
                "Fetching template content from {} ({} files)",
                if dir.is_empty() { "." } else { &dir },
                files.len()
            ));
            Ok(files)
        }
        FetchUrl::Remote(r) => {
            if r.file {
                return Err(ActionError::Input(format!(
                    "url: {} names a file; the :file form of the action fetches one file",
                    r.display_url()
                )));
            }
            let read = remote_files(remote, url)?.read(&r, false).await?;
            ctx.log.push(format!(
                "Fetching content from {} at commit {} ({} files)",
                crate::git::url::redact_url(url),
                read.commit,
                read.files.len()
            ));
            Ok(read
                .files
                .into_iter()
                .map(|(path, contents)| SkeletonFile {
                    path,
                    contents,
                    executable: false,
                })
                .collect())
        }
    }
}

/// The contents of a fetch action's file `url`, in the template's folder or remote.
async fn file_of(
    remote: Option<&RemoteFiles>,
    ctx: &mut ActionContext<'_>,
    url: &str,
) -> Result<Vec<u8>, ActionError> {
    match FetchUrl::parse(url)? {
        FetchUrl::Local(path) => ctx.template.file(&path).cloned().ok_or_else(|| {
            ActionError::Input(format!("url: no file {path:?} next to the template"))
        }),
        FetchUrl::Remote(r) => {
            let read = remote_files(remote, url)?.read(&r, true).await?;
            ctx.log.push(format!(
                "Fetching {} at commit {}",
                crate::git::url::redact_url(url),
                read.commit
            ));
            Ok(read
                .files
                .into_iter()
                .next()
                .map(|(_, contents)| contents)
                .unwrap_or_default())
        }
    }
}

fn remote_files<'a>(
    remote: Option<&'a RemoteFiles>,
    url: &str,
) -> Result<&'a RemoteFiles, ActionError> {
    remote.ok_or_else(|| {
        ActionError::Input(format!(
            "url: {}: remote URLs are read through the server's Git support, which this run does not have",
            crate::git::url::redact_url(url)
        ))
    })
}

struct DebugLog;

#[async_trait]
impl Action for DebugLog {
    fn id(&self) -> &'static str {
        "debug:log"
    }
    fn description(&self) -> &'static str {
        "Writes a message into the log and/or lists all files in the workspace."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "message": {"type": "string", "title": "Message to output."},
            "listWorkspace": {"title": "List all files in the workspace, if true.", "enum": [true, false, "with-filenames", "with-contents"]},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        ctx.log
            .push(serde_json::to_string_pretty(input).unwrap_or_default());
        if let Some(message) = input.get("message") {
            ctx.log.push(match message {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        match input.get("listWorkspace") {
            Some(Value::Bool(true)) | Some(Value::String(_)) => {
                let with_contents = input["listWorkspace"] == "with-contents";
                let lines: Vec<String> = ctx
                    .workspace
                    .files()
                    .iter()
                    .map(|(p, f)| {
                        if with_contents {
                            format!("{p}:\n{}", String::from_utf8_lossy(&f.contents))
                        } else {
                            p.clone()
                        }
                    })
                    .collect();
                ctx.log.push(format!("Workspace:\n{}", lines.join("\n")));
            }
            _ => {}
        }
        Ok(Map::new())
    }
}

/// Waits a while (at most ten minutes, as Backstage allows): `{minutes, seconds, milliseconds}`.
struct DebugWait;

/// The longest `debug:wait` waits.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

#[async_trait]
impl Action for DebugWait {
    fn id(&self) -> &'static str {
        "debug:wait"
    }
    fn description(&self) -> &'static str {
        "Waits for a certain period of time."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "minutes": {"type": "number", "title": "Waiting period in minutes."},
            "seconds": {"type": "number", "title": "Waiting period in seconds."},
            "milliseconds": {"type": "number", "title": "Waiting period in milliseconds."},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let mut millis = 0.0;
        for (key, factor) in [
            ("minutes", 60_000.0),
            ("seconds", 1000.0),
            ("milliseconds", 1.0),
        ] {
            match input.get(key) {
                None | Some(Value::Null) => {}
                Some(v) => match v.as_f64() {
                    Some(n) if n >= 0.0 => millis += n * factor,
                    _ => {
                        return Err(ActionError::Input(format!(
                            "{key}: must be a number of zero or more"
                        )))
                    }
                },
            }
        }
        let wait = std::time::Duration::from_millis(millis as u64);
        if wait > MAX_WAIT {
            return Err(ActionError::Input(format!(
                "Waiting duration is longer than the maximum threshold of {} minutes",
                MAX_WAIT.as_secs() / 60
            )));
        }
        ctx.log.push(format!("Waiting for {} ms", wait.as_millis()));
        // In slices, so that a task asked to stop does not wait it out.
        let until = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < until {
            if ctx.cancelled() {
                return Err(ActionError::Cancelled);
            }
            let left = until - tokio::time::Instant::now();
            tokio::time::sleep(left.min(std::time::Duration::from_millis(100))).await;
        }
        Ok(Map::new())
    }
}

#[derive(Default)]
struct FetchTemplate {
    remote: Option<RemoteFiles>,
}

#[async_trait]
impl Action for FetchTemplate {
    fn id(&self) -> &'static str {
        "fetch:template"
    }
    fn description(&self) -> &'static str {
        "Downloads a skeleton, templates variables into file and directory names and content, and places the result in the workspace, or optionally in a subdirectory specified by the `targetPath` input option."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["url"], "properties": {
            "url": {"type": "string", "description": "Relative path or absolute URL pointing to the directory tree to fetch"},
            "targetPath": {"type": "string", "description": "Target path within the working directory to generate contents to. Defaults to the working directory root."},
            "values": {"type": "object", "description": "Values to pass on to the templating engine"},
            "copyWithoutTemplating": {"type": "array", "items": {"type": "string"}, "description": "An array of glob patterns. Contents of matched files or directories are copied without being processed, but paths are subject to rendering."},
            "cookiecutterCompat": {"type": "boolean", "description": "Enable features to maximise compatibility with templates built for fetch:cookiecutter"},
            "templateFileExtension": {"type": ["string", "boolean"], "description": "If set, only files with the given extension will be templated. If set to `true`, the default extension `.njk` is used."},
            "replace": {"type": "boolean", "description": "If set, replace files in targetPath instead of skipping existing ones."},
            "trimBlocks": {"type": "boolean"},
            "lstripBlocks": {"type": "boolean"},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let files = folder_of(self.remote.as_ref(), ctx, required(input, "url")?).await?;
        let mut options = SkeletonOptions::from_input(input)?;
        options.existing = ctx.workspace.paths().cloned().collect();
        for file in ctx.renderer.render_skeleton(&files, &options)? {
            ctx.workspace
                .write(&file.path, file.contents, file.executable)?;
        }
        Ok(Map::new())
    }
}

#[derive(Default)]
struct FetchTemplateFile {
    remote: Option<RemoteFiles>,
}

#[async_trait]
impl Action for FetchTemplateFile {
    fn id(&self) -> &'static str {
        "fetch:template:file"
    }
    fn description(&self) -> &'static str {
        "Downloads single file and places it in the workspace."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["url", "targetPath"], "properties": {
            "url": {"type": "string"},
            "targetPath": {"type": "string"},
            "values": {"type": "object"},
            "cookiecutterCompat": {"type": "boolean"},
            "replace": {"type": "boolean"},
            "trimBlocks": {"type": "boolean"},
            "lstripBlocks": {"type": "boolean"},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let target = safe_path(required(input, "targetPath")?, false)?;
        let contents = file_of(self.remote.as_ref(), ctx, required(input, "url")?).await?;
        let mut opts_input = input.clone();
        if let Some(o) = opts_input.as_object_mut() {
            o.remove("targetPath");
        }
        let mut options = SkeletonOptions::from_input(&opts_input)?;
        options.existing = ctx.workspace.paths().cloned().collect();
        let name = target.rsplit('/').next().unwrap_or(&target).to_string();
        let file = SkeletonFile {
            path: name,
            contents,
            executable: false,
        };
        let folder = target.rsplit_once('/').map(|(d, _)| d.to_string());
        options.target_path = folder;
        for out in ctx.renderer.render_skeleton(&[file], &options)? {
            ctx.workspace
                .write(&out.path, out.contents, out.executable)?;
        }
        Ok(Map::new())
    }
}

#[derive(Default)]
struct FetchPlain {
    remote: Option<RemoteFiles>,
}

#[async_trait]
impl Action for FetchPlain {
    fn id(&self) -> &'static str {
        "fetch:plain"
    }
    fn description(&self) -> &'static str {
        "Downloads content and places it in the workspace, or optionally in a subdirectory specified by the `targetPath` input option."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["url"], "properties": {
            "url": {"type": "string"},
            "targetPath": {"type": "string"},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let target = safe_path(string(input, "targetPath")?.unwrap_or("./"), true)?;
        for file in folder_of(self.remote.as_ref(), ctx, required(input, "url")?).await? {
            let path = join(&target, &file.path)?;
            ctx.workspace.write(&path, file.contents, file.executable)?;
        }
        Ok(Map::new())
    }
}

#[derive(Default)]
struct FetchPlainFile {
    remote: Option<RemoteFiles>,
}

#[async_trait]
impl Action for FetchPlainFile {
    fn id(&self) -> &'static str {
        "fetch:plain:file"
    }
    fn description(&self) -> &'static str {
        "Downloads single file and places it in the workspace."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["url", "targetPath"], "properties": {
            "url": {"type": "string"},
            "targetPath": {"type": "string"},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let target = safe_path(required(input, "targetPath")?, false)?;
        let contents = file_of(self.remote.as_ref(), ctx, required(input, "url")?).await?;
        ctx.workspace.write(&target, contents, false)?;
        Ok(Map::new())
    }
}

struct FsDelete;

#[async_trait]
impl Action for FsDelete {
    fn id(&self) -> &'static str {
        "fs:delete"
    }
    fn description(&self) -> &'static str {
        "Deletes files and directories from the workspace"
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": {"type": "string"}, "description": "A list of files and directories that will be deleted"},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let files = input
            .get("files")
            .and_then(Value::as_array)
            .ok_or_else(|| ActionError::Input("files: must be a list of paths".into()))?;
        for f in files {
            let pattern = f
                .as_str()
                .ok_or_else(|| ActionError::Input("files: must be a list of paths".into()))?;
            let pattern = safe_path(pattern, false)?;
            let glob = glob::Pattern::new(&pattern)
                .map_err(|e| ActionError::Input(format!("files: {pattern:?}: {e}")))?;
            let matched: Vec<String> = ctx
                .workspace
                .paths()
                .filter(|p| glob.matches(p) || p.starts_with(&format!("{pattern}/")))
                .cloned()
                .collect();
            for p in matched {
                ctx.workspace.remove(&p);
            }
        }
        Ok(Map::new())
    }
}

struct FsRename;

#[async_trait]
impl Action for FsRename {
    fn id(&self) -> &'static str {
        "fs:rename"
    }
    fn description(&self) -> &'static str {
        "Renames files and directories within the workspace"
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": {"type": "object", "required": ["from", "to"], "properties": {
                "from": {"type": "string"}, "to": {"type": "string"}, "overwrite": {"type": "boolean"}}}},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let files = input
            .get("files")
            .and_then(Value::as_array)
            .ok_or_else(|| ActionError::Input("files: must be a list of {from, to}".into()))?;
        for f in files {
            let from = safe_path(required(f, "from")?, false)?;
            let to = safe_path(required(f, "to")?, false)?;
            let overwrite = f.get("overwrite").and_then(Value::as_bool).unwrap_or(false);
            if !ctx.workspace.exists(&from) {
                return Err(ActionError::Input(format!("from: {from:?} does not exist")));
            }
            if ctx.workspace.exists(&to) {
                if !overwrite {
                    return Err(ActionError::Input(format!(
                        "to: {to:?} already exists (set overwrite: true to replace it)"
                    )));
                }
                ctx.workspace.remove(&to);
            }
            ctx.workspace.rename(&from, &to);
        }
        Ok(Map::new())
    }
}

struct CatalogWrite;

#[async_trait]
impl Action for CatalogWrite {
    fn id(&self) -> &'static str {
        "catalog:write"
    }
    fn description(&self) -> &'static str {
        "Writes the catalog-info.yaml for your template"
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["entity"], "properties": {
            "filePath": {"type": "string", "description": "Defaults to catalog-info.yaml"},
            "entity": {"type": "object", "description": "You can provide the same values used in the Entity schema."},
        }})
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let path = safe_path(
            string(input, "filePath")?.unwrap_or("catalog-info.yaml"),
            false,
        )?;
        let mut entity = input
            .get("entity")
            .filter(|e| e.is_object())
            .cloned()
            .ok_or_else(|| ActionError::Input("entity: must be an object".into()))?;
        // Backstage records which template made the entity; Backlot also where the template
        // was read and the values it ran with.
        if let Some(metadata) = entity
            .as_object_mut()
            .map(|e| e.entry("metadata").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = annotations.as_object_mut() {
                let template_ref = Value::String(ctx.template_ref.to_string());
                a.insert("backstage.io/source-template".into(), template_ref.clone());
                a.insert(provenance::TEMPLATE_REF.into(), template_ref);
                if let Some(commit) = &ctx.template.commit {
                    a.insert(
                        provenance::TEMPLATE_COMMIT.into(),
                        Value::String(commit.clone()),
                    );
                }
                if let Some(values) = &ctx.template.values {
                    a.insert(
                        provenance::TEMPLATE_VALUES.into(),
                        Value::String(values.to_string()),
                    );
                }
            }
        }
        let yaml = yaml_serde::to_string(&entity)
            .map_err(|e| ActionError::Input(format!("entity: {e}")))?;
        ctx.workspace.write(&path, yaml.into_bytes(), false)?;
        Ok(Map::new())
    }
}
