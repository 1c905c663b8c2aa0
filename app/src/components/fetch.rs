//! How islands ask the server: a GET whose answer is HTML, or a form posted for a text answer;
//! `None` when the server could not be reached or did not answer 2xx (the island then keeps
//! what it shows).

/// The text of `url`'s answer.
#[cfg(feature = "hydrate")]
pub async fn text(url: &str) -> Option<String> {
    answer_text(leptos::prelude::window().fetch_with_str(url)).await
}

/// The text of the answer to form parameters posted to `url` (the browser sends them as
/// `application/x-www-form-urlencoded`).
#[cfg(feature = "hydrate")]
pub async fn post_form(url: &str, form: &leptos::web_sys::UrlSearchParams) -> Option<String> {
    let init = leptos::web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(form);
    answer_text(leptos::prelude::window().fetch_with_str_and_init(url, &init)).await
}

/// The body of a fetch's answer as text, when it is a 2xx.
#[cfg(feature = "hydrate")]
async fn answer_text(fetch: leptos::web_sys::js_sys::Promise) -> Option<String> {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys;
    use wasm_bindgen_futures::JsFuture;
    let response: web_sys::Response = JsFuture::from(fetch).await.ok()?.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}

/// On the server islands never fetch.
#[cfg(not(feature = "hydrate"))]
pub async fn text(_url: &str) -> Option<String> {
    None
}
