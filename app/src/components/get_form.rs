//! A GET form that leads to a clean URL, and can submit itself when a box is ticked.
//!
//! Without JavaScript the browser submits it as usual. The island around it leaves blank fields
//! (`q=`) and nameless buttons out of the URL, submits a form marked `submit_on_change` as soon
//! as a checkbox or radio button changes, and folds `<details data-fold-below="800">` inside it
//! on screens narrower than that many pixels.

use crate::query::{encode_component, parse_query_string};
use leptos::ev;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

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

/// A GET form to `action`; see the module docs for what it does in the browser.
#[component]
pub fn GetForm(
    /// Where the form leads, e.g. `/catalog`.
    action: &'static str,
    /// Submit as soon as a checkbox or radio button changes.
    #[prop(optional)]
    submit_on_change: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <FormIsland>
            <form method="get" action=action data-submit-on-change=submit_on_change.then_some("true")>
                {children()}
            </form>
        </FormIsland>
    }
}

/// The browser side of [`GetForm`]: listens on a wrapper, so the form itself stays
/// server-rendered HTML (and the island has no properties to send).
#[island]
fn FormIsland(children: Children) -> impl IntoView {
    let root: NodeRef<leptos::html::Div> = NodeRef::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(root) = root.get() {
            fold_narrow(&root);
        }
    });
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
        let _ = window()
            .location()
            .assign(&clean_get_url(&form.action(), &encoded));
    };
    let on_change = move |ev: ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if !matches!(input.type_().as_str(), "checkbox" | "radio") {
            return;
        }
        if let Some(form) = input
            .form()
            .filter(|f| f.has_attribute("data-submit-on-change"))
        {
            let _ = form.request_submit();
        }
    };
    view! {
        <div class="get-form" node_ref=root on:submit=on_submit on:change=on_change>
            {children()}
        </div>
    }
}

/// Folds `details[data-fold-below]` inside `root` on screens narrower than its value.
#[cfg(feature = "hydrate")]
fn fold_narrow(root: &web_sys::Element) {
    let width = window()
        .inner_width()
        .ok()
        .and_then(|w| w.as_f64())
        .unwrap_or(f64::MAX);
    let Ok(folds) = root.query_selector_all("details[data-fold-below]") else {
        return;
    };
    for i in 0..folds.length() {
        let Some(el) = folds
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        let below = el
            .get_attribute("data-fold-below")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if width < below {
            let _ = el.remove_attribute("open");
        }
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
