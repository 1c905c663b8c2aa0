//! `GET /api/observability/entities/{namespace}/{kind}/{name}`: an entity's links made from the
//! `observability.links` templates, its own and per environment, as the caller may see them.

use super::ApiError;
use crate::http::caller::RequestCaller;
use crate::AppState;
use axum::extract::{Path, State};
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
        None => ApiError::not_found(format!(
            "no entity named {}:{namespace}/{name}",
            kind.to_lowercase()
        ))
        .into_response(),
    }
}
