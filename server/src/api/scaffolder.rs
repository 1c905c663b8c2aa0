//! The scaffolder's REST API in Backstage's shapes (`/api/scaffolder/v2/…`), so its CLI and
//! clients work: the actions with their schemas, a template's parameter schema, and the
//! dry-run (a template with its files and values run without effects: the files it would
//! write, its log and output). Tasks come next.

use super::ApiError;
use crate::http::caller::RequestCaller;
use crate::policy::{Permission, Resource};
use crate::scaffolder::actions::Actions;
use crate::scaffolder::dry_run::DryRunError;
use crate::scaffolder::run::RunError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The most a dry-run body may carry (its files are inline, base64).
pub const MAX_DRY_RUN_BODY: usize = 16 * 1024 * 1024;

/// `GET /api/scaffolder/v2/actions`: every action, `[{id, description, schema: {input, output}}]`.
pub async fn actions() -> Json<Value> {
    Json(Actions::built_in().describe())
}

/// `GET /api/scaffolder/v2/templates/{namespace}/{kind}/{name}/parameter-schema`:
/// `{title, description, steps: [{title, description, schema}]}` of a Template the caller may
/// read.
pub async fn parameter_schema(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    if !kind.eq_ignore_ascii_case("template") {
        return Err(ApiError::not_found(format!(
            "no template {kind}:{namespace}/{name}: the kind must be template"
        )));
    }
    let facade = state.facade();
    facade.authorize(&caller, Permission::ScaffolderTemplateRead, &Resource::None)?;
    let reference = format!("template:{namespace}/{name}");
    let visible = facade.read(&caller);
    let template = visible
        .get("template", &namespace, &name)
        .map(|r| visible.value(r))
        .ok_or_else(|| ApiError::not_found(format!("no template {reference}")))?;
    let pages = app::scaffolder::Pages::from_template(&template)
        .map_err(|e| ApiError::bad_request(format!("{reference}: spec.parameters: {e}")))?;
    let steps: Vec<Value> = pages
        .pages
        .iter()
        .map(|p| {
            json!({
                "title": p.title.clone().unwrap_or_else(|| "Please enter the following information".into()),
                "description": p.description,
                "schema": p.schema,
            })
        })
        .collect();
    Ok(Json(json!({
        "title": template["metadata"]["title"].as_str().unwrap_or_else(|| template["metadata"]["name"].as_str().unwrap_or_default()),
        "description": template["metadata"]["description"],
        "steps": steps,
    })))
}

/// A dry-run request, as Backstage's.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunRequest {
    template: Value,
    #[serde(default)]
    values: Map<String, Value>,
    #[serde(default)]
    secrets: Map<String, Value>,
    #[serde(default)]
    directory_contents: Vec<DryRunFile>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunFile {
    path: String,
    base64_content: String,
}

/// `POST /api/scaffolder/v2/dry-run`: runs the template's steps on its uploaded files without
/// effects (actions that would reach outside are skipped, as Backstage skips them) and answers
/// `{log: [{body}], directoryContents: [{path, executable, base64Content}], output, steps}`.
/// Needs `scaffolder.template.read`; invalid values are a 400 naming each field.
pub async fn dry_run(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    body: Result<Json<DryRunRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    state
        .facade()
        .authorize(&caller, Permission::ScaffolderTemplateRead, &Resource::None)?;
    let Json(req) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut files = Vec::new();
    for f in req.directory_contents {
        let contents = base64::engine::general_purpose::STANDARD
            .decode(f.base64_content.as_bytes())
            .map_err(|e| {
                ApiError::bad_request(format!("directoryContents: {}: not base64: {e}", f.path))
            })?;
        files.push((f.path, contents));
    }
    let user = match &caller.user {
        Some(u) => json!({"ref": u.to_ref_string()}),
        None => json!({}),
    };
    let outcome = match crate::scaffolder::dry_run::dry_run(
        &req.template,
        req.values,
        &req.secrets,
        files,
        user,
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(DryRunError::Invalid(problems)) => {
            let errors: Vec<Value> = problems
                .iter()
                .map(|p| json!({"name": "InputError", "message": format!("{}: {}", p.field, p.message), "field": p.field}))
                .collect();
            return Ok((StatusCode::BAD_REQUEST, Json(json!({"errors": errors}))).into_response());
        }
        Err(e @ DryRunError::Run(RunError::UnknownAction(_))) => {
            return Err(ApiError::not_found(e.to_string()))
        }
        Err(e @ DryRunError::Run(RunError::BadStep { .. })) => {
            return Err(ApiError::bad_request(format!("template.spec.steps: {e}")))
        }
        Err(e) => return Err(ApiError::bad_request(e.to_string())),
    };
    let directory_contents: Vec<Value> = outcome
        .workspace
        .files()
        .iter()
        .map(|(path, f)| {
            json!({
                "path": path,
                "executable": f.executable,
                "base64Content": base64::engine::general_purpose::STANDARD.encode(&f.contents),
            })
        })
        .collect();
    Ok(Json(json!({
        "log": outcome.log.iter().map(|l| json!({"body": l})).collect::<Vec<_>>(),
        "directoryContents": directory_contents,
        "output": outcome.output,
        "steps": outcome.steps,
    }))
    .into_response())
}
#[cfg(test)]
mod tests;
