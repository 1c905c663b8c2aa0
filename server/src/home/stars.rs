//! `POST /stars` (`entity`, `star` = `1` or `0`, `back`): the entity page's star button, a plain
//! form post that answers `303` back to the page it came from (`back`, a path on this site; the
//! entity's page otherwise). Only a signed-in browser session posts it, from this site. Starring
//! needs an entity the caller can read; unstarring does not (an entity that left the catalog
//! keeps its star until it is taken off).

use crate::http::caller::RequestCaller;
use crate::util::now_ms;
use crate::AppState;
use app::home::STAR_PATH;
use app::model::EntityRef;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route(STAR_PATH, post(star))
}

#[derive(Deserialize)]
struct StarForm {
    entity: String,
    star: String,
    #[serde(default)]
    back: Option<String>,
}

fn refused(status: StatusCode, message: &str) -> Response {
    (status, message.to_string()).into_response()
}

async fn star(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !crate::http::csrf::same_origin(
        &headers,
        crate::http::csrf::expected_origin(&state).as_deref(),
    ) {
        return crate::http::forms::cross_site();
    }
    let Some(user) = caller.user.as_ref().filter(|_| caller.is_session()) else {
        return refused(
            StatusCode::FORBIDDEN,
            "Sign in to star entities: stars are kept per signed-in user.",
        );
    };
    let form: StarForm = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                &format!("the form is incomplete: {e}"),
            )
        }
    };
    let Some(wanted) = EntityRef::from_ref_string(form.entity.trim()) else {
        return refused(
            StatusCode::BAD_REQUEST,
            &format!(
                "entity: \"{}\" is not an entity reference; expected kind:namespace/name",
                form.entity
            ),
        );
    };
    let store = state.catalog.store();
    let user = user.to_ref_string();
    let (result, entity) = match form.star.as_str() {
        "1" => {
            let found = {
                let v = state.facade().read(&caller);
                v.get(&wanted.kind, &wanted.namespace, &wanted.name)
                    .map(|r| r.entity_ref().clone())
            };
            let Some(entity) = found else {
                return refused(
                    StatusCode::NOT_FOUND,
                    &format!("no entity named {}", wanted.to_ref_string()),
                );
            };
            (
                store
                    .star(&user, &entity.to_ref_string(), now_ms())
                    .await
                    .map(|_| ()),
                entity,
            )
        }
        "0" => (
            store
                .unstar(&user, &wanted.to_ref_string())
                .await
                .map(|_| ()),
            wanted,
        ),
        other => {
            return refused(
                StatusCode::BAD_REQUEST,
                &format!("star: expected 1 or 0, got \"{other}\""),
            )
        }
    };
    if let Err(error) = result {
        tracing::error!(%error, "a star could not be written");
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "The star could not be saved; try again.",
        );
    }
    let back = form
        .back
        .as_deref()
        .and_then(|b| crate::api::auth::safe_redirect(Some(b)).ok())
        .unwrap_or_else(|| entity.href());
    Redirect::to(&back).into_response()
}
