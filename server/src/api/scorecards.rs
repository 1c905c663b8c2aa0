//! `GET /api/scorecards` (the scorecards in force, with their checks) and
//! `GET /api/scorecards/entities/{namespace}/{kind}/{name}` (each scorecard that applies to an
//! entity: the level reached, each check passed or failed with why and how to fix it). An
//! entity the caller may not read is not found, as in the catalog.

use super::ApiError;
use crate::http::caller::RequestCaller;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub async fn list(State(s): State<AppState>, RequestCaller(caller): RequestCaller) -> Response {
    let items = s.scorecards.list(&s.facade(), &caller);
    Json(json!({ "items": items })).into_response()
}

pub async fn entity(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Response {
    match s
        .scorecards
        .entity(&s.facade(), &caller, &kind, &namespace, &name)
    {
        Some(results) => Json(results).into_response(),
        None => ApiError::not_found(format!(
            "no entity named {}:{namespace}/{name}",
            kind.to_lowercase()
        ))
        .into_response(),
    }
}
