//! `GET /api/audit`: the audit log, newest first, filtered and keyset-paginated. Needs
//! `audit.read` (a refusal is a 403 naming the rule, and is itself recorded); a bad parameter is
//! a 400 naming it.

use super::ApiError;
use crate::audit::query::{self, AuditError, Strictness};
use crate::audit::views::authorize_read;
use crate::audit::Action;
use crate::http::caller::RequestCaller;
use crate::policy::Permission;
use crate::AppState;
use app::audit::AuditQuery;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> ApiError {
        app::error::AppError::from(e).into()
    }
}

/// The parameters, each at most once.
fn parse(raw: Option<String>) -> Result<AuditQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&raw.unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    let mut q = AuditQuery::default();
    for (key, value) in pairs {
        let slot = match key.as_str() {
            "actor" => &mut q.actor,
            "action" => &mut q.action,
            "outcome" => &mut q.outcome,
            "target" => &mut q.target,
            "since" => &mut q.since,
            "until" => &mut q.until,
            "limit" => &mut q.limit,
            "cursor" => &mut q.cursor,
            _ => continue,
        };
        if slot.is_some() {
            return Err(ApiError::bad_request(format!(
                "{key}: takes one value; it was given more than once"
            )));
        }
        *slot = Some(value);
    }
    Ok(q)
}

/// `GET /api/audit?actor=&action=&outcome=&target=&since=&until=&limit=&cursor=`:
/// `{"items": […], "nextCursor": "…"}`.
pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize_read(
        &state.facade(),
        &state.audit,
        &caller,
        Permission::AuditRead,
        Action::AuditRead,
    )?;
    let q = parse(raw)?;
    let filter = query::filter(&q, Strictness::Api)?;
    let page = query::page(state.catalog.store(), &filter).await?;
    Ok(Json(page).into_response())
}
