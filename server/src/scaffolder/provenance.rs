//! Where an entity a template made came from, recorded by `catalog:write` as annotations of the
//! entity, so that a later "update from template" can be built on them:
//! - [`TEMPLATE_REF`]: the template's entity reference (`template:default/rust-service`);
//! - [`TEMPLATE_COMMIT`]: the commit the template's files were read at, when the template
//!   came from a Git location;
//! - [`TEMPLATE_VALUES`]: the values it ran with, as JSON text, without secrets: the
//!   `ui:field: Secret` fields never reach the values (they go to the task's secrets), and the
//!   masked ones (`ui:widget: password`, `ui:backstage.review.mask`) are taken out here
//!   ([`masked_paths`], [`recorded_values`]).
//!
//! Annotation values are strings, as the catalog requires.

use serde_json::Value;

pub const TEMPLATE_REF: &str = "backlot.io/template-ref";
pub const TEMPLATE_COMMIT: &str = "backlot.io/template-commit";
pub const TEMPLATE_VALUES: &str = "backlot.io/template-values";

/// The dotted paths of every secret or masked field the template's `spec.parameters` declare,
/// in any branch (`dependencies`, `oneOf`, `allOf`, `if`/`then`/`else`), whether shown or not,
/// sorted.
pub fn masked_paths(parameters: &Value) -> Vec<String> {
    fn masked(prop: &Value) -> bool {
        prop.get("ui:field").and_then(Value::as_str) == Some("Secret")
            || prop.get("ui:widget").and_then(Value::as_str) == Some("password")
            || prop
                .get("ui:backstage")
                .and_then(|b| b.get("review"))
                .and_then(|r| r.get("mask"))
                .is_some()
    }
    fn walk(schema: &Value, prefix: &str, out: &mut Vec<String>) {
        match schema {
            Value::Array(items) => items.iter().for_each(|s| walk(s, prefix, out)),
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        let path = if prefix.is_empty() {
                            name.clone()
                        } else {
                            format!("{prefix}.{name}")
                        };
                        if masked(prop) {
                            out.push(path.clone());
                        }
                        walk(prop, &path, out);
                    }
                }
                for key in ["dependencies", "oneOf", "anyOf", "allOf", "then", "else"] {
                    match map.get(key) {
                        Some(Value::Object(deps)) if key == "dependencies" => {
                            deps.values().for_each(|d| walk(d, prefix, out))
                        }
                        Some(v) => walk(v, prefix, out),
                        None => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(parameters, "", &mut out);
    out.sort();
    out.dedup();
    out
}

/// `values` without the fields at `masked` (dotted paths).
pub fn recorded_values(values: &Value, masked: &[String]) -> Value {
    fn remove_at(value: &mut Value, parts: &[&str]) {
        match parts {
            [last] => {
                if let Some(object) = value.as_object_mut() {
                    object.remove(*last);
                }
            }
            [first, rest @ ..] => {
                if let Some(next) = value.get_mut(*first) {
                    remove_at(next, rest);
                }
            }
            [] => {}
        }
    }
    let mut out = values.clone();
    for path in masked {
        let parts: Vec<&str> = path.split('.').collect();
        remove_at(&mut out, &parts);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_and_masked_fields_are_left_out() {
        let template = json!({"spec": {"parameters": [
            {"properties": {
                "name": {"type": "string"},
                "token": {"type": "string", "ui:field": "Secret"},
                "password": {"type": "string", "ui:widget": "password"},
                "db": {"type": "object", "properties": {
                    "host": {"type": "string"},
                    "key": {"type": "string", "ui:backstage": {"review": {"mask": "****"}}},
                }},
            }},
            {"properties": {"kind": {"type": "string", "enum": ["a", "b"]}},
             "dependencies": {"kind": {"oneOf": [
                {"properties": {"kind": {"const": "a"}}},
                {"properties": {"kind": {"const": "b"}, "pin": {"type": "string", "ui:widget": "password"}}},
             ]}}},
        ]}});
        let values = json!({"name": "shop", "password": "hunter2", "db": {"host": "h", "key": "k"}, "kind": "b", "pin": "1234"});
        let masked = masked_paths(&template["spec"]["parameters"]);
        assert_eq!(masked, ["db.key", "password", "pin", "token"]);
        assert_eq!(
            recorded_values(&values, &masked),
            json!({"name": "shop", "db": {"host": "h"}, "kind": "b"})
        );
        // A path that is not in the values changes nothing.
        let other = json!({"kind": "a", "db": "text"});
        assert_eq!(recorded_values(&other, &masked), other);
    }
}
