//! How islands ask the server for HTML: a GET whose body is the answer's text (`None` when the
//! server could not be reached or did not answer 2xx; the island then keeps what it shows).

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

/// On the server islands never fetch.
#[cfg(not(feature = "hydrate"))]
pub async fn text(_url: &str) -> Option<String> {
    None
}
