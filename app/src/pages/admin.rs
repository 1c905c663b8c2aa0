//! The admin pages: `/admin/audit` (the audit log: filters for actor, action, outcome and
//! dates as a GET form, newest first, "older" links by cursor; needs `audit.read`) and
//! `/admin/permissions?user=user:default/alice` (every known permission's decision for that
//! user and the rule that made it, with their groups and ownership references; needs
//! `policy.read`). Plain server-rendered HTML, no island: they work without JavaScript.

use crate::api::{get_audit, get_permissions};
use crate::audit::{AuditEvent, AuditPage, AuditQuery, EffectivePermissions, ACTIONS};
use crate::components::common::{ErrorNotice, Loading};
use crate::error::AppError;
use crate::format::short_time;
use crate::query::encode_component;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A refusal answers 403, a bad parameter 400 (while rendering on the server).
fn set_error_status(e: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        use leptos::server_fn::http_export::StatusCode;
        let status = match e {
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = e;
}

/// `/admin/audit`
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|p| {
            let get = |k: &str| p.get(k).filter(|v| !v.trim().is_empty());
            AuditQuery {
                actor: get("actor"),
                action: get("action"),
                outcome: get("outcome"),
                target: get("target"),
                since: get("since"),
                until: get("until"),
                limit: get("limit"),
                cursor: get("cursor"),
            }
        })
    });
    let page = Resource::new(move || query.get(), get_audit);
    // Read once: the page is rendered on the server only, and a render whose client went away
    // may run its suspense after the signals were disposed.
    let current = query.get_untracked();
    let filters = current.clone();
    view! {
        <Title text="Backlot — Audit log"/>
        <div class="page-header">
            <h1>"Audit log"</h1>
            <p class="muted">
                "Who signed in and out, registered, removed and refreshed locations, and what the policy refused, newest first. Reads are not recorded."
            </p>
        </div>
        <AuditFilters q=filters/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                let q = current.clone();
                Suspend::new(async move {
                    match page.await {
                        Err(e) => {
                            set_error_status(&e);
                            view! { <ErrorNotice message=e.to_string()/> }.into_any()
                        }
                        Ok(page) => view! { <AuditTable page q/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn AuditFilters(q: AuditQuery) -> impl IntoView {
    let action = q.action.clone().unwrap_or_default();
    let outcome = q.outcome.clone().unwrap_or_default();
    let date = |v: &Option<String>| {
        v.as_deref()
            .map(|s| s.get(..10).unwrap_or(s).to_string())
            .unwrap_or_default()
    };
    let option = |value: &str, current: &str| {
        let value = value.to_string();
        let selected = value == current;
        let label = if value.is_empty() {
            "Any".to_string()
        } else {
            value.clone()
        };
        view! { <option value=value selected=selected>{label}</option> }
    };
    let prefixes = ["auth.*", "catalog.*", "policy.*"];
    view! {
        <form method="get" action="/admin/audit" class="import-form audit-filters" aria-label="Filter the audit log">
            <label class="grow">
                <span>"Actor"</span>
                <input
                    type="text"
                    name="actor"
                    value=q.actor.clone().unwrap_or_default()
                    placeholder="user:default/alice, guest, system"
                    autocomplete="off"
                />
            </label>
            <label>
                <span>"Action"</span>
                <select name="action">
                    {option("", &action)}
                    {prefixes.iter().map(|p| option(p, &action)).collect_view()}
                    {ACTIONS.iter().map(|a| option(a, &action)).collect_view()}
                </select>
            </label>
            <label>
                <span>"Outcome"</span>
                <select name="outcome">
                    {["", "allowed", "refused", "failed"].iter().map(|o| option(o, &outcome)).collect_view()}
                </select>
            </label>
            <label>
                <span>"From (UTC)"</span>
                <input type="date" name="since" value=date(&q.since)/>
            </label>
            <label>
                <span>"To (UTC, inclusive)"</span>
                <input type="date" name="until" value=date(&q.until)/>
            </label>
            {q.target.clone().map(|t| view! { <input type="hidden" name="target" value=t/> })}
            <div class="import-buttons">
                <button type="submit" class="button">"Filter"</button>
                <a class="button button-secondary" href="/admin/audit">"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn AuditTable(page: AuditPage, q: AuditQuery) -> impl IntoView {
    let filters = q.filters_query();
    let with = |extra: &str| {
        let parts: Vec<&str> = [filters.as_str(), extra]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            "/admin/audit".to_string()
        } else {
            format!("/admin/audit?{}", parts.join("&"))
        }
    };
    let limit = q
        .limit
        .as_deref()
        .map(|l| format!("limit={}", encode_component(l)))
        .unwrap_or_default();
    let newest = q.cursor.is_some().then(|| with(&limit));
    let older = page.next_cursor.as_deref().map(|c| {
        let mut extra = format!("cursor={}", encode_component(c));
        if !limit.is_empty() {
            extra = format!("{limit}&{extra}");
        }
        with(&extra)
    });
    if page.items.is_empty() {
        return view! { <p class="empty">"No events match."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="catalog-table audit-table">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|e| view! { <AuditRow e/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pagination" aria-label="Pagination">
            <div class="pagination-links">
                {match newest {
                    Some(href) => view! { <a class="button" href=href>"← Newest"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"← Newest"</span> }.into_any(),
                }}
                {match older {
                    Some(href) => view! { <a class="button" href=href rel="next">"Older →"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"Older →"</span> }.into_any(),
                }}
            </div>
        </nav>
    }
    .into_any()
}

#[component]
fn AuditRow(e: AuditEvent) -> impl IntoView {
    let outcome_class = match e.outcome.as_str() {
        "allowed" => "status ok",
        "refused" => "status warning",
        _ => "status stale",
    };
    let actor_href = format!("/admin/audit?actor={}", encode_component(&e.actor));
    view! {
        <tr data-event=e.id.to_string()>
            <td class="small">
                <time datetime=e.at.clone()>{short_time(&e.at)}</time>
            </td>
            <td>
                <a href=actor_href>{e.actor.clone()}</a>
            </td>
            <td>
                <code>{e.action.clone()}</code>
            </td>
            <td>
                <code class="break">{e.target.clone().unwrap_or_default()}</code>
            </td>
            <td>
                <span class=outcome_class>{e.outcome.clone()}</span>
            </td>
            <td class="cell-description">{e.detail.clone().unwrap_or_default()}</td>
        </tr>
    }
}

/// `/admin/permissions?user=…`
#[component]
pub fn PermissionsPage() -> impl IntoView {
    let params = use_query_map();
    let user = Memo::new(move |_| {
        params
            .with(|p| p.get("user"))
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
    });
    let answer = Resource::new(
        move || user.get(),
        |user| async move {
            match user {
                Some(u) => get_permissions(u).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Backlot — Permissions"/>
        <div class="page-header">
            <h1>"Effective permissions"</h1>
            <p class="muted">
                "What the policy in force decides for one user, and the rule that decides it. Rules with conditions (owner, kind, type…) apply only to a particular entity or location: "
                <code>"backlot policy check --entity"</code>
                " answers for one."
            </p>
        </div>
        <form method="get" action="/admin/permissions" class="import-form" aria-label="Choose a user">
            <label class="grow">
                <span>"User"</span>
                <input
                    type="text"
                    name="user"
                    required
                    value=user.get_untracked().unwrap_or_default()
                    placeholder="user:default/alice or guest"
                    autocomplete="off"
                />
            </label>
            <div class="import-buttons">
                <button type="submit" class="button">"Show"</button>
            </div>
        </form>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match answer.await {
                    Ok(None) => None,
                    Err(e) => {
                        set_error_status(&e);
                        Some(view! { <ErrorNotice message=e.to_string()/> }.into_any())
                    }
                    Ok(Some(p)) => Some(view! { <Permissions p/> }.into_any()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Permissions(p: EffectivePermissions) -> impl IntoView {
    let list = |items: Vec<String>, none: &'static str| {
        if items.is_empty() {
            view! { <span class="muted">{none}</span> }.into_any()
        } else {
            view! {
                <ul class="tags">{items.into_iter().map(|i| view! { <li class="tag">{i}</li> }).collect_view()}</ul>
            }
            .into_any()
        }
    };
    let activity = format!("/admin/audit?actor={}", encode_component(&p.user));
    view! {
        <section class="card" aria-labelledby="who-heading">
            <h2 id="who-heading" class="card-title">
                <code>{p.user.clone()}</code>
            </h2>
            {(!p.known && p.user != "guest")
                .then(|| view! { <p class="muted">"No User entity of this name is in the catalog: no groups."</p> })}
            <dl class="about">
                <dt>"Roles"</dt>
                <dd>{list(p.roles.clone(), "none")}</dd>
                <dt>"Groups"</dt>
                <dd>{list(p.groups.clone(), "none")}</dd>
                <dt>"Ownership references"</dt>
                <dd>{list(p.ownership.clone(), "none")}</dd>
                <dt>"Policy"</dt>
                <dd>{p.policy.clone()}</dd>
            </dl>
            <p>
                <a href=activity>"Their activity in the audit log"</a>
            </p>
        </section>
        <div class="table-scroll">
            <table class="catalog-table permissions-table">
                <thead>
                    <tr>
                        <th scope="col">"Permission"</th>
                        <th scope="col">"Decision"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>
                    {p
                        .decisions
                        .into_iter()
                        .map(|d| {
                            let (class, label) = if d.allowed {
                                ("status ok", "Allowed")
                            } else {
                                ("status stale", "Denied")
                            };
                            let why = d.rule.clone().unwrap_or_else(|| d.explanation.clone());
                            view! {
                                <tr data-permission=d.permission.clone()>
                                    <td>
                                        <code>{d.permission.clone()}</code>
                                    </td>
                                    <td>
                                        <span class=class>{label}</span>
                                    </td>
                                    <td class="cell-description">
                                        {why}
                                        {d
                                            .conditional
                                            .then(|| view! { <span class="muted small">" · depends on the entity or location (rules with conditions)"</span> })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
