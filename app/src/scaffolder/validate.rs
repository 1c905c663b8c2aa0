//! Validation of form values against a page's effective schema, with messages in plain words.
//!
//! JSON Schema (draft 7, the parts templates use): `type`, `enum`, `const`, `minLength`,
//! `maxLength`, `pattern` (unanchored, `regex-lite` syntax), `format`, `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `items`, `minItems`, `maxItems`,
//! `uniqueItems`, `properties`, `required`, `additionalProperties`, `allOf`, `anyOf`, `oneOf`,
//! `not`, `if`/`then`/`else`, `dependencies`, local `$ref`. Unknown keywords and formats are
//! ignored, as JSON Schema says. Lengths count characters (code points).
//!
//! Field extensions add their own rules, as Backstage's form does: EntityNamePicker (an entity
//! name), RepoUrlPicker (`host?owner=…&repo=…`, or `organization`/`workspace`/`project` for the
//! hosts that need them, within `allowedHosts`/`allowedOwners`/`allowedRepos`/
//! `allowedOrganizations`/`allowedProjects`), EntityTagsPicker (catalog tags).
//!
//! Each error is a [`FieldError`]: the field's dotted path and a sentence that starts with the
//! field's title (or name): "Name is required", "Port must be at most 65535". An item of a list
//! is reported on the list's path ("Tags item 2 must …").

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::resolve::{lookup_ref, resolve};
use super::{display_value, join_path, json_equal, FieldError};

/// How deep schemas may nest while validating before the rest is not checked.
const MAX_DEPTH: usize = 48;

/// The kind of source-control host a RepoUrlPicker value points at: which query keys it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScmKind {
    GitHub,
    GitLab,
    Gitea,
    /// `workspace` (on bitbucket.org) and `project` instead of `owner`.
    Bitbucket,
    /// `organization` and `project` (Azure DevOps) instead of `owner`.
    Azure,
    /// No owner needed.
    Gerrit,
    Other,
}

impl ScmKind {
    /// A guess from the host name, for hosts the [`Context`] does not list.
    pub fn guess(host: &str) -> ScmKind {
        let host = host.to_ascii_lowercase();
        if host.contains("bitbucket") {
            ScmKind::Bitbucket
        } else if host == "dev.azure.com" || host.ends_with(".visualstudio.com") {
            ScmKind::Azure
        } else if host.contains("gerrit") {
            ScmKind::Gerrit
        } else if host.contains("gitlab") {
            ScmKind::GitLab
        } else if host.contains("gitea") {
            ScmKind::Gitea
        } else if host.contains("github") {
            ScmKind::GitHub
        } else {
            ScmKind::Other
        }
    }
}

/// Evaluates a page's `when:` expression over the values of the pages shown before it.
pub type WhenEvaluator = Arc<dyn Fn(&str, &Value) -> bool + Send + Sync>;

/// What validation needs to know besides the schema.
#[derive(Clone, Default)]
pub struct Context {
    /// Source-control hosts by name (from the integrations config); others are guessed.
    pub hosts: BTreeMap<String, ScmKind>,
    /// Evaluates pages' `when:` expressions; without it, such a page is shown (as Backstage
    /// shows a page whose condition fails to evaluate).
    pub when: Option<WhenEvaluator>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("hosts", &self.hosts)
            .field("when", &self.when.as_ref().map(|_| "<evaluator>"))
            .finish()
    }
}

impl Context {
    /// The kind of a host: listed, else guessed.
    pub fn scm_kind(&self, host: &str) -> ScmKind {
        self.hosts
            .get(host)
            .copied()
            .unwrap_or_else(|| ScmKind::guess(host))
    }
}

/// Validates `value` against `schema`; `root` is what `$ref`s point into.
pub fn validate(schema: &Value, value: &Value, root: &Value, context: &Context) -> Vec<FieldError> {
    let mut checker = Checker {
        root,
        context,
        errors: Vec::new(),
        stop_at_first: false,
    };
    // The page's own values: an absent object counts as empty.
    let empty = Value::Object(Map::new());
    let value = if value.is_null() { &empty } else { value };
    checker.check(schema, value, "", "The form", 0, false);
    let mut unique: Vec<FieldError> = Vec::with_capacity(checker.errors.len());
    for error in checker.errors {
        if !unique.contains(&error) {
            unique.push(error);
        }
    }
    unique
}

/// Whether `value` is valid against `schema` (for `if`, `oneOf` branches and dependencies).
pub fn is_valid(schema: &Value, value: &Value, root: &Value) -> bool {
    let context = Context::default();
    let mut checker = Checker {
        root,
        context: &context,
        errors: Vec::new(),
        stop_at_first: true,
    };
    checker.check(schema, value, "", "", 0, false);
    checker.errors.is_empty()
}

struct Checker<'a> {
    root: &'a Value,
    context: &'a Context,
    errors: Vec<FieldError>,
    stop_at_first: bool,
}

impl Checker<'_> {
    fn fail(&mut self, path: &str, message: String) {
        self.errors.push(FieldError {
            field: path.to_string(),
            message,
        });
    }

    fn done(&self) -> bool {
        self.stop_at_first && !self.errors.is_empty()
    }

    /// `object_done`: the object keywords were already checked on the merged schema (this is an
    /// `allOf` entry or an `if` branch of it).
    fn check(
        &mut self,
        schema: &Value,
        value: &Value,
        path: &str,
        label: &str,
        depth: usize,
        object_done: bool,
    ) {
        if depth > MAX_DEPTH || self.done() {
            return;
        }
        let s = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return self.fail(path, format!("{label} is not allowed")),
            Value::Object(s) => s,
            _ => return,
        };
        let label = match s.get("title").and_then(Value::as_str) {
            Some(title) if !title.is_empty() && !path.is_empty() => title,
            _ => label,
        };
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| lookup_ref(self.root, r))
        {
            self.check(target, value, path, label, depth + 1, object_done);
        }
        if let Some(types) = s.get("type") {
            if !type_matches(types, value) {
                return self.fail(path, format!("{label} must be {}", type_words(types)));
            }
        }
        if let Some(choices) = s.get("enum").and_then(Value::as_array) {
            if !choices.iter().any(|c| json_equal(c, value)) {
                let names = s.get("enumNames").and_then(Value::as_array);
                let shown: Vec<String> = choices
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        names
                            .and_then(|n| n.get(i))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| display_value(c))
                    })
                    .collect();
                self.fail(
                    path,
                    format!("{label} must be one of: {}", shown.join(", ")),
                );
            }
        }
        if let Some(constant) = s.get("const") {
            if !json_equal(constant, value) {
                self.fail(path, format!("{label} must be {}", display_value(constant)));
            }
        }
        match value {
            Value::String(text) => self.check_string(s, text, path, label),
            Value::Number(n) => {
                if let Some(n) = n.as_f64() {
                    self.check_number(s, n, path, label)
                }
            }
            Value::Array(items) => self.check_array(s, items, path, label, depth),
            Value::Object(_) if !object_done => self.check_object(schema, value, path, depth),
            _ => {}
        }
        self.check_extension(s, value, path, label);
        if let Some(entries) = s.get("allOf").and_then(Value::as_array) {
            for entry in entries {
                self.check(entry, value, path, label, depth + 1, true);
            }
        }
        if let Some(condition) = s.get("if") {
            let branch = if is_valid(condition, value, self.root) {
                "then"
            } else {
                "else"
            };
            if let Some(branch) = s.get(branch) {
                self.check(branch, value, path, label, depth + 1, true);
            }
        }
        if let Some(branches) = s.get("anyOf").and_then(Value::as_array) {
            if !branches.iter().any(|b| is_valid(b, value, self.root)) {
                self.fail(path, self.options_message(branches, label, "any"));
            }
        }
        if let Some(branches) = s.get("oneOf").and_then(Value::as_array) {
            let matching = branches
                .iter()
                .filter(|b| is_valid(b, value, self.root))
                .count();
            if matching != 1 {
                self.fail(path, self.options_message(branches, label, "exactly one"));
            }
        }
        if let Some(not) = s.get("not") {
            if is_valid(not, value, self.root) {
                self.fail(path, format!("{label} is not allowed here"));
            }
        }
    }

    /// "must be one of: A, B" when the branches are `const` choices, else a general sentence.
    fn options_message(&self, branches: &[Value], label: &str, how: &str) -> String {
        let consts: Option<Vec<String>> = branches
            .iter()
            .map(|b| {
                let c = b.get("const")?;
                Some(
                    b.get("title")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| display_value(c)),
                )
            })
            .collect();
        match consts {
            Some(names) if !names.is_empty() => {
                format!("{label} must be one of: {}", names.join(", "))
            }
            _ => format!("{label} must match {how} of the allowed forms"),
        }
    }

    fn check_string(&mut self, s: &Map<String, Value>, text: &str, path: &str, label: &str) {
        let length = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if length < min {
                let message = if min == 1 {
                    format!("{label} must not be empty")
                } else {
                    format!("{label} must be at least {min} characters long")
                };
                self.fail(path, message);
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if length > max {
                self.fail(
                    path,
                    format!("{label} must be at most {max} characters long"),
                );
            }
        }
        if let Some(pattern) = s.get("pattern").and_then(Value::as_str) {
            match regex_lite::Regex::new(pattern) {
                Ok(re) => {
                    if !re.is_match(text) {
                        self.fail(path, format!("{label} must match {pattern}"));
                    }
                }
                Err(_) => self.fail(
                    path,
                    format!("{label} cannot be checked: the template's pattern {pattern} is not a valid regular expression"),
                ),
            }
        }
        if let Some(format) = s.get("format").and_then(Value::as_str) {
            if let Some(expected) = format_error(format, text) {
                self.fail(path, format!("{label} must be {expected}"));
            }
        }
    }

    fn check_number(&mut self, s: &Map<String, Value>, n: f64, path: &str, label: &str) {
        let limit = |key: &str| s.get(key).and_then(Value::as_f64);
        let show = |x: f64| {
            Value::from(x)
                .to_string()
                .trim_end_matches(".0")
                .to_string()
        };
        if let Some(min) = limit("minimum") {
            if n < min {
                self.fail(path, format!("{label} must be at least {}", show(min)));
            }
        }
        if let Some(max) = limit("maximum") {
            if n > max {
                self.fail(path, format!("{label} must be at most {}", show(max)));
            }
        }
        if let Some(min) = limit("exclusiveMinimum") {
            if n <= min {
                self.fail(path, format!("{label} must be greater than {}", show(min)));
            }
        }
        if let Some(max) = limit("exclusiveMaximum") {
            if n >= max {
                self.fail(path, format!("{label} must be less than {}", show(max)));
            }
        }
        if let Some(step) = limit("multipleOf").filter(|m| *m > 0.0) {
            let quotient = n / step;
            if (quotient - quotient.round()).abs() > 1e-9 * quotient.abs().max(1.0) {
                self.fail(
                    path,
                    format!("{label} must be a multiple of {}", show(step)),
                );
            }
        }
    }

    fn check_array(
        &mut self,
        s: &Map<String, Value>,
        items: &[Value],
        path: &str,
        label: &str,
        depth: usize,
    ) {
        let count = items.len() as u64;
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if count < min {
                let message = if min == 1 {
                    format!("{label} must have at least one item")
                } else {
                    format!("{label} must have at least {min} items")
                };
                self.fail(path, message);
            }
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
            if count > max {
                self.fail(path, format!("{label} must have at most {max} items"));
            }
        }
        if s.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
            let duplicate = items
                .iter()
                .enumerate()
                .find(|(i, a)| items[..*i].iter().any(|b| json_equal(a, b)));
            if let Some((_, item)) = duplicate {
                self.fail(
                    path,
                    format!("{label} must not list {} twice", display_value(item)),
                );
            }
        }
        match s.get("items") {
            Some(Value::Array(tuple)) => {
                for (i, (item, schema)) in items.iter().zip(tuple).enumerate() {
                    let item_label = format!("{label} item {}", i + 1);
                    self.check_item(schema, item, path, &item_label, depth);
                }
            }
            Some(schema) => {
                for (i, item) in items.iter().enumerate() {
                    let item_label = format!("{label} item {}", i + 1);
                    self.check_item(schema, item, path, &item_label, depth);
                }
            }
            None => {}
        }
    }

    /// An item: its errors are the list's, named "Tags item 2"; an object item's fields get
    /// their own paths under the list (`path.0.name`).
    fn check_item(&mut self, schema: &Value, item: &Value, path: &str, label: &str, depth: usize) {
        // An item's own title would hide which item it is: use the numbered label.
        let mut schema = schema.clone();
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("title");
        }
        self.check(&schema, item, path, label, depth + 1, false);
    }

    fn check_object(&mut self, schema: &Value, value: &Value, path: &str, depth: usize) {
        let Some(obj) = value.as_object() else {
            return;
        };
        let resolved = resolve(schema, value, self.root);
        let props = resolved.schema.get("properties").and_then(Value::as_object);
        let title_of = |name: &str| -> String {
            props
                .and_then(|p| p.get(name))
                .map(|p| super::resolve::deref(p, self.root))
                .and_then(|p| p.get("title"))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .unwrap_or(name)
                .to_string()
        };
        for name in &resolved.required {
            if !obj.contains_key(name) {
                let label = title_of(name);
                self.fail(&join_path(path, name), format!("{label} is required"));
            }
        }
        for (name, child) in obj {
            let child_path = join_path(path, name);
            match props.and_then(|p| p.get(name)) {
                Some(prop) => {
                    let label = title_of(name);
                    self.check(prop, child, &child_path, &label, depth + 1, false);
                }
                None => match resolved.schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        self.fail(&child_path, format!("{name} is not a field of this form"))
                    }
                    Some(extra @ Value::Object(_)) => {
                        self.check(extra, child, &child_path, name, depth + 1, false)
                    }
                    _ => {}
                },
            }
        }
    }

    fn check_extension(&mut self, s: &Map<String, Value>, value: &Value, path: &str, label: &str) {
        let Some(field) = s.get("ui:field").and_then(Value::as_str) else {
            return;
        };
        let options = s.get("ui:options");
        match (field, value) {
            ("EntityNamePicker", Value::String(name)) if !is_valid_entity_name(name) => {
                self.fail(path, format!("{label} must be 1 to 63 letters, digits, '-', '_' or '.', and start and end with a letter or digit"));
            }
            ("RepoUrlPicker", Value::String(url)) => {
                for message in repo_url_errors(url, options, self.context) {
                    self.fail(path, format!("{label}: {message}"));
                }
            }
            ("EntityTagsPicker", Value::Array(tags)) => {
                for tag in tags {
                    if let Some(tag) = tag.as_str() {
                        if !is_valid_tag(tag) {
                            self.fail(path, format!("{label}: \"{tag}\" is not a valid tag: 1 to 63 lower-case letters, digits, '+' or '#', in words joined by '-'"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn type_matches(types: &Value, value: &Value) -> bool {
    let one = |t: &str| match t {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value
            .as_f64()
            .is_some_and(|n| n.fract() == 0.0 && n.is_finite()),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    };
    match types {
        Value::String(t) => one(t),
        Value::Array(ts) => ts.is_empty() || ts.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

fn type_words(types: &Value) -> String {
    fn word(t: &str) -> &str {
        match t {
            "string" => "text",
            "number" => "a number",
            "integer" => "a whole number",
            "boolean" => "true or false",
            "array" => "a list",
            "object" => "an object",
            "null" => "empty",
            other => other,
        }
    }
    match types {
        Value::String(t) => word(t).to_string(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(word)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "valid".into(),
    }
}

/// What the text should have been, when it is not of the format; `None` when it is, or when the
/// format is not one checked here.
pub fn format_error(format: &str, text: &str) -> Option<&'static str> {
    let ok = match format {
        "email" => is_email(text),
        "uri" | "url" => is_uri(text),
        "uri-reference" => !text.chars().any(char::is_whitespace),
        "date" => is_date(text),
        "time" => is_time(text, false),
        "date-time" => is_date_time(text),
        "hostname" => is_hostname(text),
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.parse::<std::net::Ipv6Addr>().is_ok(),
        "uuid" => is_uuid(text),
        _ => return None,
    };
    if ok {
        return None;
    }
    Some(match format {
        "email" => "an email address (name@example.com)",
        "uri" | "url" => "a URL with a scheme (https://example.com/…)",
        "uri-reference" => "a URL or path without spaces",
        "date" => "a date (YYYY-MM-DD)",
        "time" => "a time (HH:MM:SS)",
        "date-time" => "a date and time (YYYY-MM-DDTHH:MM:SSZ)",
        "hostname" => "a host name (letters, digits and '-' in labels joined by '.')",
        "ipv4" => "an IPv4 address",
        "ipv6" => "an IPv6 address",
        _ => "a UUID",
    })
}

/// One `@`, something before it, a host name with a dot after it, no spaces.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(|c| c.is_whitespace() || c == '@')
        && domain.contains('.')
        && is_hostname(domain)
}

/// `scheme:` then something, no spaces.
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && (!rest.starts_with("//") || rest.len() > 2)
}

fn digits(text: &str, n: usize) -> Option<u32> {
    (text.len() == n && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD`, a day that exists.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `HH:MM:SS` with optional fraction, and a zone (`Z`, `+HH:MM`) required when `zone_required`.
fn is_time(text: &str, zone_required: bool) -> bool {
    let (clock, zone) = match text.find(['Z', 'z', '+', '-']) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let clock = clock.split_once('.').map_or(clock, |(main, fraction)| {
        if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) {
            main
        } else {
            "invalid"
        }
    });
    let parts: Vec<&str> = clock.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return false;
    };
    let (Some(h), Some(m), Some(s)) = (digits(h, 2), digits(m, 2), digits(s, 2)) else {
        return false;
    };
    if h > 23 || m > 59 || s > 60 {
        return false;
    }
    match zone {
        None => !zone_required,
        Some("Z" | "z") => true,
        Some(offset) => {
            let parts: Vec<&str> = offset[1..].split(':').collect();
            matches!(parts.as_slice(), [h, m] if digits(h, 2).is_some_and(|h| h <= 23) && digits(m, 2).is_some_and(|m| m <= 59))
        }
    }
}

/// RFC 3339: a date, `T` (or a space), a time with its zone.
fn is_date_time(text: &str) -> bool {
    if text.len() < 11 || !text.is_char_boundary(10) {
        return false;
    }
    let (date, rest) = text.split_at(10);
    let Some(time) = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))
    else {
        return false;
    };
    is_date(date) && is_time(time, true)
}

/// Labels of letters, digits and `-` (not at either end), 1 to 63 long, 253 in all.
fn is_hostname(text: &str) -> bool {
    let text = text.strip_suffix('.').unwrap_or(text);
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub use crate::names::{is_valid_entity_name, is_valid_tag};

/// A RepoUrlPicker value: `host?owner=o&repo=r` (other keys for other hosts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoUrl {
    pub host: String,
    /// The query's keys and values, decoded.
    pub params: Vec<(String, String)>,
}

impl RepoUrl {
    /// Splits the value at `?` and decodes the query. `None` when there is no host.
    pub fn parse(value: &str) -> Option<RepoUrl> {
        let (host, query) = value.split_once('?').unwrap_or((value, ""));
        let host = host.trim();
        if host.is_empty() || host.contains(['/', ' ']) {
            return None;
        }
        let params = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Some(RepoUrl {
            host: host.to_string(),
            params,
        })
    }

    /// The first non-empty value of a query key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes `%XX` and `+` (a space) as forms and URLs encode them.
pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What is wrong with a RepoUrlPicker value, in words after "Repository: ".
fn repo_url_errors(value: &str, options: Option<&Value>, context: &Context) -> Vec<String> {
    let Some(url) = RepoUrl::parse(value) else {
        return vec!["the repository location has no host".into()];
    };
    let mut errors = Vec::new();
    let kind = context.scm_kind(&url.host);
    let mut needed: Vec<&str> = match kind {
        ScmKind::Bitbucket if url.host == "bitbucket.org" => vec!["workspace", "project"],
        ScmKind::Bitbucket => vec!["project"],
        ScmKind::Azure => vec!["organization", "project"],
        ScmKind::Gerrit => vec![],
        _ => vec!["owner"],
    };
    needed.push("repo");
    for key in needed {
        if url.get(key).is_none() {
            errors.push(format!("the repository location has no {key}"));
        }
    }
    let allowed = |key: &str| -> Option<Vec<String>> {
        let list = options?.get(key)?.as_array()?;
        let list: Vec<String> = list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        (!list.is_empty()).then_some(list)
    };
    if let Some(hosts) = allowed("allowedHosts") {
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(&url.host)) {
            errors.push(format!("host must be one of: {}", hosts.join(", ")));
        }
    }
    for (option, key) in [
        ("allowedOwners", "owner"),
        ("allowedOrganizations", "organization"),
        ("allowedProjects", "project"),
        ("allowedRepos", "repo"),
    ] {
        if let (Some(list), Some(given)) = (allowed(option), url.get(key)) {
            if !list.iter().any(|a| a == given) {
                errors.push(format!("{key} must be one of: {}", list.join(", ")));
            }
        }
    }
    errors
}
