//! Plain HTML forms: a page's values from an `application/x-www-form-urlencoded` post, the
//! texts to put back into its inputs, and its defaults for the first display.
//!
//! Input names are the fields' dotted paths ([`Field::path`]: `name`, `destination.owner`). The
//! post is read field by field from the page's schema, so a name is only ever looked up, never
//! split. What each kind of field expects:
//!
//! - text, and any field with choices (`select`, `radio`): the last value posted under its name;
//!   a choice's text ([`super::Choice::form_value`]) is turned back into its typed value. An empty
//!   text is no value (as react-jsonschema-form treats it), so `required` catches it;
//! - `number`/`integer`: parsed (an error names the field when it is not a number);
//! - `boolean`: `true`/`on`/`1`/`yes` or `false`/`off`/`0`/`no`; several values (a hidden
//!   `false` before a checkbox) are true when any is true. Nothing posted is `false` for a
//!   checkbox, and no value for a `radio` or `select` widget;
//! - arrays of choices (checkboxes): one pair per checked box; nothing posted is `[]`;
//! - other arrays of text or numbers: one pair per item, and each value is also split into lines
//!   (one `<textarea>` holding one item a line works too); empty items are dropped;
//! - objects with fields: their fields under `path.name`; objects without declared fields and
//!   arrays of objects: JSON text in one input.
//!
//! Which fields a page shows can depend on what was posted (a `dependencies` branch chosen by a
//! select), so the page is read again with the values read until it shows the same fields.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::schema::{Field, FieldExtension, FieldType, Page, Widget};
use super::validate::Context;
use super::{value_at, FieldError};

/// How many times a post is read again while the fields it shows change.
const MAX_ROUNDS: usize = 8;

/// A page's post, read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    /// The whole form's values: the values given, with this page's part replaced by what was
    /// posted (values of this page's fields that are no longer shown are gone).
    pub values: Value,
    /// Inputs that could not be read as their type ("Port must be a number, not \"abc\"").
    /// Validation ([`Page::validate`]) is a separate step.
    pub errors: Vec<FieldError>,
}

/// Reads one page's form post (`pairs` as decoded from the body, in order) into the values of
/// the whole form (`current`: the values of the other pages, and this page's previous ones).
pub fn decode_page(page: &Page, pairs: &[(String, String)], current: &Value) -> Decoded {
    let base = current.as_object().cloned().unwrap_or_default();
    let mut owned: BTreeSet<String> = page
        .visible_fields(current)
        .into_iter()
        .map(|f| f.name)
        .collect();
    let mut values = Value::Object(base.clone());
    let mut errors = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let fields = page.visible_fields(&values);
        owned.extend(fields.iter().map(|f| f.name.clone()));
        let mut next = base.clone();
        for name in &owned {
            next.remove(name);
        }
        errors = Vec::new();
        for field in &fields {
            if let Some(value) = decode_field(field, pairs, &mut errors) {
                next.insert(field.name.clone(), value);
            }
        }
        let next = Value::Object(next);
        if next == values {
            break;
        }
        values = next;
    }
    Decoded { values, errors }
}

/// Reads a page's post as "Next" does, before validation: [`prepare_pairs`], then
/// [`decode_page`]. The server reads every step's post with it, and the browser reads the form
/// the same way to check it as the user types.
pub fn read_post(page: &Page, post: &[(String, String)], current: &Value) -> Decoded {
    let pairs = prepare_pairs(page, current, post);
    decode_page(page, &pairs, current)
}

/// A post read and checked as "Next" checks it: what cannot be read as its type, then the
/// page's validation for each field that has no such error yet.
pub fn check_post(
    page: &Page,
    post: &[(String, String)],
    current: &Value,
    context: &Context,
) -> Decoded {
    let mut decoded = read_post(page, post, current);
    for e in page.validate(&decoded.values, context) {
        if !decoded.errors.iter().any(|x| x.field == e.field) {
            decoded.errors.push(e);
        }
    }
    decoded
}

/// The post as `decode_page` reads it: a RepoUrlPicker's host, owner and repository put
/// together into its value, and an EntityTagsPicker's comma-separated text split into items.
pub fn prepare_pairs(
    page: &Page,
    values: &Value,
    post: &[(String, String)],
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = post.to_vec();
    let last = |key: &str| {
        post.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    for field in page.all_visible_fields(values) {
        match field.ui.field {
            Some(FieldExtension::RepoUrlPicker) => {
                let part = |p: &str| last(&format!("{}:{p}", field.path));
                let (host, owner, repo) = (part("host"), part("owner"), part("repo"));
                if host.is_empty() && owner.is_empty() && repo.is_empty() {
                    continue;
                }
                let mut value = host;
                let mut query = Vec::new();
                for (k, v) in [("owner", owner), ("repo", repo)] {
                    if !v.is_empty() {
                        query.push(format!("{k}={}", crate::query::encode_component(&v)));
                    }
                }
                if !query.is_empty() {
                    value.push('?');
                    value.push_str(&query.join("&"));
                }
                pairs.retain(|(k, _)| *k != field.path);
                pairs.push((field.path.clone(), value));
            }
            Some(FieldExtension::EntityTagsPicker) => {
                let mut split = Vec::new();
                pairs.retain(|(k, v)| {
                    if *k == field.path {
                        split.extend(
                            v.split([',', '\n'])
                                .map(str::trim)
                                .filter(|t| !t.is_empty())
                                .map(|t| (k.clone(), t.to_string())),
                        );
                        false
                    } else {
                        true
                    }
                });
                pairs.extend(split);
            }
            _ => {}
        }
    }
    pairs
}

/// The texts to show in a field's input(s) for the values: one per checked choice or list item,
/// one for anything else (objects and lists of objects as JSON), none when there is no value.
pub fn form_values(field: &Field, values: &Value) -> Vec<String> {
    let Some(value) = value_at(values, &field.path) else {
        return Vec::new();
    };
    match value {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Array(items)
            if field.kind != FieldType::Object
                && items.iter().all(|i| !i.is_object() && !i.is_array()) =>
        {
            items.iter().map(text_of).collect()
        }
        Value::Object(_) | Value::Array(_) => vec![value.to_string()],
        other => vec![text_of(other)],
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Page {
    /// The values with the defaults of the fields shown filled in where there is no value yet
    /// (nested objects too; a default that reveals more fields fills theirs as well).
    pub fn with_defaults(&self, values: &Value) -> Value {
        let mut out = values.as_object().cloned().unwrap_or_default();
        for _ in 0..MAX_ROUNDS {
            let fields = self.visible_fields(&Value::Object(out.clone()));
            if !apply_defaults(&fields, &mut out) {
                break;
            }
        }
        Value::Object(out)
    }
}

/// Fills missing values from defaults; says whether anything changed.
fn apply_defaults(fields: &[Field], obj: &mut Map<String, Value>) -> bool {
    let mut changed = false;
    for field in fields {
        match obj.get_mut(&field.name) {
            None => {
                if let Some(default) = &field.default {
                    obj.insert(field.name.clone(), default.clone());
                    changed = true;
                } else if field.has_fields() {
                    let mut child = Map::new();
                    if apply_defaults(&field.fields, &mut child) {
                        obj.insert(field.name.clone(), Value::Object(child));
                        changed = true;
                    }
                }
            }
            Some(Value::Object(child)) if field.has_fields() => {
                changed |= apply_defaults(&field.fields, child);
            }
            Some(_) => {}
        }
    }
    changed
}

fn posted<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .collect()
}

fn decode_field(
    field: &Field,
    pairs: &[(String, String)],
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let given = posted(pairs, &field.path);
    let last = given.last().copied().filter(|v| !v.is_empty());
    let fail = |errors: &mut Vec<FieldError>, message: String| {
        errors.push(FieldError {
            field: field.path.clone(),
            message,
        });
    };
    if !field.choices.is_empty() && field.kind != FieldType::Array {
        let text = last?;
        return Some(choice_value(field, text).unwrap_or_else(|| Value::String(text.to_string())));
    }
    match field.kind {
        FieldType::Object if field.has_fields() => {
            let mut obj = Map::new();
            for child in &field.fields {
                if let Some(value) = decode_field(child, pairs, errors) {
                    obj.insert(child.name.clone(), value);
                }
            }
            Some(Value::Object(obj))
        }
        FieldType::Object => decode_json(field, last?, errors),
        FieldType::Boolean => {
            let mut result = None;
            for text in &given {
                match parse_bool(text) {
                    Some(b) => result = Some(result.unwrap_or(false) || b),
                    None if text.is_empty() => {}
                    None => {
                        fail(
                            errors,
                            format!("{} must be true or false, not \"{text}\"", field.label()),
                        );
                        return None;
                    }
                }
            }
            match result {
                Some(b) => Some(Value::Bool(b)),
                None if matches!(field.ui.widget, Some(Widget::Radio | Widget::Select)) => None,
                None => Some(Value::Bool(false)),
            }
        }
        FieldType::Number | FieldType::Integer => {
            let text = last?;
            match parse_number(text, field.kind == FieldType::Integer) {
                Ok(n) => Some(n),
                Err(expected) => {
                    fail(
                        errors,
                        format!("{} must be {expected}, not \"{text}\"", field.label()),
                    );
                    None
                }
            }
        }
        FieldType::Array => decode_array(field, &given, errors),
        FieldType::String | FieldType::Any | FieldType::Null => {
            last.map(|t| Value::String(t.to_string()))
        }
    }
}

fn decode_array(field: &Field, given: &[&str], errors: &mut Vec<FieldError>) -> Option<Value> {
    let item = field.items.as_deref();
    if let Some(item) = item.filter(|i| !i.choices.is_empty()) {
        let values = given
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| choice_value(item, t).unwrap_or_else(|| Value::String(t.to_string())))
            .collect();
        return Some(Value::Array(values));
    }
    let item_kind = item.map_or(FieldType::Any, |i| i.kind);
    if matches!(item_kind, FieldType::Object | FieldType::Array)
        || (item.is_none() && given.iter().any(|t| t.trim_start().starts_with('[')))
    {
        let text = given.last().copied().filter(|t| !t.trim().is_empty())?;
        return decode_json(field, text, errors);
    }
    let mut values = Vec::new();
    for text in given {
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let value = match item_kind {
                FieldType::Number | FieldType::Integer => {
                    match parse_number(line.trim(), item_kind == FieldType::Integer) {
                        Ok(n) => n,
                        Err(expected) => {
                            errors.push(FieldError {
                                field: field.path.clone(),
                                message: format!(
                                    "{} items must be {expected}, not \"{line}\"",
                                    field.label()
                                ),
                            });
                            continue;
                        }
                    }
                }
                FieldType::Boolean => match parse_bool(line.trim()) {
                    Some(b) => Value::Bool(b),
                    None => {
                        errors.push(FieldError {
                            field: field.path.clone(),
                            message: format!(
                                "{} items must be true or false, not \"{line}\"",
                                field.label()
                            ),
                        });
                        continue;
                    }
                },
                _ => Value::String(line.to_string()),
            };
            values.push(value);
        }
    }
    Some(Value::Array(values))
}

fn decode_json(field: &Field, text: &str, errors: &mut Vec<FieldError>) -> Option<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => Some(value),
        Err(error) => {
            errors.push(FieldError {
                field: field.path.clone(),
                message: format!("{} must be valid JSON ({error})", field.label()),
            });
            None
        }
    }
}

fn choice_value(field: &Field, text: &str) -> Option<Value> {
    field
        .choices
        .iter()
        .find(|c| c.form_value() == text)
        .map(|c| c.value.clone())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Some(true),
        "false" | "off" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// A number as JSON: whole numbers as integers. `Err` says what was expected.
fn parse_number(text: &str, integer: bool) -> Result<Value, &'static str> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Value::from(n));
    }
    let expected = if integer {
        "a whole number"
    } else {
        "a number"
    };
    let n: f64 = text.parse().map_err(|_| expected)?;
    if !n.is_finite() {
        return Err(expected);
    }
    if integer {
        if n.fract() != 0.0 {
            return Err(expected);
        }
        if n.abs() < 9.0e15 {
            return Ok(Value::from(n as i64));
        }
    }
    Number::from_f64(n).map(Value::Number).ok_or(expected)
}
