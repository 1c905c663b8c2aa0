//! How islands ask the server: a GET whose answer is HTML, or a form posted for a text answer;
//! `None` when the server could not be reached or did not answer 2xx (the island then keeps
//! what it shows).

/// The text of `url`'s answer.
#[cfg(feature = "hydrate")]
pub async fn text(url: &str) -> Option<String> {
    use leptos::prelude::window;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys;
    use wasm_bindgen_futures::JsFuture;
    let response: web_sys::Response = JsFuture::from(window().fetch_with_str(url))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    if !response.ok() {
        return None;
    }
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}

/// The text of the answer to a form (`application/x-www-form-urlencoded` `body`) posted to
/// `url`.
#[cfg(feature = "hydrate")]
pub async fn post_form(url: &str, body: &str) -> Option<String> {
    use leptos::prelude::window;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys;
    use wasm_bindgen_futures::JsFuture;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    // Form parameters as the body: the browser sends them with their content type.
    let params = web_sys::UrlSearchParams::new_with_str(body).ok()?;
    init.set_body(&params);
    let response: web_sys::Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
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
