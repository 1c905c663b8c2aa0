//! Compatibility tests against fixtures recorded from the real Backstage scaffolder
//! (`testdata/<case>/expected.json`, written by `testdata/record.py`; the oracle is not needed
//! here). Each case's steps run as a dry-run does: every input rendered with JSON coercion
//! against `{parameters, steps}`, `fetch:template` rendering its skeleton into the workspace;
//! then the template's `output`. The rendered inputs, the workspace's files and the output
//! must equal Backstage's exactly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};

use super::{Renderer, SkeletonFile, SkeletonOptions};

/// Files written by actions other than `fetch:template` (not this module's business).
const OTHER_ACTIONS_PREFIX: &str = "written-by-catalog-write/";

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/scaffolder/testdata")
        .join(case)
}

fn read_skeleton(root: &Path) -> Vec<SkeletonFile> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("skeleton dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(SkeletonFile {
                    path: rel,
                    contents: std::fs::read(&path).expect("file"),
                    executable: false,
                });
            }
        }
    }
    files
}

fn file_entry(contents: &[u8]) -> Value {
    match std::str::from_utf8(contents) {
        Ok(text) => json!({ "text": text }),
        Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(contents) }),
    }
}

fn run_case(case: &str) {
    let dir = case_dir(case);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("expected json");
    assert_eq!(
        expected["status"], 200,
        "{case}: recorded as a failure: {}",
        expected["error"]
    );
    let template: Value = yaml_serde::from_str(
        &std::fs::read_to_string(dir.join("template.yaml")).expect("template"),
    )
    .expect("yaml");
    let values: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("values.json")).expect("values"))
            .expect("values json");

    let renderer = Renderer::new();
    let ctx = json!({ "parameters": values, "steps": {} });
    let mut workspace: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for step in template["spec"]["steps"].as_array().expect("steps") {
        let id = step["id"].as_str().expect("id");
        let input = renderer
            .render_value(step.get("input").unwrap_or(&json!({})), &ctx)
            .unwrap_or_else(|| json!({}));
        assert_eq!(
            input, expected["inputs"][id],
            "{case}: the input of step {id}"
        );
        if step["action"] == "fetch:template" {
            let mut options = SkeletonOptions::from_input(&input).expect("fetch:template input");
            options.existing = workspace.keys().cloned().collect();
            let url = input["url"].as_str().expect("url").trim_start_matches("./");
            let files = read_skeleton(&dir.join(url));
            for file in renderer
                .render_skeleton(&files, &options)
                .expect("skeleton renders")
            {
                workspace.insert(file.path, file.contents);
            }
        }
    }
    let files: BTreeMap<String, Value> = workspace
        .iter()
        .map(|(p, c)| (p.clone(), file_entry(c)))
        .collect();
    let expected_files: BTreeMap<String, Value> = expected["files"]
        .as_object()
        .expect("files")
        .iter()
        .filter(|(p, _)| !p.starts_with(OTHER_ACTIONS_PREFIX))
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        expected_files.keys().collect::<Vec<_>>(),
        "{case}: the workspace's paths"
    );
    for (path, entry) in &expected_files {
        assert_eq!(&files[path], entry, "{case}: the contents of {path}");
    }
    let output = template["spec"]
        .get("output")
        .and_then(|o| renderer.render_value(o, &ctx))
        .unwrap_or_else(|| json!({}));
    assert_eq!(output, expected["output"], "{case}: the output");
}

#[test]
fn printing_matches_backstage() {
    run_case("printing");
}

#[test]
fn filters_match_backstage() {
    run_case("filters");
}

#[test]
fn step_inputs_and_output_match_backstage() {
    run_case("values");
}

#[test]
fn paths_and_copy_without_templating_match_backstage() {
    run_case("paths");
}

#[test]
fn template_file_extension_and_target_path_match_backstage() {
    run_case("extension");
}

#[test]
fn cookiecutter_compat_matches_backstage() {
    run_case("cookiecutter");
}

/// Backstage's `+` is JavaScript's: `undefined + "/"` is `"undefined/"`. minijinja refuses to
/// add undefined and a string, so the value keeps its raw text (a render error in a step input
/// is swallowed). A known difference until `+` gets JavaScript semantics.
#[test]
#[ignore = "known difference: JavaScript's `undefined + string` concatenation"]
fn javascript_concatenation_of_undefined_matches_backstage() {
    run_case("js-concat");
}

/// The template's folder as the dry-run uploads it (everything but the recorded answer and the
/// values).
fn template_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    read_skeleton(dir)
        .into_iter()
        .filter(|f| f.path != "expected.json" && f.path != "values.json")
        .map(|f| (f.path, f.contents))
        .collect()
}

/// A recorded case run whole by the step runner, as a dry-run: every step's logged input, the
/// workspace and the output equal Backstage's.
async fn dry_run_case(case: &str) {
    let dir = case_dir(case);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("expected json");
    let template: Value = yaml_serde::from_str(
        &std::fs::read_to_string(dir.join("template.yaml")).expect("template"),
    )
    .expect("yaml");
    let values: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("values.json")).expect("values"))
            .expect("values json");
    let files = template_files(&dir);
    let values = values.as_object().cloned().unwrap_or_default();
    let outcome = super::dry_run::dry_run(
        &template,
        values,
        &serde_json::Map::new(),
        files,
        json!({}),
        &super::actions::Actions::built_in(),
    )
    .await
    .unwrap_or_else(|e| panic!("{case}: {e}"));
    let prefix = "dry-run mode with inputs (secrets redacted): ";
    let inputs: serde_json::Map<String, Value> = outcome
        .log
        .iter()
        .filter_map(|l| {
            let at = l.message.find(prefix)?;
            let input = serde_json::from_str(&l.message[at + prefix.len()..]).expect("input json");
            Some((l.step_id.clone().expect("step id"), input))
        })
        .collect();
    assert_eq!(
        Value::Object(inputs),
        expected["inputs"],
        "{case}: the inputs"
    );
    let files: BTreeMap<String, Value> = outcome
        .workspace
        .files()
        .iter()
        .filter(|(p, _)| !p.starts_with(OTHER_ACTIONS_PREFIX))
        .map(|(p, f)| (p.clone(), file_entry(&f.contents)))
        .collect();
    let expected_files: BTreeMap<String, Value> = expected["files"]
        .as_object()
        .expect("files")
        .iter()
        .filter(|(p, _)| !p.starts_with(OTHER_ACTIONS_PREFIX))
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect();
    assert_eq!(files, expected_files, "{case}: the workspace");
    assert_eq!(outcome.output, expected["output"], "{case}: the output");
}

#[tokio::test]
async fn steps_if_each_rename_delete_and_output_match_backstage() {
    dry_run_case("steps").await;
}

#[tokio::test]
async fn every_recorded_case_runs_whole_as_backstage_ran_it() {
    for case in [
        "printing",
        "filters",
        "values",
        "paths",
        "extension",
        "cookiecutter",
    ] {
        dry_run_case(case).await;
    }
}

#[tokio::test]
async fn a_failing_step_ends_the_run_and_names_itself() {
    use super::actions::{Actions, TemplateFiles};
    use super::run::{run, RunError, RunInput};
    let steps = vec![
        json!({"id": "a", "action": "debug:log", "input": {"message": "token ${{ secrets.token }}"}}),
        json!({"id": "b", "action": "fs:rename", "input": {"files": [{"from": "nothing", "to": "x"}]}}),
        json!({"id": "c", "action": "debug:log", "input": {"message": "never"}}),
    ];
    let secrets: serde_json::Map<String, Value> = [("token".to_string(), json!("s3cret"))]
        .into_iter()
        .collect();
    let outcome = run(
        RunInput {
            steps: &steps,
            output: Some(&json!({"text": [{"title": "t", "content": "x"}]})),
            parameters: &json!({}),
            secrets: &secrets,
            user: json!({}),
            template: &TemplateFiles::default(),
            template_ref: "template:default/t",
            dry_run: false,
            task: None,
            resume: None,
        },
        &Actions::built_in(),
        &Renderer::new(),
    )
    .await
    .expect("runs");
    assert_eq!(
        outcome.failed,
        Some((
            "b".to_string(),
            "from: \"nothing\" does not exist".to_string()
        ))
    );
    assert_eq!(outcome.output, json!({}));
    let text = serde_json::to_string(&outcome.log).expect("json");
    assert!(
        text.contains("token ***") && !text.contains("s3cret"),
        "{text}"
    );
    assert!(!text.contains("never"), "{text}");
    let last = outcome.log.last().expect("a line");
    assert_eq!(last.status.as_deref(), Some("failed"));
    // An unknown action refuses the run before any step.
    let err = run(
        RunInput {
            steps: &[json!({"action": "publish:nowhere"})],
            output: None,
            parameters: &json!({}),
            secrets: &serde_json::Map::new(),
            user: json!({}),
            template: &TemplateFiles::default(),
            template_ref: "template:default/t",
            dry_run: true,
            task: None,
            resume: None,
        },
        &Actions::built_in(),
        &Renderer::new(),
    )
    .await
    .expect_err("unknown action");
    assert_eq!(err, RunError::UnknownAction("publish:nowhere".into()));
}

#[tokio::test]
async fn a_watched_run_sends_its_lines_as_written_and_stops_when_told() {
    use super::actions::{Actions, TemplateFiles};
    use super::run::{run_with, RunControl, RunInput};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let steps = vec![
        json!({"id": "a", "action": "debug:log", "input": {"message": "one"}}),
        json!({"id": "b", "action": "debug:log", "input": {"message": "two"}}),
    ];
    let (output, parameters) = (json!({"x": 1}), json!({}));
    let (secrets, template) = (serde_json::Map::new(), TemplateFiles::default());
    let input = || RunInput {
        steps: &steps,
        output: Some(&output),
        parameters: &parameters,
        secrets: &secrets,
        user: json!({}),
        template: &template,
        template_ref: "template:default/t",
        dry_run: false,
        task: None,
        resume: None,
    };

    // Every line reaches the watcher, in the log's order.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let control = RunControl {
        lines: Some(tx),
        cancel: Some(Arc::new(AtomicBool::new(false))),
        checkpoints: None,
    };
    let outcome = run_with(input(), &Actions::built_in(), &Renderer::new(), control)
        .await
        .expect("runs");
    let mut sent = Vec::new();
    while let Ok(line) = rx.try_recv() {
        sent.push(line);
    }
    // The start, then per step: its beginning, its input, its message, its end.
    assert_eq!(sent.len(), 9, "{sent:#?}");
    assert_eq!(sent, outcome.log);
    assert_eq!((outcome.cancelled, outcome.output), (None, json!({"x": 1})));

    // Told to stop: the run ends before its next step, without output.
    let control = RunControl {
        lines: None,
        cancel: Some(Arc::new(AtomicBool::new(true))),
        checkpoints: None,
    };
    let stopped = run_with(input(), &Actions::built_in(), &Renderer::new(), control)
        .await
        .expect("runs");
    assert_eq!(stopped.cancelled.as_deref(), Some("a"));
    assert_eq!(stopped.output, json!({}));
    assert!(stopped.log.iter().all(|l| l.step_id.is_none()));
}
