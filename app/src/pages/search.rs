//! `/search?q=`: full search results, a plain page that works without JavaScript.

use crate::api::{search, search_docs, MAX_SEARCH_LIMIT};
use crate::components::common::{EntityList, ErrorNotice, Loading};
use crate::components::get_form::GetForm;
use crate::format::plural;
use crate::model::CatalogQuery;
use crate::pages::docs::DocsHitList;
use crate::query::catalog_href;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let text =
        Memo::new(move |_| query.with(|q| q.get("q").unwrap_or_default().trim().to_string()));
    let hits = Resource::new(
        move || text.get(),
        |text| async move {
            if text.is_empty() {
                Ok(Vec::new())
            } else {
                search(text, MAX_SEARCH_LIMIT).await
            }
        },
    );
    let docs = Resource::new(
        move || text.get(),
        |text| async move {
            if text.is_empty() {
                Ok(Vec::new())
            } else {
                search_docs(text, 20).await
            }
        },
    );
    view! {
        <Title text={
            let t = text.get_untracked();
            if t.is_empty() { "Backlot — Search".to_string() } else { format!("Backlot — Search: {t}") }
        }/>
        <div class="page-header">
            <h1>"Search"</h1>
        </div>
        <GetForm action="/search">
            <div class="search-page-form">
                <label class="visually-hidden" for="search-page-q">
                    "Search query"
                </label>
                <input
                    id="search-page-q"
                    type="search"
                    name="q"
                    placeholder="Name, title, description or tag"
                    value=move || text.get()
                    prop:value=move || text.get()
                />
                <button type="submit" class="button button-primary">
                    "Search"
                </button>
            </div>
        </GetForm>
        <Transition fallback=|| view! { <Loading/> }>
            {move || {
                let t = text.get();
                Suspend::new(async move {
                    match hits.await {
                        Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                        Ok(_) if t.is_empty() => {
                            view! { <p class="empty">"Type a name, title, description or tag to search the catalog."</p> }
                                .into_any()
                        }
                        Ok(items) if items.is_empty() => {
                            let browse = catalog_href(&CatalogQuery { text: Some(t.clone()), ..Default::default() });
                            view! {
                                <p class="empty">
                                    {format!("Nothing matches “{t}”. ")}
                                    <a href=browse>"Filter the catalog instead"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok(items) => {
                            let n = items.len();
                            let summary = if n >= MAX_SEARCH_LIMIT {
                                format!("Top {n} results for “{t}”")
                            } else {
                                format!("{} for “{t}”", plural(n, "result", "results"))
                            };
                            view! {
                                <p class="summary-line" role="status">{summary}</p>
                                <EntityList items show_kind=true/>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match docs.await {
                    Ok(hits) if !hits.is_empty() => {
                        view! {
                            <section class="section" aria-labelledby="docs-results">
                                <h2 id="docs-results">"In the docs " <span class="count">{hits.len()}</span></h2>
                                <DocsHitList hits/>
                            </section>
                        }
                            .into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Transition>
    }
}
