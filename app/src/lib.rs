//! Backlot's UI: the HTML shell, the router and its pages, server functions and shared types.
//!
//! Compiled twice: with `ssr` into the server (every page is rendered there) and with `hydrate`
//! to wasm, which holds only the islands (`#[island]`): the few parts of a page that react in
//! the browser (the search box, forms that submit on change, live Kubernetes views). Everything
//! else is HTML that never wakes. Every page works without JavaScript: state lives in the URL,
//! filters are GET forms or links, changes are POST forms answered with a redirect, and routes
//! render with `SsrMode::Async` so the server sends complete HTML (and a real 404 status).

#![recursion_limit = "256"]

pub mod api;
pub mod audit;
pub mod components;
pub mod error;
pub mod format;
pub mod graph_layout;
pub mod home;
pub mod kube;
pub mod model;
pub mod names;
pub mod observability;
pub mod pages;
pub mod query;
pub mod scaffolder;
pub mod scorecards;
#[cfg(feature = "ssr")]
pub mod services;
pub mod templates;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use components::layout::Layout;
use pages::{
    admin::{AuditLogPage, PermissionsPage},
    catalog::CatalogPage,
    create::{TemplateEditPage, TemplatesPage, WizardPage},
    docs::DocsIndexPage,
    entity::EntityRoute,
    errors::ErrorsPage,
    group::GroupRoute,
    home::{HomePage, TeamsPage},
    kubernetes::{ClusterPage, ClustersPage},
    locations::LocationsPage,
    not_found::NotFound,
    search::SearchPage,
    settings::TokensPage,
    signin::SignInPage,
    tasks::{ActionsPage, TaskPage, TasksPage},
    user::UserRoute,
};

/// A small inline icon so browsers do not ask for `/favicon.ico`.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%234f46e5'/%3E%3Cpath d='M4 4h5a2.5 2.5 0 0 1 0 5H4zM4 9h5.5a2.5 2.5 0 0 1 0 5H4z' fill='none' stroke='white' stroke-width='1.6'/%3E%3C/svg%3E";

/// Where the browser finds this build's files: versioned URLs the server keeps for a year.
///
/// The server provides it (from the files it serves); without it the unversioned names are used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetUrls {
    /// The islands' JavaScript glue.
    pub script: String,
    /// The islands' wasm.
    pub wasm: String,
    /// The stylesheet.
    pub stylesheet: String,
}

impl Default for AssetUrls {
    fn default() -> Self {
        AssetUrls {
            script: "/pkg/backlot.js".into(),
            wasm: "/pkg/backlot_bg.wasm".into(),
            stylesheet: "/pkg/backlot.css".into(),
        }
    }
}

/// Wakes the islands: loads the wasm, then calls the function named by each
/// `<leptos-island>`'s `data-component` on it. A page whose only island is the header's search
/// box loads nothing until the box is first used (focused, or `/` pressed); other pages load when
/// the browser is idle. `data-hydrated` on the body says the page is ready for a person (tests
/// wait for it) and the `islands-awake` performance mark says when the wasm ran.
const ISLAND_LOADER: &str = r#"((js, wasm) => {
  const body = document.body;
  const islands = [...document.querySelectorAll("leptos-island")];
  let woken = null;
  const wake = () => woken ??= (async () => {
    const m = await import(js);
    await m.default({ module_or_path: wasm });
    m.hydrate();
    for (const el of islands) {
      const island = m[el.dataset.component];
      if (island) { await island(el); } else { console.warn("no island named", el.dataset.component); }
    }
    body.dataset.hydrated = "true";
    performance.mark("islands-awake");
  })();
  const box = document.querySelector(".search input");
  if (islands.length === 0) {
    body.dataset.hydrated = "true";
  } else if (box && islands.every((el) => el.dataset.component.startsWith("SearchBox"))) {
    const field = (t) => t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
    const slash = (e) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || field(e.target)) return;
      e.preventDefault();
      box.focus();
      box.select();
    };
    document.addEventListener("keydown", slash);
    box.addEventListener("focus", () => { document.removeEventListener("keydown", slash); wake(); }, { once: true });
    body.dataset.hydrated = "true";
    if (document.activeElement === box) wake();
  } else if ("requestIdleCallback" in window) {
    requestIdleCallback(wake, { timeout: 500 });
  } else {
    setTimeout(wake);
  }
})"#;

/// The HTML document around the app.
///
/// The page is the same bytes for the same content (no per-request nonce), so the server can
/// answer a revalidation with 304.
pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    // Islands mode: the server renders no hydration markers outside the islands.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let assets = use_context::<AssetUrls>().unwrap_or_default();
    let loader = format!("{ISLAND_LOADER}({:?}, {:?});", assets.script, assets.wasm);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options/>
                <link rel="stylesheet" href=assets.stylesheet/>
                <script type="module" inner_html=loader></script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: metadata, router, layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Link rel="icon" href=FAVICON/>
        <Meta name="description" content="Backlot: the software catalog."/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/teams") view=TeamsPage ssr=SsrMode::Async/>
                    <Route path=path!("/catalog") view=CatalogPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/catalog/:namespace/group/:name/:tab?")
                        view=GroupRoute
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/catalog/:namespace/user/:name/:tab?")
                        view=UserRoute
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/catalog/:namespace/:kind/:name/docs/*page")
                        view=EntityRoute
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/catalog/:namespace/:kind/:name/:tab?")
                        view=EntityRoute
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/catalog-errors") view=ErrorsPage ssr=SsrMode::Async/>
                    <Route path=path!("/locations") view=LocationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/docs") view=DocsIndexPage ssr=SsrMode::Async/>
                    <Route path=path!("/kubernetes") view=ClustersPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/kubernetes/clusters/:name")
                        view=ClusterPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/create") view=TemplatesPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/create/templates/:namespace/:name")
                        view=WizardPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/create/edit") view=TemplateEditPage ssr=SsrMode::Async/>
                    <Route path=path!("/create/tasks") view=TasksPage ssr=SsrMode::Async/>
                    <Route path=path!("/create/tasks/:id") view=TaskPage ssr=SsrMode::Async/>
                    <Route path=path!("/create/actions") view=ActionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/permissions") view=PermissionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/tokens") view=TokensPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// The wasm entry point: prepares the reactive system; the loader in [`shell`] then wakes each
/// island.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
