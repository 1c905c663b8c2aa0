//! The user page's route and overview: profile, the groups the user belongs to, and what they
//! own. The rest of the page is every entity's ([`super::entity`]).

use crate::components::common::EntityList;
use crate::components::entity_parts::{MetadataCards, ProfileCard};
use crate::format::summary_name;
use crate::model::UserDetail;
use crate::pages::entity::{use_entity_params, EntityPage, EntityTitle};
use crate::pages::group::OwnedCard;
use leptos::prelude::*;

/// `/catalog/:namespace/user/:name/:tab?`
#[component]
pub fn UserRoute() -> impl IntoView {
    let params = use_entity_params(Some("user"));
    view! {
        <EntityTitle params/>
        <EntityPage params/>
    }
}

/// The user's overview: what they own, profile and groups.
#[component]
pub fn UserOverview(detail: UserDetail) -> impl IntoView {
    let u = detail.user;
    let fallback_name = summary_name(&u.summary);
    let group_count = detail.groups.len();
    view! {
        <div class="overview-grid">
            <div class="overview-main">
                <OwnedCard owned=detail.owned who="This user"/>
            </div>
            <div class="overview-side">
                <ProfileCard profile=u.profile.clone() fallback_name/>
                <section class="card" aria-labelledby="groups-heading">
                    <h2 id="groups-heading" class="card-title">
                        "Groups " <span class="count">{group_count}</span>
                    </h2>
                    {if detail.groups.is_empty() {
                        view! { <p class="empty">"This user belongs to no group."</p> }.into_any()
                    } else {
                        view! { <EntityList items=detail.groups/> }.into_any()
                    }}
                </section>
                <MetadataCards detail=u/>
            </div>
        </div>
    }
}
