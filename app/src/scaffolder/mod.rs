//! Software templates' forms: a Backstage v1beta3 Template's `spec.parameters` as a multi-step
//! form model, shared by the server and the browser.
//!
//! `spec.parameters` is one JSON Schema object or a list of them (one per page), with Backstage's
//! `ui:` keys on each property. This module reads it into [`Pages`] and answers, with no HTML and
//! no I/O, everything the wizard needs:
//!
//! - which fields a page shows for the current values ([`Page::visible_fields`]): `dependencies`
//!   (property and schema dependencies, `oneOf` branches chosen by the dependent value), `allOf`
//!   with `if`/`then`/`else`, `$ref` to the page's own `definitions`, nested objects, all resolved
//!   the way react-jsonschema-form resolves them ([`resolve`]);
//! - whether values are valid ([`Page::validate`], [`Pages::validate`]): JSON Schema types,
//!   `required`, `enum`/`const`, lengths, `pattern` (with `regex-lite`), number limits, formats,
//!   arrays, plus the field extensions' own rules (EntityNamePicker, RepoUrlPicker,
//!   EntityTagsPicker). Errors are [`FieldError`]s: the field's dotted path and a sentence that
//!   names the field by its title;
//! - the values without what hidden fields and hidden pages hold ([`Pages::clean`]);
//! - typed values from a plain form post (`application/x-www-form-urlencoded` pairs), so pages
//!   work without JavaScript, and a page's defaults ([`form`]);
//! - which fields are secret and what the review page shows ([`review`]).
//!
//! The server validates every page and the final values itself, and answers the wizard's island
//! with the same checks as the user types (the rules stay out of the browser's wasm, whose size
//! is budgeted). Nothing here trusts the values it is given.
//!
//! Property order: pages list fields in `ui:order` order (`*` stands for the rest), otherwise in
//! the order the schema's map gives, which is sorted (`serde_json` without `preserve_order`).
//! The catalog therefore adds the order as written, as `ui:order`, to every object schema of a
//! Template's parameters that has none when it reads the YAML (`server::catalog::parse`).

pub mod form;
pub mod resolve;
pub mod review;
pub mod schema;
pub mod validate;

pub use crate::error::FieldError;
pub use form::{check_post, decode_page, form_values, prepare_pairs, read_post, Decoded};
pub use review::{review, split_secrets, ReviewItem, ReviewSection, Secrecy};
pub use schema::{
    Choice, Field, FieldExtension, FieldType, Limits, Page, Pages, ParametersError, ReviewOptions,
    Ui, Widget,
};
pub use validate::{Context, ScmKind};

use serde_json::Value;

/// The value at a dotted field path (`destination.owner`) in an object of values.
pub fn value_at<'a>(values: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = values;
    for part in split_path(path) {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// The parts of a dotted field path. Paths are built from property names, so a name that holds
/// a dot cannot be told apart; [`Field`]s carry their own `path` and lookups go through them.
fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('.').filter(|part| !part.is_empty())
}

/// Joins a parent path and a property name.
fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// JSON equality where `1` and `1.0` are the same number, as JSON Schema compares them.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|other| json_equal(v, other)))
        }
        _ => a == b,
    }
}

/// A value as a person reads it: strings bare, numbers and booleans as JSON, lists joined by
/// commas, objects as compact JSON.
fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items
            .iter()
            .map(display_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
