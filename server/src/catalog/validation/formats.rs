//! The field formats Backstage enforces in code rather than in its schemas
//! (`FieldFormatEntityPolicy` with the catalog backend's tag rule): `apiVersion`, `kind`,
//! names, namespaces, tags, label and annotation keys and values, and links.

use super::kinds::KNOWN_KINDS;
use super::report::{quote, RawError, Seg};
use app::names::{is_valid_entity_name, is_valid_tag};
use serde_json::Value;

const NAME_RULE: &str = "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters";
const NAMESPACE_RULE: &str = "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";
const TAG_RULE: &str = "use lowercase letters, digits, '+' and '#', in words joined by single '-', at most 63 characters";
const KIND_RULE: &str = "use letters and digits, starting with a letter, at most 63 characters";
const API_VERSION_RULE: &str = "use an optional DNS-subdomain prefix and '/' followed by letters and digits, e.g. \"backstage.io/v1alpha1\"";

pub(super) fn check_field_formats(entity: &Value, errors: &mut Vec<RawError>) {
    let key = |name: &str| Seg::Key(name.to_string());

    if let Some(api_version) = entity.get("apiVersion").and_then(Value::as_str) {
        if !is_valid_api_version(api_version) {
            errors.push(RawError::new(
                &[key("apiVersion")],
                format!(
                    "{} is not a valid apiVersion: {API_VERSION_RULE}",
                    quote(api_version)
                ),
            ));
        }
    }

    if let Some(kind) = entity.get("kind").and_then(Value::as_str) {
        if !is_valid_kind(kind) {
            errors.push(RawError::new(
                &[key("kind")],
                format!("{} is not a valid kind: {KIND_RULE}", quote(kind)),
            ));
        } else if let Some(known) = KNOWN_KINDS
            .iter()
            .find(|k| k.kind != kind && k.kind.eq_ignore_ascii_case(kind))
        {
            errors.push(RawError::new(
                &[key("kind")],
                format!(
                    "{} is not a known kind; kinds are case-sensitive, did you mean {}?",
                    quote(kind),
                    quote(known.kind)
                ),
            ));
        }
    }

    let Some(metadata) = entity.get("metadata").and_then(Value::as_object) else {
        return;
    };
    let meta = |rest: &[Seg]| {
        let mut p = vec![key("metadata")];
        p.extend_from_slice(rest);
        p
    };

    if let Some(name) = metadata.get("name").and_then(Value::as_str) {
        if !name.is_empty() && !is_valid_entity_name(name) {
            errors.push(RawError::new(
                &meta(&[key("name")]),
                format!("{} is not a valid name: {NAME_RULE}", quote(name)),
            ));
        }
    }

    if let Some(namespace) = metadata.get("namespace").and_then(Value::as_str) {
        if !namespace.is_empty() && !is_valid_dns_label(namespace) {
            errors.push(RawError::new(
                &meta(&[key("namespace")]),
                format!(
                    "{} is not a valid namespace: {NAMESPACE_RULE}",
                    quote(namespace)
                ),
            ));
        }
    }

    if let Some(labels) = metadata.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            let path = meta(&[key("labels"), key(k)]);
            if let Err(why) = check_qualified_key(k) {
                errors.push(RawError::new(
                    &path,
                    format!("{} is not a valid label key: {why}", quote(k)),
                ));
            } else if let Some(v) = v.as_str() {
                if !v.is_empty() && !is_valid_entity_name(v) {
                    errors.push(RawError::new(
                        &path,
                        format!(
                            "{} is not a valid label value: {NAME_RULE} (or empty)",
                            quote(v)
                        ),
                    ));
                }
            }
        }
    }

    if let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) {
        for k in annotations.keys() {
            if let Err(why) = check_qualified_key(k) {
                errors.push(RawError::new(
                    &meta(&[key("annotations"), key(k)]),
                    format!("{} is not a valid annotation key: {why}", quote(k)),
                ));
            }
        }
    }

    if let Some(tags) = metadata.get("tags").and_then(Value::as_array) {
        for (i, tag) in tags.iter().enumerate() {
            if let Some(tag) = tag.as_str() {
                if !tag.is_empty() && !is_valid_tag(tag) {
                    errors.push(RawError::new(
                        &meta(&[key("tags"), Seg::Index(i)]),
                        format!("{} is not a valid tag: {TAG_RULE}", quote(tag)),
                    ));
                }
            }
        }
    }

    if let Some(links) = metadata.get("links").and_then(Value::as_array) {
        for (i, link) in links.iter().enumerate() {
            let Some(link) = link.as_object() else {
                continue;
            };
            let field = |name: &str| meta(&[key("links"), Seg::Index(i), key(name)]);
            if let Some(url) = link.get("url").and_then(Value::as_str) {
                if !url.is_empty() && !is_valid_url(url) {
                    errors.push(RawError::new(
                        &field("url"),
                        format!(
                            "{} is not a valid URL: expected an absolute URL such as \"https://example.com/docs\"",
                            quote(url)
                        ),
                    ));
                }
            }
            if let Some(title) = link.get("title").and_then(Value::as_str) {
                if !title.is_empty() && title.trim().is_empty() {
                    errors.push(RawError::new(
                        &field("title"),
                        "expected a title with some visible text, found only whitespace"
                            .to_string(),
                    ));
                }
            }
            if let Some(icon) = link.get("icon").and_then(Value::as_str) {
                if !icon.is_empty() && !is_valid_entity_name(icon) {
                    errors.push(RawError::new(
                        &field("icon"),
                        format!("{} is not a valid icon name: {NAME_RULE}", quote(icon)),
                    ));
                }
            }
        }
    }
}

/// `^[a-z0-9]+(?:-+[a-z0-9]+)*$`, at most 63 characters.
fn is_valid_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= 63
                && alnum(first)
                && alnum(last)
                && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

/// One or more DNS labels joined by `.`, at most 253 characters.
fn is_valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_valid_dns_label)
}

/// `^[a-zA-Z][a-z0-9A-Z]*$`, at most 63 characters.
fn is_valid_kind(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.iter().all(u8::is_ascii_alphanumeric)
}

/// `[dns-subdomain/]version` where the version is 1 to 63 letters and digits.
fn is_valid_api_version(s: &str) -> bool {
    let version_ok =
        |v: &str| !v.is_empty() && v.len() <= 63 && v.bytes().all(|b| b.is_ascii_alphanumeric());
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [version] => version_ok(version),
        [prefix, version] => is_valid_dns_subdomain(prefix) && version_ok(version),
        _ => false,
    }
}

/// Label and annotation keys: `[dns-subdomain/]name`. Says what is wrong when invalid.
fn check_qualified_key(key: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if !is_valid_dns_subdomain(prefix) {
                return Err(format!(
                    "the prefix {} before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters)",
                    quote(prefix)
                ));
            }
            name
        }
        _ => {
            return Err("use at most one '/', between an optional prefix and the name".to_string())
        }
    };
    if is_valid_entity_name(name) {
        Ok(())
    } else if parts.len() == 2 {
        Err(format!(
            "the name {} after '/' is not valid: {NAME_RULE}",
            quote(name)
        ))
    } else {
        Err(NAME_RULE.to_string())
    }
}

/// Whether the WHATWG URL parser (JavaScript's `new URL(s)`, which Backstage uses) accepts `s`
/// as an absolute URL. An approximation: a scheme, and for the schemes that need one
/// (http, https, ws, wss, ftp) a host without forbidden characters and a numeric port.
fn is_valid_url(s: &str) -> bool {
    let s = s.trim_matches(|c: char| c <= ' ');
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return false;
    }
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp") {
        return true;
    }
    let rest = s[colon + 1..].trim_start_matches(['/', '\\']);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host_port = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let (host, port) = if host_port.starts_with('[') {
        match host_port.find(']') {
            Some(end) => (&host_port[..=end], host_port[end + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match host_port.rfind(':') {
            Some(c) => (&host_port[..c], Some(&host_port[c + 1..])),
            None => (host_port, None),
        }
    };
    let port_ok = match port {
        None | Some("") => true,
        Some(p) => {
            p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= 65535)
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || !host.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '<' | '>' | '^' | '|' | '[' | ']' | '"' | '`' | '{' | '}')
            }));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::super::tests::{component_with, errors, single_error, sorted_errors};
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_name_format() {
        let entity = component_with("/metadata/name", json!("My Service"));
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "\"My Service\" is not a valid name: use letters, digits, '-', '_' and '.', \
             starting and ending with a letter or digit, at most 63 characters"
        );
        for bad in ["-leading", "trailing.", "a/b", &"x".repeat(64)] {
            let entity = component_with("/metadata/name", json!(bad));
            single_error(&entity, "metadata.name");
        }
        for good in ["a", "Artist_Web.v2", &"x".repeat(63)] {
            assert_eq!(
                errors(&component_with("/metadata/name", json!(good))),
                vec![]
            );
        }
    }

    #[test]
    fn metadata_namespace_format() {
        let entity = component_with("/metadata/namespace", json!("Team_A"));
        assert_eq!(
            single_error(&entity, "metadata.namespace"),
            "\"Team_A\" is not a valid namespace: use lowercase letters, digits and '-', \
             starting and ending with a letter or digit, at most 63 characters"
        );
        let entity = component_with("/metadata/namespace", json!(""));
        assert_eq!(
            single_error(&entity, "metadata.namespace"),
            "expected a string of at least 1 character, found an empty string"
        );
        for good in ["default", "team-a", "a--b", "x1"] {
            let entity = component_with("/metadata/namespace", json!(good));
            assert_eq!(errors(&entity), vec![], "{good}");
        }
    }

    #[test]
    fn tag_format() {
        let entity = component_with("/metadata/tags", json!(["java", "Data Lake", "c++"]));
        assert_eq!(
            single_error(&entity, "metadata.tags[1]"),
            "\"Data Lake\" is not a valid tag: use lowercase letters, digits, '+' and '#', \
             in words joined by single '-', at most 63 characters"
        );
        let entity = component_with("/metadata/tags", json!(["ok", 3]));
        assert_eq!(
            single_error(&entity, "metadata.tags[1]"),
            "expected a string of at least 1 character, found a number"
        );
        let entity = component_with("/metadata/tags", json!("java"));
        assert_eq!(
            single_error(&entity, "metadata.tags"),
            "expected an array, found a string"
        );
        for bad in ["a--b", "-a", "a_b", "über"] {
            let entity = component_with("/metadata/tags", json!([bad]));
            single_error(&entity, "metadata.tags[0]");
        }
        let entity = component_with("/metadata/tags", json!(["c#", "c++", "web-3", "k8s"]));
        assert_eq!(errors(&entity), vec![]);
    }

    #[test]
    fn kind_format() {
        let entity = json!({ "apiVersion": "v1", "kind": "my-kind", "metadata": { "name": "a" } });
        assert_eq!(
            single_error(&entity, "kind"),
            "\"my-kind\" is not a valid kind: use letters and digits, starting with a letter, \
             at most 63 characters"
        );
        let entity = component_with("/kind", json!("component"));
        assert_eq!(
            single_error(&entity, "kind"),
            "\"component\" is not a known kind; kinds are case-sensitive, did you mean \
             \"Component\"?"
        );
    }

    #[test]
    fn api_version_format() {
        let entity = json!({ "apiVersion": "1.0", "kind": "Foo", "metadata": { "name": "a" } });
        assert_eq!(
            single_error(&entity, "apiVersion"),
            "\"1.0\" is not a valid apiVersion: use an optional DNS-subdomain prefix and '/' \
             followed by letters and digits, e.g. \"backstage.io/v1alpha1\""
        );
        let entity = json!({ "apiVersion": "a/b/c", "kind": "Foo", "metadata": { "name": "a" } });
        single_error(&entity, "apiVersion");
    }

    #[test]
    fn label_keys_and_values() {
        let entity = component_with(
            "/metadata/labels",
            json!({
                "backstage.io/custom": "ValueStuff",
                "tier": "",
                "Example.com/team": "a",
                "product_name": "Random value Generator",
                "count": 3
            }),
        );
        let expected = vec![
            (
                "metadata.labels.count".to_string(),
                "expected a string, found a number".to_string(),
            ),
            (
                "metadata.labels.product_name".to_string(),
                "\"Random value Generator\" is not a valid label value: use letters, digits, \
                 '-', '_' and '.', starting and ending with a letter or digit, at most 63 \
                 characters (or empty)"
                    .to_string(),
            ),
            (
                "metadata.labels[\"Example.com/team\"]".to_string(),
                "\"Example.com/team\" is not a valid label key: the prefix \"Example.com\" \
                 before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.', \
                 each part starting and ending with a letter or digit, at most 253 characters)"
                    .to_string(),
            ),
        ];
        assert_eq!(sorted_errors(&entity), expected);
    }

    #[test]
    fn annotation_keys_and_values() {
        let entity = component_with(
            "/metadata/annotations",
            json!({
                "backstage.io/techdocs-ref": "dir:.",
                "github.com/project-slug": "backstage/backstage",
                "backstage.io/source location": "url:https://example.com",
            }),
        );
        assert_eq!(
            single_error(
                &entity,
                "metadata.annotations[\"backstage.io/source location\"]"
            ),
            "\"backstage.io/source location\" is not a valid annotation key: the name \
             \"source location\" after '/' is not valid: use letters, digits, '-', '_' and '.', \
             starting and ending with a letter or digit, at most 63 characters"
        );
        let entity = component_with("/metadata/annotations", json!({ "a/b/c": "x" }));
        assert_eq!(
            single_error(&entity, "metadata.annotations[\"a/b/c\"]"),
            "\"a/b/c\" is not a valid annotation key: use at most one '/', between an optional \
             prefix and the name"
        );
        let entity = component_with(
            "/metadata/annotations",
            json!({ "backstage.io/orphan": true }),
        );
        assert_eq!(
            single_error(&entity, "metadata.annotations[\"backstage.io/orphan\"]"),
            "expected a string, found a boolean"
        );
        let long_prefix = format!("{}.com/x", "a".repeat(250));
        let entity = component_with("/metadata/annotations", json!({ long_prefix.clone(): "" }));
        single_error(
            &entity,
            &format!("metadata.annotations[{}]", quote(&long_prefix)),
        );
    }

    #[test]
    fn links() {
        let entity = component_with(
            "/metadata/links",
            json!([
                { "url": "https://example.com/dashboard", "title": "Dashboard", "icon": "dashboard" },
                { "url": "example.com/docs" },
                { "title": "No URL" },
                { "url": "https://example.com", "title": "   " },
                { "url": "https://example.com", "icon": "my icon" }
            ]),
        );
        assert_eq!(
            errors(&entity),
            vec![
                (
                    "metadata.links[2].url".to_string(),
                    "is required (each item of metadata.links needs url)".to_string()
                ),
                (
                    "metadata.links[1].url".to_string(),
                    "\"example.com/docs\" is not a valid URL: expected an absolute URL such as \
                     \"https://example.com/docs\""
                        .to_string()
                ),
                (
                    "metadata.links[3].title".to_string(),
                    "expected a title with some visible text, found only whitespace".to_string()
                ),
                (
                    "metadata.links[4].icon".to_string(),
                    "\"my icon\" is not a valid icon name: use letters, digits, '-', '_' and '.', \
                     starting and ending with a letter or digit, at most 63 characters"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn url_check_approximates_the_whatwg_parser() {
        for good in [
            "https://example.com",
            "http://www.acme.com/",
            "https://user:pw@example.com:8443/a b?q#f",
            "http://[::1]:7007/api",
            "mailto:team@example.com",
            "file:///tmp/x",
            "slack://channel?id=1",
        ] {
            assert!(is_valid_url(good), "{good}");
        }
        for bad in [
            "",
            "example.com",
            "/relative/path",
            "https://",
            "https://exa mple.com",
            "http://example.com:port",
            "1http://x",
        ] {
            assert!(!is_valid_url(bad), "{bad}");
        }
    }

    #[test]
    fn hand_written_validators() {
        assert!(is_valid_api_version("backstage.io/v1alpha1"));
        assert!(is_valid_api_version("v1"));
        assert!(!is_valid_api_version("backstage.io/"));
        assert!(!is_valid_api_version("Backstage.io/v1"));
        assert!(is_valid_kind("AiResource"));
        assert!(!is_valid_kind("1Kind"));
        assert!(!is_valid_kind(&"K".repeat(64)));
    }
}
