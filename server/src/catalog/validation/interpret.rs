//! The schema interpreter: checks a value against compiled [`Node`]s and explains every
//! failure in words (what was expected, what was found, why a field is required).

use super::compile::{Additional, JsonType, Node, Schemas};
use super::report::{format_path, quote, RawError, Seg};
use serde_json::{Map, Value};

/// Who is being validated, for "is required (… need …)" messages.
pub(super) struct Subject {
    /// "every entity needs" or "Component entities need".
    needs: String,
}

impl Subject {
    pub(super) fn every_entity() -> Subject {
        Subject {
            needs: "every entity needs".to_string(),
        }
    }

    pub(super) fn kind(kind: &str) -> Subject {
        Subject {
            needs: format!("{kind} entities need"),
        }
    }

    pub(super) fn kind_of_type(kind: &str, ty: &str) -> Subject {
        Subject {
            needs: format!("{kind} entities of type \"{ty}\" need"),
        }
    }
}

impl Schemas {
    pub(super) fn validate(
        &self,
        node: usize,
        value: &Value,
        subject: &Subject,
        errors: &mut Vec<RawError>,
    ) {
        let mut path = Vec::new();
        self.check(node, value, &mut path, subject, errors);
    }

    fn resolve(&self, mut node: usize) -> &Node {
        // References form no cycles in these schemas, but stay safe against one.
        for _ in 0..32 {
            match self.nodes[node].reference {
                Some(target) => node = target,
                None => break,
            }
        }
        &self.nodes[node]
    }

    fn check(
        &self,
        node: usize,
        value: &Value,
        path: &mut Vec<Seg>,
        subject: &Subject,
        errors: &mut Vec<RawError>,
    ) {
        if is_placeholder(value) {
            return;
        }
        let schema = self.resolve(node);

        if let Some(types) = &schema.types {
            if !types.iter().any(|ty| ty.matches(value)) {
                errors.push(RawError {
                    path: path.clone(),
                    message: format!(
                        "expected {}, found {}",
                        self.describe_expected(schema),
                        describe_found(value)
                    ),
                    type_mismatch: true,
                });
                return;
            }
        }
        if let Some(allowed) = &schema.enumeration {
            if !allowed.contains(value) {
                let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
                errors.push(RawError::new(
                    path,
                    format!(
                        "must be one of {} (found {})",
                        list.join(", "),
                        describe_found_value(value)
                    ),
                ));
            }
        }
        if let Some(constant) = &schema.constant {
            if constant != value {
                errors.push(RawError::new(
                    path,
                    format!("must be {constant} (found {})", describe_found_value(value)),
                ));
            }
        }

        match value {
            Value::String(s) => self.check_string(schema, s, path, errors),
            Value::Array(items) => self.check_array(schema, items, path, subject, errors),
            Value::Object(map) => self.check_object(schema, map, path, subject, errors),
            _ => {}
        }

        for &sub in &schema.all_of {
            self.check(sub, value, path, subject, errors);
        }
        if !schema.any_of.is_empty() {
            let results = self.try_branches(&schema.any_of, value, path, subject);
            if !results.iter().any(Vec::is_empty) {
                errors.extend(self.explain_no_branch(&schema.any_of, value, path, results));
            }
        }
        if !schema.one_of.is_empty() {
            let results = self.try_branches(&schema.one_of, value, path, subject);
            let passing = results.iter().filter(|r| r.is_empty()).count();
            if passing == 0 {
                errors.extend(self.explain_no_branch(&schema.one_of, value, path, results));
            } else if passing > 1 {
                errors.push(RawError::new(
                    path,
                    format!(
                        "is ambiguous: it matches more than one of the allowed forms ({})",
                        self.describe_branches(&schema.one_of)
                    ),
                ));
            }
        }
        if let Some((cond, then, otherwise)) = schema.if_then_else {
            let mut probe = Vec::new();
            self.check(cond, value, path, subject, &mut probe);
            let branch = if probe.is_empty() { then } else { otherwise };
            if let Some(branch) = branch {
                self.check(branch, value, path, subject, errors);
            }
        }
    }

    fn check_string(&self, schema: &Node, s: &str, path: &[Seg], errors: &mut Vec<RawError>) {
        // Like ajv, lengths count Unicode code points.
        let len = s.chars().count() as u64;
        let too_short = schema.min_length.is_some_and(|min| len < min);
        let too_long = schema.max_length.is_some_and(|max| len > max);
        if too_short || too_long {
            let found = if len == 0 {
                "an empty string".to_string()
            } else {
                format!("{len} {}", plural(len, "character", "characters"))
            };
            errors.push(RawError::new(
                path,
                format!(
                    "expected {}, found {found}",
                    string_description(schema.min_length, schema.max_length)
                ),
            ));
        }
        if let Some(pattern) = schema.pattern {
            if !pattern.matches(s) {
                errors.push(RawError::new(
                    path,
                    format!("expected {}, found {}", pattern.describe(), quote(s)),
                ));
            }
        }
    }

    fn check_array(
        &self,
        schema: &Node,
        items: &[Value],
        path: &mut Vec<Seg>,
        subject: &Subject,
        errors: &mut Vec<RawError>,
    ) {
        let len = items.len() as u64;
        let too_few = schema.min_items.is_some_and(|min| len < min);
        let too_many = schema.max_items.is_some_and(|max| len > max);
        if too_few || too_many {
            let found = if len == 0 {
                "an empty array".to_string()
            } else {
                format!("{len} {}", plural(len, "item", "items"))
            };
            errors.push(RawError::new(
                path,
                format!(
                    "expected {}, found {found}",
                    array_description(schema.min_items, schema.max_items)
                ),
            ));
        }
        if let Some(item_schema) = schema.items {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                self.check(item_schema, item, path, subject, errors);
                path.pop();
            }
        }
    }

    fn check_object(
        &self,
        schema: &Node,
        map: &Map<String, Value>,
        path: &mut Vec<Seg>,
        subject: &Subject,
        errors: &mut Vec<RawError>,
    ) {
        let missing: Vec<&String> = schema
            .required
            .iter()
            .filter(|name| !map.contains_key(name.as_str()))
            .collect();
        if !missing.is_empty() {
            let reason = required_reason(path, &schema.required, subject);
            for name in missing {
                path.push(Seg::Key(name.clone()));
                errors.push(RawError::new(path, format!("is required ({reason})")));
                path.pop();
            }
        }

        for (key, value) in map {
            let mut known = false;
            for (name, sub) in &schema.properties {
                if name == key {
                    known = true;
                    path.push(Seg::Key(key.clone()));
                    self.check(*sub, value, path, subject, errors);
                    path.pop();
                }
            }
            for (pattern, sub) in &schema.pattern_properties {
                if pattern.matches(key) {
                    known = true;
                    path.push(Seg::Key(key.clone()));
                    self.check(*sub, value, path, subject, errors);
                    path.pop();
                }
            }
            if known {
                continue;
            }
            match schema.additional {
                Additional::Allowed => {}
                Additional::Forbidden => {
                    let mut allowed: Vec<&str> =
                        schema.properties.iter().map(|(n, _)| n.as_str()).collect();
                    allowed.sort_unstable();
                    path.push(Seg::Key(key.clone()));
                    let where_ = if path.len() == 1 {
                        "at the top level of an entity".to_string()
                    } else {
                        format!("in {}", format_path(&path[..path.len() - 1]))
                    };
                    errors.push(RawError::new(
                        path,
                        format!(
                            "unknown field {}: the fields allowed {where_} are {}",
                            quote(key),
                            join_words(&allowed, "and")
                        ),
                    ));
                    path.pop();
                }
                Additional::Schema(sub) => {
                    path.push(Seg::Key(key.clone()));
                    self.check(sub, value, path, subject, errors);
                    path.pop();
                }
            }
        }
    }

    fn try_branches(
        &self,
        branches: &[usize],
        value: &Value,
        path: &mut Vec<Seg>,
        subject: &Subject,
    ) -> Vec<Vec<RawError>> {
        branches
            .iter()
            .map(|&branch| {
                let mut errs = Vec::new();
                self.check(branch, value, path, subject, &mut errs);
                errs
            })
            .collect()
    }

    /// Explains why no branch of an anyOf/oneOf matched: a merged type error if every branch
    /// wants another type, else the errors of the one branch of the right type.
    fn explain_no_branch(
        &self,
        branches: &[usize],
        value: &Value,
        path: &[Seg],
        results: Vec<Vec<RawError>>,
    ) -> Vec<RawError> {
        let wrong_type = |errs: &Vec<RawError>| {
            errs.iter()
                .any(|e| e.type_mismatch && e.path.as_slice() == path)
        };
        let right_type: Vec<Vec<RawError>> = results
            .iter()
            .filter(|errs| !wrong_type(errs))
            .cloned()
            .collect();
        if right_type.len() == 1 {
            return right_type.into_iter().flatten().collect();
        }
        let message = if right_type.is_empty() {
            format!(
                "expected {}, found {}",
                self.describe_branches(branches),
                describe_found(value)
            )
        } else {
            format!(
                "does not match any of the allowed forms ({})",
                self.describe_branches(branches)
            )
        };
        vec![RawError {
            path: path.to_vec(),
            message,
            type_mismatch: right_type.is_empty(),
        }]
    }

    fn describe_branches(&self, branches: &[usize]) -> String {
        let parts: Vec<String> = branches
            .iter()
            .map(|&b| self.describe_expected(self.resolve(b)))
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        join_words(&parts, "or")
    }

    /// "a string of at least 1 character", "an object or an array", "one of "a", "b"".
    fn describe_expected(&self, schema: &Node) -> String {
        if let Some(constant) = &schema.constant {
            return constant.to_string();
        }
        if let Some(allowed) = &schema.enumeration {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return format!("one of {}", list.join(", "));
        }
        match &schema.types {
            Some(types) if types.len() == 1 => match types[0] {
                JsonType::String if schema.min_length.is_some() || schema.max_length.is_some() => {
                    string_description(schema.min_length, schema.max_length)
                }
                JsonType::Array if schema.min_items.is_some() || schema.max_items.is_some() => {
                    array_description(schema.min_items, schema.max_items)
                }
                ty => ty.noun().to_string(),
            },
            Some(types) => {
                let nouns: Vec<&str> = types.iter().map(|t| t.noun()).collect();
                join_words(&nouns, "or")
            }
            None if !schema.one_of.is_empty() => self.describe_branches(&schema.one_of),
            None if !schema.any_of.is_empty() => self.describe_branches(&schema.any_of),
            None => "a value".to_string(),
        }
    }
}

/// The reason given for a missing required field.
fn required_reason(path: &[Seg], required: &[String], subject: &Subject) -> String {
    let names: Vec<&str> = required.iter().map(String::as_str).collect();
    match path.last() {
        Some(Seg::Index(_)) => format!(
            "each item of {} needs {}",
            format_path(&path[..path.len() - 1]),
            join_words(&names, "and")
        ),
        _ if path.iter().any(|s| matches!(s, Seg::Index(_))) => {
            format!("{} needs {}", format_path(path), join_words(&names, "and"))
        }
        _ => {
            let full: Vec<String> = required
                .iter()
                .map(|name| {
                    let mut p = path.to_vec();
                    p.push(Seg::Key(name.clone()));
                    format_path(&p)
                })
                .collect();
            let full: Vec<&str> = full.iter().map(String::as_str).collect();
            format!("{} {}", subject.needs, join_words(&full, "and"))
        }
    }
}

fn string_description(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("a string of {min} to {max} characters"),
        (Some(min), None) => format!(
            "a string of at least {min} {}",
            plural(min, "character", "characters")
        ),
        (None, Some(max)) => format!(
            "a string of at most {max} {}",
            plural(max, "character", "characters")
        ),
        (None, None) => "a string".to_string(),
    }
}

fn array_description(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("an array of {min} to {max} items"),
        (Some(min), None) => format!(
            "an array of at least {min} {}",
            plural(min, "item", "items")
        ),
        (None, Some(max)) => format!("an array of at most {max} {}", plural(max, "item", "items")),
        (None, None) => "an array".to_string(),
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The kind of value found, in words: "a number", "an empty string", "null (an empty value)".
fn describe_found(value: &Value) -> String {
    match value {
        Value::Null => "null (an empty value)".to_string(),
        Value::Bool(_) => "a boolean".to_string(),
        Value::Number(_) => "a number".to_string(),
        Value::String(s) if s.is_empty() => "an empty string".to_string(),
        Value::String(_) => "a string".to_string(),
        Value::Array(a) if a.is_empty() => "an empty array".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// The value found, shown when it is short: `"backstage.io/v2"`, `3`, else its kind.
fn describe_found_value(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        other => describe_found(other),
    }
}

/// `"a", "b" and "c"` style lists.
fn join_words(words: &[&str], conjunction: &str) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// Backstage placeholders (`$text: ./file`, …), substituted before validation.
fn is_placeholder(value: &Value) -> bool {
    const RESOLVERS: &[&str] = &["$text", "$json", "$yaml", "$openapi", "$asyncapi"];
    match value.as_object() {
        Some(map) if map.len() == 1 => map
            .iter()
            .all(|(key, v)| RESOLVERS.contains(&key.as_str()) && v.is_string()),
        _ => false,
    }
}
