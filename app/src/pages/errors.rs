//! `/catalog-errors`: every location and entity with problems, so owners see them.

use crate::api::get_problems;
use crate::components::common::{ErrorNotice, IconCheck, KindBadge, Loading};
use crate::components::problems::ProblemList;
use crate::format::{count, plural, summary_name};
use crate::model::{LocationStatus, ProblemsReport};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ErrorsPage() -> impl IntoView {
    let report = Resource::new(|| (), |_| get_problems());
    view! {
        <Title text="Backlot — Catalog errors"/>
        <div class="page-header">
            <h1>"Catalog errors"</h1>
            <p class="muted">
                "Problems found while reading locations and processing entities. Fix them in the descriptor files; Backlot picks up the change on its next refresh."
            </p>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match report.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(report) => view! { <Report report/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Report(report: ProblemsReport) -> impl IntoView {
    if report.locations.is_empty() && report.entities.is_empty() {
        return view! {
            <div class="all-clear" role="status">
                <IconCheck/>
                <div>
                    <h2>"No problems"</h2>
                    <p class="muted">"Every location was read and every entity was processed without errors or warnings."</p>
                </div>
            </div>
        }
        .into_any();
    }
    let location_problems: usize = report.locations.iter().map(|l| l.problems.len()).sum();
    let entity_problems: usize = report.entities.iter().map(|(_, p)| p.len()).sum();
    let n_locations = report.locations.len();
    let n_entities = report.entities.len();
    view! {
        <p class="summary-line">
            {plural(location_problems + entity_problems, "problem", "problems")} " in "
            {plural(n_locations, "location", "locations")} " and "
            {plural(n_entities, "entity", "entities")}
        </p>
        {(!report.locations.is_empty())
            .then(|| {
                view! {
                    <section aria-labelledby="locations-heading" class="section">
                        <h2 id="locations-heading">"Locations " <span class="count">{n_locations}</span></h2>
                        {report.locations.into_iter().map(|location| view! { <LocationCard location/> }).collect_view()}
                    </section>
                }
            })}
        {(!report.entities.is_empty())
            .then(|| {
                view! {
                    <section aria-labelledby="entities-heading" class="section">
                        <h2 id="entities-heading">"Entities " <span class="count">{n_entities}</span></h2>
                        {report
                            .entities
                            .into_iter()
                            .map(|(summary, problems)| {
                                let name = summary_name(&summary);
                                let href = summary.entity_ref.href();
                                let reference = summary.entity_ref.to_ref_string();
                                let kind = summary.entity_ref.kind.clone();
                                view! {
                                    <article class="card problem-card">
                                        <header class="problem-card-header">
                                            <h3>
                                                <a href=href>{name}</a>
                                            </h3>
                                            <KindBadge kind/>
                                            <code class="muted small">{reference}</code>
                                        </header>
                                        <ProblemList problems/>
                                    </article>
                                }
                            })
                            .collect_view()}
                    </section>
                }
            })}
    }
    .into_any()
}

#[component]
fn LocationCard(location: LocationStatus) -> impl IntoView {
    let refreshed = location
        .last_refresh
        .clone()
        .unwrap_or_else(|| "never".into());
    view! {
        <article class="card problem-card">
            <header class="problem-card-header">
                <h3>
                    <code class="break">{location.target}</code>
                </h3>
                <span class="chip">{location.location_type}</span>
            </header>
            <p class="muted small">
                {format!("{} entities · last refresh {}", count(location.entity_count), refreshed)}
            </p>
            <ProblemList problems=location.problems/>
        </article>
    }
}
