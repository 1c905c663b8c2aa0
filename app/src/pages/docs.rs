//! Docs (TechDocs): the Docs tab of an entity (`/catalog/:ns/:kind/:name/docs[/page…]`) with
//! the site's navigation, the page and its table of contents, and the `/docs` index of every
//! documented entity with a search over the pages. Pages are rendered and sanitized on the
//! server; this only places the HTML.

use crate::api::{get_docs_index, get_docs_page, search_docs};
use crate::components::common::{EntityLink, ErrorNotice, KindBadge, Loading};
use crate::format::{plural, short_commit};
use crate::model::{DocsHit, DocsNav, DocsPage, EntityRef};
use leptos::prelude::*;
use leptos_meta::{Link, Title};
use leptos_router::hooks::use_query_map;

/// The Docs tab of an entity: `page` is the page id (`""` for the home page).
#[component]
pub fn DocsPanel(entity: EntityRef, page: String) -> impl IntoView {
    let key = (
        entity.kind.clone(),
        entity.namespace.clone(),
        entity.name.clone(),
        page,
    );
    let docs = Resource::new(
        move || key.clone(),
        |(kind, namespace, name, page)| get_docs_page(kind, namespace, name, page),
    );
    view! {
        <Link rel="stylesheet" href="/docs-assets/_highlight.css"/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match docs.await {
                    Err(e) if e.is_not_found() => view! { <ErrorNotice message="No such entity".to_string()/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(page) => view! { <DocsView page/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DocsView(page: DocsPage) -> impl IntoView {
    if let Some(error) = page.error {
        return view! {
            <section class="card notice" data-testid="docs-error">
                <h2 class="card-title">"Docs"</h2>
                <p>{error}</p>
            </section>
        }
        .into_any();
    }
    let toc = page.toc.clone();
    let source = match (page.view_url.clone(), page.edit_url.clone()) {
        (None, None) => None,
        (view, edit) => Some((view, edit)),
    };
    view! {
        <Title text=format!("Backlot — {} · {}", page.title, page.site_name)/>
        <div class="docs-layout">
            <nav class="docs-nav" aria-label="Documentation">
                <p class="docs-site-name">{page.site_name.clone()}</p>
                {nav_list(page.nav.clone())}
            </nav>
            <article class="docs-content card">
                <div class="markdown" inner_html=page.html></div>
                <footer class="docs-footer muted small">
                    {page.commit.map(|c| format!("Read at commit {}", short_commit(&c)))}
                    {source
                        .map(|(view, edit)| {
                            view! {
                                {view.map(|u| view! { " · " <a href=u rel="external">"View source"</a> })}
                                {edit.map(|u| view! { " · " <a href=u rel="external">"Edit this page"</a> })}
                            }
                        })}
                </footer>
            </article>
            {(!toc.is_empty())
                .then(|| {
                    view! {
                        <nav class="docs-toc" aria-label="On this page">
                            <p class="docs-toc-title">"On this page"</p>
                            <ul>
                                {toc
                                    .into_iter()
                                    .map(|t| {
                                        let class = format!("toc-level-{}", t.level);
                                        view! {
                                            <li class=class>
                                                <a href=format!("#{}", t.id) rel="external">{t.title}</a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </nav>
                    }
                })}
        </div>
    }
    .into_any()
}

/// Docs pages found by a search: title, the entity they document, the text around the match.
#[component]
pub fn DocsHitList(hits: Vec<DocsHit>) -> impl IntoView {
    view! {
        <ul class="docs-hits">
            {hits
                .into_iter()
                .map(|h| {
                    let owner = h.entity.title.clone().unwrap_or_else(|| h.entity.entity_ref.name.clone());
                    view! {
                        <li class="card">
                            <a href=h.url>{h.title}</a>
                            <span class="muted small">" in " {owner}</span>
                            <p class="small">{h.snippet}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

fn nav_list(items: Vec<DocsNav>) -> AnyView {
    view! {
        <ul>
            {items
                .into_iter()
                .map(|item| {
                    let current = item.active && item.children.is_empty();
                    let label = match item.url {
                        Some(url) => {
                            view! {
                                <a href=url aria-current=current.then_some("page")>{item.title}</a>
                            }
                                .into_any()
                        }
                        None => view! { <span class="docs-nav-section">{item.title}</span> }.into_any(),
                    };
                    let children = (!item.children.is_empty()).then(|| nav_list(item.children));
                    view! { <li class:active=item.active>{label} {children}</li> }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// `/docs`: every documented entity, and a search over the pages (`?q=`).
#[component]
pub fn DocsIndexPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|m| m.get("q").unwrap_or_default()));
    let index = Resource::new(|| (), |_| get_docs_index());
    let hits = Resource::new(move || q.get(), |q| search_docs(q, 50));
    view! {
        <Title text="Backlot — Docs"/>
        <div class="page-header">
            <h1>"Docs"</h1>
            <p class="muted">"Documentation read from the repositories of the catalog's entities, at their latest commit."</p>
        </div>
        <form method="get" action="/docs" class="docs-search" role="search">
            <label class="visually-hidden" for="docs-q">"Search the docs"</label>
            <input id="docs-q" type="search" name="q" placeholder="Search the docs" value=move || q.get()/>
            <button type="submit" class="button">"Search"</button>
        </form>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let text = q.get();
                if !text.trim().is_empty() {
                    return match hits.await {
                        Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                        Ok(hits) => {
                            view! {
                                <section class="section" aria-labelledby="docs-hits">
                                    <h2 id="docs-hits">{plural(hits.len(), "page matches", "pages match")}</h2>
                                    <DocsHitList hits/>
                                </section>
                            }
                                .into_any()
                        }
                    };
                }
                match index.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(entries) if entries.is_empty() => {
                        view! {
                            <p class="muted">
                                "No entity has docs yet. Add the annotation backstage.io/techdocs-ref: dir:. to a catalog-info.yaml next to an mkdocs.yml, a docs/ folder or a README.md."
                            </p>
                        }
                            .into_any()
                    }
                    Ok(entries) => {
                        view! {
                            <ul class="docs-index">
                                {entries
                                    .into_iter()
                                    .map(|e| {
                                        let kind = e.entity.entity_ref.kind.clone();
                                        let entity = e.entity.entity_ref.clone();
                                        view! {
                                            <li class="card">
                                                <a href=e.url class="docs-index-title">{e.site_name}</a>
                                                <div class="muted small">
                                                    <KindBadge kind/>
                                                    " "
                                                    <EntityLink entity/>
                                                </div>
                                                {e.entity.description.map(|d| view! { <p class="small">{d}</p> })}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}
