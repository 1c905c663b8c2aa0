//! The URL templates of `observability.links`: text with placeholders `{{ variable | filter }}`.
//!
//! ```text
//! https://grafana.example.com/dashboards?tag={{ entity.annotations["grafana/tag"] }}&var-env={{ cluster.environment }}
//! https://github.com/{{ entity.annotations["github.com/project-slug"] | path }}/actions
//! ```
//!
//! Variables: `entity.name`, `entity.namespace`, `entity.kind`, `entity.type` (`spec.type`),
//! `entity.system` and `entity.owner` (the names `spec.system` and `spec.owner` refer to),
//! `entity.lifecycle`, `entity.title`, `entity.ref` (`component:default/web`),
//! `entity.annotations["key"]`, `entity.labels["key"]`; and for links with
//! `scope: environment`, `cluster.name`, `cluster.environment`, `cluster.namespace` (where the
//! workloads run) and `cluster.selector` (how they were matched, as a label selector).
//!
//! A value is URL-encoded as a URL component (everything but `A-Z a-z 0-9 - _ . ~`), unless the
//! last filter says otherwise. Filters, applied in order: `default("text")` (used when the value
//! is missing), `replace("from", "to")`, and last `path` (encoded but `/` kept, for values that
//! are paths such as `org/repo`) or `raw` (not encoded: for values that are URLs themselves).
//!
//! The same language writes PromQL (`observability.prometheus`, [`Dialect::PromQl`]): there a
//! value is escaped as the inside of a double-quoted PromQL string (`\\`, `\"`, `\n`…), so
//! templates put placeholders inside quotes (`{job="{{ entity.name }}"}`); the filter `regex`
//! escapes a value for `=~` first (every RE2 metacharacter quoted), and `raw` writes it as it
//! is. Alert label matchers use [`Dialect::Text`]: values as they are, no filter but
//! `default` and `replace`.
//!
//! A variable with no value (the annotation is absent, the entity has no system) or an empty
//! one makes the whole link absent for that entity, unless `default` gives one. The text outside
//! placeholders is the configuration's and is used as written. Parsing checks every variable
//! and filter, so a template that parses renders without errors.

/// A value a template reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    Entity(EntityField),
    Annotation(String),
    Label(String),
    Cluster(ClusterField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityField {
    Name,
    Namespace,
    Kind,
    Type,
    System,
    Owner,
    Lifecycle,
    Title,
    Ref,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterField {
    Name,
    Environment,
    Namespace,
    Selector,
}

/// Every variable, as written in templates (for error messages).
pub const VARIABLES: &str = "entity.name, entity.namespace, entity.kind, entity.type, entity.system, entity.owner, entity.lifecycle, entity.title, entity.ref, entity.annotations[\"key\"], entity.labels[\"key\"], cluster.name, cluster.environment, cluster.namespace, cluster.selector";

impl Var {
    fn parse(path: &[String], key: Option<String>) -> Option<Var> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        Some(match (p.as_slice(), key) {
            (["entity", "annotations"], Some(k)) => Var::Annotation(k),
            (["entity", "labels"], Some(k)) => Var::Label(k),
            (_, Some(_)) => return None,
            (["entity", field], None) => Var::Entity(match *field {
                "name" => EntityField::Name,
                "namespace" => EntityField::Namespace,
                "kind" => EntityField::Kind,
                "type" => EntityField::Type,
                "system" => EntityField::System,
                "owner" => EntityField::Owner,
                "lifecycle" => EntityField::Lifecycle,
                "title" => EntityField::Title,
                "ref" => EntityField::Ref,
                _ => return None,
            }),
            (["cluster", field], None) => Var::Cluster(match *field {
                "name" => ClusterField::Name,
                "environment" => ClusterField::Environment,
                "namespace" => ClusterField::Namespace,
                "selector" => ClusterField::Selector,
                _ => return None,
            }),
            _ => return None,
        })
    }

    /// As written in a template.
    pub fn display(&self) -> String {
        match self {
            Var::Entity(f) => format!(
                "entity.{}",
                match f {
                    EntityField::Name => "name",
                    EntityField::Namespace => "namespace",
                    EntityField::Kind => "kind",
                    EntityField::Type => "type",
                    EntityField::System => "system",
                    EntityField::Owner => "owner",
                    EntityField::Lifecycle => "lifecycle",
                    EntityField::Title => "title",
                    EntityField::Ref => "ref",
                }
            ),
            Var::Annotation(k) => format!("entity.annotations[{k:?}]"),
            Var::Label(k) => format!("entity.labels[{k:?}]"),
            Var::Cluster(f) => format!(
                "cluster.{}",
                match f {
                    ClusterField::Name => "name",
                    ClusterField::Environment => "environment",
                    ClusterField::Namespace => "namespace",
                    ClusterField::Selector => "selector",
                }
            ),
        }
    }
}

/// What a template writes: which escaping a value gets and which filters exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// A URL (`observability.links`): values URL-encoded; the result must be http(s).
    #[default]
    Url,
    /// A PromQL query: values escaped as the inside of a double-quoted string.
    PromQl,
    /// Plain text (alert label values): values as they are.
    Text,
}

/// How a value is written into the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Everything but unreserved characters percent-encoded.
    Component,
    /// As [`Encoding::Component`], `/` kept.
    Path,
    /// As it is.
    Raw,
    /// The inside of a PromQL double-quoted string.
    PromString,
    /// A regular expression matching the value literally, inside a PromQL string.
    PromRegex,
}

impl Dialect {
    fn default_encoding(self) -> Encoding {
        match self {
            Dialect::Url => Encoding::Component,
            Dialect::PromQl => Encoding::PromString,
            Dialect::Text => Encoding::Raw,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TextFilter {
    Default(String),
    Replace(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value {
        var: Var,
        filters: Vec<TextFilter>,
        encoding: Encoding,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    dialect: Dialect,
}

/// Why a template does not parse. Columns count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown variable {name} at column {column} (known: {VARIABLES})")]
    UnknownVariable { name: String, column: usize },
    #[error("unknown filter {name} at column {column} (known: {known})")]
    UnknownFilter {
        name: String,
        column: usize,
        known: &'static str,
    },
    #[error("{{{{ at column {column} is not closed with }}}}")]
    Unclosed { column: usize },
    #[error("column {column}: {message}")]
    Syntax { column: usize, message: String },
}

/// Where values come from when a template is filled.
pub trait Values {
    /// The variable's value; `None` when it has none.
    fn get(&self, var: &Var) -> Option<&str>;
}

/// Why a template gave no URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotShown {
    /// This variable has no value (or an empty one).
    Missing(String),
    /// The URL made does not start with `http://` or `https://` (a `raw` value that is not a
    /// web address).
    NotHttp,
}

impl Template {
    /// A URL template.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        Template::parse_in(text, Dialect::Url)
    }

    /// A template of `dialect`.
    pub fn parse_in(text: &str, dialect: Dialect) -> Result<Template, TemplateError> {
        let chars: Vec<char> = text.chars().collect();
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '{' && chars.get(i + 1) == Some(&'{') {
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                let mut p = Parser {
                    chars: &chars,
                    at: i + 2,
                    open: i,
                    dialect,
                };
                parts.push(p.placeholder()?);
                i = p.at;
            } else {
                literal.push(chars[i]);
                i += 1;
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts, dialect })
    }

    /// Every variable the template reads.
    pub fn variables(&self) -> impl Iterator<Item = &Var> {
        self.parts.iter().filter_map(|p| match p {
            Part::Value { var, .. } => Some(var),
            Part::Text(_) => None,
        })
    }

    /// The text before the first placeholder (all of it when there is none).
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Text(t)) => t,
            _ => "",
        }
    }

    /// The URL (or query, or text) with every placeholder filled and encoded.
    pub fn render(&self, values: &dyn Values) -> Result<String, NotShown> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value {
                    var,
                    filters,
                    encoding,
                } => {
                    let mut value = values
                        .get(var)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string);
                    for f in filters {
                        value = match (f, value) {
                            (TextFilter::Default(d), None) => Some(d.clone()),
                            (TextFilter::Default(_), v) => v,
                            (TextFilter::Replace(from, to), Some(v)) if !from.is_empty() => {
                                Some(v.replace(from.as_str(), to))
                            }
                            (TextFilter::Replace(..), v) => v,
                        };
                    }
                    let value = value
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| NotShown::Missing(var.display()))?;
                    match encoding {
                        Encoding::Component => encode(&value, false, &mut out),
                        Encoding::Path => encode(&value, true, &mut out),
                        Encoding::Raw => out.push_str(&value),
                        Encoding::PromString => promql_string(&value, &mut out),
                        Encoding::PromRegex => promql_string(&regex_quote(&value), &mut out),
                    }
                }
            }
        }
        if self.dialect == Dialect::Url && !is_http(&out) {
            return Err(NotShown::NotHttp);
        }
        Ok(out)
    }
}

/// `http://…` or `https://…`, in any case.
pub fn is_http(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Percent-encodes `value` as a URL component (keeping `/` when `keep_slash`).
fn encode(value: &str, keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Escapes `value` as the inside of a PromQL double-quoted string (Go's escapes).
pub fn promql_string(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// A regular expression (RE2) that matches `value` literally: every metacharacter quoted.
pub fn regex_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The inside of one `{{ … }}`.
struct Parser<'a> {
    chars: &'a [char],
    at: usize,
    /// Where the `{{` is (for "not closed").
    open: usize,
    dialect: Dialect,
}

impl Parser<'_> {
    fn column(&self) -> usize {
        self.at + 1
    }

    fn syntax(&self, message: impl Into<String>) -> TemplateError {
        if self.at >= self.chars.len() {
            return TemplateError::Unclosed {
                column: self.open + 1,
            };
        }
        TemplateError::Syntax {
            column: self.column(),
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn closes(&mut self) -> bool {
        self.skip_spaces();
        if self.peek() == Some('}') && self.chars.get(self.at + 1) == Some(&'}') {
            self.at += 2;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.skip_spaces();
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.at += 1;
        }
        (self.at > start).then(|| self.chars[start..self.at].iter().collect())
    }

    /// `"…"` or `'…'`; `\` escapes the next character.
    fn string(&mut self) -> Result<String, TemplateError> {
        self.skip_spaces();
        let quote = match self.peek() {
            Some(q @ ('"' | '\'')) => q,
            _ => return Err(self.syntax("expected a quoted string")),
        };
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.at = start;
                    return Err(TemplateError::Syntax {
                        column: start + 1,
                        message: "the string is not closed".into(),
                    });
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.at += 1;
                    if let Some(c) = self.peek() {
                        out.push(c);
                        self.at += 1;
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn placeholder(&mut self) -> Result<Part, TemplateError> {
        self.skip_spaces();
        let var_column = self.column();
        let mut path = Vec::new();
        loop {
            match self.ident() {
                Some(segment) => path.push(segment),
                None => return Err(self.syntax("expected a variable such as entity.name")),
            }
            if !self.eat('.') {
                break;
            }
        }
        let key = if self.eat('[') {
            let key = self.string()?;
            if !self.eat(']') {
                return Err(self.syntax("expected ]"));
            }
            Some(key)
        } else {
            None
        };
        let written = match &key {
            Some(k) => format!("{}[{k:?}]", path.join(".")),
            None => path.join("."),
        };
        let var = Var::parse(&path, key).ok_or(TemplateError::UnknownVariable {
            name: written,
            column: var_column,
        })?;
        let mut filters = Vec::new();
        let initial = self.dialect.default_encoding();
        let mut encoding = initial;
        let known = match self.dialect {
            Dialect::Url => "default(\"text\"), replace(\"from\", \"to\"), path, raw",
            Dialect::PromQl => "default(\"text\"), replace(\"from\", \"to\"), regex, raw",
            Dialect::Text => "default(\"text\"), replace(\"from\", \"to\")",
        };
        while self.eat('|') {
            if encoding != initial {
                return Err(self.syntax(match self.dialect {
                    Dialect::PromQl => "regex and raw must be the last filter",
                    _ => "path and raw must be the last filter",
                }));
            }
            self.skip_spaces();
            let column = self.column();
            let name = self
                .ident()
                .ok_or_else(|| self.syntax("expected a filter after |"))?;
            match (name.as_str(), self.dialect) {
                ("path", Dialect::Url) => encoding = Encoding::Path,
                ("raw", Dialect::Url | Dialect::PromQl) => encoding = Encoding::Raw,
                ("regex", Dialect::PromQl) => encoding = Encoding::PromRegex,
                ("default", _) => {
                    let [text] = self.arguments::<1>(&name)?;
                    filters.push(TextFilter::Default(text));
                }
                ("replace", _) => {
                    let [from, to] = self.arguments::<2>(&name)?;
                    filters.push(TextFilter::Replace(from, to));
                }
                _ => {
                    return Err(TemplateError::UnknownFilter {
                        name,
                        column,
                        known,
                    })
                }
            }
        }
        if !self.closes() {
            return Err(self.syntax("expected }} or | filter"));
        }
        Ok(Part::Value {
            var,
            filters,
            encoding,
        })
    }

    /// `("a", "b")`: exactly `N` strings.
    fn arguments<const N: usize>(&mut self, filter: &str) -> Result<[String; N], TemplateError> {
        let wrong = |p: &Self| {
            p.syntax(format!(
                "{filter} takes {N} quoted string{}",
                if N == 1 { "" } else { "s" }
            ))
        };
        if !self.eat('(') {
            return Err(wrong(self));
        }
        let mut out = Vec::with_capacity(N);
        for i in 0..N {
            if i > 0 && !self.eat(',') {
                return Err(wrong(self));
            }
            out.push(self.string()?);
        }
        if !self.eat(')') {
            return Err(wrong(self));
        }
        out.try_into().map_err(|_| wrong(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<String, String>);

    impl Values for Map {
        fn get(&self, var: &Var) -> Option<&str> {
            self.0.get(&var.display()).map(String::as_str)
        }
    }

    fn values(pairs: &[(&str, &str)]) -> Map {
        Map(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    fn render(template: &str, pairs: &[(&str, &str)]) -> Result<String, NotShown> {
        Template::parse(template)
            .expect("parses")
            .render(&values(pairs))
    }

    #[test]
    fn values_are_url_encoded_as_components_unless_a_filter_says() {
        let v = [
            ("entity.name", "cart service"),
            (
                "entity.annotations[\"grafana/dashboard-selector\"]",
                "tags @> 'cart' && x=1#2?",
            ),
            (
                "entity.annotations[\"github.com/project-slug\"]",
                "north wind/cart",
            ),
            (
                "entity.annotations[\"backlot.io/logs-url\"]",
                "https://logs.example.com/?q=a b",
            ),
        ];
        assert_eq!(
            render("https://x/{{entity.name}}", &v),
            Ok("https://x/cart%20service".into())
        );
        assert_eq!(
            render(
                "https://g/dashboards?query={{ entity.annotations[\"grafana/dashboard-selector\"] }}",
                &v
            ),
            Ok("https://g/dashboards?query=tags%20%40%3E%20%27cart%27%20%26%26%20x%3D1%232%3F".into())
        );
        // `path` keeps the slashes of a path, still encoding the rest.
        assert_eq!(
            render(
                "https://github.com/{{ entity.annotations['github.com/project-slug'] | path }}/actions",
                &v
            ),
            Ok("https://github.com/north%20wind/cart/actions".into())
        );
        // Without it the slash is encoded.
        assert_eq!(
            render(
                "https://github.com/{{ entity.annotations['github.com/project-slug'] }}",
                &v
            ),
            Ok("https://github.com/north%20wind%2Fcart".into())
        );
        // `raw`: a URL held in an annotation, as it is.
        assert_eq!(
            render(
                "{{ entity.annotations[\"backlot.io/logs-url\"] | raw }}",
                &v
            ),
            Ok("https://logs.example.com/?q=a b".into())
        );
        // Non-ASCII is encoded byte by byte (UTF-8).
        assert_eq!(
            render("https://x/{{entity.name}}", &[("entity.name", "café")]),
            Ok("https://x/caf%C3%A9".into())
        );
        // The template's own text is used as written.
        assert_eq!(
            render(
                "https://prom/graph?g0.expr=up{job=\"{{ entity.name }}\"}",
                &[("entity.name", "web")]
            ),
            Ok("https://prom/graph?g0.expr=up{job=\"web\"}".into())
        );
    }

    #[test]
    fn a_missing_or_empty_value_shows_no_link_unless_a_default_gives_one() {
        let t =
            "https://pd/service-directory/{{ entity.annotations[\"pagerduty.com/service-id\"] }}";
        assert_eq!(
            render(t, &[]),
            Err(NotShown::Missing(
                "entity.annotations[\"pagerduty.com/service-id\"]".into()
            ))
        );
        assert_eq!(
            render(
                t,
                &[("entity.annotations[\"pagerduty.com/service-id\"]", "")]
            ),
            Err(NotShown::Missing(
                "entity.annotations[\"pagerduty.com/service-id\"]".into()
            ))
        );
        // One missing value among several is enough.
        assert_eq!(
            render(
                "https://x/{{ entity.name }}/{{ entity.system }}",
                &[("entity.name", "web")]
            ),
            Err(NotShown::Missing("entity.system".into()))
        );
        let d = "https://x/{{ entity.annotations['k8s/ns'] | default(\"default\") }}";
        assert_eq!(render(d, &[]), Ok("https://x/default".into()));
        assert_eq!(
            render(d, &[("entity.annotations[\"k8s/ns\"]", "shop")]),
            Ok("https://x/shop".into())
        );
    }

    #[test]
    fn replace_rewrites_the_value_before_encoding() {
        // Jenkins: folder/job → job/folder/job/job.
        let t = "https://jenkins/job/{{ entity.annotations[\"jenkins.io/job-full-name\"] | replace(\"/\", \"/job/\") | path }}/";
        assert_eq!(
            render(
                t,
                &[(
                    "entity.annotations[\"jenkins.io/job-full-name\"]",
                    "shop/cart build"
                )]
            ),
            Ok("https://jenkins/job/shop/job/cart%20build/".into())
        );
    }

    #[test]
    fn only_web_addresses_are_made() {
        let t = "{{ entity.annotations['u'] | raw }}";
        assert_eq!(
            render(t, &[("entity.annotations[\"u\"]", "javascript:alert(1)")]),
            Err(NotShown::NotHttp)
        );
        assert_eq!(
            render(t, &[("entity.annotations[\"u\"]", "HTTPS://x")]),
            Ok("HTTPS://x".into())
        );
    }

    #[test]
    fn errors_name_the_variable_filter_and_column() {
        let err = Template::parse("https://x/{{ entity.nam }}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownVariable {
                name: "entity.nam".into(),
                column: 14
            }
        );
        assert!(err.to_string().contains("entity.nam at column 14"), "{err}");
        assert!(err.to_string().contains("entity.name,"), "{err}");
        let err = Template::parse("https://x/{{ entity.annotation['a'] }}").unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnknownVariable { name, .. } if name == "entity.annotation[\"a\"]"),
            "{err:?}"
        );
        assert!(matches!(
            Template::parse("https://x/{{ cluster.region }}"),
            Err(TemplateError::UnknownVariable { .. })
        ));
        assert!(matches!(
            Template::parse("https://x/{{ entity.name.first }}"),
            Err(TemplateError::UnknownVariable { .. })
        ));
        assert_eq!(
            Template::parse("https://x/{{ entity.name | upper }}").unwrap_err(),
            TemplateError::UnknownFilter {
                name: "upper".into(),
                column: 28,
                known: "default(\"text\"), replace(\"from\", \"to\"), path, raw"
            }
        );
        assert_eq!(
            Template::parse("https://x/{{ entity.name ").unwrap_err(),
            TemplateError::Unclosed { column: 11 }
        );
        assert_eq!(
            Template::parse("https://x/{{ entity.annotations['a }}").unwrap_err(),
            TemplateError::Syntax {
                column: 33,
                message: "the string is not closed".into()
            }
        );
        for bad in [
            "https://x/{{ }}",
            "https://x/{{ entity.name entity.kind }}",
            "https://x/{{ entity.name | raw | path }}",
            "https://x/{{ entity.name | default }}",
            "https://x/{{ entity.name | replace('a') }}",
            "https://x/{{ entity.labels[a] }}",
        ] {
            assert!(
                matches!(Template::parse(bad), Err(TemplateError::Syntax { .. })),
                "{bad}: {:?}",
                Template::parse(bad)
            );
        }
    }

    #[test]
    fn variables_and_text_are_parsed() {
        let t = Template::parse(
            "https://x/{{entity.kind}}/{{ cluster.name }}?s={{ cluster.selector }}",
        )
        .unwrap();
        let vars: Vec<String> = t.variables().map(Var::display).collect();
        assert_eq!(vars, ["entity.kind", "cluster.name", "cluster.selector"]);
        assert_eq!(t.literal_prefix(), "https://x/");
        // A lone brace is text.
        let t = Template::parse("https://x/{a}").unwrap();
        assert_eq!(t.variables().count(), 0);
        assert_eq!(t.render(&values(&[])), Ok("https://x/{a}".into()));
    }
}
