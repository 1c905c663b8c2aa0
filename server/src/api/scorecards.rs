//! `GET /api/scorecards` (the scorecards in force, with their checks),
//! `GET /api/scorecards/entities/{namespace}/{kind}/{name}` (each scorecard that applies to an
//! entity: the level reached, each check passed or failed with why and how to fix it) and
//! `GET /api/scorecards/{name}/entities?level=…` (the entities a scorecard applies to, filtered
//! by level, with the count at each: the catalog table's facet, from the stored results). An
//! entity the caller may not read is not found, as in the catalog.

use super::ApiError;
use crate::http::caller::RequestCaller;
use crate::scorecards::levels::EntitiesError;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
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

pub async fn by_level(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let levels: Vec<String> = app::query::parse_query_string(query.as_deref().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| k == "level")
        .map(|(_, v)| v)
        .collect();
    match s.scorecards.entities(&s.facade(), &caller, &name, &levels) {
        Ok(answer) => Json(answer).into_response(),
        Err(e @ EntitiesError::NoScorecard(_)) => {
            ApiError::not_found(e.to_string()).into_response()
        }
        Err(e @ EntitiesError::UnknownLevel { .. }) => {
            ApiError::bad_request(e.to_string()).into_response()
        }
    }
}
