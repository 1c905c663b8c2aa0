//! Every entity page, `/catalog/:namespace/:kind/:name[/:tab]`: one shell for every kind
//! (problems, header, tab bar, the chosen tab) and the table of tabs, [`TABS`]; a new tab is one
//! entry there. Groups and users have routes of their own (so that switching pages disposes the
//! old one cleanly) and overviews of their own ([`super::group`], [`super::user`]); every other
//! kind's overview is here: the About card, links, source, labels, annotations and the
//! relations graph.

use crate::api::{get_entity, get_graph, get_group, get_user};
use crate::components::common::{ErrorNotice, Loading};
use crate::components::entity_parts::{
    AboutCard, ApiTab, EntityHeader, MetadataCards, RawTab, RelationsTab,
};
use crate::components::graph::RelationsGraph;
use crate::components::observability::SignalsCard;
use crate::components::problems::{ProblemsAlert, StaleAlert};
use crate::components::scorecards::ScorecardsCard;
use crate::error::AppError;
use crate::model::{EntityDetail, EntityRef, GroupDetail, RelationGraph, UserDetail};
use crate::pages::docs::DocsPanel;
use crate::pages::group::GroupOverview;
use crate::pages::kubernetes::{KubeSummaryCard, KubernetesPanel, TeamHealthCard};
use crate::pages::not_found::NotFound;
use crate::pages::user::UserOverview;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

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
    view! { <Title text=format!("Backlot — {}", params.with_untracked(|p| p.name.clone()))/> }
}

/// `/catalog/:namespace/:kind/:name/:tab?` for every kind but group and user.
#[component]
pub fn EntityRoute() -> impl IntoView {
    let params = use_entity_params(None);
    view! {
        <EntityTitle params/>
        <EntityPage params/>
    }
}

/// What an entity page shows, as fetched: any kind, or a group or a user with their people and
/// what they own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Subject {
    Entity(Box<EntityDetail>),
    Group(Box<GroupDetail>),
    User(Box<UserDetail>),
}

impl Subject {
    pub fn detail(&self) -> &EntityDetail {
        match self {
            Subject::Entity(d) => d,
            Subject::Group(g) => &g.group,
            Subject::User(u) => &u.user,
        }
    }

    /// How the 404 of an unknown tab names the page.
    fn noun(&self) -> &'static str {
        match self {
            Subject::Entity(_) => "entity",
            Subject::Group(_) => "group",
            Subject::User(_) => "user",
        }
    }
}

/// Fetches what the page of an entity of `kind` (lower case) shows.
async fn fetch_subject(kind: String, namespace: String, name: String) -> Result<Subject, AppError> {
    Ok(match kind.as_str() {
        "group" => Subject::Group(Box::new(get_group(namespace, name).await?)),
        "user" => Subject::User(Box::new(get_user(namespace, name).await?)),
        _ => Subject::Entity(Box::new(get_entity(kind, namespace, name).await?)),
    })
}

/// What a tab is drawn from.
pub struct TabContext {
    pub subject: Subject,
    /// Docs page id, for the Docs tab (`""`: the home page).
    pub page: String,
    /// The relations graph (other kinds' overview), when the tab shows it.
    pub graph: Option<Result<RelationGraph, AppError>>,
    /// Hops of the graph, 1 or 2.
    pub depth: usize,
}

/// One tab of the entity pages.
pub struct EntityTab {
    /// The URL segment (`""` for the overview).
    pub slug: &'static str,
    /// Other segments that name the tab.
    pub aliases: &'static [&'static str],
    pub label: &'static str,
    /// Whether entities of a kind (any case) have the tab.
    pub shown: fn(&str) -> bool,
    pub view: fn(TabContext) -> AnyView,
}

/// The tabs of the entity pages, in the order of the tab bar.
pub const TABS: &[EntityTab] = &[
    EntityTab {
        slug: "",
        aliases: &["overview"],
        label: "Overview",
        shown: every_kind,
        view: overview_tab,
    },
    EntityTab {
        slug: "relations",
        aliases: &["dependencies"],
        label: "Relations",
        shown: every_kind,
        view: |cx| {
            view! { <RelationsTab relations=cx.subject.detail().relations.clone()/> }.into_any()
        },
    },
    EntityTab {
        slug: "api",
        aliases: &["definition"],
        label: "API",
        shown: |kind| kind.eq_ignore_ascii_case("api"),
        view: |cx| {
            view! { <ApiTab definition=cx.subject.detail().api_definition.clone()/> }.into_any()
        },
    },
    EntityTab {
        slug: "docs",
        aliases: &[],
        label: "Docs",
        shown: every_kind,
        view: |cx| {
            let entity = cx.subject.detail().summary.entity_ref.clone();
            view! { <DocsPanel entity page=cx.page/> }.into_any()
        },
    },
    EntityTab {
        slug: "kubernetes",
        aliases: &[],
        label: "Kubernetes",
        shown: every_kind,
        view: kubernetes_tab,
    },
    EntityTab {
        slug: "raw",
        aliases: &[],
        label: "Raw",
        shown: every_kind,
        view: |cx| view! { <RawTab raw_json=cx.subject.detail().raw_json.clone()/> }.into_any(),
    },
];

fn every_kind(_: &str) -> bool {
    true
}

impl EntityTab {
    /// The tab a URL segment names (none: the overview), if entities of `kind` have it.
    pub fn find(segment: Option<&str>, kind: &str) -> Option<&'static EntityTab> {
        let segment = segment.unwrap_or("");
        TABS.iter()
            .find(|t| t.slug == segment || t.aliases.contains(&segment))
            .filter(|t| (t.shown)(kind))
    }

    pub fn href(&self, entity: &EntityRef) -> String {
        if self.slug.is_empty() {
            entity.href()
        } else {
            format!("{}/{}", entity.href(), self.slug)
        }
    }
}

fn overview_tab(cx: TabContext) -> AnyView {
    match cx.subject {
        Subject::Entity(detail) => {
            view! { <Overview detail=*detail graph=cx.graph depth=cx.depth/> }.into_any()
        }
        Subject::Group(detail) => view! { <GroupOverview detail=*detail/> }.into_any(),
        Subject::User(detail) => view! { <UserOverview detail=*detail/> }.into_any(),
    }
}

/// A group's is its team's health; anything else's its own workloads.
fn kubernetes_tab(cx: TabContext) -> AnyView {
    let entity = cx.subject.detail().summary.entity_ref.clone();
    match cx.subject {
        Subject::Group(_) => view! {
            <TeamHealthCard namespace=entity.namespace name=entity.name/>
        }
        .into_any(),
        _ => view! { <KubernetesPanel entity/> }.into_any(),
    }
}

/// The page of an entity of any kind: what its kind shows, in the one shell.
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
    let subject = Resource::new(
        move || key.get(),
        |(kind, namespace, name)| fetch_subject(kind, namespace, name),
    );
    // Groups and users draw no relations graph.
    let graphed = params.with_untracked(|p| !matches!(p.kind.as_str(), "group" | "user"));
    let graph = graphed.then(|| {
        Resource::new(
            move || (key.get(), depth.get()),
            |((kind, namespace, name), depth)| get_graph(kind, namespace, name, depth),
        )
    });

    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || {
                let p = params.get();
                let depth = depth.get();
                Suspend::new(async move {
                    let subject = match subject.await {
                        Err(e) if e.is_not_found() => {
                            return view! { <NotFound what=p.entity_ref().to_ref_string()/> }.into_any();
                        }
                        Err(e) => return view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                        Ok(subject) => subject,
                    };
                    let Some(tab) = EntityTab::find(p.tab.as_deref(), &p.kind) else {
                        let what = format!(
                            "{} tab on this {}",
                            p.tab.unwrap_or_default(),
                            subject.noun(),
                        );
                        return view! { <NotFound what/> }.into_any();
                    };
                    let graph = match graph {
                        Some(graph) if tab.slug.is_empty() => Some(graph.await),
                        _ => None,
                    };
                    let cx = TabContext {
                        subject,
                        page: p.page.unwrap_or_default(),
                        graph,
                        depth,
                    };
                    view! { <EntityShell cx tab/> }.into_any()
                })
            }}
        </Transition>
    }
}

/// The frame of every entity page around the chosen tab.
#[component]
fn EntityShell(cx: TabContext, tab: &'static EntityTab) -> impl IntoView {
    let detail = cx.subject.detail().clone();
    let entity = detail.summary.entity_ref.clone();
    let body = (tab.view)(cx);
    view! {
        <article class="entity-page">
            <StaleAlert repository=detail.repository.clone()/>
            <ProblemsAlert problems=detail.problems.clone()/>
            <EntityHeader detail/>
            <TabBar entity current=tab/>
            <div class="tab-panel">{body}</div>
        </article>
    }
}

/// The tabs the entity's kind has; `current` is marked with `aria-current`.
#[component]
fn TabBar(entity: EntityRef, current: &'static EntityTab) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Entity sections">
            {TABS
                .iter()
                .filter(|t| (t.shown)(&entity.kind))
                .map(|t| {
                    let href = t.href(&entity);
                    view! {
                        <a href=href aria-current=std::ptr::eq(t, current).then_some("page")>
                            {t.label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// The overview of every kind but group and user.
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
                <ScorecardsCard entity=entity.clone()/>
                <SignalsCard entity=entity.clone()/>
                <KubeSummaryCard entity/>
                <GraphCard graph href depth/>
            </div>
            <div class="overview-side">
                <MetadataCards detail observability=true/>
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

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kind: &str) -> Vec<&'static str> {
        TABS.iter()
            .filter(|t| (t.shown)(kind))
            .map(|t| t.label)
            .collect()
    }

    #[test]
    fn tabs_by_segment_and_kind() {
        let find = |segment, kind| EntityTab::find(segment, kind).map(|t| t.label);
        assert_eq!(find(None, "component"), Some("Overview"));
        assert_eq!(find(Some("overview"), "group"), Some("Overview"));
        assert_eq!(find(Some("dependencies"), "component"), Some("Relations"));
        assert_eq!(find(Some("definition"), "API"), Some("API"));
        assert_eq!(find(Some("api"), "component"), None);
        assert_eq!(find(Some("nope"), "component"), None);
        assert_eq!(
            labels("api"),
            ["Overview", "Relations", "API", "Docs", "Kubernetes", "Raw"]
        );
        assert_eq!(
            labels("User"),
            ["Overview", "Relations", "Docs", "Kubernetes", "Raw"]
        );
        let entity = EntityRef::new("Component", "default", "web");
        assert_eq!(TABS[0].href(&entity), "/catalog/default/component/web");
        assert_eq!(TABS[5].href(&entity), "/catalog/default/component/web/raw");
    }
}
