//! The effective schema of a form object for the current values: conditionals applied, as
//! react-jsonschema-form applies them before it renders.
//!
//! - `$ref` (`#/definitions/x`, `#/$defs/x`, any JSON pointer into the page) is replaced by its
//!   target, the local keywords winning;
//! - every `allOf` entry is merged in;
//! - `if` is checked against the values and `then` or `else` merged in;
//! - `dependencies`: a key that has a value (and is one of the object's properties) makes its
//!   listed names required (property dependency) or merges its schema (schema dependency); with
//!   `oneOf`, the one branch whose own definition of that key accepts its value is merged, without
//!   that key (none or several: nothing is merged).
//!
//! Merging: `properties` are merged by name (a property seen again is merged into the first,
//! the later keywords winning), `required` lists are joined, other keywords keep their first
//! value. New properties come after the ones already there; `ui:order` then orders them.

use serde_json::{Map, Value};

use super::validate;

/// How deep `$ref`s and conditionals may nest before the rest is ignored (a cycle, or a schema
/// no person wrote).
const MAX_DEPTH: usize = 32;

/// An object schema with its conditionals applied for some values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolved {
    /// The merged keywords, without `allOf`, `if`/`then`/`else`, `dependencies` and `$ref`.
    pub schema: Map<String, Value>,
    /// The property names in display order (`ui:order` applied).
    pub order: Vec<String>,
    /// The required property names.
    pub required: Vec<String>,
}

impl Resolved {
    /// The properties in display order, with their schemas.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &Value)> {
        let props = self.schema.get("properties").and_then(Value::as_object);
        self.order
            .iter()
            .filter_map(move |name| Some((name.as_str(), props?.get(name)?)))
    }

    /// Whether the object has a property of that name.
    pub fn has_property(&self, name: &str) -> bool {
        self.schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|props| props.contains_key(name))
    }

    /// Whether the property is required.
    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }

    /// The merged schema as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut schema = self.schema.clone();
        if !self.required.is_empty() {
            schema.insert(
                "required".into(),
                Value::Array(self.required.iter().cloned().map(Value::String).collect()),
            );
        }
        Value::Object(schema)
    }
}

/// The effective schema of `schema` for `value` (the object's current values; `null` or a
/// missing value counts as an empty object). `root` is what `$ref`s point into (the page).
pub fn resolve(schema: &Value, value: &Value, root: &Value) -> Resolved {
    let empty = Value::Object(Map::new());
    let value = if value.is_null() { &empty } else { value };
    let mut out = Resolved::default();
    resolve_into(schema, value, root, 0, &mut out);
    apply_ui_order(&mut out);
    out
}

/// The target of a local `$ref` (`#`, `#/definitions/name`, any JSON pointer into `root`).
pub fn lookup_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let mut decoded = String::with_capacity(pointer.len());
    percent_decode_into(pointer, &mut decoded);
    root.pointer(&decoded)
}

/// The schema behind `$ref`s, at most [`MAX_DEPTH`] deep; other schemas as they are.
pub fn deref<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..MAX_DEPTH {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| lookup_ref(root, r))
        {
            // A `$ref` with siblings keeps them: the caller resolves it.
            Some(target) if current.as_object().is_some_and(|o| o.len() == 1) => current = target,
            _ => break,
        }
    }
    current
}

fn percent_decode_into(input: &str, out: &mut String) {
    let bytes = input.as_bytes();
    let mut raw = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                raw.push(byte);
                i += 3;
                continue;
            }
        }
        raw.push(bytes[i]);
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&raw));
}

fn resolve_into(schema: &Value, value: &Value, root: &Value, depth: usize, out: &mut Resolved) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(obj) = schema.as_object() else {
        return;
    };
    if let Some(target) = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| lookup_ref(root, r))
    {
        // Local keywords win: merge them first, the target's only fill what is missing.
        merge_keywords(out, obj);
        resolve_into(target, value, root, depth + 1, out);
    } else {
        merge_keywords(out, obj);
    }
    if let Some(entries) = obj.get("allOf").and_then(Value::as_array) {
        for entry in entries {
            resolve_into(entry, value, root, depth + 1, out);
        }
    }
    if let Some(condition) = obj.get("if") {
        let branch = if validate::is_valid(condition, value, root) {
            "then"
        } else {
            "else"
        };
        if let Some(branch) = obj.get(branch) {
            resolve_into(branch, value, root, depth + 1, out);
        }
    }
    if let Some(dependencies) = obj.get("dependencies").and_then(Value::as_object) {
        for (key, dependency) in dependencies {
            let Some(dependent) = value.get(key) else {
                continue;
            };
            if !out.has_property(key) {
                continue;
            }
            match dependency {
                Value::Array(names) => {
                    for name in names.iter().filter_map(Value::as_str) {
                        add_required(out, name);
                    }
                }
                Value::Object(dep) => {
                    let mut rest = dep.clone();
                    let branches = rest.remove("oneOf");
                    resolve_into(&Value::Object(rest), value, root, depth + 1, out);
                    if let Some(Value::Array(branches)) = branches {
                        let chosen: Vec<&Value> = branches
                            .iter()
                            .filter(|branch| {
                                let branch = deref(branch, root);
                                branch
                                    .get("properties")
                                    .and_then(|p| p.get(key))
                                    .is_some_and(|cond| validate::is_valid(cond, dependent, root))
                            })
                            .collect();
                        if let [branch] = chosen.as_slice() {
                            let mut branch = deref(branch, root).clone();
                            if let Some(props) =
                                branch.get_mut("properties").and_then(Value::as_object_mut)
                            {
                                props.remove(key);
                            }
                            resolve_into(&branch, value, root, depth + 1, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn add_required(out: &mut Resolved, name: &str) {
    if !out.is_required(name) {
        out.required.push(name.to_string());
    }
}

/// Merges one schema's own keywords (not its conditionals) into `out`.
fn merge_keywords(out: &mut Resolved, obj: &Map<String, Value>) {
    for (key, value) in obj {
        match key.as_str() {
            "allOf" | "if" | "then" | "else" | "dependencies" | "$ref" => {}
            "required" => {
                for name in value.as_array().into_iter().flatten() {
                    if let Some(name) = name.as_str() {
                        add_required(out, name);
                    }
                }
            }
            "properties" => {
                let Some(props) = value.as_object() else {
                    continue;
                };
                let target = out
                    .schema
                    .entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !target.is_object() {
                    *target = Value::Object(Map::new());
                }
                let Some(target) = target.as_object_mut() else {
                    continue;
                };
                for (name, schema) in props {
                    match target.get_mut(name) {
                        Some(existing) => merge_schema(existing, schema),
                        None => {
                            target.insert(name.clone(), schema.clone());
                            out.order.push(name.clone());
                        }
                    }
                }
            }
            _ => {
                out.schema
                    .entry(key.clone())
                    .or_insert_with(|| value.clone());
            }
        }
    }
}

/// Deep merge of a property defined twice: objects merged key by key, `required` joined, other
/// values from `right`.
fn merge_schema(left: &mut Value, right: &Value) {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for (key, value) in r {
                match (key.as_str(), l.get_mut(key)) {
                    ("required", Some(Value::Array(existing))) => {
                        for name in value.as_array().into_iter().flatten() {
                            if !existing.contains(name) {
                                existing.push(name.clone());
                            }
                        }
                    }
                    (_, Some(existing)) if existing.is_object() && value.is_object() => {
                        merge_schema(existing, value)
                    }
                    _ => {
                        l.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (left, right) => *left = right.clone(),
    }
}

/// Orders the properties by `ui:order`: listed names first, `*` standing for the others in
/// their order; names not listed and no `*` go last; unknown names are ignored.
fn apply_ui_order(out: &mut Resolved) {
    let Some(order) = out.schema.get("ui:order").and_then(Value::as_array) else {
        return;
    };
    let listed: Vec<&str> = order.iter().filter_map(Value::as_str).collect();
    let rest: Vec<String> = out
        .order
        .iter()
        .filter(|name| !listed.contains(&name.as_str()))
        .cloned()
        .collect();
    let mut ordered = Vec::with_capacity(out.order.len());
    let mut rest_placed = false;
    for name in &listed {
        if *name == "*" {
            if !rest_placed {
                ordered.extend(rest.iter().cloned());
                rest_placed = true;
            }
        } else if out.order.iter().any(|n| n == name) && !ordered.iter().any(|n| n == name) {
            ordered.push((*name).to_string());
        }
    }
    if !rest_placed {
        ordered.extend(rest);
    }
    out.order = ordered;
}
