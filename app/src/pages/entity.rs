//! The entity page, `/catalog/:namespace/:kind/:name[/:tab]`.
//!
//! Groups and users have their own pages ([`super::group`], [`super::user`]); every other kind
//! shows: problems first, header, tabs, and on the overview the About card, links, source,
//! labels, annotations and the relations graph.

use crate::api::{get_entity, get_graph};
use crate::components::common::{ErrorNotice, Loading};
use crate::components::entity_parts::{
    other_tab, AboutCard, EntityHeader, EntityTabs, MetadataCards, Tab,
};
use crate::components::graph::RelationsGraph;
use crate::components::problems::{ProblemsAlert, StaleAlert};
use crate::error::AppError;
use crate::model::{EntityDetail, EntityRef, RelationGraph};
use crate::pages::docs::DocsPanel;
use crate::pages::kubernetes::{KubeSummaryCard, KubernetesPanel};
use crate::pages::not_found::NotFound;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The route's parameters: kind (lower case), namespace, name, and the tab segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityParams {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub tab: Option<String>,
    /// Docs page id under `…/docs/` (`None` outside the Docs tab's sub-pages).
    pub page: Option<String>,
}

impl EntityParams {
    pub fn entity_ref(&self) -> EntityRef {
        EntityRef::new(self.kind.clone(), self.namespace.clone(), self.name.clone())
    }
}

/// Reads the entity route's parameters; `fixed_kind` for routes whose path names the kind.
pub fn use_entity_params(fixed_kind: Option<&'static str>) -> Memo<EntityParams> {
    let params = use_params_map();
    Memo::new(move |_| {
        params.with(|p| EntityParams {
            kind: fixed_kind
                .map(str::to_string)
                .unwrap_or_else(|| p.get("kind").unwrap_or_default().to_ascii_lowercase()),
            namespace: p.get("namespace").unwrap_or_default(),
            name: p.get("name").unwrap_or_default(),
            // `…/docs/*page` has no tab segment: it is the Docs tab.
            tab: p
                .get("tab")
                .filter(|t| !t.is_empty())
                .or_else(|| p.get("page").map(|_| "docs".to_string())),
            page: p.get("page"),
        })
    })
}

/// The page title for an entity route.
#[component]
pub fn EntityTitle(params: Memo<EntityParams>) -> impl IntoView {
    view! { <Title text=move || format!("Backlot — {}", params.with(|p| p.name.clone()))/> }
}

/// `/catalog/:namespace/:kind/:name/:tab?` for every kind but group and user, which have
/// routes of their own (so that switching pages disposes the old one cleanly).
#[component]
pub fn EntityRoute() -> impl IntoView {
    let params = use_entity_params(None);
    view! {
        <EntityTitle params/>
        <EntityPage params/>
    }
}

/// Any kind but group and user.
#[component]
pub fn EntityPage(params: Memo<EntityParams>) -> impl IntoView {
    let query = use_query_map();
    let key =
        Memo::new(move |_| params.with(|p| (p.kind.clone(), p.namespace.clone(), p.name.clone())));
    let depth = Memo::new(move |_| {
        if query.with(|q| q.get("depth").as_deref() == Some("2")) {
            2usize
        } else {
            1
        }
    });
    let entity = Resource::new(
        move || key.get(),
        |(kind, namespace, name)| get_entity(kind, namespace, name),
    );
    let graph = Resource::new(
        move || (key.get(), depth.get()),
        |((kind, namespace, name), depth)| get_graph(kind, namespace, name, depth),
    );

    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || {
                let p = params.get();
                let depth = depth.get();
                Suspend::new(async move {
                    match entity.await {
                        Err(e) if e.is_not_found() => view! { <NotFound what=p.entity_ref().to_ref_string()/> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                        Ok(detail) => {
                            let Some(tab) = Tab::from_segment(p.tab.as_deref())
                                .filter(|t| Tab::for_kind(&p.kind).contains(t))
                            else {
                                let what = format!("{} tab on this entity", p.tab.unwrap_or_default());
                                return view! { <NotFound what/> }.into_any();
                            };
                            let graph = if tab == Tab::Overview { Some(graph.await) } else { None };
                            let page = p.page.unwrap_or_default();
                            view! { <EntityView detail tab graph depth page/> }.into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn EntityView(
    detail: EntityDetail,
    tab: Tab,
    graph: Option<Result<RelationGraph, AppError>>,
    depth: usize,
    /// Docs page id, for the Docs tab.
    page: String,
) -> impl IntoView {
    let entity_ref = detail.summary.entity_ref.clone();
    let body = match tab {
        Tab::Overview => view! { <Overview detail=detail.clone() graph depth/> }.into_any(),
        Tab::Docs => view! { <DocsPanel entity=entity_ref.clone() page/> }.into_any(),
        Tab::Kubernetes => view! { <KubernetesPanel entity=entity_ref.clone()/> }.into_any(),
        other => other_tab(other, &detail),
    };
    view! {
        <article class="entity-page">
            <StaleAlert repository=detail.repository.clone()/>
            <ProblemsAlert problems=detail.problems.clone()/>
            <EntityHeader detail=detail.clone()/>
            <EntityTabs entity=entity_ref current=tab/>
            <div class="tab-panel">{body}</div>
        </article>
    }
}

#[component]
fn Overview(
    detail: EntityDetail,
    graph: Option<Result<RelationGraph, AppError>>,
    depth: usize,
) -> impl IntoView {
    let href = detail.summary.entity_ref.href();
    let entity = detail.summary.entity_ref.clone();
    view! {
        <div class="overview-grid">
            <div class="overview-main">
                <AboutCard detail=detail.clone()/>
                <KubeSummaryCard entity/>
                <GraphCard graph href depth/>
            </div>
            <div class="overview-side">
                <MetadataCards detail/>
            </div>
        </div>
    }
}

/// The relations graph with a switch between one and two hops.
#[component]
pub fn GraphCard(
    graph: Option<Result<RelationGraph, AppError>>,
    /// The entity page, for the depth links.
    href: String,
    depth: usize,
) -> impl IntoView {
    let one = href.clone();
    let two = format!("{href}?depth=2");
    view! {
        <section class="card" aria-labelledby="graph-heading">
            <div class="card-header">
                <h2 id="graph-heading" class="card-title">
                    "Relations graph"
                </h2>
                <nav class="segmented" aria-label="Graph depth">
                    <a href=one aria-current=(depth == 1).then_some("page")>
                        "1 hop"
                    </a>
                    <a href=two aria-current=(depth == 2).then_some("page")>
                        "2 hops"
                    </a>
                </nav>
            </div>
            {match graph {
                Some(Ok(graph)) => view! { <RelationsGraph graph/> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}
