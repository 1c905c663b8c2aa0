//! The policy file: its serde shape, and loading it into a [`Policy`] with errors that name the
//! file, the line and the field.
//!
//! Names are checked while the YAML is read (permission names, condition keys, location types),
//! so `yaml_serde` reports them at their line; what needs the whole file (a binding naming a
//! role that does not exist, a rule with both or neither of `allow` and `deny`) is checked
//! afterwards and located by the line that names it.

use super::engine::{Binding, Conditions, Effect, Pattern, Policy, Role, Rule};
use super::{Permission, PolicyError};
use crate::catalog::source::LocationType;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    roles: BTreeMap<String, RoleFile>,
    #[serde(default)]
    bindings: Vec<BindingFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    allow: Option<Vec<PatternFile>>,
    #[serde(default)]
    deny: Option<Vec<PatternFile>>,
    #[serde(default)]
    when: Option<ConditionsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingFile {
    role: String,
    #[serde(default)]
    users: Vec<RefFile>,
    #[serde(default)]
    groups: Vec<RefFile>,
    #[serde(default)]
    signed_in: bool,
    #[serde(default)]
    guest: bool,
}

/// Conditions on the resource; every one given must hold. A list matches any of its values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionsFile {
    #[serde(default)]
    is_owner: Option<bool>,
    #[serde(default)]
    kind: OneOrMany,
    #[serde(default)]
    namespace: OneOrMany,
    #[serde(default, rename = "type")]
    spec_type: OneOrMany,
    #[serde(default)]
    lifecycle: OneOrMany,
    #[serde(default)]
    tags: OneOrMany,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    location_type: LocationTypes,
}

/// `kind: Component` or `kind: [Component, API]`.
#[derive(Debug, Default)]
struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        match Raw::deserialize(d) {
            Ok(Raw::One(s)) => Ok(OneOrMany(vec![s])),
            Ok(Raw::Many(v)) => Ok(OneOrMany(v)),
            Err(_) => Err(D::Error::custom("expected a string or a list of strings")),
        }
    }
}

/// A permission name, `*`, or a prefix ending in `.*` (`catalog.*`, `scaffolder.task.*`).
#[derive(Debug)]
struct PatternFile(Pattern);

impl<'de> Deserialize<'de> for PatternFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Pattern::parse(&s)
            .map(PatternFile)
            .map_err(D::Error::custom)
    }
}

/// `user:default/alice`, `group:default/admins`; a bare name is in the default namespace.
#[derive(Debug)]
struct RefFile(String);

impl<'de> Deserialize<'de> for RefFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() || s.contains(char::is_whitespace) {
            return Err(D::Error::custom(format!(
                "\"{s}\" is not an entity reference (e.g. group:default/admins)"
            )));
        }
        Ok(RefFile(s))
    }
}

/// `location_type: git` or `[git, url]`.
#[derive(Debug, Default)]
struct LocationTypes(Vec<LocationType>);

impl<'de> Deserialize<'de> for LocationTypes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = OneOrMany::deserialize(d)?;
        names
            .0
            .iter()
            .map(|s| {
                LocationType::ALL
                    .into_iter()
                    .find(|t| t.as_str() == s)
                    .ok_or_else(|| {
                        D::Error::custom(format!(
                            "unknown location type \"{s}\"; expected file, git or url"
                        ))
                    })
            })
            .collect::<Result<_, _>>()
            .map(LocationTypes)
    }
}

impl Pattern {
    /// Reads a permission pattern; unknown names and prefixes that match nothing are refused.
    pub fn parse(s: &str) -> Result<Pattern, String> {
        if s == "*" {
            return Ok(Pattern::All);
        }
        if let Some(prefix) = s.strip_suffix(".*") {
            let dotted = format!("{prefix}.");
            if Permission::ALL
                .iter()
                .any(|p| p.as_str().starts_with(&dotted))
            {
                return Ok(Pattern::Prefix(dotted));
            }
            return Err(format!("\"{s}\" matches no permission; {}", known()));
        }
        Permission::parse(s)
            .map(Pattern::One)
            .ok_or_else(|| format!("unknown permission \"{s}\"; {}", known()))
    }
}

fn known() -> String {
    let names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    format!(
        "known: {}, or * and prefixes such as catalog.*",
        names.join(", ")
    )
}

/// A reference as compared: `kind:namespace/name` in lower case, `default` namespace and the
/// given kind when they are left out.
pub(crate) fn normalise_ref(s: &str, default_kind: &str) -> String {
    let (kind, rest) = match s.split_once(':') {
        Some((k, r)) => (k, r),
        None => (default_kind, s),
    };
    let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
    format!("{kind}:{ns}/{name}").to_lowercase()
}

/// The 1-based line of the first line of `text` that `matches`, for errors found after parsing.
fn line_of(text: &str, matches: impl Fn(&str) -> bool) -> Option<usize> {
    text.lines().position(matches).map(|i| i + 1)
}

/// Parses and checks a policy file's text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Policy, PolicyError> {
    let invalid = |line: Option<usize>, message: String| PolicyError::Invalid {
        file: file.to_string(),
        line,
        message,
    };
    let raw: PolicyFile = yaml_serde::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        // The message carries the field path and "at line N column M"; the line is also kept
        // apart so the `file:line:` prefix works for editors.
        invalid(line, e.to_string())
    })?;
    let mut roles = Vec::with_capacity(raw.roles.len());
    for (name, role) in &raw.roles {
        let mut rules = Vec::with_capacity(role.rules.len());
        for (index, r) in role.rules.iter().enumerate() {
            let (effect, patterns) = match (&r.allow, &r.deny) {
                (Some(p), None) => (Effect::Allow, p),
                (None, Some(p)) => (Effect::Deny, p),
                (both, _) => {
                    let what = if both.is_some() { "both" } else { "neither" };
                    let line = r
                        .name
                        .as_deref()
                        .and_then(|n| line_of(text, |l| l.contains("name:") && l.contains(n)));
                    return Err(invalid(
                        line,
                        format!(
                            "roles.{name}.rules[{index}]: a rule has exactly one of allow and deny, this one has {what}"
                        ),
                    ));
                }
            };
            rules.push(Rule {
                name: r.name.clone(),
                index,
                effect,
                patterns: patterns.iter().map(|p| p.0.clone()).collect(),
                when: r.when.as_ref().map(Conditions::from_file),
            });
        }
        roles.push(Role {
            name: name.clone(),
            rules,
        });
    }
    let mut bindings = Vec::with_capacity(raw.bindings.len());
    for (i, b) in raw.bindings.iter().enumerate() {
        let Some(role) = roles.iter().position(|r| r.name == b.role) else {
            let line = line_of(text, |l| {
                l.trim_start_matches([' ', '-'])
                    .strip_prefix("role:")
                    .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == b.role)
            });
            let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
            return Err(invalid(
                line,
                format!(
                    "bindings[{i}].role: no role named \"{}\" (roles: {})",
                    b.role,
                    names.join(", ")
                ),
            ));
        };
        bindings.push(Binding {
            role,
            users: b
                .users
                .iter()
                .map(|u| normalise_ref(&u.0, "user"))
                .collect(),
            groups: b
                .groups
                .iter()
                .map(|g| normalise_ref(&g.0, "group"))
                .collect(),
            signed_in: b.signed_in,
            guest: b.guest,
        });
    }
    Ok(Policy {
        source: file.to_string(),
        roles,
        bindings,
    })
}

impl Conditions {
    fn from_file(c: &ConditionsFile) -> Conditions {
        let lower = |v: &OneOrMany| v.0.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
        Conditions {
            is_owner: c.is_owner,
            kind: lower(&c.kind),
            namespace: lower(&c.namespace),
            spec_type: lower(&c.spec_type),
            lifecycle: lower(&c.lifecycle),
            tags: lower(&c.tags),
            labels: c.labels.clone().into_iter().collect(),
            annotations: c.annotations.clone().into_iter().collect(),
            location_type: c.location_type.0.clone(),
        }
    }
}
