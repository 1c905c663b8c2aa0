//! The home page, `/`, and the organisation view, `/teams`.
//!
//! Signed in, `/` is the user's own: their teams with health and scorecard level, what they and
//! their teams own, their starred and recently visited entities, their template tasks. For a
//! guest it is the organisation at a glance: teams worst first, clusters, recent changes. The
//! catalog table lives at `/catalog`; the server sends an old link to `/?kind=…` there.
//! `/teams` lists every team, sortable by plain links, and what has no valid owner.

use crate::api::{get_home, get_organisation};
use crate::components::common::{EntityList, ErrorNotice, IconSearch, KindBadge, Loading};
use crate::components::scorecards::LevelBadge;
use crate::format::{short_time, summary_name};
use crate::home::{
    ChangedEntity, GuestHome, HomeView, OrgView, PersonalEntry, TeamRow, UserHome, TEAMS_PATH,
};
use crate::kube::ClusterSummary;
use crate::model::{CatalogQuery, EntitySummary};
use crate::pages::kubernetes::HealthBadge;
use crate::query::{catalog_href, encode_component};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/`: the home page (the server sends old links to the catalog at `/?kind=…` to `/catalog`).
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| get_home());
    view! {
        <Title text="Backlot — Home"/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match home.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(HomeView::User(home)) => view! { <UserHomeView home/> }.into_any(),
                    Ok(HomeView::Guest(home)) => view! { <GuestHomeView home/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The search form at the top of the home page (a plain GET to `/search`).
#[component]
fn HomeSearch() -> impl IntoView {
    view! {
        <form class="home-search" method="get" action="/search" role="search" aria-label="Search services, APIs, teams and docs">
            <label class="visually-hidden" for="home-search-input">"Search services, APIs, teams and docs"</label>
            <IconSearch/>
            <input id="home-search-input" type="search" name="q" placeholder="Search services, APIs, teams, docs…" autocomplete="off"/>
            <button type="submit" class="button">"Search"</button>
        </form>
    }
}

#[component]
fn UserHomeView(home: UserHome) -> impl IntoView {
    let owned_more = (home.owned_total > home.owned.len()).then(|| {
        let href = catalog_href(&CatalogQuery {
            owned: true,
            ..Default::default()
        });
        view! { <p><a href=href>{format!("All {} you own →", home.owned_total)}</a></p> }
    });
    let user_href = home.user.href();
    let tasks = home.clone();
    view! {
        <div class="page-header">
            <h1>{format!("Welcome, {}", home.name)}</h1>
            <p class="muted">
                "Your teams, what you own, your stars and recent visits. "
                <a href=user_href>"Your profile"</a>
                " · "
                <a href=TEAMS_PATH>"All teams"</a>
            </p>
        </div>
        <HomeSearch/>
        <div class="overview-grid home-grid">
            <div class="overview-main">
                <section class="card" aria-labelledby="my-teams-heading" data-testid="my-teams">
                    <h2 id="my-teams-heading" class="card-title">
                        "My teams " <span class="count">{home.teams.len()}</span>
                    </h2>
                    {if home.teams.is_empty() {
                        view! { <p class="empty">"You are not a member of any team in the catalog."</p> }.into_any()
                    } else {
                        view! { <TeamTable teams=home.teams sort=None/> }.into_any()
                    }}
                    <p class="card-source muted small">
                        "Health from the clusters' live view; alerts from Prometheus, counted once per step; levels from the scorecards, as of now."
                    </p>
                </section>
                <section class="card" aria-labelledby="my-entities-heading" data-testid="my-entities">
                    <h2 id="my-entities-heading" class="card-title">
                        "Owned by me and my teams " <span class="count">{home.owned_total}</span>
                    </h2>
                    {if home.owned.is_empty() {
                        view! { <p class="empty">"Nothing in the catalog is owned by you or your teams."</p> }.into_any()
                    } else {
                        view! { <EntityList items=home.owned show_kind=true/> }.into_any()
                    }}
                    {owned_more}
                </section>
                <TasksCard home=tasks/>
            </div>
            <div class="overview-side">
                <PersonalCard
                    id="starred"
                    title="Starred"
                    entries=home.starred
                    empty="Nothing starred yet: use ☆ Star on an entity's page to keep it here."
                    verb="starred"
                />
                <PersonalCard
                    id="recent"
                    title="Recently visited"
                    entries=home.recent
                    empty="The entities you open will show here."
                    verb="visited"
                />
            </div>
        </div>
    }
}

#[component]
fn TasksCard(home: UserHome) -> impl IntoView {
    let body = match (home.tasks_error, home.tasks.is_empty()) {
        (Some(e), _) => view! { <ErrorNotice message=e/> }.into_any(),
        (None, true) => view! {
            <p class="empty">"You have run no templates. " <a href="/create">"Create something"</a></p>
        }
        .into_any(),
        (None, false) => view! {
            <ul class="entity-list">
                {home
                    .tasks
                    .into_iter()
                    .map(|t| {
                        let href = format!("/create/tasks/{}", encode_component(&t.id));
                        let status = t.status.clone();
                        view! {
                            <li>
                                <div class="entity-list-main">
                                    <a href=href class="entity-list-name">{t.template_title}</a>
                                    <span class=format!("chip task-status task-{status}")>{t.status}</span>
                                    <span class="muted small">{short_time(&t.created_at)}</span>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    };
    let more = (home.tasks_total > 0).then(|| {
        view! { <p><a href="/create/tasks">{format!("All your tasks ({}) →", home.tasks_total)}</a></p> }
    });
    view! {
        <section class="card" aria-labelledby="my-tasks-heading" data-testid="my-tasks">
            <h2 id="my-tasks-heading" class="card-title">"My template tasks"</h2>
            {body}
            {more}
        </section>
    }
}

/// Starred or recently visited entities; those gone from the catalog are said to be gone.
#[component]
fn PersonalCard(
    id: &'static str,
    title: &'static str,
    entries: Vec<PersonalEntry>,
    empty: &'static str,
    verb: &'static str,
) -> impl IntoView {
    let heading = format!("{id}-heading");
    let n = entries.len();
    view! {
        <section class="card" aria-labelledby=heading.clone() data-testid=id>
            <h2 id=heading.clone() class="card-title">{title} " " <span class="count">{n}</span></h2>
            {if entries.is_empty() {
                view! { <p class="empty">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="entity-list">
                        {entries
                            .into_iter()
                            .map(|e| {
                                let when = format!("{verb} {}", short_time(&e.at));
                                match e.summary {
                                    Some(s) => {
                                        let name = summary_name(&s);
                                        view! {
                                            <li>
                                                <div class="entity-list-main">
                                                    <a href=s.entity_ref.href() class="entity-list-name" title=s.entity_ref.to_ref_string()>{name}</a>
                                                    <KindBadge kind=s.entity_ref.kind.clone()/>
                                                </div>
                                                <p class="muted small">{when}</p>
                                            </li>
                                        }
                                        .into_any()
                                    }
                                    None => view! {
                                        <li class="gone">
                                            <div class="entity-list-main">
                                                <span>{e.entity.to_ref_string()}</span>
                                                <span class="badge badge-error">"no longer in the catalog"</span>
                                            </div>
                                            <p class="muted small">{when}</p>
                                        </li>
                                    }
                                    .into_any(),
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn GuestHomeView(home: GuestHome) -> impl IntoView {
    let sign_in = home.sign_in.then(|| {
        view! {
            <a href="/signin?redirect=%2F">"Sign in"</a>
            " to see your teams, what you own, your stars and recent visits. "
        }
    });
    let more_teams = (home.teams_total > home.teams.len()).then(|| {
        view! { <p><a href=TEAMS_PATH>{format!("All {} teams →", home.teams_total)}</a></p> }
    });
    view! {
        <div class="page-header">
            <h1>"The organisation at a glance"</h1>
            <p class="muted">
                {sign_in}
                {format!("{} entities in the catalog. ", home.entities)}
                <a href="/catalog">"Browse the catalog"</a>
                " · "
                <a href=TEAMS_PATH>"All teams"</a>
            </p>
        </div>
        <HomeSearch/>
        <div class="overview-grid home-grid">
            <div class="overview-main">
                <section class="card" aria-labelledby="teams-heading" data-testid="teams">
                    <h2 id="teams-heading" class="card-title">
                        "Teams, worst first " <span class="count">{home.teams_total}</span>
                    </h2>
                    {if home.teams.is_empty() {
                        view! { <p class="empty">"The catalog has no groups."</p> }.into_any()
                    } else {
                        view! { <TeamTable teams=home.teams sort=None/> }.into_any()
                    }}
                    {more_teams}
                    <p class="card-source muted small">
                        "Health from the clusters' live view; alerts from Prometheus, counted once per step; levels from the scorecards, as of now."
                    </p>
                </section>
                <ChangesCard changes=home.changes/>
            </div>
            <div class="overview-side">
                <ClustersCard clusters=home.clusters/>
            </div>
        </div>
    }
}

#[component]
fn ChangesCard(changes: Vec<ChangedEntity>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="changes-heading" data-testid="changes">
            <h2 id="changes-heading" class="card-title">"Recent changes"</h2>
            {if changes.is_empty() {
                view! { <p class="empty">"The catalog is empty."</p> }.into_any()
            } else {
                view! {
                    <ul class="entity-list">
                        {changes
                            .into_iter()
                            .map(|c| {
                                let name = summary_name(&c.summary);
                                view! {
                                    <li>
                                        <div class="entity-list-main">
                                            <a href=c.summary.entity_ref.href() class="entity-list-name">{name}</a>
                                            <KindBadge kind=c.summary.entity_ref.kind.clone()/>
                                            <span class="muted small">{format!("changed {}", short_time(&c.changed_at))}</span>
                                        </div>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <p class="card-source muted small">"From the catalog: when each entity's descriptor last changed."</p>
        </section>
    }
}

#[component]
fn ClustersCard(clusters: Vec<ClusterSummary>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="clusters-heading" data-testid="clusters">
            <h2 id="clusters-heading" class="card-title">"Clusters"</h2>
            {if clusters.is_empty() {
                view! { <p class="empty">"No clusters are configured."</p> }.into_any()
            } else {
                view! {
                    <ul class="entity-list">
                        {clusters
                            .into_iter()
                            .map(|c| {
                                let href = format!("/kubernetes/clusters/{}", encode_component(&c.state.name));
                                let stale = c.state.stale.then(|| view! { <span class="badge badge-error">"stale"</span> });
                                view! {
                                    <li>
                                        <div class="entity-list-main">
                                            <a href=href class="entity-list-name">{c.state.name.clone()}</a>
                                            <HealthBadge health=c.health/>
                                            {stale}
                                            <span class="muted small">{c.state.environment.clone()}</span>
                                        </div>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <p class="card-source muted small"><a href="/kubernetes">"All clusters →"</a></p>
        </section>
    }
}

/// Teams with their rollups; with `sort`, the headers are links that sort the organisation view.
#[component]
pub fn TeamTable(teams: Vec<TeamRow>, sort: Option<String>) -> impl IntoView {
    // Firing alerts are counted only when Prometheus is configured.
    let alerts = teams.iter().any(|t| t.alerts.is_some());
    let header = move |key: &'static str, label: &'static str| match &sort {
        None => view! { <th scope="col">{label}</th> }.into_any(),
        Some(current) => {
            let ascending = current == key;
            let descending = current.strip_prefix('-') == Some(key);
            let next = if ascending {
                format!("-{key}")
            } else {
                key.to_string()
            };
            let aria = if ascending {
                "ascending"
            } else if descending {
                "descending"
            } else {
                "none"
            };
            let href = format!("{TEAMS_PATH}?sort={next}");
            view! { <th scope="col" aria-sort=aria><a href=href>{label}</a></th> }.into_any()
        }
    };
    view! {
        <div class="table-scroll">
            <table class="catalog-table team-table">
                <thead>
                    <tr>
                        {header("name", "Team")}
                        {header("owned", "Owns")}
                        {header("health", "Health")}
                        {if alerts { header("alerts", "Alerts") } else { ().into_any() }}
                        {header("level", "Scorecards")}
                    </tr>
                </thead>
                <tbody>
                    {teams.into_iter().map(|t| view! { <TeamTableRow t/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TeamTableRow(t: TeamRow) -> impl IntoView {
    let name = summary_name(&t.team);
    let href = t.team.entity_ref.href();
    let unhealthy = (t.unhealthy > 0).then(|| {
        view! { <span class="muted small">{format!(" {} unhealthy", t.unhealthy)}</span> }
    });
    let alerts = match t.alerts {
        None => ().into_any(),
        Some(n) => {
            let label = format!(
                "{n} firing alert{} in what it owns",
                if n == 1 { "" } else { "s" }
            );
            let shown = if n == 0 {
                view! { <span class="muted" title=label>"0"</span> }.into_any()
            } else {
                view! { <a class="alert-count" href=format!("{href}#team-signals-heading") title=label>{n}</a> }.into_any()
            };
            view! { <td class="cell-alerts" data-alerts=n.to_string()>{shown}</td> }.into_any()
        }
    };
    let level = match t.level {
        None => view! { <span class="muted small">"no scorecard applies"</span> }.into_any(),
        Some(l) => view! {
            <LevelBadge level=l.lowest/>
            <span class="muted small">
                {format!(" lowest ({}) · {} of {} at the top level", l.scorecard, l.at_top, l.results)}
            </span>
        }
        .into_any(),
    };
    view! {
        <tr data-team=t.team.entity_ref.name.clone()>
            <td><a href=href>{name}</a></td>
            <td>{t.owned}</td>
            <td><HealthBadge health=t.health/>{unhealthy}</td>
            {alerts}
            <td>{level}</td>
        </tr>
    }
}

/// `/teams`: every team, sortable, and entities without a valid owner.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let query = use_query_map();
    let sort = Memo::new(move |_| query.with(|q| q.get("sort").unwrap_or_default()));
    let org = Resource::new(move || sort.get(), get_organisation);
    view! {
        <Title text="Backlot — Teams"/>
        <div class="page-header">
            <h1>"Teams"</h1>
            <p class="muted">"Every team with what it owns, its health across clusters, its firing alerts (when Prometheus is configured) and its scorecard level."</p>
        </div>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match org.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(org) => view! { <OrgViewBody org/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrgViewBody(org: OrgView) -> impl IntoView {
    let n = org.teams.len();
    let unowned_n = org.unowned.len();
    let unknown_n = org.unknown_owner.len();
    let unknown: Vec<EntitySummary> = org.unknown_owner.iter().map(|(s, _)| s.clone()).collect();
    let owners: Vec<String> = org.unknown_owner.into_iter().map(|(_, o)| o).collect();
    view! {
        <section class="card" aria-labelledby="all-teams-heading" data-testid="all-teams">
            <h2 id="all-teams-heading" class="card-title">"Teams " <span class="count">{n}</span></h2>
            {if n == 0 {
                view! { <p class="empty">"The catalog has no groups."</p> }.into_any()
            } else {
                view! { <TeamTable teams=org.teams sort=Some(org.sort)/> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="unowned-heading" data-testid="unowned">
            <h2 id="unowned-heading" class="card-title">"No owner " <span class="count">{unowned_n}</span></h2>
            {if org.unowned.is_empty() {
                view! { <p class="empty">"Everything has an owner."</p> }.into_any()
            } else {
                view! { <EntityList items=org.unowned show_kind=true/> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="unknown-owner-heading" data-testid="unknown-owner">
            <h2 id="unknown-owner-heading" class="card-title">
                "Owner not in the catalog " <span class="count">{unknown_n}</span>
            </h2>
            {if unknown.is_empty() {
                view! { <p class="empty">"Every owner named exists."</p> }.into_any()
            } else {
                view! {
                    <ul class="entity-list">
                        {unknown
                            .into_iter()
                            .zip(owners)
                            .map(|(s, owner)| {
                                let name = summary_name(&s);
                                view! {
                                    <li>
                                        <div class="entity-list-main">
                                            <a href=s.entity_ref.href() class="entity-list-name">{name}</a>
                                            <KindBadge kind=s.entity_ref.kind.clone()/>
                                            <span class="muted small">"owner: " <code>{owner}</code></span>
                                        </div>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}
