//! The frame around every page: skip link, header with product name, navigation, the global
//! search box and who is there: the signed-in user's menu (`user_menu`), or a visible "Guest"
//! marker (and, when sign-in is configured, a "Sign in" link); and the main landmark the routes
//! render into.

use crate::components::admin_nav::AdminNav;
use crate::components::search_box::SearchBox;
use crate::components::user_menu::UserMenu;
use crate::model::SignInState;
use crate::query::encode_component;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let pathname = location.pathname;
    // `/catalog-errors` starts with `/catalog`, so compare segments rather than prefixes.
    let in_catalog = move || {
        let p = pathname.get();
        p == "/catalog" || p.starts_with("/catalog/")
    };
    let in_teams = move || pathname.get() == "/teams";
    let in_errors = move || pathname.get() == "/catalog-errors";
    let in_docs = move || pathname.get() == "/docs";
    let in_locations = move || pathname.get() == "/locations";
    let in_kubernetes = move || pathname.get().starts_with("/kubernetes");
    let in_create = move || {
        let p = pathname.get();
        p == "/create" || p.starts_with("/create/")
    };
    let current = |active: bool| active.then_some("page");
    let sign_in = SignInState::current();
    let here = {
        let search = location.search.get_untracked();
        let path = pathname.get_untracked();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    };
    let account = match (sign_in.enabled, sign_in.signed_in_as) {
        (_, Some(name)) => Some(view! { <UserMenu name user=sign_in.user.clone()/> }.into_any()),
        (true, None) => Some(
            view! {
                <span class="account">
                    <span class="guest-marker">"Guest"</span>
                    <a class="sign-in" href=format!("/signin?redirect={}", encode_component(&here))>
                        "Sign in"
                    </a>
                </span>
            }
            .into_any(),
        ),
        (false, None) => Some(
            view! {
                <span class="account">
                    <span class="guest-marker" title="Sign-in is not configured: everyone is a guest">
                        "Guest"
                    </span>
                </span>
            }
            .into_any(),
        ),
    };

    view! {
        <a class="skip-link" href="#main" rel="external">
            "Skip to content"
        </a>
        <header class="site-header">
            <div class="site-header-inner">
                <a class="brand" href="/">
                    <svg class="brand-mark" viewBox="0 0 16 16" width="20" height="20" aria-hidden="true" focusable="false">
                        <rect width="16" height="16" rx="4" fill="currentColor"></rect>
                        <path
                            d="M4.5 3.5h4a2.25 2.25 0 0 1 0 4.5h-4zM4.5 8h4.75a2.25 2.25 0 0 1 0 4.5H4.5z"
                            fill="none"
                            stroke="var(--brand-contrast)"
                            stroke-width="1.5"
                        ></path>
                    </svg>
                    <span>"Backlot"</span>
                </a>
                <nav class="site-nav" aria-label="Main">
                    <a href="/catalog" aria-current=move || current(in_catalog())>
                        "Catalog"
                    </a>
                    <a href="/teams" aria-current=move || current(in_teams())>
                        "Teams"
                    </a>
                    <a href="/create" aria-current=move || current(in_create())>
                        "Create"
                    </a>
                    <a href="/docs" aria-current=move || current(in_docs())>
                        "Docs"
                    </a>
                    <a href="/kubernetes" aria-current=move || current(in_kubernetes())>
                        "Clusters"
                    </a>
                    <a href="/locations" aria-current=move || current(in_locations())>
                        "Locations"
                    </a>
                    <a href="/catalog-errors" aria-current=move || current(in_errors())>
                        "Errors"
                    </a>
                </nav>
                <SearchBox/>
                {account}
            </div>
        </header>
        <main id="main" class="site-main" tabindex="-1">
            {children()}
        </main>
        <footer class="site-footer">
            <p>"Backlot · a Backstage-compatible software catalog"</p>
            <AdminNav/>
        </footer>
    }
}
