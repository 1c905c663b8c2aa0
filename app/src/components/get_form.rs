//! A GET form that, once hydrated, navigates with the router to a clean URL.
//!
//! Without JavaScript the browser submits it as usual. With JavaScript the submission becomes a
//! client-side navigation, and blank fields (`q=`) and nameless buttons are left out of the URL.

use crate::query::{encode_component, parse_query_string};
use leptos::ev;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use leptos_router::hooks::use_navigate;

/// The URL a GET form leads to, from its encoded fields: blank values and nameless fields dropped.
pub fn clean_get_url(action: &str, encoded_fields: &str) -> String {
    let query = parse_query_string(encoded_fields)
        .into_iter()
        .filter(|(k, v)| !k.is_empty() && !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", encode_component(&k), encode_component(v.trim())))
        .collect::<Vec<_>>()
        .join("&");
    if query.is_empty() {
        action.to_string()
    } else {
        format!("{action}?{query}")
    }
}

#[component]
pub fn GetForm(
    /// Where the form leads, e.g. `/catalog`.
    action: &'static str,
    children: Children,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_submit = move |ev: ev::SubmitEvent| {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let Ok(params) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data) else {
            return;
        };
        let encoded: String = params.to_string().into();
        ev.prevent_default();
        navigate(&clean_get_url(action, &encoded), Default::default());
    };
    view! {
        <form method="get" action=action on:submit=on_submit>
            {children()}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::clean_get_url;

    #[test]
    fn drops_blank_and_nameless_fields() {
        assert_eq!(
            clean_get_url(
                "/catalog",
                "kind=api&q=&=&type=a+b&owner=group%3Adefault%2Fx"
            ),
            "/catalog?kind=api&type=a%20b&owner=group:default/x"
        );
        assert_eq!(clean_get_url("/search", "q=+"), "/search");
    }
}
