//! The form model: a template's `spec.parameters` as [`Pages`] of [`Field`]s.
//!
//! A page keeps its raw schema; its fields are derived from it for given values (conditionals
//! resolved by [`super::resolve`]). A field carries what a form control needs: its type, title,
//! description, default, choices (`enum` + `enumNames`, or `oneOf` of `const`s with titles),
//! format, limits, whether it is required, and the Backstage `ui:` keys. Keys this model does not
//! know are kept in the field's `schema` and `ui.other`, never refused.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::resolve::{deref, resolve, Resolved};
use super::validate::{self, Context};
use super::{display_value, join_path, FieldError};

/// How deep nested objects may go before their fields are left out.
const MAX_NESTING: usize = 16;

/// `spec.parameters` that cannot be read as pages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ParametersError {
    /// `parameters` is neither an object nor a list.
    #[error("spec.parameters must be an object or a list of objects, not {0}")]
    NotObjectOrList(String),
    /// One page of the list is not an object.
    #[error("spec.parameters[{index}] must be an object, not {found}")]
    PageNotObject { index: usize, found: String },
}

/// All pages of a template's form, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pages {
    pub pages: Vec<Page>,
}

/// One page (one step of the wizard): one JSON Schema object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// Zero-based position among the pages.
    pub index: usize,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Backstage's step condition (`when:`): a boolean, or an expression over `parameters`
    /// that [`Context::when`] evaluates. Kept as written.
    pub when: Option<Value>,
    /// The fields shown when no value is set yet, in display order.
    pub fields: Vec<Field>,
    /// The page's schema as written.
    pub schema: Value,
}

/// A JSON Schema type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
    /// No type declared and none to infer: any JSON value.
    Any,
}

/// One choice of an `enum` (or of a `oneOf` of `const`s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub value: Value,
    /// `enumNames[i]` or the branch's `title`; else the value as text.
    pub label: String,
}

impl Choice {
    /// The text an HTML `<option value>` or checkbox carries for this choice; [`super::form`]
    /// turns it back into `value`.
    pub fn form_value(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// Validation limits as written on the field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: Option<f64>,
    pub exclusive_maximum: Option<f64>,
    pub multiple_of: Option<f64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
}

/// Backstage's field extensions (`ui:field`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldExtension {
    EntityPicker,
    MultiEntityPicker,
    OwnerPicker,
    OwnedEntityPicker,
    EntityNamePicker,
    EntityTagsPicker,
    MyGroupsPicker,
    RepoUrlPicker,
    Secret,
    /// Any other `ui:field` (a custom extension), by name.
    Other(String),
}

impl FieldExtension {
    fn from_name(name: &str) -> FieldExtension {
        match name {
            "EntityPicker" => FieldExtension::EntityPicker,
            "MultiEntityPicker" => FieldExtension::MultiEntityPicker,
            "OwnerPicker" => FieldExtension::OwnerPicker,
            "OwnedEntityPicker" => FieldExtension::OwnedEntityPicker,
            "EntityNamePicker" => FieldExtension::EntityNamePicker,
            "EntityTagsPicker" => FieldExtension::EntityTagsPicker,
            "MyGroupsPicker" => FieldExtension::MyGroupsPicker,
            "RepoUrlPicker" => FieldExtension::RepoUrlPicker,
            "Secret" => FieldExtension::Secret,
            other => FieldExtension::Other(other.to_string()),
        }
    }
}

/// `ui:widget`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Widget {
    Text,
    Textarea,
    Password,
    Select,
    Radio,
    Checkbox,
    Checkboxes,
    Hidden,
    /// Any other widget (`email`, `uri`, `date`, `updown`, a custom one…), by name.
    Other(String),
}

impl Widget {
    fn from_name(name: &str) -> Widget {
        match name {
            "text" => Widget::Text,
            "textarea" => Widget::Textarea,
            "password" => Widget::Password,
            "select" => Widget::Select,
            "radio" => Widget::Radio,
            "checkbox" => Widget::Checkbox,
            "checkboxes" => Widget::Checkboxes,
            "hidden" => Widget::Hidden,
            other => Widget::Other(other.to_string()),
        }
    }
}

/// `ui:backstage.review`: how the review page shows the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewOptions {
    /// `show: false` leaves the field out of the review.
    pub show: bool,
    /// `mask`: the text shown instead of the value (`true` means `******`).
    pub mask: Option<String>,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        ReviewOptions {
            show: true,
            mask: None,
        }
    }
}

/// The `ui:` keys of a field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ui {
    /// `ui:field`.
    pub field: Option<FieldExtension>,
    /// `ui:widget`.
    pub widget: Option<Widget>,
    pub help: Option<String>,
    pub placeholder: Option<String>,
    pub autofocus: bool,
    pub readonly: bool,
    pub disabled: bool,
    /// `ui:options` as written (`catalogFilter`, `allowedKinds`, `allowedHosts`, `rows`…).
    pub options: Map<String, Value>,
    /// `ui:backstage.review`.
    pub review: ReviewOptions,
    /// Every other `ui:` key, as written (including `ui:backstage` itself).
    pub other: Map<String, Value>,
}

/// One form field, as shown for some values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The property name.
    pub name: String,
    /// Dotted path from the page's values (`destination.owner`); also the form input's name.
    pub path: String,
    pub kind: FieldType,
    /// `type: [string, "null"]` (or `null` among several types).
    pub nullable: bool,
    pub title: Option<String>,
    pub description: Option<String>,
    pub default: Option<Value>,
    #[serde(rename = "const")]
    pub constant: Option<Value>,
    /// `enum` (+ `enumNames`) or a `oneOf`/`anyOf` of `const`s with titles.
    pub choices: Vec<Choice>,
    pub format: Option<String>,
    pub limits: Limits,
    /// For arrays: the item (name `""`, path the array's path); its choices make checkboxes.
    pub items: Option<Box<Field>>,
    /// For objects: their fields for the current values.
    pub fields: Vec<Field>,
    /// In its object's `required` (after conditionals).
    pub required: bool,
    pub ui: Ui,
    /// The field's effective schema (conditionals merged), with every key as written.
    pub schema: Value,
}

impl Field {
    /// The title, else the property name.
    pub fn label(&self) -> &str {
        match &self.title {
            Some(title) if !title.is_empty() => title,
            _ if self.name.is_empty() => "Item",
            _ => &self.name,
        }
    }

    /// `ui:widget: hidden`.
    pub fn is_hidden(&self) -> bool {
        self.ui.widget == Some(Widget::Hidden)
    }

    /// An array whose items are choices: checkboxes (or a multiple select).
    pub fn is_multiple_choice(&self) -> bool {
        self.kind == FieldType::Array && self.items.as_ref().is_some_and(|i| !i.choices.is_empty())
    }

    /// An object with declared fields (a fieldset), rather than free-form JSON.
    pub fn has_fields(&self) -> bool {
        self.kind == FieldType::Object && !self.fields.is_empty()
    }

    /// The label of the choice holding `value`, if the field has choices.
    pub fn choice_label(&self, value: &Value) -> Option<&str> {
        self.choices
            .iter()
            .find(|c| super::json_equal(&c.value, value))
            .map(|c| c.label.as_str())
    }

    /// This field and the fields below it, depth first.
    pub fn walk(&self) -> Vec<&Field> {
        let mut all = vec![self];
        for child in &self.fields {
            all.extend(child.walk());
        }
        all
    }
}

impl Pages {
    /// Reads `spec.parameters` (as parsed from YAML): one object is one page, a list is one
    /// page per entry; absent (`null`) is no page.
    pub fn parse(parameters: &Value) -> Result<Pages, ParametersError> {
        let schemas: Vec<&Value> = match parameters {
            Value::Null => Vec::new(),
            Value::Object(_) => vec![parameters],
            Value::Array(items) => items.iter().collect(),
            other => return Err(ParametersError::NotObjectOrList(json_kind(other).into())),
        };
        let mut pages = Vec::with_capacity(schemas.len());
        for (index, schema) in schemas.into_iter().enumerate() {
            if !schema.is_object() {
                return Err(ParametersError::PageNotObject {
                    index,
                    found: json_kind(schema).into(),
                });
            }
            pages.push(Page::new(index, schema.clone()));
        }
        Ok(Pages { pages })
    }

    /// Reads the parameters of a whole Template entity (`spec.parameters`).
    pub fn from_template(template: &Value) -> Result<Pages, ParametersError> {
        Pages::parse(
            template
                .get("spec")
                .and_then(|spec| spec.get("parameters"))
                .unwrap_or(&Value::Null),
        )
    }

    /// Whether each page is shown for these values: its `when` (Backstage evaluates each page's
    /// condition on the values of the pages before it that are shown).
    pub fn visible(&self, values: &Value, context: &Context) -> Vec<bool> {
        let mut shown = Vec::with_capacity(self.pages.len());
        for page in &self.pages {
            let visible = match &page.when {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(Value::String(expression)) if expression.trim().is_empty() => true,
                Some(Value::String(expression)) => match &context.when {
                    Some(evaluate) => {
                        let before = self.clean_pages(values, &shown);
                        evaluate(expression, &before)
                    }
                    None => true,
                },
                Some(_) => true,
            };
            shown.push(visible);
        }
        shown
    }

    /// Validates the values against every page shown (the final check before a run).
    pub fn validate(&self, values: &Value, context: &Context) -> Vec<FieldError> {
        let visible = self.visible(values, context);
        let mut errors = Vec::new();
        for (page, shown) in self.pages.iter().zip(visible) {
            if shown {
                for error in page.validate(values, context) {
                    if !errors.contains(&error) {
                        errors.push(error);
                    }
                }
            }
        }
        errors
    }

    /// The values as Backstage's backend keeps them for a task or a dry-run: without the keys
    /// that only hidden pages declare (in their `properties`); every other key stays, declared
    /// or not (templates read values no page asks for, such as those an API client sends).
    pub fn without_hidden_pages(&self, values: &Value, context: &Context) -> Value {
        let Some(map) = values.as_object() else {
            return values.clone();
        };
        let visible = self.visible(values, context);
        let declared = |page: &Page| -> Vec<String> {
            page.schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        let shown: Vec<String> = self
            .pages
            .iter()
            .zip(&visible)
            .filter(|(_, v)| **v)
            .flat_map(|(p, _)| declared(p))
            .collect();
        let mut out = map.clone();
        for (page, _) in self.pages.iter().zip(&visible).filter(|(_, v)| !**v) {
            for key in declared(page) {
                if !shown.contains(&key) {
                    out.remove(&key);
                }
            }
        }
        Value::Object(out)
    }

    /// The values without those of hidden pages, hidden (conditional) fields and keys no page
    /// declares; objects that allow `additionalProperties` keep their extra keys.
    pub fn clean(&self, values: &Value, context: &Context) -> Value {
        let visible = self.visible(values, context);
        self.clean_pages(values, &visible)
    }

    fn clean_pages(&self, values: &Value, visible: &[bool]) -> Value {
        let mut out = Map::new();
        for (page, _) in self.pages.iter().zip(visible).filter(|(_, v)| **v) {
            if let Value::Object(kept) = page.clean(values) {
                for (key, value) in kept {
                    out.insert(key, value);
                }
            }
        }
        Value::Object(out)
    }

    /// The page at `index`.
    pub fn get(&self, index: usize) -> Option<&Page> {
        self.pages.get(index)
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

impl Page {
    fn new(index: usize, schema: Value) -> Page {
        let text = |key: &str| schema.get(key).and_then(Value::as_str).map(str::to_string);
        let mut page = Page {
            index,
            title: text("title"),
            description: text("description"),
            when: schema.get("when").cloned(),
            fields: Vec::new(),
            schema,
        };
        page.fields = page.visible_fields(&Value::Null);
        page
    }

    /// The title, else `Step N`.
    pub fn label(&self) -> String {
        match &self.title {
            Some(title) if !title.is_empty() => title.clone(),
            _ => format!("Step {}", self.index + 1),
        }
    }

    /// The effective schema of the page for these values.
    pub fn resolved(&self, values: &Value) -> Resolved {
        resolve(&self.schema, values, &self.schema)
    }

    /// The fields the page shows for these values (the whole form's values), in order.
    pub fn visible_fields(&self, values: &Value) -> Vec<Field> {
        fields_of(&self.resolved(values), values, "", &self.schema, 0)
    }

    /// Every field shown for these values, nested ones included, depth first.
    pub fn all_visible_fields(&self, values: &Value) -> Vec<Field> {
        self.visible_fields(values)
            .iter()
            .flat_map(|f| f.walk().into_iter().cloned().collect::<Vec<_>>())
            .collect()
    }

    /// The field at a dotted path, as shown for these values.
    pub fn field(&self, values: &Value, path: &str) -> Option<Field> {
        self.all_visible_fields(values)
            .into_iter()
            .find(|f| f.path == path)
    }

    /// Validates the values (the whole form's values) against this page, as shown for them.
    pub fn validate(&self, values: &Value, context: &Context) -> Vec<FieldError> {
        validate::validate(&self.schema, values, &self.schema, context)
    }

    /// The values this page shows (its visible fields'), without the others.
    pub fn clean(&self, values: &Value) -> Value {
        clean_object(&self.schema, values, &self.schema, 0)
    }
}

/// Keeps the keys of `value` that the object schema shows for it.
fn clean_object(schema: &Value, value: &Value, root: &Value, depth: usize) -> Value {
    let Some(obj) = value.as_object() else {
        return value.clone();
    };
    if depth > MAX_NESTING {
        return value.clone();
    }
    let resolved = resolve(schema, value, root);
    let extra_allowed = match resolved.schema.get("additionalProperties") {
        Some(Value::Bool(false)) => false,
        Some(_) => true,
        // No `properties` at all: a free-form object, kept whole.
        None => !resolved.schema.contains_key("properties"),
    };
    let mut out = Map::new();
    for (key, child) in obj {
        let props = resolved.schema.get("properties").and_then(|p| p.get(key));
        match props {
            Some(prop) => {
                let prop = deref(prop, root);
                let is_object = child.is_object()
                    && (prop.get("properties").is_some()
                        || prop.get("$ref").is_some()
                        || prop.get("allOf").is_some()
                        || prop.get("dependencies").is_some());
                let kept = if is_object {
                    clean_object(prop, child, root, depth + 1)
                } else {
                    child.clone()
                };
                out.insert(key.clone(), kept);
            }
            None if extra_allowed => {
                out.insert(key.clone(), child.clone());
            }
            None => {}
        }
    }
    Value::Object(out)
}

fn fields_of(
    resolved: &Resolved,
    values: &Value,
    parent: &str,
    root: &Value,
    depth: usize,
) -> Vec<Field> {
    if depth > MAX_NESTING {
        return Vec::new();
    }
    resolved
        .properties()
        .map(|(name, schema)| {
            let value = values.get(name).unwrap_or(&Value::Null);
            build_field(
                name,
                join_path(parent, name),
                schema,
                resolved.is_required(name),
                value,
                root,
                depth,
            )
        })
        .collect()
}

fn build_field(
    name: &str,
    path: String,
    schema: &Value,
    required: bool,
    value: &Value,
    root: &Value,
    depth: usize,
) -> Field {
    let resolved = resolve(schema, value, root);
    let effective = resolved.to_value();
    let s = &resolved.schema;
    let text = |key: &str| s.get(key).and_then(Value::as_str).map(str::to_string);
    let (kind, nullable) = field_type(s);
    let choices = choices_of(s, root);
    let items = if kind == FieldType::Array {
        s.get("items").filter(|i| i.is_object()).map(|items| {
            Box::new(build_field(
                "",
                path.clone(),
                items,
                false,
                &Value::Null,
                root,
                depth + 1,
            ))
        })
    } else {
        None
    };
    let fields = if kind == FieldType::Object {
        fields_of(&resolved, value, &path, root, depth + 1)
    } else {
        Vec::new()
    };
    let number = |key: &str| s.get(key).and_then(Value::as_f64);
    let count = |key: &str| s.get(key).and_then(Value::as_u64);
    let limits = Limits {
        min_length: count("minLength"),
        max_length: count("maxLength"),
        pattern: text("pattern"),
        minimum: number("minimum"),
        maximum: number("maximum"),
        exclusive_minimum: number("exclusiveMinimum"),
        exclusive_maximum: number("exclusiveMaximum"),
        multiple_of: number("multipleOf"),
        min_items: count("minItems"),
        max_items: count("maxItems"),
        unique_items: s.get("uniqueItems").and_then(Value::as_bool) == Some(true),
    };
    Field {
        name: name.to_string(),
        path,
        kind,
        nullable,
        title: text("title"),
        description: text("description"),
        default: s.get("default").cloned(),
        constant: s.get("const").cloned(),
        choices,
        format: text("format"),
        limits,
        items,
        fields,
        required,
        ui: ui_of(s),
        schema: effective,
    }
}

/// The declared type (the first that is not `null` when several), else one inferred from
/// `properties`, `items`, `enum` or `const`.
fn field_type(s: &Map<String, Value>) -> (FieldType, bool) {
    let parse = |t: &str| match t {
        "string" => Some(FieldType::String),
        "number" => Some(FieldType::Number),
        "integer" => Some(FieldType::Integer),
        "boolean" => Some(FieldType::Boolean),
        "array" => Some(FieldType::Array),
        "object" => Some(FieldType::Object),
        "null" => Some(FieldType::Null),
        _ => None,
    };
    match s.get("type") {
        Some(Value::String(t)) => return (parse(t).unwrap_or(FieldType::Any), false),
        Some(Value::Array(types)) => {
            let types: Vec<FieldType> = types
                .iter()
                .filter_map(Value::as_str)
                .filter_map(parse)
                .collect();
            let nullable = types.contains(&FieldType::Null);
            let main = match types.iter().find(|t| **t != FieldType::Null) {
                Some(t) if types.iter().filter(|t| **t != FieldType::Null).count() == 1 => *t,
                Some(_) => FieldType::Any,
                None if nullable => FieldType::Null,
                None => FieldType::Any,
            };
            return (main, nullable);
        }
        _ => {}
    }
    let inferred = if s.contains_key("properties") {
        FieldType::Object
    } else if s.contains_key("items") {
        FieldType::Array
    } else {
        let samples: Vec<&Value> = s
            .get("enum")
            .and_then(Value::as_array)
            .map(|e| e.iter().collect())
            .or_else(|| s.get("const").map(|c| vec![c]))
            .unwrap_or_default();
        if !samples.is_empty() && samples.iter().all(|v| v.is_string()) {
            FieldType::String
        } else if !samples.is_empty() && samples.iter().all(|v| v.is_boolean()) {
            FieldType::Boolean
        } else {
            FieldType::Any
        }
    };
    (inferred, false)
}

/// `enum` with `enumNames`, or `oneOf`/`anyOf` whose every branch is a `const`.
fn choices_of(s: &Map<String, Value>, root: &Value) -> Vec<Choice> {
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let names = s.get("enumNames").and_then(Value::as_array);
        return values
            .iter()
            .enumerate()
            .map(|(i, value)| Choice {
                value: value.clone(),
                label: names
                    .and_then(|n| n.get(i))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| display_value(value)),
            })
            .collect();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            let choices: Option<Vec<Choice>> = branches
                .iter()
                .map(|b| {
                    let b = deref(b, root);
                    let value = b.get("const").or_else(|| {
                        b.get("enum")
                            .and_then(Value::as_array)
                            .filter(|e| e.len() == 1)
                            .and_then(|e| e.first())
                    })?;
                    Some(Choice {
                        value: value.clone(),
                        label: b
                            .get("title")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| display_value(value)),
                    })
                })
                .collect();
            if let Some(choices) = choices.filter(|c| !c.is_empty()) {
                return choices;
            }
        }
    }
    Vec::new()
}

fn ui_of(s: &Map<String, Value>) -> Ui {
    let mut ui = Ui::default();
    for (key, value) in s {
        let Some(name) = key.strip_prefix("ui:") else {
            continue;
        };
        let text = || value.as_str().map(str::to_string);
        let flag = || value.as_bool() == Some(true);
        match name {
            "field" => ui.field = value.as_str().map(FieldExtension::from_name),
            "widget" => ui.widget = value.as_str().map(Widget::from_name),
            "help" => ui.help = text(),
            "placeholder" => ui.placeholder = text(),
            "autofocus" => ui.autofocus = flag(),
            "readonly" => ui.readonly = flag(),
            "disabled" => ui.disabled = flag(),
            "options" => {
                if let Some(options) = value.as_object() {
                    ui.options = options.clone();
                }
            }
            _ => {
                if name == "backstage" {
                    if let Some(review) = value.get("review") {
                        if review.get("show").and_then(Value::as_bool) == Some(false) {
                            ui.review.show = false;
                        }
                        ui.review.mask = match review.get("mask") {
                            Some(Value::String(mask)) => Some(mask.clone()),
                            Some(Value::Bool(true)) => Some("******".into()),
                            _ => None,
                        };
                    }
                }
                ui.other.insert(key.clone(), value.clone());
            }
        }
    }
    // rjsf also reads these from `ui:options`.
    for (key, slot) in [
        ("readonly", &mut ui.readonly),
        ("disabled", &mut ui.disabled),
    ] {
        if ui.options.get(key).and_then(Value::as_bool) == Some(true) {
            *slot = true;
        }
    }
    if ui.widget.is_none() {
        ui.widget = ui
            .options
            .get("widget")
            .and_then(Value::as_str)
            .map(Widget::from_name);
    }
    ui
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
