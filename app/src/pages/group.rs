//! The group page's route and overview: profile, parent and sub-groups, members, and everything
//! the group owns. The rest of the page is every entity's ([`super::entity`]).

use crate::components::common::EntityList;
use crate::components::entity_parts::{MetadataCards, ProfileCard};
use crate::components::observability::{TeamLinksCard, TeamSignalsCard};
use crate::components::scorecards::TeamScorecardsCard;
use crate::format::{kind_plural, summary_name};
use crate::model::{EntitySummary, GroupDetail};
use crate::pages::entity::{use_entity_params, EntityPage, EntityTitle};
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
                <OwnedCard owned=detail.owned who="This group"/>
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
                    <h3 class="subheading">"Sub-groups"</h3>
                    {if detail.children.is_empty() {
                        view! { <p class="muted">"None."</p> }.into_any()
                    } else {
                        view! { <EntityList items=detail.children/> }.into_any()
                    }}
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
