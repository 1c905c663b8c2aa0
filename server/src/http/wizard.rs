//! What the software templates pages post to, and a running task's live updates:
//!
//! - `POST /create/templates/{namespace}/{name}`: a wizard step (see `app::templates`). "Create"
//!   with valid values starts the task (`TaskService::create`, which validates again) and
//!   answers `303 See Other` to the task's page. Any other post is answered with the wizard's
//!   page for where it leads (the next step, the same step with its errors, the review): the
//!   values travel in the form, never in a URL or the session, so the page is rendered for the
//!   post itself rather than after a redirect. The post's fields (secrets among them) are put
//!   on the request for the page's server function and never logged.
//!   "Preview the files" on the review (`:action=preview`) runs the template's dry-run with the
//!   post's values (secrets in memory only) and answers with the review showing its files,
//!   log and output.
//! - `POST /create/edit` (`template`, `files`, `values`): the template editor's dry-run, for
//!   callers who may run templates; answered with the editor's page showing the template's
//!   problems (with lines) or its dry-run.
//! - `POST /create/tasks/cancel` and `POST /create/tasks/retry` (`id`), and
//!   `POST /create/tasks/decide` (`id`, `reason`, `decision`: approve or reject a waiting task's
//!   approval): then `303` back to the task's page (`?error=<message>` when refused).
//! - `POST /create/templates/{namespace}/{name}/check`: a step's errors as "Next" would find
//!   them, one `field<TAB>message` line each (the wizard's island asks as the user types).
//! - `GET /create/suggest?filter=…&owned=…&q=…`: an entity picker's suggestions for what is
//!   typed (the wizard's island asks when a picker's choices did not all fit in the page).
//! - `GET /create/tasks/{id}/stream`: server-sent `update` events while the task runs (its
//!   page's `LiveRegion` then fetches the page again), each with the id of the last event it
//!   covers; `?after=<id>` (the last event the page shows) or a reconnection's `Last-Event-ID`
//!   says where to start. Once the task has ended, the stream sends a last update and ends, and
//!   a connection with nothing new to hear is answered `204 No Content`, which tells the browser
//!   to stop.
//!
//! Every post passes the one same-origin check (`http::csrf`), cookie or not.

use super::caller::RequestCaller;
use crate::scaffolder::views::{Picker, ScaffolderViews};
use crate::AppState;
use app::api::{EditPost, WizardPost};
use app::pages::create::PickerOptions;
use app::query::encode_component;
use app::templates::{
    task_href, CANCEL_TASK_PATH, DECIDE_TASK_PATH, EDIT_PATH, RETRY_TASK_PATH, SUGGEST_PICKER_PATH,
};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::Map;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// The largest wizard post read (a step's fields and the values so far).
const MAX_FORM_BODY: usize = 1024 * 1024;

/// The wizard's path; the page's own route (a GET) is the same.
pub const WIZARD_PATH: &str = "/create/templates/{namespace}/{name}";
/// Where the wizard's island asks for a step's errors as the user types.
const CHECK_PATH: &str = "/create/templates/{namespace}/{name}/check";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(WIZARD_PATH, post(step))
        .route(CHECK_PATH, post(check))
        .route(EDIT_PATH, post(edit))
        .route(CANCEL_TASK_PATH, post(cancel))
        .route(RETRY_TASK_PATH, post(retry))
        .route(DECIDE_TASK_PATH, post(decide))
        .route("/create/tasks/{id}/stream", get(updates))
        .route(SUGGEST_PICKER_PATH, get(suggest))
}

/// Renders the app's page for a request: the router's Leptos handler with its contexts, for
/// answers that are pages rendered for a post.
#[derive(Clone)]
pub struct PageRenderer {
    pub contexts: Arc<dyn Fn() + Send + Sync>,
    pub options: Arc<leptos::config::LeptosOptions>,
}

impl PageRenderer {
    pub async fn render(&self, request: Request) -> Response {
        let contexts = self.contexts.clone();
        let options = self.options.clone();
        let handler = leptos_axum::render_app_async_with_context(
            move || contexts(),
            move || app::shell((*options).clone()),
        );
        handler(request).await
    }
}

fn views(state: &AppState) -> ScaffolderViews {
    ScaffolderViews {
        facade: state.facade(),
        tasks: state.scaffolder.clone(),
    }
}

/// `POST /create/templates/{namespace}/{name}/check` with a step's form: the errors "Next" would
/// find, one `field<TAB>message` line each (nothing when the step is right). Nothing is kept;
/// the island that asks shows each error at its field.
async fn check(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, name)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (_, bytes) = match form_post(&state, request).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let fields: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(f) => f,
        Err(_) => return (StatusCode::BAD_REQUEST, "The form cannot be read.").into_response(),
    };
    match views(&state).check_step(&caller, &namespace, &name, &fields) {
        Ok(errors) => {
            let lines: String = errors
                .iter()
                .map(|e| format!("{}\t{}\n", e.field, e.message.replace(['\n', '\t'], " ")))
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                lines,
            )
                .into_response()
        }
        Err(e) => crate::api::error::ApiError::from(e).into_response(),
    }
}

/// `GET /create/suggest?filter=…&owned=…&q=…`: the entities a picker offers that match what is
/// typed, as the `<option>`s of its `<datalist>` (what the caller may read, at most
/// `MAX_SUGGESTIONS`).
async fn suggest(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    RawQuery(query): RawQuery,
) -> Response {
    let (picker, text) = Picker::from_query(query.as_deref().unwrap_or_default());
    let choices = views(&state).suggestions(&caller, &picker, &text);
    let html = Owner::new().with(|| view! { <PickerOptions choices/> }.to_html());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        html,
    )
        .into_response()
}

fn cross_site() -> Response {
    (
        StatusCode::FORBIDDEN,
        "Refused: this form was posted from another site.",
    )
        .into_response()
}

fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    super::csrf::same_origin(headers, super::csrf::expected_origin(state).as_deref())
}

/// A form post from this origin: its request parts and body (at most `MAX_FORM_BODY`), or
/// the answer that refuses it.
async fn form_post(
    state: &AppState,
    request: Request,
) -> Result<(axum::http::request::Parts, axum::body::Bytes), Response> {
    let (parts, body) = request.into_parts();
    if !same_origin(state, &parts.headers) {
        return Err(cross_site());
    }
    match axum::body::to_bytes(body, MAX_FORM_BODY).await {
        Ok(bytes) => Ok((parts, bytes)),
        Err(_) => Err((StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response()),
    }
}

async fn step(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, name)): Path<(String, String)>,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
) -> Response {
    let (mut parts, bytes) = match form_post(&state, request).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let fields: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(f) => f,
        Err(_) => return (StatusCode::BAD_REQUEST, "The form cannot be read.").into_response(),
    };
    let pressed = |action: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == app::templates::WIZARD_ACTION)
            .is_some_and(|(_, v)| v == action)
    };
    let creating = pressed(app::templates::ACTION_CREATE);
    let mut failure = None;
    let mut preview = None;
    if pressed(app::templates::ACTION_PREVIEW) {
        match views(&state)
            .preview_from_post(&caller, &namespace, &name, &fields)
            .await
        {
            Ok(p) => preview = p,
            Err(e) => failure = Some(format!("The preview did not run: {e}")),
        }
    }
    if creating {
        match views(&state)
            .create_from_post(&caller, &namespace, &name, &fields)
            .await
        {
            Ok(Some(id)) => return Redirect::to(&task_href(&id)).into_response(),
            Ok(None) => {}
            Err(e) => failure = Some(format!("The task was not started: {e}")),
        }
    }
    parts.extensions.insert(WizardPost {
        fields,
        failure,
        preview,
    });
    // The page is the wizard's page, rendered for this post.
    parts.method = Method::GET;
    pages
        .render(Request::from_parts(parts, Body::empty()))
        .await
}

/// The template editor's form.
#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    template: String,
    #[serde(default)]
    files: String,
    #[serde(default)]
    values: String,
}

async fn edit(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
) -> Response {
    let (mut parts, bytes) = match form_post(&state, request).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let Ok(form) = serde_urlencoded::from_bytes::<EditForm>(&bytes) else {
        return Refused::Unreadable.into_response();
    };
    // A caller who may not run templates gets the page, which says so.
    if let Ok(view) = views(&state)
        .edit(&caller, &form.template, &form.files, &form.values)
        .await
    {
        parts.extensions.insert(EditPost(view));
    }
    parts.method = Method::GET;
    pages
        .render(Request::from_parts(parts, Body::empty()))
        .await
}

#[derive(Deserialize)]
struct TaskForm {
    id: String,
}

/// Why a task's form was not taken.
enum Refused {
    CrossSite,
    Unreadable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::CrossSite => cross_site(),
            Refused::Unreadable => {
                (StatusCode::BAD_REQUEST, "The form cannot be read.").into_response()
            }
        }
    }
}

/// The fields of a task's form posted from this site.
fn task_form(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<TaskForm, Refused> {
    if !same_origin(state, headers) {
        return Err(Refused::CrossSite);
    }
    serde_urlencoded::from_bytes(body).map_err(|_| Refused::Unreadable)
}

/// Back to the task's page, saying why when it failed.
fn back(id: &str, result: Result<(), crate::scaffolder::tasks::ScaffolderError>) -> Response {
    let to = match result {
        Ok(()) => task_href(id),
        Err(e) => {
            let e = app::error::AppError::from(e);
            format!(
                "{}?error={}",
                task_href(id),
                encode_component(&e.to_string())
            )
        }
    };
    Redirect::to(&to).into_response()
}

async fn cancel(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match task_form(&state, &headers, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    let result = state.scaffolder.cancel(&caller, &form.id).await;
    back(&form.id, result)
}

async fn retry(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match task_form(&state, &headers, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    let result = state.scaffolder.retry(&caller, &form.id, Map::new()).await;
    back(&form.id, result)
}

/// The task page's Approve / Reject form.
#[derive(Deserialize)]
struct DecideForm {
    id: String,
    #[serde(default)]
    reason: String,
    decision: String,
}

async fn decide(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !same_origin(&state, &headers) {
        return cross_site();
    }
    let Ok(form) = serde_urlencoded::from_bytes::<DecideForm>(&body) else {
        return Refused::Unreadable.into_response();
    };
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Refused::Unreadable.into_response(),
    };
    let result = state
        .scaffolder
        .decide(&caller, &form.id, approve, Some(&form.reason))
        .await;
    back(&form.id, result)
}

/// How long an update waits for more events, so a burst of log lines is one update.
const SETTLE: Duration = Duration::from_millis(100);
/// How often a stream looks for events another replica wrote.
const POLL: Duration = Duration::from_secs(1);

/// Whether a task's status is final.
fn ended(status: &str) -> bool {
    !matches!(status, "open" | "processing" | "waiting")
}

/// Where a task page's stream starts: `?after=<event id>` (the last event the page shows).
#[derive(Deserialize)]
struct After {
    after: Option<i64>,
}

async fn updates(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    Query(After { after }): Query<After>,
    headers: HeaderMap,
) -> Response {
    // A reconnection says what it last heard (`Last-Event-ID`); the first connection, what the
    // page shows. Events after that are sent even if the task ended meanwhile, so a page whose
    // island woke after the task ended still learns of it.
    let heard = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(after);
    let tasks = state.scaffolder.clone();
    let task = match tasks.get(&caller, &id).await {
        Ok(t) => t,
        Err(e) => {
            let e = app::error::AppError::from(e);
            let status = match e {
                app::error::AppError::NotFound(_) => StatusCode::NOT_FOUND,
                app::error::AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            return (status, e.to_string()).into_response();
        }
    };
    let last = match heard {
        Some(heard) => Some(heard),
        None => match tasks.events(&caller, &id, None).await {
            Ok(events) => events.last().map(|e| e.id),
            Err(_) => None,
        },
    };
    if ended(&task.status) {
        let missed = tasks.events(&caller, &id, last).await.unwrap_or_default();
        let Some(newest) = missed.last() else {
            return StatusCode::NO_CONTENT.into_response();
        };
        // One last update; its id makes the browser's reconnection the 204 above.
        let event = SseEvent::default()
            .event("update")
            .id(newest.id.to_string())
            .data("changed");
        let once = futures_util::stream::iter([Ok::<_, Infallible>(event)]);
        return Sse::new(once).into_response();
    }
    struct Follow {
        tasks: crate::scaffolder::tasks::TaskService,
        caller: app::model::Caller,
        id: String,
        changed: tokio::sync::watch::Receiver<u64>,
        last: Option<i64>,
        done: bool,
    }
    let start = Follow {
        changed: tasks.subscribe(),
        tasks,
        caller,
        id,
        last,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, |mut f| async move {
        if f.done {
            return None;
        }
        loop {
            let _ = tokio::time::timeout(POLL, f.changed.changed()).await;
            let more = match f.tasks.events(&f.caller, &f.id, f.last).await {
                Ok(more) => more,
                Err(e) => {
                    tracing::warn!(task = %f.id, error = %e, "a task page's updates stopped");
                    return None;
                }
            };
            if more.is_empty() {
                continue;
            }
            tokio::time::sleep(SETTLE).await;
            let later = f
                .tasks
                .events(&f.caller, &f.id, more.last().map(|e| e.id))
                .await
                .unwrap_or_default();
            let newest = later.last().or(more.last());
            f.last = newest.map(|e| e.id).or(f.last);
            f.done = more
                .iter()
                .chain(&later)
                .any(|e| e.event_type == "completion" || e.event_type == "cancelled");
            let mut event = SseEvent::default().event("update").data("changed");
            if let Some(last) = f.last {
                event = event.id(last.to_string());
            }
            return Some((Ok::<_, Infallible>(event), f));
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
