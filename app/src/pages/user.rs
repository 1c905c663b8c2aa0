//! The user page: profile, the groups the user belongs to, and what they own.

use crate::api::get_user;
use crate::components::common::{EntityList, ErrorNotice, Loading};
use crate::components::entity_parts::{
    other_tab, EntityHeader, EntityTabs, MetadataCards, ProfileCard, Tab,
};
use crate::components::problems::ProblemsAlert;
use crate::format::summary_name;
use crate::model::UserDetail;
use crate::pages::entity::{use_entity_params, EntityParams, EntityTitle};
use crate::pages::group::OwnedCard;
use crate::pages::not_found::NotFound;
use leptos::prelude::*;

/// `/catalog/:namespace/user/:name/:tab?`
#[component]
pub fn UserRoute() -> impl IntoView {
    let params = use_entity_params(Some("user"));
    view! {
        <EntityTitle params/>
        <UserPage params/>
    }
}

#[component]
pub fn UserPage(params: Memo<EntityParams>) -> impl IntoView {
    let key = Memo::new(move |_| params.with(|p| (p.namespace.clone(), p.name.clone())));
    let user = Resource::new(
        move || key.get(),
        |(namespace, name)| get_user(namespace, name),
    );
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || {
                let p = params.get();
                Suspend::new(async move {
                    match user.await {
                        Err(e) if e.is_not_found() => view! { <NotFound what=p.entity_ref().to_ref_string()/> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                        Ok(detail) => match Tab::from_segment(p.tab.as_deref())
                            .filter(|t| Tab::for_kind("user").contains(t))
                        {
                            Some(tab) => view! { <UserView detail tab/> }.into_any(),
                            None => {
                                let what = format!("{} tab on this user", p.tab.unwrap_or_default());
                                view! { <NotFound what/> }.into_any()
                            }
                        },
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn UserView(detail: UserDetail, tab: Tab) -> impl IntoView {
    let entity = detail.user.clone();
    let entity_ref = entity.summary.entity_ref.clone();
    let body = match tab {
        Tab::Overview => view! { <UserOverview detail/> }.into_any(),
        other => other_tab(other, &entity),
    };
    view! {
        <article class="entity-page">
            <ProblemsAlert problems=entity.problems.clone()/>
            <EntityHeader detail=entity.clone()/>
            <EntityTabs entity=entity_ref current=tab/>
            <div class="tab-panel">{body}</div>
        </article>
    }
}

#[component]
fn UserOverview(detail: UserDetail) -> impl IntoView {
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
