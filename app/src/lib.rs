//! Backlot's UI: the HTML shell, the router and its pages, server functions and shared types.
//!
//! Compiled twice: with `ssr` into the server (rendering and server functions) and with
//! `hydrate` to wasm (the same views, made interactive). Every page works without JavaScript:
//! state lives in the URL, filters are GET forms or links, routes render with `SsrMode::Async`
//! so the server sends complete HTML (and a real 404 status).

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod format;
pub mod graph_layout;
pub mod kube;
pub mod model;
pub mod pages;
pub mod query;
#[cfg(feature = "ssr")]
pub mod services;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use components::layout::Layout;
use pages::{
    catalog::CatalogPage,
    docs::DocsIndexPage,
    entity::EntityRoute,
    errors::ErrorsPage,
    group::GroupRoute,
    kubernetes::{ClusterPage, ClustersPage},
    locations::LocationsPage,
    not_found::NotFound,
    search::SearchPage,
    user::UserRoute,
};

/// A small inline icon so browsers do not ask for `/favicon.ico`.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%234f46e5'/%3E%3Cpath d='M4 4h5a2.5 2.5 0 0 1 0 5H4zM4 9h5.5a2.5 2.5 0 0 1 0 5H4z' fill='none' stroke='white' stroke-width='1.6'/%3E%3C/svg%3E";

/// The HTML document around the app.
pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
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

    // End-to-end tests wait for this attribute before they interact with the page.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/backlot.css"/>
        <Link rel="icon" href=FAVICON/>
        <Meta name="description" content="Backlot: the software catalog."/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=CatalogPage ssr=SsrMode::Async/>
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
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// The wasm entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
