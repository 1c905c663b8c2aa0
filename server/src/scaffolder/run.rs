//! Runs a template's steps as Backstage's workflow runner does: each step's `if` and `each`,
//! its input rendered against `{parameters, steps, user, secrets, each}`, the action called,
//! its output kept for later steps (`steps['id'].output`); then the template's `output`
//! rendered (without secrets), `links` and `text` items kept only where their `if` holds. The
//! log carries Backstage's messages, with secret values replaced by `***`. A dry-run skips
//! actions that do not support it and makes their output from their schema's examples.
//! [`run_with`] also sends each log line as it is written and stops between steps once told
//! to (a task's worker watches and cancels runs through it). A task's run hands its actions the
//! task's context (catalog and creator); a dry-run hands none.

use super::actions::{
    example_output, ActionContext, ActionError, Actions, ApprovalRequest, TaskContext,
    TemplateFiles,
};
use super::workspace::Workspace;
use super::Renderer;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// One line of a run's log (Backstage's event body).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    pub message: String,
    #[serde(rename = "stepId", skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    /// `processing`, `completed`, `skipped` or `failed`, on a step's first and last line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// What a run needs.
pub struct RunInput<'a> {
    /// The template's `spec.steps`.
    pub steps: &'a [Value],
    /// The template's `spec.output`.
    pub output: Option<&'a Value>,
    pub parameters: &'a Value,
    pub secrets: &'a Map<String, Value>,
    /// `{entity, ref}` of the user running it (absent for the guest).
    pub user: Value,
    pub template: &'a TemplateFiles,
    pub template_ref: &'a str,
    pub dry_run: bool,
    /// The catalog and the task's creator, for the actions that reach them; `None` in a
    /// dry-run.
    pub task: Option<&'a TaskContext>,
    /// Where an earlier run of the task got to: its steps are not run again.
    pub resume: Option<Checkpoint>,
}

/// Where a run got to: the steps done (completed or skipped), their outputs, and the files.
/// Saved after each step so that a later run resumes after the last step done.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    pub done: Vec<String>,
    /// `{<step id>: {output}}`, as expressions read `steps['id'].output`.
    pub outputs: Map<String, Value>,
    pub workspace: Workspace,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    pub log: Vec<LogLine>,
    /// The steps with `id` (`step-N` by default) and `name` (the action's id) filled in.
    pub steps: Vec<Value>,
    pub workspace: Workspace,
    /// The rendered `output`; empty when a step failed.
    pub output: Value,
    /// The failing step and why.
    pub failed: Option<(String, String)>,
    /// The step before (or during) which the run stopped because [`RunControl::cancel`] was
    /// set.
    pub cancelled: Option<String>,
    /// The step that waits for an approval, and what it asks; the run stopped there.
    pub waiting: Option<(String, ApprovalRequest)>,
}

/// What a caller watching a run gives it: where log lines go as they are written, and the
/// flag that stops the run between steps.
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    /// Receives each log line as soon as it is written (the outcome keeps the whole log too).
    pub lines: Option<UnboundedSender<LogLine>>,
    /// Read before each step: once set, the run stops there ([`RunOutcome::cancelled`]).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Receives where the run got to after each step done.
    pub checkpoints: Option<UnboundedSender<Checkpoint>>,
}

/// The log of a run, sent on as it grows.
struct Log {
    lines: Vec<LogLine>,
    live: Option<UnboundedSender<LogLine>>,
}

impl Log {
    fn push(&mut self, line: LogLine) {
        if let Some(live) = &self.live {
            // A watcher that went away only stops hearing of the rest.
            let _ = live.send(line.clone());
        }
        self.lines.push(line);
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RunError {
    #[error("Template action with ID '{0}' is not registered.")]
    UnknownAction(String),
    #[error("step {index}: {message}")]
    BadStep { index: usize, message: String },
}

/// Steps with their `id` and `name` defaults, checked: every action known.
pub fn prepare_steps(steps: &[Value], actions: &Actions) -> Result<Vec<Value>, RunError> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut step = step.as_object().cloned().ok_or(RunError::BadStep {
                index: i + 1,
                message: "must be an object".into(),
            })?;
            let action = step
                .get("action")
                .and_then(Value::as_str)
                .ok_or(RunError::BadStep {
                    index: i + 1,
                    message: "action: is required".into(),
                })?
                .to_string();
            if actions.get(&action).is_none() {
                return Err(RunError::UnknownAction(action));
            }
            step.entry("id")
                .or_insert_with(|| Value::String(format!("step-{}", i + 1)));
            step.entry("name").or_insert_with(|| Value::String(action));
            Ok(Value::Object(step))
        })
        .collect()
}

/// JavaScript truthiness, with an empty list false (Backstage's `isTruthy`).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(_)) => true,
    }
}

/// Replaces every secret value in `text` with `***`.
fn redact(text: &str, secrets: &Map<String, Value>) -> String {
    let mut out = text.to_string();
    for v in secrets.values() {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        if !s.is_empty() {
            out = out.replace(&s, "***");
        }
    }
    out
}

/// Runs the steps. Failing steps end the run (recorded in the outcome, not an error).
pub async fn run(
    input: RunInput<'_>,
    actions: &Actions,
    renderer: &Renderer,
) -> Result<RunOutcome, RunError> {
    run_with(input, actions, renderer, RunControl::default()).await
}

/// [`run`], with its log lines sent as they are written and a cancel flag read between steps.
pub async fn run_with(
    input: RunInput<'_>,
    actions: &Actions,
    renderer: &Renderer,
    control: RunControl,
) -> Result<RunOutcome, RunError> {
    let steps = prepare_steps(input.steps, actions)?;
    let mut log = Log {
        lines: Vec::new(),
        live: control.lines,
    };
    let Checkpoint {
        mut done,
        mut outputs,
        mut workspace,
    } = input.resume.unwrap_or_default();
    let resumed = !done.is_empty();
    let secrets = input.secrets;
    let line = |message: String, step: Option<&str>, status: Option<&str>| LogLine {
        message: redact(&message, secrets),
        step_id: step.map(str::to_string),
        status: status.map(str::to_string),
    };
    log.push(line(
        format!("Starting up task with {} steps", steps.len()),
        None,
        None,
    ));
    let mut failed = None;
    let mut cancelled = None;
    let mut waiting = None;
    let save = |done: &Vec<String>, outputs: &Map<String, Value>, workspace: &Workspace| {
        if let Some(to) = &control.checkpoints {
            let _ = to.send(Checkpoint {
                done: done.clone(),
                outputs: outputs.clone(),
                workspace: workspace.clone(),
            });
        }
    };
    for step in &steps {
        let id = step["id"].as_str().unwrap_or_default().to_string();
        let name = step["name"].as_str().unwrap_or_default().to_string();
        if resumed && done.contains(&id) {
            log.push(line(
                format!("Step {name} was done by an earlier run"),
                Some(&id),
                None,
            ));
            continue;
        }
        if control
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
        {
            cancelled = Some(id);
            break;
        }
        let action_id = step["action"].as_str().unwrap_or_default();
        let Some(action) = actions.get(action_id) else {
            continue;
        };
        log.push(line(
            format!("Beginning step {name}"),
            Some(&id),
            Some("processing"),
        ));
        let ctx = json!({
            "parameters": input.parameters,
            "steps": outputs,
            "user": input.user,
            "secrets": secrets,
        });
        if let Some(condition) = step.get("if") {
            let holds = match condition {
                Value::String(_) => truthy(renderer.render_value(condition, &ctx).as_ref()),
                other => truthy(Some(other)),
            };
            if !holds {
                log.push(line(
                    format!("Skipping step {id} because its if condition was false"),
                    Some(&id),
                    Some("skipped"),
                ));
                done.push(id.clone());
                save(&done, &outputs, &workspace);
                continue;
            }
        }
        let empty = json!({});
        let raw_input = step.get("input").unwrap_or(&empty);
        let rendered = renderer
            .render_value(raw_input, &ctx)
            .unwrap_or_else(|| json!({}));
        if input.dry_run {
            log.push(line(
                format!(
                    "Running {action_id} in dry-run mode with inputs (secrets redacted): {}",
                    serde_json::to_string_pretty(&rendered).unwrap_or_default()
                ),
                Some(&id),
                None,
            ));
            if !action.supports_dry_run() {
                log.push(line(
                    format!("Skipping because {action_id} does not support dry-run"),
                    Some(&id),
                    Some("skipped"),
                ));
                outputs.insert(
                    id.clone(),
                    json!({"output": example_output(&action.output_schema())}),
                );
                continue;
            }
        }
        // `each`: the action once per item, with `each.key` and `each.value`.
        let items: Option<Vec<(String, Value)>> =
            step.get("each")
                .map(|each| match renderer.render_value(each, &ctx) {
                    Some(Value::Array(a)) => a
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (i.to_string(), v))
                        .collect(),
                    Some(Value::Object(o)) => o.into_iter().collect(),
                    _ => Vec::new(),
                });
        let runs: Vec<(Option<(String, Value)>, Value)> = match items {
            None => vec![(None, rendered)],
            Some(items) => items
                .into_iter()
                .map(|(key, value)| {
                    let mut ctx = ctx.clone();
                    ctx["each"] = json!({"key": key, "value": value});
                    let input = renderer
                        .render_value(raw_input, &ctx)
                        .unwrap_or_else(|| json!({}));
                    (Some((key, value)), input)
                })
                .collect(),
        };
        let each = step.get("each").is_some();
        let mut output = Map::new();
        let mut error = None;
        for (item, step_input) in runs {
            if let Some((key, value)) = &item {
                log.push(line(
                    format!("Running step each: {}", json!({"key": key, "value": value})),
                    Some(&id),
                    None,
                ));
            }
            let mut lines = Vec::new();
            let result = {
                let mut actx = ActionContext {
                    workspace: &mut workspace,
                    template: input.template,
                    renderer,
                    template_ref: input.template_ref,
                    log: &mut lines,
                    task: input.task,
                    step_id: &id,
                };
                action.run(&mut actx, &step_input).await
            };
            for l in lines {
                log.push(line(l, Some(&id), None));
            }
            match result {
                Ok(out) if each => {
                    for (k, v) in out {
                        if let Value::Array(a) = output.entry(k).or_insert_with(|| json!([])) {
                            a.push(v);
                        }
                    }
                }
                Ok(out) => output = out,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        match error {
            None => {}
            Some(ActionError::Waiting(request)) => {
                log.push(line(
                    format!(
                        "Waiting for approval from {}: {}",
                        request.approvers.join(", "),
                        request.message
                    ),
                    Some(&id),
                    Some("waiting"),
                ));
                waiting = Some((id, request));
                break;
            }
            Some(ActionError::Cancelled) => {
                log.push(line(
                    format!("Step {name} stopped: the task was cancelled"),
                    Some(&id),
                    Some("cancelled"),
                ));
                cancelled = Some(id);
                break;
            }
            Some(e) => {
                let e = e.to_string();
                log.push(line(e.clone(), Some(&id), Some("failed")));
                failed = Some((id, redact(&e, secrets)));
                break;
            }
        }
        outputs.insert(id.clone(), json!({"output": output}));
        done.push(id.clone());
        save(&done, &outputs, &workspace);
        log.push(line(
            format!("Finished step {name}"),
            Some(&id),
            Some("completed"),
        ));
    }
    let output = if failed.is_some() || cancelled.is_some() || waiting.is_some() {
        json!({})
    } else {
        let ctx = json!({"parameters": input.parameters, "steps": outputs, "user": input.user});
        render_output(input.output, &ctx, renderer)
    };
    Ok(RunOutcome {
        log: log.lines,
        steps,
        workspace,
        output,
        failed,
        cancelled,
        waiting,
    })
}

/// The template's `output` rendered; `links` and `text` items whose `if` is false dropped, and
/// the `if` key removed from the rest.
fn render_output(output: Option<&Value>, ctx: &Value, renderer: &Renderer) -> Value {
    let Some(output) = output else {
        return json!({});
    };
    let mut rendered = renderer
        .render_value(output, ctx)
        .unwrap_or_else(|| json!({}));
    for list in ["links", "text"] {
        if let Some(items) = rendered.get_mut(list).and_then(Value::as_array_mut) {
            items.retain(|item| item.get("if").is_none() || truthy(item.get("if")));
            for item in items.iter_mut() {
                if let Some(o) = item.as_object_mut() {
                    o.remove("if");
                }
            }
        }
    }
    rendered
}
