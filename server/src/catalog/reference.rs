//! Entity references: `[kind:][namespace/]name`, parsed with the defaults a field implies.
//!
//! Backstage compares references case-insensitively; [`RefKey`] is the normalised (lower-case)
//! form used as the identity of an entity everywhere in the server.

use app::model::EntityRef;
use std::fmt;

/// Normalised identity of an entity: `kind:namespace/name`, all lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefKey(pub String);

/// Lookups by `&str` (a key's hash and order are its string's).
impl std::borrow::Borrow<str> for RefKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl RefKey {
    pub fn of(kind: &str, namespace: &str, name: &str) -> Self {
        let mut s = String::with_capacity(kind.len() + namespace.len() + name.len() + 2);
        s.push_str(kind);
        s.push(':');
        s.push_str(namespace);
        s.push('/');
        s.push_str(name);
        s.make_ascii_lowercase();
        RefKey(s)
    }

    pub fn from_ref(r: &EntityRef) -> Self {
        Self::of(&r.kind, &r.namespace, &r.name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Splits the key back into (kind, namespace, name), all lower case.
    pub fn parts(&self) -> (&str, &str, &str) {
        let (kind, rest) = self.0.split_once(':').unwrap_or(("", &self.0));
        let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
        (kind, ns, name)
    }
}

impl fmt::Display for RefKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("is empty; expected an entity reference like [kind:][namespace/]name")]
    Empty,
    #[error("\"{0}\" has no kind and this field has no default kind; write it as kind:[namespace/]name, e.g. component:{0}")]
    MissingKind(String),
    #[error("\"{0}\" is not a valid entity reference; expected [kind:][namespace/]name")]
    Malformed(String),
}

/// Parses `[kind:][namespace/]name`. `default_kind` comes from the field (e.g. `Group` for
/// `spec.owner`), `default_namespace` from the entity holding the reference.
pub fn parse_ref(
    input: &str,
    default_kind: Option<&str>,
    default_namespace: &str,
) -> Result<EntityRef, RefError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(RefError::Empty);
    }
    let (kind, rest) = match s.split_once(':') {
        Some((k, r)) => (Some(k), r),
        None => (None, s),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, rest),
    };
    let bad = |part: Option<&str>| part.is_some_and(|p| p.is_empty() || p.contains([':', '/']));
    if name.is_empty() || name.contains([':', '/']) || bad(kind) || bad(namespace) {
        return Err(RefError::Malformed(s.to_string()));
    }
    let kind = match (kind, default_kind) {
        (Some(k), _) => canonical_kind(k),
        (None, Some(d)) => d.to_string(),
        (None, None) => return Err(RefError::MissingKind(s.to_string())),
    };
    Ok(EntityRef::new(
        kind,
        namespace.unwrap_or(default_namespace),
        name,
    ))
}

/// Well-known kinds written as Backstage writes them (`component` → `Component`, `api` → `API`);
/// other kinds are kept as written.
pub fn canonical_kind(kind: &str) -> String {
    const KNOWN: [&str; 10] = [
        "Component",
        "API",
        "Resource",
        "System",
        "Domain",
        "Group",
        "User",
        "Location",
        "Template",
        "AiResource",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(kind))
        .map(|k| (*k).to_string())
        .unwrap_or_else(|| kind.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_field_defaults() {
        let r = parse_ref("team-a", Some("Group"), "default").unwrap();
        assert_eq!(r, EntityRef::new("Group", "default", "team-a"));
        let r = parse_ref("user:ops/jane", Some("Group"), "default").unwrap();
        assert_eq!(r, EntityRef::new("User", "ops", "jane"));
        let r = parse_ref("other/team-b", Some("Group"), "prod").unwrap();
        assert_eq!(r.namespace, "other");
        let r = parse_ref("team-c", Some("Group"), "prod").unwrap();
        assert_eq!(r.namespace, "prod");
    }

    #[test]
    fn dependson_needs_a_kind() {
        assert_eq!(
            parse_ref("db", None, "default"),
            Err(RefError::MissingKind("db".into()))
        );
        assert_eq!(
            parse_ref("resource:db", None, "default").unwrap(),
            EntityRef::new("Resource", "default", "db")
        );
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(parse_ref("", None, "default"), Err(RefError::Empty));
        assert!(matches!(
            parse_ref("a:b:c", None, "d"),
            Err(RefError::Malformed(_))
        ));
        assert!(matches!(
            parse_ref("a/b/c", Some("Group"), "d"),
            Err(RefError::Malformed(_))
        ));
        assert!(matches!(
            parse_ref(":x", Some("Group"), "d"),
            Err(RefError::Malformed(_))
        ));
    }

    #[test]
    fn keys_are_case_insensitive() {
        assert_eq!(
            RefKey::of("Component", "Default", "Foo"),
            RefKey::of("component", "default", "foo")
        );
        assert_eq!(
            RefKey::of("API", "default", "x").parts(),
            ("api", "default", "x")
        );
    }
}
