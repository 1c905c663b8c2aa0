//! The group page's route and overview: profile, parent and sub-groups, members, and everything
//! the group owns. The rest of the page is every entity's ([`super::entity`]).

use crate::api::{get_docs_index, get_subteams};
use crate::components::common::{EntityList, ErrorNotice, Loading};
use crate::components::entity_parts::{MetadataCards, ProfileCard};
use crate::components::observability::{TeamLinksCard, TeamSignalsCard};
use crate::components::scorecards::TeamScorecardsCard;
use crate::format::{kind_plural, summary_name};
use crate::model::{EntityRef, EntitySummary, GroupDetail};
use crate::pages::entity::{use_entity_params, EntityPage, EntityTitle};
use crate::pages::home::TeamTable;
use crate::pages::kubernetes::TeamHealthCard;
use leptos::prelude::*;

/// `/catalog/:namespace/group/:name/:tab?`
#[component]
pub fn GroupRoute() -> impl IntoView {
    let params = use_entity_params(Some("group"));
    view! {
        <EntityTitle params/>
        <EntityPage params/>
    }
}

/// The group's overview: its team's health, members, what it owns, profile and hierarchy.
#[component]
pub fn GroupOverview(detail: GroupDetail) -> impl IntoView {
    let g = detail.group;
    let fallback_name = summary_name(&g.summary);
    let member_count = detail.members.len();
    let (namespace, name) = (
        g.summary.entity_ref.namespace.clone(),
        g.summary.entity_ref.name.clone(),
    );
    let (links_namespace, links_name) = (namespace.clone(), name.clone());
    let (cards_namespace, cards_name) = (namespace.clone(), name.clone());
    let (sub_namespace, sub_name) = (namespace.clone(), name.clone());
    let (signals_namespace, signals_name) = (namespace.clone(), name.clone());
    view! {
        <div class="overview-grid">
            <div class="overview-main">
                <TeamHealthCard namespace name/>
                <TeamScorecardsCard namespace=cards_namespace name=cards_name/>
                <TeamSignalsCard namespace=signals_namespace name=signals_name/>
                <section class="card" aria-labelledby="members-heading">
                    <h2 id="members-heading" class="card-title">
                        "Members " <span class="count">{member_count}</span>
                    </h2>
                    {if detail.members.is_empty() {
                        view! { <p class="empty">"This group has no members."</p> }.into_any()
                    } else {
                        view! { <EntityList items=detail.members/> }.into_any()
                    }}
                </section>
                {(!detail.children.is_empty()).then(|| view! { <SubteamsCard namespace=sub_namespace name=sub_name/> })}
                <OwnedCard owned=detail.owned who="This group"/>
                <TeamDocsCard team=g.summary.entity_ref.clone()/>
            </div>
            <div class="overview-side">
                <ProfileCard profile=g.profile.clone() fallback_name/>
                <TeamLinksCard namespace=links_namespace name=links_name/>
                <section class="card" aria-labelledby="hierarchy-heading">
                    <h2 id="hierarchy-heading" class="card-title">
                        "Hierarchy"
                    </h2>
                    <h3 class="subheading">"Parent group"</h3>
                    {match detail.parent {
                        Some(parent) => view! { <EntityList items=vec![parent]/> }.into_any(),
                        None => view! { <p class="muted">"None: this is a top-level group."</p> }.into_any(),
                    }}
                    {detail.children.is_empty().then(|| view! {
                        <h3 class="subheading">"Sub-groups"</h3>
                        <p class="muted">"None."</p>
                    })}
                </section>
                <MetadataCards detail=g/>
            </div>
        </div>
    }
}

/// Owned entities grouped by kind; shared with the user page.
#[component]
pub fn OwnedCard(
    owned: Vec<(String, Vec<EntitySummary>)>,
    #[prop(into)] who: String,
) -> impl IntoView {
    let total: usize = owned.iter().map(|(_, v)| v.len()).sum();
    view! {
        <section class="card" aria-labelledby="owned-heading">
            <h2 id="owned-heading" class="card-title">
                "Owns " <span class="count">{total}</span>
            </h2>
            {if owned.is_empty() {
                view! { <p class="empty">{format!("{who} owns nothing in the catalog.")}</p> }.into_any()
            } else {
                owned
                    .into_iter()
                    .map(|(kind, items)| {
                        let heading = kind_plural(&kind);
                        let n = items.len();
                        view! {
                            <h3 class="subheading">{heading} " " <span class="count">{n}</span></h3>
                            <EntityList items/>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </section>
    }
}

/// The sub-groups with their rollups (owned, health, scorecard level), worst first.
#[component]
fn SubteamsCard(namespace: String, name: String) -> impl IntoView {
    let rows = Resource::new(
        || (),
        move |_| get_subteams(namespace.clone(), name.clone()),
    );
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(teams) => view! {
                        <section class="card" aria-labelledby="subteams-heading" data-testid="subteams">
                            <h2 id="subteams-heading" class="card-title">
                                "Sub-teams " <span class="count">{teams.len()}</span>
                            </h2>
                            <TeamTable teams sort=None/>
                            <p class="card-source muted small">
                                "Health from the clusters' live view; levels from the scorecards, as of now."
                            </p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The docs of what the team owns (TechDocs sites read from the repositories).
#[component]
fn TeamDocsCard(team: EntityRef) -> impl IntoView {
    let index = Resource::new(|| (), |_| get_docs_index());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let team = team.clone();
                Suspend::new(async move {
                    let docs: Vec<_> = index
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|d| d.entity.owner.as_ref().is_some_and(|o| same_entity(o, &team)))
                        .collect();
                    let n = docs.len();
                    view! {
                        <section class="card" aria-labelledby="team-docs-heading" data-testid="team-docs">
                            <h2 id="team-docs-heading" class="card-title">"Docs " <span class="count">{n}</span></h2>
                            {if docs.is_empty() {
                                view! { <p class="empty">"Nothing the team owns has docs yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="entity-list">
                                        {docs
                                            .into_iter()
                                            .map(|d| view! {
                                                <li>
                                                    <div class="entity-list-main">
                                                        <a href=d.url class="entity-list-name">{d.site_name}</a>
                                                        <span class="muted small">{summary_name(&d.entity)}</span>
                                                    </div>
                                                </li>
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                .into_any()
                            }}
                            <p class="card-source muted small">"From each repository's docs, as last read."</p>
                        </section>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}

/// Whether two references name the same entity (kinds compare in any case).
fn same_entity(a: &EntityRef, b: &EntityRef) -> bool {
    a.kind.eq_ignore_ascii_case(&b.kind) && a.namespace == b.namespace && a.name == b.name
}
