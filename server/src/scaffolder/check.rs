//! What `backlot validate` says about a Template beyond its schema: parameters that are not
//! JSON Schema pages, steps without an action or with one this server does not have, duplicate
//! step ids, expressions that do not parse, and `steps['x']` / `steps.x` references to a step
//! that does not exist or comes later. Each problem names its field (`spec.steps[2].input.url`).

use super::actions::Actions;
use super::Renderer;
use serde_json::Value;
use std::collections::HashSet;

/// One problem: the field's dotted path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    pub field: String,
    pub message: String,
}

/// Every problem of a `scaffolder.backstage.io/v1beta3` Template entity.
pub fn template_problems(
    template: &Value,
    actions: &Actions,
    renderer: &Renderer,
) -> Vec<TemplateProblem> {
    let mut out = Vec::new();
    let mut problem = |field: String, message: String| out.push(TemplateProblem { field, message });
    if let Err(e) = app::scaffolder::Pages::from_template(template) {
        problem("spec.parameters".into(), e.to_string());
    }
    let steps = template["spec"]["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let ids: Vec<Option<String>> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| match s.get("id") {
            Some(Value::String(id)) => Some(id.clone()),
            None => Some(format!("step-{}", i + 1)),
            Some(_) => None,
        })
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, step) in steps.iter().enumerate() {
        let at = format!("spec.steps[{i}]");
        match step.get("action").and_then(Value::as_str) {
            None => problem(
                format!("{at}.action"),
                "is required: the id of an action".into(),
            ),
            Some(a) if actions.get(a).is_none() => problem(
                format!("{at}.action"),
                format!("unknown action {a:?} (GET /api/scaffolder/v2/actions lists them)"),
            ),
            Some(_) => {}
        }
        if let Some(id) = &ids[i] {
            if seen.contains(id.as_str()) {
                problem(format!("{at}.id"), format!("step id {id:?} is used twice"));
            }
        } else {
            problem(format!("{at}.id"), "must be a string".into());
        }
        // Expressions in the step: they parse, and name only earlier steps.
        for key in ["if", "each", "input"] {
            if let Some(v) = step.get(key) {
                expressions(v, &format!("{at}.{key}"), &mut |field, text| {
                    check_text(text, field, renderer, &seen, &ids, &mut problem);
                });
            }
        }
        if let Some(id) = &ids[i] {
            seen.insert(id.as_str());
        }
    }
    if let Some(output) = template["spec"].get("output") {
        expressions(output, "spec.output", &mut |field, text| {
            check_text(text, field, renderer, &seen, &ids, &mut problem);
        });
    }
    out
}

/// Calls `f` with every string inside `v` and its field path.
fn expressions(v: &Value, field: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(field, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                expressions(item, &format!("{field}[{i}]"), f);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                expressions(item, &format!("{field}.{k}"), f);
            }
        }
        _ => {}
    }
}

fn check_text(
    text: &str,
    field: &str,
    renderer: &Renderer,
    earlier: &HashSet<&str>,
    all: &[Option<String>],
    problem: &mut dyn FnMut(String, String),
) {
    if !text.contains("${{") && !text.contains("{%") {
        return;
    }
    if let Err(e) = renderer.check(text) {
        problem(
            field.to_string(),
            format!("the expression does not parse: {e}"),
        );
        return;
    }
    for id in step_references(text) {
        if earlier.contains(id.as_str()) {
            continue;
        }
        let message = if all.iter().flatten().any(|s| *s == id) {
            format!("steps['{id}'] is read before that step runs")
        } else {
            format!("steps['{id}'] names no step of this template")
        };
        problem(field.to_string(), message);
    }
}

/// The step ids `text` reads: `steps['x']`, `steps["x"]` and `steps.x`.
fn step_references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("steps") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "steps".len()..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let id: String = if let Some(quoted) = after
            .strip_prefix("['")
            .or_else(|| after.strip_prefix("[\""))
        {
            quoted
                .chars()
                .take_while(|c| *c != '\'' && *c != '"')
                .collect()
        } else if let Some(dotted) = after.strip_prefix('.') {
            dotted
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        } else {
            continue;
        };
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sound_template_has_no_problems_and_each_fault_is_named() {
        let good = json!({"spec": {
            "parameters": [{"properties": {"name": {"type": "string"}}}],
            "steps": [
                {"id": "fetch", "action": "fetch:template", "input": {"url": "./s", "values": {"n": "${{ parameters.name }}"}}},
                {"action": "debug:log", "input": {"message": "${{ steps.fetch.output | dump }} ${{ steps['fetch'].output }}"}},
            ],
            "output": {"text": [{"title": "t", "content": "${{ steps['step-2'].output }}"}]},
        }});
        let (actions, renderer) = (Actions::built_in(), Renderer::new());
        assert_eq!(template_problems(&good, &actions, &renderer), vec![]);

        let bad = json!({"spec": {
            "parameters": "nope",
            "steps": [
                {"id": "a", "action": "publish:nowhere", "input": {"x": "${{ steps.b.output }}"}},
                {"id": "b", "action": "debug:log", "input": {"message": "${{ parameters.name | }}"}},
                {"id": "a", "input": {"m": "{% if %}"}},
                {"id": "c", "action": "debug:log", "if": "${{ steps['zz'].output.x }}"},
            ],
        }});
        let found: Vec<(String, String)> = template_problems(&bad, &actions, &renderer)
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect();
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.parameters",
                "spec.steps[0].action",
                "spec.steps[0].input.x",
                "spec.steps[1].input.message",
                "spec.steps[2].action",
                "spec.steps[2].id",
                "spec.steps[2].input.m",
                "spec.steps[3].if",
            ],
            "{found:#?}"
        );
        assert!(found[1].1.contains("unknown action \"publish:nowhere\""));
        assert_eq!(found[2].1, "steps['b'] is read before that step runs");
        assert!(
            found[3].1.starts_with("the expression does not parse"),
            "{}",
            found[3].1
        );
        assert_eq!(found[5].1, "step id \"a\" is used twice");
        assert_eq!(found[7].1, "steps['zz'] names no step of this template");
    }

    #[test]
    fn step_references_are_found_in_each_form() {
        assert_eq!(
            step_references("${{ steps.a.output }} ${{ steps['b-1'].x }} ${{ steps[\"c\"] }} mysteps.d ${{ x.steps.e }}"),
            ["a", "b-1", "c"]
        );
    }
}
