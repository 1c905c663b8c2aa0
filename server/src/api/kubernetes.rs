//! Deployment health over HTTP: the views as JSON, and the same views as server-sent events
//! (`…/stream`) that send the view at once and again whenever it changes, at most every 100 ms.

use super::ApiError;
use crate::http::caller::RequestCaller;
use crate::http::guarded;
use crate::k8s::KubeService;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// Least time between two updates of one stream: a burst of changes becomes one update.
const COALESCE: Duration = Duration::from_millis(100);

fn json<T: Serialize>(view: Option<T>, what: impl FnOnce() -> String) -> Response {
    match view {
        Some(v) => Json(v).into_response(),
        None => ApiError::not_found(what()).into_response(),
    }
}

/// The view as events: one now, then one per change of what it shows.
fn live<T, F>(kube: Arc<KubeService>, view: F) -> Response
where
    T: Serialize + PartialEq + Send + 'static,
    F: Fn(&KubeService) -> Option<T> + Send + 'static,
{
    let rx = kube.subscribe();
    let stream = futures_util::stream::unfold(
        (kube, view, rx, None::<T>, true),
        |(kube, view, mut rx, last, first)| async move {
            let mut first = first;
            loop {
                if kube.is_closing() {
                    return None;
                }
                if !first {
                    rx.changed().await.ok()?;
                    if kube.is_closing() {
                        return None;
                    }
                    tokio::time::sleep(COALESCE).await;
                    rx.borrow_and_update();
                }
                first = false;
                let current = view(&kube)?;
                if last.as_ref() != Some(&current) {
                    let event = Event::default()
                        .event("update")
                        .json_data(&current)
                        .unwrap_or_else(|_| Event::default().event("error"));
                    return Some((
                        Ok::<_, Infallible>(event),
                        (kube, view, rx, Some(current), false),
                    ));
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

pub async fn clusters(State(s): State<AppState>, RequestCaller(caller): RequestCaller) -> Response {
    Json(guarded::overview(&s.facade(), &caller, &s.kube)).into_response()
}

pub async fn clusters_stream(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
) -> Response {
    let facade = s.facade();
    live(s.kube.clone(), move |k| {
        Some(guarded::overview(&facade, &caller, k))
    })
}

pub async fn cluster(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
) -> Response {
    json(
        guarded::cluster(&s.facade(), &caller, &s.kube, &name),
        || format!("no cluster named {name}"),
    )
}

pub async fn cluster_stream(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
) -> Response {
    let facade = s.facade();
    if guarded::cluster(&facade, &caller, &s.kube, &name).is_none() {
        return ApiError::not_found(format!("no cluster named {name}")).into_response();
    }
    live(s.kube.clone(), move |k| {
        guarded::cluster(&facade, &caller, k, &name)
    })
}

pub async fn entity(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Response {
    let view = guarded::may_read_kubernetes(&s.facade(), &caller, &kind, &namespace, &name)
        .then(|| s.kube.entity_view(&kind, &namespace, &name))
        .flatten();
    json(view, || format!("no entity {kind}:{namespace}/{name}"))
}

pub async fn entity_stream(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Response {
    if !guarded::may_read_kubernetes(&s.facade(), &caller, &kind, &namespace, &name)
        || s.kube.entity_view(&kind, &namespace, &name).is_none()
    {
        return ApiError::not_found(format!("no entity {kind}:{namespace}/{name}")).into_response();
    }
    live(s.kube.clone(), move |k| {
        k.entity_view(&kind, &namespace, &name)
    })
}

pub async fn group(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    json(
        guarded::team_view(&s.facade(), &caller, &s.kube, &namespace, &name),
        || format!("no group {namespace}/{name}"),
    )
}

pub async fn group_stream(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    let facade = s.facade();
    if guarded::team_view(&facade, &caller, &s.kube, &namespace, &name).is_none() {
        return ApiError::not_found(format!("no group {namespace}/{name}")).into_response();
    }
    live(s.kube.clone(), move |k| {
        guarded::team_view(&facade, &caller, k, &namespace, &name)
    })
}
