//! Small pure helpers for display: labels, plurals, safe URLs, truncation, pretty JSON.

use crate::model::{EntityRef, EntitySummary, ProblemView};

/// `component` → `Component`, `api` → `API`.
pub fn kind_label(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    match lower.as_str() {
        "api" => "API".to_string(),
        _ => {
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        }
    }
}

/// Plural heading for a kind: `Component` → `Components`, `Policy` → `Policies`.
pub fn kind_plural(kind: &str) -> String {
    let label = kind_label(kind);
    if label == "API" {
        "APIs".to_string()
    } else if let Some(stem) = label.strip_suffix('y') {
        format!("{stem}ies")
    } else if label.ends_with('s') {
        format!("{label}es")
    } else {
        format!("{label}s")
    }
}

/// Human wording of a Backstage relation type (`ownedBy` → `Owned by`).
pub fn relation_label(relation: &str) -> String {
    match relation {
        "ownedBy" => "Owned by".into(),
        "ownerOf" => "Owner of".into(),
        "providesApi" => "Provides API".into(),
        "apiProvidedBy" => "API provided by".into(),
        "consumesApi" => "Consumes API".into(),
        "apiConsumedBy" => "API consumed by".into(),
        "dependsOn" => "Depends on".into(),
        "dependencyOf" => "Dependency of".into(),
        "parentOf" => "Parent of".into(),
        "childOf" => "Child of".into(),
        "memberOf" => "Member of".into(),
        "hasMember" => "Has member".into(),
        "partOf" => "Part of".into(),
        "hasPart" => "Has part".into(),
        other => {
            // camelCase → "Camel case"
            let mut out = String::new();
            for (i, c) in other.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push(' ');
                    out.push(c.to_ascii_lowercase());
                } else if i == 0 {
                    out.push(c.to_ascii_uppercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// Only these schemes become clickable links; anything else (e.g. `javascript:`) stays text.
pub fn is_safe_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

/// Safe for an `<img src>`: http(s) only.
pub fn is_safe_image_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Cuts `s` to at most `max` characters, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Pretty-prints JSON; returns the input unchanged when it is not JSON.
pub fn pretty_json(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| raw.to_string())
}

/// The name to show for an entity: its title, or its short reference.
pub fn summary_name(s: &EntitySummary) -> String {
    s.title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| s.entity_ref.display())
}

/// Short display of a reference, with the kind when it is not the expected one.
pub fn ref_label(r: &EntityRef) -> String {
    r.display()
}

/// `1 problem`, `3 problems`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Where a problem was found: `catalog-info.yaml · document 2 · line 14 · field spec.owner`.
pub fn problem_location(p: &ProblemView) -> Vec<(&'static str, String)> {
    let mut parts = Vec::new();
    if let Some(file) = &p.file {
        parts.push(("File", file.clone()));
    }
    if let Some(doc) = p.document {
        // Documents are zero-based in the model; people count from one.
        parts.push(("Document", (doc + 1).to_string()));
    }
    if let Some(line) = p.line {
        parts.push(("Line", line.to_string()));
    }
    if let Some(field) = &p.field {
        parts.push(("Field", field.clone()));
    }
    parts
}

/// Thousands separators for counts: `12345` → `12,345`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `2026-11-28T22:22:50.035Z` → `2026-11-28 22:22 UTC`; other text unchanged.
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// The first 10 characters of a commit id.
pub fn short_commit(commit: &str) -> String {
    commit.chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_commits_are_shortened() {
        assert_eq!(
            short_time("2026-11-28T22:22:50.035Z"),
            "2026-11-28 22:22 UTC"
        );
        assert_eq!(short_time("soon"), "soon");
        assert_eq!(short_commit("0123456789abcdef"), "0123456789");
    }

    #[test]
    fn labels() {
        assert_eq!(kind_label("component"), "Component");
        assert_eq!(kind_label("API"), "API");
        assert_eq!(kind_plural("policy"), "Policies");
        assert_eq!(kind_plural("api"), "APIs");
        assert_eq!(kind_plural("component"), "Components");
        assert_eq!(relation_label("ownedBy"), "Owned by");
        assert_eq!(relation_label("runsOnCluster"), "Runs on cluster");
    }

    #[test]
    fn urls_and_text() {
        assert!(is_safe_url("https://example.com"));
        assert!(!is_safe_url("javascript:alert(1)"));
        assert!(!is_safe_image_url("data:image/png;base64,xx"));
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(pretty_json("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty_json("not json"), "not json");
    }
}
