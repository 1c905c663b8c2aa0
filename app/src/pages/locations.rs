//! `/locations`: every location and discovered repository with its status (last refresh, last
//! success, entity count, errors), a "refresh now" button, and the flow to register an existing
//! repository with a preview of what it would import. Works without JavaScript: the forms post
//! to the server functions and come back here.

use crate::api::{get_locations, ImportLocation, RefreshLocation};
use crate::components::common::{EntityLink, ErrorNotice, KindBadge, Loading};
use crate::components::problems::ProblemList;
use crate::format::{count, plural, short_commit, short_time};
use crate::model::{ImportResult, LocationStatus};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LocationsPage() -> impl IntoView {
    let refresh = ServerAction::<RefreshLocation>::new();
    let import = ServerAction::<ImportLocation>::new();
    let locations = Resource::new(
        move || (refresh.version().get(), import.version().get()),
        |_| get_locations(),
    );
    view! {
        <Title text="Backlot — Locations"/>
        <div class="page-header">
            <h1>"Locations"</h1>
            <p class="muted">
                "Where the catalog is read from: Git repositories and files. Backlot re-reads each one on its own schedule and at once when a webhook reports a push."
            </p>
        </div>
        <ImportCard import/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match locations.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(list) => view! { <LocationTable list refresh/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ImportCard(import: ServerAction<ImportLocation>) -> impl IntoView {
    let pending = import.pending();
    view! {
        <section class="card import-card" aria-labelledby="import-heading">
            <h2 id="import-heading" class="card-title">"Register an existing repository"</h2>
            <ActionForm action=import attr:class="import-form">
                <label>
                    <span>"Type"</span>
                    <select name="location_type">
                        <option value="git" selected>"Git repository"</option>
                        <option value="url">"File URL on GitHub, GitLab or Gitea"</option>
                        <option value="file">"File or glob on the server"</option>
                    </select>
                </label>
                <label class="grow">
                    <span>"Repository URL or file"</span>
                    <input
                        type="text"
                        name="target"
                        required
                        placeholder="https://github.com/acme/payments.git"
                        autocomplete="off"
                    />
                </label>
                <label>
                    <span>"Branch"</span>
                    <input type="text" name="branch" placeholder="default branch"/>
                </label>
                <label>
                    <span>"Path or glob"</span>
                    <input type="text" name="path" placeholder="**/catalog-info.yaml"/>
                </label>
                <div class="import-buttons">
                    <button type="submit" name="dry_run" value="true" class="button" disabled=pending>
                        "Preview"
                    </button>
                    <button type="submit" class="button button-primary" disabled=pending>
                        "Register"
                    </button>
                </div>
            </ActionForm>
            <div aria-live="polite">
                {move || pending.get().then(|| view! { <Loading/> })}
                {move || {
                    import
                        .value()
                        .get()
                        .map(|result| match result {
                            Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                            Ok(result) => view! { <ImportOutcome result/> }.into_any(),
                        })
                }}
            </div>
        </section>
    }
}

#[component]
fn ImportOutcome(result: ImportResult) -> impl IntoView {
    let n = result.entities.len();
    let headline = match (result.dry_run, result.exists) {
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
    refresh: ServerAction<RefreshLocation>,
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
                        {list.into_iter().map(|l| view! { <LocationRow l refresh/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn LocationRow(l: LocationStatus, refresh: ServerAction<RefreshLocation>) -> impl IntoView {
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
                <ActionForm action=refresh>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="button button-small">"Refresh now"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
