//! `GET /api/observability/entities/{namespace}/{kind}/{name}`: an entity's links made from the
//! `observability.links` templates, its own and per environment, as the caller may see them;
//! `…/signals?range=1h`: its golden signals (each with its series) and active alerts, with the
//! same numbers and stale reasons its page shows.

use super::ApiError;
use crate::http::caller::RequestCaller;
use crate::AppState;
use app::observability::SIGNAL_RANGES;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

pub async fn entity(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Response {
    match s
        .observability_views()
        .entity_links(&caller, &kind, &namespace, &name)
    {
        Some(links) => Json(links).into_response(),
        None => not_found(&kind, &namespace, &name).into_response(),
    }
}

fn not_found(kind: &str, namespace: &str, name: &str) -> ApiError {
    ApiError::not_found(format!(
        "no entity named {}:{namespace}/{name}",
        kind.to_lowercase()
    ))
}

/// `range` from the query string: one of [`SIGNAL_RANGES`], `1h` when absent.
fn range(raw: Option<String>) -> Result<String, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&raw.unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    let mut ranges = pairs.into_iter().filter(|(k, _)| k == "range");
    let Some((_, value)) = ranges.next() else {
        return Ok(SIGNAL_RANGES[0].0.to_string());
    };
    if ranges.next().is_some() {
        return Err(ApiError::bad_request(
            "range: takes one value; it was given more than once",
        ));
    }
    if !SIGNAL_RANGES.iter().any(|(r, _)| *r == value) {
        let known: Vec<&str> = SIGNAL_RANGES.iter().map(|(r, _)| *r).collect();
        return Err(ApiError::bad_request(format!(
            "range: expected one of {}, got {value:?}",
            known.join(", ")
        )));
    }
    Ok(value)
}

pub async fn signals(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let range = range(raw)?;
    let answer = s
        .signals_views()
        .entity_series(&caller, &kind, &namespace, &name, &range)
        .await
        .ok_or_else(|| not_found(&kind, &namespace, &name))?;
    Ok(Json(answer).into_response())
}
