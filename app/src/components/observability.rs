//! Observability links (from the configuration's templates, `observability.links`): the card on
//! an entity's overview (its own links, then per environment), the links of one cluster on the
//! Kubernetes tab, and a team's card (its own links and its services' on-call). Server-rendered
//! HTML only: nothing here is an island.

use crate::api::{get_entity_links, get_team_links};
use crate::components::common::IconExternal;
use crate::model::EntityRef;
use crate::observability::{EnvironmentLinks, ObservabilityLink};
use leptos::prelude::*;

/// A list of links, each opening elsewhere, with its type.
#[component]
pub fn ObservabilityLinkList(links: Vec<ObservabilityLink>) -> impl IntoView {
    view! {
        <ul class="link-list">
            {links
                .into_iter()
                .map(|l| {
                    view! {
                        <li data-link-type=l.link_type.label() data-icon=l.icon.clone()>
                            <a href=l.url target="_blank" rel="noopener noreferrer">
                                {l.title}
                                <IconExternal/>
                            </a>
                            <span class="muted">" · " {l.link_type.label()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// `production · prod-eu, namespace shop`.
fn place(e: &EnvironmentLinks) -> String {
    if e.environment == e.cluster {
        format!("{}, namespace {}", e.cluster, e.namespace)
    } else {
        format!(
            "{} · {}, namespace {}",
            e.environment, e.cluster, e.namespace
        )
    }
}

/// The entity's observability links on its overview, beside `metadata.links`; nothing when no
/// template makes one.
#[component]
pub fn ObservabilityCard(entity: EntityRef) -> impl IntoView {
    let data = Resource::new(
        move || {
            (
                entity.kind.clone(),
                entity.namespace.clone(),
                entity.name.clone(),
            )
        },
        |(k, ns, n)| get_entity_links(k, ns, n),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let links = data.await.ok().filter(|l| !l.is_empty())?;
                Some(view! {
                    <section class="card" aria-labelledby="observability-heading">
                        <h2 id="observability-heading" class="card-title">
                            "Observability"
                        </h2>
                        {(!links.links.is_empty()).then(|| view! { <ObservabilityLinkList links=links.links/> })}
                        {links
                            .environments
                            .into_iter()
                            .map(|e| {
                                let heading = place(&e);
                                view! {
                                    <h3 class="subheading" data-cluster=e.cluster.clone()>{heading}</h3>
                                    <ObservabilityLinkList links=e.links/>
                                }
                            })
                            .collect_view()}
                    </section>
                })
            })}
        </Suspense>
    }
}

/// One cluster's links on the Kubernetes tab (every namespace the entity runs in there).
#[component]
pub fn ClusterLinks(links: Vec<EnvironmentLinks>) -> impl IntoView {
    let several = links.len() > 1;
    (!links.is_empty()).then(|| {
        view! {
            <div class="cluster-links">
                <h3>"Observability"</h3>
                {links
                    .into_iter()
                    .map(|e| {
                        let namespace = several.then(|| view! { <h4>{format!("namespace {}", e.namespace)}</h4> });
                        view! {
                            {namespace}
                            <ObservabilityLinkList links=e.links/>
                        }
                    })
                    .collect_view()}
            </div>
        }
    })
}

/// A team's links on its group page: its own, then its services' on-call; nothing when there
/// are none.
#[component]
pub fn TeamLinksCard(namespace: String, name: String) -> impl IntoView {
    let data = Resource::new(
        move || (namespace.clone(), name.clone()),
        |(ns, n)| get_team_links(ns, n),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let team = data.await.ok().filter(|t| !t.is_empty())?;
                Some(view! {
                    <section class="card" aria-labelledby="team-observability-heading">
                        <h2 id="team-observability-heading" class="card-title">
                            "Observability"
                        </h2>
                        {(!team.links.is_empty()).then(|| view! { <ObservabilityLinkList links=team.links/> })}
                        {(!team.on_call.is_empty()).then(|| view! {
                            <h3 class="subheading">"On-call for its services"</h3>
                            <ul class="link-list on-call">
                                {team
                                    .on_call
                                    .into_iter()
                                    .map(|s| {
                                        let href = s.entity.href();
                                        let name = s.title.clone().unwrap_or_else(|| s.entity.name.clone());
                                        view! {
                                            <li>
                                                <a href=href>{name}</a>
                                                ": "
                                                {s
                                                    .links
                                                    .into_iter()
                                                    .map(|l| view! {
                                                        <a href=l.url target="_blank" rel="noopener noreferrer">
                                                            {l.title}
                                                            <IconExternal/>
                                                        </a>
                                                        " "
                                                    })
                                                    .collect_view()}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        })}
                    </section>
                })
            })}
        </Suspense>
    }
}
