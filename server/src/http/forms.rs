//! What the UI's plain HTML forms post to, and the HTML fragments its islands ask for.
//!
//! - `POST /locations/register` and `POST /locations/refresh` (the Locations page): do the work
//!   through the catalog's facade, then answer `303 See Other` back to `/locations` with what
//!   happened in the query (`registered=1`, `refreshed=<id>` or `error=<message>`), so a reload
//!   never posts again and the page reads the same with and without JavaScript.
//! - `GET /search/suggest?q=…` (the search box island): the suggestions as server-rendered list
//!   items.
//!
//! Posts from another site are refused (`http::csrf::same_origin`, the check every
//! cookie-carrying post passes too), so a page elsewhere cannot register locations in a
//! visitor's name, even a guest's.

use super::caller::RequestCaller;
use crate::AppState;
use app::components::search_box::{SuggestionItems, SUGGESTIONS, SUGGEST_PATH};
use app::error::AppError;
use app::model::ImportRequest;
use app::pages::locations::{locations_href, REFRESH_PATH, REGISTER_PATH};
use app::query::encode_component;
use app::services::{CatalogReader, LocationAdmin};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(REGISTER_PATH, post(register))
        .route(REFRESH_PATH, post(refresh))
        .route(SUGGEST_PATH, get(suggest))
}

/// Longest error message carried back in the redirect's URL.
const MAX_MESSAGE: usize = 600;

/// The answer to a form posted from another site (every form's post refuses it the same way).
pub(crate) fn cross_site() -> Response {
    (
        StatusCode::FORBIDDEN,
        "Refused: this form was posted from another site.",
    )
        .into_response()
}

/// `&error=<message>` for a redirect, the message shortened to fit a URL.
fn error_param(e: &AppError) -> String {
    let mut message = e.to_string();
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    format!("&error={}", encode_component(&message))
}

/// Back to the Locations page, saying what went wrong.
fn back_with(e: &AppError) -> Response {
    Redirect::to(&format!("/locations?{}", &error_param(e)[1..])).into_response()
}

/// Why a post was not taken.
enum Refused {
    CrossSite,
    Incomplete(String),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::CrossSite => cross_site(),
            Refused::Incomplete(why) => {
                back_with(&AppError::invalid(format!("the form is incomplete: {why}")))
            }
        }
    }
}

/// The fields of a form posted from this site.
fn posted<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, Refused> {
    if !super::csrf::same_origin(headers, super::csrf::expected_origin(state).as_deref()) {
        return Err(Refused::CrossSite);
    }
    serde_urlencoded::from_bytes(body).map_err(|e| Refused::Incomplete(e.to_string()))
}

#[derive(Deserialize)]
struct RegisterForm {
    location_type: String,
    target: String,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: RegisterForm = match posted(&state, &headers, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let request = ImportRequest {
        location_type: form.location_type.trim().to_string(),
        target: form.target.trim().to_string(),
        branch: blank(form.branch),
        path: blank(form.path),
    };
    let admin = crate::catalog::admin::Admin(state.facade());
    let to = match admin.import(caller, request.clone(), false).await {
        Ok(_) => locations_href(&request, "&registered=1"),
        Err(e) => locations_href(&request, &error_param(&e)),
    };
    Redirect::to(&to).into_response()
}

#[derive(Deserialize)]
struct RefreshForm {
    id: String,
}

async fn refresh(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let RefreshForm { id } = match posted(&state, &headers, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    let admin = crate::catalog::admin::Admin(state.facade());
    let to = match admin.refresh(caller, id.clone()).await {
        Ok(_) => format!("/locations?refreshed={}", encode_component(&id)),
        Err(e) => return back_with(&e),
    };
    Redirect::to(&to).into_response()
}

#[derive(Deserialize)]
struct SuggestQuery {
    #[serde(default)]
    q: String,
}

async fn suggest(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(SuggestQuery { q }): Query<SuggestQuery>,
) -> Response {
    let text = q.trim();
    let hits = if text.is_empty() {
        Vec::new()
    } else {
        crate::catalog::views::Reader::new(state.facade()).search(&caller, text, SUGGESTIONS)
    };
    let html = Owner::new().with(|| view! { <SuggestionItems hits/> }.to_html());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        html,
    )
        .into_response()
}
