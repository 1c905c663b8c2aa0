//! A dry-run, as Backstage's: a Template entity (as JSON), its values, secrets and files run
//! without effects. The values are checked against the template's parameters (only the pages
//! shown count, and the values of hidden pages are dropped, as Backstage drops them), then the steps run in
//! memory ([`super::run`]) over the actions the server runs, skipping those that cannot dry-run
//! (they reach outside: publishing, the catalog; a dry-run has no task context for them).
//! Nothing is stored. [`dry_run`] is the API's (a failed step is an error); [`run_dry`] gives
//! the whole outcome, a failed step with the log and files so far, for the pages' previews.

use super::actions::{Actions, TemplateFiles};
use super::run::{run, RunError, RunInput, RunOutcome};
use super::Renderer;
use app::error::FieldError;
use serde_json::{Map, Value};

/// The `templateInfo.entityRef` of every dry-run, as Backstage names it.
pub const DRY_RUN_REF: &str = "template:default/dry-run";

/// Why a dry-run gave no files.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    /// The values do not satisfy the parameters: one error per field.
    #[error("the values do not satisfy the template's parameters")]
    Invalid(Vec<FieldError>),
    /// Not a v1beta3 Template, or a part of it is malformed (named).
    #[error("{0}")]
    BadTemplate(String),
    #[error(transparent)]
    Run(#[from] RunError),
    /// A step failed: its id and why.
    #[error("step {0} failed: {1}")]
    StepFailed(String, String),
}

/// Runs `template` with `values` over `files` (paths relative to the template's folder).
/// `user` is `{ref}` of the caller (`{}` for the guest); `actions` those the server runs.
pub async fn dry_run(
    template: &Value,
    values: Map<String, Value>,
    secrets: &Map<String, Value>,
    files: Vec<(String, Vec<u8>)>,
    user: Value,
    actions: &Actions,
) -> Result<RunOutcome, DryRunError> {
    let files = TemplateFiles::new(files)
        .map_err(|e| DryRunError::BadTemplate(format!("directoryContents: {e}")))?;
    let outcome = run_dry(
        DryRun {
            template,
            values,
            secrets: secrets.clone(),
            files: &files,
            user,
            template_ref: DRY_RUN_REF,
            secret_fields: false,
        },
        actions,
    )
    .await?;
    if let Some((step, error)) = &outcome.failed {
        return Err(DryRunError::StepFailed(step.clone(), error.clone()));
    }
    Ok(outcome)
}

/// One dry-run's input.
pub struct DryRun<'a> {
    pub template: &'a Value,
    /// Every value entered (secret fields too when [`DryRun::secret_fields`]).
    pub values: Map<String, Value>,
    pub secrets: Map<String, Value>,
    pub files: &'a TemplateFiles,
    pub user: Value,
    /// `templateInfo.entityRef`.
    pub template_ref: &'a str,
    /// The values of `ui:field: Secret` fields are moved to `secrets` (as a task's are), so the
    /// log shows them as `***`.
    pub secret_fields: bool,
}

/// Runs a dry-run to its end: a step that failed is in [`RunOutcome::failed`], with the log
/// and files so far.
pub async fn run_dry(input: DryRun<'_>, actions: &Actions) -> Result<RunOutcome, DryRunError> {
    let template = input.template;
    if template["apiVersion"] != "scaffolder.backstage.io/v1beta3" || template["kind"] != "Template"
    {
        return Err(DryRunError::BadTemplate(
            "template: must be a Template of apiVersion scaffolder.backstage.io/v1beta3".into(),
        ));
    }
    let steps = match template["spec"].get("steps") {
        Some(Value::Array(steps)) => steps.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => {
            return Err(DryRunError::BadTemplate(
                "template.spec.steps: must be a list".into(),
            ))
        }
    };
    let pages = app::scaffolder::Pages::from_template(template)
        .map_err(|e| DryRunError::BadTemplate(format!("template.spec.parameters: {e}")))?;
    let context = app::scaffolder::Context::default();
    let values = Value::Object(input.values);
    let problems = pages.validate(&values, &context);
    if !problems.is_empty() {
        return Err(DryRunError::Invalid(problems));
    }
    let mut values = pages.without_hidden_pages(&values, &context);
    let mut secrets = input.secrets;
    if input.secret_fields {
        let (parameters, secret_fields) = app::scaffolder::split_secrets(&pages, &values, &context);
        values = parameters;
        for (name, value) in secret_fields {
            secrets.entry(name).or_insert(value);
        }
    }
    let masked = super::provenance::masked_paths(&template["spec"]["parameters"]);
    let files = input
        .files
        .clone()
        .with_values(Some(super::provenance::recorded_values(&values, &masked)));
    let outcome = run(
        RunInput {
            steps,
            output: template["spec"].get("output"),
            parameters: &values,
            secrets: &secrets,
            user: input.user,
            template: &files,
            template_ref: input.template_ref,
            dry_run: true,
            task: None,
            resume: None,
        },
        actions,
        &Renderer::new(),
    )
    .await?;
    Ok(outcome)
}
