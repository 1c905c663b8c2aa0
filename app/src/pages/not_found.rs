//! The 404 page, for unknown URLs and for entities that are not in the catalog.

use crate::components::common::set_not_found_status;
use leptos::prelude::*;
use leptos_meta::Title;

/// Sets the 404 status during server rendering and offers a way back.
#[component]
pub fn NotFound(
    /// What was looked for, e.g. `component:default/foo`.
    #[prop(optional, into)]
    what: Option<String>,
) -> impl IntoView {
    set_not_found_status();
    let message = match what {
        Some(w) => {
            format!("There is no {w} in the catalog. It may have been renamed, moved or removed.")
        }
        None => "There is nothing at this address.".to_string(),
    };
    view! {
        <Title text="Backlot — Not found"/>
        <section class="not-found" aria-labelledby="not-found-heading">
            <p class="not-found-code">"404"</p>
            <h1 id="not-found-heading">"Not found"</h1>
            <p>{message}</p>
            <p>
                <a class="button" href="/catalog">
                    "Back to the catalog"
                </a>
            </p>
        </section>
    }
}
