//! The scaffolder's REST API in Backstage's shapes (`/api/scaffolder/v2/…`), so its CLI and
//! clients work: the actions with their schemas, a template's parameter schema, and the
//! dry-run (a template with its files and values run without effects: the files it would
//! write, its log and output), and tasks: created, listed, read, followed (events, polled or
//! streamed), cancelled and retried, and their approvals (`backlot:approval`: listed, approved,
//! rejected; Backlot's own).

use super::ApiError;
use crate::http::caller::RequestCaller;
use crate::policy::{Permission, Resource};
use crate::scaffolder::dry_run::DryRunError;
use crate::scaffolder::run::RunError;
use crate::scaffolder::tasks::{Approval, ScaffolderError, Task, TaskEvent, TaskList, TaskService};
use crate::AppState;
use app::error::AppError;
use app::model::Caller;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::time::Duration;

/// The most a dry-run body may carry (its files are inline, base64).
pub const MAX_DRY_RUN_BODY: usize = 16 * 1024 * 1024;

/// `GET /api/scaffolder/v2/actions`: every action the server runs,
/// `[{id, description, schema: {input, output}}]`.
pub async fn actions(State(state): State<AppState>) -> Json<Value> {
    Json(state.scaffolder.actions().describe())
}

/// `GET /api/scaffolder/v2/templates/{namespace}/{kind}/{name}/parameter-schema`:
/// `{title, description, steps: [{title, description, schema}]}` of a Template the caller may
/// read.
pub async fn parameter_schema(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    if !kind.eq_ignore_ascii_case("template") {
        return Err(ApiError::not_found(format!(
            "no template {kind}:{namespace}/{name}: the kind must be template"
        )));
    }
    let facade = state.facade();
    facade.authorize(&caller, Permission::ScaffolderTemplateRead, &Resource::None)?;
    let reference = format!("template:{namespace}/{name}");
    let visible = facade.read(&caller);
    let template = visible
        .get("template", &namespace, &name)
        .map(|r| visible.value(r))
        .ok_or_else(|| ApiError::not_found(format!("no template {reference}")))?;
    let pages = app::scaffolder::Pages::from_template(&template)
        .map_err(|e| ApiError::bad_request(format!("{reference}: spec.parameters: {e}")))?;
    let steps: Vec<Value> = pages
        .pages
        .iter()
        .map(|p| {
            json!({
                "title": p.title.clone().unwrap_or_else(|| "Please enter the following information".into()),
                "description": p.description,
                "schema": p.schema,
            })
        })
        .collect();
    Ok(Json(json!({
        "title": template["metadata"]["title"].as_str().unwrap_or_else(|| template["metadata"]["name"].as_str().unwrap_or_default()),
        "description": template["metadata"]["description"],
        "steps": steps,
    })))
}

/// A dry-run request, as Backstage's.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunRequest {
    template: Value,
    #[serde(default)]
    values: Map<String, Value>,
    #[serde(default)]
    secrets: Map<String, Value>,
    #[serde(default)]
    directory_contents: Vec<DryRunFile>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunFile {
    path: String,
    base64_content: String,
}

/// `POST /api/scaffolder/v2/dry-run`: runs the template's steps on its uploaded files without
/// effects (actions that would reach outside are skipped, as Backstage skips them) and answers
/// `{log: [{body}], directoryContents: [{path, executable, base64Content}], output, steps}`.
/// Needs `scaffolder.template.read`; invalid values are a 400 naming each field.
pub async fn dry_run(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    body: Result<Json<DryRunRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    state
        .facade()
        .authorize(&caller, Permission::ScaffolderTemplateRead, &Resource::None)?;
    let Json(req) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut files = Vec::new();
    for f in req.directory_contents {
        let contents = base64::engine::general_purpose::STANDARD
            .decode(f.base64_content.as_bytes())
            .map_err(|e| {
                ApiError::bad_request(format!("directoryContents: {}: not base64: {e}", f.path))
            })?;
        files.push((f.path, contents));
    }
    let user = match &caller.user {
        Some(u) => json!({"ref": u.to_ref_string()}),
        None => json!({}),
    };
    let outcome = match crate::scaffolder::dry_run::dry_run(
        &req.template,
        req.values,
        &req.secrets,
        files,
        user,
        state.scaffolder.actions(),
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(DryRunError::Invalid(problems)) => {
            let errors: Vec<Value> = problems
                .iter()
                .map(|p| json!({"name": "InputError", "message": format!("{}: {}", p.field, p.message), "field": p.field}))
                .collect();
            return Ok((StatusCode::BAD_REQUEST, Json(json!({"errors": errors}))).into_response());
        }
        Err(e @ DryRunError::Run(RunError::UnknownAction(_))) => {
            return Err(ApiError::not_found(e.to_string()))
        }
        Err(e @ DryRunError::Run(RunError::BadStep { .. })) => {
            return Err(ApiError::bad_request(format!("template.spec.steps: {e}")))
        }
        Err(e) => return Err(ApiError::bad_request(e.to_string())),
    };
    let directory_contents: Vec<Value> = outcome
        .workspace
        .files()
        .iter()
        .map(|(path, f)| {
            json!({
                "path": path,
                "executable": f.executable,
                "base64Content": base64::engine::general_purpose::STANDARD.encode(&f.contents),
            })
        })
        .collect();
    Ok(Json(json!({
        "log": outcome.log.iter().map(|l| json!({"body": l})).collect::<Vec<_>>(),
        "directoryContents": directory_contents,
        "output": outcome.output,
        "steps": outcome.steps,
    }))
    .into_response())
}
#[cfg(test)]
mod tests;

impl From<ScaffolderError> for ApiError {
    fn from(e: ScaffolderError) -> Self {
        AppError::from(e).into()
    }
}

/// `POST /api/scaffolder/v2/tasks`'s body, as Backstage's.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTask {
    template_ref: String,
    #[serde(default)]
    values: Map<String, Value>,
    #[serde(default)]
    secrets: Map<String, Value>,
}

/// `POST /api/scaffolder/v2/tasks`: runs a catalog Template with these values; `201 {id}`.
/// Needs `scaffolder.template.read` (and to see the template), `scaffolder.task.create` and
/// `scaffolder.action.execute`. Invalid values are a 400 naming each field; secrets are kept
/// in this process's memory only.
pub async fn create_task(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    body: Result<Json<CreateTask>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let id = state
        .scaffolder
        .create(
            &caller,
            &req.template_ref,
            Value::Object(req.values),
            req.secrets,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// `GET /api/scaffolder/v2/tasks`'s query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasks {
    created_by: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// The most tasks one page holds.
const MAX_TASKS_PAGE: u32 = 1000;

/// `GET /api/scaffolder/v2/tasks`: `{tasks, totalTasks}`, newest first; `createdBy` (a user
/// reference) and `status` filter, `limit` (default 100) and `offset` page. Needs
/// `scaffolder.task.read`.
pub async fn list_tasks(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    query: Result<Query<ListTasks>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<TaskList>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if let Some(s) = q.status.as_deref().filter(|s| !TASK_STATUSES.contains(s)) {
        return Err(ApiError::bad_request(format!(
            "status \"{s}\" is not a task status; expected one of {}",
            TASK_STATUSES.join(", ")
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_TASKS_PAGE {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_TASKS_PAGE}, got {limit}"
        )));
    }
    let created_by = q.created_by.as_deref().filter(|s| !s.is_empty());
    let list = state
        .scaffolder
        .list(
            &caller,
            created_by,
            q.status.as_deref(),
            limit,
            q.offset.unwrap_or(0),
        )
        .await?;
    Ok(Json(list))
}

/// A task's statuses, as Backstage names them.
const TASK_STATUSES: [&str; 6] = [
    "open",
    "processing",
    "waiting",
    "completed",
    "failed",
    "cancelled",
];

/// `GET /api/scaffolder/v2/tasks/{id}`. Needs `scaffolder.task.read`.
pub async fn get_task(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(state.scaffolder.get(&caller, &id).await?))
}

/// `?after=` of the events and the event stream.
#[derive(Debug, Deserialize)]
pub struct After {
    after: Option<i64>,
}

/// `GET /api/scaffolder/v2/tasks/{id}/events?after=`: the events after event `after` (all
/// without it), oldest first, as Backstage's polling clients read them.
pub async fn task_events(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    query: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<TaskEvent>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(state.scaffolder.events(&caller, &id, q.after).await?))
}

/// How long a stream waits for an event written by another replica before it looks again.
const STREAM_POLL: Duration = Duration::from_secs(1);

/// `GET /api/scaffolder/v2/tasks/{id}/eventstream?after=`: the events as server-sent events,
/// as Backstage sends them (`event: <type>`, `data: <the event's JSON>`): those already written
/// first, then each as it is written. The stream ends after the event that ends the task
/// (`completion`, or `cancelled` for a task cancelled before it started).
pub async fn task_event_stream(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    query: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    // Refused or unknown: an error now, not an empty stream.
    let first = state.scaffolder.events(&caller, &id, q.after).await?;
    let tasks = state.scaffolder.clone();
    let changed = tasks.subscribe();
    struct Follow {
        tasks: TaskService,
        caller: Caller,
        id: String,
        changed: tokio::sync::watch::Receiver<u64>,
        queue: std::collections::VecDeque<TaskEvent>,
        last: Option<i64>,
        ended: bool,
    }
    let start = Follow {
        last: first.last().map(|e| e.id).or(q.after),
        queue: first.into(),
        tasks,
        caller,
        id,
        changed,
        ended: false,
    };
    let stream = futures_util::stream::unfold(start, |mut f| async move {
        loop {
            if let Some(event) = f.queue.pop_front() {
                if is_final(&event) {
                    f.ended = true;
                    f.queue.clear();
                }
                let sse = SseEvent::default()
                    .event(event.event_type.clone())
                    .json_data(&event)
                    .unwrap_or_else(|_| SseEvent::default().event("error"));
                return Some((Ok::<_, Infallible>(sse), f));
            }
            if f.ended {
                return None;
            }
            // Wait for an event written here, or look again after a while (another replica).
            let _ = tokio::time::timeout(STREAM_POLL, f.changed.changed()).await;
            match f.tasks.events(&f.caller, &f.id, f.last).await {
                Ok(more) => {
                    if let Some(e) = more.last() {
                        f.last = Some(e.id);
                    }
                    f.queue.extend(more);
                }
                Err(e) => {
                    tracing::warn!(task = %f.id, error = %e, "a task's event stream stopped");
                    return None;
                }
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// Whether an event is the last of its task.
fn is_final(event: &TaskEvent) -> bool {
    event.event_type == "completion" || event.event_type == "cancelled"
}

/// `POST /api/scaffolder/v2/tasks/{id}/cancel`: asks the task to stop; `{status: "cancelled"}`
/// once asked (an open task stops at once, a running one before its next step). An ended
/// task is a 409. The creator may stop their own task; anyone's needs
/// `scaffolder.task.cancel`.
pub async fn cancel_task(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.scaffolder.cancel(&caller, &id).await?;
    Ok(Json(json!({"status": "cancelled"})))
}

/// `POST /api/scaffolder/v2/tasks/{id}/retry`'s optional body: the secrets again (they are
/// never stored).
#[derive(Debug, Default, Deserialize)]
pub struct RetryTask {
    #[serde(default)]
    secrets: Map<String, Value>,
}

/// `POST /api/scaffolder/v2/tasks/{id}/retry`: runs a failed or cancelled task again;
/// `201 {id}`. Another status is a 409.
pub async fn retry_task(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let secrets = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        serde_json::from_slice::<RetryTask>(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not a retry request: {e}")))?
            .secrets
    };
    state.scaffolder.retry(&caller, &id, secrets).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// `GET /api/scaffolder/v2/tasks/{id}/approvals`: the approvals the task asked for
/// (`backlot:approval`), each saying whether the caller may decide it. Needs
/// `scaffolder.task.read`.
pub async fn task_approvals(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> Result<Json<Vec<Approval>>, ApiError> {
    Ok(Json(state.scaffolder.approvals(&caller, &id).await?))
}

/// `GET /api/scaffolder/v2/approvals`: the pending approvals the caller may decide.
pub async fn pending_approvals(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
) -> Result<Json<Vec<Approval>>, ApiError> {
    Ok(Json(state.scaffolder.pending_approvals(&caller).await?))
}

/// The body of an approval's decision.
#[derive(Debug, Default, Deserialize)]
pub struct DecisionBody {
    #[serde(default)]
    reason: Option<String>,
}

fn decision_body(body: &[u8]) -> Result<DecisionBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DecisionBody::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a decision: {e}")))
}

/// `POST /api/scaffolder/v2/tasks/{id}/approve` (`{reason?}`): approves the waiting task's
/// approval; it resumes at the approval step. A named approver who did not start the task, or
/// `scaffolder.approval.decide`.
pub async fn approve_task(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let d = decision_body(&body)?;
    state
        .scaffolder
        .decide(&caller, &id, true, d.reason.as_deref())
        .await?;
    Ok(Json(json!({"status": "approved"})))
}

/// `POST /api/scaffolder/v2/tasks/{id}/reject` (`{reason}`, required): rejects the waiting
/// task's approval; the task fails with the reason.
pub async fn reject_task(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let d = decision_body(&body)?;
    state
        .scaffolder
        .decide(&caller, &id, false, d.reason.as_deref())
        .await?;
    Ok(Json(json!({"status": "rejected"})))
}
