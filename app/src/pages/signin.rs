//! `/signin`: a plain link to each configured provider (`/api/auth/{id}/start`), carrying the
//! page to come back to (a same-site path only). Server-rendered, no island.

use crate::model::{same_site_path, SignInState};
use crate::query::encode_component;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let state = SignInState::current();
    let redirect = use_query_map()
        .get_untracked()
        .get("redirect")
        .and_then(|r| same_site_path(&r).map(str::to_string))
        .unwrap_or_else(|| "/".to_string());
    let back = encode_component(&redirect);
    let choices = state
        .providers
        .iter()
        .map(|(id, name)| {
            let start = format!("/api/auth/{}/start?redirect={back}", encode_component(id));
            let label = format!("Sign in with {name}");
            view! {
                <li>
                    <a class="button" href=start rel="external">
                        {label}
                    </a>
                </li>
            }
        })
        .collect_view();
    let body = match (state.enabled, state.signed_in_as) {
        (_, Some(name)) => view! {
            <p>"You are signed in as " <strong>{name}</strong> "."</p>
            <p>
                <a class="button" href=redirect>
                    "Continue"
                </a>
            </p>
        }
        .into_any(),
        (true, None) => view! {
            <p>"Sign in with your organisation's account to be known to the portal."</p>
            <ul class="signin-providers">{choices}</ul>
        }
        .into_any(),
        (false, None) => view! {
            <p>"Sign-in is not configured on this Backlot: everyone is a guest."</p>
        }
        .into_any(),
    };
    view! {
        <Title text="Backlot — Sign in"/>
        <section class="signin" aria-labelledby="signin-heading">
            <h1 id="signin-heading">"Sign in"</h1>
            {body}
        </section>
    }
}
