//! The catalog, `/catalog` (old links to `/?…` are sent here): kind tabs, filter sidebar, text filter, sortable table and
//! pagination, all driven by the URL.
//!
//! Without JavaScript the filters are one GET form (checkboxes and an Apply button) and every
//! other control is a link. In the browser (the form's island), ticking a box submits the form at
//! once and the Apply button hides.

use crate::api::list_catalog;
use crate::components::common::{ErrorBadge, ErrorNotice, IconSearch, Loading};
use crate::components::get_form::GetForm;
use crate::components::scorecards::LevelBadge;
use crate::format::{count, kind_label, kind_plural};
use crate::model::{
    CatalogLevels, CatalogPage as CatalogData, CatalogQuery, EntityRef, EntitySummary, FacetCount,
    SignInState, NO_LEVEL,
};
use crate::query::{
    catalog_href, catalog_query_from_pairs, sort_state, toggle_facet, with_kind, with_page,
    with_scorecard, with_sort, Facet,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

/// Facet values shown before the rest folds away under "Show more".
const FACET_VISIBLE: usize = 8;
/// Below this width (in CSS pixels) the filter panel starts folded, in the browser.
const NARROW: u32 = 800;

/// The query keys of the catalog page (the server sends old links to `/?<these>` here).
pub const QUERY_KEYS: [&str; 13] = [
    "kind",
    "owned",
    "type",
    "owner",
    "lifecycle",
    "tag",
    "namespace",
    "system",
    "level",
    "scorecard",
    "q",
    "sort",
    "page",
];

/// The catalog query in the router's query map.
pub fn query_from_params(map: &ParamsMap) -> CatalogQuery {
    catalog_query_from_pairs(QUERY_KEYS.iter().flat_map(|k| {
        map.get_all(k)
            .unwrap_or_default()
            .into_iter()
            .map(move |v| (*k, v))
    }))
}

/// `group:default/team-a` → `team-a`; anything that is not a reference stays as it is.
fn ref_string_display(s: &str) -> String {
    EntityRef::from_ref_string(s)
        .map(|r| r.display())
        .unwrap_or_else(|| s.to_string())
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_map.with(query_from_params));
    let data = Resource::new(move || query.get(), list_catalog);
    // Computed once: the page is rendered on the server only, and a render whose client went
    // away may read the title after its signals were disposed.
    let title = query.with_untracked(|q| match &q.kind {
        Some(kind) => format!("Backlot — {}", kind_plural(kind)),
        None => "Backlot — Catalog".to_string(),
    });
    view! {
        <Title text=title/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || {
                let q = query.get();
                Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <CatalogView q page/> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn CatalogView(q: CatalogQuery, page: CatalogData) -> impl IntoView {
    let heading = q
        .kind
        .as_deref()
        .map(kind_plural)
        .unwrap_or_else(|| "All entities".to_string());
    let total = page.total;
    let facets = page.facets;
    let kinds = facets.kinds.clone();
    let active_filters = ActiveFilters(&q);
    let levels = page.levels.clone();
    let signed_in = SignInState::current().signed_in_as.is_some();
    view! {
        <div class="page-header">
            <h1>{heading}</h1>
            <p class="muted">{format!("{} {}", count(total), if total == 1 { "entity" } else { "entities" })}</p>
        </div>
        <KindTabs q=q.clone() kinds/>
        <GetForm action="/catalog" submit_on_change=true>
            {q.kind.clone().map(|k| view! { <input type="hidden" name="kind" value=k/> })}
            {q.sort.clone().map(|s| view! { <input type="hidden" name="sort" value=s/> })}
            {page.levels.as_ref().map(|l| view! { <input type="hidden" name="scorecard" value=l.scorecard.clone()/> })}
            <div class="catalog-layout">
                <details class="filters" open data-fold-below=NARROW.to_string()>
                    <summary class="filters-summary">"Filters"</summary>
                    <div class="filters-body">
                        {(signed_in || q.owned)
                            .then(|| {
                                view! {
                                    <fieldset class="facet">
                                        <legend>"Ownership"</legend>
                                        <ul>
                                            <li>
                                                <label class="check">
                                                    <input
                                                        type="checkbox"
                                                        name="owned"
                                                        value="1"
                                                        checked=q.owned
                                                        prop:checked=q.owned
                                                    />
                                                    <span class="check-label">"Owned by me or my teams"</span>
                                                </label>
                                            </li>
                                        </ul>
                                    </fieldset>
                                }
                            })}
                        {Facet::ALL
                            .into_iter()
                            .map(|facet| {
                                let counts = match facet {
                                    Facet::Type => facets.types.clone(),
                                    Facet::Owner => facets.owners.clone(),
                                    Facet::Lifecycle => facets.lifecycles.clone(),
                                    Facet::Tag => facets.tags.clone(),
                                    Facet::Namespace => facets.namespaces.clone(),
                                    Facet::System => facets.systems.clone(),
                                    // Not among the catalog's own: `LevelFacet` below.
                                    Facet::Level => Vec::new(),
                                };
                                let unlisted = facets.unlisted.get(facet.key()).copied().unwrap_or(0);
                                view! {
                                    <FacetGroup facet counts unlisted/>
                                }
                            })
                            .collect_view()}
                        {page.levels.clone().map(|levels| view! { <LevelFacet q=q.clone() levels/> })}
                        <button type="submit" class="button no-js-only">
                            "Apply filters"
                        </button>
                    </div>
                </details>
                <div class="catalog-main">
                    <div class="toolbar">
                        <div class="text-filter">
                            <label class="visually-hidden" for="catalog-text">
                                "Filter by text"
                            </label>
                            <span class="text-filter-icon">
                                <IconSearch/>
                            </span>
                            <input
                                id="catalog-text"
                                type="search"
                                name="q"
                                placeholder="Filter by name, title, description or tag"
                                value=q.text.clone()
                                prop:value=q.text.clone().unwrap_or_default()
                            />
                        </div>
                        <button type="submit" class="button">
                            "Filter"
                        </button>
                    </div>
                    {active_filters}
                    {if page.items.is_empty() {
                        let cleared = catalog_href(&with_kind(&CatalogQuery::default(), q.kind.as_deref()));
                        view! {
                            <div class="empty-state">
                                <p>"No entities match these filters."</p>
                                <a class="button" href=cleared>
                                    "Clear filters"
                                </a>
                            </div>
                        }
                            .into_any()
                    } else {
                        view! { <CatalogTable q=q.clone() items=page.items alerts=page.alert_counts levels/> }.into_any()
                    }}
                    <Pagination q=q.clone() total/>
                </div>
            </div>
        </GetForm>
    }
}

/// Kind tabs with counts (given the other filters).
#[component]
fn KindTabs(q: CatalogQuery, kinds: Vec<FacetCount>) -> impl IntoView {
    let all: usize = kinds.iter().map(|k| k.count).sum();
    let current = q.kind.clone();
    let all_href = catalog_href(&with_kind(&q, None));
    view! {
        <nav class="kind-tabs" aria-label="Kinds">
            <a href=all_href aria-current=current.is_none().then_some("page")>
                "All "
                <span class="count">{count(all)}</span>
            </a>
            {kinds
                .into_iter()
                .map(|k| {
                    let lower = k.value.to_ascii_lowercase();
                    let href = catalog_href(&with_kind(&q, Some(&lower)));
                    let is_current = current.as_deref() == Some(lower.as_str());
                    view! {
                        <a href=href aria-current=is_current.then_some("page")>
                            {kind_plural(&k.value)}
                            " "
                            <span class="count">{count(k.count)}</span>
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// One filter: a fieldset of checkboxes with counts. Ticking one submits the form when hydrated.
#[component]
fn FacetGroup(
    facet: Facet,
    counts: Vec<FacetCount>,
    /// Values with matches that the server did not list (only the most common are).
    unlisted: usize,
    /// Shown under the heading (the level facet's scorecard).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    // The server lists the chosen values first (with those nothing has), then by count.
    let mut values = counts;
    if values.is_empty() {
        return None;
    }
    let key = facet.key();
    let item = move |v: FacetCount| {
        let checked = v.selected;
        let label = facet_label(facet, &v.value);
        view! {
            <li>
                <label class="check" title=v.value.clone()>
                    <input
                        type="checkbox"
                        name=key
                        value=v.value.clone()
                        checked=checked
                        prop:checked=checked
                    />
                    <span class="check-label">{label}</span>
                    <span class="count">{count(v.count)}</span>
                </label>
            </li>
        }
    };
    let rest: Vec<FacetCount> = values.split_off(values.len().min(FACET_VISIBLE));
    let more = rest.len();
    Some(view! {
        <fieldset class="facet">
            <legend>{facet.label()}</legend>
            {children.map(|c| c())}
            <ul>{values.into_iter().map(item).collect_view()}</ul>
            {(more > 0)
                .then(|| {
                    view! {
                        <details class="facet-more">
                            <summary>{format!("Show {more} more")}</summary>
                            <ul>{rest.into_iter().map(item).collect_view()}</ul>
                        </details>
                    }
                })}
            {(unlisted > 0)
                .then(|| {
                    let label = format!("Another {}", facet.label().to_lowercase());
                    view! {
                        <p class="facet-unlisted muted">
                            {format!("{} more not listed.", count(unlisted))}
                        </p>
                        <input
                            type="text"
                            class="facet-other"
                            name=key
                            aria-label=label.clone()
                            placeholder=format!("{label}…")
                        />
                    }
                })}
        </fieldset>
    })
}

/// How a facet value reads: references shortened, the level facet's [`NO_LEVEL`] in words.
fn facet_label(facet: Facet, value: &str) -> String {
    match facet {
        Facet::Owner | Facet::System => ref_string_display(value),
        Facet::Level if value == NO_LEVEL => "no level".to_string(),
        _ => value.to_string(),
    }
}

/// The level facet: the scorecard shown (others a link away) and its levels with counts.
#[component]
fn LevelFacet(q: CatalogQuery, levels: CatalogLevels) -> impl IntoView {
    let others: Vec<(String, String)> = levels
        .scorecards
        .iter()
        .filter(|(name, _)| *name != levels.scorecard)
        .cloned()
        .collect();
    let choose = (!others.is_empty()).then(|| {
        view! {
            <p class="muted small level-scorecards">
                "Other scorecards: "
                {others
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, title))| {
                        let href = catalog_href(&with_scorecard(&q, &name));
                        view! {
                            {(i > 0).then_some(", ")}
                            <a href=href data-scorecard=name>{title}</a>
                        }
                    })
                    .collect_view()}
            </p>
        }
    });
    view! {
        <div class="level-facet" data-scorecard=levels.scorecard.clone()>
            <FacetGroup facet=Facet::Level counts=levels.facet unlisted=0>
                <p class="muted small">{format!("On the scorecard “{}”", levels.title)}</p>
                {choose}
            </FacetGroup>
        </div>
    }
}

/// Chips for the filters in effect, each a link that removes it.
#[allow(non_snake_case)]
fn ActiveFilters(q: &CatalogQuery) -> Option<impl IntoView> {
    let mut chips: Vec<(String, String)> = Vec::new();
    for facet in Facet::URL {
        for v in facet.values(q) {
            let shown = facet_label(facet, v);
            chips.push((
                format!("{}: {shown}", facet.label()),
                catalog_href(&toggle_facet(q, facet, v)),
            ));
        }
    }
    if q.owned {
        let without = CatalogQuery {
            owned: false,
            page: 0,
            ..q.clone()
        };
        chips.push((
            "Owned by me or my teams".to_string(),
            catalog_href(&without),
        ));
    }
    if let Some(text) = &q.text {
        let without = CatalogQuery {
            text: None,
            page: 0,
            ..q.clone()
        };
        chips.push((format!("Text: “{text}”"), catalog_href(&without)));
    }
    if chips.is_empty() {
        return None;
    }
    let clear = catalog_href(&with_kind(&CatalogQuery::default(), q.kind.as_deref()));
    Some(view! {
        <ul class="active-filters" aria-label="Active filters">
            {chips
                .into_iter()
                .map(|(label, href)| {
                    let aria = format!("Remove filter {label}");
                    view! {
                        <li>
                            <a class="chip chip-removable" href=href aria-label=aria>
                                {label}
                                <span aria-hidden="true">"×"</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
            <li>
                <a class="clear-filters" href=clear>
                    "Clear all"
                </a>
            </li>
        </ul>
    })
}

/// A column header that sorts when clicked.
fn sort_header(q: &CatalogQuery, column: &'static str, label: &'static str) -> impl IntoView {
    let state = sort_state(q, column);
    let aria = match state {
        Some(true) => "ascending",
        Some(false) => "descending",
        None => "none",
    };
    let arrow = match state {
        Some(true) => "↑",
        Some(false) => "↓",
        None => "↕",
    };
    let href = catalog_href(&with_sort(q, column));
    view! {
        <th scope="col" aria-sort=aria>
            <a class="sort" class:sorted=state.is_some() href=href>
                {label}
                <span class="sort-arrow" aria-hidden="true">{arrow}</span>
            </a>
        </th>
    }
}

/// The table; `alerts` (one count per item) adds the firing-alerts column, `levels` the
/// scorecard level column.
#[component]
fn CatalogTable(
    q: CatalogQuery,
    items: Vec<EntitySummary>,
    alerts: Option<Vec<u32>>,
    levels: Option<CatalogLevels>,
) -> impl IntoView {
    let shown = alerts.is_some();
    let mut counts = alerts.unwrap_or_default().into_iter();
    let level_header = levels.as_ref().map(|l| {
        let title = format!("Level on the scorecard “{}”", l.title);
        view! { <th scope="col" title=title>"Level"</th> }
    });
    let mut row_levels = levels.as_ref().map(|l| l.items.clone().into_iter());
    view! {
        <div class="table-scroll">
            <table class="catalog-table">
                <thead>
                    <tr>
                        {sort_header(&q, "name", "Name")}
                        {sort_header(&q, "kind", "Kind")}
                        {sort_header(&q, "type", "Type")}
                        {sort_header(&q, "owner", "Owner")}
                        <th scope="col">"System"</th>
                        {sort_header(&q, "lifecycle", "Lifecycle")}
                        <th scope="col">"Tags"</th>
                        <th scope="col">"Description"</th>
                        {level_header}
                        {if shown { view! { <th scope="col">"Alerts"</th> }.into_any() } else { ().into_any() }}
                    </tr>
                </thead>
                <tbody>
                    {items
                        .into_iter()
                        .map(|s| {
                            let alerts = shown.then(|| counts.next().unwrap_or(0));
                            // Nothing at all without the column (as for the alerts).
                            let level = match (&levels, row_levels.as_mut()) {
                                (Some(l), Some(it)) => level_cell(l, it.next().flatten()).into_any(),
                                _ => ().into_any(),
                            };
                            view! { <CatalogRow s alerts level/> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Firing alerts of a row: a link to the entity's alerts, or a muted 0.
fn alert_cell(href: &str, count: u32) -> impl IntoView {
    let label = format!("{count} firing alert{}", if count == 1 { "" } else { "s" });
    view! {
        <td class="cell-alerts" data-alerts=count.to_string()>
            {if count == 0 {
                view! { <span class="muted" title=label>"0"</span> }.into_any()
            } else {
                let href = format!("{href}#alerts");
                view! { <a class="alert-count" href=href title=label>{count}</a> }.into_any()
            }}
        </td>
    }
}

/// A row's level: its badge, or a dash when the scorecard does not apply.
fn level_cell(levels: &CatalogLevels, level: Option<u8>) -> impl IntoView {
    match level {
        Some(k) => view! { <td class="cell-level"><LevelBadge level=levels.name(k)/></td> }.into_any(),
        None => view! {
            <td class="cell-level"><span class="muted" title="The scorecard does not apply">"—"</span></td>
        }
        .into_any(),
    }
}

#[component]
fn CatalogRow(s: EntitySummary, alerts: Option<u32>, level: AnyView) -> impl IntoView {
    let href = s.entity_ref.href();
    // Nothing at all without the column (an absent `Option` would leave a marker per row).
    let alerts = match alerts {
        Some(n) => alert_cell(&href, n).into_any(),
        None => ().into_any(),
    };
    let reference = s.entity_ref.to_ref_string();
    let name = s.entity_ref.display();
    let title = s
        .title
        .clone()
        .filter(|t| !t.trim().is_empty() && *t != s.entity_ref.name);
    let dash = || view! { <span class="muted">"—"</span> };
    let link = |r: Option<EntityRef>| match r {
        Some(r) => {
            let href = r.href();
            let full = r.to_ref_string();
            view! {
                <a href=href title=full>
                    {r.display()}
                </a>
            }
            .into_any()
        }
        None => dash().into_any(),
    };
    view! {
        <tr>
            <td class="cell-name">
                <a href=href title=reference class="entity-name">
                    {title.clone().unwrap_or_else(|| name.clone())}
                </a>
                {title.map(|_| view! { <span class="muted small entity-subname">{name}</span> })}
                <ErrorBadge count=s.error_count/>
            </td>
            <td>{kind_label(&s.entity_ref.kind)}</td>
            <td>{s.spec_type.unwrap_or_default()}</td>
            <td>{link(s.owner)}</td>
            <td>{link(s.system)}</td>
            <td>
                {s.lifecycle.map(|l| view! { <span class="chip chip-lifecycle">{l}</span> }.into_any()).unwrap_or_else(|| dash().into_any())}
            </td>
            <td>
                <ul class="tags">{s.tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}</ul>
            </td>
            <td class="cell-description">{s.description.unwrap_or_default()}</td>
            {level}
            {alerts}
        </tr>
    }
}

/// "1–25 of 341" with Previous and Next links.
#[component]
fn Pagination(q: CatalogQuery, total: usize) -> impl IntoView {
    let size = q.page_size.max(1);
    let pages = total.div_ceil(size).max(1);
    let page = q.page.min(pages - 1);
    let first = if total == 0 { 0 } else { page * size + 1 };
    let last = (page * size + size).min(total);
    let prev = (page > 0).then(|| catalog_href(&with_page(&q, page - 1)));
    let next = (page + 1 < pages).then(|| catalog_href(&with_page(&q, page + 1)));
    (total > 0).then(|| {
        view! {
            <nav class="pagination" aria-label="Pagination">
                <p class="pagination-range">
                    {format!("{}–{} of {}", count(first), count(last), count(total))}
                </p>
                <div class="pagination-links">
                    {match prev {
                        Some(href) => view! { <a class="button" href=href rel="prev">"← Previous"</a> }.into_any(),
                        None => view! { <span class="button" aria-disabled="true">"← Previous"</span> }.into_any(),
                    }}
                    <span class="muted small">{format!("Page {} of {}", page + 1, pages)}</span>
                    {match next {
                        Some(href) => view! { <a class="button" href=href rel="next">"Next →"</a> }.into_any(),
                        None => view! { <span class="button" aria-disabled="true">"Next →"</span> }.into_any(),
                    }}
                </div>
            </nav>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_map_to_query() {
        let mut map = ParamsMap::new();
        map.insert("kind", "Component".into());
        map.insert("owner", "group:default/a".into());
        map.insert("owner", "group:default/b".into());
        map.insert("page", "2".into());
        map.insert("q", "".into());
        let q = query_from_params(&map);
        assert_eq!(q.kind.as_deref(), Some("component"));
        assert_eq!(q.owners.len(), 2);
        assert_eq!(q.page, 1);
        assert_eq!(q.text, None);
    }

    #[test]
    fn ref_display() {
        assert_eq!(ref_string_display("group:default/team-a"), "team-a");
        assert_eq!(ref_string_display("group:ops/team-a"), "ops/team-a");
        assert_eq!(ref_string_display("plain"), "plain");
    }
}
