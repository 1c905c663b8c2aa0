//! The template engine: `${{ … }}` expressions and `{% … %}` blocks as Backstage's scaffolder
//! renders them (a Nunjucks subset with JavaScript values), on minijinja.
//!
//! What is Backstage's and not minijinja's: plain `{{ }}` is text (unless `cookiecutterCompat`),
//! values print as JavaScript prints them (undefined empty, arrays `a,b`, objects
//! `[object Object]`, `1.5`), arrays and objects are truthy even when empty, no autoescaping,
//! the trailing newline is kept, only Nunjucks' filters exist (plus Backstage's `parseRepoUrl`,
//! `parseEntityRef`, `pick`, `projectSlug`) and any other filter is an error.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use super::js;
use super::RenderError;

/// How one render call parses and prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Syntax {
    /// `{{ }}` instead of `${{ }}`, and the `jsonify` filter (fetch:template's
    /// `cookiecutterCompat`).
    pub cookiecutter_compat: bool,
    /// Remove the first newline after a block tag.
    pub trim_blocks: bool,
    /// Strip whitespace before a block tag at the start of a line.
    pub lstrip_blocks: bool,
}

/// Renders templates; cheap to clone and share.
#[derive(Debug, Clone)]
pub struct Renderer {
    /// Host → integration type (`github`, `gitlab`, `bitbucketCloud`, `azure`, …), for
    /// `parseRepoUrl` and `projectSlug`.
    integrations: Arc<BTreeMap<String, String>>,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    /// A renderer that knows the hosts Backstage knows without configuration: github.com,
    /// gitlab.com, bitbucket.org and dev.azure.com.
    pub fn new() -> Self {
        let integrations = [
            ("github.com", "github"),
            ("gitlab.com", "gitlab"),
            ("bitbucket.org", "bitbucketCloud"),
            ("dev.azure.com", "azure"),
        ]
        .into_iter()
        .map(|(h, t)| (h.to_string(), t.to_string()))
        .collect();
        Self {
            integrations: Arc::new(integrations),
        }
    }

    /// Adds (or replaces) a host `parseRepoUrl` accepts, with its integration type (`github`,
    /// `gitlab`, `gitea`, `gerrit`, `bitbucketServer`, `bitbucketCloud`, `azure`): the type
    /// decides which query parameters are required.
    pub fn with_integration(mut self, host: &str, kind: &str) -> Self {
        Arc::make_mut(&mut self.integrations).insert(host.to_ascii_lowercase(), kind.to_string());
        self
    }

    /// Renders a template to text, as Backstage renders a skeleton file.
    pub fn render_str(
        &self,
        template: &str,
        ctx: &serde_json::Value,
    ) -> Result<String, RenderError> {
        let engine = self.engine(Syntax::default());
        engine.render(template, &js::from_json(ctx), None)
    }

    /// Renders every string inside a step input or the template's `output`, as Backstage does
    /// (`renderValue` with JSON coercion): a string that is one `${{ expr }}` (or one block)
    /// keeps the JSON type of what it renders; text renders to a string; a string that renders
    /// empty is `undefined` (its key disappears; in an array it becomes `null`); a string whose
    /// rendering fails is kept as it was. `None`: the whole value is `undefined`.
    pub fn render_value(
        &self,
        value: &serde_json::Value,
        ctx: &serde_json::Value,
    ) -> Option<serde_json::Value> {
        let engine = self.engine(Syntax::default());
        engine.render_value(value, &js::from_json(ctx))
    }

    /// Whether `template` parses (its expressions and blocks), without rendering it.
    pub fn check(&self, template: &str) -> Result<(), RenderError> {
        let env = self.environment(Syntax::default(), false);
        let var_start = env.syntax().variable_delimiters().0.to_string();
        let template = quote_object_keys(template, &var_start);
        env.template_from_named_str("<template>", &template)
            .map(|_| ())
            .map_err(|e| RenderError::from_minijinja(&e, None))
    }

    /// The engine for one syntax (used for many renders with the same settings).
    pub(crate) fn engine(&self, syntax: Syntax) -> Engine {
        Engine {
            text: self.environment(syntax, false),
            json: self.environment(syntax, true),
            syntax,
        }
    }

    fn environment(&self, syntax: Syntax, json_output: bool) -> Environment<'static> {
        let mut env = Environment::empty();
        let delimiters = if syntax.cookiecutter_compat {
            ("{{", "}}")
        } else {
            ("${{", "}}")
        };
        match SyntaxConfig::builder()
            .variable_delimiters(delimiters.0, delimiters.1)
            .build()
        {
            Ok(config) => env.set_syntax(config),
            Err(e) => tracing::error!(error = %e, "scaffolder template syntax refused"),
        }
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(syntax.trim_blocks);
        env.set_lstrip_blocks(syntax.lstrip_blocks);
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_recursion_limit(100);
        if json_output {
            // JSON coercion: every printed value is written as `JSON.stringify` writes it.
            env.set_formatter(|out, _state, value| {
                if let Some(s) = js::json_stringify(value, "") {
                    out.write_str(&s)?;
                }
                Ok(())
            });
        } else {
            env.set_formatter(|out, _state, value| {
                out.write_str(&js::to_js_string(value))?;
                Ok(())
            });
        }
        filters::register(
            &mut env,
            self.integrations.clone(),
            syntax.cookiecutter_compat,
        );
        env
    }
}

/// Compiled settings for one syntax: renders many templates.
pub(crate) struct Engine {
    text: Environment<'static>,
    json: Environment<'static>,
    syntax: Syntax,
}

impl Engine {
    /// Renders `template` to text; `file` names it in errors.
    pub(crate) fn render(
        &self,
        template: &str,
        ctx: &Value,
        file: Option<&str>,
    ) -> Result<String, RenderError> {
        render_with(&self.text, template, ctx, file)
    }

    /// One string with JSON coercion: `Ok(None)` is `undefined`.
    fn render_coerced(
        &self,
        template: &str,
        ctx: &Value,
    ) -> Result<Option<serde_json::Value>, RenderError> {
        if single_node_root(template, self.syntax) {
            let encoded = render_with(&self.json, template, ctx, None)?;
            if encoded.is_empty() {
                return Ok(None);
            }
            if let Ok(value) = serde_json::from_str(&encoded) {
                return Ok(Some(value));
            }
        }
        let text = render_with(&self.text, template, ctx, None)?;
        Ok((!text.is_empty()).then_some(serde_json::Value::String(text)))
    }

    pub(crate) fn render_value(
        &self,
        value: &serde_json::Value,
        ctx: &Value,
    ) -> Option<serde_json::Value> {
        match value {
            serde_json::Value::String(s) => match self.render_coerced(s, ctx) {
                Ok(rendered) => rendered,
                Err(error) => {
                    tracing::debug!(%error, "template value kept unrendered");
                    Some(value.clone())
                }
            },
            serde_json::Value::Array(items) => Some(serde_json::Value::Array(
                items
                    .iter()
                    .map(|item| {
                        self.render_value(item, ctx)
                            .unwrap_or(serde_json::Value::Null)
                    })
                    .collect(),
            )),
            serde_json::Value::Object(map) => Some(serde_json::Value::Object(
                map.iter()
                    .filter_map(|(k, v)| self.render_value(v, ctx).map(|v| (k.clone(), v)))
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }
}

fn render_with(
    env: &Environment<'static>,
    template: &str,
    ctx: &Value,
    file: Option<&str>,
) -> Result<String, RenderError> {
    let name = file.unwrap_or("<template>");
    let var_start = env.syntax().variable_delimiters().0.to_string();
    let template = quote_object_keys(template, &var_start);
    env.template_from_named_str(name, &template)
        .and_then(|t| t.render(ctx))
        .map_err(|e| RenderError::from_minijinja(&e, file))
}

impl RenderError {
    fn from_minijinja(e: &minijinja::Error, file: Option<&str>) -> Self {
        let message = match (e.kind(), e.detail()) {
            (ErrorKind::UnknownFilter, Some(d)) => format!("unknown filter: {d}"),
            (_, Some(d)) => format!("{}: {d}", e.kind()),
            (kind, None) => kind.to_string(),
        };
        RenderError::Template {
            file: file.map(str::to_string),
            line: e.line(),
            message,
        }
    }
}

/// Object literals with bare keys (`{ defaultKind: "group" }`), which Nunjucks reads as
/// strings and minijinja as variables: the keys are quoted inside every `${{ }}` / `{{ }}` and
/// `{% %}`. Nothing else changes, so line numbers stay.
fn quote_object_keys<'a>(template: &'a str, var_start: &str) -> std::borrow::Cow<'a, str> {
    if !template.contains('{') || !template.contains(':') {
        return std::borrow::Cow::Borrowed(template);
    }
    let mut out = String::with_capacity(template.len() + 8);
    let mut rest = template;
    let mut changed = false;
    while let Some((start, delim)) = [var_start, "{%"]
        .iter()
        .filter_map(|d| rest.find(d).map(|i| (i, *d)))
        .min_by_key(|(i, _)| *i)
    {
        let end_delim = if delim == "{%" { "%}" } else { "}}" };
        let body_start = start + delim.len();
        let Some(len) = find_end(&rest[body_start..], end_delim) else {
            break;
        };
        out.push_str(&rest[..body_start]);
        let body = &rest[body_start..body_start + len];
        let quoted = quote_keys_in_expression(body);
        changed |= quoted != body;
        out.push_str(&quoted);
        rest = &rest[body_start + len..];
        out.push_str(&rest[..end_delim.len()]);
        rest = &rest[end_delim.len()..];
    }
    out.push_str(rest);
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(template)
    }
}

fn quote_keys_in_expression(body: &str) -> String {
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len() + 4);
    let mut stack: Vec<char> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            // A string literal, copied whole.
            let mut j = i + 1;
            while j < chars.len() && chars[j] != c {
                if chars[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
            expect_key = false;
            continue;
        }
        if expect_key && (c.is_ascii_alphabetic() || c == '_' || c == '$') {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '$')
            {
                j += 1;
            }
            let mut k = j;
            while k < chars.len() && chars[k].is_whitespace() {
                k += 1;
            }
            let ident: String = chars[i..j].iter().collect();
            if k < chars.len() && chars[k] == ':' {
                out.push('"');
                out.push_str(&ident);
                out.push('"');
            } else {
                out.push_str(&ident);
            }
            i = j;
            expect_key = false;
            continue;
        }
        match c {
            '{' | '[' | '(' => {
                stack.push(c);
                expect_key = c == '{';
            }
            '}' | ']' | ')' => {
                stack.pop();
                expect_key = false;
            }
            ',' => expect_key = stack.last() == Some(&'{'),
            c if c.is_whitespace() => {}
            _ => expect_key = false,
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether the template is one node that is not text (one `${{ }}`, or one block with its
/// end): the shape whose output JSON coercion reads as JSON, as Backstage's engine decides.
fn single_node_root(template: &str, syntax: Syntax) -> bool {
    let var_start = if syntax.cookiecutter_compat {
        "{{"
    } else {
        "${{"
    };
    let mut rest = template;
    let mut nodes = 0usize;
    let mut non_text = false;
    let mut depth = 0usize;
    let mut pending_text = String::new();
    let flush = |text: &mut String, strip_end: bool, nodes: &mut usize, depth: usize| {
        let t = if strip_end {
            text.trim_end()
        } else {
            text.as_str()
        };
        if !t.is_empty() && depth == 0 {
            *nodes += 1;
        }
        text.clear();
    };
    let mut strip_start = false;
    loop {
        let next = [var_start, "{%", "{#"]
            .iter()
            .filter_map(|d| rest.find(d).map(|i| (i, *d)))
            .min_by_key(|(i, _)| *i);
        let Some((at, delim)) = next else {
            let text = if strip_start { rest.trim_start() } else { rest };
            pending_text.push_str(text);
            flush(&mut pending_text, false, &mut nodes, depth);
            break;
        };
        let before = &rest[..at];
        pending_text.push_str(if strip_start {
            before.trim_start()
        } else {
            before
        });
        let body_start = at + delim.len();
        let end_delim = match delim {
            "{%" => "%}",
            "{#" => "#}",
            _ => "}}",
        };
        let Some(body_len) = find_end(&rest[body_start..], end_delim) else {
            return false;
        };
        let body = &rest[body_start..body_start + body_len];
        let strip_end = body.starts_with('-');
        flush(&mut pending_text, strip_end, &mut nodes, depth);
        strip_start = body.ends_with('-');
        rest = &rest[body_start + body_len + end_delim.len()..];
        match delim {
            "{#" => {}
            "{%" => {
                let inner = body.trim_matches(|c: char| c == '-' || c == '+').trim();
                let tag = inner.split_whitespace().next().unwrap_or("");
                if tag.starts_with("end") {
                    depth = depth.saturating_sub(1);
                } else if matches!(tag, "else" | "elif" | "elseif") {
                } else {
                    if depth == 0 {
                        nodes += 1;
                        non_text = true;
                    }
                    let opens = matches!(
                        tag,
                        "if" | "for" | "macro" | "call" | "filter" | "raw" | "verbatim"
                    ) || (tag == "set" && !inner.contains('='));
                    if opens {
                        depth += 1;
                    }
                }
            }
            _ => {
                if depth == 0 {
                    nodes += 1;
                    non_text = true;
                }
            }
        }
    }
    nodes == 1 && non_text
}

/// Where `end` closes a tag body, skipping quoted strings.
fn find_end(body: &str, end: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'\'' {
                    quote = Some(b);
                } else if body[i..].starts_with(end) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

/// Nunjucks' filters and tests, with JavaScript values, and Backstage's own filters.
mod filters {
    use super::*;
    use minijinja::Error;

    fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidOperation, message.into())
    }

    pub(super) fn register(
        env: &mut Environment<'static>,
        integrations: Arc<BTreeMap<String, String>>,
        cookiecutter: bool,
    ) {
        use minijinja::filters as f;
        use minijinja::tests as t;

        env.add_filter("dump", dump);
        if cookiecutter {
            env.add_filter("jsonify", dump);
        }
        env.add_filter("join", join);
        env.add_filter("length", length);
        env.add_filter("default", default);
        env.add_filter("d", default);
        env.add_filter("upper", |v: Value| js::to_js_string(&v).to_uppercase());
        env.add_filter("lower", |v: Value| js::to_js_string(&v).to_lowercase());
        env.add_filter("capitalize", capitalize);
        env.add_filter("title", title);
        env.add_filter("trim", |v: Value| js::to_js_string(&v).trim().to_string());
        env.add_filter("replace", replace);
        env.add_filter("first", first);
        env.add_filter("last", last);
        env.add_filter("string", |v: Value| js::to_js_string(&v));
        env.add_filter("list", f::list);
        env.add_filter("abs", f::abs);
        env.add_filter("batch", f::batch);
        env.add_filter("dictsort", f::dictsort);
        env.add_filter("escape", f::escape);
        env.add_filter("e", f::escape);
        env.add_filter("forceescape", f::escape);
        env.add_filter("safe", f::safe);
        env.add_filter("float", f::float);
        env.add_filter("int", f::int);
        env.add_filter("groupby", f::groupby);
        env.add_filter("indent", f::indent);
        env.add_filter("reverse", f::reverse);
        env.add_filter("round", f::round);
        env.add_filter("select", f::select);
        env.add_filter("selectattr", f::selectattr);
        env.add_filter("reject", f::reject);
        env.add_filter("rejectattr", f::rejectattr);
        env.add_filter("slice", f::slice);
        env.add_filter("sort", f::sort);
        env.add_filter("sum", f::sum);

        let hosts = integrations.clone();
        env.add_filter("parseRepoUrl", move |url: Value| {
            parse_repo_url(&url, &hosts)
        });
        let hosts = integrations;
        env.add_filter("projectSlug", move |url: Value| {
            let repo = parse_repo_url(&url, &hosts)?;
            // A template literal: a missing part prints `undefined`.
            let part = |k: &str| match repo.get_attr(k) {
                Ok(v) if !v.is_undefined() => js::to_js_string(&v),
                _ => "undefined".to_string(),
            };
            Ok::<_, Error>(format!("{}/{}", part("owner"), part("repo")))
        });
        env.add_filter("parseEntityRef", parse_entity_ref);
        env.add_filter("pick", pick);

        env.add_test("defined", t::is_defined);
        env.add_test("undefined", t::is_undefined);
        env.add_test("none", t::is_none);
        env.add_test("null", t::is_none);
        env.add_test("number", t::is_number);
        env.add_test("string", t::is_string);
        env.add_test("mapping", t::is_mapping);
        env.add_test("iterable", t::is_iterable);
        env.add_test("odd", t::is_odd);
        env.add_test("even", t::is_even);
        env.add_test("divisibleby", t::is_divisibleby);
        env.add_test("lower", t::is_lower);
        env.add_test("upper", t::is_upper);
        for (name, test) in [
            ("eq", t::is_eq as fn(&Value, &Value) -> bool),
            ("equalto", t::is_eq),
            ("sameas", t::is_eq),
            ("ne", t::is_ne),
        ] {
            env.add_test(name, test);
        }
        for (name, test) in [
            ("gt", t::is_gt as fn(&Value, &Value) -> bool),
            ("greaterthan", t::is_gt),
            ("ge", t::is_ge),
            ("lt", t::is_lt),
            ("lessthan", t::is_lt),
            ("le", t::is_le),
        ] {
            env.add_test(name, test);
        }
        env.add_test("truthy", |v: &Value| js::is_truthy(v));
        env.add_test("falsy", |v: &Value| !js::is_truthy(v));
        env.add_function("range", minijinja::functions::range);
    }

    /// `JSON.stringify(value, null, spaces)`; undefined prints nothing.
    fn dump(value: Value, spaces: Option<Value>) -> Value {
        let indent = match spaces {
            Some(s) if s.kind() == ValueKind::Number => {
                " ".repeat(i64::try_from(s).unwrap_or(0).clamp(0, 10) as usize)
            }
            Some(s) if s.kind() == ValueKind::String => {
                s.as_str().unwrap_or("").chars().take(10).collect()
            }
            _ => String::new(),
        };
        js::json_stringify(&value, &indent).map_or(Value::UNDEFINED, Value::from)
    }

    /// `array.join(delimiter)` (default `""`, as Nunjucks), optionally of one attribute.
    fn join(
        value: Value,
        delimiter: Option<Value>,
        attribute: Option<Value>,
    ) -> Result<String, Error> {
        let delimiter = delimiter.map(|d| js::to_js_string(&d)).unwrap_or_default();
        if value.kind() == ValueKind::String {
            return Ok(js::to_js_string(&value));
        }
        let items = value.try_iter()?;
        let parts: Vec<String> = items
            .map(|item| match &attribute {
                Some(attr) => js::to_js_string(&item.get_item(attr).unwrap_or_default()),
                None => js::to_js_string(&item),
            })
            .collect();
        Ok(parts.join(&delimiter))
    }

    /// Strings count UTF-16 units, arrays their items, objects their keys; else 0.
    fn length(value: Value) -> usize {
        match value.kind() {
            ValueKind::String => value.as_str().map_or(0, |s| s.encode_utf16().count()),
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => value
                .len()
                .unwrap_or_else(|| value.try_iter().map_or(0, |i| i.count())),
            _ => 0,
        }
    }

    /// `default(fallback, boolean)`: the fallback when the value is undefined (or falsy when
    /// `boolean` is true).
    fn default(value: Value, fallback: Option<Value>, boolean: Option<Value>) -> Value {
        let use_fallback = if boolean.as_ref().is_some_and(js::is_truthy) {
            !js::is_truthy(&value)
        } else {
            value.is_undefined()
        };
        if use_fallback {
            fallback.unwrap_or(Value::UNDEFINED)
        } else {
            value
        }
    }

    fn capitalize(value: Value) -> String {
        let s = js::to_js_string(&value);
        let mut chars = s.chars();
        match chars.next() {
            Some(c) => c
                .to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect(),
            None => String::new(),
        }
    }

    /// Each space-separated word capitalised (Nunjucks splits on single spaces).
    fn title(value: Value) -> String {
        js::to_js_string(&value)
            .split(' ')
            .map(|w| capitalize(Value::from(w)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `replace(old, new, maxCount)` on strings (numbers become strings); other values as
    /// they are.
    fn replace(value: Value, old: Value, new: Value, max: Option<i64>) -> Value {
        let s = match value.kind() {
            ValueKind::String | ValueKind::Number => js::to_js_string(&value),
            _ => return value,
        };
        let old = js::to_js_string(&old);
        let new = js::to_js_string(&new);
        let limit = max.filter(|m| *m >= 0).map(|m| m as usize);
        let result = if old.is_empty() {
            // Nunjucks puts `new` before every character and at the end.
            let mut out = String::new();
            let mut count = 0;
            for c in s.chars() {
                if limit.is_none_or(|l| count < l) {
                    out.push_str(&new);
                    count += 1;
                }
                out.push(c);
            }
            if limit.is_none_or(|l| count < l) {
                out.push_str(&new);
            }
            out
        } else {
            match limit {
                Some(l) => s.replacen(&old, &new, l),
                None => s.replace(&old, &new),
            }
        };
        Value::from(result)
    }

    fn first(value: Value) -> Value {
        match value.kind() {
            ValueKind::String => value
                .as_str()
                .and_then(|s| s.chars().next())
                .map_or(Value::UNDEFINED, Value::from),
            _ => value
                .try_iter()
                .ok()
                .and_then(|mut i| i.next())
                .unwrap_or(Value::UNDEFINED),
        }
    }

    fn last(value: Value) -> Value {
        match value.kind() {
            ValueKind::String => value
                .as_str()
                .and_then(|s| s.chars().last())
                .map_or(Value::UNDEFINED, Value::from),
            _ => value
                .try_iter()
                .ok()
                .and_then(|i| i.last())
                .unwrap_or(Value::UNDEFINED),
        }
    }

    /// `host?owner=o&repo=r` → `{host, owner, repo, organization, workspace, project}` (the
    /// parameters that are present, trimmed of `/`).
    pub(super) fn parse_repo_url(
        url: &Value,
        hosts: &BTreeMap<String, String>,
    ) -> Result<Value, Error> {
        let url = js::to_js_string(url);
        let (before_fragment, _) = url.split_once('#').unwrap_or((&url, ""));
        let (address, query) = before_fragment
            .split_once('?')
            .unwrap_or((before_fragment, ""));
        let host = address.split('/').next().unwrap_or("").to_ascii_lowercase();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '@') {
            return Err(invalid(format!(
                "Invalid repo URL passed to publisher, got {url}"
            )));
        }
        let host_name = host.split(':').next().unwrap_or("");
        let kind = hosts
            .get(&host)
            .or_else(|| hosts.get(host_name))
            .ok_or_else(|| {
                invalid(format!(
                    "No matching integration configuration for host {host}, please check your integrations config"
                ))
            })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let param = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim_matches('/').to_string())
        };
        let required: &[&str] = match kind.as_str() {
            "bitbucketCloud" => &["workspace", "project", "repo"],
            "bitbucketServer" | "azure" => &["project", "repo"],
            "gitlab" if param("project").is_some() => &[],
            "gitlab" => &["owner", "repo"],
            "gitea" | "gerrit" => &["repo"],
            _ => &["repo", "owner"],
        };
        for name in required {
            if param(name).is_none_or(|v| v.is_empty()) {
                return Err(invalid(format!(
                    "Invalid repo URL passed to publisher: https://{url}, missing {name}"
                )));
            }
        }
        let value = |name: &str| param(name).map(Value::from);
        Ok(js::object(vec![
            ("host", Some(Value::from(host.clone()))),
            ("owner", value("owner")),
            ("repo", value("repo")),
            ("organization", value("organization")),
            ("workspace", value("workspace")),
            ("project", value("project")),
        ]))
    }

    /// `kind:namespace/name` (or `{kind, namespace, name}`) → `{kind, namespace, name}`, with
    /// `defaultKind` and `defaultNamespace` (default `default`) from an object argument or
    /// keyword arguments.
    fn parse_entity_ref(
        reference: Value,
        context: Option<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, Error> {
        let option = |name: &str| -> Option<String> {
            let from_context = context
                .as_ref()
                .and_then(|c| c.get_attr(name).ok())
                .filter(js::is_truthy);
            let from_kwargs = kwargs.get::<Option<Value>>(name).ok().flatten();
            from_context.or(from_kwargs).map(|v| js::to_js_string(&v))
        };
        let default_kind = option("defaultKind");
        let default_namespace = option("defaultNamespace")
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into());
        if !js::is_truthy(&reference) {
            return Err(invalid("Entity reference must not be empty"));
        }
        let textual = js::json_stringify(&reference, "").unwrap_or_default();
        let (kind, namespace, name) = if let Some(s) = reference.as_str() {
            let mut colon = s.find(':');
            let slash = s.find('/');
            if let (Some(sl), Some(c)) = (slash, colon) {
                if sl < c {
                    colon = None;
                }
            }
            let kind = colon.map(|c| &s[..c]);
            let namespace = slash.map(|sl| &s[colon.map_or(0, |c| c + 1)..sl]);
            let name_start = colon.map_or(0, |c| c + 1).max(slash.map_or(0, |sl| sl + 1));
            let name = &s[name_start..];
            if kind == Some("") || namespace == Some("") || name.is_empty() {
                return Err(invalid(format!(
                    "Entity reference \"{s}\" was not on the form [<kind>:][<namespace>/]<name>"
                )));
            }
            (
                kind.map(str::to_string).or(default_kind),
                namespace.map_or(default_namespace, str::to_string),
                name.to_string(),
            )
        } else {
            let field = |k: &str| {
                reference
                    .get_attr(k)
                    .ok()
                    .filter(|v| !v.is_undefined() && !v.is_none())
                    .map(|v| js::to_js_string(&v))
            };
            (
                field("kind").or(default_kind),
                field("namespace").unwrap_or(default_namespace),
                field("name").unwrap_or_default(),
            )
        };
        let Some(kind) = kind.filter(|k| !k.is_empty()) else {
            return Err(invalid(format!(
                "Entity reference {textual} had missing or empty kind (e.g. did not start with \"component:\" or similar)"
            )));
        };
        if name.is_empty() {
            return Err(invalid(format!(
                "Entity reference {textual} had missing or empty name"
            )));
        }
        Ok(js::object(vec![
            ("kind", Some(Value::from(kind))),
            ("namespace", Some(Value::from(namespace))),
            ("name", Some(Value::from(name))),
        ]))
    }

    /// lodash's `get(object, path)`: `a.b`, `a[0].b`.
    fn pick(value: Value, path: Value, _rest: Rest<Value>) -> Value {
        let path = js::to_js_string(&path);
        let mut current = value;
        for segment in path.split(['.', '[', ']']).filter(|s| !s.is_empty()) {
            if current.is_undefined() || current.is_none() {
                return Value::UNDEFINED;
            }
            let segment = segment.trim_matches(|c| c == '"' || c == '\'');
            let next = match current.kind() {
                ValueKind::Seq => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| current.get_item(&Value::from(i)).ok())
                    .filter(|v| !v.is_undefined()),
                _ => current.get_attr(segment).ok().filter(|v| !v.is_undefined()),
            };
            current = next.unwrap_or(Value::UNDEFINED);
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, ctx: serde_json::Value) -> String {
        Renderer::new().render_str(t, &ctx).expect("renders")
    }

    #[test]
    fn prints_values_as_javascript() {
        let ctx =
            json!({"values": {"list": ["a", 1.5, true], "obj": {"a": 1}, "n": 8080, "f": 1.22}});
        assert_eq!(
            render("${{ values.list }}|${{ values.obj }}|${{ values.n }}|${{ values.f }}|${{ values.nope.deep }}|{{ x }}", ctx),
            "a,1.5,true|[object Object]|8080|1.22||{{ x }}"
        );
    }

    #[test]
    fn empty_arrays_and_objects_are_truthy() {
        let ctx = json!({"values": {"list": [], "obj": {}, "s": ""}});
        assert_eq!(
            render("{% if values.list %}L{% endif %}{% if values.obj %}O{% endif %}{% if values.s %}S{% endif %}", ctx),
            "LO"
        );
    }

    #[test]
    fn unknown_filter_is_an_error_with_its_line() {
        let err = Renderer::new()
            .render_str("a\n${{ values.x | nope }}", &json!({}))
            .expect_err("unknown filter");
        match err {
            RenderError::Template { line, message, .. } => {
                assert_eq!(line, Some(2));
                assert!(message.contains("nope"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn single_node_roots() {
        let s = Syntax::default();
        assert!(single_node_root("${{ a }}", s));
        assert!(single_node_root("{% if a %}x{% else %}y{% endif %}", s));
        assert!(!single_node_root("x-${{ a }}", s));
        assert!(!single_node_root("${{ a }}\n", s));
        assert!(!single_node_root("${{ a }}${{ b }}", s));
        assert!(!single_node_root("plain", s));
        assert!(single_node_root("${{ '}}' }}", s));
    }
}
