//! Secrets and the review page.
//!
//! Three things make a field secret, in two strengths ([`Secrecy`]):
//! - `ui:field: Secret`: the value belongs in the run's `secrets` (`${{ secrets.name }}`), never
//!   in its parameters; [`split_secrets`] moves it there;
//! - `ui:widget: password` and `ui:backstage.review.mask`: the value stays a parameter (templates
//!   read it as `${{ parameters.name }}`), but is masked wherever it is shown.
//!
//! The review lists, per page shown, each field shown that has a value, with its title and the
//! value as text (a choice's label, lists joined by commas), masked when secret, and leaves out
//! fields with `ui:backstage.review.show: false`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::schema::{Field, FieldExtension, Pages, Widget};
use super::validate::Context;
use super::{display_value, value_at};

/// The text shown instead of a secret value.
pub const MASK: &str = "******";

/// How secret a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Secrecy {
    /// `ui:field: Secret`: goes to `secrets`, masked.
    Secret,
    /// `ui:widget: password` or `ui:backstage.review.mask`: stays in the values, masked.
    Masked,
}

impl Field {
    /// Whether (and how) the field is secret.
    pub fn secrecy(&self) -> Option<Secrecy> {
        if self.ui.field == Some(FieldExtension::Secret) {
            Some(Secrecy::Secret)
        } else if self.ui.widget == Some(Widget::Password) || self.ui.review.mask.is_some() {
            Some(Secrecy::Masked)
        } else {
            None
        }
    }

    /// The text the review shows instead of the value, when masked.
    pub fn mask(&self) -> Option<&str> {
        match (&self.ui.review.mask, self.secrecy()) {
            (Some(mask), _) => Some(mask),
            (None, Some(_)) => Some(MASK),
            (None, None) => None,
        }
    }
}

/// One line of the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// The field's dotted path.
    pub path: String,
    /// Its title (or name).
    pub title: String,
    /// The value as text, or the mask.
    pub value: String,
    pub masked: bool,
}

/// The review of one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSection {
    pub page: usize,
    pub title: String,
    pub items: Vec<ReviewItem>,
}

/// What the review page lists for these values (pages and fields shown, with a value).
pub fn review(pages: &Pages, values: &Value, context: &Context) -> Vec<ReviewSection> {
    let visible = pages.visible(values, context);
    pages
        .pages
        .iter()
        .zip(visible)
        .filter(|(_, shown)| *shown)
        .map(|(page, _)| {
            let mut items = Vec::new();
            for field in page.visible_fields(values) {
                review_field(&field, values, &mut items);
            }
            ReviewSection {
                page: page.index,
                title: page.label(),
                items,
            }
        })
        .collect()
}

fn review_field(field: &Field, values: &Value, items: &mut Vec<ReviewItem>) {
    if !field.ui.review.show {
        return;
    }
    let Some(value) = value_at(values, &field.path) else {
        return;
    };
    if field.has_fields() && value.is_object() && field.mask().is_none() {
        for child in &field.fields {
            review_field(child, values, items);
        }
        return;
    }
    let (text, masked) = match field.mask() {
        Some(mask) => (mask.to_string(), true),
        None => (shown_value(field, value), false),
    };
    items.push(ReviewItem {
        path: field.path.clone(),
        title: field.label().to_string(),
        value: text,
        masked,
    });
}

/// A value as text: a choice's label, list items by their labels, joined by commas.
fn shown_value(field: &Field, value: &Value) -> String {
    if let Some(label) = field.choice_label(value) {
        return label.to_string();
    }
    match (value, field.items.as_deref()) {
        (Value::Array(list), Some(item)) if !item.choices.is_empty() => list
            .iter()
            .map(|v| {
                item.choice_label(v)
                    .map(str::to_string)
                    .unwrap_or_else(|| display_value(v))
            })
            .collect::<Vec<_>>()
            .join(", "),
        (Value::Bool(true), _) => "Yes".into(),
        (Value::Bool(false), _) => "No".into(),
        _ => display_value(value),
    }
}

/// Splits the values into parameters and secrets: the values of the `ui:field: Secret` fields
/// shown move to the secrets, by field name (at any depth); everything else stays.
pub fn split_secrets(
    pages: &Pages,
    values: &Value,
    context: &Context,
) -> (Value, Map<String, Value>) {
    let mut params = values.clone();
    let mut secrets = Map::new();
    let visible = pages.visible(values, context);
    for (page, _) in pages.pages.iter().zip(visible).filter(|(_, v)| *v) {
        for field in page.all_visible_fields(values) {
            if field.secrecy() != Some(Secrecy::Secret) {
                continue;
            }
            if let Some(value) = take_at(&mut params, &field.path) {
                secrets.insert(field.name.clone(), value);
            }
        }
    }
    (params, secrets)
}

fn take_at(values: &mut Value, path: &str) -> Option<Value> {
    let (parent, name) = match path.rsplit_once('.') {
        Some((parent, name)) => (Some(parent), name),
        None => (None, path),
    };
    let mut current = values;
    if let Some(parent) = parent {
        for part in parent.split('.') {
            current = current.as_object_mut()?.get_mut(part)?;
        }
    }
    current.as_object_mut()?.remove(name)
}
