//! The scaffolder's tasks and actions:
//!
//! - `/create/tasks/:id`: a task's template, who started it and when, its status, each step
//!   with its state and duration, the log (masked by the runner) and the output (links, and
//!   texts as Markdown the server rendered and sanitised); "Cancel" and "Retry" are plain form
//!   posts ([`CANCEL_TASK_PATH`], [`RETRY_TASK_PATH`]) answered with a redirect back here. While
//!   the task runs, the view sits in a `LiveRegion` that follows `/create/tasks/:id/stream` and
//!   swaps in the server's new HTML on each update.
//! - `/create/tasks`: the caller's tasks, and everyone's (`?all=1`) for those who may cancel
//!   anyone's.
//! - `/create/actions`: every action with its description and its input and output properties.

use crate::api::{get_actions, get_task, list_tasks};
use crate::components::common::{EntityLink, ErrorNotice, Loading};
use crate::error::AppError;
use crate::format::short_time;
use crate::pages::kubernetes::{LiveMarker, LiveRegion};
use crate::pages::not_found::NotFound;
use crate::templates::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let query = use_query_map();
    let failed = query.with_untracked(|q| q.get("error").filter(|e| !e.trim().is_empty()));
    let data = Resource::new(move || id.clone(), get_task);
    view! {
        <Title text="Backlot — Task"/>
        {failed.map(|e| view! { <ErrorNotice message=e/> })}
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(task) if task.is_live() => {
                        view! {
                            <LiveRegion>
                                <TaskDetail task/>
                            </LiveRegion>
                        }
                            .into_any()
                    }
                    Ok(task) => view! { <TaskDetail task/> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `processing` → `running`, as a badge.
#[component]
fn StatusBadge(status: String) -> impl IntoView {
    let label = match status.as_str() {
        "processing" => "running".to_string(),
        "open" => "waiting to start".to_string(),
        "waiting" => "waiting for approval".to_string(),
        "notrun" => "not run".to_string(),
        other => other.to_string(),
    };
    view! { <span class=format!("task-status task-status-{status}")>{label}</span> }
}

#[component]
fn TaskDetail(task: TaskView) -> impl IntoView {
    // Always named, so the page fetched after the task ended still replaces the live one.
    let stream = task_stream_href(&task.id, task.last_event);
    let id = task.id.clone();
    let template = task.template.clone();
    let retry_id = id.clone();
    view! {
        <div class="task" data-stream=stream data-status=task.status.clone()>
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href=CREATE_PATH>"Create"</a>
                " / "
                <a href=TASKS_PATH>"Tasks"</a>
                " / "
                <span>{task.id.clone()}</span>
            </nav>
            <div class="page-header">
                <h1>
                    {format!("Run of {}", task.template_title)} " "
                    <StatusBadge status=task.status.clone()/>
                    " "
                    {task.is_live().then(|| view! { <LiveMarker/> })}
                </h1>
                <p class="muted">
                    "Started by "
                    {match task.created_by.clone() {
                        Some(user) => view! { <EntityLink entity=user/> }.into_any(),
                        None => view! { <span>"a guest"</span> }.into_any(),
                    }}
                    {format!(" on {}", short_time(&task.created_at))}
                    {template
                        .map(|t| {
                            view! {
                                " · "
                                <a href=wizard_href(&t)>"Run the template again"</a>
                            }
                        })}
                </p>
            </div>
            {task
                .error
                .clone()
                .map(|e| {
                    view! {
                        <div class="alert alert-error" role="alert">
                            <p>{e}</p>
                        </div>
                    }
                })}
            {task
                .needs_secrets
                .then(|| {
                    view! {
                        <p class="muted" data-testid="needs-secrets">
                            "This template asks for secrets, which are never kept, so this run cannot be retried: run the template again instead."
                        </p>
                    }
                })}
            <div class="task-buttons">
                {task
                    .can_cancel
                    .then(|| {
                        view! {
                            <form method="post" action=CANCEL_TASK_PATH>
                                <input type="hidden" name="id" value=id.clone()/>
                                <button type="submit" class="button">"Cancel"</button>
                            </form>
                        }
                    })}
                {task
                    .can_retry
                    .then(|| {
                        view! {
                            <form method="post" action=RETRY_TASK_PATH>
                                <input type="hidden" name="id" value=retry_id.clone()/>
                                <button type="submit" class="button">"Retry"</button>
                            </form>
                        }
                    })}
            </div>
            {task.approval.clone().map(|a| view! { <ApprovalCard id=id.clone() approval=a/> })}
            <div class="task-layout">
                <section class="card task-steps" aria-labelledby="steps-heading">
                    <h2 id="steps-heading" class="card-title">"Steps"</h2>
                    <ol>
                        {task
                            .steps
                            .clone()
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <li class=format!("task-step task-step-{}", s.status) data-step=s.id.clone()>
                                        <span class="task-step-name">{s.name}</span>
                                        <StatusBadge status=s.status.clone()/>
                                        {s.duration.map(|d| view! { <span class="muted small">{d}</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                </section>
                <div class="task-main">
                    {(!task.links.is_empty() || !task.texts.is_empty())
                        .then(|| view! { <TaskOutput links=task.links.clone() texts=task.texts.clone()/> })}
                    <section class="card" aria-labelledby="log-heading">
                        <h2 id="log-heading" class="card-title">"Log"</h2>
                        {if task.log.is_empty() {
                            view! { <p class="muted">"Nothing logged yet."</p> }.into_any()
                        } else {
                            view! {
                                <pre class="task-log" data-testid="task-log">
                                    {task
                                        .log
                                        .clone()
                                        .into_iter()
                                        .map(|l| {
                                            let step = l.step.map(|s| format!("[{s}] ")).unwrap_or_default();
                                            format!("{} {step}{}\n", l.at, l.message)
                                        })
                                        .collect::<String>()}
                                </pre>
                            }
                                .into_any()
                        }}
                    </section>
                </div>
            </div>
        </div>
    }
}

#[component]
fn TaskOutput(links: Vec<OutputLink>, texts: Vec<OutputText>) -> impl IntoView {
    view! {
        <section class="card task-output" aria-labelledby="output-heading">
            <h2 id="output-heading" class="card-title">"Output"</h2>
            {(!links.is_empty())
                .then(|| {
                    view! {
                        <ul class="link-list">
                            {links
                                .into_iter()
                                .map(|l| {
                                    let external = !l.entity;
                                    view! {
                                        <li>
                                            <a
                                                href=l.href
                                                rel=external.then_some("noopener noreferrer external")
                                            >
                                                {l.title}
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            {texts
                .into_iter()
                .map(|t| {
                    view! {
                        <section class="task-text">
                            <h3>{t.title}</h3>
                            <div class="markdown" inner_html=t.html></div>
                        </section>
                    }
                })
                .collect_view()}
        </section>
    }
}

#[component]
pub fn TasksPage() -> impl IntoView {
    let query = use_query_map();
    let all = query.with_untracked(|q| q.get("all").is_some_and(|v| !v.is_empty() && v != "0"));
    let data = Resource::new(move || all, list_tasks);
    view! {
        <Title text="Backlot — Tasks"/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href=CREATE_PATH>"Create"</a>
            " / "
            <span>"Tasks"</span>
        </nav>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) => view! { <TaskList list/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TaskList(list: TaskListView) -> impl IntoView {
    let heading = if list.all { "All tasks" } else { "My tasks" };
    view! {
        <div class="page-header">
            <h1>{heading} " " <span class="count">{list.total}</span></h1>
            {list
                .may_see_all
                .then(|| {
                    view! {
                        <nav class="segmented" aria-label="Whose tasks">
                            <a href=TASKS_PATH aria-current=(!list.all).then_some("page")>"Mine"</a>
                            <a href=format!("{TASKS_PATH}?all=1") aria-current=list.all.then_some("page")>"All"</a>
                        </nav>
                    }
                })}
        </div>
        {(list.guest && !list.all)
            .then(|| {
                view! {
                    <p class="muted small">"You are not signed in: these are the tasks guests started."</p>
                }
            })}
        {if list.tasks.is_empty() {
            view! {
                <p class="muted">
                    "No tasks yet: " <a href=CREATE_PATH>"choose a template"</a> " to start one."
                </p>
            }
                .into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="catalog-table tasks-table">
                        <thead>
                            <tr>
                                <th scope="col">"Task"</th>
                                <th scope="col">"Template"</th>
                                <th scope="col">"Started by"</th>
                                <th scope="col">"Started"</th>
                                <th scope="col">"Status"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list
                                .tasks
                                .into_iter()
                                .map(|t| {
                                    view! {
                                        <tr data-task=t.id.clone()>
                                            <td>
                                                <a href=task_href(&t.id)>
                                                    <code>{t.id.chars().take(8).collect::<String>()}</code>
                                                </a>
                                            </td>
                                            <td>{t.template_title}</td>
                                            <td>
                                                {match t.created_by {
                                                    Some(u) => view! { <EntityLink entity=u/> }.into_any(),
                                                    None => view! { <span class="muted">"guest"</span> }.into_any(),
                                                }}
                                            </td>
                                            <td class="small">{short_time(&t.created_at)}</td>
                                            <td>
                                                <StatusBadge status=t.status/>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
                .into_any()
        }}
    }
}

#[component]
pub fn ActionsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_actions());
    view! {
        <Title text="Backlot — Installed actions"/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href=CREATE_PATH>"Create"</a>
            " / "
            <span>"Installed actions"</span>
        </nav>
        <div class="page-header">
            <h1>"Installed actions"</h1>
            <p class="muted">"What a template's steps can do: each action's input and output."</p>
        </div>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(actions) => {
                        view! {
                            <nav class="card action-index" aria-label="Actions">
                                <ul class="inline-list">
                                    {actions
                                        .iter()
                                        .map(|a| {
                                            view! {
                                                <li>
                                                    <a href=format!("#action-{}", a.id.replace(':', "-"))>
                                                        <code>{a.id.clone()}</code>
                                                    </a>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </nav>
                            {actions.into_iter().map(|a| view! { <ActionCard a/> }).collect_view()}
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ActionCard(a: ActionView) -> impl IntoView {
    let anchor = format!("action-{}", a.id.replace(':', "-"));
    view! {
        <section class="card action" id=anchor data-action=a.id.clone()>
            <h2 class="card-title">
                <code>{a.id.clone()}</code>
            </h2>
            {a.description.clone().map(|d| view! { <p>{d}</p> })}
            <PropertyTable title="Input" properties=a.input.clone() json=a.input_json.clone()/>
            <PropertyTable title="Output" properties=a.output.clone() json=a.output_json.clone()/>
        </section>
    }
}

#[component]
fn PropertyTable(
    title: &'static str,
    properties: Vec<PropertyView>,
    json: Option<String>,
) -> impl IntoView {
    if properties.is_empty() && json.is_none() {
        return view! {
            <h3>{title}</h3>
            <p class="muted small">"None."</p>
        }
        .into_any();
    }
    view! {
        <h3>{title}</h3>
        {(!properties.is_empty())
            .then(|| {
                view! {
                    <div class="table-scroll">
                        <table class="catalog-table properties-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Type"</th>
                                    <th scope="col">"Description"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {properties
                                    .into_iter()
                                    .map(|p| {
                                        view! {
                                            <tr>
                                                <td>
                                                    <code>{p.name}</code>
                                                    {p.required.then(|| view! { <span class="chip">"required"</span> })}
                                                </td>
                                                <td>
                                                    <code>{p.type_label}</code>
                                                </td>
                                                <td>
                                                    {p.title.map(|t| view! { <strong>{t}</strong> " " })}
                                                    {p.description}
                                                    {p.default.map(|d| view! { <span class="muted small">" Default: " <code>{d}</code></span> })}
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        {json
            .map(|j| {
                view! {
                    <details>
                        <summary class="small">{format!("{title} schema as JSON")}</summary>
                        <pre class="small">{j}</pre>
                    </details>
                }
            })}
    }
    .into_any()
}

/// The approval a task asked for: who may decide and what they are asked, then the decision;
/// Approve and Reject (with a reason) for those who may decide.
#[component]
fn ApprovalCard(id: String, approval: ApprovalView) -> impl IntoView {
    let approvers = approval.approvers.join(", ");
    let decided = match approval.status.as_str() {
        "pending" => None,
        "approved" => Some(format!(
            "Approved by {}",
            approval.decided_by.clone().unwrap_or_default()
        )),
        "rejected" => Some(format!(
            "Rejected by {}",
            approval.decided_by.clone().unwrap_or_default()
        )),
        "expired" => Some("Not decided in time".to_string()),
        _ => Some("Cancelled with the task".to_string()),
    };
    view! {
        <section class="card task-approval" aria-labelledby="approval-heading" data-testid="approval">
            <h2 id="approval-heading" class="card-title">
                {if decided.is_none() { "Waiting for approval" } else { "Approval" }}
            </h2>
            <p>{approval.message.clone()}</p>
            <p class="muted small">
                "Approvers: " {approvers}
                {approval.expires_at.clone().map(|e| format!(" · expires {}", e.get(..16).unwrap_or(&e).replace('T', " ")))}
            </p>
            {decided.map(|d| {
                view! {
                    <p>
                        <strong>{d}</strong>
                        {approval.reason.clone().filter(|r| !r.is_empty()).map(|r| format!(": {r}"))}
                    </p>
                }
            })}
            {approval.may_decide.then(|| {
                view! {
                    <form method="post" action=DECIDE_TASK_PATH class="approval-form">
                        <input type="hidden" name="id" value=id.clone()/>
                        <label for="approval-reason">"Reason (required to reject)"</label>
                        <textarea id="approval-reason" name="reason" rows="2"></textarea>
                        <div class="task-buttons">
                            <button type="submit" class="button button-primary" name="decision" value="approve">"Approve"</button>
                            <button type="submit" class="button" name="decision" value="reject">"Reject"</button>
                        </div>
                    </form>
                }
            })}
        </section>
    }
}
