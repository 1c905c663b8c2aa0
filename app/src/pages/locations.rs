//! `/locations`: every location and discovered repository with its status (last refresh, last
//! success, entity count, errors), a "refresh now" button, and the flow to register an existing
//! repository with a preview of what it would import.
//!
//! Plain HTML forms, the same with and without JavaScript: "Preview" is a GET of this page
//! (`?location_type=…&target=…&preview=1`, rendered with a dry run); "Register" and "Refresh now"
//! POST to [`REGISTER_PATH`] and [`REFRESH_PATH`], which answer with a redirect back here that
//! says what happened (`registered=1`, `refreshed=<id>` or `error=<message>`).

use crate::api::{get_locations, preview_location};
use crate::components::common::{EntityLink, ErrorNotice, KindBadge, Loading};
use crate::components::problems::ProblemList;
use crate::format::{count, plural, short_commit, short_time};
use crate::model::{ImportRequest, ImportResult, LocationStatus};
use crate::query::encode_component;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where the register form posts.
pub const REGISTER_PATH: &str = "/locations/register";
/// Where "Refresh now" posts.
pub const REFRESH_PATH: &str = "/locations/refresh";

/// The page's URL with the register form filled in from `request`, plus `extra` (`&k=v`).
pub fn locations_href(request: &ImportRequest, extra: &str) -> String {
    let mut href = format!(
        "/locations?location_type={}&target={}",
        encode_component(&request.location_type),
        encode_component(&request.target)
    );
    for (k, v) in [("branch", &request.branch), ("path", &request.path)] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            href.push_str(&format!("&{k}={}", encode_component(v)));
        }
    }
    href.push_str(extra);
    href
}

#[component]
pub fn LocationsPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |k: &str| query.with(|q| q.get(k)).filter(|v| !v.trim().is_empty());
    let request = Memo::new(move |_| {
        field("target").map(|target| ImportRequest {
            location_type: field("location_type").unwrap_or_else(|| "git".into()),
            target,
            branch: field("branch"),
            path: field("path"),
        })
    });
    let asked = Memo::new(move |_| field("preview").is_some() || field("registered").is_some());
    let outcome = Resource::new(
        move || request.get().filter(|_| asked.get()),
        |request| async move {
            match request {
                Some(r) => preview_location(r.location_type, r.target, r.branch, r.path)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
    );
    let locations = Resource::new(|| (), |_| get_locations());
    let registered = move || field("registered").is_some();
    let refreshed = move || field("refreshed");
    let failed = move || field("error");
    view! {
        <Title text="Backlot — Locations"/>
        <div class="page-header">
            <h1>"Locations"</h1>
            <p class="muted">
                "Where the catalog is read from: Git repositories and files. Backlot re-reads each one on its own schedule and at once when a webhook reports a push."
            </p>
        </div>
        <section class="card import-card" aria-labelledby="import-heading">
            <h2 id="import-heading" class="card-title">"Register an existing repository"</h2>
            <ImportForm request=request.get_untracked().unwrap_or_default()/>
            <div aria-live="polite">
                {move || failed().map(|e| view! { <ErrorNotice message=e/> })}
                <Suspense fallback=|| view! { <Loading/> }>
                    {move || Suspend::new(async move {
                        match outcome.await {
                            Ok(None) => None,
                            Err(e) => Some(view! { <ErrorNotice message=e.to_string()/> }.into_any()),
                            Ok(Some(result)) => Some(view! { <ImportOutcome result registered=registered()/> }.into_any()),
                        }
                    })}
                </Suspense>
            </div>
        </section>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match locations.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(list) => view! { <LocationTable list refreshed=refreshed()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportForm(request: ImportRequest) -> impl IntoView {
    let kind = request.location_type.clone();
    let option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=kind == value>{label}</option> }
    };
    view! {
        <form method="get" action="/locations" class="import-form">
            <label>
                <span>"Type"</span>
                <select name="location_type">
                    {option("git", "Git repository")}
                    {option("url", "File URL on GitHub, GitLab or Gitea")}
                    {option("file", "File or glob on the server")}
                </select>
            </label>
            <label class="grow">
                <span>"Repository URL or file"</span>
                <input
                    type="text"
                    name="target"
                    required
                    value=request.target
                    placeholder="https://github.com/acme/payments.git"
                    autocomplete="off"
                />
            </label>
            <label>
                <span>"Branch"</span>
                <input type="text" name="branch" value=request.branch placeholder="default branch"/>
            </label>
            <label>
                <span>"Path or glob"</span>
                <input type="text" name="path" value=request.path placeholder="**/catalog-info.yaml"/>
            </label>
            <div class="import-buttons">
                <button type="submit" name="preview" value="1" class="button">
                    "Preview"
                </button>
                <button
                    type="submit"
                    formmethod="post"
                    formaction=REGISTER_PATH
                    class="button button-primary"
                >
                    "Register"
                </button>
            </div>
        </form>
    }
}

#[component]
fn ImportOutcome(
    result: ImportResult,
    /// Shown right after registering it (the preview then finds it registered).
    registered: bool,
) -> impl IntoView {
    let n = result.entities.len();
    let headline = match (result.dry_run, result.exists) {
        (_, true) if registered => {
            format!("Registered: {} imported.", plural(n, "entity", "entities"))
        }
        (_, true) => format!(
            "Already registered: it provides {}.",
            plural(n, "entity", "entities")
        ),
        (true, false) => format!(
            "Preview: registering it would import {}.",
            plural(n, "entity", "entities")
        ),
        (false, false) => format!("Registered: {} imported.", plural(n, "entity", "entities")),
    };
    let problems = result.location.problems.clone();
    view! {
        <div class="import-outcome" data-testid="import-outcome">
            <p>
                <strong>{headline}</strong>
            </p>
            {(!problems.is_empty()).then(|| view! { <ProblemList problems/> })}
            <ul class="import-entities">
                {result
                    .entities
                    .into_iter()
                    .map(|e| {
                        let kind = e.entity_ref.kind.clone();
                        let label = e.title.clone().unwrap_or_else(|| e.entity_ref.name.clone());
                        let entity = e.entity_ref.clone();
                        let linked = !result.dry_run || result.exists;
                        view! {
                            <li>
                                <KindBadge kind/>
                                {if linked {
                                    view! { <EntityLink entity label/> }.into_any()
                                } else {
                                    view! { <span>{label}</span> }.into_any()
                                }}
                                {e.description.map(|d| view! { <span class="muted small">{d}</span> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn LocationTable(
    list: Vec<LocationStatus>,
    /// The location just refreshed from this page.
    refreshed: Option<String>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No locations yet: register a repository above."</p> }
            .into_any();
    }
    let stale = list.iter().filter(|l| l.error.is_some()).count();
    view! {
        <section aria-labelledby="locations-heading" class="section">
            <h2 id="locations-heading">
                "Registered " <span class="count">{list.len()}</span>
            </h2>
            {(stale > 0)
                .then(|| {
                    view! {
                        <p class="alert alert-warning" role="status">
                            {format!(
                                "{} could not be read on the last attempt; their entities show the last good version.",
                                plural(stale, "location", "locations"),
                            )}
                        </p>
                    }
                })}
            {refreshed
                .as_ref()
                .and_then(|id| list.iter().find(|l| &l.id == id))
                .map(|l| {
                    let state = match &l.error {
                        Some(e) => format!("it could not be read: {e}"),
                        None => format!("it provides {}", plural(l.entity_count, "entity", "entities")),
                    };
                    view! {
                        <p class="alert" role="status" data-testid="refresh-outcome">
                            {format!("Refreshed {}: {state}.", l.target)}
                        </p>
                    }
                })}
            <div class="table-scroll">
                <table class="catalog-table locations-table">
                    <thead>
                        <tr>
                            <th scope="col">"Location"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Entities"</th>
                            <th scope="col">"Last refresh"</th>
                            <th scope="col">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.into_iter().map(|l| view! { <LocationRow l/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn LocationRow(l: LocationStatus) -> impl IntoView {
    let (status_class, status_label) = match (&l.error, l.problems.is_empty(), &l.last_refresh) {
        (Some(_), _, _) => ("status stale", "Stale"),
        (None, _, None) => ("status pending", "Not read yet"),
        (None, false, _) => ("status warning", "Problems"),
        (None, true, _) => ("status ok", "OK"),
    };
    let details = [
        l.branch.clone().map(|b| format!("branch {b}")),
        l.path.clone().map(|p| format!("path {p}")),
        l.commit
            .as_deref()
            .map(|c| format!("commit {}", short_commit(c))),
        Some(format!("from {}", l.origin)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let id = l.id.clone();
    let error = l.error.clone().map(|e| {
        let since = l
            .last_success
            .as_deref()
            .map(|s| format!(" Last success: {}.", short_time(s)))
            .unwrap_or_default();
        let retries = format!(
            " {} in a row; retrying with backoff.",
            plural(l.failures as usize, "failure", "failures")
        );
        format!("{e}.{since}{retries}")
    });
    let problems = l.problems.clone();
    view! {
        <tr data-location=l.target.clone()>
            <td>
                <span class="chip">{l.location_type.clone()}</span>
                " "
                <code class="break">{l.target.clone()}</code>
                <div class="muted small">{details}</div>
                {error.map(|e| view! { <p class="location-error">{e}</p> })}
                {(!problems.is_empty())
                    .then(|| {
                        view! {
                            <details>
                                <summary>{plural(problems.len(), "problem", "problems")}</summary>
                                <ProblemList problems/>
                            </details>
                        }
                    })}
            </td>
            <td>
                <span class=status_class>{status_label}</span>
            </td>
            <td class="num">{count(l.entity_count)}</td>
            <td class="small">{l.last_refresh.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
            <td>
                <form method="post" action=REFRESH_PATH>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="button button-small">"Refresh now"</button>
                </form>
            </td>
        </tr>
    }
}
