//! `GET /observability/{namespace}/{kind}/{name}/stream?range=1h`: the entity page's signals as
//! server-sent events. The stream computes the signals once a step (through the shared cache,
//! so fifty open pages cost Prometheus what one does) and sends `update` when they differ from
//! what it last saw; the page's `LiveRegion` then fetches the page again and swaps in the
//! server's HTML for the signals card.

use super::signals::{range_seconds, SignalsViews};
use crate::api::ApiError;
use crate::http::caller::RequestCaller;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/observability/{namespace}/{kind}/{name}/stream",
        get(stream),
    )
}

#[derive(serde::Deserialize)]
struct RangeQuery {
    #[serde(default)]
    range: String,
}

/// How long until just after the next multiple of `step` seconds.
fn until_next_step(step: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let step_ms = step.max(1) * 1000;
    Duration::from_millis(step_ms - now % step_ms + 500)
}

async fn stream(
    State(s): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let views = SignalsViews {
        prom: s.prometheus.clone(),
        kube: s.kube.clone(),
        facade: s.facade(),
    };
    let (range, seconds) = range_seconds(&q.range);
    let Some(first) = views.entity(&caller, &kind, &namespace, &name, range).await else {
        return ApiError::not_found(format!("no entity {kind}:{namespace}/{name}")).into_response();
    };
    let step = s.prometheus.step(seconds);
    let stream = futures_util::stream::unfold((views, first), move |(views, last)| {
        let (caller, kind, namespace, name) = (
            caller.clone(),
            kind.clone(),
            namespace.clone(),
            name.clone(),
        );
        async move {
            loop {
                tokio::time::sleep(until_next_step(step)).await;
                let current = views
                    .entity(&caller, &kind, &namespace, &name, range)
                    .await?;
                if current != last {
                    let event = Event::default().event("update").data(range);
                    return Some((Ok::<_, Infallible>(event), (views, current)));
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
